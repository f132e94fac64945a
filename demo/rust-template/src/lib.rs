//! A Rust worker for worker-bridge: the page calls `greet`, and `greet`
//! calls back into the page synchronously and writes to its DOM.

use bridge_wasm::embed::{expose, main_thread, window, BridgeError};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[derive(Deserialize)]
struct Visitor {
    name: String,
    visits: u32,
}

#[derive(Serialize)]
struct Greeting {
    text: String,
    shouted: String,
    paragraphs: u32,
}

/// Called once by the JS bootstrap (`runRustWorker(wasm, { start: "start" })`)
/// after the bridge is up: expose the functions the page may call.
#[wasm_bindgen]
pub fn start() {
    expose("greet", |v: Visitor| -> Result<Greeting, BridgeError> {
        let text = format!("Hello, {}! Visit number {}.", v.name, v.visits + 1);
        // A function the page put on `w.sync`; this worker blocks until it returns.
        let shouted: String = main_thread().call("shout", &(&text,))?;
        // The page's DOM, through handles.
        let doc = window().get("document")?.handle()?;
        let p = doc.call_method("createElement", &("p",))?.handle()?;
        p.set("id", &"from-rust")?;
        p.set("textContent", &shouted)?;
        doc.get("body")?.handle()?.call_method("append", &(p,))?;
        let paragraphs: u32 = doc
            .call_method("querySelectorAll", &("p",))?
            .handle()?
            .get_as("length")?;
        Ok(Greeting { text, shouted, paragraphs })
    });
    expose("add", |(a, b): (f64, f64)| Ok::<_, BridgeError>(a + b));
}
