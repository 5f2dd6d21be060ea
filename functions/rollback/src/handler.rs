//! Rolling back: put the alias wholly back on the old version (no routing config), then
//! `RolledBack` with the reason, the lock released and pending ticks deleted.
//!
//! - `{"rolloutId"}`: finish a rollback another function started (`RollingBack`); a rollout
//!   in any other status is left as it is.
//! - `{"rolloutId", "command": "abort", "reason"}`: an operator aborts a running rollout.
//!
//! Rolling back twice is harmless: a rolled-back rollout stays as it is. An abort is checked
//! against the authorisation policy first and recorded with its actor; finishing a rollback
//! already decided needs no rule.

use glidepath_aws::entry::{identify, load_target};
use glidepath_aws::function::{CommandAnswer, FunctionError, RolloutView, parse_input};
use glidepath_aws::ports::Ports;
use glidepath_aws::{Role, Runner};
use glidepath_core::{Action, Event, Policy};
use serde::Deserialize;
use serde_json::Value;

/// The one operator command `rollback` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RollbackCommand {
    Abort,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RollbackInput {
    rollout_id: String,
    #[serde(default)]
    command: Option<RollbackCommand>,
    #[serde(default)]
    reason: Option<String>,
}

/// Handles one event under a policy that allows everything (tests).
#[cfg(test)]
pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<RolloutView, FunctionError> {
    handle_with(ports, event, &glidepath_aws::fakes::open_policy())
        .await
        .map(|answer| answer.into_rollout().expect("a command on one rollout"))
}

/// Handles one event: an abort if `policy` lets its actor, or the end of a rollback.
pub async fn handle_with<P: Ports>(
    ports: &P,
    event: Value,
    policy: &Policy,
) -> Result<CommandAnswer, FunctionError> {
    let (actor, event) = identify(event)?;
    let input: RollbackInput = parse_input(event)?;
    let runner = Runner::new(ports, Role::Rollback).with_actor(actor.clone());
    let rollout = match input.command {
        None => runner.redrive(&input.rollout_id).await?,
        Some(RollbackCommand::Abort) => {
            let target = load_target(
                ports.store(),
                policy,
                &actor,
                Action::Abort,
                &input.rollout_id,
            )
            .await?;
            let reason = input
                .reason
                .unwrap_or_else(|| "no reason given".to_string());
            // A release: every member goes back, each for the operator's reason.
            return Ok(runner
                .command_target(target, Event::Abort { reason })
                .await?);
        }
    };
    Ok(CommandAnswer::Rollout(RolloutView::new(
        &rollout,
        ports.take_call_counts(),
    )))
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
