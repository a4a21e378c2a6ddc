//! `[autoscaling]`: when the policy runs, its shard bounds, and the policy.

use std::path::PathBuf;

use toml::Spanned;

use super::raw::{RawAutoscaling, RawPolicy, RawScheduled, RawSuRule, RawTrackedMetric};
use super::validate::{Ctx, HOUR, finite_in, push_once};
use super::{Adjustment, Autoscaling, Policy, ScenarioError, StreamSpec, SuRule, TrackedMetric};
use crate::kds::Quota;
use crate::sim::SimTime;
use crate::units::{Duration, NANOS_PER_SEC};

/// A field that is wrong (below `autoscaling.`) and the message.
type Bad = (&'static str, String);

/// The table, if given, with a scaling-utils configuration it names read in
/// (and added to `imports`).
pub(super) fn table(
    ctx: &Ctx<'_>,
    raw: Option<Spanned<RawAutoscaling>>,
    stream: &StreamSpec,
    imports: &mut Vec<PathBuf>,
) -> Result<Option<Autoscaling>, ScenarioError> {
    let Some(a) = raw else {
        return Ok(None);
    };
    let span = a.span();
    let mut a = a.into_inner();
    if let Some(file) = super::imports::scaling_utils_config(ctx, span.clone(), &mut a)? {
        push_once(imports, file);
    }
    autoscaling(a, stream)
        .map(Some)
        .map_err(|(f, m)| ctx.invalid(span, &format!("autoscaling.{f}"), m))
}

fn autoscaling(raw: RawAutoscaling, stream: &StreamSpec) -> Result<Autoscaling, Bad> {
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
    Ok(Autoscaling {
        evaluation_interval,
        publication_delay,
        min_shards,
        max_shards,
        policy: policy(raw.policy, stream)?,
    })
}

/// `x` if it is above 0 and at most `hi`.
fn fraction(name: &'static str, x: f64, hi: f64) -> Result<f64, Bad> {
    if finite_in(x, 0.0, hi) && x > 0.0 {
        Ok(x)
    } else {
        Err((
            name,
            format!("{x} is out of range; accepted range is above 0 to {hi}"),
        ))
    }
}

fn policy(raw: RawPolicy, stream: &StreamSpec) -> Result<Policy, Bad> {
    Ok(match raw {
        RawPolicy::None => Policy::None,
        RawPolicy::Scheduled { schedule } => scheduled(&schedule)?,
        RawPolicy::TargetTracking {
            target,
            scale_out_cooldown,
            scale_in_cooldown,
            metric,
        } => Policy::TargetTracking {
            target: fraction("policy.target", target, 1.0)?,
            metric: tracked_metric(metric, stream)?,
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
            check_alarms(out_datapoints, out_periods, in_datapoints, in_periods)?;
            let adjustment = step_adjustment(adjustment.as_deref())?;
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
        } => exec(command, timeout, window)?,
        RawPolicy::ScalingUtils {
            scale_up,
            scale_down,
            operations,
            // Imported already (`imports::scaling_utils_config`): both are
            // `None` here.
            config: _,
            stream_name: _,
        } => scaling_utils(scale_up, scale_down, operations.unwrap_or_default())?,
    })
}

fn scheduled(schedule: &[RawScheduled]) -> Result<Policy, Bad> {
    let mut s: Vec<(SimTime, u32)> = schedule.iter().map(|e| (e.at.0, e.target)).collect();
    if s.iter().any(|e| e.1 == 0) {
        return Err(("policy.schedule", "targets must be at least 1".into()));
    }
    s.sort_by_key(|e| e.0);
    Ok(Policy::Scheduled(s))
}

fn tracked_metric(
    metric: Option<RawTrackedMetric>,
    stream: &StreamSpec,
) -> Result<TrackedMetric, Bad> {
    match metric {
        None | Some(RawTrackedMetric::Stream) => Ok(TrackedMetric::Stream),
        // Shard-level metrics exist only with enhanced monitoring
        // (KDS-REFERENCE.md §9.1).
        Some(RawTrackedMetric::HottestShard) if stream.enhanced_monitoring => {
            Ok(TrackedMetric::HottestShard)
        }
        Some(RawTrackedMetric::HottestShard) => Err((
            "policy.metric",
            "\"hottest-shard\" needs shard-level metrics: set enhanced_monitoring = true in [stream]"
                .into(),
        )),
    }
}

/// A step policy's alarms: M of N one-minute datapoints each way.
fn check_alarms(
    out_datapoints: u32,
    out_periods: u32,
    in_datapoints: u32,
    in_periods: u32,
) -> Result<(), Bad> {
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
    Ok(())
}

/// `adjustment`: `"double"` (the default) or `"+N"`.
fn step_adjustment(adjustment: Option<&str>) -> Result<Adjustment, Bad> {
    match adjustment {
        None | Some("double") => Ok(Adjustment::DoubleHalve),
        Some(s) => match s.strip_prefix('+').and_then(|n| n.parse::<u32>().ok()) {
            Some(n) if n > 0 => Ok(Adjustment::Step(n)),
            _ => Err((
                "policy.adjustment",
                format!("\"{s}\": expected \"double\" or \"+N\" (N shards out, N in)"),
            )),
        },
    }
}

fn exec(
    command: Vec<String>,
    timeout: Option<Duration>,
    window: Option<u32>,
) -> Result<Policy, Bad> {
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
    Ok(Policy::Exec {
        command,
        timeout: std::time::Duration::from_nanos(timeout),
        window,
    })
}

fn scaling_utils(
    scale_up: Option<RawSuRule>,
    scale_down: Option<RawSuRule>,
    operations: Vec<String>,
) -> Result<Policy, Bad> {
    let required = |r: Option<RawSuRule>, name: &'static str| {
        r.ok_or((
            name,
            "required (or config = \"<scaling-utils configuration.json>\" instead of the rules)"
                .to_owned(),
        ))
    };
    let scale_up = required(scale_up, "policy.scale_up")?;
    let scale_down = required(scale_down, "policy.scale_down")?;
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
    Ok(Policy::ScalingUtils {
        up: su_rule(scale_up, "policy.scale_up")?,
        down: su_rule(scale_down, "policy.scale_down")?,
        put,
        get,
    })
}

fn su_rule(r: RawSuRule, name: &'static str) -> Result<SuRule, Bad> {
    if r.cool_off_mins.is_some_and(|m| m > 525_600) {
        return Err((name, "cool_off_mins is at most 525600 (a year)".into()));
    }
    if !finite_in(r.threshold_pct, 0.0, 1000.0) || r.after_mins == 0 || r.after_mins > 1440 {
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
}
