//! Alarms Glidepath creates itself (`"alarms": "auto"`): per-version CloudWatch alarms on the
//! target version behind the alias, from the limits of the rollout's `analysis`, so that a
//! breach rolls the rollout back at once (the `check-alarms` event path) instead of at the next
//! tick. They are created by `start` before the rollout exists and deleted when it ends.
//!
//! - `<prefix><rollout id>-error-rate`: `Errors / Invocations` (metric math) above
//!   `analysis.maxErrorRate`.
//! - `<prefix><rollout id>-p99`: `Duration` p99 above `analysis.maxP99Ms`.
//!
//! Both on namespace `AWS/Lambda`, dimensions `FunctionName`, `Resource = <function>:<alias>`
//! and `ExecutedVersion = <target>`, one-minute periods, `ALARM` after
//! [`BREACHING_MINUTES`] minutes in a row above the limit (one unlucky minute of a small canary
//! does not roll it back), missing data not breaching.

use crate::rollout::RolloutSpec;

/// How many one-minute datapoints in a row must breach.
pub const BREACHING_MINUTES: u32 = 3;

/// What a managed alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmKind {
    /// `Errors / Invocations` above this fraction.
    ErrorRate { above: f64 },
    /// `Duration` p99 above this many milliseconds.
    P99 { above_ms: f64 },
}

/// One alarm to create.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDefinition {
    pub name: String,
    pub kind: AlarmKind,
    /// The `FunctionName` dimension: the function's name, never its ARN.
    pub function_name: String,
    /// The `Resource` dimension: `<function>:<alias>`.
    pub resource: String,
    /// The `ExecutedVersion` dimension: the target version.
    pub version: String,
    pub description: String,
}

/// The alarms a rollout with `"alarms": "auto"` gets: one per limit of its analysis.
pub fn definitions(prefix: &str, rollout_id: &str, spec: &RolloutSpec) -> Vec<AlarmDefinition> {
    let Some(analysis) = &spec.analysis else {
        return Vec::new();
    };
    let name = spec.function_name().to_string();
    let alarm = |suffix: &str, kind: AlarmKind, what: String| AlarmDefinition {
        name: format!("{prefix}{rollout_id}-{suffix}"),
        kind,
        function_name: name.clone(),
        resource: format!("{name}:{}", spec.alias),
        version: spec.target_version.clone(),
        description: format!(
            "Glidepath rollout {rollout_id}: {what} of {name} version {} behind {}; created and deleted by Glidepath",
            spec.target_version, spec.alias
        ),
    };
    let mut alarms = Vec::new();
    if let Some(rate) = analysis.max_error_rate {
        alarms.push(alarm(
            "error-rate",
            AlarmKind::ErrorRate { above: rate },
            format!("error rate above {} %", rate * 100.0),
        ));
    }
    if let Some(ms) = analysis.max_p99_ms {
        alarms.push(alarm(
            "p99",
            AlarmKind::P99 { above_ms: ms },
            format!("duration p99 above {ms} ms"),
        ));
    }
    alarms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RolloutRequest;
    use serde_json::json;

    #[test]
    fn one_alarm_per_limit_on_the_target_version() {
        let request = RolloutRequest::from_json(&json!({
            "function": "arn:aws:lambda:eu-west-1:123456789012:function:orders", "alias": "live",
            "targetVersion": "7", "strategy": "Canary10Percent5Minutes", "alarms": "auto",
            "analysis": {"metrics": ["errors", "duration-p99"], "maxErrorRate": "1%", "maxP99Ms": 800}}))
        .expect("valid");
        let spec = request.spec("6", "7");
        let alarms = definitions("gp-stack-gp-", "r01", &spec);
        assert_eq!(
            alarms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["gp-stack-gp-r01-error-rate", "gp-stack-gp-r01-p99"]
        );
        assert_eq!(alarms[0].kind, AlarmKind::ErrorRate { above: 0.01 });
        assert_eq!(alarms[1].kind, AlarmKind::P99 { above_ms: 800.0 });
        for name in [
            "orders",
            "123456789012:function:orders",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
        ] {
            assert_eq!(crate::function_name(name), "orders", "{name}");
        }
        for alarm in &alarms {
            assert_eq!(alarm.function_name, "orders");
            assert_eq!(alarm.resource, "orders:live");
            assert_eq!(alarm.version, "7");
        }
    }
}
