//! `cargo xtask build`: the wasm package (bridge-js/pkg) and the minified
//! bundles (bridge-js/dist), with their sizes raw and brotli-compressed.

use crate::util::{self, cmd, err, kib, repo_root, run, which, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PKG: &str = "bridge-js/pkg";
const PKG_FULL: &str = "bridge-js/pkg/full";
const DIST: &str = "bridge-js/dist";
/// A string only the service-worker transport's code contains: its chunk is
/// not counted in what a page on the Atomics transport loads.
const SW_TRANSPORT_MARK: &str = "__worker-bridge__/wait";
/// A name only the tracker's wasm2js build contains (its one-letter
/// exports' table): its chunk is not counted either.
const MAIN_CORE_JS_MARK: &str = "wasm2js";

pub fn build() -> Result {
    util::timed("build: wasm (bridge-wasm, release-wasm profile)", || {
        wasm(&[], PKG)
    })?;
    // The JS tests also load a `full` build (the Rust embedding and wire codec),
    // which bridge-js does not ship. Both builds write the same .wasm path, so
    // each runs wasm-bindgen right after its cargo build.
    if has_feature("full") {
        util::timed("build: wasm with --features full (for the tests)", || {
            wasm(&["--features", "full"], PKG_FULL)
        })?;
    }
    util::timed(
        "build: the main thread's core (bridge-core-wasm, wasm2js) into bridge-js/gen",
        main_core,
    )?;
    util::timed("build: minified bundles (esbuild)", bundle)?;
    util::timed(
        "build: PyScript from npm, on worker-bridge and stock (xtask/pyscript.mjs)",
        pyscript,
    )?;
    sizes()
}

/// Where the main thread's core goes (bridge-js/src/main-core.js loads
/// them): the `.wasm`, fetched when bridge-js loads, and its wasm2js
/// translation, imported on demand only where a Content-Security-Policy
/// forbids compiling wasm.
const MAIN_CORE_WASM: &str = "bridge-js/gen/main-core.wasm";
const MAIN_CORE_JS: &str = "bridge-js/gen/main-core-js.js";

/// The main thread's wait-for tracker (crates/bridge-core-wasm with only
/// its `main` exports) built for wasm32 on stable Rust, shrunk by
/// binaryen's wasm-opt (npm `binaryen`, pinned in package.json), into
/// [`MAIN_CORE_WASM`] and, translated by binaryen's wasm2js, into
/// [`MAIN_CORE_JS`] (docs/benchmarks.md has the measurements behind the
/// flags and the fetched `.wasm`).
fn main_core() -> Result {
    let root = repo_root();
    let mut c = util::cargo();
    c.args([
        "build",
        "-p",
        "bridge-core-wasm",
        "--no-default-features",
        "--features",
        "main",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "release-core",
    ]);
    run(c)?;
    let bin = |name: &str| root.join("node_modules/.bin").join(name);
    for tool in ["wasm-opt", "wasm2js"] {
        if !bin(tool).exists() {
            return err(format!(
                "node_modules/.bin/{tool} is missing: run `cargo xtask setup` (npm ci installs binaryen)"
            ));
        }
    }
    // Beside bridge_wasm.wasm's profile directory: release-core's.
    let wasm = wasm_out()
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("release-core/bridge_core_wasm.wasm"))
        .unwrap_or_default();
    let tmp = root.join("target/main-core");
    fs::create_dir_all(&tmp).map_err(|e| util::Error(format!("{}: {e}", tmp.display())))?;
    let opt = tmp.join("main-core.wasm");
    // The smallest safe build measured (docs/benchmarks.md); wasm2js has no
    // saturating float-to-int (Rust's `as` casts): lowered for both.
    let mut c = cmd(
        bin("wasm-opt"),
        &[
            "-Oz",
            "--converge",
            "--strip-debug",
            "--strip-producers",
            // The linker's `__data_end` / `__heap_base`: nothing reads them.
            "--remove-exports",
            "--pass-arg=remove-exports@__*",
            "--enable-nontrapping-float-to-int",
            "--llvm-nontrapping-fptoint-lowering",
        ],
    );
    let featured = tmp.join("main-core-featured.wasm");
    c.arg(&wasm).arg("-o").arg(&featured);
    run(c)?;
    // The shipped .wasm without its target-features section (metadata only
    // tools read); wasm2js needs it, so it translates the build before.
    let mut c = cmd(bin("wasm-opt"), &["--strip-target-features"]);
    c.arg(&featured).arg("-o").arg(&opt);
    run(c)?;
    let out = root.join(MAIN_CORE_WASM);
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).map_err(|e| util::Error(format!("{}: {e}", dir.display())))?;
    }
    fs::copy(&opt, &out).map_err(|e| util::Error(format!("{}: {e}", out.display())))?;
    let js = root.join(MAIN_CORE_JS);
    let mut c = cmd(bin("wasm2js"), &["-Oz"]);
    c.arg(&featured).arg("-o").arg(&js);
    run(c)?;
    println!(
        "  {MAIN_CORE_WASM}: {} raw, {} brotli; {MAIN_CORE_JS} (the CSP fallback, unminified): {} brotli",
        kib(out.metadata().map(|m| m.len()).unwrap_or(0)),
        brotli_size(&out).map_or("?".into(), kib),
        brotli_size(&js).map_or("?".into(), kib)
    );
    Ok(())
}

/// @pyscript/core + polyscript bundled from node_modules with coincident's
/// two specifiers aliased to bridge-js/src/coincident/*, and once stock,
/// into demo/.build/pyscript/{wb,wb-dist,stock} (docs/pyscript.md; wb-dist
/// takes bridge-js from bridge-js/dist, so it runs after `bundle`).
fn pyscript() -> Result {
    let mut c = cmd("node", &[]);
    c.arg(repo_root().join("xtask/pyscript.mjs"));
    run(c)?;
    Ok(())
}

/// `cargo xtask build [--threads]`: the default build; with `--threads`
/// also the wasm-threads flavour (nightly).
pub fn build_command(args: &[String]) -> Result {
    let mut with_threads = false;
    let mut with_template = false;
    for a in args {
        match a.as_str() {
            "--threads" => with_threads = true,
            "--template" => with_template = true,
            other => {
                return err(format!(
                    "unknown option `{other}` for build (known: --threads, --template)"
                ))
            }
        }
    }
    build()?;
    if with_threads {
        threads()?;
    }
    if with_template {
        template()?;
    }
    Ok(())
}

/// The Rust worker template (docs/rust.md, "Your first hour"): its own
/// workspace and Cargo.lock, bridge-wasm as a path dependency, as an outside
/// project has it. It builds into the repository's target directory, so the
/// dependencies it shares with the workspace's wasm build (same versions,
/// same profile) are not compiled twice.
const TEMPLATE_CRATE: &str = "demo/rust-template/Cargo.toml";
const TEMPLATE_PKG: &str = "demo/.build/rust-template";
const TEMPLATE_WASM: &str = "rust_template";

pub fn template() -> Result {
    util::timed(
        "build: the Rust worker template (demo/rust-template)",
        || {
            let root = repo_root();
            let mut c = util::cargo();
            c.args([
                "build",
                "--manifest-path",
                TEMPLATE_CRATE,
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "release-wasm",
            ])
            .env("CARGO_TARGET_DIR", root.join("target"));
            run(c)?;
            let Some(wb) = which("wasm-bindgen") else {
                return err("wasm-bindgen not found: run `cargo xtask setup`");
            };
            let out = root.join(TEMPLATE_PKG);
            let _ = fs::remove_dir_all(&out);
            let mut c = cmd(wb, &["--target", "web", "--out-dir"]);
            c.arg(&out).arg(
                root.join("target/wasm32-unknown-unknown/release-wasm")
                    .join(format!("{TEMPLATE_WASM}.wasm")),
            );
            run(c)?;
            let bg = out.join(format!("{TEMPLATE_WASM}_bg.wasm"));
            let raw = bg.metadata().map(|m| m.len()).unwrap_or(0);
            println!(
                "  {TEMPLATE_PKG}/{TEMPLATE_WASM}_bg.wasm: {} raw, {} brotli",
                kib(raw),
                brotli_size(&bg).map_or("?".into(), kib)
            );
            Ok(())
        },
    )
}

/// The wasm-threads demo crate (its own workspace, nightly only) and where
/// its wasm-bindgen package goes (served with the demo; gitignored).
const THREADS_CRATE: &str = "demo/mandelbrot/Cargo.toml";
const THREADS_PKG: &str = "demo/.build/mandelbrot";
const THREADS_WASM: &str = "mandelbrot_threads";
/// Its own target directory, so that the nightly `-Z build-std` build never
/// invalidates the stable one.
const THREADS_TARGET: &str = "target/threads";
/// `+atomics` with a shared, imported memory and the TLS exports that
/// wasm-bindgen's thread support needs (with `+atomics` alone the linker
/// makes an unshared memory and wasm-bindgen a single-threaded module).
/// The maximum memory (1 GiB) is what every thread's instance imports.
const THREADS_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals \
-C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory \
-C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
-C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// The wasm-threads flavour: the Mandelbrot demo crate (bridge-wasm with
/// `threads`, wasm-bindgen-rayon) built with nightly and `-Z build-std`,
/// then wasm-bindgen `--target web` into demo/.build/mandelbrot. Installs
/// nightly and rust-src first when they are missing.
pub fn threads() -> Result {
    util::timed(
        "build: nightly toolchain for the wasm-threads flavour",
        crate::setup::nightly,
    )?;
    util::timed(
        "build: wasm-threads flavour (nightly, -Z build-std, demo/mandelbrot)",
        || {
            let root = repo_root();
            let Some(rustup) = which("rustup") else {
                return err(
                    "rustup not found: the wasm-threads build runs `rustup run nightly cargo ...`",
                );
            };
            let mut c = cmd(&rustup, &["run", "nightly", "cargo", "build"]);
            c.args([
                "--manifest-path",
                THREADS_CRATE,
                "-Z",
                "build-std=panic_abort,std",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "release-wasm",
            ])
            .env("RUSTFLAGS", THREADS_RUSTFLAGS)
            .env("CARGO_TARGET_DIR", root.join(THREADS_TARGET))
            // What the stable cargo that runs xtask set for us must not pin
            // the nested nightly build to stable.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC")
            .env_remove("RUSTDOC")
            .env_remove("CARGO");
            util::run_limited(c, Some(std::time::Duration::from_secs(30 * 60)))?;
            let Some(wb) = which("wasm-bindgen") else {
                return err("wasm-bindgen not found: run `cargo xtask setup`");
            };
            let out = root.join(THREADS_PKG);
            let _ = fs::remove_dir_all(&out);
            let wasm = root
                .join(THREADS_TARGET)
                .join("wasm32-unknown-unknown/release-wasm")
                .join(format!("{THREADS_WASM}.wasm"));
            let mut c = cmd(wb, &["--target", "web", "--out-dir"]);
            c.arg(&out).arg(&wasm);
            run(c)?;
            point_rayon_workers_at_the_module(&out)?;
            let bg = out.join(format!("{THREADS_WASM}_bg.wasm"));
            let raw = bg.metadata().map(|m| m.len()).unwrap_or(0);
            println!(
                "  {THREADS_PKG}/{THREADS_WASM}_bg.wasm: {} raw, {} brotli",
                kib(raw),
                brotli_size(&bg).map_or("?".into(), kib)
            );
            Ok(())
        },
    )
}

/// wasm-bindgen-rayon's worker script (a wasm-bindgen snippet) loads the
/// package's main module as `import('../../..')`, the package directory,
/// which bundlers resolve and a plain static server does not (it would
/// serve the directory's index.html). Point it at the module file.
fn point_rayon_workers_at_the_module(pkg: &Path) -> Result {
    let from = "import('../../..')";
    let to = format!("import('../../../{THREADS_WASM}.js')");
    let snippets = pkg.join("snippets");
    let mut patched = 0;
    for dir in fs::read_dir(&snippets)
        .map_err(|e| util::Error(format!("{}: {e}", snippets.display())))?
        .flatten()
    {
        if !dir
            .file_name()
            .to_string_lossy()
            .starts_with("wasm-bindgen-rayon-")
        {
            continue;
        }
        let helpers = dir.path().join("src/workerHelpers.js");
        let text = fs::read_to_string(&helpers)
            .map_err(|e| util::Error(format!("{}: {e}", helpers.display())))?;
        if !text.contains(from) {
            return err(format!(
                "{} no longer contains {from}: check how this wasm-bindgen-rayon version loads the main module",
                helpers.display()
            ));
        }
        fs::write(&helpers, text.replace(from, &to))
            .map_err(|e| util::Error(format!("{}: {e}", helpers.display())))?;
        patched += 1;
    }
    if patched == 0 {
        return err(format!(
            "no wasm-bindgen-rayon snippet in {}: is wasm-bindgen-rayon still a dependency of {THREADS_CRATE}?",
            snippets.display()
        ));
    }
    println!("  pointed wasm-bindgen-rayon's worker at {THREADS_WASM}.js");
    Ok(())
}

fn wasm(features: &[&str], out_dir: &str) -> Result {
    let mut c = util::cargo();
    c.args([
        "build",
        "-p",
        "bridge-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "release-wasm",
    ]);
    c.args(features);
    run(c)?;
    let Some(wb) = which("wasm-bindgen") else {
        return err("wasm-bindgen not found: run `cargo xtask setup`");
    };
    let mut c = cmd(wb, &["--target", "web", "--out-dir", out_dir]);
    c.arg(wasm_out());
    run(c)?;
    Ok(())
}

/// Whether crates/bridge-wasm/Cargo.toml declares the feature.
fn has_feature(name: &str) -> bool {
    let text =
        fs::read_to_string(repo_root().join("crates/bridge-wasm/Cargo.toml")).unwrap_or_default();
    declares_feature(&text, name)
}

fn declares_feature(text: &str, name: &str) -> bool {
    let mut in_features = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features && line.split('=').next().is_some_and(|k| k.trim() == name) {
            return true;
        }
    }
    false
}

/// Where cargo puts bridge_wasm.wasm (CARGO_TARGET_DIR is honoured).
fn wasm_out() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let target = if target.is_absolute() {
        target
    } else {
        repo_root().join(target)
    };
    target.join("wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm")
}

/// The entry points of bridge-js/dist (the package's `exports` point at
/// them): main and worker always, and the Python layer (python.js starts
/// python-worker.js from beside itself, so both are entries).
fn entries() -> Vec<&'static str> {
    [
        "bridge-js/src/main.js",
        "bridge-js/src/worker.js",
        "bridge-js/src/python.js",
        "bridge-js/src/python-worker.js",
    ]
    .into_iter()
    .filter(|p| repo_root().join(p).exists())
    .collect()
}

fn bundle() -> Result {
    let root = repo_root();
    let esbuild = root.join("node_modules/.bin/esbuild");
    if !esbuild.exists() {
        return err("node_modules/.bin/esbuild is missing: run `cargo xtask setup` (npm ci)");
    }
    let entries = entries();
    let dist = root.join(DIST);
    let _ = fs::remove_dir_all(&dist);
    for needed in ["bridge-js/src/main.js", "bridge-js/src/worker.js"] {
        if !entries.contains(&needed) {
            return err(format!(
                "{needed} is missing: the bundle needs the main and worker entry points"
            ));
        }
    }
    // xtask/dist.mjs: worker.js one file (the worker's module graph one
    // level deep: each level is a request round trip at worker start-up),
    // main.js importing what it shares with the worker from it, the Python
    // layer over both, the service-worker transport a chunk loaded on demand
    // (docs/architecture.md, "bridge-js modules").
    let mut c = cmd("node", &[]);
    c.arg(root.join("xtask/dist.mjs")).arg(&dist);
    run(c)?;
    // The wasm-bindgen glue loads `bridge_wasm_bg.wasm` relative to
    // import.meta.url, so a bundle that uses it needs it beside it.
    let wasm = root.join(PKG).join("bridge_wasm_bg.wasm");
    let uses_wasm = entries.iter().any(|e| {
        let name = Path::new(e).file_name().unwrap_or_default();
        fs::read_to_string(dist.join(name)).is_ok_and(|js| js.contains("bridge_wasm_bg.wasm"))
    });
    if !uses_wasm {
        println!("  the bundles do not load bridge_wasm_bg.wasm: not shipped in {DIST}");
    } else if wasm.exists() {
        fs::copy(&wasm, dist.join("bridge_wasm_bg.wasm"))
            .map_err(|e| util::Error(format!("cannot copy {} into {DIST}: {e}", wasm.display())))?;
    }
    Ok(())
}

/// The files of `dist` that `roots` import statically, transitively (esbuild's
/// minified ESM writes them as `from"./x.js"` or `import"./x.js"`).
fn static_closure(dist: &Path, roots: &[&str]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut todo: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
    while let Some(file) = todo.pop() {
        if seen.contains(&file) {
            continue;
        }
        let Ok(js) = fs::read_to_string(dist.join(&file)) else {
            continue;
        };
        for marker in ["from\"./", "import\"./"] {
            for (at, _) in js.match_indices(marker) {
                let rest = &js[at + marker.len()..];
                if let Some(end) = rest.find('"') {
                    todo.push(rest[..end].to_string());
                }
            }
        }
        seen.push(file);
    }
    seen
}

/// Brotli size (quality 11): the `brotli` CLI if installed, else Node's zlib.
fn brotli_size(path: &Path) -> Option<u64> {
    if which("brotli").is_some() {
        let out = Command::new("brotli")
            .args(["-c", "-q", "11"])
            .arg(path)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        return out.status.success().then_some(out.stdout.len() as u64);
    }
    let out = Command::new("node")
        .args([
            "--input-type=module",
            "-e",
            "import{readFileSync}from'node:fs';import{brotliCompressSync,constants as c}from'node:zlib';\
             process.stdout.write(String(brotliCompressSync(readFileSync(process.argv[1]),{params:{[c.BROTLI_PARAM_QUALITY]:11}}).length))",
        ])
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn sizes() -> Result {
    util::heading("build: sizes");
    let root = repo_root();
    let dist = root.join(DIST);
    let Ok(listing) = fs::read_dir(&dist) else {
        println!("  no bundles in {DIST}");
        return Ok(());
    };
    let mut files: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js" || x == "wasm"))
        .collect();
    files.sort();
    println!("  {:<40} {:>12} {:>12}", "file", "raw", "brotli");
    let (mut raw_total, mut br_total) = (0, 0);
    // What a page with one worker loads: main.js, worker.js and the chunks
    // they import statically (+ the wasm, if they load it). Not the Python
    // layer, and not the service-worker transport's chunk (an import()).
    let eager = static_closure(&dist, &["main.js", "worker.js"]);
    let (mut shipped_raw, mut shipped_br) = (0, 0);
    let mut shipped = Vec::new();
    for f in &files {
        let raw = f.metadata().map(|m| m.len()).unwrap_or(0);
        let br = brotli_size(f).unwrap_or(0);
        let file = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let js = fs::read_to_string(f).unwrap_or_default();
        let note = if eager.contains(&file) {
            shipped_raw += raw;
            shipped_br += br;
            shipped.push(file.clone());
            ""
        } else if js.contains(SW_TRANSPORT_MARK) {
            "  on demand: the service-worker transport"
        } else if js.contains(MAIN_CORE_JS_MARK) {
            "  on demand: the tracker's JS build (a CSP that forbids wasm)"
        } else {
            ""
        };
        println!(
            "  {:<40} {:>12} {:>12}{note}",
            format!("{DIST}/{file}"),
            kib(raw),
            kib(br)
        );
        raw_total += raw;
        br_total += br;
    }
    println!(
        "  {:<40} {:>12} {:>12}",
        "total",
        kib(raw_total),
        kib(br_total)
    );
    // The main thread's tracker, which main.js fetches (main-core.js).
    let core = root.join(MAIN_CORE_WASM);
    if let (Ok(m), Some(br)) = (core.metadata(), brotli_size(&core)) {
        println!(
            "  {:<40} {:>12} {:>12}",
            MAIN_CORE_WASM,
            kib(m.len()),
            kib(br)
        );
        shipped_raw += m.len();
        shipped_br += br;
        shipped.push("main-core.wasm".into());
    }
    println!(
        "  {:<40} {:>12} {:>12}",
        format!("shipped: {}", shipped.join(" + ")),
        kib(shipped_raw),
        kib(shipped_br)
    );
    println!("  (DESIGN target: what a page ships, main + worker (+ wasm), <= 30 KB brotli)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::declares_feature;

    #[test]
    fn threads_rustflags_are_one_line_with_a_shared_memory() {
        let f = super::THREADS_RUSTFLAGS;
        assert!(!f.contains('\n') && !f.contains("  "), "{f:?}");
        for needed in [
            "+atomics",
            "+bulk-memory",
            "--shared-memory",
            "--import-memory",
            "__wasm_init_tls",
        ] {
            assert!(f.contains(needed), "{needed} missing from {f:?}");
        }
    }

    #[test]
    fn finds_features_only_in_the_features_table() {
        let toml = "[dependencies]\nfull = \"1\"\n[features]\ndefault = []\nembed = []\nfull = [\"embed\"]\n[lib]\nwire = 1\n";
        assert!(declares_feature(toml, "full"));
        assert!(declares_feature(toml, "embed"));
        assert!(!declares_feature(toml, "wire"));
        assert!(!declares_feature("[dependencies]\nfull = \"1\"\n", "full"));
    }
}
