//! Issue 15, item 2: a report directory is all or nothing under SIGINT,
//! SIGTERM and SIGKILL. A real `shardcast run` is stopped at each phase of
//! its write (the `SHARDCAST_PAUSE_AT` test seam holds it there), and the
//! directory must be wholly the old report or wholly the new one, with the
//! user's own file kept, and no temporary file left once the next run is
//! done (at once for SIGINT and SIGTERM).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::shardcast;

const SCENARIO: &str = r#"
name = "interrupted"
duration = "20s"
seed = 1

[stream]
shards = 2

[[producers]]
name = "web"
rate = "200/s"
size = "200B"
keys = { kind = "uniform", count = 50 }

[[consumers]]
name = "reader"
"#;

/// Every file under `dir` with its bytes (relative names), or `None` if
/// `dir` is missing.
fn contents(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{name}/"), out);
            } else {
                out.insert(name, std::fs::read(e.path()).unwrap());
            }
        }
    }
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    Some(out)
}

/// Names under `dir` (recursively) that are temporaries of a write.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".shardcast-") || name.ends_with(".tmp") || name.ends_with(".old") {
                found.push(e.path().display().to_string());
            }
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            }
        }
    }
    found
}

fn run_into(file: &Path, out: &Path, seed: &str, env: &[(&str, &str)]) {
    let mut cmd = shardcast();
    cmd.args(["run", "--seed", seed, "--out"])
        .arg(out)
        .arg(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.assert().success();
}

/// Starts `args`, waits until it says it paused at `phase`, and returns it.
fn paused(args: &[&std::ffi::OsStr], phase: &str, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("shardcast"));
    cmd.args(args)
        .env("RUST_BACKTRACE", "0")
        .env("SHARDCAST_PAUSE_AT", phase)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let want = format!("shardcast: paused at {phase}");
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line == want => return child,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("{args:?} never paused at {phase}: {e}");
            }
        }
    }
}

fn signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, signal).unwrap();
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sig {
    Int,
    Term,
    Kill,
}

impl Sig {
    fn send(self, child: &Child) {
        use rustix::process::Signal;
        signal(
            child,
            match self {
                Sig::Int => Signal::INT,
                Sig::Term => Signal::TERM,
                Sig::Kill => Signal::KILL,
            },
        );
    }

    fn number(self) -> i32 {
        match self {
            Sig::Int => 2,
            Sig::Term => 15,
            Sig::Kill => 9,
        }
    }
}

/// The old report (seed 1), the new one (seed 2), each with the user's
/// notes.md, made once in `base`.
struct Reports {
    file: PathBuf,
    old: BTreeMap<String, Vec<u8>>,
    new: BTreeMap<String, Vec<u8>>,
}

fn reports(base: &Path) -> Reports {
    let file = base.join("interrupted.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let made = |seed: &str| {
        let dir = base.join(format!("seed-{seed}"));
        run_into(&file, &dir, seed, &[]);
        std::fs::write(dir.join("notes.md"), "the user's").unwrap();
        contents(&dir).unwrap()
    };
    let old = made("1");
    let new = made("2");
    assert_ne!(old, new, "the seeds give different reports");
    Reports { file, old, new }
}

/// A fresh report directory holding the old report and the user's file.
fn old_report(r: &Reports, base: &Path, case: &str) -> PathBuf {
    let dir = base.join(case).join("report");
    run_into(&r.file, &dir, "1", &[]);
    std::fs::write(dir.join("notes.md"), "the user's").unwrap();
    assert_eq!(contents(&dir).as_ref(), Some(&r.old));
    dir
}

fn which(r: &Reports, seen: &Option<BTreeMap<String, Vec<u8>>>) -> &'static str {
    match seen {
        Some(c) if *c == r.old => "old",
        Some(c) if *c == r.new => "new",
        Some(_) => "mixed",
        None => "missing",
    }
}

#[test]
fn r15_a_report_is_all_or_nothing_when_a_run_is_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let r = reports(base);
    // (phase, what a reader sees there, with the exchange or without it)
    let phases = [
        ("staged", "old", false),
        ("writing", "old", false),
        ("written", "old", false),
        ("swapped", "new", false),
        ("staged", "old", true),
        ("written", "old", true),
        // Between the two renames of the fallback the directory is
        // absent: never a mix.
        ("aside", "missing", true),
        ("swapped", "new", true),
    ];
    for (phase, seen_there, fallback) in phases {
        for sig in [Sig::Int, Sig::Term, Sig::Kill] {
            let case = format!("{phase}-{sig:?}-{fallback}");
            let dir = old_report(&r, base, &case);
            let env: &[(&str, &str)] = if fallback {
                &[("SHARDCAST_NO_EXCHANGE", "1")]
            } else {
                &[]
            };
            let args = [
                "run".as_ref(),
                "--seed".as_ref(),
                "2".as_ref(),
                "--out".as_ref(),
                dir.as_os_str(),
                r.file.as_os_str(),
            ];
            let mut child = paused(&args, phase, env);
            assert_eq!(
                which(&r, &contents(&dir)),
                seen_there,
                "{case}: while paused"
            );
            sig.send(&child);
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(sig.number()), "{case}: {status:?}");
            let after = which(&r, &contents(&dir));
            let parent = dir.parent().unwrap();
            if sig == Sig::Kill {
                // SIGKILL cannot be caught: the next write cleans up, and a
                // directory left aside is put back before anything else.
                if seen_there == "missing" {
                    assert_eq!(after, "missing", "{case}");
                    let mut next = paused(&args, "staged", &[]);
                    assert_eq!(which(&r, &contents(&dir)), "old", "{case}: put back");
                    Sig::Term.send(&next);
                    next.wait().unwrap();
                    assert_eq!(which(&r, &contents(&dir)), "old", "{case}: put back");
                } else {
                    assert_eq!(after, seen_there, "{case}: after SIGKILL");
                }
            } else {
                // A caught signal leaves no temporary, and the report is
                // the one a reader saw (the old one put back if it was
                // aside).
                let want = if seen_there == "missing" {
                    "old"
                } else {
                    seen_there
                };
                assert_eq!(after, want, "{case}: after the signal");
                assert_eq!(temporaries(parent), Vec::<String>::new(), "{case}");
            }
            run_into(&r.file, &dir, "2", &[]);
            assert_eq!(which(&r, &contents(&dir)), "new", "{case}: the next run");
            assert_eq!(
                temporaries(parent),
                Vec::<String>::new(),
                "{case}: after the next run"
            );
        }
    }
}

/// `trace hash` stopped while it writes: no `.OUT.PID.tmp` after SIGINT
/// or SIGTERM; after SIGKILL, none once the next `trace hash` is done.
#[test]
fn r15_trace_hash_leaves_no_temporary_file() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    std::fs::write(
        &trace,
        "timestamp,partition_key\n2025-03-01T09:00:00Z,a\n2025-03-01T09:00:01Z,b\n",
    )
    .unwrap();
    let out = tmp.path().join("hashed.csv");
    for sig in [Sig::Int, Sig::Term, Sig::Kill] {
        let args = [
            "trace".as_ref(),
            "hash".as_ref(),
            trace.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        let mut child = paused(&args, "staged-file", &[]);
        sig.send(&child);
        child.wait().unwrap();
        let left = temporaries(tmp.path());
        if sig == Sig::Kill {
            assert_eq!(left.len(), 1, "{left:?}");
            shardcast()
                .args(["trace", "hash"])
                .arg(&trace)
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
        }
        assert_eq!(temporaries(tmp.path()), Vec::<String>::new(), "{sig:?}");
    }
    assert!(out.exists());
}

/// The directory swapped is the report's own: the current directory (or
/// one holding it) is refused, in one line.
#[test]
fn r15_the_current_directory_is_not_a_report_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let out = shardcast()
        .current_dir(tmp.path())
        .args(["run", "s.toml", "--no-report", "--out", "."])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is the current directory or holds it"),
        "{stderr}"
    );
    assert!(tmp.path().join("s.toml").exists());
}
