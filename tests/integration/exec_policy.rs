//! An external policy that misbehaves (issue 15, defect 1): every exchange
//! is bounded in time and length, the process is killed and reaped, and
//! the run ends with one line naming the command and the evaluation.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shardcast::model::{RunOptions, simulate};

use crate::util::{scenario, shardcast};

/// Far beyond any timeout used here: a run that takes this long hung.
const HUNG: Duration = Duration::from_secs(60);

/// A policy: a shell script that first writes its pid, in a temporary
/// directory.
struct Policy {
    dir: tempfile::TempDir,
}

impl Policy {
    fn new(body: &str) -> Policy {
        let dir = tempfile::tempdir().unwrap();
        // `exec` in a body keeps the pid: the process that answers is the
        // one whose pid is written.
        std::fs::write(
            dir.path().join("policy.sh"),
            format!("echo $$ > \"$1\"\n{body}\n"),
        )
        .unwrap();
        Policy { dir }
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.path().join("pid")
    }

    /// A scenario evaluating this policy every minute for `duration`.
    fn scenario(&self, duration: &str, timeout: &str) -> String {
        let script = self.dir.path().join("policy.sh");
        format!(
            r#"
name = "exec"
duration = "{duration}"
seed = 1
[stream]
shards = 1
[[producers]]
name = "p"
rate = "20/s"
size = "1000B"
keys = {{ kind = "random" }}
[autoscaling]
policy = {{ kind = "exec", command = ["sh", {script:?}, {pid:?}], timeout = "{timeout}" }}
"#,
            pid = self.pid_file(),
        )
    }

    /// The run's error, and how long it took; panics if the run succeeds or
    /// does not end.
    fn error(&self, duration: &str, timeout: &str) -> (String, Duration) {
        let scenario = scenario(&self.scenario(duration, timeout));
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        // On a thread, so that a hung run fails this test instead of
        // hanging it.
        std::thread::spawn(move || {
            let _ = tx.send(simulate(&scenario, RunOptions::default()).err());
        });
        let error = rx.recv_timeout(HUNG).expect("the run hung");
        let error = error.expect("the run should fail").to_string();
        assert!(!error.contains('\n'), "not one line: {error}");
        assert!(
            error.starts_with("autoscaling policy [\"sh\", "),
            "the command is not named: {error}"
        );
        (error, start.elapsed())
    }

    /// Asserts that the process is gone: killed if need be, and reaped (a
    /// zombie still takes signals, so `kill -0` would succeed).
    fn assert_reaped(&self) {
        let pid = std::fs::read_to_string(self.pid_file()).unwrap();
        let pid = pid.trim();
        assert!(!pid.is_empty());
        let alive = std::process::Command::new("kill")
            .args(["-0", pid])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(!alive, "policy process {pid} is still there");
    }
}

#[test]
fn a_policy_that_closes_its_stdout_is_stopped_within_its_timeout() {
    let policy = Policy::new("exec sleep 30 >&-");
    let (error, took) = policy.error("10m", "1s");
    assert!(
        error.contains("closed its stdout before answering evaluation 1 but kept running"),
        "{error}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    policy.assert_reaped();
}

#[test]
fn a_policy_that_exits_is_reported_with_its_status() {
    let policy = Policy::new("read line; exit 3");
    let (error, _) = policy.error("10m", "10s");
    assert!(
        error.contains("exited (exit status: 3) before answering evaluation 1"),
        "{error}"
    );
    policy.assert_reaped();
}

#[test]
fn an_endless_answer_line_is_cut_at_one_mib() {
    let policy = Policy::new("yes | tr -d '\\n'");
    let (error, took) = policy.error("10m", "20s");
    assert!(
        error.contains(
            "its answer to evaluation 1 is longer than 1048576 bytes (1 MiB) without a newline"
        ),
        "{error}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    policy.assert_reaped();
}

#[test]
fn an_answer_of_one_mib_is_read() {
    // The limit is on the line, not on the JSON: 1 MiB of spaces and `{}`.
    let policy = Policy::new(
        "while read line; do head -c 1048574 /dev/zero | tr '\\0' ' '; echo '{}'; done",
    );
    let scenario = scenario(&policy.scenario("5m", "20s"));
    simulate(&scenario, RunOptions::default()).unwrap();
}

#[test]
fn a_policy_that_does_not_read_its_stdin_is_stopped() {
    // It answers at once, forever, and never reads: the evaluations fill
    // the pipe until writing one would block.
    let policy = Policy::new("exec yes '{}'");
    let (error, took) = policy.error("6h", "500ms");
    assert!(
        error.contains("did not read evaluation ") && error.contains("within 500ms (timeout)"),
        "{error}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    policy.assert_reaped();
}

#[test]
fn only_the_documented_answer_shapes_are_decisions() {
    for (answer, why) in [
        ("[3]", "(not a JSON object)"),
        ("[]", "(not a JSON object)"),
        ("3", "(not a JSON object)"),
        ("\"{}\"", "(not a JSON object)"),
        (
            r#"{"target_shards": 3, "extra": 1}"#,
            "unknown field `extra`",
        ),
        (
            r#"{"target_shards": 3, "target_shards": 4}"#,
            "duplicate field `target_shards`",
        ),
        (r#"{"target_shards": 3.0}"#, "invalid type: floating point"),
        (r#"{"target_shards": -1}"#, "invalid value: integer `-1`"),
    ] {
        let policy = Policy::new(&format!("while read line; do echo '{answer}'; done"));
        let (error, _) = policy.error("10m", "10s");
        assert!(
            error.contains("its answer to evaluation 1 is not a decision ")
                && error.contains(why)
                && error.contains(&format!("{answer:?}")),
            "{answer}: {error}"
        );
        policy.assert_reaped();
    }
    // The documented shapes still are.
    for answer in [
        r#"{"target_shards": 2}"#,
        r#" {"target_shards": null} "#,
        "{}",
    ] {
        let policy = Policy::new(&format!("while read line; do echo '{answer}'; done"));
        let scenario = scenario(&policy.scenario("5m", "10s"));
        simulate(&scenario, RunOptions::default()).unwrap();
        policy.assert_reaped();
    }
}

#[test]
fn run_stops_a_policy_that_closes_its_stdout_and_exits_2() {
    let policy = Policy::new("exec sleep 30 >&-");
    let file = policy.dir.path().join("scenario.toml");
    std::fs::write(&file, policy.scenario("10m", "1s")).unwrap();
    let out_dir = policy.dir.path().join("out");
    let out = shardcast()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out_dir)
        .timeout(HUNG)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: autoscaling policy [\"sh\", ")
            && err.contains("closed its stdout before answering evaluation 1"),
        "{err}"
    );
    assert!(!out_dir.exists(), "a failed run wrote a report");
    policy.assert_reaped();
}
