//! Bursts within imported periods: per-second factors drawn for one run,
//! and the period-by-period bound thinning uses under them.

use rand_distr::{Distribution, StandardNormal};

use super::{Component, MAX_RATE};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

impl Component {
    /// For drawn bursts: the highest rate from `t` on until the returned
    /// time (the current period's peak, or 0 until the next period).
    pub(super) fn burst_bound(&self, t: SimTime) -> Option<(f64, SimTime)> {
        let Component::Bursts { period, rates, .. } = self else {
            return None;
        };
        let i = rates.partition_point(|r| r.0 <= t);
        Some(match i.checked_sub(1).map(|i| rates[i]) {
            Some((from, _, _, peak)) if t - from < *period => (peak, from + period),
            _ => (0.0, rates.get(i).map_or(SimTime::MAX, |r| r.0)),
        })
    }

    /// Bursty per-period rates with their per-second factors drawn from
    /// `rng`, for the periods that start before `horizon`; `None` for any
    /// other component. Periods are drawn in order from the component's
    /// own stream, so a longer run draws the same first periods: a run's
    /// first minutes do not depend on its length.
    pub(super) fn realize(&self, rng: &mut SimRng, horizon: SimTime) -> Option<Component> {
        let Component::Periods {
            period,
            rates,
            burstiness,
        } = self
        else {
            return None;
        };
        let seconds = (period / NANOS_PER_SEC) as usize;
        if *burstiness <= 0.0 || seconds <= 1 {
            return None;
        }
        let sigma = *burstiness;
        let mut factors = Vec::with_capacity(rates.len() * seconds);
        let mut drawn = Vec::with_capacity(seconds);
        let mut out = Vec::with_capacity(rates.len());
        let mut peak: f64 = 0.0;
        for &(start, rate) in rates.iter().take_while(|r| r.0 < horizon) {
            drawn.clear();
            drawn.extend((0..seconds).map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                (sigma * z - sigma * sigma / 2.0).exp()
            }));
            let mean = drawn.iter().sum::<f64>() / seconds as f64;
            let first = factors.len();
            let mut top: f64 = 0.0;
            for f in &drawn {
                let f = (f / mean) as f32;
                // As `at` computes it, so the bound holds exactly.
                top = top.max((rate * f64::from(f)).min(MAX_RATE));
                factors.push(f);
            }
            out.push((start, rate, first, top));
            peak = peak.max(top);
        }
        Some(Component::Bursts {
            period: *period,
            rates: out,
            factors,
            peak,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::{Arrivals, RateProfile, Spike};
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    const S: SimTime = NANOS_PER_SEC;

    #[test]
    fn bursts_are_drawn_per_run_and_keep_each_period_total() {
        let p = RateProfile {
            components: vec![Component::Periods {
                period: 60 * S,
                rates: vec![(0, 100.0), (60 * S, 200.0), (180 * S, 10.0)],
                burstiness: 0.5,
            }],
            spikes: vec![],
            jitter: None,
            jitter_factors: Vec::new(),
        };
        // Unrealized: the flat rate of each period, 0 in the missing one.
        let flat: Vec<f64> = [0, 59, 60, 150, 200, 240].map(|s| p.at(s * S)).into();
        assert_eq!(flat, [100.0, 100.0, 200.0, 0.0, 10.0, 0.0]);
        assert_eq!(p.max(), 200.0);
        let per_second =
            |q: &RateProfile| -> Vec<f64> { (0..300).map(|s| q.at(s * S + S / 2)).collect() };
        let one = per_second(&p.realize(1, 0, SimTime::MAX));
        let two = per_second(&p.realize(2, 0, SimTime::MAX));
        assert_eq!(one, per_second(&p.realize(1, 0, SimTime::MAX)), "same seed");
        assert_ne!(one, two, "other seed, same bursts");
        assert_ne!(
            one,
            per_second(&p.realize(1, 1, SimTime::MAX)),
            "other group"
        );
        for bursts in [&one, &two] {
            // Every period's total is kept (to f32's precision); the
            // missing period stays empty.
            let totals: Vec<f64> = bursts.chunks(60).map(|c| c.iter().sum()).collect();
            for (got, want) in totals.iter().zip([6000.0, 12_000.0, 0.0, 600.0, 0.0]) {
                assert!((got - want).abs() <= want * 1e-5, "{totals:?}");
            }
            assert!(
                bursts[..60].iter().any(|&r| r > 150.0),
                "no burst above 1.5x"
            );
        }
        // The peak bounds every second, and is reached; the rate ends with
        // the last period.
        let realized = p.realize(1, 0, SimTime::MAX);
        let peak = one.iter().copied().fold(0.0, f64::max);
        assert_eq!(realized.max(), peak);
        assert_eq!(realized.end(), Some(240 * S));
        assert_eq!(p.end(), Some(240 * S));
        // A second bursty component draws from its own stream: the first's
        // bursts are the same with or without it.
        let mut both = p.clone();
        both.components.push(Component::Periods {
            period: 60 * S,
            rates: vec![(0, 50.0)],
            burstiness: 1.0,
        });
        both.components.push(Component::Constant(1.0));
        assert_eq!(both.end(), None, "a constant rate never ends");
        let first_only = |q: &RateProfile| -> Vec<f64> {
            match &q.components[0] {
                c @ Component::Bursts { .. } => (0..300).map(|s| c.at(s * S + S / 2)).collect(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(first_only(&both.realize(1, 0, SimTime::MAX)), one);
        // Flat imports and other profiles need no draws.
        let calm = RateProfile {
            components: vec![Component::Periods {
                period: 60 * S,
                rates: vec![(0, 100.0)],
                burstiness: 0.0,
            }],
            spikes: vec![],
            jitter: None,
            jitter_factors: Vec::new(),
        };
        assert!(matches!(calm.realize(1, 0, SimTime::MAX), Cow::Borrowed(_)));
    }

    /// A long import in a short run: only the periods the run reaches are
    /// drawn (the same ones a longer run draws first), and thinning is
    /// bounded period by period, above the rate everywhere, spikes too.
    #[test]
    fn bursts_are_drawn_to_the_horizon_and_bounded_per_period() {
        let long = RateProfile {
            components: vec![
                Component::Periods {
                    period: 60 * S,
                    rates: (0..10_000).map(|i| (i * 60 * S, 100.0)).collect(),
                    burstiness: 2.0,
                },
                Component::Constant(5.0),
            ],
            spikes: vec![Spike {
                at: 30 * S,
                duration: 45 * S,
                multiplier: 3.0,
            }],
            jitter: None,
            jitter_factors: Vec::new(),
        };
        let short = long.realize(4, 0, 120 * S);
        let full = long.realize(4, 0, SimTime::MAX);
        let drawn = |p: &RateProfile| match &p.components[0] {
            Component::Bursts { factors, .. } => factors.len(),
            other => panic!("{other:?}"),
        };
        assert_eq!(drawn(&short), 120, "two periods of 60 s");
        assert_eq!(drawn(&full), 600_000);
        let b = short.bounds();
        for s in 0..120 {
            let t = s * S + S / 3;
            assert_eq!(short.at(t), full.at(t), "second {s}");
            let (bound, until) = short.bound_at(t, &b);
            assert!(short.at(t) <= bound && until > t, "second {s}");
        }
        // The period's bound is its own peak, far below the whole import's
        // (10,000 periods at sigma 2), and it holds to the period's end.
        let fb = full.bounds();
        let (first, until) = full.bound_at(0, &fb);
        assert_eq!(until, 60 * S);
        assert!(first * 5.0 < fb.max, "{first} vs {}", fb.max);
        // Poisson arrivals over the short run follow the bursts: the count
        // is the integral of the rate, within 4 sd.
        let mut rng = stream(9, Purpose::Arrivals, 0);
        let (mut t, mut n) = (0, 0u64);
        while let Some(next) = Arrivals::Poisson.next(&short, &b, 1.0, t, 120 * S, &mut rng) {
            t = next;
            n += 1;
        }
        let want: f64 = (0..120_000)
            .map(|ms| short.at(ms * 1_000_000) / 1000.0)
            .sum();
        assert!((n as f64 - want).abs() < 4.0 * want.sqrt(), "{n} vs {want}");
    }
}
