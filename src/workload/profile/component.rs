//! The components a rate profile sums: constant, steps, ramps, diurnal
//! cycles and imported per-period rates.

use super::MAX_RATE;
use crate::sim::SimTime;
use crate::units::NANOS_PER_SEC;

/// One additive part of a rate profile, in records per second.
#[derive(Debug, Clone, PartialEq)]
pub enum Component {
    /// The same rate throughout.
    Constant(f64),
    /// Piecewise constant: `(from, rate)` pairs sorted by time; zero before
    /// the first.
    Steps(Vec<(SimTime, f64)>),
    /// Linear from `from` at `start` to `to` at `end`, flat outside.
    Ramp {
        /// Rate up to `start`.
        from: f64,
        /// Rate from `end` on.
        to: f64,
        /// Start of the ramp.
        start: SimTime,
        /// End of the ramp.
        end: SimTime,
    },
    /// `mean * (1 + amplitude * sin(2 pi (t - phase) / period))`.
    Diurnal {
        /// Mean rate.
        mean: f64,
        /// Relative amplitude, 0 to 1.
        amplitude: f64,
        /// Period of the cycle.
        period: SimTime,
        /// Time at which the rate crosses the mean going up.
        phase: SimTime,
    },
    /// Per-period rates, as imported from CloudWatch: each `(start, rate)`
    /// holds for one `period`, zero between them and after the last.
    ///
    /// With `burstiness` = sigma above 0 the rate varies second by second
    /// within each period by lognormal factors `exp(sigma Z - sigma^2 / 2)`,
    /// rescaled so each period's total is kept exactly. Those factors are
    /// drawn per run, by
    /// [`RateProfile::realize`](super::RateProfile::realize), so that
    /// replications with other seeds see other bursts; unrealized, the
    /// component reads as its flat per-period rate, which is the bursts'
    /// mean over each period (what sizing formulas want).
    Periods {
        /// Length of one period, whole seconds.
        period: SimTime,
        /// `(start, records/s)`, starts at least one period apart, sorted.
        rates: Vec<(SimTime, f64)>,
        /// Sigma of the per-second factors; 0 is flat within a period.
        burstiness: f64,
    },
    /// [`Component::Periods`] with its bursts drawn for one run: each
    /// period's rate times one factor per second of it. Made by
    /// [`RateProfile::realize`](super::RateProfile::realize) only.
    Bursts {
        /// Length of one period, whole seconds.
        period: SimTime,
        /// `(start, records/s, index of its first factor, its highest
        /// second's rate)`, sorted.
        rates: Vec<(SimTime, f64, usize, f64)>,
        /// Per-second factors of every period drawn, each period's
        /// averaging 1 (f32: four bytes a second of imported data).
        factors: Vec<f32>,
        /// The largest rate of any second.
        peak: f64,
    },
}

impl Component {
    pub(super) fn at(&self, t: SimTime) -> f64 {
        match self {
            Component::Constant(r) => *r,
            Component::Steps(steps) => {
                let i = steps.partition_point(|&(from, _)| from <= t);
                if i == 0 { 0.0 } else { steps[i - 1].1 }
            }
            Component::Ramp {
                from,
                to,
                start,
                end,
            } => {
                if t <= *start {
                    *from
                } else if t >= *end {
                    *to
                } else {
                    let f = (t - start) as f64 / (end - start) as f64;
                    from + (to - from) * f
                }
            }
            Component::Diurnal {
                mean,
                amplitude,
                period,
                phase,
            } => {
                let x = (t as f64 - *phase as f64) / *period as f64;
                mean * (1.0 + amplitude * (std::f64::consts::TAU * x).sin())
            }
            Component::Periods { period, rates, .. } => {
                let i = rates.partition_point(|&(from, _)| from <= t);
                match i.checked_sub(1).map(|i| rates[i]) {
                    Some((from, rate)) if t - from < *period => rate,
                    _ => 0.0,
                }
            }
            Component::Bursts {
                period,
                rates,
                factors,
                ..
            } => {
                let i = rates.partition_point(|r| r.0 <= t);
                match i.checked_sub(1).map(|i| rates[i]) {
                    Some((from, rate, first, _)) if t - from < *period => {
                        let k = ((t - from) / NANOS_PER_SEC) as usize;
                        (rate * f64::from(factors[first + k])).min(MAX_RATE)
                    }
                    _ => 0.0,
                }
            }
        }
    }

    /// The time from which the rate is 0 for good, if there is one.
    pub(super) fn end(&self) -> Option<SimTime> {
        match self {
            Component::Constant(r) => (*r <= 0.0).then_some(0),
            Component::Steps(steps) => match steps.last() {
                None => Some(0),
                Some(&(from, rate)) => (rate <= 0.0).then_some(from),
            },
            Component::Ramp { to, end, .. } => (*to <= 0.0).then_some(*end),
            Component::Diurnal { mean, .. } => (*mean <= 0.0).then_some(0),
            Component::Periods { period, rates, .. } => {
                Some(rates.last().map_or(0, |r| r.0.saturating_add(*period)))
            }
            Component::Bursts { period, rates, .. } => {
                Some(rates.last().map_or(0, |r| r.0.saturating_add(*period)))
            }
        }
    }

    pub(super) fn max(&self) -> f64 {
        match self {
            Component::Constant(r) => *r,
            Component::Steps(steps) => steps.iter().map(|s| s.1).fold(0.0, f64::max),
            Component::Ramp { from, to, .. } => from.max(*to),
            Component::Diurnal {
                mean, amplitude, ..
            } => mean * (1.0 + amplitude),
            Component::Periods { rates, .. } => rates.iter().map(|s| s.1).fold(0.0, f64::max),
            Component::Bursts { peak, .. } => *peak,
        }
    }
}
