//! Puts the git commit into `shardcast --version` ("shardcast 0.1.0
//! (abc1234)"), when the crate is built from a git checkout with git on the
//! PATH. Without either (a crate tarball, `cargo install` from a copy), the
//! version is the crate's alone: the build never needs git.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Only this crate's own checkout: a copy of it inside another
    // repository (vendored, unpacked under a home directory kept in git)
    // would otherwise show that repository's commit.
    let own = git(&["rev-parse", "--show-toplevel"])
        .zip(std::env::var_os("CARGO_MANIFEST_DIR"))
        .is_some_and(|(top, dir)| same_dir(Path::new(&top), Path::new(&dir)));
    let commit = own
        .then(|| git(&["rev-parse", "--short", "HEAD"]))
        .flatten();
    let suffix = commit
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    println!("cargo:rustc-env=SHARDCAST_VERSION_SUFFIX={suffix}");
    if commit.is_some() {
        // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it
        // names (a commit) and packed-refs (a `git gc` may move the branch
        // there). Only files that exist: cargo reruns a script every build
        // for a missing one.
        let dir = git(&["rev-parse", "--git-dir"]).map(absolute);
        let common = git(&["rev-parse", "--git-common-dir"]).map(absolute);
        let branch = git(&["rev-parse", "--symbolic-full-name", "HEAD"]);
        let mut watch = Vec::new();
        if let Some(d) = &dir {
            watch.push(d.join("HEAD"));
        }
        if let Some(c) = common.as_ref().or(dir.as_ref()) {
            if let Some(b) = branch.as_deref().filter(|b| b.starts_with("refs/")) {
                watch.push(c.join(b));
            }
            watch.push(c.join("packed-refs"));
        }
        for f in watch.iter().filter(|f| f.is_file()) {
            println!("cargo:rerun-if-changed={}", f.display());
        }
    }
}

/// The trimmed output of a successful `git ARGS`, run in the crate's
/// directory; `None` if git is missing, fails or prints nothing.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// A path git printed, relative to the crate's directory, made absolute.
fn absolute(p: String) -> PathBuf {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    dir.join(p)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
