//! `completions` and `man`: the shell completion script and the manual
//! page, both made from the argument definitions and printed to stdout, so
//! they can never disagree with `--help`.

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory};

use super::{Cli, VERSION};

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Arguments of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command's own page (e.g. `run`, `trace summarize`) instead of
    /// shardcast's.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `completions`: the completion script for one shell.
pub(crate) fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "shardcast", out);
    Ok(())
}

/// `man`: the roff manual page of shardcast, or of one of its commands.
pub(crate) fn man(args: &ManArgs, out: &mut dyn Write) -> Result<()> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Built, so that each command's page is named `shardcast-COMMAND`.
    cmd.build();
    for name in &args.command {
        let Some(sub) = cmd.find_subcommand(name).cloned() else {
            let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
            bail!(
                "man {name}: no such command; accepted commands are {}",
                names.join(", ")
            );
        };
        cmd = sub.version(VERSION);
    }
    // The page's NAME line is "shardcast - ABOUT": without the name the
    // help's first line starts with.
    let about = cmd.get_about().map(ToString::to_string);
    if let Some(rest) = about.as_deref().and_then(|a| a.strip_prefix("shardcast: ")) {
        cmd = cmd.about(rest.trim_end_matches('.').to_owned());
    }
    clap_mangen::Man::new(cmd)
        .render(out)
        .context("writing the manual page")
}
