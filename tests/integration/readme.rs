//! Issue 16: every command README.md shows, pasted into a fresh clone,
//! works. Each ```sh block is read from README.md itself, so an edit to the
//! README is tested as written.
//!
//! The commands run in order, with `sh`, in a temporary copy of the
//! repository's `scenarios/` (the README's commands run from the
//! repository's root), with this build of the binary first on the `PATH` as
//! `shardcast`. Only cargo's own commands and the report script are not run
//! (listed in `NOT_RUN`, so a new one must be added there on purpose):
//! installing and testing are what CI itself does, and the script builds a
//! release binary and runs for minutes.
//!
//! One override, for time only: the `compare` of the four diurnal
//! scenarios (three days each, 160 million records on the record engine)
//! gets `--engine shard`, which takes it from minutes in a test build to
//! seconds. Every flag, path and file of the command is still the
//! README's; `engines_cli.rs` runs `compare` on the record engine. Every
//! other command runs exactly as written (`plan` and `sweep` take seconds
//! here).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands shown in the README that this test does not run, and why
/// (see the module docs).
const NOT_RUN: [&str; 3] = [
    // Builds and installs this crate: CI builds it.
    "cargo install --locked --path .",
    // The test suite, which this test is part of.
    "cargo test --locked",
    // A release build and eight minutes of runs, into reports/.
    "sh reports/regenerate.sh",
];

/// The commands of README.md's ```sh blocks: comment lines dropped, lines
/// ending in `\` joined to the next.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let fence = line.trim_start().starts_with("```");
        if !in_block {
            in_block = fence && line.trim() == "```sh";
            continue;
        }
        if fence {
            assert!(pending.is_empty(), "a ```sh block ends in `\\`");
            in_block = false;
            continue;
        }
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part.trim_end());
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(!in_block, "README.md ends inside a ```sh block");
    commands
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A directory holding only `shardcast`, a link to (or copy of) this
/// build's binary.
fn bin_dir(root: &Path) -> PathBuf {
    let dir = root.join(".bin");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("shardcast");
    let link = dir.join("shardcast");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&exe, &link).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&exe, &link).unwrap();
    dir
}

/// `command` with the speed override of the module docs.
fn with_override(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    let slow = words.windows(2).any(|w| w == ["shardcast", "compare"]);
    if slow && !command.contains("--engine") {
        format!("{command} --engine shard")
    } else {
        command.to_owned()
    }
}

#[test]
#[cfg(unix)]
fn r16_every_readme_command_works_in_a_fresh_clone() {
    let commands = readme_commands();
    // The blocks the README is known to have: a parser that finds nothing
    // would pass vacuously.
    assert!(commands.len() >= 20, "{commands:#?}");
    for expected in NOT_RUN {
        assert!(
            commands.iter().any(|c| c == expected),
            "NOT_RUN lists {expected:?}, which README.md no longer shows"
        );
    }
    // One form throughout: after `cargo install`, the binary's own name.
    for c in &commands {
        assert!(
            !c.contains("cargo run"),
            "README.md mixes `cargo run` into its commands: {c}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clone");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &root.join("scenarios"),
    );
    let bin = bin_dir(tmp.path());
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut ran = 0;
    for command in &commands {
        if NOT_RUN.contains(&command.as_str()) {
            continue;
        }
        assert!(
            command.contains("shardcast "),
            "a README command that runs no shardcast: {command:?} (add it to NOT_RUN on purpose)"
        );
        let run = with_override(command);
        let out = Command::new("sh")
            .arg("-c")
            // A pipeline fails if any part of it fails.
            .arg(format!("set -e; {run}"))
            .current_dir(&root)
            .env("PATH", &path)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("error"),
            "README command failed ({}): {run}\nstderr: {stderr}\nstdout: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
        ran += 1;
    }
    assert!(ran >= 15, "ran only {ran} commands");
    // What the commands promise to write, written where they say.
    for file in [
        "reports/quickstart/summary.csv",
        "reports/diurnal-compare/compare.md",
        "reports/small-records-plan/plan.md",
        "reports/small-records-sweep/sweep-summary.csv",
        "orders-hashed.csv",
        "scenarios/eu-west-1.toml",
        "junit.xml",
        "shardcast.1",
        "shardcast.bash",
    ] {
        assert!(root.join(file).is_file(), "{file} was not written");
    }
    // The price file the README prints is one a scenario can read.
    let prices = std::fs::read_to_string(root.join("scenarios/eu-west-1.toml")).unwrap();
    assert!(prices.contains("region"), "{prices}");
}

#[test]
fn r16_readme_blocks_are_parsed_whole() {
    // A continued line is one command; comments are not commands.
    let commands = readme_commands();
    let compare = commands
        .iter()
        .find(|c| c.starts_with("shardcast compare"))
        .expect("the compare example");
    assert!(
        compare.contains("diurnal-on-demand.toml --out reports/diurnal-compare"),
        "{compare}"
    );
    assert!(commands.iter().all(|c| !c.starts_with('#')));
}
