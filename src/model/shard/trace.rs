//! An aggregate trace replayed by a group of the shard engine: per step,
//! the records of the rows whose intervals overlap it, per shard.
//!
//! A row's records fall in a step as the record engine's would:
//! `within = "even"` gives the exact count of its evenly spaced times in
//! the step; `"uniform"` splits the row's exact count over its steps as
//! uniform times do (a binomial of what is left, by the step's share of
//! what is left of the interval: together a multinomial); `"poisson"` a
//! Poisson count of the row's mean times the step's share. Then, as in
//! the replay, a record's key: a row's key is hashed once when it is read
//! and routed through the current shard map; a salted key's records are
//! split over its sub-keys uniformly (a multinomial), a per-shard row's
//! over the open shards covering its range by the widths they cover (as
//! uniform hash keys fall). Last `rate_multiplier`, per destination:
//! thinning is a binomial, superposition `floor(m)` copies and a binomial
//! for the fraction. Extra copies stay in their original's step (the
//! record engine spreads them over `copy_spread` after it).
//!
//! Sizes: a row with bytes gives its records their data bytes exactly
//! (the row's mean, its remainder to its first records); without, the
//! flow draws them from the group's size model. Key bytes are the key's.
//!
//! Memory: the rows whose intervals overlap the step, never the file.

use rand_distr::{Binomial, Distribution};

use crate::kds::{HashKey, ShardMap, prices};
use crate::model::KeyCounts;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::workload::{RowDest, TraceError, TraceReader, TraceRow, Within};

/// What a trace group offers one shard in a step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct TraceShard {
    /// User records (as the flow's count).
    pub(super) records: u64,
    /// Of those, records whose data bytes the trace gives, not too large,
    /// and their bytes (data and key).
    pub(super) sized: u64,
    pub(super) sized_bytes: u64,
    /// Records the trace gives too large for the stream.
    pub(super) too_large: u64,
    /// Records whose data bytes are drawn from the size model, and their
    /// key bytes.
    pub(super) drawn: u64,
    pub(super) drawn_key_bytes: u64,
    /// Records of no counted key (a per-shard row's, or past the keys
    /// counted): the shard's random keys.
    pub(super) random: u64,
}

/// A row being replayed.
#[derive(Debug)]
struct Active {
    row: TraceRow,
    /// Records of the row made in earlier steps.
    made: u64,
    /// The map version its route is for, and the route: per shard index
    /// and weight (one shard for a key; a per-shard row's covering shards
    /// and their widths).
    routed: u64,
    route: Vec<(u32, f64)>,
}

/// The trace of one group of the shard engine.
#[derive(Debug)]
pub(super) struct TraceFlow {
    reader: Box<TraceReader>,
    within: Within,
    multiplier: f64,
    rows: Vec<Active>,
    /// The current shard map's version (bumped at each routing) and, by
    /// `salt` entry, the shard of each sub-key in it.
    version: u64,
    salt_routes: Vec<(u64, Vec<u32>)>,
    /// This step's offer, by shard index.
    pub(super) shards: Vec<TraceShard>,
}

/// What a trace group's step needs of the group.
pub(super) struct StepIn<'a> {
    pub(super) map: &'a ShardMap,
    pub(super) max_record: u64,
    pub(super) payload_unit: u64,
    /// The size model's share of too-large draws, and its expected payload
    /// units and billed bytes per record (for rows without bytes).
    pub(super) too_large: f64,
    pub(super) units: f64,
    pub(super) billed: f64,
    /// The size model's mean data bytes.
    pub(super) mean_data: f64,
    /// New records are dropped (buffers full): no key counts them.
    pub(super) drop_new: bool,
}

/// A trace group's step, summed over its shards.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StepOut {
    pub(super) records: u64,
    /// Expected PUT payload units and billed bytes of those records.
    pub(super) units: f64,
    pub(super) billed: f64,
    /// Their bytes (sized exactly, drawn at the mean).
    pub(super) bytes: f64,
}

impl TraceFlow {
    pub(super) fn new(reader: TraceReader) -> TraceFlow {
        TraceFlow {
            within: reader.within(),
            multiplier: reader.spec().rate_multiplier,
            reader: Box::new(reader),
            rows: Vec::new(),
            version: 0,
            salt_routes: Vec::new(),
            shards: Vec::new(),
        }
    }

    /// The shard map changed: routes are made again when next used.
    pub(super) fn reroute(&mut self) {
        self.version += 1;
    }

    /// Lines skipped as malformed, and the keys learnt.
    pub(super) fn finish(self) -> (u64, Vec<(String, u128)>) {
        (self.reader.skipped, self.reader.keys)
    }

    /// The records of `[t0, t1)`, per shard into [`TraceFlow::shards`],
    /// per counted key into `keys`; `rng` is the group's stream.
    pub(super) fn step(
        &mut self,
        (t0, t1): (SimTime, SimTime),
        input: &StepIn<'_>,
        keys: &mut KeyCounts,
        rng: &mut SimRng,
    ) -> Result<StepOut, TraceError> {
        while let Some(row) = self.reader.next_row(t1)? {
            self.rows.push(Active {
                row,
                made: 0,
                routed: u64::MAX,
                route: Vec::new(),
            });
        }
        let n = input.map.shards().len();
        self.shards.clear();
        self.shards.resize(n, TraceShard::default());
        let mut out = StepOut::default();
        let mut rows = std::mem::take(&mut self.rows);
        for a in &mut rows {
            let c = count_in(a, self.within, (t0, t1), rng);
            let first = a.made;
            a.made += c;
            if c == 0 {
                continue;
            }
            // Data bytes of the step's records: the row's first
            // `remainder` records in time order take one byte more.
            let data = a.row.each.map(|(q, r)| {
                let big = r.min(first + c).saturating_sub(first.min(r));
                (c * q + big, q, big)
            });
            match &a.row.dest {
                RowDest::Key {
                    hash,
                    key_bytes,
                    index,
                } => {
                    if a.routed != self.version {
                        let s = input.map.shard_for_hash_key(HashKey(*hash)).index();
                        a.route = vec![(s, 1.0)];
                        a.routed = self.version;
                    }
                    let s = a.route[0].0;
                    let d = self.multiply(c, rng);
                    self.land(s, d, c, data, *key_bytes, *index, input, keys, &mut out);
                }
                RowDest::Salted { salt, subs } => {
                    let (salt, subs) = (*salt, subs.clone());
                    let routes = self.salt_route(salt as usize, &subs, input.map);
                    let (mut left, k) = (c, subs.len() as u64);
                    for (j, &(hash, key_bytes)) in subs.iter().enumerate() {
                        if left == 0 {
                            break;
                        }
                        let cj = binomial(left, 1.0 / (k - j as u64) as f64, rng);
                        left -= cj;
                        if cj == 0 {
                            continue;
                        }
                        let d = self.multiply(cj, rng);
                        if d == 0 {
                            continue;
                        }
                        let index = self.reader.salted_index(salt, j as u32, hash);
                        let part = data.map(|(_, q, big)| part_bytes(q, big, cj, c));
                        let s = routes[j];
                        self.land(s, d, cj, part, key_bytes, index, input, keys, &mut out);
                    }
                }
                RowDest::Range { lo, hi, key_bytes } => {
                    if a.routed != self.version {
                        a.route = covering(input.map, *lo, *hi);
                        a.routed = self.version;
                    }
                    let mut left = c;
                    let mut mass: f64 = a.route.iter().map(|r| r.1).sum();
                    for (i, &(s, w)) in a.route.iter().enumerate() {
                        if left == 0 {
                            break;
                        }
                        let cj = if i + 1 == a.route.len() {
                            left
                        } else {
                            binomial(left, w / mass, rng)
                        };
                        left -= cj;
                        mass -= w;
                        let d = self.multiply(cj, rng);
                        let part = data.map(|(_, q, big)| part_bytes(q, big, cj, c));
                        self.land(s, d, cj, part, *key_bytes, u32::MAX, input, keys, &mut out);
                    }
                }
            }
        }
        // A row stays while its interval goes on past the step (and, but
        // for Poisson counts, records are left to make).
        let poisson = self.within == Within::Poisson;
        rows.retain(|a| {
            a.row.start.saturating_add(a.row.span) > t1 && (poisson || a.made < a.row.count)
        });
        self.rows = rows;
        Ok(out)
    }

    /// The shard of each sub-key of `salt` entry `salt` in the current map.
    fn salt_route(&mut self, salt: usize, subs: &[(u128, u16)], map: &ShardMap) -> Vec<u32> {
        if self.salt_routes.len() <= salt {
            self.salt_routes.resize(salt + 1, (u64::MAX, Vec::new()));
        }
        let (v, route) = &mut self.salt_routes[salt];
        if *v != self.version {
            *route = subs
                .iter()
                .map(|&(h, _)| map.shard_for_hash_key(HashKey(h)).index())
                .collect();
            *v = self.version;
        }
        route.clone()
    }

    /// `c` records after `rate_multiplier`: thinned, or copied.
    fn multiply(&self, c: u64, rng: &mut SimRng) -> u64 {
        let m = self.multiplier;
        if m == 1.0 || c == 0 {
            return c;
        }
        m.floor() as u64 * c + binomial(c, m.fract(), rng)
    }

    /// Lands `d` records (from `c` originals, whose data bytes are `data`:
    /// total, quotient, those one byte over) of key `index` with
    /// `key_bytes` on shard `s`.
    #[allow(clippy::too_many_arguments)]
    fn land(
        &mut self,
        s: u32,
        d: u64,
        c: u64,
        data: Option<(u64, u64, u64)>,
        key_bytes: u16,
        index: u32,
        input: &StepIn<'_>,
        keys: &mut KeyCounts,
        out: &mut StepOut,
    ) {
        if d == 0 || c == 0 {
            return;
        }
        let kb = u64::from(key_bytes);
        let sh = &mut self.shards[s as usize];
        sh.records += d;
        out.records += d;
        if index == u32::MAX {
            sh.random += d;
        }
        // Kept (not too large) records and their bytes.
        let (kept, bytes) = match data {
            Some((b, q, big)) => {
                // Copies keep their original's bytes: the originals' mix.
                let too_large = if q + kb > input.max_record {
                    d
                } else if big > 0 && q + 1 + kb > input.max_record {
                    part_of(d, big, c)
                } else {
                    0
                };
                let kept = d - too_large;
                let bytes = part_of(kept, b, c) + kept * kb;
                sh.too_large += too_large;
                sh.sized += kept;
                sh.sized_bytes += bytes;
                let each = bytes / kept.max(1);
                out.units += kept as f64 * prices::payload_units(each, input.payload_unit) as f64;
                out.billed += kept as f64 * prices::billed_in_bytes(each) as f64;
                out.bytes += bytes as f64;
                (kept, bytes as f64)
            }
            None => {
                sh.drawn += d;
                sh.drawn_key_bytes += d * kb;
                out.units += d as f64 * input.units;
                out.billed += d as f64 * input.billed;
                let kept = d - ((d as f64 * input.too_large) + 0.5) as u64;
                let bytes = kept as f64 * (input.mean_data + kb as f64);
                out.bytes += bytes;
                (kept, bytes)
            }
        };
        if index != u32::MAX && !input.drop_new && kept > 0 {
            let i = index as usize;
            if i >= keys.records.len() {
                // A trace's keys are learnt as they come.
                keys.records.resize(i + 1, 0);
                keys.bytes.resize(i + 1, 0);
            }
            keys.records[i] += kept;
            keys.bytes[i] += (bytes + 0.5) as u64;
        }
    }
}

/// The records of row `a` (with `made` made before) in `[t0, t1)`.
fn count_in(a: &Active, within: Within, (t0, t1): (SimTime, SimTime), rng: &mut SimRng) -> u64 {
    let (start, span, n) = (a.row.start, a.row.span, a.row.count);
    let end = start.saturating_add(span);
    let (from, to) = (t0.max(start), t1.min(end));
    if to <= from {
        return 0;
    }
    match within {
        // The k-th of n at start + floor((2k + 1) span / 2n): those before
        // `to`, less those made.
        Within::Even => even_before(n, span, to - start).saturating_sub(a.made),
        // What is left, uniform over what is left of the interval.
        Within::Uniform => {
            let left = n.saturating_sub(a.made);
            if to >= end {
                left
            } else {
                binomial(left, (to - from) as f64 / (end - from) as f64, rng)
            }
        }
        Within::Poisson => {
            let mean = n as f64 * (to - from) as f64 / span as f64;
            crate::sim::poisson::poisson(mean, rng)
        }
    }
}

/// How many of `n` evenly spaced records over `span` (the k-th at
/// `floor((2k + 1) span / 2n)`) come before `t`: those with
/// `(2k + 1) span < 2 n t`.
fn even_before(n: u64, span: SimTime, t: SimTime) -> u64 {
    let (n128, span, t) = (u128::from(n), u128::from(span), u128::from(t));
    let lhs = 2 * n128 * t;
    if lhs <= span {
        return 0;
    }
    // k < (2 n t - span) / (2 span): the ceiling of that many.
    ((lhs - span).div_ceil(2 * span)).min(n128) as u64
}

/// The open shards of `map` covering `[lo, hi]`, and the widths they cover.
fn covering(map: &ShardMap, lo: u128, hi: u128) -> Vec<(u32, f64)> {
    map.open_shards()
        .filter(|s| s.range().start <= hi && lo <= s.range().end)
        .map(|s| {
            let r = s.range();
            let w = (r.end.min(hi) - r.start.max(lo)) as f64 + 1.0;
            (s.id().index(), w)
        })
        .collect()
}

/// The data bytes of `cj` of `c` records of `q` bytes, `big` of them one
/// byte more: `(total, q, those one byte over)`.
fn part_bytes(q: u64, big: u64, cj: u64, c: u64) -> (u64, u64, u64) {
    let b = part_of(big, cj, c);
    (cj * q + b, q, b)
}

/// `x * num / den`, rounded down, without overflow.
fn part_of(x: u64, num: u64, den: u64) -> u64 {
    (u128::from(x) * u128::from(num) / u128::from(den.max(1))) as u64
}

fn binomial(n: u64, p: f64, rng: &mut SimRng) -> u64 {
    if n == 0 || p <= 0.0 {
        0
    } else if p >= 1.0 {
        n
    } else {
        Binomial::new(n, p).map_or(0, |b| b.sample(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_records_fall_where_the_replay_puts_them() {
        // The replay's times: start + floor((2k + 1) span / 2n).
        for (n, span) in [(7u64, 1_000u64), (1, 10), (1_000, 999), (3, 1)] {
            for t in [0, 1, 5, span / 3, span / 2, span - 1, span] {
                let replay = (0..n).filter(|k| (2 * k + 1) * span / (2 * n) < t).count() as u64;
                assert_eq!(even_before(n, span, t), replay, "n {n} span {span} t {t}");
            }
        }
    }
}
