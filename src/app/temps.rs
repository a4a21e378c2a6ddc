//! The temporary files and directories a command has on disk, and what
//! happens to them when the command is stopped.
//!
//! Every temporary path `output` creates is registered here while it
//! exists. On SIGINT or SIGTERM (Unix) a handler thread takes the registry's
//! lock, removes every registered path, and lets the signal end the process
//! as it would have without a handler (so a shell still sees "terminated by
//! SIGINT"). Each step that changes a temporary path or swaps one into place
//! holds the same lock, so the handler never runs in the middle of one: it
//! sees either the state before a step or the state after it. A SIGKILL
//! cannot be caught; what it leaves is recognised by name and by its dead
//! process id and removed by the next command that writes the same output
//! ([`alive`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

/// A registered temporary path: removed on a signal, or renamed back to
/// where it belongs (a directory renamed aside during a swap).
#[derive(Debug, PartialEq)]
struct Entry {
    path: PathBuf,
    restore_to: Option<PathBuf>,
}

static TEMPS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The registry, locked: a step on temporary paths runs while this is held.
#[derive(Debug)]
pub(crate) struct Temps(MutexGuard<'static, Vec<Entry>>);

/// Locks the registry (waiting for the signal handler, which never gives
/// it back once it has it: the process is ending).
pub(crate) fn lock() -> Temps {
    Temps(TEMPS.lock().unwrap_or_else(PoisonError::into_inner))
}

impl Temps {
    /// Registers `path` (a file or a directory) for removal on a signal.
    pub(crate) fn add(&mut self, path: &Path) {
        self.0.push(Entry {
            path: path.to_owned(),
            restore_to: None,
        });
    }

    /// Registers `path`, a directory renamed aside from `to`, to be renamed
    /// back on a signal (if nothing took its place).
    pub(crate) fn add_aside(&mut self, path: &Path, to: &Path) {
        self.0.push(Entry {
            path: path.to_owned(),
            restore_to: Some(to.to_owned()),
        });
    }

    /// Forgets `path`: it was renamed into place or removed.
    pub(crate) fn forget(&mut self, path: &Path) {
        self.0.retain(|e| e.path != path);
    }

    /// Undoes every registered step: removes the temporary paths, puts
    /// back what was set aside.
    fn undo_all(&self) {
        for e in self.0.iter().rev() {
            match &e.restore_to {
                Some(to) if to.symlink_metadata().is_err() => {
                    let _ = std::fs::rename(&e.path, to);
                }
                _ => remove(&e.path),
            }
        }
    }
}

/// Removes a file, or a directory with everything in it (never following a
/// symbolic link). Errors are ignored: this cleans up after a failure or a
/// signal, and what it cannot remove the next run will.
pub(crate) fn remove(path: &Path) {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Installs the SIGINT/SIGTERM handler (once per process; the binary calls
/// it, a library user's process keeps its own signal handling).
pub(crate) fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(handler);
}

#[cfg(unix)]
fn handler() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Without a handler (a failure to install one) a signal ends the
    // process as before, and the next run cleans up.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("shardcast-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until the process ends: no step starts after this.
                let temps = lock();
                temps.undo_all();
                // Die of the signal, as the process would have without a
                // handler; exit as a shell reports it if that fails.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
}

#[cfg(not(unix))]
fn handler() {}

/// Whether process `pid` may still be running (it exists, or it is not
/// ours to signal). Off Unix, every process counts as running, so nothing
/// is removed that might be in use.
pub(crate) fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        if pid == std::process::id() {
            return true;
        }
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e != rustix::io::Errno::SRCH,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The test seam: with `SHARDCAST_PAUSE_AT` set to `phase`, the command says
/// so on stderr (`shardcast: paused at PHASE`) and sleeps up to 60 s there,
/// so that a test can signal it at that point of its writing. Never set in
/// use; documented for tests only.
pub(crate) fn pause_at(phase: &str) {
    if std::env::var_os("SHARDCAST_PAUSE_AT").is_some_and(|p| p == phase) {
        eprintln!("shardcast: paused at {phase}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(alive(std::process::id()));
        let mut child = std::process::Command::new("true")
            .spawn()
            .or_else(|_| std::process::Command::new("cmd").arg("/C").spawn())
            .expect("a child process");
        let pid = child.id();
        child.wait().expect("the child ends");
        if cfg!(unix) {
            assert!(!alive(pid), "pid {pid} was reaped");
        }
    }

    #[test]
    fn remove_takes_files_and_trees_and_ignores_what_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let dir = tmp.path().join("d");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/g"), "y").unwrap();
        remove(&file);
        remove(&dir);
        remove(&tmp.path().join("never"));
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
