//! What producers offer: arrival rate profiles, record sizes and partition
//! keys, each a validated model with a sampler over a seeded stream.

mod keys;
mod profile;
mod sizes;

pub use keys::{
    KeyNames, KeyPick, KeySampler, KeySpace, KeyTable, MAX_SALTED_TABLE, zipf_probabilities,
};
pub use profile::{Arrivals, Component, RateProfile, Spike};
pub use sizes::SizeModel;
