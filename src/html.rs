//! `report.html`: one self-contained page per run, plan or sweep.
//!
//! The page is the verdict first (with the headroom left at the busiest
//! second), then a short table of what a planner reads (numbers with
//! thousands separators, fractions as percentages, cost in view), the
//! charts (inline SVG), every column of the CSV behind a `<details>`, the
//! scenario file as given, and the seed and version. It loads nothing: no
//! scripts, no style sheets, fonts or images from elsewhere, no links
//! needed to read it. The markup is also well-formed XML (every element
//! closed, only XML's five entities), so tools that read XHTML can parse
//! it. Like every report file it carries no clock time.
//!
//! The charts' text names the face it was laid out with, DejaVu Sans. The
//! page declares that face from the reader's fonts (`local()`) with
//! fallbacks of similar width, and does not embed it: the two faces are
//! about 1.5 MB (2 MB as base64), five to ten times a whole page, for
//! every report.

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

/// At or above this peak utilisation (the busiest shard's busiest second
/// against its write limit) the verdict warns: a little more traffic, or a
/// burst the per-minute means do not show, is throttled.
pub(crate) const HEADROOM_WARNING: f64 = 0.95;

const STYLE: &str = "\
@font-face{font-family:\"DejaVu Sans\";src:local(\"DejaVu Sans\"),local(\"DejaVuSans\")}\
@font-face{font-family:\"DejaVu Sans\";font-weight:bold;\
src:local(\"DejaVu Sans Bold\"),local(\"DejaVuSans-Bold\")}\
body{font-family:\"DejaVu Sans\",Verdana,Helvetica,Arial,sans-serif;color:#222;\
max-width:1000px;margin:1.5em auto;padding:0 1em;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;\
border-bottom:1px solid #ddd;padding-bottom:.2em}\
.verdict{border-left:6px solid #888;background:#f4f4f4;padding:.6em 1em;margin:1em 0}\
.verdict.pass{border-color:#1e8c3c;background:#eef8f0}\
.verdict.fail{border-color:#c81e1e;background:#fcefee}\
.verdict.warn{border-color:#d98c00;background:#fff6e5}\
.warning{color:#8a4b00;font-weight:bold}\
tr.rec td{background:#eef8f0;font-weight:bold}\
details{margin:.6em 0}summary{cursor:pointer;color:#333}\
.verdict p{margin:.4em 0}.big{font-size:1.2em;font-weight:bold}\
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.ok{color:#1e8c3c;font-weight:bold}.miss{color:#c81e1e;font-weight:bold}\
.scroll{overflow-x:auto}\
figure{margin:1.2em 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
figure svg text{font-family:\"DejaVu Sans\",Verdana,\"Bitstream Vera Sans\",Arial,sans-serif}\
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

// ---- numbers as a reader wants them ----------------------------------

use crate::shown::{dollars, number_text, percent, thousands};

/// A duration in seconds as a reader says it: `45 s`, `10 min`, `2.5 h`,
/// `30 days`.
fn duration_text(secs: f64) -> String {
    let trim = |v: f64| {
        let t = format!("{v:.1}");
        t.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    if secs < 120.0 {
        format!("{} s", trim(secs))
    } else if secs < 3.0 * 3600.0 {
        format!("{} min", trim(secs / 60.0))
    } else if secs < 72.0 * 3600.0 {
        format!("{} h", trim(secs / 3600.0))
    } else {
        format!("{} days", number_text(&trim(secs / 86_400.0)))
    }
}

/// A measured objective's value or limit in its unit, formatted.
fn objective_value(unit: &str, v: f64) -> String {
    match unit {
        "" => percent(v),
        "USD" => dollars(v),
        u => format!("{} {u}", number_text(&fmt_value(v))),
    }
}

/// The headroom paragraph of a verdict: how close the busiest shard came
/// to its write limit in its busiest second, with a warning at or above
/// [`HEADROOM_WARNING`]. `who` names what peaked ("the busiest shard").
fn headroom(peak: f64, who: &str) -> (bool, String) {
    let warn = peak >= HEADROOM_WARNING;
    let at = percent(peak);
    let text = if peak >= 1.0 {
        format!(
            "<p><strong class=\"warning\">Warning: no headroom.</strong> In its busiest second {who} \
             was offered {at} of its write limit: attempts over the limit were throttled. Peaks of 95 % and \
             more leave no room for growth or bursts; add shards or spread the keys.</p>\n"
        )
    } else if warn {
        format!(
            "<p><strong class=\"warning\">Warning: little headroom ({} left).</strong> In its \
             busiest second {who} was offered {at} of its write limit; at 95 % and more, a little more traffic \
             or a short burst is throttled. Add shards or spread the keys.</p>\n",
            percent(1.0 - peak)
        )
    } else {
        format!(
            "<p>Headroom: {} at the busiest second ({who} was offered {at} of its write \
             limit; the verdict warns at 95 %).</p>\n",
            percent(1.0 - peak)
        )
    };
    (warn, text)
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
    /// The short table a planner reads, and its heading.
    figures_heading: &'static str,
    figures: String,
    /// Every column of the CSV file, folded: what the fold says, the table.
    full_note: String,
    full: String,
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
        "<h2>{}</h2>\n<div class=\"scroll\">\n{}</div>\n\
         <details>\n<summary>{}</summary>\n<div class=\"scroll\">\n{}</div>\n</details>\n",
        page.figures_heading, page.figures, page.full_note, page.full
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

/// A short table of HTML cells: `(highlighted, [(cell, numeric)])` rows.
fn short_table(header: &[&str], rows: &[(bool, Vec<(String, bool)>)]) -> String {
    let mut t = String::from("<table class=\"figures\">\n<tr>");
    for h in header {
        let _ = write!(t, "<th>{h}</th>");
    }
    t.push_str("</tr>\n");
    for (rec, cells) in rows {
        t.push_str(if *rec { "<tr class=\"rec\">" } else { "<tr>" });
        for (cell, num) in cells {
            if *num {
                let _ = write!(t, "<td class=\"num\">{cell}</td>");
            } else {
                let _ = write!(t, "<td>{cell}</td>");
            }
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</table>\n");
    t
}

/// The run's key figures, each in words and formatted.
fn run_figures(s: &crate::report::Summary, peak: f64) -> String {
    let f = |x: &str| x.parse::<f64>().unwrap_or(f64::NAN);
    let ms = |x: &str| format!("{} ms", number_text(x));
    let mut rows: Vec<(&str, String)> = vec![
        ("simulated", duration_text(f(&s.duration_s))),
        (
            "shards",
            format!(
                "{} at the start, {} at the end",
                thousands(u64::from(s.shards)),
                thousands(u64::from(s.shards_at_end))
            ),
        ),
        (
            "peak utilisation (busiest shard, busiest second)",
            format!(
                "{} of its write limit, {} headroom",
                percent(peak),
                percent((1.0 - peak).max(0.0))
            ),
        ),
        (
            "mean shard utilisation",
            percent(f(&s.mean_shard_utilisation)),
        ),
        ("records produced", thousands(s.records_produced)),
        (
            "attempts throttled",
            format!(
                "{} of {} ({})",
                thousands(s.throttled_attempts),
                thousands(s.attempts),
                percent(f(&s.throttle_rate))
            ),
        ),
        ("records failed after retries", thousands(s.records_failed)),
    ];
    let lost = [
        ("expired", s.records_expired),
        ("too large", s.records_too_large),
        ("dropped (buffer full)", s.records_dropped),
    ];
    if lost.iter().any(|l| l.1 > 0) {
        rows.push((
            "records not sent",
            lost.iter()
                .map(|(k, v)| format!("{} {k}", thousands(*v)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    rows.push((
        "put latency",
        format!(
            "p50 {}, p99 {}, max {}",
            ms(&s.latency_p50_ms),
            ms(&s.latency_p99_ms),
            ms(&s.latency_max_ms)
        ),
    ));
    if !s.hottest_shard.is_empty() {
        rows.push((
            "hottest shard",
            format!("<code>{}</code>", escape(&s.hottest_shard)),
        ));
    }
    if !s.hottest_key.is_empty() {
        rows.push((
            "hottest key",
            format!(
                "<code>{}</code>, {} of the records",
                escape(&s.hottest_key),
                percent(f(&s.hottest_key_share))
            ),
        ));
    }
    rows.push((
        "cost",
        format!(
            "<strong>{} per 730-hour month</strong> ({} for the run)",
            dollars(f(&s.monthly_cost_usd)),
            dollars(f(&s.cost_usd))
        ),
    ));
    let rows: Vec<(bool, Vec<(String, bool)>)> = rows
        .into_iter()
        .map(|(k, v)| (false, vec![(k.to_owned(), false), (v, false)]))
        .collect();
    short_table(&["", "value"], &rows)
}

/// report.html of a run.
pub(crate) fn render_run(
    report: &RunReport,
    scenario_text: &str,
    charts: &[Chart],
) -> Result<String, ChartError> {
    let s = &report.summary;
    let f = |x: &str| x.parse::<f64>().unwrap_or(0.0);
    // Demand against the limit (attempts, retries included): the accepted
    // peak cannot pass the limit, the offered one shows by how much it
    // was passed.
    let peak = f(&s.peak_offered_utilisation).max(f(&s.peak_shard_utilisation));
    let busiest = if s.hottest_shard.is_empty() {
        "the busiest shard".to_owned()
    } else {
        format!(
            "the busiest shard (<code>{}</code>)",
            escape(&s.hottest_shard)
        )
    };
    let (warn, room) = headroom(peak, &busiest);
    let mut v = String::new();
    let class = if report.slo.is_empty() {
        let _ = writeln!(
            v,
            "<p class=\"big\">No objectives (the scenario has no <code>[slo]</code>); {}.</p>",
            if warn {
                "the peak is close to the limit"
            } else {
                "the peak is within the limit"
            }
        );
        v.push_str(&room);
        if warn { "warn" } else { "none" }
    } else {
        let missed = report.slo.iter().filter(|c| !c.pass()).count();
        let n = report.slo.len();
        if missed == 0 {
            let _ = writeln!(
                v,
                "<p class=\"big\">Meets its objectives ({n} of {n}){}.</p>",
                if warn { ", with little headroom" } else { "" }
            );
        } else {
            let _ = writeln!(
                v,
                "<p class=\"big\">Misses {missed} of its {n} objective{}.</p>",
                if n == 1 { "" } else { "s" }
            );
        }
        v.push_str(&room);
        v.push_str(
            "<table>\n<tr><th>objective</th><th>measured</th><th>limit</th><th>verdict</th></tr>\n",
        );
        for c in &report.slo {
            let _ = writeln!(
                v,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
                c.name,
                objective_value(c.unit, c.value),
                objective_value(c.unit, c.limit),
                if c.pass() { "ok" } else { "miss" },
                if c.pass() { "meets" } else { "misses" }
            );
        }
        v.push_str("</table>\n");
        match (missed, warn) {
            (0, false) => "pass",
            (0, true) => "warn",
            _ => "fail",
        }
    };
    let _ = writeln!(
        v,
        "<p>{} simulated; {} of {} attempts throttled ({}); {} records failed after retries; \
         put latency p99 {} ms; {} per 730-hour month.</p>",
        duration_text(f(&s.duration_s)),
        thousands(s.throttled_attempts),
        thousands(s.attempts),
        percent(f(&s.throttle_rate)),
        thousands(s.records_failed),
        number_text(&s.latency_p99_ms),
        dollars(f(&s.monthly_cost_usd))
    );
    render(&Page {
        title: format!("shardcast run: {}", s.scenario),
        verdict_class: class,
        verdict: v,
        figures_heading: "Key figures",
        figures: run_figures(s, peak),
        full_note: format!("All {} fields of summary.csv, as written", s.fields().len()),
        full: summary_fields(s),
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

/// A mean and its 95 % half-width, formatted by `fmt` (the half-width
/// left out when it is 0).
fn with_ci(e: &crate::plan::Estimate, fmt: &dyn Fn(f64) -> String) -> String {
    if e.ci95 > 0.0 {
        format!("{} ± {}", fmt(e.mean), fmt(e.ci95))
    } else {
        fmt(e.mean)
    }
}

/// The plan's candidates as a planner reads them: cost in view, rates as
/// percentages, the recommendation highlighted.
fn plan_figures(plan: &Plan) -> String {
    let rows: Vec<(String, &crate::plan::Candidate)> = plan
        .candidates
        .iter()
        .map(|c| {
            let n = thousands(u64::from(c.shards));
            (
                format!("{n} shard{}", if c.shards == 1 { "" } else { "s" }),
                c,
            )
        })
        .chain(plan.on_demand.iter().map(|c| ("on-demand".to_owned(), c)))
        .chain(
            plan.on_demand_advantage
                .iter()
                .map(|c| ("on-demand Advantage".to_owned(), c)),
        )
        .collect();
    let rows: Vec<(bool, Vec<(String, bool)>)> = rows
        .into_iter()
        .map(|(name, c)| {
            let rec = !name.starts_with("on-demand") && plan.recommended == Some(c.shards);
            let objectives = if c.meets {
                "<span class=\"ok\">meets</span>"
            } else {
                "<span class=\"miss\">misses</span>"
            };
            (
                rec,
                vec![
                    (
                        if rec {
                            format!("{name} (recommended)")
                        } else {
                            name
                        },
                        false,
                    ),
                    (with_ci(&c.monthly_cost, &dollars), true),
                    (objectives.to_owned(), false),
                    (with_ci(&c.throttle_rate, &percent), true),
                    (percent(c.peak_utilisation.mean), true),
                    (
                        format!("{} ms", number_text(&format!("{:.1}", c.p99_ms.mean))),
                        true,
                    ),
                    (thousands(c.failed.mean.round().max(0.0) as u64), true),
                ],
            )
        })
        .collect();
    short_table(
        &[
            "candidate",
            "monthly cost",
            "objectives",
            "throttle rate",
            "peak utilisation",
            "put p99",
            "records failed",
        ],
        &rows,
    )
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
    let recommended = plan
        .recommended
        .and_then(|n| plan.candidates.iter().find(|c| c.shards == n));
    let mut verdict = String::new();
    let mut warn = false;
    if let Some(c) = recommended {
        let (w, room) = headroom(
            c.peak_utilisation.mean,
            "the busiest shard of the recommended count (mean over replications)",
        );
        warn = w;
        let _ = writeln!(
            verdict,
            "<p class=\"big\">Recommended: {} shards, {} a month; throttle rate {}.</p>",
            thousands(u64::from(c.shards)),
            dollars(c.monthly_cost.mean),
            percent(c.throttle_rate.mean)
        );
        verdict.push_str(&room);
    }
    verdict.push_str(&markdown_lite(plan_md));
    let class = match (recommended.is_some(), warn) {
        (true, false) => "pass",
        (true, true) => "warn",
        (false, _) => "fail",
    };
    let (header, rows) = crate::plan::table(plan);
    render(&Page {
        title: format!("shardcast plan: {name}"),
        verdict_class: class,
        verdict,
        figures_heading: "Candidates",
        figures: plan_figures(plan),
        full_note: format!("All {} columns of plan.csv, as written", header.len()),
        full: table(&header, &rows, MAX_TABLE_ROWS),
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
        Some(b) => {
            let peak = at("peak_shard_utilisation");
            let (warn, room) = match mean(b, peak) {
                Some(p) => headroom(p, "the busiest shard (mean over replications)"),
                None => (false, String::new()),
            };
            (
                if warn { "warn" } else { "pass" },
                format!(
                    "<p class=\"big\">Best point meeting the objectives: {}</p>\n<p>{} a \
                     month, throttle rate {}; the cheapest of the {} of {points} points whose \
                     every replication met the objectives ({} replication(s) each).</p>\n{room}",
                    assignment(b),
                    dollars(mean(b, cost).unwrap_or(0.0)),
                    percent(mean(b, rate).unwrap_or(0.0)),
                    meeting.len(),
                    manifest.replications
                ),
            )
        }
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

/// The sweep's points as a planner reads them: the swept values, cost in
/// view, rates as percentages (at most [`MAX_TABLE_ROWS`] points).
fn sweep_figures(summary: &SweepSummary) -> String {
    let at = |name: &str| METRICS.iter().position(|m| *m == name).unwrap_or(0);
    let (pass, cost, rate, peak, p99) = (
        at("slo_pass"),
        at("monthly_cost_usd"),
        at("throttle_rate"),
        at("peak_shard_utilisation"),
        at("latency_p99_ms"),
    );
    let cell = |x: &PointSummary, i: usize, fmt: &dyn Fn(f64) -> String| {
        x.estimates[i].map_or_else(String::new, |e| fmt(e.mean))
    };
    // Without objectives the column would say so on every row.
    let judged = summary.points.iter().any(|x| x.estimates[pass].is_some());
    let rows: Vec<(bool, Vec<(String, bool)>)> = summary
        .points
        .iter()
        .take(MAX_TABLE_ROWS)
        .map(|x| {
            let mut cells: Vec<(String, bool)> = vec![(x.point.to_string(), true)];
            cells.extend(x.params.iter().map(|v| (escape(v), false)));
            let objectives = match x.estimates[pass].map(|e| e.mean) {
                None => "no objectives".to_owned(),
                Some(m) if m >= 1.0 => "<span class=\"ok\">meets (every run)</span>".to_owned(),
                Some(m) => format!(
                    "<span class=\"miss\">misses</span> (meets in {} of {})",
                    (m * x.replications as f64).round() as u64,
                    x.replications
                ),
            };
            cells.push((cell(x, cost, &dollars), true));
            if judged {
                cells.push((objectives, false));
            }
            cells.extend([
                (cell(x, rate, &percent), true),
                (cell(x, peak, &percent), true),
                (
                    cell(x, p99, &|v| {
                        format!("{} ms", number_text(&format!("{v:.1}")))
                    }),
                    true,
                ),
            ]);
            (false, cells)
        })
        .collect();
    let mut header: Vec<String> = vec!["point".to_owned()];
    header.extend(
        summary
            .axes
            .iter()
            .map(|a| format!("<code>{}</code>", escape(a))),
    );
    header.push("monthly cost".to_owned());
    if judged {
        header.push("objectives".to_owned());
    }
    header.extend(["throttle rate", "peak utilisation", "put p99"].map(str::to_owned));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = short_table(&header, &rows);
    if summary.points.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            t,
            "<p>The first {MAX_TABLE_ROWS} of {} points; sweep-summary.csv has them all.</p>",
            summary.points.len()
        );
    }
    t
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
    let (header, rows) = crate::sweep::summary_table(summary);
    render(&Page {
        title: format!("shardcast sweep: {}", manifest.scenario),
        verdict_class: class,
        verdict,
        figures_heading: "Points (means over replications)",
        figures: sweep_figures(summary),
        full_note: format!(
            "All {} columns of sweep-summary.csv (means and 95 % half-widths), as written",
            header.len()
        ),
        full: table(&header, &rows, MAX_TABLE_ROWS),
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

    /// Issue 16, item 3: numbers as a reader wants them.
    #[test]
    fn r16_numbers_read_with_separators_and_percentages() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_797_725), "1,797,725");
        assert_eq!(number_text("1013191.3"), "1,013,191.3");
        assert_eq!(number_text("-12345"), "-12,345");
        assert_eq!(number_text("20.0"), "20.0");
        assert_eq!(number_text("shardId-1"), "shardId-1");
        assert_eq!(number_text("1.2.3"), "1.2.3");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.9927), "99.3 %");
        assert_eq!(percent(0.0073), "0.73 %");
        assert_eq!(percent(0.000123), "0.0123 %");
        assert_eq!(percent(0.05), "5 %");
        assert_eq!(percent(1.85), "185 %");
        assert_eq!(percent(123.0), "12,300 %");
        assert_eq!(dollars(154.04), "$154.04");
        assert_eq!(dollars(12_345.6), "$12,345.60");
        assert_eq!(dollars(0.0352), "$0.0352");
        assert_eq!(duration_text(600.0), "10 min");
        assert_eq!(duration_text(90.0), "90 s");
        assert_eq!(duration_text(86_400.0), "24 h");
        assert_eq!(duration_text(30.0 * 86_400.0), "30 days");
        assert_eq!(objective_value("", 0.001), "0.1 %");
        assert_eq!(objective_value("records", 12_000.0), "12,000 records");
        assert_eq!(objective_value("USD", 1_500.0), "$1,500.00");
    }

    /// Issue 16, item 3: the verdict warns from 95 % peak utilisation.
    #[test]
    fn r16_headroom_warns_at_95_percent() {
        let (warn, text) = headroom(0.9499, "the busiest shard");
        assert!(!warn && text.starts_with("<p>Headroom: 5.01 %"), "{text}");
        let (warn, text) = headroom(0.95, "the busiest shard");
        assert!(
            warn && text.contains("Warning: little headroom (5 % left)"),
            "{text}"
        );
        let (warn, text) = headroom(1.4, "the busiest shard");
        assert!(warn && text.contains("Warning: no headroom.") && text.contains("140 %"));
    }
}
