//! `[slo]`: the service-level objectives a run is judged by.

use std::ops::Range;

use super::raw::RawSlo;
use super::validate::{Ctx, finite_in};
use super::{ScenarioError, Slo};

/// The objectives, each within its range.
pub(super) fn slo(ctx: &Ctx<'_>, span: Range<usize>, raw: RawSlo) -> Result<Slo, ScenarioError> {
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

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;

    fn with(lines: &str) -> String {
        format!("{SCENARIO}\n[slo]\n{lines}\n")
    }

    #[test]
    fn objectives_are_kept() {
        let slo = accepts(&with(
            "max_throttle_rate = 0.01\nmax_p99_latency = \"250ms\"\nmax_monthly_cost = 100.0",
        ))
        .slo;
        assert_eq!(slo.max_throttle_rate, Some(0.01));
        assert_eq!(slo.max_p99_latency, Some(250_000_000));
        assert_eq!(slo.max_monthly_cost, Some(100.0));
        assert_eq!(slo.max_lost_records, None);
    }

    #[test]
    fn out_of_range_objectives_are_named() {
        assert_eq!(
            rejects(&with("max_throttle_rate = 1.5")),
            err(
                "slo.max_throttle_rate",
                "1.5 is out of range; accepted range is 0 to 1"
            )
        );
        assert_eq!(
            rejects(&with("max_monthly_cost = -1.0")),
            err(
                "slo.max_monthly_cost",
                "-1 is out of range; accepted range is 0 to 1000000000000 (USD)"
            )
        );
        assert_eq!(
            rejects(&with("max_peak_shard_utilisation = nan")),
            err(
                "slo.max_peak_shard_utilisation",
                "NaN is out of range; accepted range is 0 to 1000000"
            )
        );
    }
}
