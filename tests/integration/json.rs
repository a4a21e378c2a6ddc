//! Issue 16, item 6: `--json` on run, plan, check and compare: one object
//! on stdout holding the same numbers as the CSV files, the same bytes on
//! every run.

use std::path::Path;

use serde_json::Value;

use crate::util::shardcast;

const SCENARIO: &str = r#"
name = "json"
duration = "40s"
seed = 11
[stream]
shards = 2
[[producers]]
name = "p"
count = 2
rate = "1000/s"
size = "300B"
keys = { kind = "uniform", count = 200 }
[slo]
max_throttle_rate = 0.5
max_failed_records = 0
"#;

fn json_of(args: &[&str], file: &Path, out: Option<&Path>, code: i32) -> (Value, Vec<u8>) {
    let mut cmd = shardcast();
    cmd.args(args).arg(file).arg("--json");
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(code), "{args:?}: {o:?}");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    (v, o.stdout)
}

/// A CSV file's rows as (header, cells).
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The JSON object holds every column of the CSV row with the same value:
/// the same number when the cell is one, else the same text.
fn same_row(json: &Value, header: &[String], cells: &[String]) {
    let obj = json.as_object().unwrap_or_else(|| panic!("{json}"));
    assert_eq!(obj.len(), header.len(), "{json}");
    for (h, c) in header.iter().zip(cells) {
        let v = &obj[h.as_str()];
        match v {
            Value::Number(n) => {
                let want: f64 = c
                    .parse()
                    .unwrap_or_else(|_| panic!("{h}: {c} is not a number"));
                assert_eq!(n.as_f64().unwrap(), want, "{h}");
            }
            Value::Bool(b) => assert_eq!(b.to_string(), *c, "{h}"),
            Value::Null => assert_eq!(c, "", "{h}"),
            Value::String(s) => assert_eq!(s, c, "{h}"),
            other => panic!("{h}: {other}"),
        }
    }
}

#[test]
fn r16_run_json_holds_the_summary_and_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("json.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("run");
    let (v, bytes) = json_of(&["run", "--no-report"], &file, Some(&out), 0);
    assert_eq!(v["command"], "run");
    assert_eq!(v["dir"], out.display().to_string());
    let (header, rows) = csv_rows(&out.join("summary.csv"));
    same_row(&v["summary"], &header, &rows[0]);
    assert_eq!(v["summary"]["scenario"], "json");
    assert!(v["summary"]["records_produced"].as_u64().unwrap() > 30_000);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{v}");
    assert!(checks.iter().all(|c| c["pass"] == true));
    // The same bytes again, and keys in alphabetical order.
    let (_, again) = json_of(&["run", "--no-report"], &file, Some(&out), 0);
    assert_eq!(bytes, again);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn r16_plan_json_holds_plan_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("json.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("plan");
    let (v, _) = json_of(
        &[
            "plan",
            "-r",
            "2",
            "--max-shards",
            "8",
            "--no-report",
            "--on-demand",
        ],
        &file,
        Some(&out),
        0,
    );
    let (header, rows) = csv_rows(&out.join("plan.csv"));
    let candidates = v["candidates"].as_array().unwrap();
    let shard_rows: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| !r[0].starts_with("on-demand"))
        .collect();
    assert_eq!(candidates.len(), shard_rows.len());
    for (c, row) in candidates.iter().zip(&shard_rows) {
        same_row(c, &header, row);
    }
    let od = rows.iter().find(|r| r[0] == "on-demand").unwrap();
    same_row(&v["on_demand"], &header, od);
    let adv = rows.iter().find(|r| r[0] == "on-demand-advantage").unwrap();
    same_row(&v["on_demand_advantage"], &header, adv);
    // The recommendation is the smallest row that meets the objectives.
    let smallest = shard_rows
        .iter()
        .find(|r| r[header.iter().position(|h| h == "meets_slo").unwrap()] == "true")
        .map(|r| r[0].parse::<u64>().unwrap());
    assert_eq!(v["recommended_shards"].as_u64(), smallest);
    assert_eq!(v["replications"], 2);
    assert!(v["salting"].as_array().unwrap().is_empty());
}

#[test]
fn r16_compare_and_check_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("json.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("compare");
    let (v, _) = json_of(&["compare"], &file, Some(&out), 0);
    let (header, rows) = csv_rows(&out.join("compare.csv"));
    let got = v["rows"].as_array().unwrap();
    assert_eq!(got.len(), 1);
    same_row(&got[0], &header, &rows[0]);
    // check: the objectives hold; then a tighter one fails, exit code 1.
    let (v, _) = json_of(&["check"], &file, None, 0);
    assert_eq!(
        (v["pass"].as_bool(), v["failed"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(v["checks"].as_array().unwrap().len(), 2);
    let strict = dir.path().join("strict.toml");
    std::fs::write(
        &strict,
        SCENARIO.replace(
            "max_throttle_rate = 0.5",
            "max_throttle_rate = 0.5\nmax_peak_shard_utilisation = 0.1",
        ),
    )
    .unwrap();
    let (v, _) = json_of(&["check"], &strict, None, 1);
    assert_eq!(v["pass"], false);
    let failed: Vec<&Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pass"] == false)
        .collect();
    assert_eq!(v["failed"].as_u64(), Some(failed.len() as u64));
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["check"], "slo max_peak_shard_utilisation");
}
