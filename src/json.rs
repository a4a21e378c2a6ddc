//! `--json`: the results of `run`, `plan`, `check` and `compare` as one
//! JSON object on stdout (docs/json.md describes each).
//!
//! The objects are built from the same cells as the CSV files, so a number
//! in the JSON is the number in the CSV: each cell becomes a JSON number
//! when it is one, `true`/`false` a boolean, an empty cell `null`, and the
//! text columns (names, ids, verdicts) stay strings. Keys are in
//! alphabetical order (serde_json's map), so the bytes are the same on
//! every run.

use std::path::Path;

use serde_json::{Map, Value};

use crate::check::CheckRow;
use crate::plan::{HotKey, Plan};
use crate::report::RunReport;

/// Columns that are text even when a cell looks like a number.
const TEXT_COLUMNS: [&str; 12] = [
    "sub_keys",
    "value",
    "scenario",
    "scenario_md5",
    "version",
    "engine",
    "hottest_shard",
    "hottest_key",
    "slo",
    "file",
    "check",
    "limit",
];

/// The JSON value of a CSV cell of `column`.
pub fn cell(column: &str, text: &str) -> Value {
    if TEXT_COLUMNS.contains(&column) {
        return Value::String(text.to_owned());
    }
    match text {
        "" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => {
            if let Ok(n) = text.parse::<u64>() {
                Value::from(n)
            } else if let Ok(n) = text.parse::<i64>() {
                Value::from(n)
            } else if let Some(x) = text.parse::<f64>().ok().filter(|x| x.is_finite()) {
                Value::from(x)
            } else {
                Value::String(text.to_owned())
            }
        }
    }
}

/// One CSV row as an object: `header[i]` to [`cell`] of `cells[i]`.
pub fn row<H: AsRef<str>, C: AsRef<str>>(header: &[H], cells: &[C]) -> Value {
    Value::Object(
        header
            .iter()
            .zip(cells)
            .map(|(h, c)| (h.as_ref().to_owned(), cell(h.as_ref(), c.as_ref())))
            .collect(),
    )
}

/// Every row of a CSV file's bytes as objects.
pub fn csv_rows(bytes: &[u8]) -> Result<Vec<Value>, csv::Error> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers()?.iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| {
            let rec = rec?;
            let cells: Vec<&str> = rec.iter().collect();
            Ok(row(&header, &cells))
        })
        .collect()
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

fn check_row(r: &CheckRow) -> Value {
    object(vec![
        ("scenario", Value::from(r.scenario.as_str())),
        ("engine", Value::from(r.engine.name())),
        ("check", Value::from(r.check.as_str())),
        ("value", Value::from(r.value.as_str())),
        ("limit", Value::from(r.limit.as_str())),
        ("pass", Value::Bool(r.pass)),
    ])
}

/// `run --json`: the summary (summary.csv's columns), the objectives as
/// `check` judges them, the notes and the report directory.
pub fn run(report: &RunReport, dir: &Path, notes: &[String], trace_lines_skipped: u64) -> Value {
    let fields = report.summary.fields();
    let (header, cells): (Vec<&str>, Vec<String>) = fields.into_iter().unzip();
    let checks = crate::check::judge(&report.summary.scenario, report, None);
    object(vec![
        ("command", Value::from("run")),
        ("dir", Value::from(dir.display().to_string())),
        ("summary", row(&header, &cells)),
        (
            "checks",
            Value::Array(checks.iter().map(check_row).collect()),
        ),
        ("notes", Value::from(notes.to_vec())),
        ("trace_lines_skipped", Value::from(trace_lines_skipped)),
    ])
}

fn hot_key(h: &HotKey) -> Value {
    object(vec![
        ("key", Value::from(h.key.as_str())),
        ("group", Value::from(h.group.as_str())),
        ("name", Value::from(h.name.as_str())),
        ("partition_key", Value::Bool(h.partition_key)),
        ("records_per_s", Value::from(round(h.records_per_s, 3))),
        ("bytes_per_s", Value::from(round(h.bytes_per_s, 3))),
        ("salt_into", Value::from(h.salt_into)),
    ])
}

/// `x` with at most `digits` decimals, as plan.md rounds it.
fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// `plan --json`: the recommendation, plan.csv's rows (candidates by
/// shard count, then the on-demand rows), the hot keys, the salting
/// ladder, the sizing formulas, the warnings and the directory.
pub fn plan(plan: &Plan, name: &str, dir: &Path) -> Value {
    let (header, rows) = crate::plan::table(plan);
    let mut candidates = Vec::new();
    let (mut on_demand, mut advantage) = (Value::Null, Value::Null);
    for cells in &rows {
        let value = row(&header, cells);
        match cells.first().map(String::as_str) {
            Some("on-demand") => on_demand = value,
            Some("on-demand-advantage") => advantage = value,
            _ => candidates.push(value),
        }
    }
    let f = &plan.formulas;
    object(vec![
        ("command", Value::from("plan")),
        ("scenario", Value::from(name)),
        ("dir", Value::from(dir.display().to_string())),
        ("replications", Value::from(plan.replications)),
        (
            "recommended_shards",
            plan.recommended.map_or(Value::Null, Value::from),
        ),
        ("binding", Value::from(plan.binding.as_str())),
        ("default_slo", Value::Bool(plan.default_slo)),
        ("engine", Value::from(plan.engine.name())),
        ("candidates", Value::Array(candidates)),
        ("on_demand", on_demand),
        ("on_demand_advantage", advantage),
        (
            "hot_keys",
            Value::Array(plan.hot_keys.iter().map(hot_key).collect()),
        ),
        (
            "salting",
            Value::Array(
                crate::plan::salting_rows(plan)
                    .iter()
                    .map(|cells| row(&crate::plan::SALTING_COLUMNS, cells))
                    .collect(),
            ),
        ),
        (
            "formulas",
            object(vec![
                ("records_per_s", Value::from(round(f.records_per_s, 3))),
                ("bytes_per_s", Value::from(round(f.bytes_per_s, 3))),
                ("polling_applications", Value::from(f.polling)),
                ("guide_shards", Value::from(f.guide)),
                ("bytes_only_shards", Value::from(f.bytes_only)),
            ]),
        ),
        ("warnings", Value::from(plan.warnings.clone())),
    ])
}

/// `check --json`: every judged line, how many failed and whether all
/// held (the exit code says the same).
pub fn check(rows: &[CheckRow], baseline_written: Option<&Path>) -> Value {
    let failed = rows.iter().filter(|r| !r.pass).count();
    object(vec![
        ("command", Value::from("check")),
        ("checks", Value::Array(rows.iter().map(check_row).collect())),
        ("failed", Value::from(failed)),
        ("pass", Value::Bool(failed == 0)),
        (
            "baseline_written",
            baseline_written.map_or(Value::Null, |p| Value::from(p.display().to_string())),
        ),
    ])
}

/// `compare --json`: compare.csv's rows, in the order given, and the
/// directory.
pub fn compare(csv: &[u8], dir: &Path) -> Result<Value, csv::Error> {
    Ok(object(vec![
        ("command", Value::from("compare")),
        ("dir", Value::from(dir.display().to_string())),
        ("rows", Value::Array(csv_rows(csv)?)),
    ]))
}

/// `value` as pretty JSON with a final newline.
pub fn to_text(value: &Value) -> String {
    let mut t = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    t.push('\n');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_cells_keep_their_numbers_and_text_columns_stay_text() {
        assert_eq!(cell("throttle_rate", "0.001230"), Value::from(0.00123));
        assert_eq!(cell("records_failed", "12"), Value::from(12u64));
        assert_eq!(cell("meets_slo", "true"), Value::Bool(true));
        assert_eq!(cell("monthly_cost_all_offered_usd", ""), Value::Null);
        assert_eq!(cell("scenario", "2024"), Value::from("2024"));
        assert_eq!(cell("latency_p99_ms", "n/a"), Value::from("n/a"));
        assert_eq!(cell("x", "NaN"), Value::from("NaN"));
        // Keys come out sorted, whatever order they were given in.
        let v = row(&["b", "a"], &["1", "2"]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":2,"b":1}"#);
    }
}
