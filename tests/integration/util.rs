//! Helpers shared by the test modules.

use std::path::Path;

use assert_cmd::Command;
use shardcast::model::{Outcome, RunOptions, simulate};
use shardcast::scenario::Scenario;

/// The `shardcast` binary, without backtraces in its errors.
pub(crate) fn shardcast() -> Command {
    let mut cmd = Command::cargo_bin("shardcast").unwrap();
    cmd.env("RUST_BACKTRACE", "0");
    cmd
}

/// A scenario given as text (the path is only for messages).
pub(crate) fn scenario(toml: &str) -> Scenario {
    Scenario::parse(toml, Path::new("test.toml")).unwrap()
}

/// Simulates a scenario given as text, with the per-second series; every
/// run also passes the engine's conservation checks (they are errors).
pub(crate) fn run(toml: &str) -> Outcome {
    simulate(&scenario(toml), RunOptions { per_second: true }).unwrap()
}
