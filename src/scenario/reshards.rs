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

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;
    use crate::units::NANOS_PER_SEC;

    fn with(tables: &[&str]) -> String {
        let mut text = SCENARIO.to_owned();
        for t in tables {
            text.push_str(&format!("[[reshards]]\n{t}\n"));
        }
        text
    }

    fn rejected(table: &str) -> (String, String) {
        rejects(&with(&[table]))
    }

    #[test]
    fn requests_are_in_time_order() {
        let s = accepts(&with(&[
            "at = \"20s\"\naction = \"update-shard-count\"\ntarget = 4",
            "at = \"10s\"\naction = \"split\"\nshard = \"shardId-000000000000\"",
            "at = \"20s\"\naction = \"merge\"\nshard = \"shardId-000000000000\"\nadjacent = \"shardId-000000000001\"",
        ]));
        let at: Vec<SimTime> = s.reshards.iter().map(|r| r.at).collect();
        assert_eq!(at, [10, 20, 20].map(|t| t * NANOS_PER_SEC));
        // Same time: file order.
        assert_eq!(
            s.reshards[1].action,
            ReshardAction::UpdateShardCount { target: 4 }
        );
        assert!(matches!(
            s.reshards[0].action,
            ReshardAction::Split {
                new_starting_hash_key: None,
                ..
            }
        ));
    }

    #[test]
    fn each_action_takes_its_own_fields() {
        assert_eq!(
            rejected("at = \"60s\"\naction = \"update-shard-count\"\ntarget = 4"),
            err("reshards[0].at", "1m is not within the scenario's duration")
        );
        assert_eq!(
            rejected("at = \"1s\"\naction = \"update-shard-count\""),
            err("reshards[0]", "target is required for update-shard-count")
        );
        assert_eq!(
            rejected("at = \"1s\"\naction = \"update-shard-count\"\ntarget = 0"),
            err(
                "reshards[0]",
                "target 0 is out of range; a target is at least 1"
            )
        );
        assert_eq!(
            rejected(
                "at = \"1s\"\naction = \"split\"\ntarget = 3\nshard = \"shardId-000000000000\""
            ),
            err("reshards[0]", "target does not apply to this action")
        );
        assert_eq!(
            rejected("at = \"1s\"\naction = \"merge\"\nshard = \"shardId-000000000000\""),
            err("reshards[0]", "adjacent is required for this action")
        );
        assert_eq!(
            rejected("at = \"1s\"\naction = \"update-stream-mode\""),
            err(
                "reshards[0]",
                "mode (\"provisioned\" or \"on-demand\") is required for update-stream-mode"
            )
        );
        let (field, message) = rejected("at = \"1s\"\naction = \"split\"\nshard = \"shard-0\"");
        assert_eq!(field, "reshards[0]");
        assert!(message.starts_with("shard: "), "{message}");
    }
}
