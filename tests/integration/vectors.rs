//! The KDS core against every vector recorded from kinesalite (tests/data).

use serde_json::Value;
use shardcast::kds::{
    EpochNanos, HashKey, KdsError, KeyLengthRule, SEQ_IX_MAX, SequenceNumber, ShardId, ShardMap,
    validate_partition_key,
};

/// kinesalite's frozen clock, in Unix seconds.
const CLOCK: u64 = 1_700_000_000;
/// kinesalite dates CreateStream's shards two seconds before its clock.
const CREATED: u64 = CLOCK - 2;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/data/kinesalite/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn u128_of(v: &Value) -> u128 {
    s(v).parse().unwrap()
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
}

fn shard_id(v: &Value) -> ShardId {
    s(v).parse().unwrap()
}

fn create(n: u64) -> ShardMap {
    ShardMap::create(n as u32, EpochNanos::from_secs(CREATED)).unwrap()
}

fn keys() -> Vec<String> {
    arr(&load("keys.json")["keys"])
        .iter()
        .map(|k| s(k).to_owned())
        .collect()
}

/// Compares every field the vector records for each shard with the map.
fn assert_shards(map: &ShardMap, expected: &[Value], context: &str) {
    assert_eq!(map.shards().len(), expected.len(), "{context}: shard count");
    for e in expected {
        let id = shard_id(&e["shard_id"]);
        let shard = map.shard(id).unwrap();
        let ctx = format!("{context}: {id}");
        assert_eq!(
            shard.range().start,
            u128_of(&e["starting_hash_key"]),
            "{ctx}"
        );
        assert_eq!(shard.range().end, u128_of(&e["ending_hash_key"]), "{ctx}");
        assert_eq!(
            shard.starting_sequence_number().to_string(),
            s(&e["starting_sequence_number"]),
            "{ctx}: starting sequence number"
        );
        if let Some(parent) = e.get("parent_shard_id") {
            assert_eq!(
                shard.parent().map(|p| p.to_string()),
                parent.as_str().map(str::to_owned),
                "{ctx}: parent"
            );
            assert_eq!(
                shard.adjacent_parent().map(|p| p.to_string()),
                e["adjacent_parent_shard_id"].as_str().map(str::to_owned),
                "{ctx}: adjacent parent"
            );
        }
        if let Some(open) = e.get("open") {
            assert_eq!(shard.is_open(), open.as_bool().unwrap(), "{ctx}: open");
            assert_eq!(
                shard.ending_sequence_number().map(|n| n.to_string()),
                e["ending_sequence_number"].as_str().map(str::to_owned),
                "{ctx}: ending sequence number"
            );
        }
    }
}

#[test]
fn create_stream_ranges_for_every_recorded_n() {
    let v = load("ranges-kinesalite.json");
    let results = arr(&v["results"]);
    assert_eq!(results.len(), 11);
    for r in results {
        let n = r["shard_count"].as_u64().unwrap();
        assert_shards(&create(n), arr(&r["shards"]), &format!("N={n}"));
    }
}

#[test]
fn every_key_lands_on_the_recorded_shard() {
    let keys = keys();
    assert_eq!(keys.len(), 2000);
    for n in [1u64, 3, 4, 10] {
        let v = load(&format!("assign-N{n}-kinesalite.json"));
        let map = create(n);
        let records = arr(&v["records"]);
        assert_eq!(records.len(), keys.len());
        for (key, r) in keys.iter().zip(records) {
            assert_eq!(s(&r["key"]), key);
            let hash = HashKey::from_partition_key(key);
            assert_eq!(hash.0, u128_of(&r["hash_key"]), "N={n} key {key:?}");
            let shard = map.shard_for_hash_key(hash);
            assert_eq!(shard, shard_id(&r["shard_id"]), "N={n} key {key:?}");
            assert!(validate_partition_key(key, KeyLengthRule::UnicodeScalars).is_ok());
            // The recorded number decodes to this shard and this stream's times;
            // its counter is kinesalite's shared one, so only its fields are checked.
            let seq: SequenceNumber = s(&r["sequence_number"]).parse().unwrap();
            assert_eq!(seq.to_string(), s(&r["sequence_number"]));
            assert_eq!(seq.shard_index(), shard.index());
            assert_eq!(seq.shard_created_secs(), CREATED);
            assert_eq!(seq.record_secs(), CLOCK);
        }
    }
}

#[test]
fn keys_txt_matches_keys_json() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/data/kinesalite/keys.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(&text)
        .split('\n')
        .collect();
    assert_eq!(lines, keys());
}

#[test]
fn explicit_hash_keys_at_every_boundary() {
    let v = load("explicit-hash-kinesalite.json");
    let mut rejected = 0;
    for r in arr(&v["results"]) {
        let n = r["shard_count"].as_u64().unwrap();
        let map = create(n);
        assert_shards(&map, arr(&r["shards"]), &format!("N={n}"));
        for put in arr(&r["puts"]) {
            let text = s(&put["explicit_hash_key"]);
            match put.get("shard_id") {
                Some(expected) => {
                    let hash = HashKey::parse_explicit(text).unwrap();
                    assert_eq!(map.shard_for_hash_key(hash), shard_id(expected), "{text}");
                }
                None => {
                    assert!(put["error"].is_object());
                    assert!(matches!(
                        HashKey::parse_explicit(text),
                        Err(KdsError::InvalidExplicitHashKey { .. })
                    ));
                    rejected += 1;
                }
            }
        }
    }
    assert_eq!(rejected, 3, "2^128 is rejected once per stream");
}

#[test]
fn split_shard_matches_recorded_lineage_and_routing() {
    let v = load("split-kinesalite.json");
    for r in arr(&v["results"]) {
        let n = r["shard_count"].as_u64().unwrap();
        let mut map = create(n);
        assert_shards(&map, arr(&r["shards_before"]), "before");
        let parent = shard_id(&r["shard_to_split"]);
        let key = u128_of(&r["new_starting_hash_key"]);
        map.split_shard(parent, key, EpochNanos::from_secs(CLOCK))
            .unwrap();
        let ctx = format!("N={n} split {parent}");
        assert_shards(&map, arr(&r["shards_after"]), &ctx);
        for put in arr(&r["puts_after"]) {
            let hash = HashKey::parse_explicit(s(&put["explicit_hash_key"])).unwrap();
            assert_eq!(
                map.shard_for_hash_key(hash),
                shard_id(&put["shard_id"]),
                "{ctx}"
            );
        }
    }
}

#[test]
fn split_edges_follow_the_service_rule() {
    let v = load("split-edges-kinesalite.json");
    for r in arr(&v["results"]) {
        let mut map = create(1);
        let key = u128_of(&r["new_starting_hash_key"]);
        let result = map.split_shard(ShardId(0), key, EpochNanos::from_secs(CLOCK));
        let label = s(&r["label"]);
        assert_eq!(result.is_ok(), r["accepted"].as_bool().unwrap(), "{label}");
        if let Err(err) = result {
            assert!(matches!(err, KdsError::InvalidSplitKey { .. }), "{label}");
            // Same sentence shape as the service's message.
            assert!(
                err.to_string()
                    .contains("is not both greater than one plus the shard's StartingHashKey"),
                "{label}: {err}"
            );
        }
        let open: Vec<(String, String, String)> = map
            .open_shards()
            .map(|sh| {
                (
                    sh.id().to_string(),
                    sh.range().start.to_string(),
                    sh.range().end.to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String, String)> = arr(&r["open_shards_after"])
            .iter()
            .map(|e| {
                (
                    s(&e["shard_id"]).to_owned(),
                    s(&e["starting_hash_key"]).to_owned(),
                    s(&e["ending_hash_key"]).to_owned(),
                )
            })
            .collect();
        assert_eq!(open, expected, "{label}");
    }
}

#[test]
fn merge_shards_accepts_adjacent_pairs_and_rejects_the_rest() {
    let v = load("merge-kinesalite.json");
    let results = arr(&v["results"]);
    assert_eq!(results.len(), 4);
    for r in results {
        let n = r["shard_count"].as_u64().unwrap();
        let mut map = create(n);
        let a = shard_id(&r["shard_to_merge"]);
        let b = shard_id(&r["adjacent_shard_to_merge"]);
        let result = map.merge_shards(a, b, EpochNanos::from_secs(CLOCK));
        let ctx = format!("N={n} merge {a} + {b}");
        if r.get("error").is_some() {
            assert_eq!(
                result,
                Err(KdsError::NotAdjacent {
                    shard_to_merge: a,
                    adjacent_shard_to_merge: b
                }),
                "{ctx}"
            );
        } else {
            result.unwrap();
            for put in arr(&r["puts_after"]) {
                let hash = HashKey::parse_explicit(s(&put["explicit_hash_key"])).unwrap();
                assert_eq!(
                    map.shard_for_hash_key(hash),
                    shard_id(&put["shard_id"]),
                    "{ctx}"
                );
            }
        }
        // Rejected merges leave the shards exactly as they were.
        assert_shards(&map, arr(&r["shards_after"]), &ctx);
    }
}

#[test]
fn sequence_numbers_in_one_shard_match_digit_for_digit() {
    let v = load("sequence-kinesalite.json");
    let case = &v["one_shard_20_puts"];
    let mut map = create(1);
    assert_shards(&map, arr(&case["shards"]), "one shard");
    for put in arr(&case["puts"]) {
        let n = map
            .next_sequence_number(ShardId(0), EpochNanos::from_secs(CLOCK))
            .unwrap();
        assert_eq!(
            n.to_string(),
            s(&put["sequence_number"]),
            "put {}",
            put["i"]
        );
        assert_decoded(&n, &put["decoded"]);
    }
}

/// The recorded decoding of a number (fields and hex) matches ours.
fn assert_decoded(n: &SequenceNumber, d: &Value) {
    assert_eq!(s(&d["layout"]), "v2");
    assert_eq!(n.to_hex(), s(&d["hex"]));
    assert_eq!(
        n.shard_created_secs(),
        d["shard_create_secs"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(n.shard_index() & 0xf),
        d["shard_ix_low_nibble"].as_u64().unwrap()
    );
    assert_eq!(n.seq_ix(), d["seq_ix"].as_u64().unwrap());
    assert_eq!(format!("{:02x}", n.byte1()), s(&d["byte1"]));
    assert_eq!(n.record_secs(), d["seq_time_secs"].as_u64().unwrap());
    assert_eq!(u64::from(n.shard_index()), d["shard_ix"].as_u64().unwrap());
    assert_eq!(d["version_nibble"].as_u64().unwrap(), 2);
}

/// Every recorded number decodes to the recorded fields and to the shard it
/// was put in, and numbers increase within each shard.
fn check_recorded_puts(puts: &[Value], context: &str) {
    let mut last: Vec<(ShardId, SequenceNumber)> = Vec::new();
    for put in puts {
        let n: SequenceNumber = s(&put["sequence_number"]).parse().unwrap();
        assert_eq!(n.to_string(), s(&put["sequence_number"]), "{context}");
        assert_decoded(&n, &put["decoded"]);
        let shard = shard_id(&put["shard_id"]);
        assert_eq!(n.shard_index(), shard.index(), "{context}");
        if let Some((_, prev)) = last.iter().find(|(id, _)| *id == shard) {
            assert!(n > *prev, "{context}: not increasing within {shard}");
        }
        last.retain(|(id, _)| *id != shard);
        last.push((shard, n));
    }
}

#[test]
fn sequence_numbers_across_shards_decode_and_increase() {
    let v = load("sequence-kinesalite.json");
    check_recorded_puts(arr(&v["two_shards_alternating"]["puts"]), "two shards");
    check_recorded_puts(arr(&v["counter_groups_7_shards"]["puts"]), "seven shards");

    // Our per-shard counter: each shard counts from 0 on its own.
    let mut map = create(2);
    let now = EpochNanos::from_secs(CLOCK);
    for i in 0..10 {
        for shard in [ShardId(0), ShardId(1)] {
            let n = map.next_sequence_number(shard, now).unwrap();
            assert_eq!(n.seq_ix(), i);
        }
    }
}

#[test]
fn sequence_numbers_across_a_split() {
    let v = load("sequence-kinesalite.json");
    let case = &v["after_split"];
    let before = arr(&case["puts_before_split"]);
    let after = arr(&case["puts_after_split"]);
    check_recorded_puts(before, "before split");
    check_recorded_puts(after, "after split");

    let mut map = create(1);
    let now = EpochNanos::from_secs(CLOCK);
    for put in before {
        let n = map.next_sequence_number(ShardId(0), now).unwrap();
        assert_eq!(n.to_string(), s(&put["sequence_number"]));
    }
    map.split_shard(ShardId(0), u128_of(&case["new_starting_hash_key"]), now)
        .unwrap();
    assert_shards(&map, arr(&case["shards_final"]), "after split");
    let parent_end = map
        .shard(ShardId(0))
        .unwrap()
        .ending_sequence_number()
        .unwrap();
    assert_eq!(parent_end.seq_ix(), SEQ_IX_MAX);
    // Children's numbers, recorded and ours, sort after everything in the parent.
    for put in after {
        let recorded: SequenceNumber = s(&put["sequence_number"]).parse().unwrap();
        assert!(recorded > parent_end);
        let ours = map
            .next_sequence_number(shard_id(&put["shard_id"]), now)
            .unwrap();
        assert!(ours > parent_end);
        assert_eq!(ours.shard_created_secs(), recorded.shard_created_secs());
        assert_eq!(ours.record_secs(), recorded.record_secs());
    }
}

#[test]
fn key_length_limits() {
    let v = load("key-limits-kinesalite.json");
    let records = arr(&v["records"]);
    assert_eq!(records.len(), 5);
    for r in records {
        let key = s(&r["key"]);
        let rejected_by_kinesalite = r.get("error").is_some_and(|e| !e.is_null());
        // Counting as kinesalite does (UTF-16 units), we agree on every key.
        assert_eq!(
            validate_partition_key(key, KeyLengthRule::Utf16Units).is_err(),
            rejected_by_kinesalite,
            "{key:?}"
        );
        // Counting characters (the default), the one difference is the key of
        // 129 emoji: 129 characters but 258 UTF-16 units.
        let chars = key.chars().count();
        assert_eq!(
            validate_partition_key(key, KeyLengthRule::UnicodeScalars).is_err(),
            !(1..=256).contains(&chars),
            "{key:?}"
        );
    }
    let differing: Vec<usize> = records
        .iter()
        .map(|r| s(&r["key"]))
        .filter(|k| {
            validate_partition_key(k, KeyLengthRule::Utf16Units).is_ok()
                != validate_partition_key(k, KeyLengthRule::UnicodeScalars).is_ok()
        })
        .map(|k| k.chars().count())
        .collect();
    assert_eq!(differing, [129, 256]);
}
