//! A generic discrete-event kernel: integer time, a deterministic event
//! queue, a run loop, and seeded random streams. It knows nothing of Kinesis.
//!
//! # The ordering contract
//!
//! Time is a `u64` count of nanoseconds since the start of the run. Events are
//! delivered in order of `(time, insertion sequence)`: two events at the same
//! nanosecond are delivered in the order they were scheduled (FIFO). Together
//! with seeded generators this makes a run a pure function of its inputs.

pub mod poisson;
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
    /// Why a run cannot go on (a bad input line, a policy that failed).
    type Error;

    /// Handles `event`, delivered at time `now`. An error ends the run.
    fn handle(
        &mut self,
        now: SimTime,
        event: Self::Event,
        queue: &mut EventQueue<Self::Event>,
    ) -> Result<(), Self::Error>;
}

/// Somewhere to schedule events of kind `E`: a component (resharding,
/// consumers) asks for a wake-up at a time without knowing the engine's own
/// event type or queue. An [`EventQueue`] of any event type that `E`
/// converts into is one, so such wake-ups keep the queue's FIFO-on-ties order.
pub trait Schedule<E> {
    /// Asks for `event` at `time`.
    fn at(&mut self, time: SimTime, event: E);
}

impl<E, F: From<E>> Schedule<E> for EventQueue<F> {
    #[inline]
    fn at(&mut self, time: SimTime, event: E) {
        self.push(time, F::from(event));
    }
}

/// Delivers events in order until the queue is empty or the next event is
/// later than `until`; returns the number of events handled. Events left in
/// the queue stay there, so a run can be continued. The first error the
/// model returns ends the run and is returned.
pub fn run_until<M: Model>(
    model: &mut M,
    queue: &mut EventQueue<M::Event>,
    until: SimTime,
) -> Result<u64, M::Error> {
    let mut handled = 0;
    while let Some((now, event)) = queue.pop_until(until) {
        model.handle(now, event, queue)?;
        handled += 1;
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo {
        seen: Vec<(SimTime, u32)>,
    }

    impl Model for Echo {
        type Event = u32;
        type Error = SimTime;
        fn handle(
            &mut self,
            now: SimTime,
            event: u32,
            queue: &mut EventQueue<u32>,
        ) -> Result<(), SimTime> {
            if event == 99 {
                return Err(now);
            }
            self.seen.push((now, event));
            if event < 3 {
                // Schedules at the same instant: must come after what is queued.
                queue.push(now, event + 10);
            }
            Ok(())
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
        assert_eq!(run_until(&mut m, &mut q, 5), Ok(6));
        assert_eq!(m.seen, [(1, 0), (1, 10), (5, 1), (5, 2), (5, 11), (5, 12)]);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn an_error_ends_the_run_and_leaves_the_rest_queued() {
        let mut q = EventQueue::new();
        q.push(1, 4);
        q.push(2, 99);
        q.push(3, 5);
        let mut m = Echo { seen: vec![] };
        assert_eq!(run_until(&mut m, &mut q, 10), Err(2));
        assert_eq!(m.seen, [(1, 4)]);
        assert_eq!(q.len(), 1);
        // A component schedules through `Schedule` in the queue's order.
        Schedule::<u8>::at(&mut q, 3, 7u8);
        assert_eq!(run_until(&mut m, &mut q, 10), Ok(2));
        assert_eq!(m.seen, [(1, 4), (3, 5), (3, 7)]);
    }
}
