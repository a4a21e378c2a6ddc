//! A producer group's `rate`: components (constant, steps, ramp, diurnal,
//! imported CloudWatch data) and spikes.

use std::path::{Path, PathBuf};

use super::raw::{RawComponent, RawRate, RawRateJitter, RawSpike};
use super::validate::finite_in;
use crate::units::{Duration, Rate};
use crate::workload::{Component, Jitter, MAX_RATE, RateProfile, Spike};

/// What a rate import needs: where files are, where to list the files
/// read, and where to say what was imported.
pub(super) struct Import<'a> {
    pub(super) base: &'a Path,
    pub(super) label: &'a str,
    pub(super) files: &'a mut Vec<PathBuf>,
    pub(super) notes: &'a mut Vec<String>,
    /// The mean bytes of a record that reaches the stream: mean data plus
    /// mean partition key (each key weighted by its share), and KPL
    /// framing.
    pub(super) record_bytes: f64,
    /// The share of records made that reach it (the others are refused as
    /// too large).
    pub(super) sent_fraction: f64,
    /// Whether the group aggregates records (KPL).
    pub(super) aggregation: bool,
}

/// The profile, or the field that is wrong (`rate`, `rate[1]` in a list
/// of components, `rate.period`) and the message.
pub(super) fn rate_profile(
    raw: &RawRate,
    spikes: &[RawSpike],
    jitter: Option<RawRateJitter>,
    mut import: Import<'_>,
) -> Result<RateProfile, (String, String)> {
    let whole = |m: String| ("rate".to_owned(), m);
    let mut components = Vec::with_capacity(raw.0.len());
    if raw.0.is_empty() {
        return Err(whole("needs at least one component".into()));
    }
    for (k, c) in raw.0.iter().enumerate() {
        components.push(component(c, &mut import).map_err(|(sub, m)| {
            let mut field = "rate".to_owned();
            if raw.0.len() > 1 {
                field.push_str(&format!("[{k}]"));
            }
            if !sub.is_empty() {
                field.push('.');
                field.push_str(sub);
            }
            (field, m)
        })?);
    }
    let mut out = Vec::with_capacity(spikes.len());
    for s in spikes {
        if !finite_in(s.multiplier, 0.0, 1e6) {
            return Err(whole(format!(
                "spike multiplier {} is out of range; accepted range is 0 to 1000000",
                s.multiplier
            )));
        }
        if s.duration.0 == 0 {
            return Err(whole("spike duration must be above 0s".into()));
        }
        out.push(Spike {
            at: s.at.0,
            duration: s.duration.0,
            multiplier: s.multiplier,
        });
    }
    let profile = RateProfile {
        components,
        spikes: out,
        jitter: jitter.map(rate_jitter).transpose()?,
        jitter_factors: Vec::new(),
    };
    if profile.max() <= 0.0 {
        return Err(whole(
            "the rate is 0/s throughout; give at least one positive rate".into(),
        ));
    }
    if !profile.max().is_finite() || profile.max() > MAX_RATE {
        return Err(whole("the rate exceeds 1000000000/s".into()));
    }
    Ok(profile)
}

/// `rate_jitter`: a uniform spread in (0, 1], a lognormal sigma in (0, 2].
fn rate_jitter(raw: RawRateJitter) -> Result<Jitter, (String, String)> {
    let bad = |m: String| ("rate_jitter".to_owned(), m);
    match raw {
        RawRateJitter::Uniform { spread } => {
            if !(spread > 0.0 && spread <= 1.0) {
                return Err(bad(format!(
                    "spread {spread} is out of range; accepted range is above 0 to 1 (0.2: each second's rate times 0.8 to 1.2)"
                )));
            }
            Ok(Jitter::Uniform { spread })
        }
        RawRateJitter::Lognormal { sigma } => {
            if !(sigma > 0.0 && sigma <= 2.0) {
                return Err(bad(format!(
                    "sigma {sigma} is out of range; accepted range is above 0 to 2"
                )));
            }
            Ok(Jitter::Lognormal { sigma })
        }
    }
}

/// One component of a rate, or its field that is wrong ("" for the
/// component as a whole) and the message.
fn component(
    c: &RawComponent,
    import: &mut Import<'_>,
) -> Result<Component, (&'static str, String)> {
    Ok(match c {
        RawComponent::Constant { rate } => {
            if !(rate.0 > 0.0 && rate.0.is_finite()) {
                return Err((
                    "",
                    format!("{rate} is out of range; a constant rate must be above 0/s"),
                ));
            }
            Component::Constant(rate.0)
        }
        RawComponent::Steps { steps } => self::steps(steps)?,
        RawComponent::Ramp {
            from,
            to,
            start,
            end,
        } => {
            if start >= end {
                return Err((
                    "",
                    format!("ramp start ({start}) must be before its end ({end})"),
                ));
            }
            Component::Ramp {
                from: non_negative(from.0, "from")?,
                to: non_negative(to.0, "to")?,
                start: start.0,
                end: end.0,
            }
        }
        RawComponent::Diurnal {
            mean,
            amplitude,
            period,
            phase,
        } => {
            if !(mean.0 > 0.0 && mean.0.is_finite()) {
                return Err((
                    "",
                    format!("mean {mean} is out of range; it must be above 0/s"),
                ));
            }
            if !finite_in(*amplitude, 0.0, 1.0) {
                return Err((
                    "",
                    format!("amplitude {amplitude} is out of range; accepted range is 0 to 1"),
                ));
            }
            if period.0 == 0 {
                return Err(("", "period must be above 0s".into()));
            }
            Component::Diurnal {
                mean: mean.0,
                amplitude: *amplitude,
                period: period.0,
                phase: phase.0,
            }
        }
        RawComponent::Cloudwatch {
            file,
            metric,
            period,
            burstiness,
            measures,
        } => super::imports::cloudwatch(
            file,
            metric.as_deref(),
            *period,
            *burstiness,
            *measures,
            import,
        )?,
    })
}

/// A rate of 0/s or more; `what` names it.
fn non_negative(r: f64, what: &str) -> Result<f64, (&'static str, String)> {
    if finite_in(r, 0.0, f64::MAX) {
        Ok(r)
    } else {
        Err(("", format!("{what} must be a rate of 0/s or more")))
    }
}

/// `kind = "steps"`: `[time, rate]` pairs, times increasing.
fn steps(steps: &[(Duration, Rate)]) -> Result<Component, (&'static str, String)> {
    if steps.is_empty() {
        return Err(("", "steps needs at least one [time, rate] pair".into()));
    }
    if steps.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(("", "step times must increase".into()));
    }
    let mut v = Vec::with_capacity(steps.len());
    for (t, r) in steps {
        v.push((t.0, non_negative(r.0, "every step")?));
    }
    Ok(Component::Steps(v))
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;

    fn rate(text: &str) -> String {
        edit("rate = \"100/s\"", &format!("rate = {text}"))
    }

    const WEB: &str = "producers[0] (\"web\")";

    #[test]
    fn components_add_up() {
        let g = accepts(&rate(
            "[{ kind = \"constant\", rate = \"10/s\" }, { kind = \"ramp\", from = \"0/s\", to = \"20/s\", start = \"0s\", end = \"10s\" }]",
        ))
        .producers
        .remove(0);
        assert_eq!(g.rate.components.len(), 2);
        assert_eq!(g.rate.max(), 30.0);
    }

    #[test]
    fn a_bad_component_is_named_by_its_index() {
        assert_eq!(
            rejects(&rate(
                "[{ kind = \"constant\", rate = \"10/s\" }, { kind = \"steps\", steps = [] }]"
            )),
            (
                format!("{WEB}.rate[1]"),
                "steps needs at least one [time, rate] pair".into()
            )
        );
        assert_eq!(
            rejects(&rate(
                "{ kind = \"steps\", steps = [[\"5s\", \"1/s\"], [\"5s\", \"2/s\"]] }"
            )),
            (format!("{WEB}.rate"), "step times must increase".into())
        );
        assert_eq!(
            rejects(&rate(
                "{ kind = \"ramp\", from = \"1/s\", to = \"2/s\", start = \"5s\", end = \"5s\" }"
            )),
            (
                format!("{WEB}.rate"),
                "ramp start (5s) must be before its end (5s)".into()
            )
        );
        assert_eq!(
            rejects(&rate(
                "{ kind = \"diurnal\", mean = \"10/s\", amplitude = 1.5, period = \"1h\" }"
            )),
            (
                format!("{WEB}.rate"),
                "amplitude 1.5 is out of range; accepted range is 0 to 1".into()
            )
        );
        assert_eq!(
            rejects(&rate("[]")),
            (format!("{WEB}.rate"), "needs at least one component".into())
        );
    }

    #[test]
    fn spikes_and_a_zero_rate_are_checked() {
        assert_eq!(
            rejects(&producer_with(
                "spikes = [{ at = \"1s\", duration = \"0s\", multiplier = 2.0 }]"
            )),
            (
                format!("{WEB}.rate"),
                "spike duration must be above 0s".into()
            )
        );
        assert_eq!(
            rejects(&producer_with(
                "spikes = [{ at = \"1s\", duration = \"1s\", multiplier = -1.0 }]"
            )),
            (
                format!("{WEB}.rate"),
                "spike multiplier -1 is out of range; accepted range is 0 to 1000000".into()
            )
        );
        assert_eq!(
            rejects(&rate("{ kind = \"steps\", steps = [[\"0s\", \"0/s\"]] }")),
            (
                format!("{WEB}.rate"),
                "the rate is 0/s throughout; give at least one positive rate".into()
            )
        );
    }
}
