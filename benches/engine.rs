//! The whole engine on the reference workload (scenarios/reference.toml):
//! 3.6 million records through producers, routing, throttling, retries and
//! metrics. Also the same workload for 60 s, to show cost per record.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shardcast::model::{RunOptions, simulate};
use shardcast::scenario::Scenario;

fn reference(duration: &str) -> Scenario {
    let text = include_str!("../scenarios/reference.toml")
        .replace("duration = \"600s\"", &format!("duration = \"{duration}\""));
    Scenario::parse(&text, Path::new("scenarios/reference.toml")).unwrap()
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for duration in ["60s", "600s"] {
        let scenario = reference(duration);
        let records = simulate(&scenario, RunOptions::default())
            .unwrap()
            .metrics
            .producer_total
            .produced;
        group.throughput(Throughput::Elements(records));
        group.bench_function(format!("reference_{duration}"), |b| {
            b.iter(|| simulate(black_box(&scenario), RunOptions::default()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
