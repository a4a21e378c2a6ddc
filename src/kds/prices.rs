//! Prices as data: one dated table per region, each value with its source,
//! and the cost of what a run used.
//!
//! Source: KDS-REFERENCE.md §6 (AWS Price List via infracost's golden file;
//! us-east-2 identical to us-east-1). Where the service is vague the choice
//! is a parameter: a PUT payload unit is 25,000 bytes (fits "a 5KB record
//! contains one PUT Payload Unit, a 45KB record contains two … a 1MB record
//! contains 40"), and a GB is 2^30 bytes. Other regions come from a user's
//! price file (`stream.prices`), whose shape [`Prices::to_toml`] prints.

use serde::{Deserialize, Serialize};

/// The date of the price snapshot's newest source.
pub const PRICES_AS_OF: &str = "2025-10-27";

/// Bytes in a billed GB.
pub const GB: f64 = 1_073_741_824.0;

/// Hours in the month AWS prices are quoted for.
pub const MONTH_HOURS: f64 = 730.0;

/// Data older than this is in long-term retention (§6.1: "> 7 d").
pub const LONG_TERM_AFTER_HOURS: u64 = 7 * 24;

/// On-demand extended retention starts past this age (§6.2-6.3: "24 h–7 d").
pub const EXTENDED_AFTER_HOURS: u64 = 24;

/// Unit prices of one region, in USD: a price file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Region code.
    pub region: String,
    /// When the prices were read.
    pub as_of: String,
    /// Where they were read.
    pub source: String,
    /// Bytes per PUT payload unit (25 KB; the byte count is not published).
    pub payload_unit_bytes: u64,
    /// On-demand Advantage: the share taken off On-demand Standard's data
    /// in, data out and extended retention prices ("at least 60% lower",
    /// §5.7; exact rates unpublished), with no stream-hour charge.
    pub advantage_discount: f64,
    /// Provisioned mode.
    pub provisioned: ProvisionedPrices,
    /// On-demand Standard.
    pub on_demand: OnDemandPrices,
}

/// Provisioned-mode unit prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionedPrices {
    /// Per shard-hour.
    pub shard_hour: f64,
    /// Per million PUT payload units.
    pub put_payload_units_per_million: f64,
    /// Extended retention (24 h to 7 d), per shard-hour.
    pub extended_retention_shard_hour: f64,
    /// Long-term retention (data older than 7 d), per GB-month.
    pub long_term_retention_gb_month: f64,
    /// Long-term retrieval (reading data older than 7 d), per GB.
    pub long_term_retrieval_gb: f64,
    /// Enhanced fan-out, per consumer-shard-hour.
    pub efo_consumer_shard_hour: f64,
    /// Enhanced fan-out data retrieval, per GB.
    pub efo_gb: f64,
}

/// On-demand Standard unit prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnDemandPrices {
    /// Per stream-hour.
    pub stream_hour: f64,
    /// Data in, per GB (each record rounded up to 1 KiB).
    pub data_in_gb: f64,
    /// Data out (shared throughput), per GB.
    pub data_out_gb: f64,
    /// Enhanced fan-out data out, per GB.
    pub efo_gb: f64,
    /// Extended retention (24 h to 7 d), per GB-month.
    pub extended_retention_gb_month: f64,
    /// Long-term retention (older than 7 d), per GB-month.
    pub long_term_retention_gb_month: f64,
    /// Long-term retrieval, per GB. Not in the price list (§6.3 [!]); the
    /// built-in tables assume the provisioned rate.
    pub long_term_retrieval_gb: f64,
}

fn us_east_1() -> Prices {
    Prices {
        region: "us-east-1".into(),
        as_of: PRICES_AS_OF.into(),
        source: "AWS Price List (KDS-REFERENCE.md §6.3; on-demand long-term retrieval not listed, taken as provisioned); Advantage discount §5.7".into(),
        payload_unit_bytes: 25_000,
        advantage_discount: 0.60,
        provisioned: ProvisionedPrices {
            shard_hour: 0.015,
            put_payload_units_per_million: 0.014,
            extended_retention_shard_hour: 0.020,
            long_term_retention_gb_month: 0.023,
            long_term_retrieval_gb: 0.021,
            efo_consumer_shard_hour: 0.015,
            efo_gb: 0.013,
        },
        on_demand: OnDemandPrices {
            stream_hour: 0.04,
            data_in_gb: 0.08,
            data_out_gb: 0.04,
            efo_gb: 0.05,
            extended_retention_gb_month: 0.10,
            long_term_retention_gb_month: 0.023,
            long_term_retrieval_gb: 0.021,
        },
    }
}

/// The regions with a confirmed built-in price table (§6.3-6.5).
pub const REGIONS: &[&str] = &["us-east-1", "us-east-2"];

/// The built-in price table of `region`, if there is one.
pub fn prices(region: &str) -> Option<Prices> {
    match region {
        // §6.4: us-east-2 is identical to us-east-1 on every line.
        "us-east-1" | "us-east-2" => Some(Prices {
            region: region.into(),
            ..us_east_1()
        }),
        _ => None,
    }
}

impl Prices {
    /// The table as a price file (TOML), a template for other regions.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Every price with its field name, for range checks.
    pub fn fields(&self) -> [(&'static str, f64); 14] {
        let p = &self.provisioned;
        let o = &self.on_demand;
        [
            ("provisioned.shard_hour", p.shard_hour),
            (
                "provisioned.put_payload_units_per_million",
                p.put_payload_units_per_million,
            ),
            (
                "provisioned.extended_retention_shard_hour",
                p.extended_retention_shard_hour,
            ),
            (
                "provisioned.long_term_retention_gb_month",
                p.long_term_retention_gb_month,
            ),
            (
                "provisioned.long_term_retrieval_gb",
                p.long_term_retrieval_gb,
            ),
            (
                "provisioned.efo_consumer_shard_hour",
                p.efo_consumer_shard_hour,
            ),
            ("provisioned.efo_gb", p.efo_gb),
            ("on_demand.stream_hour", o.stream_hour),
            ("on_demand.data_in_gb", o.data_in_gb),
            ("on_demand.data_out_gb", o.data_out_gb),
            ("on_demand.efo_gb", o.efo_gb),
            (
                "on_demand.extended_retention_gb_month",
                o.extended_retention_gb_month,
            ),
            (
                "on_demand.long_term_retention_gb_month",
                o.long_term_retention_gb_month,
            ),
            ("on_demand.long_term_retrieval_gb", o.long_term_retrieval_gb),
        ]
    }
}

/// PUT payload units of one record of `bytes`: 25 KB chunks, at least one.
#[inline]
pub fn payload_units(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

/// On-demand billed ingest of one record: rounded up to 1 KiB.
#[inline]
pub fn billed_in_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(1024).max(1) * 1024
}

/// The capacity mode a stream is billed in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BillingMode {
    /// Provisioned shards.
    #[default]
    Provisioned,
    /// On-demand Standard.
    OnDemand,
    /// On-demand Advantage (an account-level setting, §5.7).
    OnDemandAdvantage,
}

/// What a run used, in billing dimensions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Hours the simulation covers.
    pub hours: f64,
    /// Provisioned: shard-hours (short-lived shards included).
    pub shard_hours: f64,
    /// Provisioned: PUT payload units of accepted Kinesis records.
    pub payload_units: u64,
    /// Provisioned: shard-hours while retention was above 24 hours
    /// (extended retention billed).
    pub extended_retention_shard_hours: f64,
    /// On-demand: byte-hours stored between 24 hours and 7 days of age.
    pub extended_byte_hours: f64,
    /// Byte-hours stored past 7 days of age (long-term retention).
    pub long_term_byte_hours: f64,
    /// Bytes read that were older than 7 days (long-term retrieval).
    pub long_term_read_bytes: u64,
    /// Enhanced fan-out consumer-shard-hours.
    pub efo_consumer_shard_hours: f64,
    /// Bytes delivered by enhanced fan-out.
    pub efo_bytes: u64,
    /// On-demand: billed ingest bytes (each record rounded up to 1 KiB).
    pub billed_in_bytes: u64,
    /// Bytes read by polling consumers.
    pub out_bytes: u64,
    /// The capacity mode.
    pub mode: BillingMode,
}

/// A billing dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    /// Provisioned shard-hours.
    ShardHours,
    /// Provisioned PUT payload units.
    PutPayloadUnits,
    /// On-demand stream-hours.
    StreamHours,
    /// On-demand data in.
    DataIn,
    /// On-demand data out (shared throughput).
    DataOut,
    /// Extended retention (24 h to 7 d).
    ExtendedRetention,
    /// Long-term retention (past 7 d).
    LongTermRetention,
    /// Long-term retrieval.
    LongTermRetrieval,
    /// Enhanced fan-out consumer-shard-hours.
    EnhancedFanOut,
    /// Enhanced fan-out data out.
    EnhancedFanOutData,
}

impl Dimension {
    /// Every dimension, in report order.
    pub const ALL: [Dimension; 10] = [
        Dimension::ShardHours,
        Dimension::PutPayloadUnits,
        Dimension::StreamHours,
        Dimension::DataIn,
        Dimension::DataOut,
        Dimension::ExtendedRetention,
        Dimension::LongTermRetention,
        Dimension::LongTermRetrieval,
        Dimension::EnhancedFanOut,
        Dimension::EnhancedFanOutData,
    ];

    /// Its name in cost.csv.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::ShardHours => "shard hours",
            Dimension::PutPayloadUnits => "PUT payload units",
            Dimension::StreamHours => "stream hours",
            Dimension::DataIn => "data in",
            Dimension::DataOut => "data out",
            Dimension::ExtendedRetention => "extended retention",
            Dimension::LongTermRetention => "long-term retention",
            Dimension::LongTermRetrieval => "long-term retrieval",
            Dimension::EnhancedFanOut => "enhanced fan-out",
            Dimension::EnhancedFanOutData => "enhanced fan-out data out",
        }
    }

    /// Its name as a column (plan.csv).
    pub fn column(self) -> &'static str {
        match self {
            Dimension::ShardHours => "shard_hours",
            Dimension::PutPayloadUnits => "put_payload_units",
            Dimension::StreamHours => "stream_hours",
            Dimension::DataIn => "data_in",
            Dimension::DataOut => "data_out",
            Dimension::ExtendedRetention => "extended_retention",
            Dimension::LongTermRetention => "long_term_retention",
            Dimension::LongTermRetrieval => "long_term_retrieval",
            Dimension::EnhancedFanOut => "enhanced_fan_out",
            Dimension::EnhancedFanOutData => "enhanced_fan_out_data",
        }
    }
}

/// One billed dimension of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    /// The dimension.
    pub dimension: Dimension,
    /// The quantity used in the run.
    pub quantity: f64,
    /// Its unit.
    pub unit: &'static str,
    /// USD per unit.
    pub unit_price: f64,
    /// USD for the run.
    pub cost: f64,
}

/// The cost of `usage` at `prices`, per dimension (zero lines omitted).
///
/// Storage is billed per GB-month: byte-hours / 2^30 / 730. On-demand
/// Advantage takes [`Prices::advantage_discount`] off data in, both kinds of
/// data out and extended retention, and has no stream-hour charge (§5.7);
/// long-term retention and retrieval are not said to be discounted.
pub fn cost(usage: &Usage, prices: &Prices) -> Vec<CostLine> {
    use Dimension as D;
    let mut lines = Vec::new();
    let mut add = |dimension, quantity: f64, unit, unit_price: f64| {
        if quantity > 0.0 && unit_price > 0.0 {
            lines.push(CostLine {
                dimension,
                quantity,
                unit,
                unit_price,
                cost: quantity * unit_price,
            });
        }
    };
    let gb = |bytes: u64| bytes as f64 / GB;
    let gb_month = |byte_hours: f64| byte_hours / GB / MONTH_HOURS;
    let p = &prices.provisioned;
    match usage.mode {
        BillingMode::Provisioned => {
            add(D::ShardHours, usage.shard_hours, "shard-hour", p.shard_hour);
            add(
                D::PutPayloadUnits,
                usage.payload_units as f64,
                "unit",
                p.put_payload_units_per_million / 1e6,
            );
            add(
                D::ExtendedRetention,
                usage.extended_retention_shard_hours,
                "shard-hour",
                p.extended_retention_shard_hour,
            );
            add(
                D::LongTermRetention,
                gb_month(usage.long_term_byte_hours),
                "GB-month",
                p.long_term_retention_gb_month,
            );
            add(
                D::LongTermRetrieval,
                gb(usage.long_term_read_bytes),
                "GB",
                p.long_term_retrieval_gb,
            );
            add(
                D::EnhancedFanOut,
                usage.efo_consumer_shard_hours,
                "consumer-shard-hour",
                p.efo_consumer_shard_hour,
            );
            add(D::EnhancedFanOutData, gb(usage.efo_bytes), "GB", p.efo_gb);
        }
        BillingMode::OnDemand | BillingMode::OnDemandAdvantage => {
            let o = &prices.on_demand;
            let advantage = usage.mode == BillingMode::OnDemandAdvantage;
            let k = if advantage {
                1.0 - prices.advantage_discount
            } else {
                1.0
            };
            if !advantage {
                add(D::StreamHours, usage.hours, "stream-hour", o.stream_hour);
            }
            add(D::DataIn, gb(usage.billed_in_bytes), "GB", k * o.data_in_gb);
            add(D::DataOut, gb(usage.out_bytes), "GB", k * o.data_out_gb);
            add(
                D::ExtendedRetention,
                gb_month(usage.extended_byte_hours),
                "GB-month",
                k * o.extended_retention_gb_month,
            );
            add(
                D::LongTermRetention,
                gb_month(usage.long_term_byte_hours),
                "GB-month",
                o.long_term_retention_gb_month,
            );
            add(
                D::LongTermRetrieval,
                gb(usage.long_term_read_bytes),
                "GB",
                o.long_term_retrieval_gb,
            );
            add(
                D::EnhancedFanOutData,
                gb(usage.efo_bytes),
                "GB",
                k * o.efo_gb,
            );
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(lines: &[CostLine]) -> f64 {
        lines.iter().map(|l| l.cost).sum()
    }

    #[test]
    fn published_figures() {
        let p = prices("us-east-1").unwrap();
        // One shard for a 730-hour month: $10.95.
        let one = Usage {
            hours: MONTH_HOURS,
            shard_hours: MONTH_HOURS,
            ..Usage::default()
        };
        assert!((total(&cost(&one, &p)) - 10.95).abs() < 0.005);
        // An on-demand stream-month: $29.20.
        let od = Usage {
            hours: MONTH_HOURS,
            mode: BillingMode::OnDemand,
            ..Usage::default()
        };
        assert!((total(&cost(&od, &p)) - 29.20).abs() < 0.005);
        // 1,000 records/s of 3 KB on 3 shards: $69.64 a month.
        let records = 1000 * 3600 * 730u64;
        let three = Usage {
            hours: MONTH_HOURS,
            shard_hours: 3.0 * MONTH_HOURS,
            payload_units: records * payload_units(3_000, p.payload_unit_bytes),
            ..Usage::default()
        };
        assert!(
            (total(&cost(&three, &p)) - 69.64).abs() < 0.005,
            "{}",
            total(&cost(&three, &p))
        );
    }

    #[test]
    fn storage_retrieval_and_advantage() {
        let p = prices("us-east-1").unwrap();
        // 100 GB kept past 7 days for a whole month: 100 GB-months.
        let stored = Usage {
            hours: MONTH_HOURS,
            long_term_byte_hours: 100.0 * GB * MONTH_HOURS,
            long_term_read_bytes: 10 * (1 << 30),
            ..Usage::default()
        };
        let lines = cost(&stored, &p);
        assert_eq!(lines[0].dimension, Dimension::LongTermRetention);
        assert!((lines[0].cost - 2.30).abs() < 1e-9, "{lines:?}");
        assert_eq!(lines[1].dimension, Dimension::LongTermRetrieval);
        assert!((lines[1].cost - 0.21).abs() < 1e-9);
        // On-demand: 1 TB in, extended retention 50 GB-months.
        let od = Usage {
            hours: MONTH_HOURS,
            billed_in_bytes: 1 << 40,
            extended_byte_hours: 50.0 * GB * MONTH_HOURS,
            mode: BillingMode::OnDemand,
            ..Usage::default()
        };
        let standard = total(&cost(&od, &p));
        assert!((standard - (29.20 + 1024.0 * 0.08 + 50.0 * 0.10)).abs() < 1e-6);
        // Advantage: no stream-hours, 60 % off the data lines.
        let adv = Usage {
            mode: BillingMode::OnDemandAdvantage,
            ..od
        };
        let lines = cost(&adv, &p);
        assert!(lines.iter().all(|l| l.dimension != Dimension::StreamHours));
        assert!((total(&lines) - 0.4 * (1024.0 * 0.08 + 50.0 * 0.10)).abs() < 1e-6);
    }

    #[test]
    fn payload_units_and_billed_bytes() {
        assert_eq!(payload_units(5_000, 25_000), 1);
        assert_eq!(payload_units(45_000, 25_000), 2);
        assert_eq!(payload_units(1_000_000, 25_000), 40);
        assert_eq!(payload_units(1, 25_000), 1);
        // "4.5 KB record counts as 5 KB".
        assert_eq!(billed_in_bytes(4_608), 5 * 1024);
        assert_eq!(billed_in_bytes(1), 1024);
        assert_eq!(prices("us-east-2").unwrap().provisioned.shard_hour, 0.015);
        assert!(prices("mars-north-1").is_none());
    }

    #[test]
    fn a_price_file_round_trips() {
        let p = prices("us-east-2").unwrap();
        let back: Prices = toml::from_str(&p.to_toml()).unwrap();
        assert_eq!(back, p);
    }
}
