//! Issue 14, the user-facing side of the two engines: every report says
//! which engine ran and why, `--engine` and the scenario's `engine` and
//! `step` are checked with one-line errors, `auto` picks as documented,
//! and the shard engine's files do not depend on the thread count.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use shardcast::model::{EngineReason, engine_choice, engine_for};
use shardcast::scenario::{EngineKind, Scenario};

use crate::util::shardcast;

/// 2 shards at 75 %: 15,000 records in 10 s, with an objective for `check`.
const SMALL: &str = r#"name = "small"
duration = "10s"
seed = 7

[stream]
shards = 2

[[producers]]
name = "web"
rate = "1500/s"
size = "200B"
keys = { kind = "uniform", count = 100 }

[slo]
max_throttle_rate = 0.05
"#;

/// `text` written as `dir/name`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The cells of column `name` in a CSV file.
fn column(path: &Path, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} column in {}", path.display()));
    r.records().map(|rec| rec.unwrap()[i].to_owned()).collect()
}

/// Runs `args`, expects exit code 2 and one `error:` line holding every
/// one of `needles`.
fn fails_with(args: &[&str], needles: &[&str]) {
    let out = shardcast().args(args).assert().code(2).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr}"
        );
    }
}

#[test]
fn run_says_which_engine_ran_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let file = file.to_str().unwrap();
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["--engine", "shard"],
            "shard",
            "  engine     shard (asked for; steps of 1 s)\n",
        ),
        (
            &["--engine", "record"],
            "record",
            "  engine     record (asked for)\n",
        ),
        (
            &[],
            "record",
            "  engine     record (auto: 15,000 records expected, at most 500 million)\n",
        ),
    ];
    for (i, (flag, engine, line)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        shardcast()
            .args(["run", file, "--out"])
            .arg(&out)
            .args(flag)
            .assert()
            .success()
            .stdout(predicate::str::contains(line));
        assert_eq!(column(&out.join("summary.csv"), "engine"), [engine]);
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        let why = line.trim().strip_prefix("engine     ").unwrap();
        assert!(html.contains(&format!("Engine: {why}. ")), "{flag:?}");
        // The summary table too (one row per summary.csv column).
        assert!(
            html.contains(&format!(
                "<tr><td><code>engine</code></td><td>{engine}</td></tr>"
            )),
            "{flag:?}"
        );
        // The shard engine's page says what it is and where its accuracy
        // is stated.
        assert_eq!(
            html.contains("per-shard flows in steps of 1 s; it agrees with the record engine within the tolerances in <code>docs/engines.md</code>"),
            engine == "shard",
            "{flag:?}"
        );
    }
}

#[test]
fn a_bad_engine_flag_is_refused_by_clap() {
    for command in ["run", "plan", "sweep", "compare", "check"] {
        let out = shardcast()
            .args([command, "any.toml", "--engine", "fast"])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("invalid value 'fast' for '--engine <ENGINE>'")
                && stderr.contains("[possible values: record, shard, auto]"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn bad_engine_and_step_fields_name_file_line_field_and_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let steps = "accepted steps divide one second and are 1ms to 1s";
    let cases = [
        (
            r#"engine = "fast""#,
            "bad.toml line 4: engine: \"fast\" is not an engine; accepted engines are \"record\", \"shard\" and \"auto\"",
        ),
        (
            r#"step = "3s""#,
            "bad.toml line 4: step: 3s is out of range; ",
        ),
        (
            r#"step = "7ms""#,
            "bad.toml line 4: step: 7ms does not divide one second; ",
        ),
        (
            r#"step = "0s""#,
            "bad.toml line 4: step: 0s is out of range; ",
        ),
    ];
    for (field, message) in cases {
        // After `seed = 7`, line 3.
        let text = SMALL.replacen("seed = 7\n", &format!("seed = 7\n{field}\n"), 1);
        let file = write(dir.path(), "bad.toml", &text);
        let needles: &[&str] = if field.starts_with("step") {
            &[message, steps]
        } else {
            &[message]
        };
        fails_with(&["validate", file.to_str().unwrap()], needles);
    }
    // The accepted ones; `validate` says which engine a run would use.
    let cases = [
        (
            r#"step = "100ms""#,
            "; engine record (auto: 15,000 records expected, at most 500 million)\n",
        ),
        (r#"step = "1s""#, "; engine record (auto: 15,000"),
        (
            r#"engine = "shard""#,
            "; engine shard (asked for; steps of 1 s)\n",
        ),
        (
            "engine = \"shard\"\nstep = \"250ms\"",
            "; engine shard (asked for; steps of 250 ms)\n",
        ),
    ];
    for (field, says) in cases {
        let text = SMALL.replacen("seed = 7\n", &format!("seed = 7\n{field}\n"), 1);
        let file = write(dir.path(), "good.toml", &text);
        shardcast()
            .args(["validate", file.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains(says));
    }
}

/// A file in scenarios/, so that a trace it names is found.
fn in_scenarios(text: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/engine-test.toml");
    Scenario::parse(text, &path).unwrap()
}

/// 10,000 shards at 10,000,000 records/s for an hour: 36 billion records
/// (never run here).
const LARGE: &str = r#"name = "large"
duration = "1h"

[stream]
shards = 10000

[[producers]]
name = "fleet"
rate = "10000000/s"
size = "100B"
keys = { kind = "random" }
"#;

/// A group replaying the example order trace.
const TRACE_GROUP: &str = r#"
[[producers]]
name = "orders"
trace = { file = "traces/orders.csv", loop = true }
"#;

#[test]
fn auto_picks_the_record_engine_for_small_runs_and_traces() {
    let small = in_scenarios(SMALL);
    assert_eq!(small.engine.kind, EngineKind::Auto);
    assert_eq!(engine_for(&small), EngineKind::Record);
    assert_eq!(
        engine_choice(&small).reason,
        EngineReason::Expected(15_000.0)
    );

    let large = in_scenarios(LARGE);
    assert_eq!(engine_for(&large), EngineKind::Shard);
    let choice = engine_choice(&large);
    assert_eq!(choice.reason, EngineReason::Expected(36e9));
    assert_eq!(
        choice.to_string(),
        "shard (auto: 36 billion records expected, over 500 million; steps of 1 s)"
    );

    // A replayed trace: the record engine, however large the rest.
    let traced = in_scenarios(&format!("{LARGE}{TRACE_GROUP}"));
    assert_eq!(engine_for(&traced), EngineKind::Record);
    assert_eq!(
        engine_choice(&traced).to_string(),
        "record (auto: producer group \"orders\" replays a record trace)"
    );
    let example = Scenario::parse(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/trace-replay.toml"),
        )
        .unwrap(),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/trace-replay.toml"),
    )
    .unwrap();
    assert_eq!(engine_for(&example), EngineKind::Record);

    // What is asked for is what runs.
    for (kind, name) in [(EngineKind::Record, "record"), (EngineKind::Shard, "shard")] {
        let s = in_scenarios(&LARGE.replacen(
            "duration = \"1h\"\n",
            &format!("duration = \"1h\"\nengine = \"{name}\"\n"),
            1,
        ));
        assert_eq!(engine_for(&s), kind);
        assert_eq!(engine_choice(&s).reason, EngineReason::Asked);
    }
}

/// Where the shard engine was not shown to agree (retries without jitter,
/// or due within half a step, as the KPL's 50 ms), `auto` keeps the
/// record engine however large the run, and says why; asked for, the
/// shard engine still runs.
#[test]
fn r14_auto_avoids_the_shard_engine_where_it_may_disagree() {
    use shardcast::model::shard_engine_caveats;
    let large = in_scenarios(LARGE);
    assert!(shard_engine_caveats(&large).is_empty());
    let with = |retry: &str| in_scenarios(&format!("{LARGE}retry = {retry}\n"));
    let kpl = with("\"kpl\"");
    assert_eq!(
        shard_engine_caveats(&kpl),
        vec!["producer group \"fleet\" retries without jitter".to_owned()]
    );
    assert_eq!(engine_for(&kpl), EngineKind::Record);
    assert_eq!(
        engine_choice(&kpl).to_string(),
        "record (auto: 36 billion records expected, but producer group \"fleet\" retries \
         without jitter, where the shard engine may disagree)"
    );
    let fast = with("{ max_attempts = 5, base = \"100ms\", cap = \"1s\", jitter = \"full\" }");
    assert_eq!(
        shard_engine_caveats(&fast),
        vec![
            "producer group \"fleet\" retries 100 ms after a refusal, under half the shard \
             engine's step of 1000 ms"
                .to_owned()
        ]
    );
    assert_eq!(engine_for(&fast), EngineKind::Record);
    // With a step short enough, the same retries are followed.
    let fine = in_scenarios(&format!(
        "{}retry = {{ max_attempts = 5, base = \"100ms\", cap = \"1s\", jitter = \"full\" }}\n",
        LARGE.replacen(
            "duration = \"1h\"\n",
            "duration = \"1h\"\nstep = \"100ms\"\n",
            1
        )
    ));
    assert!(shard_engine_caveats(&fine).is_empty());
    assert_eq!(engine_for(&fine), EngineKind::Shard);
    // No retries at all: nothing to follow.
    assert!(shard_engine_caveats(&with("\"none\"")).is_empty());
    // Asked for, it runs, and `run` says where it may disagree.
    let asked = in_scenarios(&format!(
        "{}retry = \"kpl\"\n",
        LARGE.replacen(
            "duration = \"1h\"\n",
            "duration = \"1h\"\nengine = \"shard\"\n",
            1
        )
    ));
    assert_eq!(engine_for(&asked), EngineKind::Shard);
    let dir = tempfile::tempdir().unwrap();
    let small = SMALL
        .replacen("[stream]", "engine = \"shard\"\n\n[stream]", 1)
        .replacen("count = 100 }\n", "count = 100 }\nretry = \"kpl\"\n", 1);
    let file = write(dir.path(), "kpl.toml", &small);
    shardcast()
        .args(["run", "--no-report", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note       producer group \"web\" retries without jitter: the shard engine may disagree",
        ));
}

#[test]
fn the_shard_engine_refuses_a_trace_group_in_one_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    // In the file: at validation, with the `engine` line (line 3).
    let text = format!(
        "{}{TRACE_GROUP}",
        SMALL.replacen("seed = 7\n", "engine = \"shard\"\n", 1,)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("traces")).unwrap();
    std::fs::copy(
        root.join("traces/orders.csv"),
        dir.path().join("traces/orders.csv"),
    )
    .unwrap();
    let file = write(dir.path(), "traced.toml", &text);
    let file = file.to_str().unwrap();
    let needles = [
        "traced.toml line 3: engine: \"shard\" cannot run producer group \"orders\", which replays a record trace",
        "accepted engines for this file are \"record\" and \"auto\"",
    ];
    fails_with(&["validate", file], &needles);
    fails_with(&["run", file, "--no-report"], &needles);
    // On the command line: before anything runs, naming the flag and the file.
    let example = root.join("trace-replay.toml");
    let example = example.to_str().unwrap();
    for command in ["run", "plan", "sweep", "compare", "check"] {
        let out = dir.path().join(format!("out-{command}"));
        let out_s = out.to_str().unwrap();
        let mut args = vec![command, example, "--engine", "shard"];
        if command != "check" {
            args.extend(["--out", out_s]);
        }
        fails_with(
            &args,
            &[
                "--engine shard: ",
                "trace-replay.toml: producer group \"orders\" replays a record trace",
                "use --engine record or auto",
            ],
        );
        assert!(!out.exists(), "{command} wrote {}", out.display());
    }
}

/// 1,100 shards (over the 1,024 from which the shard engine works in
/// parallel, in five chunks of 256) for 20 s, throttled and retrying.
const WIDE: &str = r#"name = "wide"
duration = "20s"
seed = 11
engine = "shard"

[stream]
shards = 1100

[[producers]]
name = "web"
rate = "1030000/s"
size = "400B"
keys = { kind = "zipf", count = 5000, exponent = 0.9 }
api = "put-records"
retry = "sdk-standard"
"#;

/// Runs `file` on the shard engine at 1 and 2 threads, twice each, and
/// asserts the same bytes in every report; returns the first shards.csv's
/// directory for the caller's own checks.
fn same_bytes_at_any_thread_count(dir: &Path, file: &Path) -> PathBuf {
    let files = ["summary.csv", "timeseries.csv", "shards.csv", "keys.csv"];
    let run = |threads: &str, name: &str| -> Vec<Vec<u8>> {
        let out = dir.join(name);
        shardcast()
            .env("RAYON_NUM_THREADS", threads)
            .arg("run")
            .arg(file)
            .args(["--no-report", "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("engine     shard (asked for"));
        files
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect()
    };
    let one = run("1", "one");
    for (threads, name) in [("2", "two"), ("2", "two-again"), ("1", "one-again")] {
        let other = run(threads, name);
        for ((f, a), b) in files.iter().zip(&one).zip(&other) {
            assert!(
                a == b,
                "{f} differs at RAYON_NUM_THREADS={threads} ({name})"
            );
        }
    }
    dir.join("one")
}

#[test]
fn the_shard_engine_writes_the_same_bytes_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "wide.toml", WIDE);
    let one = same_bytes_at_any_thread_count(dir.path(), &file);
    // Something happened worth comparing: throttles on some shards.
    let shards = std::fs::read_to_string(one.join("shards.csv")).unwrap();
    assert_eq!(shards.lines().count(), 1101);
    assert_eq!(column(&one.join("summary.csv"), "engine"), ["shard"]);
    let throttled = column(&one.join("shards.csv"), "throttled_records");
    assert!(throttled.iter().any(|t| t != "0"), "no shard throttled");
}

/// An aggregate trace's rows are drawn on the group's own stream before the
/// shards' parallel pass: the same bytes at any thread count too, over
/// enough shards (1,100) that the pass is shared between threads.
#[test]
fn an_aggregate_trace_on_the_shard_engine_writes_the_same_bytes_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,partition_key,records\n");
    for t in 0..20 {
        let at = 1_740_819_600 + t;
        // A hot key over one shard's limit, and 2,000 keys at 100/s.
        csv.push_str(&format!("{at},hot,1500\n"));
        for k in 0..2000 {
            csv.push_str(&format!("{at},key-{k},100\n"));
        }
    }
    write(dir.path(), "rows.csv", &csv);
    let file = write(
        dir.path(),
        "wide-trace.toml",
        r#"name = "wide-trace"
duration = "20s"
seed = 12
engine = "shard"

[stream]
shards = 1100

[[producers]]
name = "rows"
trace = { file = "rows.csv", interval = "1s", within = "uniform", rate_multiplier = 1.5 }
size = { kind = "lognormal", median = "200B", sigma = 0.5 }
"#,
    );
    let one = same_bytes_at_any_thread_count(dir.path(), &file);
    let throttled = column(&one.join("shards.csv"), "throttled_records");
    assert!(
        throttled.iter().any(|t| t != "0"),
        "the hot key's shard throttles"
    );
    let produced: u64 = column(&one.join("summary.csv"), "records_produced")[0]
        .parse()
        .unwrap();
    // 20 s of 201,500 rows' records, times 1.5 (binomial for the half).
    assert!((6_000_000..6_090_000).contains(&produced), "{produced}");
}

#[test]
fn plan_sweep_compare_and_check_name_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let other = write(
        dir.path(),
        "other.toml",
        &SMALL.replace("name = \"small\"", "name = \"other\""),
    );
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let (file_s, other_s) = (path(&file), path(&other));

    // plan: a column of plan.csv, a sentence of plan.md.
    let out = dir.path().join("plan");
    shardcast()
        .args(["plan", &file_s, "-r", "2", "--max-shards", "4", "--engine", "shard"])
        .args(["--no-report", "--out", &path(&out)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Engine: shard (asked for; steps of 1 s). The shard engine advances per-shard flows in steps of 1 s; it agrees with the record engine within the tolerances in docs/engines.md.",
        ));
    let engines = column(&out.join("plan.csv"), "engine");
    assert!(
        !engines.is_empty() && engines.iter().all(|e| e == "shard"),
        "{engines:?}"
    );
    let md = std::fs::read_to_string(out.join("plan.md")).unwrap();
    assert_eq!(md.matches("Engine: ").count(), 1, "{md}");

    // sweep: `--engine` reaches every point; a column of both files, one
    // mention on the terminal and on the page; merge reads it back.
    let out = dir.path().join("sweep");
    shardcast()
        .args([
            "sweep",
            &file_s,
            "--set",
            "stream.shards=1,2",
            "--engine",
            "shard",
        ])
        .args(["--out", &path(&out)])
        .assert()
        .success()
        .stdout(predicate::str::contains("; engine: shard\n"));
    assert_eq!(column(&out.join("sweep.csv"), "engine"), ["shard", "shard"]);
    assert_eq!(
        column(&out.join("sweep-summary.csv"), "engine"),
        ["shard", "shard"]
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<p>Engine: shard. The shard engine"),
        "sweep page"
    );
    let mut parts = Vec::new();
    for i in 1..=2 {
        let part = dir.path().join(format!("part{i}"));
        shardcast()
            .args([
                "sweep",
                &file_s,
                "--set",
                "stream.shards=1,2",
                "--engine",
                "shard",
            ])
            .args(["--partition", &format!("{i}/2"), "--out", &path(&part)])
            .assert()
            .success();
        parts.push(path(&part));
    }
    let merged = dir.path().join("merged");
    shardcast()
        .arg("merge")
        .args(&parts)
        .args(["--no-report", "--out", &path(&merged)])
        .assert()
        .success();
    for f in ["sweep.csv", "sweep-summary.csv"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }

    // compare: one column, in both files.
    let out = dir.path().join("compare");
    shardcast()
        .args(["compare", &file_s, &other_s, "--engine", "shard"])
        .args(["--out", &path(&out)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "| scenario | engine | throttle rate |",
        ))
        .stdout(predicate::str::contains("| small | shard | "))
        .stdout(predicate::str::contains("docs/engines.md"));
    assert_eq!(
        column(&out.join("compare.csv"), "engine"),
        ["shard", "shard"]
    );

    // check: one line under the table, and in the Markdown and JUnit.
    let (junit, summary) = (dir.path().join("junit.xml"), dir.path().join("check.md"));
    shardcast()
        .args(["check", &file_s, &other_s, "--engine", "record"])
        .args(["--junit", &path(&junit), "--summary", &path(&summary)])
        .assert()
        .success()
        .stdout(predicate::str::contains("\nengine: record\n"));
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("\nengine: record.\n")
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches("<property name=\"engine\" value=\"record\"/>")
            .count(),
        2,
        "{xml}"
    );
    shardcast()
        .args(["check", &file_s, "--engine", "shard"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "\nengine: shard (the shard engine agrees with the record engine within the tolerances in docs/engines.md)\n",
        ));
}
