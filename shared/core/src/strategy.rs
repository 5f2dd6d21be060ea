//! Strategies: how a rollout moves traffic. Parsed from a CodeDeploy predefined config name
//! (`Canary10Percent5Minutes`, with or without the `CodeDeployDefault.Lambda` prefix) or from
//! the JSON forms:
//!
//! ```json
//! {"type": "canary", "percent": 10, "interval": "5m"}
//! {"type": "canary", "percent": 0.5, "interval": "10m"}
//! {"type": "linear", "percent": 10, "interval": "90s"}
//! {"type": "steps", "steps": [{"weight": 5, "bake": "2m"}, {"pause": true}, {"weight": 50, "bake": "10m"}]}
//! {"type": "allAtOnce"}
//! ```
//!
//! Percents and weights take up to two decimals (0.01 % steps, [`Weight`]). Intervals must be
//! at least one second. AWS EventBridge Scheduler, which delivers the ticks
//! in production, has a precision of about 60 s, so shorter intervals are only exact in
//! `glidepath simulate` and on the local emulator.

use crate::duration::{DurationError, parse_duration};

/// The longest strategy text accepted (it is stored in the rollout record, a DynamoDB item).
pub const MAX_STRATEGY_BYTES: usize = 4_096;
use crate::plan::{MAX_PLAN_STEPS, Plan, PlanStep};
use crate::weight::Weight;
use serde_json::{Map, Value};

/// The prefix CodeDeploy puts before its predefined Lambda deployment configs.
pub const CODEDEPLOY_PREFIX: &str = "CodeDeployDefault.Lambda";

/// CodeDeploy's predefined Lambda deployment configurations, without the prefix.
pub const PREDEFINED: &[(&str, Strategy)] = &[
    ("Canary10Percent5Minutes", Strategy::canary(TEN, 5 * 60)),
    ("Canary10Percent10Minutes", Strategy::canary(TEN, 10 * 60)),
    ("Canary10Percent15Minutes", Strategy::canary(TEN, 15 * 60)),
    ("Canary10Percent30Minutes", Strategy::canary(TEN, 30 * 60)),
    ("Linear10PercentEvery1Minute", Strategy::linear(TEN, 60)),
    (
        "Linear10PercentEvery2Minutes",
        Strategy::linear(TEN, 2 * 60),
    ),
    (
        "Linear10PercentEvery3Minutes",
        Strategy::linear(TEN, 3 * 60),
    ),
    (
        "Linear10PercentEvery10Minutes",
        Strategy::linear(TEN, 10 * 60),
    ),
    ("AllAtOnce", Strategy::AllAtOnce),
];

const TEN: Weight = Weight::percent(10);

/// How traffic moves from the current version to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// 100 % at once.
    AllAtOnce,
    /// `percent` %, then 100 % after `interval_seconds`.
    Canary {
        percent: Weight,
        interval_seconds: u64,
    },
    /// `percent` % more every `interval_seconds` until 100 %.
    Linear {
        percent: Weight,
        interval_seconds: u64,
    },
    /// An explicit list; a final 100 % is implied when the list does not end there.
    Steps(Vec<StepSpec>),
}

/// One entry of an explicit step list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSpec {
    Shift { weight: Weight, bake_seconds: u64 },
    Pause,
}

/// Why a strategy was refused. Every message names the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    #[error(
        "unknown strategy `{name}`: expected one of {accepted} (with or without the `CodeDeployDefault.Lambda.` prefix), or a JSON strategy such as {{\"type\":\"canary\",\"percent\":10,\"interval\":\"5m\"}}"
    )]
    UnknownName { name: String, accepted: String },
    #[error("strategy is not valid JSON: {0}")]
    Json(String),
    #[error("strategy field `{field}`: {problem}")]
    Invalid { field: String, problem: String },
}

impl StrategyError {
    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        StrategyError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn duration(field: &str, error: DurationError) -> Self {
        StrategyError::invalid(field, error.to_string())
    }
}

impl Strategy {
    pub const fn canary(percent: Weight, interval_seconds: u64) -> Self {
        Strategy::Canary {
            percent,
            interval_seconds,
        }
    }

    pub const fn linear(percent: Weight, interval_seconds: u64) -> Self {
        Strategy::Linear {
            percent,
            interval_seconds,
        }
    }

    /// Parses a predefined name or the JSON form, and validates it.
    pub fn parse(text: &str) -> Result<Strategy, StrategyError> {
        let trimmed = text.trim();
        if trimmed.len() > MAX_STRATEGY_BYTES {
            return Err(StrategyError::invalid(
                "strategy",
                format!(
                    "is {} bytes long; at most {MAX_STRATEGY_BYTES} are allowed",
                    trimmed.len()
                ),
            ));
        }
        let strategy = if trimmed.starts_with('{') {
            let value: Value =
                serde_json::from_str(trimmed).map_err(|e| StrategyError::Json(e.to_string()))?;
            Self::from_json(&value)?
        } else {
            Self::from_name(trimmed)?
        };
        strategy.validate()?;
        Ok(strategy)
    }

    /// Looks up a CodeDeploy predefined config, with or without its prefix.
    pub fn from_name(name: &str) -> Result<Strategy, StrategyError> {
        let bare = name
            .strip_prefix(CODEDEPLOY_PREFIX)
            .map(|rest| rest.strip_prefix('.').unwrap_or(rest))
            .unwrap_or(name);
        PREDEFINED
            .iter()
            .find(|(known, _)| *known == bare)
            .map(|(_, strategy)| strategy.clone())
            .ok_or_else(|| StrategyError::UnknownName {
                name: name.to_string(),
                accepted: PREDEFINED
                    .iter()
                    .map(|(known, _)| *known)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Reads the JSON form (not yet validated for ranges; [`Strategy::parse`] does both).
    pub fn from_json(value: &Value) -> Result<Strategy, StrategyError> {
        let object = value
            .as_object()
            .ok_or_else(|| StrategyError::invalid("(root)", "expected a JSON object"))?;
        let kind = object
            .get("type")
            .ok_or_else(|| {
                StrategyError::invalid(
                    "type",
                    "missing; expected \"canary\", \"linear\", \"steps\" or \"allAtOnce\"",
                )
            })?
            .as_str()
            .ok_or_else(|| StrategyError::invalid("type", "expected a string"))?;
        match kind {
            "canary" | "linear" => {
                allow_only(object, "", &["type", "percent", "interval"])?;
                let percent = percent_field(object, "percent", "percent")?;
                let interval = duration_field(object, "interval", "interval")?
                    .ok_or_else(|| StrategyError::invalid("interval", "missing, e.g. \"5m\""))?;
                Ok(if kind == "canary" {
                    Strategy::canary(percent, interval)
                } else {
                    Strategy::linear(percent, interval)
                })
            }
            "steps" => {
                allow_only(object, "", &["type", "steps"])?;
                let steps = object
                    .get("steps")
                    .ok_or_else(|| StrategyError::invalid("steps", "missing"))?
                    .as_array()
                    .ok_or_else(|| StrategyError::invalid("steps", "expected a list"))?;
                let specs = steps
                    .iter()
                    .enumerate()
                    .map(|(index, step)| step_from_json(index, step))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Strategy::Steps(specs))
            }
            "allAtOnce" | "all-at-once" | "AllAtOnce" => {
                allow_only(object, "", &["type"])?;
                Ok(Strategy::AllAtOnce)
            }
            other => Err(StrategyError::invalid(
                "type",
                format!("`{other}` is not one of \"canary\", \"linear\", \"steps\", \"allAtOnce\""),
            )),
        }
    }

    /// Range checks: percent in (0, 100), intervals at least 1 s, weights in (0, 100] and
    /// strictly increasing, at most [`MAX_PLAN_STEPS`] steps (a linear strategy's included).
    pub fn validate(&self) -> Result<(), StrategyError> {
        match self {
            Strategy::AllAtOnce => Ok(()),
            Strategy::Canary {
                percent,
                interval_seconds,
            }
            | Strategy::Linear {
                percent,
                interval_seconds,
            } => {
                if percent.is_zero() || percent.is_full() {
                    return Err(StrategyError::invalid(
                        "percent",
                        format!("{percent} is not above 0 and below 100"),
                    ));
                }
                if matches!(self, Strategy::Linear { .. }) {
                    let full = u32::from(Weight::FULL.hundredths());
                    let steps = full.div_ceil(u32::from(percent.hundredths()));
                    if steps as usize > MAX_PLAN_STEPS {
                        return Err(StrategyError::invalid(
                            "percent",
                            format!(
                                "{percent} % at a time takes {steps} steps to reach 100 %; at most {MAX_PLAN_STEPS} are allowed"
                            ),
                        ));
                    }
                }
                if *interval_seconds < 1 {
                    return Err(StrategyError::invalid(
                        "interval",
                        format!("{interval_seconds}s is shorter than the minimum of 1s"),
                    ));
                }
                Ok(())
            }
            Strategy::Steps(specs) => {
                if specs.is_empty() {
                    return Err(StrategyError::invalid(
                        "steps",
                        "is empty; give at least one step",
                    ));
                }
                if specs.len() > MAX_PLAN_STEPS {
                    return Err(StrategyError::invalid(
                        "steps",
                        format!(
                            "has {} entries; at most {MAX_PLAN_STEPS} are allowed",
                            specs.len()
                        ),
                    ));
                }
                let mut previous: Option<Weight> = None;
                for (index, spec) in specs.iter().enumerate() {
                    let StepSpec::Shift { weight, .. } = spec else {
                        continue;
                    };
                    if weight.is_zero() {
                        return Err(StrategyError::invalid(
                            format!("steps[{index}].weight"),
                            format!("{weight} is not in (0, 100]"),
                        ));
                    }
                    if let Some(before) = previous.filter(|before| weight <= before) {
                        return Err(StrategyError::invalid(
                            format!("steps[{index}].weight"),
                            format!(
                                "{weight} is not greater than the previous weight {before}; weights must strictly increase"
                            ),
                        ));
                    }
                    previous = Some(*weight);
                }
                Ok(())
            }
        }
    }

    /// The schedule this strategy produces. Call on a validated strategy.
    pub fn plan(&self) -> Plan {
        let shift = |weight: Weight, wait_seconds: u64| PlanStep::Shift {
            weight,
            wait_seconds,
        };
        let steps = match self {
            Strategy::AllAtOnce => vec![shift(Weight::FULL, 0)],
            Strategy::Canary {
                percent,
                interval_seconds,
            } => vec![shift(*percent, *interval_seconds), shift(Weight::FULL, 0)],
            Strategy::Linear {
                percent,
                interval_seconds,
            } => {
                let step = percent.hundredths().max(1);
                let mut weights: Vec<PlanStep> = (1u16..)
                    .map_while(|n| n.checked_mul(step))
                    .take_while(|hundredths| *hundredths < Weight::FULL.hundredths())
                    .filter_map(Weight::from_hundredths)
                    .map(|weight| shift(weight, *interval_seconds))
                    .collect();
                weights.push(shift(Weight::FULL, 0));
                weights
            }
            Strategy::Steps(specs) => {
                let mut steps: Vec<PlanStep> = specs
                    .iter()
                    .map(|spec| match spec {
                        StepSpec::Shift {
                            weight,
                            bake_seconds,
                        } => shift(*weight, *bake_seconds),
                        StepSpec::Pause => PlanStep::Pause,
                    })
                    .collect();
                let reaches_full = specs
                    .iter()
                    .any(|spec| matches!(spec, StepSpec::Shift { weight, .. } if weight.is_full()));
                if !reaches_full {
                    steps.push(shift(Weight::FULL, 0));
                }
                steps
            }
        };
        Plan::new(steps)
    }
}

fn step_from_json(index: usize, value: &Value) -> Result<StepSpec, StrategyError> {
    let prefix = format!("steps[{index}]");
    let object = value.as_object().ok_or_else(|| {
        StrategyError::invalid(
            &prefix,
            "expected {\"weight\": N, \"bake\": \"2m\"} or {\"pause\": true}",
        )
    })?;
    if let Some(pause) = object.get("pause") {
        allow_only(object, &prefix, &["pause"])?;
        return match pause {
            Value::Bool(true) => Ok(StepSpec::Pause),
            other => Err(StrategyError::invalid(
                format!("{prefix}.pause"),
                format!("{other} is not allowed; a gate is {{\"pause\": true}}"),
            )),
        };
    }
    allow_only(object, &prefix, &["weight", "bake"])?;
    let field = format!("{prefix}.weight");
    let weight = percent_field(object, "weight", &field)?;
    let bake_seconds = duration_field(object, "bake", &format!("{prefix}.bake"))?.unwrap_or(0);
    Ok(StepSpec::Shift {
        weight,
        bake_seconds,
    })
}

fn allow_only(
    object: &Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
) -> Result<(), StrategyError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => {
            let field = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            Err(StrategyError::invalid(
                field,
                format!("is not a known field here; allowed: {}", allowed.join(", ")),
            ))
        }
    }
}

/// A number of percent with at most two decimals, in [0, 100] ([`Weight::from_percent`]).
fn percent_field(
    object: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Weight, StrategyError> {
    let value = object
        .get(key)
        .ok_or_else(|| StrategyError::invalid(field, "missing"))?;
    let number = value.as_f64().ok_or_else(|| {
        StrategyError::invalid(field, format!("{value} is not a number of percent"))
    })?;
    Weight::from_percent(number).map_err(|e| StrategyError::invalid(field, e.to_string()))
}

fn duration_field(
    object: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<u64>, StrategyError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => parse_duration(text)
            .map(Some)
            .map_err(|e| StrategyError::duration(field, e)),
        Some(other) => Err(StrategyError::invalid(
            field,
            format!("{other} is not a duration string such as \"90s\", \"5m\" or \"1h\""),
        )),
    }
}
