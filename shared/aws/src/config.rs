//! The orchestrator functions' configuration, read once from the environment at start-up: a
//! missing or malformed variable stops the function before it takes any event.

use glidepath_core::{Grace, Policy};
use std::fmt;

/// Why the configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// What every orchestrator function (start, step, check-alarms, finalize, rollback) needs.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// `GLIDEPATH_TABLE`: the DynamoDB table.
    pub table: String,
    /// `GLIDEPATH_SCHEDULE_GROUP`: the Scheduler group ticks are created in.
    pub schedule_group: String,
    /// `GLIDEPATH_SCHEDULER_ROLE_ARN`: the role Scheduler assumes to invoke `step`.
    pub scheduler_role_arn: String,
    /// `GLIDEPATH_STEP_FUNCTION_ARN`: what ticks invoke.
    pub step_function_arn: String,
    /// `GLIDEPATH_FINALIZE_FUNCTION`: name or ARN of `finalize`.
    pub finalize_function: String,
    /// `GLIDEPATH_ROLLBACK_FUNCTION`: name or ARN of `rollback`.
    pub rollback_function: String,
    /// `GLIDEPATH_EVENT_BUS` (default `default`): where state changes are published.
    pub event_bus: String,
    /// `GLIDEPATH_RETENTION_DAYS` (default 90): how long finished rollouts are kept.
    pub retention_days: u32,
    /// `GLIDEPATH_WATCHDOG_GRACE_SECONDS` (optional): one grace for every kind of owed work,
    /// instead of [`Grace::default`]; for test stacks that cannot wait minutes.
    pub grace: Grace,
    /// `AWS_REGION` (set by Lambda): the region this function runs in.
    pub region: Option<String>,
    /// `GLIDEPATH_POLICY`: the authorisation policy (JSON, see `glidepath_core::policy`):
    /// who may start, pause, resume, promote and abort what, and the guardrails of new
    /// rollouts. Required: without it nobody could be authorised.
    pub policy: Policy,
    /// `GLIDEPATH_MEMBER_ROLE_NAME` (optional): the role Glidepath assumes in another account
    /// to move the aliases of a release's members there (`infra/member-account.yaml` creates
    /// it). Without it, functions of other accounts are refused.
    pub member_role_name: Option<String>,
    /// `GLIDEPATH_ALARM_PREFIX` (default `glidepath-`): the name prefix of the alarms
    /// Glidepath creates (`"alarms": "auto"`); the stack's roles may create and delete only
    /// alarms with it.
    pub alarm_prefix: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("table", &self.table)
            .field("schedule_group", &self.schedule_group)
            .field("step_function_arn", &self.step_function_arn)
            .field("event_bus", &self.event_bus)
            .field("retention_days", &self.retention_days)
            .field("grace", &self.grace)
            .field("region", &self.region)
            .field("policy_rules", &self.policy.rules.len())
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let retention_days = match lookup("GLIDEPATH_RETENTION_DAYS") {
            None => 90,
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|days| *days > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "GLIDEPATH_RETENTION_DAYS",
                    problem: format!("`{text}` is not a whole number of days above 0"),
                })?,
        };
        let grace = match lookup("GLIDEPATH_WATCHDOG_GRACE_SECONDS") {
            None => Grace::default(),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|seconds| (1..=86_400).contains(seconds))
                .map(Grace::uniform)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "GLIDEPATH_WATCHDOG_GRACE_SECONDS",
                    problem: format!("`{text}` is not a whole number of seconds from 1 to 86400"),
                })?,
        };
        let alarm_prefix = match lookup("GLIDEPATH_ALARM_PREFIX") {
            None => "glidepath-".to_string(),
            Some(prefix) => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
                if prefix.is_empty() || prefix.len() > 128 || !prefix.chars().all(allowed) {
                    return Err(ConfigError::Invalid {
                        name: "GLIDEPATH_ALARM_PREFIX",
                        problem: format!("`{prefix}` is not 1 to 128 letters, digits and - _ ."),
                    });
                }
                prefix
            }
        };
        let member_role_name = match lookup("GLIDEPATH_MEMBER_ROLE_NAME") {
            None => None,
            Some(name) if name.trim().is_empty() => None,
            Some(name) => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
                if name.len() > 64 || !name.chars().all(allowed) {
                    return Err(ConfigError::Invalid {
                        name: "GLIDEPATH_MEMBER_ROLE_NAME",
                        problem: format!(
                            "`{name}` is not an IAM role name (1 to 64 of letters, digits and +=,.@_-)"
                        ),
                    });
                }
                Some(name)
            }
        };
        Ok(Config {
            alarm_prefix,
            member_role_name,
            table: required("GLIDEPATH_TABLE")?,
            schedule_group: required("GLIDEPATH_SCHEDULE_GROUP")?,
            scheduler_role_arn: required("GLIDEPATH_SCHEDULER_ROLE_ARN")?,
            step_function_arn: required("GLIDEPATH_STEP_FUNCTION_ARN")?,
            finalize_function: required("GLIDEPATH_FINALIZE_FUNCTION")?,
            rollback_function: required("GLIDEPATH_ROLLBACK_FUNCTION")?,
            event_bus: lookup("GLIDEPATH_EVENT_BUS")
                .filter(|bus| !bus.trim().is_empty())
                .unwrap_or_else(|| "default".to_string()),
            retention_days,
            grace,
            region: lookup("AWS_REGION").filter(|region| !region.trim().is_empty()),
            policy: Policy::from_json(&required("GLIDEPATH_POLICY")?).map_err(|e| {
                ConfigError::Invalid {
                    name: "GLIDEPATH_POLICY",
                    problem: e.to_string(),
                }
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("GLIDEPATH_TABLE", "t"),
        ("GLIDEPATH_SCHEDULE_GROUP", "g"),
        ("GLIDEPATH_SCHEDULER_ROLE_ARN", "arn:role"),
        ("GLIDEPATH_STEP_FUNCTION_ARN", "arn:step"),
        ("GLIDEPATH_FINALIZE_FUNCTION", "finalize"),
        ("GLIDEPATH_ROLLBACK_FUNCTION", "rollback"),
        (
            "GLIDEPATH_POLICY",
            r#"{"rules": [{"name": "all", "principals": ["*"], "actions": ["*"]}]}"#,
        ),
    ];

    #[test]
    fn reads_every_variable_with_defaults() {
        let config = Config::from_lookup(env(FULL)).unwrap();
        assert_eq!(config.event_bus, "default");
        assert_eq!(config.retention_days, 90);
        assert_eq!(config.grace, Grace::default());
        assert_eq!(config.alarm_prefix, "glidepath-");
        let mut prefixed = FULL.to_vec();
        prefixed.push(("GLIDEPATH_ALARM_PREFIX", "gp-prod-gp-"));
        assert_eq!(
            Config::from_lookup(env(&prefixed)).unwrap().alarm_prefix,
            "gp-prod-gp-"
        );
        let mut bad = FULL.to_vec();
        bad.push(("GLIDEPATH_ALARM_PREFIX", "gp prod*"));
        assert!(matches!(
            Config::from_lookup(env(&bad)),
            Err(ConfigError::Invalid {
                name: "GLIDEPATH_ALARM_PREFIX",
                ..
            })
        ));
        let mut fast = FULL.to_vec();
        fast.push(("GLIDEPATH_WATCHDOG_GRACE_SECONDS", "5"));
        assert_eq!(
            Config::from_lookup(env(&fast)).unwrap().grace,
            Grace::uniform(5)
        );
    }

    #[test]
    fn names_the_missing_or_bad_variable() {
        for (index, (name, _)) in FULL.iter().enumerate() {
            let mut partial = FULL.to_vec();
            partial.remove(index);
            assert_eq!(
                Config::from_lookup(env(&partial)),
                Err(ConfigError::Missing(name))
            );
        }
        let mut bad = FULL.to_vec();
        bad.push(("GLIDEPATH_RETENTION_DAYS", "forever"));
        let error = Config::from_lookup(env(&bad)).unwrap_err();
        assert!(
            error.to_string().contains("GLIDEPATH_RETENTION_DAYS"),
            "{error}"
        );
        let mut bad = FULL.to_vec();
        bad.retain(|(name, _)| *name != "GLIDEPATH_POLICY");
        bad.push(("GLIDEPATH_POLICY", r#"{"rules": []}"#));
        let error = Config::from_lookup(env(&bad)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("GLIDEPATH_POLICY: authorisation policy: `rules` is empty"),
            "{error}"
        );
    }
}
