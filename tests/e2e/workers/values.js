// Values of every kind through sync calls, both directions, and errors both
// ways. The page side is pages/main/values.js.
import { runCases } from "./common.js";
import { describe, errorInfo } from "/tests/e2e/pages/describe.js";
import { makeValues } from "/tests/e2e/pages/fixtures.js";

const received = {}; // main -> worker: what arrived, by value name

function workerThrower() {
  const e = new RangeError("worker says no", { cause: new Error("worker inner cause") });
  e.code = 7;
  throw e;
}

function caught(f) {
  try {
    f();
    return { threw: false };
  } catch (e) {
    return { threw: true, described: describe(e), info: errorInfo(e) };
  }
}

runCases(
  {
    // worker -> main -> worker: main echoes every value back
    toMain({ sync }) {
      const out = [];
      for (const [name, v] of makeValues()) {
        const sent = describe(v);
        let back = null;
        let error = null;
        try {
          back = describe(sync.echo(name, v));
        } catch (e) {
          error = errorInfo(e);
        }
        out.push({ name, sent, back, error });
      }
      return out;
    },

    // references by value: a function and a DOM proxy go home as themselves
    homecoming({ sync, window }) {
      const f = () => 1;
      const body = window.document.body;
      return {
        functionCameHome: sync.echo("function", f) === f,
        proxyCameHome: sync.echo("body proxy", body) === body,
        mainSawRealBody: sync.isBody(body),
      };
    },

    // main -> worker: the page calls sync.echo on us; nothing to do here but wait
    async toWorker() {
      return { served: true };
    },

    errorsFromMain({ sync, window }) {
      return {
        typeError: caught(() => sync.mainThrows()),
        number: caught(() => sync.mainThrowsNumber()),
        string: caught(() => sync.mainThrowsString()),
        object: caught(() => sync.mainThrowsObject()),
        undefinedThrown: caught(() => sync.mainThrowsUndefined()),
        domException: caught(() => window.document.querySelector("<<not a selector")),
        jsonSyntax: caught(() => window.JSON.parse("{bad json")),
        // the channel still works after all those
        afterwards: sync.echo("after", "still fine"),
      };
    },
  },
  {
    expose(b) {
      b.sync.echo = (name, v) => {
        received[name] = describe(v);
        return v;
      };
      b.sync.received = () => received;
      b.sync.workerThrows = workerThrower;
      b.sync.workerThrowsNull = () => {
        throw null;
      };
      b.sync.workerThrowsString = () => {
        throw "worker string";
      };
    },
  },
);
