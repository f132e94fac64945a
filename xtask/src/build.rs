//! `cargo xtask build`: the wasm package (bridge-js/pkg) and the minified
//! bundles (bridge-js/dist), with their sizes raw and brotli-compressed.

use crate::util::{self, cmd, err, kib, repo_root, run, which, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PKG: &str = "bridge-js/pkg";
const PKG_FULL: &str = "bridge-js/pkg/full";
const DIST: &str = "bridge-js/dist";

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
    util::timed("build: minified bundles (esbuild)", bundle)?;
    sizes()
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

/// Entry points that exist: main and worker always, a service-worker script if
/// bridge-js ships one.
fn entries() -> Vec<&'static str> {
    [
        "bridge-js/src/main.js",
        "bridge-js/src/worker.js",
        "bridge-js/src/bridge-sw.js",
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
    let mut c = Command::new(&esbuild);
    c.args(&entries).args([
        "--bundle",
        "--format=esm",
        "--minify",
        "--target=es2022",
        "--log-level=warning",
        &format!("--outdir={DIST}"),
    ]);
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
    let (mut shipped_raw, mut shipped_br) = (0, 0);
    let mut shipped = Vec::new();
    for f in &files {
        let raw = f.metadata().map(|m| m.len()).unwrap_or(0);
        let br = brotli_size(f).unwrap_or(0);
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        println!("  {name:<40} {:>12} {:>12}", kib(raw), kib(br));
        raw_total += raw;
        br_total += br;
        // What a page with one worker ships: main + worker + wasm (not the SW).
        if !name.ends_with("bridge-sw.js") {
            shipped_raw += raw;
            shipped_br += br;
            shipped.push(
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    println!(
        "  {:<40} {:>12} {:>12}",
        "total",
        kib(raw_total),
        kib(br_total)
    );
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
    fn finds_features_only_in_the_features_table() {
        let toml = "[dependencies]\nfull = \"1\"\n[features]\ndefault = []\nembed = []\nfull = [\"embed\"]\n[lib]\nwire = 1\n";
        assert!(declares_feature(toml, "full"));
        assert!(declares_feature(toml, "embed"));
        assert!(!declares_feature(toml, "wire"));
        assert!(!declares_feature("[dependencies]\nfull = \"1\"\n", "full"));
    }
}
