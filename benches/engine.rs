//! The whole engine on the reference workload (scenarios/reference.toml):
//! 3.6 million records through producers, routing, throttling, retries and
//! metrics. Also the same workload for 60 s, to show cost per record, and
//! with two polling applications and one enhanced fan-out consumer reading.

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

criterion_group!(benches, engine);
criterion_main!(benches);
