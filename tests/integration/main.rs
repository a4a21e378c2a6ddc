//! One integration test binary (faster to link than one per file).

mod agreement;
mod autoscaling;
mod charts;
mod check;
mod cli;
mod closed_form;
mod consumers;
mod engines;
mod engines_cli;
mod exec_policy;
mod golden;
mod interrupt;
mod layers;
mod library;
mod ondemand;
mod plan;
mod properties;
mod reshard;
mod resharding;
mod scaling_utils_import;
mod scenarios;
mod shard_level;
mod sweep;
mod trace;
mod util;
mod vectors;
