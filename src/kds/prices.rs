//! Prices as data: one dated table per region, each value with its source,
//! and the cost of what a run used.
//!
//! Source: KDS-REFERENCE.md §6 (AWS Price List via infracost's golden file;
//! us-east-2 identical to us-east-1). Where the service is vague the choice
//! is a parameter: a PUT payload unit is 25,000 bytes (fits "a 5KB record
//! contains one PUT Payload Unit, a 45KB record contains two … a 1MB record
//! contains 40"), and a GB is 2^30 bytes.

/// The date of the price snapshot's newest source.
pub const PRICES_AS_OF: &str = "2025-10-27";

/// Bytes in a billed GB.
pub const GB: f64 = 1_073_741_824.0;

/// Unit prices of one region, in USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Region code.
    pub region: &'static str,
    /// Provisioned: per shard-hour.
    pub shard_hour: f64,
    /// Provisioned: per PUT payload unit.
    pub put_payload_unit: f64,
    /// Bytes per PUT payload unit.
    pub payload_unit_bytes: u64,
    /// Provisioned: extended retention (24 h to 7 d), per shard-hour.
    pub extended_retention_shard_hour: f64,
    /// Provisioned: enhanced fan-out, per consumer-shard-hour.
    pub efo_consumer_shard_hour: f64,
    /// Provisioned: enhanced fan-out data retrieval, per GB.
    pub efo_gb: f64,
    /// On-demand: per stream-hour.
    pub on_demand_stream_hour: f64,
    /// On-demand: data in, per GB (each record rounded up to 1 KiB).
    pub on_demand_in_gb: f64,
    /// On-demand: data out (shared throughput), per GB.
    pub on_demand_out_gb: f64,
    /// On-demand: enhanced fan-out data out, per GB.
    pub on_demand_efo_gb: f64,
}

const US_EAST_1: Prices = Prices {
    region: "us-east-1",
    shard_hour: 0.015,
    put_payload_unit: 0.014 / 1_000_000.0,
    payload_unit_bytes: 25_000,
    extended_retention_shard_hour: 0.020,
    efo_consumer_shard_hour: 0.015,
    efo_gb: 0.013,
    on_demand_stream_hour: 0.04,
    on_demand_in_gb: 0.08,
    on_demand_out_gb: 0.04,
    on_demand_efo_gb: 0.05,
};

/// The regions with a confirmed price table (KDS-REFERENCE.md §6.3-6.5).
pub const REGIONS: &[Prices] = &[
    US_EAST_1,
    Prices {
        region: "us-east-2",
        ..US_EAST_1
    },
];

/// The price table of `region`, if known.
pub fn prices(region: &str) -> Option<&'static Prices> {
    REGIONS.iter().find(|p| p.region == region)
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
    /// Enhanced fan-out consumer-shard-hours.
    pub efo_consumer_shard_hours: f64,
    /// Bytes delivered by enhanced fan-out.
    pub efo_bytes: u64,
    /// On-demand: billed ingest bytes (each record rounded up to 1 KiB).
    pub billed_in_bytes: u64,
    /// Bytes read by polling consumers.
    pub out_bytes: u64,
    /// Whether the stream is on-demand.
    pub on_demand: bool,
}

/// One billed dimension of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    /// The dimension.
    pub dimension: &'static str,
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
pub fn cost(usage: &Usage, prices: &Prices) -> Vec<CostLine> {
    let mut lines = Vec::new();
    let mut add = |dimension, quantity: f64, unit, unit_price: f64| {
        if quantity > 0.0 {
            lines.push(CostLine {
                dimension,
                quantity,
                unit,
                unit_price,
                cost: quantity * unit_price,
            });
        }
    };
    if usage.on_demand {
        add(
            "stream hours",
            usage.hours,
            "stream-hour",
            prices.on_demand_stream_hour,
        );
        add(
            "data in",
            usage.billed_in_bytes as f64 / GB,
            "GB",
            prices.on_demand_in_gb,
        );
        add(
            "data out",
            usage.out_bytes as f64 / GB,
            "GB",
            prices.on_demand_out_gb,
        );
        add(
            "enhanced fan-out data out",
            usage.efo_bytes as f64 / GB,
            "GB",
            prices.on_demand_efo_gb,
        );
    } else {
        add(
            "shard hours",
            usage.shard_hours,
            "shard-hour",
            prices.shard_hour,
        );
        add(
            "PUT payload units",
            usage.payload_units as f64,
            "unit",
            prices.put_payload_unit,
        );
        add(
            "extended retention",
            usage.extended_retention_shard_hours,
            "shard-hour",
            prices.extended_retention_shard_hour,
        );
        add(
            "enhanced fan-out",
            usage.efo_consumer_shard_hours,
            "consumer-shard-hour",
            prices.efo_consumer_shard_hour,
        );
        add(
            "enhanced fan-out data out",
            usage.efo_bytes as f64 / GB,
            "GB",
            prices.efo_gb,
        );
    }
    lines
}

/// Hours in the month AWS prices are quoted for.
pub const MONTH_HOURS: f64 = 730.0;

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
        assert!((total(&cost(&one, p)) - 10.95).abs() < 0.005);
        // An on-demand stream-month: $29.20.
        let od = Usage {
            hours: MONTH_HOURS,
            on_demand: true,
            ..Usage::default()
        };
        assert!((total(&cost(&od, p)) - 29.20).abs() < 0.005);
        // 1,000 records/s of 3 KB on 3 shards: $69.64 a month.
        let records = 1000 * 3600 * 730u64;
        let three = Usage {
            hours: MONTH_HOURS,
            shard_hours: 3.0 * MONTH_HOURS,
            payload_units: records * payload_units(3_000, p.payload_unit_bytes),
            ..Usage::default()
        };
        assert!(
            (total(&cost(&three, p)) - 69.64).abs() < 0.005,
            "{}",
            total(&cost(&three, p))
        );
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
        assert_eq!(prices("us-east-2").unwrap().shard_hour, 0.015);
        assert!(prices("mars-north-1").is_none());
    }
}
