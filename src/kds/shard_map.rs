//! The stream's shards: ids, hash key ranges, lineage, and the three ways the
//! service reshapes them (SplitShard, MergeShards, UpdateShardCount).
//!
//! Operations here are instantaneous: they take the time at which the service
//! applies them. How long a reshard takes, and what the stream does
//! meanwhile, belongs to the simulator on top.

use std::fmt;
use std::str::FromStr;

use super::error::KdsError;
use super::hash_key::HashKey;
use super::quotas::Quota;
use super::sequence::{SEQ_IX_MAX, SequenceNumber};

/// A time on the service's clock: nanoseconds since the Unix epoch.
///
/// Integer, so that simulated time never rounds; sequence numbers use
/// [`EpochNanos::secs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EpochNanos(pub u64);

impl EpochNanos {
    const PER_SEC: u64 = 1_000_000_000;

    /// The time `secs` seconds after the epoch (saturating).
    pub const fn from_secs(secs: u64) -> EpochNanos {
        EpochNanos(secs.saturating_mul(Self::PER_SEC))
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0 / Self::PER_SEC
    }

    /// This time plus `secs` seconds (saturating).
    pub const fn plus_secs(self, secs: u64) -> EpochNanos {
        EpochNanos(self.0.saturating_add(secs.saturating_mul(Self::PER_SEC)))
    }
}

/// A shard id: `shardId-` and a 12-digit zero-padded index.
///
/// Indices are dense: CreateStream(N) makes 0..N-1 and every reshard takes the
/// next unused ones (KDS-REFERENCE.md §1.10), so the index also addresses the
/// shard in [`ShardMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(pub u32);

impl ShardId {
    /// The numeric index.
    pub const fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shardId-{:012}", self.0)
    }
}

impl FromStr for ShardId {
    type Err = KdsError;

    /// Parses `shardId-000000000007` (any number of digits, as the service's
    /// `ShardId` shape allows).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("shardId-")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u32>().ok())
            .map(ShardId)
            .ok_or_else(|| KdsError::InvalidShardId {
                value: s.to_owned(),
            })
    }
}

/// An inclusive range of hash keys, `start..=end` (KDS-REFERENCE.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashRange {
    /// `StartingHashKey`, inclusive.
    pub start: u128,
    /// `EndingHashKey`, inclusive.
    pub end: u128,
}

impl HashRange {
    /// The whole hash key space.
    pub const FULL: HashRange = HashRange {
        start: 0,
        end: u128::MAX,
    };

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: HashKey) -> bool {
        self.start <= key.0 && key.0 <= self.end
    }

    /// `end - start`: the width minus one. The width itself of the full
    /// space (2^128) does not fit a `u128`; see [`super::format_width`].
    pub fn span(&self) -> u128 {
        self.end - self.start
    }

    /// The range's share of the hash key space, in `(0, 1]`.
    pub fn fraction(&self) -> f64 {
        (self.span() as f64 + 1.0) / 2f64.powi(128)
    }
}

/// One shard: its range, lineage, lifetime and sequence counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    id: ShardId,
    range: HashRange,
    parent: Option<ShardId>,
    adjacent_parent: Option<ShardId>,
    created_at: EpochNanos,
    closed_at: Option<EpochNanos>,
    next_seq_ix: u64,
}

impl Shard {
    /// The shard's id.
    pub fn id(&self) -> ShardId {
        self.id
    }

    /// Its hash key range.
    pub fn range(&self) -> HashRange {
        self.range
    }

    /// `ParentShardId`: the split shard, or `ShardToMerge` of a merge.
    pub fn parent(&self) -> Option<ShardId> {
        self.parent
    }

    /// `AdjacentParentShardId`: `AdjacentShardToMerge` of a merge.
    pub fn adjacent_parent(&self) -> Option<ShardId> {
        self.adjacent_parent
    }

    /// When the shard was created.
    pub fn created_at(&self) -> EpochNanos {
        self.created_at
    }

    /// When the shard was closed, if it is.
    pub fn closed_at(&self) -> Option<EpochNanos> {
        self.closed_at
    }

    /// Whether the shard accepts writes.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Records given sequence numbers so far.
    pub fn records_sequenced(&self) -> u64 {
        self.next_seq_ix
    }

    /// `StartingSequenceNumber`: counter 0 at the creation time
    /// (KDS-REFERENCE.md §3.5).
    pub fn starting_sequence_number(&self) -> SequenceNumber {
        let secs = self.created_at.secs();
        // EpochNanos seconds (< 2^35) always fit the 36-bit field.
        SequenceNumber::new(secs, self.id.0, 0, secs).expect("shard times are range-checked")
    }

    /// `EndingSequenceNumber` of a closed shard: the counter's maximum at the
    /// close time (KDS-REFERENCE.md §3.5).
    pub fn ending_sequence_number(&self) -> Option<SequenceNumber> {
        self.closed_at.map(|closed| {
            SequenceNumber::new(self.created_at.secs(), self.id.0, SEQ_IX_MAX, closed.secs())
                .expect("shard times are range-checked")
        })
    }
}

/// One step of a reshard, with the ids it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReshardOp {
    /// `SplitShard(parent, new_starting_hash_key)`: `lower` gets
    /// `[start, key-1]`, `upper` gets `[key, end]`.
    Split {
        /// The shard split (closed by the split).
        parent: ShardId,
        /// `NewStartingHashKey`.
        new_starting_hash_key: u128,
        /// The child with the lower range (the first new id).
        lower: ShardId,
        /// The child with the upper range (the second new id).
        upper: ShardId,
    },
    /// `MergeShards(shard_to_merge, adjacent_shard_to_merge)`.
    Merge {
        /// The lower shard; becomes the child's `ParentShardId`.
        shard_to_merge: ShardId,
        /// The upper shard; becomes the child's `AdjacentParentShardId`.
        adjacent_shard_to_merge: ShardId,
        /// The new shard.
        child: ShardId,
    },
}

/// What an UpdateShardCount did or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePlan {
    /// Open shards before.
    pub from: u32,
    /// Open shards after.
    pub to: u32,
    /// The splits and merges, in the order they are applied.
    pub operations: Vec<ReshardOp>,
    /// The open shards after, in hash key order.
    pub final_open: Vec<ShardId>,
    /// Shards created and closed again within the update. They count toward
    /// the account's shard quota while they exist (KDS-REFERENCE.md §2.10).
    pub transient: Vec<ShardId>,
}

/// The shards of one stream, with an index of the open ones for lookup.
///
/// Invariant: the open shards tile `0..=2^128-1` exactly, in the sorted
/// `open_starts`/`open_ids` index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMap {
    /// Every shard ever created; `shards[i].id == ShardId(i)`.
    shards: Vec<Shard>,
    /// Starting hash keys of the open shards, ascending.
    open_starts: Vec<u128>,
    /// The open shards, parallel to `open_starts`.
    open_ids: Vec<ShardId>,
    /// Times of accepted UpdateShardCount calls, ascending.
    update_calls: Vec<EpochNanos>,
}

/// shardcast's own bound on CreateStream, not the service's: the service
/// bounds a stream by the account's shard quota, which can be raised. A
/// million shards keeps every structure here in memory comfortably.
pub const MAX_CREATE_SHARDS: u32 = 1_000_000;

const DAY_NANOS: u64 = 24 * 3600 * 1_000_000_000;

/// Starting hash keys of CreateStream(n): `i * floor(2^128 / n)`.
///
/// The last shard ends at 2^128-1 and absorbs the remainder
/// (KDS-REFERENCE.md §1.7; kinesalite and moto agree, and the recorded ranges
/// for n = 1..1000 confirm it).
pub fn uniform_starts(n: u32) -> impl ExactSizeIterator<Item = u128> {
    let wide = u128::from(n.max(1));
    // floor(2^128 / n) without 2^128: 2^128 = MAX + 1 = q*n + r + 1.
    let (q, r) = (u128::MAX / wide, u128::MAX % wide);
    let step = if r == wide - 1 { q.wrapping_add(1) } else { q };
    // n = 1: step wraps to 0, harmless since only start 0 is produced.
    (0..n.max(1)).map(move |i| u128::from(i) * step)
}

impl ShardMap {
    /// CreateStream with `shards` shards at time `now`.
    pub fn create(shards: u32, now: EpochNanos) -> Result<ShardMap, KdsError> {
        if !(1..=MAX_CREATE_SHARDS).contains(&shards) {
            return Err(KdsError::InvalidShardCount {
                value: u64::from(shards),
                min: 1,
                max: u64::from(MAX_CREATE_SHARDS),
            });
        }
        let starts: Vec<u128> = uniform_starts(shards).collect();
        let shard_list = starts
            .iter()
            .enumerate()
            .map(|(i, &start)| Shard {
                id: ShardId(i as u32),
                range: HashRange {
                    start,
                    end: starts.get(i + 1).map_or(u128::MAX, |next| next - 1),
                },
                parent: None,
                adjacent_parent: None,
                created_at: now,
                closed_at: None,
                next_seq_ix: 0,
            })
            .collect();
        Ok(ShardMap {
            shards: shard_list,
            open_ids: (0..shards).map(ShardId).collect(),
            open_starts: starts,
            update_calls: Vec::new(),
        })
    }

    /// Every shard ever created, by id.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// A shard by id.
    pub fn shard(&self, id: ShardId) -> Result<&Shard, KdsError> {
        self.shards
            .get(id.0 as usize)
            .ok_or_else(|| KdsError::UnknownShard {
                shard: id,
                last: ShardId(self.shards.len() as u32 - 1),
            })
    }

    /// The open shards, in hash key order.
    pub fn open_shards(&self) -> impl ExactSizeIterator<Item = &Shard> {
        self.open_ids.iter().map(|id| &self.shards[id.0 as usize])
    }

    /// The number of open shards.
    pub fn open_count(&self) -> u32 {
        self.open_ids.len() as u32
    }

    /// Times of the UpdateShardCount calls accepted so far.
    pub fn update_calls(&self) -> &[EpochNanos] {
        &self.update_calls
    }

    /// The open shard whose range holds `key`: a binary search over the
    /// sorted starting hash keys, O(log n). Total, because the open shards
    /// tile the space.
    #[inline]
    pub fn shard_for_hash_key(&self, key: HashKey) -> ShardId {
        // open_starts[0] == 0, so at least one start is <= key.
        let i = self.open_starts.partition_point(|&s| s <= key.0) - 1;
        self.open_ids[i]
    }

    /// The open shard for a partition key (MD5, then lookup).
    #[inline]
    pub fn shard_for_partition_key(&self, key: &str) -> ShardId {
        self.shard_for_hash_key(HashKey::from_partition_key(key))
    }

    /// Hands out the next sequence number of an open shard for a record
    /// arriving at `now`. Numbers increase strictly within a shard.
    pub fn next_sequence_number(
        &mut self,
        id: ShardId,
        now: EpochNanos,
    ) -> Result<SequenceNumber, KdsError> {
        let shard = self.open_shard_mut(id)?;
        // SEQ_IX_MAX is reserved for the EndingSequenceNumber.
        if shard.next_seq_ix >= SEQ_IX_MAX {
            return Err(KdsError::SequenceExhausted { shard: id });
        }
        let seq_ix = shard.next_seq_ix;
        shard.next_seq_ix += 1;
        // A record cannot predate its shard; clamp so the number stays well-formed.
        let secs = now.max(shard.created_at).secs();
        SequenceNumber::new(shard.created_at.secs(), id.0, seq_ix, secs)
    }

    /// SplitShard at `new_starting_hash_key`, applied at `now`.
    ///
    /// Valid keys satisfy `start + 2 <= key <= end - 1`, the service's rule
    /// ("not both greater than one plus the shard's StartingHashKey and less
    /// than the shard's EndingHashKey", KDS-REFERENCE.md §2.3). The lower
    /// child takes the next id, the upper the one after (§2.2). Returns
    /// `(lower, upper)`.
    pub fn split_shard(
        &mut self,
        shard: ShardId,
        new_starting_hash_key: u128,
        now: EpochNanos,
    ) -> Result<(ShardId, ShardId), KdsError> {
        let range = self.open_shard_mut(shard)?.range;
        let valid = new_starting_hash_key
            .checked_sub(range.start)
            .is_some_and(|d| d >= 2)
            && new_starting_hash_key < range.end;
        if !valid {
            return Err(KdsError::InvalidSplitKey {
                shard,
                new_starting_hash_key,
                start: range.start,
                end: range.end,
            });
        }
        let (lower, upper) = self.split_unindexed(shard, new_starting_hash_key, now);
        let i = self.open_position(range.start);
        self.open_ids[i] = lower;
        self.open_starts.insert(i + 1, new_starting_hash_key);
        self.open_ids.insert(i + 1, upper);
        Ok((lower, upper))
    }

    /// MergeShards, applied at `now`. `shard_to_merge` must be the lower of
    /// two adjacent open shards (as kinesalite requires and the recorded
    /// vectors show; whether AWS accepts the reverse order is unconfirmed,
    /// KDS-REFERENCE.md §2.4). The child takes the next id, with
    /// `ParentShardId = shard_to_merge` and `AdjacentParentShardId =
    /// adjacent_shard_to_merge`.
    pub fn merge_shards(
        &mut self,
        shard_to_merge: ShardId,
        adjacent_shard_to_merge: ShardId,
        now: EpochNanos,
    ) -> Result<ShardId, KdsError> {
        let lower = self.open_shard_mut(shard_to_merge)?.range;
        let upper = self.open_shard_mut(adjacent_shard_to_merge)?.range;
        if lower.end.checked_add(1) != Some(upper.start) {
            return Err(KdsError::NotAdjacent {
                shard_to_merge,
                adjacent_shard_to_merge,
            });
        }
        let child = self.merge_unindexed(shard_to_merge, adjacent_shard_to_merge, now);
        let i = self.open_position(lower.start);
        self.open_ids[i] = child;
        self.open_starts.remove(i + 1);
        self.open_ids.remove(i + 1);
        Ok(child)
    }

    /// Checks an UpdateShardCount against the service's limits without
    /// changing anything (KDS-REFERENCE.md §2.10): at most double and at
    /// least half the open count, at most 10,000 shards, at most 10 calls in
    /// any rolling 24 hours.
    pub fn check_update_shard_count(&self, target: u32, now: EpochNanos) -> Result<(), KdsError> {
        check_update_limits(self.open_count(), target, &self.update_calls, now)
    }

    /// UpdateShardCount with uniform scaling, applied at `now`: checks the
    /// limits, applies the plan of [`ShardMap::plan_update_shard_count`] and
    /// records the call. A target equal to the open count changes nothing
    /// and is not recorded (the service's answer to it is undocumented).
    pub fn update_shard_count(
        &mut self,
        target: u32,
        now: EpochNanos,
    ) -> Result<UpdatePlan, KdsError> {
        self.check_update_shard_count(target, now)?;
        let plan = self.apply_uniform_scaling(target, now);
        if plan.from != plan.to {
            self.update_calls.push(now);
        }
        Ok(plan)
    }

    /// Accepts an UpdateShardCount at `now` whose splits and merges the
    /// caller applies later, one at a time (as the service does over
    /// minutes): checks the limits, records the call, and returns the plan.
    /// Applying `plan.operations` in order with [`ShardMap::split_shard`] and
    /// [`ShardMap::merge_shards`] creates exactly the ids the plan names,
    /// provided nothing else reshapes the stream meanwhile.
    pub fn begin_update_shard_count(
        &mut self,
        target: u32,
        now: EpochNanos,
    ) -> Result<UpdatePlan, KdsError> {
        let plan = self.plan_update_shard_count(target, now)?;
        if plan.from != plan.to {
            self.update_calls.push(now);
        }
        Ok(plan)
    }

    /// Applies one step of a plan at `now`.
    pub fn apply_op(&mut self, op: &ReshardOp, now: EpochNanos) -> Result<(), KdsError> {
        match *op {
            ReshardOp::Split {
                parent,
                new_starting_hash_key,
                ..
            } => self
                .split_shard(parent, new_starting_hash_key, now)
                .map(drop),
            ReshardOp::Merge {
                shard_to_merge,
                adjacent_shard_to_merge,
                ..
            } => self
                .merge_shards(shard_to_merge, adjacent_shard_to_merge, now)
                .map(drop),
        }
    }

    /// The plan an UpdateShardCount to `target` would follow, without
    /// changing the stream.
    ///
    /// The service does not document its algorithm (KDS-REFERENCE.md §2.12);
    /// shardcast follows the rule decided there, which reproduces the one
    /// published non-power-of-two change (4 -> 3 ends with open shards 6, 9
    /// and 10):
    ///
    /// 1. The final ranges are CreateStream(`target`)'s, except that a
    ///    boundary lying within `max(open count, target)` hash keys of an
    ///    existing boundary snaps to it. (Integer division puts e.g. 3 -> 6's
    ///    boundaries one or two keys off the old ones; without snapping the
    ///    plan would cut one-key sliver shards. The reference says "within
    ///    `target` keys"; scaling down by half can miss by up to about
    ///    `2 * target`, hence the wider bound. Real boundaries are at least
    ///    2^128 / 10,000 apart, so no other boundary is ever that close.)
    /// 2. Sweep the final ranges left to right. Where an open shard straddles
    ///    a final range's end, split it there (lower child first); then merge
    ///    the range's pieces pairwise, left to right, each merge taking the
    ///    next id.
    pub fn plan_update_shard_count(
        &self,
        target: u32,
        now: EpochNanos,
    ) -> Result<UpdatePlan, KdsError> {
        self.check_update_shard_count(target, now)?;
        Ok(self.clone().apply_uniform_scaling(target, now))
    }

    fn apply_uniform_scaling(&mut self, target: u32, now: EpochNanos) -> UpdatePlan {
        let from = self.open_count();
        let first_new = self.shards.len() as u32;
        let tolerance = u128::from(from.max(target));
        let old_starts = &self.open_starts;
        let snap = |t: u128| -> u128 {
            let i = old_starts.partition_point(|&s| s < t);
            let above = old_starts.get(i).copied();
            let below = i.checked_sub(1).map(|j| old_starts[j]);
            // Nearest existing boundary, the lower one on a tie.
            let nearest = match (below, above) {
                (Some(b), Some(a)) if a - t < t - b => Some(a),
                (Some(b), _) => Some(b),
                (None, a) => a,
            };
            nearest.filter(|&e| e.abs_diff(t) <= tolerance).unwrap_or(t)
        };
        let mut ends: Vec<u128> = uniform_starts(target)
            .skip(1)
            .map(|t| snap(t) - 1)
            .collect();
        ends.push(u128::MAX);

        let old_open = std::mem::take(&mut self.open_ids);
        let mut old_iter = old_open.iter().copied();
        let mut operations = Vec::new();
        let mut final_open = Vec::with_capacity(target as usize);
        let mut pieces: Vec<ShardId> = Vec::new();
        let mut carry: Option<ShardId> = None;
        for &end in &ends {
            pieces.clear();
            loop {
                let piece = carry
                    .take()
                    .or_else(|| old_iter.next())
                    .expect("the open shards tile the hash key space up to 2^128-1");
                let range = self.shards[piece.0 as usize].range;
                if range.end <= end {
                    pieces.push(piece);
                    if range.end == end {
                        break;
                    }
                } else {
                    let key = end + 1;
                    let (lower, upper) = self.split_unindexed(piece, key, now);
                    operations.push(ReshardOp::Split {
                        parent: piece,
                        new_starting_hash_key: key,
                        lower,
                        upper,
                    });
                    pieces.push(lower);
                    carry = Some(upper);
                    break;
                }
            }
            let mut merged = pieces[0];
            for &next in &pieces[1..] {
                let child = self.merge_unindexed(merged, next, now);
                operations.push(ReshardOp::Merge {
                    shard_to_merge: merged,
                    adjacent_shard_to_merge: next,
                    child,
                });
                merged = child;
            }
            final_open.push(merged);
        }
        self.open_starts = final_open
            .iter()
            .map(|id| self.shards[id.0 as usize].range.start)
            .collect();
        self.open_ids = final_open.clone();
        let transient = (first_new..self.shards.len() as u32)
            .map(ShardId)
            .filter(|id| !self.shards[id.0 as usize].is_open())
            .collect();
        UpdatePlan {
            from,
            to: target,
            operations,
            final_open,
            transient,
        }
    }

    fn open_shard_mut(&mut self, id: ShardId) -> Result<&mut Shard, KdsError> {
        let last = ShardId(self.shards.len() as u32 - 1);
        let shard = self
            .shards
            .get_mut(id.0 as usize)
            .ok_or(KdsError::UnknownShard { shard: id, last })?;
        if shard.is_open() {
            Ok(shard)
        } else {
            Err(KdsError::ShardClosed { shard: id })
        }
    }

    fn open_position(&self, start: u128) -> usize {
        self.open_starts.partition_point(|&s| s < start)
    }

    /// Closes `parent` and creates its two children; the open index is the
    /// caller's to update. The split key is assumed valid.
    fn split_unindexed(
        &mut self,
        parent: ShardId,
        key: u128,
        now: EpochNanos,
    ) -> (ShardId, ShardId) {
        let p = &mut self.shards[parent.0 as usize];
        let closed = close(p, now);
        let range = p.range;
        let lower = self.push_child(
            HashRange {
                start: range.start,
                end: key - 1,
            },
            parent,
            None,
            closed,
        );
        let upper = self.push_child(
            HashRange {
                start: key,
                end: range.end,
            },
            parent,
            None,
            closed,
        );
        (lower, upper)
    }

    /// Closes two adjacent shards and creates their child; the open index is
    /// the caller's to update.
    fn merge_unindexed(&mut self, lower: ShardId, upper: ShardId, now: EpochNanos) -> ShardId {
        let closed_lower = close(&mut self.shards[lower.0 as usize], now);
        let closed_upper = close(&mut self.shards[upper.0 as usize], now);
        let range = HashRange {
            start: self.shards[lower.0 as usize].range.start,
            end: self.shards[upper.0 as usize].range.end,
        };
        self.push_child(range, lower, Some(upper), closed_lower.max(closed_upper))
    }

    /// Appends a child created one second after its parents closed, as decoded
    /// from real sequence numbers (KDS-REFERENCE.md §2.6). Because a parent
    /// cannot close before it was created, a child's creation second is always
    /// later than its parents', so its sequence numbers sort after theirs.
    fn push_child(
        &mut self,
        range: HashRange,
        parent: ShardId,
        adjacent_parent: Option<ShardId>,
        parents_closed: EpochNanos,
    ) -> ShardId {
        let id = ShardId(self.shards.len() as u32);
        self.shards.push(Shard {
            id,
            range,
            parent: Some(parent),
            adjacent_parent,
            created_at: parents_closed.plus_secs(Quota::ChildShardCreationDelaySecs.value()),
            closed_at: None,
            next_seq_ix: 0,
        });
        id
    }
}

/// Closes a shard at `now`, or at its creation if `now` is earlier (a shard
/// created by the step before is closed no earlier than it exists).
fn close(shard: &mut Shard, now: EpochNanos) -> EpochNanos {
    let at = now.max(shard.created_at);
    shard.closed_at = Some(at);
    at
}

/// The UpdateShardCount limits (KDS-REFERENCE.md §2.10) for a stream with
/// `current` open shards whose earlier accepted calls were at `earlier_calls`.
pub fn check_update_limits(
    current: u32,
    target: u32,
    earlier_calls: &[EpochNanos],
    now: EpochNanos,
) -> Result<(), KdsError> {
    let (min, max) = accepted_targets(current);
    if target == current {
        return Ok(());
    }
    let limit = Quota::UpdateShardCountMaxShards.value() as u32;
    if min > max {
        // Half of the stream is still not below the limit (REF §2.10): every
        // target breaks one rule, and naming the empty range would not say why.
        return Err(KdsError::NoTargetAccepted {
            current,
            target,
            half: min,
            limit,
            reachable: 2 * (limit - 1),
        });
    }
    if target > current.saturating_mul(Quota::UpdateShardCountMaxScaleUp.value() as u32) {
        return Err(KdsError::ScaleUpTooFar {
            current,
            target,
            min,
            max,
        });
    }
    if target < min {
        return Err(KdsError::ScaleDownTooFar {
            current,
            target,
            min,
            max,
        });
    }
    if target > max {
        return Err(KdsError::OverShardLimit {
            current,
            target,
            limit,
            min,
            max,
        });
    }
    let window_start = now.0.saturating_sub(DAY_NANOS);
    let recent: Vec<&EpochNanos> = earlier_calls
        .iter()
        .filter(|t| t.0 > window_start && t.0 <= now.0)
        .collect();
    let per_day = Quota::UpdateShardCountPer24h.value();
    if recent.len() as u64 >= per_day {
        // The call becomes possible when the oldest one in the window leaves it.
        let oldest = recent.iter().map(|t| t.0).min().unwrap_or(now.0);
        let wait_nanos = (oldest + DAY_NANOS).saturating_sub(now.0);
        return Err(KdsError::TooManyUpdates {
            recent: recent.len(),
            limit: per_day,
            wait_secs: wait_nanos.div_ceil(1_000_000_000),
        });
    }
    Ok(())
}

/// The targets UpdateShardCount accepts from `current` open shards, besides
/// `current` itself: at least half, at most double, and at most 10,000 (from
/// above 10,000, fewer than 10,000). The range is empty (`min > max`) for
/// streams of 19,999 shards or more, whose half is 10,000 or more.
pub fn accepted_targets(current: u32) -> (u32, u32) {
    let limit = Quota::UpdateShardCountMaxShards.value() as u32;
    let min = current
        .div_ceil(Quota::UpdateShardCountMaxScaleDown.value() as u32)
        .max(1);
    let max = if current > limit {
        limit - 1
    } else {
        current
            .saturating_mul(Quota::UpdateShardCountMaxScaleUp.value() as u32)
            .min(limit)
    };
    (min, max)
}
