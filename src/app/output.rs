//! Where commands write, and how.
//!
//! Every file a command writes goes through this module: a report
//! directory through [`write_dir`], a single file through [`write_file`],
//! a file too large to hold in memory through [`StagedFile`]. So a change to
//! how outputs land on disk (such as swapping in a whole fresh directory)
//! is made here and nowhere else. The default directory of each command is
//! [`default_dir`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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

/// Writes a command's output directory: `files` (names relative to `dir`,
/// possibly with a `charts/` part) all or nothing ([`write_atomic`]), then
/// removes each of the `optional` names this write did not include, which
/// would otherwise be taken for part of it (and `charts/` if that leaves it
/// empty). Other files in `dir` are left alone.
pub(crate) fn write_dir(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    optional: &[String],
) -> Result<()> {
    write_atomic(dir, files)?;
    remove_stale(dir, files, optional)
}

fn remove_stale(dir: &Path, files: &[(String, Vec<u8>)], optional: &[String]) -> Result<()> {
    for name in optional {
        if !files.iter().any(|(n, _)| n == name) {
            let stale = dir.join(name);
            if stale.is_file() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot remove the stale {}", stale.display()))?;
            }
        }
    }
    if optional.iter().any(|n| n.starts_with("charts/")) {
        // Fails, harmlessly, unless the directory is there and empty.
        let _ = std::fs::remove_dir(dir.join("charts"));
    }
    Ok(())
}

/// Writes one file atomically (a temporary file beside it, then a rename).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .into_owned();
    write_atomic(&dir, &[(name, bytes.to_vec())])
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes every file into `dir`, all or nothing: each file goes to a
/// temporary name first; existing files are set aside before the new ones are
/// renamed into place, and put back if any step fails. An error names the
/// file it concerns.
pub(crate) fn write_atomic(dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    let named =
        |path: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| named(dir, e))?;
    // Refuse before writing anything if a target is not a plain file.
    for (name, _) in files {
        let path = dir.join(name);
        if path.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a file", path.display()),
            ));
        }
    }
    // A name may have a directory part (`charts/load.png`): its temporary
    // and set-aside copies go beside it, in the same directory.
    let staged: Vec<(PathBuf, PathBuf, PathBuf)> = files
        .iter()
        .map(|(name, _)| {
            let path = dir.join(name);
            let parent = path.parent().unwrap_or(dir).to_owned();
            let file = path
                .file_name()
                .map_or_else(|| name.clone(), |f| f.to_string_lossy().into_owned());
            (
                parent.join(format!(".{file}.tmp")),
                path,
                parent.join(format!(".{file}.old")),
            )
        })
        .collect();
    for (tmp, _, _) in &staged {
        if let Some(parent) = tmp.parent() {
            std::fs::create_dir_all(parent).map_err(|e| named(parent, e))?;
        }
    }
    let cleanup = |upto: usize| {
        for (tmp, _, _) in &staged[..upto] {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (i, ((_, bytes), (tmp, _, _))) in files.iter().zip(&staged).enumerate() {
        if let Err(e) = std::fs::write(tmp, bytes) {
            cleanup(i + 1);
            return Err(named(tmp, e));
        }
    }
    // Swap in: old -> .old, tmp -> name; undo everything on a failure.
    let mut done: Vec<(bool, usize)> = Vec::with_capacity(staged.len());
    for (i, (tmp, path, old)) in staged.iter().enumerate() {
        let had_old = path.exists();
        let step = (|| {
            if had_old {
                std::fs::rename(path, old)?;
            }
            std::fs::rename(tmp, path).inspect_err(|_| {
                if had_old {
                    let _ = std::fs::rename(old, path);
                }
            })
        })();
        if let Err(e) = step {
            for &(had, j) in done.iter().rev() {
                let (_, path, old) = &staged[j];
                if had {
                    let _ = std::fs::rename(old, path);
                } else {
                    let _ = std::fs::remove_file(path);
                }
            }
            cleanup(staged.len());
            return Err(named(path, e));
        }
        done.push((had_old, i));
    }
    for (had, j) in done {
        if had {
            let _ = std::fs::remove_file(&staged[j].2);
        }
    }
    Ok(())
}

/// A file written in a stream, beside its target under a temporary name,
/// and renamed into place by [`StagedFile::commit`]: never half a file.
/// Dropped uncommitted, the temporary file is removed.
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
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp)?;
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
        std::fs::rename(&self.tmp, &self.target)
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        // After a successful commit the temporary name is gone; this only
        // cleans up a failed or abandoned write.
        let _ = std::fs::remove_file(&self.tmp);
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

    #[test]
    fn a_failed_write_leaves_the_previous_files_in_place() {
        let tmp = tempdir();
        let dir = tmp.path();
        write_atomic(dir, &files(&[("a.csv", "old a"), ("b.csv", "old b")])).unwrap();
        // A directory where the second file goes: the write is refused
        // before anything changes.
        std::fs::create_dir(dir.join("c.csv")).unwrap();
        let err = write_atomic(
            dir,
            &files(&[("a.csv", "new a"), ("b.csv", "new b"), ("c.csv", "x")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("exists and is not a file"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(std::fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.csv", "b.csv", "c.csv"], "no temporary left");
    }

    #[test]
    fn write_dir_replaces_files_and_removes_stale_optional_ones() {
        let tmp = tempdir();
        let dir = tmp.path();
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
    }

    #[test]
    fn write_dir_without_optional_files_keeps_an_empty_charts_dir() {
        let tmp = tempdir();
        let dir = tmp.path();
        std::fs::create_dir(dir.join("charts")).unwrap();
        write_dir(dir, &files(&[("compare.csv", "x")]), &[]).unwrap();
        assert!(dir.join("charts").is_dir());
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
