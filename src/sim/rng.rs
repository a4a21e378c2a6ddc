//! Seeded, version-stable random streams: one per actor and purpose.
//!
//! Every stream is a `ChaCha8Rng` (a named, portable algorithm: its output is
//! fixed by the algorithm, not by the `rand` version or the platform) seeded
//! with [`derive_seed`]`(master, purpose, index)`. Giving each producer its own
//! arrivals, keys and sizes streams means that adding a producer group, or
//! changing the shard count, leaves every other draw unchanged (common random
//! numbers for what-if comparisons).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used everywhere.
pub type SimRng = ChaCha8Rng;

/// What a stream is used for. The discriminant is part of the seed, so it
/// must never be renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// A producer's arrival times.
    Arrivals = 1,
    /// A producer's partition keys.
    Keys = 2,
    /// A producer's record sizes.
    Sizes = 3,
    /// A producer's retry jitter.
    Retries = 4,
    /// A replication of a whole scenario (for planners and sweeps).
    Replication = 5,
    /// The durations of resharding operations.
    Reshard = 6,
    /// A consumer application's poll phases.
    Consumers = 7,
    /// A group's bursts within imported per-period rates (CloudWatch),
    /// drawn at the start of each run.
    Import = 8,
    /// The shard-level engine's flows (arrival counts, sizes, refusals,
    /// retry spreads): one stream per step, pass and chunk of shards.
    Flows = 9,
    /// A group's per-key split and size moments in the shard-level engine.
    FlowGroups = 10,
    /// A group's per-second rate jitter (`rate_jitter`), drawn at the
    /// start of each run.
    Jitter = 11,
    /// A group's put latency points in the shard-level engine (its
    /// retries' backoffs and batch waits), drawn once per step.
    FlowLatency = 12,
    /// A group's even arrivals split over the shards in the shard-level
    /// engine, drawn once per step.
    FlowSplit = 13,
}

/// SplitMix64's finaliser: a bijection on `u64` with good avalanche.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of stream `(purpose, index)` under `master`.
pub fn derive_seed(master: u64, purpose: Purpose, index: u64) -> u64 {
    const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
    let a = mix(master.wrapping_add(GOLDEN));
    let b = mix(a ^ (purpose as u64).wrapping_mul(GOLDEN));
    mix(b ^ index.wrapping_add(1).wrapping_mul(0xd1b5_4a32_d192_ed03))
}

/// The generator of stream `(purpose, index)` under `master`.
pub fn stream(master: u64, purpose: Purpose, index: u64) -> SimRng {
    SimRng::seed_from_u64(derive_seed(master, purpose, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_stable_across_versions() {
        // Pinned outputs: a change here changes every simulation result.
        let mut r = stream(42, Purpose::Arrivals, 0);
        let first = [r.next_u64(), r.next_u64()];
        let mut again = stream(42, Purpose::Arrivals, 0);
        assert_eq!(first, [again.next_u64(), again.next_u64()]);
        assert_eq!(derive_seed(42, Purpose::Arrivals, 0), 15933440758278216266);
        assert_eq!(first, [11456060774638285787, 17537816146697909954]);
    }

    #[test]
    fn seeds_differ_across_purposes_and_indices() {
        let mut seen = std::collections::BTreeSet::new();
        for master in 0..4 {
            for purpose in [
                Purpose::Arrivals,
                Purpose::Keys,
                Purpose::Sizes,
                Purpose::Retries,
            ] {
                for index in 0..64 {
                    assert!(seen.insert(derive_seed(master, purpose, index)));
                }
            }
        }
    }
}
