//! The hot keys chart of a run: the busiest keys against one shard's
//! limit, from the analysis's key rows.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    BLUE, Body, Chart, DASH, DESC_PX, DrawResult, GRID, INK, LABEL_PX, LIGHT, RED, fmt_num, frame,
    legend, legend_dashed, text, y_top,
};
use crate::kds::Quota;
use crate::report::RunReport;

/// The top keys' record rates.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    /// `(group:key, records/s, over a shard's limit)`, busiest first.
    keys: Vec<(String, f64, bool)>,
    limit: f64,
}

/// Key labels longer than this are cut (with an ellipsis).
const KEY_LABEL_CHARS: usize = 28;

pub(super) fn keys(report: &RunReport) -> Option<Chart> {
    let keys: Vec<(String, f64, bool)> = report
        .analysis
        .keys
        .iter()
        .map(|k| {
            let mut label = format!("{}:{}", k.group, k.key);
            if label.chars().count() > KEY_LABEL_CHARS {
                label = label.chars().take(KEY_LABEL_CHARS - 1).collect::<String>() + "…";
            }
            (label, k.records_per_s, k.exceeds_shard_limit)
        })
        .collect();
    if keys.is_empty() {
        return None;
    }
    let limit = Quota::WriteRecordsPerShardPerSec.value() as f64;
    Some(Chart {
        name: "keys",
        title: "Busiest partition keys against one shard's limit".to_owned(),
        caption: format!(
            "The {} busiest keys (keys.csv) and their mean records/s over the run. A key always \
             maps to one shard, so a key past the line (1,000 records/s per shard) is throttled \
             whatever the shard count; red bars are keys over a shard's records or bytes limit.",
            keys.len()
        ),
        body: Body::Keys(Keys { keys, limit }),
    })
}

pub(super) fn draw_keys<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &Keys,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = d.keys.len();
    let max = d.keys.iter().map(|k| k.1).fold(d.limit, f64::max);
    // Room for the longest label (DejaVu Sans at 14 px: about 8 px a character).
    let longest = d
        .keys
        .iter()
        .map(|k| k.0.chars().count())
        .max()
        .unwrap_or(0);
    let label_px = (longest as u32 * 8 + 24).clamp(60, 260);
    let mut chart = frame(root, title, label_px).build_cartesian_2d(
        0.0..y_top(max, 1.0),
        // Integer ranges are inclusive in plotters: n segments for 0..=n-1.
        (0..n as i32 - 1).into_segmented(),
    )?;
    // Busiest at the top: row 0 is drawn highest.
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < n => d.keys[n - 1 - *i as usize].0.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .light_line_style(LIGHT)
        .bold_line_style(GRID)
        .disable_y_mesh()
        .x_desc("records/s (mean over the run)")
        .y_desc("")
        .y_labels(n)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&label)
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX))
        .draw()?;
    chart.draw_series(d.keys.iter().enumerate().map(|(i, (_, rate, over))| {
        let row = (n - 1 - i) as i32;
        let color = if *over { RED } else { BLUE };
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row)),
                (*rate, SegmentValue::Exact(row + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(3, 3, 0, 0);
        bar
    }))?;
    let s = INK.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            [
                (d.limit, SegmentValue::Exact(0)),
                (d.limit, SegmentValue::Last),
            ],
            DASH.0,
            DASH.1,
            s,
        ))?
        .label("one shard's limit: 1,000 records/s")
        .legend(legend_dashed(s));
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}
