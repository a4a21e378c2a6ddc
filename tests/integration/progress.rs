//! Issue 16, item 2: progress on stderr for every long command, only on a
//! terminal; `--quiet`; the estimate before a long run; outputs the same
//! with and without a bar.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use predicates::prelude::*;

use crate::util::{scenario, shardcast};
use shardcast::model::{Progress, RunOptions, simulate, simulate_observed};

const SMALL: &str = r#"
name = "small"
duration = "90s"
[stream]
shards = 2
[[producers]]
name = "p"
rate = "1500/s"
size = "200B"
keys = { kind = "random" }
"#;

/// Counts what a run reports.
#[derive(Default)]
struct Count {
    calls: AtomicU64,
    ns: AtomicU64,
}

impl Progress for Count {
    fn advanced(&self, ns: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.ns.fetch_add(ns, Ordering::Relaxed);
    }
}

fn report_bytes(toml: &str, observe: bool) -> (Vec<(String, Vec<u8>)>, u64) {
    let s = scenario(toml);
    let count = Count::default();
    let out = if observe {
        simulate_observed(&s, RunOptions { per_second: true }, &count).unwrap()
    } else {
        simulate(&s, RunOptions { per_second: true }).unwrap()
    };
    let events = out.events;
    let report = shardcast::report::build(&s, &out, "md5").unwrap();
    if observe {
        // Every simulated nanosecond is reported, in pieces no finer than
        // a millisecond and no coarser than a second.
        assert_eq!(count.ns.load(Ordering::Relaxed), s.duration);
        let calls = count.calls.load(Ordering::Relaxed);
        assert!(calls >= s.duration / 1_000_000_000, "{calls} calls");
        assert!(calls <= 1000, "{calls} calls");
    }
    (report.files, events)
}

#[test]
fn r16_watching_a_run_changes_nothing_on_either_engine() {
    for engine in ["record", "shard"] {
        let toml = SMALL.replace("[stream]", &format!("engine = \"{engine}\"\n[stream]"));
        let (plain, plain_events) = report_bytes(&toml, false);
        let (watched, watched_events) = report_bytes(&toml, true);
        assert_eq!(plain_events, watched_events, "{engine}");
        assert_eq!(plain.len(), watched.len());
        for ((name, a), (_, b)) in plain.iter().zip(&watched) {
            assert!(a == b, "{engine}: {name} differs when watched");
        }
    }
}

fn write_small(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    file
}

/// Off a terminal (assert_cmd pipes stderr) no command draws anything, with
/// or without `--quiet`, and stdout is the same.
#[test]
fn r16_no_progress_bytes_off_a_terminal_or_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_small(dir.path());
    let out = dir.path().join("out");
    let commands: Vec<Vec<String>> = vec![
        vec!["run".into(), "--no-report".into()],
        vec![
            "plan".into(),
            "-r".into(),
            "2".into(),
            "--max-shards".into(),
            "4".into(),
            "--no-report".into(),
        ],
        vec!["compare".into()],
        vec!["check".into()],
        vec![
            "sweep".into(),
            "--set".into(),
            "stream.shards=1,2".into(),
            "--no-report".into(),
        ],
    ];
    for args in commands {
        let mut stdouts = Vec::new();
        for quiet in [false, true] {
            let mut cmd = shardcast();
            cmd.args(&args).arg(&file);
            if args[0] != "check" {
                cmd.arg("--out").arg(&out);
            }
            if quiet {
                cmd.arg("--quiet");
            }
            let o = cmd.output().unwrap();
            assert!(o.status.success(), "{args:?}: {o:?}");
            assert!(
                o.stderr.is_empty(),
                "{args:?} quiet={quiet}: {:?}",
                String::from_utf8_lossy(&o.stderr)
            );
            stdouts.push(o.stdout);
        }
        assert_eq!(
            stdouts[0], stdouts[1],
            "{args:?}: stdout depends on --quiet"
        );
    }
}

/// On a terminal (a pty from `script`) `run` draws its bar on stderr, and
/// its report files are byte-identical to a run off a terminal.
#[test]
fn r16_a_terminal_gets_a_bar_and_the_same_report() {
    let script = Path::new("/usr/bin/script");
    if !script.exists() {
        eprintln!("skipped: no /usr/bin/script to make a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write_small(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("shardcast");
    let (tty_dir, pipe_dir) = (dir.path().join("tty"), dir.path().join("pipe"));
    let run = |out: &Path, quiet: bool| {
        format!(
            "{} run {} --no-report --out {}{}",
            bin.display(),
            file.display(),
            out.display(),
            if quiet { " --quiet" } else { "" }
        )
    };
    let on_tty = |cmd: String| {
        let o = std::process::Command::new(script)
            .args(["-qec", &cmd, "/dev/null"])
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let seen = on_tty(run(&tty_dir, false));
    assert!(seen.contains("% simulated"), "no bar drawn: {seen:?}");
    let quiet = on_tty(run(&dir.path().join("quiet"), true));
    assert!(
        !quiet.contains("% simulated"),
        "--quiet drew a bar: {quiet:?}"
    );
    shardcast()
        .arg("run")
        .arg(&file)
        .args(["--no-report", "--out"])
        .arg(&pipe_dir)
        .assert()
        .success();
    for name in ["summary.csv", "timeseries.csv", "shards.csv", "keys.csv"] {
        let a = std::fs::read(tty_dir.join(name)).unwrap();
        let b = std::fs::read(pipe_dir.join(name)).unwrap();
        assert!(a == b, "{name} differs on a terminal");
    }
}

/// `validate` says what `run` would note before a run of minutes.
#[test]
fn r16_validate_estimates_a_long_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    std::fs::write(
        &file,
        "name = \"big\"\nduration = \"24h\"\nengine = \"record\"\n[stream]\nshards = 40\n\
         [[producers]]\nname = \"p\"\nrate = \"20000/s\"\nsize = \"100B\"\nkeys = { kind = \"random\" }\n",
    )
    .unwrap();
    shardcast()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "note: a run simulates 1.73 billion records on the record engine; expect about ",
        ));
    let small = write_small(dir.path());
    shardcast()
        .arg("validate")
        .arg(&small)
        .assert()
        .success()
        .stdout(predicates::str::contains("expect about").not());
}
