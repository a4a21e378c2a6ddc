//! Partition keys: finite key tables with a sampler, or a fresh key per record.
//!
//! Hash keys of a table are computed once at setup (MD5 costs about 130 ns,
//! more than the rest of a record's simulation), so the hot path only draws
//! an index.

use rand::RngExt;
use rand::distr::weighted::WeightedIndex;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;

use crate::kds::HashKey;
use crate::sim::rng::SimRng;

/// How the keys of a table are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNames {
    /// `prefix1`, `prefix2`, ... `prefixN`.
    Pattern {
        /// The text before the number.
        prefix: String,
    },
    /// Named keys.
    Listed(Vec<String>),
    /// Explicit hash keys (decimal); the partition key is not modelled.
    Explicit(Vec<String>),
}

/// A finite set of keys with their hash keys, computed once.
#[derive(Debug, Clone)]
pub struct KeyTable {
    /// Named hot keys first (if any), then the background.
    hot: Vec<String>,
    background: KeyNames,
    hashes: Vec<u128>,
    /// Bytes each key adds to a record (UTF-8 length of the partition key).
    key_bytes: Vec<u16>,
}

impl KeyTable {
    /// A table of `hot` named keys followed by `count` background keys named
    /// by `background`; `explicit_key_bytes` is the partition key length
    /// charged for explicit hash keys.
    pub fn new(
        hot: Vec<String>,
        background: KeyNames,
        count: u64,
        explicit_key_bytes: u16,
    ) -> KeyTable {
        let mut hashes = Vec::with_capacity(hot.len() + count as usize);
        let mut key_bytes = Vec::with_capacity(hashes.capacity());
        for k in &hot {
            hashes.push(HashKey::from_partition_key(k).0);
            key_bytes.push(k.len() as u16);
        }
        match &background {
            KeyNames::Pattern { prefix } => {
                let mut name = String::with_capacity(prefix.len() + 20);
                for i in 1..=count {
                    name.clear();
                    name.push_str(prefix);
                    name.push_str(&i.to_string());
                    hashes.push(HashKey::from_partition_key(&name).0);
                    key_bytes.push(name.len() as u16);
                }
            }
            KeyNames::Listed(names) => {
                for k in names {
                    hashes.push(HashKey::from_partition_key(k).0);
                    key_bytes.push(k.len() as u16);
                }
            }
            KeyNames::Explicit(keys) => {
                for k in keys {
                    // Validated by the scenario layer.
                    hashes.push(k.parse::<u128>().unwrap_or(0));
                    key_bytes.push(explicit_key_bytes);
                }
            }
        }
        KeyTable {
            hot,
            background,
            hashes,
            key_bytes,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash key of key `i`.
    #[inline]
    pub fn hash(&self, i: u32) -> u128 {
        self.hashes[i as usize]
    }

    /// The partition key bytes of key `i`.
    #[inline]
    pub fn key_bytes(&self, i: u32) -> u16 {
        self.key_bytes[i as usize]
    }

    /// The printable name of key `i` (the explicit hash key for explicit keys).
    pub fn name(&self, i: u32) -> String {
        let i = i as usize;
        if let Some(k) = self.hot.get(i) {
            return k.clone();
        }
        let j = i - self.hot.len();
        match &self.background {
            KeyNames::Pattern { prefix } => format!("{prefix}{}", j + 1),
            KeyNames::Listed(names) => names[j].clone(),
            KeyNames::Explicit(keys) => keys[j].clone(),
        }
    }

    /// Whether the keys are explicit hash keys.
    pub fn is_explicit(&self) -> bool {
        matches!(self.background, KeyNames::Explicit(_))
    }
}

/// How a key index is drawn from a table.
#[derive(Debug, Clone)]
pub enum KeySampler {
    /// Uniform over `n` keys.
    Uniform(u32),
    /// Zipf over `n` keys with exponent `s`: key k has weight 1/k^s.
    ///
    /// Drawn from an alias table built once (Walker's method: O(1) per draw,
    /// no `powf` on the hot path).
    Zipf {
        /// The alias table over the `n` key indices.
        dist: WeightedAliasIndex<f64>,
        /// Number of keys.
        n: u32,
        /// The exponent.
        s: f64,
    },
    /// Given weights.
    Weighted(WeightedIndex<f64>),
    /// Hot keys `0..hot.len()` with absolute shares, the rest of the draws
    /// from `background` (offset past the hot keys).
    Hot {
        /// Cumulative shares of the hot keys.
        cumulative: Vec<f64>,
        /// Sampler of the background keys.
        background: Box<KeySampler>,
    },
}

impl KeySampler {
    /// Zipf over `n` keys with exponent `s` (`s >= 0`); `None` if invalid.
    pub fn zipf(n: u32, s: f64) -> Option<KeySampler> {
        if n == 0 || !(s.is_finite() && s >= 0.0) {
            return None;
        }
        let weights = (1..=n).map(|k| f64::from(k).powf(-s)).collect();
        let dist = WeightedAliasIndex::new(weights).ok()?;
        Some(KeySampler::Zipf { dist, n, s })
    }

    #[inline]
    fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            KeySampler::Uniform(n) => rng.random_range(0..*n),
            KeySampler::Zipf { dist, .. } => dist.sample(rng) as u32,
            KeySampler::Weighted(w) => w.sample(rng) as u32,
            KeySampler::Hot {
                cumulative,
                background,
            } => {
                let u: f64 = rng.random();
                match cumulative.iter().position(|&c| u < c) {
                    Some(i) => i as u32,
                    None => cumulative.len() as u32 + background.sample(rng),
                }
            }
        }
    }

    /// The mean of `values[i]` over the drawn index `i`, weighted by each
    /// index's exact probability (as in [`KeySampler::probabilities`]). One
    /// pass and no vector of probabilities: tables reach 10,000,000 keys.
    fn mean_of(&self, values: &[u16]) -> f64 {
        let v = |i: usize| values.get(i).map_or(0.0, |&b| f64::from(b));
        match self {
            KeySampler::Uniform(n) => (0..*n as usize).map(v).sum::<f64>() / f64::from(*n),
            KeySampler::Zipf { n, s, .. } => {
                // The weights the alias table was built from.
                let (mut sum, mut total) = (0.0, 0.0);
                for k in 1..=*n {
                    let w = f64::from(k).powf(-s);
                    sum += w * v(k as usize - 1);
                    total += w;
                }
                sum / total
            }
            KeySampler::Weighted(w) => {
                w.weights().enumerate().map(|(i, x)| x * v(i)).sum::<f64>() / w.total_weight()
            }
            KeySampler::Hot {
                cumulative,
                background,
            } => {
                let (mut sum, mut prev) = (0.0, 0.0);
                for (i, &c) in cumulative.iter().enumerate() {
                    sum += (c - prev) * v(i);
                    prev = c;
                }
                // Shares may add up to a hair over 1: then the background
                // is never drawn.
                let rest = (1.0 - prev).max(0.0);
                if rest > 0.0 {
                    let tail = values.get(cumulative.len()..).unwrap_or(&[]);
                    sum += rest * background.mean_of(tail);
                }
                sum
            }
        }
    }

    /// The exact probability of each key index (for tests and reports).
    pub fn probabilities(&self) -> Vec<f64> {
        match self {
            KeySampler::Uniform(k) => vec![1.0 / f64::from(*k); *k as usize],
            KeySampler::Zipf { n, s, .. } => zipf_probabilities(*n as usize, *s),
            KeySampler::Weighted(w) => {
                let total = w.total_weight();
                w.weights().map(|x| x / total).collect()
            }
            KeySampler::Hot {
                cumulative,
                background,
            } => {
                let mut p: Vec<f64> = cumulative
                    .iter()
                    .scan(0.0, |prev, &c| {
                        let share = c - *prev;
                        *prev = c;
                        Some(share)
                    })
                    .collect();
                let rest = 1.0 - cumulative.last().copied().unwrap_or(0.0);
                p.extend(background.probabilities().into_iter().map(|x| x * rest));
                p
            }
        }
    }
}

/// Exact Zipf probabilities over `n` keys with exponent `s`.
pub fn zipf_probabilities(n: usize, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

/// The largest table whose ordinary (not named hot) keys can be salted: the
/// what-if lists every key by name.
pub const MAX_SALTED_TABLE: usize = 1_000_000;

/// The key a record gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPick {
    /// Index into the table, or `u32::MAX` for a fresh random key.
    pub index: u32,
    /// The hash key.
    pub hash: u128,
    /// Partition key bytes charged to the record.
    pub key_bytes: u16,
}

/// Where a producer's keys come from.
#[derive(Debug, Clone)]
pub enum KeySpace {
    /// A finite table and a sampler over it.
    Table {
        /// The keys.
        table: KeyTable,
        /// How an index is drawn.
        sampler: KeySampler,
    },
    /// A fresh random key per record (e.g. a UUID): its MD5 is uniform over
    /// the hash key space, so the hash key is drawn directly.
    Random {
        /// Partition key bytes charged per record.
        key_bytes: u16,
    },
}

impl KeySpace {
    /// Draws the key of one record.
    #[inline]
    pub fn pick(&self, rng: &mut SimRng) -> KeyPick {
        match self {
            KeySpace::Table { table, sampler } => {
                let index = sampler.sample(rng);
                KeyPick {
                    index,
                    hash: table.hash(index),
                    key_bytes: table.key_bytes(index),
                }
            }
            KeySpace::Random { key_bytes } => KeyPick {
                index: u32::MAX,
                hash: rng.random(),
                key_bytes: *key_bytes,
            },
        }
    }

    /// The what-if of salting key `name` into `n` sub-keys `name#0` ..
    /// `name#{n-1}` sharing its share equally; `None` if the key space has
    /// no key `name`, holds explicit hash keys (salting is a partition key
    /// rewrite), or is a table over [`MAX_SALTED_TABLE`] keys whose `name` is
    /// not a named hot key.
    pub fn salted(&self, name: &str, n: u32) -> Option<KeySpace> {
        let KeySpace::Table { table, sampler } = self else {
            return None;
        };
        if table.is_explicit() {
            return None;
        }
        let KeySampler::Hot {
            cumulative,
            background,
        } = sampler
        else {
            return Self::salted_any(table, sampler, name, n);
        };
        let Some(at) = table.hot.iter().position(|k| k == name) else {
            return Self::salted_any(table, sampler, name, n);
        };
        let shares: Vec<f64> = cumulative
            .iter()
            .scan(0.0, |prev, &c| {
                let s = c - *prev;
                *prev = c;
                Some(s)
            })
            .collect();
        let mut hot = Vec::new();
        let mut hot_shares = Vec::new();
        for (i, (k, s)) in table.hot.iter().zip(&shares).enumerate() {
            if i == at {
                for j in 0..n.max(1) {
                    hot.push(format!("{k}#{j}"));
                    hot_shares.push(s / f64::from(n.max(1)));
                }
            } else {
                hot.push(k.clone());
                hot_shares.push(*s);
            }
        }
        let count = (table.len() - table.hot.len()) as u64;
        let explicit_bytes = table.key_bytes.last().copied().unwrap_or(0);
        let new_table = KeyTable::new(hot, table.background.clone(), count, explicit_bytes);
        let cumulative = hot_shares
            .iter()
            .scan(0.0, |acc, s| {
                *acc += s;
                Some(*acc)
            })
            .collect();
        Some(KeySpace::Table {
            table: new_table,
            sampler: KeySampler::Hot {
                cumulative,
                background: background.clone(),
            },
        })
    }

    /// Salting for any key of a table: the table is rebuilt with the
    /// sub-keys as hot keys and every other key listed by name with its exact
    /// probability, so the distribution is the original one with `name`'s
    /// share split evenly.
    fn salted_any(table: &KeyTable, sampler: &KeySampler, name: &str, n: u32) -> Option<KeySpace> {
        if table.len() > MAX_SALTED_TABLE {
            return None;
        }
        let len = table.len() as u32;
        let at = (0..len).find(|&i| table.name(i) == name)?;
        let n = n.max(1);
        let p = sampler.probabilities();
        let share = p[at as usize] / f64::from(n);
        let hot: Vec<String> = (0..n).map(|j| format!("{name}#{j}")).collect();
        let (others, weights): (Vec<String>, Vec<f64>) = (0..len)
            .filter(|&i| i != at)
            .map(|i| (table.name(i), p[i as usize]))
            .unzip();
        let mut cumulative: Vec<f64> = (1..=n).map(|j| share * f64::from(j)).collect();
        let background = match WeightedIndex::new(&weights) {
            Ok(w) => KeySampler::Weighted(w),
            Err(_) => {
                // Nothing else is ever drawn: the sub-keys take every draw.
                *cumulative.last_mut()? = 1.0;
                KeySampler::Uniform(others.len().max(1) as u32)
            }
        };
        let count = others.len() as u64;
        Some(KeySpace::Table {
            table: KeyTable::new(hot, KeyNames::Listed(others), count, 0),
            sampler: KeySampler::Hot {
                cumulative,
                background: Box::new(background),
            },
        })
    }

    /// The most partition key bytes a record can carry.
    pub fn max_key_bytes(&self) -> u64 {
        match self {
            KeySpace::Table { table, .. } => {
                table.key_bytes.iter().copied().max().map_or(0, u64::from)
            }
            KeySpace::Random { key_bytes } => u64::from(*key_bytes),
        }
    }

    /// The mean partition key bytes of a record: each key's length weighted
    /// by how often it is drawn. The group's mean record is its mean size
    /// plus this (the engine charges each record its own key). O(keys).
    pub fn mean_key_bytes(&self) -> f64 {
        match self {
            KeySpace::Table { table, sampler } => sampler.mean_of(&table.key_bytes),
            KeySpace::Random { key_bytes } => f64::from(*key_bytes),
        }
    }

    /// The table, if the key space is finite.
    pub fn table(&self) -> Option<&KeyTable> {
        match self {
            KeySpace::Table { table, .. } => Some(table),
            KeySpace::Random { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    fn frequencies(space: &KeySpace, n: usize, draws: u32) -> Vec<f64> {
        let mut rng = stream(3, Purpose::Keys, 0);
        let mut c = vec![0u64; n];
        for _ in 0..draws {
            c[space.pick(&mut rng).index as usize] += 1;
        }
        c.into_iter().map(|x| x as f64 / f64::from(draws)).collect()
    }

    #[test]
    fn zipf_shares_match_the_weights() {
        let n = 50;
        let table = KeyTable::new(
            vec![],
            KeyNames::Pattern {
                prefix: "key-".into(),
            },
            n,
            0,
        );
        let space = KeySpace::Table {
            table,
            sampler: KeySampler::zipf(n as u32, 1.1).unwrap(),
        };
        let exact = zipf_probabilities(n as usize, 1.1);
        let draws = 400_000;
        let seen = frequencies(&space, n as usize, draws);
        for (k, (p, f)) in exact.iter().zip(&seen).enumerate() {
            // 5 binomial standard deviations.
            let sd = (p * (1.0 - p) / f64::from(draws)).sqrt();
            assert!((p - f).abs() < 5.0 * sd, "key {k}: {f} vs {p}");
        }
    }

    #[test]
    fn salting_a_zipf_key_splits_only_its_share() {
        let n = 20;
        let table = KeyTable::new(vec![], KeyNames::Pattern { prefix: "u".into() }, n, 0);
        let space = KeySpace::Table {
            table,
            sampler: KeySampler::zipf(n as u32, 1.2).unwrap(),
        };
        let before = zipf_probabilities(n as usize, 1.2);
        let salted = space.salted("u1", 4).unwrap();
        let t = salted.table().unwrap();
        assert_eq!(t.len(), 23);
        assert_eq!(t.name(0), "u1#0");
        assert_eq!(t.name(3), "u1#3");
        assert_eq!(t.name(4), "u2");
        assert_eq!(t.hash(3), HashKey::from_partition_key("u1#3").0);
        let KeySpace::Table { sampler, .. } = &salted else {
            unreachable!()
        };
        let after = sampler.probabilities();
        for sub in &after[..4] {
            assert!((sub - before[0] / 4.0).abs() < 1e-12);
        }
        for k in 1..20 {
            assert!((after[k + 3] - before[k]).abs() < 1e-12, "key {k}");
        }
        // Drawn shares follow.
        let draws = 200_000;
        let seen = frequencies(&salted, 23, draws);
        for (p, f) in after.iter().zip(&seen) {
            let sd = (p * (1.0 - p) / f64::from(draws)).sqrt();
            assert!((p - f).abs() < 5.0 * sd + 1e-9, "{f} vs {p}");
        }
        assert!(space.salted("nobody", 2).is_none());
        // A single key: the sub-keys take everything.
        let one = KeySpace::Table {
            table: KeyTable::new(vec![], KeyNames::Listed(vec!["k".into()]), 1, 0),
            sampler: KeySampler::Uniform(1),
        };
        let s = one.salted("k", 3).unwrap();
        let seen = frequencies(&s, 4, 30_000);
        assert_eq!(seen[3], 0.0);
        assert!(seen[..3].iter().all(|&f| (f - 1.0 / 3.0).abs() < 0.02));
    }

    #[test]
    fn hot_keys_take_their_share() {
        let table = KeyTable::new(
            vec!["celebrity".into()],
            KeyNames::Pattern {
                prefix: "user-".into(),
            },
            9,
            0,
        );
        assert_eq!(table.name(0), "celebrity");
        assert_eq!(table.name(1), "user-1");
        assert_eq!(table.hash(1), HashKey::from_partition_key("user-1").0);
        let sampler = KeySampler::Hot {
            cumulative: vec![0.4],
            background: Box::new(KeySampler::Uniform(9)),
        };
        let exact = sampler.probabilities();
        assert!((exact.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let space = KeySpace::Table { table, sampler };
        let draws = 200_000;
        let seen = frequencies(&space, 10, draws);
        for (p, f) in exact.iter().zip(&seen) {
            let sd = (p * (1.0 - p) / f64::from(draws)).sqrt();
            assert!((p - f).abs() < 5.0 * sd, "{f} vs {p}");
        }
    }

    #[test]
    fn mean_key_bytes_weights_each_key_by_its_share() {
        let long = "k".repeat(200);
        let listed = KeySpace::Table {
            table: KeyTable::new(vec![], KeyNames::Listed(vec!["a".into(), long]), 2, 0),
            sampler: KeySampler::Weighted(WeightedIndex::new([99.0, 1.0]).unwrap()),
        };
        assert!((listed.mean_key_bytes() - 2.99).abs() < 1e-9);
        assert_eq!(listed.max_key_bytes(), 200);
        // Uniform: key-1 .. key-1000 are 9 keys of 5 bytes, 90 of 6, 900 of
        // 7 and one of 8.
        let uniform = KeySpace::Table {
            table: KeyTable::new(
                vec![],
                KeyNames::Pattern {
                    prefix: "key-".into(),
                },
                1000,
                0,
            ),
            sampler: KeySampler::Uniform(1000),
        };
        let plain = (9.0 * 5.0 + 90.0 * 6.0 + 900.0 * 7.0 + 8.0) / 1000.0;
        assert!((uniform.mean_key_bytes() - plain).abs() < 1e-12);
        // A hot key of 9 bytes takes 40 %, user-1 .. user-9 (6 bytes) the rest.
        let hot = KeySpace::Table {
            table: KeyTable::new(
                vec!["celebrity".into()],
                KeyNames::Pattern {
                    prefix: "user-".into(),
                },
                9,
                0,
            ),
            sampler: KeySampler::Hot {
                cumulative: vec![0.4],
                background: Box::new(KeySampler::Uniform(9)),
            },
        };
        assert!((hot.mean_key_bytes() - (0.4 * 9.0 + 0.6 * 6.0)).abs() < 1e-12);
        assert_eq!(KeySpace::Random { key_bytes: 36 }.mean_key_bytes(), 36.0);
    }

    #[test]
    fn zipf_mean_key_bytes_matches_the_draws() {
        // Key k is k bytes long, so the mean is the Zipf mean of k: 9.74 for
        // 50 keys and exponent 1.1 (1.05 gives 10.42; weights (k+1)^-s,
        // 12.01; uniform, 25.5).
        let n = 50u32;
        let names = (1..=n).map(|k| "x".repeat(k as usize)).collect();
        let space = KeySpace::Table {
            table: KeyTable::new(vec![], KeyNames::Listed(names), u64::from(n), 0),
            sampler: KeySampler::zipf(n, 1.1).unwrap(),
        };
        let exact = space.mean_key_bytes();
        assert!((exact - 9.7431).abs() < 1e-3, "{exact}");
        let mut rng = stream(5, Purpose::Keys, 0);
        let draws = 400_000;
        let seen = (0..draws)
            .map(|_| f64::from(space.pick(&mut rng).key_bytes))
            .sum::<f64>()
            / f64::from(draws);
        // A key's length has sd 11.9: 5 standard errors are 0.094 bytes.
        assert!((seen - exact).abs() < 0.094, "{seen} vs {exact}");
    }
}
