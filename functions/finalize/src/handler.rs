//! Finishing a rollout that reached `PostTraffic`: make sure the alias is wholly on the new
//! version (no routing config), run the post-traffic hook, and succeed; a failed hook rolls
//! back (handed to `rollback`). Input: `{"rolloutId"}`. Running it again is harmless.

use glidepath_aws::function::{FunctionError, RolloutView, parse_input};
use glidepath_aws::ports::Ports;
use glidepath_aws::{Role, Runner};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FinalizeInput {
    rollout_id: String,
}

/// Handles one event without a deadline (tests).
#[cfg(test)]
pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<RolloutView, FunctionError> {
    handle_until(ports, event, None).await
}

/// Handles one event; hooks are bounded by `deadline` (the invocation's).
pub async fn handle_until<P: Ports>(
    ports: &P,
    event: Value,
    deadline: Option<std::time::SystemTime>,
) -> Result<RolloutView, FunctionError> {
    let input: FinalizeInput = parse_input(event)?;
    let rollout = Runner::new(ports, Role::Finalize)
        .with_deadline(deadline)
        .redrive(&input.rollout_id)
        .await?;
    Ok(RolloutView::new(&rollout, ports.take_call_counts()))
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
