//! Ticks, operator commands and re-drives for one rollout:
//!
//! - `{"rolloutId", "seq"}`: a Scheduler tick. Stale, early and repeated ticks change nothing.
//! - `{"rolloutId", "command": "pause" | "resume" | "promote"}`: an operator.
//! - `{"rolloutId", "command": "redrive"}`: the watchdog, for a rollout whose tick was lost.
//!
//! Rollouts that reach `PostTraffic` or `RollingBack` are handed to `finalize` / `rollback`.
//!
//! An operator's command is checked against the authorisation policy first (the actor is the
//! IAM caller of the function URL, or an unidentified direct invoke) and recorded as the
//! cause of the transition. Ticks and re-drives only carry out what the rollout already
//! decided, so they need no rule.

use glidepath_aws::entry::{identify, load_authorized};
pub use glidepath_aws::function::RolloutView;
use glidepath_aws::function::{FunctionError, parse_input};
use glidepath_aws::ports::Ports;
use glidepath_aws::{Role, Runner};
use glidepath_core::{Action, Event, Policy};
use serde::Deserialize;
use serde_json::Value;

/// What an operator (or the watchdog) may ask of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StepCommand {
    Pause,
    Resume,
    Promote,
    Redrive,
}

/// `step`'s input: a tick or a command, never both.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StepInput {
    Tick(Tick),
    Command(CommandInput),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Tick {
    rollout_id: String,
    seq: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CommandInput {
    rollout_id: String,
    command: StepCommand,
}

/// Reads the input, with errors that say which form was expected.
fn read_input(event: Value) -> Result<StepInput, FunctionError> {
    if let Some(object) = event.as_object() {
        match (object.get("seq"), object.get("command")) {
            (Some(_), Some(_)) => {
                return Err(FunctionError::invalid(
                    "give either `seq` (a tick) or `command`, not both",
                ));
            }
            (None, None) => {
                return Err(FunctionError::invalid(
                    "`seq` or `command`: give a tick's seq or an operator command",
                ));
            }
            (None, Some(Value::String(command)))
                if !["pause", "resume", "promote", "redrive"].contains(&command.as_str()) =>
            {
                return Err(FunctionError::invalid(format!(
                    "`command`: `{command}` is not one of pause, resume, promote, redrive (abort goes to the rollback function)"
                )));
            }
            _ => {}
        }
    }
    match parse_input::<StepInput>(event.clone()) {
        Ok(input) => Ok(input),
        // Untagged enums lose the field-level message: parse as the form it looks like.
        Err(_) if event.get("seq").is_some() => parse_input::<Tick>(event).map(StepInput::Tick),
        Err(_) => parse_input::<CommandInput>(event).map(StepInput::Command),
    }
}

/// Handles one event without a deadline, under a policy that allows everything (tests).
#[cfg(test)]
pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<RolloutView, FunctionError> {
    handle_until(ports, event, None, &glidepath_aws::fakes::open_policy()).await
}

/// Handles one event; hooks are bounded by `deadline` (the invocation's).
pub async fn handle_until<P: Ports>(
    ports: &P,
    event: Value,
    deadline: Option<std::time::SystemTime>,
    policy: &Policy,
) -> Result<RolloutView, FunctionError> {
    let (actor, event) = identify(event)?;
    let input = read_input(event)?;
    let runner = Runner::new(ports, Role::Step)
        .with_deadline(deadline)
        .with_actor(actor.clone());
    let rollout = match input {
        StepInput::Tick(Tick { rollout_id, seq }) => {
            runner.run(&rollout_id, Event::Tick { seq }).await?
        }
        StepInput::Command(CommandInput {
            rollout_id,
            command,
        }) => {
            let (action, event) = match command {
                StepCommand::Pause => (Action::Pause, Event::Pause),
                StepCommand::Resume => (Action::Resume, Event::Resume),
                StepCommand::Promote => (Action::Promote, Event::Promote),
                // A re-drive only carries out what the rollout already decided: no rule.
                StepCommand::Redrive => {
                    return Ok(view(ports, &runner.redrive(&rollout_id).await?));
                }
            };
            let stored =
                load_authorized(ports.store(), policy, &actor, action, &rollout_id).await?;
            runner.run_on(stored, event).await?
        }
    };
    Ok(view(ports, &rollout))
}

fn view<P: Ports>(ports: &P, rollout: &glidepath_core::Rollout) -> RolloutView {
    RolloutView::new(rollout, ports.take_call_counts())
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod analysis_tests;

#[cfg(test)]
#[path = "hook_tests.rs"]
mod hook_tests;
