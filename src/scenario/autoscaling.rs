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
    if let Some(file) = super::scaling_utils::config(ctx, span.clone(), &mut a)? {
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
            // Imported already (`scaling_utils::config`): both are
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

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    fn with(lines: &str, policy: &str) -> String {
        format!("{SCENARIO}\n[autoscaling]\n{lines}\npolicy = {policy}\n")
    }

    fn rejected(lines: &str, policy: &str) -> (String, String) {
        rejects(&with(lines, policy))
    }

    const STEP: &str = "{ kind = \"step\", scale_out_threshold = 0.8, scale_in_threshold = 0.3 }";

    #[test]
    fn defaults_and_a_step_policy() {
        let a = accepts(&with("", STEP)).autoscaling.unwrap();
        assert_eq!(a.evaluation_interval, 60 * NANOS_PER_SEC);
        assert_eq!(a.publication_delay, 60 * NANOS_PER_SEC);
        assert_eq!((a.min_shards, a.max_shards), (1, 10_000));
        assert_eq!(
            a.policy,
            Policy::Step {
                out_threshold: 0.8,
                out_datapoints: 1,
                out_periods: 1,
                in_threshold: 0.3,
                in_datapoints: 15,
                in_periods: 15,
                adjustment: Adjustment::DoubleHalve,
                cooldown: 600 * NANOS_PER_SEC,
                block_in_above_iterator_age: None,
            }
        );
        assert!(accepts(SCENARIO).autoscaling.is_none());
    }

    #[test]
    fn intervals_and_bounds_are_in_range() {
        assert_eq!(
            rejected("evaluation_interval = \"2h\"", STEP),
            err(
                "autoscaling.evaluation_interval",
                "2h is out of range; accepted range is 1s to 1h"
            )
        );
        assert_eq!(
            rejected("publication_delay = \"2h\"", STEP),
            err(
                "autoscaling.publication_delay",
                "2h is out of range; accepted range is 0s to 1h"
            )
        );
        assert_eq!(
            rejected("min_shards = 5\nmax_shards = 4", STEP),
            err(
                "autoscaling.min_shards",
                "min_shards 5 and max_shards 4: accepted is 1 <= min <= max <= 10000"
            )
        );
    }

    #[test]
    fn step_and_target_tracking_policies_are_checked() {
        assert_eq!(
            rejected(
                "",
                "{ kind = \"step\", scale_out_threshold = 0.3, scale_in_threshold = 0.8 }"
            ),
            err(
                "autoscaling.policy.scale_in_threshold",
                "0.8 must be below scale_out_threshold (0.3)"
            )
        );
        assert_eq!(
            rejected(
                "",
                "{ kind = \"step\", scale_out_threshold = 0.8, scale_in_threshold = 0.3, adjustment = \"+0\" }"
            ),
            err(
                "autoscaling.policy.adjustment",
                "\"+0\": expected \"double\" or \"+N\" (N shards out, N in)"
            )
        );
        assert_eq!(
            rejected(
                "",
                "{ kind = \"step\", scale_out_threshold = 0.8, scale_in_threshold = 0.3, scale_out_datapoints = 2 }"
            ),
            err(
                "autoscaling.policy",
                "datapoints must be 1 to periods, and periods at most 1440"
            )
        );
        assert_eq!(
            rejected("", "{ kind = \"target-tracking\", target = 0.0 }"),
            err(
                "autoscaling.policy.target",
                "0 is out of range; accepted range is above 0 to 1"
            )
        );
        assert_eq!(
            rejected(
                "",
                "{ kind = \"target-tracking\", target = 0.7, metric = \"hottest-shard\" }"
            ),
            err(
                "autoscaling.policy.metric",
                "\"hottest-shard\" needs shard-level metrics: set enhanced_monitoring = true in [stream]"
            )
        );
        let step = with(
            "",
            "{ kind = \"step\", scale_out_threshold = 0.8, scale_in_threshold = 0.3, adjustment = \"+2\" }",
        );
        assert!(matches!(
            accepts(&step).autoscaling.unwrap().policy,
            Policy::Step {
                adjustment: Adjustment::Step(2),
                ..
            }
        ));
    }

    #[test]
    fn scheduled_exec_and_scaling_utils_policies_are_checked() {
        let scheduled = with(
            "",
            "{ kind = \"scheduled\", schedule = [{ at = \"30s\", target = 4 }, { at = \"10s\", target = 3 }] }",
        );
        assert_eq!(
            accepts(&scheduled).autoscaling.unwrap().policy,
            Policy::Scheduled(vec![(10 * NANOS_PER_SEC, 3), (30 * NANOS_PER_SEC, 4)])
        );
        assert_eq!(
            rejected(
                "",
                "{ kind = \"scheduled\", schedule = [{ at = \"1s\", target = 0 }] }"
            ),
            err("autoscaling.policy.schedule", "targets must be at least 1")
        );
        assert_eq!(
            rejected("", "{ kind = \"exec\", command = [] }"),
            err(
                "autoscaling.policy.command",
                "needs a program, e.g. [\"python3\", \"autoscaler.py\"]"
            )
        );
        assert_eq!(
            rejected("", "{ kind = \"exec\", command = [\"x\"], window = 0 }"),
            err(
                "autoscaling.policy.window",
                "0 is out of range; accepted range is 1 to 1440 minutes"
            )
        );
        assert_eq!(
            rejected("", "{ kind = \"scaling-utils\" }"),
            err(
                "autoscaling.policy.scale_up",
                "required (or config = \"<scaling-utils configuration.json>\" instead of the rules)"
            )
        );
        let su = |extra: &str| {
            format!(
                "{{ kind = \"scaling-utils\", scale_up = {{ threshold_pct = 75.0, after_mins = 2, scale_pct = 200.0 }}, \
                 scale_down = {{ threshold_pct = 25.0, after_mins = 15, {extra} }} }}"
            )
        };
        assert!(matches!(
            accepts(&with("", &su("scale_count = 1")))
                .autoscaling
                .unwrap()
                .policy,
            Policy::ScalingUtils {
                put: true,
                get: true,
                ..
            }
        ));
        assert_eq!(
            rejected("", &su("cool_off_mins = 5")),
            err(
                "autoscaling.policy.scale_down",
                "needs scale_pct or scale_count"
            )
        );
        assert_eq!(
            rejected("", &su("scale_count = 0")),
            err(
                "autoscaling.policy.scale_down",
                "scale_pct must be above 0 and scale_count at least 1"
            )
        );
    }
}
