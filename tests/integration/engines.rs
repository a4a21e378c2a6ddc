//! The shard engine against the record engine, the reference, on the
//! validation matrix (`scenarios/validation/`): the same seeds on both,
//! and every difference within the tolerances of issue 14 (the table and
//! what each tolerance means: docs/engines.md; `cargo run --release
//! --example engine_agreement` prints the full table with 5 seeds each).

use std::path::Path;

use crate::agreement::{compare, markdown};

/// Compares the engines on `scenarios/validation/NAME.toml` over `reps`
/// seeds; fails with the whole table if anything is out of tolerance.
fn agrees(name: &str, reps: u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/validation")
        .join(format!("{name}.toml"));
    let rows = compare(&path, reps);
    assert!(!rows.is_empty());
    let out: Vec<_> = rows.iter().filter(|r| !r.ok).collect();
    assert!(
        out.is_empty(),
        "{name}: {} of {} out of tolerance\n{}",
        out.len(),
        rows.len(),
        markdown(&rows)
    );
}

#[test]
fn r14_at_half_a_shards_limit() {
    agrees("util-050", 2);
}

#[test]
fn r14_at_90_per_cent() {
    agrees("util-090", 2);
}

#[test]
fn r14_at_the_limit() {
    agrees("util-100", 3);
}

#[test]
fn r14_at_120_per_cent() {
    agrees("util-120", 2);
}

#[test]
fn r14_at_twice_the_limit() {
    agrees("util-200", 2);
}

#[test]
fn r14_a_hot_key_over_one_shards_limit() {
    agrees("hot-key", 2);
}

#[test]
fn r14_a_launch_spike() {
    agrees("launch-spike", 2);
}

#[test]
fn r14_putrecords_batching() {
    agrees("batching", 2);
}

#[test]
fn r14_kpl_aggregation() {
    agrees("kpl", 2);
}

#[test]
fn r14_a_reshard_under_load() {
    agrees("reshard-under-load", 3);
}

#[test]
fn r14_target_tracking_on_a_diurnal_day() {
    agrees("target-tracking", 2);
}

#[test]
fn r14_on_demand_at_twice_the_previous_peak() {
    agrees("on-demand", 2);
}

#[test]
fn r14_a_lagging_consumer_hits_retention() {
    agrees("retention", 2);
}

#[test]
fn r14_an_aggregate_trace_with_a_hot_key_and_a_reshard() {
    agrees("aggregate-trace", 2);
}

#[test]
fn r14_a_switch_to_on_demand_and_back_with_the_services_splits() {
    agrees("mode-switch", 2);
}
