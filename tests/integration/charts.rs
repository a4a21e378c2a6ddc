//! Charts and report.html (issue 7, items 3-5): every chart renders for an
//! ordinary run and for the edge cases, twice to the same bytes; the page
//! parses and loads nothing from elsewhere; --no-report and --png.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use shardcast::charts::{
    CHART_NAMES, Chart, SweepData, plan_charts, render_png, render_svg, run_charts, sweep_charts,
};
use shardcast::model::{RunOptions, simulate};
use shardcast::plan::{Estimate, PlanOptions, plan};
use shardcast::report;
use shardcast::scenario::Scenario;
use shardcast::sweep::{PointSummary, SweepSummary};

use crate::util::{scenario, shardcast};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn golden_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// The golden scenario: keys, a hot key, reshards, consumers, throttling.
fn ordinary() -> (Scenario, String) {
    let path = golden_dir().join("small.toml");
    let text = fs::read_to_string(&path).unwrap();
    (Scenario::parse(&text, &path).unwrap(), text)
}

/// Renders each chart twice as SVG and as PNG: the same bytes each time,
/// an SVG that is well-formed XML, a PNG with its signature.
fn assert_renders(charts: &[Chart], what: &str) {
    for c in charts {
        assert!(CHART_NAMES.contains(&c.name), "{what}: {}", c.name);
        let svg = render_svg(c).unwrap_or_else(|e| panic!("{what}: {}: {e}", c.name));
        assert_eq!(
            svg,
            render_svg(c).unwrap(),
            "{what}: {} SVG differs",
            c.name
        );
        roxmltree::Document::parse(&svg)
            .unwrap_or_else(|e| panic!("{what}: {} SVG does not parse: {e}", c.name));
        let png = render_png(c).unwrap();
        assert!(png.starts_with(PNG_SIGNATURE), "{what}: {}", c.name);
        assert_eq!(
            png,
            render_png(c).unwrap(),
            "{what}: {} PNG differs",
            c.name
        );
        assert!(!c.caption.is_empty() && !c.title.is_empty());
    }
}

fn charts_of(s: &Scenario) -> Vec<Chart> {
    let out = simulate(s, RunOptions::default()).unwrap();
    let rep = report::build(s, &out, "").unwrap();
    run_charts(s, &out, &rep)
}

fn names(charts: &[Chart]) -> Vec<&'static str> {
    charts.iter().map(|c| c.name).collect()
}

#[test]
fn run_charts_render_and_are_byte_stable() {
    let (s, _) = ordinary();
    let charts = charts_of(&s);
    assert_eq!(
        names(&charts),
        [
            "load",
            "throttle",
            "heatmap",
            "shards",
            "iterator-age",
            "keys"
        ]
    );
    assert_renders(&charts, "golden");
    // The reshards are marked on the shard chart, the hot key has a red bar.
    let shards = render_svg(&charts[3]).unwrap();
    assert!(shards.contains("request completed"), "{shards}");
    let keys = render_svg(&charts[5]).unwrap();
    assert!(keys.contains("web:hot") && keys.contains("1,000 records/s"));
}

#[test]
fn edge_cases_render() {
    // One shard, no throttling, no consumers, one minute, random keys (no
    // key chart).
    let one = scenario(
        r#"
name = "one"
duration = "60s"
[stream]
shards = 1
[[producers]]
name = "p"
rate = "10/s"
size = "100B"
keys = { kind = "random" }
"#,
    );
    let charts = charts_of(&one);
    assert_eq!(names(&charts), ["load", "throttle", "heatmap", "shards"]);
    assert_renders(&charts, "one shard");

    // A thousand shards, a key table; a run shorter than a minute.
    let many = scenario(
        r#"
name = "many"
duration = "5s"
[stream]
shards = 1000
[[producers]]
name = "p"
rate = "2000/s"
size = "100B"
keys = { kind = "uniform", count = 5000 }
"#,
    );
    let charts = charts_of(&many);
    assert!(names(&charts).contains(&"keys"));
    assert_renders(&charts, "1,000 shards");

    // Nothing produced at all: empty series.
    let idle = scenario(
        r#"
name = "idle"
duration = "2s"
[stream]
shards = 2
[[producers]]
name = "p"
rate = { kind = "steps", steps = [["0s", "0/s"], ["10s", "5/s"]] }
size = "100B"
keys = { kind = "uniform", count = 3 }
[[consumers]]
name = "c"
"#,
    );
    let charts = charts_of(&idle);
    assert!(names(&charts).contains(&"iterator-age"));
    assert!(!names(&charts).contains(&"keys"), "no key wrote a record");
    assert_renders(&charts, "idle");
}

#[test]
fn plan_and_sweep_charts_render() {
    let s = scenario(
        r#"
name = "small"
duration = "20s"
[stream]
shards = 1
[[producers]]
name = "p"
rate = "1500/s"
size = "100B"
keys = { kind = "random" }
"#,
    );
    let p = plan(
        &s,
        PlanOptions {
            replications: 2,
            min_shards: 1,
            max_shards: 8,
            on_demand: true,
        },
    )
    .unwrap();
    let charts = plan_charts(&p);
    assert_eq!(names(&charts), ["throttle-vs-shards", "cost-vs-shards"]);
    assert_renders(&charts, "plan");
    assert!(render_svg(&charts[1]).unwrap().contains("on-demand"));

    // A plan that ran nothing, and sweeps of one, two and three axes.
    let mut empty = p.clone();
    empty.candidates.clear();
    empty.recommended = None;
    assert_renders(&plan_charts(&empty), "empty plan");
    // Rows as sweep-summary.csv would have them: point, the axes,
    // replications, then throttle rate, cost and slo_pass (mean, ci95).
    let summary = |axes: &[&str], rows: &[&str]| SweepSummary {
        axes: axes.iter().map(|a| (*a).to_owned()).collect(),
        points: rows
            .iter()
            .map(|r| {
                let cells: Vec<&str> = r.split(',').collect();
                let n = axes.len();
                let est = |i: usize| {
                    let mean = cells[i].parse::<f64>().ok()?;
                    let ci95 = cells[i + 1].parse::<f64>().unwrap_or(0.0);
                    Some(Estimate { mean, ci95 })
                };
                let mut estimates = [None; 10];
                estimates[0] = est(n + 2);
                estimates[8] = est(n + 4);
                estimates[9] = est(n + 6);
                PointSummary {
                    point: cells[0].parse().unwrap(),
                    params: cells[1..=n].iter().map(|c| (*c).to_owned()).collect(),
                    replications: cells[n + 1].parse().unwrap(),
                    engine: shardcast::scenario::EngineKind::Record,
                    estimates,
                }
            })
            .collect(),
    };
    let cases: [(&[&str], Vec<&str>, &[&str]); 4] = [
        (&["stream.shards"], vec![], &[]),
        (
            &["stream.shards"],
            vec!["0,1,2,0.5,0.01,10.0,0.1,,", "1,64,2,0.0,0.0,640.0,0.0,,"],
            &["throttle-vs-shards", "cost-vs-shards"],
        ),
        (
            &["stream.shards", "producers.p.rate"],
            vec![
                "0,1,100/s,2,0.2,0.01,10.0,0.1,1.000,0.000",
                "1,1,200/s,2,0.4,0.02,10.0,0.1,0.000,0.000",
                "2,2,100/s,2,0.0,0.0,20.0,0.0,1.000,0.000",
                "3,2,200/s,2,0.1,0.01,20.0,0.0,0.500,0.300",
            ],
            &["throttle-vs-shards", "cost-vs-shards", "sweep-heatmap"],
        ),
        (
            &["a", "b", "c"],
            vec!["0,x,y,1,2,0.3,0.0,1.0,0.0,,", "1,x,y,2,2,0.1,0.0,1.0,0.0,,"],
            &["sweep-heatmap"],
        ),
    ];
    for (axes, rows, want) in cases {
        let summary = summary(axes, &rows);
        let charts = sweep_charts(&SweepData {
            summary: &summary,
            max_throttle_rate: Some(0.01),
        })
        .unwrap();
        if rows.is_empty() {
            assert_renders(&charts, "empty sweep");
            continue;
        }
        assert_eq!(names(&charts), want, "{axes:?}");
        assert_renders(&charts, "sweep");
        if axes.len() == 3 {
            assert!(charts[0].caption.contains("averaged over c"));
        }
    }
    assert!(
        sweep_charts(&SweepData {
            summary: &SweepSummary {
                axes: vec!["x".to_owned(), "y".to_owned()],
                points: summary(&["x"], &["0,1,1,0.1,0.0,1.0,0.0,,"]).points,
            },
            max_throttle_rate: None,
        })
        .is_err(),
        "a point without a value per axis is an error, not a panic"
    );
}

/// Every file of a directory tree, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if e.file_type().unwrap().is_dir() {
            for (k, v) in tree(&e.path()) {
                out.insert(format!("{name}/{k}"), v);
            }
        } else {
            out.insert(name, fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Checks that `html` is well-formed (as XHTML) and loads nothing: no
/// script, no style sheet or font link, no image or source attribute, no
/// URL at all.
fn assert_self_contained(html: &str) {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(html, opts)
        .unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "html");
    for n in doc.descendants().filter(|n| n.is_element()) {
        let tag = n.tag_name().name();
        assert!(
            ![
                "script", "link", "img", "iframe", "object", "embed", "image"
            ]
            .contains(&tag),
            "a <{tag}> element"
        );
        for a in n.attributes() {
            assert!(
                !["src", "href"].contains(&a.name()),
                "<{tag} {}={:?}>",
                a.name(),
                a.value()
            );
        }
    }
    for needle in ["http:", "https:", "url(", "@import", "//"] {
        assert!(!html.contains(needle), "report.html contains {needle:?}");
    }
    // The verdict comes first, then the summary, the charts, the scenario.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s:?}"));
    assert!(at("class=\"verdict") < at("<h2>"));
    assert!(at("<h2>Charts</h2>") < at("<h2>Scenario file</h2>"));
}

#[test]
fn run_writes_a_self_contained_page_and_pngs_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = ordinary();
    let file = dir.path().join("small.toml");
    // No URL in the scenario, so that any URL in the page is ours.
    fs::write(&file, &text).unwrap();
    let out = dir.path().join("out");
    let run = |out: &Path, extra: &[&str]| {
        shardcast()
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(out)
            .args(extra)
            .assert()
            .success();
    };
    run(&out, &["--png"]);
    let files = tree(&out);
    let html = String::from_utf8(files["report.html"].clone()).unwrap();
    assert_self_contained(&html);
    // The golden run misses its one objective (summary.csv: `fail: max_throttle_rate ...`).
    assert!(html.contains("Misses 1 of its 1 objective."), "{html}");
    assert!(html.contains("<td class=\"miss\">misses</td>"));
    assert!(html.contains("Seed 99") && html.contains(env!("CARGO_PKG_VERSION")));
    // The scenario file as given, escaped.
    assert!(html.contains("name = &quot;golden-small&quot;"));
    for name in [
        "load",
        "throttle",
        "heatmap",
        "shards",
        "iterator-age",
        "keys",
    ] {
        assert!(html.contains(&format!("<figure id=\"{name}\">")), "{name}");
        let png = &files[&format!("charts/{name}.png")];
        assert!(png.starts_with(PNG_SIGNATURE), "{name}");
    }
    // Byte-stable across reruns.
    let again = dir.path().join("again");
    run(&again, &["--png"]);
    assert_eq!(tree(&again), files, "a rerun wrote other bytes");

    // The CSV files are the committed golden ones, with or without a page.
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".csv")) {
        let want = fs::read(golden_dir().join("small").join(name)).unwrap();
        assert!(bytes == &want, "{name} differs from the golden report");
    }

    // --no-report over the same directory: no page, and the stale page and
    // charts are gone; the CSV files are the same bytes.
    run(&out, &["--no-report"]);
    let plain = tree(&out);
    assert!(!plain.contains_key("report.html"));
    assert!(!out.join("charts").exists(), "{:?}", plain.keys());
    let csvs = |t: &BTreeMap<String, Vec<u8>>| {
        t.iter()
            .filter(|(n, _)| n.ends_with(".csv"))
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(csvs(&plain), csvs(&files));
    // --png alone: the images, no page.
    run(&out, &["--no-report", "--png"]);
    let t = tree(&out);
    assert!(!t.contains_key("report.html") && t.contains_key("charts/load.png"));
}

#[test]
fn plan_and_sweep_write_pages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("grid.toml");
    fs::write(
        &file,
        r#"
name = "grid"
duration = "10s"
seed = 3
[stream]
shards = 1
[[producers]]
name = "web"
rate = "1500/s"
size = "200B"
keys = { kind = "zipf", count = 50, exponent = 1.0 }
[slo]
max_throttle_rate = 0.01
"#,
    )
    .unwrap();
    let out = dir.path().join("plan");
    shardcast()
        .args(["plan", "-r", "2", "--max-shards", "8", "--png", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let files = tree(&out);
    let html = String::from_utf8(files["report.html"].clone()).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("<strong>Recommendation:"), "{html}");
    assert!(files["charts/cost-vs-shards.png"].starts_with(PNG_SIGNATURE));

    let sweep = dir.path().join("sweep");
    let run_sweep = |out: &Path, extra: &[&str]| {
        shardcast()
            .arg("sweep")
            .arg(&file)
            .args([
                "--set",
                "stream.shards=1..3",
                "--set",
                "producers.web.keys.exponent=0.8,1.2",
            ])
            .args(["-r", "2", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success();
    };
    run_sweep(&sweep, &[]);
    let html = fs::read_to_string(sweep.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("Best point meeting the objectives") || html.contains("No point meets"));
    for id in ["throttle-vs-shards", "cost-vs-shards", "sweep-heatmap"] {
        assert!(html.contains(&format!("<figure id=\"{id}\">")), "{id}");
    }
    // A part gets no page; the merge of the parts does.
    let part = dir.path().join("part");
    run_sweep(&part, &["--partition", "1/1", "--no-report"]);
    assert!(!part.join("report.html").exists());
    let merged = dir.path().join("merged");
    shardcast()
        .arg("merge")
        .arg(&part)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let merged_html = fs::read_to_string(merged.join("report.html")).unwrap();
    assert_self_contained(&merged_html);
    assert!(merged_html.contains("Not available: this sweep was merged"));
}
