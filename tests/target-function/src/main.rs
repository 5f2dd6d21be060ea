//! The function the end-to-end tests and the demo roll out. Each published version freezes
//! its environment, so `BEHAVIOUR=good` / `BEHAVIOUR=bad` makes a good or a bad version:
//! a good one answers `{"ok": true, "version", "echo"}`, a bad one fails every request.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Why a bad version fails.
#[derive(Debug)]
struct BadVersion(String);

impl std::fmt::Display for BadVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "version {} is configured to fail (BEHAVIOUR=bad)",
            self.0
        )
    }
}

impl std::error::Error for BadVersion {}

impl From<BadVersion> for lambda_runtime::Diagnostic {
    fn from(error: BadVersion) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "BadVersion".into(),
            error_message: error.to_string(),
        }
    }
}

async fn handle(event: LambdaEvent<Value>, bad: bool, version: &str) -> Result<Value, BadVersion> {
    if bad {
        return Err(BadVersion(version.to_string()));
    }
    Ok(json!({"ok": true, "version": version, "echo": event.payload}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let bad = std::env::var("BEHAVIOUR").is_ok_and(|b| b == "bad");
    let version = std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_else(|_| "$LATEST".into());
    lambda_runtime::run(service_fn(|event| handle(event, bad, &version))).await
}
