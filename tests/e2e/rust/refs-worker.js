// A worker whose code is Rust: the self-test of Callbacks and RustObjects
// (crates/bridge-wasm/src/callback.rs, `installRefsSelftest`, in the `full`
// wasm package), started by the shipped bootstrap `worker-bridge/rust`.
import { runRustWorker } from "../../../bridge-js/src/rust.js";
import * as wasm from "../../../bridge-js/pkg/full/bridge_wasm.js";

runRustWorker(wasm, {
  start: "installRefsSelftest",
  wasmUrl: new URL("../../../bridge-js/pkg/full/bridge_wasm_bg.wasm", import.meta.url),
  onError: (e) => console.error("refs-worker:", e),
});
