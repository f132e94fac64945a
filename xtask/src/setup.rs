//! `cargo xtask setup`: make a fresh Debian machine ready, skipping whatever is
//! already there. Never downloads browsers: Chromium comes from Debian.

use crate::util::{self, cmd, err, output, repo_root, run, which, Result};
use std::fs;
use std::path::Path;
use std::time::SystemTime;

pub const CHROMIUM: &str = "/usr/bin/chromium";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn setup() -> Result {
    util::timed("setup: wasm32 target", wasm_target)?;
    util::timed("setup: wasm-bindgen-cli", wasm_bindgen_cli)?;
    util::timed("setup: npm packages", npm_packages)?;
    util::timed("setup: Chromium (Debian)", chromium)?;
    Ok(())
}

/// For the wasm-threads flavour (`cargo xtask build --threads`): a nightly
/// toolchain with `rust-src`, installed only when missing. No wasm32 target
/// for nightly: `-Z build-std` compiles core/alloc/std for it from rust-src
/// (the prebuilt rust-std would go unused).
pub fn nightly() -> Result {
    let Some(rustup) = which("rustup") else {
        return err("the wasm-threads build needs rustup (for a nightly toolchain with rust-src): install rustup, or build without --threads");
    };
    let toolchains = output(cmd(&rustup, &["toolchain", "list"])).unwrap_or_default();
    if toolchains
        .lines()
        .any(|l| l.trim_start().starts_with("nightly"))
    {
        println!("  nightly toolchain: installed");
    } else {
        run(cmd(
            &rustup,
            &["toolchain", "install", "nightly", "--profile", "minimal"],
        ))?;
    }
    let components = output(cmd(
        &rustup,
        &["component", "list", "--toolchain", "nightly", "--installed"],
    ))
    .unwrap_or_default();
    if components.lines().any(|l| l.trim().starts_with("rust-src")) {
        println!("  nightly rust-src: installed");
    } else {
        run(cmd(
            &rustup,
            &["component", "add", "rust-src", "--toolchain", "nightly"],
        ))?;
    }
    Ok(())
}

fn wasm_target() -> Result {
    let Some(rustup) = which("rustup") else {
        // A toolchain without rustup may still have the target (e.g. a distro
        // rustc with the wasm std); the build step will tell if it does not.
        println!("  rustup not found: make sure the `{WASM_TARGET}` standard library is installed for this rustc");
        return Ok(());
    };
    let installed = output(cmd(&rustup, &["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("  {WASM_TARGET}: installed");
        return Ok(());
    }
    run(cmd(rustup, &["target", "add", WASM_TARGET]))?;
    Ok(())
}

/// The exact version the `wasm-bindgen` crate is pinned to in
/// crates/bridge-wasm/Cargo.toml (`wasm-bindgen = "=X"` or `{ version = "=X" }`).
pub fn pinned_wasm_bindgen() -> Result<String> {
    let path = repo_root().join("crates/bridge-wasm/Cargo.toml");
    let text = fs::read_to_string(&path)
        .map_err(|e| util::Error(format!("cannot read {}: {e}", path.display())))?;
    parse_pinned(&text)
}

fn parse_pinned(text: &str) -> Result<String> {
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("wasm-bindgen") else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue;
        }; // wasm-bindgen-futures etc. stop here
        let value = value.trim();
        let quoted = if value.starts_with('{') {
            value
                .split("version")
                .nth(1)
                .and_then(|v| v.split('"').nth(1))
        } else {
            value.split('"').nth(1)
        };
        let Some(req) = quoted else { continue };
        let Some(exact) = req.strip_prefix('=') else {
            return err(format!(
                "crates/bridge-wasm/Cargo.toml has wasm-bindgen = \"{req}\": pin it exactly (\"={req}\") so wasm-bindgen-cli can match it"
            ));
        };
        return Ok(exact.trim().to_string());
    }
    err("no `wasm-bindgen = \"=X.Y.Z\"` dependency found in crates/bridge-wasm/Cargo.toml")
}

fn wasm_bindgen_cli() -> Result {
    let want = pinned_wasm_bindgen()?;
    let have = which("wasm-bindgen").and_then(|p| output(cmd(p, &["--version"])));
    // prints "wasm-bindgen 0.2.130"
    let have_version = have
        .as_deref()
        .and_then(|s| s.split_whitespace().nth(1))
        .map(str::to_string);
    match have_version {
        Some(v) if v == want => {
            println!("  wasm-bindgen {v}: installed, matches the crate");
            return Ok(());
        }
        Some(v) => println!("  wasm-bindgen {v} installed, the crate is pinned to {want}: reinstalling (about 3.5 min)"),
        None => println!("  wasm-bindgen-cli missing: installing {want} (about 3.5 min)"),
    }
    // Without --locked: the crates index here lacks one of its locked dependencies.
    let mut c = util::cargo();
    c.args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]);
    run(c)?;
    Ok(())
}

fn mtime(p: &Path) -> Option<SystemTime> {
    p.metadata().and_then(|m| m.modified()).ok()
}

fn npm_packages() -> Result {
    let root = repo_root();
    let lock = root.join("package-lock.json");
    let modules = root.join("node_modules");
    // npm writes node_modules/.package-lock.json last on every install.
    let installed = mtime(&modules.join(".package-lock.json")).or_else(|| mtime(&modules));
    let needed = match (installed, mtime(&lock)) {
        (None, _) => true,
        (Some(i), Some(l)) => i < l,
        (Some(_), None) => false,
    };
    if which("node").is_none() || which("npm").is_none() {
        return err("node and npm are needed (Node.js 20 or newer): install Debian's `nodejs` and `npm` packages");
    }
    if !needed {
        println!("  node_modules: up to date with package-lock.json");
        return Ok(());
    }
    if lock.exists() {
        run(cmd("npm", &["ci", "--no-audit", "--no-fund"]))?;
    } else {
        run(cmd("npm", &["install", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

fn chromium() -> Result {
    if Path::new(CHROMIUM).exists() {
        let v = output(cmd(CHROMIUM, &["--version"])).unwrap_or_else(|| "version unknown".into());
        println!("  {CHROMIUM}: {v}");
        return Ok(());
    }
    let packages = ["chromium", "chromium-driver", "brotli"];
    let root = output(cmd("id", &["-u"])).as_deref() == Some("0");
    if which("apt-get").is_none() {
        return err(format!(
            "{CHROMIUM} is missing and apt-get is not available: install Chromium (Debian packages {}) so that {CHROMIUM} exists, then run again",
            packages.join(" ")
        ));
    }
    if !root {
        return err(format!(
            "{CHROMIUM} is missing: run `sudo apt-get update && sudo apt-get install -y {}` (or run this command as root)",
            packages.join(" ")
        ));
    }
    let mut update = cmd("apt-get", &["update"]);
    update.env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = cmd("apt-get", &["install", "-y"]);
    install
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)?;
    if !Path::new(CHROMIUM).exists() {
        return err(format!(
            "apt-get installed chromium but {CHROMIUM} is still missing"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_pinned;

    #[test]
    fn reads_the_exact_pin_in_both_forms() {
        assert_eq!(
            parse_pinned("[dependencies]\nwasm-bindgen = \"=0.2.130\"\n").unwrap(),
            "0.2.130"
        );
        assert_eq!(
            parse_pinned("wasm-bindgen-futures = \"0.4\"\nwasm-bindgen = { version = \"=0.2.99\", features = [\"x\"] }").unwrap(),
            "0.2.99"
        );
    }

    #[test]
    fn refuses_a_loose_or_missing_pin() {
        let e = parse_pinned("wasm-bindgen = \"0.2\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pin it exactly"), "{e}");
        let e = parse_pinned("js-sys = \"0.3\"\nwasm-bindgen-futures = \"0.4\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `wasm-bindgen"), "{e}");
    }
}
