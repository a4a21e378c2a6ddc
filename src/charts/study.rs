//! The charts of a plan or a sweep: throttle rate and cost against the
//! shard count, and a heatmap of throttling over two swept parameters.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Body, Chart, ChartError, DASH, DESC_PX, DrawResult, GREEN, GRID, INK, LABEL_PX, LIGHT, ORANGE,
    PURPLE, RateAxis, SERIES, THROTTLE, draw_empty, draw_key, fmt_num, fmt_pct, frame, ink_on,
    legend, legend_box, legend_dashed, legend_line, text, y_top,
};
use crate::plan::{Estimate, Plan};
use crate::sweep::{METRICS, SweepSummary};

/// The sweep axis that sets the shard count.
const SHARDS_AXIS: &str = "stream.shards";

/// Cells are labelled with their value up to this many per side.
const LABELLED_CELLS: usize = 16;

/// `(shards, mean, 95 % half-width)`.
type Point3 = (f64, f64, f64);

/// A metric (mean and 95 % half-width) against the shard count, one line
/// per series.
#[derive(Debug, Clone)]
pub(super) struct VsShards {
    /// x is log2(shards) when the counts span a wide range.
    log2: bool,
    /// y is USD a month (else a rate).
    money: bool,
    /// `(name, [(shards, mean, ci95)])`, points by shard count.
    lines: Vec<(String, Vec<Point3>)>,
    /// Horizontal references: `(label, y, colour)`.
    refs: Vec<(String, f64, RGBColor)>,
    recommended: Option<u32>,
}

impl VsShards {
    fn x(&self, shards: f64) -> f64 {
        if self.log2 {
            shards.max(1.0).log2()
        } else {
            shards
        }
    }
}

/// Whether shard counts from `lo` to `hi` read better on a log2 axis.
fn wide(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 16.0
}

fn points(cands: impl Iterator<Item = (u32, Estimate)>) -> Vec<Point3> {
    cands
        .map(|(s, e)| (f64::from(s), e.mean, e.ci95.max(0.0)))
        .collect()
}

/// The charts of a plan: throttle rate and monthly cost against the shard
/// count.
pub fn plan_charts(plan: &Plan) -> Vec<Chart> {
    let shards: Vec<f64> = plan
        .candidates
        .iter()
        .map(|c| f64::from(c.shards))
        .collect();
    let lo = shards.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = shards.iter().copied().fold(0.0, f64::max);
    let log2 = wide(lo, hi);
    let r = plan.replications;
    let mut refs = Vec::new();
    if let Some(max) = plan.slo.max_throttle_rate {
        refs.push((format!("objective: at most {}", fmt_pct(max)), max, INK));
    }
    let rate = Chart {
        name: "throttle-vs-shards",
        title: "Throttle rate against shard count".to_owned(),
        caption: format!(
            "Mean throttle rate of each candidate over {r} replications, with its 95 % \
             confidence interval (shaded); the green line is the recommendation, the dashed \
             line the objective. The rate axis is logarithmic (the bottom band is no \
             throttling), so that an objective of 0.1 % can be read.{}",
            if log2 {
                " The shard axis is logarithmic."
            } else {
                ""
            }
        ),
        body: Body::RateVsShards(VsShards {
            log2,
            money: false,
            lines: vec![(
                "throttle rate (mean)".to_owned(),
                points(plan.candidates.iter().map(|c| (c.shards, c.throttle_rate))),
            )],
            refs,
            recommended: plan.recommended,
        }),
    };
    let mut refs = Vec::new();
    // An on-demand line that misses the objectives says so: a cost is no
    // alternative if the stream throttles.
    let on_demand = |name: &str, c: &crate::plan::Candidate| {
        let verdict = if c.meets {
            "meets the objectives".to_owned()
        } else {
            format!(
                "MISSES the objectives ({} throttled)",
                fmt_pct(c.throttle_rate.mean)
            )
        };
        format!("{name}: ${:.2}, {verdict}", c.monthly_cost.mean)
    };
    if let Some(c) = &plan.on_demand {
        refs.push((on_demand("on-demand", c), c.monthly_cost.mean, ORANGE));
    }
    if let Some(c) = &plan.on_demand_advantage {
        refs.push((
            on_demand("on-demand Advantage", c),
            c.monthly_cost.mean,
            PURPLE,
        ));
    }
    if let Some(max) = plan.slo.max_monthly_cost {
        refs.push((format!("objective: at most ${max:.2}"), max, INK));
    }
    let cost = Chart {
        name: "cost-vs-shards",
        title: "Monthly cost against shard count (USD per 730 hours)".to_owned(),
        caption: format!(
            "Mean monthly cost of each provisioned candidate over {r} replications (95 % \
             interval shaded){}; the green line is the recommendation.",
            if plan.on_demand.is_some() {
                ", and the same traffic on an on-demand stream as dashed horizontal lines, each \
                 labelled with whether it meets the objectives"
            } else {
                ""
            }
        ),
        body: Body::CostVsShards(VsShards {
            log2,
            money: true,
            lines: vec![(
                "provisioned (mean)".to_owned(),
                points(plan.candidates.iter().map(|c| (c.shards, c.monthly_cost))),
            )],
            refs,
            recommended: plan.recommended,
        }),
    };
    vec![rate, cost]
}

/// What the sweep charts are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct SweepData<'a> {
    /// The sweep's summary: the axes' paths in grid order (e.g.
    /// `stream.shards`) and each point's estimates.
    pub summary: &'a SweepSummary,
    /// The base scenario's `max_throttle_rate`, drawn as a reference.
    pub max_throttle_rate: Option<f64>,
}

/// One point of the summary, as the charts use it.
#[derive(Debug, Clone)]
struct Point {
    values: Vec<String>,
    throttle: Option<Estimate>,
    cost: Option<Estimate>,
}

/// The summary's points; a point without a value per axis is an error.
fn points_of(data: &SweepData<'_>) -> Result<Vec<Point>, ChartError> {
    let n = data.summary.axes.len();
    let throttle = METRICS.iter().position(|m| *m == "throttle_rate");
    let cost = METRICS.iter().position(|m| *m == "monthly_cost_usd");
    let (Some(throttle), Some(cost)) = (throttle, cost) else {
        return Err(ChartError::Data(
            "sweep metrics without throttle rate or cost".into(),
        ));
    };
    data.summary
        .points
        .iter()
        .map(|p| {
            if p.params.len() != n {
                return Err(ChartError::Data(format!(
                    "sweep point {} has {} values for {n} axes",
                    p.point,
                    p.params.len()
                )));
            }
            Ok(Point {
                values: p.params.clone(),
                throttle: p.estimates[throttle],
                cost: p.estimates[cost],
            })
        })
        .collect()
}

/// Distinct values in order of first appearance (grid order).
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// The mean of means, and the half-width of that mean's interval (the
/// points are independent runs: half-widths add in quadrature).
fn average(es: &[Estimate]) -> Option<Estimate> {
    if es.is_empty() {
        return None;
    }
    let k = es.len() as f64;
    Some(Estimate {
        mean: es.iter().map(|e| e.mean).sum::<f64>() / k,
        ci95: es.iter().map(|e| e.ci95 * e.ci95).sum::<f64>().sqrt() / k,
    })
}

fn names(axes: &[&String]) -> String {
    axes.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The charts of a sweep: with a `stream.shards` axis, throttle rate and
/// cost against it (a line per value of the next axis); with two axes or
/// more, a heatmap of the throttle rate over the first two. Other axes are
/// averaged over, and the captions say so.
pub fn sweep_charts(data: &SweepData<'_>) -> Result<Vec<Chart>, ChartError> {
    let points = points_of(data)?;
    let mut charts = Vec::new();
    if let Some(s) = data.summary.axes.iter().position(|a| a == SHARDS_AXIS) {
        let others: Vec<usize> = (0..data.summary.axes.len()).filter(|&i| i != s).collect();
        let by = others.first().copied();
        let rest: Vec<&String> = others
            .iter()
            .skip(1)
            .map(|&i| &data.summary.axes[i])
            .collect();
        let series = match by {
            Some(b) => distinct(points.iter().map(|p| p.values[b].as_str())),
            None => vec![String::new()],
        };
        let shard_values: Vec<f64> = {
            let mut v: Vec<f64> = distinct(points.iter().map(|p| p.values[s].as_str()))
                .iter()
                .filter_map(|x| x.parse::<f64>().ok())
                .collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let lo = shard_values.first().copied().unwrap_or(1.0);
        let hi = shard_values.last().copied().unwrap_or(1.0);
        let log2 = wide(lo, hi);
        let line = |metric: fn(&Point) -> Option<Estimate>, value: &str| {
            shard_values
                .iter()
                .filter_map(|&x| {
                    let es: Vec<Estimate> = points
                        .iter()
                        .filter(|p| p.values[s].parse::<f64>().ok() == Some(x))
                        .filter(|p| by.is_none_or(|b| p.values[b] == value))
                        .filter_map(metric)
                        .collect();
                    average(&es).map(|e| (x, e.mean, e.ci95))
                })
                .collect::<Vec<_>>()
        };
        let label = |v: &str, what: &str| match by {
            Some(b) => format!("{}={v}", data.summary.axes[b]),
            None => what.to_owned(),
        };
        let mean_note = if rest.is_empty() {
            String::new()
        } else {
            format!(" Each point is the mean over {}.", names(&rest))
        };
        let lines_note = match by {
            Some(b) => format!(", one line per value of {}", data.summary.axes[b]),
            None => String::new(),
        };
        let mut refs = Vec::new();
        if let Some(max) = data.max_throttle_rate {
            refs.push((format!("objective: at most {}", fmt_pct(max)), max, INK));
        }
        charts.push(Chart {
            name: "throttle-vs-shards",
            title: "Throttle rate against shard count".to_owned(),
            caption: format!(
                "Mean throttle rate at each swept shard count{lines_note}, with 95 % confidence \
                 intervals (shaded), on a logarithmic axis (the bottom band is no \
                 throttling).{mean_note}"
            ),
            body: Body::RateVsShards(VsShards {
                log2,
                money: false,
                lines: series
                    .iter()
                    .map(|v| (label(v, "throttle rate (mean)"), line(|p| p.throttle, v)))
                    .collect(),
                refs,
                recommended: None,
            }),
        });
        charts.push(Chart {
            name: "cost-vs-shards",
            title: "Monthly cost against shard count (USD per 730 hours)".to_owned(),
            caption: format!(
                "Mean monthly cost at each swept shard count{lines_note}, with 95 % confidence \
                 intervals (shaded).{mean_note}"
            ),
            body: Body::CostVsShards(VsShards {
                log2,
                money: true,
                lines: series
                    .iter()
                    .map(|v| (label(v, "monthly cost (mean)"), line(|p| p.cost, v)))
                    .collect(),
                refs: Vec::new(),
                recommended: None,
            }),
        });
    }
    if data.summary.axes.len() >= 2 {
        let xs = distinct(points.iter().map(|p| p.values[0].as_str()));
        let ys = distinct(points.iter().map(|p| p.values[1].as_str()));
        let cells: Vec<Vec<Option<f64>>> = ys
            .iter()
            .map(|y| {
                xs.iter()
                    .map(|x| {
                        let es: Vec<Estimate> = points
                            .iter()
                            .filter(|p| &p.values[0] == x && &p.values[1] == y)
                            .filter_map(|p| p.throttle)
                            .collect();
                        average(&es).map(|e| e.mean)
                    })
                    .collect()
            })
            .collect();
        let rest: Vec<&String> = data.summary.axes.iter().skip(2).collect();
        charts.push(Chart {
            name: "sweep-heatmap",
            title: format!(
                "Throttle rate over {} and {}",
                data.summary.axes[0], data.summary.axes[1]
            ),
            caption: format!(
                "Mean throttle rate at each combination of the first two axes{}; the palest \
                 (green) is no throttling, and darker is more.",
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(", averaged over {}", names(&rest))
                }
            ),
            body: Body::SweepHeatmap(SweepHeatmap {
                x_name: data.summary.axes[0].clone(),
                y_name: data.summary.axes[1].clone(),
                xs,
                ys,
                cells,
            }),
        });
    }
    Ok(charts)
}

fn draw_vs_shards<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &VsShards,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all: Vec<f64> = d
        .lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.0))
        .collect();
    if all.is_empty() {
        return draw_empty(root, title, "no shard counts were run");
    }
    let lo = d.x(all.iter().copied().fold(f64::INFINITY, f64::min));
    let hi = d.x(all.iter().copied().fold(0.0, f64::max));
    let pad = ((hi - lo) * 0.04).max(0.5);
    let values = || {
        d.lines
            .iter()
            .flat_map(|l| l.1.iter().flat_map(|p| [p.1, p.1 + p.2, p.1 - p.2]))
            .chain(d.refs.iter().map(|r| r.1))
    };
    // Rates on a log axis (0.1 % and 90 % on one chart), money linear.
    let rate = RateAxis::for_values(values());
    let money = d.money;
    let ymap = |v: f64| if money { v } else { rate.y(v) };
    let (bottom, top) = if money {
        // More headroom, as horizontal reference lines run under the
        // legend's corner too.
        let max = values().fold(0.0, f64::max);
        (0.0, y_top(max * 1.25, 1.0))
    } else {
        let r = rate.range();
        (r.start, r.end)
    };
    let mut chart = frame(root, title, 80).build_cartesian_2d(lo - pad..hi + pad, bottom..top)?;
    let log2 = d.log2;
    let x_label = |v: &f64| {
        // Only whole shard counts get a label.
        let s = if log2 { v.exp2() } else { *v };
        if (s - s.round()).abs() < 1e-6 && s >= 1.0 - 1e-9 {
            fmt_num(s.round())
        } else {
            String::new()
        }
    };
    let y_label = |v: &f64| {
        if money {
            format!("${}", fmt_num(*v))
        } else {
            rate.label(*v)
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(LIGHT)
        .bold_line_style(GRID)
        .x_desc(if log2 { "shards (log scale)" } else { "shards" })
        .y_desc(if money {
            "USD per month (730 hours)"
        } else {
            "attempts throttled (log scale)"
        })
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX));
    if !money {
        mesh.y_labels(rate.decades() + 1);
    }
    mesh.draw()?;
    let (x0, x1) = (lo - pad, hi + pad);
    for (i, (name, pts)) in d.lines.iter().enumerate() {
        let color = SERIES[i % SERIES.len()];
        if pts.iter().any(|p| p.2 > 0.0) {
            let mut band: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (d.x(p.0), ymap(p.1 + p.2).min(top)))
                .collect();
            band.extend(
                pts.iter()
                    .rev()
                    .map(|p| (d.x(p.0), ymap((p.1 - p.2).max(0.0)).max(bottom))),
            );
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.18).filled(),
            )))?;
        }
        let style = color.stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (d.x(p.0), ymap(p.1))),
                style,
            ))?
            .label(name.clone())
            .legend(legend_line(style));
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new((d.x(p.0), ymap(p.1)), 4, color.filled())),
        )?;
    }
    for (label, y, color) in &d.refs {
        let s = color.stroke_width(2);
        let y = ymap(*y);
        chart
            .draw_series(DashedLineSeries::new([(x0, y), (x1, y)], DASH.0, DASH.1, s))?
            .label(label.clone())
            .legend(legend_dashed(s));
    }
    if let Some(n) = d.recommended {
        let x = d.x(f64::from(n));
        let s = GREEN.stroke_width(2);
        chart
            .draw_series(LineSeries::new([(x, bottom), (x, top)], s))?
            .label(format!("recommended: {n} shards"))
            .legend(legend_line(s));
    }
    if d.lines.iter().any(|l| l.1.iter().any(|p| p.2 > 0.0)) {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("95 % confidence interval")
            .legend(legend_box(SERIES[0].mix(0.18)));
    }
    // Costs rise with shards and throttling falls: the empty corner differs.
    let corner = if d.money {
        SeriesLabelPosition::UpperLeft
    } else {
        SeriesLabelPosition::UpperRight
    };
    legend(&mut chart, corner)?;
    Ok(())
}

/// A cell's throttle rate: never "0 %" for a rate that is not 0.
fn cell_pct(v: f64) -> String {
    if v > 0.0 && v < 0.0001 {
        "< 0.01 %".to_owned()
    } else {
        fmt_pct(v)
    }
}

pub(super) fn draw_rate_vs_shards<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &VsShards,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    draw_vs_shards(root, title, d)
}

pub(super) fn draw_cost_vs_shards<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &VsShards,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    draw_vs_shards(root, title, d)
}

/// A metric over two swept parameters.
#[derive(Debug, Clone)]
pub(super) struct SweepHeatmap {
    x_name: String,
    y_name: String,
    xs: Vec<String>,
    ys: Vec<String>,
    /// `[y][x]`: the mean throttle rate, if any run measured it.
    cells: Vec<Vec<Option<f64>>>,
}

pub(super) fn draw_sweep_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &SweepHeatmap,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if d.xs.is_empty() || d.ys.is_empty() {
        return draw_empty(root, title, "the sweep has no points");
    }
    let (w, _) = root.dim_in_pixel();
    let (left, right) = root.split_horizontally(w.saturating_sub(150));
    let (nx, ny) = (d.xs.len(), d.ys.len());
    let mut chart = frame(&left, title, 90).build_cartesian_2d(
        (0..nx as i32 - 1).into_segmented(),
        (0..ny as i32 - 1).into_segmented(),
    )?;
    let name = |values: &[String], v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => values.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let x_label = |v: &SegmentValue<i32>| name(&d.xs, v);
    let y_label = |v: &SegmentValue<i32>| name(&d.ys, v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(d.x_name.clone())
        .y_desc(d.y_name.clone())
        .x_labels(nx.min(24))
        .y_labels(ny.min(24))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX))
        .draw()?;
    let cell = |x: usize, y: usize| {
        [
            (SegmentValue::Exact(x as i32), SegmentValue::Exact(y as i32)),
            (
                if x + 1 < nx {
                    SegmentValue::Exact(x as i32 + 1)
                } else {
                    SegmentValue::Last
                },
                if y + 1 < ny {
                    SegmentValue::Exact(y as i32 + 1)
                } else {
                    SegmentValue::Last
                },
            ),
        ]
    };
    for (y, row) in d.cells.iter().enumerate() {
        for (x, v) in row.iter().enumerate() {
            let Some(v) = v else { continue };
            let class = THROTTLE.class(*v);
            chart.draw_series(std::iter::once(Rectangle::new(
                cell(x, y),
                THROTTLE.colors[class].filled(),
            )))?;
            if nx <= LABELLED_CELLS && ny <= LABELLED_CELLS {
                let color = ink_on(THROTTLE.colors[class]);
                chart.draw_series(std::iter::once(Text::new(
                    cell_pct(*v),
                    (
                        SegmentValue::CenterOf(x as i32),
                        SegmentValue::CenterOf(y as i32),
                    ),
                    text(LABEL_PX)
                        .color(&color)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
        }
    }
    draw_key(&right, "throttle rate", &THROTTLE, None)?;
    Ok(())
}
