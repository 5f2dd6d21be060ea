//! Judging a rollout's health. From its alarms' states ([`verdict`], shared by the
//! CloudWatch adapter and the fakes so both follow one rule: any alarm in `ALARM`, or
//! missing, is a breach; `INSUFFICIENT_DATA` is one only when the rollout's policy says so),
//! then, when the alarms are quiet and the rollout asks for it, by canary analysis of both
//! versions' metrics ([`assess`]).

use crate::error::PortError;
use crate::ports::{HealthCheck, MetricsQuery};
use glidepath_core::{
    Evidence, Finding, HealthVerdict, InsufficientData, Rollout, UnixSeconds, judge,
};

/// A tick's health check of `rollout` at `now`: its alarms (one `DescribeAlarms`), then, if
/// none is breached, the rollout has an `analysis` and the step had a window of traffic
/// ([`Rollout::has_analysis_window`]), the metrics of both versions since the current weight
/// was decided (one `GetMetricData`), judged by [`judge`].
pub async fn assess<H: HealthCheck>(
    health: &H,
    rollout: &Rollout,
    now: UnixSeconds,
) -> Result<HealthVerdict, PortError> {
    let spec = &rollout.spec;
    // Alarms of other accounts (named by ARN) cannot be read: they push their breaches.
    let readable = glidepath_core::alarm_ref::readable(&spec.alarms);
    let alarms = health.check(&readable, spec.insufficient_data).await?;
    let (Some(analysis), Some(query)) = (&spec.analysis, MetricsQuery::for_rollout(rollout, now))
    else {
        return Ok(alarms);
    };
    if alarms != HealthVerdict::Healthy || !rollout.has_analysis_window() {
        return Ok(alarms);
    }
    let (baseline, canary) = health.version_metrics(&query).await?;
    let evidence = Evidence {
        baseline_version: query.baseline_version,
        baseline,
        canary_version: query.canary_version,
        canary,
    };
    let finding = judge(analysis, &evidence, rollout.analysis_checks());
    if let Finding::Pass { summary } = &finding {
        tracing::info!(rollout_id = %rollout.id, %summary, "canary analysis passed");
    }
    Ok(finding.verdict())
}

/// A CloudWatch alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

/// The verdict over `alarms`, given each one's state and reason (`None`: it does not exist).
pub fn verdict(
    alarms: &[String],
    state_of: impl Fn(&str) -> Option<(AlarmState, String)>,
    policy: InsufficientData,
) -> HealthVerdict {
    let breaches: Vec<String> = alarms
        .iter()
        .filter_map(|name| match state_of(name) {
            None => Some(format!("alarm {name} no longer exists")),
            Some((AlarmState::Alarm, reason)) if reason.is_empty() => {
                Some(format!("alarm {name} is ALARM"))
            }
            Some((AlarmState::Alarm, reason)) => Some(format!("alarm {name} is ALARM: {reason}")),
            Some((AlarmState::InsufficientData, _)) if policy == InsufficientData::Breach => Some(
                format!("alarm {name} is INSUFFICIENT_DATA (treated as a breach)"),
            ),
            Some(_) => None,
        })
        .collect();
    if breaches.is_empty() {
        HealthVerdict::Healthy
    } else {
        HealthVerdict::Breached {
            reason: breaches.join("; "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaches_and_policies() {
        let alarms = vec!["a".to_string(), "b".to_string()];
        let states = |ok_b: AlarmState| {
            move |name: &str| match name {
                "a" => Some((AlarmState::Ok, String::new())),
                _ => Some((ok_b, "5 errors".to_string())),
            }
        };
        assert_eq!(
            verdict(&alarms, states(AlarmState::Ok), InsufficientData::Ignore),
            HealthVerdict::Healthy
        );
        assert_eq!(
            verdict(&alarms, states(AlarmState::Alarm), InsufficientData::Ignore),
            HealthVerdict::Breached {
                reason: "alarm b is ALARM: 5 errors".into()
            }
        );
        assert_eq!(
            verdict(
                &alarms,
                states(AlarmState::InsufficientData),
                InsufficientData::Ignore
            ),
            HealthVerdict::Healthy
        );
        assert!(matches!(
            verdict(
                &alarms,
                states(AlarmState::InsufficientData),
                InsufficientData::Breach
            ),
            HealthVerdict::Breached { .. }
        ));
        assert_eq!(
            verdict(&alarms, |_| None, InsufficientData::Ignore),
            HealthVerdict::Breached {
                reason: "alarm a no longer exists; alarm b no longer exists".into()
            }
        );
    }
}
