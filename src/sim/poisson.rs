//! Exact Poisson counts of a mean that changes every draw, without the
//! set-up an exact sampler usually needs per mean.
//!
//! The shard engine draws a count for every shard and step, each of its
//! own mean; `rand_distr::Poisson` builds a sampler per mean (logarithms
//! and a log-gamma) and samples by a rejection that needs more of them,
//! which was a third of the shard engine's time on a stream far below its
//! limits. Here a mean from 10 on is drawn by the transformed rejection
//! with squeeze (Hörmann, "The transformed rejection method for generating
//! Poisson random variables", Insurance: Mathematics and Economics 12,
//! 1993, the algorithm PTRS): two uniforms and a few multiplications in
//! about nine draws of ten, a logarithm and a log-factorial in the rest.
//! Below 10, multiplying uniforms (Knuth's method) is exact and short.

use rand::RngExt;

use super::rng::SimRng;

/// From this mean on, the transformed rejection; below it, products of
/// uniforms (its expected cost is `mean + 1` uniforms).
const PTRS_FROM: f64 = 10.0;

/// A Poisson count of mean `lambda` (0 for a mean of 0 or less, or not a
/// number).
pub fn poisson(lambda: f64, rng: &mut SimRng) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 {
        0
    } else if lambda < PTRS_FROM {
        products(lambda, rng)
    } else {
        ptrs(lambda, rng)
    }
}

/// Knuth's method: the count of uniforms whose product stays above
/// `exp(-lambda)`.
fn products(lambda: f64, rng: &mut SimRng) -> u64 {
    let limit = (-lambda).exp();
    let mut product: f64 = rng.random();
    let mut k = 0;
    while product > limit {
        k += 1;
        product *= rng.random::<f64>();
    }
    k
}

/// The transformed rejection with squeeze, for `lambda >= 10`: a count
/// proposed by a transformed uniform, accepted at once inside the squeeze
/// (the region where the hat is below the probability for certain), else
/// against the probability itself.
fn ptrs(lambda: f64, rng: &mut SimRng) -> u64 {
    let root = lambda.sqrt();
    let b = 0.931 + 2.53 * root;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let v_r = 0.9277 - 3.6224 / (b - 2.0);
    // Worked out only if a draw leaves the squeeze.
    let mut log_lambda = f64::NAN;
    loop {
        let u = rng.random::<f64>() - 0.5;
        let v: f64 = rng.random();
        let us = 0.5 - u.abs();
        let x = (2.0 * a / us + b) * u + lambda + 0.43;
        if x < 0.0 {
            continue;
        }
        // `as` truncates: the floor of a number at least 0, without a libm
        // call.
        let k = x as u64;
        if us >= 0.07 && v <= v_r {
            return k;
        }
        if us < 0.013 && v > us {
            continue;
        }
        if log_lambda.is_nan() {
            log_lambda = lambda.ln();
        }
        let lhs = (v * inv_alpha / (a / (us * us) + b)).ln();
        if lhs <= -lambda + k as f64 * log_lambda - ln_factorial(k) {
            return k;
        }
    }
}

/// `ln(k!)`: summed once into a table for the counts met most (the
/// PTRS draws reach the table's end only for means near it), Stirling's
/// series beyond (its error under 10^-10 there).
fn ln_factorial(k: u64) -> f64 {
    static TABLE: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
        let mut t = Vec::with_capacity(TABLE_LEN);
        let mut sum = 0.0f64;
        t.push(0.0);
        for i in 1..TABLE_LEN {
            sum += (i as f64).ln();
            t.push(sum);
        }
        t
    });
    if let Some(&v) = TABLE.get(k as usize) {
        return v;
    }
    // ln Γ(n) for n = k + 1, Stirling's series to its n^-5 term.
    let n = k as f64 + 1.0;
    let inv = 1.0 / n;
    let inv2 = inv * inv;
    (n - 0.5) * n.ln() - n
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
}

/// Entries of the `ln(k!)` table: past three times the largest mean drawn
/// this way (the shard engine's normal counts start at 100).
const TABLE_LEN: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    #[test]
    fn ln_factorial_agrees_with_the_product() {
        let mut exact = 0.0f64;
        for k in 1..=2_000u64 {
            exact += (k as f64).ln();
            let got = ln_factorial(k);
            assert!(
                (got - exact).abs() <= 1e-12 * exact.max(1.0),
                "{k}: {got} against {exact}"
            );
        }
        assert_eq!(ln_factorial(0), 0.0);
    }

    /// Pearson's statistic of `n` draws against the Poisson probabilities,
    /// over the counts with at least 20 expected (the tails pooled).
    fn chi_square(lambda: f64, n: u64, seed: u64) -> (f64, usize) {
        let mut rng = stream(seed, Purpose::Flows, 0);
        let hi = (lambda + 10.0 * lambda.sqrt() + 10.0) as usize;
        let mut seen = vec![0u64; hi + 1];
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let k = poisson(lambda, &mut rng);
            let x = k as f64;
            sum += x;
            sq += x * x;
            seen[(k as usize).min(hi)] += 1;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        // The mean within 5 standard errors, the variance within 5 % of λ.
        assert!(
            (mean - lambda).abs() < 5.0 * (lambda / n as f64).sqrt(),
            "λ {lambda}: mean {mean}"
        );
        assert!(
            (var / lambda - 1.0).abs() < 0.05,
            "λ {lambda}: variance {var}"
        );
        // Probabilities by the recurrence p(k) = p(k - 1) λ / k.
        let mut p = (-lambda).exp();
        let (mut stat, mut cells, mut pooled, mut pooled_p) = (0.0, 0, 0u64, 0.0);
        let mut below = 0.0;
        for (k, &o) in seen.iter().enumerate() {
            if k > 0 {
                p *= lambda / k as f64;
            }
            let last = k == hi;
            // The last cell holds the whole upper tail.
            let p_here = if last { 1.0 - below } else { p };
            below += p;
            pooled += o;
            pooled_p += p_here;
            let expected = pooled_p * n as f64;
            if expected >= 20.0 || last {
                stat += (pooled as f64 - expected).powi(2) / expected;
                cells += 1;
                pooled = 0;
                pooled_p = 0.0;
            }
        }
        (stat, cells)
    }

    /// Across the means the shard engine meets, from a handful to the
    /// normal draws' start: the counts follow the Poisson law (Pearson's
    /// statistic under its 99.99th percentile, about `df + 3.7 sqrt(2 df)`
    /// for the degrees of freedom here), and its mean and variance.
    #[test]
    fn counts_follow_the_poisson_law() {
        for (i, lambda) in [0.3, 4.0, 9.9, 10.0, 17.5, 42.0, 99.0, 350.0]
            .into_iter()
            .enumerate()
        {
            let (stat, cells) = chi_square(lambda, 200_000, i as u64);
            let df = (cells - 1) as f64;
            assert!(
                stat < df + 3.7 * (2.0 * df).sqrt() + 10.0,
                "λ {lambda}: χ² {stat} over {cells} cells"
            );
        }
    }

    #[test]
    fn no_mean_no_count() {
        let mut rng = stream(1, Purpose::Flows, 0);
        assert_eq!(poisson(0.0, &mut rng), 0);
        assert_eq!(poisson(-1.0, &mut rng), 0);
        assert_eq!(poisson(f64::NAN, &mut rng), 0);
    }
}
