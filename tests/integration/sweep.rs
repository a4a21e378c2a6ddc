//! `shardcast sweep` and `merge`: a grid run in parallel gives the same
//! bytes at any thread count and as partitions merged; a one-point grid is
//! `run`; bad grids are clear errors.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::shardcast;
use predicates::prelude::*;

const SCENARIO: &str = r#"
name = "grid"
duration = "20s"
seed = 5

[stream]
shards = 2

[[producers]]
name = "web"
rate = "2500/s"
size = "100B"
keys = { kind = "zipf", count = 200, exponent = 1.0 }

[slo]
max_throttle_rate = 0.01

[sweep]
set = ["stream.shards=1..4", "producers.web.keys.exponent=0.8,1.2"]
replications = 2
"#;

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("grid.toml");
    fs::write(&file, SCENARIO).unwrap();
    (dir, file)
}

/// The sweep's files (report.html aside: a merge's page cannot show the
/// scenario file, and charts.rs checks the pages).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "report.html")
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) {
    shardcast()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn threads_and_partitions_give_the_same_bytes() {
    let (dir, file) = setup();
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    sweep(&file, &one, &["--threads", "1"]);
    sweep(&file, &two, &["--threads", "2"]);
    let whole = files(&one);
    assert_eq!(whole.len(), 3, "{:?}", whole.keys());
    assert_eq!(whole, files(&two), "thread count changed the output");
    // 8 points x 2 replications, the last axis fastest.
    let csv = String::from_utf8(whole["sweep.csv"].clone()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 17);
    assert!(lines[0].starts_with(
        "point,replication,seed,engine,stream.shards,producers.web.keys.exponent,throttle_rate"
    ));
    assert!(lines[1].starts_with("0,0,5,record,1,0.8,"), "{}", lines[1]);
    assert!(lines[3].starts_with("1,0,5,record,1,1.2,"), "{}", lines[3]);
    // Common random numbers: replication 1 has the same seed at every point.
    let seed_of = |l: &str| l.split(',').nth(2).unwrap().to_owned();
    assert_eq!(seed_of(lines[2]), seed_of(lines[16]));
    let summary = String::from_utf8(whole["sweep-summary.csv"].clone()).unwrap();
    assert_eq!(summary.lines().count(), 9);
    // More shards, less throttling (means over replications).
    let means: Vec<f64> = summary
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some("0.8"))
        .map(|l| l.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    assert_eq!(means.len(), 4);
    assert!(means.windows(2).all(|w| w[1] <= w[0]), "{means:?}");

    // Three partitions, merged in any order: the same files.
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let p = dir.path().join(format!("part{i}"));
            sweep(&file, &p, &["--partition", &format!("{i}/3")]);
            p
        })
        .collect();
    let merged = dir.path().join("merged");
    shardcast()
        .arg("merge")
        .args([&parts[2], &parts[0], &parts[1]])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(
        files(&merged),
        whole,
        "merged partitions differ from one sweep"
    );

    // A missing or repeated part is refused, and nothing is written.
    let bad = dir.path().join("bad");
    shardcast()
        .arg("merge")
        .args([&parts[0], &parts[1]])
        .arg("--out")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("partition 3/3 missing"));
    shardcast()
        .arg("merge")
        .args([&parts[0], &parts[1], &parts[1]])
        .arg("--out")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("are both partition 2/3"));
    assert!(!bad.exists());
}

/// The manifest's digest covers the files the scenario reads: parts run on
/// another trace are refused by `merge`, and a file only a point reads (an
/// axis over `trace.file`) counts too.
#[test]
fn merge_refuses_parts_run_on_another_trace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("replay.toml");
    fs::write(
        &file,
        "name = \"replay\"\nduration = \"10s\"\n[stream]\nshards = 2\n[[producers]]\n\
         name = \"t\"\ntrace = { file = \"a.csv\" }\nsize = \"100B\"\n\
         [sweep]\nset = [\"stream.shards=1,2\"]\n",
    )
    .unwrap();
    let trace = "timestamp,key\n0,a\n1,b\n2,c\n";
    fs::write(d.join("a.csv"), trace).unwrap();
    let md5 = |part: &Path| {
        let m = fs::read_to_string(part.join("sweep-manifest.toml")).unwrap();
        let line = m.lines().find(|l| l.starts_with("scenario_md5")).unwrap();
        line.to_owned()
    };
    let merge = |parts: &[&Path], out: &Path| {
        let mut cmd = shardcast();
        cmd.arg("merge").args(parts).arg("--out").arg(out);
        cmd.assert()
    };
    let part = |name: &str, i: u32, extra: &[&str]| {
        let p = d.join(name);
        let mut args = vec!["--partition".to_owned(), format!("{i}/2")];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sweep(&file, &p, &args);
        p
    };
    let one = part("one", 1, &[]);
    let two = part("two", 2, &[]);
    merge(&[&one, &two], &d.join("merged")).success();
    // The same scenario text, another trace: refused, naming both parts.
    fs::write(d.join("a.csv"), trace.replace("2,c", "2,d")).unwrap();
    let changed = part("changed", 2, &[]);
    assert_ne!(md5(&two), md5(&changed));
    let bad = d.join("bad");
    merge(&[&one, &changed], &bad).code(2).stderr(
        predicate::str::contains("ran on other inputs")
            .and(predicate::str::contains("a file it reads (a trace")),
    );
    assert!(!bad.exists());
    // A trace only a point reads, through an axis over the file.
    fs::write(d.join("b.csv"), trace).unwrap();
    let axis = ["--set", "producers.t.trace.file=a.csv,b.csv"];
    let before = part("before", 1, &axis);
    fs::write(d.join("b.csv"), trace.replace("1,b", "1,e")).unwrap();
    let after = part("after", 1, &axis);
    assert_ne!(
        md5(&before),
        md5(&after),
        "a point's own trace is not covered"
    );
}

/// A grid of one point is `run`: the same seed, the same numbers.
#[test]
fn a_one_point_grid_equals_run() {
    let (dir, file) = setup();
    let out = dir.path().join("sweep");
    sweep(
        &file,
        &out,
        &[
            "--set",
            "stream.shards=3",
            "--set",
            "producers.web.keys.exponent=1.2",
            "-r",
            "1",
        ],
    );
    let run_dir = dir.path().join("run");
    let single = SCENARIO
        .replace("shards = 2", "shards = 3")
        .replace("exponent = 1.0", "exponent = 1.2");
    let single_file = dir.path().join("single.toml");
    fs::write(&single_file, single).unwrap();
    shardcast()
        .arg("run")
        .arg(&single_file)
        .arg("--out")
        .arg(&run_dir)
        .assert()
        .success();
    let mut summary = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let h = summary.headers().unwrap().clone();
    let s = summary.records().next().unwrap().unwrap();
    let get = |name: &str| s[h.iter().position(|x| x == name).unwrap()].to_owned();
    let mut rows = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let rh = rows.headers().unwrap().clone();
    let all: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(all.len(), 1);
    let r = &all[0];
    let col = |name: &str| r[rh.iter().position(|x| x == name).unwrap()].to_owned();
    assert_eq!(col("seed"), get("seed"));
    assert_eq!(col("throttle_rate"), get("throttle_rate"));
    assert_eq!(col("records_failed"), get("records_failed"));
    let ms = |t: String| t.parse::<f64>().unwrap();
    assert!((ms(col("latency_p99_ms")) - ms(get("latency_p99_ms"))).abs() < 1e-3);
    assert_eq!(col("monthly_cost_usd"), get("monthly_cost_usd"));
    assert_eq!(col("slo_pass") == "1", get("slo") == "pass");
}

#[test]
fn bad_grids_are_clear_errors() {
    let (dir, file) = setup();
    let out = dir.path().join("out");
    let fails = |args: &[&str], needles: &[&str]| {
        let o = shardcast()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in {err}");
        }
        assert!(!out.exists(), "{args:?} wrote something");
    };
    fails(
        &["--set", "producers.api.rate=1/s"],
        &[
            "--set producers.api.rate=1/s",
            "no producers entry named \"api\"",
            "web",
        ],
    );
    fails(
        &["--set", "stream.shards=9..3"],
        &["stream.shards=9..3", "is empty"],
    );
    fails(&["--set", "stream.shards"], &["expected PATH=VALUES"]);
    // A value the scenario rejects names the point and the field's range.
    fails(
        &["--set", "stream.shards=0..1"],
        &[
            "point 0 (stream.shards=0",
            "stream.shards",
            "accepted range is 1 to",
        ],
    );
    fails(&["--set", "stream.shardz=2"], &["unknown field", "shardz"]);
    fails(&["--partition", "4/3"], &["--partition 4/3", "1 <= I <= N"]);
    // A grid whose size overflows is refused, not wrapped to a small one.
    fails(
        &[
            "--set",
            "a=1..524288",
            "--set",
            "b=1..524288",
            "--set",
            "c=1..524288",
            "--set",
            "d=1..128",
        ],
        &["over 1000000 runs"],
    );
    fails(&["--threads", "0"], &["--threads 0"]);
    // A broken [sweep] in the file is a scenario error with its line.
    fs::write(&file, SCENARIO.replace("1..4", "4..1")).unwrap();
    fails(&[], &["grid.toml line", "sweep.set[0]", "is empty"]);
}

/// Issue 15: a part whose manifest was cut short (a copy that stopped) gave
/// toml's multi-line diagnostic; it is now one line naming the file, the
/// line and what is wrong.
#[test]
fn r15_merge_of_a_truncated_manifest_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("small.toml");
    fs::write(
        &file,
        SCENARIO
            .replace("duration = \"20s\"", "duration = \"2s\"")
            .replace("stream.shards=1..4", "stream.shards=1,2")
            .replace("replications = 2", "replications = 1"),
    )
    .unwrap();
    let one = d.join("one");
    let two = d.join("two");
    sweep(&file, &one, &["--partition", "1/2"]);
    sweep(&file, &two, &["--partition", "2/2"]);
    let manifest = two.join("sweep-manifest.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    // Cut inside the first quoted value: an unterminated string.
    let cut = text.find('"').unwrap() + 2;
    let line = text[..cut].lines().count();
    fs::write(&manifest, &text[..cut]).unwrap();
    let out = d.join("merged");
    let got = shardcast()
        .arg("merge")
        .args([&one, &two])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(got.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let want = format!("{} line {line}: invalid basic string", manifest.display());
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(&want), "{want:?} not in {stderr}");
    assert!(!out.exists());
}
