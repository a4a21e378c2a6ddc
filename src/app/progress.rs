//! What a command shows on stderr while it works: a progress bar with an
//! ETA, and notes such as the estimate before a long run.
//!
//! Bars are drawn only when stderr is a terminal and `--quiet` is not
//! given; notes are printed unless `--quiet`. Nothing here writes to
//! stdout or into a report, so every output is the same with and without
//! a bar.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::Progress;
use crate::scenario::Scenario;
use crate::sim::SimTime;

/// Above this many expected wall-clock seconds a command says how long it
/// will take before it starts.
pub(crate) const ESTIMATE_ABOVE_SECS: f64 = 60.0;

/// A progress bar on stderr (hidden when it must not be drawn).
#[derive(Debug)]
pub(crate) struct Bar {
    bar: ProgressBar,
    /// Simulated nanoseconds of runs queued so far.
    queued: AtomicU64,
    /// The length shown until more than this is queued: a guess at the
    /// whole work, so that a growing bar's ETA means something.
    guess: AtomicU64,
}

impl Bar {
    /// A bar over simulated time, which runs add with
    /// [`Progress::queued`] and advance with [`Progress::advanced`]; `what`
    /// names the work (`run`, `plan`).
    pub(crate) fn simulated(quiet: bool, what: &str) -> Bar {
        Bar::on(target(quiet), 0, what, "simulated")
    }

    /// A bar over simulated time whose work grows as the command decides
    /// what to run (a plan's candidates): its share is of the runs queued
    /// so far.
    pub(crate) fn growing(quiet: bool, what: &str, guess: SimTime) -> Bar {
        let bar = Bar::on(target(quiet), guess, what, "simulated (estimated)");
        bar.guess.store(guess, Ordering::Relaxed);
        bar
    }

    /// A bar over `runs` whole runs (a sweep), advanced with [`Bar::inc`].
    pub(crate) fn runs(quiet: bool, runs: u64) -> Bar {
        Bar::on(target(quiet), runs, "sweep", "{pos}/{len} runs")
    }

    fn on(target: ProgressDrawTarget, len: u64, what: &str, done: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(len), target);
        // The bar takes what the terminal's width leaves.
        let template =
            format!("{what} {{wide_bar}} {{percent:>3}}% {done}, {{elapsed}}, ETA {{eta}}");
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar {
            bar,
            queued: AtomicU64::new(0),
            guess: AtomicU64::new(0),
        }
    }

    /// One more run done.
    pub(crate) fn inc(&self) {
        self.bar.inc(1);
    }

    /// Whether the bar is drawn nowhere.
    #[cfg(test)]
    fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar from the terminal.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn queued(&self, ns: SimTime) {
        let total = self.queued.fetch_add(ns, Ordering::Relaxed) + ns;
        self.bar
            .set_length(total.max(self.guess.load(Ordering::Relaxed)));
    }

    fn advanced(&self, ns: SimTime) {
        self.bar.inc(ns);
    }
}

/// stderr when it is a terminal and not `--quiet`; nowhere otherwise.
fn target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// Prints `note: TEXT` on stderr unless `--quiet`.
pub(crate) fn note(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("note: {text}");
    }
}

/// The estimate of `runs` runs of `scenario` on `threads` workers, when it
/// is above a minute: `this run simulates 39.7 million records on the
/// record engine; expect about 13 min`. `what` names the runs (`this run`,
/// `each candidate's 5 runs`).
pub(crate) fn estimate(scenarios: &[&Scenario], threads: usize, what: &str) -> Option<String> {
    let works: Vec<_> = scenarios
        .iter()
        .map(|s| crate::model::expected_work(s))
        .collect();
    let records: f64 = works.iter().map(|w| w.records).sum();
    let steps: f64 = works.iter().map(|w| w.shard_steps).sum();
    let serial: f64 = works.iter().map(|w| w.seconds).sum();
    // Runs in parallel share the workers; one long run keeps one busy.
    let longest = works.iter().map(|w| w.seconds).fold(0.0, f64::max);
    let seconds = (serial / threads.max(1) as f64).max(longest);
    if seconds <= ESTIMATE_ABOVE_SECS {
        return None;
    }
    let steps_words = crate::model::count_words(steps);
    let engines = if steps == 0.0 {
        "on the record engine".to_owned()
    } else if works
        .iter()
        .all(|w| w.engine == crate::scenario::EngineKind::Shard)
    {
        format!("as {steps_words} shard-steps on the shard engine")
    } else {
        format!("(some as {steps_words} shard-steps on the shard engine)")
    };
    Some(format!(
        "{what} {} {} records {engines}; expect about {}",
        if what.ends_with("run") {
            "simulates"
        } else {
            "simulate"
        },
        crate::model::count_words(records),
        crate::model::about(seconds)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn r16_a_bar_draws_simulated_time_on_a_terminal() {
        let screen = Screen::default();
        let bar = Bar::on(
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
            0,
            "run",
            "simulated",
        );
        bar.queued(10 * 1_000_000_000);
        bar.advanced(5 * 1_000_000_000);
        bar.bar.tick();
        let drawn = screen.0.lock().unwrap().clone();
        assert!(drawn.contains("run "), "{drawn:?}");
        assert!(drawn.contains(" 50% simulated"), "{drawn:?}");
        assert!(drawn.contains("ETA"), "{drawn:?}");
    }

    #[test]
    fn r16_a_growing_bar_counts_against_its_guess_until_it_is_passed() {
        let bar = Bar::growing(true, "plan", 100);
        bar.queued(40);
        bar.advanced(20);
        assert_eq!(bar.bar.length(), Some(100));
        bar.queued(90);
        assert_eq!(bar.bar.length(), Some(130));
        assert_eq!(bar.bar.position(), 20);
    }

    #[test]
    fn r16_quiet_hides_every_bar() {
        assert!(Bar::simulated(true, "run").is_hidden());
        assert!(Bar::runs(true, 4).is_hidden());
    }

    fn scenario(toml: &str) -> Scenario {
        Scenario::parse(toml, std::path::Path::new("t.toml")).unwrap()
    }

    #[test]
    fn r16_the_estimate_is_shown_for_a_long_run_only() {
        // 20,000 records/s for a day: 1.73 billion records, far over a
        // minute on the record engine.
        let big = scenario(
            "name = \"big\"\nduration = \"24h\"\nengine = \"record\"\n[stream]\nshards = 40\n\
             [[producers]]\nname = \"p\"\nrate = \"20000/s\"\nsize = \"100B\"\nkeys = { kind = \"random\" }\n",
        );
        let note = estimate(&[&big], 1, "this run").expect("a day at 20,000/s is long");
        let secs = 20_000.0 * 86_400.0 / crate::model::RECORDS_PER_CORE_SEC;
        assert!(
            note.starts_with(
                "this run simulates 1.73 billion records on the record engine; expect about "
            ),
            "{note}"
        );
        assert!(note.ends_with(&crate::model::about(secs)), "{note}");
        // Four of them on four workers take as long as one.
        let four = estimate(&[&big, &big, &big, &big], 4, "these runs").unwrap();
        assert!(four.ends_with(&crate::model::about(secs)), "{four}");
        let small = scenario(
            "name = \"small\"\nduration = \"10m\"\n[stream]\nshards = 1\n\
             [[producers]]\nname = \"p\"\nrate = \"500/s\"\nsize = \"100B\"\nkeys = { kind = \"random\" }\n",
        );
        assert_eq!(estimate(&[&small], 1, "this run"), None);
    }
}
