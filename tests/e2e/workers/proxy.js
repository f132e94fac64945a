// `window` from a worker: every Proxy trap, identity, typeof/isArray/instanceof,
// iteration, constructing, DOM work. The page (pages/run.js) provides
// window.sample, window.sampleArray, window.sampleMap, window.protoObj,
// window.identityCheck and a #fixture list.
import { runCases } from "./common.js";

const workerSymbol = Symbol("workerUnique");

runCases({
  traps({ window }) {
    const o = {};
    const s = window.sample;
    // get
    o.getNumber = s.a;
    o.getString = s.b;
    o.getMissing = s.nope === undefined;
    o.title = window.document.title;
    // set
    s.c = 3;
    o.setThenGet = s.c;
    window.fromWorker = "hello from the worker";
    // has
    o.hasA = "a" in s;
    o.hasNope = "nope" in s;
    o.hasDocument = "document" in window;
    // deleteProperty
    s.tmp = 1;
    o.hasTmpBeforeDelete = "tmp" in s;
    o.deleteResult = delete s.tmp;
    o.hasTmpAfterDelete = "tmp" in s;
    // ownKeys
    o.ownKeys = Reflect.ownKeys(s);
    o.arrayOwnKeys = Reflect.ownKeys(window.sampleArray);
    // getOwnPropertyDescriptor
    const d = Object.getOwnPropertyDescriptor(s, "a");
    o.descriptor = { value: d.value, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable };
    o.descriptorMissing = Object.getOwnPropertyDescriptor(s, "nope") === undefined;
    // defineProperty
    o.defineResult = Reflect.defineProperty(s, "hidden", {
      value: 42,
      enumerable: false,
      writable: false,
      configurable: true,
    });
    o.hiddenValue = s.hidden;
    o.keysAfterDefine = Object.keys(s);
    o.ownKeysAfterDefine = Reflect.ownKeys(s);
    // getPrototypeOf
    o.protoIsObjectPrototype = Object.getPrototypeOf(s) === window.Object.prototype;
    o.bodyProtoIsHTMLBodyElement = Object.getPrototypeOf(window.document.body) === window.HTMLBodyElement.prototype;
    // setPrototypeOf
    o.setProtoResult = Reflect.setPrototypeOf(s, window.protoObj);
    o.inherited = s.inherited;
    o.protoAfterSet = Object.getPrototypeOf(s) === window.protoObj;
    // apply
    o.applyParseInt = window.parseInt("42", 10);
    o.applyMathMax = window.Math.max(1, 7, 3);
    o.applyMethodWithThis = window.document.createElement("span").tagName;
    o.applyCallWithRemoteThis = window.Array.prototype.join.call(window.sampleArray, "-");
    // construct
    o.constructDate = new window.Date(0).getTime();
    o.constructURL = new window.URL("https://example.test/p?q=1").searchParams.get("q");
    o.constructMap = new window.Map([["k", "v"]]).get("k");
    return o;
  },

  // `window.document` is asked once while its proxy lives: on a Window it
  // is unforgeable (docs/architecture.md); a released proxy is asked again.
  documentKept({ window, release }) {
    const count = window.servedCount;
    const base = count();
    const one = count() - base; // a count() call itself
    const before = count();
    let doc;
    for (let i = 0; i < 10; i++) doc = window.document;
    const reads = count() - before - one;
    const title = doc.title;
    release(doc);
    const again = window.document;
    return { reads, title, titleAgain: again.title, freshAfterRelease: again !== doc };
  },
  identity({ window }) {
    return {
      documentSame: window.document === window.document,
      bodySame: window.document.body === window.document.body,
      parentIsDocumentElement: window.document.body.parentNode === window.document.documentElement,
      windowWindowIsWindow: window.window === window,
      // a proxy sent back to the main thread arrives as the real node
      sentHomeIsTheRealNode: window.identityCheck(window.document.body),
      differentObjectsDiffer: window.document.body !== window.document.head,
    };
  },

  types({ window }) {
    return {
      typeofAlert: typeof window.alert,
      typeofDateConstructor: typeof window.Date,
      typeofDocument: typeof window.document,
      typeofTitle: typeof window.document.title,
      typeofSampleArray: typeof window.sampleArray,
      isArraySampleArray: Array.isArray(window.sampleArray),
      isArraySample: Array.isArray(window.sample),
      isArrayChildren: Array.isArray(window.document.body.children),
      bodyInstanceofHTMLElement: window.document.body instanceof window.HTMLElement,
      documentInstanceofNode: window.document instanceof window.Node,
      sampleArrayInstanceofArray: window.sampleArray instanceof window.Array,
      bodyInstanceofArray: window.document.body instanceof window.Array,
      bodyInstanceofLocalObject: window.document.body instanceof Object,
    };
  },

  iteration({ window }) {
    const forOf = [];
    for (const x of window.sampleArray) forOf.push(x);
    const mapEntries = [];
    for (const [k, v] of window.sampleMap) mapEntries.push([k, v]);
    const forIn = [];
    for (const k in window.sample) forIn.push(k);
    return {
      forOf,
      mapEntries,
      forIn,
      arrayFrom: Array.from(window.sampleArray),
      spreadNodeList: [...window.document.querySelectorAll("#fixture li")].map((li) => li.textContent),
      objectEntries: Object.entries(window.sample),
      destructured: (([first, , third]) => [first, third])(window.sampleArray),
    };
  },

  date({ window }) {
    const before = Date.now();
    const d = new window.Date();
    const after = Date.now();
    return {
      typeofDate: typeof d,
      instanceofRemoteDate: d instanceof window.Date,
      time: d.getTime(),
      before,
      after,
      iso: new window.Date(Date.UTC(2020, 0, 2)).toISOString(),
      fullYear: new window.Date(2020, 5, 15).getFullYear(),
      fromNumber: new window.Date(5).getTime(),
      parsed: new window.Date("2001-02-03T04:05:06.007Z").getTime(),
    };
  },

  dom({ window }) {
    const doc = window.document;
    const titleBefore = doc.title;
    const ul = doc.createElement("ul");
    ul.id = "made-by-worker";
    for (const text of ["alpha", "beta", "gamma"]) {
      const li = doc.createElement("li");
      li.textContent = text;
      li.style.color = "rgb(255, 0, 0)";
      ul.appendChild(li);
    }
    doc.body.appendChild(ul);
    ul.classList.add("x", "y");
    ul.style.border = "2px solid blue";
    doc.title = "changed by worker";
    return {
      titleBefore,
      titleAfter: doc.title,
      childCount: ul.children.length,
      text: ul.textContent,
      className: ul.className,
      lastItem: doc.querySelector("#made-by-worker li:last-child").textContent,
      computedColor: window.getComputedStyle(ul.firstElementChild).color,
      computedBorder: window.getComputedStyle(ul).borderTopWidth,
      bodyContainsList: doc.body.contains(ul),
    };
  },

  // Symbols as keys and values (docs/protocol.md §2 "Symbols"), against the
  // fixtures of pages/main/symbols.js.
  symbols({ window }) {
    const o = {};
    const h = window.symbolHolder;
    o.jsModules = window[Symbol.for("polyscript.js_modules")].mod;
    o.jsModulesIn = Symbol.for("polyscript.js_modules") in window;
    window[Symbol.for("fromWorker")] = "set by the worker";
    o.registeredValue = h.registered === Symbol.for("shared");
    const u1 = h.unique;
    o.uniqueSame = typeof u1 === "symbol" && u1 === h.unique && u1.description === "mainUnique";
    o.uniqueGoesHome = h.isUnique(u1);
    o.uniqueKey = h[u1];
    h.keep(workerSymbol);
    o.workerSymbolBack = h.kept() === workerSymbol;
    h[workerSymbol] = "by the worker's key";
    o.workerKeyRead = h[workerSymbol];
    o.workerKeyDeleted = delete h[workerSymbol] && !(workerSymbol in h);
    Object.defineProperty(h, Symbol.for("defined"), { value: 5, writable: true, enumerable: true, configurable: true });
    o.descriptorValue = Object.getOwnPropertyDescriptor(h, Symbol.for("defined")).value;
    o.ownSymbols = Object.getOwnPropertySymbols(h).map((s) => s.description);
    return o;
  },

  // The same small workload, for the pages served with a strict CSP.
  csp({ window, transport, native, sync }) {
    const doc = window.document;
    const p = doc.createElement("p");
    p.id = "csp-paragraph";
    p.textContent = "written under CSP";
    doc.body.appendChild(p);
    return {
      transport,
      native,
      title: doc.title,
      paragraph: doc.getElementById("csp-paragraph").textContent,
      parseInt: window.parseInt("17", 10),
      // pages/run.js: sync.log returns how many parts it logged
      syncCallResult: sync.log("hello", "from a CSP worker"),
      // The policy is in force here too (after the bridge's work, so a
      // refusal cannot hide a failure of it): eval is refused, and wasm is
      // refused under `script-src 'self'`.
      refused: refusedByPolicy(),
    };
  },
}, {
  expose(b) {
    b.sync.echo = (v) => v;
    b.sync.workerSymbol = () => workerSymbol;
    b.sync.isWorkerSymbol = (s) => s === workerSymbol;
  },
});

function refusedByPolicy() {
  const tries = {
    eval: () => (0, eval)("1"),
    wasm: () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
  };
  const out = {};
  for (const [k, f] of Object.entries(tries)) {
    try {
      f();
      out[k] = false;
    } catch {
      out[k] = true;
    }
  }
  return out;
}
