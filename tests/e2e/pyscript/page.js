// The page of the PyScript specs (tests/e2e/pyscript.test.mjs) and of the
// PyScript benchmark (benches/pyscript/run.mjs). Its query:
//   build=wb|stock     which PyScript build (demo/.build/pyscript/<build>/)
//   type=mpy|py        MicroPython or Pyodide
//   src=<file>         Python file in this folder, run in a worker
//   name=<worker name> the script's name attribute (named worker)
//   sw=1               add service-worker="./sw.js" (pages without COOP/COEP)
//   main=<file>        a module of this folder to run on the page first
//   tag=<tag>          "script" (default) or "editor" (<script type="mpy-editor">)
// Results: the Python code and the page module put what they observe into
// window.__py (report(key, value)); `done` is set when the test is over.
const q = new URLSearchParams(location.search);
const build = q.get("build") || "wb";
const type = q.get("type") || "mpy";
const base = `/demo/.build/pyscript/${build}/`;

window.__py = { build, log: [] };
window.report = (key, value) => {
  window.__py[key] = value;
  return true;
};

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = `${base}core.css`;
document.head.append(css);

if (q.get("main")) await import(`./${q.get("main")}`);

const src = q.get("src");
if (src) {
  const tag = q.get("tag") || "script";
  const s = document.createElement("script");
  s.type = tag === "editor" ? `${type}-editor` : type;
  if (tag !== "editor") s.setAttribute("worker", "");
  s.setAttribute("config", `./${type}.json`);
  if (q.get("name")) s.setAttribute("name", q.get("name"));
  if (q.get("sw")) s.setAttribute("service-worker", "./sw.js");
  if (tag === "editor") {
    s.textContent = await (await fetch(`./${src}`)).text();
    s.setAttribute("env", "e2e");
  } else {
    s.src = `./${src}`;
  }
  document.body.append(s);
}

window.__py.core = await import(`${base}core.js`);
