//! The consumer lag chart of a run: iterator age per application.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::run::{Steps, push_step};
use super::{
    Body, Chart, DASH, DrawResult, INK, SERIES, TimeAxis, bucket, draw_empty, fmt_num, legend,
    legend_dashed, legend_line, time_frame, time_mesh, y_top,
};
use crate::model::Outcome;
use crate::scenario::Scenario;

/// Iterator age per consumer application.
#[derive(Debug, Clone)]
pub(super) struct IteratorAge {
    axis: TimeAxis,
    end: f64,
    unit: &'static str,
    per: String,
    apps: Vec<(String, Steps)>,
    slo: Option<f64>,
}

pub(super) fn iterator_age(
    axis: TimeAxis,
    duration: f64,
    scenario: &Scenario,
    outcome: &Outcome,
) -> Chart {
    let max_ms = outcome
        .consumers
        .iter()
        .flat_map(|c| c.behind_ms_per_minute.iter().copied())
        .max()
        .unwrap_or(0) as f64;
    let slo_ms = scenario.slo.max_iterator_age.map(|ns| ns as f64 / 1e6);
    let top_ms = max_ms.max(slo_ms.unwrap_or(0.0));
    let (ms_per_unit, unit) = if top_ms >= 36_000_000.0 {
        (3_600_000.0, "h")
    } else if top_ms >= 600_000.0 {
        (60_000.0, "min")
    } else if top_ms >= 2_000.0 {
        (1_000.0, "s")
    } else {
        (1.0, "ms")
    };
    let minutes = outcome.metrics.minutes.len();
    let k = bucket(minutes);
    let mut apps = Vec::new();
    for (app, c) in scenario.consumers.iter().zip(&outcome.consumers) {
        let mut steps = Vec::new();
        for start in (0..minutes).step_by(k) {
            let end = (start + k).min(minutes);
            let v = (start..end)
                .map(|m| c.behind_ms_per_minute.get(m).copied().unwrap_or(0))
                .max()
                .unwrap_or(0) as f64;
            let to = ((end * 60) as f64).min(duration);
            push_step(&mut steps, axis, (start * 60) as f64, to, v / ms_per_unit);
        }
        apps.push((app.name.clone(), steps));
    }
    let per = if k == 1 {
        "max per minute".to_owned()
    } else {
        format!("max per {k} minutes")
    };
    Chart {
        name: "iterator-age",
        title: "Iterator age per consumer application".to_owned(),
        caption: format!(
            "How far each application is behind the tip of the stream (MillisBehindLatest, \
             {per}), in {unit}. A line that keeps rising is an application that cannot keep up; \
             past the retention period, records are lost."
        ),
        body: Body::IteratorAge(IteratorAge {
            axis,
            end: axis.x(duration),
            unit,
            per,
            apps,
            slo: slo_ms.map(|v| v / ms_per_unit),
        }),
    }
}

pub(super) fn draw_iterator_age<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &IteratorAge,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if d.apps.iter().all(|a| a.1.is_empty()) {
        return draw_empty(root, title, "no minutes were simulated");
    }
    let max = d
        .apps
        .iter()
        .flat_map(|a| a.1.iter().map(|p| p.1))
        .fold(d.slo.unwrap_or(0.0), f64::max);
    let mut chart =
        time_frame(root, title).build_cartesian_2d(0.0..d.end.max(1e-9), 0.0..y_top(max, 1.0))?;
    time_mesh(
        &mut chart,
        &d.axis.desc(),
        &format!("iterator age ({}, {})", d.unit, d.per),
        &|v| fmt_num(*v),
    )?;
    for (i, (name, steps)) in d.apps.iter().enumerate() {
        let style = SERIES[i % SERIES.len()].stroke_width(2);
        chart
            .draw_series(LineSeries::new(steps.iter().copied(), style))?
            .label(name.clone())
            .legend(legend_line(style));
    }
    if let Some(limit) = d.slo {
        let s = INK.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, limit), (d.end, limit)],
                DASH.0,
                DASH.1,
                s,
            ))?
            .label(format!("objective: at most {} {}", fmt_num(limit), d.unit))
            .legend(legend_dashed(s));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}
