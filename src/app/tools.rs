//! The tools that apply the service's rules without a simulation:
//! `shard-of`, `reshard`, `decode-seq`, `quotas` and `prices`. The JSON and
//! text shapes they print are presentation, so they live here.

use std::io::{BufRead, Write};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::kds::{
    EpochNanos, HashKey, KeyLengthRule, QUOTAS_AS_OF, Quota, ReshardOp, SequenceNumber, ShardId,
    ShardMap, UpdatePlan, format_width, validate_partition_key,
};

/// How partition key length is counted (see `--key-length`).
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum KeyLength {
    /// Unicode scalar values, one per character (shardcast's default).
    #[default]
    Chars,
    /// UTF-16 code units, as kinesalite and Java count them (an emoji is 2).
    Utf16,
}

impl From<KeyLength> for KeyLengthRule {
    fn from(k: KeyLength) -> Self {
        match k {
            KeyLength::Chars => KeyLengthRule::UnicodeScalars,
            KeyLength::Utf16 => KeyLengthRule::Utf16Units,
        }
    }
}

/// Arguments of `shard-of`.
#[derive(Debug, Args)]
pub struct ShardOfArgs {
    /// Number of shards the stream was created with (CreateStream ranges).
    #[arg(long, short = 's', value_name = "N")]
    pub shards: u32,
    /// Partition keys (1 to 256 characters each). Put `--` before keys that
    /// start with a dash.
    #[arg(value_name = "KEY")]
    pub keys: Vec<String>,
    /// Also read partition keys from standard input, one per line. Lines are
    /// split on '\n' only, so a '\r' is part of a key.
    #[arg(long)]
    pub stdin: bool,
    /// An explicit hash key (decimal, 0 to 2^128-1) to route instead of a
    /// partition key's MD5. Repeatable.
    #[arg(long = "explicit-hash-key", value_name = "H")]
    pub explicit_hash_keys: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// How key length is counted against the 1..=256 limit.
    #[arg(long, value_enum, default_value_t = KeyLength::Chars)]
    pub key_length: KeyLength,
}

/// Arguments of `reshard`.
#[derive(Debug, Args)]
pub struct ReshardArgs {
    /// Open shards before: the stream is created with this many shards.
    #[arg(long, value_name = "N")]
    pub from: u32,
    /// Target shard count of the UpdateShardCount call.
    #[arg(long, value_name = "M")]
    pub to: u32,
    /// UpdateShardCount calls already accepted in the past 24 hours (the
    /// service allows 10 per rolling 24 hours).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub recent_calls: u32,
    /// Print the plan as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `decode-seq`.
#[derive(Debug, Args)]
pub struct DecodeSeqArgs {
    /// Sequence numbers (56 decimal digits, as the API returns them).
    #[arg(value_name = "NUMBER", required = true)]
    pub numbers: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `quotas`.
#[derive(Debug, Args)]
pub struct QuotasArgs {
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `prices`.
#[derive(Debug, Args)]
pub struct PricesArgs {
    /// The built-in region to print.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

/// One routed key, as printed by `shard-of --json`.
#[derive(Debug, Serialize)]
struct Routed<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    partition_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explicit_hash_key: Option<&'a str>,
    hash_key: String,
    shard_id: String,
    shard_index: u32,
}

/// `shard-of`: one line (or JSON object) per key on `out`, in the order
/// arguments, --explicit-hash-key values, stdin lines.
pub(crate) fn shard_of(
    args: &ShardOfArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let map = ShardMap::create(args.shards, EpochNanos::default()).context("--shards")?;
    if args.keys.is_empty() && args.explicit_hash_keys.is_empty() && !args.stdin {
        bail!("no keys given: pass partition keys as arguments, --explicit-hash-key H, or --stdin");
    }
    let rule = KeyLengthRule::from(args.key_length);
    let mut emit = |key: Option<&str>, explicit: Option<&str>, hash: HashKey| -> Result<()> {
        let shard = map.shard_for_hash_key(hash);
        if args.json {
            let row = Routed {
                partition_key: key,
                explicit_hash_key: explicit,
                hash_key: hash.to_string(),
                shard_id: shard.to_string(),
                shard_index: shard.index(),
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
        } else {
            let shown = match key {
                Some(k) if k.chars().any(char::is_control) => format!("{k:?}"),
                Some(k) => k.to_owned(),
                None => "(explicit hash key)".to_owned(),
            };
            writeln!(out, "{shard}\t{hash}\t{shown}")?;
        }
        Ok(())
    };
    // Validate every argument before printing anything.
    let mut given = Vec::with_capacity(args.keys.len() + args.explicit_hash_keys.len());
    for (i, key) in args.keys.iter().enumerate() {
        validate_partition_key(key, rule).with_context(|| format!("key argument {}", i + 1))?;
        given.push((Some(key.as_str()), None, HashKey::from_partition_key(key)));
    }
    for text in &args.explicit_hash_keys {
        let hash = HashKey::parse_explicit(text).context("--explicit-hash-key")?;
        given.push((None, Some(text.as_str()), hash));
    }
    for (key, explicit, hash) in given {
        emit(key, explicit, hash)?;
    }
    if args.stdin {
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            if input
                .read_until(b'\n', &mut line)
                .context("reading stdin")?
                == 0
            {
                break;
            }
            number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let key = std::str::from_utf8(&line)
                .map_err(|_| anyhow::anyhow!("stdin line {number}: the key is not valid UTF-8"))?;
            validate_partition_key(key, rule).with_context(|| format!("stdin line {number}"))?;
            emit(Some(key), None, HashKey::from_partition_key(key))?;
        }
    }
    Ok(())
}

/// `reshard`: the UpdateShardCount plan on `out`, or the limit it breaks.
pub(crate) fn reshard(args: &ReshardArgs, out: &mut dyn Write) -> Result<()> {
    // The plan does not depend on the clock; a fixed time keeps output stable.
    let created = EpochNanos::from_secs(1_700_000_000);
    let now = created.plus_secs(24 * 3600);
    let mut map = ShardMap::create(args.from, created).context("--from")?;
    let earlier: Vec<EpochNanos> = (0..args.recent_calls)
        .map(|i| EpochNanos(now.0 - 1_000_000_000 * (3600 + u64::from(i) * 60)))
        .collect();
    crate::kds::check_update_limits(args.from, args.to, &earlier, now)?;
    let plan = map.update_shard_count(args.to, now)?;
    if args.json {
        write_plan_json(&map, &plan, out)
    } else {
        write_plan_text(&map, &plan, out)
    }
}

fn write_plan_text(map: &ShardMap, plan: &UpdatePlan, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "UpdateShardCount {} -> {} (UNIFORM_SCALING)",
        plan.from, plan.to
    )?;
    if plan.operations.is_empty() {
        writeln!(
            out,
            "no change: the stream already has {} open shards",
            plan.to
        )?;
    } else {
        writeln!(out, "\noperations ({}):", plan.operations.len())?;
    }
    for (i, op) in plan.operations.iter().enumerate() {
        match op {
            ReshardOp::Split {
                parent,
                new_starting_hash_key,
                lower,
                upper,
            } => writeln!(
                out,
                "{:>6}. split {parent} at {new_starting_hash_key} -> {lower}, {upper}",
                i + 1
            )?,
            ReshardOp::Merge {
                shard_to_merge,
                adjacent_shard_to_merge,
                child,
            } => writeln!(
                out,
                "{:>6}. merge {shard_to_merge} + {adjacent_shard_to_merge} -> {child}",
                i + 1
            )?,
        }
    }
    writeln!(out, "\nopen shards after ({}):", plan.final_open.len())?;
    let mut min_span = u128::MAX;
    let mut max_span = 0;
    for &id in &plan.final_open {
        let range = map.shard(id)?.range();
        min_span = min_span.min(range.span());
        max_span = max_span.max(range.span());
        writeln!(
            out,
            "  {id}  {:>39} .. {:<39}  width {} ({:.4}%)",
            range.start,
            range.end,
            format_width(range.span()),
            range.fraction() * 100.0
        )?;
    }
    writeln!(
        out,
        "\nwidths differ by at most {} hash keys",
        max_span - min_span
    )?;
    writeln!(
        out,
        "shards created: {}, of which transient (created and closed within the update): {}",
        plan.operations
            .iter()
            .map(|op| match op {
                ReshardOp::Split { .. } => 2,
                ReshardOp::Merge { .. } => 1,
            })
            .sum::<usize>(),
        plan.transient.len()
    )?;
    if !plan.transient.is_empty() {
        writeln!(out, "transient shards: {}", join_ids(&plan.transient))?;
    }
    Ok(())
}

fn join_ids(ids: &[ShardId]) -> String {
    ids.iter()
        .map(ShardId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Serialize)]
struct PlanJson {
    from: u32,
    to: u32,
    operations: Vec<OpJson>,
    open_after: Vec<ShardJson>,
    transient: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum OpJson {
    Split {
        shard_to_split: String,
        new_starting_hash_key: String,
        lower_child: String,
        upper_child: String,
    },
    Merge {
        shard_to_merge: String,
        adjacent_shard_to_merge: String,
        child: String,
    },
}

#[derive(Debug, Serialize)]
struct ShardJson {
    shard_id: String,
    parent_shard_id: Option<String>,
    adjacent_parent_shard_id: Option<String>,
    starting_hash_key: String,
    ending_hash_key: String,
    width: String,
}

fn write_plan_json(map: &ShardMap, plan: &UpdatePlan, out: &mut dyn Write) -> Result<()> {
    let operations = plan
        .operations
        .iter()
        .map(|op| match *op {
            ReshardOp::Split {
                parent,
                new_starting_hash_key,
                lower,
                upper,
            } => OpJson::Split {
                shard_to_split: parent.to_string(),
                new_starting_hash_key: new_starting_hash_key.to_string(),
                lower_child: lower.to_string(),
                upper_child: upper.to_string(),
            },
            ReshardOp::Merge {
                shard_to_merge,
                adjacent_shard_to_merge,
                child,
            } => OpJson::Merge {
                shard_to_merge: shard_to_merge.to_string(),
                adjacent_shard_to_merge: adjacent_shard_to_merge.to_string(),
                child: child.to_string(),
            },
        })
        .collect();
    let open_after = plan
        .final_open
        .iter()
        .map(|&id| {
            let shard = map.shard(id)?;
            let range = shard.range();
            Ok(ShardJson {
                shard_id: id.to_string(),
                parent_shard_id: shard.parent().map(|p| p.to_string()),
                adjacent_parent_shard_id: shard.adjacent_parent().map(|p| p.to_string()),
                starting_hash_key: range.start.to_string(),
                ending_hash_key: range.end.to_string(),
                width: format_width(range.span()),
            })
        })
        .collect::<Result<_>>()?;
    let json = PlanJson {
        from: plan.from,
        to: plan.to,
        operations,
        open_after,
        transient: plan.transient.iter().map(ShardId::to_string).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct DecodedJson {
    sequence_number: String,
    layout: &'static str,
    hex: String,
    shard_id: String,
    shard_created_secs: u64,
    shard_created: String,
    seq_ix: u64,
    byte1: u8,
    record_secs: u64,
    record_time: String,
    kind: &'static str,
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .to_string()
}

/// `decode-seq`: the fields of each sequence number on `out`.
pub(crate) fn decode_seq(args: &DecodeSeqArgs, out: &mut dyn Write) -> Result<()> {
    // Parse all first, so a bad number prints nothing.
    let numbers = args
        .numbers
        .iter()
        .map(|text| text.parse::<SequenceNumber>())
        .collect::<Result<Vec<_>, _>>()?;
    for (i, n) in numbers.iter().enumerate() {
        let kind = if n.is_shard_end() {
            "ending sequence number of a closed shard (counter at its maximum)"
        } else if n.seq_ix() == 0 && n.record_secs() == n.shard_created_secs() {
            "starting sequence number of a shard, or its first record"
        } else {
            "record"
        };
        let hex = n.to_hex();
        if args.json {
            let row = DecodedJson {
                sequence_number: n.to_string(),
                layout: "v2",
                hex,
                shard_id: ShardId(n.shard_index()).to_string(),
                shard_created_secs: n.shard_created_secs(),
                shard_created: rfc3339(n.shard_created_secs()),
                seq_ix: n.seq_ix(),
                byte1: n.byte1(),
                record_secs: n.record_secs(),
                record_time: rfc3339(n.record_secs()),
                kind,
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
            continue;
        }
        if i > 0 {
            writeln!(out)?;
        }
        let spaced = format!(
            "{} {} {} {} {} {} {} {}",
            &hex[0..1],
            &hex[1..10],
            &hex[10..11],
            &hex[11..27],
            &hex[27..29],
            &hex[29..38],
            &hex[38..46],
            &hex[46..47]
        );
        writeln!(out, "{n}")?;
        writeln!(out, "  layout         version 2 (56 digits)")?;
        writeln!(out, "  hex            {spaced}")?;
        writeln!(out, "  shard          {}", ShardId(n.shard_index()))?;
        writeln!(
            out,
            "  shard created  {} ({} s)",
            rfc3339(n.shard_created_secs()),
            n.shard_created_secs()
        )?;
        writeln!(out, "  counter        {}", n.seq_ix())?;
        writeln!(
            out,
            "  record time    {} ({} s)",
            rfc3339(n.record_secs()),
            n.record_secs()
        )?;
        writeln!(out, "  byte1          {:02x}", n.byte1())?;
        writeln!(out, "  kind           {kind}")?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct QuotaJson {
    name: &'static str,
    value: u64,
    unit: String,
    source: &'static str,
    as_of: &'static str,
}

/// `prices`: a built-in price table as a price file on `out`.
pub(crate) fn prices(args: &PricesArgs, out: &mut dyn Write) -> Result<()> {
    let Some(p) = crate::kds::prices::prices(&args.region) else {
        bail!(
            "--region: no built-in price table for \"{}\"; built-in regions are {}",
            args.region,
            crate::kds::prices::REGIONS.join(", ")
        );
    };
    writeln!(
        out,
        "# KDS prices for {} (USD), as of {}; edit for another region and set stream.prices.\n\
         # Storage is per GB-month (2^30 bytes, 730 hours); payload units per million.",
        p.region, p.as_of
    )?;
    write!(out, "{}", p.to_toml())?;
    Ok(())
}

/// `quotas`: the enforced limits with their sources on `out`.
pub(crate) fn quotas(args: &QuotasArgs, out: &mut dyn Write) -> Result<()> {
    if !args.json {
        writeln!(
            out,
            "KDS limits as of {QUOTAS_AS_OF} (sources: shared/KDS-REFERENCE.md)"
        )?;
    }
    for &q in Quota::ALL {
        if args.json {
            let row = QuotaJson {
                name: q.name(),
                value: q.value(),
                unit: q.unit().to_string(),
                source: q.source(),
                as_of: QUOTAS_AS_OF,
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:<36} {:>10} {:<8} {}",
                q.name(),
                q.value(),
                q.unit(),
                q.source()
            )?;
        }
    }
    Ok(())
}
