//! Record data sizes.

use rand::RngExt;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Distribution, LogNormal};
use statrs::distribution::{ContinuousCDF, Normal};

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
    /// whole bytes. Draws are not bounded: a record over the stream's
    /// maximum size is rejected as too large by the model, after drawing.
    LogNormal {
        /// The median size in bytes.
        median: f64,
        /// The standard deviation of ln(size).
        sigma: f64,
        /// The largest size that is sent, in bytes, for the mean: the
        /// stream's maximum record size less the group's mean key (the model
        /// checks each record against its own key).
        limit: f64,
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
    /// A lognormal model by median and sigma, whose draws over `limit` bytes
    /// are rejected as too large; `None` if they are invalid or the median
    /// is over the limit.
    pub fn lognormal(median: f64, sigma: f64, limit: f64) -> Option<SizeModel> {
        (median > 0.0 && median <= limit && sigma >= 0.0 && sigma.is_finite()).then_some(())?;
        let dist = LogNormal::new(median.ln(), sigma).ok()?;
        Some(SizeModel::LogNormal {
            median,
            sigma,
            limit,
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

    /// The mean size of the records sent (exact for every model): for a
    /// lognormal, the mean of the draws at or under its limit, since the
    /// larger ones are rejected and never reach a shard.
    pub fn mean(&self) -> f64 {
        match self {
            SizeModel::Fixed(n) => *n as f64,
            SizeModel::Uniform { min, max } => (*min as f64 + *max as f64) / 2.0,
            SizeModel::LogNormal {
                median,
                sigma,
                limit,
                ..
            } => truncated_lognormal_mean(*median, *sigma, *limit),
            SizeModel::Empirical { sizes, index } => {
                let w = index.weights();
                let total: f64 = index.total_weight();
                sizes.iter().zip(w).map(|(s, w)| *s as f64 * w).sum::<f64>() / total
            }
        }
    }

    /// The share of draws that are sent: for a lognormal, those at or
    /// under its limit (the others are refused as too large); 1 for the
    /// other models, whose sizes are checked to fit.
    pub fn sent_fraction(&self) -> f64 {
        match self {
            SizeModel::LogNormal {
                median,
                sigma,
                limit,
                ..
            } => {
                let a = (limit + 0.5).ln() - median.ln();
                if *sigma == 0.0 {
                    f64::from(u8::from(a >= 0.0))
                } else {
                    Normal::standard().cdf(a / sigma)
                }
            }
            _ => 1.0,
        }
    }

    /// The largest size the model can draw, if bounded (a lognormal is not:
    /// its draws over the limit are drawn, then rejected).
    pub fn max(&self) -> Option<u64> {
        match self {
            SizeModel::Fixed(n) => Some(*n),
            SizeModel::Uniform { max, .. } => Some(*max),
            SizeModel::LogNormal { .. } => None,
            SizeModel::Empirical { sizes, .. } => sizes.iter().copied().max(),
        }
    }
}

/// E[X | round(X) <= limit] for X lognormal with this median and sigma:
/// `exp(mu + s^2/2) Phi((ln m - mu - s^2)/s) / Phi((ln m - mu)/s)` with
/// `mu = ln median` and `m = limit + 0.5` (a draw is rounded before the
/// size check).
fn truncated_lognormal_mean(median: f64, sigma: f64, limit: f64) -> f64 {
    if sigma == 0.0 {
        return median;
    }
    let phi = Normal::standard();
    let mu = median.ln();
    let a = (limit + 0.5).ln() - mu;
    let kept = phi.cdf(a / sigma);
    // At least one half: the median is at or under the limit.
    median * (sigma * sigma / 2.0).exp() * phi.cdf(a / sigma - sigma) / kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    #[test]
    fn the_sent_fraction_is_the_share_under_the_limit() {
        // Median 900 KiB, sigma 0.5, limit 1 MiB less a 36-byte key: about
        // 62 % of draws fit. 200,000 draws: sd 0.0011; within 5 sd.
        let m = SizeModel::lognormal(921_600.0, 0.5, 1_048_540.0).unwrap();
        let mut rng = stream(2, Purpose::Sizes, 0);
        let n = 200_000;
        let fit = (0..n).filter(|_| m.sample(&mut rng) <= 1_048_540).count() as f64 / n as f64;
        let p = m.sent_fraction();
        assert!((fit - p).abs() < 0.0055, "{fit} vs {p}");
        assert!((0.55..0.7).contains(&p), "{p}");
        assert_eq!(SizeModel::Fixed(100).sent_fraction(), 1.0);
    }

    #[test]
    fn lognormal_mean_matches_the_closed_form() {
        // median 1000, sigma 0.5: mean = 1000 e^0.125 = 1133.1. The sample
        // mean of 200,000 draws has sd = 1000 sqrt(e^0.25 (e^0.25 - 1)) /
        // sqrt(200000) = 1.36; 5 sd is 6.8 bytes, plus 0.5 for rounding.
        let m = SizeModel::lognormal(1000.0, 0.5, 1_048_540.0).unwrap();
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
        assert!(SizeModel::lognormal(0.0, 1.0, 1e6).is_none());
        assert!(SizeModel::lognormal(2e6, 1.0, 1e6).is_none());
    }

    /// The mean of the sizes that would be sent, as the model decides: a
    /// draw plus a key of `key` bytes over `max_record` is rejected.
    fn sent_mean(m: &SizeModel, max_record: u64, key: u64, n: u32) -> f64 {
        let mut rng = stream(7, Purpose::Sizes, 0);
        let (mut sum, mut sent) = (0.0, 0u32);
        for _ in 0..n {
            let s = m.sample(&mut rng);
            if s.saturating_add(key) <= max_record {
                sum += s as f64;
                sent += 1;
            }
        }
        sum / f64::from(sent)
    }

    #[test]
    fn a_wide_lognormal_means_the_sizes_under_the_record_limit() {
        // A 1 MiB stream and a 36-byte key. About 1 % of the draws are over
        // the limit, but they carry 75 % of the untruncated mean (which is
        // 92,160 bytes, 4 times the 22,845 of the records sent).
        let (max_record, key) = (1_048_576, 36);
        let m = SizeModel::lognormal(1024.0, 3.0, (max_record - key) as f64).unwrap();
        let untruncated = 1024.0 * 4.5f64.exp();
        assert!(m.mean() < untruncated / 4.0, "{}", m.mean());
        // The sizes sent have sd 85,400: over 3,000,000 draws the sample
        // mean's sd is 0.22 % of the mean, so 1 % is 4.6 of them.
        let seen = sent_mean(&m, max_record, key, 3_000_000);
        assert!(
            (seen - m.mean()).abs() < 0.01 * m.mean(),
            "{seen} vs {}",
            m.mean()
        );
    }

    #[test]
    fn a_narrow_lognormal_keeps_its_closed_form_mean() {
        // sigma 0.4: the limit is 17 sd above the median, nothing is cut.
        let m = SizeModel::lognormal(1024.0, 0.4, 1_048_540.0).unwrap();
        let closed = 1024.0 * 0.08f64.exp();
        assert!((m.mean() - closed).abs() < 0.001 * closed, "{}", m.mean());
        // And the draws agree: sd 464 bytes, over 200,000 draws 1.04; 5 sd
        // plus 0.5 for rounding.
        let seen = sent_mean(&m, 1_048_576, 36, 200_000);
        assert!((seen - m.mean()).abs() < 5.7, "{seen} vs {}", m.mean());
        // sigma 0: the median, always.
        let fixed = SizeModel::lognormal(700.0, 0.0, 1e6).unwrap();
        assert_eq!(fixed.mean(), 700.0);
    }
}
