//! A rollout request as users send it (CLI, direct invoke, EventBridge `Rollout Requested`,
//! CodePipeline `UserParameters`), checked field by field before anything touches AWS:
//!
//! ```json
//! {"function": "orders", "alias": "live", "targetVersion": "7", "strategy": "Canary10Percent5Minutes",
//!  "bake": "10m", "alarms": ["orders-new-version-errors"], "insufficientData": "ignore",
//!  "hooks": {"preTraffic": "glidepath-pre-traffic-hook", "postTraffic": "..."}, "idempotencyKey": "build-42",
//!  "analysis": {"metrics": ["errors"], "confidence": 0.99}}
//! ```
//!
//! `analysis` is checked by [`AnalysisSpec::from_json`].
//!
//! `"publish": true` instead of `targetVersion` publishes `$LATEST` first. What needs AWS to
//! check (the alias exists, the version is published, the alarms exist) is checked by `start`.

use crate::analysis::AnalysisSpec;
use crate::duration::parse_duration;
use crate::plan::Plan;
use crate::policy::Guardrail;
use crate::rollout::{Hooks, InsufficientData, RolloutSpec};
use crate::strategy::Strategy;
use serde::Deserialize;
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
    /// `"alarms": "auto"`: Glidepath creates per-version alarms from the analysis's limits
    /// ([`crate::managed_alarms`]) instead of watching named ones.
    pub managed_alarms: bool,
    pub insufficient_data: InsufficientData,
    pub hooks: Hooks,
    pub idempotency_key: Option<String>,
    /// The target version's expected `CodeSha256` (base64): the rollout is refused if the
    /// version holds other code.
    pub expect_code_sha256: Option<String>,
    /// Guardrails the request explicitly overrides (`"allow": ["downgrade"]`); the
    /// authorisation policy decides whether its actor may.
    pub allow: Vec<Guardrail>,
    /// Canary analysis of the new version against the old, at every health check.
    pub analysis: Option<AnalysisSpec>,
}

/// The request as it arrives: every known field as raw JSON, so that each is checked, and
/// refused by name, by its own validator below; anything else lands in `unknown`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    function: Option<Value>,
    alias: Option<Value>,
    target_version: Option<Value>,
    publish: Option<Value>,
    strategy: Option<Value>,
    bake: Option<Value>,
    alarms: Option<Value>,
    insufficient_data: Option<Value>,
    hooks: Option<Value>,
    idempotency_key: Option<Value>,
    expect_code_sha256: Option<Value>,
    allow: Option<Value>,
    analysis: Option<Value>,
    #[serde(flatten)]
    unknown: Map<String, Value>,
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
    "expectCodeSha256",
    "allow",
    "analysis",
];

impl RolloutRequest {
    /// Parses and checks every field, in the order of [`FIELDS`]; the first bad one is
    /// reported by name.
    pub fn from_json(value: &Value) -> Result<RolloutRequest, RequestError> {
        if !value.is_object() {
            return Err(bad("(request)", "expected a JSON object"));
        }
        let raw = RawRequest::deserialize(value)
            .map_err(|e| bad("(request)", format!("unreadable: {e}")))?;
        if let Some(unknown) = raw.unknown.keys().next() {
            return Err(bad(
                unknown,
                format!("is not a known field; known fields: {}", FIELDS.join(", ")),
            ));
        }
        let function = function_field(&raw.function)?;
        let alias = alias_field(&raw.alias)?;
        let target = target_field(&raw.target_version, &raw.publish)?;
        let (strategy, plan) = strategy_field(&raw.strategy)?;
        let bake_seconds = match text(&raw.bake, "bake")? {
            None => 0,
            Some(text) => parse_duration(&text).map_err(|e| bad("bake", e.to_string()))?,
        };
        let (alarms, managed_alarms) = match &raw.alarms {
            Some(Value::String(text)) if text == "auto" => (Vec::new(), true),
            other => (alarms_field(other)?, false),
        };
        let request = RolloutRequest {
            function,
            alias,
            target,
            strategy,
            plan,
            bake_seconds,
            alarms,
            managed_alarms,
            insufficient_data: insufficient_data_field(&raw.insufficient_data)?,
            hooks: hooks_field(&raw.hooks)?,
            idempotency_key: idempotency_key_field(&raw.idempotency_key)?,
            expect_code_sha256: code_sha256_field(&raw.expect_code_sha256)?,
            allow: allow_field(&raw.allow)?,
            analysis: match &raw.analysis {
                None | Some(Value::Null) => None,
                Some(block) => Some(AnalysisSpec::from_json(block)?),
            },
        };
        if request.managed_alarms {
            let limits = request
                .analysis
                .as_ref()
                .is_some_and(|a| a.max_error_rate.is_some() || a.max_p99_ms.is_some());
            if !limits {
                return Err(bad(
                    "alarms",
                    "\"auto\" needs an `analysis` with `maxErrorRate` or `maxP99Ms`: the limits the alarms Glidepath creates watch",
                ));
            }
        }
        Ok(request)
    }
}

/// A string field (trimmed); `None` when absent or null.
fn text(value: &Option<Value>, field: &str) -> Result<Option<String>, RequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_string())),
        Some(other) => Err(bad(field, format!("{other} is not a string"))),
    }
}

fn function_field(value: &Option<Value>) -> Result<String, RequestError> {
    let function = text(value, "function")?.ok_or_else(|| bad("function", "missing"))?;
    check_function_name(&function)?;
    Ok(function)
}

fn alias_field(value: &Option<Value>) -> Result<String, RequestError> {
    let alias = text(value, "alias")?.ok_or_else(|| bad("alias", "missing"))?;
    check_alias_name(&alias)?;
    Ok(alias)
}

fn target_field(version: &Option<Value>, publish: &Option<Value>) -> Result<Target, RequestError> {
    let publish = match publish {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => return Err(bad("publish", format!("{other} is not true or false"))),
    };
    match (text(version, "targetVersion")?, publish) {
        (Some(_), true) => Err(bad(
            "targetVersion",
            "give either `targetVersion` or `\"publish\": true`, not both",
        )),
        (None, false) => Err(bad(
            "targetVersion",
            "missing: give a published version number, or `\"publish\": true` to publish $LATEST",
        )),
        (None, true) => Ok(Target::PublishLatest),
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
            Ok(Target::Version(version))
        }
    }
}

/// The strategy as given (a name, or JSON text) and its plan.
fn strategy_field(value: &Option<Value>) -> Result<(String, Plan), RequestError> {
    let strategy = match value {
        None | Some(Value::Null) => {
            return Err(bad("strategy", "missing, e.g. \"Canary10Percent5Minutes\""));
        }
        Some(Value::String(text)) => text.clone(),
        Some(object @ Value::Object(_)) => object.to_string(),
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
    Ok((strategy, plan))
}

fn alarms_field(value: &Option<Value>) -> Result<Vec<String>, RequestError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(
                "alarms",
                format!("{other} is not a list of alarm names, or \"auto\""),
            ));
        }
    };
    let mut alarms = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = format!("alarms[{index}]");
        let name = item
            .as_str()
            .ok_or_else(|| bad(&field, format!("{item} is not an alarm name")))?;
        if name.is_empty() || name.len() > 255 {
            return Err(bad(&field, "an alarm name has 1 to 255 characters"));
        }
        crate::alarm_ref::parse(name).map_err(|problem| bad(&field, problem))?;
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
    Ok(alarms)
}

fn allow_field(value: &Option<Value>) -> Result<Vec<Guardrail>, RequestError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(
                "allow",
                format!("{other} is not a list of guardrail names"),
            ));
        }
    };
    let mut allow = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let guardrail = item.as_str().and_then(Guardrail::parse).ok_or_else(|| {
            bad(
                &format!("allow[{index}]"),
                format!("{item} is not one of \"noHealthSignal\", \"largeFirstStep\", \"allAtOnce\", \"downgrade\""),
            )
        })?;
        if !allow.contains(&guardrail) {
            allow.push(guardrail);
        }
    }
    allow.sort();
    Ok(allow)
}

fn insufficient_data_field(value: &Option<Value>) -> Result<InsufficientData, RequestError> {
    match text(value, "insufficientData")?.as_deref() {
        None | Some("ignore") => Ok(InsufficientData::Ignore),
        Some("breach") => Ok(InsufficientData::Breach),
        Some(other) => Err(bad(
            "insufficientData",
            format!("`{other}` is not \"ignore\" or \"breach\""),
        )),
    }
}

fn hooks_field(value: &Option<Value>) -> Result<Hooks, RequestError> {
    let hooks = match value {
        None | Some(Value::Null) => return Ok(Hooks::default()),
        Some(Value::Object(hooks)) => hooks,
        Some(other) => {
            return Err(bad(
                "hooks",
                format!("{other} is not an object such as {{\"preTraffic\": \"my-smoke-test\"}}"),
            ));
        }
    };
    const KNOWN: [&str; 6] = [
        "preTraffic",
        "postTraffic",
        "beforeShift",
        "onRollback",
        "answer",
        "timeout",
    ];
    if let Some(unknown) = hooks.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad(
            &format!("hooks.{unknown}"),
            format!("is not a known hook; known hooks: {}", KNOWN.join(", ")),
        ));
    }
    let hook = |key: &str| -> Result<Option<String>, RequestError> {
        let field = format!("hooks.{key}");
        let name = text(&hooks.get(key).cloned(), &field)?;
        if let Some(name) = &name {
            check_function_name(name).map_err(|e| bad(&field, e.problem))?;
        }
        Ok(name)
    };
    let callback = match hooks.get("answer") {
        None | Some(Value::Null) => false,
        Some(Value::String(answer)) if answer == "return" => false,
        Some(Value::String(answer)) if answer == "callback" => true,
        Some(other) => {
            return Err(bad(
                "hooks.answer",
                format!(
                    "{other} is not \"return\" (the hook answers within its invocation) or \"callback\" (it answers later through step's hookResult)"
                ),
            ));
        }
    };
    let timeout_seconds = match hooks.get("timeout") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let seconds = crate::duration::parse_duration(text)
                .map_err(|e| bad("hooks.timeout", e.to_string()))?;
            if !(60..=crate::duration::MAX_DURATION_SECONDS).contains(&seconds) {
                return Err(bad(
                    "hooks.timeout",
                    "must be at least 1m (and within the longest duration Glidepath takes)",
                ));
            }
            Some(seconds)
        }
        Some(other) => {
            return Err(bad(
                "hooks.timeout",
                format!("{other} is not a duration string such as \"30m\" or \"2h\""),
            ));
        }
    };
    if timeout_seconds.is_some() && !callback {
        return Err(bad(
            "hooks.timeout",
            "applies to callback hooks only; add \"answer\": \"callback\" (a hook that answers within its invocation has that invocation's time)",
        ));
    }
    Ok(Hooks {
        pre_traffic: hook("preTraffic")?,
        post_traffic: hook("postTraffic")?,
        before_shift: hook("beforeShift")?,
        on_rollback: hook("onRollback")?,
        callback,
        timeout_seconds,
    })
}

/// A SHA-256 in base64, as Lambda's `CodeSha256` gives it (44 characters ending in `=`).
fn code_sha256_field(value: &Option<Value>) -> Result<Option<String>, RequestError> {
    let sha = text(value, "expectCodeSha256")?;
    if let Some(sha) = &sha {
        let base64 = |c: char| c.is_ascii_alphanumeric() || "+/".contains(c);
        let (body, pad) = sha.split_at(sha.len().min(43));
        if sha.len() != 44 || pad != "=" || !body.chars().all(base64) {
            return Err(bad(
                "expectCodeSha256",
                format!(
                    "`{sha}` is not a base64 SHA-256 such as Lambda's CodeSha256 (44 characters ending in =)"
                ),
            ));
        }
    }
    Ok(sha)
}

fn idempotency_key_field(value: &Option<Value>) -> Result<Option<String>, RequestError> {
    let key = text(value, "idempotencyKey")?;
    if let Some(key) = &key {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.:/#".contains(c);
        if key.is_empty() || key.len() > 128 || !key.chars().all(allowed) {
            return Err(bad(
                "idempotencyKey",
                "has 1 to 128 characters among letters, digits and - _ . : / #",
            ));
        }
    }
    Ok(key)
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
            analysis: self.analysis.clone(),
            managed_alarms: Vec::new(),
            idempotency_key: self.idempotency_key.clone(),
            function_arn: None,
            requested_by: None,
            authorized_by: None,
            overridden: Vec::new(),
        }
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
