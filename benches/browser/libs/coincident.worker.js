// coincident 4.1.1 (`coincident/window/worker`, the prebuilt dist file), worker side.
import coincident from "/node_modules/coincident/dist/window/worker.js";
import { boot, domWithWindow } from "../common.worker.js";

boot(async () => {
  const { proxy, window, native } = await coincident();
  if (!native && !new URL(self.location.href).searchParams.has("sw"))
    throw new Error("coincident: not native (no SharedArrayBuffer?)");
  proxy.wadd = (a, b) => a + b;
  return {
    kind: "sync",
    add: (a, b) => proxy.add(a, b),
    echoStr: (s) => proxy.echoStr(s),
    echoF64: (a) => proxy.echoF64(a),
    title: () => window.document.title,
    dom: (n) => domWithWindow(window, n),
  };
});
