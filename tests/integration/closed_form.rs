//! The engine against closed forms, with fixed seeds and stated tolerances.
//! Every run also passes the engine's own conservation check (it returns an
//! error otherwise).

use std::path::Path;

use shardcast::kds::{HashKey, ShardMap};
use shardcast::model::{Outcome, RunOptions, backoff, simulate};
use shardcast::scenario::{Jitter, RetryPolicy, Scenario};
use shardcast::sim::rng::{Purpose, stream};
use shardcast::workload::zipf_probabilities;

fn run(toml: &str, per_second: bool) -> (Scenario, Outcome) {
    let scenario = Scenario::parse(toml, Path::new("test.toml")).unwrap();
    let outcome = simulate(&scenario, RunOptions { per_second }).unwrap();
    (scenario, outcome)
}

/// E[(N - c)+] for N ~ Poisson(lambda): lambda - c + sum_{k<c} (c-k) P(N=k).
fn expected_excess(lambda: f64, c: u64) -> f64 {
    let mut log_p = -lambda; // ln P(N=0)
    let mut below = 0.0;
    for k in 0..c {
        below += (c - k) as f64 * log_p.exp();
        log_p += lambda.ln() - ((k + 1) as f64).ln();
    }
    lambda - c as f64 + below
}

#[test]
fn excess_formula_sanity() {
    // For c = 0 the excess is the mean; for lambda << c it vanishes.
    assert!((expected_excess(10.0, 0) - 10.0).abs() < 1e-12);
    assert!(expected_excess(10.0, 100).abs() < 1e-9);
}

/// One shard, fixed one-second windows, no retries, Poisson arrivals at
/// lambda/s of tiny records: the throttled fraction is E[(N-c)+]/lambda with
/// N ~ Poisson(lambda) and c = 1,000 records/s.
#[test]
fn poisson_into_a_fixed_window_throttles_the_poisson_excess() {
    for lambda in [950.0, 1000.0, 1100.0] {
        let toml = format!(
            r#"
name = "poisson-window"
duration = "1000s"
seed = 11
[stream]
shards = 1
write_limit = "fixed-window"
[[producers]]
name = "p"
count = 4
rate = "{lambda}/s"
size = "1B"
keys = {{ kind = "explicit", hash_keys = ["0"], key_bytes = 1 }}
retry = "none"
"#
        );
        let (_, out) = run(&toml, true);
        let seconds = out.metrics.seconds.as_ref().unwrap();
        assert_eq!(seconds.len(), 1000);
        // Per window: the throttled count is (N - c)+ exactly.
        for row in seconds {
            let n = row.shards.offered_records;
            assert_eq!(row.shards.throttled_records, n.saturating_sub(1000));
        }
        let excess: Vec<f64> = seconds
            .iter()
            .map(|r| r.shards.throttled_records as f64)
            .collect();
        let n = excess.len() as f64;
        let mean = excess.iter().sum::<f64>() / n;
        let var = excess.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let expected = expected_excess(lambda, 1000);
        // 5 standard errors of the mean of 1,000 independent windows.
        let tolerance = 5.0 * (var / n).sqrt();
        assert!(
            (mean - expected).abs() < tolerance,
            "lambda {lambda}: mean excess {mean:.3}, expected {expected:.3} +- {tolerance:.3}"
        );
        let t = &out.metrics.shard_totals[0].counts;
        let fraction = t.throttled_records as f64 / t.offered_records as f64;
        let expected_fraction = expected / lambda;
        assert!(
            (fraction - expected_fraction).abs() < 1.2 * tolerance / lambda,
            "lambda {lambda}: throttled fraction {fraction:.5} vs {expected_fraction:.5}"
        );
    }
}

/// Evenly spaced arrivals at twice a shard's record limit into a token
/// bucket with a one-second burst: exactly the burst plus the refill passes.
#[test]
fn token_bucket_passes_burst_plus_rate() {
    let (_, out) = run(
        r#"
name = "bucket"
duration = "100s"
[stream]
shards = 1
burst = "1s"
[[producers]]
name = "p"
rate = "2000/s"
arrivals = "even"
size = "10B"
keys = { kind = "explicit", hash_keys = ["7"], key_bytes = 1 }
retry = "none"
"#,
        false,
    );
    let t = &out.metrics.shard_totals[0].counts;
    // Arrivals at 0.5 ms, 1.0 ms, ... up to 99.9995 s: 199,999 of them.
    assert_eq!(t.offered_records, 199_999);
    // 1,000 in the initial burst, then one per ms of refill: 99,999 more by
    // the last arrival (the refill of the final 0.5 ms is not used).
    let accepted = t.accepted_records as i64;
    assert!((accepted - 100_999).abs() <= 1, "accepted {accepted}");
    assert_eq!(t.throttled_by_bytes, 0);
    assert_eq!(t.throttled_records, t.throttled_by_records);
}

/// Zipf keys: each key's share, and each shard's share (the sum over the
/// keys it owns), match the exact values from the weights.
#[test]
fn zipf_key_and_shard_shares_match_the_weights() {
    let (scenario, out) = run(
        r#"
name = "zipf"
duration = "100s"
seed = 5
[stream]
shards = 5
[[producers]]
name = "p"
count = 2
rate = "3000/s"
size = "10B"
keys = { kind = "zipf", count = 200, exponent = 1.2, prefix = "key-" }
retry = "none"
"#,
        false,
    );
    let counts = &out.keys[0].records;
    let total: u64 = counts.iter().sum();
    assert_eq!(total, out.metrics.producer_total.produced);
    let exact = zipf_probabilities(200, 1.2);
    let n = total as f64;
    let within = |observed: u64, p: f64, what: &str| {
        let sd = (n * p * (1.0 - p)).sqrt();
        let diff = (observed as f64 - n * p).abs();
        assert!(
            diff < 5.0 * sd + 1.0,
            "{what}: {observed} vs {:.1} (sd {sd:.1})",
            n * p
        );
    };
    for (k, (&c, &p)) in counts.iter().zip(&exact).enumerate() {
        within(c, p, &format!("key-{}", k + 1));
    }
    // Shard shares from the key probabilities and the real partitioning.
    let map = ShardMap::create(5, scenario.start).unwrap();
    let mut shard_p = [0.0; 5];
    for (k, p) in exact.iter().enumerate() {
        let shard = map.shard_for_hash_key(HashKey::from_partition_key(&format!("key-{}", k + 1)));
        shard_p[shard.index() as usize] += p;
    }
    for (i, t) in out.metrics.shard_totals.iter().enumerate() {
        // First attempts only (no retries): offered = the shard's records.
        within(t.counts.offered_records, shard_p[i], &format!("shard {i}"));
    }
}

/// Mean record bytes at the shards: lognormal mean plus the key's bytes.
#[test]
fn lognormal_sizes_reach_the_shards_with_their_mean() {
    let (_, out) = run(
        r#"
name = "sizes"
duration = "100s"
[stream]
shards = 4
[[producers]]
name = "p"
rate = "2000/s"
size = { kind = "lognormal", median = "1000B", sigma = 0.5 }
keys = { kind = "random", key_bytes = 36 }
retry = "none"
"#,
        false,
    );
    let (records, bytes) = out
        .metrics
        .shard_totals
        .iter()
        .fold((0u64, 0u64), |(r, b), t| {
            (r + t.counts.offered_records, b + t.counts.offered_bytes)
        });
    let mean = bytes as f64 / records as f64;
    let exact = 1000.0 * (0.125f64).exp() + 36.0;
    // sd of a draw = 1000 sqrt(e^0.25 (e^0.25 - 1)) = 608; 5 standard errors.
    let tolerance = 5.0 * 608.0 / (records as f64).sqrt() + 0.5;
    assert!(
        (mean - exact).abs() < tolerance,
        "{mean} vs {exact} +- {tolerance}"
    );
    // Random keys spread evenly: each shard within 5 sd of a quarter.
    for t in &out.metrics.shard_totals {
        let sd = (records as f64 * 0.25 * 0.75).sqrt();
        assert!((t.counts.offered_records as f64 - records as f64 / 4.0).abs() < 5.0 * sd);
    }
}

/// Retry n waits uniform on [0, min(cap, base 2^(n-1))] (full jitter), on
/// [d/2, d] (equal jitter) or exactly d (no jitter).
#[test]
fn backoff_delays_follow_their_distribution() {
    let ms = 1_000_000u64;
    let mut policy = RetryPolicy {
        max_attempts: 10,
        base: 100 * ms,
        cap: 2_000 * ms,
        jitter: Jitter::Full,
        ttl: None,
    };
    let mut rng = stream(3, Purpose::Retries, 0);
    let draws = 100_000;
    for (retry, d) in [
        (1u32, 100 * ms),
        (2, 200 * ms),
        (4, 800 * ms),
        (5, 1_600 * ms),
        (6, 2_000 * ms),
        (9, 2_000 * ms),
    ] {
        let xs: Vec<u64> = (0..draws)
            .map(|_| backoff(&policy, retry, &mut rng))
            .collect();
        assert!(xs.iter().all(|&x| x <= d));
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / draws as f64;
        // Uniform on [0, d]: mean d/2, sd d/sqrt(12); 5 standard errors.
        let tol = 5.0 * d as f64 / 12f64.sqrt() / (draws as f64).sqrt();
        assert!((mean - d as f64 / 2.0).abs() < tol, "retry {retry}: {mean}");
        let below_quarter = xs.iter().filter(|&&x| x < d / 4).count() as f64 / draws as f64;
        assert!(
            (below_quarter - 0.25).abs() < 0.01,
            "retry {retry}: {below_quarter}"
        );
    }
    policy.jitter = Jitter::Equal;
    for _ in 0..1000 {
        let x = backoff(&policy, 3, &mut rng);
        assert!((200 * ms..=400 * ms).contains(&x));
    }
    policy.jitter = Jitter::None;
    assert_eq!(backoff(&policy, 3, &mut rng), 400 * ms);
}

/// With no jitter and a throttled shard, every retried record's latency is a
/// sum of the known delays: 100 ms, then 100 + 200 ms, and so on.
#[test]
fn retry_latencies_are_sums_of_known_delays() {
    let (_, out) = run(
        r#"
name = "retries"
duration = "30s"
[stream]
shards = 1
write_limit = "fixed-window"
[[producers]]
name = "p"
rate = "1500/s"
arrivals = "even"
size = "10B"
keys = { kind = "explicit", hash_keys = ["1"], key_bytes = 1 }
retry = { max_attempts = 3, base = "100ms", cap = "1s", jitter = "none" }
"#,
        false,
    );
    let h = &out.metrics.latency_us;
    // Latencies are 0 (first try), 100 ms (second) or 300 ms (third), in µs.
    let mut seen = Vec::new();
    for v in h.iter_recorded() {
        let us = h.highest_equivalent(v.value_iterated_to());
        seen.push((us, v.count_at_value()));
    }
    for (us, _) in &seen {
        assert!(
            [0, 100_000, 300_000].iter().any(|&x| h.equivalent(*us, x)),
            "unexpected latency {us} us"
        );
    }
    let p = &out.metrics.producer_total;
    assert!(p.retries > 0 && p.failed_after_retries > 0);
}

/// KPL-style aggregation: user records are conserved, travel in far fewer
/// Kinesis records of at most `max_size` bytes, and wait at most
/// `max_buffered_time` plus the batch's linger before being sent.
#[test]
fn aggregation_packs_user_records_within_its_limits() {
    let (_, out) = run(
        r#"
name = "agg"
duration = "60s"
[stream]
shards = 2
[[producers]]
name = "kpl"
count = 2
rate = "5000/s"
size = "200B"
keys = { kind = "uniform", count = 5000, prefix = "device-" }
api = "put-records"
batch = { linger = "100ms" }
aggregation = { max_size = "51200B", max_buffered_time = "100ms" }
request_latency = "20ms"
"#,
        false,
    );
    let p = &out.metrics.producer_total;
    let kinesis: u64 = out
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_records)
        .sum();
    let bytes: u64 = out
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_bytes)
        .sum();
    // 10,000 user records/s against 2,000 records/s of capacity: only
    // aggregation lets them through, unthrottled.
    assert_eq!(p.failed_after_retries + p.expired, 0);
    assert_eq!(p.produced, p.accepted + out.pending);
    assert!(
        kinesis * 50 < p.accepted,
        "{kinesis} Kinesis records for {} user records",
        p.accepted
    );
    assert!(p.aggregates > 0 && p.aggregates <= kinesis);
    // Every aggregate within max_size: the largest can't be seen directly,
    // but full aggregates average close to it and none can pass the limit.
    assert!(bytes / kinesis <= 51_200);
    // Latency: at most 100 ms in the aggregate, 100 ms in the batch, 20 ms answer.
    let max_ms = out.metrics.latency_us.max() as f64 / 1000.0;
    assert!(max_ms <= 220.5, "max latency {max_ms} ms");
    assert_eq!(out.metrics.latency_us.len(), p.accepted);
}

/// The cost of a run, extrapolated to a month, against the published
/// figure: 1,000 records/s of 3 KB on 3 provisioned shards, $69.64 a month.
#[test]
fn a_month_of_three_shards_costs_the_published_figure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cost.toml");
    std::fs::write(
        &file,
        r#"
name = "cost"
duration = "10m"
[stream]
shards = 3
[[producers]]
name = "p"
rate = "1000/s"
arrivals = "even"
size = "2964B"
keys = { kind = "random", key_bytes = 36 }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    assert_cmd::Command::cargo_bin("shardcast")
        .unwrap()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut summary = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let headers = summary.headers().unwrap().clone();
    let row = summary.records().next().unwrap().unwrap();
    let monthly: f64 = row[headers
        .iter()
        .position(|h| h == "monthly_cost_usd")
        .unwrap()]
    .parse()
    .unwrap();
    // 599,999 of the 600,000 records of 10 minutes: a hair under $69.64.
    assert!((monthly - 69.64).abs() <= 0.01, "{monthly}");
    let cost = std::fs::read_to_string(out.join("cost.csv")).unwrap();
    assert!(cost.contains("shard hours,0.5000,shard-hour"), "{cost}");
}

/// Extended retention is billed only while retention is above 24 h, and an
/// enhanced fan-out application only from its start.
#[test]
fn time_bound_cost_lines_follow_the_scenario() {
    let text = r#"
name = "cost-periods"
duration = "2h"
[stream]
shards = 2
retention = "48h"
retention_changes = [{ at = "30m", retention = "24h" }]
[[producers]]
name = "p"
rate = "10/s"
size = "100B"
keys = { kind = "random" }
[[consumers]]
name = "late"
kind = "enhanced-fan-out"
starts_at = "1h"
"#;
    let (scenario, outcome) = run(text, false);
    let report = shardcast::report::build(&scenario, &outcome, "").unwrap();
    let (_, cost) = report.files.iter().find(|(n, _)| n == "cost.csv").unwrap();
    let cost = String::from_utf8(cost.clone()).unwrap();
    let quantity = |dimension: &str| -> f64 {
        cost.lines()
            .find(|l| l.split(',').nth(2) == Some(dimension))
            .unwrap_or_else(|| panic!("{dimension} not in {cost}"))
            .split(',')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap()
    };
    // 2 shards x 2 h; extended retention for the first 30 min; EFO for the last hour.
    assert_eq!(quantity("shard hours"), 4.0);
    assert_eq!(quantity("extended retention"), 1.0);
    assert_eq!(quantity("enhanced fan-out"), 2.0);
}

fn cost_lines(scenario: &Scenario, outcome: &Outcome) -> Vec<(String, f64, f64)> {
    let report = shardcast::report::build(scenario, outcome, "").unwrap();
    let (_, cost) = report.files.iter().find(|(n, _)| n == "cost.csv").unwrap();
    let mut r = csv::Reader::from_reader(cost.as_slice());
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (
                row[2].to_owned(),
                row[3].parse().unwrap(),
                row[6].parse().unwrap(),
            )
        })
        .collect()
}

const GB: f64 = 1_073_741_824.0;

/// Data kept past 7 days is billed per GB-month for its whole stay, charged
/// when it arrives; reading it back (a consumer that was stopped for a week)
/// is billed per GB as long-term retrieval.
#[test]
fn long_term_retention_and_retrieval_follow_the_data_age() {
    let text = r#"
name = "long-term"
duration = "170h"
[stream]
shards = 1
retention = "200h"
[[producers]]
name = "p"
rate = "1/s"
arrivals = "even"
size = "964B"
keys = { kind = "random", key_bytes = 36 }
[[consumers]]
name = "late"
start_position = "TRIM_HORIZON"
pauses = [{ at = "0s", duration = "169h" }]
"#;
    let (scenario, outcome) = run(text, false);
    let bytes: u64 = outcome
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_bytes)
        .sum();
    assert_eq!(bytes, 1000 * 170 * 3600 - 1000);
    let lines = cost_lines(&scenario, &outcome);
    let get = |d: &str| lines.iter().find(|l| l.0 == d).cloned();
    // Each byte stays 200 h, 32 of them past 7 days.
    let (_, gb_months, _) = get("long-term retention").expect("long-term retention billed");
    let expect = bytes as f64 * 32.0 / GB / 730.0;
    assert!((gb_months - expect).abs() < 1e-4, "{gb_months} vs {expect}");
    // At 169 h the consumer reads from the start: the first hour's records
    // (3,600 kB) are older than 168 h. Ages are known per backlog slice.
    let (_, gb, cost) = get("long-term retrieval").expect("long-term retrieval billed");
    let read = gb * GB;
    assert!(
        (read - 3.6e6).abs() <= 2.0e4,
        "{read} bytes read from long-term"
    );
    assert!((cost - gb * 0.021).abs() < 1e-4);
}

/// On-demand: extended retention is per GB-month of the data kept between
/// 24 hours and 7 days; On-demand Advantage drops the stream-hour charge and
/// takes its discount off data in, data out and extended retention.
#[test]
fn on_demand_retention_and_advantage_pricing() {
    let text = |advantage: bool| {
        format!(
            r#"
name = "od"
duration = "10m"
[stream]
shards = 4
mode = "on-demand"
advantage_mode = {advantage}
retention = "72h"
[[producers]]
name = "p"
rate = "100/s"
arrivals = "even"
size = "1000B"
keys = {{ kind = "random", key_bytes = 24 }}
"#
        )
    };
    let (scenario, outcome) = run(&text(false), false);
    let bytes: u64 = outcome
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_bytes)
        .sum();
    let standard = cost_lines(&scenario, &outcome);
    let get = |lines: &[(String, f64, f64)], d: &str| lines.iter().find(|l| l.0 == d).cloned();
    let (_, gb_months, cost) = get(&standard, "extended retention").unwrap();
    assert!((gb_months - bytes as f64 * 48.0 / GB / 730.0).abs() < 1e-6);
    assert!((cost - gb_months * 0.10).abs() < 1e-4, "{standard:?}");
    let (_, gb_in, in_cost) = get(&standard, "data in").unwrap();
    // 1,024 bytes each: 1,000 of data plus a 24-byte key, a KiB exactly.
    assert!((gb_in * GB / bytes as f64 - 1.0).abs() < 1e-3);
    assert!(get(&standard, "stream hours").is_some());

    let (scenario, outcome) = run(&text(true), false);
    let advantage = cost_lines(&scenario, &outcome);
    assert!(get(&advantage, "stream hours").is_none());
    let (_, _, adv_in) = get(&advantage, "data in").unwrap();
    assert!(
        (adv_in - 0.4 * in_cost).abs() < 1e-4,
        "{adv_in} vs {in_cost}"
    );
    let (_, _, adv_ret) = get(&advantage, "extended retention").unwrap();
    assert!((adv_ret - 0.4 * cost).abs() < 1e-4);
}

/// Issue 15, item 5: with every answer 20 ms after its request and no
/// throttling, the put latency is 20 ms exactly: the maximum is the
/// largest latency itself (it was the 20.0150 ms edge of its histogram
/// bucket), and p50 and p99 print only the digits the histogram holds.
#[test]
fn r15_latency_max_is_exact_and_quantiles_keep_their_digits() {
    let sc = crate::util::scenario(
        r#"
name = "exact"
duration = "30s"
[stream]
shards = 2
[[producers]]
name = "p"
rate = "500/s"
size = "100B"
keys = { kind = "uniform", count = 100 }
request_latency = "20ms"
"#,
    );
    let out = shardcast::model::simulate(&sc, shardcast::model::RunOptions::default()).unwrap();
    let s = shardcast::analyze(&sc, &out).summary;
    assert_eq!(s.latency_max_ms, 20.0);
    assert_eq!(s.latency_p50_ms.to_string(), "20.0");
    assert_eq!(s.latency_p99_ms.to_string(), "20.0");
}
