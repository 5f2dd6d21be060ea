//! The `glidepath` command's offline subcommands, as a library so they can be tested:
//!
//! - [`plan_report`]: `glidepath plan`, the schedule a strategy produces.
//! - [`simulate`]: `glidepath simulate`, the engine driven against synthetic traffic.
//! - [`operate`]: the operator commands on a deployed stack (`start`, `status`, `watch`,
//!   `history`, `list`, `pause`, `resume`, `promote`, `abort`) and their exit codes.
//! - [`args`]: the command line (clap) and how each subcommand runs.

pub mod args;
pub mod operate;
pub mod plan_report;
pub mod simulate;
