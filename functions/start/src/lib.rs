//! `start`'s logic, as a library: the `start` function wires it to its events, and the
//! `pipeline` function (a CodePipeline action) starts rollouts through it too, so there is one
//! way a rollout begins.
//!
//! - [`handler`]: a rollout request (direct, function URL, EventBridge `Rollout Requested`),
//!   checked and started.
//! - [`publish`]: Lambda's CloudTrail record of a published version, for functions that opted
//!   in by tags.
//! - [`release`]: a release request (several members shifted together), checked and started.
//! - [`handle_event`]: which of these an event is.

pub mod handler;
pub mod publish;
pub mod release;

use glidepath_aws::function::{FunctionError, Invocation};
use glidepath_aws::ports::Ports;
use glidepath_core::Policy;
use serde::Serialize;
use serde_json::Value;

/// What `start` answers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// A rollout request, started (or found again by its idempotency key).
    Started(handler::Started),
    /// A published version, rolled out or ignored.
    Published(publish::Published),
    /// A release request, started (or found again by its idempotency key).
    Release(release::ReleaseStarted),
}

/// Handles one event of the `start` function.
pub async fn handle_event<P: Ports>(
    ports: &P,
    event: Value,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
) -> Result<Answer, FunctionError> {
    if publish::is_cloudtrail_event(&event) {
        return publish::on_publish(ports, event, invocation, policy, alarm_prefix)
            .await
            .map(Answer::Published);
    }
    let (body, actor) = handler::identify_request(event, invocation)?;
    if glidepath_core::ReleaseRequest::is_release(&body) {
        return release::start_release(ports, &body, actor, invocation, policy, alarm_prefix)
            .await
            .map(Answer::Release);
    }
    handler::start_request(ports, &body, actor, invocation, policy, alarm_prefix)
        .await
        .map(Answer::Started)
}
