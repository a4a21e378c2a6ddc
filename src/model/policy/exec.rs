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
//! It reads one line from the process's stdout, a JSON object (a line of
//! at most 1 MiB):
//! `{"target_shards": 6}` to ask for UpdateShardCount, or
//! `{"target_shards": null}` (or `{}`) to do nothing. The process runs for
//! the whole simulation; its stderr goes to shardcast's stderr. A run is
//! deterministic only if the process is.
//!
//! The exchange is bounded: the line must be taken and the answer given
//! within `timeout` (wall clock). A process that misses it, closes its
//! stdout, answers too long a line or anything but a decision ends the run
//! with one line naming the evaluation, and is killed and reaped first.
//! Two threads do the blocking I/O, so that the simulation's thread only
//! ever waits with a deadline:
//!
//! ```text
//!  ask ──line──► writer thread ──► stdin ─┐
//!      ◄──ack──                            process
//!      ◄─answer─ reader thread ◄── stdout ┘  (lines of at most 1 MiB)
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::{History, Observation, ScalingPolicy};
use crate::kds::ShardId;

/// The longest answer line accepted, its newline not counted: a decision
/// takes a few bytes, so a longer line is a runaway program, and reading
/// stops there rather than growing without bound.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The answer shapes, for messages.
const EXPECTED: &str = r#"expected {"target_shards": N}, {"target_shards": null} or {}"#;

/// What the reader thread saw on the process's stdout.
#[derive(Debug)]
enum Output {
    /// A line, without its newline.
    Line(Vec<u8>),
    /// A line longer than [`MAX_ANSWER_BYTES`]; nothing more is read.
    TooLong,
    /// End of file: the process closed its stdout (or exited).
    Closed,
    /// Reading failed.
    Failed(io::Error),
}

/// A running external policy: the process, and the threads writing its
/// stdin and reading its stdout.
#[derive(Debug)]
pub(crate) struct ExecPolicy {
    child: Child,
    /// Lines for the writer thread; `None` once the process is stopped.
    lines: Option<Sender<Vec<u8>>>,
    /// The writer thread's result for each line.
    written: Receiver<io::Result<()>>,
    /// The reader thread's findings, one at a time (it waits for room, so
    /// a program printing without end holds no more than two lines here).
    output: Receiver<Output>,
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
    /// Starts the process `command` (program, then arguments); each
    /// exchange (the line taken, the answer given) is bounded by `timeout`,
    /// and the latest `window` minutes are sent.
    pub(crate) fn spawn(
        command: &[String],
        timeout: Duration,
        window: u32,
        shard_level: bool,
    ) -> Result<ExecPolicy, String> {
        let (program, args) = command.split_first().ok_or("the command is empty")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start it: {e}"))?;
        let Pipes {
            lines,
            written,
            output,
        } = match start_threads(&mut child) {
            Ok(pipes) => pipes,
            Err(e) => {
                stop(&mut child);
                return Err(format!("cannot start its reader and writer: {e}"));
            }
        };
        Ok(ExecPolicy {
            child,
            lines: Some(lines),
            written,
            output,
            timeout,
            window: window as usize,
            shard_level,
            evaluations: 0,
        })
    }

    /// Sends one observation and reads the decision. On any error the
    /// process is killed and reaped before the error is returned.
    fn ask(&mut self, obs: &Observation<'_>) -> Result<Option<u32>, String> {
        self.evaluations += 1;
        let n = self.evaluations;
        let line = self.observation(n, obs);
        let result = self.exchange(n, line).and_then(|answer| decode(n, &answer));
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// Evaluation `n` as a JSON line, newline included.
    fn observation(&self, n: u64, obs: &Observation<'_>) -> Vec<u8> {
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
        let mut line = line.to_string().into_bytes();
        line.push(b'\n');
        line
    }

    /// Hands `line` to the process and returns its answer line, both within
    /// one `timeout` from now.
    fn exchange(&mut self, n: u64, line: Vec<u8>) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + self.timeout;
        let timeout = self.timeout;
        let sent = self
            .lines
            .as_ref()
            .is_some_and(|lines| lines.send(line).is_ok());
        if !sent {
            return Err(format!("cannot send evaluation {n}: its stdin is closed"));
        }
        match self.written.recv_timeout(left(deadline)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(match self.exit_by(deadline) {
                    Some(status) => format!("exited ({status}) before reading evaluation {n}"),
                    None => format!("cannot send evaluation {n}: {e}"),
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "did not read evaluation {n} within {timeout:?} (timeout)"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!("cannot send evaluation {n}: its stdin is closed"));
            }
        }
        match self.output.recv_timeout(left(deadline)) {
            Ok(Output::Line(answer)) => Ok(answer),
            Ok(Output::TooLong) => Err(format!(
                "its answer to evaluation {n} is longer than {MAX_ANSWER_BYTES} bytes (1 MiB) without a newline"
            )),
            Ok(Output::Failed(e)) => Err(format!("cannot read its answer to evaluation {n}: {e}")),
            Ok(Output::Closed) | Err(RecvTimeoutError::Disconnected) => {
                Err(match self.exit_by(deadline) {
                    Some(status) => format!("exited ({status}) before answering evaluation {n}"),
                    None => format!(
                        "closed its stdout before answering evaluation {n} but kept running"
                    ),
                })
            }
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "no answer to evaluation {n} within {timeout:?} (timeout)"
            )),
        }
    }

    /// The process's exit status if it exits by `deadline`: a process that
    /// closed its pipes is usually exiting, and its status says why.
    fn exit_by(&mut self, deadline: Instant) -> Option<ExitStatus> {
        let mut pause = Duration::from_millis(1);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(pause.min(left(deadline)));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                _ => return None,
            }
        }
    }

    /// Ends the process: closes its stdin, kills it and reaps it.
    fn stop(&mut self) {
        // The writer thread ends and closes the pipe; a writer blocked on a
        // full pipe ends when the kill breaks it.
        drop(self.lines.take());
        stop(&mut self.child);
    }
}

/// The policy's ends of the channels to its two threads.
#[derive(Debug)]
struct Pipes {
    lines: Sender<Vec<u8>>,
    written: Receiver<io::Result<()>>,
    output: Receiver<Output>,
}

/// Starts the threads that write the process's stdin and read its stdout.
fn start_threads(child: &mut Child) -> io::Result<Pipes> {
    let missing = || io::Error::other("no pipe");
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let (lines, to_write) = channel();
    let (acks, written) = channel();
    // Room for one line: the reader waits for the policy to take it.
    let (found, output) = sync_channel(1);
    std::thread::Builder::new()
        .name("policy-stdin".into())
        .spawn(move || write_lines(stdin, to_write, acks))?;
    std::thread::Builder::new()
        .name("policy-stdout".into())
        .spawn(move || read_lines(stdout, found))?;
    Ok(Pipes {
        lines,
        written,
        output,
    })
}

/// Writes each line it is given, and says how it went.
fn write_lines(mut stdin: ChildStdin, lines: Receiver<Vec<u8>>, acks: Sender<io::Result<()>>) {
    for line in lines {
        let result = stdin.write_all(&line).and_then(|()| stdin.flush());
        let failed = result.is_err();
        if acks.send(result).is_err() || failed {
            break;
        }
    }
}

/// Reads lines of at most [`MAX_ANSWER_BYTES`] until the end, an error or
/// a longer line.
fn read_lines(stdout: ChildStdout, found: SyncSender<Output>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = Vec::new();
        let limit = MAX_ANSWER_BYTES as u64 + 1;
        let next = match (&mut reader).take(limit).read_until(b'\n', &mut line) {
            Err(e) => Output::Failed(e),
            Ok(0) => Output::Closed,
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                Output::Line(line)
            }
            Ok(_) if line.len() > MAX_ANSWER_BYTES => Output::TooLong,
            // The last line, at the end of the output without a newline.
            Ok(_) => Output::Line(line),
        };
        let end = !matches!(next, Output::Line(_));
        if found.send(next).is_err() || end {
            break;
        }
    }
}

/// Kills and reaps `child` (a child that already exited is only reaped).
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The time left until `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Answer `n` as a decision: a JSON object of the documented shape.
fn decode(n: u64, answer: &[u8]) -> Result<Option<u32>, String> {
    let shown = || {
        String::from_utf8_lossy(&answer[..answer.len().min(800)])
            .chars()
            .take(200)
            .collect::<String>()
    };
    let not_a_decision = |why: &str| {
        format!(
            "its answer to evaluation {n} is not a decision ({why}): {:?}; {EXPECTED}",
            shown()
        )
    };
    let text = std::str::from_utf8(answer).map_err(|_| not_a_decision("not UTF-8"))?;
    let json = text.trim_matches([' ', '\t', '\r', '\n']);
    // serde reads a struct from a JSON array too, its fields in order
    // (`[3]`): only an object is one of the documented shapes.
    if !json.starts_with('{') {
        return Err(not_a_decision("not a JSON object"));
    }
    let decision: Decision =
        serde_json::from_str(json).map_err(|e| not_a_decision(&e.to_string()))?;
    if decision.target_shards == Some(0) {
        return Err(format!(
            "its answer to evaluation {n} asks for 0 shards; a target is at least 1"
        ));
    }
    Ok(decision.target_shards)
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
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_command_is_an_error_not_a_panic() {
        let error = ExecPolicy::spawn(&[], Duration::from_secs(1), 1, false).unwrap_err();
        assert_eq!(error, "the command is empty");
    }
}
