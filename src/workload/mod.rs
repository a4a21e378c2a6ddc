//! What producers offer: arrival rate profiles, record sizes and partition
//! keys, each a validated model with a sampler over a seeded stream.

pub mod cloudwatch;
mod keys;
mod profile;
mod sizes;
mod trace;

pub use keys::{
    KeyNames, KeyPick, KeySampler, KeySpace, KeyTable, MAX_SALTED_TABLE, zipf_probabilities,
};
pub use profile::{Arrivals, Bounds, Component, Jitter, MAX_RATE, RateProfile, Spike};
pub use sizes::SizeModel;
pub use trace::{
    AggregateSpec, Columns, Hashed, MAX_KEY_BYTES, MAX_ROW_RATE, MAX_TRACKED_KEYS, RowDest,
    TraceError, TraceFormat, TraceReader, TraceRecord, TraceRow, TraceSpec, Within,
    expected_records as expected_trace_records, hash_keys, parse_time, summarize,
};
