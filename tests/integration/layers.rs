//! The layering rule of the crate, checked on its source: nothing imports
//! upward. (The same check by hand: `grep -rnE 'crate::(model|sweep|report)'
//! src/scenario src/workload` prints nothing, and so on for each row below.)

use std::path::{Path, PathBuf};

/// `(files under src/, modules they must not name)`.
const RULES: &[(&str, &[&str])] = &[
    // The service's rules, the kernel and the units stand alone.
    ("kds", &ALL),
    ("sim", &ALL),
    ("units.rs", &ALL),
    // Input: validated scenarios and workloads know no simulation.
    (
        "scenario",
        &[
            "model", "sweep", "report", "plan", "app", "analysis", "charts", "html", "check",
            "compare", "metrics",
        ],
    ),
    (
        "workload",
        &[
            "model", "sweep", "report", "plan", "app", "analysis", "charts", "html", "check",
            "compare", "metrics",
        ],
    ),
    // The simulation knows nothing of what is made of its results.
    (
        "model",
        &[
            "report", "plan", "app", "analysis", "charts", "html", "check", "compare", "sweep",
        ],
    ),
    (
        "metrics.rs",
        &[
            "model", "report", "plan", "app", "analysis", "charts", "html", "check", "compare",
            "sweep",
        ],
    ),
];

const ALL: [&str; 16] = [
    "app", "analysis", "charts", "check", "compare", "html", "kds", "metrics", "model", "plan",
    "report", "scenario", "sim", "sweep", "units", "workload",
];

/// Whether `line` names module `m` by path (`crate::m` followed by `::`,
/// `;`, `}` or a space; not `crate::mx`).
fn names_module(line: &str, m: &str) -> bool {
    let needle = format!("crate::{m}");
    line.match_indices(&needle).any(|(i, _)| {
        !line[i + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
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
        let mut files = Vec::new();
        rust_files(&src.join(part), &mut files);
        assert!(!files.is_empty(), "no source under src/{part}");
        // A module may name itself (`crate::kds::...` inside kds).
        let own = part.trim_end_matches(".rs");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                // Grouped paths would hide a module's name from this check.
                if line.contains("crate::{") {
                    broken.push(format!(
                        "{}:{}: grouped import: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
                for m in forbidden.iter().filter(|&&m| m != own) {
                    if names_module(line, m) {
                        broken.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "upward imports:\n{}", broken.join("\n"));
}

#[test]
fn the_rule_sees_whole_module_names_only() {
    assert!(names_module("use crate::model::Throttle;", "model"));
    assert!(names_module("    x: crate::model::Outcome,", "model"));
    assert!(!names_module("use crate::models::X;", "model"));
    assert!(!names_module("use crate::modeling;", "model"));
}
