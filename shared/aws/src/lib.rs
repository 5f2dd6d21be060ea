//! Glidepath's AWS layer: the ports the functions need, their AWS SDK adapters, and the
//! runner that carries out the engine's commands through them.
//!
//! - [`ports`]: narrow traits (store, alias router, ticker, health, hooks, notifier,
//!   dispatcher) and [`ports::Ports`], the set a function works with.
//! - [`adapters`]: the AWS SDK implementations and [`adapters::AwsPorts`].
//! - [`runner`]: load → transition → effects → conditional write → feedback, in an order that
//!   keeps every failure safe and retryable.
//! - [`health`]: the one rule that turns alarm states into a health verdict.
//! - [`sdk`]: the one AWS SDK configuration loader and its HTTPS client (rustls on ring).
//! - [`config`]: the environment the orchestrator functions read once at start-up.
//! - [`clock`]: wall-clock time, UTC formatting, rollout ids.
//! - [`entry`]: who sent a request (the IAM caller of a function URL, or a direct invoke)
//!   and how it is answered.
//! - [`function`]: the functions' error type (stable `errorType`), answer and tracing set-up.
//! - [`error`]: [`PortError`], and the stable `error_type` names Lambda callers see.
//! - `fakes` (feature `fakes`): an in-memory AWS for handler tests.
//! - `fuzz` (feature `fakes`): arbitrary JSON into a function's handler over the fakes.
//! - `contract` (feature `fakes`): the port contract tests, run against the fakes and, in
//!   the end-to-end suite, against the adapters on the local emulator.

pub mod adapters;
pub mod clock;
pub mod config;
#[cfg(feature = "fakes")]
pub mod contract;
pub mod entry;
pub mod error;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod function;
#[cfg(feature = "fakes")]
pub mod fuzz;
pub mod health;
pub mod ports;
pub mod runner;
pub mod sdk;

pub use error::{ErrorType, PortError};
pub use runner::{Role, RunError, Runner};
