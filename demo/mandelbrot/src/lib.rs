//! The wasm-threads demo of the worker-bridge Rust embedding: a Mandelbrot
//! set computed on a wasm-bindgen-rayon pool inside a Web Worker, where every
//! pool thread reports each row it finishes to the page with a synchronous
//! call (`main_thread().call("row", ...)`), and the page draws it into the
//! DOM at once.
//!
//! The worker's JS bootstrap (`worker.js` beside this crate) loads the wasm,
//! starts the bridge on the worker's own channel (`initBridge`), starts the
//! pool (`initThreadPool(n)`), allocates one channel per pool thread in the
//! shared wasm memory (`allocThreadChannels`), hands them to the page (the
//! "adopt" message) and calls [`install`], which exposes the functions
//! below to the page (`await w.sync.render(...)` and so on).
//!
//! Build (nightly; `cargo xtask build --threads` runs exactly this):
//! docs/rust.md, "The wasm-threads flavour".

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
compile_error!(
    "mandelbrot-threads is the wasm-threads demo: build it for wasm32-unknown-unknown on nightly with \
     +atomics,+bulk-memory,+mutable-globals and -Z build-std=panic_abort,std (`cargo xtask build --threads`; \
     the flags are in docs/rust.md)"
);

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Barrier;

use bridge_wasm::embed::{expose, main_thread, window, BridgeError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

pub use wasm_bindgen_rayon::init_thread_pool;

/// Which part of the plane to draw, and how finely.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct View {
    /// Pixels across.
    pub width: u32,
    /// Pixels down (one row is one task and one call to the page).
    pub height: u32,
    /// Most iterations per pixel.
    pub max_iter: u32,
    /// The plane's left edge (real part).
    pub x0: f64,
    /// The plane's top edge (imaginary part).
    pub y0: f64,
    /// Plane units per pixel.
    pub step: f64,
}

/// The iteration counts of row `y`: how many steps of `z = z^2 + c` each
/// pixel takes to leave the radius-2 disc (`max_iter` if it never does).
pub fn row(view: &View, y: u32) -> Vec<u32> {
    let cy = view.y0 + f64::from(y) * view.step;
    (0..view.width)
        .map(|x| {
            let cx = view.x0 + f64::from(x) * view.step;
            let (mut zr, mut zi) = (0.0f64, 0.0f64);
            let mut i = 0;
            while i < view.max_iter && zr * zr + zi * zi <= 4.0 {
                let t = zr * zr - zi * zi + cx;
                zi = 2.0 * zr * zi + cy;
                zr = t;
                i += 1;
            }
            i
        })
        .collect()
}

/// FNV-1a over the counts, row by row (the page computes the same).
pub fn checksum<'a>(rows: impl IntoIterator<Item = &'a Vec<u32>>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for r in rows {
        for &c in r {
            h = (h ^ c).wrapping_mul(16_777_619);
        }
    }
    h
}

/// What `render` returns to the page.
#[derive(Serialize)]
struct Rendered {
    /// FNV-1a of every count, rows in order.
    checksum: u32,
    /// Sum of all counts.
    total_iterations: f64,
    /// Rows each pool thread computed (and reported), by thread index.
    rows_by_thread: Vec<u32>,
    /// Pool threads.
    threads: u32,
}

/// What `single` returns: the same image computed on one thread.
#[derive(Serialize)]
struct Single {
    checksum: u32,
    total_iterations: f64,
}

/// What `allAtOnce` returns.
#[derive(Serialize)]
struct AllAtOnce {
    /// Calls each thread made and found answered correctly, by thread index.
    answered_by_thread: Vec<u32>,
    threads: u32,
}

fn pool_index() -> Result<usize, BridgeError> {
    rayon::current_thread_index()
        .ok_or_else(|| BridgeError::thrown("Error", "not on a rayon pool thread"))
}

/// Exposes the demo's functions to the page.
#[wasm_bindgen]
pub fn install() {
    // Draw the set on the pool. Each row is computed on whichever pool
    // thread rayon gives it to; that thread calls the page's `row(thread,
    // y, counts)` synchronously (it blocks until the page has drawn it) and
    // goes on with its next row.
    expose("render", |(view,): (View,)| {
        let threads = rayon::current_num_threads();
        let by_thread: Vec<AtomicU32> = (0..threads).map(|_| AtomicU32::new(0)).collect();
        let rows: Vec<Vec<u32>> = (0..view.height)
            .into_par_iter()
            .map(|y| {
                let counts = row(&view, y);
                let t = pool_index().map_err(|e| e.to_string())?;
                main_thread()
                    .call::<_, ()>("row", &(t, y, &counts))
                    .map_err(|e| e.to_string())?;
                by_thread[t].fetch_add(1, Ordering::Relaxed);
                Ok(counts)
            })
            .collect::<Result<_, String>>()
            .map_err(|e| BridgeError::thrown("Error", format!("a pool thread failed: {e}")))?;
        Ok(Rendered {
            checksum: checksum(&rows),
            total_iterations: rows.iter().flatten().map(|&c| f64::from(c)).sum(),
            rows_by_thread: by_thread
                .iter()
                .map(|n| n.load(Ordering::Relaxed))
                .collect(),
            threads: threads as u32,
        })
    });

    // A panic on this worker's own thread (`?panic`, the test of
    // tests/e2e/rust/threads.e2e.mjs): the bootstrap reports it and the
    // page's calls reject with a ClosedError that names it, none hangs.
    expose("panics", |(message,): (String,)| -> Result<(), BridgeError> {
        panic!("{message}")
    });

    // Channels for threads that no thread has taken yet.
    expose("freeChannels", |(): ()| {
        Ok(bridge_wasm::embed::threads::free_thread_channels())
    });

    // The same image on this one thread (the worker's own), for comparison.
    expose("single", |(view,): (View,)| {
        let rows: Vec<Vec<u32>> = (0..view.height).map(|y| row(&view, y)).collect();
        Ok(Single {
            checksum: checksum(&rows),
            total_iterations: rows.iter().flatten().map(|&c| f64::from(c)).sum(),
        })
    });

    // Every pool thread calls the page `calls` times, all starting at the
    // same moment (a barrier), and checks each answer; each also writes
    // its own line of the page through DOM handles.
    expose("allAtOnce", |(calls,): (u32,)| {
        let threads = rayon::current_num_threads();
        let barrier = Barrier::new(threads);
        let results: Vec<Result<u32, String>> = rayon::broadcast(|ctx| {
            let t = ctx.index();
            barrier.wait();
            let run = || -> Result<u32, BridgeError> {
                let mut ok = 0;
                for j in 0..calls {
                    let answer: u32 = main_thread().call("echo", &(t, j))?;
                    if answer == (t as u32) * 1000 + j {
                        ok += 1;
                    }
                }
                let doc = window().get("document")?.handle()?;
                let line = doc
                    .call_method("getElementById", &(format!("thread-{t}"),))?
                    .handle()?;
                line.set(
                    "textContent",
                    &format!("pool thread {t}: {ok} of {calls} calls answered"),
                )?;
                Ok(ok)
            };
            run().map_err(|e| e.to_string())
        });
        let answered_by_thread = results
            .into_iter()
            .collect::<Result<Vec<u32>, String>>()
            .map_err(|e| BridgeError::thrown("Error", format!("a pool thread failed: {e}")))?;
        Ok(AllAtOnce {
            answered_by_thread,
            threads: threads as u32,
        })
    });
}
