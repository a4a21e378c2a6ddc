//! Golden outputs: the report of tests/data/golden/small.toml must not drift.
//! After an intended change, regenerate with
//! `SHARDCAST_BLESS=1 cargo test --test integration golden` and review the diff.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn small_scenario_report_matches_the_committed_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let expected_dir = root.join("small");
    let out = tempfile::tempdir().unwrap();
    for threads in ["1", "2"] {
        // The engine is single-threaded; RAYON_NUM_THREADS must not matter.
        Command::cargo_bin("shardcast")
            .unwrap()
            .current_dir(&root)
            .env("RAYON_NUM_THREADS", threads)
            // report.html is checked in charts.rs; this test is about the CSV files.
            .args(["run", "small.toml", "--no-report", "--out"])
            .arg(out.path())
            .assert()
            .success();
        let bless = std::env::var_os("SHARDCAST_BLESS").is_some();
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "consumer-shards.csv",
                "consumers-timeseries.csv",
                "consumers.csv",
                "cost.csv",
                "keys.csv",
                "reshards.csv",
                "shards.csv",
                "summary.csv",
                "timeseries.csv"
            ]
        );
        for name in &names {
            let got = std::fs::read(out.path().join(name)).unwrap();
            let name = name.as_str();
            let path = expected_dir.join(name);
            if bless {
                std::fs::create_dir_all(&expected_dir).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (run with SHARDCAST_BLESS=1 to create it)",
                    path.display()
                )
            });
            if got != want {
                panic!(
                    "{name} differs from {}:\n--- committed\n{}\n--- now\n{}",
                    path.display(),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got)
                );
            }
        }
    }
}
