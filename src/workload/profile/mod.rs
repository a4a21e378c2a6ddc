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
    /// Whether per-second jitter factors are drawn (bounded second by
    /// second).
    jittered: bool,
    /// The bound of the components other than drawn bursts.
    steady: f64,
    /// The largest product of spike multipliers.
    spike_factor: f64,
    /// Whether some component is drawn bursts (bounded period by period).
    bursty: bool,
}

impl Bounds {
    /// Whether the bound changes over time (drawn bursts or jitter), so
    /// that it is taken piece by piece ([`RateProfile::bound_at`]).
    pub fn piecewise(&self) -> bool {
        self.bursty || self.jittered
    }
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

/// Multiplicative noise on a rate, one factor per second of simulated
/// time, each drawn independently with mean 1 (so the mean rate is kept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// A factor uniform in `[1 - spread, 1 + spread]` (`spread` in (0, 1]):
    /// "plus or minus 20 %" is a spread of 0.2.
    Uniform {
        /// Half the width of the range.
        spread: f64,
    },
    /// A factor `exp(sigma Z - sigma^2 / 2)`, Z standard normal (`sigma`
    /// in (0, 2]): lognormal with mean 1.
    Lognormal {
        /// Sigma of the factor's logarithm.
        sigma: f64,
    },
}

impl Jitter {
    /// One factor per second of `[0, horizon)`, drawn in order from `rng`
    /// (so a longer run draws the same first seconds).
    fn draw(self, rng: &mut crate::sim::rng::SimRng, horizon: SimTime) -> Vec<f32> {
        use rand::RngExt;
        use rand_distr::{Distribution, StandardNormal};
        let seconds = horizon.div_ceil(NANOS_PER_SEC) as usize;
        (0..seconds)
            .map(|_| match self {
                Jitter::Uniform { spread } => {
                    let u: f64 = rng.random();
                    (1.0 - spread + 2.0 * spread * u) as f32
                }
                Jitter::Lognormal { sigma } => {
                    let z: f64 = StandardNormal.sample(rng);
                    (sigma * z - sigma * sigma / 2.0).exp() as f32
                }
            })
            .collect()
    }
}

/// A rate over time: the sum of its components, times the multipliers of the
/// spikes active at that time, times the second's jitter factor.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    /// Summed components.
    pub components: Vec<Component>,
    /// Multiplicative spikes.
    pub spikes: Vec<Spike>,
    /// Per-second multiplicative noise, if any.
    pub jitter: Option<Jitter>,
    /// The jitter's factors, one per second from 0, once drawn for a run by
    /// [`RateProfile::realize`] (empty before: an unrealized profile reads
    /// as its mean, factor 1).
    pub jitter_factors: Vec<f32>,
}

impl RateProfile {
    /// A constant rate.
    pub fn constant(rate: f64) -> RateProfile {
        RateProfile {
            components: vec![Component::Constant(rate)],
            spikes: vec![],
            jitter: None,
            jitter_factors: Vec::new(),
        }
    }

    /// The jitter factor of the second holding `t` (1 without jitter).
    #[inline]
    fn jitter_at(&self, t: SimTime) -> f64 {
        if self.jitter_factors.is_empty() {
            return 1.0;
        }
        let second = (t / NANOS_PER_SEC) as usize;
        self.jitter_factors
            .get(second)
            .map_or(1.0, |&f| f64::from(f))
    }

    /// The rate at `t`, records per second (at most [`MAX_RATE`]: drawn
    /// bursts under a spike could pass it).
    pub fn at(&self, t: SimTime) -> f64 {
        let base: f64 = self.components.iter().map(|c| c.at(t)).sum();
        let spiked = self
            .spikes
            .iter()
            .filter(|s| t >= s.at && t - s.at < s.duration)
            .fold(base, |r, s| r * s.multiplier);
        (spiked * self.jitter_at(t)).min(MAX_RATE)
    }

    /// An upper bound of the rate over all time.
    pub fn max(&self) -> f64 {
        let base: f64 = self.components.iter().map(Component::max).sum();
        base * self.spike_factor()
    }

    /// What thinning needs, computed once for a run.
    pub fn bounds(&self) -> Bounds {
        let bursty = |c: &&Component| matches!(c, Component::Bursts { .. });
        let jitter_max = self
            .jitter_factors
            .iter()
            .fold(1.0f64, |m, &f| m.max(f64::from(f)));
        Bounds {
            max: (self.max() * jitter_max).min(MAX_RATE),
            constant: self.is_constant(),
            jittered: !self.jitter_factors.is_empty(),
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
        if !b.piecewise() {
            return (b.max, SimTime::MAX);
        }
        let (mut sum, mut until) = (b.steady, SimTime::MAX);
        for (rate, end) in self.components.iter().filter_map(|c| c.burst_bound(t)) {
            sum += rate;
            until = until.min(end);
        }
        let mut bound = sum * b.spike_factor;
        if b.jittered {
            // This second's factor holds to its end.
            bound *= self.jitter_at(t);
            until = until.min((t / NANOS_PER_SEC + 1) * NANOS_PER_SEC);
        }
        (bound.min(MAX_RATE), until)
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
    ///
    /// Jitter (`rate_jitter`) is drawn the same way: one factor per second
    /// before `horizon`, from the group's own stream (`Purpose::Jitter`,
    /// index `group`), four bytes a second.
    pub fn realize(&self, seed: u64, group: u64, horizon: SimTime) -> Cow<'_, RateProfile> {
        let bursty = |c: &Component| {
            matches!(c, Component::Periods { period, burstiness, .. }
                if *burstiness > 0.0 && *period > NANOS_PER_SEC)
        };
        let any_bursty = self.components.iter().any(bursty);
        if !any_bursty && self.jitter.is_none() {
            return Cow::Borrowed(self);
        }
        let components = if any_bursty {
            self.components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut rng = stream(seed, Purpose::Import, group << 32 | i as u64);
                    c.realize(&mut rng, horizon).unwrap_or_else(|| c.clone())
                })
                .collect()
        } else {
            self.components.clone()
        };
        let jitter_factors = match self.jitter {
            Some(j) => j.draw(&mut stream(seed, Purpose::Jitter, group), horizon),
            None => Vec::new(),
        };
        Cow::Owned(RateProfile {
            components,
            spikes: self.spikes.clone(),
            jitter: self.jitter,
            jitter_factors,
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
        self.jitter.is_none()
            && self.spikes.is_empty()
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

    /// Issue 15, item 7: per-second multiplicative jitter, drawn per run
    /// from the group's own stream: each second's rate is the base times
    /// its factor (uniform within the spread, or lognormal with mean 1),
    /// the same for the same seed and group, other for another group.
    #[test]
    fn r15_jitter_multiplies_each_second_by_its_own_factor() {
        let p = RateProfile {
            jitter: Some(Jitter::Uniform { spread: 0.2 }),
            ..RateProfile::constant(1000.0)
        };
        assert_eq!(p.at(5 * S), 1000.0, "unrealized: the mean");
        let run = p.realize(7, 3, 1000 * S);
        assert_eq!(run.jitter_factors.len(), 1000);
        let rates: Vec<f64> = (0..1000).map(|s| run.at(s * S + S / 2)).collect();
        assert!(rates.iter().all(|r| (800.0..=1200.0).contains(r)));
        assert_eq!(run.at(10 * S), run.at(11 * S - 1), "one factor a second");
        let mean = rates.iter().sum::<f64>() / 1000.0;
        assert!((mean - 1000.0).abs() < 10.0, "{mean}");
        assert_eq!(run, p.realize(7, 3, 1000 * S), "same seed, same group");
        assert_ne!(run.jitter_factors, p.realize(7, 4, 1000 * S).jitter_factors);
        // The bound holds second by second.
        let b = run.bounds();
        assert!(b.piecewise() && !b.constant);
        for s in 0..1000 {
            let (bound, until) = run.bound_at(s * S, &b);
            assert!(bound >= run.at(s * S) && until == (s + 1) * S);
        }
        let log = RateProfile {
            jitter: Some(Jitter::Lognormal { sigma: 0.5 }),
            ..RateProfile::constant(100.0)
        }
        .realize(7, 0, 20_000 * S)
        .into_owned();
        let mean = log
            .jitter_factors
            .iter()
            .map(|&f| f64::from(f))
            .sum::<f64>()
            / 20_000.0;
        assert!((mean - 1.0).abs() < 0.02, "lognormal mean {mean}");
    }

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
            jitter: None,
            jitter_factors: Vec::new(),
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
            jitter: None,
            jitter_factors: Vec::new(),
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
            jitter: None,
            jitter_factors: Vec::new(),
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
            jitter: None,
            jitter_factors: Vec::new(),
        };
        assert_eq!(ending.max(), 300.0);
        assert_eq!(ending.at(12 * S), 300.0);
        assert_eq!(overlapping.at(7 * S), 600.0);
    }
}
