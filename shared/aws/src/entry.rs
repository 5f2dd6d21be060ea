//! How a request reached an operator-facing function (`start`, `step`, `rollback`) and who
//! sent it, and how it is answered.
//!
//! - Through the function's URL (`AuthType: AWS_IAM`): Lambda has checked the caller's SigV4
//!   signature and puts the caller's IAM ARN in `requestContext.authorizer.iam.userArn`; that
//!   ARN is the [`Actor`]. The request is the JSON body (a `POST`). The answer is an HTTP
//!   response whose status says what the `errorType` would have said ([`respond`]).
//! - Invoked directly: Lambda passes no caller identity, so the actor is
//!   [`Actor::direct_invoke`], which the authorisation policy may allow or not. (`start`
//!   replaces it with the sending account for an EventBridge event.)
//!
//! A function URL request without an authenticated caller (a URL left with `AuthType: NONE`)
//! is refused: identity is never taken from anything the caller wrote.

use crate::error::ErrorType;
use crate::function::FunctionError;
use crate::ports::RolloutStore;
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use glidepath_core::{Action, Actor, Policy, Rollout};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::info;

/// Which way a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The function's URL: answered as HTTP.
    FunctionUrl,
    /// A direct invoke (or EventBridge, Scheduler): answered as the function's result.
    Invoke,
}

impl Entry {
    /// Whether `event` is a function URL request.
    pub fn of(event: &Value) -> Entry {
        let http = event
            .get("requestContext")
            .and_then(|context| context.get("http"));
        if http.is_some() && event.get("rawPath").is_some() {
            Entry::FunctionUrl
        } else {
            Entry::Invoke
        }
    }
}

/// The actor and the request inside `event`.
pub fn identify(event: Value) -> Result<(Actor, Value), FunctionError> {
    if Entry::of(&event) == Entry::Invoke {
        return Ok((Actor::direct_invoke(), event));
    }
    let request: LambdaFunctionUrlRequest = serde_json::from_value(event)
        .map_err(|e| FunctionError::invalid(format!("malformed function URL request: {e}")))?;
    let caller = request
        .request_context
        .authorizer
        .as_ref()
        .and_then(|authorizer| authorizer.iam.as_ref())
        .and_then(|iam| iam.user_arn.clone())
        .filter(|arn| arn.starts_with("arn:"));
    let Some(caller) = caller else {
        return Err(FunctionError::forbidden(
            "the function URL request carries no authenticated IAM caller: Glidepath's URLs must use AuthType AWS_IAM",
        ));
    };
    let method = request.request_context.http.method.as_deref().unwrap_or("");
    if method != "POST" {
        return Err(FunctionError::invalid(format!(
            "method {method}: send the request as the JSON body of a POST"
        )));
    }
    let body = request.body.unwrap_or_default();
    let bytes = if request.is_base64_encoded {
        aws_smithy_types::base64::decode(&body)
            .map_err(|e| FunctionError::invalid(format!("body: not valid base64: {e}")))?
    } else {
        body.into_bytes()
    };
    let payload: Value = serde_json::from_slice(&bytes)
        .map_err(|e| FunctionError::invalid(format!("body: not a JSON request: {e}")))?;
    Ok((Actor::iam(caller), payload))
}

/// The answer for `entry`: the result itself for an invoke; for a URL, an HTTP response with
/// the result (200) or `{"errorType", "errorMessage"}` and the status its type maps to.
pub fn respond<T: Serialize>(
    entry: Entry,
    result: Result<T, FunctionError>,
) -> Result<Value, FunctionError> {
    let value = match result {
        Ok(value) => serde_json::to_value(value)
            .map_err(|e| FunctionError::retryable(format!("could not encode the answer: {e}")))?,
        Err(error) if entry == Entry::Invoke => return Err(error),
        Err(error) => {
            let status = match error.error_type {
                t if t == ErrorType::InvalidRequest.as_str() => 400,
                t if t == ErrorType::Forbidden.as_str() => 403,
                t if t == ErrorType::Conflict.as_str() => 409,
                _ => 503,
            };
            return Ok(http(
                status,
                &json!({"errorType": error.error_type, "errorMessage": error.message}),
            ));
        }
    };
    Ok(match entry {
        Entry::Invoke => value,
        Entry::FunctionUrl => http(200, &value),
    })
}

/// Loads rollout `id` and checks that `actor` may do `action` to it (its function and alias),
/// before anything changes: `Forbidden` naming the rule when not, `InvalidRequest` for an
/// unknown rollout. The loaded record is returned for the command to run on
/// (`Runner::run_on`), so the command costs one read, not two.
pub async fn load_authorized<S: RolloutStore>(
    store: &S,
    policy: &Policy,
    actor: &Actor,
    action: Action,
    id: &str,
) -> Result<Rollout, FunctionError> {
    let rollout = store
        .load(id)
        .await?
        .ok_or_else(|| FunctionError::invalid(format!("`rolloutId`: no rollout {id}")))?;
    authorize(policy, actor, action, &rollout)?;
    Ok(rollout)
}

/// What an operator's command is addressed to.
#[derive(Debug)]
pub enum CommandTarget {
    /// One rollout.
    Rollout(Box<Rollout>),
    /// A release, addressed by its id or by any member's: every member, in order.
    Release(Vec<Rollout>),
}

/// Loads what `id` names (a rollout, a release id, or a member of a release, which stands
/// for its release) and checks that `actor` may do `action` to it: to every member's alias
/// for a release, refused as a whole if any is refused.
pub async fn load_target<S: RolloutStore>(
    store: &S,
    policy: &Policy,
    actor: &Actor,
    action: Action,
    id: &str,
) -> Result<CommandTarget, FunctionError> {
    // A release has no record of its own: its id leads to its first member's.
    let rollout = match store.load(id).await? {
        Some(rollout) => Some(rollout),
        None => {
            store
                .load(&glidepath_core::release::member_id(id, 0))
                .await?
        }
    }
    .ok_or_else(|| FunctionError::invalid(format!("`rolloutId`: no rollout or release {id}")))?;
    let Some(release) = rollout.release.clone() else {
        authorize(policy, actor, action, &rollout)?;
        return Ok(CommandTarget::Rollout(Box::new(rollout)));
    };
    let mut members = Vec::with_capacity(release.members.len());
    for member_id in &release.members {
        let member = store.load(member_id).await?.ok_or_else(|| {
            FunctionError::retryable(format!(
                "member {member_id} of release {} is missing",
                release.id
            ))
        })?;
        authorize(policy, actor, action, &member)?;
        members.push(member);
    }
    Ok(CommandTarget::Release(members))
}

/// Whether `actor` may do `action` to `rollout`'s alias (logged with the rule that allowed it).
pub fn authorize(
    policy: &Policy,
    actor: &Actor,
    action: Action,
    rollout: &Rollout,
) -> Result<glidepath_core::Grant, glidepath_core::Forbidden> {
    let grant = policy.authorize(
        actor,
        action,
        rollout.spec.function_key(),
        &rollout.spec.alias,
    )?;
    info!(rollout_id = %rollout.id, actor = %actor, action = action.as_str(), rule = %grant.rule, "authorised");
    Ok(grant)
}

fn http(status: u16, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glidepath_core::Channel;

    fn url_request() -> Value {
        serde_json::from_str(include_str!("fixtures/function-url-iam-request.json")).unwrap()
    }

    #[test]
    fn a_url_request_is_its_iam_caller_and_its_body() {
        let (actor, payload) = identify(url_request()).unwrap();
        assert_eq!(
            actor,
            Actor::iam("arn:aws:sts::123456789012:assumed-role/oncall/alice")
        );
        assert_eq!(actor.via, Channel::FunctionUrl);
        assert_eq!(payload, json!({"rolloutId": "r-1", "command": "promote"}));

        let mut encoded = url_request();
        encoded["body"] = json!(aws_smithy_types::base64::encode(r#"{"rolloutId": "r-2"}"#));
        encoded["isBase64Encoded"] = json!(true);
        assert_eq!(identify(encoded).unwrap().1, json!({"rolloutId": "r-2"}));
    }

    #[test]
    fn a_direct_invoke_has_no_identity_beyond_iam() {
        let event = json!({"rolloutId": "r-1", "command": "promote"});
        let (actor, payload) = identify(event.clone()).unwrap();
        assert_eq!(actor, Actor::direct_invoke());
        assert_eq!(payload, event);
    }

    #[test]
    fn a_url_request_without_an_authenticated_caller_is_forbidden() {
        for strip in ["authorizer", "iam", "userArn"] {
            let mut request = url_request();
            let context = &mut request["requestContext"];
            match strip {
                "authorizer" => context["authorizer"] = Value::Null,
                "iam" => context["authorizer"]["iam"] = Value::Null,
                _ => context["authorizer"]["iam"]["userArn"] = json!(""),
            }
            let error = identify(request).unwrap_err();
            assert_eq!(error.error_type, "Forbidden", "{strip}");
            assert!(error.message.contains("AuthType AWS_IAM"), "{error}");
        }
        let mut get = url_request();
        get["requestContext"]["http"]["method"] = json!("GET");
        assert_eq!(identify(get).unwrap_err().error_type, "InvalidRequest");
        let mut garbage = url_request();
        garbage["body"] = json!("{not json");
        assert!(
            identify(garbage)
                .unwrap_err()
                .message
                .starts_with("body: not a JSON request")
        );
    }

    #[test]
    fn url_answers_are_http_responses() {
        let ok = respond(Entry::FunctionUrl, Ok(json!({"status": "Shifting"}))).unwrap();
        assert_eq!(ok["statusCode"], 200);
        assert_eq!(ok["body"], r#"{"status":"Shifting"}"#);
        for (error, status) in [
            (FunctionError::invalid("bad"), 400),
            (FunctionError::forbidden("no"), 403),
            (FunctionError::conflict("busy"), 409),
            (FunctionError::retryable("later"), 503),
        ] {
            let answer = respond::<Value>(Entry::FunctionUrl, Err(error.clone())).unwrap();
            assert_eq!(answer["statusCode"], status);
            let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
            assert_eq!(body["errorType"], error.error_type);
            assert_eq!(
                respond::<Value>(Entry::Invoke, Err(error.clone())),
                Err(error)
            );
        }
        assert_eq!(
            respond(Entry::Invoke, Ok(json!({"a": 1}))).unwrap(),
            json!({"a": 1})
        );
    }
}
