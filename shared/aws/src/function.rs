//! What the Lambda functions share: the error they return (with a stable `errorType`),
//! the rollout summary they answer with, and start-up wiring.

use crate::error::{ErrorType, PortError};
use crate::runner::RunError;
use glidepath_core::{RequestError, Rollout, Status};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use std::collections::BTreeMap;

/// An error a function returns. `error_type` is one of the stable names callers match:
/// `InvalidRequest` (bad input; nothing changed), `Conflict` (another rollout or operator got
/// there first; nothing changed), `Retryable` (AWS failed; the same event can be retried),
/// `Forbidden` (the authorisation policy refuses the caller; nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FunctionError {
    pub error_type: &'static str,
    pub message: String,
}

impl FunctionError {
    pub fn invalid(message: impl Into<String>) -> Self {
        FunctionError {
            error_type: ErrorType::InvalidRequest.as_str(),
            message: message.into(),
        }
    }

    /// A retryable failure (AWS failed; the same event can be sent again).
    pub fn retryable(message: impl Into<String>) -> Self {
        FunctionError {
            error_type: ErrorType::Retryable.as_str(),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        FunctionError {
            error_type: ErrorType::Conflict.as_str(),
            message: message.into(),
        }
    }

    /// The authorisation policy refuses the request; nothing changed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        FunctionError {
            error_type: ErrorType::Forbidden.as_str(),
            message: message.into(),
        }
    }
}

impl From<glidepath_core::Forbidden> for FunctionError {
    fn from(error: glidepath_core::Forbidden) -> Self {
        FunctionError::forbidden(error.0)
    }
}

impl From<PortError> for FunctionError {
    fn from(error: PortError) -> Self {
        FunctionError {
            error_type: error.error_type().as_str(),
            message: error.to_string(),
        }
    }
}

impl From<RunError> for FunctionError {
    fn from(error: RunError) -> Self {
        FunctionError {
            error_type: error.error_type().as_str(),
            message: error.to_string(),
        }
    }
}

impl From<RequestError> for FunctionError {
    fn from(error: RequestError) -> Self {
        FunctionError::invalid(error.to_string())
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type.to_string(),
            error_message: error.message,
        }
    }
}

/// Reads a function's input, refusing a malformed one with `InvalidRequest`.
pub fn parse_input<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, FunctionError> {
    serde_json::from_value(value)
        .map_err(|e| FunctionError::invalid(format!("malformed input: {e}")))
}

/// What the functions answer: where a rollout is now, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    pub rollout_id: String,
    pub function: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    pub status: Status,
    pub weight: glidepath_core::Weight,
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The release this rollout is a member of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_id: Option<String>,
    /// AWS API calls this invocation made, by `service:Operation` (empty under fakes).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_calls: BTreeMap<&'static str, u64>,
}

impl RolloutView {
    pub fn new(rollout: &Rollout, aws_calls: BTreeMap<&'static str, u64>) -> Self {
        RolloutView {
            rollout_id: rollout.id.clone(),
            function: rollout.spec.function.clone(),
            alias: rollout.spec.alias.clone(),
            current_version: rollout.spec.current_version.clone(),
            target_version: rollout.spec.target_version.clone(),
            status: rollout.status,
            weight: rollout.weight,
            seq: rollout.seq,
            reason: rollout.reason.clone(),
            release_id: rollout.release.as_ref().map(|r| r.id.clone()),
            aws_calls,
        }
    }
}

/// What the functions answer about a release: its status as a whole and each member.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseView {
    pub release_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// [`glidepath_core::release::release_status`] of the members.
    pub status: Status,
    /// Why the release went back: the first member's reason that is not the release's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub members: Vec<RolloutView>,
    /// AWS API calls this invocation made, by `service:Operation` (empty under fakes).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_calls: BTreeMap<&'static str, u64>,
}

impl ReleaseView {
    /// The view of a release from its members (in order; at least one).
    pub fn new(members: &[Rollout], aws_calls: BTreeMap<&'static str, u64>) -> Self {
        let release = members.first().and_then(|m| m.release.as_ref());
        let reason = glidepath_core::release::cause(members)
            .map(|(cause, reason)| format!("member {cause}: {reason}"));
        ReleaseView {
            release_id: release.map(|r| r.id.clone()).unwrap_or_default(),
            name: release.and_then(|r| r.name.clone()),
            status: glidepath_core::release::release_status(members),
            reason,
            members: members
                .iter()
                .map(|m| RolloutView::new(m, BTreeMap::new()))
                .collect(),
            aws_calls,
        }
    }
}

/// What an operator command answers: the rollout, or the release it addressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CommandAnswer {
    Rollout(RolloutView),
    Release(ReleaseView),
}

impl CommandAnswer {
    /// The rollout answered about, if the command addressed one rollout.
    pub fn into_rollout(self) -> Option<RolloutView> {
        match self {
            CommandAnswer::Rollout(view) => Some(view),
            CommandAnswer::Release(_) => None,
        }
    }

    /// The release answered about, if the command addressed a release.
    pub fn into_release(self) -> Option<ReleaseView> {
        match self {
            CommandAnswer::Release(view) => Some(view),
            CommandAnswer::Rollout(_) => None,
        }
    }
}

/// What a function knows about the invocation it is handling, from Lambda's context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// When Lambda stops the invocation.
    pub deadline: Option<std::time::SystemTime>,
    /// The account of the invoked function's ARN: this Glidepath's own account.
    pub account: Option<String>,
    /// The region of the invoked function's ARN: this Glidepath's own region.
    pub region: Option<String>,
}

impl Invocation {
    pub fn from_context(context: &lambda_runtime::Context) -> Invocation {
        Invocation {
            deadline: deadline(context),
            account: glidepath_core::arn_account(&context.invoked_function_arn).map(str::to_string),
            region: context
                .invoked_function_arn
                .split(':')
                .nth(3)
                .filter(|region| !region.is_empty())
                .map(str::to_string),
        }
    }
}

/// The invocation's deadline, from Lambda's context (milliseconds since the epoch).
pub fn deadline(context: &lambda_runtime::Context) -> Option<std::time::SystemTime> {
    (context.deadline > 0)
        .then(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(context.deadline))
}

/// Tracing for a function: JSON when the function's log format is JSON
/// (`AWS_LAMBDA_LOG_FORMAT`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}
