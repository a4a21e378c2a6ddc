//! Issue 16, the front door: readable errors (did you mean, no Rust type
//! names, unit hints, a missing trace's full path), exit codes of `plan`
//! and `compare`'s verdict line, `-` for stdin, `--version` with the
//! commit, completions, the manual page and the licence files.

use std::path::Path;

use crate::util::shardcast;
use predicates::prelude::*;

/// A small scenario; `{rate}` and `{slo}` are filled in.
fn small(name: &str, rate: &str, slo: &str) -> String {
    format!(
        "name = \"{name}\"\nduration = \"20s\"\nseed = 5\n[stream]\nshards = 1\n\
         [[producers]]\nname = \"p\"\ncount = 4\nrate = \"{rate}\"\nsize = \"100B\"\n\
         keys = {{ kind = \"random\" }}\n{slo}"
    )
}

/// `validate` of `text` (written to a file in a temporary directory):
/// exit code 2 and the one stderr line.
fn validate_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let out = shardcast()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    stderr
}

#[test]
fn r16_a_misspelt_field_or_value_gets_did_you_mean() {
    let good = small("s", "500/s", "[slo]\nmax_throttle_rate = 0.01\n");
    for (from, to, hint) in [
        (
            "shards = 1",
            "shard = 1",
            "unknown field `shard` (did you mean `shards`?)",
        ),
        ("count = 4", "cuont = 4", "(did you mean `count`?)"),
        (
            "max_throttle_rate",
            "max_throttle",
            "(did you mean `max_throttle_rate`?)",
        ),
        (
            "kind = \"random\"",
            "kind = \"randon\"",
            "(did you mean `random`?)",
        ),
        ("[slo]", "[slos]", "(did you mean `slo`?)"),
    ] {
        let e = validate_error(&good.replacen(from, to, 1));
        assert!(e.contains(hint), "{to}: {e}");
        // The accepted names are still listed.
        assert!(e.contains("expected"), "{e}");
    }
    // Nothing close: no guess.
    let e = validate_error(&good.replacen("shards = 1", "colour = 1", 1));
    assert!(!e.contains("did you mean"), "{e}");
}

#[test]
fn r16_no_rust_type_names_in_errors() {
    let good = small("s", "500/s", "[slo]\nmax_failed_records = 0\n");
    for (from, to, plain) in [
        (
            "shards = 1",
            "shards = -1",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "shards = 1",
            "shards = 1.5",
            "expected a whole number from 0 to 4294967295",
        ),
        ("count = 4", "count = true", "expected a whole number"),
        (
            "seed = 5",
            "seed = \"x\"",
            "expected a whole number, 0 or more",
        ),
        (
            "max_failed_records = 0",
            "max_failed_records = 0.5",
            "expected a whole number",
        ),
        (
            "max_failed_records = 0",
            "max_throttle_rate = \"1%\"",
            "expected a number",
        ),
        ("[stream]\n", "stream = 4\n[x]\n", "expected a table"),
        (
            "keys = { kind = \"random\" }",
            "keys = \"k\"",
            "expected a table with `kind`",
        ),
    ] {
        let e = validate_error(&good.replacen(from, to, 1));
        assert!(e.contains(plain), "{to}: {e}");
        for rust in [
            "u16", "u32", "u64", "f64", "usize", "struct ", "enum ", "Raw",
        ] {
            assert!(!e.contains(rust), "{to}: {rust:?} in {e}");
        }
    }
}

#[test]
fn r16_a_number_without_its_unit_gets_the_value_with_one() {
    let good = small("s", "500/s", "[slo]\nmax_p99_latency = \"1s\"\n");
    for (from, to, hint) in [
        ("duration = \"20s\"", "duration = 60", "such as \"60s\""),
        ("duration = \"20s\"", "duration = \"60\"", "write \"60s\""),
        (
            "max_p99_latency = \"1s\"",
            "max_p99_latency = 250",
            "such as \"250s\" or \"250ms\"",
        ),
        ("rate = \"500/s\"", "rate = 500", "such as \"500/s\""),
        ("rate = \"500/s\"", "rate = \"500\"", "write \"500/s\""),
        ("size = \"100B\"", "size = 100", "such as \"100B\""),
    ] {
        let e = validate_error(&good.replacen(from, to, 1));
        assert!(e.contains(hint), "{to}: {e}");
    }
}

#[test]
fn r16_a_missing_file_is_named_by_its_full_path() {
    // Run from another directory than the scenario's: the relative name
    // alone would point the user at the wrong place.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("scn");
    std::fs::create_dir(&sub).unwrap();
    // `validate FILE` from `dir` fails naming `missing` by its full path.
    let names_in_full = |file: &str, missing: &str| -> String {
        let out = shardcast()
            .args(["validate", file])
            .current_dir(dir.path())
            .assert()
            .code(2)
            .get_output()
            .clone();
        let e = String::from_utf8(out.stderr).unwrap();
        let full = std::path::absolute(sub.join(missing)).unwrap();
        assert!(
            e.contains(&format!("no such file: {}", full.display())),
            "{e}"
        );
        e
    };
    std::fs::write(
        sub.join("t.toml"),
        "name = \"t\"\nduration = \"10s\"\n[stream]\nshards = 2\n[[producers]]\nname = \"t\"\n\
         trace = { file = \"traces/gone.csv\" }\n",
    )
    .unwrap();
    let e = names_in_full("scn/t.toml", "traces/gone.csv");
    assert!(e.contains("trace.file"), "{e}");
    // So is a missing scenario, or a price file it names.
    names_in_full("scn/gone.toml", "gone.toml");
    std::fs::write(
        sub.join("p.toml"),
        small("p", "100/s", "").replace("[stream]\n", "[stream]\nprices = \"eu.toml\"\n"),
    )
    .unwrap();
    let e = names_in_full("scn/p.toml", "eu.toml");
    assert!(e.contains("stream.prices"), "{e}");
}

#[test]
fn r16_plan_exits_1_when_no_shard_count_meets_the_objectives() {
    let dir = tempfile::tempdir().unwrap();
    // One key at 1,500 records/s: no shard count takes it.
    let file = dir.path().join("hot.toml");
    std::fs::write(
        &file,
        small("hot", "1500/s", "").replace(
            "keys = { kind = \"random\" }",
            "keys = { kind = \"listed\", keys = [\"one\"] }",
        ),
    )
    .unwrap();
    let out = dir.path().join("plan");
    shardcast()
        .arg("plan")
        .arg(&file)
        .args(["-r", "2", "--max-shards", "4", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "No shard count up to 4 meets the objectives",
        ));
    // Written all the same.
    assert!(out.join("plan.md").is_file() && out.join("plan.csv").is_file());
    // With a recommendation: 0.
    std::fs::write(&file, small("ok", "1500/s", "")).unwrap();
    shardcast()
        .arg("plan")
        .arg(&file)
        .args(["-r", "2", "--max-shards", "4", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Recommendation: 2 shards"));
}

#[test]
fn r16_compare_names_the_closest_when_none_meets() {
    let dir = tempfile::tempdir().unwrap();
    let slo = "[slo]\nmax_throttle_rate = 0.01\n";
    // Both over one shard's 1,000 records/s; the second by less.
    let files: Vec<_> = [("far", "1600/s"), ("near", "1100/s"), ("farther", "2000/s")]
        .iter()
        .map(|(name, rate)| {
            let f = dir.path().join(format!("{name}.toml"));
            std::fs::write(&f, small(name, rate, slo)).unwrap();
            f
        })
        .collect();
    let out = shardcast()
        .arg("compare")
        .args(&files)
        .arg("--out")
        .arg(dir.path().join("cmp"))
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "None meets its objectives; closest is **near** (misses 1 of 1: max_throttle_rate "
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("Cheapest"), "{stdout}");
    let md = std::fs::read_to_string(dir.path().join("cmp/compare.md")).unwrap();
    assert!(md.contains("closest is **near**"), "{md}");
    // When one meets, the cheapest line is back, and no "closest".
    std::fs::write(&files[2], small("farther", "300/s", slo)).unwrap();
    shardcast()
        .arg("compare")
        .args(&files)
        .arg("--out")
        .arg(dir.path().join("cmp"))
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "Cheapest that meets its objectives: **farther**",
        ))
        .stdout(predicates::str::contains("closest").not());
}

#[test]
fn r16_a_scenario_named_dash_is_read_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let text = small("from-stdin", "500/s", "");
    shardcast()
        .args(["validate", "-"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stdout(predicates::str::contains("ok: \"from-stdin\""));
    // The default directory is named after the scenario's name.
    shardcast()
        .args(["run", "-", "--no-report"])
        .current_dir(dir.path())
        .write_stdin(text.clone())
        .assert()
        .success();
    let summary = dir.path().join("reports/from-stdin/summary.csv");
    let csv = std::fs::read_to_string(&summary).unwrap();
    assert!(csv.contains("from-stdin"), "{csv}");
    // The same bytes as the file run: stdin is only another way in.
    let file = dir.path().join("from-stdin.toml");
    std::fs::write(&file, &text).unwrap();
    shardcast()
        .arg("run")
        .arg(&file)
        .args(["--no-report", "--out"])
        .arg(dir.path().join("file"))
        .assert()
        .success();
    assert_eq!(
        csv,
        std::fs::read_to_string(dir.path().join("file/summary.csv")).unwrap()
    );
    // Errors name `<stdin>` and its line.
    let out = shardcast()
        .args(["validate", "-"])
        .write_stdin(text.replacen("shards = 1", "shard = 1", 1))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.starts_with("error: <stdin> line 5: unknown field `shard`"),
        "{e}"
    );
    // Files the scenario names are relative to the current directory.
    std::fs::create_dir(dir.path().join("traces")).unwrap();
    std::fs::write(
        dir.path().join("traces/t.csv"),
        "timestamp,key,size\n0,a,100\n1,b,100\n",
    )
    .unwrap();
    shardcast()
        .args(["validate", "-"])
        .current_dir(dir.path())
        .write_stdin(
            "name = \"t\"\nduration = \"2s\"\n[stream]\nshards = 1\n[[producers]]\nname = \"t\"\n\
             trace = { file = \"traces/t.csv\" }\n",
        )
        .assert()
        .success();
}

/// `git ARGS` in the crate's directory: its trimmed stdout if it succeeds.
fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    out.status.success().then_some(text)
}

#[test]
fn r16_version_names_the_commit() {
    let out = shardcast()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .clone();
    let version = String::from_utf8(out.stdout).unwrap();
    let version = version.trim();
    assert_eq!(version, format!("shardcast {}", shardcast::app::VERSION));
    let plain = format!("shardcast {}", env!("CARGO_PKG_VERSION"));
    if git(&["rev-parse", "--short", "HEAD"]).is_none_or(|h| h.is_empty()) {
        // Not a checkout, or no git: the version alone.
        assert_eq!(version, plain);
        return;
    }
    // Built from this checkout: a commit of it, in short form. HEAD
    // itself, unless a commit was made since the build (then an
    // ancestor of HEAD).
    let commit = version
        .strip_prefix(&format!("{plain} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no commit in {version:?}"));
    assert!(
        commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{version}"
    );
    let full = git(&["rev-parse", "--verify", &format!("{commit}^{{commit}}")])
        .unwrap_or_else(|| panic!("{commit} is not a commit of this repository"));
    assert!(
        git(&["merge-base", "--is-ancestor", &full, "HEAD"]).is_some(),
        "{commit} is not HEAD or an ancestor of it"
    );
}

#[test]
fn r16_completions_and_the_manual_page() {
    for (shell, marker) in [
        ("bash", "_shardcast()"),
        ("zsh", "#compdef shardcast"),
        ("fish", "complete -c shardcast"),
    ] {
        let out = shardcast()
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .clone();
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}");
        // Commands and their flags are in it.
        for word in ["compare", "shard-of", "max-shards"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    shardcast().args(["completions", "tcsh"]).assert().code(2);
    let out = shardcast()
        .arg("man")
        .assert()
        .success()
        .get_output()
        .clone();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH shardcast 1"), "{page}");
    assert!(
        page.contains(".SH NAME\nshardcast \\- a deterministic simulator"),
        "{page}"
    );
    assert!(page.contains(shardcast::app::VERSION), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    assert!(page.contains("shardcast\\-plan"), "{page}");
    let out = shardcast()
        .args(["man", "trace", "summarize"])
        .assert()
        .success()
        .get_output()
        .clone();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.contains(".TH shardcast\\-trace\\-summarize 1")
            || page.contains(".TH shardcast-trace-summarize 1"),
        "{page}"
    );
    assert!(page.contains("\\-\\-shards"), "{page}");
    let out = shardcast()
        .args(["man", "nope"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("man nope: no such command") && e.contains("plan"),
        "{e}"
    );
}

#[test]
fn r16_licence_files_match_the_crate_licence() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let table: toml::Table = toml::from_str(&manifest).unwrap();
    let license = table["package"]["license"].as_str().unwrap();
    assert_eq!(license, "MIT OR Apache-2.0");
    let mit = std::fs::read_to_string(root.join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License") && mit.contains("Permission is hereby granted"));
    let apache = std::fs::read_to_string(root.join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}

#[test]
fn r16_a_trace_named_dash_is_read_from_stdin() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/traces/orders.csv");
    let text = std::fs::read_to_string(&trace).unwrap();
    let from_file = shardcast()
        .args(["trace", "summarize", "--shards", "4"])
        .arg(&trace)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let from_stdin = shardcast()
        .args([
            "trace",
            "summarize",
            "-",
            "--format",
            "csv",
            "--shards",
            "4",
        ])
        .write_stdin(text.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    // The same summary, the file named `<stdin>`.
    let from_file = String::from_utf8(from_file).unwrap();
    let from_stdin = String::from_utf8(from_stdin).unwrap();
    assert_eq!(
        from_stdin,
        from_file.replacen(&trace.display().to_string(), "<stdin>", 1)
    );
    // `trace hash` too: the same copy.
    let dir = tempfile::tempdir().unwrap();
    for (input, name) in [("-", "a.csv"), (trace.to_str().unwrap(), "b.csv")] {
        shardcast()
            .args(["trace", "hash", input, "--format", "csv", "--out"])
            .arg(dir.path().join(name))
            .write_stdin(text.clone())
            .assert()
            .success();
    }
    assert_eq!(
        std::fs::read(dir.path().join("a.csv")).unwrap(),
        std::fs::read(dir.path().join("b.csv")).unwrap()
    );
    // Without --format: refused, nothing read.
    shardcast()
        .args(["trace", "summarize", "-"])
        .write_stdin(text)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs --format csv or jsonl"));
    // An error in it names `<stdin>` and the line, not a temporary file.
    let out = shardcast()
        .args(["trace", "summarize", "-", "--format", "csv"])
        .write_stdin("timestamp,key,size\nx,a,1\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.starts_with("error: trace <stdin> line 2: bad timestamp"),
        "{e}"
    );
    assert!(!e.contains("shardcast-stdin"), "{e}");
}
