//! The page a planner reads (issue 16, item 3): report.html leads with a
//! verdict that names the headroom, numbers are formatted for reading, the
//! short tables come first with cost in view and every CSV column folded
//! below; the charts' legends, axes, palette and fonts read right.

use std::fs;
use std::path::Path;

use shardcast::charts::{Chart, render_svg, run_charts};
use shardcast::model::{RunOptions, simulate};
use shardcast::report;
use shardcast::scenario::Scenario;

use crate::util::{scenario, shardcast};

/// The golden scenario: throttled past its objective, consumers, reshards.
fn golden() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden/small.toml");
    fs::read_to_string(path).unwrap()
}

/// A light load: one shard at a fifth of its records limit, evenly.
const LIGHT: &str = r#"
name = "light"
duration = "10s"
seed = 1
[stream]
shards = 1
[[producers]]
name = "p"
rate = "200/s"
arrivals = "even"
size = "100B"
keys = { kind = "random" }
[slo]
max_throttle_rate = 0.001
"#;

fn parse(html: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, opts).unwrap()
}

/// Runs `toml` through the CLI; report.html and summary.csv.
fn run_page(toml: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, toml).unwrap();
    let out = dir.path().join("out");
    shardcast()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    (
        fs::read_to_string(out.join("report.html")).unwrap(),
        fs::read_to_string(out.join("summary.csv")).unwrap(),
    )
}

/// summary.csv's value of `field`.
fn field(csv: &str, field: &str) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == field).unwrap();
    row[i].to_owned()
}

/// All text under `node`, `<code>` left out (identifiers are verbatim).
fn prose(node: roxmltree::Node<'_, '_>) -> String {
    let mut out = String::new();
    for d in node.descendants() {
        if d.is_text() && !d.ancestors().any(|a| a.has_tag_name("code")) {
            out.push_str(d.text().unwrap_or(""));
            out.push(' ');
        }
    }
    out
}

/// Runs of four digits or more that are not decimals: numbers a reader
/// must count the digits of.
fn ungrouped(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let decimals = start > 0 && b[start - 1] == b'.';
            if i - start >= 4 && !decimals {
                found.push(text[start..i].to_owned());
            }
        } else {
            i += 1;
        }
    }
    found
}

/// `n` with thousands separators, written independently of the page's code.
fn commas(n: u64) -> String {
    let s = n.to_string();
    let mut parts = Vec::new();
    let mut end = s.len();
    while end > 3 {
        parts.push(&s[end - 3..end]);
        end -= 3;
    }
    parts.push(&s[..end]);
    parts.reverse();
    parts.join(",")
}

/// The body's elements in order, after the title.
fn body_after_title<'a>(doc: &'a roxmltree::Document<'a>) -> Vec<roxmltree::Node<'a, 'a>> {
    let body = doc.descendants().find(|n| n.has_tag_name("body")).unwrap();
    body.children()
        .filter(|n| n.is_element())
        .skip_while(|n| n.has_tag_name("h1"))
        .collect()
}

#[test]
fn r16_verdict_comes_first_and_names_the_headroom() {
    // Throttled: the busiest shard is offered more than its limit.
    let (html, _) = run_page(&golden());
    let doc = parse(&html);
    let first = body_after_title(&doc)[0];
    assert!(first.has_tag_name("section"), "{:?}", first.tag_name());
    assert_eq!(first.attribute("class"), Some("verdict fail"));
    let text = prose(first);
    assert!(text.contains("Misses 1 of its 1 objective."), "{text}");
    assert!(text.contains("Warning: no headroom."), "{text}");
    assert!(text.contains("Peaks of 95 % and more"), "{text}");

    // A fifth of the limit: headroom stated, no warning, a pass.
    let (html, csv) = run_page(LIGHT);
    let doc = parse(&html);
    let first = body_after_title(&doc)[0];
    assert_eq!(first.attribute("class"), Some("verdict pass"));
    let text = prose(first);
    assert!(text.contains("Meets its objectives (1 of 1)."), "{text}");
    assert!(!text.contains("Warning"), "{text}");
    let peak: f64 = field(&csv, "peak_offered_utilisation").parse().unwrap();
    assert!(peak > 0.1 && peak < 0.5, "{peak}");
    let room = format!(
        "Headroom: {} %",
        ((1.0 - peak) * 100.0 * 10.0).round() / 10.0
    );
    assert!(text.contains(&room), "{room:?} in {text}");
}

#[test]
fn r16_numbers_are_grouped_and_fractions_are_percentages() {
    let (html, csv) = run_page(&golden());
    let doc = parse(&html);
    // The verdict and the key figures: everything before the folded table.
    let parts = body_after_title(&doc);
    let readable: Vec<_> = parts
        .iter()
        .take_while(|n| !n.has_tag_name("details"))
        .collect();
    assert!(readable.len() >= 3, "verdict, heading, figures");
    let text: String = readable.iter().map(|n| prose(**n)).collect();
    assert_eq!(ungrouped(&text), Vec::<String>::new(), "{text}");
    let attempts: u64 = field(&csv, "attempts").parse().unwrap();
    assert!(attempts > 9_999, "{attempts}");
    assert!(text.contains(&commas(attempts)), "{text}");
    // The raw fractions of summary.csv are not shown as such; their
    // percentages are.
    for f in [
        "throttle_rate",
        "peak_offered_utilisation",
        "mean_shard_utilisation",
    ] {
        let raw = field(&csv, f);
        assert!(!text.contains(&raw), "{f} shown raw: {raw}");
    }
    let figures = readable
        .iter()
        .find(|n| n.attribute("class") == Some("scroll"))
        .unwrap();
    for row in figures.descendants().filter(|n| n.has_tag_name("tr")) {
        let cells: Vec<String> = row
            .children()
            .filter(|c| c.is_element())
            .map(|c| prose(c).trim().to_owned())
            .collect();
        if cells[0].contains("utilisation") || cells[0] == "attempts throttled" {
            assert!(cells[1].contains(" %"), "{cells:?}");
        }
        if cells[0] == "cost" {
            assert!(cells[1].starts_with('$'), "{cells:?}");
        }
    }
    // Every field of summary.csv is still there, folded.
    let details = parts.iter().find(|n| n.has_tag_name("details")).unwrap();
    let full = prose(*details);
    let codes: Vec<&str> = details
        .descendants()
        .filter(|n| n.has_tag_name("code"))
        .filter_map(|n| n.text())
        .collect();
    for name in csv.lines().next().unwrap().split(',') {
        assert!(codes.contains(&name), "{name} not in the folded table");
    }
    assert!(full.contains("All 33 fields of summary.csv"), "{full}");
}

fn golden_charts() -> Vec<Chart> {
    let text = golden();
    let s = Scenario::parse(&text, Path::new("small.toml")).unwrap();
    let out = simulate(&s, RunOptions::default()).unwrap();
    let rep = report::build(&s, &out, "").unwrap();
    run_charts(&s, &out, &rep)
}

fn svg_of(charts: &[Chart], name: &str) -> String {
    render_svg(charts.iter().find(|c| c.name == name).unwrap()).unwrap()
}

/// `(text, x, y)` of every text element.
fn texts(doc: &roxmltree::Document<'_>) -> Vec<(String, f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).unwrap_or("0").parse::<f64>().unwrap();
            (n.text().unwrap_or("").trim().to_owned(), num("x"), num("y"))
        })
        .collect()
}

/// Horizontal strokes (polylines and lines): `(x0, x1, y)`.
fn strokes(doc: &roxmltree::Document<'_>) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    for n in doc.descendants() {
        let pts: Vec<(f64, f64)> = if n.has_tag_name("polyline") {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        } else if n.has_tag_name("line") {
            let a = |k: &str| n.attribute(k).unwrap().parse::<f64>().unwrap();
            vec![(a("x1"), a("y1")), (a("x2"), a("y2"))]
        } else {
            continue;
        };
        if pts.len() == 2 && pts[0].1 == pts[1].1 {
            out.push((pts[0].0.min(pts[1].0), pts[0].0.max(pts[1].0), pts[0].1));
        }
    }
    out
}

/// The strokes of the legend swatch left of the label starting `label`.
fn swatch(svg: &str, label: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let (_, tx, ty) = texts(&doc)
        .into_iter()
        .find(|t| t.0.starts_with(label))
        .unwrap_or_else(|| panic!("no legend entry {label:?}"));
    strokes(&doc)
        .into_iter()
        .filter(|&(x0, x1, y)| x0 >= tx - 35.0 && x1 < tx && y >= ty - 2.0 && y <= ty + 16.0)
        .count()
}

#[test]
fn r16_legend_swatches_are_dashed_where_the_series_is() {
    let charts = golden_charts();
    let throttle = svg_of(&charts, "throttle");
    assert!(swatch(&throttle, "objective: at most") >= 2, "dashed");
    assert_eq!(swatch(&throttle, "throttle rate (per"), 1, "solid");
    let load = svg_of(&charts, "load");
    assert!(swatch(&load, "capacity (open shards") >= 2, "dashed");
    assert_eq!(swatch(&load, "offered (attempts"), 1, "solid");
    let keys = svg_of(&charts, "keys");
    assert!(swatch(&keys, "one shard's limit") >= 2, "dashed");
}

#[test]
fn r16_svg_text_names_dejavu_and_the_page_declares_it() {
    for c in golden_charts() {
        let svg = render_svg(&c).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let mut n = 0;
        for t in doc.descendants().filter(|t| t.has_tag_name("text")) {
            assert_eq!(
                t.attribute("font-family"),
                Some("DejaVu Sans"),
                "{}",
                c.name
            );
            n += 1;
        }
        assert!(n > 3, "{}: {n} texts", c.name);
    }
    let (html, _) = run_page(LIGHT);
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap();
    assert!(
        style.contains("@font-face{font-family:\"DejaVu Sans\";src:local(\"DejaVu Sans\")"),
        "{style}"
    );
    // The charts' text falls back to faces of like width where DejaVu is
    // not installed.
    assert!(
        style.contains("figure svg text{font-family:\"DejaVu Sans\",Verdana,"),
        "{style}"
    );
}

/// The y tick labels of a chart (text left of the plot).
fn y_ticks(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    texts(&doc)
        .into_iter()
        .filter(|t| t.1 < 90.0 && t.2 > 30.0)
        .map(|t| t.0)
        .collect()
}

#[test]
fn r16_throttle_axes_resolve_a_tenth_of_a_percent() {
    let charts = golden_charts();
    let ticks = y_ticks(&svg_of(&charts, "throttle"));
    for want in ["0", "0.01 %", "0.1 %", "1 %", "10 %", "100 %"] {
        assert!(ticks.iter().any(|t| t == want), "{want} not in {ticks:?}");
    }
    // The plan's chart too, with an objective of 0.1 %.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    fs::write(
        &file,
        LIGHT.replace("rate = \"200/s\"", "rate = \"1500/s\""),
    )
    .unwrap();
    let out = dir.path().join("plan");
    shardcast()
        .args(["plan", "-r", "2", "--max-shards", "3", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let doc = parse(&html);
    let fig = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("throttle-vs-shards"))
        .unwrap();
    let labels: Vec<String> = fig
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
        .collect();
    for want in ["0.1 %", "1 %", "10 %", "objective: at most 0.1 %"] {
        assert!(labels.iter().any(|t| t == want), "{want} not in {labels:?}");
    }
}

#[test]
fn r16_heatmap_labels_shards_beside_the_data_on_the_load_charts_time_axis() {
    let charts = golden_charts();
    let heat = svg_of(&charts, "heatmap");
    let doc = roxmltree::Document::parse(&heat).unwrap();
    let t = texts(&doc);
    assert!(!heat.contains("hottest:"), "a label box over the data");
    // The cells' left edge: the plot's.
    let left = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter_map(|n| n.attribute("x")?.parse::<f64>().ok())
        .filter(|x| *x > 20.0)
        .fold(f64::INFINITY, f64::min);
    // The golden run ends with shards 2.. open (after a merge and a
    // resharding to 4): each is labelled left of the plot.
    let shard_labels: Vec<&(String, f64, f64)> = t
        .iter()
        .filter(|x| x.0.parse::<u32>().is_ok() && x.1 < left)
        .collect();
    assert!(shard_labels.len() >= 3, "{t:?}");
    // The time axis has the same ticks at the same places as the load
    // chart's: stacked in the page, the charts line up.
    let x_ticks = |svg: &str| {
        let doc = roxmltree::Document::parse(svg).unwrap();
        // Centred numbers below the plot (the y axis's are right-aligned).
        let mut v: Vec<(String, i64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("middle"))
            .filter_map(|n| {
                let t = n.text()?.trim().to_owned();
                let x: f64 = n.attribute("x")?.parse().ok()?;
                let y: f64 = n.attribute("y")?.parse().ok()?;
                (y > 400.0 && t.parse::<f64>().is_ok()).then(|| (t, x.round() as i64))
            })
            .collect();
        v.sort();
        v
    };
    let load = svg_of(&charts, "load");
    assert!(x_ticks(&load).len() >= 4, "{:?}", x_ticks(&load));
    assert_eq!(x_ticks(&heat), x_ticks(&load));
    assert_eq!(x_ticks(&svg_of(&charts, "throttle")), x_ticks(&load));
    assert_eq!(x_ticks(&svg_of(&charts, "shards")), x_ticks(&load));
}

#[test]
fn r16_per_second_peaks_are_kept_and_drawn() {
    let s = scenario(&golden());
    let out = simulate(&s, RunOptions { per_second: true }).unwrap();
    let seconds = out.metrics.seconds.as_ref().unwrap();
    for m in &out.metrics.minutes {
        let inside: Vec<_> = seconds
            .iter()
            .filter(|r| r.start_secs / 60 * 60 == m.start_secs)
            .collect();
        let most = inside
            .iter()
            .map(|r| r.shards.offered_records)
            .max()
            .unwrap();
        assert_eq!(m.peak_second.offered_records, most);
        let rate = inside
            .iter()
            .filter(|r| r.shards.offered_records > 0)
            .map(|r| r.shards.throttled_records as f64 / r.shards.offered_records as f64)
            .fold(0.0, f64::max);
        assert_eq!(m.peak_second.throttle_rate, rate);
        // The spike makes the busiest second busier than the mean one.
        assert!(most as f64 * inside.len() as f64 >= m.shards.offered_records as f64);
    }
    let charts = golden_charts();
    assert!(svg_of(&charts, "load").contains("offered in the busiest second"));
    assert!(svg_of(&charts, "throttle").contains("throttle rate in the busiest second"));
}

#[test]
fn r16_plan_and_sweep_tables_put_cost_first_and_fold_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    // 5,000 records/s under one key: no shard count and no on-demand stream
    // takes it, so the on-demand line must say it misses.
    fs::write(
        &file,
        LIGHT
            .replace("rate = \"200/s\"", "rate = \"5000/s\"")
            .replace(
                "keys = { kind = \"random\" }",
                "keys = { kind = \"zipf\", count = 1, exponent = 1.0 }",
            ),
    )
    .unwrap();
    let out = dir.path().join("plan");
    shardcast()
        .args([
            "plan",
            "-r",
            "2",
            "--max-shards",
            "2",
            "--on-demand",
            "--out",
        ])
        .arg(&out)
        .arg(&file)
        .assert()
        // No count meets the objectives: `plan` says so with exit code 1,
        // and still writes its report.
        .code(1);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let csv_header = fs::read_to_string(out.join("plan.csv")).unwrap();
    let csv_header: Vec<String> = csv_header
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_short_then_full(&html, &csv_header);
    assert!(html.contains("on-demand: $"), "no on-demand line");
    assert!(
        html.contains("MISSES the objectives ("),
        "on-demand line without its verdict"
    );

    let sweep = dir.path().join("sweep");
    shardcast()
        .arg("sweep")
        .arg(&file)
        .args([
            "--set",
            "stream.shards=1,2",
            "--set",
            "producers.p.rate=100/s,300/s",
            "-r",
            "2",
            "--out",
        ])
        .arg(&sweep)
        .assert()
        .success();
    let html = fs::read_to_string(sweep.join("report.html")).unwrap();
    let header: Vec<String> = fs::read_to_string(sweep.join("sweep-summary.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_short_then_full(&html, &header);
}

/// The first table after the verdict is short, with the monthly cost
/// among its first columns; every CSV column is in a folded table.
fn assert_short_then_full(html: &str, csv_header: &[String]) {
    let doc = parse(html);
    let parts = body_after_title(&doc);
    assert!(parts[0].has_tag_name("section"));
    let short = parts
        .iter()
        .find(|n| n.has_tag_name("div"))
        .and_then(|d| d.descendants().find(|n| n.has_tag_name("table")))
        .unwrap();
    let head: Vec<String> = short
        .descendants()
        .find(|n| n.has_tag_name("tr"))
        .unwrap()
        .children()
        .filter(|c| c.is_element())
        .map(|c| prose(c).trim().to_owned())
        .collect();
    assert!(head.len() <= 9, "{head:?}");
    let cost = head.iter().position(|h| h == "monthly cost").unwrap();
    assert!(cost <= 3, "{head:?}");
    // Costs are dollars with cents; no raw long numbers.
    for row in short.descendants().filter(|n| n.has_tag_name("tr")).skip(1) {
        let cells: Vec<String> = row
            .children()
            .filter(|c| c.is_element())
            .map(|c| prose(c).trim().to_owned())
            .collect();
        assert!(cells[cost].starts_with('$'), "{cells:?}");
        assert_eq!(ungrouped(&cells.join(" ")), Vec::<String>::new());
    }
    let details = parts.iter().find(|n| n.has_tag_name("details")).unwrap();
    let full: Vec<String> = details
        .descendants()
        .filter(|n| n.has_tag_name("th"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    assert_eq!(full, csv_header);
}
