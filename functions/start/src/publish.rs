//! Rollouts on publish: the CloudTrail record of a Lambda `PublishVersion` (or an
//! `UpdateFunctionCode` that publishes), delivered by an EventBridge rule, starts a rollout
//! of the new version when the function opted in with tags
//! ([`glidepath_core::publish_tags`]).
//!
//! - A function without the `glidepath:alias` tag is ignored; so is a call that failed
//!   (`errorCode`), an `UpdateFunctionCode` that published nothing, and a version already
//!   being rolled out on that alias (`"publish": true` publishes through `PublishVersion`
//!   itself). `UpdateAlias` is never a trigger: it is how Glidepath moves traffic.
//! - The request built from the tags goes through `start`'s own checks, with the version's
//!   `CodeSha256` from the event as `expectCodeSha256` and `publish-<version>` as the
//!   idempotency key. A record delivered again after its rollout exists is ignored by the
//!   check above; the key covers two deliveries that arrive together (both pass that check
//!   before either rollout is created, and the second finds the first's).
//! - Nobody waits for an answer here, so a refusal (a bad tag, an invalid request, a held
//!   alias, the policy) is published as a `Glidepath Rollout Refused` event saying why, and
//!   the function fails with the same error (so it also lands in the dead-letter queue).
//!   Nothing moves.
//! - The actor is `publish:<account>`; the publisher's ARN from the record is logged only
//!   (see [`glidepath_core::Channel::Publish`]).

use crate::handler::{Started, start_request};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use glidepath_aws::function::{FunctionError, Invocation};
use glidepath_aws::ports::{AliasRouter, Notifier, Ports, Refusal, RolloutStore};
use glidepath_aws::{ErrorType, PortError};
use glidepath_core::publish_tags::request_from_tags;
use glidepath_core::{Actor, Policy};
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

/// The EventBridge `detail-type` of an API call recorded by CloudTrail.
pub const CLOUDTRAIL_API_CALL: &str = "AWS API Call via CloudTrail";
/// The EventBridge `source` of Lambda's CloudTrail events.
pub const LAMBDA_SOURCE: &str = "aws.lambda";

/// What a publish event led to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub function: String,
    pub version: String,
    /// `started`, or `ignored` (with the reason).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<Started>,
}

/// Whether `event` is Lambda's CloudTrail record of an API call, delivered by EventBridge.
pub fn is_cloudtrail_event(event: &Value) -> bool {
    event.get("detail-type").and_then(Value::as_str) == Some(CLOUDTRAIL_API_CALL)
}

/// The published version an event names: (unqualified function ARN, version, CodeSha256).
struct Version {
    function: String,
    version: String,
    code_sha256: Option<String>,
}

/// Reads the record; `Ok(Err(reason))` for a call that published nothing.
fn published_version(
    event: &EventBridgeEvent<Value>,
    our_account: Option<&str>,
) -> Result<Result<Version, String>, FunctionError> {
    if event.source != LAMBDA_SOURCE {
        return Err(FunctionError::invalid(format!(
            "`source`: `{}` is not `{LAMBDA_SOURCE}`",
            event.source
        )));
    }
    if let (Some(ours), Some(theirs)) = (our_account, event.account.as_deref()) {
        if ours != theirs {
            return Err(FunctionError::invalid(format!(
                "`account`: the event comes from account {theirs}; this Glidepath rolls out its own account's functions ({ours}) only"
            )));
        }
    }
    let detail = &event.detail;
    let name = detail
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let publishing_update = name.starts_with("UpdateFunctionCode")
        && detail.pointer("/requestParameters/publish") == Some(&Value::Bool(true));
    if !name.starts_with("PublishVersion") && !publishing_update {
        if name.starts_with("UpdateFunctionCode") {
            return Ok(Err("UpdateFunctionCode without publish".into()));
        }
        return Err(FunctionError::invalid(format!(
            "`detail.eventName`: `{name}` does not publish a version; only PublishVersion (or UpdateFunctionCode with publish) starts a rollout"
        )));
    }
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Ok(Err(format!("the call failed ({code})")));
    }
    let response = detail.get("responseElements").unwrap_or(&Value::Null);
    let text = |field: &str| response.get(field).and_then(Value::as_str);
    let (Some(arn), Some(version)) = (text("functionArn"), text("version")) else {
        return Err(FunctionError::invalid(
            "`detail.responseElements`: no `functionArn` and `version` of a published version",
        ));
    };
    if version == "$LATEST" {
        return Ok(Err("no version was published ($LATEST)".into()));
    }
    let function = glidepath_core::unqualified_function_arn(arn).to_string();
    Ok(Ok(Version {
        function,
        version: version.to_string(),
        code_sha256: text("codeSha256").map(str::to_string),
    }))
}

/// Handles Lambda's CloudTrail event of a published version.
pub async fn on_publish<P: Ports>(
    ports: &P,
    event: Value,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
) -> Result<Published, FunctionError> {
    let event: EventBridgeEvent<Value> = serde_json::from_value(event)
        .map_err(|e| FunctionError::invalid(format!("malformed CloudTrail event: {e}")))?;
    let publisher = event
        .detail
        .pointer("/userIdentity/arn")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let found = match published_version(&event, invocation.account.as_deref())? {
        Ok(found) => found,
        Err(reason) => {
            return Ok(Published {
                function: String::new(),
                version: String::new(),
                outcome: "ignored",
                reason: Some(reason),
                started: None,
            });
        }
    };
    let ignored = |reason: String| {
        info!(function = %found.function, version = %found.version, reason = %reason, "published version ignored");
        Ok(Published {
            function: found.function.clone(),
            version: found.version.clone(),
            outcome: "ignored",
            reason: Some(reason),
            started: None,
        })
    };
    let tags = match ports.router().function_tags(&found.function).await {
        Ok(tags) => tags,
        Err(PortError::NotFound(_)) => return ignored("the function no longer exists".into()),
        Err(error) => return Err(error.into()),
    };
    let mut body = match request_from_tags(&tags, &found.function, &found.version) {
        Ok(Some(body)) => body,
        Ok(None) => return ignored("no glidepath:alias tag: the function has not opted in".into()),
        Err(error) => {
            let error = FunctionError::invalid(error.to_string());
            return Err(refuse(ports, &found, error).await);
        }
    };
    let alias = body["alias"].as_str().unwrap_or_default().to_string();
    // `start`'s `"publish": true` publishes through PublishVersion too: that version is this
    // alias's rollout already, running or finished (a rolled-back version is not tried again
    // because CloudTrail's record of its publication came late).
    if let Some(earlier) = ports
        .store()
        .rollouts_for_alias(&found.function, &alias)
        .await?
        .into_iter()
        .find(|r| r.spec.target_version == found.version)
    {
        return ignored(format!(
            "rollout {} already rolled out this version ({})",
            earlier.id,
            earlier.status.as_str()
        ));
    }
    body["idempotencyKey"] = Value::from(format!("publish-{}", found.version));
    if let Some(sha) = &found.code_sha256 {
        body["expectCodeSha256"] = Value::from(sha.clone());
    }
    let account = event.account.as_deref().unwrap_or("unknown");
    info!(function = %found.function, version = %found.version, publisher = %publisher, "published version: starting a rollout");
    match start_request(
        ports,
        &body,
        Actor::publish(account),
        invocation,
        policy,
        alarm_prefix,
    )
    .await
    {
        Ok(started) => Ok(Published {
            function: found.function,
            version: found.version,
            outcome: "started",
            reason: None,
            started: Some(started),
        }),
        Err(error) if error.error_type == ErrorType::Retryable.as_str() => Err(error),
        Err(error) => Err(refuse(ports, &found, error).await),
    }
}

/// Publishes why a published version was not rolled out, and returns the error.
async fn refuse<P: Ports>(ports: &P, found: &Version, error: FunctionError) -> FunctionError {
    warn!(function = %found.function, version = %found.version, error = %error.message, "published version refused");
    let refusal = Refusal {
        function: found.function.clone(),
        version: found.version.clone(),
        trigger: "publish".into(),
        error_type: error.error_type.to_string(),
        reason: error.message.clone(),
    };
    if let Err(notify) = ports.notifier().refused(&refusal).await {
        warn!(error = %notify, "could not publish the refusal");
    }
    error
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
