//! The charts of one run: load, throttling, the shard heatmap, open shards
//! and scaling actions, consumer lag, hot keys.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    BLUE, Body, Chart, DASH, DESC_PX, DrawResult, FONT, GREEN, INK, LABEL_PX, NOT_OPEN, ORANGE,
    PURPLE, RED, RateAxis, TIME_RIGHT_PX, TimeAxis, UTILISATION, bucket, draw_empty, draw_key,
    fmt_num, fmt_pct, legend, legend_box, legend_dashed, legend_line, text, time_frame, time_mesh,
    y_top,
};
use crate::analysis::shard_intervals;
use crate::kds::Quota;
use crate::metrics::IntervalRow;
use crate::model::Outcome;
use crate::report::RunReport;
use crate::scenario::Scenario;
use crate::units::NANOS_PER_SEC;

/// At most this many columns in the shard heatmap.
const MAX_COLUMNS: usize = 240;
/// Above this many changes of the open shard count, the shard chart uses
/// the per-minute maxima instead of every change.
const MAX_STEPS: usize = 4000;

/// A step series: `(x, y)` pairs, two per bucket (its start and end).
pub(super) type Steps = Vec<(f64, f64)>;

/// The charts of a run, in report order. Charts without data for this run
/// (no consumers, no finite keys) are left out.
pub fn run_charts(scenario: &Scenario, outcome: &Outcome, report: &RunReport) -> Vec<Chart> {
    let duration = scenario.duration as f64 / NANOS_PER_SEC as f64;
    let axis = TimeAxis::for_duration(duration);
    let minutes = &outcome.metrics.minutes;
    let mut charts = vec![
        load(axis, duration, minutes),
        throttle(axis, duration, minutes, scenario.slo.max_throttle_rate),
        heatmap(
            axis,
            scenario,
            outcome,
            report.analysis.summary.hottest_shard,
        ),
        shards(axis, scenario, outcome),
    ];
    if !scenario.consumers.is_empty() {
        charts.push(super::lag::iterator_age(axis, duration, scenario, outcome));
    }
    if let Some(k) = super::keys::keys(report) {
        charts.push(k);
    }
    charts
}

/// Seconds of minute row `r` inside the run (the last may be partial).
fn minute_secs(r: &IntervalRow, duration: f64) -> f64 {
    (duration - r.start_secs as f64).clamp(1.0, 60.0)
}

/// Groups of `k` minutes: `(start s, end s, rows)`.
fn groups(minutes: &[IntervalRow], duration: f64) -> Vec<(f64, f64, &[IntervalRow])> {
    let k = bucket(minutes.len());
    minutes
        .chunks(k)
        .map(|c| {
            let start = c[0].start_secs as f64;
            let last = &c[c.len() - 1];
            let end = last.start_secs as f64 + minute_secs(last, duration);
            (start, end, c)
        })
        .collect()
}

/// "of each minute" (or of each bucket of minutes).
fn per_one(minutes: usize) -> String {
    match bucket(minutes) {
        1 => "of each minute".to_owned(),
        k => format!("of each {k} minutes"),
    }
}

fn per_label(minutes: usize) -> String {
    match bucket(minutes) {
        1 => "per minute".to_owned(),
        k => format!("per {k} minutes"),
    }
}

pub(super) fn push_step(steps: &mut Steps, axis: TimeAxis, from: f64, to: f64, y: f64) {
    steps.push((axis.x(from), y));
    steps.push((axis.x(to), y));
}

/// Offered and accepted load against capacity.
#[derive(Debug, Clone)]
pub(super) struct Load {
    axis: TimeAxis,
    end: f64,
    unit: &'static str,
    per: String,
    offered: Steps,
    /// The busiest second's offered load in each bucket.
    peak: Steps,
    accepted: Steps,
    capacity: Steps,
    limit: &'static str,
}

fn load(axis: TimeAxis, duration: f64, minutes: &[IntervalRow]) -> Chart {
    let records_limit = Quota::WriteRecordsPerShardPerSec.value() as f64;
    let bytes_limit = Quota::WriteBytesPerShardPerSec.value() as f64;
    // The dimension whose offered load comes closest to (or furthest over)
    // capacity in some minute is the one that tells the story.
    let peak = |count: fn(&IntervalRow) -> u64, limit: f64| {
        minutes
            .iter()
            .map(|r| {
                count(r) as f64
                    / minute_secs(r, duration)
                    / (f64::from(r.open_shards.max(1)) * limit)
            })
            .fold(0.0, f64::max)
    };
    let by_bytes = peak(|r| r.shards.offered_bytes, bytes_limit)
        > peak(|r| r.shards.offered_records, records_limit);
    let (scale, limit, unit, limit_text) = if by_bytes {
        (1.0 / 1_048_576.0, bytes_limit, "MiB/s", "1 MiB/s")
    } else {
        (1.0, records_limit, "records/s", "1,000 records/s")
    };
    let (mut offered, mut accepted, mut capacity) = (Vec::new(), Vec::new(), Vec::new());
    let mut peak = Vec::new();
    for (from, to, rows) in groups(minutes, duration) {
        let secs = to - from;
        let sum = |f: &dyn Fn(&IntervalRow) -> u64| rows.iter().map(f).sum::<u64>() as f64;
        let (o, a) = if by_bytes {
            (
                sum(&|r| r.shards.offered_bytes),
                sum(&|r| r.shards.accepted_bytes),
            )
        } else {
            (
                sum(&|r| r.shards.offered_records),
                sum(&|r| r.shards.accepted_records),
            )
        };
        let open = rows.iter().map(|r| r.open_shards).max().unwrap_or(0);
        let busiest = rows
            .iter()
            .map(|r| {
                if by_bytes {
                    r.peak_second.offered_bytes
                } else {
                    r.peak_second.offered_records
                }
            })
            .max()
            .unwrap_or(0);
        push_step(&mut peak, axis, from, to, busiest as f64 * scale);
        push_step(&mut offered, axis, from, to, o / secs * scale);
        push_step(&mut accepted, axis, from, to, a / secs * scale);
        push_step(
            &mut capacity,
            axis,
            from,
            to,
            f64::from(open) * limit * scale,
        );
    }
    let what = if by_bytes { "bytes" } else { "records" };
    Chart {
        name: "load",
        title: format!("Write load against capacity ({unit})"),
        caption: format!(
            "Offered load (every attempt that reached a shard, retries included; the orange \
             line), accepted load (the blue area) and capacity (open shards x {limit_text}; \
             dashed), in {unit}, mean {per}; the thin line is the busiest second {per_one}, \
             which a mean hides. Shown in {what} because that limit is the closer one; where \
             the orange line rises above the blue area, attempts are throttled.",
            per = per_label(minutes.len()),
            per_one = per_one(minutes.len()),
        ),
        body: Body::Load(Load {
            axis,
            end: axis.x(duration),
            unit,
            per: per_label(minutes.len()),
            offered,
            peak,
            accepted,
            capacity,
            limit: limit_text,
        }),
    }
}

pub(super) fn draw_load<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &Load,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if d.offered.is_empty() {
        return draw_empty(root, title, "no minutes were simulated");
    }
    let max = d
        .offered
        .iter()
        .chain(&d.capacity)
        .chain(&d.peak)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let mut chart =
        time_frame(root, title).build_cartesian_2d(0.0..d.end.max(1e-9), 0.0..y_top(max, 1e-3))?;
    time_mesh(
        &mut chart,
        &d.axis.desc(),
        &format!("{} (mean {})", d.unit, d.per),
        &|v| fmt_num(*v),
    )?;
    // Accepted as an area and offered as a line over it: where no attempt
    // is throttled the two are equal, and both stay visible.
    let area = BLUE.mix(0.22);
    chart
        .draw_series(
            AreaSeries::new(d.accepted.iter().copied(), 0.0, area)
                .border_style(BLUE.mix(0.6).stroke_width(1)),
        )?
        .label("accepted")
        .legend(super::legend_box(area));
    let cap = INK.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            d.capacity.iter().copied(),
            DASH.0,
            DASH.1,
            cap,
        ))?
        .label(format!("capacity (open shards x {})", d.limit))
        .legend(legend_dashed(cap));
    let off = ORANGE.stroke_width(2);
    chart
        .draw_series(LineSeries::new(d.offered.iter().copied(), off))?
        .label(format!("offered (attempts, mean {})", d.per))
        .legend(legend_line(off));
    let thin = ORANGE.mix(0.75).stroke_width(1);
    chart
        .draw_series(LineSeries::new(d.peak.iter().copied(), thin))?
        .label("offered in the busiest second")
        .legend(legend_line(thin));
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Share of attempts throttled over time.
#[derive(Debug, Clone)]
pub(super) struct Throttle {
    axis: TimeAxis,
    end: f64,
    per: String,
    rate: Steps,
    /// The busiest second's throttle rate in each bucket.
    peak: Steps,
    slo: Option<f64>,
}

fn throttle(axis: TimeAxis, duration: f64, minutes: &[IntervalRow], slo: Option<f64>) -> Chart {
    let (mut rate, mut peak) = (Vec::new(), Vec::new());
    for (from, to, rows) in groups(minutes, duration) {
        let busiest = rows
            .iter()
            .map(|r| r.peak_second.throttle_rate)
            .fold(0.0, f64::max);
        push_step(&mut peak, axis, from, to, busiest);
        let throttled: u64 = rows.iter().map(|r| r.shards.throttled_records).sum();
        let attempts: u64 = rows.iter().map(|r| r.shards.offered_records).sum();
        let r = if attempts == 0 {
            0.0
        } else {
            throttled as f64 / attempts as f64
        };
        push_step(&mut rate, axis, from, to, r);
    }
    let per = per_label(minutes.len());
    Chart {
        name: "throttle",
        title: "Throttle rate (WriteProvisionedThroughputExceeded / attempts)".to_owned(),
        caption: format!(
            "The share of record attempts refused by a shard's write limit, {per}, and in the \
             thin line the busiest second {} (a mean hides a burst of seconds){}. The axis is \
             logarithmic, so that small rates and objectives can be read; the bottom band is \
             no throttling at all.",
            per_one(minutes.len()),
            if slo.is_some() {
                "; the dashed line is the scenario's max_throttle_rate"
            } else {
                ""
            }
        ),
        body: Body::Throttle(Throttle {
            axis,
            end: axis.x(duration),
            per,
            rate,
            peak,
            slo,
        }),
    }
}

pub(super) fn draw_throttle<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &Throttle,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if d.rate.is_empty() {
        return draw_empty(root, title, "no minutes were simulated");
    }
    let y = RateAxis::for_values(d.rate.iter().chain(&d.peak).map(|p| p.1).chain(d.slo));
    let mut chart = time_frame(root, title).build_cartesian_2d(0.0..d.end.max(1e-9), y.range())?;
    chart
        .configure_mesh()
        .light_line_style(super::LIGHT)
        .bold_line_style(super::GRID)
        .x_desc(d.axis.desc())
        .y_desc("attempts throttled (log scale)")
        .y_labels(y.decades() + 1)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| y.label(*v))
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX))
        .draw()?;
    let thin = RED.mix(0.6).stroke_width(1);
    chart
        .draw_series(LineSeries::new(
            d.peak.iter().map(|p| (p.0, y.y(p.1))),
            thin,
        ))?
        .label("throttle rate in the busiest second")
        .legend(legend_line(thin));
    let style = RED.stroke_width(2);
    chart
        .draw_series(LineSeries::new(
            d.rate.iter().map(|p| (p.0, y.y(p.1))),
            style,
        ))?
        .label(format!("throttle rate ({})", d.per))
        .legend(legend_line(style));
    if let Some(limit) = d.slo {
        let s = INK.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, y.y(limit)), (d.end, y.y(limit))],
                DASH.0,
                DASH.1,
                s,
            ))?
            .label(format!("objective: at most {}", fmt_pct(limit)))
            .legend(legend_dashed(s));
    }
    // The legend goes where the rates are not: low when they are high.
    let high = d.rate.iter().map(|p| y.y(p.1)).fold(f64::MIN, f64::max);
    let r = y.range();
    let corner = if high > (r.start + r.end) / 2.0 {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    legend(&mut chart, corner)?;
    Ok(())
}

/// Peak offered utilisation per shard and column of time, laid out on the
/// hash key space.
#[derive(Debug, Clone)]
pub(super) struct Heatmap {
    axis: TimeAxis,
    end: f64,
    /// `(from s, to s, low, high, class)`: rectangles of equal cells, `low`
    /// and `high` in percent of the hash key space.
    cells: Vec<(f64, f64, f64, f64, usize)>,
    /// Shard labels on the y axis, if every shard open at the end of the
    /// run has a band tall enough for one: `(shard index, middle of its
    /// band in %, whether it is the hottest shard)`.
    labels: Vec<(u32, f64, bool)>,
}

/// A band shorter than this share of the hash key space gets no label
/// (about 15 pixels in the chart).
const LABELLED_BAND: f64 = 0.04;

/// Rows of the heatmap: slices of the hash key space. 96 divides evenly
/// by the common shard counts (2, 3, 4, 6, 8, 12, 16, 24, 32, 48).
const BANDS: usize = 96;

fn heatmap(
    axis: TimeAxis,
    scenario: &Scenario,
    outcome: &Outcome,
    hottest: Option<crate::kds::ShardId>,
) -> Chart {
    let grid = &outcome.metrics.utilisation_grid;
    let duration_ns = scenario.duration;
    let duration = duration_ns as f64 / NANOS_PER_SEC as f64;
    let grid_secs = grid.column_secs();
    let grid_cols = duration_ns
        .div_ceil(NANOS_PER_SEC)
        .div_ceil(grid_secs)
        .max(1) as usize;
    let per_col = grid_cols.div_ceil(MAX_COLUMNS);
    let cols = grid_cols.div_ceil(per_col);
    let col_ns = grid_secs * per_col as u64 * NANOS_PER_SEC;
    // raster[band][col]: the highest class of a shard open there, if any.
    let mut raster: Vec<Vec<Option<usize>>> = vec![vec![None; cols]; BANDS];
    let space = 2f64.powi(128);
    let intervals = shard_intervals(scenario, outcome);
    let mut labels = Vec::new();
    let mut fits = true;
    for (shard, &(from, to)) in outcome.map.shards().iter().zip(&intervals) {
        if from >= to {
            continue;
        }
        let range = shard.range();
        if to >= duration_ns {
            fits &= range.fraction() >= LABELLED_BAND;
            let mid = (range.start as f64 / space + range.fraction() / 2.0) * 100.0;
            labels.push((shard.id().index(), mid, hottest == Some(shard.id())));
        }
        let band = |key: u128| ((key as f64 / space) * BANDS as f64) as usize;
        // f64 rounding can take a key near the top to 2^128 itself.
        let (b0, b1) = (
            band(range.start).min(BANDS - 1),
            band(range.end).min(BANDS - 1),
        );
        let index = shard.id().index() as usize;
        let first = (from / col_ns) as usize;
        let last = ((to - 1) / col_ns) as usize;
        for col in first..=last.min(cols - 1) {
            let bp = (col * per_col..(col + 1) * per_col)
                .map(|c| grid.get(index, c))
                .max()
                .unwrap_or(0);
            let class = UTILISATION.class(f64::from(bp) / 10_000.0);
            for row in raster.iter_mut().take(b1 + 1).skip(b0) {
                row[col] = Some(row[col].map_or(class, |c: usize| c.max(class)));
            }
        }
    }
    // Runs of equal cells along time, then equal runs of neighbouring bands
    // joined: a few rectangles per shard rather than one per cell.
    let col_secs = col_ns as f64 / NANOS_PER_SEC as f64;
    let mut cells: Vec<(f64, f64, f64, f64, usize)> = Vec::new();
    let mut above: std::collections::BTreeMap<(usize, usize, usize), usize> =
        std::collections::BTreeMap::new();
    for (b, row) in raster.iter().enumerate() {
        let mut here = std::collections::BTreeMap::new();
        let mut c = 0;
        while c < cols {
            let Some(class) = row[c] else {
                c += 1;
                continue;
            };
            let start = c;
            while c < cols && row[c] == Some(class) {
                c += 1;
            }
            let low = b as f64 * 100.0 / BANDS as f64;
            let high = (b + 1) as f64 * 100.0 / BANDS as f64;
            let key = (start, c, class);
            match above.get(&key) {
                Some(&i) => {
                    cells[i].3 = high;
                    here.insert(key, i);
                }
                None => {
                    cells.push((
                        start as f64 * col_secs,
                        (c as f64 * col_secs).min(duration),
                        low,
                        high,
                        class,
                    ));
                    here.insert(key, cells.len() - 1);
                }
            }
        }
        above = here;
    }
    if !fits {
        labels.clear();
    }
    let hottest_note = match hottest {
        Some(h) if labels.iter().any(|l| l.2) => {
            format!(" Rows are labelled with the shards open at the end; the hottest, {h}, in red.")
        }
        Some(h) if !labels.is_empty() => format!(
            " Rows are labelled with the shards open at the end; the hottest shard, {h}, had \
             closed by then."
        ),
        Some(h) => format!(" The hottest shard is {h}."),
        None => String::new(),
    };
    let span = match col_ns / NANOS_PER_SEC {
        60 => "a minute".to_owned(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} minutes", s / 60),
    };
    Chart {
        name: "heatmap",
        title: "Peak offered utilisation per shard over time".to_owned(),
        caption: format!(
            "Each shard is drawn across its share of the hash key space (so a split's children \
             take their parent's place), each column {span}; the colour is the shard's highest \
             per-second offered utilisation in it (attempts against one shard's limit, records \
             or bytes, whichever is higher). A hot shard shows as a dark stripe; purple to black \
             is over the limit, where attempts are throttled.{hottest_note}{}",
            if outcome.map.shards().len() > BANDS {
                format!(
                    " The chart has {BANDS} rows: where a row holds several shards, it shows the \
                     highest of them."
                )
            } else {
                String::new()
            }
        ),
        body: Body::Heatmap(Heatmap {
            axis,
            end: axis.x(duration),
            cells,
            labels,
        }),
    }
}

pub(super) fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &Heatmap,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, _) = root.dim_in_pixel();
    // The plot where the other charts over time have theirs; the key in
    // the right margin.
    let mut chart = time_frame(root, title).build_cartesian_2d(0.0..d.end.max(1e-9), 0.0..100.0)?;
    let by_shard = !d.labels.is_empty();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(d.axis.desc())
        .y_desc(if by_shard {
            "shard (by hash key range)"
        } else {
            "hash key space (%)"
        })
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| if by_shard { String::new() } else { fmt_num(*v) })
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX))
        .draw()?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (d.end.max(1e-9), 100.0)],
        NOT_OPEN.filled(),
    )))?;
    chart.draw_series(d.cells.iter().map(|&(from, to, low, high, class)| {
        Rectangle::new(
            [(d.axis.x(from), low), (d.axis.x(to), high)],
            UTILISATION.colors[class].filled(),
        )
    }))?;
    // Shard labels left of the plot, where the y axis's would be: nothing
    // is drawn over the data.
    for &(index, mid, hottest) in &d.labels {
        let (x, y) = chart.backend_coord(&(0.0, mid));
        let style = if hottest {
            TextStyle::from((FONT, LABEL_PX, FontStyle::Bold)).color(&RED)
        } else {
            text(LABEL_PX)
        };
        root.draw(&Text::new(
            index.to_string(),
            (x - 8, y),
            style.pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    let key = root
        .split_horizontally(w.saturating_sub(TIME_RIGHT_PX) + 6)
        .1;
    draw_key(&key, "offered / limit", &UTILISATION, Some("no shard open"))?;
    Ok(())
}

/// Open shards over time, with each resharding request.
#[derive(Debug, Clone)]
pub(super) struct Shards {
    axis: TimeAxis,
    end: f64,
    steps: Steps,
    /// `[from, to)` while a request was being carried out (UPDATING).
    updating: Vec<(f64, f64)>,
    /// `(x, open shards then, outcome)`.
    marks: Vec<(f64, f64, Mark)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Completed,
    Rejected,
    Running,
}

fn shards(axis: TimeAxis, scenario: &Scenario, outcome: &Outcome) -> Chart {
    let duration_ns = scenario.duration;
    let duration = duration_ns as f64 / NANOS_PER_SEC as f64;
    let secs = |ns: u64| ns as f64 / NANOS_PER_SEC as f64;
    let mut events: Vec<(u64, i64)> = Vec::new();
    for (from, to) in shard_intervals(scenario, outcome) {
        if from < to {
            events.push((from, 1));
            if to < duration_ns {
                events.push((to, -1));
            }
        }
    }
    events.sort_unstable();
    // (time s, open from then on)
    let mut changes: Vec<(f64, f64)> = Vec::new();
    let mut open = 0i64;
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        while i < events.len() && events[i].0 == t {
            open += events[i].1;
            i += 1;
        }
        if changes.last().is_none_or(|c| c.1 != open as f64) {
            changes.push((secs(t), open as f64));
        }
    }
    let at = |t: f64| {
        changes
            .iter()
            .take_while(|c| c.0 <= t)
            .last()
            .map_or(0.0, |c| c.1)
    };
    // Changes closer together than a pixel or so (the short-lived shards of
    // an UpdateShardCount) cannot be seen and draw as stray dots: keep the
    // last of each burst.
    let slot = duration / 1500.0;
    let mut shown: Vec<(f64, f64)> = Vec::with_capacity(changes.len());
    for &c in &changes {
        let n = shown.len();
        // The first value (at the start) stays as it is.
        if n > 1 && (c.0 / slot).floor() == (shown[n - 1].0 / slot).floor() {
            shown[n - 1].1 = c.1;
        } else {
            shown.push(c);
        }
    }
    shown.dedup_by(|b, a| a.1 == b.1);
    let changes_shown = shown;
    let mut steps = Vec::new();
    if changes_shown.len() <= MAX_STEPS {
        for (k, &(t, n)) in changes_shown.iter().enumerate() {
            let next = changes_shown.get(k + 1).map_or(duration, |c| c.0);
            push_step(&mut steps, axis, t, next, n);
        }
    } else {
        for r in &outcome.metrics.minutes {
            let from = r.start_secs as f64;
            push_step(
                &mut steps,
                axis,
                from,
                from + minute_secs(r, duration),
                f64::from(r.open_shards),
            );
        }
    }
    let mut updating = Vec::new();
    let mut marks = Vec::new();
    for r in &outcome.reshards {
        let t = secs(r.requested);
        let mark = match (&r.rejected, r.finished) {
            (Some(_), _) => Mark::Rejected,
            (None, Some(_)) => Mark::Completed,
            (None, None) => Mark::Running,
        };
        if mark != Mark::Rejected {
            // At least 0.4 % of the axis wide: a reshard of seconds in a
            // run of days would otherwise vanish (or leave stray pixels).
            let end = r.finished.map_or(duration, secs).max(t + duration * 0.004);
            updating.push((axis.x(t), axis.x(end.min(duration))));
        }
        marks.push((axis.x(t), at(t), mark));
    }
    let sources: Vec<&str> = {
        let mut s: Vec<&str> = outcome.reshards.iter().map(|r| r.source).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    Chart {
        name: "shards",
        title: "Open shards and scaling actions".to_owned(),
        caption: if outcome.reshards.is_empty() {
            "Open shards over time; no resharding request was made.".to_owned()
        } else {
            format!(
                "Open shards over time. Each resharding request (by {}) is marked where it was \
                 made: a dot if it completed, a cross if the service rejected it, a ring if it \
                 was still running at the end; the shaded spans are the time the stream was \
                 UPDATING.",
                sources.join(", ")
            )
        },
        body: Body::Shards(Shards {
            axis,
            end: axis.x(duration),
            steps,
            updating,
            marks,
        }),
    }
}

pub(super) fn draw_shards<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &Shards,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max = d.steps.iter().map(|p| p.1).fold(1.0, f64::max);
    // Room above the line for the legend.
    let top = (max * 1.4).max(max + 2.0);
    let mut chart = time_frame(root, title).build_cartesian_2d(0.0..d.end.max(1e-9), 0.0..top)?;
    // Whole shards only on the axis.
    time_mesh(&mut chart, &d.axis.desc(), "open shards", &|v| {
        if (v - v.round()).abs() < 1e-6 {
            fmt_num(*v)
        } else {
            String::new()
        }
    })?;
    if !d.updating.is_empty() {
        let shade = BLUE.mix(0.15);
        chart
            .draw_series(
                d.updating
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, top)], shade.filled())),
            )?
            .label("UPDATING (resharding)")
            .legend(legend_box(shade));
    }
    let line = INK.stroke_width(2);
    chart
        .draw_series(LineSeries::new(d.steps.iter().copied(), line))?
        .label("open shards")
        .legend(legend_line(line));
    let of = |m: Mark| d.marks.iter().filter(move |x| x.2 == m).map(|x| (x.0, x.1));
    if of(Mark::Completed).next().is_some() {
        chart
            .draw_series(of(Mark::Completed).map(|p| Circle::new(p, 5, GREEN.filled())))?
            .label("request completed")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, GREEN.filled()));
    }
    if of(Mark::Rejected).next().is_some() {
        chart
            .draw_series(of(Mark::Rejected).map(|p| Cross::new(p, 6, RED.stroke_width(2))))?
            .label("request rejected")
            .legend(|(x, y)| Cross::new((x + 10, y), 6, RED.stroke_width(2)));
    }
    if of(Mark::Running).next().is_some() {
        chart
            .draw_series(of(Mark::Running).map(|p| Circle::new(p, 5, PURPLE.stroke_width(2))))?
            .label("request running at the end")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, PURPLE.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
