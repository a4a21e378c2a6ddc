//! Prints the agreement of the shard engine with the record engine on the
//! validation scenarios (scenarios/validation/), as the Markdown table of
//! docs/engines.md:
//!
//! ```sh
//! cargo run --release --example engine_agreement -- [REPS] [FILES...]
//! ```
//!
//! REPS seeds per scenario (default 5); FILES default to every validation
//! scenario.

#[path = "../tests/integration/agreement.rs"]
#[allow(dead_code)]
mod agreement;

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let reps = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if files.is_empty() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation");
        files = std::fs::read_dir(&dir)
            .expect("scenarios/validation is readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
    }
    let mut all = Vec::new();
    for f in &files {
        let t = std::time::Instant::now();
        let rows = agreement::compare(f, reps);
        eprintln!("{}: {:.1} s", f.display(), t.elapsed().as_secs_f64());
        all.extend(rows);
    }
    print!("{}", agreement::markdown(&all));
    let out = all.iter().filter(|r| !r.ok).count();
    eprintln!("{} rows, {out} out of tolerance", all.len());
}
