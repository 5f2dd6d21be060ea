//! The hook's configuration, read once at start-up:
//!
//! - `GLIDEPATH_SMOKE_TESTS` (required): a JSON list of tests,
//!   `[{"name": "health", "event": {"path": "/health"}, "expect": {"statusCode": 200}}]`;
//!   `expect` is optional (then only a function error fails the test).
//!
//! CodeDeploy invocations test the version the deployment's AppSpec names. The former
//! `GLIDEPATH_CODEDEPLOY_TARGET` (a version fixed at deploy time, which a stale value turned
//! into a test of the wrong code) is refused at start-up if still set.

use glidepath_aws::config::ConfigError;
use serde::Deserialize;
use serde_json::Value;

/// One test event and what its answer must contain.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmokeTest {
    pub name: String,
    #[serde(default)]
    pub event: Value,
    #[serde(default)]
    pub expect: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HookConfig {
    pub tests: Vec<SmokeTest>,
}

impl HookConfig {
    pub fn from_env() -> Result<HookConfig, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<HookConfig, ConfigError> {
        const TESTS: &str = "GLIDEPATH_SMOKE_TESTS";
        const TARGET: &str = "GLIDEPATH_CODEDEPLOY_TARGET";
        let text = lookup(TESTS).ok_or(ConfigError::Missing(TESTS))?;
        let tests: Vec<SmokeTest> =
            serde_json::from_str(&text).map_err(|e| ConfigError::Invalid {
                name: TESTS,
                problem: format!("not a list of {{\"name\", \"event\", \"expect\"}} tests: {e}"),
            })?;
        if tests.is_empty() {
            return Err(ConfigError::Invalid {
                name: TESTS,
                problem: "is empty: give at least one test".into(),
            });
        }
        if lookup(TARGET).is_some_and(|t| !t.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                name: TARGET,
                problem: "is no longer read: CodeDeploy hooks test the version the deployment's AppSpec names; remove the variable".into(),
            });
        }
        Ok(HookConfig { tests })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_tests() {
        let config = HookConfig::from_lookup(lookup(&[(
            "GLIDEPATH_SMOKE_TESTS",
            r#"[{"name":"ping","event":{"ping":true},"expect":{"ok":true}}]"#,
        )]))
        .unwrap();
        assert_eq!(config.tests[0].name, "ping");
    }

    #[test]
    fn refuses_bad_configuration() {
        assert_eq!(
            HookConfig::from_lookup(lookup(&[])),
            Err(ConfigError::Missing("GLIDEPATH_SMOKE_TESTS"))
        );
        for bad in [
            &[("GLIDEPATH_SMOKE_TESTS", "[]")][..],
            &[("GLIDEPATH_SMOKE_TESTS", r#"[{"event":{}}]"#)][..],
            &[
                ("GLIDEPATH_SMOKE_TESTS", r#"[{"name":"a"}]"#),
                ("GLIDEPATH_CODEDEPLOY_TARGET", "orders:7"),
            ][..],
        ] {
            let pairs: &'static [(&str, &str)] = Box::leak(bad.to_vec().into_boxed_slice());
            assert!(HookConfig::from_lookup(lookup(pairs)).is_err(), "{bad:?}");
        }
    }
}
