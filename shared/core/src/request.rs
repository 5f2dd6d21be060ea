//! A rollout request as users send it (CLI, direct invoke, EventBridge `Rollout Requested`,
//! CodePipeline `UserParameters`), checked field by field before anything touches AWS:
//!
//! ```json
//! {"function": "orders", "alias": "live", "targetVersion": "7", "strategy": "Canary10Percent5Minutes",
//!  "bake": "10m", "alarms": ["orders-new-version-errors"], "insufficientData": "ignore",
//!  "hooks": {"preTraffic": "glidepath-pre-traffic-hook", "postTraffic": "..."}, "idempotencyKey": "build-42"}
//! ```
//!
//! `"publish": true` instead of `targetVersion` publishes `$LATEST` first. What needs AWS to
//! check (the alias exists, the version is published, the alarms exist) is checked by `start`.

use crate::duration::parse_duration;
use crate::plan::Plan;
use crate::rollout::{Hooks, InsufficientData, RolloutSpec};
use crate::strategy::Strategy;
use serde_json::{Map, Value};

/// Most alarms one rollout may watch (all are read in one `DescribeAlarms` call, and removed
/// in the same transaction that ends the rollout).
pub const MAX_ALARMS: usize = 20;

/// A bad field in a rollout request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {problem}")]
pub struct RequestError {
    pub field: String,
    pub problem: String,
}

fn bad(field: &str, problem: impl Into<String>) -> RequestError {
    RequestError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// Which version to roll out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Version(String),
    /// Publish `$LATEST` and roll out the version that creates.
    PublishLatest,
}

/// A request whose fields are all well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutRequest {
    pub function: String,
    pub alias: String,
    pub target: Target,
    /// The strategy as given (a name, or JSON text).
    pub strategy: String,
    pub plan: Plan,
    pub bake_seconds: u64,
    pub alarms: Vec<String>,
    pub insufficient_data: InsufficientData,
    pub hooks: Hooks,
    pub idempotency_key: Option<String>,
}

const FIELDS: &[&str] = &[
    "function",
    "alias",
    "targetVersion",
    "publish",
    "strategy",
    "bake",
    "alarms",
    "insufficientData",
    "hooks",
    "idempotencyKey",
];

impl RolloutRequest {
    /// Parses and checks every field; the first bad one is reported by name.
    pub fn from_json(value: &Value) -> Result<RolloutRequest, RequestError> {
        let object = value
            .as_object()
            .ok_or_else(|| bad("(request)", "expected a JSON object"))?;
        if let Some(unknown) = object.keys().find(|key| !FIELDS.contains(&key.as_str())) {
            return Err(bad(
                unknown,
                format!("is not a known field; known fields: {}", FIELDS.join(", ")),
            ));
        }
        let function = required_string(object, "function")?;
        check_function_name(&function)?;
        let alias = required_string(object, "alias")?;
        check_alias_name(&alias)?;

        let publish = match object.get("publish") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(other) => return Err(bad("publish", format!("{other} is not true or false"))),
        };
        let target = match (optional_string(object, "targetVersion")?, publish) {
            (Some(_), true) => {
                return Err(bad(
                    "targetVersion",
                    "give either `targetVersion` or `\"publish\": true`, not both",
                ));
            }
            (None, false) => {
                return Err(bad(
                    "targetVersion",
                    "missing: give a published version number, or `\"publish\": true` to publish $LATEST",
                ));
            }
            (None, true) => Target::PublishLatest,
            (Some(version), false) => {
                if version == "$LATEST" {
                    return Err(bad(
                        "targetVersion",
                        "$LATEST is mutable and an alias cannot route to it: give a published version, or `\"publish\": true`",
                    ));
                }
                if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(
                        "targetVersion",
                        format!("`{version}` is not a published version number such as \"7\""),
                    ));
                }
                Target::Version(version)
            }
        };

        let strategy = match object.get("strategy") {
            None | Some(Value::Null) => {
                return Err(bad("strategy", "missing, e.g. \"Canary10Percent5Minutes\""));
            }
            Some(Value::String(text)) => text.clone(),
            Some(Value::Object(_)) => object["strategy"].to_string(),
            Some(other) => {
                return Err(bad(
                    "strategy",
                    format!("{other} is not a name or a JSON strategy object"),
                ));
            }
        };
        let plan = Strategy::parse(&strategy)
            .map_err(|e| bad("strategy", e.to_string()))?
            .plan();

        let bake_seconds = match optional_string(object, "bake")? {
            None => 0,
            Some(text) => parse_duration(&text).map_err(|e| bad("bake", e.to_string()))?,
        };

        let alarms = match object.get("alarms") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut alarms = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let field = format!("alarms[{index}]");
                    let name = item
                        .as_str()
                        .ok_or_else(|| bad(&field, format!("{item} is not an alarm name")))?;
                    if name.is_empty() || name.len() > 255 {
                        return Err(bad(&field, "an alarm name has 1 to 255 characters"));
                    }
                    if alarms.iter().any(|known: &String| known == name) {
                        return Err(bad(&field, format!("`{name}` is listed twice")));
                    }
                    alarms.push(name.to_string());
                }
                if alarms.len() > MAX_ALARMS {
                    return Err(bad(
                        "alarms",
                        format!(
                            "has {} alarms; at most {MAX_ALARMS} are allowed",
                            alarms.len()
                        ),
                    ));
                }
                alarms
            }
            Some(other) => {
                return Err(bad(
                    "alarms",
                    format!("{other} is not a list of alarm names"),
                ));
            }
        };

        let insufficient_data = match optional_string(object, "insufficientData")?.as_deref() {
            None | Some("ignore") => InsufficientData::Ignore,
            Some("breach") => InsufficientData::Breach,
            Some(other) => {
                return Err(bad(
                    "insufficientData",
                    format!("`{other}` is not \"ignore\" or \"breach\""),
                ));
            }
        };

        let hooks = match object.get("hooks") {
            None | Some(Value::Null) => Hooks::default(),
            Some(Value::Object(hooks)) => {
                if let Some(unknown) = hooks
                    .keys()
                    .find(|k| *k != "preTraffic" && *k != "postTraffic")
                {
                    return Err(bad(
                        &format!("hooks.{unknown}"),
                        "is not a known hook; known hooks: preTraffic, postTraffic",
                    ));
                }
                let hook = |key: &str| -> Result<Option<String>, RequestError> {
                    let field = format!("hooks.{key}");
                    let name = optional_string(hooks, key).map_err(|e| bad(&field, e.problem))?;
                    if let Some(name) = &name {
                        check_function_name(name).map_err(|e| bad(&field, e.problem))?;
                    }
                    Ok(name)
                };
                Hooks {
                    pre_traffic: hook("preTraffic")?,
                    post_traffic: hook("postTraffic")?,
                }
            }
            Some(other) => {
                return Err(bad(
                    "hooks",
                    format!(
                        "{other} is not an object such as {{\"preTraffic\": \"my-smoke-test\"}}"
                    ),
                ));
            }
        };

        let idempotency_key = optional_string(object, "idempotencyKey")?;
        if let Some(key) = &idempotency_key {
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.:/#".contains(c);
            if key.is_empty() || key.len() > 128 || !key.chars().all(allowed) {
                return Err(bad(
                    "idempotencyKey",
                    "has 1 to 128 characters among letters, digits and - _ . : / #",
                ));
            }
        }

        Ok(RolloutRequest {
            function,
            alias,
            target,
            strategy,
            plan,
            bake_seconds,
            alarms,
            insufficient_data,
            hooks,
            idempotency_key,
        })
    }
}

impl RolloutRequest {
    /// The record's spec, once the alias's current version and the target are known.
    pub fn spec(&self, current_version: &str, target_version: &str) -> RolloutSpec {
        RolloutSpec {
            function: self.function.clone(),
            alias: self.alias.clone(),
            current_version: current_version.to_string(),
            target_version: target_version.to_string(),
            strategy: self.strategy.clone(),
            bake_seconds: self.bake_seconds,
            alarms: self.alarms.clone(),
            insufficient_data: self.insufficient_data,
            hooks: self.hooks.clone(),
            idempotency_key: self.idempotency_key.clone(),
            function_arn: None,
        }
    }
}

fn required_string(object: &Map<String, Value>, key: &str) -> Result<String, RequestError> {
    optional_string(object, key)?.ok_or_else(|| bad(key, "missing"))
}

fn optional_string(object: &Map<String, Value>, key: &str) -> Result<Option<String>, RequestError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_string())),
        Some(other) => Err(bad(key, format!("{other} is not a string"))),
    }
}

/// A function name, or its ARN (unqualified: the alias says which traffic to move).
fn check_function_name(name: &str) -> Result<(), RequestError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_:".contains(c);
    if name.is_empty() || name.len() > 170 || !name.chars().all(allowed) {
        return Err(bad(
            "function",
            format!("`{name}` is not a Lambda function name or ARN"),
        ));
    }
    Ok(())
}

fn check_alias_name(alias: &str) -> Result<(), RequestError> {
    if alias == "$LATEST" {
        return Err(bad("alias", "$LATEST is not an alias"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_".contains(c);
    if alias.is_empty()
        || alias.len() > 128
        || !alias.chars().all(allowed)
        || alias.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad(
            "alias",
            format!(
                "`{alias}` is not an alias name (1 to 128 letters, digits, - or _, not only digits)"
            ),
        ));
    }
    Ok(())
}
