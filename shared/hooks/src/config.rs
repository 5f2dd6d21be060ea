//! The hook's configuration, read once at start-up:
//!
//! - `GLIDEPATH_SMOKE_TESTS` (required): a JSON list of tests,
//!   `[{"name": "health", "event": {"path": "/health"}, "expect": {"statusCode": 200}}]`;
//!   `expect` is optional (then only a function error fails the test).
//! - `GLIDEPATH_CODEDEPLOY_TARGET` (for CodeDeploy hooks): the version to test, as a
//!   qualified function ARN or `name:version` (SAM: `!Ref MyFunction.Version`).

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
    /// (function, version) CodeDeploy invocations test.
    pub codedeploy_target: Option<(String, String)>,
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
        let codedeploy_target = match lookup(TARGET).filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(target) => Some(split_qualified(target.trim()).ok_or_else(|| ConfigError::Invalid {
                name: TARGET,
                problem: format!("`{target}` is not a function qualified with a version, such as my-function:7 or its ARN"),
            })?),
        };
        Ok(HookConfig {
            tests,
            codedeploy_target,
        })
    }
}

/// `name:7` or `arn:aws:lambda:…:function:name:7` into (function, version).
fn split_qualified(target: &str) -> Option<(String, String)> {
    let (function, version) = target.rsplit_once(':')?;
    (!function.is_empty() && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (function.to_string(), version.to_string()))
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
    fn reads_tests_and_target() {
        let config = HookConfig::from_lookup(lookup(&[
            (
                "GLIDEPATH_SMOKE_TESTS",
                r#"[{"name":"ping","event":{"ping":true},"expect":{"ok":true}}]"#,
            ),
            (
                "GLIDEPATH_CODEDEPLOY_TARGET",
                "arn:aws:lambda:us-east-1:123456789012:function:orders:7",
            ),
        ]))
        .unwrap();
        assert_eq!(config.tests[0].name, "ping");
        assert_eq!(
            config.codedeploy_target,
            Some((
                "arn:aws:lambda:us-east-1:123456789012:function:orders".into(),
                "7".into()
            ))
        );
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
                ("GLIDEPATH_CODEDEPLOY_TARGET", "orders:live"),
            ][..],
        ] {
            let pairs: &'static [(&str, &str)] = Box::leak(bad.to_vec().into_boxed_slice());
            assert!(HookConfig::from_lookup(lookup(pairs)).is_err(), "{bad:?}");
        }
    }
}
