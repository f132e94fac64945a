//! wasm-bindgen bindings (filled by the browser-bridge work).
