//! Record traces: replayed record by record through the real partitioning,
//! thinned and superposed to the expected counts, keys salted over the
//! expected shards; malformed lines are errors with their line number or
//! skipped and counted; `trace summarize` describes a trace.

use std::fs;
use std::path::Path;

use crate::util::shardcast;
use predicates::prelude::*;
use shardcast::kds::{EpochNanos, HashKey, ShardMap};
use shardcast::model::{Outcome, RunOptions, simulate};
use shardcast::scenario::Scenario;
use shardcast::sim::rng::{Purpose, derive_seed};

fn replay(dir: &Path, trace_line: &str, extra: &str) -> Result<Outcome, String> {
    let text = format!(
        "name = \"replay\"\nduration = \"10s\"\n[stream]\nshards = 4\n[[producers]]\nname = \"t\"\n\
         trace = {{ {trace_line} }}\n{extra}"
    );
    let file = dir.join("replay.toml");
    fs::write(&file, &text).unwrap();
    let scenario = Scenario::load(&file).map_err(|e| e.to_string())?;
    simulate(&scenario, RunOptions { per_second: true }).map_err(|e| e.to_string())
}

/// Writes a scenario into `dir` (beside the files it names) and loads it.
fn load_in(dir: &Path, text: &str) -> Scenario {
    let file = dir.join("scenario.toml");
    fs::write(&file, text).unwrap();
    Scenario::load(&file).unwrap()
}

fn shard_of(key: &str) -> usize {
    let map = ShardMap::create(4, EpochNanos(0)).unwrap();
    map.shard_for_hash_key(HashKey::from_partition_key(key))
        .index() as usize
}

fn accepted_per_shard(out: &Outcome) -> Vec<u64> {
    out.metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_records)
        .collect()
}

#[test]
fn a_small_trace_replays_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    // Epoch milliseconds; the first record is at simulated time 0 (+ shift).
    fs::write(
        dir.path().join("t.csv"),
        "timestamp,partition_key,size,ignored\n\
         1700000000000,alpha,100,x\n\
         1700000000400,beta,200,x\n\
         1700000001500,gamma,300,x\n\
         1700000001500,alpha,400,x\n\
         1700000003250,delta,500,x\n",
    )
    .unwrap();
    let out = replay(
        dir.path(),
        "file = \"t.csv\", time_unit = \"ms\", shift = \"2s\"",
        "",
    )
    .unwrap();
    let mut expected = vec![0u64; 4];
    for k in ["alpha", "beta", "gamma", "alpha", "delta"] {
        expected[shard_of(k)] += 1;
    }
    assert_eq!(accepted_per_shard(&out), expected);
    // Seconds 2 (two records), 3 (two), 5 (one), nothing else.
    let per_second: Vec<u64> = out
        .metrics
        .seconds
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.shards.accepted_records)
        .collect();
    assert_eq!(&per_second[..7], &[0, 0, 2, 2, 0, 1, 0]);
    // A partition key beside an explicit hash key is charged by its length.
    fs::write(
        dir.path().join("both.csv"),
        format!(
            "timestamp,key,hash_key,size\n0,customer-1,{},100\n",
            u128::MAX / 3
        ),
    )
    .unwrap();
    let both = replay(dir.path(), "file = \"both.csv\", key_bytes = 3", "").unwrap();
    assert_eq!(both.metrics.shard_totals[1].counts.accepted_bytes, 110);
    // Bytes: data plus the UTF-8 key.
    let bytes: u64 = out
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_bytes)
        .sum();
    assert_eq!(bytes, 1500 + 5 + 4 + 5 + 5 + 5);
    // The same as JSON Lines, with RFC 3339 times and a time scale of 2.
    fs::write(
        dir.path().join("t.jsonl"),
        "{\"ts\":\"2025-01-01T00:00:00Z\",\"key\":\"alpha\",\"bytes\":100}\n\
         {\"ts\":\"2025-01-01T00:00:04Z\",\"key\":\"beta\",\"bytes\":100}\n",
    )
    .unwrap();
    let out = replay(dir.path(), "file = \"t.jsonl\", time_scale = 2.0", "").unwrap();
    let s = out.metrics.seconds.as_ref().unwrap();
    assert_eq!(s[0].shards.accepted_records, 1);
    assert_eq!(s[2].shards.accepted_records, 1, "4 s of trace in 2 s");
}

fn big_trace(dir: &Path, n: u64) {
    let mut t = String::from("timestamp,key\n");
    for i in 0..n {
        // 1,000 records/s over ten keys.
        t.push_str(&format!("{:.3},k{}\n", i as f64 / 1000.0, i % 10));
    }
    fs::write(dir.join("big.csv"), t).unwrap();
}

#[test]
fn thinning_and_superposition_give_the_expected_counts() {
    let dir = tempfile::tempdir().unwrap();
    big_trace(dir.path(), 8_000);
    let produced = |m: f64| {
        let out = replay(
            dir.path(),
            &format!("file = \"big.csv\", rate_multiplier = {m}"),
            "size = \"10B\"\n",
        )
        .unwrap();
        out.metrics.producer_total.produced
    };
    assert_eq!(produced(1.0), 8_000);
    assert_eq!(
        produced(2.0),
        16_000,
        "superposition by 2: every record twice"
    );
    // Binomial: within 5 standard deviations.
    let half = produced(0.5) as f64;
    assert!(
        (half - 4_000.0).abs() < 5.0 * (8_000.0f64 * 0.25).sqrt(),
        "{half}"
    );
    let one_and_half = produced(1.5) as f64;
    assert!(
        (one_and_half - 12_000.0).abs() < 5.0 * (8_000.0f64 * 0.25).sqrt(),
        "{one_and_half}"
    );
    // Looping fills the duration: 8 s of trace, 10 s of run.
    let out = replay(
        dir.path(),
        "file = \"big.csv\", loop = true",
        "size = \"10B\"\n",
    )
    .unwrap();
    let n = out.metrics.producer_total.produced;
    assert!((9_990..=10_000).contains(&n), "{n}");
}

#[test]
fn a_salted_hot_key_spreads_over_its_sub_keys_shards() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = String::from("timestamp,key,size\n");
    for i in 0..4_000 {
        t.push_str(&format!("{:.4},hot,50\n", f64::from(i) / 1000.0));
    }
    fs::write(dir.path().join("hot.csv"), t).unwrap();
    let out = replay(
        dir.path(),
        "file = \"hot.csv\", salt = [{ key = \"hot\", into = 4 }]",
        "",
    )
    .unwrap();
    let mut weight = [0.0; 4];
    for j in 0..4 {
        weight[shard_of(&format!("hot#{j}"))] += 1000.0;
    }
    let seen = accepted_per_shard(&out);
    for (s, (w, got)) in weight.iter().zip(&seen).enumerate() {
        // Each sub-key draws a quarter: binomial sd about 27.
        assert!((*got as f64 - w).abs() < 150.0, "shard {s}: {got} vs {w}");
    }
    // Unsalted, every record lands on one shard (and is throttled there).
    let out = replay(dir.path(), "file = \"hot.csv\"", "").unwrap();
    let offered: Vec<u64> = out
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.offered_records)
        .collect();
    assert_eq!(offered.iter().filter(|&&x| x > 0).count(), 1);
}

#[test]
fn malformed_lines_name_their_line_or_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("2,a,10\nnot-a-time,b,10\n", 3, "bad timestamp"),
        ("2,a,10\n3,,10\n", 3, "no partition key"),
        ("2,a,10\n3,b,-5\n", 3, "bad size"),
        ("2,a,10\n5,b,10\n4,c,10\n", 4, "timestamps go backwards"),
    ];
    for (body, line, needle) in cases {
        fs::write(
            dir.path().join("bad.csv"),
            format!("timestamp,key,size\n{body}"),
        )
        .unwrap();
        let e = replay(dir.path(), "file = \"bad.csv\"", "").unwrap_err();
        assert!(e.contains(&format!("bad.csv line {line}: {needle}")), "{e}");
        let out = replay(dir.path(), "file = \"bad.csv\", skip_bad_lines = true", "").unwrap();
        assert_eq!(out.trace_lines_skipped, 1, "{body}");
    }
    // Line numbers are an editor's: blank lines and line breaks inside
    // quotes count (the csv reader counts neither), with LF or CRLF line
    // ends. Times out of a 64-bit nanosecond clock are bad lines, not
    // overflow.
    for (body, needle) in [
        (
            "timestamp,key,size\n2,a,10\n\n\n3,\"b\nc\",10\n4,d,x\n",
            "bad.csv line 7: bad size",
        ),
        (
            "timestamp,key,size\r\n2,a,10\r\n\r\n3,\"b\r\nc\",10\r\n4,d,x\r\n",
            "bad.csv line 6: bad size",
        ),
        (
            "timestamp,key,size\n-1e300,a,1\n1e300,b,1\n",
            "bad.csv line 2: timestamp \"-1e300\" is out of range",
        ),
    ] {
        fs::write(dir.path().join("bad.csv"), body).unwrap();
        let e = replay(dir.path(), "file = \"bad.csv\"", "").unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
    // A byte-order mark and quoted names in the header are read as the
    // csv reader reads them; JSON timestamps with escapes are text too.
    fs::write(
        dir.path().join("bom.csv"),
        "\u{feff}\"timestamp\",\"key\",size\n1,a,10\n2,b,10\n",
    )
    .unwrap();
    let out = replay(dir.path(), "file = \"bom.csv\"", "").unwrap();
    assert_eq!(out.metrics.producer_total.produced, 2);
    fs::write(
        dir.path().join("esc.jsonl"),
        "\u{feff}{\"ts\": \"2025-01-01T00:00:01\\u005A\", \"key\": \"a\", \"size\": 3}\n\
         {\"ts\": \"2025-01-01T00:00:02Z\", \"key\": \"b\", \"size\": 3}\n",
    )
    .unwrap();
    let out = replay(dir.path(), "file = \"esc.jsonl\"", "").unwrap();
    assert_eq!(out.metrics.producer_total.produced, 2);
    assert_eq!(
        out.metrics.seconds.as_ref().unwrap()[1].producers.produced,
        1
    );
    // Through the CLI: exit 2 and nothing written; --skip-bad-lines runs.
    fs::write(
        dir.path().join("bad.csv"),
        "timestamp,key,size\n2,a,10\n5,b,10\n4,c,10\n",
    )
    .unwrap();
    assert!(replay(dir.path(), "file = \"bad.csv\"", "").is_err());
    let file = dir.path().join("replay.toml");
    let out = dir.path().join("out");
    shardcast()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.csv line 4: timestamps go backwards",
        ));
    assert!(!out.exists());
    shardcast()
        .arg("run")
        .arg(&file)
        .args(["--skip-bad-lines", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 malformed line(s) skipped"));
    // A trace without a key column, or a missing file, fails validation.
    fs::write(dir.path().join("bad.csv"), "timestamp,size\n1,2\n").unwrap();
    let e = replay(dir.path(), "file = \"bad.csv\"", "").unwrap_err();
    assert!(
        e.contains("trace.file") && e.contains("no key column"),
        "{e}"
    );
    let e = replay(dir.path(), "file = \"nope.csv\"", "").unwrap_err();
    // Issue 16: named by its full path, where it was looked for.
    let full = std::path::absolute(dir.path().join("nope.csv")).unwrap();
    assert!(
        e.contains(&format!("no such file: {}", full.display())),
        "{e}"
    );
    let e = replay(dir.path(), "file = \"big.csv\"", "rate = \"5/s\"\n").unwrap_err();
    assert!(e.contains("does not apply to a trace producer"), "{e}");
}

#[test]
fn summarize_lists_rate_keys_shards_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = String::from("timestamp,key,size\n");
    for i in 0..600 {
        let key = if i % 3 == 0 {
            "hot".to_owned()
        } else {
            format!("u{i}")
        };
        t.push_str(&format!("{},{key},{}\n", i / 5, 100 + i % 7));
    }
    let path = dir.path().join("s.csv");
    fs::write(&path, t).unwrap();
    let out = shardcast()
        .args(["trace", "summarize"])
        .arg(&path)
        .args(["--shards", "4", "--top", "3"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("600 records over 119.0 s"), "{text}");
    assert!(text.contains("keys: 401 distinct"), "{text}");
    let hot = text
        .lines()
        .find(|l| l.trim_start().starts_with("hot "))
        .unwrap();
    assert!(hot.contains("200 records"), "{hot}");
    assert!(
        hot.contains(&format!("shardId-{:012}", shard_of("hot"))),
        "{hot}"
    );
    assert!(text.contains("sizes: mean 103 B"), "{text}");
    assert!(
        text.contains("rate per second") && text.contains("     0 s          5.0"),
        "{text}"
    );
    // Past an hour the rate is listed per minute.
    fs::write(&path, "timestamp,key\n0,a\n30,a\n7200,b\n").unwrap();
    let out = shardcast()
        .args(["trace", "summarize"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("rate per minute"), "{text}");
    assert!(
        text.contains("     0 min        0.0") && text.contains("   120 min        0.0"),
        "{text}"
    );
    // The empty minutes between are one line, not 119.
    assert!(text.contains("(119 minutes without records)"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains(" min ")).count(), 2);
    // A stray epoch timestamp after small ones: a few lines, not one per
    // second of 54 years; a key that looks like a shard stays a key.
    fs::write(
        &path,
        "timestamp,key
0,shard:3
1700000000,hash:5
",
    )
    .unwrap();
    let out = shardcast()
        .args(["trace", "summarize", "--shards", "4"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("rate per day"), "{text}");
    assert!(text.lines().count() < 20, "{text}");
    for key in ["shard:3", "hash:5"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing: {text}"));
        assert!(
            line.contains(&format!("shardId-{:012}", shard_of(key))),
            "{line}"
        );
    }
}

/// The response of `aws cloudwatch get-metric-data` (documented shape,
/// newest first, `+00:00` times) imports to the rate of each minute.
#[test]
fn a_cloudwatch_export_becomes_the_rate_profile() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("cw.json"),
        r#"{
    "MetricDataResults": [
        {
            "Id": "records",
            "Label": "IncomingRecords",
            "Timestamps": ["2025-03-01T10:02:00+00:00", "2025-03-01T10:01:00+00:00", "2025-03-01T10:00:00+00:00"],
            "Values": [30000.0, 120000.0, 60000.0],
            "StatusCode": "Complete"
        },
        {
            "Id": "bytes",
            "Label": "IncomingBytes",
            "Timestamps": ["2025-03-01T10:02:00+00:00"],
            "Values": [3000000.0],
            "StatusCode": "Complete"
        }
    ],
    "Messages": []
}"#,
    )
    .unwrap();
    let scenario = |rate: &str| {
        let text = format!(
            "name = \"cw\"\nduration = \"3m\"\n[stream]\nshards = 4\n[[producers]]\nname = \"p\"\n\
             rate = {rate}\narrivals = \"even\"\nsize = \"100B\"\nkeys = {{ kind = \"random\" }}\n"
        );
        let file = dir.path().join("cw.toml");
        fs::write(&file, text).unwrap();
        Scenario::load(&file)
    };
    let s = scenario("{ kind = \"cloudwatch\", file = \"cw.json\" }").unwrap();
    assert!(
        s.notes[0].contains("3 CloudWatch datapoints of 60 s"),
        "{:?}",
        s.notes
    );
    assert!(s.notes[0].contains("hides micro-bursts"));
    let out = simulate(&s, RunOptions::default()).unwrap();
    let per_minute: Vec<u64> = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.producers.produced)
        .collect();
    // Even arrivals: a step's first record is one gap after its start, so
    // a minute can end one record short of its sum.
    for (got, want) in per_minute.iter().zip([60_000u64, 120_000, 30_000]) {
        assert!(got.abs_diff(want) <= 1, "{per_minute:?}");
    }
    assert_eq!(per_minute.len(), 3);
    // Bursts within the minute keep each minute's total, and are bursty.
    let s = scenario("{ kind = \"cloudwatch\", file = \"cw.json\", burstiness = 1.0 }").unwrap();
    let out = simulate(&s, RunOptions { per_second: true }).unwrap();
    let m: Vec<u64> = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.producers.produced)
        .collect();
    for (got, want) in m.iter().zip([60_000u64, 120_000, 30_000]) {
        assert!(got.abs_diff(want) <= 60, "{got} vs {want}");
    }
    let peak = out
        .metrics
        .seconds
        .as_ref()
        .unwrap()
        .iter()
        .take(60)
        .map(|x| x.producers.produced)
        .max()
        .unwrap();
    assert!(
        peak > 2_000,
        "peak second {peak}: no burst above 2x the 1,000/s mean"
    );
    // A CSV export, shard-level rows added up per time.
    fs::write(
        dir.path().join("cw.csv"),
        "Timestamp,ShardId,Sum\n2025-03-01T10:00:00Z,shardId-000000000000,600\n\
         2025-03-01T10:00:00Z,shardId-000000000001,600\n2025-03-01T10:01:00Z,shardId-000000000000,60\n",
    )
    .unwrap();
    let s = scenario("{ kind = \"cloudwatch\", file = \"cw.csv\" }").unwrap();
    let out = simulate(&s, RunOptions::default()).unwrap();
    let m: Vec<u64> = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.producers.produced)
        .collect();
    assert!(
        m[0].abs_diff(1_200) <= 1 && m[1].abs_diff(60) <= 1 && m[2] == 0,
        "{m:?}"
    );
    // Bad files are errors naming the file and the problem.
    fs::write(dir.path().join("cw.csv"), "Timestamp,Sum\nyesterday,5\n").unwrap();
    let e = scenario("{ kind = \"cloudwatch\", file = \"cw.csv\" }")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cw.csv: line 2: bad timestamp"), "{e}");
    let e = scenario("{ kind = \"cloudwatch\", file = \"cw.json\", metric = \"Nope\" }")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no result with Id or Label \"Nope\"")
            && e.contains("records (IncomingRecords)"),
        "{e}"
    );
}

/// Get-metric-data JSON of `IncomingRecords` at the given times (RFC 3339)
/// with the given sums.
fn metric_data(points: &[(&str, f64)]) -> String {
    let times: Vec<String> = points.iter().map(|p| format!("\"{}\"", p.0)).collect();
    let values: Vec<String> = points.iter().map(|p| format!("{:.1}", p.1)).collect();
    format!(
        "{{\"MetricDataResults\": [{{\"Id\": \"records\", \"Label\": \"IncomingRecords\", \
         \"Timestamps\": [{}], \"Values\": [{}]}}]}}",
        times.join(", "),
        values.join(", ")
    )
}

fn cloudwatch_scenario(dir: &Path, rate: &str) -> Result<Scenario, String> {
    let text = format!(
        "name = \"cw\"\nduration = \"3m\"\nseed = 9\n[stream]\nshards = 4\n[[producers]]\n\
         name = \"p\"\nrate = {rate}\narrivals = \"even\"\nsize = \"100B\"\n\
         keys = {{ kind = \"random\" }}\n"
    );
    let file = dir.join("cw.toml");
    fs::write(&file, text).unwrap();
    Scenario::load(&file).map_err(|e| e.to_string())
}

/// Each datapoint is one period's sum: a period longer than the gap between
/// datapoints (overlapping periods) or one that does not divide every gap
/// is an error naming the field and what is accepted; a gap of several
/// periods is periods without records.
#[test]
fn a_cloudwatch_period_must_fit_the_datapoints() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("cw.json"),
        metric_data(&[
            ("2025-03-01T10:00:00Z", 6000.0),
            ("2025-03-01T10:01:00Z", 12_000.0),
            ("2025-03-01T10:03:00Z", 600.0),
        ]),
    )
    .unwrap();
    let e = cloudwatch_scenario(
        d,
        "{ kind = \"cloudwatch\", file = \"cw.json\", period = \"5m\" }",
    )
    .unwrap_err();
    assert!(
        e.contains("producers[0] (\"p\").rate.period: 5m is out of range; accepted range is 1s to 1m: datapoints are 60 s apart"),
        "{e}"
    );
    assert!(e.contains("cw.toml line "), "{e}");
    // In a list of components, the component's index is named.
    let e = cloudwatch_scenario(
        d,
        "[{ kind = \"constant\", rate = \"10/s\" }, { kind = \"cloudwatch\", file = \"cw.json\", period = \"45s\" }]",
    )
    .unwrap_err();
    assert!(
        e.contains("producers[0] (\"p\").rate[1].period: 45s does not fit the datapoints at 2025-03-01T10:00:00Z and 2025-03-01T10:01:00Z, 60 s apart")
            && e.contains("the largest period that fits every gap is 1m"),
        "{e}"
    );
    // A divisor of every gap is accepted: each sum over its first 30 s.
    let s = cloudwatch_scenario(
        d,
        "{ kind = \"cloudwatch\", file = \"cw.json\", period = \"30s\" }",
    )
    .unwrap();
    assert!(s.notes[0].contains("datapoints of 30 s"), "{:?}", s.notes);
    let out = simulate(&s, RunOptions { per_second: true }).unwrap();
    let seconds: Vec<u64> = out
        .metrics
        .seconds
        .as_ref()
        .unwrap()
        .iter()
        .map(|x| x.producers.produced)
        .collect();
    assert!(
        seconds[..30].iter().sum::<u64>().abs_diff(6000) <= 1,
        "{seconds:?}"
    );
    assert_eq!(seconds[30..60].iter().sum::<u64>(), 0, "{seconds:?}");
    // Without a period the smallest gap is used, and must divide the others.
    fs::write(
        d.join("cw.json"),
        metric_data(&[
            ("2025-03-01T10:00:00Z", 6000.0),
            ("2025-03-01T10:01:00Z", 6000.0),
            ("2025-03-01T10:02:30Z", 6000.0),
        ]),
    )
    .unwrap();
    let e = cloudwatch_scenario(d, "{ kind = \"cloudwatch\", file = \"cw.json\" }").unwrap_err();
    assert!(
        e.contains("rate.period: not given, so the smallest gap between datapoints: 1m does not fit the datapoints at 2025-03-01T10:01:00Z and 2025-03-01T10:02:30Z, 90 s apart")
            && e.contains("the largest period that fits every gap is 30s (in ")
            && e.ends_with("cw.json)"),
        "{e}"
    );
    // The command line says the same, with exit code 2.
    shardcast()
        .arg("validate")
        .arg(d.join("cw.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "rate.period: not given, so the smallest gap between datapoints",
        ));
}

/// Bursts within a period are drawn from the run's seed: replications (other
/// seeds) see other bursts with the same per-minute totals, and a seed
/// repeats its bursts exactly.
#[test]
fn cloudwatch_bursts_follow_the_run_seed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("cw.json"),
        metric_data(&[
            ("2025-03-01T10:00:00Z", 60_000.0),
            ("2025-03-01T10:01:00Z", 120_000.0),
            ("2025-03-01T10:02:00Z", 30_000.0),
        ]),
    )
    .unwrap();
    let mut s = cloudwatch_scenario(
        dir.path(),
        "{ kind = \"cloudwatch\", file = \"cw.json\", burstiness = 1.0 }",
    )
    .unwrap();
    let per_second = |s: &mut Scenario, seed: u64| {
        s.seed = seed;
        let out = simulate(s, RunOptions { per_second: true }).unwrap();
        let seconds: Vec<u64> = out
            .metrics
            .seconds
            .as_ref()
            .unwrap()
            .iter()
            .map(|x| x.producers.produced)
            .collect();
        let minutes: Vec<u64> = out
            .metrics
            .minutes
            .iter()
            .map(|m| m.producers.produced)
            .collect();
        (seconds, minutes)
    };
    let (nine, nine_minutes) = per_second(&mut s, 9);
    let (other, other_minutes) = per_second(&mut s, derive_seed(9, Purpose::Replication, 1));
    assert_eq!(per_second(&mut s, 9).0, nine, "a seed repeats its bursts");
    assert_ne!(nine, other, "another seed drew the same bursts");
    // The bursts keep each minute's sum, and even arrivals add the rate up
    // second by second, so each minute sends its sum to a record or two.
    // Unscaled factors (mean 1 only in expectation) would miss by about
    // 17 % at sigma 1.
    for minutes in [&nine_minutes, &other_minutes] {
        for (got, want) in minutes.iter().zip([60_000u64, 120_000, 30_000]) {
            assert!(got.abs_diff(want) <= 2, "{minutes:?}");
        }
    }
    // Poisson arrivals thin against the bursts' peak: each minute's count
    // is its sum within 4 sd (a bound below the peak would clip bursts
    // and lose a third of them at sigma 1).
    s.producers[0].arrivals = shardcast::workload::Arrivals::Poisson;
    let (seconds, minutes) = per_second(&mut s, 9);
    for (got, want) in minutes.iter().zip([60_000u64, 120_000, 30_000]) {
        let sd = (want as f64).sqrt();
        assert!((*got as f64 - want as f64).abs() < 4.0 * sd, "{minutes:?}");
    }
    // A run's first minutes do not depend on its length: the bursts and
    // their peak come from the whole import, not the part the run covers;
    // and arrivals stop where the import ends.
    s.duration = 90 * 1_000_000_000;
    let (short, _) = per_second(&mut s, 9);
    assert_eq!(short[..90], seconds[..90]);
    s.duration = 3_600 * 1_000_000_000;
    let (long, _) = per_second(&mut s, 9);
    assert_eq!(long[..180], seconds[..180]);
    assert!(long[180..].iter().all(|&n| n == 0));
}

/// Aggregate traces (records and bytes per interval, per key or per shard)
/// become arrivals within each interval; a shard's rows land on that shard.
#[test]
fn aggregate_rows_become_records_within_their_interval() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("agg.csv"),
        "timestamp,key,records,bytes\n0,alpha,300,30000\n0,beta,100,10000\n1,alpha,0,0\n2,alpha,500,50000\n",
    )
    .unwrap();
    let out = replay(dir.path(), "file = \"agg.csv\", within = \"even\"", "").unwrap();
    let s: Vec<u64> = out
        .metrics
        .seconds
        .as_ref()
        .unwrap()
        .iter()
        .take(4)
        .map(|x| x.producers.produced)
        .collect();
    assert_eq!(s, [400, 0, 500, 0]);
    let bytes: u64 = out
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.offered_bytes)
        .sum();
    // 100 bytes of data each, plus the key.
    assert_eq!(bytes, 800 * 105 + 100 * 104);
    // Uniform within a row (sorted order statistics, made one by one):
    // a 10-second row of 10,000 puts 1,000 +- 5 sd (30) in each second.
    fs::write(
        dir.path().join("ten.csv"),
        "timestamp,key,records\n0,a,10000\n",
    )
    .unwrap();
    let out = replay(
        dir.path(),
        "file = \"ten.csv\", interval = \"10s\", within = \"uniform\"",
        "size = \"1B\"\nretry = \"none\"\n",
    )
    .unwrap();
    let s: Vec<u64> = out.metrics.seconds.as_ref().unwrap()[..10]
        .iter()
        .map(|x| x.producers.produced)
        .collect();
    assert_eq!(s.iter().sum::<u64>(), 10_000);
    assert!(s.iter().all(|&n| n.abs_diff(1_000) < 150), "{s:?}");
    // Poisson counts: about the row's count.
    let out = replay(dir.path(), "file = \"agg.csv\", within = \"poisson\"", "").unwrap();
    let n = out.metrics.producer_total.produced as f64;
    assert!((n - 900.0).abs() < 5.0 * 30.0, "{n}");
    // Per-shard rows: every record on its shard, with hash keys from its range.
    fs::write(
        dir.path().join("shards.csv"),
        "timestamp,shard_id,records\n0,shardId-000000000002,700\n0,shardId-000000000000,200\n",
    )
    .unwrap();
    let out = replay(
        dir.path(),
        "file = \"shards.csv\", shards = 4",
        "size = \"100B\"\n",
    )
    .unwrap();
    assert_eq!(accepted_per_shard(&out)[1..], [0, 700, 0]);
    assert_eq!(accepted_per_shard(&out)[0], 200);
    // The shard count is the captured stream's, and must be said: rows
    // of a 2-shard capture on a 4-shard stream keep their hash ranges
    // (shardId-1 of 2 is the upper half: shards 2 and 3 of 4).
    let e = replay(dir.path(), "file = \"shards.csv\"", "size = \"100B\"\n").unwrap_err();
    assert!(
        e.contains("trace.shards") && e.contains("is required: the trace has a shard_id column"),
        "{e}"
    );
    fs::write(
        dir.path().join("half.csv"),
        "timestamp,shard_id,records\n0,shardId-000000000001,600\n",
    )
    .unwrap();
    let out = replay(
        dir.path(),
        "file = \"half.csv\", shards = 2",
        "size = \"100B\"\n",
    )
    .unwrap();
    let per = accepted_per_shard(&out);
    assert_eq!(per[0] + per[1], 0, "{per:?}");
    assert_eq!(per[2] + per[3], 600, "{per:?}");
    assert!(per[2] > 200 && per[3] > 200, "{per:?}");
    // A row's records are made one at a time, up to the horizon: an hour
    // row of 36 billion records (2 TB if expanded at once) replays its
    // first millisecond, 10,000 records, evenly spaced or about that many
    // uniformly.
    fs::write(
        dir.path().join("big-row.csv"),
        "timestamp,key,records\n0,a,36000000000\n",
    )
    .unwrap();
    for (within, lo, hi) in [("even", 10_000, 10_000), ("uniform", 9_500, 10_500)] {
        let s = load_in(
            dir.path(),
            &format!(
                "name = \"big\"\nduration = \"1ms\"\n[stream]\nshards = 1\n[[producers]]\nname = \"t\"\n\
                 retry = \"none\"\nsize = \"1B\"\n\
                 trace = {{ file = \"big-row.csv\", interval = \"1h\", within = \"{within}\" }}\n"
            ),
        );
        let out = simulate(&s, RunOptions::default()).unwrap();
        let n = out.metrics.producer_total.produced;
        assert!((lo..=hi).contains(&n), "{within}: {n}");
    }
    // A shard the stream does not have is an error with its line.
    fs::write(
        dir.path().join("shards.csv"),
        "timestamp,shard_id,records\n0,shardId-000000000009,7\n1,shardId-000000000001,5\n",
    )
    .unwrap();
    let e = replay(
        dir.path(),
        "file = \"shards.csv\", shards = 4",
        "size = \"100B\"\n",
    )
    .unwrap_err();
    assert!(e.contains("shards.csv line 2: shardId-000000000009"), "{e}");
    // ... or a bad line like any other, skipped and counted.
    let out = replay(
        dir.path(),
        "file = \"shards.csv\", shards = 4, skip_bad_lines = true",
        "size = \"100B\"\n",
    )
    .unwrap();
    assert_eq!(out.trace_lines_skipped, 1);
    assert_eq!(accepted_per_shard(&out), [0, 5, 0, 0]);
    // Record-trace options refuse aggregate-only fields.
    fs::write(dir.path().join("rec.csv"), "timestamp,key\n0,a\n").unwrap();
    let e = replay(
        dir.path(),
        "file = \"rec.csv\", within = \"even\"",
        "size = \"1B\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("trace.within") && e.contains("applies only to an aggregate trace"),
        "{e}"
    );
}

/// A replay counts its keys: keys.csv names the trace's hot key with its
/// shard, salted sub-keys appear as themselves, and the planner's salted
/// what-if salts a replayed key.
#[test]
fn replayed_keys_reach_keys_csv_and_the_planner() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = String::from("timestamp,key,size\n");
    for i in 0..6_000u32 {
        let key = if i % 2 == 0 {
            "hot".to_owned()
        } else {
            format!("u{}", i % 50)
        };
        t.push_str(&format!("{:.5},{key},100\n", f64::from(i) / 3000.0));
    }
    fs::write(dir.path().join("hot.csv"), t).unwrap();
    let keys_csv = |salt: &str| {
        let file = dir.path().join("k.toml");
        fs::write(
            &file,
            format!(
                "name = \"k\"\nduration = \"2s\"\n[stream]\nshards = 4\n[[producers]]\nname = \"t\"\n\
                 trace = {{ file = \"hot.csv\"{salt} }}\n[slo]\nmax_throttle_rate = 0.01\n"
            ),
        )
        .unwrap();
        let s = Scenario::load(&file).unwrap();
        let out = simulate(&s, RunOptions::default()).unwrap();
        let rep = shardcast::report::build(&s, &out, "").unwrap();
        let (_, k) = rep.files.iter().find(|(n, _)| n == "keys.csv").unwrap();
        (s, String::from_utf8(k.clone()).unwrap())
    };
    let (scenario, plain) = keys_csv("");
    let top = plain.lines().nth(1).unwrap();
    assert!(
        top.starts_with(&format!(
            "t,hot,{},shardId-{:012},3000,",
            HashKey::from_partition_key("hot").0,
            shard_of("hot")
        )),
        "{top}"
    );
    // 1,500 records/s: over one shard's limit.
    assert!(top.ends_with(",true"), "{top}");
    assert_eq!(plain.lines().count(), 1 + 20, "the top 20 keys");
    let (_, salted) = keys_csv(", salt = [{ key = \"hot\", into = 3 }]");
    assert!(
        salted.contains("\nt,hot#0,") && salted.contains("\nt,hot#2,"),
        "{salted}"
    );
    assert!(!salted.contains("\nt,hot,"));
    // The planner names the key and its what-if salts the replay.
    let p = shardcast::plan::plan(
        &scenario,
        shardcast::plan::PlanOptions {
            replications: 2,
            min_shards: 1,
            max_shards: 8,
            on_demand: false,
        },
    )
    .unwrap();
    assert_eq!(p.recommended, None);
    assert_eq!(p.hot_keys.len(), 1, "{:?}", p.hot_keys);
    assert_eq!(p.hot_keys[0].key, "t:hot");
    let (n, best) = p.salted.clone().expect("the what-if ran on the replay");
    assert!(
        n.is_some() && best.unwrap().meets,
        "salting the replayed key helps"
    );
}

/// Review findings: equal times keep file order; a looped trace of one
/// instant does not spin; summarize refuses backwards timestamps.
#[test]
fn equal_times_keep_file_order_and_edge_traces_end() {
    let dir = tempfile::tempdir().unwrap();
    // Sizes 400, 200, 300 at one instant: sent in that order, so with
    // PutRecord and no throttling the bytes arrive in file order; the
    // per-second series cannot tell order, the first throttled can: one
    // shard, records of 600 KB, the bucket takes the first (400 KB + 600)
    // only if it comes first.
    fs::write(
        dir.path().join("eq.csv"),
        "timestamp,key,size\n1,k,700000\n1,k,200000\n1,k,300000\n",
    )
    .unwrap();
    let s = load_in(
        dir.path(),
        "name = \"eq\"\nduration = \"3s\"\n[stream]\nshards = 1\n[[producers]]\nname = \"t\"\n\
         retry = \"none\"\ntrace = { file = \"eq.csv\" }\n",
    );
    let out = simulate(&s, RunOptions::default()).unwrap();
    // 1 MiB bucket: 700 KB then 200 KB pass, 300 KB is refused. Sorted by
    // size (200, 300, 700) the 700 KB one would be refused instead.
    let t = &out.metrics.shard_totals[0].counts;
    assert_eq!(t.accepted_bytes, 700_001 + 200_001, "{t:?}");
    // One instant, looped: ends (one pass a second).
    fs::write(dir.path().join("one.csv"), "timestamp,key\n5,a\n5,b\n").unwrap();
    let out = replay(
        dir.path(),
        "file = \"one.csv\", loop = true",
        "size = \"1B\"\n",
    )
    .unwrap();
    assert_eq!(out.metrics.producer_total.produced, 20);
    // summarize: backwards timestamps are an error with the line.
    fs::write(dir.path().join("back.csv"), "timestamp,key\n100,a\n50,b\n").unwrap();
    shardcast()
        .args(["trace", "summarize"])
        .arg(dir.path().join("back.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 3: timestamps go backwards"));
}

/// Review findings: the planner salts a replayed partition key even when
/// it is all digits (only explicit hash keys cannot be salted), and its
/// bytes-only formula counts a trace's bytes.
#[test]
fn the_planner_salts_numeric_partition_keys_and_sizes_traces() {
    let dir = tempfile::tempdir().unwrap();
    let plan = |header: &str, hot: &str| {
        let mut t = format!("timestamp,{header},size\n");
        for i in 0..6_000u32 {
            let key = if i % 2 == 0 {
                hot.to_owned()
            } else {
                format!("{}", 1000 + i % 50)
            };
            t.push_str(&format!("{:.5},{key},1000\n", f64::from(i) / 3000.0));
        }
        fs::write(dir.path().join("n.csv"), t).unwrap();
        let file = dir.path().join("n.toml");
        fs::write(
            &file,
            "name = \"n\"\nduration = \"2s\"\n[stream]\nshards = 4\n[[producers]]\nname = \"t\"\n\
             trace = { file = \"n.csv\", key_bytes = 2 }\n[slo]\nmax_throttle_rate = 0.01\n",
        )
        .unwrap();
        shardcast::plan::plan(
            &Scenario::load(&file).unwrap(),
            shardcast::plan::PlanOptions {
                replications: 1,
                min_shards: 1,
                max_shards: 8,
                on_demand: false,
            },
        )
        .unwrap()
    };
    let p = plan("key", "42");
    assert_eq!(p.hot_keys.len(), 1, "{:?}", p.hot_keys);
    assert!(p.hot_keys[0].partition_key && p.hot_keys[0].name == "42");
    assert!(p.salted.is_some(), "the numeric key is salted");
    // 3,000 records/s of 1,002-1,004 bytes: 2.87 MiB/s, 3 shards by bytes;
    // 1 KiB each (rounded up) by the guide: 2,930 KiB/s, 3 shards.
    assert_eq!((p.formulas.guide, p.formulas.bytes_only), (3, 3));
    // The same traffic on explicit hash keys: named, not salted.
    let p = plan("explicit_hash_key", "42");
    assert_eq!(p.hot_keys.len(), 1, "{:?}", p.hot_keys);
    assert!(!p.hot_keys[0].partition_key);
    assert!(p.salted.is_none());
    assert_eq!((p.formulas.guide, p.formulas.bytes_only), (3, 3));
}

/// Bad replay options are errors naming the field and its accepted range.
#[test]
fn bad_trace_options_name_the_field_and_range() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), "timestamp,key\n0,a\n").unwrap();
    fs::write(dir.path().join("a.csv"), "timestamp,key,records\n0,a,5\n").unwrap();
    let long = "k".repeat(254);
    let cases = [
        (
            "time_scale = 0.0",
            "trace.time_scale",
            "accepted range is 0.001 to 1000",
        ),
        (
            "rate_multiplier = 0.0",
            "trace.rate_multiplier",
            "accepted range",
        ),
        (
            "copy_spread = \"2h\"",
            "trace.copy_spread",
            "accepted range is 0s to 1h",
        ),
        (
            "salt = [{ key = \"a\", into = 0 }]",
            "trace.salt",
            "accepted range is 1 to 10000",
        ),
        (
            &format!("salt = [{{ key = \"{long}\", into = 20 }}]"),
            "trace.salt",
            "up to 257 characters; accepted length is 1 to 256",
        ),
        (
            "remap = [{ from = \"a\", to = \"\" }]",
            "trace.remap",
            "to = \"\" has 0 characters; a partition key has 1 to 256",
        ),
        (
            "key_bytes = 2000",
            "trace.key_bytes",
            "accepted range is 0 to 1024",
        ),
    ];
    for (option, field, range) in cases {
        let e = replay(
            dir.path(),
            &format!("file = \"t.csv\", {option}"),
            "size = \"1B\"\n",
        )
        .unwrap_err();
        assert!(e.contains(field) && e.contains(range), "{option}: {e}");
    }
    let e = replay(
        dir.path(),
        "file = \"a.csv\", interval = \"2h\"",
        "size = \"1B\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("trace.interval") && e.contains("accepted range is 1ms to 1h"),
        "{e}"
    );
    // At the edges, accepted: 256-character sub-keys, 256 key bytes.
    let edge = "k".repeat(253);
    replay(
        dir.path(),
        &format!("file = \"t.csv\", salt = [{{ key = \"{edge}\", into = 20 }}], key_bytes = 256"),
        "size = \"1B\"\n",
    )
    .unwrap();
}

/// `trace hash` writes a copy without the keys that replays exactly: the
/// same records on the same shards, charged the same bytes.
#[test]
fn a_hashed_trace_replays_as_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,partition_key,size,user_email\n");
    let mut jsonl = String::new();
    for i in 0..3_000u32 {
        let key = if i % 3 == 0 {
            "customer-42".to_owned()
        } else {
            format!("customer-{}", i % 97)
        };
        let t = f64::from(i) / 1000.0;
        csv.push_str(&format!(
            "{t:.3},{key},{},secret{i}@example.com\n",
            100 + i % 50
        ));
        jsonl.push_str(&format!(
            "{{\"ts\": {t:.3}, \"key\": \"{key}\", \"size\": {}}}\n",
            100 + i % 50
        ));
    }
    fs::write(dir.path().join("orig.csv"), csv).unwrap();
    fs::write(dir.path().join("orig.jsonl"), jsonl).unwrap();
    for ext in ["csv", "jsonl"] {
        let orig = dir.path().join(format!("orig.{ext}"));
        let hashed = dir.path().join(format!("hashed.{ext}"));
        shardcast()
            .args(["trace", "hash"])
            .arg(&orig)
            .arg("--out")
            .arg(&hashed)
            .assert()
            .success()
            .stdout(predicate::str::contains("3000 lines"));
        let text = fs::read_to_string(&hashed).unwrap();
        assert!(
            !text.contains("customer") && !text.contains("secret"),
            "no key or other column is left"
        );
        let a = replay(dir.path(), &format!("file = \"orig.{ext}\""), "").unwrap();
        let b = replay(dir.path(), &format!("file = \"hashed.{ext}\""), "").unwrap();
        let per_shard = |o: &Outcome| -> Vec<(u64, u64)> {
            o.metrics
                .shard_totals
                .iter()
                .map(|t| (t.counts.offered_records, t.counts.offered_bytes))
                .collect()
        };
        assert_eq!(per_shard(&a), per_shard(&b), "{ext}");
        assert_eq!(
            a.metrics.seconds.as_ref().unwrap()[..3]
                .iter()
                .map(|s| s.producers.produced)
                .collect::<Vec<_>>(),
            [1000, 1000, 1000]
        );
        assert_eq!(a.metrics.latency_us.len(), b.metrics.latency_us.len());
    }
    // The copy keeps the input's format, is not the input, and a bad line
    // leaves nothing behind.
    shardcast()
        .args(["trace", "hash"])
        .arg(dir.path().join("orig.csv"))
        .arg("--out")
        .arg(dir.path().join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name it .csv"));
    let orig = dir.path().join("orig.csv");
    let before = fs::read(&orig).unwrap();
    shardcast()
        .args(["trace", "hash"])
        .arg(&orig)
        .arg("--out")
        .arg(&orig)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the input"));
    assert_eq!(fs::read(&orig).unwrap(), before, "the input is untouched");
    fs::write(dir.path().join("bad.csv"), "timestamp,key\n1,a\nx,b\n").unwrap();
    shardcast()
        .args(["trace", "hash"])
        .arg(dir.path().join("bad.csv"))
        .arg("--out")
        .arg(dir.path().join("bad-hashed.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.csv line 3: bad timestamp"));
    assert!(!dir.path().join("bad-hashed.csv").exists());
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A key_bytes column beside a hash key is range-checked.
    fs::write(
        dir.path().join("kb.csv"),
        "timestamp,explicit_hash_key,key_bytes\n1,5,2000\n",
    )
    .unwrap();
    let e = replay(dir.path(), "file = \"kb.csv\"", "size = \"1B\"\n").unwrap_err();
    assert!(
        e.contains("kb.csv line 2: key_bytes 2000 is out of range; accepted range is 0 to 1024"),
        "{e}"
    );
}

/// IncomingBytes imports: a bytes series becomes records at the group's
/// record size, and a file with both metrics checks the size model.
#[test]
fn incoming_bytes_imports_at_the_group_record_size() {
    let dir = tempfile::tempdir().unwrap();
    let times = r#"["2025-03-01T10:02:00+00:00", "2025-03-01T10:01:00+00:00", "2025-03-01T10:00:00+00:00"]"#;
    fs::write(
        dir.path().join("both.json"),
        format!(
            r#"{{"MetricDataResults": [
  {{"Id": "m1", "Label": "IncomingRecords", "Timestamps": {times}, "Values": [30000.0, 120000.0, 60000.0]}},
  {{"Id": "m2", "Label": "IncomingBytes", "Timestamps": {times}, "Values": [31080000.0, 124320000.0, 62160000.0]}}
]}}"#
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("bytes.csv"),
        "Timestamp,IncomingBytes\n2025-03-01T10:00:00Z,62160000\n2025-03-01T10:01:00Z,124320000\n",
    )
    .unwrap();
    let scenario = |rate: &str, size: &str| {
        load_in(
            dir.path(),
            &format!(
                "name = \"cw\"\nduration = \"3m\"\n[stream]\nshards = 4\n[[producers]]\nname = \"p\"\n\
                 rate = {rate}\narrivals = \"even\"\nsize = \"{size}\"\nkeys = {{ kind = \"random\", key_bytes = 36 }}\n"
            ),
        )
    };
    let minutes = |s: &Scenario| -> Vec<u64> {
        simulate(s, RunOptions::default())
            .unwrap()
            .metrics
            .minutes
            .iter()
            .map(|m| m.producers.produced)
            .collect()
    };
    // Records, with the file's bytes as a check: 1,036 bytes a record.
    let s = scenario("{ kind = \"cloudwatch\", file = \"both.json\" }", "1000B");
    let note = s.notes.iter().find(|n| n.contains("a record")).unwrap();
    assert!(
        note.contains("is 1036 bytes a record") && note.contains("within 10 %"),
        "{note}"
    );
    let s = scenario("{ kind = \"cloudwatch\", file = \"both.json\" }", "2000B");
    let note = s.notes.iter().find(|n| n.contains("a record")).unwrap();
    assert!(
        note.contains("2036 bytes") && note.contains("97 % more"),
        "{note}"
    );
    // The bytes series: 62,160,000 bytes in a minute of 1,036-byte records
    // is 60,000 records.
    let s = scenario(
        "{ kind = \"cloudwatch\", file = \"both.json\", metric = \"IncomingBytes\" }",
        "1000B",
    );
    assert!(
        s.notes.iter().any(|n| n.contains("counts bytes")),
        "{:?}",
        s.notes
    );
    for (got, want) in minutes(&s).iter().zip([60_000u64, 120_000, 30_000]) {
        assert!(got.abs_diff(want) <= 1, "{got} vs {want}");
    }
    // A CSV column named IncomingBytes is bytes; `measures` says otherwise.
    let s = scenario("{ kind = \"cloudwatch\", file = \"bytes.csv\" }", "1000B");
    let m = minutes(&s);
    assert!(
        m[0].abs_diff(60_000) <= 1 && m[1].abs_diff(120_000) <= 1,
        "{m:?}"
    );
    let s = scenario(
        "{ kind = \"cloudwatch\", file = \"bytes.csv\", measures = \"records\", period = \"1m\" }",
        "1000B",
    );
    assert_eq!(s.producers[0].rate.max(), 124_320_000.0 / 60.0);
}

/// Every record of a trace, as the replay reads it: (time, hash key, key
/// bytes, size).
fn records_of(path: &Path, aggregate: bool) -> Vec<(u64, u128, u16, Option<u64>)> {
    use shardcast::workload::{
        AggregateSpec, Columns, TraceFormat, TraceReader, TraceSpec, Within,
    };
    let format = TraceFormat::from_path(path).unwrap();
    let columns = Columns::read(path, format).unwrap();
    let mut r = TraceReader::open(TraceSpec {
        path: path.to_owned(),
        format,
        time_unit_ns: 1_000_000,
        time_scale: 1.0,
        rate_multiplier: 1.0,
        copy_spread: 0,
        shift: 0,
        looped: false,
        skip_bad_lines: false,
        explicit_key_bytes: 7,
        remap: vec![],
        salt: vec![],
        has_size: columns.has_size(),
        aggregate: aggregate.then_some(AggregateSpec {
            interval: 1_000_000_000,
            within: Within::Uniform,
            shards: Some(4),
        }),
    })
    .unwrap();
    let mut a = shardcast::sim::rng::stream(1, shardcast::sim::rng::Purpose::Arrivals, 0);
    let mut k = shardcast::sim::rng::stream(1, shardcast::sim::rng::Purpose::Keys, 0);
    let mut out = Vec::new();
    while let Some(x) = r.next(u64::MAX, &mut a, &mut k).unwrap() {
        out.push((x.at, x.hash, x.key_bytes, x.size));
    }
    out
}

/// Review findings on `trace hash`: record by record the copy is the
/// original, for non-ASCII keys, CRLF, keys beside hash keys, JSON with a
/// null first size, aggregate and per-shard rows; JSON per-shard rows need
/// `trace.shards` even when the first line has none.
#[test]
fn a_hashed_trace_is_the_original_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    let wide = "é".repeat(200);
    let cases: [(&str, String, bool); 5] = [
        (
            "a.csv",
            format!(
                "timestamp,key,size\r\n1000,{wide},5\r\n1500,plain,\r\n2000,\"q,\r\nx\",7\r\n"
            ),
            false,
        ),
        (
            "b.csv",
            "timestamp,key,explicit_hash_key,size\n1,abc,12345,3\n2,,99,4\n3,zz,,5\n".to_owned(),
            false,
        ),
        (
            "c.jsonl",
            "{\"ts\": 5, \"key\": \"a\", \"size\": null}\n{\"ts\": 6, \"key\": \"b\", \"size\": 30}\n"
                .to_owned(),
            false,
        ),
        (
            "d.csv",
            "timestamp,key,records,bytes\n0,a,3,300\n0,b,2,\n1000,a,4,41\n".to_owned(),
            true,
        ),
        (
            "e.jsonl",
            "{\"ts\": 0, \"key\": \"a\", \"records\": 3}\n{\"ts\": 0, \"shard_id\": \"shardId-000000000003\", \"records\": 5, \"bytes\": 50}\n"
                .to_owned(),
            true,
        ),
    ];
    for (name, body, aggregate) in cases {
        let orig = dir.path().join(name);
        fs::write(&orig, body).unwrap();
        let hashed = dir.path().join(format!("h-{name}"));
        shardcast()
            .args(["trace", "hash", "--time-unit", "ms"])
            .arg(&orig)
            .arg("--out")
            .arg(&hashed)
            .assert()
            .success();
        let a = records_of(&orig, aggregate);
        assert!(!a.is_empty(), "{name}");
        assert_eq!(a, records_of(&hashed, aggregate), "{name}");
    }
    // The 200 two-byte characters are charged 400 bytes, in the copy too.
    assert_eq!(records_of(&dir.path().join("h-a.csv"), false)[0].2, 400);
    // A per-shard row after a first line without shard_id still needs the
    // count in a scenario, at its line.
    let e = replay(dir.path(), "file = \"e.jsonl\"", "size = \"1B\"\n").unwrap_err();
    assert!(
        e.contains("e.jsonl line 2: a per-shard row needs trace.shards"),
        "{e}"
    );
}

/// Review findings: an import that ends before the run says so, and a
/// records import into an aggregating (KPL) group warns that CloudWatch
/// counted aggregates.
#[test]
fn cloudwatch_notes_say_where_an_import_falls_short() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("cw.json"),
        metric_data(&[
            ("2025-03-01T10:00:00Z", 6000.0),
            ("2025-03-01T10:01:00Z", 6000.0),
        ]),
    )
    .unwrap();
    let load = |extra: &str| {
        load_in(
            dir.path(),
            &format!(
                "name = \"n\"\nduration = \"10m\"\n[stream]\nshards = 2\n[[producers]]\nname = \"p\"\n\
                 rate = {{ kind = \"cloudwatch\", file = \"cw.json\" }}\nsize = \"100B\"\n\
                 keys = {{ kind = \"random\" }}\n{extra}"
            ),
        )
    };
    let s = load("");
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("the imported data ends 2m into the run, 8m before it does")),
        "{:?}",
        s.notes
    );
    assert!(!s.notes.iter().any(|n| n.contains("KPL")));
    let s = load(
        "api = \"put-records\"\naggregation = { max_size = \"50KiB\", max_buffered_time = \"100ms\" }\n",
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("aggregates records (KPL)") && n.contains("measures = \"bytes\"")),
        "{:?}",
        s.notes
    );
    // The run stops drawing arrivals where the import ends.
    let out = simulate(&load(""), RunOptions::default()).unwrap();
    let m: Vec<u64> = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.producers.produced)
        .collect();
    assert!(m[2..].iter().all(|&n| n == 0) && m[0] > 5_000, "{m:?}");
}

/// An IncomingBytes series becomes records at the group's mean record, each
/// key weighted by its share: the shards then see the file's bytes. With
/// the longest key (200 bytes, drawn once in 100) the records would be 300
/// bytes, not 103, and the bytes 34 % short.
#[test]
fn incoming_bytes_imports_at_the_mean_key() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bytes.csv"),
        "Timestamp,IncomingBytes\n2025-03-01T10:00:00Z,6000000\n\
         2025-03-01T10:01:00Z,6000000\n2025-03-01T10:02:00Z,6000000\n",
    )
    .unwrap();
    let long = "k".repeat(200);
    let text = format!(
        "name = \"cw\"\nduration = \"3m\"\n[stream]\nshards = 4\n[[producers]]\nname = \"p\"\n\
         rate = {{ kind = \"cloudwatch\", file = \"bytes.csv\" }}\narrivals = \"even\"\n\
         size = \"100B\"\nkeys = {{ kind = \"listed\", keys = [\"a\", \"{long}\"], weights = [99, 1] }}\n"
    );
    let s = load_in(dir.path(), &text);
    let note = s.notes.iter().find(|n| n.contains("counts bytes")).unwrap();
    // 100 + 0.99 x 1 + 0.01 x 200 = 102.99 bytes.
    assert!(
        note.contains("/ 103 bytes") && note.contains("mean size plus mean key"),
        "{note}"
    );
    let out = simulate(&s, RunOptions::default()).unwrap();
    assert_eq!(out.metrics.minutes.len(), 3);
    for (i, m) in out.metrics.minutes.iter().enumerate() {
        // 961 records/s of key "a" stay under one shard's 1,000: nothing
        // is retried, so offered bytes are the records' bytes once.
        assert_eq!(m.shards.throttled_records, 0, "minute {i}");
        let got = m.shards.offered_bytes as f64;
        assert!(
            (got - 6_000_000.0).abs() < 0.02 * 6_000_000.0,
            "minute {i}: {got}"
        );
    }
}

/// Review finding: an IncomingBytes import into a group whose lognormal
/// sizes often pass the record limit still delivers the file's bytes (the
/// records refused as too large send none, so more are made).
#[test]
fn incoming_bytes_count_only_records_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("Timestamp,IncomingBytes\n");
    for m in 0..5 {
        csv.push_str(&format!("2025-03-01T10:0{m}:00Z,1200000000\n"));
    }
    fs::write(dir.path().join("b.csv"), csv).unwrap();
    let s = load_in(
        dir.path(),
        "name = \"b\"\nduration = \"5m\"\n[stream]\nshards = 40\n[[producers]]\nname = \"p\"\n\
         rate = { kind = \"cloudwatch\", file = \"b.csv\" }\nretry = \"none\"\n\
         size = { kind = \"lognormal\", median = \"900KiB\", sigma = 0.5 }\n\
         keys = { kind = \"random\", key_bytes = 36 }\n",
    );
    let out = simulate(&s, RunOptions::default()).unwrap();
    let p = &out.metrics.producer_total;
    assert!(p.rejected_too_large * 4 > p.produced, "{p:?}");
    let offered: u64 = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.shards.offered_bytes)
        .sum();
    let want = 5.0 * 1.2e9;
    assert!(
        (offered as f64 - want).abs() < 0.05 * want,
        "{offered} vs {want}"
    );
}

/// Review finding: with sizes that often pass the record limit, an
/// IncomingRecords import makes enough records for the file's to reach
/// the stream, and the both-metrics check compares records that reached
/// it (no false warning).
#[test]
fn incoming_records_count_only_records_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let load = |body: &str| {
        fs::write(dir.path().join("r.json"), body).unwrap();
        load_in(
            dir.path(),
            "name = \"r\"\nduration = \"3m\"\n[stream]\nshards = 40\n[[producers]]\nname = \"p\"\n\
             rate = { kind = \"cloudwatch\", file = \"r.json\" }\nretry = \"none\"\n\
             size = { kind = \"lognormal\", median = \"900KiB\", sigma = 0.5 }\n\
             keys = { kind = \"random\", key_bytes = 36 }\n",
        )
    };
    let times = r#"["2025-03-01T10:02:00Z", "2025-03-01T10:01:00Z", "2025-03-01T10:00:00Z"]"#;
    let records = |bytes_each: f64| {
        format!(
            r#"{{"MetricDataResults": [
  {{"Id": "r", "Label": "IncomingRecords", "Timestamps": {times}, "Values": [1200, 1200, 1200]}},
  {{"Id": "b", "Label": "IncomingBytes", "Timestamps": {times}, "Values": [{b}, {b}, {b}]}}
]}}"#,
            b = 1200.0 * bytes_each
        )
    };
    // The bytes of a record that reaches the stream, from the model.
    let s = load(&records(1.0));
    let each = s.producers[0].size.mean() + 36.0;
    let s = load(&records(each));
    let note = s.notes.iter().find(|n| n.contains("a record")).unwrap();
    assert!(note.contains("within 10 %"), "{note}");
    let out = simulate(&s, RunOptions::default()).unwrap();
    let offered: u64 = out
        .metrics
        .minutes
        .iter()
        .map(|m| m.shards.offered_records)
        .sum();
    assert!(offered.abs_diff(3_600) < 250, "{offered}");
    assert!(out.metrics.producer_total.rejected_too_large > 1_000);
}

/// Issue 15, defect 3: an aggregate row above a stream's most records per
/// second (10,000 shards of 1,000 records/s) is a bad line, not a replay
/// that never ends; `skip_bad_lines` skips it.
#[test]
fn r15_an_aggregate_row_faster_than_a_stream_is_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    // u64::MAX records in a second, and epoch seconds read as counts.
    for count in ["18446744073709551615", "1700000000"] {
        fs::write(
            dir.path().join("agg.csv"),
            format!("timestamp,key,records\n0,a,5\n1,b,{count}\n2,c,5\n"),
        )
        .unwrap();
        let e = replay(dir.path(), "file = \"agg.csv\"", "size = \"1B\"\n").unwrap_err();
        assert!(
            e.contains(&format!(
                "agg.csv line 3: a row of {count} records in 1s is above 10000000 records/s"
            )),
            "{e}"
        );
        let out = replay(
            dir.path(),
            "file = \"agg.csv\", skip_bad_lines = true",
            "size = \"1B\"\n",
        )
        .unwrap();
        assert_eq!(out.trace_lines_skipped, 1);
        assert_eq!(out.metrics.producer_total.produced, 10);
    }
    // The bound is a rate: 10 million a second, over the row's interval.
    fs::write(
        dir.path().join("agg.csv"),
        "timestamp,key,records\n0,a,20000001\n",
    )
    .unwrap();
    let e = replay(
        dir.path(),
        "file = \"agg.csv\", interval = \"2s\"",
        "size = \"1B\"\n",
    )
    .unwrap_err();
    assert!(e.contains("a row of 20000001 records in 2s"), "{e}");
    // Through the CLI: one line on stderr, exit 2.
    fs::write(
        dir.path().join("agg.csv"),
        "timestamp,key,records\n0,a,18446744073709551615\n",
    )
    .unwrap();
    replay(
        dir.path(),
        "file = \"agg.csv\", skip_bad_lines = true",
        "size = \"1B\"\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("replay.toml"),
        fs::read_to_string(dir.path().join("replay.toml"))
            .unwrap()
            .replace(", skip_bad_lines = true", ""),
    )
    .unwrap();
    let out = shardcast()
        .arg("run")
        .arg(dir.path().join("replay.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("above 10000000 records/s"), "{stderr}");
}

/// Issue 15, defect 3: every series of a get-metric-data file is checked
/// like the one read (IncomingBytes beside IncomingRecords too): a negative
/// sum or a time past 2262 is refused, through `validate` too.
#[test]
fn r15_every_cloudwatch_series_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let json = |bytes_time: &str, bytes_value: &str| {
        format!(
            "{{\"MetricDataResults\": [\
             {{\"Id\": \"records\", \"Label\": \"IncomingRecords\", \
             \"Timestamps\": [\"2025-03-01T10:00:00Z\", \"2025-03-01T10:01:00Z\"], \"Values\": [600.0, 600.0]}}, \
             {{\"Id\": \"bytes\", \"Label\": \"IncomingBytes\", \
             \"Timestamps\": [\"2025-03-01T10:00:00Z\", \"{bytes_time}\"], \"Values\": [60000.0, {bytes_value}]}}]}}"
        )
    };
    let rate = "{ kind = \"cloudwatch\", file = \"cw.json\" }";
    fs::write(
        dir.path().join("cw.json"),
        json("2025-03-01T10:01:00Z", "60000.0"),
    )
    .unwrap();
    cloudwatch_scenario(dir.path(), rate).unwrap();
    for (time, value, needle) in [
        (
            "2025-03-01T10:01:00Z",
            "-1",
            "result bytes datapoint 2: value -1 is out of range; sums are 0 or more",
        ),
        (
            "9999-03-01T10:01:00Z",
            "60000.0",
            "result bytes datapoint 2: timestamp \"9999-03-01T10:01:00Z\" is out of range; accepted are times from 1970 to 2262",
        ),
    ] {
        fs::write(dir.path().join("cw.json"), json(time, value)).unwrap();
        let e = cloudwatch_scenario(dir.path(), rate).unwrap_err();
        assert!(e.contains(needle), "{e}");
        let out = shardcast()
            .arg("validate")
            .arg(dir.path().join("cw.toml"))
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    // A CSV export names the line of a bad sum.
    fs::write(
        dir.path().join("cw.csv"),
        "timestamp,value\n2025-03-01T10:00:00Z,5\n2025-03-01T10:01:00Z,-1\n",
    )
    .unwrap();
    let e = cloudwatch_scenario(dir.path(), "{ kind = \"cloudwatch\", file = \"cw.csv\" }")
        .unwrap_err();
    assert!(e.contains("line 3: value -1 is out of range"), "{e}");
}

/// Per-shard rows of a 4-shard capture, 500 bytes a record, evenly
/// within their seconds, under every shard's limit.
fn per_shard_trace(dir: &Path) {
    let mut text = String::from("timestamp,shard_id,records,bytes\n");
    for t in 0..20 {
        for (s, n) in [(0, 100), (1, 700), (2, 10), (3, 300 + t)] {
            text.push_str(&format!("{t},shardId-{s},{n},{}\n", n * 500));
        }
    }
    fs::write(dir.join("shards.csv"), text).unwrap();
}

#[test]
fn the_shard_engine_lands_per_shard_rows_on_their_shards() {
    use shardcast::scenario::EngineKind;
    let dir = tempfile::tempdir().unwrap();
    per_shard_trace(dir.path());
    let rows: [u64; 4] = [2000, 14_000, 200, 6000 + 190];
    for shards in [4usize, 8] {
        let mut scenario = load_in(
            dir.path(),
            &format!(
                "name = \"s\"\nduration = \"30s\"\n[stream]\nshards = {shards}\n[[producers]]\nname = \"t\"\n\
                 trace = {{ file = \"shards.csv\", within = \"even\", shards = 4 }}\n"
            ),
        );
        let mut per_engine = Vec::new();
        for engine in [EngineKind::Record, EngineKind::Shard] {
            scenario.engine.kind = engine;
            let out = simulate(&scenario, RunOptions::default()).unwrap();
            assert_eq!(out.engine, engine);
            let accepted = accepted_per_shard(&out);
            let bytes: Vec<u64> = out
                .metrics
                .shard_totals
                .iter()
                .map(|t| t.counts.accepted_bytes)
                .collect();
            // Shard N of the capture is shard N here, or shards 2N and
            // 2N + 1 of a stream of twice as many.
            let per = shards / 4;
            for (n, &want) in rows.iter().enumerate() {
                let got: u64 = accepted[n * per..(n + 1) * per].iter().sum();
                assert_eq!(got, want, "{engine:?}, {shards} shards, capture shard {n}");
                let b: u64 = bytes[n * per..(n + 1) * per].iter().sum();
                assert_eq!(
                    b,
                    want * 500,
                    "{engine:?}, {shards} shards, capture shard {n}"
                );
            }
            if per == 2 {
                // Hash keys uniform over the range: about half to each.
                let (a, b) = (accepted[2] as f64, accepted[3] as f64);
                assert!((a / (a + b) - 0.5).abs() < 0.02, "{a} {b}");
            }
            // No key of their own: counted as random keys.
            let random: u64 = out.metrics.shard_totals.iter().map(|t| t.random_keys).sum();
            assert_eq!(random, rows.iter().sum::<u64>(), "{engine:?}");
            per_engine.push(accepted);
        }
        if shards == 4 {
            assert_eq!(per_engine[0], per_engine[1]);
        }
    }
}

#[test]
fn a_record_trace_on_the_shard_engine_is_a_clear_error() {
    use shardcast::model::SimError;
    use shardcast::scenario::EngineKind;
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("r.csv"),
        "timestamp,partition_key\n0,alpha\n1,beta\n",
    )
    .unwrap();
    let mut scenario = load_in(
        dir.path(),
        "name = \"r\"\nduration = \"5s\"\n[stream]\nshards = 1\n[[producers]]\nname = \"orders\"\n\
         size = \"100B\"\ntrace = { file = \"r.csv\" }\n",
    );
    scenario.engine.kind = EngineKind::Shard;
    match simulate(&scenario, RunOptions::default()) {
        Err(SimError::Engine(m)) => assert!(
            m.contains("producer group \"orders\" replays a record trace, which only the record engine runs"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // The same file in a validated scenario: refused at its engine line.
    let text = "name = \"r\"\nengine = \"shard\"\nduration = \"5s\"\n[stream]\nshards = 1\n\
                [[producers]]\nname = \"orders\"\nsize = \"100B\"\ntrace = { file = \"r.csv\" }\n";
    fs::write(dir.path().join("shard.toml"), text).unwrap();
    let e = Scenario::load(&dir.path().join("shard.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("which replays a record trace"), "{e}");
}

#[test]
fn auto_runs_a_large_aggregate_trace_on_the_shard_engine() {
    use shardcast::model::{EngineReason, engine_choice, expected_records};
    use shardcast::scenario::EngineKind;
    let dir = tempfile::tempdir().unwrap();
    // 10,000 rows of 2,000,000 records a second (4 keys), in epoch
    // seconds.
    let mut text = String::from("timestamp,key,records\n");
    for t in 0..2500 {
        for k in 0..4 {
            text.push_str(&format!("{},key-{k},500000\n", 1_740_000_000 + t));
        }
    }
    fs::write(dir.path().join("big.csv"), text).unwrap();
    let scenario = |trace: &str, duration: &str| {
        load_in(
            dir.path(),
            &format!(
                "name = \"big\"\nduration = \"{duration}\"\n[stream]\nshards = 4000\n[[producers]]\nname = \"t\"\n\
                 size = \"100B\"\ntrace = {{ {trace} }}\n"
            ),
        )
    };
    // 2,500 s of 2 million records/s: 5 billion, estimated from the first
    // lines (the file's rows are alike, so closely).
    let big = scenario("file = \"big.csv\"", "1h");
    let n = expected_records(&big);
    assert!((n / 5e9 - 1.0).abs() < 0.01, "{n}");
    let choice = engine_choice(&big);
    assert_eq!(choice.kind, EngineKind::Shard);
    assert!(matches!(choice.reason, EngineReason::Expected(_)));
    // A run of 100 s of it: 200 million, the record engine.
    let short = scenario("file = \"big.csv\"", "100s");
    let n = expected_records(&short);
    assert!((n / 2e8 - 1.0).abs() < 0.01, "{n}");
    assert_eq!(engine_choice(&short).kind, EngineKind::Record);
    // Looped and thinned: 1 h at 2 million/s, half kept.
    let looped = scenario(
        "file = \"big.csv\", loop = true, rate_multiplier = 0.5",
        "1h",
    );
    let n = expected_records(&looped);
    assert!((n / 3.6e9 - 1.0).abs() < 0.01, "{n}");
    // A record trace stays on the record engine, however large.
    fs::write(
        dir.path().join("rec.csv"),
        "timestamp,partition_key\n0,alpha\n",
    )
    .unwrap();
    let rec = scenario("file = \"rec.csv\"", "1h");
    assert!(matches!(engine_choice(&rec).reason, EngineReason::Trace(_)));
}
