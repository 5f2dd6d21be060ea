//! The one error type of the ports, and how it maps to the stable `error_type` names Lambda
//! callers can match.

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
    pub fn error_type(&self) -> &'static str {
        match self {
            PortError::Invalid(_) | PortError::NotFound(_) => "InvalidRequest",
            PortError::Conflict(_) | PortError::Drift(_) => "Conflict",
            PortError::Aws { .. } => "Retryable",
        }
    }
}
