//! A policy that answers from a script and remembers what it was shown: the
//! fake behind which tests check what the engines show a policy and what
//! they do with its answers, without a process.

use std::sync::{Arc, Mutex};

use super::{History, Observation, ScalingPolicy};
use crate::sim::SimTime;

/// What a [`Scripted`] policy saw at one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The evaluation time.
    pub now: SimTime,
    /// Open shards then.
    pub open_shards: u32,
    /// Whether the stream was UPDATING.
    pub updating: bool,
    /// Start (s) of each published minute it was shown, oldest first.
    pub minutes: Vec<u64>,
    /// Start (s) of each published shard-level minute it was shown (with
    /// enhanced monitoring).
    pub shard_minutes: Vec<u64>,
    /// Accepted records of the latest published minute.
    pub latest_incoming_records: Option<u64>,
    /// The scaler's history then.
    pub history: History,
}

/// Answers evaluation `i` (from 0) with `answers[i]`, and nothing once the
/// script runs out; an `Err` answer fails the run with that message.
#[derive(Debug, Clone)]
pub struct Scripted {
    answers: Vec<Result<Option<u32>, String>>,
    next: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    /// A policy giving these answers in turn.
    pub fn new(answers: Vec<Result<Option<u32>, String>>) -> Scripted {
        Scripted {
            answers,
            next: 0,
            seen: Arc::default(),
        }
    }

    /// A handle on what it sees, readable after the policy has been moved
    /// into a run.
    pub fn seen(&self) -> Arc<Mutex<Vec<Seen>>> {
        Arc::clone(&self.seen)
    }
}

impl ScalingPolicy for Scripted {
    fn evaluate(
        &mut self,
        obs: &Observation<'_>,
        history: &History,
    ) -> Result<Option<u32>, String> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Seen {
                now: obs.now,
                open_shards: obs.open_shards,
                updating: obs.updating,
                minutes: obs.minutes.iter().map(|m| m.start_secs).collect(),
                shard_minutes: obs.shard_minutes.iter().map(|m| m.start_secs).collect(),
                latest_incoming_records: obs.minutes.last().map(|m| m.shards.accepted_records),
                history: *history,
            });
        let answer = self.answers.get(self.next).cloned().unwrap_or(Ok(None));
        self.next += 1;
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::super::Scaler;
    use super::*;
    use crate::metrics::IntervalRow;

    const MIN: SimTime = 60_000_000_000;

    fn obs(now: SimTime, open_shards: u32, minutes: &[IntervalRow]) -> Observation<'_> {
        Observation {
            now,
            open_shards,
            updating: false,
            minutes,
            shard_minutes: &[],
        }
    }

    #[test]
    fn the_scaler_clamps_drops_no_ops_and_keeps_the_history() {
        let fake = Scripted::new(vec![Ok(Some(100)), Ok(Some(8)), Ok(Some(1)), Ok(None)]);
        let seen = fake.seen();
        let mut scaler = Scaler::new(Box::new(fake), 2, 8);
        // 100 is over the bounds: clamped to 8.
        assert_eq!(scaler.decide(&obs(MIN, 4, &[])), Ok(Some(8)));
        // 8 is what is open: no request, and no new history.
        assert_eq!(scaler.decide(&obs(2 * MIN, 8, &[])), Ok(None));
        // 1 is under the bounds: clamped to 2, a scale-in.
        assert_eq!(scaler.decide(&obs(3 * MIN, 8, &[])), Ok(Some(2)));
        assert_eq!(scaler.decide(&obs(4 * MIN, 2, &[])), Ok(None));
        // Past the script: nothing.
        assert_eq!(scaler.decide(&obs(5 * MIN, 2, &[])), Ok(None));
        let h = scaler.history();
        assert_eq!(h.last_up, Some(MIN));
        assert_eq!(h.last_down, Some(3 * MIN));
        assert_eq!(h.last_action, Some(3 * MIN));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 5);
        // The policy is shown the history as it was before each decision.
        assert_eq!(seen[0].history, History::default());
        assert_eq!(seen[1].history.last_up, Some(MIN));
        assert_eq!(seen[3].history.last_down, Some(3 * MIN));
    }

    #[test]
    fn a_failing_answer_is_the_scalers_error_and_minutes_are_shown() {
        let minutes = [
            IntervalRow {
                start_secs: 0,
                ..IntervalRow::default()
            },
            IntervalRow {
                start_secs: 60,
                ..IntervalRow::default()
            },
        ];
        let fake = Scripted::new(vec![Err("gave up".into())]);
        let seen = fake.seen();
        let mut scaler = Scaler::new(Box::new(fake), 1, 10);
        assert_eq!(
            scaler.decide(&obs(3 * MIN, 4, &minutes)),
            Err("gave up".to_owned())
        );
        assert_eq!(seen.lock().unwrap()[0].minutes, [0, 60]);
        assert_eq!(scaler.history(), History::default());
    }
}
