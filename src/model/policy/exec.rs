//! External autoscaling policies: the team's own autoscaler as a process.
//!
//! Protocol (JSON lines): for each evaluation shardcast writes one line on
//! the process's stdin,
//!
//! ```text
//! {"evaluation":1,"time_s":120.0,"open_shards":4,"updating":false,"minutes":[...]}
//! ```
//!
//! where `minutes` holds the most recent published minutes (`window` of
//! them) with CloudWatch's metric names; with enhanced monitoring each
//! minute also holds `shards`, its shard-level metrics (KDS-REFERENCE.md
//! §9.3): one object per shard with `ShardId` and the shard-level names.
//! It reads one line from the process's stdout:
//! `{"target_shards": 6}` to ask for UpdateShardCount, or
//! `{"target_shards": null}` (or `{}`) to do nothing. The process runs for
//! the whole simulation; its stderr goes to shardcast's stderr. A run is
//! deterministic only if the process is.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{History, Observation, ScalingPolicy};
use crate::kds::ShardId;

/// A running external policy: the process, and a thread reading its lines.
#[derive(Debug)]
pub(crate) struct ExecPolicy {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<std::io::Result<String>>,
    timeout: Duration,
    window: usize,
    shard_level: bool,
    evaluations: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    target_shards: Option<u32>,
}

impl ExecPolicy {
    /// Starts the process `command` (program, then arguments); each answer
    /// is awaited `timeout`, and the latest `window` minutes are sent.
    pub(crate) fn spawn(
        command: &[String],
        timeout: Duration,
        window: u32,
        shard_level: bool,
    ) -> Result<ExecPolicy, String> {
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start it: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = channel();
        // A thread reads lines so that a silent process can be timed out.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let end = line.is_err();
                if tx.send(line).is_err() || end {
                    break;
                }
            }
        });
        Ok(ExecPolicy {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            timeout,
            window: window as usize,
            shard_level,
            evaluations: 0,
        })
    }

    /// Sends one observation and reads the decision.
    fn ask(&mut self, obs: &Observation<'_>) -> Result<Option<u32>, String> {
        self.evaluations += 1;
        let n = self.evaluations;
        let recent = &obs.minutes[obs.minutes.len().saturating_sub(self.window)..];
        let minutes: Vec<serde_json::Value> = recent
            .iter()
            .map(|m| {
                let mut minute = json!({
                    "start_s": m.start_secs,
                    "IncomingRecords": m.shards.accepted_records,
                    "IncomingBytes": m.shards.accepted_bytes,
                    "WriteProvisionedThroughputExceeded": m.shards.throttled_records,
                    "OutgoingRecords": m.reads.records,
                    "OutgoingBytes": m.reads.bytes,
                    "ReadProvisionedThroughputExceeded": m.reads.throttled,
                    "GetRecords.IteratorAgeMilliseconds": m.reads.iterator_age_ms,
                    "open_shards": m.open_shards,
                });
                if self.shard_level {
                    // Published together with the stream-level minute.
                    let shards = obs
                        .shard_minutes
                        .binary_search_by_key(&m.start_secs, |r| r.start_secs)
                        .map_or(&[][..], |i| &obs.shard_minutes[i].shards[..]);
                    minute["shards"] = shards
                        .iter()
                        .map(|s| {
                            json!({
                                "ShardId": ShardId(s.shard).to_string(),
                                "IncomingRecords": s.writes.accepted_records,
                                "IncomingBytes": s.writes.accepted_bytes,
                                "WriteProvisionedThroughputExceeded": s.writes.throttled_records,
                                "OutgoingRecords": s.reads.records,
                                "OutgoingBytes": s.reads.bytes,
                                "ReadProvisionedThroughputExceeded": s.reads.throttled,
                                "IteratorAgeMilliseconds": s.reads.iterator_age_ms,
                            })
                        })
                        .collect();
                }
                minute
            })
            .collect();
        let line = json!({
            "evaluation": n,
            "time_s": obs.now as f64 / 1e9,
            "open_shards": obs.open_shards,
            "updating": obs.updating,
            "minutes": minutes,
        });
        let stdin = self.stdin.as_mut().ok_or("its stdin is closed")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot send evaluation {n}: {e} (did it exit?)"))?;
        let answer = match self.lines.recv_timeout(self.timeout) {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return Err(format!("cannot read its answer to evaluation {n}: {e}")),
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "no answer to evaluation {n} within {:?} (timeout)",
                    self.timeout
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(format!("exited ({status}) before answering evaluation {n}"));
            }
        };
        let decision: Decision = serde_json::from_str(answer.trim()).map_err(|e| {
            format!(
                "line {n} of its output is not a decision ({e}): {:?}; expected {{\"target_shards\": N}} or {{\"target_shards\": null}}",
                answer.chars().take(200).collect::<String>()
            )
        })?;
        if decision.target_shards == Some(0) {
            return Err(format!(
                "line {n} of its output asks for 0 shards; a target is at least 1"
            ));
        }
        Ok(decision.target_shards)
    }
}

impl ScalingPolicy for ExecPolicy {
    /// Asked at every evaluation, UPDATING or not: the process decides for
    /// itself.
    fn evaluate(
        &mut self,
        obs: &Observation<'_>,
        _history: &History,
    ) -> Result<Option<u32>, String> {
        self.ask(obs)
    }
}

impl Drop for ExecPolicy {
    fn drop(&mut self) {
        // Closing stdin lets a well-behaved process end; then make sure.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
