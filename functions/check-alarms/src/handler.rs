//! Alarm-driven rollback, without waiting for a tick. Takes the EventBridge `CloudWatch Alarm
//! State Change` event, or the event CloudWatch sends when it invokes a function directly as
//! an alarm action (`alarmData` at the top level). On `ALARM`, every active rollout the alarm
//! guards rolls back; on `INSUFFICIENT_DATA`, those whose policy treats that as a breach.

use aws_lambda_events::cloudwatch_alarms::{
    CloudWatchAlarm, CloudWatchAlarmData, CloudWatchAlarmStateValue,
};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use glidepath_aws::Runner;
use glidepath_aws::function::FunctionError;
use glidepath_aws::ports::{HandOff, Ports, RolloutStore};
use glidepath_core::{Event, InsufficientData, Status};
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

pub const ALARM_STATE_CHANGE: &str = "CloudWatch Alarm State Change";

const HAND_OFFS: &[(Status, HandOff)] = &[(Status::RollingBack, HandOff::Rollback)];

type AlarmData = CloudWatchAlarmData<Value, Value>;

/// What `check-alarms` did.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlarmOutcome {
    pub alarm: String,
    pub state: String,
    /// Rollouts guarded by this alarm that are rolling back (or rolled back) after it; a
    /// repeated delivery reports them again without acting twice.
    pub rolled_back: Vec<String>,
}

fn alarm_data(event: Value) -> Result<AlarmData, FunctionError> {
    let malformed =
        |e: serde_json::Error| FunctionError::invalid(format!("malformed alarm event: {e}"));
    if event.get("detail-type").is_some() {
        let event: EventBridgeEvent<AlarmData> =
            serde_json::from_value(event).map_err(malformed)?;
        if event.detail_type != ALARM_STATE_CHANGE {
            return Err(FunctionError::invalid(format!(
                "`detail-type`: `{}` is not `{ALARM_STATE_CHANGE}`",
                event.detail_type
            )));
        }
        Ok(event.detail)
    } else {
        let event: CloudWatchAlarm<Value, Value> =
            serde_json::from_value(event).map_err(malformed)?;
        Ok(event.alarm_data)
    }
}

pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<AlarmOutcome, FunctionError> {
    let data = alarm_data(event)?;
    let state = data
        .state
        .ok_or_else(|| FunctionError::invalid("`detail.state`: missing"))?;
    let state_name = match state.value {
        CloudWatchAlarmStateValue::Alarm => "ALARM",
        CloudWatchAlarmStateValue::InsufficientData => "INSUFFICIENT_DATA",
        _ => "OK",
    };
    let mut outcome = AlarmOutcome {
        alarm: data.alarm_name.clone(),
        state: state_name.to_string(),
        rolled_back: Vec::new(),
    };
    if state_name == "OK" {
        return Ok(outcome);
    }
    let runner = Runner::handing_off(ports, HAND_OFFS);
    let mut failures = Vec::new();
    for id in ports.store().rollouts_watching(&data.alarm_name).await? {
        let Some(rollout) = ports.store().load(&id).await? else {
            continue;
        };
        if state_name == "INSUFFICIENT_DATA"
            && rollout.spec.insufficient_data != InsufficientData::Breach
        {
            continue;
        }
        let reason = format!(
            "alarm {} went to {state_name}: {}",
            data.alarm_name, state.reason
        );
        match runner.run_on(rollout, Event::Breach { reason }).await {
            Ok(after) if matches!(after.status, Status::RollingBack | Status::RolledBack) => {
                info!(rollout_id = %id, alarm = %data.alarm_name, "rolling back on alarm");
                outcome.rolled_back.push(id);
            }
            Ok(_) => {}
            Err(error) => {
                warn!(rollout_id = %id, error = %error, "could not roll back on alarm");
                failures.push(format!("{id}: {error}"));
            }
        }
    }
    if failures.is_empty() {
        Ok(outcome)
    } else {
        // Retried as a whole: rollouts already rolling back absorb the repeat.
        Err(FunctionError {
            error_type: "Retryable",
            message: format!("could not roll back {}", failures.join("; ")),
        })
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
