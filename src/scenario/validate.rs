//! Raw shapes to domain types: the top-level fields, and the order in which
//! the tables are validated (each table has its own module). Also the
//! context every module builds its errors with.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::raw::{RawScenario, RawSweep};
use super::{Scenario, ScenarioError, Slo};
use crate::kds::EpochNanos;
use crate::sim::SimTime;
use crate::units::NANOS_PER_SEC;

pub(super) const MIB: u64 = 1 << 20;
pub(super) const HOUR: u64 = 3600 * NANOS_PER_SEC;
/// The longest scenario: a year (plus a day).
const MAX_DURATION: u64 = 366 * 24 * HOUR;
/// Default wall-clock start: fixed, so that output never depends on the clock.
const DEFAULT_START: &str = "2025-01-01T00:00:00Z";

/// The file being validated: its path and text, to name the file and the
/// line in messages.
pub(super) struct Ctx<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    /// The 1-based line of byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// A value out of range, at the line where `span` starts.
    pub(super) fn invalid(
        &self,
        span: Range<usize>,
        field: &str,
        message: String,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.path.to_owned(),
            line: self.line(span.start),
            field: field.to_owned(),
            message,
        }
    }

    /// The directory files named in the scenario are relative to: the
    /// scenario file's, so a scenario runs from any directory.
    pub(super) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// A file named in the scenario, resolved against [`Ctx::dir`].
    pub(super) fn beside(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// A TOML syntax or shape error in this file.
    fn parse_error(&self, e: &toml::de::Error) -> ScenarioError {
        let line = self.line(e.span().map_or(0, |s| s.start));
        ScenarioError::Parse {
            path: self.path.to_owned(),
            line,
            text: self
                .text
                .lines()
                .nth(line - 1)
                .unwrap_or("")
                .trim()
                .to_owned(),
            message: e.message().trim().to_owned(),
        }
    }

    /// Parses this file as TOML of shape `T`.
    pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, ScenarioError> {
        toml::from_str(self.text).map_err(|e| self.parse_error(&e))
    }
}

/// Whether `x` is a number from `lo` to `hi`.
pub(super) fn finite_in(x: f64, lo: f64, hi: f64) -> bool {
    x.is_finite() && x >= lo && x <= hi
}

/// Adds `path` to the files read, unless it is there already.
pub(super) fn push_once(files: &mut Vec<PathBuf>, path: PathBuf) {
    if !files.contains(&path) {
        files.push(path);
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { path, text };
    let raw: RawScenario = ctx.parse_toml()?;
    scenario(&ctx, raw)
}

/// The tables in a fixed order, so the first error reported does not
/// depend on anything but the file.
fn scenario(ctx: &Ctx<'_>, raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let (duration, start) = header(ctx, &raw)?;
    // Every file read, in reading order, for the digest of the inputs.
    let mut imports = Vec::new();
    let prices = raw
        .stream
        .get_ref()
        .prices
        .as_deref()
        .map(|f| ctx.beside(f));
    let stream_span = raw.stream.span();
    let stream = super::stream::stream(ctx, stream_span, raw.stream.into_inner())?;
    imports.extend(prices);
    let mut notes = Vec::new();
    let producers = super::producers::groups(
        ctx,
        raw.producers,
        &stream,
        duration,
        &mut imports,
        &mut notes,
    )?;
    let reshards = super::reshards::requests(ctx, raw.reshards, duration)?;
    let consumers = super::consumers::apps(ctx, raw.consumers, duration, &stream)?;
    let autoscaling = super::autoscaling::table(ctx, raw.autoscaling, &stream, &mut imports)?;
    let slo = match raw.slo {
        None => Slo::default(),
        Some(s) => super::slo::slo(ctx, s.span(), s.into_inner())?,
    };
    if let Some(s) = &raw.sweep {
        sweep(ctx, s.span(), s.get_ref())?;
    }
    Ok(Scenario {
        notes,
        name: raw.name,
        duration,
        seed: raw.seed,
        start,
        stream,
        producers,
        reshards,
        consumers,
        autoscaling,
        slo,
        imports,
    })
}

/// `name`, `duration` and `start`: the duration and the wall-clock start.
fn header(ctx: &Ctx<'_>, raw: &RawScenario) -> Result<(SimTime, EpochNanos), ScenarioError> {
    if raw.name.trim().is_empty() {
        return Err(ctx.invalid(0..0, "name", "must not be empty".into()));
    }
    let duration = raw.duration.get_ref().0;
    if duration == 0 || duration > MAX_DURATION {
        return Err(ctx.invalid(
            raw.duration.span(),
            "duration",
            format!(
                "{} is out of range; accepted durations are 1ns to 366 days",
                raw.duration.get_ref()
            ),
        ));
    }
    let start = match &raw.start {
        None => parse_start(DEFAULT_START).expect("the default start parses"),
        Some(s) => {
            // A quoted string or a bare TOML date-time.
            let text = match s.get_ref() {
                toml::Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            parse_start(&text).ok_or_else(|| {
                ctx.invalid(
                    s.span(),
                    "start",
                    format!("{text} is not an RFC 3339 UTC time like \"{DEFAULT_START}\""),
                )
            })?
        }
    };
    Ok((duration, start))
}

fn parse_start(s: &str) -> Option<EpochNanos> {
    let t = humantime::parse_rfc3339(s).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(d.as_nanos()).ok().map(EpochNanos)
}

/// `[sweep]`: only checked here (`shardcast sweep` runs it): every axis
/// parses, and the replications are in range.
fn sweep(ctx: &Ctx<'_>, span: Range<usize>, sweep: &RawSweep) -> Result<(), ScenarioError> {
    for (i, spec) in sweep.set.iter().enumerate() {
        super::grid::Axis::parse(spec)
            .map_err(|e| ctx.invalid(span.clone(), &format!("sweep.set[{i}]"), e.to_string()))?;
    }
    if let Some(r) = sweep.replications
        && !(1..=1000).contains(&r)
    {
        return Err(ctx.invalid(
            span,
            "sweep.replications",
            format!("{r} is out of range; accepted range is 1 to 1000"),
        ));
    }
    Ok(())
}
