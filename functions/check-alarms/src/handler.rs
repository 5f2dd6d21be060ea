//! Alarm-driven rollback, without waiting for a tick. Takes the EventBridge `CloudWatch Alarm
//! State Change` event, or the event CloudWatch sends when it invokes a function directly as
//! an alarm action (`alarmData` at the top level). On `ALARM`, every active rollout the alarm
//! guards rolls back; on `INSUFFICIENT_DATA`, those whose policy treats that as a breach.
//!
//! An event is refused when it comes from another region or account than this function's
//! (`AWS_REGION`, and the account in the invoked function's ARN) or, on EventBridge, from
//! another source than `aws.cloudwatch`. A state change older than
//! a rollout (a delayed or replayed event) does not roll that rollout back: `start` refuses
//! to begin while a guarding alarm is already in `ALARM`, and every tick reads the alarms.

use aws_lambda_events::cloudwatch_alarms::{
    CloudWatchAlarm, CloudWatchAlarmData, CloudWatchAlarmStateValue,
};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use glidepath_aws::function::FunctionError;
use glidepath_aws::ports::{Ports, RolloutStore};
use glidepath_aws::{Role, Runner};
use glidepath_core::{Event, InsufficientData, Status, UnixSeconds};
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

pub const ALARM_STATE_CHANGE: &str = "CloudWatch Alarm State Change";

/// The EventBridge `source` of CloudWatch's alarm events.
pub const CLOUDWATCH_SOURCE: &str = "aws.cloudwatch";

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
    /// Rollouts created after this state change, which it does not concern.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub older_than_rollout: Vec<String>,
}

/// Where an alarm event came from and when its state changed.
struct Origin {
    region: Option<String>,
    changed_at: UnixSeconds,
}

/// Where this function runs: alarm events from elsewhere are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Home {
    pub region: Option<String>,
    pub account: Option<String>,
}

impl Home {
    /// The region, and the account of the invoked function's ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>`).
    pub fn new(region: Option<String>, invoked_function_arn: &str) -> Home {
        Home {
            region,
            account: invoked_function_arn
                .split(':')
                .nth(4)
                .filter(|account| !account.is_empty())
                .map(str::to_string),
        }
    }
}

/// The alarm data, and the region and account the event says it comes from.
type Received = (AlarmData, Option<String>, Option<String>);

fn alarm_data(event: Value) -> Result<Received, FunctionError> {
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
        if event.source != CLOUDWATCH_SOURCE {
            return Err(FunctionError::invalid(format!(
                "`source`: `{}` is not `{CLOUDWATCH_SOURCE}`",
                event.source
            )));
        }
        Ok((event.detail, event.region, event.account))
    } else {
        let event: CloudWatchAlarm<Value, Value> =
            serde_json::from_value(event).map_err(malformed)?;
        Ok((event.alarm_data, event.region, event.account_id))
    }
}

/// Handles an alarm event received by a function at `home`.
pub async fn handle<P: Ports>(
    ports: &P,
    event: Value,
    home: &Home,
) -> Result<AlarmOutcome, FunctionError> {
    let (data, event_region, event_account) = alarm_data(event)?;
    let region = home.region.as_deref();
    if let (Some(ours), Some(theirs)) = (home.account.as_deref(), event_account.as_deref()) {
        if ours != theirs {
            return Err(FunctionError::invalid(format!(
                "`account`: the alarm event comes from account {theirs}; this Glidepath runs in {ours} and watches only its own alarms"
            )));
        }
    }
    let state = data
        .state
        .ok_or_else(|| FunctionError::invalid("`detail.state`: missing"))?;
    if let (Some(ours), Some(theirs)) = (region, event_region.as_deref()) {
        if ours != theirs {
            return Err(FunctionError::invalid(format!(
                "`region`: the alarm event comes from {theirs}; this Glidepath runs in {ours} and watches only its own alarms"
            )));
        }
    }
    let origin = Origin {
        region: event_region,
        changed_at: u64::try_from(state.timestamp.timestamp()).unwrap_or(0),
    };
    let state_name = match state.value {
        CloudWatchAlarmStateValue::Alarm => "ALARM",
        CloudWatchAlarmStateValue::InsufficientData => "INSUFFICIENT_DATA",
        _ => "OK",
    };
    let mut outcome = AlarmOutcome {
        alarm: data.alarm_name.clone(),
        state: state_name.to_string(),
        rolled_back: Vec::new(),
        older_than_rollout: Vec::new(),
    };
    if state_name == "OK" {
        return Ok(outcome);
    }
    let runner = Runner::new(ports, Role::CheckAlarms);
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
        if origin.changed_at < rollout.created_at {
            info!(rollout_id = %id, alarm = %data.alarm_name, region = ?origin.region,
                changed_at = origin.changed_at, "alarm state change predates the rollout; ignored");
            outcome.older_than_rollout.push(id);
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
        Err(FunctionError::retryable(format!(
            "could not roll back {}",
            failures.join("; ")
        )))
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
