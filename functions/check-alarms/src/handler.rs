//! Alarm-driven rollback, without waiting for a tick. Takes the EventBridge `CloudWatch Alarm
//! State Change` event, or the event CloudWatch sends when it invokes a function directly as
//! an alarm action (`alarmData` at the top level). On `ALARM`, every active rollout the alarm
//! guards rolls back; on `INSUFFICIENT_DATA`, those whose policy treats that as a breach.
//!
//! An event is refused when it comes from another region than this function's (`AWS_REGION`)
//! or, on EventBridge, from another source than `aws.cloudwatch` or another account (the one
//! in the invoked function's ARN).
//!
//! **Alarms of other accounts** may call `check-alarms` directly as their alarm action. Such
//! an alarm concerns only rollouts that name it by ARN ([`glidepath_core::alarm_ref`]), and
//! rolls one back only when the authorisation policy lets the alarm (its ARN is the
//! principal, channel `AlarmAction`) `abort` that rollout's alias; a stranger is refused
//! before anything is read, and every refusal changes nothing. A state change older than
//! a rollout (a delayed or replayed event) does not roll that rollout back: `start` refuses
//! to begin while a guarding alarm is already in `ALARM`, and every tick reads the alarms.

use aws_lambda_events::cloudwatch_alarms::{
    CloudWatchAlarm, CloudWatchAlarmData, CloudWatchAlarmStateValue,
};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use glidepath_aws::function::FunctionError;
use glidepath_aws::ports::{Ports, RolloutStore};
use glidepath_aws::{Role, Runner};
use glidepath_core::{Action, Actor, Event, InsufficientData, Policy, Status, UnixSeconds};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
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
    /// Rollouts naming this alarm of another account that the policy does not let it roll
    /// back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_allowed: Vec<String>,
    /// The AWS calls this delivery made, by `service:Operation`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_calls: BTreeMap<&'static str, u64>,
}

/// Where an alarm event came from and when its state changed.
struct Origin {
    region: Option<String>,
    changed_at: UnixSeconds,
}

/// Where this function runs, and the policy that decides what alarms of other accounts may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub region: Option<String>,
    pub account: Option<String>,
    /// No rules (the default here): no alarm of another account may act.
    pub policy: Policy,
}

impl Home {
    /// The region, and the account of the invoked function's ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>`).
    pub fn new(region: Option<String>, invoked_function_arn: &str) -> Home {
        Home {
            region,
            account: glidepath_core::arn_account(invoked_function_arn).map(str::to_string),
            policy: Policy {
                rules: Vec::new(),
                guardrails: Default::default(),
            },
        }
    }

    /// The authorisation policy alarms of other accounts are judged by.
    pub fn with_policy(mut self, policy: Policy) -> Home {
        self.policy = policy;
        self
    }
}

/// What an alarm event says: the alarm's data, and the region and account it comes from.
/// `action_arn` is the alarm's ARN when CloudWatch invoked this function directly as the
/// alarm's action, the only way an alarm of another account is taken (never through
/// EventBridge).
struct Received {
    data: AlarmData,
    region: Option<String>,
    account: Option<String>,
    action_arn: Option<String>,
}

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
        Ok(Received {
            data: event.detail,
            region: event.region,
            account: event.account,
            action_arn: None,
        })
    } else {
        let event: CloudWatchAlarm<Value, Value> =
            serde_json::from_value(event).map_err(malformed)?;
        if event
            .source
            .as_deref()
            .is_some_and(|s| s != CLOUDWATCH_SOURCE)
        {
            return Err(FunctionError::invalid(format!(
                "`source`: `{}` is not `{CLOUDWATCH_SOURCE}`",
                event.source.unwrap_or_default()
            )));
        }
        Ok(Received {
            data: event.alarm_data,
            region: event.region,
            account: event.account_id,
            action_arn: event.alarm_arn,
        })
    }
}

/// Handles an alarm event received by a function at `home`.
pub async fn handle<P: Ports>(
    ports: &P,
    event: Value,
    home: &Home,
) -> Result<AlarmOutcome, FunctionError> {
    let Received {
        data,
        region: event_region,
        account: event_account,
        action_arn,
    } = alarm_data(event)?;
    let region = home.region.as_deref();
    // An alarm of another account: acts through the policy, on rollouts naming its ARN.
    let mut foreign: Option<Actor> = None;
    if let (Some(ours), Some(theirs)) = (home.account.as_deref(), event_account.as_deref()) {
        if ours != theirs {
            let arn = action_arn.as_deref().filter(|arn| {
                matches!(glidepath_core::alarm_ref::parse(arn), Ok(Some(a)) if a.account == theirs && a.name == data.alarm_name)
            });
            let Some(arn) = arn else {
                return Err(FunctionError::invalid(format!(
                    "`account`: the alarm event comes from account {theirs}; this Glidepath runs in {ours}, and takes other accounts' alarms only as direct alarm actions naming the alarm's ARN"
                )));
            };
            let actor = Actor::alarm(arn);
            if !home.policy.may_ever(&actor, Action::Abort) {
                return Err(FunctionError::forbidden(format!(
                    "no rule of the authorisation policy lets alarm {arn} of account {theirs} abort anything"
                )));
            }
            foreign = Some(actor);
        }
    }
    // Rollouts name other accounts' alarms by ARN: an alarm of this account whose *name* looks
    // like one must not stand in for them (only the policy lets another account's alarm act).
    if foreign.is_none() && glidepath_core::alarm_ref::is_pushed_only(&data.alarm_name) {
        return Err(FunctionError::invalid(format!(
            "`alarmName`: `{}` is named like an alarm ARN; rollouts name other accounts' alarms by ARN, so an alarm of this account may not be",
            data.alarm_name
        )));
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
        not_allowed: Vec::new(),
        aws_calls: BTreeMap::new(),
    };
    if state_name == "OK" {
        return Ok(outcome);
    }
    let runner = Runner::new(ports, Role::CheckAlarms);
    // Rollouts name this account's alarms by name, other accounts' by ARN (which the reason
    // then names).
    let watched = match &foreign {
        Some(actor) => actor.principal.clone(),
        None => data.alarm_name.clone(),
    };
    let mut failures = Vec::new();
    for id in ports.store().rollouts_watching(&watched).await? {
        let Some(rollout) = ports.store().load(&id).await? else {
            continue;
        };
        if let Some(actor) = &foreign {
            if let Err(refused) =
                glidepath_aws::entry::authorize(&home.policy, actor, Action::Abort, &rollout)
            {
                warn!(rollout_id = %id, alarm = %actor, refused = %refused, "alarm of another account not allowed to roll back");
                outcome.not_allowed.push(id);
                continue;
            }
        }
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
        let reason = format!("alarm {watched} went to {state_name}: {}", state.reason);
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
        outcome.aws_calls = ports.take_call_counts();
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
