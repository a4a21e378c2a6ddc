//! `merge`: the parts of a partitioned sweep, read back (they are external
//! input, written by other machines) and joined into one sweep's files.

use std::path::Path;

use super::{
    METRICS, Manifest, Partition, Row, SweepError, SweepFiles, axis_names, files_from_rows,
};
use crate::scenario::EngineKind;

/// Columns of sweep.csv before the axes: point, replication, seed, engine.
const LEAD: usize = 4;

/// A row of a part's sweep.csv (external input: another machine wrote it)
/// with `axes` axes.
fn parse_row(dir: &Path, rec: &csv::ByteRecord, axes: usize) -> Result<Row, SweepError> {
    let bad = |what: String| SweepError::Merge(format!("{}/sweep.csv: {what}", dir.display()));
    if rec.len() != LEAD + axes + METRICS.len() {
        return Err(bad(format!(
            "a row has {} columns, not {}",
            rec.len(),
            LEAD + axes + METRICS.len()
        )));
    }
    let text =
        |i: usize| std::str::from_utf8(&rec[i]).map_err(|_| bad("a cell is not UTF-8".into()));
    let num = |i: usize| text(i)?.parse::<u64>().map_err(|_| bad("a bad row".into()));
    let point = num(0)? as usize;
    let engine = match EngineKind::parse(text(3)?) {
        Some(e @ (EngineKind::Record | EngineKind::Shard)) => e,
        _ => {
            return Err(bad(format!(
                "point {point}: engine \"{}\" is not \"record\" or \"shard\"",
                text(3)?
            )));
        }
    };
    let mut metrics = [None; 10];
    for (k, m) in metrics.iter_mut().enumerate() {
        let cell = text(LEAD + axes + k)?;
        if !cell.is_empty() {
            *m = Some(
                cell.parse::<f64>()
                    .map_err(|e| bad(format!("point {point}: {}: {e}", METRICS[k])))?,
            );
        }
    }
    Ok(Row {
        point,
        replication: u32::try_from(num(1)?).map_err(|_| bad("a bad row".into()))?,
        seed: num(2)?,
        engine,
        params: (LEAD..LEAD + axes)
            .map(|i| text(i).map(str::to_owned))
            .collect::<Result<_, _>>()?,
        metrics,
    })
}

/// `" line N: message"` for a TOML error in `text`: the error's own
/// `Display` is a multi-line diagnostic quoting the source, and an error
/// must be one line.
fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().lines().next().unwrap_or("").trim_end();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!(" line {line}: {message}")
        }
        None => format!(": {message}"),
    }
}

/// Joins the parts of a partitioned sweep (each a directory written by
/// `sweep --partition I/N`) into the files one whole sweep writes, its
/// summary as numbers, and the whole sweep's manifest.
pub fn merge(dirs: &[&Path]) -> Result<(SweepFiles, Manifest), SweepError> {
    let read = |dir: &Path, name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| SweepError::Merge(format!("{}: {e}", dir.join(name).display())))
    };
    let mut parts = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let text = String::from_utf8(read(dir, "sweep-manifest.toml")?).map_err(|_| {
            SweepError::Merge(format!(
                "{}: not UTF-8",
                dir.join("sweep-manifest.toml").display()
            ))
        })?;
        let m: Manifest = toml::from_str(&text).map_err(|e| {
            SweepError::Merge(format!(
                "{}{}",
                dir.join("sweep-manifest.toml").display(),
                toml_error_line(&text, &e)
            ))
        })?;
        let p = Partition::parse(&m.partition).map_err(|_| {
            SweepError::Merge(format!(
                "{}: partition {:?} is not I/N",
                dir.join("sweep-manifest.toml").display(),
                m.partition
            ))
        })?;
        parts.push((dir, m, p, read(dir, "sweep.csv")?));
    }
    let Some((first_dir, first, first_p, _)) = parts.first() else {
        return Err(SweepError::Merge("no directories given".into()));
    };
    let whole = Manifest {
        partition: "1/1".into(),
        ..first.clone()
    };
    let mut seen = vec![None; first_p.count as usize];
    for (dir, m, p, _) in &parts {
        let as_whole = Manifest {
            partition: "1/1".into(),
            ..m.clone()
        };
        if m.scenario_md5 != first.scenario_md5 && m.scenario == first.scenario {
            return Err(SweepError::Merge(format!(
                "{} and {} ran on other inputs (scenario_md5 {} and {}): the scenario file or a \
                 file it reads (a trace, a CloudWatch export, a price file, a scaling-utils \
                 configuration) differs",
                first_dir.display(),
                dir.display(),
                first.scenario_md5,
                m.scenario_md5
            )));
        }
        if as_whole != whole || p.count != first_p.count {
            return Err(SweepError::Merge(format!(
                "{} is a part of another sweep than {} (scenario and its inputs, axes, replications, version and partition count must match)",
                dir.display(),
                first_dir.display()
            )));
        }
        if let Some(other) = seen[(p.index - 1) as usize].replace(dir) {
            return Err(SweepError::Merge(format!(
                "{} and {} are both partition {}",
                other.display(),
                dir.display(),
                m.partition
            )));
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| format!("{}/{}", i + 1, first_p.count))
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(format!(
            "partition {} missing",
            missing.join(", ")
        )));
    }
    // Rows from every part, back in grid order: each copied as written,
    // and read as numbers for the summary.
    let axes = whole.axes.len();
    let mut header = None;
    let mut records: Vec<(Row, csv::ByteRecord)> = Vec::new();
    for (dir, _, _, csv) in &parts {
        let mut r = csv::Reader::from_reader(csv.as_slice());
        let h = r
            .byte_headers()
            .map_err(|e| SweepError::Merge(format!("{}: {e}", dir.display())))?
            .clone();
        if header.get_or_insert_with(|| h.clone()) != &h {
            return Err(SweepError::Merge(format!(
                "{}/sweep.csv has other columns",
                dir.display()
            )));
        }
        for rec in r.byte_records() {
            let rec = rec.map_err(|e| SweepError::Merge(format!("{}: {e}", dir.display())))?;
            records.push((parse_row(dir, &rec, axes)?, rec));
        }
    }
    records.sort_by_key(|x| (x.0.point, x.0.replication));
    let expected = whole.points * whole.replications as usize;
    if records.len() != expected
        || records
            .windows(2)
            .any(|w| (w[0].0.point, w[0].0.replication) == (w[1].0.point, w[1].0.replication))
    {
        return Err(SweepError::Merge(format!(
            "the parts hold {} runs; the grid has {expected}",
            records.len()
        )));
    }
    let header = header.expect("at least one part");
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| SweepError::Merge(e.to_string());
    w.write_byte_record(&header).map_err(err)?;
    for (_, rec) in &records {
        w.write_byte_record(rec).map_err(err)?;
    }
    let csv = w
        .into_inner()
        .map_err(|e| SweepError::Merge(e.to_string()))?;
    let rows: Vec<Row> = records.into_iter().map(|(r, _)| r).collect();
    let files = files_from_rows(&whole, &axis_names(&whole), csv, &rows)?;
    Ok((files, whole))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{render_rows, render_summary, summarize};

    fn rows() -> Vec<Row> {
        (0..2)
            .flat_map(|p| {
                (0..3).map(move |r| Row {
                    point: p,
                    replication: r,
                    seed: 7 + u64::from(r),
                    engine: if p == 0 {
                        EngineKind::Record
                    } else {
                        EngineKind::Shard
                    },
                    params: vec![(p + 2).to_string()],
                    metrics: [
                        Some(0.123_456_789 / f64::from(r + 1)),
                        Some(3.0),
                        Some(12.345_678),
                        Some(0.987_654_3),
                        Some(0.0),
                        Some(1500.0),
                        Some(1.0),
                        Some(4.0),
                        Some(123.456_789 * f64::from(r + 1)),
                        None,
                    ],
                })
            })
            .collect()
    }

    #[test]
    fn rows_read_back_from_sweep_csv_give_the_same_summary() {
        let axes = ["stream.shards".to_owned()];
        let rows = rows();
        let csv = render_rows(&axes, &rows).unwrap();
        let mut r = csv::Reader::from_reader(csv.as_slice());
        let read: Vec<Row> = r
            .byte_records()
            .map(|rec| parse_row(Path::new("part"), &rec.unwrap(), 1).unwrap())
            .collect();
        assert_eq!(read.len(), rows.len());
        assert_eq!(read[4].metrics[8], Some(246.91), "{:?}", read[4].metrics);
        assert_eq!(read[0].metrics[9], None);
        assert_eq!(read[0].engine, EngineKind::Record);
        assert_eq!(read[4].engine, EngineKind::Shard);
        let whole = render_summary(&summarize(&axes, &rows)).unwrap();
        let merged = render_summary(&summarize(&axes, &read)).unwrap();
        assert_eq!(
            String::from_utf8(whole).unwrap(),
            String::from_utf8(merged).unwrap()
        );
    }

    #[test]
    fn a_short_or_bad_row_is_an_error_not_a_panic() {
        let rec = csv::ByteRecord::from(vec!["0", "0", "1"]);
        let e = parse_row(Path::new("part"), &rec, 1).unwrap_err();
        assert!(e.to_string().contains("a row has 3 columns, not 15"), "{e}");
        let mut cells = vec!["0", "0", "1", "shard", "2"];
        cells.extend(["x"; 10]);
        let e = parse_row(Path::new("part"), &csv::ByteRecord::from(cells), 1).unwrap_err();
        assert!(e.to_string().contains("point 0: throttle_rate"), "{e}");
        let mut cells = vec!["0", "0", "1", "auto", "2"];
        cells.extend(["1"; 10]);
        let e = parse_row(Path::new("part"), &csv::ByteRecord::from(cells), 1).unwrap_err();
        assert!(
            e.to_string()
                .contains("point 0: engine \"auto\" is not \"record\" or \"shard\""),
            "{e}"
        );
    }
}
