//! Raw shapes to domain types: every range and cross-field rule, in one place.

use std::ops::Range;
use std::path::Path;

use super::raw::*;
use super::*;
use crate::kds::{HashKey, KeyLengthRule, MAX_CREATE_SHARDS, Quota, validate_partition_key};
use crate::units::{Duration, NANOS_PER_SEC};
use crate::workload::{
    Component, KeyNames, KeySampler, KeySpace, KeyTable, RateProfile, SizeModel, Spike,
    TraceFormat, TraceSpec,
};

const MIB: u64 = 1 << 20;
const HOUR: u64 = 3600 * NANOS_PER_SEC;
/// The longest scenario: a year (plus a day).
const MAX_DURATION: u64 = 366 * 24 * HOUR;
/// The largest finite key table (hash keys are kept in memory, 18 bytes each).
const MAX_KEYS: u64 = 10_000_000;
/// Default wall-clock start: fixed, so that output never depends on the clock.
const DEFAULT_START: &str = "2025-01-01T00:00:00Z";

/// Retry presets: name, description and policy.
///
/// Sources: KDS-REFERENCE.md §7a.2/7a.4 (standard mode: 3 attempts, full
/// jitter, base 1 s for throttling, cap 20 s), §7a.5 (Java v2 legacy: 4
/// attempts, throttled base 500 ms, cap 20 s), §7b.1/7b.5 (KPL: no backoff,
/// retried within RecordMaxBufferedTime/2 = 50 ms until RecordTtl = 30 s).
pub const RETRY_PRESETS: &[(&str, &str, RetryPolicy)] = &[
    (
        "none",
        "no retries",
        RetryPolicy {
            max_attempts: 1,
            base: 0,
            cap: 0,
            jitter: Jitter::None,
            ttl: None,
        },
    ),
    (
        "sdk-standard",
        "AWS SDK standard mode: 3 attempts, full jitter, base 1 s, cap 20 s",
        RetryPolicy {
            max_attempts: 3,
            base: NANOS_PER_SEC,
            cap: 20 * NANOS_PER_SEC,
            jitter: Jitter::Full,
            ttl: None,
        },
    ),
    (
        "sdk-legacy",
        "AWS SDK for Java v2 legacy mode: 4 attempts, full jitter, base 500 ms, cap 20 s",
        RetryPolicy {
            max_attempts: 4,
            base: NANOS_PER_SEC / 2,
            cap: 20 * NANOS_PER_SEC,
            jitter: Jitter::Full,
            ttl: None,
        },
    ),
    (
        "kpl",
        "KPL: no backoff, retried every 50 ms until RecordTtl (30 s)",
        RetryPolicy {
            max_attempts: u32::MAX,
            base: 50_000_000,
            cap: 50_000_000,
            jitter: Jitter::None,
            ttl: Some(30 * NANOS_PER_SEC),
        },
    ),
];

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn invalid(&self, span: Range<usize>, field: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.path.to_owned(),
            line: self.line(span.start),
            field: field.to_owned(),
            message,
        }
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { path, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let line = ctx.line(offset);
        ScenarioError::Parse {
            path: path.to_owned(),
            line,
            text: text.lines().nth(line - 1).unwrap_or("").trim().to_owned(),
            message: e.message().trim().to_owned(),
        }
    })?;
    scenario(&ctx, raw)
}

fn scenario(ctx: &Ctx<'_>, raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let whole = 0..0;
    if raw.name.trim().is_empty() {
        return Err(ctx.invalid(whole, "name", "must not be empty".into()));
    }
    let duration = raw.duration.get_ref().0;
    if duration == 0 || duration > MAX_DURATION {
        return Err(ctx.invalid(
            raw.duration.span(),
            "duration",
            format!(
                "{} is out of range; accepted durations are 1ns to 366 days",
                raw.duration.get_ref()
            ),
        ));
    }
    let start = match &raw.start {
        None => parse_start(DEFAULT_START).expect("the default start parses"),
        Some(s) => {
            // A quoted string or a bare TOML date-time.
            let text = match s.get_ref() {
                toml::Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            parse_start(&text).ok_or_else(|| {
                ctx.invalid(
                    s.span(),
                    "start",
                    format!("{text} is not an RFC 3339 UTC time like \"{DEFAULT_START}\""),
                )
            })?
        }
    };
    // Every file read, in reading order, for the digest of the inputs.
    let mut imports = Vec::new();
    let prices = raw
        .stream
        .get_ref()
        .prices
        .as_deref()
        .map(|f| beside(ctx, f));
    let stream_span = raw.stream.span();
    let stream = stream(ctx, stream_span, raw.stream.into_inner())?;
    imports.extend(prices);
    if raw.producers.get_ref().is_empty() {
        return Err(ctx.invalid(
            raw.producers.span(),
            "producers",
            "a scenario needs at least one [[producers]] group".into(),
        ));
    }
    let mut producers = Vec::with_capacity(raw.producers.get_ref().len());
    let mut notes = Vec::new();
    for (i, p) in raw.producers.into_inner().into_iter().enumerate() {
        let span = p.span();
        let group = producer(
            ctx,
            i,
            span.clone(),
            p.into_inner(),
            &stream,
            &mut imports,
            &mut notes,
        )?;
        // An import shorter than the run: say where its rate stops.
        let imported = group
            .rate
            .components
            .iter()
            .any(|c| matches!(c, crate::workload::Component::Periods { .. }));
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
    let mut reshards = Vec::with_capacity(raw.reshards.len());
    for (i, r) in raw.reshards.into_iter().enumerate() {
        let span = r.span();
        let r = r.into_inner();
        let field = format!("reshards[{i}]");
        if r.at.0 >= duration {
            return Err(ctx.invalid(
                span,
                &format!("{field}.at"),
                format!("{} is not within the scenario's duration", r.at),
            ));
        }
        let action = reshard_action(&r).map_err(|m| ctx.invalid(span, &field, m))?;
        reshards.push(ReshardRequest { at: r.at.0, action });
    }
    // Requests at the same time keep their file order (a stable sort).
    reshards.sort_by_key(|r| r.at);
    let mut consumers: Vec<ConsumerApp> = Vec::with_capacity(raw.consumers.len());
    for (i, c) in raw.consumers.into_iter().enumerate() {
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
    let autoscaling = match raw.autoscaling {
        None => None,
        Some(a) => {
            let span = a.span();
            let mut a = a.into_inner();
            if let Some(file) = import_scaling_utils(ctx, span.clone(), &mut a)? {
                push_once(&mut imports, file);
            }
            Some(
                autoscaling(a, &stream)
                    .map_err(|(f, m)| ctx.invalid(span, &format!("autoscaling.{f}"), m))?,
            )
        }
    };
    let slo = match raw.slo {
        None => Slo::default(),
        Some(s) => slo(ctx, s.span(), s.into_inner())?,
    };
    if let Some(sweep) = &raw.sweep {
        let span = sweep.span();
        let sweep = sweep.get_ref();
        for (i, spec) in sweep.set.iter().enumerate() {
            super::grid::Axis::parse(spec).map_err(|e| {
                ctx.invalid(span.clone(), &format!("sweep.set[{i}]"), e.to_string())
            })?;
        }
        if let Some(r) = sweep.replications
            && !(1..=1000).contains(&r)
        {
            return Err(ctx.invalid(
                span,
                "sweep.replications",
                format!("{r} is out of range; accepted range is 1 to 1000"),
            ));
        }
    }
    Ok(Scenario {
        notes,
        name: raw.name,
        duration,
        seed: raw.seed,
        start,
        stream,
        producers,
        reshards,
        consumers,
        autoscaling,
        slo,
        imports,
    })
}

/// Replaces `config = "file.json"` of a `"scaling-utils"` policy by the
/// fields it stands for, read from scaling-utils' own configuration: the
/// rules, `min_shards`, `max_shards` and `evaluation_interval`
/// (`checkInterval`). Those may then not be given in the scenario too: the
/// policy is the file's, whole. Returns the file read, if any.
fn import_scaling_utils(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    a: &mut RawAutoscaling,
) -> Result<Option<std::path::PathBuf>, ScenarioError> {
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
    // Relative to the scenario file, so a scenario runs from any directory.
    let file = match ctx.path.parent() {
        Some(dir) => dir.join(&config),
        None => std::path::PathBuf::from(&config),
    };
    let imported = super::scaling_utils::import(&file, stream_name.as_deref()).map_err(|e| {
        let line = ctx.line(span.start);
        match e {
            super::scaling_utils::ImportError::Read(source) => ScenarioError::ImportRead {
                path: ctx.path.to_owned(),
                line,
                field: "autoscaling.policy.config".into(),
                file: file.clone(),
                source,
            },
            super::scaling_utils::ImportError::Invalid { at, message } => ScenarioError::Import {
                path: ctx.path.to_owned(),
                line,
                file: file.clone(),
                at,
                message,
            },
        }
    })?;
    *scale_up = Some(imported.scale_up);
    *scale_down = Some(imported.scale_down);
    *operations = Some(imported.operations);
    *stream_name = None;
    *min_shards = imported.min_shards;
    *max_shards = imported.max_shards;
    *evaluation_interval = Some(Duration(imported.check_interval_secs * NANOS_PER_SEC));
    Ok(Some(file))
}

fn autoscaling(
    raw: RawAutoscaling,
    stream: &StreamSpec,
) -> Result<Autoscaling, (&'static str, String)> {
    let evaluation_interval = raw.evaluation_interval.map_or(60 * NANOS_PER_SEC, |d| d.0);
    if !(NANOS_PER_SEC..=HOUR).contains(&evaluation_interval) {
        return Err((
            "evaluation_interval",
            format!(
                "{} is out of range; accepted range is 1s to 1h",
                Duration(evaluation_interval)
            ),
        ));
    }
    let publication_delay = raw.publication_delay.map_or(60 * NANOS_PER_SEC, |d| d.0);
    if publication_delay > HOUR {
        return Err((
            "publication_delay",
            format!(
                "{} is out of range; accepted range is 0s to 1h",
                Duration(publication_delay)
            ),
        ));
    }
    let limit = Quota::UpdateShardCountMaxShards.value() as u32;
    let min_shards = raw.min_shards.unwrap_or(1);
    let max_shards = raw.max_shards.unwrap_or(limit);
    if min_shards == 0 || min_shards > max_shards || max_shards > limit {
        return Err((
            "min_shards",
            format!(
                "min_shards {min_shards} and max_shards {max_shards}: accepted is 1 <= min <= max <= {limit}"
            ),
        ));
    }
    let fraction = |name: &'static str, x: f64, hi: f64| {
        if finite_in(x, 0.0, hi) && x > 0.0 {
            Ok(x)
        } else {
            Err((
                name,
                format!("{x} is out of range; accepted range is above 0 to {hi}"),
            ))
        }
    };
    let policy = match raw.policy {
        RawPolicy::None => Policy::None,
        RawPolicy::Scheduled { schedule } => {
            let mut s: Vec<(SimTime, u32)> = schedule.iter().map(|e| (e.at.0, e.target)).collect();
            if s.iter().any(|e| e.1 == 0) {
                return Err(("policy.schedule", "targets must be at least 1".into()));
            }
            s.sort_by_key(|e| e.0);
            Policy::Scheduled(s)
        }
        RawPolicy::TargetTracking {
            target,
            scale_out_cooldown,
            scale_in_cooldown,
            metric,
        } => Policy::TargetTracking {
            target: fraction("policy.target", target, 1.0)?,
            metric: match metric {
                None | Some(RawTrackedMetric::Stream) => TrackedMetric::Stream,
                // Shard-level metrics exist only with enhanced monitoring
                // (KDS-REFERENCE.md §9.1).
                Some(RawTrackedMetric::HottestShard) if stream.enhanced_monitoring => {
                    TrackedMetric::HottestShard
                }
                Some(RawTrackedMetric::HottestShard) => {
                    return Err((
                        "policy.metric",
                        "\"hottest-shard\" needs shard-level metrics: set enhanced_monitoring = true in [stream]"
                            .into(),
                    ));
                }
            },
            scale_out_cooldown: scale_out_cooldown.map_or(5 * 60 * NANOS_PER_SEC, |d| d.0),
            scale_in_cooldown: scale_in_cooldown.map_or(15 * 60 * NANOS_PER_SEC, |d| d.0),
        },
        RawPolicy::Step {
            scale_out_threshold,
            scale_out_datapoints,
            scale_out_periods,
            scale_in_threshold,
            scale_in_datapoints,
            scale_in_periods,
            adjustment,
            cooldown,
            block_scale_in_above_iterator_age,
        } => {
            // The AWS sample: out on 1 of 1 minute, in on 3 of 3 five-minute periods
            // (15 minutes here), cooldown 600 s (KDS-REFERENCE.md §10a).
            let out_periods = scale_out_periods.unwrap_or(1);
            let out_datapoints = scale_out_datapoints.unwrap_or(out_periods);
            let in_periods = scale_in_periods.unwrap_or(15);
            let in_datapoints = scale_in_datapoints.unwrap_or(in_periods);
            if out_datapoints == 0
                || out_datapoints > out_periods
                || in_datapoints == 0
                || in_datapoints > in_periods
                || out_periods > 1440
                || in_periods > 1440
            {
                return Err((
                    "policy",
                    "datapoints must be 1 to periods, and periods at most 1440".into(),
                ));
            }
            let adjustment = match adjustment.as_deref() {
                None | Some("double") => Adjustment::DoubleHalve,
                Some(s) => match s.strip_prefix('+').and_then(|n| n.parse::<u32>().ok()) {
                    Some(n) if n > 0 => Adjustment::Step(n),
                    _ => {
                        return Err((
                            "policy.adjustment",
                            format!("\"{s}\": expected \"double\" or \"+N\" (N shards out, N in)"),
                        ));
                    }
                },
            };
            if scale_in_threshold >= scale_out_threshold {
                return Err((
                    "policy.scale_in_threshold",
                    format!(
                        "{scale_in_threshold} must be below scale_out_threshold ({scale_out_threshold})"
                    ),
                ));
            }
            Policy::Step {
                out_threshold: fraction("policy.scale_out_threshold", scale_out_threshold, 10.0)?,
                out_datapoints,
                out_periods,
                in_threshold: fraction("policy.scale_in_threshold", scale_in_threshold, 10.0)?,
                in_datapoints,
                in_periods,
                adjustment,
                cooldown: cooldown.map_or(600 * NANOS_PER_SEC, |d| d.0),
                block_in_above_iterator_age: block_scale_in_above_iterator_age.map(|d| d.0),
            }
        }
        RawPolicy::Exec {
            command,
            timeout,
            window,
        } => {
            if command.is_empty() || command[0].trim().is_empty() {
                return Err((
                    "policy.command",
                    "needs a program, e.g. [\"python3\", \"autoscaler.py\"]".into(),
                ));
            }
            let timeout = timeout.map_or(5 * NANOS_PER_SEC, |d| d.0);
            if !(1_000_000..=600 * NANOS_PER_SEC).contains(&timeout) {
                return Err((
                    "policy.timeout",
                    format!(
                        "{} is out of range; accepted range is 1ms to 10m",
                        Duration(timeout)
                    ),
                ));
            }
            let window = window.unwrap_or(15);
            if !(1..=1440).contains(&window) {
                return Err((
                    "policy.window",
                    format!("{window} is out of range; accepted range is 1 to 1440 minutes"),
                ));
            }
            Policy::Exec {
                command,
                timeout: std::time::Duration::from_nanos(timeout),
                window,
            }
        }
        RawPolicy::ScalingUtils {
            scale_up,
            scale_down,
            operations,
            // Imported already (`import_scaling_utils`): both are `None` here.
            config: _,
            stream_name: _,
        } => {
            let required = |r: Option<RawSuRule>, name: &'static str| {
                r.ok_or((
                    name,
                    "required (or config = \"<scaling-utils configuration.json>\" instead of the rules)"
                        .to_owned(),
                ))
            };
            let scale_up = required(scale_up, "policy.scale_up")?;
            let scale_down = required(scale_down, "policy.scale_down")?;
            let operations = operations.unwrap_or_default();
            let rule =
                |r: RawSuRule, name: &'static str| -> Result<SuRule, (&'static str, String)> {
                    if r.cool_off_mins.is_some_and(|m| m > 525_600) {
                        return Err((name, "cool_off_mins is at most 525600 (a year)".into()));
                    }
                    if !finite_in(r.threshold_pct, 0.0, 1000.0)
                        || r.after_mins == 0
                        || r.after_mins > 1440
                    {
                        return Err((
                            name,
                            "threshold_pct must be 0 to 1000 and after_mins 1 to 1440".into(),
                        ));
                    }
                    if r.scale_pct.is_none() && r.scale_count.is_none() {
                        return Err((name, "needs scale_pct or scale_count".into()));
                    }
                    if r.scale_pct
                        .is_some_and(|p| !finite_in(p, 0.0, 10_000.0) || p == 0.0)
                        || r.scale_count == Some(0)
                    {
                        return Err((
                            name,
                            "scale_pct must be above 0 and scale_count at least 1".into(),
                        ));
                    }
                    Ok(SuRule {
                        threshold_pct: r.threshold_pct,
                        after_mins: r.after_mins,
                        scale_pct: r.scale_pct,
                        scale_count: r.scale_count,
                        cool_off_mins: r.cool_off_mins.unwrap_or(0),
                    })
                };
            let (mut put, mut get) = (operations.is_empty(), operations.is_empty());
            for op in &operations {
                match op.as_str() {
                    "PUT" => put = true,
                    "GET" => get = true,
                    other => {
                        return Err((
                            "policy.operations",
                            format!("\"{other}\": expected \"PUT\" or \"GET\""),
                        ));
                    }
                }
            }
            Policy::ScalingUtils {
                up: rule(scale_up, "policy.scale_up")?,
                down: rule(scale_down, "policy.scale_down")?,
                put,
                get,
            }
        }
    };
    Ok(Autoscaling {
        evaluation_interval,
        publication_delay,
        min_shards,
        max_shards,
        policy,
    })
}

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
    Ok(ConsumerApp {
        name: raw.name,
        kind,
        workers,
        poll_interval,
        max_records,
        per_record,
        per_batch,
        start_position: match raw.start_position.unwrap_or(RawStartPosition::Latest) {
            RawStartPosition::Latest => StartPosition::Latest,
            RawStartPosition::TrimHorizon => StartPosition::TrimHorizon,
        },
        checkpoint_interval: match raw.checkpoint_interval {
            None => None,
            Some(d) if d.0 > 0 && d.0 <= 24 * HOUR => Some(d.0),
            Some(d) => {
                return Err((
                    "checkpoint_interval",
                    format!("{d} is out of range; accepted range is 1ns to 24h"),
                ));
            }
        },
        max_leases_per_worker: match raw.max_leases_per_worker {
            Some(0) => {
                return Err((
                    "max_leases_per_worker",
                    "0 is out of range; accepted range is 1 and up".into(),
                ));
            }
            m => m,
        },
        starts_at: {
            let t = raw.starts_at.map_or(0, |d| d.0);
            if t >= duration {
                return Err((
                    "starts_at",
                    format!("{} is not within the scenario's duration", Duration(t)),
                ));
            }
            t
        },
        pauses,
    })
}

fn reshard_action(r: &RawReshard) -> Result<ReshardAction, String> {
    let shard_id = |name: &str, v: &Option<String>| -> Result<crate::kds::ShardId, String> {
        let text = v
            .as_deref()
            .ok_or_else(|| format!("{name} is required for this action"))?;
        text.parse()
            .map_err(|e: crate::kds::KdsError| format!("{name}: {e}"))
    };
    let unused = |name: &str, present: bool| {
        if present {
            Err(format!("{name} does not apply to this action"))
        } else {
            Ok(())
        }
    };
    match r.action {
        RawReshardAction::UpdateStreamMode => {
            unused("target", r.target.is_some())?;
            unused("shard", r.shard.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            let mode = r.mode.ok_or(
                "mode (\"provisioned\" or \"on-demand\") is required for update-stream-mode",
            )?;
            Ok(ReshardAction::UpdateStreamMode {
                on_demand: matches!(mode, RawMode::OnDemand),
            })
        }
        RawReshardAction::UpdateShardCount => {
            unused("mode", r.mode.is_some())?;
            unused("shard", r.shard.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            let target = r
                .target
                .ok_or("target is required for update-shard-count")?;
            if target == 0 {
                return Err("target 0 is out of range; a target is at least 1".into());
            }
            Ok(ReshardAction::UpdateShardCount { target })
        }
        RawReshardAction::Split => {
            unused("mode", r.mode.is_some())?;
            unused("target", r.target.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            let shard = shard_id("shard", &r.shard)?;
            let new_starting_hash_key = match r.new_starting_hash_key.as_deref() {
                None | Some("midpoint") => None,
                Some(text) => Some(HashKey::parse_explicit(text).map_err(|e| e.to_string())?.0),
            };
            Ok(ReshardAction::Split {
                shard,
                new_starting_hash_key,
            })
        }
        RawReshardAction::Merge => {
            unused("mode", r.mode.is_some())?;
            unused("target", r.target.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            Ok(ReshardAction::Merge {
                shard: shard_id("shard", &r.shard)?,
                adjacent: shard_id("adjacent", &r.adjacent)?,
            })
        }
    }
}

fn parse_start(s: &str) -> Option<EpochNanos> {
    let t = humantime::parse_rfc3339(s).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(d.as_nanos()).ok().map(EpochNanos)
}

fn stream(ctx: &Ctx<'_>, span: Range<usize>, raw: RawStream) -> Result<StreamSpec, ScenarioError> {
    let bad = |field: &str, message: String| ctx.invalid(span.clone(), field, message);
    if !(1..=MAX_CREATE_SHARDS).contains(&raw.shards) {
        return Err(bad(
            "stream.shards",
            format!(
                "{} is out of range; accepted range is 1 to {MAX_CREATE_SHARDS}",
                raw.shards
            ),
        ));
    }
    let min_h = Quota::RetentionMinHours.value();
    let max_h = Quota::RetentionMaxHours.value();
    let retention = raw.retention.map_or(min_h * HOUR, |d| d.0);
    if !(min_h * HOUR..=max_h * HOUR).contains(&retention) {
        return Err(bad(
            "stream.retention",
            format!(
                "{}h is out of range; accepted range is {min_h}h to {max_h}h",
                retention as f64 / HOUR as f64
            ),
        ));
    }
    let default_max = Quota::MaxRecordBytesDefault.value();
    let most = Quota::MaxRecordBytesConfigurable.value();
    let max_record_bytes = raw.max_record_size.map_or(default_max, |b| b.0);
    if !(default_max..=most).contains(&max_record_bytes) {
        return Err(bad(
            "stream.max_record_size",
            format!(
                "{max_record_bytes} bytes is out of range; accepted range is 1MiB to 10MiB (UpdateMaxRecordSize)"
            ),
        ));
    }
    let write_limit = match raw.write_limit.unwrap_or(RawWriteLimit::TokenBucket) {
        RawWriteLimit::FixedWindow => {
            if raw.burst.is_some() {
                return Err(bad(
                    "stream.burst",
                    "applies only to write_limit = \"token-bucket\"".into(),
                ));
            }
            WriteLimit::FixedWindow
        }
        RawWriteLimit::TokenBucket => {
            let burst = raw.burst.map_or(NANOS_PER_SEC, |d| d.0);
            if !(1_000_000..=HOUR).contains(&burst) {
                return Err(bad(
                    "stream.burst",
                    format!(
                        "{} is out of range; accepted range is 1ms to 1h",
                        Duration(burst)
                    ),
                ));
            }
            WriteLimit::TokenBucket { burst }
        }
    };
    // One observed split was visible "a few seconds later" and a scaling-utils
    // user saw resharding take over 45 s (KDS-REFERENCE.md §2.6): 2 to 10 s per
    // split or merge is an assumption, which scenarios can change.
    let reshard_op_time = match raw.reshard_op_time {
        None => (2 * NANOS_PER_SEC, 10 * NANOS_PER_SEC),
        Some(t) => {
            if t.min > t.max || t.max.0 > HOUR {
                return Err(bad(
                    "stream.reshard_op_time",
                    format!(
                        "min ({}) must not exceed max ({}), and max is at most 1h",
                        t.min, t.max
                    ),
                ));
            }
            (t.min.0, t.max.0)
        }
    };
    let backlog_resolution = raw.backlog_resolution.map_or(NANOS_PER_SEC, |d| d.0);
    if !(1_000_000..=60 * NANOS_PER_SEC).contains(&backlog_resolution) {
        return Err(bad(
            "stream.backlog_resolution",
            format!(
                "{} is out of range; accepted range is 1ms to 1m",
                Duration(backlog_resolution)
            ),
        ));
    }
    if let Some(q) = raw.account_shard_quota
        && q < raw.shards
    {
        return Err(bad(
            "stream.account_shard_quota",
            format!(
                "{q} is below the stream's {} shards; accepted range is stream.shards and up",
                raw.shards
            ),
        ));
    }
    let split_delay = raw
        .on_demand_split_delay
        .map_or(15 * 60 * NANOS_PER_SEC, |d| d.0);
    if split_delay > HOUR {
        return Err(bad(
            "stream.on_demand_split_delay",
            format!(
                "{} is out of range; accepted range is 0s to 1h",
                Duration(split_delay)
            ),
        ));
    }
    let warm_throughput = match raw.warm_throughput {
        None => None,
        Some(_) if raw.advantage_mode != Some(true) => {
            return Err(bad(
                "stream.warm_throughput",
                "applies only to On-demand Advantage: set advantage_mode = true".into(),
            ));
        }
        Some(b) if !(MIB..=10 * 1024 * MIB).contains(&b.0) => {
            return Err(bad(
                "stream.warm_throughput",
                format!(
                    "{} bytes/s is out of range; accepted range is 1MiB to 10GiB (per second)",
                    b.0
                ),
            ));
        }
        Some(b) => Some(b.0),
    };
    let mut retention_changes = Vec::with_capacity(raw.retention_changes.len());
    for c in &raw.retention_changes {
        if !(min_h * HOUR..=max_h * HOUR).contains(&c.retention.0) {
            return Err(bad(
                "stream.retention_changes",
                format!(
                    "{}h is out of range; accepted range is {min_h}h to {max_h}h",
                    c.retention.0 as f64 / HOUR as f64
                ),
            ));
        }
        retention_changes.push((c.at.0, c.retention.0));
    }
    retention_changes.sort_by_key(|c| c.0);
    Ok(StreamSpec {
        shards: raw.shards,
        retention,
        retention_changes,
        write_limit,
        max_record_bytes,
        reshard_op_time,
        backlog_resolution,
        advantage_mode: raw.advantage_mode.unwrap_or(false),
        prices: match (&raw.prices, &raw.region) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "stream.prices",
                    "a price file names its own region: give stream.prices or stream.region, not both"
                        .into(),
                ));
            }
            (Some(file), None) => price_file(ctx, &bad, file)?,
            (None, region) => {
                let name = region.as_deref().unwrap_or("us-east-1");
                crate::kds::prices::prices(name).ok_or_else(|| {
                    bad(
                        "stream.region",
                        format!(
                            "no built-in price table for \"{name}\"; built-in regions are {} \
                             (for another region, write a price file: `shardcast prices` prints one \
                             to start from, and set stream.prices)",
                            crate::kds::prices::REGIONS.join(", ")
                        ),
                    )
                })?
            }
        },
        on_demand: matches!(raw.mode, Some(RawMode::OnDemand)).then_some(split_delay),
        on_demand_split_delay: split_delay,
        warm_throughput,
        account_shard_quota: raw.account_shard_quota,
        enhanced_monitoring: raw.enhanced_monitoring.unwrap_or(false),
    })
}

/// A file named in the scenario: relative to the scenario file's
/// directory, so a scenario runs from any directory.
fn beside(ctx: &Ctx<'_>, name: &str) -> std::path::PathBuf {
    ctx.path.parent().unwrap_or(Path::new("")).join(name)
}

/// Reads a user's price file (`stream.prices`, relative to the scenario).
fn price_file(
    ctx: &Ctx<'_>,
    bad: &dyn Fn(&str, String) -> ScenarioError,
    name: &str,
) -> Result<crate::kds::prices::Prices, ScenarioError> {
    let path = beside(ctx, name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(
            "stream.prices",
            format!("cannot read price file {}: {e}", path.display()),
        )
    })?;
    let file = Ctx {
        path: &path,
        text: &text,
    };
    let prices: crate::kds::prices::Prices = toml::from_str(&text).map_err(|e| {
        let line = file.line(e.span().map_or(0, |s| s.start));
        ScenarioError::Parse {
            path: path.clone(),
            line,
            text: text.lines().nth(line - 1).unwrap_or("").trim().to_owned(),
            message: e.message().trim().to_owned(),
        }
    })?;
    // The line of `field` (`section.key`) in the file, for messages.
    let at = |field: &str| -> Range<usize> {
        let (section, key) = field.split_once('.').unwrap_or(("", field));
        let from = text.find(&format!("[{section}]")).unwrap_or(0);
        let offset = text[from..]
            .find(&format!("\n{key}"))
            .map_or(0, |o| from + o + 1);
        offset..offset
    };
    if prices.region.trim().is_empty() {
        return Err(file.invalid(at("region"), "region", "must not be empty".into()));
    }
    for (field, value) in prices.fields() {
        if !finite_in(value, 0.0, 1000.0) {
            return Err(file.invalid(
                at(field),
                field,
                format!("{value} is out of range; accepted range is 0 to 1000 (USD per unit)"),
            ));
        }
    }
    if !(1..=10 * MIB).contains(&prices.payload_unit_bytes) {
        return Err(file.invalid(
            at("payload_unit_bytes"),
            "payload_unit_bytes",
            format!(
                "{} is out of range; accepted range is 1 to 10485760 bytes",
                prices.payload_unit_bytes
            ),
        ));
    }
    if !(prices.advantage_discount.is_finite() && (0.0..1.0).contains(&prices.advantage_discount)) {
        return Err(file.invalid(
            at("advantage_discount"),
            "advantage_discount",
            format!(
                "{} is out of range; accepted range is 0 to below 1 (the share taken off)",
                prices.advantage_discount
            ),
        ));
    }
    Ok(prices)
}

/// A producer's `trace`: the file (relative to the scenario) and replay
/// options; the header is read now so a missing column is caught before
/// the run.
fn trace_spec(ctx: &Ctx<'_>, t: RawTrace) -> Result<TraceSpec, (&'static str, String)> {
    let path = ctx.path.parent().unwrap_or(Path::new("")).join(&t.file);
    let format = match t.format {
        Some(RawTraceFormat::Csv) => TraceFormat::Csv,
        Some(RawTraceFormat::JsonLines) => TraceFormat::JsonLines,
        None => TraceFormat::from_path(&path).ok_or((
            "format",
            format!(
                "cannot tell from {:?}; set format = \"csv\" or \"json-lines\" (or name the file .csv or .jsonl)",
                t.file
            ),
        ))?,
    };
    let columns =
        crate::workload::Columns::read(&path, format).map_err(|e| ("file", e.to_string()))?;
    let time_scale = t.time_scale.unwrap_or(1.0);
    if !finite_in(time_scale, 0.001, 1000.0) {
        return Err((
            "time_scale",
            format!("{time_scale} is out of range; accepted range is 0.001 to 1000"),
        ));
    }
    let rate_multiplier = t.rate_multiplier.unwrap_or(1.0);
    if !finite_in(rate_multiplier, 0.0, 100.0) || rate_multiplier == 0.0 {
        return Err((
            "rate_multiplier",
            format!("{rate_multiplier} is out of range; accepted range is above 0 to 100"),
        ));
    }
    let copy_spread = t.copy_spread.map_or(NANOS_PER_SEC, |d| d.0);
    if copy_spread > HOUR {
        return Err((
            "copy_spread",
            format!(
                "{} is out of range; accepted range is 0s to 1h",
                Duration(copy_spread)
            ),
        ));
    }
    // A `records` column makes it an aggregate trace: counts per interval.
    let aggregate = if columns.has_records() {
        let interval = t.interval.map_or(NANOS_PER_SEC, |d| d.0);
        if !(1_000_000..=HOUR).contains(&interval) {
            return Err((
                "interval",
                format!(
                    "{} is out of range; accepted range is 1ms to 1h",
                    Duration(interval)
                ),
            ));
        }
        // Per-shard rows name shards of the stream they were captured
        // from; that count must be said, not taken from the simulated
        // stream (a sweep over stream.shards would remap the rows).
        // (A JSON Lines trace shows its columns on its first line only: a
        // later per-shard row without the count fails at its line.)
        if t.shards.is_none() && columns.has_shard() {
            return Err((
                "shards",
                format!(
                    "is required: the trace has a shard_id column; set the shard count of the stream it was captured from (1 to {MAX_CREATE_SHARDS})"
                ),
            ));
        }
        if let Some(shards) = t.shards
            && !(1..=MAX_CREATE_SHARDS).contains(&shards)
        {
            return Err((
                "shards",
                format!("{shards} is out of range; accepted range is 1 to {MAX_CREATE_SHARDS}"),
            ));
        }
        Some(crate::workload::AggregateSpec {
            interval,
            within: match t.within.unwrap_or(RawWithin::Uniform) {
                RawWithin::Even => crate::workload::Within::Even,
                RawWithin::Uniform => crate::workload::Within::Uniform,
                RawWithin::Poisson => crate::workload::Within::Poisson,
            },
            shards: t.shards,
        })
    } else {
        for (field, present) in [
            ("interval", t.interval.is_some()),
            ("within", t.within.is_some()),
            ("shards", t.shards.is_some()),
        ] {
            if present {
                return Err((
                    field,
                    "applies only to an aggregate trace (one with a records column)".into(),
                ));
            }
        }
        None
    };
    let mut salt = Vec::with_capacity(t.salt.len());
    for s in t.salt {
        if !(1..=10_000).contains(&s.into) {
            return Err((
                "salt",
                format!(
                    "into = {} for key {:?} is out of range; accepted range is 1 to 10000",
                    s.into, s.key
                ),
            ));
        }
        // The sub-keys `key#0`..`key#{n-1}` are partition keys too.
        let longest = s.key.chars().count() + 1 + (s.into - 1).to_string().len();
        if s.key.is_empty() || longest > 256 {
            return Err((
                "salt",
                format!(
                    "key {:?} salted into {} makes partition keys of up to {longest} characters; accepted length is 1 to 256",
                    s.key, s.into
                ),
            ));
        }
        salt.push((s.key, s.into));
    }
    for r in &t.remap {
        for (what, key) in [("from", &r.from), ("to", &r.to)] {
            let n = key.chars().count();
            if !(1..=256).contains(&n) {
                return Err((
                    "remap",
                    format!("{what} = {key:?} has {n} characters; a partition key has 1 to 256"),
                ));
            }
        }
    }
    let max = crate::workload::MAX_KEY_BYTES;
    if let Some(b) = t.key_bytes.filter(|b| u64::from(*b) > max) {
        return Err((
            "key_bytes",
            format!(
                "{b} is out of range; accepted range is 0 to {max} (a partition key's UTF-8 bytes)"
            ),
        ));
    }
    Ok(TraceSpec {
        path,
        format,
        time_unit_ns: match t.time_unit.unwrap_or(RawTimeUnit::Seconds) {
            RawTimeUnit::Seconds => NANOS_PER_SEC,
            RawTimeUnit::Millis => 1_000_000,
            RawTimeUnit::Micros => 1_000,
            RawTimeUnit::Nanos => 1,
        },
        time_scale,
        rate_multiplier,
        copy_spread,
        shift: t.shift.map_or(0, |d| d.0),
        looped: t.looped.unwrap_or(false),
        skip_bad_lines: t.skip_bad_lines.unwrap_or(false),
        explicit_key_bytes: t.key_bytes.unwrap_or(0),
        remap: t.remap.into_iter().map(|r| (r.from, r.to)).collect(),
        salt,
        has_size: columns.has_size(),
        aggregate,
    })
}

fn finite_in(x: f64, lo: f64, hi: f64) -> bool {
    x.is_finite() && x >= lo && x <= hi
}

fn producer(
    ctx: &Ctx<'_>,
    i: usize,
    span: Range<usize>,
    raw: RawProducer,
    stream: &StreamSpec,
    files: &mut Vec<std::path::PathBuf>,
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
    let trace = match raw.trace {
        None => None,
        Some(t) => {
            for (field, present) in [
                ("rate", raw.rate.is_some()),
                ("keys", raw.keys.is_some()),
                ("arrivals", raw.arrivals.is_some()),
                ("spikes", !raw.spikes.is_empty()),
            ] {
                if present {
                    return Err(bad(
                        field,
                        "does not apply to a trace producer: the trace gives times and keys".into(),
                    ));
                }
            }
            if count != 1 {
                return Err(bad(
                    "count",
                    format!(
                        "{count} is out of range; a trace is replayed by one producer (count = 1)"
                    ),
                ));
            }
            let spec = trace_spec(ctx, t).map_err(|(f, m)| bad(&format!("trace.{f}"), m))?;
            push_once(files, spec.path.clone());
            if !spec.has_size && raw.size.is_none() {
                return Err(bad(
                    "size",
                    "is required: the trace has no size column (size or bytes)".into(),
                ));
            }
            Some(spec)
        }
    };
    let keys = match (raw.keys, &trace) {
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
    let size = match raw.size {
        Some(s) => size_model(s.0, stream.max_record_bytes, keys.max_key_bytes(), mean_key)
            .map_err(|m| bad("size", m))?,
        None if trace.is_some() => SizeModel::Fixed(0),
        None => return Err(bad("size", "is required".into())),
    };
    // After keys and sizes: an IncomingBytes import is turned into records
    // at the group's record size.
    let rate = match (&raw.rate, &trace) {
        (_, Some(_)) => RateProfile::constant(0.0),
        (Some(r), None) => {
            let import = Import {
                base: ctx.path.parent().unwrap_or(Path::new("")),
                label: &label,
                files,
                notes,
                // A record that reaches the stream: mean size and key, and
                // an aggregated (KPL) record's framing.
                record_bytes: size.mean()
                    + mean_key
                    + if raw.aggregation.is_some() {
                        crate::model::AGGREGATE_PER_RECORD_BYTES as f64
                    } else {
                        0.0
                    },
                sent_fraction: size.sent_fraction(),
                aggregation: raw.aggregation.is_some(),
            };
            rate_profile(r, &raw.spikes, import).map_err(|(f, m)| bad(&f, m))?
        }
        (None, None) => return Err(bad("rate", "is required (or a trace)".into())),
    };
    let api = match (raw.api.unwrap_or(RawApi::PutRecord), raw.batch) {
        (RawApi::PutRecord, None) => Api::PutRecord,
        (RawApi::PutRecord, Some(_)) => {
            return Err(bad("batch", "applies only to api = \"put-records\"".into()));
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
                return Err(bad(
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
                return Err(bad(
                    "batch.max_bytes",
                    format!(
                        "{max_bytes} bytes is out of range; accepted range is the stream's max_record_size ({}) to 10MiB",
                        stream.max_record_bytes
                    ),
                ));
            }
            let linger = batch.linger.map_or(100_000_000, |d| d.0);
            if linger > 60 * NANOS_PER_SEC {
                return Err(bad(
                    "batch.linger",
                    format!(
                        "{} is out of range; accepted range is 0s to 1m",
                        Duration(linger)
                    ),
                ));
            }
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            }
        }
    };
    let retry = retry_policy(raw.retry).map_err(|m| bad("retry", m))?;
    let buffer_limit = raw.buffer_limit.unwrap_or(1_000_000);
    if buffer_limit == 0 {
        return Err(bad(
            "buffer_limit",
            "0 is out of range; accepted range is 1 and up".into(),
        ));
    }
    let request_latency = raw.request_latency.map_or(0, |d| d.0);
    if request_latency > 60 * NANOS_PER_SEC {
        return Err(bad(
            "request_latency",
            format!(
                "{} is out of range; accepted range is 0s to 1m",
                Duration(request_latency)
            ),
        ));
    }
    let aggregation = match raw.aggregation {
        None => None,
        Some(a) => {
            if !matches!(api, Api::PutRecords { .. }) {
                return Err(bad(
                    "aggregation",
                    "needs api = \"put-records\" (the KPL sends aggregated records with PutRecords)".into(),
                ));
            }
            let max_size = a.max_size.map_or(51_200, |b| b.0);
            if !(1024..=stream.max_record_bytes).contains(&max_size) {
                return Err(bad(
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
                return Err(bad(
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
                return Err(bad(
                    "aggregation.max_buffered_time",
                    format!(
                        "{} is out of range; accepted range is 1ms to 1m",
                        Duration(max_buffered_time)
                    ),
                ));
            }
            Some(Aggregation {
                max_size,
                max_buffered_time,
            })
        }
    };
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

/// What a rate import needs: where files are, where to list the files
/// read, and where to say what was imported.
struct Import<'a> {
    base: &'a Path,
    label: &'a str,
    files: &'a mut Vec<std::path::PathBuf>,
    notes: &'a mut Vec<String>,
    /// The mean bytes of a record that reaches the stream: mean data plus
    /// mean partition key (each key weighted by its share), and KPL
    /// framing.
    record_bytes: f64,
    /// The share of records made that reach it (the others are refused as
    /// too large).
    sent_fraction: f64,
    /// Whether the group aggregates records (KPL).
    aggregation: bool,
}

/// The profile, or the field that is wrong (`rate`, `rate[1]` in a list
/// of components, `rate.period`) and the message.
fn rate_profile(
    raw: &RawRate,
    spikes: &[RawSpike],
    mut import: Import<'_>,
) -> Result<RateProfile, (String, String)> {
    let whole = |m: String| ("rate".to_owned(), m);
    let mut components = Vec::with_capacity(raw.0.len());
    if raw.0.is_empty() {
        return Err(whole("needs at least one component".into()));
    }
    for (k, c) in raw.0.iter().enumerate() {
        components.push(component(c, &mut import).map_err(|(sub, m)| {
            let mut field = "rate".to_owned();
            if raw.0.len() > 1 {
                field.push_str(&format!("[{k}]"));
            }
            if !sub.is_empty() {
                field.push('.');
                field.push_str(sub);
            }
            (field, m)
        })?);
    }
    let mut out = Vec::with_capacity(spikes.len());
    for s in spikes {
        if !finite_in(s.multiplier, 0.0, 1e6) {
            return Err(whole(format!(
                "spike multiplier {} is out of range; accepted range is 0 to 1000000",
                s.multiplier
            )));
        }
        if s.duration.0 == 0 {
            return Err(whole("spike duration must be above 0s".into()));
        }
        out.push(Spike {
            at: s.at.0,
            duration: s.duration.0,
            multiplier: s.multiplier,
        });
    }
    let profile = RateProfile {
        components,
        spikes: out,
    };
    if profile.max() <= 0.0 {
        return Err(whole(
            "the rate is 0/s throughout; give at least one positive rate".into(),
        ));
    }
    if !profile.max().is_finite() || profile.max() > crate::workload::MAX_RATE {
        return Err(whole("the rate exceeds 1000000000/s".into()));
    }
    Ok(profile)
}

/// One component of a rate, or its field that is wrong ("" for the
/// component as a whole) and the message.
fn component(
    c: &RawComponent,
    import: &mut Import<'_>,
) -> Result<Component, (&'static str, String)> {
    let non_negative = |r: f64, what: &str| {
        if finite_in(r, 0.0, f64::MAX) {
            Ok(r)
        } else {
            Err(("", format!("{what} must be a rate of 0/s or more")))
        }
    };
    Ok(match c {
        RawComponent::Constant { rate } => {
            if !(rate.0 > 0.0 && rate.0.is_finite()) {
                return Err((
                    "",
                    format!("{rate} is out of range; a constant rate must be above 0/s"),
                ));
            }
            Component::Constant(rate.0)
        }
        RawComponent::Steps { steps } => {
            if steps.is_empty() {
                return Err(("", "steps needs at least one [time, rate] pair".into()));
            }
            if steps.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(("", "step times must increase".into()));
            }
            let mut v = Vec::with_capacity(steps.len());
            for (t, r) in steps {
                v.push((t.0, non_negative(r.0, "every step")?));
            }
            Component::Steps(v)
        }
        RawComponent::Ramp {
            from,
            to,
            start,
            end,
        } => {
            if start >= end {
                return Err((
                    "",
                    format!("ramp start ({start}) must be before its end ({end})"),
                ));
            }
            Component::Ramp {
                from: non_negative(from.0, "from")?,
                to: non_negative(to.0, "to")?,
                start: start.0,
                end: end.0,
            }
        }
        RawComponent::Diurnal {
            mean,
            amplitude,
            period,
            phase,
        } => {
            if !(mean.0 > 0.0 && mean.0.is_finite()) {
                return Err((
                    "",
                    format!("mean {mean} is out of range; it must be above 0/s"),
                ));
            }
            if !finite_in(*amplitude, 0.0, 1.0) {
                return Err((
                    "",
                    format!("amplitude {amplitude} is out of range; accepted range is 0 to 1"),
                ));
            }
            if period.0 == 0 {
                return Err(("", "period must be above 0s".into()));
            }
            Component::Diurnal {
                mean: mean.0,
                amplitude: *amplitude,
                period: period.0,
                phase: phase.0,
            }
        }
        RawComponent::Cloudwatch {
            file,
            metric,
            period,
            burstiness,
            measures,
        } => {
            let path = import.base.join(file);
            let data = crate::workload::cloudwatch::read(&path, metric.as_deref())
                .map_err(|m| ("file", format!("CloudWatch file {}: {m}", path.display())))?;
            push_once(import.files, path.clone());
            let given = period.is_some();
            let period = period.map_or_else(|| data.period(), |d| d.0);
            // Without a period, say where the one checked came from.
            let from = |m: String| {
                if given {
                    m
                } else {
                    format!("not given, so the smallest gap between datapoints: {m}")
                }
            };
            if !(NANOS_PER_SEC..=24 * HOUR).contains(&period) || period % NANOS_PER_SEC != 0 {
                return Err((
                    "period",
                    from(format!(
                        "{} is out of range; accepted range is whole seconds from 1s to 24h",
                        Duration(period)
                    )),
                ));
            }
            data.check_period(period)
                .map_err(|m| ("period", from(format!("{m} (in {})", path.display()))))?;
            let sigma = burstiness.unwrap_or(0.0);
            if !finite_in(sigma, 0.0, 3.0) {
                return Err((
                    "burstiness",
                    format!("{sigma} is out of range; accepted range is 0 to 3"),
                ));
            }
            import.notes.push(format!(
                "{}.rate: {} CloudWatch datapoints of {} s from {} ({} series added up){}",
                import.label,
                data.points.len(),
                period / NANOS_PER_SEC,
                path.display(),
                data.series,
                if sigma > 0.0 {
                    format!(
                        "; bursts within each period: lognormal per-second factors, sigma {sigma}, totals kept, drawn from the run's seed"
                    )
                } else {
                    "; flat within each period (per-period data hides micro-bursts: set burstiness to model them)".to_owned()
                }
            ));
            let bytes = match measures {
                Some(m) => *m == RawMeasures::Bytes,
                None => data.named_bytes,
            };
            let mut rates = data.rates(period);
            let record = import.record_bytes;
            if import.aggregation && !bytes {
                import.notes.push(format!(
                    "{}.rate: the group aggregates records (KPL), and a stream's IncomingRecords counts Kinesis records, aggregates included: they are read here as user records, so the group sends too few; import IncomingBytes instead (measures = \"bytes\")",
                    import.label
                ));
            }
            // Records made per record the stream took: those refused as too
            // large never reach it, so more are made.
            let sent = import.sent_fraction.max(1e-9);
            if bytes {
                // Bytes per second over the bytes a record made sends:
                // records/s.
                if record * sent < 1.0 {
                    return Err((
                        "measures",
                        format!(
                            "\"bytes\" needs a record size: the group's records average {record:.0} bytes (size plus key); accepted is 1 byte or more"
                        ),
                    ));
                }
                for r in &mut rates {
                    r.1 /= record * sent;
                }
                import.notes.push(format!(
                    "{}.rate: the series counts bytes (IncomingBytes): records/s = bytes/s / {record:.0} bytes, the group's mean record (mean size plus mean key){}",
                    import.label,
                    if sent < 1.0 {
                        format!(", / {sent:.3}, the share of records that fit the record limit")
                    } else {
                        String::new()
                    }
                ));
            } else {
                for r in &mut rates {
                    r.1 /= sent;
                }
            }
            if let (false, Some((n, b))) = (bytes, data.both_totals.filter(|t| t.0 > 0.0)) {
                // The file has both metrics: does the size model match?
                let seen = b / n;
                let off = (record - seen) / seen;
                import.notes.push(format!(
                    "{}.rate: the file's IncomingBytes / IncomingRecords is {seen:.0} bytes a record; the group's records average {record:.0} bytes (mean size plus mean key){}",
                    import.label,
                    if off.abs() > 0.1 {
                        format!(
                            ": {:.0} % {}, so bytes and byte limits will be off by that much",
                            off.abs() * 100.0,
                            if off > 0.0 { "more" } else { "less" }
                        )
                    } else {
                        ", within 10 %".to_owned()
                    }
                ));
            }
            Component::Periods {
                period,
                rates,
                burstiness: sigma,
            }
        }
    })
}

/// Adds `path` to the files read, unless it is there already.
fn push_once(files: &mut Vec<std::path::PathBuf>, path: std::path::PathBuf) {
    if !files.contains(&path) {
        files.push(path);
    }
}

/// Sizes are data only; the record limit applies to data plus partition key
/// (KDS-REFERENCE.md §1.4), so a size must leave room for the longest key.
/// A lognormal is unbounded: its mean counts the draws that fit beside the
/// mean key (`mean_key`), the rest being rejected as too large.
fn size_model(
    raw: RawSizeTable,
    max_record: u64,
    key_bytes: u64,
    mean_key: f64,
) -> Result<SizeModel, String> {
    let max_data = max_record.saturating_sub(key_bytes);
    let over = |b: u64| {
        format!(
            "a record of {b} bytes plus its partition key (up to {key_bytes} bytes) is over the \
             stream's maximum record size of {max_record} bytes (stream.max_record_size, at most 10MiB)"
        )
    };
    match raw {
        RawSizeTable::Fixed { size } => {
            if size.0 > max_data {
                return Err(over(size.0));
            }
            Ok(SizeModel::Fixed(size.0))
        }
        RawSizeTable::Uniform { min, max } => {
            if min > max {
                return Err(format!("min ({min}) must not exceed max ({max})"));
            }
            if max.0 > max_data {
                return Err(over(max.0));
            }
            Ok(SizeModel::Uniform {
                min: min.0,
                max: max.0,
            })
        }
        RawSizeTable::Lognormal { median, sigma } => {
            if median.0 == 0 || median.0 > max_data {
                return Err(format!(
                    "median {median} is out of range; accepted range is 1B to the stream's maximum record size less the longest key ({max_data} bytes)"
                ));
            }
            if !finite_in(sigma, 0.0, 5.0) {
                return Err(format!(
                    "sigma {sigma} is out of range; accepted range is 0 to 5"
                ));
            }
            // Keys differ by at most 1 KiB in 1 MiB or more: the limit at the
            // mean key moves the mean by under 0.1 %.
            let limit = max_record as f64 - mean_key;
            SizeModel::lognormal(median.0 as f64, sigma, limit)
                .ok_or_else(|| "invalid lognormal".into())
        }
        RawSizeTable::Empirical { sizes, weights } => {
            if sizes.is_empty() || sizes.len() != weights.len() {
                return Err(format!(
                    "sizes and weights must be non-empty and of equal length (got {} and {})",
                    sizes.len(),
                    weights.len()
                ));
            }
            if let Some(b) = sizes.iter().find(|b| b.0 > max_data) {
                return Err(over(b.0));
            }
            if weights.iter().any(|w| !finite_in(*w, 0.0, f64::MAX)) {
                return Err("weights must be 0 or more".into());
            }
            SizeModel::empirical(sizes.iter().map(|b| b.0).collect(), &weights)
                .ok_or_else(|| "weights must not all be 0".into())
        }
    }
}

/// The first name that appears twice, if any.
fn repeated<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    names.into_iter().find(|n| !seen.insert(*n))
}

fn check_key(key: &str) -> Result<(), String> {
    validate_partition_key(key, KeyLengthRule::UnicodeScalars)
        .map_err(|e| format!("key \"{key}\": {e}"))
}

/// Hot keys must not also be background keys `prefix1..prefixN`: the
/// same key would be counted as two.
fn check_hot_outside_pattern(hot: &[RawHotKey], prefix: &str, count: u64) -> Result<(), String> {
    for h in hot {
        let n = h.key.strip_prefix(prefix).and_then(|rest| {
            let n: u64 = rest.parse().ok()?;
            (n.to_string() == rest).then_some(n)
        });
        if n.is_some_and(|n| (1..=count).contains(&n)) {
            return Err(format!(
                "hot key \"{}\" is also one of the background keys {prefix}1..{prefix}{count}; \
                 give the hot key a name outside that pattern",
                h.key
            ));
        }
    }
    Ok(())
}

fn hot_sampler(hot: &[RawHotKey], background: KeySampler) -> Result<KeySampler, String> {
    if hot.is_empty() {
        return Ok(background);
    }
    if let Some(k) = repeated(hot.iter().map(|h| h.key.as_str())) {
        return Err(format!(
            "hot key \"{k}\" is listed twice; give each key once"
        ));
    }
    let mut cumulative = Vec::with_capacity(hot.len());
    let mut total = 0.0;
    for h in hot {
        check_key(&h.key)?;
        if !finite_in(h.share, 0.0, 1.0) || h.share == 0.0 {
            return Err(format!(
                "hot key \"{}\" has share {}; accepted range is above 0 to 1 (a fraction of all records)",
                h.key, h.share
            ));
        }
        total += h.share;
        cumulative.push(total);
    }
    if total > 1.0 + 1e-9 {
        return Err(format!(
            "hot key shares add up to {:.1} %; the accepted total is at most 100 %",
            total * 100.0
        ));
    }
    Ok(KeySampler::Hot {
        cumulative,
        background: Box::new(background),
    })
}

fn key_count(count: u64) -> Result<u32, String> {
    if (1..=MAX_KEYS).contains(&count) {
        Ok(count as u32)
    } else {
        Err(format!(
            "count {count} is out of range; accepted range is 1 to {MAX_KEYS}"
        ))
    }
}

fn key_bytes(b: Option<u16>) -> Result<u16, String> {
    match b.unwrap_or(36) {
        b @ 1..=256 => Ok(b),
        b => Err(format!(
            "key_bytes {b} is out of range; accepted range is 1 to 256"
        )),
    }
}

fn key_space(raw: RawKeys) -> Result<KeySpace, String> {
    let names = |hot: &[RawHotKey]| hot.iter().map(|h| h.key.clone()).collect::<Vec<_>>();
    Ok(match raw {
        RawKeys::Uniform { count, prefix, hot } => {
            let n = key_count(count)?;
            check_hot_outside_pattern(&hot, &prefix, count)?;
            check_key(&format!("{prefix}{n}"))?;
            KeySpace::Table {
                table: KeyTable::new(names(&hot), KeyNames::Pattern { prefix }, count, 0),
                sampler: hot_sampler(&hot, KeySampler::Uniform(n))?,
            }
        }
        RawKeys::Zipf {
            count,
            exponent,
            prefix,
            hot,
        } => {
            let n = key_count(count)?;
            check_key(&format!("{prefix}{n}"))?;
            check_hot_outside_pattern(&hot, &prefix, count)?;
            if !finite_in(exponent, 0.0, 10.0) {
                return Err(format!(
                    "exponent {exponent} is out of range; accepted range is 0 to 10"
                ));
            }
            let zipf = KeySampler::zipf(n, exponent).ok_or("invalid Zipf parameters")?;
            KeySpace::Table {
                table: KeyTable::new(names(&hot), KeyNames::Pattern { prefix }, count, 0),
                sampler: hot_sampler(&hot, zipf)?,
            }
        }
        RawKeys::Listed { keys, weights } => {
            if keys.is_empty() {
                return Err("keys needs at least one key".into());
            }
            if let Some(k) = repeated(keys.iter().map(String::as_str)) {
                return Err(format!(
                    "key \"{k}\" is listed twice; give each key once (use weights for shares)"
                ));
            }
            key_count(keys.len() as u64)?;
            for k in &keys {
                check_key(k)?;
            }
            let sampler = match weights {
                None => KeySampler::Uniform(keys.len() as u32),
                Some(w) => {
                    if w.len() != keys.len() || w.iter().any(|x| !finite_in(*x, 0.0, f64::MAX)) {
                        return Err("weights must be 0 or more, one per key".into());
                    }
                    KeySampler::Weighted(
                        rand::distr::weighted::WeightedIndex::new(&w)
                            .map_err(|_| "weights must not all be 0")?,
                    )
                }
            };
            let n = keys.len() as u64;
            KeySpace::Table {
                table: KeyTable::new(vec![], KeyNames::Listed(keys), n, 0),
                sampler,
            }
        }
        RawKeys::Random { key_bytes: b } => KeySpace::Random {
            key_bytes: key_bytes(b)?,
        },
        RawKeys::Explicit {
            hash_keys,
            key_bytes: b,
        } => {
            if hash_keys.is_empty() {
                return Err("hash_keys needs at least one explicit hash key".into());
            }
            if let Some(k) = repeated(hash_keys.iter().map(String::as_str)) {
                return Err(format!("hash key {k} is listed twice; give each key once"));
            }
            key_count(hash_keys.len() as u64)?;
            for h in &hash_keys {
                HashKey::parse_explicit(h).map_err(|e| e.to_string())?;
            }
            let n = hash_keys.len() as u64;
            KeySpace::Table {
                table: KeyTable::new(vec![], KeyNames::Explicit(hash_keys), n, key_bytes(b)?),
                sampler: KeySampler::Uniform(n as u32),
            }
        }
    })
}

fn retry_policy(raw: Option<RawRetry>) -> Result<RetryPolicy, String> {
    match raw {
        None => Ok(RETRY_PRESETS[1].2),
        Some(RawRetry::Preset(name)) => RETRY_PRESETS
            .iter()
            .find(|p| p.0 == name)
            .map(|p| p.2)
            .ok_or_else(|| {
                let names: Vec<&str> = RETRY_PRESETS.iter().map(|p| p.0).collect();
                format!(
                    "unknown preset \"{name}\"; accepted presets are {}",
                    names.join(", ")
                )
            }),
        Some(RawRetry::Table(t)) => {
            if !(1..=100).contains(&t.max_attempts) {
                return Err(format!(
                    "max_attempts {} is out of range; accepted range is 1 to 100",
                    t.max_attempts
                ));
            }
            if t.cap < t.base {
                return Err(format!(
                    "cap ({}) must be at least base ({})",
                    t.cap, t.base
                ));
            }
            if t.cap.0 > HOUR {
                return Err(format!(
                    "cap {} is out of range; accepted range is up to 1h",
                    t.cap
                ));
            }
            Ok(RetryPolicy {
                max_attempts: t.max_attempts,
                base: t.base.0,
                cap: t.cap.0,
                jitter: match t.jitter.unwrap_or(RawJitter::Full) {
                    RawJitter::Full => Jitter::Full,
                    RawJitter::Equal => Jitter::Equal,
                    RawJitter::None => Jitter::None,
                },
                ttl: None,
            })
        }
    }
}

fn slo(ctx: &Ctx<'_>, span: Range<usize>, raw: RawSlo) -> Result<Slo, ScenarioError> {
    if let Some(r) = raw.max_throttle_rate
        && !finite_in(r, 0.0, 1.0)
    {
        return Err(ctx.invalid(
            span,
            "slo.max_throttle_rate",
            format!("{r} is out of range; accepted range is 0 to 1"),
        ));
    }
    if let Some(c) = raw.max_monthly_cost
        && !finite_in(c, 0.0, 1e12)
    {
        return Err(ctx.invalid(
            span,
            "slo.max_monthly_cost",
            format!("{c} is out of range; accepted range is 0 to 1000000000000 (USD)"),
        ));
    }
    if let Some(u) = raw.max_peak_shard_utilisation
        && !finite_in(u, 0.0, 1e6)
    {
        return Err(ctx.invalid(
            span,
            "slo.max_peak_shard_utilisation",
            format!("{u} is out of range; accepted range is 0 to 1000000"),
        ));
    }
    Ok(Slo {
        max_throttle_rate: raw.max_throttle_rate,
        max_failed_records: raw.max_failed_records,
        max_p99_latency: raw.max_p99_latency.map(|d| d.0),
        max_peak_shard_utilisation: raw.max_peak_shard_utilisation,
        max_lost_records: raw.max_lost_records,
        max_iterator_age: raw.max_iterator_age.map(|d| d.0),
        max_reshard_operations_per_24h: raw.max_reshard_operations_per_24h,
        max_monthly_cost: raw.max_monthly_cost,
    })
}
