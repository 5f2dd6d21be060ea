//! Ticks, operator commands and re-drives for one rollout:
//!
//! - `{"rolloutId", "seq"}`: a Scheduler tick. Stale, early and repeated ticks change nothing.
//! - `{"rolloutId", "command": "pause" | "resume" | "promote"}`: an operator.
//! - `{"rolloutId", "command": "redrive"}`: the watchdog, for a rollout whose tick was lost.
//!
//! Rollouts that reach `PostTraffic` or `RollingBack` are handed to `finalize` / `rollback`.

use glidepath_aws::Runner;
pub use glidepath_aws::function::RolloutView;
use glidepath_aws::function::{FunctionError, parse_input};
use glidepath_aws::ports::{HandOff, Ports, RolloutStore};
use glidepath_core::{Event, Status};
use serde::Deserialize;
use serde_json::Value;

const HAND_OFFS: &[(Status, HandOff)] = &[
    (Status::PostTraffic, HandOff::Finalize),
    (Status::RollingBack, HandOff::Rollback),
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StepInput {
    rollout_id: String,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    command: Option<String>,
}

pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<RolloutView, FunctionError> {
    let input: StepInput = parse_input(event)?;
    let runner = Runner::handing_off(ports, HAND_OFFS);
    let rollout = match (input.seq, input.command.as_deref()) {
        (Some(seq), None) => runner.run(&input.rollout_id, Event::Tick { seq }).await?,
        (None, Some("pause")) => runner.run(&input.rollout_id, Event::Pause).await?,
        (None, Some("resume")) => runner.run(&input.rollout_id, Event::Resume).await?,
        (None, Some("promote")) => runner.run(&input.rollout_id, Event::Promote).await?,
        (None, Some("redrive")) => {
            let rollout = ports
                .store()
                .load(&input.rollout_id)
                .await?
                .ok_or_else(|| {
                    FunctionError::invalid(format!("`rolloutId`: no rollout {}", input.rollout_id))
                })?;
            match rollout.status {
                // A lost tick is re-delivered; the engine ignores it if it is not due yet.
                Status::Shifting | Status::Baking => {
                    let seq = rollout.seq;
                    runner.run_on(rollout, Event::Tick { seq }).await?
                }
                // Not started yet (start stopped before its first event), or owing work:
                // a hook stage runs here; finalize's and rollback's work goes back to them.
                Status::PreTraffic if rollout.seq == 0 => {
                    runner.run_on(rollout, Event::Start).await?
                }
                Status::PreTraffic | Status::PostTraffic | Status::RollingBack => {
                    runner.run_on(rollout, Event::Redrive).await?
                }
                // Paused and finished rollouts owe nothing.
                _ => rollout,
            }
        }
        (Some(_), Some(_)) => {
            return Err(FunctionError::invalid(
                "give either `seq` (a tick) or `command`, not both",
            ));
        }
        (None, Some(other)) => {
            return Err(FunctionError::invalid(format!(
                "`command`: `{other}` is not one of pause, resume, promote, redrive (abort goes to the rollback function)"
            )));
        }
        (None, None) => {
            return Err(FunctionError::invalid(
                "`seq` or `command`: give a tick's seq or an operator command",
            ));
        }
    };
    Ok(RolloutView::new(&rollout, ports.take_call_counts()))
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
