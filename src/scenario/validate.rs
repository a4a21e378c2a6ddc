//! Raw shapes to domain types: the top-level fields, and the order in which
//! the tables are validated (each table has its own module). Also the
//! context every module builds its errors with.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::raw::{RawScenario, RawSweep};
use super::{EngineKind, EngineSpec, Scenario, ScenarioError, Slo};
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
            message: crate::shown::one_line(&message),
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
            // Kept whole (for callers that read it); Display cuts it.
            text: self
                .text
                .lines()
                .nth(line - 1)
                .unwrap_or("")
                .trim()
                .to_owned(),
            message: crate::shown::one_line(&super::hints::humanize(e.message().trim())),
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
    let engine = engine(ctx, &raw)?;
    let engine_span = raw.engine.as_ref().map(|e| e.span());
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
    // Only the record engine reads record traces: refused here, where the
    // file's line is known, rather than when the run starts.
    if let (EngineKind::Shard, Some(span), Some(g)) = (
        engine.kind,
        engine_span,
        producers.iter().find(|g| g.replays_record_trace()),
    ) {
        return Err(ctx.invalid(
            span,
            "engine",
            format!(
                "\"shard\" cannot run producer group \"{}\", which replays a record trace (only the record engine reads one); accepted engines for this file are \"record\" and \"auto\"",
                g.name
            ),
        ));
    }
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
        engine,
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

/// `engine` and `step`.
fn engine(ctx: &Ctx<'_>, raw: &RawScenario) -> Result<EngineSpec, ScenarioError> {
    let mut spec = EngineSpec::default();
    if let Some(e) = &raw.engine {
        spec.kind = EngineKind::parse(e.get_ref()).ok_or_else(|| {
            ctx.invalid(
                e.span(),
                "engine",
                format!(
                    "\"{}\" is not an engine; accepted engines are \"record\", \"shard\" and \"auto\"",
                    e.get_ref()
                ),
            )
        })?;
    }
    if let Some(s) = &raw.step {
        let step = s.get_ref().0;
        let in_range = (MIN_STEP..=NANOS_PER_SEC).contains(&step);
        if !in_range || !NANOS_PER_SEC.is_multiple_of(step) {
            return Err(ctx.invalid(
                s.span(),
                "step",
                format!(
                    "{} {}; accepted steps divide one second and are 1ms to 1s (such as \"1s\", \"500ms\", \"100ms\", \"10ms\")",
                    s.get_ref(),
                    if in_range {
                        "does not divide one second"
                    } else {
                        "is out of range"
                    }
                ),
            ));
        }
        spec.step = step;
    }
    Ok(spec)
}

/// The shortest shard-engine step: below it the record engine is as fast.
const MIN_STEP: SimTime = 1_000_000;

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

/// What the table modules' tests share: a small valid scenario, edits of
/// it, and the field and message a rejected one names.
#[cfg(test)]
pub(super) mod testing {
    use std::path::Path;

    use crate::scenario::{Scenario, ScenarioError};

    /// A small valid scenario: one stream, one producer group.
    pub(crate) const SCENARIO: &str = r#"name = "t"
duration = "60s"

[stream]
shards = 2

[[producers]]
name = "web"
rate = "100/s"
size = "100B"
keys = { kind = "uniform", count = 10 }
"#;

    /// `text` validated as if read from `path`.
    pub(crate) fn parse_at(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        super::parse(text, path)
    }

    /// `text` validated; it must be valid.
    pub(crate) fn accepts(text: &str) -> Scenario {
        parse_at(text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    /// The field and the message of the range error `text` has.
    pub(crate) fn rejects(text: &str) -> (String, String) {
        rejects_at(text, Path::new("t.toml"))
    }

    /// [`rejects`], for a file at `path`.
    pub(crate) fn rejects_at(text: &str, path: &Path) -> (String, String) {
        match parse_at(text, path) {
            Err(ScenarioError::Invalid { field, message, .. }) => (field, message),
            other => panic!("expected a range error, got {other:?}\n{text}"),
        }
    }

    /// [`SCENARIO`] with its only `from` replaced by `to`.
    pub(crate) fn edit(from: &str, to: &str) -> String {
        assert_eq!(
            SCENARIO.matches(from).count(),
            1,
            "{from:?} must occur once"
        );
        SCENARIO.replacen(from, to, 1)
    }

    /// [`SCENARIO`] with `lines` added to `[stream]`.
    pub(crate) fn stream_with(lines: &str) -> String {
        edit("shards = 2\n", &format!("shards = 2\n{lines}\n"))
    }

    /// [`SCENARIO`] with `lines` added to the producer group.
    pub(crate) fn producer_with(lines: &str) -> String {
        format!("{SCENARIO}{lines}\n")
    }

    /// A directory with `files` written in it, and the scenario's path there.
    pub(crate) fn dir_with(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let path = dir.path().join("s.toml");
        (dir, path)
    }

    /// `text`, read from `path`, validated; it must be valid.
    pub(crate) fn accepts_at(text: &str, path: &Path) -> Scenario {
        parse_at(text, path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `(field, message)` as owned strings, to compare with [`rejects`].
    pub(crate) fn err(field: &str, message: &str) -> (String, String) {
        (field.to_owned(), message.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn the_small_scenario_is_valid_with_its_defaults() {
        let s = accepts(SCENARIO);
        assert_eq!(s.name, "t");
        assert_eq!(s.duration, 60 * NANOS_PER_SEC);
        assert_eq!(s.start, parse_start(DEFAULT_START).unwrap());
        assert!(s.imports.is_empty() && s.notes.is_empty());
        assert_eq!(s.slo, Slo::default());
    }

    #[test]
    fn lines_count_from_one() {
        let ctx = Ctx {
            path: Path::new("a/b.toml"),
            text: "x\ny\nz",
        };
        assert_eq!(ctx.line(0), 1);
        assert_eq!(ctx.line(2), 2);
        assert_eq!(ctx.line(1000), 3);
        assert_eq!(ctx.beside("p.toml"), Path::new("a/p.toml"));
        let here = Ctx {
            path: Path::new("b.toml"),
            text: "",
        };
        assert_eq!(here.beside("p.toml"), Path::new("p.toml"));
    }

    #[test]
    fn name_duration_and_start_are_checked() {
        assert_eq!(
            rejects(&edit("name = \"t\"", "name = \" \"")),
            err("name", "must not be empty")
        );
        assert_eq!(
            rejects(&edit("\"60s\"", "\"0s\"")),
            err(
                "duration",
                "0s is out of range; accepted durations are 1ns to 366 days"
            )
        );
        let late = edit(
            "duration = \"60s\"",
            "duration = \"60s\"\nstart = \"2025-06-01T12:00:00Z\"",
        );
        assert_eq!(
            accepts(&late).start.0 - accepts(SCENARIO).start.0,
            (151 * 24 + 12) * HOUR
        );
        let bare = edit(
            "duration = \"60s\"",
            "duration = \"60s\"\nstart = 2025-06-01T12:00:00Z",
        );
        assert_eq!(accepts(&bare).start, accepts(&late).start);
        assert_eq!(
            rejects(&edit(
                "duration = \"60s\"",
                "duration = \"60s\"\nstart = \"June\""
            )),
            err(
                "start",
                "June is not an RFC 3339 UTC time like \"2025-01-01T00:00:00Z\""
            )
        );
    }

    #[test]
    fn a_toml_error_names_the_line_and_its_text() {
        let e = parse_at(&edit("shards = 2", "shards = two"), Path::new("t.toml")).unwrap_err();
        match e {
            ScenarioError::Parse { line, text, .. } => {
                assert_eq!((line, text.as_str()), (5, "shards = two"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sweep_axes_and_replications_are_checked_with_the_scenario() {
        let ok = format!("{SCENARIO}[sweep]\nset = [\"stream.shards=1..4\"]\nreplications = 5\n");
        accepts(&ok);
        assert_eq!(
            rejects(&format!(
                "{SCENARIO}[sweep]\nset = [\"stream.shards=1..4\", \"x=5..2\"]\n"
            )),
            err(
                "sweep.set[1]",
                "--set x=5..2: the range 5..2 is empty (its start is above its end)"
            )
        );
        assert_eq!(
            rejects(&format!("{SCENARIO}[sweep]\nreplications = 0\n")),
            err(
                "sweep.replications",
                "0 is out of range; accepted range is 1 to 1000"
            )
        );
    }
}
