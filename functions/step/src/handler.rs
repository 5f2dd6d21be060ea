//! Ticks, operator commands and re-drives for one rollout:
//!
//! - `{"rolloutId", "seq"}`: a Scheduler tick. Stale, early and repeated ticks change nothing.
//! - `{"rolloutId", "command": "pause" | "resume" | "promote"}`: an operator.
//! - `{"rolloutId", "command": "redrive"}`: the watchdog, for a rollout whose tick was lost.
//! - `{"rolloutId", "command": "hookResult", "hookExecutionId", "status": "Succeeded" |
//!   "Failed", "reason"}`: a callback hook's answer. Only the hook function's own role (a
//!   function URL caller assuming it) or a principal the policy allows `hookResult` may
//!   answer; an answer for another execution (late, repeated, guessed) changes nothing.
//!
//! Rollouts that reach `PostTraffic` or `RollingBack` are handed to `finalize` / `rollback`.
//!
//! An operator's command is checked against the authorisation policy first (the actor is the
//! IAM caller of the function URL, or an unidentified direct invoke) and recorded as the
//! cause of the transition. Ticks and re-drives only carry out what the rollout already
//! decided, so they need no rule.

use glidepath_aws::entry::{authorize, identify, load_target};
pub use glidepath_aws::function::RolloutView;
use glidepath_aws::function::{CommandAnswer, FunctionError, parse_input};
use glidepath_aws::ports::{AliasRouter, Ports, RolloutStore};
use glidepath_aws::{Role, Runner};
use glidepath_core::policy::is_session_of;
use glidepath_core::{Action, Actor, Channel, Event, HookOutcome, Policy, Rollout};
use serde::Deserialize;
use serde_json::Value;
use tracing::{info, warn};

/// What an operator (or the watchdog) may ask of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StepCommand {
    Pause,
    Resume,
    Promote,
    Redrive,
    #[serde(rename = "hookResult")]
    HookResult,
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
    /// `hookResult` only.
    #[serde(default)]
    hook_execution_id: Option<String>,
    #[serde(default)]
    status: Option<HookStatus>,
    #[serde(default)]
    reason: Option<String>,
}

/// A callback hook's verdict, CodeDeploy's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum HookStatus {
    Succeeded,
    Failed,
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
                if !["pause", "resume", "promote", "redrive", "hookResult"]
                    .contains(&command.as_str()) =>
            {
                return Err(FunctionError::invalid(format!(
                    "`command`: `{command}` is not one of pause, resume, promote, redrive, hookResult (abort goes to the rollback function)"
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
    handle_until(ports, event, None, &glidepath_aws::fakes::open_policy())
        .await
        .map(|answer| answer.into_rollout().expect("a command on one rollout"))
}

/// Handles one event; hooks are bounded by `deadline` (the invocation's).
pub async fn handle_until<P: Ports>(
    ports: &P,
    event: Value,
    deadline: Option<std::time::SystemTime>,
    policy: &Policy,
) -> Result<CommandAnswer, FunctionError> {
    let (actor, event) = identify(event)?;
    let input = read_input(event)?;
    let runner = Runner::new(ports, Role::Step)
        .with_deadline(deadline)
        .with_actor(actor.clone());
    let rollout = match input {
        StepInput::Tick(Tick { rollout_id, seq }) => {
            runner.run(&rollout_id, Event::Tick { seq }).await?
        }
        StepInput::Command(input) => {
            let (action, event) = match input.command {
                StepCommand::HookResult => {
                    let event = hook_result(&input)?;
                    let stored =
                        load_hook_answerer(ports, policy, &actor, &input.rollout_id).await?;
                    return Ok(CommandAnswer::Rollout(view(
                        ports,
                        &runner.run_on(stored, event).await?,
                    )));
                }
                _ if input.hook_execution_id.is_some()
                    || input.status.is_some()
                    || input.reason.is_some() =>
                {
                    return Err(FunctionError::invalid(
                        "`hookExecutionId`, `status` and `reason` belong to the hookResult command only",
                    ));
                }
                StepCommand::Pause => (Action::Pause, Event::Pause),
                StepCommand::Resume => (Action::Resume, Event::Resume),
                StepCommand::Promote => (Action::Promote, Event::Promote),
                // A re-drive only carries out what the rollout already decided: no rule.
                StepCommand::Redrive => {
                    return Ok(CommandAnswer::Rollout(view(
                        ports,
                        &runner.redrive(&input.rollout_id).await?,
                    )));
                }
            };
            let target =
                load_target(ports.store(), policy, &actor, action, &input.rollout_id).await?;
            return Ok(runner.command_target(target, event).await?);
        }
    };
    Ok(CommandAnswer::Rollout(view(ports, &rollout)))
}

/// The event of a `hookResult` command, or why it is not one (naming the field).
fn hook_result(input: &CommandInput) -> Result<Event, FunctionError> {
    let execution_id = input.hook_execution_id.clone().ok_or_else(|| {
        FunctionError::invalid("`hookExecutionId`: missing (the id the hook was invoked with)")
    })?;
    let outcome = match input.status {
        Some(HookStatus::Succeeded) => HookOutcome::Succeeded,
        Some(HookStatus::Failed) => HookOutcome::Failed {
            reason: input
                .reason
                .clone()
                .unwrap_or_else(|| "the hook reported failure".into()),
        },
        None => {
            return Err(FunctionError::invalid(
                "`status`: missing; \"Succeeded\" or \"Failed\"",
            ));
        }
    };
    Ok(Event::HookResult {
        execution_id,
        outcome,
    })
}

/// The rollout a callback hook answers for, if `actor` may answer: a session of the awaited
/// hook function's own execution role (authenticated by a function URL), or a principal the
/// policy allows `hookResult` on the alias. The execution id is not a credential.
async fn load_hook_answerer<P: Ports>(
    ports: &P,
    policy: &Policy,
    actor: &Actor,
    rollout_id: &str,
) -> Result<Rollout, FunctionError> {
    let rollout =
        ports.store().load(rollout_id).await?.ok_or_else(|| {
            FunctionError::invalid(format!("`rolloutId`: no rollout {rollout_id}"))
        })?;
    let hooks = &rollout.spec.hooks;
    // The hook the rollout waits for; when it waits for none (a late answer, which changes
    // nothing), either of its hooks.
    let candidates: Vec<String> = match (rollout.status, rollout.hook_execution_id()) {
        (glidepath_core::Status::PreTraffic, Some(_)) => {
            hooks.pre_traffic.iter().cloned().collect()
        }
        (glidepath_core::Status::PostTraffic, Some(_)) => {
            hooks.post_traffic.iter().cloned().collect()
        }
        _ => [&hooks.pre_traffic, &hooks.post_traffic]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
    };
    let callers = if actor.via == Channel::FunctionUrl {
        candidates
    } else {
        Vec::new()
    };
    for hook in callers {
        // A role that cannot be read is no proof: the policy decides then.
        match ports.router().version_info(&hook, "$LATEST").await {
            Ok(config) if is_session_of(&actor.principal, &config.role) => {
                info!(rollout_id, actor = %actor, hook = %hook, "hook answer from the hook's own role");
                return Ok(rollout);
            }
            Ok(_) => {}
            Err(error) => {
                warn!(rollout_id, hook = %hook, error = %error, "could not read the hook's role; the policy decides");
            }
        }
    }
    authorize(policy, actor, Action::HookResult, &rollout)?;
    Ok(rollout)
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

#[cfg(test)]
#[path = "release_tests.rs"]
mod release_tests;
