//! `[[reshards]]`: resharding requests at given times.

use toml::Spanned;

use super::raw::{RawMode, RawReshard, RawReshardAction};
use super::validate::Ctx;
use super::{ReshardAction, ReshardRequest, ScenarioError};
use crate::kds::HashKey;
use crate::sim::SimTime;

/// The requests, in time order; those at the same time keep their file
/// order.
pub(super) fn requests(
    ctx: &Ctx<'_>,
    raw: Vec<Spanned<RawReshard>>,
    duration: SimTime,
) -> Result<Vec<ReshardRequest>, ScenarioError> {
    let mut reshards = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let span = r.span();
        let r = r.into_inner();
        let field = format!("reshards[{i}]");
        if r.at.0 >= duration {
            return Err(ctx.invalid(
                span,
                &format!("{field}.at"),
                format!("{} is not within the scenario's duration", r.at),
            ));
        }
        let action = reshard_action(&r).map_err(|m| ctx.invalid(span, &field, m))?;
        reshards.push(ReshardRequest { at: r.at.0, action });
    }
    // A stable sort.
    reshards.sort_by_key(|r| r.at);
    Ok(reshards)
}

/// The action of one request: its required fields given, the others not.
fn reshard_action(r: &RawReshard) -> Result<ReshardAction, String> {
    let shard_id = |name: &str, v: &Option<String>| -> Result<crate::kds::ShardId, String> {
        let text = v
            .as_deref()
            .ok_or_else(|| format!("{name} is required for this action"))?;
        text.parse()
            .map_err(|e: crate::kds::KdsError| format!("{name}: {e}"))
    };
    let unused = |name: &str, present: bool| {
        if present {
            Err(format!("{name} does not apply to this action"))
        } else {
            Ok(())
        }
    };
    match r.action {
        RawReshardAction::UpdateStreamMode => {
            unused("target", r.target.is_some())?;
            unused("shard", r.shard.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            let mode = r.mode.ok_or(
                "mode (\"provisioned\" or \"on-demand\") is required for update-stream-mode",
            )?;
            Ok(ReshardAction::UpdateStreamMode {
                on_demand: matches!(mode, RawMode::OnDemand),
            })
        }
        RawReshardAction::UpdateShardCount => {
            unused("mode", r.mode.is_some())?;
            unused("shard", r.shard.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            let target = r
                .target
                .ok_or("target is required for update-shard-count")?;
            if target == 0 {
                return Err("target 0 is out of range; a target is at least 1".into());
            }
            Ok(ReshardAction::UpdateShardCount { target })
        }
        RawReshardAction::Split => {
            unused("mode", r.mode.is_some())?;
            unused("target", r.target.is_some())?;
            unused("adjacent", r.adjacent.is_some())?;
            let shard = shard_id("shard", &r.shard)?;
            let new_starting_hash_key = match r.new_starting_hash_key.as_deref() {
                None | Some("midpoint") => None,
                Some(text) => Some(HashKey::parse_explicit(text).map_err(|e| e.to_string())?.0),
            };
            Ok(ReshardAction::Split {
                shard,
                new_starting_hash_key,
            })
        }
        RawReshardAction::Merge => {
            unused("mode", r.mode.is_some())?;
            unused("target", r.target.is_some())?;
            unused("new_starting_hash_key", r.new_starting_hash_key.is_some())?;
            Ok(ReshardAction::Merge {
                shard: shard_id("shard", &r.shard)?,
                adjacent: shard_id("adjacent", &r.adjacent)?,
            })
        }
    }
}
