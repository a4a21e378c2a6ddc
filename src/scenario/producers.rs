//! `[[producers]]`: producer groups. Their `rate`, `size`, `keys` and
//! `retry` have their own modules; a trace's options are read with the
//! other imports.

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::keys::key_space;
use super::rate::{Import, rate_profile};
use super::raw::{RawAggregation, RawApi, RawArrivals, RawBatch, RawProducer, RawTrace};
use super::retry::retry_policy;
use super::sizes::size_model;
use super::validate::{Ctx, MIB, push_once};
use super::{Aggregation, Api, ProducerGroup, ScenarioError, StreamSpec};
use crate::kds::Quota;
use crate::sim::SimTime;
use crate::units::{Duration, NANOS_PER_SEC};
use crate::workload::{Arrivals, Component, KeySpace, RateProfile, SizeModel, TraceSpec};

/// A field that is wrong (below the group's label) and the message.
type Bad = (&'static str, String);

/// The groups, in file order: at least one, with unique names. Files they
/// read are added to `files`; what an import assumed, to `notes`.
pub(super) fn groups(
    ctx: &Ctx<'_>,
    raw: Spanned<Vec<Spanned<RawProducer>>>,
    stream: &StreamSpec,
    duration: SimTime,
    files: &mut Vec<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<Vec<ProducerGroup>, ScenarioError> {
    if raw.get_ref().is_empty() {
        return Err(ctx.invalid(
            raw.span(),
            "producers",
            "a scenario needs at least one [[producers]] group".into(),
        ));
    }
    let mut producers = Vec::with_capacity(raw.get_ref().len());
    for (i, p) in raw.into_inner().into_iter().enumerate() {
        let span = p.span();
        let group = producer(ctx, i, span.clone(), p.into_inner(), stream, files, notes)?;
        // An import shorter than the run: say where its rate stops.
        let imported = group
            .rate
            .components
            .iter()
            .any(|c| matches!(c, Component::Periods { .. }));
        if let Some(end) = group.rate.end().filter(|e| imported && *e < duration) {
            notes.push(format!(
                "producers[{i}] (\"{}\").rate: the imported data ends {} into the run, {} before it does; the rate is 0 from there",
                group.name,
                Duration(end),
                Duration(duration - end)
            ));
        }
        if producers
            .iter()
            .any(|g: &ProducerGroup| g.name == group.name)
        {
            return Err(ctx.invalid(
                span,
                &format!("producers[{i}].name"),
                format!(
                    "\"{}\" is used by two groups; names must be unique",
                    group.name
                ),
            ));
        }
        producers.push(group);
    }
    Ok(producers)
}

fn producer(
    ctx: &Ctx<'_>,
    i: usize,
    span: Range<usize>,
    mut raw: RawProducer,
    stream: &StreamSpec,
    files: &mut Vec<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<ProducerGroup, ScenarioError> {
    let label = format!("producers[{i}] (\"{}\")", raw.name);
    let bad = |field: &str, message: String| {
        ctx.invalid(span.clone(), &format!("{label}.{field}"), message)
    };
    if raw.name.trim().is_empty() {
        return Err(bad("name", "must not be empty".into()));
    }
    let count = raw.count.unwrap_or(1);
    if !(1..=100_000).contains(&count) {
        return Err(bad(
            "count",
            format!("{count} is out of range; accepted range is 1 to 100000"),
        ));
    }
    let trace = match raw.trace.take() {
        None => None,
        Some(t) => Some(trace(ctx, &raw, t, count, files).map_err(|(f, m)| bad(&f, m))?),
    };
    let (keys, mean_key, size) =
        keys_and_size(ctx, &label, &bad, &mut raw, trace.as_ref(), stream)?;
    // After keys and sizes: an IncomingBytes import is turned into records
    // at the group's record size.
    let rate = match (&raw.rate, &trace) {
        (_, Some(_)) => RateProfile::constant(0.0),
        (Some(r), None) => {
            let import = Import {
                base: ctx.dir(),
                label: &label,
                files,
                notes,
                // A record that reaches the stream: mean size and key, and
                // an aggregated (KPL) record's framing.
                record_bytes: size.mean()
                    + mean_key
                    + if raw.aggregation.is_some() {
                        crate::kds::AGGREGATE_PER_RECORD_BYTES as f64
                    } else {
                        0.0
                    },
                sent_fraction: size.sent_fraction(),
                aggregation: raw.aggregation.is_some(),
            };
            rate_profile(r, &raw.spikes, raw.rate_jitter, import).map_err(|(f, m)| bad(&f, m))?
        }
        (None, None) => return Err(bad("rate", "is required (or a trace)".into())),
    };
    let api = api(raw.api.take(), raw.batch.take(), stream).map_err(|(f, m)| bad(f, m))?;
    let retry = retry_policy(raw.retry.take()).map_err(|m| bad("retry", m))?;
    let (buffer_limit, request_latency) = delivery(&raw).map_err(|(f, m)| bad(f, m))?;
    let aggregation =
        aggregation(raw.aggregation.take(), &api, count, stream).map_err(|(f, m)| bad(f, m))?;
    Ok(ProducerGroup {
        name: raw.name,
        aggregation,
        trace,
        count,
        rate,
        arrivals: match raw.arrivals.unwrap_or(RawArrivals::Poisson) {
            RawArrivals::Poisson => Arrivals::Poisson,
            RawArrivals::Even => Arrivals::Even,
        },
        size,
        keys,
        api,
        retry,
        buffer_limit,
        request_latency,
    })
}

/// The group's keys and sizes, and its mean key's bytes; a trace gives its
/// own keys (and sizes, if it has a size column).
fn keys_and_size(
    ctx: &Ctx<'_>,
    label: &str,
    bad: &dyn Fn(&str, String) -> ScenarioError,
    raw: &mut RawProducer,
    trace: Option<&TraceSpec>,
    stream: &StreamSpec,
) -> Result<(KeySpace, f64, SizeModel), ScenarioError> {
    let keys = match (raw.keys.take(), trace) {
        (_, Some(_)) => KeySpace::Random { key_bytes: 0 },
        (Some(k), None) => {
            let keys_span = k.span();
            key_space(k.into_inner())
                .map_err(|m| ctx.invalid(keys_span, &format!("{label}.keys"), m))?
        }
        (None, None) => return Err(bad("keys", "is required (or a trace)".into())),
    };
    // Once: O(keys) for a table.
    let mean_key = keys.mean_key_bytes();
    let size = match raw.size.take() {
        Some(s) => size_model(s.0, stream.max_record_bytes, keys.max_key_bytes(), mean_key)
            .map_err(|m| bad("size", m))?,
        None if trace.is_some() => SizeModel::Fixed(0),
        None => return Err(bad("size", "is required".into())),
    };
    Ok((keys, mean_key, size))
}

/// A trace producer: one producer, the trace giving times and keys (and
/// sizes, if it has a size column). The file is added to `files`.
fn trace(
    ctx: &Ctx<'_>,
    raw: &RawProducer,
    t: RawTrace,
    count: u32,
    files: &mut Vec<PathBuf>,
) -> Result<TraceSpec, (String, String)> {
    for (field, present) in [
        ("rate", raw.rate.is_some()),
        ("keys", raw.keys.is_some()),
        ("arrivals", raw.arrivals.is_some()),
        ("spikes", !raw.spikes.is_empty()),
        ("rate_jitter", raw.rate_jitter.is_some()),
    ] {
        if present {
            return Err((
                field.to_owned(),
                "does not apply to a trace producer: the trace gives times and keys".into(),
            ));
        }
    }
    if count != 1 {
        return Err((
            "count".to_owned(),
            format!("{count} is out of range; a trace is replayed by one producer (count = 1)"),
        ));
    }
    let spec = super::imports::trace_spec(ctx, t).map_err(|(f, m)| (format!("trace.{f}"), m))?;
    push_once(files, spec.path.clone());
    if !spec.has_size && raw.size.is_none() {
        return Err((
            "size".to_owned(),
            "is required: the trace has no size column (size or bytes)".into(),
        ));
    }
    Ok(spec)
}

/// `api`, and for `"put-records"` its `batch`.
fn api(api: Option<RawApi>, batch: Option<RawBatch>, stream: &StreamSpec) -> Result<Api, Bad> {
    match (api.unwrap_or(RawApi::PutRecord), batch) {
        (RawApi::PutRecord, None) => Ok(Api::PutRecord),
        (RawApi::PutRecord, Some(_)) => {
            Err(("batch", "applies only to api = \"put-records\"".into()))
        }
        (RawApi::PutRecords, batch) => {
            let batch = batch.unwrap_or(RawBatch {
                max_records: None,
                max_bytes: None,
                linger: None,
            });
            let most = Quota::PutRecordsMaxRecords.value() as u32;
            let max_records = batch.max_records.unwrap_or(most);
            if !(1..=most).contains(&max_records) {
                return Err((
                    "batch.max_records",
                    format!("{max_records} is out of range; accepted range is 1 to {most}"),
                ));
            }
            // 5 MiB: the limit before 2025-10-27 and KPL's CollectionMaxSize
            // (or one maximum record, if the stream takes larger ones).
            let max_bytes = batch
                .max_bytes
                .map_or((5 * MIB).max(stream.max_record_bytes), |b| b.0);
            let most_bytes = Quota::PutRecordsMaxRequestBytes.value();
            if !(stream.max_record_bytes..=most_bytes).contains(&max_bytes) {
                return Err((
                    "batch.max_bytes",
                    format!(
                        "{max_bytes} bytes is out of range; accepted range is the stream's max_record_size ({}) to 10MiB",
                        stream.max_record_bytes
                    ),
                ));
            }
            let linger = batch.linger.map_or(100_000_000, |d| d.0);
            if linger > 60 * NANOS_PER_SEC {
                return Err((
                    "batch.linger",
                    format!(
                        "{} is out of range; accepted range is 0s to 1m",
                        Duration(linger)
                    ),
                ));
            }
            Ok(Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            })
        }
    }
}

/// `buffer_limit` and `request_latency`.
fn delivery(raw: &RawProducer) -> Result<(u64, SimTime), Bad> {
    let buffer_limit = raw.buffer_limit.unwrap_or(1_000_000);
    if buffer_limit == 0 {
        return Err((
            "buffer_limit",
            "0 is out of range; accepted range is 1 and up".into(),
        ));
    }
    let request_latency = raw.request_latency.map_or(0, |d| d.0);
    if request_latency > 60 * NANOS_PER_SEC {
        return Err((
            "request_latency",
            format!(
                "{} is out of range; accepted range is 0s to 1m",
                Duration(request_latency)
            ),
        ));
    }
    Ok((buffer_limit, request_latency))
}

/// KPL aggregation, which needs PutRecords.
fn aggregation(
    raw: Option<RawAggregation>,
    api: &Api,
    count: u32,
    stream: &StreamSpec,
) -> Result<Option<Aggregation>, Bad> {
    let Some(a) = raw else {
        return Ok(None);
    };
    if !matches!(api, Api::PutRecords { .. }) {
        return Err((
            "aggregation",
            "needs api = \"put-records\" (the KPL sends aggregated records with PutRecords)".into(),
        ));
    }
    let max_size = a.max_size.map_or(51_200, |b| b.0);
    if !(1024..=stream.max_record_bytes).contains(&max_size) {
        return Err((
            "aggregation.max_size",
            format!(
                "{max_size} bytes is out of range; accepted range is 1KiB to the stream's max_record_size ({} bytes)",
                stream.max_record_bytes
            ),
        ));
    }
    // One open aggregate per producer and shard is kept in a table.
    let cells = u64::from(count) * u64::from(stream.shards);
    if cells > 4_000_000 {
        return Err((
            "aggregation",
            format!(
                "{count} producers on {} shards would keep {cells} open aggregates; \
                 the accepted total (count times shards) is at most 4000000",
                stream.shards
            ),
        ));
    }
    let max_buffered_time = a.max_buffered_time.map_or(100_000_000, |d| d.0);
    if !(1_000_000..=60 * NANOS_PER_SEC).contains(&max_buffered_time) {
        return Err((
            "aggregation.max_buffered_time",
            format!(
                "{} is out of range; accepted range is 1ms to 1m",
                Duration(max_buffered_time)
            ),
        ));
    }
    Ok(Some(Aggregation {
        max_size,
        max_buffered_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    const WEB: &str = "producers[0] (\"web\")";

    #[test]
    fn defaults_are_one_putrecord_producer() {
        let g = accepts(SCENARIO).producers.remove(0);
        assert_eq!((g.name.as_str(), g.count), ("web", 1));
        assert_eq!(g.api, Api::PutRecord);
        assert_eq!(g.arrivals, Arrivals::Poisson);
        assert_eq!((g.buffer_limit, g.request_latency), (1_000_000, 0));
        assert_eq!(g.aggregation, None);
        assert!(g.trace.is_none());
    }

    #[test]
    fn put_records_batches_default_to_the_kpl_limits() {
        let g = accepts(&producer_with("api = \"put-records\"\naggregation = {}"))
            .producers
            .remove(0);
        assert_eq!(
            g.api,
            Api::PutRecords {
                max_records: 500,
                max_bytes: 5 * MIB,
                linger: 100_000_000
            }
        );
        assert_eq!(
            g.aggregation,
            Some(Aggregation {
                max_size: 51_200,
                max_buffered_time: 100_000_000
            })
        );
    }

    #[test]
    fn group_fields_are_named_with_the_group() {
        let f = |field: &str| format!("{WEB}.{field}");
        assert_eq!(
            rejects(&producer_with("count = 0")),
            (
                f("count"),
                "0 is out of range; accepted range is 1 to 100000".into()
            )
        );
        assert_eq!(
            rejects(&producer_with("batch = { max_records = 10 }")),
            (f("batch"), "applies only to api = \"put-records\"".into())
        );
        assert_eq!(
            rejects(&producer_with(
                "api = \"put-records\"\nbatch = { max_records = 501 }"
            )),
            (
                f("batch.max_records"),
                "501 is out of range; accepted range is 1 to 500".into()
            )
        );
        assert_eq!(
            rejects(&producer_with("buffer_limit = 0")),
            (
                f("buffer_limit"),
                "0 is out of range; accepted range is 1 and up".into()
            )
        );
        assert_eq!(
            rejects(&producer_with("request_latency = \"2m\"")),
            (
                f("request_latency"),
                "2m is out of range; accepted range is 0s to 1m".into()
            )
        );
        assert_eq!(
            rejects(&producer_with("aggregation = {}")),
            (
                f("aggregation"),
                "needs api = \"put-records\" (the KPL sends aggregated records with PutRecords)"
                    .into()
            )
        );
        assert_eq!(
            rejects(&producer_with(
                "api = \"put-records\"\naggregation = { max_size = \"512B\" }"
            )),
            (
                f("aggregation.max_size"),
                "512 bytes is out of range; accepted range is 1KiB to the stream's max_record_size (1048576 bytes)"
                    .into()
            )
        );
    }

    #[test]
    fn required_fields_and_unique_names() {
        assert_eq!(
            rejects(&edit("size = \"100B\"\n", "")),
            (format!("{WEB}.size"), "is required".into())
        );
        assert_eq!(
            rejects(&edit("rate = \"100/s\"\n", "")),
            (format!("{WEB}.rate"), "is required (or a trace)".into())
        );
        assert_eq!(
            rejects(&edit("keys = { kind = \"uniform\", count = 10 }\n", "")),
            (format!("{WEB}.keys"), "is required (or a trace)".into())
        );
        let twice = format!(
            "{SCENARIO}\n{}",
            &SCENARIO[SCENARIO.find("[[producers]]").unwrap()..]
        );
        assert_eq!(
            rejects(&twice),
            err(
                "producers[1].name",
                "\"web\" is used by two groups; names must be unique"
            )
        );
        let none = &SCENARIO[..SCENARIO.find("[[producers]]").unwrap()];
        assert_eq!(
            rejects(&none.replace("[stream]", "producers = []\n[stream]")),
            err(
                "producers",
                "a scenario needs at least one [[producers]] group"
            )
        );
    }

    #[test]
    fn a_trace_producer_refuses_generated_fields() {
        // The fields are checked before the file is read.
        assert_eq!(
            rejects(&producer_with("trace = { file = \"none.csv\" }")),
            (
                format!("{WEB}.rate"),
                "does not apply to a trace producer: the trace gives times and keys".into()
            )
        );
        let trace_only = edit("rate = \"100/s\"\n", "")
            .replace("keys = { kind = \"uniform\", count = 10 }\n", "")
            + "count = 2\ntrace = { file = \"none.csv\" }\n";
        assert_eq!(
            rejects(&trace_only),
            (
                format!("{WEB}.count"),
                "2 is out of range; a trace is replayed by one producer (count = 1)".into()
            )
        );
    }
}
