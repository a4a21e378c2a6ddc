//! `shardcast plan`: the smallest shard count meeting the objectives, the
//! binding constraint, hot keys and their salted what-if, determinism.

use crate::util::scenario;

use shardcast::plan::{PlanOptions, plan};

const OPTIONS: PlanOptions = PlanOptions {
    replications: 3,
    min_shards: 1,
    max_shards: 32,
    on_demand: false,
};

#[test]
fn records_bound_traffic_is_sized_by_records() {
    // 2,200 records/s of 100 bytes: 0.3 MB/s (one shard by bytes), but 2.2
    // shards' worth of records.
    let s = scenario(
        r#"
name = "small"
duration = "60s"
[stream]
shards = 1
[[producers]]
name = "p"
count = 4
rate = "2200/s"
size = "64B"
keys = { kind = "random", key_bytes = 36 }
"#,
    );
    let p = plan(
        &s,
        PlanOptions {
            on_demand: true,
            ..OPTIONS
        },
    )
    .unwrap();
    assert_eq!(p.recommended, Some(3));
    // On-demand starts at 4 MB/s and 4,000 records/s: it meets them, at a price.
    let od = p.on_demand.as_ref().unwrap();
    assert!(od.meets);
    let three = p.candidates.iter().find(|c| c.shards == 3).unwrap();
    assert!(od.monthly_cost.mean > three.monthly_cost.mean);
    assert!(p.binding.contains("records/s"), "{}", p.binding);
    assert_eq!(p.formula_shards, 1, "the bytes-only formula under-sizes it");
    assert!(p.default_slo);
    let two = p.candidates.iter().find(|c| c.shards == 2).unwrap();
    assert!(!two.meets && two.records_bound_share > 0.99);
}

#[test]
fn a_hot_key_is_named_and_salting_fixes_it() {
    let s = scenario(
        r#"
name = "hot"
duration = "60s"
[stream]
shards = 1
[[producers]]
name = "app"
count = 2
rate = "2500/s"
size = "100B"
keys = { kind = "uniform", count = 1000, prefix = "user-", hot = [{ key = "celebrity", share = 0.6 }] }
[slo]
max_throttle_rate = 0.01
"#,
    );
    let p = plan(
        &s,
        PlanOptions {
            max_shards: 16,
            ..OPTIONS
        },
    )
    .unwrap();
    assert_eq!(
        p.recommended, None,
        "no shard count helps a 1,500 records/s key"
    );
    assert_eq!(p.hot_keys.len(), 1);
    let h = &p.hot_keys[0];
    assert_eq!(h.key, "app:celebrity");
    assert!(
        (h.records_per_s - 1500.0).abs() < 60.0,
        "{}",
        h.records_per_s
    );
    assert!(h.salt_into >= 2);
    let (salted, best) = p.salted.clone().unwrap();
    let n = salted.expect("salting lets a shard count meet the objective");
    assert!(best.unwrap().meets);
    assert!(n <= 8, "{n} shards after salting");
    let md = shardcast::plan::render_markdown(&p, "hot");
    assert!(md.contains("No shard count"));
    assert!(md.contains("salt it into at least"));
}

#[test]
fn the_plan_is_the_same_at_any_thread_count_and_intervals_shrink() {
    let text = r#"
name = "threads"
duration = "30s"
[stream]
shards = 1
[[producers]]
name = "p"
count = 3
rate = "1800/s"
size = { kind = "lognormal", median = "700B", sigma = 0.5 }
keys = { kind = "zipf", count = 500, exponent = 0.8 }
"#;
    let s = scenario(text);
    let run = |threads: usize, replications: u32| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let p = pool
            .install(|| {
                plan(
                    &s,
                    PlanOptions {
                        replications,
                        ..OPTIONS
                    },
                )
            })
            .unwrap();
        (
            shardcast::plan::render_csv(&p).unwrap(),
            shardcast::plan::render_markdown(&p, "t"),
            p,
        )
    };
    let (csv1, md1, p3) = run(1, 3);
    let (csv2, md2, _) = run(2, 3);
    assert_eq!(csv1, csv2);
    assert_eq!(md1, md2);
    // More replications, a narrower interval (same seeds for the first three).
    let (_, _, p12) = run(2, 12);
    let ci = |p: &shardcast::plan::Plan| {
        p.candidates
            .iter()
            .find(|c| c.shards == 1)
            .unwrap()
            .throttle_rate
            .ci95
    };
    assert!(ci(&p12) < ci(&p3), "{} vs {}", ci(&p12), ci(&p3));
}

#[test]
fn plan_command_writes_its_files_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        "name = \"p\"\nduration = \"20s\"\n[stream]\nshards = 1\n[[producers]]\nname = \"p\"\nrate = \"1500/s\"\nsize = \"100B\"\nkeys = { kind = \"random\" }\n",
    )
    .unwrap();
    let out = dir.path().join("plan");
    let cmd = || {
        let mut c = assert_cmd::Command::cargo_bin("shardcast").unwrap();
        c.env("RUST_BACKTRACE", "0");
        c
    };
    cmd()
        .arg("plan")
        .arg(&file)
        .args(["-r", "2", "--threads", "2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("Recommendation: 2 shards"));
    assert!(out.join("plan.csv").is_file() && out.join("plan.md").is_file());
    cmd()
        .arg("plan")
        .arg(&file)
        .args(["--min-shards", "9", "--max-shards", "3"])
        .assert()
        .code(2);
    cmd()
        .arg("plan")
        .arg(&file)
        .args(["--threads", "0"])
        .assert()
        .code(2);
    cmd()
        .arg("plan")
        .arg(&file)
        .args(["-r", "1"])
        .assert()
        .code(2);
}

#[test]
fn the_search_stays_within_its_bounds() {
    let s = scenario(
        "name = \"b\"\nduration = \"20s\"\n[stream]\nshards = 1\n[[producers]]\nname = \"p\"\nrate = \"1500/s\"\nsize = \"100B\"\nkeys = { kind = \"random\" }\n",
    );
    let p = plan(
        &s,
        PlanOptions {
            min_shards: 4,
            max_shards: 4,
            ..OPTIONS
        },
    )
    .unwrap();
    let tried: Vec<u32> = p.candidates.iter().map(|c| c.shards).collect();
    assert_eq!(tried, [4]);
    assert_eq!(p.recommended, Some(4));
}
