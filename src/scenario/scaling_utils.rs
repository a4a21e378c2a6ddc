//! Import of amazon-kinesis-scaling-utils' own JSON configuration, so that a
//! team can simulate the file its autoscaler really runs with.
//!
//! The tool reads a JSON array of `streamMonitor` objects, one per stream it
//! watches (KDS-REFERENCE.md §10b; the tool's `AutoscalingConfiguration` and
//! `ScalingConfig`). One entry is selected (by `streamName`, or the only one)
//! and turned into the same raw shapes as an inline `"scaling-utils"` policy,
//! so an imported policy and the equivalent inline one are the same policy.
//!
//! Every value is checked here, with the file's own field names, against the
//! ranges the inline policy accepts; the caller's validation then cannot fail
//! on an imported value with a TOML field name the user never wrote.
//! [`config`] puts the imported fields in place of `config = "file.json"`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::ScenarioError;
use super::raw::{RawAutoscaling, RawPolicy, RawSuRule};
use super::validate::Ctx;
use crate::units::{Duration, NANOS_PER_SEC};

/// The most shards a policy may ask for (UpdateShardCount, KDS-REFERENCE.md §4c).
const MAX_SHARDS: u64 = 10_000;

/// One `streamMonitor` entry. Unknown fields are refused, as the tool's
/// Jackson mapper refuses them (its default, FAIL_ON_UNKNOWN_PROPERTIES).
/// The fields of every release are known: `scaleOnOperation` is a string in
/// older releases and a list in newer ones, `snsArn` exists only in older
/// ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMonitor {
    // Accepted and not modelled: the simulated stream is the scenario's.
    #[allow(dead_code)]
    stream_name: Option<String>,
    #[allow(dead_code)]
    region: Option<String>,
    #[allow(dead_code)]
    sns_arn: Option<String>,
    // Not modelled: the simulated policy always sees the current shard count
    // (the tool refreshes its cached count after its own actions and every
    // refreshShardsNumberAfterMin minutes; only a reshard by someone else
    // makes a difference).
    refresh_shards_number_after_min: Option<Value>,
    scale_on_operation: Option<Value>,
    min_shards: Option<Value>,
    max_shards: Option<Value>,
    check_interval: Option<Value>,
    scale_up: Option<Value>,
    scale_down: Option<Value>,
}

/// A `scaleUp` or `scaleDown` object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRule {
    scale_threshold_pct: Option<Value>,
    scale_after_mins: Option<Value>,
    scale_count: Option<Value>,
    scale_pct: Option<Value>,
    cool_off_mins: Option<Value>,
    // Accepted and not modelled: notifications change nothing in the stream.
    #[allow(dead_code)]
    #[serde(rename = "notificationARN")]
    notification_arn: Option<String>,
}

/// The selected entry, as the fields of an inline policy.
#[derive(Debug)]
pub(super) struct Imported {
    /// `minShards`.
    pub(super) min_shards: Option<u32>,
    /// `maxShards`.
    pub(super) max_shards: Option<u32>,
    /// `checkInterval` in seconds (the tool's default: 45).
    pub(super) check_interval_secs: u64,
    /// `scaleUp`.
    pub(super) scale_up: RawSuRule,
    /// `scaleDown`.
    pub(super) scale_down: RawSuRule,
    /// `scaleOnOperation`: `"PUT"` and/or `"GET"`; empty for both.
    pub(super) operations: Vec<String>,
}

/// Why a file cannot be imported.
#[derive(Debug)]
pub(super) enum ImportError {
    /// It cannot be read.
    Read(std::io::Error),
    /// It is not JSON, or not a valid configuration.
    Invalid {
        /// 1-based line and column, for syntax errors.
        at: Option<(usize, usize)>,
        /// What is wrong, starting with the field's path where there is one.
        message: String,
    },
}

fn invalid(message: String) -> ImportError {
    ImportError::Invalid { at: None, message }
}

/// Reads `path` and selects the entry whose `streamName` is `stream_name`,
/// or the only entry.
pub(super) fn import(path: &Path, stream_name: Option<&str>) -> Result<Imported, ImportError> {
    let text = super::read_text(path).map_err(ImportError::Read)?;
    let root: Value = serde_json::from_str(&text).map_err(|e| {
        // serde_json appends " at line L column C"; it goes in front instead.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        ImportError::Invalid {
            at: Some((e.line(), e.column())),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
        }
    })?;
    let Value::Array(entries) = root else {
        return Err(invalid(
            "the top level must be an array of streamMonitor objects, [{...}, ...], as scaling-utils reads it"
                .into(),
        ));
    };
    let name_of = |v: &Value| {
        v.get("streamName")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let listed = || {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| match name_of(e) {
                Some(n) => format!("[{i}] \"{n}\""),
                None => format!("[{i}] (no streamName)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let index = match stream_name {
        None => match entries.len() {
            1 => 0,
            0 => return Err(invalid("holds no streamMonitor entry".into())),
            n => {
                return Err(invalid(format!(
                    "holds {n} streamMonitor entries ({}); choose one with stream_name = \"...\" in the scenario's policy",
                    listed()
                )));
            }
        },
        Some(wanted) => {
            let matching: Vec<usize> = (0..entries.len())
                .filter(|&i| name_of(&entries[i]).as_deref() == Some(wanted))
                .collect();
            match matching[..] {
                [i] => i,
                [] => {
                    return Err(invalid(format!(
                        "no entry has streamName \"{wanted}\"; its entries are {}",
                        if entries.is_empty() {
                            "none".to_owned()
                        } else {
                            listed()
                        }
                    )));
                }
                _ => {
                    return Err(invalid(format!(
                        "{} entries have streamName \"{wanted}\"; keep one",
                        matching.len()
                    )));
                }
            }
        }
    };
    let entry = &entries[index];
    let at = match name_of(entry) {
        Some(n) => format!("[{index}] (\"{n}\")"),
        None => format!("[{index}]"),
    };
    monitor(entry, &at).map_err(invalid)
}

/// Checks one entry; errors start with the field's path under `at`.
fn monitor(entry: &Value, at: &str) -> Result<Imported, String> {
    let raw = RawMonitor::deserialize(entry).map_err(|e| format!("{at}: {e}"))?;
    let field = |name: &str| format!("{at}.{name}");
    let min_shards = opt_whole(&raw.min_shards, &field("minShards"), 1, MAX_SHARDS)?;
    let max_shards = opt_whole(&raw.max_shards, &field("maxShards"), 1, MAX_SHARDS)?;
    if let (Some(lo), Some(hi)) = (min_shards, max_shards)
        && lo > hi
    {
        return Err(format!(
            "{}: {lo} is above maxShards ({hi}); accepted is 1 <= minShards <= maxShards <= {MAX_SHARDS}",
            field("minShards")
        ));
    }
    let check_interval_secs =
        opt_whole(&raw.check_interval, &field("checkInterval"), 1, 3600)?.unwrap_or(45);
    opt_whole(
        &raw.refresh_shards_number_after_min,
        &field("refreshShardsNumberAfterMin"),
        0,
        525_600,
    )?;
    let operations = match &raw.scale_on_operation {
        None => Vec::new(),
        Some(v) => operations(v).ok_or_else(|| {
            format!(
                "{}: {v} is not an operation; accepted are \"PUT\", \"GET\" or a list of them",
                field("scaleOnOperation")
            )
        })?,
    };
    let rule = |v: &Option<Value>, name: &str| -> Result<RawSuRule, String> {
        let path = field(name);
        // The tool fails at startup without either rule, though it checks
        // only that one is given (it reads both).
        let v = v.as_ref().ok_or_else(|| {
            format!("{path}: required; scaling-utils needs both scaleUp and scaleDown")
        })?;
        let raw = RawRule::deserialize(v).map_err(|e| format!("{path}: {e}"))?;
        let sub = |n: &str| format!("{path}.{n}");
        let required = |v: &Option<Value>, n: &str, lo, hi| {
            opt_whole(v, &sub(n), lo, hi)?
                .ok_or_else(|| format!("{}: required; accepted range is {lo} to {hi}", sub(n)))
        };
        let threshold = required(&raw.scale_threshold_pct, "scaleThresholdPct", 0, 1000)?;
        let after = required(&raw.scale_after_mins, "scaleAfterMins", 1, 1440)?;
        let pct = opt_whole(&raw.scale_pct, &sub("scalePct"), 1, 10_000)?;
        let count = opt_whole(&raw.scale_count, &sub("scaleCount"), 1, u64::from(u32::MAX))?;
        let cool = opt_whole(&raw.cool_off_mins, &sub("coolOffMins"), 0, 525_600)?;
        if pct.is_none() && count.is_none() {
            return Err(format!("{path}: needs scalePct or scaleCount"));
        }
        // In range above, so the conversions are exact.
        Ok(RawSuRule {
            threshold_pct: threshold as f64,
            after_mins: after as u32,
            scale_pct: pct.map(|p| p as f64),
            scale_count: count.map(|c| c as u32),
            cool_off_mins: cool.map(|c| c as u32),
        })
    };
    Ok(Imported {
        min_shards: min_shards.map(|n| n as u32),
        max_shards: max_shards.map(|n| n as u32),
        check_interval_secs,
        scale_up: rule(&raw.scale_up, "scaleUp")?,
        scale_down: rule(&raw.scale_down, "scaleDown")?,
        operations,
    })
}

/// `"PUT"`, `"GET"` or a list of them (an empty list means both, as in the
/// tool).
fn operations(v: &Value) -> Option<Vec<String>> {
    let one = |v: &Value| match v.as_str() {
        Some(s @ ("PUT" | "GET")) => Some(s.to_owned()),
        _ => None,
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// An optional whole number in `lo..=hi`. The tool's fields are Java
/// integers; a fraction is refused rather than truncated as Jackson would,
/// so that what runs is what the file says. `75.0` is accepted as 75.
fn opt_whole(v: &Option<Value>, field: &str, lo: u64, hi: u64) -> Result<Option<u64>, String> {
    let Some(v) = v else {
        return Ok(None);
    };
    let n = v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= u64::MAX as f64)
            .map(|x| x as u64)
    });
    match n {
        Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
        Some(_) => Err(format!(
            "{field}: {v} is out of range; accepted range is {lo} to {hi}"
        )),
        None if v.is_number() && v.as_f64().is_some_and(|x| x.fract() == 0.0) => Err(format!(
            "{field}: {v} is out of range; accepted range is {lo} to {hi}"
        )),
        None => Err(format!(
            "{field}: {v} is not a whole number; accepted range is {lo} to {hi}"
        )),
    }
}

/// Replaces `config = "file.json"` of a `"scaling-utils"` policy by the
/// fields it stands for, read from scaling-utils' own configuration: the
/// rules, `min_shards`, `max_shards` and `evaluation_interval`
/// (`checkInterval`). Those may then not be given in the scenario too: the
/// policy is the file's, whole. Returns the file read, if any.
pub(super) fn config(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    a: &mut RawAutoscaling,
) -> Result<Option<PathBuf>, ScenarioError> {
    let RawAutoscaling {
        evaluation_interval,
        min_shards,
        max_shards,
        policy,
        ..
    } = a;
    let RawPolicy::ScalingUtils {
        scale_up,
        scale_down,
        operations,
        config,
        stream_name,
    } = policy
    else {
        return Ok(None);
    };
    let bad = |field: &str, message: String| {
        ctx.invalid(span.clone(), &format!("autoscaling.{field}"), message)
    };
    let Some(config) = config.take() else {
        if stream_name.is_some() {
            return Err(bad(
                "policy.stream_name",
                "applies only with config = \"<scaling-utils configuration.json>\"".into(),
            ));
        }
        return Ok(None);
    };
    for (given, field, json) in [
        (scale_up.is_some(), "policy.scale_up", "scaleUp"),
        (scale_down.is_some(), "policy.scale_down", "scaleDown"),
        (
            operations.is_some(),
            "policy.operations",
            "scaleOnOperation",
        ),
        (min_shards.is_some(), "min_shards", "minShards"),
        (max_shards.is_some(), "max_shards", "maxShards"),
        (
            evaluation_interval.is_some(),
            "evaluation_interval",
            "checkInterval",
        ),
    ] {
        if given {
            return Err(bad(
                field,
                format!(
                    "cannot be combined with policy.config: the imported file sets it (its {json}, or the tool's default)"
                ),
            ));
        }
    }
    if config.trim().is_empty() {
        return Err(bad(
            "policy.config",
            "must name a file, e.g. \"configuration.json\"".into(),
        ));
    }
    let file = ctx.beside(&config);
    let imported = read_scaling_utils(ctx, span, &file, stream_name.as_deref())?;
    *scale_up = Some(imported.scale_up);
    *scale_down = Some(imported.scale_down);
    *operations = Some(imported.operations);
    *stream_name = None;
    *min_shards = imported.min_shards;
    *max_shards = imported.max_shards;
    *evaluation_interval = Some(Duration(imported.check_interval_secs * NANOS_PER_SEC));
    Ok(Some(file))
}

/// Reads scaling-utils' configuration `file` (its entry for `stream_name`).
fn read_scaling_utils(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    file: &Path,
    stream_name: Option<&str>,
) -> Result<Imported, ScenarioError> {
    import(file, stream_name).map_err(|e| {
        let line = ctx.line(span.start);
        match e {
            ImportError::Read(source) => ScenarioError::ImportRead {
                path: ctx.path.to_owned(),
                line,
                field: "autoscaling.policy.config".into(),
                file: file.to_owned(),
                source,
            },
            ImportError::Invalid { at, message } => ScenarioError::Import {
                path: ctx.path.to_owned(),
                line,
                file: file.to_owned(),
                at,
                message,
            },
        }
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> Result<Imported, String> {
        monitor(&serde_json::from_str(json).unwrap(), "[0]")
    }

    const RULES: &str = r#""scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2, "scalePct": 200},
        "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 15, "scaleCount": 1, "coolOffMins": 60}"#;

    #[test]
    fn defaults_are_the_tools() {
        let i = entry(&format!("{{\"streamName\": \"s\", {RULES}}}")).unwrap();
        // checkInterval 45 s, both operations, no cool-off on scaleUp
        // (KDS-REFERENCE.md §10b.3); no shard bounds.
        assert_eq!(i.check_interval_secs, 45);
        assert!(i.operations.is_empty());
        assert_eq!(i.scale_up.cool_off_mins, None);
        assert_eq!(i.scale_down.cool_off_mins, Some(60));
        assert_eq!((i.min_shards, i.max_shards), (None, None));
        assert_eq!(i.scale_up.scale_pct, Some(200.0));
        assert_eq!(i.scale_down.scale_count, Some(1));
    }

    #[test]
    fn operations_as_string_or_list() {
        for (v, want) in [
            ("\"PUT\"", vec!["PUT"]),
            ("[\"GET\", \"PUT\"]", vec!["GET", "PUT"]),
            ("[]", vec![]),
        ] {
            let i = entry(&format!("{{\"scaleOnOperation\": {v}, {RULES}}}")).unwrap();
            assert_eq!(i.operations, want, "{v}");
        }
        let e = entry(&format!("{{\"scaleOnOperation\": \"put\", {RULES}}}")).unwrap_err();
        assert!(e.starts_with("[0].scaleOnOperation: \"put\" is not"), "{e}");
    }

    #[test]
    fn numbers_are_whole_and_in_range() {
        let e = entry(&format!("{{\"checkInterval\": 0, {RULES}}}")).unwrap_err();
        assert_eq!(
            e,
            "[0].checkInterval: 0 is out of range; accepted range is 1 to 3600"
        );
        let e = entry(&format!("{{\"minShards\": 2.5, {RULES}}}")).unwrap_err();
        assert!(e.contains("2.5 is not a whole number"), "{e}");
        let e = entry(&format!("{{\"maxShards\": -1, {RULES}}}")).unwrap_err();
        assert!(e.contains("-1 is out of range"), "{e}");
        let e = entry(&format!("{{\"maxShards\": \"8\", {RULES}}}")).unwrap_err();
        assert!(e.contains("\"8\" is not a whole number"), "{e}");
        let e = entry(&format!("{{\"minShards\": 9, \"maxShards\": 4, {RULES}}}")).unwrap_err();
        assert!(e.contains("9 is above maxShards (4)"), "{e}");
        assert_eq!(
            entry(&format!("{{\"minShards\": 2.0, {RULES}}}"))
                .unwrap()
                .min_shards,
            Some(2)
        );
    }

    #[test]
    fn rules_are_checked_with_their_names() {
        let e = entry(
            r#"{"scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2, "scalePct": 200}}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("[0].scaleDown: required"), "{e}");
        let e = entry(
            r#"{"scaleUp": {"scaleThresholdPct": 1200, "scaleAfterMins": 2, "scalePct": 200},
                "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 2, "scalePct": 50}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "[0].scaleUp.scaleThresholdPct: 1200 is out of range; accepted range is 0 to 1000"
        );
        let e = entry(
            r#"{"scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2},
                "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 2, "scalePct": 50}}"#,
        )
        .unwrap_err();
        assert_eq!(e, "[0].scaleUp: needs scalePct or scaleCount");
        let e = entry(
            r#"{"scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2, "scalePct": 200, "scaleUpPct": 1},
                "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 2, "scalePct": 50}}"#,
        )
        .unwrap_err();
        assert!(
            e.starts_with("[0].scaleUp: unknown field `scaleUpPct`, expected one of"),
            "{e}"
        );
        let e = entry(&format!("{{\"streamname\": \"x\", {RULES}}}")).unwrap_err();
        assert!(e.starts_with("[0]: unknown field `streamname`"), "{e}");
    }

    mod scenario {
        use super::super::super::validate::testing::*;
        use super::super::super::{Policy, ScenarioError};
        use crate::units::NANOS_PER_SEC;

        const SU: &str = r#"[{"streamName": "s",
            "scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2, "scalePct": 200},
            "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 15, "scaleCount": 1}}]"#;

        fn scaling_utils(lines: &str) -> String {
            format!(
                "{SCENARIO}\n[autoscaling]\n{lines}\npolicy = {{ kind = \"scaling-utils\", config = \"su.json\" }}\n"
            )
        }

        #[test]
        fn a_scaling_utils_configuration_stands_for_the_policy() {
            let (dir, path) = dir_with(&[("su.json", SU), ("bad.json", "[{")]);
            let s = accepts_at(&scaling_utils(""), &path);
            let a = s.autoscaling.unwrap();
            // scaling-utils' checkInterval default: 45 s.
            assert_eq!(a.evaluation_interval, 45 * NANOS_PER_SEC);
            assert!(matches!(
                a.policy,
                Policy::ScalingUtils {
                    put: true,
                    get: true,
                    ..
                }
            ));
            assert_eq!(s.imports, [dir.path().join("su.json")]);
            assert_eq!(
                rejects_at(&scaling_utils("min_shards = 2"), &path),
                err(
                    "autoscaling.min_shards",
                    "cannot be combined with policy.config: the imported file sets it (its minShards, or the tool's default)"
                )
            );
            match parse_at(&scaling_utils("").replace("su.json", "none.json"), &path) {
                Err(ScenarioError::ImportRead { field, file, .. }) => {
                    assert_eq!(field, "autoscaling.policy.config");
                    assert_eq!(file, dir.path().join("none.json"));
                }
                other => panic!("{other:?}"),
            }
            match parse_at(&scaling_utils("").replace("su.json", "bad.json"), &path) {
                Err(ScenarioError::Import { at, line, .. }) => {
                    assert!(at.is_some());
                    // The line of [autoscaling].
                    assert_eq!(line, SCENARIO.lines().count() + 2);
                }
                other => panic!("{other:?}"),
            }
        }

        #[test]
        fn a_stream_name_needs_a_configuration() {
            let text = format!(
                "{SCENARIO}\n[autoscaling]\npolicy = {{ kind = \"scaling-utils\", stream_name = \"s\" }}\n"
            );
            assert_eq!(
                rejects(&text),
                err(
                    "autoscaling.policy.stream_name",
                    "applies only with config = \"<scaling-utils configuration.json>\""
                )
            );
            assert_eq!(
                rejects(&format!(
                    "{SCENARIO}\n[autoscaling]\npolicy = {{ kind = \"scaling-utils\", config = \" \" }}\n"
                )),
                err(
                    "autoscaling.policy.config",
                    "must name a file, e.g. \"configuration.json\""
                )
            );
        }
    }
}
