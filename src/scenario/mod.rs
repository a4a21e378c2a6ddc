//! Scenario files: parsed from TOML and validated into the domain types the
//! simulator runs, one module per table (`validate.rs` keeps their order);
//! the simulator never sees raw input, and [`Scenario::check`] runs again
//! before each simulation.
//!
//! Every error names the file, the line and the field, and the accepted
//! range; see `docs/scenarios.md` for the format.

mod autoscaling;
mod builder;
mod check;
mod consumers;
pub(crate) mod grid;
pub(crate) mod hints;
mod imports;
mod keys;
mod producers;
mod rate;
mod raw;
mod reshards;
mod retry;
mod scaling_utils;
mod sizes;
mod slo;
mod stream;
mod validate;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::kds::EpochNanos;
use crate::sim::SimTime;
use crate::workload::{Arrivals, KeySpace, RateProfile, SizeModel};

pub use builder::{BuildError, ScenarioBuilder};
pub use check::InvalidScenario;
pub use retry::RETRY_PRESETS;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name, for reports.
    pub name: String,
    /// Simulated duration.
    pub duration: SimTime,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Wall-clock time of simulated time 0 (for sequence numbers).
    pub start: EpochNanos,
    /// The stream.
    pub stream: StreamSpec,
    /// Producer groups, in file order.
    pub producers: Vec<ProducerGroup>,
    /// Resharding requests, in time order.
    pub reshards: Vec<ReshardRequest>,
    /// Consumer applications, in file order.
    pub consumers: Vec<ConsumerApp>,
    /// The autoscaling policy, if any.
    pub autoscaling: Option<Autoscaling>,
    /// Service-level objectives: judged by `run` (the `slo` column of
    /// summary.csv), and the targets of later planning commands.
    pub slo: Slo,
    /// Which engine simulates it, and the shard engine's time step.
    pub engine: EngineSpec,
    /// Every other file the scenario reads (a price file, traces,
    /// CloudWatch exports, a scaling-utils configuration), as resolved
    /// against the scenario file's directory, each once, in the order read.
    /// [`input_md5`] hashes them with the scenario's text.
    pub imports: Vec<PathBuf>,
    /// What validation wants the user to know (e.g. what an import read and
    /// assumed); printed by `run` and `validate`.
    pub notes: Vec<String>,
}

/// The stream's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    /// Shards at creation.
    pub shards: u32,
    /// Retention period at the start.
    pub retention: SimTime,
    /// Later retention periods, as `(from, retention)` in time order
    /// (Increase/DecreaseStreamRetentionPeriod; applied at once).
    pub retention_changes: Vec<(SimTime, SimTime)>,
    /// How per-shard write limits are enforced.
    pub write_limit: WriteLimit,
    /// Largest accepted record (data plus partition key).
    pub max_record_bytes: u64,
    /// How long one split or merge takes: uniform over `[min, max]`.
    pub reshard_op_time: (SimTime, SimTime),
    /// Time resolution of the stored backlog that consumers read: records
    /// accepted by a shard within one such slice are kept as one aggregate
    /// (count, bytes, first and last arrival), so memory depends on time,
    /// not on records, and arrival times inside a slice are interpolated.
    pub backlog_resolution: SimTime,
    /// On-demand Advantage mode (allows 50 enhanced fan-out consumers, not 20).
    pub advantage_mode: bool,
    /// The prices that apply: a built-in region's (`stream.region`,
    /// `kds::prices::REGIONS`) or a user's price file (`stream.prices`).
    pub prices: crate::kds::prices::Prices,
    /// On-demand capacity mode: `Some(split delay)`; `None` is provisioned.
    ///
    /// On-demand (KDS-REFERENCE.md §5.3): the stream accommodates up to
    /// double the peak write throughput of the previous 30 days (at least
    /// 4 MB/s and 4,000 records/s: a stream-level limit, a one-second token
    /// bucket whose rates follow that peak), and splits each shard whose
    /// incoming traffic exceeds 500 KB/s "within 15 minutes" (the delay,
    /// 15 min by default) at its midpoint; per-shard limits still apply, so a
    /// hot key is still capped at one shard. Scale-in is not modelled (the
    /// service does not document one), and resharding requests are refused
    /// (they are for provisioned streams). This is the mode at the start; an
    /// `update-stream-mode` request switches it.
    pub on_demand: Option<SimTime>,
    /// The split delay used once the stream is on-demand (also after a
    /// switch from provisioned).
    pub on_demand_split_delay: SimTime,
    /// An existing stream's previous peak: the highest per-minute write
    /// throughput of the 30 days before the run, which on-demand capacity
    /// follows (double it) until it leaves the 30-day window, 30 days into
    /// the run. `None` for a new stream.
    pub previous_peak: Option<PreviousPeak>,
    /// On-demand Advantage warm throughput, bytes/s (§5.8): while the stream
    /// is on-demand its write capacity is at least this, with shards split
    /// in advance to carry it (one per MiB/s).
    pub warm_throughput: Option<u64>,
    /// The account's provisioned shard quota, if it should be enforced:
    /// open shards, including the short-lived ones an UpdateShardCount
    /// creates, may not exceed it.
    pub account_shard_quota: Option<u32>,
    /// Enhanced (shard-level) monitoring, as after EnableEnhancedMonitoring
    /// with `ALL` (KDS-REFERENCE.md §9.1, §9.3): per-shard minute metrics are
    /// published like the stream-level ones, and policies may use them.
    pub enhanced_monitoring: bool,
}

/// An existing stream's peak write throughput before the run (per-minute
/// averages, as on-demand capacity counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreviousPeak {
    /// Records per second.
    pub records_per_sec: u64,
    /// Bytes per second.
    pub bytes_per_sec: u64,
}

/// A consumer application (KCL-like): one lease per shard, spread evenly
/// over its workers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerApp {
    /// Its name (the KCL application name).
    pub name: String,
    /// Polling (shared throughput) or enhanced fan-out.
    pub kind: ConsumerKind,
    /// Workers the leases are spread over.
    pub workers: u32,
    /// Polling: time between the starts of two GetRecords calls of a lease.
    /// Enhanced fan-out: time between two pushes.
    pub poll_interval: SimTime,
    /// Most records per GetRecords call (at most 10,000).
    pub max_records: u32,
    /// Processing time per record.
    pub per_record: SimTime,
    /// Processing time per batch (per call or push that returned records).
    pub per_batch: SimTime,
    /// Where the application starts reading when it starts.
    pub start_position: StartPosition,
    /// When the application starts.
    pub starts_at: SimTime,
    /// How often a lease checkpoints its position (`None`: after every
    /// batch). After a pause the application resumes from its checkpoints,
    /// so records read after the last one are processed again.
    pub checkpoint_interval: Option<SimTime>,
    /// Most leases one worker takes (KCL maxLeasesForWorker); leases beyond
    /// wait, unread, until a worker has room.
    pub max_leases_per_worker: Option<u32>,
    /// Periods in which the application is stopped, as `(from, until)`.
    pub pauses: Vec<(SimTime, SimTime)>,
}

/// How a consumer receives records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerKind {
    /// GetRecords, sharing 5 calls/s and 2 MiB/s per shard with every other
    /// polling application.
    Polling,
    /// SubscribeToShard: 2 MiB/s per shard of its own, pushed.
    EnhancedFanOut,
}

/// Where a consumer starts reading a shard it has never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// Just after the newest record when the lease starts.
    Latest,
    /// The oldest record still in the stream.
    TrimHorizon,
}

/// An autoscaler: what it sees and how it decides.
///
/// It sees only what a real one can: the stream-level per-minute metrics
/// (and, with [`StreamSpec::enhanced_monitoring`], the shard-level ones),
/// each published `publication_delay` after its minute ends, the open shard
/// count and whether the stream is UPDATING. It acts through
/// UpdateShardCount, with the service's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaling {
    /// Time between evaluations.
    pub evaluation_interval: SimTime,
    /// How late a minute's metrics become visible (CloudWatch: about a minute).
    pub publication_delay: SimTime,
    /// The fewest shards it asks for.
    pub min_shards: u32,
    /// The most shards it asks for.
    pub max_shards: u32,
    /// The decision rule.
    pub policy: Policy,
}

/// A built-in decision rule. Utilisation is the larger of records and bytes
/// against the open shards' write capacity over a minute.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Never acts.
    None,
    /// Asks for given shard counts at given times.
    Scheduled(Vec<(SimTime, u32)>),
    /// Keeps the last minute's utilisation near `target`: scales to
    /// `ceil(shards * utilisation / target)`, out after `scale_out_cooldown`
    /// since the last action, in (only below 90 % of the target) after
    /// `scale_in_cooldown`.
    TargetTracking {
        /// Utilisation target, 0 to 1.
        target: f64,
        /// Whose utilisation: the stream's, or its hottest shard's.
        metric: TrackedMetric,
        /// Wait after an action before scaling out.
        scale_out_cooldown: SimTime,
        /// Wait after an action before scaling in.
        scale_in_cooldown: SimTime,
    },
    /// CloudWatch alarms and step scaling (the AWS sample autoscaler): out
    /// when `out_datapoints` of the last `out_periods` minutes are above
    /// `out_threshold`, in when `in_datapoints` of `in_periods` are below
    /// `in_threshold`; then `adjustment`; then a cooldown.
    Step {
        /// Scale-out threshold (utilisation).
        out_threshold: f64,
        /// Datapoints above it needed...
        out_datapoints: u32,
        /// ...within this many minutes.
        out_periods: u32,
        /// Scale-in threshold (utilisation).
        in_threshold: f64,
        /// Datapoints below it needed...
        in_datapoints: u32,
        /// ...within this many minutes.
        in_periods: u32,
        /// What a step does.
        adjustment: Adjustment,
        /// Wait after an action.
        cooldown: SimTime,
        /// No scale-in while consumers' iterator age is above this.
        block_in_above_iterator_age: Option<SimTime>,
    },
    /// The team's own autoscaler as a process, speaking JSON lines: one
    /// observation per evaluation on its stdin, one decision on its stdout.
    Exec {
        /// Program and arguments.
        command: Vec<String>,
        /// Longest wait for an answer, in wall-clock time.
        timeout: std::time::Duration,
        /// Published minutes sent per evaluation (the most recent).
        window: u32,
    },
    /// amazon-kinesis-scaling-utils rules (KDS-REFERENCE.md §10b).
    ScalingUtils {
        /// The scale-up rule.
        up: SuRule,
        /// The scale-down rule.
        down: SuRule,
        /// Votes: PUT (writes), GET (reads), or both.
        put: bool,
        /// Whether reads vote.
        get: bool,
    },
}

/// The utilisation target tracking keeps near its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackedMetric {
    /// The stream's: its minute's traffic against all its shards' capacity.
    #[default]
    Stream,
    /// The hottest shard's, from the shard-level metrics (needs
    /// [`StreamSpec::enhanced_monitoring`], KDS-REFERENCE.md §9.3): the
    /// largest utilisation of any shard in the minute.
    HottestShard,
}

/// How a step changes the shard count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// Double out, halve in.
    DoubleHalve,
    /// Add or remove this many shards.
    Step(u32),
}

/// One scaling-utils rule (`scaleUp` or `scaleDown`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuRule {
    /// `scaleThresholdPct`.
    pub threshold_pct: f64,
    /// `scaleAfterMins`.
    pub after_mins: u32,
    /// `scalePct` (used when `scale_count` is unset).
    pub scale_pct: Option<f64>,
    /// `scaleCount`.
    pub scale_count: Option<u32>,
    /// `coolOffMins`.
    pub cool_off_mins: u32,
}

/// A resharding request at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshardRequest {
    /// When it is made.
    pub at: SimTime,
    /// What it asks for.
    pub action: ReshardAction,
}

/// What a resharding request asks for. Shard ids are checked when the
/// request is made, as the service checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReshardAction {
    /// UpdateShardCount with uniform scaling.
    UpdateShardCount {
        /// Target open shard count.
        target: u32,
    },
    /// SplitShard.
    Split {
        /// The shard to split.
        shard: crate::kds::ShardId,
        /// NewStartingHashKey, or `None` for the midpoint `floor((start+end)/2)`.
        new_starting_hash_key: Option<u128>,
    },
    /// MergeShards.
    Merge {
        /// ShardToMerge (the lower shard).
        shard: crate::kds::ShardId,
        /// AdjacentShardToMerge.
        adjacent: crate::kds::ShardId,
    },
    /// UpdateStreamMode: switch between provisioned and on-demand
    /// (KDS-REFERENCE.md §5.6: at most twice in 24 hours; the stream is
    /// UPDATING meanwhile and keeps its shards).
    UpdateStreamMode {
        /// Switch to on-demand (`false`: to provisioned).
        on_demand: bool,
    },
}

/// The model of per-shard write throttling; it lives with the service's
/// throughput rules in [`crate::kds`].
pub use crate::kds::WriteLimit;

/// Which engine a run uses (`engine` in the scenario, `--engine` on the
/// command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Every user record an event: exact within the model, the reference.
    Record,
    /// Per-shard flows in time steps: for streams too large for the
    /// record engine (thousands of shards, millions of records/s, days).
    Shard,
    /// The record engine unless the run is large (more than
    /// [`AUTO_SHARD_RECORDS`] user records expected) and the shard engine
    /// can run it (no record trace).
    #[default]
    Auto,
}

impl EngineKind {
    /// The name as written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Record => "record",
            EngineKind::Shard => "shard",
            EngineKind::Auto => "auto",
        }
    }

    /// Parses a name as written in a scenario.
    pub fn parse(text: &str) -> Option<EngineKind> {
        match text {
            "record" => Some(EngineKind::Record),
            "shard" => Some(EngineKind::Shard),
            "auto" => Some(EngineKind::Auto),
            _ => None,
        }
    }
}

/// Above this many expected user records, `engine = "auto"` picks the
/// shard engine: about 100 s of the record engine (5 million records/s on
/// one core), where a plan of tens of runs stops being practical.
pub const AUTO_SHARD_RECORDS: f64 = 500e6;

/// The engine of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSpec {
    /// Which engine.
    pub kind: EngineKind,
    /// The shard engine's time step (a divisor of one second).
    pub step: SimTime,
}

/// The shard engine's default step: see the accuracy table in
/// docs/engines.md.
pub const DEFAULT_STEP: SimTime = crate::units::NANOS_PER_SEC;

impl Default for EngineSpec {
    fn default() -> EngineSpec {
        EngineSpec {
            kind: EngineKind::Auto,
            step: DEFAULT_STEP,
        }
    }
}

/// One group of identical producers.
#[derive(Debug, Clone)]
pub struct ProducerGroup {
    /// Its name, for reports.
    pub name: String,
    /// Number of producers; the group's rate is split evenly among them.
    pub count: u32,
    /// The group's total offered rate of user records.
    pub rate: RateProfile,
    /// How arrival times follow the rate.
    pub arrivals: Arrivals,
    /// Data sizes.
    pub size: SizeModel,
    /// Partition keys.
    pub keys: KeySpace,
    /// How records are sent.
    pub api: Api,
    /// How throttled records are retried.
    pub retry: RetryPolicy,
    /// Records a producer holds (buffered or awaiting retry) before dropping new ones.
    pub buffer_limit: u64,
    /// Time from sending a request to its response.
    pub request_latency: SimTime,
    /// KPL-style aggregation of user records, if enabled.
    pub aggregation: Option<Aggregation>,
    /// A record trace this group replays instead of drawing arrivals and
    /// keys (then `rate` and `keys` are unused placeholders, and `size`
    /// applies only if the trace has no sizes).
    pub trace: Option<crate::workload::TraceSpec>,
}

impl ProducerGroup {
    /// Whether the group replays a record trace (one record per line),
    /// which only the record engine runs; an aggregate trace runs on both.
    pub fn replays_record_trace(&self) -> bool {
        self.trace.as_ref().is_some_and(|t| t.aggregate.is_none())
    }
}

/// KPL-style aggregation (KDS-REFERENCE.md §7b): user records are packed,
/// per predicted shard, into one Kinesis record of at most `max_size` bytes;
/// an aggregate is completed when the next record would not fit or
/// `max_buffered_time` after its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    /// Largest aggregated record (KPL AggregationMaxSize, default 51,200).
    pub max_size: u64,
    /// Longest a user record waits in an aggregate (KPL RecordMaxBufferedTime, default 100 ms).
    pub max_buffered_time: SimTime,
}

/// The API a producer calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// One record per call.
    PutRecord,
    /// Batches: sent when full (records or bytes) or when the oldest record
    /// has waited `linger`.
    PutRecords {
        /// At most this many records per call (service maximum 500).
        max_records: u32,
        /// At most this many bytes per call.
        max_bytes: u64,
        /// Longest wait before a partial batch is sent.
        linger: SimTime,
    },
}

/// Jitter applied to a backoff delay `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform over `[0, d]`.
    Full,
    /// `d/2` plus uniform over `[0, d/2]`.
    Equal,
    /// Exactly `d`.
    None,
}

/// How a producer retries throttled records: retry `n` (from 1) waits
/// `jitter(min(cap, base * 2^(n-1)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub base: SimTime,
    /// Longest delay.
    pub cap: SimTime,
    /// Jitter.
    pub jitter: Jitter,
    /// Give up on a record this long after it was produced (KPL's RecordTtl).
    pub ttl: Option<SimTime>,
}

/// Service-level objectives a run is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Slo {
    /// Largest acceptable throttled attempts / attempts.
    pub max_throttle_rate: Option<f64>,
    /// Largest acceptable number of records that failed after retries or
    /// expired in the producer (KPL RecordTtl).
    pub max_failed_records: Option<u64>,
    /// Largest acceptable p99 put latency.
    pub max_p99_latency: Option<SimTime>,
    /// Largest acceptable peak per-second shard utilisation.
    pub max_peak_shard_utilisation: Option<f64>,
    /// Largest acceptable number of records lost to retention (summed over
    /// consumer applications).
    pub max_lost_records: Option<u64>,
    /// Largest acceptable MillisBehindLatest of any consumer application.
    pub max_iterator_age: Option<SimTime>,
    /// Largest acceptable number of accepted resharding requests in any
    /// rolling 24 hours.
    pub max_reshard_operations_per_24h: Option<u64>,
    /// Largest acceptable cost extrapolated to a 730-hour month, USD.
    pub max_monthly_cost: Option<f64>,
}

/// A scenario file that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown field or a malformed value.
    #[error("{} line {line}: {message} (in {})", path.display(), crate::shown::one_line(&format!("`{text}`")))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// The text of that line.
        text: String,
        /// The parser's message.
        message: String,
    },
    /// A file the scenario imports (`autoscaling.policy.config`) could not
    /// be read.
    #[error("cannot read {} ({field} in {} line {line})", file.display(), path.display())]
    ImportRead {
        /// The scenario file.
        path: PathBuf,
        /// 1-based line of the table that names the import.
        line: usize,
        /// The scenario field that names it.
        field: String,
        /// The imported file, as resolved.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file the scenario read could not be read again for
    /// [`input_md5`] (it was removed or changed meanwhile).
    #[error("cannot read {}, an input of the scenario", file.display())]
    InputRead {
        /// The file, as resolved.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file the scenario imports is not valid JSON, is not a valid
    /// configuration, or holds a value outside its accepted range.
    #[error(
        "{}{}: {message} (imported by {} line {line})",
        file.display(),
        at.map(|(l, c)| format!(" line {l} column {c}")).unwrap_or_default(),
        path.display()
    )]
    Import {
        /// The scenario file.
        path: PathBuf,
        /// 1-based line of the table that names the import.
        line: usize,
        /// The imported file, as resolved.
        file: PathBuf,
        /// 1-based line and column in it, for syntax errors.
        at: Option<(usize, usize)>,
        /// What is wrong: the field's path in the file (`[0] ("orders").scaleUp.scalePct`)
        /// and the accepted range.
        message: String,
    },
    /// A value outside its accepted range, or fields that contradict each other.
    #[error("{} line {line}: {field}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the table holding the field.
        line: usize,
        /// The field's path, e.g. `producers[0] ("web").keys.hot`.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_text(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text, path)
    }

    /// Validates a scenario given as text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        validate::parse(text, path)
    }
}

/// The most bytes of a file read whole: a scenario and the files it reads
/// whole (price files, scaling-utils JSON, CloudWatch exports). Traces are
/// streamed and have no such limit. Real inputs are far smaller
/// (CloudWatch keeps minute datapoints 15 days); a device like `/dev/zero`
/// fails fast instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file whole, refusing one above [`MAX_FILE_BYTES`] before it
/// fills memory.
pub fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| not_found(path, e))?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most read of a file read whole",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// A file that is not there is named by its full path: a relative name is
/// resolved against the scenario's directory (or the current one), which is
/// not always the one the user has in mind. Other errors are kept.
fn not_found(path: &Path, e: std::io::Error) -> std::io::Error {
    if e.kind() != std::io::ErrorKind::NotFound {
        return e;
    }
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no such file: {}", full.display()),
    )
}

/// [`read_bounded`], as UTF-8 text; the error of a file that is not names
/// the line and column of its first bad byte.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    utf8(read_bounded(path)?)
}

/// `bytes` as text, or an error naming the line, column and byte (all
/// 1-based) of the first byte that is not UTF-8.
pub fn utf8(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Valid up to `at`: the column counts characters, as an editor does.
        let column = std::str::from_utf8(&before[start..]).map_or(0, |s| s.chars().count()) + 1;
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text: line {line} column {column} (byte {}) is 0x{:02x}, not valid UTF-8",
                at + 1,
                bytes[at]
            ),
        )
    })
}

/// The MD5 (lowercase hex) of a scenario's inputs: `text` (the scenario
/// file), then each file of `imports` in order, as its content and its
/// length. Reports and sweep manifests carry it, so a change to any input
/// (a trace, a CloudWatch export, a price file) shows, and `merge` refuses
/// parts that ran on other data.
///
/// Every file is read whole, by content (times are not stable across
/// machines): hashing a 1 GB trace takes a few seconds, paid once per
/// command for that safety.
pub fn input_md5(text: &[u8], imports: &[PathBuf]) -> Result<String, ScenarioError> {
    use md5::Digest;
    use std::io::Read;
    let mut md5 = md5::Md5::new();
    md5.update(text);
    let mut buffer = vec![0; 1 << 16];
    for file in imports {
        let fail = |source| ScenarioError::InputRead {
            file: file.clone(),
            source,
        };
        let mut f = std::fs::File::open(file).map_err(fail)?;
        let mut length: u64 = 0;
        loop {
            match f.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    md5.update(&buffer[..n]);
                    length += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(e)),
            }
        }
        // Each file's length after it, so bytes moved from one file to the
        // next change the digest.
        md5.update(length.to_le_bytes());
    }
    let digest: [u8; 16] = md5.finalize().into();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}
