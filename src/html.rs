//! `report.html`: one self-contained page per run, plan or sweep.
//!
//! The page is the verdict first, then the summary table, the charts
//! (inline SVG), the scenario file as given, and the seed and version. It
//! loads nothing: no scripts, no style sheets, fonts or images from
//! elsewhere, no links needed to read it. The markup is also well-formed
//! XML (every element closed, only XML's five entities), so tools that
//! read XHTML can parse it. Like every report file it carries no clock time.

use std::fmt::Write as _;

use crate::analysis::fmt_value;
use crate::charts::{Chart, ChartError, render_svg};
use crate::model::EngineChoice;
use crate::plan::Plan;
use crate::report::RunReport;
use crate::scenario::EngineKind;
use crate::sweep::{METRICS, Manifest, PointSummary, SweepSummary};

/// A sweep summary table lists at most this many points (the CSV has all).
pub(crate) const MAX_TABLE_ROWS: usize = 200;

const STYLE: &str = "\
body{font-family:\"DejaVu Sans\",Verdana,Helvetica,Arial,sans-serif;color:#222;\
max-width:1000px;margin:1.5em auto;padding:0 1em;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;\
border-bottom:1px solid #ddd;padding-bottom:.2em}\
.verdict{border-left:6px solid #888;background:#f4f4f4;padding:.6em 1em;margin:1em 0}\
.verdict.pass{border-color:#1e8c3c;background:#eef8f0}\
.verdict.fail{border-color:#c81e1e;background:#fcefee}\
.verdict p{margin:.4em 0}.big{font-size:1.2em;font-weight:bold}\
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.ok{color:#1e8c3c;font-weight:bold}.miss{color:#c81e1e;font-weight:bold}\
.scroll{overflow-x:auto}\
figure{margin:1.2em 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:.9em;color:#444;margin-top:.3em}\
pre{background:#f7f7f7;border:1px solid #e2e2e2;padding:.8em;overflow-x:auto;font-size:.85em}\
footer{margin-top:2em;font-size:.85em;color:#555;border-top:1px solid #ddd;padding-top:.5em}\
code{background:#f2f2f2;padding:0 .2em}";

/// The files a run, plan or sweep writes by default or when asked:
/// report.html (not with `--no-report`) and `charts/NAME.png` (with
/// `--png`); an older one that a run does not write is removed.
pub(crate) fn page_files() -> Vec<String> {
    std::iter::once("report.html".to_owned())
        .chain(
            crate::charts::CHART_NAMES
                .iter()
                .map(|n| format!("charts/{n}.png")),
        )
        .collect()
}

/// Text escaped for HTML and XML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The parts every page has.
struct Page<'a> {
    title: String,
    verdict_class: &'static str,
    verdict: String,
    summary_heading: &'static str,
    summary: String,
    charts: &'a [Chart],
    scenario_text: Option<&'a str>,
    footer: String,
}

fn render(page: &Page<'_>) -> Result<String, ChartError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&page.title),
        escape(&page.title)
    );
    let _ = write!(
        h,
        "<section class=\"verdict {}\">\n{}</section>\n",
        page.verdict_class, page.verdict
    );
    let _ = write!(
        h,
        "<h2>{}</h2>\n<div class=\"scroll\">\n{}</div>\n",
        page.summary_heading, page.summary
    );
    if !page.charts.is_empty() {
        h.push_str("<h2>Charts</h2>\n");
    }
    for chart in page.charts {
        let svg = inline_svg(&render_svg(chart)?, &chart.title);
        let _ = write!(
            h,
            "<figure id=\"{}\">\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
            chart.name,
            escape(&chart.caption)
        );
    }
    h.push_str("<h2>Scenario file</h2>\n");
    match page.scenario_text {
        Some(t) => {
            let _ = writeln!(h, "<pre>{}</pre>", escape(t));
        }
        None => h.push_str(
            "<p>Not available: this sweep was merged from its parts, which do not hold the \
             file; its MD5 is below.</p>\n",
        ),
    }
    let _ = write!(h, "<footer>{}</footer>\n</body>\n</html>\n", page.footer);
    Ok(h)
}

/// plotters' SVG made fit to inline: the namespace attribute dropped
/// (HTML implies it, and it would be the page's only URL), and a title
/// for screen readers.
fn inline_svg(svg: &str, title: &str) -> String {
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    match svg.find('>') {
        Some(i) => format!(
            "{} role=\"img\" aria-label=\"{}\">\n<title>{}</title>{}",
            &svg[..i],
            escape(title),
            escape(title),
            &svg[i + 1..]
        ),
        None => svg,
    }
}

/// A table as its CSV file has it: the header row as `th`, numbers
/// right-aligned; at most `max_rows` rows (and a note of how many were left
/// out).
fn table(header: &[String], rows: &[Vec<String>], max_rows: usize) -> String {
    let mut t = String::from("<table>\n<tr>");
    for cell in header {
        let _ = write!(t, "<th>{}</th>", escape(cell));
    }
    t.push_str("</tr>\n");
    for rec in rows.iter().take(max_rows) {
        t.push_str("<tr>");
        for cell in rec {
            if cell.parse::<f64>().is_ok() {
                let _ = write!(t, "<td class=\"num\">{}</td>", escape(cell));
            } else {
                let _ = write!(t, "<td>{}</td>", escape(cell));
            }
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</table>\n");
    if rows.len() > max_rows {
        let _ = writeln!(
            t,
            "<p>The first {max_rows} of {} rows; the CSV file has them all.</p>",
            rows.len()
        );
    }
    t
}

/// The summary row turned on its side: one row per summary.csv column.
fn summary_fields(summary: &crate::report::Summary) -> String {
    let mut t = String::from("<table>\n<tr><th>field</th><th>value</th></tr>\n");
    for (k, v) in summary.fields() {
        let class = if v.parse::<f64>().is_ok() {
            " class=\"num\""
        } else {
            ""
        };
        let _ = writeln!(
            t,
            "<tr><td><code>{}</code></td><td{class}>{}</td></tr>",
            escape(k),
            escape(&v)
        );
    }
    t.push_str("</table>\n");
    t
}

/// The engine that ran and why; for the shard engine, what it is and
/// where its accuracy is stated (as text: the page links nowhere).
fn engine_note(engine: &EngineChoice) -> String {
    let mut t = format!("Engine: {}. ", escape(&engine.to_string()));
    if engine.kind == EngineKind::Shard {
        let _ = write!(
            t,
            "The shard engine advances per-shard flows in steps of {}; it agrees with the record \
             engine within the tolerances in <code>docs/engines.md</code>. ",
            engine.step_text()
        );
    }
    t
}

fn footer(seed: Option<u64>, engine: Option<&EngineChoice>, md5: &str, extra: &str) -> String {
    let mut f = String::new();
    if let Some(seed) = seed {
        let _ = write!(f, "Seed {seed}. ");
    }
    if let Some(engine) = engine {
        f.push_str(&engine_note(engine));
    }
    if !md5.is_empty() {
        let _ = write!(f, "Scenario MD5 <code>{}</code>. ", escape(md5));
    }
    let _ = write!(
        f,
        "{extra}Made by shardcast {}; the same scenario, seed and version give the same page.",
        env!("CARGO_PKG_VERSION")
    );
    f
}

/// report.html of a run.
pub(crate) fn render_run(
    report: &RunReport,
    scenario_text: &str,
    charts: &[Chart],
) -> Result<String, ChartError> {
    let s = &report.summary;
    let mut v = String::new();
    let pct = |x: &str| {
        x.parse::<f64>()
            .map_or(x.to_owned(), |v| format!("{:.4} %", v * 100.0))
    };
    let class = if report.slo.is_empty() {
        let _ = writeln!(
            v,
            "<p class=\"big\">No objectives: the scenario has no <code>[slo]</code>.</p>"
        );
        "none"
    } else {
        let missed = report.slo.iter().filter(|c| !c.pass()).count();
        if missed == 0 {
            let _ = writeln!(
                v,
                "<p class=\"big\">Meets its objectives ({} of {}).</p>",
                report.slo.len(),
                report.slo.len()
            );
        } else {
            let n = report.slo.len();
            let _ = writeln!(
                v,
                "<p class=\"big\">Misses {missed} of its {n} objective{}.</p>",
                if n == 1 { "" } else { "s" }
            );
        }
        v.push_str(
            "<table>\n<tr><th>objective</th><th>measured</th><th>limit</th><th>verdict</th></tr>\n",
        );
        for c in &report.slo {
            let unit = if c.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", c.unit)
            };
            let _ = writeln!(
                v,
                "<tr><td><code>{}</code></td><td class=\"num\">{}{unit}</td><td class=\"num\">{}{unit}</td><td class=\"{}\">{}</td></tr>",
                c.name,
                fmt_value(c.value),
                fmt_value(c.limit),
                if c.pass() { "ok" } else { "miss" },
                if c.pass() { "meets" } else { "misses" }
            );
        }
        v.push_str("</table>\n");
        if missed == 0 { "pass" } else { "fail" }
    };
    let _ = writeln!(
        v,
        "<p>{} s simulated, {} shards at the start and {} at the end: {} of {} attempts \
         throttled ({}), {} records failed after retries, put latency p99 {} ms, \
         ${} per 730-hour month.</p>",
        escape(&s.duration_s),
        s.shards,
        s.shards_at_end,
        s.throttled_attempts,
        s.attempts,
        pct(&s.throttle_rate),
        s.records_failed,
        escape(&s.latency_p99_ms),
        escape(&s.monthly_cost_usd)
    );
    let summary = summary_fields(s);
    render(&Page {
        title: format!("shardcast run: {}", s.scenario),
        verdict_class: class,
        verdict: v,
        summary_heading: "Summary (summary.csv)",
        summary,
        charts,
        scenario_text: Some(scenario_text),
        footer: footer(
            Some(s.seed),
            Some(&report.analysis.summary.engine),
            &s.scenario_md5,
            "",
        ),
    })
}

/// A few Markdown forms (what plan.md uses) as HTML: paragraphs, `- `
/// lists, `**bold**` and `` `code` ``; `# ` headings are dropped (the
/// page has its own).
fn markdown_lite(md: &str) -> String {
    let inline = |line: &str| {
        let mut out = String::new();
        let (mut bold, mut code) = (false, false);
        let e = escape(line);
        let mut rest = e.as_str();
        while !rest.is_empty() {
            if !code && rest.starts_with("**") {
                out.push_str(if bold { "</strong>" } else { "<strong>" });
                bold = !bold;
                rest = &rest[2..];
            } else if rest.starts_with('`') {
                out.push_str(if code { "</code>" } else { "<code>" });
                code = !code;
                rest = &rest[1..];
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        // Unbalanced markers are closed so that the markup stays well-formed.
        if code {
            out.push_str("</code>");
        }
        if bold {
            out.push_str("</strong>");
        }
        out
    };
    let mut h = String::new();
    let mut in_list = false;
    for block in md.split("\n\n") {
        for line in block.lines() {
            if line.starts_with("# ") {
                continue;
            }
            if let Some(item) = line.strip_prefix("- ") {
                if !in_list {
                    h.push_str("<ul>\n");
                    in_list = true;
                }
                let _ = writeln!(h, "<li>{}</li>", inline(item));
            } else {
                if in_list {
                    h.push_str("</ul>\n");
                    in_list = false;
                }
                if !line.trim().is_empty() {
                    let _ = writeln!(h, "<p>{}</p>", inline(line));
                }
            }
        }
        if in_list {
            h.push_str("</ul>\n");
            in_list = false;
        }
    }
    h
}

/// report.html of a plan. `plan_md` is plan.md as written; the table shows
/// plan.csv's cells.
pub(crate) fn render_plan(
    plan: &Plan,
    name: &str,
    plan_md: &str,
    scenario: (&str, u64, &str),
    charts: &[Chart],
) -> Result<String, ChartError> {
    let (text, seed, md5) = scenario;
    let class = if plan.recommended.is_some() {
        "pass"
    } else {
        "fail"
    };
    render(&Page {
        title: format!("shardcast plan: {name}"),
        verdict_class: class,
        verdict: markdown_lite(plan_md),
        summary_heading: "Candidates (plan.csv)",
        summary: {
            let (header, rows) = crate::plan::table(plan);
            table(&header, &rows, MAX_TABLE_ROWS)
        },
        charts,
        scenario_text: Some(text),
        footer: footer(
            Some(seed),
            Some(&plan.engine),
            md5,
            &format!(
                "Replications use seeds derived from it ({} per candidate). ",
                plan.replications
            ),
        ),
    })
}

/// The verdict of a sweep: the cheapest point whose every replication met
/// the objectives, if any.
fn sweep_verdict(manifest: &Manifest, summary: &SweepSummary) -> (&'static str, String) {
    let at = |name: &str| METRICS.iter().position(|m| *m == name).unwrap_or(0);
    let (pass, cost, rate) = (at("slo_pass"), at("monthly_cost_usd"), at("throttle_rate"));
    let rows = &summary.points;
    let points = rows.len();
    if rows.iter().all(|x| x.estimates[pass].is_none()) {
        return (
            "none",
            format!(
                "<p class=\"big\">No objectives: the scenario has no <code>[slo]</code>, so no \
                 point is judged.</p>\n<p>{points} points, {} replication(s) each.</p>\n",
                manifest.replications
            ),
        );
    }
    let mean = |x: &PointSummary, i: usize| x.estimates[i].map(|e| e.mean);
    let meeting: Vec<&PointSummary> = rows
        .iter()
        .filter(|x| mean(x, pass).is_some_and(|p| p >= 1.0))
        .collect();
    // Cheapest first; ties go to the earlier point (grid order).
    let best = meeting.iter().min_by(|a, b| {
        mean(a, cost)
            .unwrap_or(f64::INFINITY)
            .total_cmp(&mean(b, cost).unwrap_or(f64::INFINITY))
    });
    let assignment = |x: &PointSummary| {
        summary
            .axes
            .iter()
            .zip(&x.params)
            .map(|(k, v)| format!("<code>{}={}</code>", escape(k), escape(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match best {
        Some(b) => (
            "pass",
            format!(
                "<p class=\"big\">Best point meeting the objectives: {}</p>\n<p>${} a month, \
                 throttle rate {:.4} %; the cheapest of the {} of {points} points whose every \
                 replication met the objectives ({} replication(s) each).</p>\n",
                assignment(b),
                escape(&b.mean_cell(cost)),
                mean(b, rate).unwrap_or(0.0) * 100.0,
                meeting.len(),
                manifest.replications
            ),
        ),
        None => (
            "fail",
            format!(
                "<p class=\"big\">No point meets the objectives in every replication.</p>\n\
                 <p>{points} points, {} replication(s) each.</p>\n",
                manifest.replications
            ),
        ),
    }
}

/// report.html of a sweep: the manifest, sweep-summary.csv's cells, the
/// base scenario's text and seed (`None` after a merge, which has neither).
pub(crate) fn render_sweep(
    manifest: &Manifest,
    summary: &SweepSummary,
    scenario: Option<(&str, u64)>,
    charts: &[Chart],
) -> Result<String, ChartError> {
    let (class, mut verdict) = sweep_verdict(manifest, summary);
    let _ = writeln!(
        verdict,
        "<p>Axes: {}.</p>",
        manifest
            .axes
            .iter()
            .map(|a| format!("<code>{}</code>", escape(a)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let engines = crate::model::engine_tally(summary.points.iter().map(|p| p.engine));
    let mut e = crate::model::engine_counts(&engines, "point");
    // Capitalised as a sentence: "Engine: record." / "Engines: ...".
    e[..1].make_ascii_uppercase();
    let _ = write!(verdict, "<p>{}.", escape(&e));
    if engines.iter().any(|(k, _)| *k == EngineKind::Shard) {
        verdict.push_str(
            " The shard engine advances per-shard flows in time steps (the scenario's \
             <code>step</code>); it agrees with the record engine within the tolerances in \
             <code>docs/engines.md</code>.",
        );
    }
    verdict.push_str("</p>\n");
    render(&Page {
        title: format!("shardcast sweep: {}", manifest.scenario),
        verdict_class: class,
        verdict,
        summary_heading: "Points (sweep-summary.csv: means and 95 % half-widths)",
        summary: {
            let (header, rows) = crate::sweep::summary_table(summary);
            table(&header, &rows, MAX_TABLE_ROWS)
        },
        charts,
        scenario_text: scenario.map(|s| s.0),
        footer: footer(
            scenario.map(|s| s.1),
            None,
            &manifest.scenario_md5,
            "Replication r &gt; 0 of every point uses a seed derived from it and r. ",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markdown_kept_well_formed() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(
            markdown_lite("# T\n\n**Rec: 3** `a<b`\n\n- one\n- `two\n"),
            "<p><strong>Rec: 3</strong> <code>a&lt;b</code></p>\n<ul>\n<li>one</li>\n<li><code>two</code></li>\n</ul>\n"
        );
        let cells = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        let rows = [cells(&["1", "x"]), cells(&["2", "y"]), cells(&["3", "z"])];
        let t = table(&cells(&["a", "b"]), &rows, 2);
        assert!(t.contains("<th>a</th>") && t.contains("<td class=\"num\">2</td>"));
        assert!(!t.contains(">3<") && t.contains("first 2 of 3"));
    }
}
