// Page side of workers/values.js.
import { describe, errorInfo } from "../describe.js";
import { makeValues } from "../fixtures.js";

export function setup({ worker, state }) {
  state.seenOnMain = [];
  worker.sync.echo = (name, v) => {
    state.seenOnMain.push({ name, got: describe(v) });
    return v;
  };
  worker.sync.isBody = (node) => node === document.body;
  worker.sync.mainThrows = function mainThrower() {
    const e = new TypeError("main says no", { cause: new RangeError("deep cause") });
    e.code = "E_MAIN";
    throw e;
  };
  worker.sync.mainThrowsNumber = () => {
    throw 42;
  };
  worker.sync.mainThrowsString = () => {
    throw "a string";
  };
  worker.sync.mainThrowsObject = () => {
    throw { plain: true };
  };
  worker.sync.mainThrowsUndefined = () => {
    throw undefined;
  };
}

async function caught(p) {
  try {
    await p;
    return { threw: false };
  } catch (e) {
    return { threw: true, described: describe(e), info: errorInfo(e) };
  }
}

export default async function main({ worker, ready }) {
  await ready;
  const params = new URLSearchParams(location.search);
  const workerCase = new URL(params.get("worker"), location.href).searchParams.get("case");
  if (workerCase === "toWorker") {
    const out = [];
    for (const [name, v] of makeValues()) {
      const sent = describe(v);
      let back = null;
      let error = null;
      try {
        back = describe(await worker.sync.echo(name, v));
      } catch (e) {
        error = errorInfo(e);
      }
      out.push({ name, sent, back, error });
    }
    const received = await worker.sync.received();
    for (const o of out) o.seenByWorker = received[o.name] ?? null;
    return out;
  }
  if (workerCase === "errorsFromMain") {
    return {
      rangeError: await caught(worker.sync.workerThrows()),
      nullThrown: await caught(worker.sync.workerThrowsNull()),
      stringThrown: await caught(worker.sync.workerThrowsString()),
      afterwards: await worker.sync.echo("after", "fine"),
    };
  }
  return null;
}
