//! Arrival rate over time, and the arrival processes that follow it.
//!
//! The profile's parts live apart: the components it sums
//! (`component`), the bursts drawn for imported rates (`bursts`), and the
//! arrival processes that follow a profile (`arrivals`).

mod arrivals;
mod bursts;
mod component;

use std::borrow::Cow;

use crate::sim::SimTime;
use crate::sim::rng::{Purpose, stream};
use crate::units::NANOS_PER_SEC;

pub use arrivals::Arrivals;
pub use component::Component;

/// The highest rate one second of a burst may reach: the cap on any rate
/// (records/s) a scenario may give.
pub const MAX_RATE: f64 = 1e9;

/// What thinning needs of a profile, from [`RateProfile::bounds`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// An upper bound of the rate over all time.
    pub max: f64,
    /// Whether the rate never changes.
    pub constant: bool,
    /// The bound of the components other than drawn bursts.
    steady: f64,
    /// The largest product of spike multipliers.
    spike_factor: f64,
    /// Whether some component is drawn bursts (bounded period by period).
    bursty: bool,
}

/// A multiplier on the whole profile during `[at, at + duration)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Start of the spike.
    pub at: SimTime,
    /// Its length.
    pub duration: SimTime,
    /// The factor applied to the rate (at least 0).
    pub multiplier: f64,
}

/// A rate over time: the sum of its components, times the multipliers of the
/// spikes active at that time.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    /// Summed components.
    pub components: Vec<Component>,
    /// Multiplicative spikes.
    pub spikes: Vec<Spike>,
}

impl RateProfile {
    /// A constant rate.
    pub fn constant(rate: f64) -> RateProfile {
        RateProfile {
            components: vec![Component::Constant(rate)],
            spikes: vec![],
        }
    }

    /// The rate at `t`, records per second (at most [`MAX_RATE`]: drawn
    /// bursts under a spike could pass it).
    pub fn at(&self, t: SimTime) -> f64 {
        let base: f64 = self.components.iter().map(|c| c.at(t)).sum();
        self.spikes
            .iter()
            .filter(|s| t >= s.at && t - s.at < s.duration)
            .fold(base, |r, s| r * s.multiplier)
            .min(MAX_RATE)
    }

    /// An upper bound of the rate over all time.
    pub fn max(&self) -> f64 {
        let base: f64 = self.components.iter().map(Component::max).sum();
        base * self.spike_factor()
    }

    /// What thinning needs, computed once for a run.
    pub fn bounds(&self) -> Bounds {
        let bursty = |c: &&Component| matches!(c, Component::Bursts { .. });
        Bounds {
            max: self.max().min(MAX_RATE),
            constant: self.is_constant(),
            steady: self
                .components
                .iter()
                .filter(|c| !bursty(c))
                .map(Component::max)
                .sum(),
            spike_factor: self.spike_factor(),
            bursty: self.components.iter().any(|c| bursty(&c)),
        }
    }

    /// An upper bound of the rate from `t` until the returned time: with
    /// drawn bursts, their current periods' peaks (a far lower bound than
    /// the highest second of the whole import); else the bound of all time.
    pub fn bound_at(&self, t: SimTime, b: &Bounds) -> (f64, SimTime) {
        if !b.bursty {
            return (b.max, SimTime::MAX);
        }
        let (mut sum, mut until) = (b.steady, SimTime::MAX);
        for (rate, end) in self.components.iter().filter_map(|c| c.burst_bound(t)) {
            sum += rate;
            until = until.min(end);
        }
        ((sum * b.spike_factor).min(MAX_RATE), until)
    }

    /// The largest product of the spike multipliers active at one time.
    fn spike_factor(&self) -> f64 {
        // The set of active spikes only changes where a spike starts or
        // ends, so those instants (and "no spike", factor 1) cover every
        // case.
        self.spikes
            .iter()
            .flat_map(|s| [s.at, s.at.saturating_add(s.duration)])
            .map(|t| {
                self.spikes
                    .iter()
                    .filter(|o| t >= o.at && t - o.at < o.duration)
                    .map(|o| o.multiplier)
                    .product::<f64>()
            })
            .fold(1.0, f64::max)
    }

    /// The profile one run follows: bursty imported rates
    /// ([`Component::Periods`]) with their per-second factors drawn for the
    /// periods before `horizon`, each component from its own stream
    /// (`Purpose::Import`, index `group << 32 | component`), so one
    /// component's draws never shift another's; any other profile as it
    /// is. The seed is the run's, so replications differ and a run is
    /// repeatable.
    pub fn realize(&self, seed: u64, group: u64, horizon: SimTime) -> Cow<'_, RateProfile> {
        let bursty = |c: &Component| {
            matches!(c, Component::Periods { period, burstiness, .. }
                if *burstiness > 0.0 && *period > NANOS_PER_SEC)
        };
        if !self.components.iter().any(bursty) {
            return Cow::Borrowed(self);
        }
        Cow::Owned(RateProfile {
            components: self
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut rng = stream(seed, Purpose::Import, group << 32 | i as u64);
                    c.realize(&mut rng, horizon).unwrap_or_else(|| c.clone())
                })
                .collect(),
            spikes: self.spikes.clone(),
        })
    }

    /// The time from which the rate is 0 for good (every component's rate
    /// is), if there is one: arrivals stop there instead of drawing
    /// candidates that thinning would all refuse.
    pub fn end(&self) -> Option<SimTime> {
        self.components
            .iter()
            .map(Component::end)
            .try_fold(0, |a, e| e.map(|e| a.max(e)))
    }

    /// Whether the rate never changes (no thinning needed).
    pub fn is_constant(&self) -> bool {
        self.spikes.is_empty()
            && self
                .components
                .iter()
                .all(|c| matches!(c, Component::Constant(_)))
    }

    /// The mean rate over `[0, duration)`, by midpoint integration at 1 s
    /// steps (for reports and closed-form checks).
    pub fn mean_over(&self, duration: SimTime) -> f64 {
        let secs = duration.div_ceil(NANOS_PER_SEC).max(1);
        (0..secs)
            .map(|s| self.at(s * NANOS_PER_SEC + NANOS_PER_SEC / 2))
            .sum::<f64>()
            / secs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = NANOS_PER_SEC;

    #[test]
    fn components_at_and_max() {
        let steps = Component::Steps(vec![(10 * S, 5.0), (20 * S, 1.0)]);
        assert_eq!(steps.at(0), 0.0);
        assert_eq!(steps.at(10 * S), 5.0);
        assert_eq!(steps.at(25 * S), 1.0);
        assert_eq!(steps.max(), 5.0);
        let ramp = Component::Ramp {
            from: 100.0,
            to: 200.0,
            start: 10 * S,
            end: 20 * S,
        };
        assert_eq!(ramp.at(15 * S), 150.0);
        let d = Component::Diurnal {
            mean: 100.0,
            amplitude: 0.5,
            period: 100 * S,
            phase: 0,
        };
        assert!((d.at(25 * S) - 150.0).abs() < 1e-9);
        assert!((d.at(75 * S) - 50.0).abs() < 1e-9);
        let p = RateProfile {
            components: vec![Component::Constant(10.0)],
            spikes: vec![Spike {
                at: 5 * S,
                duration: 2 * S,
                multiplier: 3.0,
            }],
        };
        assert_eq!(p.at(6 * S), 30.0);
        assert_eq!(p.at(7 * S), 10.0);
        assert_eq!(p.max(), 30.0);
        // Spikes that never overlap do not multiply each other.
        let apart = RateProfile {
            components: vec![Component::Constant(100.0)],
            spikes: (0..19)
                .map(|i| Spike {
                    at: i * 10 * S,
                    duration: 5 * S,
                    multiplier: 3.0,
                })
                .collect(),
        };
        assert_eq!(apart.max(), 300.0);
        let overlapping = RateProfile {
            components: vec![Component::Constant(100.0)],
            spikes: vec![
                Spike {
                    at: 0,
                    duration: 10 * S,
                    multiplier: 2.0,
                },
                Spike {
                    at: 5 * S,
                    duration: 10 * S,
                    multiplier: 3.0,
                },
            ],
        };
        assert_eq!(overlapping.max(), 600.0);
        // A damping spike that ends while a boost goes on: the boost alone counts.
        let ending = RateProfile {
            components: vec![Component::Constant(100.0)],
            spikes: vec![
                Spike {
                    at: 0,
                    duration: 10 * S,
                    multiplier: 0.0,
                },
                Spike {
                    at: 5 * S,
                    duration: 15 * S,
                    multiplier: 3.0,
                },
            ],
        };
        assert_eq!(ending.max(), 300.0);
        assert_eq!(ending.at(12 * S), 300.0);
        assert_eq!(overlapping.at(7 * S), 600.0);
    }
}
