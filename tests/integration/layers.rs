//! The layering rule of the crate, checked on its source: nothing imports
//! upward.

use std::path::{Path, PathBuf};

/// `(module under src/, modules it must not name)`: a module is its file
/// `src/NAME.rs` and its folder `src/NAME/`, whichever exist.
const RULES: &[(&str, &[&str])] = &[
    // The service's rules, the kernel, the units and the way values are
    // quoted in errors stand alone.
    ("kds", &ALL),
    ("sim", &ALL),
    ("units", &ALL),
    ("shown", &ALL),
    // Input: validated scenarios and workloads know no simulation.
    ("scenario", &ABOVE_INPUT),
    ("workload", &ABOVE_INPUT),
    // The simulation knows nothing of what is made of its results.
    ("model", &ABOVE_MODEL),
    ("metrics", &ABOVE_MODEL),
    // The analysis computes; it does not render, plan or run commands.
    (
        "analysis",
        &[
            "app", "charts", "check", "compare", "html", "plan", "report", "sweep",
        ],
    ),
    // Renderers only read.
    (
        "report",
        &["app", "charts", "check", "compare", "html", "plan", "sweep"],
    ),
    ("charts", &["app", "check", "compare", "html"]),
    ("html", &["app", "check", "compare"]),
    // Planners and gates use the simulation and the analysis, not the app.
    (
        "plan",
        &[
            "app", "charts", "check", "compare", "html", "report", "sweep",
        ],
    ),
    ("sweep", &["app", "charts", "check", "compare", "html"]),
    ("compare", &["app", "check"]),
    ("check", &["app", "compare"]),
];

const ALL: [&str; 17] = [
    "app", "analysis", "charts", "check", "compare", "html", "kds", "metrics", "model", "plan",
    "report", "scenario", "shown", "sim", "sweep", "units", "workload",
];
const ABOVE_INPUT: [&str; 11] = [
    "model", "sweep", "report", "plan", "app", "analysis", "charts", "html", "check", "compare",
    "metrics",
];
const ABOVE_MODEL: [&str; 9] = [
    "report", "plan", "app", "analysis", "charts", "html", "check", "compare", "sweep",
];

/// The source files of module `part`.
fn module_files(src: &Path, part: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = src.join(format!("{part}.rs"));
    if file.is_file() {
        files.push(file);
    }
    rust_files(&src.join(part), &mut files);
    files
}

/// The path segment after each `crate::` in `line`.
fn crate_paths(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("crate::").map(move |(i, m)| {
        let rest = &line[i + m.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    })
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn no_module_imports_upward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (part, forbidden) in RULES {
        let files = module_files(&src, part);
        assert!(!files.is_empty(), "no source for module {part}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                // Doc links name modules too; only code imports.
                if code.starts_with("//") {
                    continue;
                }
                let at = || format!("{}:{}: {}", file.display(), n + 1, code);
                // Grouped paths would hide a module's name from this check.
                if code.contains("crate::{") {
                    broken.push(format!("{} (grouped import)", at()));
                }
                for seg in crate_paths(code) {
                    if forbidden.contains(&seg) && seg != *part {
                        broken.push(at());
                    } else if !ALL.contains(&seg) {
                        // A root re-export (`crate::Scenario`) would hide the
                        // module it comes from.
                        broken.push(format!("{} (name the module, not the root)", at()));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "upward imports:\n{}", broken.join("\n"));
}

#[test]
fn the_rule_reads_whole_path_segments() {
    let segs = |line| crate_paths(line).collect::<Vec<_>>();
    assert_eq!(segs("use crate::model::Outcome;"), ["model"]);
    assert_eq!(
        segs("    x: crate::models::X, y: crate::kds::HashKey"),
        ["models", "kds"]
    );
    assert_eq!(segs("use crate::Scenario;"), ["Scenario"]);
    assert!(segs("no path here").is_empty());
}
