//! A producer group's `size`: the data size of its records.

use super::raw::RawSizeTable;
use super::validate::finite_in;
use crate::workload::SizeModel;

/// Sizes are data only; the record limit applies to data plus partition key
/// (KDS-REFERENCE.md §1.4), so a size must leave room for the longest key.
/// A lognormal is unbounded: its mean counts the draws that fit beside the
/// mean key (`mean_key`), the rest being rejected as too large.
pub(super) fn size_model(
    raw: RawSizeTable,
    max_record: u64,
    key_bytes: u64,
    mean_key: f64,
) -> Result<SizeModel, String> {
    let max_data = max_record.saturating_sub(key_bytes);
    let over = |b: u64| {
        format!(
            "a record of {b} bytes plus its partition key (up to {key_bytes} bytes) is over the \
             stream's maximum record size of {max_record} bytes (stream.max_record_size, at most 10MiB)"
        )
    };
    match raw {
        RawSizeTable::Fixed { size } => {
            if size.0 > max_data {
                return Err(over(size.0));
            }
            Ok(SizeModel::Fixed(size.0))
        }
        RawSizeTable::Uniform { min, max } => {
            if min > max {
                return Err(format!("min ({min}) must not exceed max ({max})"));
            }
            if max.0 > max_data {
                return Err(over(max.0));
            }
            Ok(SizeModel::Uniform {
                min: min.0,
                max: max.0,
            })
        }
        RawSizeTable::Lognormal { median, sigma } => {
            if median.0 == 0 || median.0 > max_data {
                return Err(format!(
                    "median {median} is out of range; accepted range is 1B to the stream's maximum record size less the longest key ({max_data} bytes)"
                ));
            }
            if !finite_in(sigma, 0.0, 5.0) {
                return Err(format!(
                    "sigma {sigma} is out of range; accepted range is 0 to 5"
                ));
            }
            // Keys differ by at most 1 KiB in 1 MiB or more: the limit at the
            // mean key moves the mean by under 0.1 %.
            let limit = max_record as f64 - mean_key;
            SizeModel::lognormal(median.0 as f64, sigma, limit)
                .ok_or_else(|| "invalid lognormal".into())
        }
        RawSizeTable::Empirical { sizes, weights } => {
            if sizes.is_empty() || sizes.len() != weights.len() {
                return Err(format!(
                    "sizes and weights must be non-empty and of equal length (got {} and {})",
                    sizes.len(),
                    weights.len()
                ));
            }
            if let Some(b) = sizes.iter().find(|b| b.0 > max_data) {
                return Err(over(b.0));
            }
            if weights.iter().any(|w| !finite_in(*w, 0.0, f64::MAX)) {
                return Err("weights must be 0 or more".into());
            }
            SizeModel::empirical(sizes.iter().map(|b| b.0).collect(), &weights)
                .ok_or_else(|| "weights must not all be 0".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw::RawSizeTable;
    use super::*;
    use crate::units::Bytes;

    const MAX: u64 = 1 << 20;

    #[test]
    fn a_size_leaves_room_for_the_longest_key() {
        let fixed = |b: u64| size_model(RawSizeTable::Fixed { size: Bytes(b) }, MAX, 36, 36.0);
        assert!(matches!(fixed(MAX - 36), Ok(SizeModel::Fixed(b)) if b == MAX - 36));
        assert_eq!(
            fixed(MAX - 35).unwrap_err(),
            "a record of 1048541 bytes plus its partition key (up to 36 bytes) is over the \
             stream's maximum record size of 1048576 bytes (stream.max_record_size, at most 10MiB)"
        );
    }

    #[test]
    fn distributions_are_checked() {
        let uniform = RawSizeTable::Uniform {
            min: Bytes(10),
            max: Bytes(5),
        };
        assert_eq!(
            size_model(uniform, MAX, 36, 36.0).unwrap_err(),
            "min (10B) must not exceed max (5B)"
        );
        let lognormal = |median: u64, sigma: f64| RawSizeTable::Lognormal {
            median: Bytes(median),
            sigma,
        };
        assert_eq!(
            size_model(lognormal(0, 1.0), MAX, 36, 36.0).unwrap_err(),
            "median 0B is out of range; accepted range is 1B to the stream's maximum record size less the longest key (1048540 bytes)"
        );
        assert_eq!(
            size_model(lognormal(100, 6.0), MAX, 36, 36.0).unwrap_err(),
            "sigma 6 is out of range; accepted range is 0 to 5"
        );
        assert!(size_model(lognormal(100, 1.0), MAX, 36, 36.0).is_ok());
        let empirical = |sizes: Vec<u64>, weights: Vec<f64>| RawSizeTable::Empirical {
            sizes: sizes.into_iter().map(Bytes).collect(),
            weights,
        };
        assert_eq!(
            size_model(empirical(vec![1, 2], vec![1.0]), MAX, 36, 36.0).unwrap_err(),
            "sizes and weights must be non-empty and of equal length (got 2 and 1)"
        );
        assert_eq!(
            size_model(empirical(vec![1, 2], vec![0.0, 0.0]), MAX, 36, 36.0).unwrap_err(),
            "weights must not all be 0"
        );
        assert_eq!(
            size_model(empirical(vec![1, 2], vec![1.0, -1.0]), MAX, 36, 36.0).unwrap_err(),
            "weights must be 0 or more"
        );
    }
}
