//! Property tests of the shard map's invariants.

use proptest::prelude::*;
use shardcast::kds::{EpochNanos, HashKey, ShardMap, accepted_targets};

/// The open shards tile 0..=2^128-1: sorted, contiguous, no gaps, no overlap.
pub(crate) fn assert_tiles(map: &ShardMap) {
    let mut next = Some(0u128);
    for shard in map.open_shards() {
        let range = shard.range();
        assert_eq!(Some(range.start), next, "gap or overlap at {}", shard.id());
        assert!(range.start <= range.end);
        next = range.end.checked_add(1);
    }
    assert_eq!(next, None, "the last open shard must end at 2^128-1");
}

/// The lookup's answer by a linear scan over the open shards.
fn linear_lookup(map: &ShardMap, key: HashKey) -> shardcast::kds::ShardId {
    map.open_shards()
        .find(|s| s.range().contains(key))
        .map(|s| s.id())
        .expect("some open shard holds every key")
}

fn t(secs: u64) -> EpochNanos {
    EpochNanos::from_secs(1_700_000_000 + secs)
}

/// A reshaping step, drawn with fractions so it applies to any map.
#[derive(Debug, Clone)]
enum Step {
    Split { pick: f64, at: f64 },
    Merge { pick: f64 },
    Update { fraction: f64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0.0..1.0, 0.0..1.0).prop_map(|(pick, at)| Step::Split { pick, at }),
        (0.0..1.0).prop_map(|pick| Step::Merge { pick }),
        (0.0..1.0).prop_map(|fraction| Step::Update { fraction }),
    ]
}

fn apply(map: &mut ShardMap, step: &Step, now: EpochNanos) {
    let open: Vec<_> = map.open_shards().map(|s| (s.id(), s.range())).collect();
    let pick = |f: f64| ((f * open.len() as f64) as usize).min(open.len() - 1);
    match *step {
        Step::Split { pick: p, at } => {
            let (id, range) = open[pick(p)];
            if range.span() >= 3 {
                // A valid key in start+2 ..= end-1.
                let room = range.span() - 3;
                let key = range.start + 2 + (room as f64 * at) as u128;
                map.split_shard(id, key.min(range.end - 1), now).unwrap();
            }
        }
        Step::Merge { pick: p } => {
            if open.len() >= 2 {
                let i = pick(p).min(open.len() - 2);
                map.merge_shards(open[i].0, open[i + 1].0, now).unwrap();
            }
        }
        Step::Update { fraction } => {
            let (min, max) = accepted_targets(map.open_count());
            let target = min + ((max - min) as f64 * fraction) as u32;
            let plan = map.update_shard_count(target, now).unwrap();
            assert_eq!(map.open_count(), target);
            assert_eq!(plan.final_open.len() as u32, target);
        }
    }
}

proptest! {
    #[test]
    fn lookup_agrees_with_a_linear_scan(
        n in 1u32..200,
        keys in proptest::collection::vec(any::<u128>(), 1..50),
        names in proptest::collection::vec("\\PC{1,20}", 1..20),
    ) {
        let map = ShardMap::create(n, t(0)).unwrap();
        let edges = map.open_shards().flat_map(|s| [s.range().start, s.range().end]);
        for key in keys.into_iter().chain(edges).map(HashKey) {
            prop_assert_eq!(map.shard_for_hash_key(key), linear_lookup(&map, key));
        }
        for name in &names {
            let key = HashKey::from_partition_key(name);
            prop_assert_eq!(map.shard_for_partition_key(name), linear_lookup(&map, key));
        }
    }

    #[test]
    fn any_n_gives_n_contiguous_nearly_equal_ranges(n in 1u32..=10_000) {
        let map = ShardMap::create(n, t(0)).unwrap();
        prop_assert_eq!(map.open_count(), n);
        assert_tiles(&map);
        // All but the last have the same width; the last absorbs < n extra keys.
        let spans: Vec<u128> = map.open_shards().map(|s| s.range().span()).collect();
        let first = spans[0];
        prop_assert!(spans[..spans.len() - 1].iter().all(|&s| s == first));
        prop_assert!(spans[spans.len() - 1] - first < u128::from(n));
    }

    #[test]
    fn reshaping_keeps_the_tiling_and_the_lookup(
        n in 1u32..40,
        steps in proptest::collection::vec(step(), 1..12),
        probes in proptest::collection::vec(any::<u128>(), 8),
    ) {
        let mut map = ShardMap::create(n, t(0)).unwrap();
        for (i, s) in steps.iter().enumerate() {
            // UpdateShardCount is limited to 10 calls a day: space steps 3 h apart.
            apply(&mut map, s, t(3 * 3600 * (i as u64 + 1)));
            assert_tiles(&map);
            for &p in &probes {
                prop_assert_eq!(map.shard_for_hash_key(HashKey(p)), linear_lookup(&map, HashKey(p)));
            }
        }
        // Lineage: every child sorts after its parents, ids are dense.
        for (i, shard) in map.shards().iter().enumerate() {
            prop_assert_eq!(shard.id().index() as usize, i);
            for parent in shard.parent().into_iter().chain(shard.adjacent_parent()) {
                let parent = map.shard(parent).unwrap();
                prop_assert!(parent.id() < shard.id());
                prop_assert!(!parent.is_open());
                let end = parent.ending_sequence_number().unwrap();
                prop_assert!(shard.starting_sequence_number() > end);
            }
        }
    }

    #[test]
    fn sequence_numbers_round_trip(
        created in 0u64..(1 << 34),
        index in any::<u32>(),
        seq_ix in 0u64..=shardcast::kds::SEQ_IX_MAX,
        record in 0u64..(1 << 34),
    ) {
        let n = shardcast::kds::SequenceNumber::new(created, index, seq_ix, record).unwrap();
        let text = n.to_string();
        prop_assert_eq!(text.len(), 56);
        prop_assert_eq!(text.parse::<shardcast::kds::SequenceNumber>().unwrap(), n);
    }

    #[test]
    fn sequence_order_is_numeric_order(
        a in (0u64..(1 << 34), any::<u32>(), 0u64..(1 << 63), 0u64..(1 << 34)),
        b in (0u64..(1 << 34), any::<u32>(), 0u64..(1 << 63), 0u64..(1 << 34)),
    ) {
        let x = shardcast::kds::SequenceNumber::new(a.0, a.1, a.2, a.3).unwrap();
        let y = shardcast::kds::SequenceNumber::new(b.0, b.1, b.2, b.3).unwrap();
        // Equal-length decimal strings compare like the numbers.
        prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
    }
}
