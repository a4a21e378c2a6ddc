//! Importing amazon-kinesis-scaling-utils' JSON configuration
//! (`policy = { kind = "scaling-utils", config = "..." }`): the same policy as
//! the rules written inline, and clear errors for bad files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use shardcast::scenario::{Policy, Scenario};

use crate::util::shardcast;

// A load that rises past two shards and falls again: the policy scales down,
// up twice and down again in 50 minutes.
const BASE: &str = r#"
name = "su"
duration = "50m"
seed = 3
[stream]
shards = 2
[[producers]]
name = "p"
count = 2
rate = { kind = "steps", steps = [["0s", "300/s"], ["10m", "1800/s"], ["30m", "200/s"]] }
size = "1KiB"
keys = { kind = "random" }
api = "put-records"
batch = { linger = "50ms" }
"#;

const JSON: &str = r#"[
  {
    "streamName": "orders",
    "region": "eu-west-1",
    "scaleOnOperation": "PUT",
    "minShards": 1,
    "maxShards": 8,
    "checkInterval": 30,
    "refreshShardsNumberAfterMin": 5,
    "scaleUp": { "scaleThresholdPct": 70, "scaleAfterMins": 2, "scalePct": 200, "coolOffMins": 3,
                 "notificationARN": "arn:aws:sns:eu-west-1:111122223333:up" },
    "scaleDown": { "scaleThresholdPct": 30, "scaleAfterMins": 5, "scaleCount": 1, "coolOffMins": 10 }
  },
  {
    "streamName": "other",
    "scaleUp": { "scaleThresholdPct": 90, "scaleAfterMins": 1, "scaleCount": 1 },
    "scaleDown": { "scaleThresholdPct": 10, "scaleAfterMins": 1, "scaleCount": 1 }
  }
]"#;

// The "orders" entry written as inline rules.
const INLINE: &str = r#"
[autoscaling]
evaluation_interval = "30s"
min_shards = 1
max_shards = 8
policy = { kind = "scaling-utils", operations = ["PUT"], scale_up = { threshold_pct = 70, after_mins = 2, scale_pct = 200, cool_off_mins = 3 }, scale_down = { threshold_pct = 30, after_mins = 5, scale_count = 1, cool_off_mins = 10 } }
"#;

const IMPORT: &str = r#"
[autoscaling]
policy = { kind = "scaling-utils", config = "conf/scaling.json", stream_name = "orders" }
"#;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = Dir(tempfile::tempdir().unwrap());
        fs::create_dir(d.0.path().join("conf")).unwrap();
        d
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `file` into `out`; returns every report file, with the column that
/// identifies the input (`scenario_md5`, which differs by construction)
/// blanked.
fn run_report(file: &Path, out: &Path) -> BTreeMap<String, String> {
    shardcast()
        .args(["run", s(file), "--out", s(out)])
        .assert()
        .success();
    let mut files: BTreeMap<String, String> = fs::read_dir(out)
        .unwrap()
        // report.html holds each scenario file as given, which differ.
        .filter(|e| e.as_ref().unwrap().file_name() != "report.html")
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    let summary = files.get_mut("summary.csv").unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    let col = lines[0]
        .split(',')
        .position(|c| c == "scenario_md5")
        .unwrap();
    let blanked: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut cells: Vec<&str> = l.split(',').collect();
            if i > 0 {
                cells[col] = "";
            }
            cells.join(",")
        })
        .collect();
    *summary = blanked.join("\n");
    files
}

#[test]
fn an_imported_configuration_is_the_inline_policy() {
    let dir = Dir::new();
    dir.write("conf/scaling.json", JSON);
    let inline = dir.write("inline.toml", &format!("{BASE}{INLINE}"));
    let import = dir.write("import.toml", &format!("{BASE}{IMPORT}"));
    let a = Scenario::load(&inline).unwrap();
    let b = Scenario::load(&import).unwrap();
    assert_eq!(a.autoscaling, b.autoscaling);
    assert!(matches!(
        b.autoscaling.as_ref().unwrap().policy,
        Policy::ScalingUtils {
            put: true,
            get: false,
            ..
        }
    ));
    assert_eq!(b.imports, [dir.path("conf/scaling.json")]);
    // The same outputs, byte for byte, but for the input's digest.
    let ra = run_report(&inline, &dir.path("out-inline"));
    let rb = run_report(&import, &dir.path("out-import"));
    assert!(
        ra["reshards.csv"].lines().count() >= 4,
        "the policy should act: {}",
        ra["reshards.csv"]
    );
    assert_eq!(ra, rb);
}

#[test]
fn the_digest_covers_the_imported_file() {
    let dir = Dir::new();
    let json = dir.write("conf/scaling.json", JSON);
    let import = dir.write("import.toml", &format!("{BASE}{IMPORT}"));
    let md5 = |out: &str| {
        shardcast()
            .args(["run", s(&import), "--out", s(&dir.path(out))])
            .assert()
            .success();
        let summary = fs::read_to_string(dir.path(out).join("summary.csv")).unwrap();
        let lines: Vec<&str> = summary.lines().collect();
        let col = lines[0]
            .split(',')
            .position(|c| c == "scenario_md5")
            .unwrap();
        lines[1].split(',').nth(col).unwrap().to_owned()
    };
    let before = md5("a");
    // Another entry's threshold: the simulated policy is the same, the input is not.
    fs::write(
        &json,
        JSON.replace("\"scaleThresholdPct\": 90", "\"scaleThresholdPct\": 91"),
    )
    .unwrap();
    assert_ne!(before, md5("b"));
}

#[test]
fn defaults_are_scaling_utils_own() {
    let dir = Dir::new();
    dir.write(
        "conf/scaling.json",
        r#"[{"streamName": "s", "scaleUp": {"scaleThresholdPct": 75, "scaleAfterMins": 2, "scalePct": 200},
             "scaleDown": {"scaleThresholdPct": 25, "scaleAfterMins": 2, "scalePct": 50}}]"#,
    );
    let file = dir.write(
        "d.toml",
        &format!(
            "{BASE}\n[autoscaling]\npolicy = {{ kind = \"scaling-utils\", config = \"conf/scaling.json\" }}\n"
        ),
    );
    let a = Scenario::load(&file).unwrap().autoscaling.unwrap();
    // checkInterval 45 s, both operations, cool-offs 0 (KDS-REFERENCE.md §10b.3).
    assert_eq!(a.evaluation_interval, 45_000_000_000);
    assert_eq!((a.min_shards, a.max_shards), (1, 10_000));
    match a.policy {
        Policy::ScalingUtils { up, down, put, get } => {
            assert!(put && get);
            assert_eq!((up.cool_off_mins, down.cool_off_mins), (0, 0));
            assert_eq!(up.scale_pct, Some(200.0));
            assert_eq!(down.threshold_pct, 25.0);
        }
        other => panic!("{other:?}"),
    }
}

/// `validate` refuses `toml` (next to `conf/scaling.json` holding `json`)
/// with one line naming every needle, exit code 2.
fn refused(json: Option<&str>, toml: &str, needles: &[&str]) -> String {
    let dir = Dir::new();
    if let Some(json) = json {
        dir.write("conf/scaling.json", json);
    }
    let file = dir.write("bad.toml", &format!("{BASE}{toml}"));
    let out = shardcast()
        .args(["validate", s(&file)])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        let needle = needle.replace("DIR", s(dir.0.path()));
        assert!(err.contains(&needle), "{needle:?} not in {err}");
    }
    err
}

#[test]
fn bad_imports_are_clear_errors() {
    // The scenario's [autoscaling] table starts on line 16.
    refused(
        None,
        IMPORT,
        &[
            "cannot read DIR/conf/scaling.json",
            "autoscaling.policy.config in DIR/bad.toml line 16",
            // Issue 16: a missing file is named by its full path.
            "no such file: DIR/conf/scaling.json",
        ],
    );
    refused(
        Some("[{\"streamName\": \"orders\",}]"),
        IMPORT,
        &[
            "DIR/conf/scaling.json line 1 column 26: trailing comma",
            "(imported by DIR/bad.toml line 16)",
        ],
    );
    refused(
        Some(&JSON.replace("\"scalePct\": 200", "\"scalePct\": 0")),
        IMPORT,
        &[
            "DIR/conf/scaling.json: [0] (\"orders\").scaleUp.scalePct: 0 is out of range; accepted range is 1 to 10000",
        ],
    );
    refused(
        Some(&JSON.replace("\"checkInterval\": 30", "\"checkInterval\": 30.5")),
        IMPORT,
        &[
            "[0] (\"orders\").checkInterval: 30.5 is not a whole number; accepted range is 1 to 3600",
        ],
    );
    refused(
        Some(&JSON.replace("\"region\"", "\"regionName\"")),
        IMPORT,
        &["[0] (\"orders\"): unknown field `regionName`, expected one of"],
    );
    refused(
        Some(JSON),
        &IMPORT.replace(", stream_name = \"orders\"", ""),
        &[
            "holds 2 streamMonitor entries ([0] \"orders\", [1] \"other\"); choose one with stream_name",
        ],
    );
    refused(
        Some(JSON),
        &IMPORT.replace("\"orders\"", "\"nope\""),
        &["no entry has streamName \"nope\"; its entries are [0] \"orders\", [1] \"other\""],
    );
    refused(
        Some("{\"streamName\": \"orders\"}"),
        IMPORT,
        &["the top level must be an array of streamMonitor objects"],
    );
    // The file sets the bounds and the interval; the scenario may not too.
    refused(
        Some(JSON),
        &IMPORT.replace("[autoscaling]\n", "[autoscaling]\nmax_shards = 4\n"),
        &[
            "DIR/bad.toml line 16: autoscaling.max_shards: cannot be combined with policy.config",
            "maxShards",
        ],
    );
    refused(
        Some(JSON),
        &IMPORT.replace("stream_name", "operations = [\"PUT\"], stream_name"),
        &[
            "autoscaling.policy.operations: cannot be combined with policy.config",
            "scaleOnOperation",
        ],
    );
    refused(
        None,
        "\n[autoscaling]\npolicy = { kind = \"scaling-utils\", stream_name = \"orders\" }\n",
        &["autoscaling.policy.stream_name: applies only with config"],
    );
    refused(
        None,
        "\n[autoscaling]\npolicy = { kind = \"scaling-utils\" }\n",
        &["autoscaling.policy.scale_up: required (or config"],
    );
}

#[test]
fn the_shipped_example_imports_its_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&root.join("scenarios/scaling-utils-import.toml")).unwrap();
    let a = scenario.autoscaling.unwrap();
    assert_eq!((a.min_shards, a.max_shards), (1, 16));
    assert_eq!(a.evaluation_interval, 60_000_000_000);
    assert_eq!(
        scenario.imports,
        [root.join("scenarios/scaling-utils.json")]
    );
}
