//! Record data sizes.

use rand::RngExt;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Distribution, LogNormal};

use crate::sim::rng::SimRng;

/// The size of a record's data blob, in bytes (the partition key is added
/// separately by the model).
#[derive(Debug, Clone)]
pub enum SizeModel {
    /// Always the same size.
    Fixed(u64),
    /// Uniform over `min..=max`.
    Uniform {
        /// Smallest size.
        min: u64,
        /// Largest size.
        max: u64,
    },
    /// Lognormal with the given median and sigma (of the log), rounded to
    /// whole bytes.
    LogNormal {
        /// The median size in bytes.
        median: f64,
        /// The standard deviation of ln(size).
        sigma: f64,
        /// The distribution, `LogNormal(ln median, sigma)`.
        dist: LogNormal<f64>,
    },
    /// Sizes with weights, as measured from real traffic.
    Empirical {
        /// The sizes.
        sizes: Vec<u64>,
        /// Their weights.
        index: WeightedIndex<f64>,
    },
}

impl SizeModel {
    /// A lognormal model by median and sigma; `None` if they are invalid.
    pub fn lognormal(median: f64, sigma: f64) -> Option<SizeModel> {
        (median > 0.0 && sigma >= 0.0 && sigma.is_finite()).then_some(())?;
        let dist = LogNormal::new(median.ln(), sigma).ok()?;
        Some(SizeModel::LogNormal {
            median,
            sigma,
            dist,
        })
    }

    /// An empirical model; `None` unless the weights are positive and finite.
    pub fn empirical(sizes: Vec<u64>, weights: &[f64]) -> Option<SizeModel> {
        let index = WeightedIndex::new(weights).ok()?;
        Some(SizeModel::Empirical { sizes, index })
    }

    /// Draws one size.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        match self {
            SizeModel::Fixed(n) => *n,
            SizeModel::Uniform { min, max } => rng.random_range(*min..=*max),
            SizeModel::LogNormal { dist, .. } => {
                let x: f64 = dist.sample(rng);
                // Saturating float-to-int cast: huge draws become u64::MAX and are
                // then rejected as too large, which is what a real client sees.
                x.round() as u64
            }
            SizeModel::Empirical { sizes, index } => sizes[index.sample(rng)],
        }
    }

    /// The mean size (exact for every model).
    pub fn mean(&self) -> f64 {
        match self {
            SizeModel::Fixed(n) => *n as f64,
            SizeModel::Uniform { min, max } => (*min as f64 + *max as f64) / 2.0,
            SizeModel::LogNormal { median, sigma, .. } => median * (sigma * sigma / 2.0).exp(),
            SizeModel::Empirical { sizes, index } => {
                let w = index.weights();
                let total: f64 = index.total_weight();
                sizes.iter().zip(w).map(|(s, w)| *s as f64 * w).sum::<f64>() / total
            }
        }
    }

    /// The largest size the model can draw, if bounded.
    pub fn max(&self) -> Option<u64> {
        match self {
            SizeModel::Fixed(n) => Some(*n),
            SizeModel::Uniform { max, .. } => Some(*max),
            SizeModel::LogNormal { .. } => None,
            SizeModel::Empirical { sizes, .. } => sizes.iter().copied().max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    #[test]
    fn lognormal_mean_matches_the_closed_form() {
        // median 1000, sigma 0.5: mean = 1000 e^0.125 = 1133.1. The sample
        // mean of 200,000 draws has sd = 1000 sqrt(e^0.25 (e^0.25 - 1)) /
        // sqrt(200000) = 1.36; 5 sd is 6.8 bytes, plus 0.5 for rounding.
        let m = SizeModel::lognormal(1000.0, 0.5).unwrap();
        let mut rng = stream(1, Purpose::Sizes, 0);
        let n = 200_000;
        let mean = (0..n).map(|_| m.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        assert!((mean - m.mean()).abs() < 7.3, "{mean} vs {}", m.mean());
    }

    #[test]
    fn empirical_and_uniform_stay_in_their_support() {
        let m = SizeModel::empirical(vec![100, 5000], &[3.0, 1.0]).unwrap();
        assert_eq!(m.mean(), 1325.0);
        let u = SizeModel::Uniform { min: 10, max: 20 };
        let mut rng = stream(1, Purpose::Sizes, 1);
        for _ in 0..1000 {
            assert!([100, 5000].contains(&m.sample(&mut rng)));
            assert!((10..=20).contains(&u.sample(&mut rng)));
        }
        assert!(SizeModel::empirical(vec![1], &[0.0]).is_none());
        assert!(SizeModel::lognormal(0.0, 1.0).is_none());
    }
}
