//! The build orchestrator: `cargo xtask <setup|build|test|demo|bench>`.
//!
//! Plain std Rust. Every step prints the commands it runs and how long they
//! took; `test` ends with a table of its steps.

mod build;
mod setup;
mod util;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};
use util::{cmd, err, repo_root, run, run_limited, secs, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup                 install what is missing: the wasm32 target, wasm-bindgen-cli
                        (the crate's exact version), npm packages, Debian's Chromium
  build [--threads] [--template]
                        build the wasm package (bridge-js/pkg) and the minified
                        bundles (bridge-js/dist); print their sizes raw and brotli;
                        --threads also builds the wasm-threads flavour (nightly,
                        installed if missing) into demo/.build/mandelbrot;
                        --template the Rust worker template (demo/rust-template)
                        into demo/.build/rust-template
  test [options]        setup, build, then every test tier (see docs/testing.md)
      --keep-going      run every step even after a failure
      --only a,b        run only these steps (names as in the summary table;
                        setup and build still run unless --no-setup)
      --no-setup        skip setup and build (when you know they are done)
  demo [--headless] [--port N]
                        setup, build (with --threads), serve demo/ with COOP/COEP and
                        print its URL; --headless runs it once in headless Chromium
                        and prints its log
  bench [args...]       setup, build, then node benches/browser/run.mjs [args...] and
                        the Rust bench binaries of bridge-benches
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let start = Instant::now();
    let result = match command.as_str() {
        "setup" => setup::setup(),
        "build" => build::build_command(rest),
        "test" => test(rest),
        "demo" => demo(rest),
        "bench" => bench(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprint!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!("\nxtask {command}: ok ({})", secs(start.elapsed()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nxtask {command}: FAILED ({}): {e}", secs(start.elapsed()));
            ExitCode::FAILURE
        }
    }
}

fn exists(rel: &str) -> bool {
    repo_root().join(rel).exists()
}

/// The `*.test.js` / `*.test.mjs` files directly in a directory, sorted, as
/// paths relative to the repository root.
fn test_files(rel: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join(rel))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.ends_with(".test.js") || n.ends_with(".test.mjs"))
                .map(|n| format!("{rel}/{n}"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

enum Outcome {
    Passed(Duration),
    Failed(Duration, String),
    NotRun,
}

struct Step {
    name: &'static str,
    run: Box<dyn Fn() -> Result>,
}

fn step(name: &'static str, run: impl Fn() -> Result + 'static) -> Step {
    Step {
        name,
        run: Box::new(run),
    }
}

/// Every tier is mandatory: a missing test file fails its step (it used to be
/// skipped while the project was being built up).
fn require(rel: &str) -> Result {
    if exists(rel) {
        Ok(())
    } else {
        err(format!("{rel} is missing: this test tier is mandatory (was it moved? update xtask/src/main.rs)"))
    }
}

const MIN: u64 = 60;
/// Time limits of the test tiers: generous on 2 busy cores, but a hang stops
/// well inside CI's 90 minutes.
fn limit(minutes: u64) -> Option<Duration> {
    Some(Duration::from_secs(minutes * MIN))
}

fn test_steps() -> Vec<Step> {
    vec![
        step("setup", setup::setup),
        step("build", build::build),
        step("cargo", || {
            let mut c = util::cargo();
            c.args(["test", "--workspace"]);
            run_limited(c, limit(25))?;
            // The API docs build without a warning (a broken intra-doc link fails).
            let mut d = util::cargo();
            d.args(["doc", "--no-deps", "--workspace"])
                .env("RUSTDOCFLAGS", "-D warnings");
            run_limited(d, limit(10)).map(drop)
        }),
        step("loom", || {
            require("crates/bridge-core/tests/loom.rs")?;
            let mut c = util::cargo();
            c.args(["test", "-p", "bridge-core", "--test", "loom", "--release"])
                .env("RUSTFLAGS", "--cfg loom")
                .env("CARGO_TARGET_DIR", repo_root().join("target/loom"));
            run_limited(c, limit(20)).map(drop)
        }),
        step("stress", || {
            require("crates/bridge-core/tests/stress.rs")?;
            let mut c = util::cargo();
            c.args(["test", "-p", "bridge-core", "--release", "--test", "stress"]);
            run_limited(c, limit(15)).map(drop)
        }),
        step("node", || {
            // The *.test.js files only: given the directory, Node 20 would
            // also run every fixture and helper under test/ as a test file.
            let files = test_files("bridge-js/test");
            if files.is_empty() {
                return err(
                    "bridge-js/test/ holds no *.test.js files: this test tier is mandatory",
                );
            }
            let mut c = cmd("node", &["--test", "--expose-gc"]);
            c.args(&files);
            run_limited(c, limit(10)).map(drop)
        }),
        step("e2e", || {
            require("bridge-js/src/main.js")?;
            require("bridge-js/src/worker.js")?;
            run_limited(cmd("node", &["--test", "tests/e2e/"]), limit(30)).map(drop)
        }),
        step("e2e-sw", || {
            // The shared specs once more on the service-worker transport
            // (page served without COOP/COEP; see tests/e2e/harness.mjs).
            let mut c = cmd(
                "node",
                &[
                    "--test",
                    "tests/e2e/events.test.mjs",
                    "tests/e2e/values.test.mjs",
                    "tests/e2e/proxy.test.mjs",
                    "tests/e2e/transports.test.mjs",
                    "tests/e2e/load.test.mjs",
                    "tests/e2e/demo.test.mjs",
                    "tests/e2e/python.test.mjs",
                    "tests/e2e/deadlock.test.mjs",
                    "tests/e2e/transfer.test.mjs",
                    "tests/e2e/refs.test.mjs",
                    "tests/e2e/pyscript.test.mjs",
                    "tests/e2e/pyscript-js-modules.test.mjs",
                    "tests/e2e/coincident.test.mjs",
                    "tests/e2e/rust.test.mjs",
                    "tests/e2e/rust/refs.test.mjs",
                ],
            );
            c.env("WB_E2E_TRANSPORT", "service-worker");
            run_limited(c, limit(15)).map(drop)
        }),
        step("e2e-threads", || {
            // The wasm-threads flavour (nightly; docs/rust.md): build it, then
            // its Chromium spec (not under the `e2e` step: it needs this build).
            build::threads()?;
            run_limited(
                cmd("node", &["--test", "tests/e2e/rust/threads.e2e.mjs"]),
                limit(10),
            )
            .map(drop)
        }),
        step("bundlers", || {
            // The package as users build it (tests/bundlers): the TypeScript
            // examples against bridge-js/types with `tsc --strict`, then Vite
            // and webpack production builds of one app, run in Chromium.
            require("tests/types/tsconfig.json")?;
            require("tests/bundlers/bundlers.test.mjs")?;
            run_limited(
                cmd(
                    "node",
                    &[
                        "node_modules/typescript/bin/tsc",
                        "--noEmit",
                        "--strict",
                        "-p",
                        "tests/types/tsconfig.json",
                    ],
                ),
                limit(3),
            )?;
            run_limited(
                cmd("node", &["--test", "tests/bundlers/bundlers.test.mjs"]),
                limit(10),
            )
            .map(drop)
        }),
        step("e2e-template", || {
            // The Rust worker template, built as an outside project builds
            // it (docs/rust.md, "Your first hour"), then run headless.
            build::template()?;
            run_limited(
                cmd("node", &["--test", "tests/e2e/rust/template.e2e.mjs"]),
                limit(5),
            )
            .map(drop)
        }),
        step("bench-smoke", || {
            require("benches/browser/run.mjs")?;
            run_limited(
                cmd("node", &["benches/browser/run.mjs", "--smoke"]),
                limit(10),
            )
            .map(drop)
        }),
    ]
}

fn test(args: &[String]) -> Result {
    let mut keep_going = false;
    let mut no_setup = false;
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--keep-going" => keep_going = true,
            "--no-setup" => no_setup = true,
            "--only" => {
                let Some(list) = it.next() else {
                    return err("--only needs a list, e.g. --only cargo,e2e");
                };
                only = Some(list.split(',').map(|s| s.trim().to_string()).collect());
            }
            other => return err(format!("unknown option `{other}` for test\n\n{USAGE}")),
        }
    }
    let steps = test_steps();
    if let Some(only) = &only {
        for name in only {
            if !steps.iter().any(|s| s.name == name) {
                let names: Vec<_> = steps.iter().map(|s| s.name).collect();
                return err(format!(
                    "--only: no step `{name}`; steps are {}",
                    names.join(", ")
                ));
            }
        }
    }
    let selected = |s: &Step| match (&only, s.name) {
        (_, "setup" | "build") => !no_setup,
        (Some(only), name) => only.iter().any(|o| o == name),
        (None, _) => true,
    };

    let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
    let mut failed = false;
    let start = Instant::now();
    for s in &steps {
        if !selected(s) {
            continue;
        }
        if failed && !keep_going {
            outcomes.push((s.name, Outcome::NotRun));
            continue;
        }
        util::heading(&format!("test: {}", s.name));
        let t = Instant::now();
        match (s.run)() {
            Ok(()) => {
                println!("<== test: {}: passed in {}", s.name, secs(t.elapsed()));
                outcomes.push((s.name, Outcome::Passed(t.elapsed())));
            }
            Err(e) => {
                println!("<== test: {}: FAILED after {}", s.name, secs(t.elapsed()));
                outcomes.push((s.name, Outcome::Failed(t.elapsed(), e.to_string())));
                failed = true;
                // Setup or build failing makes everything after it meaningless.
                if matches!(s.name, "setup" | "build") {
                    keep_going = false;
                }
            }
        }
    }

    println!("\n==> summary (wall time {})", secs(start.elapsed()));
    println!("  {:<12} {:<8} {:>9}  detail", "step", "result", "time");
    for (name, o) in &outcomes {
        let (result, time, detail) = match o {
            Outcome::Passed(d) => ("passed", secs(*d), String::new()),
            Outcome::Failed(d, e) => ("FAILED", secs(*d), e.clone()),
            Outcome::NotRun => (
                "not run",
                String::new(),
                "an earlier step failed (--keep-going runs it anyway)".into(),
            ),
        };
        println!("  {name:<12} {result:<8} {time:>9}  {detail}");
    }
    let failures: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(..)))
        .map(|(n, _)| *n)
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        err(format!(
            "failed step(s): {} (scroll up to the step's log for the details)",
            failures.join(", ")
        ))
    }
}

fn demo(args: &[String]) -> Result {
    let mut headless = false;
    let mut port = "8000".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--headless" => headless = true,
            "--port" => {
                port = it
                    .next()
                    .cloned()
                    .ok_or_else(|| util::Error("--port needs a number".into()))?
            }
            other => return err(format!("unknown option `{other}` for demo\n\n{USAGE}")),
        }
    }
    setup::setup()?;
    build::build()?;
    build::threads()?; // demo/mandelbrot/, the Rust threads demo
    if headless {
        return util::timed("demo: headless Chromium run", || {
            run_limited(
                cmd("node", &["demo/headless.mjs"]),
                Some(Duration::from_secs(3 * MIN)),
            )
            .map(drop)
        });
    }
    util::heading("demo: serving the repository with COOP/COEP (Ctrl-C stops)");
    println!("  open http://127.0.0.1:{port}/demo/ in a browser");
    // The server prints its own line with the address; it runs until Ctrl-C.
    let mut c = Command::new("node");
    c.args(["tests/server.mjs", "--port", &port]);
    run(c).map(drop)
}

fn bench(args: &[String]) -> Result {
    setup::setup()?;
    build::build()?;
    if exists("benches/browser/run.mjs") {
        util::timed("bench: browser (node benches/browser/run.mjs)", || {
            let mut c = cmd("node", &["benches/browser/run.mjs"]);
            c.args(args);
            run(c).map(drop)
        })?;
    } else {
        println!("\n  skipped: benches/browser/run.mjs not present yet");
    }
    // Rust bench binaries: benches/src/bin/*.rs (plain programs that print tables).
    let bin_dir = repo_root().join("benches/src/bin");
    let mut bins: Vec<String> = std::fs::read_dir(&bin_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == "rs") {
                        p.file_stem().map(|s| s.to_string_lossy().into_owned())
                    } else if p.join("main.rs").exists() {
                        p.file_name().map(|s| s.to_string_lossy().into_owned())
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    bins.sort();
    if bins.is_empty() {
        println!("  skipped: no Rust bench binaries in benches/src/bin yet");
    }
    for b in bins {
        util::timed(&format!("bench: {b} (bridge-benches)"), || {
            let mut c = util::cargo();
            c.args(["run", "--release", "-p", "bridge-benches", "--bin", &b]);
            run(c).map(drop)
        })?;
    }
    Ok(())
}
