//! One integration test binary (faster to link than one per file).

mod cli;
mod properties;
mod reshard;
mod vectors;
