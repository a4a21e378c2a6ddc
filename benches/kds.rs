//! Benches of the KDS core: key -> shard (MD5 plus lookup) and the
//! UpdateShardCount plan.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shardcast::kds::{EpochNanos, HashKey, ShardMap};

fn key_to_shard(c: &mut Criterion) {
    let keys: Vec<String> = (0..1024).map(|i| format!("user-{i}")).collect();
    let mut group = c.benchmark_group("key_to_shard");
    group.throughput(Throughput::Elements(keys.len() as u64));
    for shards in [4u32, 10_000] {
        let map = ShardMap::create(shards, EpochNanos::default()).unwrap();
        group.bench_with_input(BenchmarkId::new("md5+lookup", shards), &map, |b, map| {
            b.iter(|| {
                for k in &keys {
                    black_box(map.shard_for_partition_key(black_box(k)));
                }
            })
        });
        let hashes: Vec<HashKey> = keys
            .iter()
            .map(|k| HashKey::from_partition_key(k))
            .collect();
        group.bench_with_input(BenchmarkId::new("lookup", shards), &map, |b, map| {
            b.iter(|| {
                for &h in &hashes {
                    black_box(map.shard_for_hash_key(black_box(h)));
                }
            })
        });
    }
    group.finish();
}

fn update_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_shard_count");
    group.sample_size(20);
    for (from, to) in [(5_000u32, 10_000u32), (10_000, 5_000), (4, 3)] {
        let map = ShardMap::create(from, EpochNanos::default()).unwrap();
        group.bench_function(format!("{from}->{to}"), |b| {
            b.iter(|| {
                map.plan_update_shard_count(black_box(to), EpochNanos::from_secs(60))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, key_to_shard, update_plan);
criterion_main!(benches);
