//! The invariants the engines rely on, checked again before every run: a
//! [`Scenario`] is plain data that a library user may build or edit in code
//! after it was validated, and a run never trusts it.
//!
//! Only what would make an engine panic, loop or overflow is checked here;
//! the full validation of a file, with spans and hints, is `parse`'s.

use super::{Api, Scenario};
use crate::kds::{MAX_CREATE_SHARDS, Quota};

/// A scenario field holding a value no run can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario \"{scenario}\": {field}: {message}")]
pub struct InvalidScenario {
    /// The scenario's name.
    pub scenario: String,
    /// The field, as it is named in a scenario file.
    pub field: String,
    /// What is wrong and the accepted range.
    pub message: String,
}

impl Scenario {
    /// Checks the invariants a run relies on (ranges the engines divide by,
    /// index with or loop on). `Scenario::parse` output always passes; a
    /// scenario edited or built in code may not.
    pub fn check(&self) -> Result<(), InvalidScenario> {
        let fail = |field: String, message: String| {
            Err(InvalidScenario {
                scenario: self.name.clone(),
                field,
                message,
            })
        };
        let range = |v: u64, lo: u64, hi: u64| {
            format!("{v} is out of range; accepted range is {lo} to {hi}")
        };
        let s = &self.stream;
        let shards = u64::from(s.shards);
        if !(1..=u64::from(MAX_CREATE_SHARDS)).contains(&shards) {
            return fail(
                "stream.shards".into(),
                range(shards, 1, MAX_CREATE_SHARDS.into()),
            );
        }
        if let Some(warm) = s.warm_throughput {
            let needed = warm.div_ceil(Quota::WriteBytesPerShardPerSec.value());
            if needed > u64::from(MAX_CREATE_SHARDS) {
                return fail(
                    "stream.warm_throughput".into(),
                    format!("{warm} bytes/s needs {needed} shards; at most {MAX_CREATE_SHARDS}"),
                );
            }
        }
        let most_bytes = Quota::MaxRecordBytesConfigurable.value();
        if !(1..=most_bytes).contains(&s.max_record_bytes) {
            return fail(
                "stream.max_record_size".into(),
                range(s.max_record_bytes, 1, most_bytes),
            );
        }
        if s.reshard_op_time.0 > s.reshard_op_time.1 {
            return fail(
                "stream.reshard_op_time".into(),
                "min is above max; accepted is min <= max".into(),
            );
        }
        if s.prices.payload_unit_bytes == 0 {
            return fail(
                "stream.prices.payload_unit_bytes".into(),
                "0 is out of range; a PUT payload unit is at least 1 byte".into(),
            );
        }
        if s.backlog_resolution == 0 || s.retention == 0 {
            return fail(
                "stream.backlog_resolution, stream.retention".into(),
                "0 is out of range; both are longer than 0 s".into(),
            );
        }
        for p in &self.producers {
            let at = |f: &str| format!("producers.{}.{f}", p.name);
            if p.count == 0 {
                return fail(at("count"), range(0, 1, u32::MAX.into()));
            }
            if p.retry.max_attempts == 0 {
                return fail(at("retry.max_attempts"), range(0, 1, u32::MAX.into()));
            }
            if let Api::PutRecords { max_records, .. } = p.api {
                let most = Quota::PutRecordsMaxRecords.value();
                if !(1..=most).contains(&u64::from(max_records)) {
                    return fail(at("batch.max_records"), range(max_records.into(), 1, most));
                }
            }
            if let Some(agg) = p.aggregation
                && !(1..=s.max_record_bytes).contains(&agg.max_size)
            {
                return fail(
                    at("aggregation.max_size"),
                    range(agg.max_size, 1, s.max_record_bytes),
                );
            }
        }
        for c in &self.consumers {
            let at = |f: &str| format!("consumers.{}.{f}", c.name);
            if c.workers == 0 {
                return fail(at("workers"), range(0, 1, 10_000));
            }
            if c.poll_interval == 0 {
                return fail(
                    at("poll_interval"),
                    "0 s is out of range; it is longer than 0 s".into(),
                );
            }
            let most = Quota::GetRecordsMaxRecords.value();
            if !(1..=most).contains(&u64::from(c.max_records)) {
                return fail(at("max_records"), range(c.max_records.into(), 1, most));
            }
        }
        if let Some(a) = &self.autoscaling {
            if a.evaluation_interval == 0 {
                return fail(
                    "autoscaling.evaluation_interval".into(),
                    "0 s is out of range; it is longer than 0 s".into(),
                );
            }
            if a.min_shards == 0 || a.min_shards > a.max_shards {
                return fail(
                    "autoscaling.min_shards".into(),
                    format!(
                        "{} is out of range; accepted range is 1 to max_shards ({})",
                        a.min_shards, a.max_shards
                    ),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const TEXT: &str = r#"
name = "edited"
duration = "10s"
[stream]
shards = 2
[[producers]]
name = "web"
rate = "100/s"
size = "100B"
keys = { kind = "random" }
[[consumers]]
name = "app"
[autoscaling]
min_shards = 1
max_shards = 4
policy = { kind = "target-tracking", target = 0.5 }
"#;

    fn parsed() -> Scenario {
        Scenario::parse(TEXT, Path::new("edited.toml")).unwrap()
    }

    #[test]
    fn a_parsed_scenario_passes() {
        assert_eq!(parsed().check(), Ok(()));
    }

    #[test]
    fn edits_that_no_run_can_use_are_named() {
        type Edit = fn(&mut Scenario);
        let cases: [(Edit, &str); 7] = [
            (
                |s| s.stream.prices.payload_unit_bytes = 0,
                "stream.prices.payload_unit_bytes",
            ),
            (|s| s.stream.shards = 0, "stream.shards"),
            (
                |s| s.stream.reshard_op_time = (5, 1),
                "stream.reshard_op_time",
            ),
            (|s| s.producers[0].count = 0, "producers.web.count"),
            (
                |s| s.consumers[0].poll_interval = 0,
                "consumers.app.poll_interval",
            ),
            (
                |s| s.autoscaling.as_mut().unwrap().evaluation_interval = 0,
                "autoscaling.evaluation_interval",
            ),
            (
                |s| s.autoscaling.as_mut().unwrap().min_shards = 9,
                "autoscaling.min_shards",
            ),
        ];
        for (edit, field) in cases {
            let mut s = parsed();
            edit(&mut s);
            let e = s.check().unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.to_string().starts_with("scenario \"edited\": "), "{e}");
        }
    }
}
