//! The `shardcast` binary: everything happens in [`shardcast::app::main`].
//!
//! No `fn main() -> Result`: that would print backtraces under
//! `RUST_BACKTRACE=1`; errors are one line on stderr and exit code 2.

use std::process::ExitCode;

fn main() -> ExitCode {
    shardcast::app::main(std::env::args_os())
}
