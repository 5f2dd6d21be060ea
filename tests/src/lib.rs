//! The end-to-end harness: one local AWS emulator (started by `scripts/local-aws`), one
//! Glidepath stack deployed into it from `infra/template.yaml` for the whole run, and a
//! target function per scenario so scenarios run in parallel.
//!
//! - [`clients`]: SDK clients pointed at the emulator.
//! - [`stack`]: zips the workspace's function binaries, uploads them, deploys the template
//!   through CloudFormation (as `sam package` + `sam deploy` would), and reads its outputs.
//! - [`target`]: a target function with a good version, a bad one and a second good one,
//!   an alias, and an alarm.
//! - [`recorder`]: a local HTTP endpoint that records CodeDeploy calls (the emulator has no
//!   CodeDeploy).
//! - [`faults`]: a fault-injecting proxy between the deployed functions and the emulator.
//! - [`run`] / [`wait_for`]: one shared runtime for every test, and polling with a deadline.

pub mod clients;
pub mod faults;
pub mod recorder;
pub mod stack;
pub mod target;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// Runs `future` on the one runtime all tests share (the SDK clients live on it).
pub fn run<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .expect("a tokio runtime")
        })
        .block_on(future)
}

/// Polls `probe` every half second until it returns `Some`, or fails after `deadline`,
/// describing what it waited for.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if start.elapsed() > deadline {
            anyhow::bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
