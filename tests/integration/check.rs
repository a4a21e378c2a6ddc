//! `shardcast check`: exit codes, the baseline, JUnit XML and Markdown.

use crate::util::shardcast;
use std::path::{Path, PathBuf};

const PASSING: &str = r#"
name = "passing"
duration = "20s"
[stream]
shards = 2
[[producers]]
name = "p"
rate = "500/s"
size = "200B"
keys = { kind = "random" }
[slo]
max_throttle_rate = 0.01
max_failed_records = 0
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn failing() -> String {
    // 3,000 records/s into 2 shards of 1,000: throttles.
    PASSING
        .replace("name = \"passing\"", "name = \"failing\"")
        .replace("500/s", "3000/s")
}

#[test]
fn exit_codes_follow_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(dir.path(), "pass.toml", PASSING);
    let fail = write(dir.path(), "fail.toml", &failing());
    shardcast().arg("check").arg(&pass).assert().code(0);
    let out = shardcast()
        .arg("check")
        .arg(&pass)
        .arg(&fail)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("failing") && text.contains("FAIL"), "{text}");
    assert!(text.contains("2 of 4 checks failed"), "{text}");
    // A broken scenario is an error (2), not a failed check.
    let broken = write(dir.path(), "broken.toml", "name = ");
    shardcast()
        .arg("check")
        .arg(&pass)
        .arg(&broken)
        .assert()
        .code(2);
}

#[test]
fn junit_and_markdown_name_the_failing_objective() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(dir.path(), "pass.toml", PASSING);
    let fail = write(dir.path(), "fail.toml", &failing());
    let junit = dir.path().join("junit.xml");
    let md = dir.path().join("summary.md");
    shardcast()
        .arg("check")
        .args([&pass, &fail])
        .arg("--junit")
        .arg(&junit)
        .arg("--summary")
        .arg(&md)
        .assert()
        .code(1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("4"));
    assert_eq!(root.attribute("failures"), Some("2"));
    let failed: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|f| {
            let case = f.parent().unwrap();
            (
                case.attribute("classname").unwrap(),
                case.attribute("name").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("shardcast.failing", "slo max_throttle_rate"),
            ("shardcast.failing", "slo max_failed_records")
        ]
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("2 of 4 checks fail"));
    assert!(md.contains("| failing | slo max_throttle_rate |"));
}

#[test]
fn a_baseline_pins_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(dir.path(), "pass.toml", PASSING);
    let baseline = dir.path().join("baseline.toml");
    shardcast()
        .arg("check")
        .arg(&pass)
        .arg("--baseline")
        .arg(&baseline)
        .arg("--update-baseline")
        .assert()
        .code(0);
    // The recorded baseline passes, rerun after rerun.
    for _ in 0..2 {
        shardcast()
            .arg("check")
            .arg(&pass)
            .arg("--baseline")
            .arg(&baseline)
            .assert()
            .code(0);
    }
    // A changed scenario strays from it: exit 1, naming the metric.
    let changed = write(dir.path(), "pass.toml", &PASSING.replace("500/s", "1900/s"));
    let out = shardcast()
        .arg("check")
        .arg(&changed)
        .arg("--baseline")
        .arg(&baseline)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("baseline mean_shard_utilisation"), "{text}");
    // A scenario the baseline does not know fails too.
    let other = write(
        dir.path(),
        "other.toml",
        &PASSING.replace("\"passing\"", "\"other\""),
    );
    shardcast()
        .arg("check")
        .arg(&other)
        .arg("--baseline")
        .arg(&baseline)
        .assert()
        .code(1);
}

#[test]
fn a_broken_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(dir.path(), "pass.toml", PASSING);
    for (text, needle) in [
        (
            "[passing.throttle_rate]\nvalue = 0.0\n",
            "missing field `tolerance`",
        ),
        (
            "[passing.speed]\nvalue = 1.0\ntolerance = 0.1\n",
            "unknown metric \"speed\"",
        ),
        (
            "[passing.throttle_rate]\nvalue = 0.0\ntolerance = -1.0\n",
            "tolerance at least 0",
        ),
        ("not toml [", "line 1"),
    ] {
        let baseline = write(dir.path(), "baseline.toml", text);
        let out = shardcast()
            .arg("check")
            .arg(&pass)
            .arg("--baseline")
            .arg(&baseline)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{needle:?} not in {err}");
        assert!(err.contains("baseline.toml"), "{err}");
    }
    let missing = dir.path().join("nope.toml");
    shardcast()
        .arg("check")
        .arg(&pass)
        .arg("--baseline")
        .arg(&missing)
        .assert()
        .code(2);
}

#[test]
fn the_example_ci_scenarios_meet_their_baseline() {
    // As the CI examples run it, from the repository's root.
    shardcast()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "scenarios/ci/checkout.toml",
            "scenarios/ci/peak.toml",
            "--baseline",
            "scenarios/baselines/ci.toml",
        ])
        .assert()
        .code(0);
}
