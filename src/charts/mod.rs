//! Charts of a run, a plan or a sweep: pure renderers to SVG text or PNG
//! bytes.
//!
//! ```text
//! run (Scenario, Outcome, RunReport) ─┐
//! plan (Plan) ────────────────────────┼─► Vec<Chart> ─► render_svg / render_png
//! sweep (SweepSummary) ───────────────┘      (data only)   (one draw function per kind)
//! ```
//!
//! Each chart kind has one function that prepares its data (in `run` or
//! `study`) and one that draws it on any plotters backend. Text is laid
//! out with the DejaVu Sans faces compiled into the binary (registered
//! before anything is drawn), so no system font library or font file is
//! needed. Output is byte-stable: series are drawn in input order, bars and
//! cells as plain rectangles (plotters' `Histogram` bins through a
//! `HashMap`, whose order changes between processes), and nothing reads
//! the clock.

mod keys;
mod lag;
mod run;
mod study;

pub use run::run_charts;
pub use study::{SweepData, plan_charts, sweep_charts};

use std::sync::OnceLock;

use plotters::element::ComposedElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// Every chart's file name (without `.svg` / `.png`), in report order.
pub const CHART_NAMES: &[&str] = &[
    "load",
    "throttle",
    "heatmap",
    "shards",
    "iterator-age",
    "keys",
    "throttle-vs-shards",
    "cost-vs-shards",
    "sweep-heatmap",
];

/// Pixel size of every chart (the SVG's view box, the PNG's size).
pub const SIZE: (u32, u32) = (960, 480);

/// The font family registered with plotters, under the face's own name:
/// the SVG's `font-family` then names the face its text was laid out with
/// (report.html adds fallbacks for browsers without it).
pub const FONT: &str = "DejaVu Sans";
const TITLE_PX: u32 = 22;
const DESC_PX: u32 = 16;
const LABEL_PX: u32 = 14;
const LEGEND_PX: u32 = 14;
/// Left label area of every chart over time, so that their time axes line
/// up when they are stacked in a page.
const TIME_LEFT_PX: u32 = 70;
/// Room right of the plot of every chart over time: the heatmap's colour
/// key is there, and the other charts keep the same plot width.
const TIME_RIGHT_PX: u32 = 150;
/// Dashes of a reference line (objectives, capacity), in pixels: on and off.
const DASH: (u32, u32) = (8, 5);

/// At most this many points per line: about one per pixel column of the
/// plot; longer series are bucketed (means or maxima, as each chart says).
const MAX_POINTS: usize = 720;

const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(218, 218, 218);
/// Minor grid lines: barely there, so that the data stands out.
const LIGHT: RGBColor = RGBColor(246, 246, 246);
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 115, 0);
const RED: RGBColor = RGBColor(200, 30, 30);
const GREEN: RGBColor = RGBColor(30, 140, 60);
const PURPLE: RGBColor = RGBColor(110, 60, 170);
const NOT_OPEN: RGBColor = RGBColor(236, 236, 236);
/// Colours of series told apart by name (applications, sweep values).
const SERIES: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 115, 0),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A chart that cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// An embedded font did not load (a broken build; fatal for every chart).
    #[error("the embedded font {0} could not be loaded")]
    Font(&'static str),
    /// plotters failed to draw a chart.
    #[error("drawing the chart {chart}: {message}")]
    Draw {
        /// The chart's name.
        chart: &'static str,
        /// plotters' message.
        message: String,
    },
    /// The PNG encoder failed.
    #[error("encoding the chart {chart} as PNG")]
    Png {
        /// The chart's name.
        chart: &'static str,
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// The data a chart is drawn from is inconsistent (a sweep point without
    /// a value per axis).
    #[error("{0}")]
    Data(String),
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The grid, axis titles and labels of a chart over time (load, throttling,
/// open shards, consumer lag): one look for all of them.
fn time_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    x_desc: &str,
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .light_line_style(LIGHT)
        .bold_line_style(GRID)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(y_label)
        .label_style(text(LABEL_PX))
        .axis_desc_style(text(DESC_PX))
        .draw()?;
    Ok(())
}

/// One chart, its data prepared; draw it with [`render_svg`] or
/// [`render_png`].
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name without extension, one of [`CHART_NAMES`].
    pub name: &'static str,
    /// The title drawn on the chart.
    pub title: String,
    /// How to read it, in a sentence or two (the HTML report's caption).
    pub caption: String,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Load(run::Load),
    Throttle(run::Throttle),
    Heatmap(run::Heatmap),
    Shards(run::Shards),
    IteratorAge(lag::IteratorAge),
    Keys(keys::Keys),
    RateVsShards(study::VsShards),
    CostVsShards(study::VsShards),
    SweepHeatmap(study::SweepHeatmap),
}

/// Registers the embedded faces with plotters, once per process.
fn fonts() -> Result<(), ChartError> {
    static DONE: OnceLock<Result<(), &'static str>> = OnceLock::new();
    (*DONE.get_or_init(|| {
        // InvalidFont has neither Debug nor Display: name the face instead.
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVuSans")?;
        register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "DejaVuSans-Bold")?;
        Ok(())
    }))
    .map_err(ChartError::Font)
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    match &chart.body {
        Body::Load(d) => run::draw_load(&root, &chart.title, d)?,
        Body::Throttle(d) => run::draw_throttle(&root, &chart.title, d)?,
        Body::Heatmap(d) => run::draw_heatmap(&root, &chart.title, d)?,
        Body::Shards(d) => run::draw_shards(&root, &chart.title, d)?,
        Body::IteratorAge(d) => lag::draw_iterator_age(&root, &chart.title, d)?,
        Body::Keys(d) => keys::draw_keys(&root, &chart.title, d)?,
        Body::RateVsShards(d) => study::draw_rate_vs_shards(&root, &chart.title, d)?,
        Body::CostVsShards(d) => study::draw_cost_vs_shards(&root, &chart.title, d)?,
        Body::SweepHeatmap(d) => study::draw_sweep_heatmap(&root, &chart.title, d)?,
    }
    root.present()?;
    Ok(())
}

/// The chart as an SVG document (without an XML declaration, so that it
/// can also be inlined in HTML).
pub fn render_svg(chart: &Chart) -> Result<String, ChartError> {
    fonts()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(chart, root).map_err(|e| ChartError::Draw {
            chart: chart.name,
            message: e.to_string(),
        })?;
    }
    Ok(text)
}

/// The chart as a PNG image (RGB, 8 bits per channel).
pub fn render_png(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    fonts()?;
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(chart, root).map_err(|e| ChartError::Draw {
            chart: chart.name,
            message: e.to_string(),
        })?;
    }
    let png_err = |source| ChartError::Png {
        chart: chart.name,
        source,
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&pixels).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

// ---- shared pieces ------------------------------------------------------

fn title_style() -> TextStyle<'static> {
    TextStyle::from((FONT, TITLE_PX, FontStyle::Bold))
}

fn text(px: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, px))
}

/// A chart frame with the shared margins, caption and label areas.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_label_px: u32,
) -> ChartBuilder<'a, 'a, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, title_style())
        .margin(14)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(y_label_px);
    b
}

/// The frame of a chart over time: the same plot area left and right in
/// every one of them (the heatmap's key sits in the right margin).
fn time_frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> ChartBuilder<'a, 'a, DB> {
    let mut b = frame(root, title, TIME_LEFT_PX);
    b.margin_right(TIME_RIGHT_PX);
    b
}

/// A time axis unit chosen from the run's length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TimeAxis {
    secs: f64,
    unit: &'static str,
}

impl TimeAxis {
    fn for_duration(secs: f64) -> TimeAxis {
        let (secs, unit) = if secs <= 180.0 {
            (1.0, "s")
        } else if secs <= 3.0 * 3600.0 {
            (60.0, "min")
        } else {
            (3600.0, "h")
        };
        TimeAxis { secs, unit }
    }

    fn x(&self, secs: f64) -> f64 {
        secs / self.secs
    }

    fn desc(&self) -> String {
        format!("time since start ({})", self.unit)
    }
}

/// Tick labels: at most 3 significant decimals, thousands as k and
/// millions as M.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    format!("{s}{suffix}")
}

/// A fraction as a percentage tick label.
fn fmt_pct(v: f64) -> String {
    format!("{} %", fmt_num(v * 100.0))
}

/// The top of a y axis: a quarter above the largest value, which leaves
/// the legend room in the upper corner, and never an empty range.
fn y_top(max: f64, floor: f64) -> f64 {
    let m = if max.is_finite() { max } else { 0.0 };
    (m * 1.3).max(floor)
}

/// Minutes per point so that a series has at most [`MAX_POINTS`].
fn bucket(len: usize) -> usize {
    len.div_ceil(MAX_POINTS).max(1)
}

/// A short horizontal line for a legend entry.
fn legend_line(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// Two dashes of a legend swatch.
type Dashes<DB> = ComposedElement<(i32, i32), DB, PathElement<(i32, i32)>, PathElement<(i32, i32)>>;

/// A legend entry for a dashed series: two dashes as the series draws
/// them, so that a dashed line is not mistaken for a solid one.
fn legend_dashed<DB: DrawingBackend>(style: ShapeStyle) -> impl Fn((i32, i32)) -> Dashes<DB> {
    let (on, off) = (DASH.0 as i32, DASH.1 as i32);
    move |at| {
        EmptyElement::at(at)
            + PathElement::new(vec![(0, 0), (on, 0)], style)
            + PathElement::new(vec![(on + off, 0), (20, 0)], style)
    }
}

fn legend_box(color: RGBAColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.filled())
}

/// Draws the legend of the series labelled so far.
fn legend<
    'a,
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.88))
        .border_style(INK.mix(0.4))
        .label_font(text(LEGEND_PX))
        .draw()
}

/// A chart that only says why there is nothing to draw.
fn draw_empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    why: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_owned(), (20, 20), title_style()))?;
    root.draw(&Text::new(
        why.to_owned(),
        (w as i32 / 2, h as i32 / 2),
        text(DESC_PX).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// A colour scale of fixed classes: `bounds[i]` is the lowest value of
/// class `i + 1`.
#[derive(Debug, Clone)]
struct Classes {
    bounds: &'static [f64],
    colors: &'static [RGBColor],
    labels: &'static [&'static str],
}

impl Classes {
    fn class(&self, v: f64) -> usize {
        self.bounds.iter().take_while(|&&b| v >= b).count()
    }
}

/// Offered utilisation (1.0 = one shard's limit): ten classes to the limit
/// (light yellow to dark red), then three over it (dark purple to black),
/// where attempts are throttled. Each class is darker than the one below
/// it (CIE L* falls throughout), so darker always means busier.
const UTILISATION: Classes = Classes {
    bounds: &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0],
    colors: &[
        RGBColor(255, 255, 217),
        RGBColor(255, 240, 170),
        RGBColor(254, 222, 128),
        RGBColor(254, 196, 90),
        RGBColor(253, 165, 65),
        RGBColor(252, 128, 50),
        RGBColor(240, 85, 40),
        RGBColor(215, 45, 35),
        RGBColor(180, 15, 40),
        RGBColor(130, 0, 38),
        RGBColor(92, 0, 80),
        RGBColor(55, 0, 75),
        RGBColor(0, 0, 0),
    ],
    labels: &[
        "0-10 %",
        "10-20 %",
        "20-30 %",
        "30-40 %",
        "40-50 %",
        "50-60 %",
        "60-70 %",
        "70-80 %",
        "80-90 %",
        "90-100 %",
        "100-150 %",
        "150-200 %",
        "200 % and up",
    ],
};

/// Throttle rates: none (the palest green), then ever darker yellows and
/// oranges (CIE L* falls throughout).
const THROTTLE: Classes = Classes {
    bounds: &[1e-12, 0.001, 0.01, 0.05, 0.1, 0.25],
    colors: &[
        RGBColor(240, 250, 236),
        RGBColor(255, 232, 140),
        RGBColor(254, 196, 79),
        RGBColor(254, 153, 41),
        RGBColor(236, 112, 20),
        RGBColor(204, 76, 2),
        RGBColor(140, 45, 4),
    ],
    labels: &[
        "none",
        "under 0.1 %",
        "0.1-1 %",
        "1-5 %",
        "5-10 %",
        "10-25 %",
        "25 % and up",
    ],
};

/// CIE L* lightness of an sRGB colour, 0 (black) to 100 (white): how the
/// colour scales are ordered, and which ink a label on a cell needs.
fn lightness(c: RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let y = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
    if y > 216.0 / 24_389.0 {
        116.0 * y.cbrt() - 16.0
    } else {
        24_389.0 / 27.0 * y
    }
}

/// Ink for text drawn on `fill`: white on dark colours, else the usual.
fn ink_on(fill: RGBColor) -> RGBColor {
    if lightness(fill) < 55.0 { WHITE } else { INK }
}

/// A throttle-rate axis on a log scale: decades from `10^lo` up to 100 %,
/// so that an objective of 0.1 % sits as clearly as 10 % does, and a band
/// one decade below for rates of exactly 0 (labelled so).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RateAxis {
    /// log10 of the lowest decade shown (a fraction: -4 is 0.01 %).
    lo: i32,
}

impl RateAxis {
    /// An axis reaching down to the smallest positive value of `values`
    /// (but at least to 0.01 % and at most to 0.00001 %).
    fn for_values(values: impl Iterator<Item = f64>) -> RateAxis {
        let min = values
            .filter(|v| *v > 0.0 && v.is_finite())
            .fold(1.0, f64::min);
        RateAxis {
            lo: (min.log10().floor() as i32).clamp(-7, -4),
        }
    }

    /// Where `v` goes: log10 of it, 0 on the band below the lowest decade.
    fn y(&self, v: f64) -> f64 {
        if v > 0.0 {
            v.log10().clamp(f64::from(self.lo), 0.0)
        } else {
            f64::from(self.lo - 1)
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        f64::from(self.lo - 1)..0.15
    }

    /// Decades in the range (for the number of tick labels).
    fn decades(&self) -> usize {
        (1 - self.lo) as usize + 1
    }

    /// A tick label: the decades as percentages, "0" on the zero band.
    fn label(&self, v: f64) -> String {
        let r = v.round();
        if (v - r).abs() > 1e-6 || r > 0.0 {
            return String::new();
        }
        let d = r as i32;
        if d == self.lo - 1 {
            "0".to_owned()
        } else if d < self.lo {
            String::new()
        } else {
            // 10^d as a percentage: 10^(d+2) %.
            let p = d + 2;
            if p >= 0 {
                format!("{} %", 10u64.pow(p as u32))
            } else {
                format!("{:.*} %", (-p) as usize, 10f64.powi(p))
            }
        }
    }
}

/// Draws a colour key of `classes` (plus an optional grey "not open" box)
/// in `area`, top to bottom.
fn draw_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    heading: &str,
    classes: &Classes,
    not_open: Option<&str>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x = 6;
    let mut y = 60;
    area.draw(&Text::new(heading.to_owned(), (x, y - 24), text(LEGEND_PX)))?;
    let mut entries: Vec<(RGBColor, &str)> = classes
        .colors
        .iter()
        .copied()
        .zip(classes.labels.iter().copied())
        .rev()
        .collect();
    if let Some(label) = not_open {
        entries.push((NOT_OPEN, label));
    }
    for (color, label) in entries {
        area.draw(&Rectangle::new([(x, y), (x + 22, y + 16)], color.filled()))?;
        area.draw(&Rectangle::new([(x, y), (x + 22, y + 16)], INK.mix(0.3)))?;
        area.draw(&Text::new(
            label.to_owned(),
            (x + 30, y + 1),
            text(LABEL_PX),
        ))?;
        y += 22;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_for_ticks() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(1000.0), "1000");
        assert_eq!(fmt_num(12_500.0), "12.5k");
        assert_eq!(fmt_num(2_000_000.0), "2M");
        assert_eq!(fmt_num(0.126), "0.13");
        assert_eq!(fmt_pct(0.001), "0.1 %");
        assert_eq!(UTILISATION.class(0.0), 0);
        assert_eq!(UTILISATION.class(0.99), 9);
        assert_eq!(UTILISATION.class(1.0), 10);
        assert_eq!(UTILISATION.class(7.0), 12);
        assert_eq!(THROTTLE.class(0.0), 0);
        assert_eq!(THROTTLE.class(0.0005), 1);
        assert_eq!(UTILISATION.colors.len(), UTILISATION.labels.len());
        assert_eq!(UTILISATION.colors.len(), UTILISATION.bounds.len() + 1);
        assert_eq!(THROTTLE.colors.len(), THROTTLE.bounds.len() + 1);
    }

    /// Issue 16, item 3: each colour scale gets darker class by class, so
    /// that darker always reads as more (CIE L* strictly falls).
    #[test]
    fn r16_heatmap_palettes_fall_in_lightness() {
        assert!((lightness(WHITE) - 100.0).abs() < 0.01);
        assert!(lightness(RGBColor(0, 0, 0)).abs() < 0.01);
        assert!((lightness(RGBColor(119, 119, 119)) - 50.0).abs() < 0.5);
        for (name, classes) in [("utilisation", &UTILISATION), ("throttle", &THROTTLE)] {
            let l: Vec<f64> = classes.colors.iter().map(|&c| lightness(c)).collect();
            for (i, w) in l.windows(2).enumerate() {
                assert!(
                    w[1] < w[0] - 3.0,
                    "{name}: class {} (L* {:.1}) is not darker than class {i} (L* {:.1})",
                    i + 1,
                    w[1],
                    w[0]
                );
            }
        }
        // Labels on cells stay readable on either end of the scale.
        assert_eq!(ink_on(THROTTLE.colors[0]), INK);
        assert_eq!(ink_on(THROTTLE.colors[6]), WHITE);
    }

    /// Issue 16, item 3: the throttle axis is logarithmic, so that 0.1 %
    /// is a decade of its own and 0 has a band below the lowest decade.
    #[test]
    fn r16_rate_axis_resolves_small_rates() {
        let a = RateAxis::for_values([0.0, 0.001, 0.4].into_iter());
        assert_eq!(a, RateAxis { lo: -4 });
        assert_eq!(a.y(0.001), -3.0);
        assert_eq!(a.y(0.0), -5.0);
        assert_eq!(a.y(1.0), 0.0);
        // 0.1 % sits two fifths of the way up (linear 0-100 %: 0.1 % of it).
        let r = a.range();
        let share = (a.y(0.001) - r.start) / (r.end - r.start);
        assert!(share > 0.3, "{share}");
        let labels: Vec<String> = (-5..=0).map(|d| a.label(f64::from(d))).collect();
        assert_eq!(labels, ["0", "0.01 %", "0.1 %", "1 %", "10 %", "100 %"]);
        assert_eq!(a.label(-2.5), "");
        // A tiny rate takes the axis lower, to 0.00001 % at most.
        assert_eq!(RateAxis::for_values([3e-6].into_iter()).lo, -6);
        assert_eq!(RateAxis::for_values([1e-12].into_iter()).lo, -7);
        assert_eq!(RateAxis::for_values(std::iter::empty()).lo, -4);
    }
}
