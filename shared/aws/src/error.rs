//! The one error type of the ports, and the stable `errorType` names Lambda callers match
//! ([`ErrorType`], with its one conversion from each error).

use std::fmt;

/// The stable names a Lambda caller sees in `errorType`, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Bad input: the message names the field; nothing changed.
    InvalidRequest,
    /// Another rollout or operator got there first, or the command does not apply to the
    /// rollout as it is; nothing changed.
    Conflict,
    /// AWS failed, or the rollout kept changing: the same event can be sent again.
    Retryable,
    /// The authorisation policy does not let the caller do this (the message names the rule
    /// or guardrail); nothing changed.
    Forbidden,
}

impl ErrorType {
    /// The name as callers see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "InvalidRequest",
            ErrorType::Conflict => "Conflict",
            ErrorType::Retryable => "Retryable",
            ErrorType::Forbidden => "Forbidden",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong talking to AWS (or to a fake of it).
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The caller's input is wrong: the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// Something the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Another actor holds or changed the thing: a lock, a newer `seq`.
    #[error("{0}")]
    Conflict(String),
    /// The alias's `RevisionId` is not the one Glidepath last wrote.
    #[error("alias changed outside Glidepath: {0}")]
    Drift(String),
    /// An AWS call failed; trying again may work.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl PortError {
    /// Wraps an SDK error, keeping its cause and a readable message.
    pub fn aws<E>(operation: &'static str, error: E) -> PortError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let message = aws_smithy_types::error::display::DisplayErrorContext(&error).to_string();
        PortError::Aws {
            operation,
            message,
            source: Some(Box::new(error)),
        }
    }

    /// The stable name a Lambda caller sees in `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            PortError::Invalid(_) | PortError::NotFound(_) => ErrorType::InvalidRequest,
            PortError::Conflict(_) | PortError::Drift(_) => ErrorType::Conflict,
            PortError::Aws { .. } => ErrorType::Retryable,
        }
    }
}
