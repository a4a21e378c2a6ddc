//! A generic discrete-event kernel: integer time, a deterministic event
//! queue, a run loop, and seeded random streams. It knows nothing of Kinesis.
//!
//! # The ordering contract
//!
//! Time is a `u64` count of nanoseconds since the start of the run. Events are
//! delivered in order of `(time, insertion sequence)`: two events at the same
//! nanosecond are delivered in the order they were scheduled (FIFO). Together
//! with seeded generators this makes a run a pure function of its inputs.

mod queue;
pub mod rng;

pub use queue::EventQueue;

/// Simulated time: nanoseconds since the start of the run.
pub type SimTime = u64;

/// A model driven by the kernel: it handles one event at a time and may
/// schedule more.
pub trait Model {
    /// The model's event type.
    type Event;

    /// Handles `event`, delivered at time `now`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// Delivers events in order until the queue is empty or the next event is
/// later than `until`; returns the number of events handled. Events left in
/// the queue stay there, so a run can be continued.
pub fn run_until<M: Model>(model: &mut M, queue: &mut EventQueue<M::Event>, until: SimTime) -> u64 {
    let mut handled = 0;
    while let Some((now, event)) = queue.pop_until(until) {
        model.handle(now, event, queue);
        handled += 1;
    }
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo {
        seen: Vec<(SimTime, u32)>,
    }

    impl Model for Echo {
        type Event = u32;
        fn handle(&mut self, now: SimTime, event: u32, queue: &mut EventQueue<u32>) {
            self.seen.push((now, event));
            if event < 3 {
                // Schedules at the same instant: must come after what is queued.
                queue.push(now, event + 10);
            }
        }
    }

    #[test]
    fn same_time_events_are_fifo_and_until_is_inclusive() {
        let mut q = EventQueue::new();
        q.push(5, 1);
        q.push(5, 2);
        q.push(1, 0);
        q.push(9, 4);
        let mut m = Echo { seen: vec![] };
        assert_eq!(run_until(&mut m, &mut q, 5), 6);
        assert_eq!(m.seen, [(1, 0), (1, 10), (5, 1), (5, 2), (5, 11), (5, 12)]);
        assert_eq!(q.len(), 1);
    }
}
