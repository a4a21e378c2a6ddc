//! Shard-level (enhanced monitoring) metrics for policies: target tracking
//! of the hottest shard, and the per-shard minutes an external policy gets.

use std::path::Path;

use shardcast::model::{Outcome, RunOptions, simulate};
use shardcast::scenario::{Scenario, ScenarioError};

use crate::util::run;

// 4 shards. "hot" writes 750 records/s to 40 hash keys spread over
// shardId-000000000000's range (0 to 2^126 - 1), which splitting does
// relieve; "rest" writes 200 records/s over the whole key space. That shard
// runs at 80 %, the stream on average at 23.75 %.
fn hot_shard(enhanced: bool, autoscaling: &str) -> String {
    let keys: Vec<String> = (1..=40u128)
        .map(|i| format!("\"{}\"", (1u128 << 126) / 41 * i))
        .collect();
    format!(
        r#"
name = "hot-shard"
duration = "20m"
seed = 5
[stream]
shards = 4
enhanced_monitoring = {enhanced}
[[producers]]
name = "hot"
rate = "750/s"
size = "200B"
keys = {{ kind = "explicit", hash_keys = [{}] }}
[[producers]]
name = "rest"
rate = "200/s"
size = "200B"
keys = {{ kind = "random" }}
{autoscaling}
"#,
        keys.join(", ")
    )
}

const TRACKING: &str = r#"
[autoscaling]
min_shards = 4
max_shards = 16
policy = { kind = "target-tracking", target = 0.5, metric = "METRIC" }
"#;

fn policy_targets(out: &Outcome) -> Vec<String> {
    out.reshards
        .iter()
        .filter(|r| r.source == "policy")
        .map(|r| format!("{:?}", r.action))
        .collect()
}

#[test]
fn hottest_shard_tracking_scales_out_where_the_average_does_not() {
    let hottest = run(&hot_shard(
        true,
        &TRACKING.replace("METRIC", "hottest-shard"),
    ));
    let average = run(&hot_shard(true, &TRACKING.replace("METRIC", "stream")));
    // The hot shard: 750 + 200 / 4 = 800 records/s, 80 %: ceil(4 * 0.8 / 0.5) = 7.
    let asked = policy_targets(&hottest);
    assert!(!asked.is_empty(), "hottest-shard tracking never acted");
    assert!(asked[0].contains("target: 7"), "{asked:?}");
    assert!(hottest.map.open_count() > 4);
    // The stream average (about 24 %) wants fewer than min_shards: nothing.
    assert_eq!(policy_targets(&average), Vec::<String>::new());
    assert_eq!(average.map.open_count(), 4);
    // Only the latest shard-level minutes are kept (1 seen + 1 unpublished + 1).
    assert!(hottest.metrics.shard_minutes().len() < 6);
    assert!(average.metrics.shard_minutes().is_empty());
}

#[test]
fn hottest_shard_needs_enhanced_monitoring() {
    let text = hot_shard(false, &TRACKING.replace("METRIC", "hottest-shard"));
    match Scenario::parse(&text, Path::new("t.toml")) {
        Err(e @ ScenarioError::Invalid { .. }) => {
            let e = e.to_string();
            assert!(e.contains("autoscaling.policy.metric"), "{e}");
            assert!(e.contains("enhanced_monitoring = true"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// Runs the scenario with an external policy that logs every observation
/// and never acts; returns the observations.
fn observations(enhanced: bool) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seen.jsonl");
    let text = hot_shard(
        enhanced,
        &format!(
            "[autoscaling]\npolicy = {{ kind = \"exec\", window = 3, command = [\"sh\", \"-c\", 'while read -r l; do printf \"%s\\n\" \"$l\" >> \"$0\"; echo {{}}; done', {:?}] }}\n",
            log.to_str().unwrap()
        ),
    );
    let out = simulate(
        &Scenario::parse(&text, Path::new("t.toml")).unwrap(),
        RunOptions::default(),
    )
    .unwrap();
    assert!(policy_targets(&out).is_empty());
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_external_policy_gets_shard_level_minutes_only_with_enhanced_monitoring() {
    let plain = observations(false);
    // Evaluations at 1 to 19 minutes.
    assert_eq!(plain.len(), 19);
    for o in &plain {
        for m in o["minutes"].as_array().unwrap() {
            assert!(m.get("shards").is_none(), "{m}");
        }
    }
    let enhanced = observations(true);
    assert_eq!(enhanced.len(), 19);
    let last = &enhanced[18]["minutes"];
    assert_eq!(last.as_array().unwrap().len(), 3);
    for (o, p) in enhanced.iter().zip(&plain) {
        let minutes = o["minutes"].as_array().unwrap();
        for (m, pm) in minutes.iter().zip(p["minutes"].as_array().unwrap()) {
            let shards = m["shards"].as_array().unwrap();
            let ids: Vec<&str> = shards
                .iter()
                .map(|s| s["ShardId"].as_str().unwrap())
                .collect();
            assert_eq!(
                ids,
                [
                    "shardId-000000000000",
                    "shardId-000000000001",
                    "shardId-000000000002",
                    "shardId-000000000003"
                ]
            );
            // The shards' metrics add up to the stream's.
            for name in [
                "IncomingRecords",
                "IncomingBytes",
                "WriteProvisionedThroughputExceeded",
            ] {
                let sum: u64 = shards.iter().map(|s| s[name].as_u64().unwrap()).sum();
                assert_eq!(sum, m[name].as_u64().unwrap(), "{name} in {m}");
            }
            // Nothing else changes.
            let mut without = m.clone();
            without.as_object_mut().unwrap().remove("shards");
            assert_eq!(&without, pm);
        }
    }
    // The hot shard shows: 750 + 50 records/s.
    let m = &last[2]["shards"];
    let hot = m[0]["IncomingRecords"].as_u64().unwrap();
    let cold = m[1]["IncomingRecords"].as_u64().unwrap();
    assert!(hot > 10 * cold, "{m}");
}
