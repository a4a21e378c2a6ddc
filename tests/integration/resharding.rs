//! Resharding in time: requests checked as the service checks them, their
//! operations applied one at a time while writes go on.

use crate::util::run;

use shardcast::kds::{HashKey, ReshardOp, ShardId};
use shardcast::model::Outcome;

const BASE: &str = r#"
name = "reshard"
duration = "5m"
seed = 3
[stream]
shards = 4
reshard_op_time = { min = "2s", max = "10s" }
[[producers]]
name = "p"
count = 2
rate = "2000/s"
size = "100B"
keys = { kind = "random", key_bytes = 16 }
retry = "none"
"#;

#[test]
fn update_shard_count_runs_its_plan_one_operation_at_a_time() {
    let out = run(&format!(
        "{BASE}\n[[reshards]]\nat = \"60s\"\naction = \"update-shard-count\"\ntarget = 3\n"
    ));
    assert_eq!(out.reshards.len(), 1);
    let r = &out.reshards[0];
    assert_eq!(r.rejected, None);
    // 4 -> 3: five operations, ending with open shards 6, 9 and 10.
    assert_eq!(r.operations.len(), 5);
    let open: Vec<u32> = out.map.open_shards().map(|s| s.id().index()).collect();
    assert_eq!(open, [6, 9, 10]);
    let finished = r.finished.unwrap();
    let took = finished - r.requested;
    assert!(
        (10_000_000_000..=50_000_000_000).contains(&took),
        "took {took} ns"
    );
    // The stream was UPDATING for exactly the seconds the operations took.
    let seconds = out.metrics.seconds.as_ref().unwrap();
    let updating: u64 = seconds.iter().map(|s| s.updating_secs).sum();
    let span = finished / 1_000_000_000 - r.requested / 1_000_000_000 + 1;
    assert_eq!(updating, span);
    // Open shards: 4 before, up to 5 during (a split before each merge), 3 after.
    assert_eq!(seconds[59].open_shards, 4);
    assert!(seconds.iter().map(|s| s.open_shards).max().unwrap() == 5);
    assert_eq!(seconds.last().unwrap().open_shards, 3);
    // Records written after the end went to the final shards only; closed
    // shards took nothing after they closed (their totals stop growing).
    for s in out.map.shards() {
        let t = &out.metrics.shard_totals[s.id().index() as usize];
        if s.is_open() {
            assert!(t.counts.accepted_records > 0, "{} got nothing", s.id());
        }
    }
    // Transient shards are those created and closed within the request.
    for id in &r.transient {
        let s = out.map.shard(*id).unwrap();
        assert!(s.closed_at().is_some());
        assert!(r.created.contains(id));
    }
}

#[test]
fn a_split_moves_writes_to_the_children() {
    let out = run(&format!(
        "{BASE}\n[[reshards]]\nat = \"100s\"\naction = \"split\"\nshard = \"shardId-000000000001\"\n"
    ));
    let r = &out.reshards[0];
    assert_eq!(r.rejected, None);
    let ReshardOp::Split {
        new_starting_hash_key,
        lower,
        upper,
        ..
    } = r.operations[0]
    else {
        panic!("a split")
    };
    let parent = out.map.shard(ShardId(1)).unwrap();
    // The midpoint split, as the AWS guide suggests.
    let range = parent.range();
    assert_eq!(
        new_starting_hash_key,
        range.start + (range.end - range.start) / 2
    );
    assert!(!parent.is_open());
    assert_eq!((lower, upper), (ShardId(4), ShardId(5)));
    // The children split the parent's share of the random keys: each gets
    // about half of what the parent got per second while open.
    let closed_s = (parent.closed_at().unwrap().0 - out_start(&out)) as f64 / 1e9;
    let per_sec = |id: u32, secs: f64| {
        out.metrics.shard_totals[id as usize].counts.offered_records as f64 / secs
    };
    let parent_rate = per_sec(1, closed_s);
    let child_secs = 300.0 - closed_s;
    for child in [4, 5] {
        let rate = per_sec(child, child_secs);
        assert!(
            (rate / parent_rate - 0.5).abs() < 0.05,
            "child {child}: {rate} vs parent {parent_rate}"
        );
    }
    assert_eq!(out.map.shard_for_hash_key(HashKey(range.start)), lower);
    assert_eq!(out.map.shard_for_hash_key(HashKey(range.end)), upper);
}

fn out_start(out: &Outcome) -> u64 {
    // Shard 0 was created at the run's start.
    out.map.shard(ShardId(0)).unwrap().created_at().0
}

#[test]
fn requests_the_service_refuses_are_logged_with_its_reason() {
    let out = run(&format!(
        "{BASE}
[[reshards]]
at = \"10s\"
action = \"update-shard-count\"
target = 8
[[reshards]]
at = \"12s\"
action = \"merge\"
shard = \"shardId-000000000000\"
adjacent = \"shardId-000000000001\"
[[reshards]]
at = \"4m\"
action = \"update-shard-count\"
target = 17
[[reshards]]
at = \"4m 30s\"
action = \"split\"
shard = \"shardId-000000000099\"
[[reshards]]
at = \"4m 40s\"
action = \"merge\"
shard = \"shardId-000000000006\"
adjacent = \"shardId-000000000005\"
"
    ));
    let reasons: Vec<Option<&str>> = out.reshards.iter().map(|r| r.rejected.as_deref()).collect();
    assert_eq!(reasons[0], None);
    assert!(reasons[1].unwrap().starts_with("ResourceInUseException"));
    assert!(reasons[2].unwrap().contains("more than double"));
    assert!(reasons[3].unwrap().starts_with("ResourceNotFoundException"));
    assert!(reasons[4].unwrap().contains("not an adjacent pair"));
    assert_eq!(out.map.open_count(), 8);
}

#[test]
fn update_shard_count_is_limited_to_ten_per_rolling_day() {
    let mut text = BASE
        .replace("duration = \"5m\"", "duration = \"26h\"")
        .replace("2000/s", "1/s");
    for i in 0..12u32 {
        let target = if i % 2 == 0 || i >= 10 { 5 } else { 4 };
        text.push_str(&format!(
            "[[reshards]]\nat = \"{}h\"\naction = \"update-shard-count\"\ntarget = {target}\n",
            i + 1
        ));
    }
    let out = run(&text);
    let rejected: Vec<usize> = out
        .reshards
        .iter()
        .enumerate()
        .filter(|(_, r)| r.rejected.is_some())
        .map(|(i, _)| i)
        .collect();
    // Calls 1..10 (at 1 h .. 10 h) pass; the 11th and 12th (11 h, 12 h, both
    // asking 4 -> 5) do not.
    assert_eq!(rejected, [10, 11]);
    let reason = out.reshards[10].rejected.as_deref().unwrap();
    assert!(reason.starts_with("LimitExceededException"), "{reason}");
    assert!(reason.contains("10 calls in the last 24 hours"), "{reason}");
}

#[test]
fn the_account_quota_counts_short_lived_shards() {
    // 4 -> 3 needs 5 open shards at its peak (a split before each merge).
    let text = BASE.replace("shards = 4\n", "shards = 4\naccount_shard_quota = 4\n");
    let out = run(&format!(
        "{text}\n[[reshards]]\nat = \"60s\"\naction = \"update-shard-count\"\ntarget = 3\n"
    ));
    let reason = out.reshards[0].rejected.as_deref().unwrap();
    assert!(
        reason.contains("needs 5 open shards at its peak"),
        "{reason}"
    );
    assert!(reason.contains("quota of 4"), "{reason}");
    assert_eq!(out.map.open_count(), 4);
}
