//! Where commands write, and how.
//!
//! Every file a command writes goes through this module: a report
//! directory through [`write_dir`], a single file through [`write_file`],
//! a file too large to hold in memory through [`StagedFile`]. So a change to
//! how outputs land on disk (such as swapping in a whole fresh directory)
//! is made here and nowhere else. The default directory of each command is
//! [`default_dir`].

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::temps;

/// The directory under which commands write when no `--out` is given.
const REPORTS: &str = "reports";

/// What a default output directory is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DirFor<'a> {
    /// `run` of this scenario file.
    Run(&'a Path),
    /// `plan` of this scenario file.
    Plan(&'a Path),
    /// `sweep` of this scenario file.
    Sweep(&'a Path),
    /// `compare` (of several files, so not named after one).
    Compare,
}

/// The one output-directory rule: `--out` if given, else [`default_dir`].
pub(crate) fn out_dir(out: Option<&Path>, of: DirFor<'_>) -> PathBuf {
    out.map_or_else(|| default_dir(of), Path::to_owned)
}

/// `reports/NAME`, `reports/NAME-plan`, `reports/NAME-sweep` (NAME the
/// scenario file's name without `.toml`) or `reports/compare`.
pub(crate) fn default_dir(of: DirFor<'_>) -> PathBuf {
    let stem = |file: &Path| file.file_stem().unwrap_or_default().to_owned();
    let reports = Path::new(REPORTS);
    // `run` keeps the stem's bytes; `plan` and `sweep` have always made
    // theirs through lossy UTF-8. Kept apart so no name changes.
    let suffixed = |file: &Path, suffix: &str| {
        reports.join(format!("{}{suffix}", stem(file).to_string_lossy()))
    };
    match of {
        DirFor::Run(file) => reports.join(stem(file)),
        DirFor::Plan(file) => suffixed(file, "-plan"),
        DirFor::Sweep(file) => suffixed(file, "-sweep"),
        DirFor::Compare => reports.join("compare"),
    }
}

/// Writes a command's output directory, all or nothing for a reader: the
/// whole new directory is written beside `dir` under a temporary name
/// (`.NAME.shardcast-new-PID`), then swapped in for the old one by one
/// rename, and the old one removed. `files` are the names this write makes
/// (relative to `dir`, possibly with a `charts/` part); `optional` are names
/// earlier writes may have made that this one does not, which are left out
/// of the new directory (and `charts/` too if that leaves it empty). Every
/// other entry of the old directory, such as a file the user put there, is
/// carried into the new one (hard-linked, or copied where links fail).
///
/// A reader sees the old directory or the new one, never a mix: on Linux
/// and macOS the two are exchanged atomically (`renameat2` with
/// `RENAME_EXCHANGE`, `renamex_np` with `RENAME_SWAP`); elsewhere, or on a
/// file system without the exchange, the old one is renamed aside and the
/// new one into place, and for the instant between them `dir` is absent.
/// SIGINT and SIGTERM remove the temporary directories ([`super::temps`]);
/// what a SIGKILL leaves is removed (or, if `dir` was left renamed aside,
/// put back) by the next write of the same directory.
///
/// `dir` must not be, nor contain, the current directory: that directory
/// would be the one removed.
pub(crate) fn write_dir(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    optional: &[String],
) -> Result<()> {
    let target = Swap::resolve(dir)?;
    target.clean_leftovers()?;
    // Refuse before writing anything if a target is not a plain file.
    for (name, _) in files {
        if target
            .dir
            .join(name)
            .symlink_metadata()
            .is_ok_and(|m| !m.is_file())
        {
            anyhow::bail!("{} exists and is not a file", dir.join(name).display());
        }
    }
    let ours: BTreeSet<&str> = files
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(optional.iter().map(String::as_str))
        .collect();
    let staging = target.stage()?;
    let result = (|| -> Result<()> {
        temps::pause_at("staged");
        if target.dir.is_dir() {
            carry_over(&target.dir, &staging, "", &ours)?;
        }
        for (i, (name, bytes)) in files.iter().enumerate() {
            let path = staging.join(name);
            {
                let _step = temps::lock();
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| named(parent, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| named(&dir.join(name), e))?;
            }
            if i == 0 {
                temps::pause_at("writing");
            }
        }
        if optional.iter().any(|n| n.starts_with("charts/")) {
            // Fails, harmlessly, unless the directory is there and empty.
            let _ = std::fs::remove_dir(staging.join("charts"));
        }
        temps::pause_at("written");
        Ok(())
    })();
    if let Err(e) = result {
        let mut step = temps::lock();
        temps::remove(&staging);
        step.forget(&staging);
        return Err(e);
    }
    target.commit(&staging)
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A directory to replace: where it is, and the temporary names beside it.
#[derive(Debug)]
struct Swap {
    /// The directory (its real location if it exists: a symbolic link to
    /// it is kept, and its target replaced).
    dir: PathBuf,
    /// Its parent directory.
    parent: PathBuf,
    /// Its name.
    name: String,
}

/// The temporary names of a directory's swap: the new directory while it
/// is written, and the old one renamed aside (`old`, only without an atomic
/// exchange). `None` for a name that is not one of them.
fn leftover_pid(entry: &str, name: &str, kind: &str) -> Option<u32> {
    entry
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix(".shardcast-")?
        .strip_prefix(kind)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

impl Swap {
    fn resolve(dir: &Path) -> Result<Swap> {
        let dir = if dir.exists() {
            std::fs::canonicalize(dir)
                .with_context(|| format!("cannot resolve {}", dir.display()))?
        } else {
            dir.to_owned()
        };
        if let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize)
            && dir.is_absolute()
            && cwd.starts_with(&dir)
        {
            anyhow::bail!(
                "{} is the current directory or holds it; a report replaces its whole directory, so give one below it (e.g. --out reports/NAME)",
                dir.display()
            );
        }
        let name = dir
            .file_name()
            .with_context(|| format!("{} is not a directory path", dir.display()))?
            .to_string_lossy()
            .into_owned();
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok(Swap { dir, parent, name })
    }

    fn new_path(&self) -> PathBuf {
        self.parent.join(format!(
            ".{}.shardcast-new-{}",
            self.name,
            std::process::id()
        ))
    }

    fn old_path(&self) -> PathBuf {
        self.parent.join(format!(
            ".{}.shardcast-old-{}",
            self.name,
            std::process::id()
        ))
    }

    /// Removes what an earlier write of this directory left when it was
    /// killed (its process is gone): a directory renamed aside is put back
    /// if the directory is missing, any other leftover is removed.
    fn clean_leftovers(&self) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(&self.parent) else {
            return Ok(());
        };
        let mut stale: Vec<(PathBuf, bool)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                let entry = e.file_name().to_string_lossy().into_owned();
                let (pid, old) = match leftover_pid(&entry, &self.name, "new") {
                    Some(pid) => (pid, false),
                    None => (leftover_pid(&entry, &self.name, "old")?, true),
                };
                (pid == std::process::id() || !temps::alive(pid)).then(|| (e.path(), old))
            })
            .collect();
        stale.sort();
        let _step = temps::lock();
        if self.dir.symlink_metadata().is_err()
            && let Some((aside, _)) = stale.iter().find(|(_, old)| *old)
        {
            std::fs::rename(aside, &self.dir).with_context(|| {
                format!(
                    "cannot put back {} (left by a killed run) as {}",
                    aside.display(),
                    self.dir.display()
                )
            })?;
        }
        for (path, _) in &stale {
            temps::remove(path);
        }
        Ok(())
    }

    /// Creates the new directory, empty, with the old one's permissions.
    fn stage(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.parent).map_err(|e| named(&self.parent, e))?;
        let staging = self.new_path();
        let mut step = temps::lock();
        temps::remove(&staging);
        std::fs::create_dir(&staging).map_err(|e| named(&staging, e))?;
        step.add(&staging);
        if let Ok(m) = std::fs::metadata(&self.dir) {
            let _ = std::fs::set_permissions(&staging, m.permissions());
        }
        Ok(staging)
    }

    /// Swaps the written directory in and removes the old one; on a
    /// failure, removes the written one and leaves the old one in place.
    fn commit(&self, staging: &Path) -> Result<()> {
        let old = match self.swap_in(staging) {
            Ok(old) => old,
            Err(e) => {
                let mut step = temps::lock();
                temps::remove(staging);
                step.forget(staging);
                return Err(e);
            }
        };
        if let Some(old) = old {
            temps::pause_at("swapped");
            let mut step = temps::lock();
            temps::remove(&old);
            step.forget(&old);
        }
        Ok(())
    }

    /// The swap itself: where the old directory now is, if there was one.
    /// Without an exchange, the registry is let go between the two renames;
    /// a signal there puts the old directory back.
    fn swap_in(&self, staging: &Path) -> Result<Option<PathBuf>> {
        let fail = |e: io::Error| {
            anyhow::Error::new(e).context(format!("cannot swap in {}", self.dir.display()))
        };
        let mut step = temps::lock();
        if self.dir.symlink_metadata().is_err() {
            std::fs::rename(staging, &self.dir).map_err(fail)?;
            step.forget(staging);
            return Ok(None);
        }
        if exchange(staging, &self.dir).map_err(fail)? {
            // The temporary name now holds the old directory.
            return Ok(Some(staging.to_owned()));
        }
        let aside = self.old_path();
        std::fs::rename(&self.dir, &aside).map_err(fail)?;
        step.add_aside(&aside, &self.dir);
        drop(step);
        temps::pause_at("aside");
        let mut step = temps::lock();
        if let Err(e) = std::fs::rename(staging, &self.dir) {
            let _ = std::fs::rename(&aside, &self.dir);
            step.forget(&aside);
            return Err(fail(e));
        }
        step.forget(staging);
        Ok(Some(aside))
    }
}

/// Exchanges two directories in one step where the system can: `Ok(false)`
/// when it cannot (the caller falls back to two renames).
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    if std::env::var_os("SHARDCAST_NO_EXCHANGE").is_some() {
        // The test seam for the fallback.
        return Ok(false);
    }
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            // The file system (or the kernel) has no exchange.
            Err(e)
                if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(&e) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Whether `entry` (in the directory at `rel`) is a temporary file of the
/// per-file writes shardcast made before directories were swapped whole:
/// `.NAME.tmp` or `.NAME.old` for one of our names.
fn old_scheme_leftover(rel: &str, entry: &str, ours: &BTreeSet<&str>) -> bool {
    let Some(base) = entry
        .strip_prefix('.')
        .and_then(|e| e.strip_suffix(".tmp").or_else(|| e.strip_suffix(".old")))
    else {
        return false;
    };
    ours.contains(format!("{rel}{base}").as_str())
}

/// Carries every entry of `from` (the directory at `rel`, "" or "charts/")
/// that is not one of `ours` into `to`: directories recreated, files
/// hard-linked (copied where a link fails), symbolic links recreated.
fn carry_over(from: &Path, to: &Path, rel: &str, ours: &BTreeSet<&str>) -> Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(from)
        .map_err(|e| named(from, e))?
        .collect::<io::Result<_>>()
        .map_err(|e| named(from, e))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let entry = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let here = format!("{rel}{entry}");
        if ours.contains(here.as_str()) || old_scheme_leftover(rel, &entry, ours) {
            continue;
        }
        let dest = to.join(e.file_name());
        let kind = e.file_type().map_err(|e| named(&path, e))?;
        let _step = temps::lock();
        if kind.is_dir() {
            std::fs::create_dir(&dest).map_err(|e| named(&dest, e))?;
            if let Ok(m) = std::fs::metadata(&path) {
                let _ = std::fs::set_permissions(&dest, m.permissions());
            }
            drop(_step);
            carry_over(&path, &dest, &format!("{here}/"), ours)?;
        } else if kind.is_file() {
            if std::fs::hard_link(&path, &dest).is_err() {
                std::fs::copy(&path, &dest).map_err(|e| named(&path, e))?;
            }
        } else if kind.is_symlink() {
            let link = std::fs::read_link(&path).map_err(|e| named(&path, e))?;
            symlink(&link, &dest).map_err(|e| named(&dest, e))?;
        } else {
            anyhow::bail!(
                "{} is not a file, a directory or a symbolic link; move it out of the report directory",
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(link: &Path, dest: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(link, dest)
}

#[cfg(not(unix))]
fn symlink(link: &Path, dest: &Path) -> io::Result<()> {
    std::fs::copy(link, dest).map(|_| ())
}

/// Writes one file atomically (a temporary file beside it, then a rename).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> io::Result<()> {
        let mut staged = StagedFile::create(path)?;
        staged.writer().write_all(bytes)?;
        staged.commit()
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// A file written in a stream, beside its target under a temporary name,
/// and renamed into place by [`StagedFile::commit`]: never half a file.
/// Dropped uncommitted, the temporary file is removed; so is it on SIGINT
/// or SIGTERM, and a temporary file a killed run left for the same target
/// is removed when the next one is created.
#[derive(Debug)]
pub(crate) struct StagedFile {
    tmp: PathBuf,
    target: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl StagedFile {
    /// Creates the temporary file for `target` (`.NAME.PID.tmp`, in the
    /// target's directory so the rename stays on one file system).
    pub(crate) fn create(target: &Path) -> io::Result<Self> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a file path", target.display()),
                )
            })?
            .to_string_lossy()
            .into_owned();
        remove_stale_tmp(dir, &name);
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = {
            let mut step = temps::lock();
            let file = File::create(&tmp).map_err(|e| named(&tmp, e))?;
            step.add(&tmp);
            file
        };
        temps::pause_at("staged-file");
        Ok(Self {
            tmp,
            target: target.to_owned(),
            writer: Some(BufWriter::new(file)),
        })
    }

    /// Where to write the contents.
    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        self.writer
            .as_mut()
            .expect("a staged file is written before commit")
    }

    /// Flushes, syncs and renames the file into place.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        let writer = self.writer.take().expect("a staged file commits once");
        writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|f| f.sync_all())?;
        let mut step = temps::lock();
        std::fs::rename(&self.tmp, &self.target)?;
        step.forget(&self.tmp);
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        // After a successful commit the temporary name is gone; this only
        // cleans up a failed or abandoned write.
        let mut step = temps::lock();
        let _ = std::fs::remove_file(&self.tmp);
        step.forget(&self.tmp);
    }
}

/// Removes `.NAME.PID.tmp` files in `dir` that a killed run left (their
/// process is gone).
fn remove_stale_tmp(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let entry = e.file_name().to_string_lossy().into_owned();
        let pid = entry
            .strip_prefix('.')
            .and_then(|e| e.strip_prefix(name))
            .and_then(|e| e.strip_prefix('.'))
            .and_then(|e| e.strip_suffix(".tmp"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !temps::alive(pid)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(n, b)| ((*n).to_owned(), b.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn default_dirs_are_named_after_the_scenario_file() {
        let file = Path::new("scenarios/hot-key.toml");
        let dir = |of| default_dir(of).to_string_lossy().into_owned();
        assert_eq!(dir(DirFor::Run(file)), "reports/hot-key");
        assert_eq!(dir(DirFor::Plan(file)), "reports/hot-key-plan");
        assert_eq!(dir(DirFor::Sweep(file)), "reports/hot-key-sweep");
        assert_eq!(dir(DirFor::Compare), "reports/compare");
        assert_eq!(
            out_dir(Some(Path::new("elsewhere")), DirFor::Plan(file)),
            Path::new("elsewhere")
        );
        assert_eq!(
            out_dir(None, DirFor::Sweep(file)),
            Path::new("reports/hot-key-sweep")
        );
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A process id that is no longer running.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_failed_write_leaves_the_previous_files_in_place() {
        let tmp = tempdir();
        let dir = &tmp.path().join("out");
        write_dir(dir, &files(&[("a.csv", "old a"), ("b.csv", "old b")]), &[]).unwrap();
        // A directory where the second file goes: the write is refused
        // before anything changes.
        std::fs::create_dir(dir.join("c.csv")).unwrap();
        let err = write_dir(
            dir,
            &files(&[("a.csv", "new a"), ("b.csv", "new b"), ("c.csv", "x")]),
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("exists and is not a file"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(std::fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
        assert_eq!(names(dir), ["a.csv", "b.csv", "c.csv"], "no temporary left");
        assert_eq!(names(tmp.path()), ["out"], "no temporary beside it");
    }

    #[test]
    fn write_dir_replaces_files_and_removes_stale_optional_ones() {
        let tmp = tempdir();
        let dir = &tmp.path().join("out");
        let optional = vec!["report.html".to_owned(), "charts/load.png".to_owned()];
        write_dir(
            dir,
            &files(&[
                ("plan.csv", "1"),
                ("report.html", "page"),
                ("charts/load.png", "png"),
            ]),
            &optional,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        write_dir(dir, &files(&[("plan.csv", "2")]), &optional).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("plan.csv")).unwrap(), "2");
        assert!(!dir.join("report.html").exists());
        assert!(!dir.join("charts").exists(), "an emptied charts/ goes too");
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(names(tmp.path()), ["out"]);
    }

    #[test]
    fn write_dir_without_optional_files_keeps_an_empty_charts_dir() {
        let tmp = tempdir();
        let dir = &tmp.path().join("out");
        std::fs::create_dir_all(dir.join("charts")).unwrap();
        write_dir(dir, &files(&[("compare.csv", "x")]), &[]).unwrap();
        assert!(dir.join("charts").is_dir());
    }

    /// Issue 15, item 2: what the user put in a report directory is
    /// carried into the new one as it was (the same file, not a copy, where
    /// the file system links), subdirectories and links included; only our
    /// names are replaced.
    #[test]
    fn r15_user_entries_survive_a_swap() {
        let tmp = tempdir();
        let dir = &tmp.path().join("out");
        write_dir(
            dir,
            &files(&[("summary.csv", "old"), ("charts/a.png", "a")]),
            &[],
        )
        .unwrap();
        std::fs::write(dir.join("notes.md"), "mine").unwrap();
        std::fs::create_dir_all(dir.join("charts/mine")).unwrap();
        std::fs::write(dir.join("charts/mine/x.txt"), "x").unwrap();
        std::fs::write(dir.join(".hidden"), "h").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("notes.md", dir.join("link")).unwrap();
        #[cfg(unix)]
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        #[cfg(unix)]
        let before = inode(&dir.join("notes.md"));
        write_dir(
            dir,
            &files(&[("summary.csv", "new")]),
            &["charts/a.png".to_owned()],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("summary.csv")).unwrap(),
            "new"
        );
        assert!(!dir.join("charts/a.png").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.md")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("charts/mine/x.txt")).unwrap(),
            "x"
        );
        assert_eq!(std::fs::read_to_string(dir.join(".hidden")).unwrap(), "h");
        #[cfg(unix)]
        {
            assert_eq!(inode(&dir.join("notes.md")), before, "the same file");
            assert_eq!(
                std::fs::read_link(dir.join("link")).unwrap(),
                Path::new("notes.md")
            );
        }
        assert_eq!(names(tmp.path()), ["out"]);
    }

    /// Issue 15, item 2: the temporary names a killed write left are
    /// removed by the next write of the same directory, and a directory
    /// left renamed aside is put back first; the per-file temporaries of
    /// earlier versions go too, and other hidden files stay.
    #[test]
    fn r15_leftovers_of_a_killed_write_are_cleaned() {
        let tmp = tempdir();
        let dir = &tmp.path().join("out");
        let dead = dead_pid();
        let aside = tmp.path().join(format!(".out.shardcast-old-{dead}"));
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("summary.csv"), "old").unwrap();
        std::fs::write(aside.join("notes.md"), "mine").unwrap();
        std::fs::write(aside.join(".summary.csv.tmp"), "half").unwrap();
        std::fs::write(aside.join(".keys.csv.old"), "set aside").unwrap();
        std::fs::write(aside.join(".mine.tmp"), "the user's").unwrap();
        let half = tmp.path().join(format!(".out.shardcast-new-{dead}"));
        std::fs::create_dir(&half).unwrap();
        std::fs::write(half.join("summary.csv"), "half").unwrap();
        // Not ours (another name, a live process): kept.
        let other = tmp.path().join(".other.shardcast-new-1");
        std::fs::create_dir(&other).unwrap();
        let live = tmp.path().join(format!(".out.shardcast-new-{}x", dead));
        std::fs::create_dir(&live).unwrap();

        // A failed write (a directory where a file goes) still cleans up
        // and puts the old directory back.
        std::fs::create_dir(aside.join("keys.csv")).unwrap();
        assert!(write_dir(dir, &files(&[("keys.csv", "k")]), &[]).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.join("summary.csv")).unwrap(),
            "old"
        );
        std::fs::remove_dir(dir.join("keys.csv")).unwrap();

        write_dir(
            dir,
            &files(&[("summary.csv", "new"), ("keys.csv", "k")]),
            &[],
        )
        .unwrap();
        assert_eq!(
            names(dir),
            [".mine.tmp", "keys.csv", "notes.md", "summary.csv"]
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("summary.csv")).unwrap(),
            "new"
        );
        assert_eq!(
            names(tmp.path()),
            [
                ".other.shardcast-new-1".to_owned(),
                format!(".out.shardcast-new-{dead}x"),
                "out".to_owned()
            ]
        );

        // A staged file's temporary from a dead process goes, a live
        // one's stays.
        let target = tmp.path().join("hashed.csv");
        let stale = tmp.path().join(format!(".hashed.csv.{dead}.tmp"));
        std::fs::write(&stale, "half").unwrap();
        let running = tmp.path().join(".hashed.csv.1.tmp");
        std::fs::write(&running, "pid 1 runs").unwrap();
        write_file(&target, b"whole").unwrap();
        assert!(!stale.exists());
        assert!(running.exists());
    }

    #[test]
    fn write_file_replaces_one_file() {
        let tmp = tempdir();
        let path = tmp.path().join("junit.xml");
        write_file(&path, b"one").unwrap();
        write_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert!(write_file(Path::new("/"), b"x").is_err());
    }

    #[test]
    fn a_staged_file_appears_whole_or_not_at_all() {
        let tmp = tempdir();
        let target = tmp.path().join("out.csv");
        std::fs::write(&target, "previous").unwrap();
        let mut staged = StagedFile::create(&target).unwrap();
        staged.writer().write_all(b"partial").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

        let mut staged = StagedFile::create(&target).unwrap();
        staged.writer().write_all(b"whole").unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "whole");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
