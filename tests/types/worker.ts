// See main.ts.
import { bridge, transfer } from "worker-bridge/worker";

const { sync, window, isWindowProxy, native, transport, release, stats } = await bridge();

sync.twice = (x: number) => x * 2;
const sum = sync.add(2, 3);
const { document } = window;
const p = document.createElement("p");
p.textContent = `sum ${sum}, ${transport}, native ${native}, proxy ${isWindowProxy(document)}`;
document.body.append(p);
release(p);
const moved = transfer(new Uint8Array(8));
sync.take(moved);
const { imports }: { imports: number } = stats();
console.log(imports);
