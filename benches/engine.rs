//! The whole engine on the reference workload (scenarios/reference.toml):
//! 3.6 million records through producers, routing, throttling, retries and
//! metrics. Also the same workload for 60 s, to show cost per record, and
//! with two polling applications and one enhanced fan-out consumer reading.
//!
//! The shard engine (`shard` group): the reference workload on both
//! engines, and slices of the production-scale scenarios
//! (scenarios/seed-scale.toml: 10,000 shards at exactly their records/s
//! limit, so throttled and retrying; scenarios/on-demand-month.toml: about
//! 100 on-demand shards far below their limits; and the seed-scale traffic
//! on 1,000 shards for an hour, in the steady state at the limit), in
//! records simulated per second. Their full runs are timed with the CLI (docs/engines.md).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shardcast::model::{RunOptions, simulate};
use shardcast::scenario::Scenario;

const CONSUMERS: &str = r#"
[[consumers]]
name = "poll-a"
workers = 2
[[consumers]]
name = "poll-b"
[[consumers]]
name = "efo"
kind = "enhanced-fan-out"
"#;

fn reference(duration: &str, consumers: bool) -> Scenario {
    let mut text = include_str!("../scenarios/reference.toml")
        .replace("duration = \"600s\"", &format!("duration = \"{duration}\""));
    if consumers {
        text.push_str(CONSUMERS);
    }
    Scenario::parse(&text, Path::new("scenarios/reference.toml")).unwrap()
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for (duration, consumers) in [("60s", false), ("600s", false), ("600s", true)] {
        let scenario = reference(duration, consumers);
        let records = simulate(&scenario, RunOptions::default())
            .unwrap()
            .metrics
            .producer_total
            .produced;
        group.throughput(Throughput::Elements(records));
        let name = if consumers {
            "reference_consumers"
        } else {
            "reference"
        };
        group.bench_function(format!("{name}_{duration}"), |b| {
            b.iter(|| simulate(black_box(&scenario), RunOptions::default()).unwrap())
        });
    }
    group.finish();
}

/// Replaying a CSV record trace of 1 million records (10,000 records/s over
/// 100 keys' worth of 100,000 distinct keys, epoch milliseconds): parsing,
/// MD5 of every key, and the engine behind it.
fn trace_replay(c: &mut Criterion) {
    use std::fmt::Write as _;
    let dir = std::env::temp_dir().join(format!("shardcast-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("timestamp,partition_key,size\n");
    for i in 0..1_000_000u64 {
        // A fixed multiplicative hash spreads the keys without a generator.
        let key = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 100_000;
        let _ = writeln!(
            csv,
            "{},user-{key},{}",
            1_700_000_000_000 + i / 10,
            100 + i % 200
        );
    }
    std::fs::write(dir.join("trace.csv"), csv).unwrap();
    let text = "name = \"replay\"\nduration = \"101s\"\n[stream]\nshards = 16\n\
                [[producers]]\nname = \"t\"\napi = \"put-records\"\n\
                trace = { file = \"trace.csv\", time_unit = \"ms\" }\n";
    let scenario = Scenario::parse(text, &dir.join("replay.toml")).unwrap();
    let mut group = c.benchmark_group("trace");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("replay_csv_1m", |b| {
        b.iter(|| simulate(black_box(&scenario), RunOptions::default()).unwrap())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `scenarios/NAME.toml` with its duration set to `duration`, on the
/// shard engine.
fn sliced(name: &str, text: &str, duration: &str) -> Scenario {
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("duration = ") {
                format!("duration = \"{duration}\"\nengine = \"shard\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    Scenario::parse(&text, Path::new(&format!("scenarios/{name}.toml"))).unwrap()
}

fn shard(c: &mut Criterion) {
    let mut group = c.benchmark_group("shard");
    group.sample_size(10);
    let mut reference = reference("600s", false);
    reference.engine.kind = shardcast::scenario::EngineKind::Shard;
    let at_limit = sliced(
        "seed-scale",
        &include_str!("../scenarios/seed-scale.toml")
            .replace("shards = 10000", "shards = 1000")
            .replace("count = 2000", "count = 200")
            .replace("rate = \"10000000/s\"", "rate = \"1000000/s\""),
        "1h",
    );
    // A tenth of the stream, each shard at its limit as in the day.
    assert_eq!(at_limit.stream.shards, 1000, "seed-scale.toml changed");
    assert_eq!(at_limit.producers[0].count, 200, "seed-scale.toml changed");
    let cases = [
        ("reference_600s", reference),
        (
            "seed_scale_10min",
            sliced(
                "seed-scale",
                include_str!("../scenarios/seed-scale.toml"),
                "10m",
            ),
        ),
        (
            // The same traffic on 1,000 shards for an hour: past the first
            // quarter hour, when the buckets have left full and the retries
            // built up, a shard-step costs what the day's does.
            "seed_scale_1000_shards_1h",
            at_limit,
        ),
        (
            "on_demand_month_6h",
            sliced(
                "on-demand-month",
                include_str!("../scenarios/on-demand-month.toml"),
                "6h",
            ),
        ),
    ];
    for (name, scenario) in cases {
        let records = simulate(&scenario, RunOptions::default())
            .unwrap()
            .metrics
            .producer_total
            .produced;
        group.throughput(Throughput::Elements(records));
        group.bench_function(name, |b| {
            b.iter(|| simulate(black_box(&scenario), RunOptions::default()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, engine, shard, trace_replay);
criterion_main!(benches);
