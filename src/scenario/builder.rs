//! Scenarios built in code: the same fields as a scenario file, set by path,
//! then validated by the same rules with the same messages. A test or a
//! tool embedding shardcast never hand-assembles the validated types.
//!
//! ```
//! use shardcast::scenario::Scenario;
//!
//! let scenario = Scenario::builder("checkout")
//!     .set("duration", "10m")
//!     .set("stream.shards", 4)
//!     .producer("web")
//!     .set("producers.web.rate", "3000/s")
//!     .set("producers.web.size", "1KiB")
//!     .set("producers.web.keys.kind", "random")
//!     .build()?;
//! assert_eq!(scenario.stream.shards, 4);
//! assert_eq!(scenario.producers[0].name, "web");
//! # Ok::<(), shardcast::scenario::BuildError>(())
//! ```

use std::path::{Path, PathBuf};

use super::{Scenario, ScenarioError, grid};

/// A scenario being put together in code.
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    table: toml::Table,
    /// The first path that could not be set and why, kept until `build`
    /// reports it.
    error: Option<(String, String)>,
    /// Relative file names (a trace, a price file) are found beside it.
    path: PathBuf,
}

/// Why a built scenario is not one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A path that does not lead to a field.
    #[error("builder: cannot set {path}: {message}")]
    Path {
        /// The path as given.
        path: String,
        /// Why.
        message: String,
    },
    /// The scenario is complete but breaks a rule of the file format.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

impl Scenario {
    /// A builder for a scenario named `name` (see [`ScenarioBuilder`]).
    pub fn builder(name: &str) -> ScenarioBuilder {
        let mut table = toml::Table::new();
        table.insert("name".into(), toml::Value::String(name.to_owned()));
        ScenarioBuilder {
            table,
            error: None,
            path: PathBuf::from(format!("{name}.toml")),
        }
    }
}

impl ScenarioBuilder {
    /// Sets the field at `path` (as in a file or a sweep's `--set`:
    /// `stream.shards`, `producers.web.rate`; an entry of an array of tables
    /// is picked by its `name`) to `value`, written as in a file (`"10m"`,
    /// `4`, `true`).
    pub fn set(mut self, path: &str, value: impl Into<toml::Value>) -> ScenarioBuilder {
        if self.error.is_none()
            && let Err(message) = grid::apply(&mut self.table, path, value.into())
        {
            self.error = Some((path.to_owned(), message));
        }
        self
    }

    /// Adds a producer group named `name`; set its fields with
    /// `producers.NAME.FIELD`.
    pub fn producer(self, name: &str) -> ScenarioBuilder {
        self.entry("producers", name)
    }

    /// Adds a consumer application named `name`; set its fields with
    /// `consumers.NAME.FIELD`.
    pub fn consumer(self, name: &str) -> ScenarioBuilder {
        self.entry("consumers", name)
    }

    /// Where the scenario counts as written: relative file names in it are
    /// read beside this path (default: `NAME.toml` in the working directory).
    pub fn located_at(mut self, path: &Path) -> ScenarioBuilder {
        self.path = path.to_owned();
        self
    }

    fn entry(mut self, array: &str, name: &str) -> ScenarioBuilder {
        let mut entry = toml::Table::new();
        entry.insert("name".into(), toml::Value::String(name.to_owned()));
        let items = self
            .table
            .entry(array.to_owned())
            .or_insert_with(|| toml::Value::Array(Vec::new()));
        match items {
            toml::Value::Array(items) => items.push(toml::Value::Table(entry)),
            _ => {
                self.error.get_or_insert((
                    array.to_owned(),
                    format!("{array} was set to a value, not a list of entries"),
                ));
            }
        }
        self
    }

    /// The scenario as a file would say it.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.table).unwrap_or_default()
    }

    /// Validates the scenario: the same checks and messages as for a file
    /// (the line numbers are those of [`ScenarioBuilder::to_toml`]).
    pub fn build(&self) -> Result<Scenario, BuildError> {
        if let Some((path, message)) = &self.error {
            return Err(BuildError::Path {
                path: path.clone(),
                message: message.clone(),
            });
        }
        Ok(Scenario::parse(&self.to_toml(), &self.path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> ScenarioBuilder {
        Scenario::builder("b")
            .set("duration", "1m")
            .set("stream.shards", 3)
            .producer("web")
            .set("producers.web.rate", "100/s")
            .set("producers.web.size", "200B")
            .set("producers.web.keys.kind", "random")
    }

    #[test]
    fn a_built_scenario_is_the_file_it_stands_for() {
        let built = web().build().unwrap();
        let text = "name = \"b\"\nduration = \"1m\"\n[stream]\nshards = 3\n\
                    [[producers]]\nname = \"web\"\nrate = \"100/s\"\nsize = \"200B\"\n\
                    keys = { kind = \"random\" }\n";
        let parsed = Scenario::parse(text, Path::new("b.toml")).unwrap();
        assert_eq!(built.stream, parsed.stream);
        assert_eq!(built.duration, parsed.duration);
        assert_eq!(built.producers[0].name, parsed.producers[0].name);
        assert_eq!(
            format!("{:?}", built.producers),
            format!("{:?}", parsed.producers)
        );
    }

    #[test]
    fn bad_values_get_the_files_messages_and_bad_paths_their_own() {
        let e = web().set("stream.shards", 0).build().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("stream.shards"), "{text}");
        assert!(text.contains("accepted range is 1 to"), "{text}");
        let e = web().set("producers.api.rate", "1/s").build().unwrap_err();
        assert!(matches!(e, BuildError::Path { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("builder: cannot set producers.api.rate")
        );
        // The first bad path is the one reported.
        let e = web()
            .set("producers.nope.rate", "1/s")
            .set("producers.other.rate", "1/s")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("producers.nope.rate"), "{e}");
    }
}
