// The worker: the wasm-bindgen output of this crate, started by the
// bootstrap that worker-bridge ships. In a project with a bundler or an
// import map for workers, the second import is "worker-bridge/rust".
import * as wasm from "../.build/rust-template/rust_template.js";
import { runRustWorker } from "../../bridge-js/src/rust.js";

runRustWorker(wasm, { start: "start" });
