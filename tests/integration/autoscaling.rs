//! Autoscaling policies on the engine: they see published minutes only, act
//! through UpdateShardCount, and the service's limits hold.

use crate::util::run;
use std::path::Path;

use shardcast::model::{Outcome, RunOptions, simulate};
use shardcast::scenario::Scenario;

// Bytes bind: 1,000 records/s of 4 KB need 4 MB/s, four shards' worth.
const RAMP: &str = r#"
name = "ramp"
duration = "40m"
seed = 4
[stream]
shards = 1
[[producers]]
name = "p"
count = 4
rate = { kind = "ramp", from = "100/s", to = "1000/s", start = "5m", end = "35m" }
size = "4000B"
keys = { kind = "random" }
api = "put-records"
batch = { linger = "50ms" }
retry = "none"
"#;

#[test]
fn target_tracking_follows_a_ramp() {
    let out = run(&format!(
        "{RAMP}
[autoscaling]
min_shards = 1
max_shards = 16
policy = {{ kind = \"target-tracking\", target = 0.6, scale_out_cooldown = \"3m\" }}
"
    ));
    let by_policy: Vec<_> = out
        .reshards
        .iter()
        .filter(|r| r.source == "policy")
        .collect();
    assert!(!by_policy.is_empty());
    assert!(
        by_policy.iter().all(|r| r.rejected.is_none()),
        "{by_policy:?}"
    );
    // 1,000 records/s of 4 KB at a 60 % target: about 7 shards at the end.
    let open = out.map.open_count();
    assert!((6..=9).contains(&open), "{open} shards");
    // It acted only on published minutes: never in the first two minutes.
    assert!(by_policy[0].requested >= 120_000_000_000);
    // Each request followed the previous one's completion (it waits while UPDATING).
    for w in by_policy.windows(2) {
        assert!(w[1].requested >= w[0].finished.unwrap());
    }
}

#[test]
fn without_a_policy_the_ramp_throttles() {
    let with = run(&format!(
        "{RAMP}\n[autoscaling]\npolicy = {{ kind = \"target-tracking\", target = 0.6 }}\n"
    ));
    let without = run(RAMP);
    let rate = |o: &Outcome| {
        let t = &o.metrics.shard_totals;
        t.iter().map(|s| s.counts.throttled_records).sum::<u64>() as f64
            / t.iter().map(|s| s.counts.offered_records).sum::<u64>() as f64
    };
    assert!(rate(&without) > 0.3, "{}", rate(&without));
    assert!(
        rate(&with) < rate(&without) / 5.0,
        "{} vs {}",
        rate(&with),
        rate(&without)
    );
}

#[test]
fn no_policy_gets_more_than_ten_updates_a_day() {
    // A schedule that asks twelve times in one day; the last two are refused.
    let schedule: Vec<String> = (0..12)
        .map(|i| {
            let target = if i % 2 == 0 || i >= 10 { 2 } else { 1 };
            format!("{{ at = \"{}m\", target = {target} }}", 10 + i * 30)
        })
        .collect();
    let out = run(&format!(
        "{}\n[autoscaling]\npolicy = {{ kind = \"scheduled\", schedule = [{}] }}\n",
        RAMP.replace("duration = \"40m\"", "duration = \"7h\"")
            .replace("1000/s", "20/s")
            .replace("100/s", "20/s"),
        schedule.join(", ")
    ));
    let policy: Vec<_> = out
        .reshards
        .iter()
        .filter(|r| r.source == "policy")
        .collect();
    assert_eq!(policy.len(), 12);
    let rejected: Vec<usize> = policy
        .iter()
        .enumerate()
        .filter(|(_, r)| r.rejected.is_some())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(rejected, [10, 11]);
    assert!(
        policy[10]
            .rejected
            .as_deref()
            .unwrap()
            .starts_with("LimitExceededException")
    );
}

#[test]
fn step_scaling_waits_for_its_alarm_and_cooldown() {
    let out = run(&format!(
        "{RAMP}
[autoscaling]
policy = {{ kind = \"step\", scale_out_threshold = 0.8, scale_out_datapoints = 2, scale_out_periods = 3, scale_in_threshold = 0.2, adjustment = \"+1\", cooldown = \"10m\" }}
"
    ));
    let times: Vec<u64> = out
        .reshards
        .iter()
        .filter(|r| r.source == "policy" && r.rejected.is_none())
        .map(|r| r.requested)
        .collect();
    assert!(!times.is_empty());
    for w in times.windows(2) {
        assert!(w[1] - w[0] >= 600_000_000_000, "cooldown broken: {times:?}");
    }
    // +1 per step: the open count grows by one per accepted request.
    assert_eq!(out.map.open_count() as usize, 1 + times.len());
}

fn exec_scenario(command: &str, timeout: &str) -> String {
    format!(
        "{RAMP}\n[autoscaling]\npolicy = {{ kind = \"exec\", command = {command}, timeout = \"{timeout}\" }}\n"
    )
}

fn example_autoscaler() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/autoscaler.py");
    format!("[\"python3\", {:?}]", path.to_str().unwrap())
}

#[test]
fn the_example_external_policy_scales_the_stream() {
    let text = exec_scenario(&example_autoscaler(), "10s");
    let out = run(&text);
    let by_policy: Vec<_> = out
        .reshards
        .iter()
        .filter(|r| r.source == "policy")
        .collect();
    assert!(!by_policy.is_empty());
    assert!(
        by_policy.iter().all(|r| r.rejected.is_none()),
        "{by_policy:?}"
    );
    let open = out.map.open_count();
    assert!((5..=9).contains(&open), "{open} shards");
    // The process is deterministic, so the run is too.
    let again = run(&text);
    let requests = |o: &Outcome| {
        o.reshards
            .iter()
            .map(|r| (r.requested, r.action.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(requests(&out), requests(&again));
}

fn policy_error(command: &str, timeout: &str) -> String {
    let scenario =
        Scenario::parse(&exec_scenario(command, timeout), Path::new("test.toml")).unwrap();
    match simulate(&scenario, RunOptions::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{command} should fail"),
    }
}

#[test]
fn a_broken_external_policy_is_a_clear_error() {
    let crash = policy_error(
        r#"["python3", "-c", "import sys; sys.stdin.readline()"]"#,
        "10s",
    );
    assert!(
        crash.contains("exited") && crash.contains("evaluation 1"),
        "{crash}"
    );
    let slow = policy_error(
        r#"["python3", "-c", "import sys, time; sys.stdin.readline(); time.sleep(30)"]"#,
        "300ms",
    );
    assert!(
        slow.contains("timeout") && slow.contains("evaluation 1"),
        "{slow}"
    );
    let chatty = policy_error(
        r#"["python3", "-c", "import sys\nfor l in sys.stdin: print('hello', flush=True)"]"#,
        "10s",
    );
    assert!(
        chatty.contains("its answer to evaluation 1 is not a decision"),
        "{chatty}"
    );
    assert!(chatty.contains("\"hello\""), "{chatty}");
    let missing = policy_error(r#"["shardcast-no-such-program"]"#, "1s");
    assert!(missing.contains("cannot start it"), "{missing}");
    assert!(missing.contains("shardcast-no-such-program"), "{missing}");
}

#[test]
fn run_reports_a_failing_policy_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash.toml");
    std::fs::write(
        &file,
        exec_scenario(r#"["python3", "-c", "import sys; sys.exit(3)"]"#, "5s"),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("shardcast")
        .unwrap()
        .env("RUST_BACKTRACE", "0")
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: autoscaling policy [\"python3\""),
        "{err}"
    );
    assert!(err.contains("evaluation 1"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "a failed run wrote a report"
    );
}

#[test]
fn policy_runs_are_byte_identical_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "tt.toml",
            format!(
                "{RAMP}\n[autoscaling]\npolicy = {{ kind = \"target-tracking\", target = 0.6 }}\n"
            ),
        ),
        (
            "od.toml",
            RAMP.replace(
                "shards = 1\n",
                "shards = 4\nmode = \"on-demand\"\non_demand_split_delay = \"2m\"\n",
            ),
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let mut outputs = Vec::new();
        for i in 0..2 {
            let out = dir.path().join(format!("{name}-{i}"));
            assert_cmd::Command::cargo_bin("shardcast")
                .unwrap()
                .arg("run")
                .arg(&file)
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().into_string().unwrap(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            outputs.push(files);
        }
        assert!(
            outputs[0].iter().any(|(n, _)| n == "reshards.csv"),
            "{name}: no reshards"
        );
        assert_eq!(outputs[0], outputs[1], "{name}: reruns differ");
    }
}

/// The policy seam: a scripted fake in place of the scenario's policy sees
/// only published minutes and the UPDATING state, and its answers go
/// through the scenario's bounds and UpdateShardCount.
#[test]
fn a_scripted_policy_sees_published_minutes_and_is_bounded() {
    use shardcast::model::policy::Scripted;
    use shardcast::model::simulate_with_policy;
    const MIN: u64 = 60_000_000_000;
    let text = format!(
        "{RAMP}
[autoscaling]
min_shards = 1
max_shards = 2
policy = {{ kind = \"target-tracking\", target = 0.6 }}
"
    );
    let scenario = crate::util::scenario(&text);
    // Evaluation 1 (at 1 min) does nothing; 2 asks for 50, clamped to 2
    // (one split of 2 to 10 s); 3 asks for 1 shard again (a merge).
    let fake = Scripted::new(vec![Ok(None), Ok(Some(50)), Ok(Some(1))]);
    let seen = fake.seen();
    let out = simulate_with_policy(&scenario, RunOptions::default(), Box::new(fake)).unwrap();
    let seen = seen.lock().unwrap();
    // One evaluation a minute for 40 minutes, the last at 39 min.
    assert_eq!(seen.len(), 39);
    assert_eq!(seen[0].now, MIN);
    // A minute is published a minute after it ends: none at 1 min, the
    // first at 2 min.
    assert!(seen[0].minutes.is_empty());
    assert_eq!(seen[1].minutes, [0]);
    assert_eq!(seen[10].minutes.len(), 10);
    let by_policy: Vec<_> = out
        .reshards
        .iter()
        .filter(|r| r.source == "policy")
        .collect();
    assert_eq!(by_policy.len(), 2, "{by_policy:?}");
    let update = |target| shardcast::scenario::ReshardAction::UpdateShardCount { target };
    assert_eq!(
        (by_policy[0].requested, &by_policy[0].action),
        (2 * MIN, &update(2))
    );
    assert_eq!(
        (by_policy[1].requested, &by_policy[1].action),
        (3 * MIN, &update(1))
    );
    assert!(
        by_policy.iter().all(|r| r.rejected.is_none()),
        "{by_policy:?}"
    );
    // The split was done by the third evaluation, which saw its shards and
    // the history of the scale-out.
    assert_eq!((seen[2].open_shards, seen[2].updating), (2, false));
    assert_eq!(seen[2].history.last_up, Some(2 * MIN));
    assert_eq!(out.map.open_count(), 1);

    // With enhanced monitoring it is shown the latest shard-level minute,
    // published with the stream-level one.
    let enhanced = crate::util::scenario(&text.replace(
        "[stream]\nshards = 1",
        "[stream]\nshards = 1\nenhanced_monitoring = true",
    ));
    assert!(enhanced.stream.enhanced_monitoring);
    let fake = Scripted::new(vec![]);
    let seen = fake.seen();
    simulate_with_policy(&enhanced, RunOptions::default(), Box::new(fake)).unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen[0].shard_minutes.is_empty());
    assert_eq!(seen[1].shard_minutes, [0]);
    // The latest published is the minute from 9 min; a few before it are
    // still kept (memory follows the policy's need, not the run's length).
    assert_eq!(seen[10].shard_minutes.last(), Some(&540));
    assert!(
        seen[10].shard_minutes.len() <= 4,
        "{:?}",
        seen[10].shard_minutes
    );

    // Without [autoscaling] there is no schedule to evaluate a policy on.
    let bare = crate::util::scenario(RAMP);
    let err = simulate_with_policy(
        &bare,
        RunOptions::default(),
        Box::new(Scripted::new(vec![])),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no [autoscaling] table"), "{err}");
}
