//! UpdateShardCount, SplitShard and MergeShards at the edges a random test misses.

use shardcast::kds::{EpochNanos, HashKey, KdsError, ReshardOp, ShardId, ShardMap, uniform_starts};

use crate::properties::assert_tiles;

fn t(secs: u64) -> EpochNanos {
    EpochNanos::from_secs(1_700_000_000 + secs)
}

fn ids(v: &[ShardId]) -> Vec<u32> {
    v.iter().map(|id| id.index()).collect()
}

fn open_spans(map: &ShardMap) -> Vec<u128> {
    map.open_shards().map(|s| s.range().span()).collect()
}

#[test]
fn four_to_three_matches_the_published_observation() {
    let mut map = ShardMap::create(4, t(0)).unwrap();
    let plan = map.update_shard_count(3, t(60)).unwrap();
    assert_eq!(ids(&plan.final_open), [6, 9, 10]);
    let starts: Vec<u128> = uniform_starts(3).collect();
    let op = |p, k: u128, l, u| ReshardOp::Split {
        parent: ShardId(p),
        new_starting_hash_key: k,
        lower: ShardId(l),
        upper: ShardId(u),
    };
    let merge = |a, b, c| ReshardOp::Merge {
        shard_to_merge: ShardId(a),
        adjacent_shard_to_merge: ShardId(b),
        child: ShardId(c),
    };
    assert_eq!(
        plan.operations,
        [
            op(1, starts[1], 4, 5),
            merge(0, 4, 6),
            op(2, starts[2], 7, 8),
            merge(5, 7, 9),
            merge(8, 3, 10),
        ]
    );
    assert_eq!(ids(&plan.transient), [4, 5, 7, 8]);
    // Equal widths: CreateStream(3)'s ranges exactly.
    let spans = open_spans(&map);
    assert!(spans.iter().max().unwrap() - spans.iter().min().unwrap() <= 1);
    let fresh = ShardMap::create(3, t(0)).unwrap();
    let fresh_ranges: Vec<_> = fresh.open_shards().map(|s| s.range()).collect();
    let ranges: Vec<_> = map.open_shards().map(|s| s.range()).collect();
    assert_eq!(ranges, fresh_ranges);
    assert_tiles(&map);
}

#[test]
fn one_to_two_matches_create_stream_two() {
    // Real AWS: children [0, 2^127-1] and [2^127, 2^128-1] (KDS-REFERENCE.md §1.8).
    let mut map = ShardMap::create(1, t(0)).unwrap();
    let plan = map.update_shard_count(2, t(60)).unwrap();
    assert_eq!(ids(&plan.final_open), [1, 2]);
    assert!(plan.transient.is_empty());
    let ranges: Vec<_> = map
        .open_shards()
        .map(|s| (s.range().start, s.range().end))
        .collect();
    assert_eq!(ranges, [(0, (1 << 127) - 1), (1 << 127, u128::MAX)]);
}

#[test]
fn four_to_eight_leaves_twelve_shards() {
    // "there are 12 shards for some time, the old 4 shards and the new 8".
    let mut map = ShardMap::create(4, t(0)).unwrap();
    let plan = map.update_shard_count(8, t(60)).unwrap();
    assert_eq!(map.shards().len(), 12);
    assert_eq!(ids(&plan.final_open), [4, 5, 6, 7, 8, 9, 10, 11]);
    assert!(plan.transient.is_empty());
}

#[test]
fn three_to_six_and_back_make_no_slivers() {
    let mut map = ShardMap::create(3, t(0)).unwrap();
    let old_starts: Vec<u128> = map.open_shards().map(|s| s.range().start).collect();
    let plan = map.update_shard_count(6, t(60)).unwrap();
    // Only splits, one per old shard, at the new midpoints; old boundaries kept.
    assert_eq!(plan.operations.len(), 3);
    assert!(plan.transient.is_empty());
    let starts: Vec<u128> = map.open_shards().map(|s| s.range().start).collect();
    for s in &old_starts {
        assert!(starts.contains(s), "old boundary {s} lost");
    }
    let tiny = u128::MAX / 7;
    for shard in map.shards() {
        assert!(shard.range().span() > tiny, "sliver {:?}", shard.range());
    }
    let spans = open_spans(&map);
    assert!(spans.iter().max().unwrap() - spans.iter().min().unwrap() <= 6);

    let plan = map.update_shard_count(3, t(120)).unwrap();
    assert_eq!(plan.operations.len(), 3);
    assert!(
        plan.operations
            .iter()
            .all(|op| matches!(op, ReshardOp::Merge { .. }))
    );
    let back: Vec<u128> = map.open_shards().map(|s| s.range().start).collect();
    assert_eq!(back, old_starts);
    assert_tiles(&map);
}

#[test]
fn largest_plans_tile_and_count_right() {
    let mut map = ShardMap::create(5_000, t(0)).unwrap();
    let plan = map.update_shard_count(10_000, t(60)).unwrap();
    assert_eq!(plan.operations.len(), 5_000);
    assert!(plan.transient.is_empty());
    assert_eq!(map.open_count(), 10_000);
    assert_tiles(&map);
    let plan = map.update_shard_count(5_000, t(120)).unwrap();
    assert_eq!(plan.operations.len(), 5_000);
    assert_tiles(&map);
    assert_eq!(
        map.shard_for_hash_key(HashKey::MAX),
        *plan.final_open.last().unwrap()
    );
}

#[test]
fn edges_of_create_stream() {
    let one = ShardMap::create(1, t(0)).unwrap();
    assert_eq!(one.open_shards().next().unwrap().range().span(), u128::MAX);
    assert_eq!(one.shard_for_hash_key(HashKey::MAX), ShardId(0));
    assert_eq!(one.shard_for_hash_key(HashKey::MIN), ShardId(0));
    let big = ShardMap::create(10_000, t(0)).unwrap();
    assert_eq!(big.open_count(), 10_000);
    assert_eq!(big.shard_for_hash_key(HashKey::MAX), ShardId(9_999));
    assert_eq!(big.shard_for_hash_key(HashKey::MIN), ShardId(0));
    assert_tiles(&big);
    for n in [0, shardcast::kds::MAX_CREATE_SHARDS + 1] {
        assert!(matches!(
            ShardMap::create(n, t(0)),
            Err(KdsError::InvalidShardCount { .. })
        ));
    }
}

#[test]
fn update_limits() {
    let map = ShardMap::create(4, t(0)).unwrap();
    let check = |m: &ShardMap, target| m.check_update_shard_count(target, t(60));
    assert!(matches!(
        check(&map, 9),
        Err(KdsError::ScaleUpTooFar { min: 2, max: 8, .. })
    ));
    assert!(matches!(
        check(&map, 1),
        Err(KdsError::ScaleDownTooFar { min: 2, max: 8, .. })
    ));
    assert!(check(&map, 8).is_ok() && check(&map, 2).is_ok());
    let odd = ShardMap::create(5, t(0)).unwrap();
    assert!(check(&odd, 3).is_ok(), "3 is at least half of 5");
    assert!(check(&odd, 2).is_err());

    let big = ShardMap::create(6_000, t(0)).unwrap();
    assert!(matches!(
        check(&big, 10_001),
        Err(KdsError::OverShardLimit { max: 10_000, .. })
    ));
    assert!(check(&big, 10_000).is_ok());
    let over = ShardMap::create(12_000, t(0)).unwrap();
    assert!(matches!(
        check(&over, 10_000),
        Err(KdsError::OverShardLimit { max: 9_999, .. })
    ));
    assert!(check(&over, 9_999).is_ok());

    // Issue 15: from 19,999 shards up, half is not below 10,000, so no
    // target is accepted; the error said "accepted targets are 10000 to 9999".
    let edge = ShardMap::create(19_998, t(0)).unwrap();
    assert!(check(&edge, 9_999).is_ok());
    for n in [19_999, 20_000] {
        let huge = ShardMap::create(n, t(0)).unwrap();
        for target in [5_000, 9_999, 15_000, 40_001] {
            let e = check(&huge, target).unwrap_err();
            assert!(
                matches!(
                    e,
                    KdsError::NoTargetAccepted {
                        half: 10_000,
                        limit: 10_000,
                        reachable: 19_998,
                        ..
                    }
                ),
                "{n} -> {target}: {e:?}"
            );
        }
        assert!(check(&huge, n).is_ok(), "no change is no call");
    }
}

#[test]
fn ten_updates_per_rolling_day() {
    let mut map = ShardMap::create(4, t(0)).unwrap();
    // Ten calls an hour apart, alternating 4 -> 5 -> 4 ...
    for i in 0..10u64 {
        let target = if i % 2 == 0 { 5 } else { 4 };
        map.update_shard_count(target, t(3600 * (i + 1))).unwrap();
    }
    let err = map.update_shard_count(5, t(3600 * 11)).unwrap_err();
    // The first call (t = 1 h) leaves the window at 25 h: 14 h after 11 h.
    assert_eq!(
        err,
        KdsError::TooManyUpdates {
            recent: 10,
            limit: 10,
            wait_secs: 14 * 3600
        }
    );
    assert_eq!(map.open_count(), 4, "a rejected call changes nothing");
    assert!(map.update_shard_count(5, t(25 * 3600 + 1)).is_ok());
}

#[test]
fn same_count_is_a_no_op() {
    let mut map = ShardMap::create(4, t(0)).unwrap();
    let plan = map.update_shard_count(4, t(60)).unwrap();
    assert!(plan.operations.is_empty());
    assert_eq!(ids(&plan.final_open), [0, 1, 2, 3]);
    assert!(map.update_calls().is_empty());
    assert_eq!(map.shards().len(), 4);
}

#[test]
fn plan_does_not_change_the_stream() {
    let map = ShardMap::create(4, t(0)).unwrap();
    let before = map.clone();
    let plan = map.plan_update_shard_count(3, t(60)).unwrap();
    assert_eq!(map, before);
    let mut applied = map.clone();
    assert_eq!(applied.update_shard_count(3, t(60)).unwrap(), plan);
}

#[test]
fn split_and_merge_reject_bad_shards() {
    let mut map = ShardMap::create(3, t(0)).unwrap();
    assert!(matches!(
        map.split_shard(ShardId(7), 5, t(1)),
        Err(KdsError::UnknownShard { .. })
    ));
    let (lower, upper) = map.split_shard(ShardId(0), 1 << 100, t(1)).unwrap();
    assert_eq!((lower, upper), (ShardId(3), ShardId(4)));
    assert_eq!(
        map.split_shard(ShardId(0), 1 << 90, t(2)),
        Err(KdsError::ShardClosed { shard: ShardId(0) })
    );
    // Reversed order (upper shard as ShardToMerge) is rejected, as in kinesalite.
    assert!(matches!(
        map.merge_shards(upper, lower, t(2)),
        Err(KdsError::NotAdjacent { .. })
    ));
    let child = map.merge_shards(lower, upper, t(2)).unwrap();
    let shard = map.shard(child).unwrap();
    assert_eq!(shard.parent(), Some(lower));
    assert_eq!(shard.adjacent_parent(), Some(upper));
    assert_tiles(&map);
}

#[test]
fn children_are_created_one_second_after_parents_close() {
    let mut map = ShardMap::create(1, t(0)).unwrap();
    // Split and merge in the same instant: each generation still gets a later
    // creation second, so sequence numbers keep sorting after the parents'.
    let (a, b) = map.split_shard(ShardId(0), 1 << 127, t(0)).unwrap();
    let c = map.merge_shards(a, b, t(0)).unwrap();
    assert_eq!(map.shard(a).unwrap().created_at(), t(1));
    assert_eq!(map.shard(c).unwrap().created_at(), t(2));
    let end_a = map.shard(a).unwrap().ending_sequence_number().unwrap();
    assert!(map.shard(c).unwrap().starting_sequence_number() > end_a);
}

#[test]
fn a_plan_applied_step_by_step_ends_where_the_update_does() {
    for (from, to) in [(4u32, 3u32), (3, 6), (7, 13), (10, 5), (1, 2)] {
        let mut at_once = ShardMap::create(from, t(0)).unwrap();
        at_once.update_shard_count(to, t(60)).unwrap();
        let mut stepwise = ShardMap::create(from, t(0)).unwrap();
        let plan = stepwise.begin_update_shard_count(to, t(60)).unwrap();
        assert_eq!(stepwise.update_calls(), [t(60)]);
        for (i, op) in plan.operations.iter().enumerate() {
            // Each step some seconds after the previous one.
            stepwise.apply_op(op, t(60 + 5 * i as u64)).unwrap();
            assert_tiles(&stepwise);
        }
        let ids = |m: &ShardMap| {
            m.open_shards()
                .map(|s| (s.id(), s.range()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&stepwise), ids(&at_once), "{from} -> {to}");
        assert_eq!(
            stepwise.open_shards().map(|s| s.id()).collect::<Vec<_>>(),
            plan.final_open
        );
    }
}
