// The page of the PyScript specs (tests/e2e/pyscript.test.mjs) and of the
// PyScript benchmark (benches/pyscript/run.mjs). Its query:
//   build=wb|stock     which PyScript build (demo/.build/pyscript/<build>/, made by
//                      `cargo xtask build`: wb has coincident aliased to worker-bridge)
//   type=mpy|py        MicroPython or Pyodide
//   src=<file>         a Python file of this folder, run in a worker (<script type=... worker>)
//   name=<name>        the worker's name attribute (a named worker)
//   mainpy=<file>      a Python file run on the main thread (<script type=...>)
//   editor=<file>      a Python file put in a <script type="mpy-editor"> (py-editor)
//   main=<file>        a module of this folder (or an absolute path) whose default
//                      export runs with PyScript's core module once it is loaded
//   sw=1               service-worker="./sw.js" on every tag and worker (pages without COOP/COEP)
//   config=<file>      the config of the tags (default <type>.json)
// The Python code and the page modules record what they observe with
// window.report(key, value) into window.__py; `done` ends a test.
import "./helpers.js";

const q = new URLSearchParams(location.search);
const build = q.get("build") || "wb";
const type = q.get("type") || "mpy";
const base = `/demo/.build/pyscript/${build}/`;

window.__py = { build };
window.report = (key, value) => {
  window.__py[key] = value;
  return true;
};

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = `${base}core.css`;
document.head.append(css);

function tag(kind, attrs, text) {
  const s = document.createElement("script");
  s.type = kind;
  s.setAttribute("config", `./${q.get("config") || `${type}.json`}`);
  if (q.get("sw")) s.setAttribute("service-worker", "./sw.js");
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  if (text !== undefined) s.textContent = text;
  document.body.append(s);
  return s;
}

if (q.get("src")) tag(type, { worker: "", src: `./${q.get("src")}`, ...(q.get("name") ? { name: q.get("name") } : {}) });
if (q.get("mainpy")) tag(type, { src: `./${q.get("mainpy")}` });
if (q.get("editor")) tag(`${type}-editor`, { env: "e2e" }, await (await fetch(`./${q.get("editor")}`)).text());

const core = await import(`${base}core.js`);
if (q.get("main")) {
  const main = q.get("main");
  const { default: run } = await import(main.startsWith("/") ? main : `./${main}`);
  try {
    await run(core, q);
  } catch (e) {
    window.report("mainError", `${e && e.name}: ${e && e.message}`);
    window.report("done", true);
  }
}
