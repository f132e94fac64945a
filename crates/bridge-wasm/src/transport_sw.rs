//! The service-worker transport of the Rust embedding (docs/service-worker.md):
//! the worker's end of bridge-js's `transport-sw.js` in Rust, so the same
//! Rust code runs on a page without cross-origin isolation.
//!
//! - worker -> main: `postMessage` (the bootstrap's `post("m", bytes)`);
//! - main -> worker while the worker waits (a reply, a request nested into
//!   its call): the service worker answers the worker's synchronous
//!   `XMLHttpRequest` to `<scope>__worker-bridge__/wait?token&channel&after&wait`
//!   with `[n u32][len u32][bytes]...`; the worker acknowledges with `after`
//!   and drops what it had already (`n <= after`);
//! - main -> worker otherwise (a call while the worker is idle, releases,
//!   cancels): `postMessage`, handed over by the bootstrap (`swDeliver`) and
//!   served from the event loop (`servePending`).
//!
//! Status codes, tokens and the retry rules are those of `transport-sw.js`;
//! the bootstrap (bridge-js `src/rust.js`) passes its constants in
//! (`initBridgeSw`), so they live once.
//!
//! `call_async` on this transport: while a started call waits, the page
//! believes the worker blocked in it and answers through the service worker,
//! so the worker keeps one *asynchronous* request to the same URL parked
//! there (a newer synchronous wait supersedes it, the service worker answers
//! the older one `204`), and serves what it brings.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use bridge_core::channel::{Mailboxes, WorkerLink};
use bridge_core::mailbox::{Config, Deadline, RecvError, SendError, TryRecvError};
use bridge_core::shm::SharedMemory;
use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{XmlHttpRequest, XmlHttpRequestResponseType};

use super::{install_side, with_side, Region, WorkerSide};

/// How the embedding's channel moves its bytes: chosen once at start-up
/// (what the main thread's start-up message says), never swapped.
pub(super) enum Link<M: SharedMemory> {
    /// The channel's mailboxes in the SharedArrayBuffer (`initBridge`).
    Atomics(Mailboxes<M>),
    /// The service worker (`initBridgeSw`).
    ServiceWorker(SwLink),
}

impl<M: SharedMemory + Clone> Link<M> {
    /// The Atomics transport's side over `mem`.
    pub(super) fn atomics(
        mem: M,
        config: &Config,
    ) -> Result<WorkerSide<M>, bridge_core::mailbox::ConfigError> {
        Ok(WorkerSide::with_link(
            Link::Atomics(Mailboxes::new(mem, config)?),
            config.max_message,
        ))
    }
}

impl<M: SharedMemory> WorkerLink for Link<M> {
    fn now(&self) -> Duration {
        match self {
            Link::Atomics(m) => m.now(),
            Link::ServiceWorker(_) => now(),
        }
    }
    fn send(&mut self, bytes: &[u8], deadline: Deadline) -> Result<(), SendError> {
        match self {
            Link::Atomics(m) => m.send(bytes, deadline),
            Link::ServiceWorker(s) => s.send(bytes),
        }
    }
    fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError> {
        match self {
            Link::Atomics(m) => m.recv(deadline),
            Link::ServiceWorker(s) => s.recv(deadline),
        }
    }
    fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError> {
        match self {
            Link::Atomics(m) => m.try_recv(),
            Link::ServiceWorker(s) => s.try_recv(),
        }
    }
    fn close(&self) {
        match self {
            Link::Atomics(m) => m.close(),
            Link::ServiceWorker(s) => s.close(),
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

fn now() -> Duration {
    Duration::from_secs_f64(performance_now().max(0.0) / 1000.0)
}

thread_local! {
    /// Why the last wait on the service worker failed: the text of the
    /// `BridgeError::ServiceWorker` the failed call returns.
    static FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Why the transport failed, once (see [`super::BridgeError::ServiceWorker`]).
pub(super) fn take_failure() -> Option<String> {
    FAILURE.with(|f| f.borrow_mut().take())
}

fn fail(message: String) {
    FAILURE.with(|f| *f.borrow_mut() = Some(message));
}

/// What one wait brought.
enum Fail {
    /// The session is over (the service worker closed or lost it): every
    /// later wait fails with it.
    Fatal(String),
    /// This wait failed; the next may work.
    Once(String),
}

/// The worker's end of the service-worker transport.
pub(super) struct SwLink {
    /// `<url>?token=...&channel=...`
    base: String,
    park_ms: f64,
    /// The last message number received (acknowledged with the next wait).
    after: u32,
    inbox: VecDeque<Vec<u8>>,
    max_message: usize,
    header: String,
    max_network_errors: u32,
    max_unknown: u32,
    /// `post(kind, bytes?)`: a message to the main thread, `{ [TAG]: kind, b: bytes }`.
    post: Function,
    /// Asks the bootstrap to call `servePending` from the event loop soon
    /// (never synchronously: the channel is in use when it is called).
    wake: Function,
    closed: std::cell::Cell<bool>,
    failed: Option<String>,
    /// An asynchronous wait is parked in the service worker (`call_async`).
    polling: bool,
    /// Consecutive failed asynchronous waits.
    poll_errors: u32,
}

fn field(o: &JsValue, name: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn text_of(xhr: &XmlHttpRequest) -> String {
    match xhr.response() {
        Ok(v) if v.is_instance_of::<js_sys::ArrayBuffer>() => {
            String::from_utf8_lossy(&Uint8Array::new(&v).to_vec()).into_owned()
        }
        _ => String::new(),
    }
}

impl SwLink {
    fn url(&self, wait_ms: f64) -> String {
        format!(
            "{}&after={}&wait={}",
            self.base,
            self.after,
            wait_ms.max(0.0).ceil() as u64
        )
    }

    fn request(&self, url: &str, sync: bool) -> Result<XmlHttpRequest, String> {
        let xhr = XmlHttpRequest::new().map_err(|e| format!("{e:?}"))?;
        xhr.open_with_async("GET", url, !sync)
            .map_err(|e| format!("{e:?}"))?;
        xhr.set_response_type(XmlHttpRequestResponseType::Arraybuffer);
        Ok(xhr)
    }

    /// Reads an answer of the service worker: `Ok(true)` when it did not
    /// know the session (the page is asked to announce it again).
    fn answer(&mut self, xhr: &XmlHttpRequest, url: &str) -> Result<bool, Fail> {
        let status = xhr.status().unwrap_or(0);
        if xhr
            .get_response_header(&self.header)
            .ok()
            .flatten()
            .is_none()
        {
            let path = url.split('?').next().unwrap_or(url);
            return Err(Fail::Once(format!(
                "the worker-bridge service worker does not control this worker: {path} answered with status {status} \
                 instead of the service worker. The worker script must be inside the service worker's scope, and the \
                 worker must be created after the service worker controls the page (BridgeWorker with the \
                 `serviceWorker` option does both; check the scope and the Service-Worker-Allowed header)"
            )));
        }
        match status {
            200 => {
                let body = match xhr.response() {
                    Ok(v) => Uint8Array::new(&v).to_vec(),
                    Err(_) => Vec::new(),
                };
                self.unpack(&body).map_err(Fail::Once)?;
                Ok(false)
            }
            204 => Ok(false),
            409 => Ok(true),
            410 => Err(Fail::Fatal(text_of(xhr))),
            _ => Err(Fail::Once(format!(
                "worker-bridge: the service worker refused the wait (status {status}): {}",
                text_of(xhr)
            ))),
        }
    }

    fn unpack(&mut self, body: &[u8]) -> Result<(), String> {
        let mut i = 0;
        let u32_at =
            |i: usize| u32::from_le_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
        while i + 8 <= body.len() {
            let n = u32_at(i);
            let len = u32_at(i + 4) as usize;
            i += 8;
            if i + len > body.len() {
                return Err("worker-bridge: a truncated answer from the service worker".into());
            }
            if n > self.after {
                self.after = n;
                self.inbox.push_back(body[i..i + len].to_vec());
            }
            i += len;
        }
        Ok(())
    }

    /// One synchronous wait of up to `wait_ms`; what arrives goes to the inbox.
    fn fetch_once(&mut self, wait_ms: f64) -> Result<(), Fail> {
        let url = self.url(wait_ms);
        let mut network_errors = 0;
        let mut unknown = 0;
        loop {
            let xhr = self.request(&url, true).map_err(|e| {
                Fail::Once(format!(
                    "worker-bridge: cannot open the wait on the service worker: {e}"
                ))
            })?;
            if let Err(e) = xhr.send() {
                // The service worker was stopped or replaced while it held the request.
                network_errors += 1;
                if network_errors >= self.max_network_errors {
                    return Err(Fail::Once(format!(
                        "worker-bridge: the wait on the service worker failed {network_errors} times in a row ({e:?}); \
                         the service worker was stopped, updated or unregistered, or the server is gone. Reload the page."
                    )));
                }
                continue;
            }
            network_errors = 0;
            if !self.answer(&xhr, &url)? {
                return Ok(());
            }
            // The service worker forgot the session (restarted): ask the page
            // to announce it again; the service worker holds the next wait.
            unknown += 1;
            if unknown > self.max_unknown {
                return Err(Fail::Fatal(format!(
                    "{}; the page did not announce the session again after {} requests. Reload the page.",
                    text_of(&xhr),
                    self.max_unknown
                )));
            }
            self.post_kind("sw-announce");
        }
    }

    fn post_kind(&self, kind: &str) {
        let _ = self.post.call1(&JsValue::NULL, &JsValue::from_str(kind));
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        if self.closed.get() {
            return Err(SendError::Closed);
        }
        if bytes.len() > self.max_message {
            return Err(SendError::TooLarge {
                len: bytes.len(),
                max: self.max_message,
            });
        }
        let b = Uint8Array::from(bytes);
        self.post
            .call2(&JsValue::NULL, &JsValue::from_str("m"), &b)
            .map(drop)
            .map_err(|_| SendError::Closed)
    }

    fn failure(&mut self, f: Fail) -> RecvError {
        match f {
            Fail::Fatal(m) => {
                self.failed = Some(m.clone());
                fail(m);
            }
            Fail::Once(m) => fail(m),
        }
        RecvError::Closed
    }

    fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError> {
        if let Some(m) = self.inbox.pop_front() {
            return Ok(m);
        }
        if let Some(m) = &self.failed {
            fail(m.clone());
            return Err(RecvError::Closed);
        }
        if self.closed.get() {
            return Err(RecvError::Closed);
        }
        loop {
            let left = deadline.remaining_at(now());
            if left == Some(Duration::ZERO) {
                // Going back to the event loop: take what is there now, so
                // nothing sent to the blocked worker stays behind in the
                // service worker.
                if let Err(f) = self.fetch_once(0.0) {
                    return Err(self.failure(f));
                }
                self.schedule_deliver();
                return Err(RecvError::Timeout);
            }
            let wait = left.map_or(self.park_ms, |l| {
                (l.as_secs_f64() * 1000.0).min(self.park_ms)
            });
            if let Err(f) = self.fetch_once(wait) {
                return Err(self.failure(f));
            }
            if let Some(m) = self.inbox.pop_front() {
                self.schedule_deliver();
                return Ok(m);
            }
        }
    }

    /// Messages left in the inbox when the worker stops blocking are served
    /// from the event loop.
    fn schedule_deliver(&self) {
        if !self.inbox.is_empty() {
            let _ = self.wake.call0(&JsValue::NULL);
        }
    }

    fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError> {
        if let Some(m) = self.inbox.pop_front() {
            return Ok(Some(m));
        }
        if let Some(m) = &self.failed {
            fail(m.clone());
            return Err(TryRecvError::Closed);
        }
        Ok(None)
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        // Tell the page: its pending calls fail at once.
        self.post_kind("sw-closed");
    }
}

/// Starts the bridge on this worker on the service-worker transport, with
/// the fields of the main thread's start-up message:
/// `initBridgeSw(msg.sw, msg.maxMessage, msg.timeout, limits, post, wake)`.
/// `limits` is `{ header, maxNetworkErrors, maxUnknown }` of bridge-js's
/// transport-sw.js; `post(kind, bytes?)` posts `{ [TAG]: kind, b: bytes }`
/// to the main thread (transferring `bytes`); `wake()` makes the bootstrap
/// call `servePending` soon, from its event loop. The bootstrap hands every
/// `{ [TAG]: "m", b }` message from the main thread to [`sw_deliver`].
#[wasm_bindgen(js_name = initBridgeSw)]
pub fn init_bridge_sw(
    sw: &JsValue,
    max_message: u32,
    timeout_ms: Option<f64>,
    limits: &JsValue,
    post: Function,
    wake: Function,
) -> Result<(), JsError> {
    let url = field(sw, "url").as_string();
    let token = field(sw, "token").as_string();
    let channel = field(sw, "channel").as_string();
    let (Some(url), Some(token), Some(channel)) = (url, token, channel) else {
        return Err(JsError::new(
            "initBridgeSw: the service-worker transport needs { url, token, channel } in the start-up message",
        ));
    };
    let header = field(limits, "header").as_string().ok_or_else(|| {
        JsError::new("initBridgeSw: limits.header (transport-sw.js's SW_HEADER) is missing")
    })?;
    let count = |name: &str| field(limits, name).as_f64().filter(|n| *n >= 1.0);
    let (Some(max_network_errors), Some(max_unknown)) =
        (count("maxNetworkErrors"), count("maxUnknown"))
    else {
        return Err(JsError::new(
            "initBridgeSw: limits.maxNetworkErrors and limits.maxUnknown must be counts",
        ));
    };
    if !can_block() {
        return Err(JsError::new(
            "initBridgeSw: the service-worker transport blocks with a synchronous XMLHttpRequest, which only a worker has",
        ));
    }
    let park_ms = field(sw, "park")
        .as_f64()
        .filter(|p| *p > 0.0)
        .unwrap_or(5000.0);
    let link = SwLink {
        base: format!("{url}?token={token}&channel={channel}"),
        park_ms,
        after: 0,
        inbox: VecDeque::new(),
        max_message: max_message as usize,
        header,
        max_network_errors: max_network_errors as u32,
        max_unknown: max_unknown as u32,
        post,
        wake,
        closed: std::cell::Cell::new(false),
        failed: None,
        polling: false,
        poll_errors: 0,
    };
    install_side(
        WorkerSide::with_link(Link::ServiceWorker(link), max_message as usize),
        timeout_ms,
    )
}

/// A worker with `XMLHttpRequest` (a window's synchronous requests cannot
/// read an ArrayBuffer, and must not block).
fn can_block() -> bool {
    let g = js_sys::global();
    let has = |name: &str| Reflect::has(&g, &JsValue::from_str(name)).unwrap_or(false);
    has("XMLHttpRequest") && !has("document")
}

/// Hands a message the main thread posted (`{ [TAG]: "m", b }`) to the
/// channel; the bootstrap calls `servePending` afterwards.
#[wasm_bindgen(js_name = swDeliver)]
pub fn sw_deliver(bytes: &[u8]) -> Result<(), JsError> {
    with_side(|side| match side.link() {
        Link::ServiceWorker(s) => {
            s.inbox.push_back(bytes.to_vec());
            Ok(())
        }
        Link::Atomics(_) => Err(JsError::new(
            "swDeliver: the bridge runs on the atomics transport, whose messages arrive in the shared memory",
        )),
    })
    .map_err(|e| JsError::new(&format!("swDeliver: {e}")))?
}

/// A call started with `call_async` waits: keep one asynchronous wait
/// parked in the service worker, which answers it with what the main thread
/// sends meanwhile (the reply, or a request it nests into that call).
/// `Err` when the transport failed for good (the started call ends with it).
pub(super) fn keep_polling(side: &mut WorkerSide<Region>) -> Result<(), String> {
    let Link::ServiceWorker(s) = side.link() else {
        return Ok(());
    };
    if let Some(m) = &s.failed {
        return Err(m.clone());
    }
    if s.polling || s.closed.get() {
        return Ok(());
    }
    let url = s.url(s.park_ms);
    let xhr = s.request(&url, false)?;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        xhr.set_onloadend(Some(&resolve));
    });
    xhr.send()
        .map_err(|e| format!("the asynchronous wait on the service worker failed: {e:?}"))?;
    s.polling = true;
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        let wake = with_side(|side| {
            let Link::ServiceWorker(s) = side.link() else {
                return None;
            };
            s.polling = false;
            let result = if xhr.status().unwrap_or(0) == 0 {
                Err(Fail::Once(
                    "the asynchronous wait on the service worker failed (network error)".into(),
                ))
            } else {
                s.answer(&xhr, &url).map(|unknown| {
                    if unknown {
                        s.post_kind("sw-announce");
                    }
                })
            };
            match result {
                Ok(()) => s.poll_errors = 0,
                Err(Fail::Fatal(m)) => s.failed = Some(m),
                Err(Fail::Once(m)) => {
                    s.poll_errors += 1;
                    if s.poll_errors > s.max_network_errors + s.max_unknown {
                        s.failed = Some(m);
                    }
                }
            }
            Some(s.wake.clone())
        });
        // Serve what came and let the started calls look for their replies
        // (those still waiting park the next wait).
        if let Ok(Some(wake)) = wake {
            let _ = wake.call0(&JsValue::NULL);
        }
    });
    Ok(())
}
