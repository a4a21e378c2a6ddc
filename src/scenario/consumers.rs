//! `[[consumers]]`: consumer applications.

use toml::Spanned;

use super::raw::{RawConsumer, RawConsumerKind, RawStartPosition};
use super::validate::{Ctx, HOUR};
use super::{ConsumerApp, ConsumerKind, ScenarioError, StartPosition, StreamSpec};
use crate::kds::Quota;
use crate::sim::SimTime;
use crate::units::{Duration, NANOS_PER_SEC};

/// The applications, in file order, with unique names and no more
/// enhanced fan-out consumers than the stream accepts.
pub(super) fn apps(
    ctx: &Ctx<'_>,
    raw: Vec<Spanned<RawConsumer>>,
    duration: SimTime,
    stream: &StreamSpec,
) -> Result<Vec<ConsumerApp>, ScenarioError> {
    let mut consumers: Vec<ConsumerApp> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let span = c.span();
        let app = consumer(c.into_inner(), duration).map_err(|(field, m)| {
            ctx.invalid(span.clone(), &format!("consumers[{i}].{field}"), m)
        })?;
        if consumers.iter().any(|o| o.name == app.name) {
            return Err(ctx.invalid(
                span,
                &format!("consumers[{i}].name"),
                format!(
                    "\"{}\" is used by two consumers; names must be unique",
                    app.name
                ),
            ));
        }
        consumers.push(app);
    }
    let efo = consumers
        .iter()
        .filter(|c| c.kind == ConsumerKind::EnhancedFanOut)
        .count() as u64;
    let efo_max = if stream.advantage_mode {
        Quota::EfoMaxConsumersPerStreamAdvantage.value()
    } else {
        Quota::EfoMaxConsumersPerStream.value()
    };
    if efo > efo_max {
        return Err(ctx.invalid(
            0..0,
            "consumers",
            format!(
                "{efo} enhanced fan-out consumers; a stream accepts at most {efo_max} \
                 (50 with stream.advantage_mode = true)"
            ),
        ));
    }
    Ok(consumers)
}

/// One application, or its field that is wrong and the message.
fn consumer(raw: RawConsumer, duration: SimTime) -> Result<ConsumerApp, (&'static str, String)> {
    if raw.name.trim().is_empty() {
        return Err(("name", "must not be empty".into()));
    }
    let kind = match raw.kind.unwrap_or(RawConsumerKind::Polling) {
        RawConsumerKind::Polling => ConsumerKind::Polling,
        RawConsumerKind::EnhancedFanOut => ConsumerKind::EnhancedFanOut,
    };
    let workers = raw.workers.unwrap_or(1);
    if !(1..=10_000).contains(&workers) {
        return Err((
            "workers",
            format!("{workers} is out of range; accepted range is 1 to 10000"),
        ));
    }
    let (poll_interval, max_records) = reads(&raw, kind)?;
    let (per_record, per_batch) = processing(&raw)?;
    let pauses = pauses(&raw, duration)?;
    let start_position = match raw.start_position.unwrap_or(RawStartPosition::Latest) {
        RawStartPosition::Latest => StartPosition::Latest,
        RawStartPosition::TrimHorizon => StartPosition::TrimHorizon,
    };
    let checkpoint_interval = match raw.checkpoint_interval {
        None => None,
        Some(d) if d.0 > 0 && d.0 <= 24 * HOUR => Some(d.0),
        Some(d) => {
            return Err((
                "checkpoint_interval",
                format!("{d} is out of range; accepted range is 1ns to 24h"),
            ));
        }
    };
    let max_leases_per_worker = match raw.max_leases_per_worker {
        Some(0) => {
            return Err((
                "max_leases_per_worker",
                "0 is out of range; accepted range is 1 and up".into(),
            ));
        }
        m => m,
    };
    let starts_at = raw.starts_at.map_or(0, |d| d.0);
    if starts_at >= duration {
        return Err((
            "starts_at",
            format!(
                "{} is not within the scenario's duration",
                Duration(starts_at)
            ),
        ));
    }
    Ok(ConsumerApp {
        name: raw.name,
        kind,
        workers,
        poll_interval,
        max_records,
        per_record,
        per_batch,
        start_position,
        checkpoint_interval,
        max_leases_per_worker,
        starts_at,
        pauses,
    })
}

/// How often a lease reads, and how much a call takes.
fn reads(raw: &RawConsumer, kind: ConsumerKind) -> Result<(SimTime, u32), (&'static str, String)> {
    // KCL 2.5.4 and later: idleTimeBetweenReadsInMillis 1500 (KDS-REFERENCE.md §8.2);
    // enhanced fan-out pushes are modelled every 200 ms.
    let default_interval = match kind {
        ConsumerKind::Polling => 1_500_000_000,
        ConsumerKind::EnhancedFanOut => 200_000_000,
    };
    let poll_interval = raw.poll_interval.map_or(default_interval, |d| d.0);
    if !(1_000_000..=600 * NANOS_PER_SEC).contains(&poll_interval) {
        return Err((
            "poll_interval",
            format!(
                "{} is out of range; accepted range is 1ms to 10m",
                Duration(poll_interval)
            ),
        ));
    }
    let most = Quota::GetRecordsMaxRecords.value() as u32;
    let max_records = raw.max_records.unwrap_or(most);
    if !(1..=most).contains(&max_records) {
        return Err((
            "max_records",
            format!("{max_records} is out of range; accepted range is 1 to {most}"),
        ));
    }
    Ok((poll_interval, max_records))
}

/// Processing time per record and per batch.
fn processing(raw: &RawConsumer) -> Result<(SimTime, SimTime), (&'static str, String)> {
    let per_record = raw.per_record.map_or(0, |d| d.0);
    let per_batch = raw.per_batch.map_or(0, |d| d.0);
    if per_record > 60 * NANOS_PER_SEC {
        return Err((
            "per_record",
            format!(
                "{} is out of range; accepted range is 0s to 1m",
                Duration(per_record)
            ),
        ));
    }
    if per_batch > 600 * NANOS_PER_SEC {
        return Err((
            "per_batch",
            format!(
                "{} is out of range; accepted range is 0s to 10m",
                Duration(per_batch)
            ),
        ));
    }
    Ok((per_record, per_batch))
}

/// The pauses as `(from, until)`, in time order, apart from each other.
fn pauses(
    raw: &RawConsumer,
    duration: SimTime,
) -> Result<Vec<(SimTime, SimTime)>, (&'static str, String)> {
    let mut pauses: Vec<(SimTime, SimTime)> = raw
        .pauses
        .iter()
        .map(|p| (p.at.0, p.at.0.saturating_add(p.duration.0)))
        .collect();
    pauses.sort_unstable();
    if pauses.windows(2).any(|w| w[1].0 < w[0].1)
        || pauses.iter().any(|p| p.0 >= duration || p.1 == p.0)
    {
        return Err((
            "pauses",
            "pauses must have a positive duration, start within the scenario and not overlap"
                .into(),
        ));
    }
    Ok(pauses)
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    fn with(lines: &str) -> String {
        format!("{SCENARIO}\n[[consumers]]\nname = \"app\"\n{lines}\n")
    }

    fn rejected(lines: &str) -> (String, String) {
        rejects(&with(lines))
    }

    #[test]
    fn defaults_are_a_kcl_polling_application() {
        let c = accepts(&with("")).consumers.remove(0);
        assert_eq!(c.kind, ConsumerKind::Polling);
        assert_eq!(c.workers, 1);
        assert_eq!(c.poll_interval, 1_500_000_000);
        assert_eq!(c.max_records, 10_000);
        assert_eq!(c.start_position, StartPosition::Latest);
        assert_eq!(
            (c.checkpoint_interval, c.max_leases_per_worker),
            (None, None)
        );
        let efo = accepts(&with("kind = \"enhanced-fan-out\""))
            .consumers
            .remove(0);
        assert_eq!(efo.poll_interval, 200_000_000);
    }

    #[test]
    fn pauses_are_sorted_and_must_not_overlap() {
        let c = accepts(&with(
            "pauses = [{ at = \"30s\", duration = \"5s\" }, { at = \"10s\", duration = \"5s\" }]",
        ))
        .consumers
        .remove(0);
        assert_eq!(
            c.pauses,
            [
                (10 * NANOS_PER_SEC, 15 * NANOS_PER_SEC),
                (30 * NANOS_PER_SEC, 35 * NANOS_PER_SEC)
            ]
        );
        let message =
            "pauses must have a positive duration, start within the scenario and not overlap";
        for pauses in [
            "[{ at = \"10s\", duration = \"5s\" }, { at = \"12s\", duration = \"5s\" }]",
            "[{ at = \"10s\", duration = \"0s\" }]",
            "[{ at = \"60s\", duration = \"1s\" }]",
        ] {
            assert_eq!(
                rejected(&format!("pauses = {pauses}")),
                err("consumers[0].pauses", message),
                "{pauses}"
            );
        }
    }

    #[test]
    fn out_of_range_fields_are_named() {
        for (line, field, message) in [
            (
                "workers = 0",
                "workers",
                "0 is out of range; accepted range is 1 to 10000",
            ),
            (
                "poll_interval = \"20m\"",
                "poll_interval",
                "20m is out of range; accepted range is 1ms to 10m",
            ),
            (
                "max_records = 10001",
                "max_records",
                "10001 is out of range; accepted range is 1 to 10000",
            ),
            (
                "per_record = \"2m\"",
                "per_record",
                "2m is out of range; accepted range is 0s to 1m",
            ),
            (
                "per_batch = \"11m\"",
                "per_batch",
                "11m is out of range; accepted range is 0s to 10m",
            ),
            (
                "checkpoint_interval = \"25h\"",
                "checkpoint_interval",
                "1day 1h is out of range; accepted range is 1ns to 24h",
            ),
            (
                "max_leases_per_worker = 0",
                "max_leases_per_worker",
                "0 is out of range; accepted range is 1 and up",
            ),
            (
                "starts_at = \"1m\"",
                "starts_at",
                "1m is not within the scenario's duration",
            ),
        ] {
            assert_eq!(
                rejected(line),
                err(&format!("consumers[0].{field}"), message),
                "{line}"
            );
        }
        assert_eq!(
            rejects(&format!("{SCENARIO}\n[[consumers]]\nname = \"\"\n")),
            err("consumers[0].name", "must not be empty")
        );
    }

    #[test]
    fn names_are_unique_and_enhanced_fan_out_is_limited() {
        assert_eq!(
            rejects(&format!("{}[[consumers]]\nname = \"app\"\n", with(""))),
            err(
                "consumers[1].name",
                "\"app\" is used by two consumers; names must be unique"
            )
        );
        let mut text = SCENARIO.to_owned();
        for i in 0..21 {
            text.push_str(&format!(
                "[[consumers]]\nname = \"c{i}\"\nkind = \"enhanced-fan-out\"\n"
            ));
        }
        assert_eq!(
            rejects(&text),
            err(
                "consumers",
                "21 enhanced fan-out consumers; a stream accepts at most 20 \
                 (50 with stream.advantage_mode = true)"
            )
        );
        let advantage = text.replacen("shards = 2\n", "shards = 2\nadvantage_mode = true\n", 1);
        assert_eq!(accepts(&advantage).consumers.len(), 21);
    }
}
