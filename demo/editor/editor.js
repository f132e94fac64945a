// The Python editor demo: each Run starts a fresh MPWorker / PyWorker on the
// code in the textarea (as a blob: URL), shows its stdout/stderr and errors,
// and which transport carries the synchronous calls. `window.__editor` is what
// the end-to-end test reads.
import { MPWorker, PyWorker } from "/bridge-js/src/python.js";

const EXAMPLES = {
  dom: `\
# DOM manipulation: every line below is a synchronous call into the page.
from pyscript import window, document

target = document.getElementById("target")
target.innerHTML = ""
ul = document.createElement("ul")
for i in range(5):
    li = document.createElement("li")
    li.textContent = "item " + str(i) + " from Python"
    ul.append(li)
target.append(ul)
target.style.background = "#fffbe6"

print("page:", window.location.pathname)
print("items in the list:", ul.children.length)
print("today on the main thread:", window.Date.new().toDateString())
`,
  events: `\
# A Python event handler: the page calls back into the worker on each click.
from pyscript import document

target = document.getElementById("target")
target.innerHTML = ""
button = document.createElement("button")
button.textContent = "click me (Python handler)"
clicks = 0


def on_click(event):
    global clicks
    clicks += 1
    button.textContent = "clicked " + str(clicks) + " time(s)"
    print("click", clicks, "at", event.clientX, event.clientY)


button.addEventListener("click", on_click)
target.append(button)
print("click the button in the target area")
`,
  deadlock: `\
# PyScript FAQ "Possible deadlock": the page's main_task is
#     async () => { await worker.sync.worker_task(); return "main_task done" }
# The worker is blocked inside main_task() when the page calls worker_task().
# With "reentrant" on, the bridge serves worker_task inside the blocked call;
# with it off, main_task fails at once with "Possible deadlock" (no freeze).
from pyscript import sync

sync.worker_task = lambda: print("this is fine: worker_task ran while the worker waited in main_task")
print("main_task returned:", sync.main_task())
`,
  borrowed: `\
# PyScript FAQ "Borrowed proxy": a lambda handed to a main-thread timer.
# The bridge keeps the callable alive until the page releases it.
from pyscript import window

window.setTimeout(lambda x: print(x), 500, "OK: the lambda ran 500 ms later")
print("timer set, waiting...")
`,
  error: `\
# A Python error: the last traceback line says what went wrong.
print("about to fail")
print(undefined_name)
`,
};

const $ = (id) => document.getElementById(id);
const code = $("code");
const output = $("output");
const statusEl = $("status");
const transportEl = $("transport");
const state = (window.__editor = { running: false, lines: [], status: "idle", transport: null, error: null, runs: 0 });

let worker = null;
let blobURL = null;

function line(text, cls) {
  state.lines.push(cls ? `${cls}: ${text}` : text);
  const span = document.createElement("span");
  if (cls) span.className = cls;
  span.textContent = text + "\n";
  output.append(span);
  output.scrollTop = output.scrollHeight;
}

function setStatus(s) {
  state.status = s;
  statusEl.textContent = s;
  statusEl.dataset.state = s;
}

function setTransport(kind) {
  state.transport = kind;
  const label = { atomics: "native atomics (SharedArrayBuffer)", "service-worker": "service worker", async: "async only (no blocking: window/document unavailable)" };
  transportEl.textContent = label[kind] ?? kind;
  transportEl.dataset.state = kind;
}

function stop() {
  if (worker) worker.terminate();
  worker = null;
  if (blobURL) URL.revokeObjectURL(blobURL);
  blobURL = null;
  state.running = false;
  $("stop").disabled = true;
}

async function run() {
  stop();
  output.textContent = "";
  state.lines = [];
  state.error = null;
  state.runs++;
  const Ctor = $("interpreter").value === "pyodide" ? PyWorker : MPWorker;
  blobURL = URL.createObjectURL(new Blob([code.value], { type: "text/x-python" }));
  setStatus("running");
  line(`starting ${Ctor.name}...`, "info");
  const started = performance.now();
  const w = new Ctor(blobURL, {
    reentrant: $("reentrant").checked,
    onStdout: (text) => line(text),
    onStderr: (text) => line(text, "stderr"),
  });
  worker = w;
  state.running = true;
  $("stop").disabled = false;
  setTransport(w.transport);
  w.sync.main_task = async () => {
    await w.sync.worker_task();
    return "main_task done";
  };
  w.ready.then(() => {
    if (worker === w) line(`interpreter ready in ${Math.round(performance.now() - started)} ms`, "info");
  }, () => {});
  try {
    await w.done;
    if (worker === w) {
      line("script finished (callbacks stay alive until Stop or the next Run)", "info");
      setStatus("done");
    }
  } catch (e) {
    if (worker !== w) return;
    state.error = e.message;
    line(e.message, "error");
    setStatus("error");
  }
}

function load(name) {
  code.value = EXAMPLES[name];
}

for (const b of document.querySelectorAll("[data-example]")) {
  b.addEventListener("click", () => load(b.dataset.example));
}
$("run").addEventListener("click", run);
$("stop").addEventListener("click", () => {
  stop();
  setStatus("idle");
  line("stopped", "info");
});
code.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    run();
  }
});
load("dom");
setTransport(globalThis.crossOriginIsolated ? "atomics" : "async");
