//! Small helpers: running commands with an echo and a timer, finding tools,
//! formatting durations and sizes. Plain std, no dependencies.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An error that already says what happened and what to do.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T = ()> = std::result::Result<T, Error>;

pub fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

/// The repository root: the parent of the xtask crate.
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// `cmd` as a shell-like line for the log.
pub fn describe(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), quote(v)));
        }
    }
    s.push_str(&quote(cmd.get_program()));
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Run `cmd` with inherited stdio from the repository root, echoing it first
/// and its wall time after. Fails with the command line and exit status.
pub fn run(cmd: Command) -> Result<Duration> {
    run_limited(cmd, None)
}

/// `run`, but kill the command and everything it started when it takes longer
/// than `limit` (a hung test must not eat the CI budget).
pub fn run_limited(mut cmd: Command, limit: Option<Duration>) -> Result<Duration> {
    let line = describe(&cmd);
    println!("  $ {line}");
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(repo_root());
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        Error(format!(
            "could not start `{line}`: {e} (is `{}` installed and on PATH?)",
            cmd.get_program().to_string_lossy()
        ))
    })?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return err(format!("waiting for `{line}` failed: {e}")),
        }
        if let Some(limit) = limit {
            if start.elapsed() > limit {
                kill_tree(child.id());
                let _ = child.wait();
                return err(format!(
                    "`{line}` did not finish within {} and was stopped (a hang? its output above shows where it stood)",
                    secs(limit)
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = start.elapsed();
    if status.success() {
        println!("    ({})", secs(took));
        Ok(took)
    } else {
        err(format!("`{line}` failed ({status}) after {}", secs(took)))
    }
}

/// Parent pid of every process, from /proc.
fn parents() -> Vec<(u32, u32)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// Stop `pid` and all its descendants: SIGTERM, then SIGKILL after 3 s.
pub fn kill_tree(pid: u32) {
    let table = parents();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(table.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    let signal = |sig: &str, pids: &[u32]| {
        let mut c = Command::new("kill");
        c.arg(sig)
            .args(pids.iter().map(|p| p.to_string()))
            .stderr(Stdio::null());
        let _ = c.status();
    };
    signal("-TERM", &tree);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline
        && tree
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let alive: Vec<u32> = tree
        .into_iter()
        .filter(|p| Path::new(&format!("/proc/{p}")).exists())
        .collect();
    if !alive.is_empty() {
        signal("-KILL", &alive);
    }
}

/// Run `cmd` quietly and return its trimmed stdout, or None if it could not
/// start or failed.
pub fn output(mut cmd: Command) -> Option<String> {
    cmd.current_dir(repo_root())
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn cmd(program: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// Find an executable on PATH, then in cargo's bin directory (where
/// `cargo install` puts things, which is not always on PATH in CI).
pub fn which(name: &str) -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if is_executable(&p) {
                return Some(p);
            }
        }
    }
    let p = cargo_home().join("bin").join(name);
    is_executable(&p).then_some(p)
}

pub fn cargo_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(h);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cargo")
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The cargo that runs us (so `cargo xtask` under rustup uses the same toolchain).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{}m{:04.1}s", (s / 60.0) as u64, s % 60.0)
    } else {
        format!("{s:.1}s")
    }
}

pub fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// A section heading in the log.
pub fn heading(title: &str) {
    println!("\n==> {title}");
}

pub fn timed<T>(title: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    heading(title);
    let start = Instant::now();
    let r = f();
    match &r {
        Ok(_) => println!("<== {title}: done in {}", secs(start.elapsed())),
        Err(e) => println!("<== {title}: FAILED after {}: {e}", secs(start.elapsed())),
    }
    r
}
