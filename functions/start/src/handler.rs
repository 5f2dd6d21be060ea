//! Starting a rollout: read the request (a direct invoke, or the `detail` of an EventBridge
//! `Rollout Requested` event), check everything that can be checked before any change, then
//! create the rollout with its alias lock and take the first step.
//!
//! Every refusal happens before `create`, so a bad request leaves no rollout and no alias
//! change. If the first step fails after `create`, the rollout is failed (or rolled back) so
//! the alias lock is not left held.

use glidepath_aws::function::{FunctionError, RolloutView};
use glidepath_aws::ports::{AliasRouter, Created, HandOff, HealthCheck, Ports, RolloutStore};
use glidepath_aws::{PortError, Runner, clock::new_rollout_id};
use glidepath_core::{Event, Rollout, RolloutRequest, Status, Target};
use serde_json::Value;
use tracing::{info, warn};

/// The EventBridge `detail-type` that asks for a rollout.
pub const ROLLOUT_REQUESTED: &str = "Rollout Requested";

const HAND_OFFS: &[(Status, HandOff)] = &[
    (Status::PostTraffic, HandOff::Finalize),
    (Status::RollingBack, HandOff::Rollback),
];

/// What `start` answers: the rollout, and whether it already existed (same idempotency key).
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    #[serde(flatten)]
    pub rollout: RolloutView,
    pub existing: bool,
}

/// The request inside an EventBridge envelope, or the event itself.
fn request_body(event: Value) -> Result<Value, FunctionError> {
    if event.get("detail-type").is_none() {
        return Ok(event);
    }
    let envelope: aws_lambda_events::eventbridge::EventBridgeEvent<Value> =
        serde_json::from_value(event)
            .map_err(|e| FunctionError::invalid(format!("malformed EventBridge event: {e}")))?;
    if envelope.detail_type != ROLLOUT_REQUESTED {
        return Err(FunctionError::invalid(format!(
            "`detail-type`: `{}` is not `{ROLLOUT_REQUESTED}`",
            envelope.detail_type
        )));
    }
    Ok(envelope.detail)
}

pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<Started, FunctionError> {
    let request = RolloutRequest::from_json(&request_body(event)?)?;
    let store = ports.store();
    if let Some(key) = &request.idempotency_key {
        if let Some(existing) = store.find_by_idempotency_key(key).await? {
            info!(rollout_id = %existing.id, "idempotency key seen before; returning its rollout");
            return Ok(started(ports, &existing, true));
        }
    }
    let (function, alias_name) = (&request.function, &request.alias);
    if let Some(holder) = store.active_rollout(function, alias_name).await? {
        return Err(FunctionError::conflict(format!(
            "alias {function}:{alias_name} already has an active rollout ({holder}); wait for it to finish or abort it"
        )));
    }

    let router = ports.router();
    let alias = router.read_alias(function, alias_name).await?;
    if let Some((version, weight)) = &alias.routing {
        return Err(FunctionError::conflict(format!(
            "alias {function}:{alias_name} already sends {:.0}% of its traffic to version {version}: another deployment is in progress",
            weight * 100.0
        )));
    }
    let target = match &request.target {
        Target::Version(version) => version.clone(),
        Target::PublishLatest => router.publish_latest(function).await?,
    };
    if target == alias.version {
        return Err(FunctionError::invalid(format!(
            "`targetVersion`: alias {alias_name} already points at version {target}; nothing to roll out"
        )));
    }
    let current_info = router.version_info(function, &alias.version).await?;
    let target_info = router.version_info(function, &target).await?;
    if current_info.role != target_info.role {
        return Err(FunctionError::invalid(format!(
            "`targetVersion`: version {target} runs as {} but version {} as {}; an alias can only split traffic between versions with the same execution role",
            target_info.role, alias.version, current_info.role
        )));
    }
    if current_info.dead_letter_target != target_info.dead_letter_target {
        return Err(FunctionError::invalid(format!(
            "`targetVersion`: version {target} and version {} have different dead-letter queues; an alias can only split traffic between versions with the same one",
            alias.version
        )));
    }
    let missing = ports.health().missing_alarms(&request.alarms).await?;
    if !missing.is_empty() {
        return Err(FunctionError::invalid(format!(
            "`alarms`: no CloudWatch alarm named {}",
            missing.join(", ")
        )));
    }
    for (field, hook) in [
        ("hooks.preTraffic", &request.hooks.pre_traffic),
        ("hooks.postTraffic", &request.hooks.post_traffic),
    ] {
        if let Some(hook) = hook {
            if !router.function_exists(hook).await? {
                return Err(FunctionError::invalid(format!(
                    "`{field}`: no Lambda function {hook}"
                )));
            }
        }
    }

    let spec = request.spec(&alias.version, &target);
    let mut rollout = Rollout::new(new_rollout_id(), spec, request.plan.clone(), ports.now());
    rollout.alias_revision = Some(alias.revision);
    match store.create(&rollout).await {
        Ok(Created::New) => {}
        Ok(Created::Existing(existing)) => return Ok(started(ports, &existing, true)),
        Err(PortError::Conflict(message)) => return Err(FunctionError::conflict(message)),
        Err(error) => return Err(error.into()),
    }
    info!(rollout_id = %rollout.id, function = %function, alias = %alias_name,
        current = %rollout.spec.current_version, target = %rollout.spec.target_version, "rollout created");

    let runner = Runner::handing_off(ports, HAND_OFFS);
    match runner.run_on(rollout.clone(), Event::Start).await {
        Ok(rollout) => Ok(started(ports, &rollout, false)),
        Err(error) => {
            // Do not leave the lock held by a rollout that never got going.
            warn!(rollout_id = %rollout.id, error = %error, "first step failed; failing the rollout");
            let reason = format!("could not start: {error}");
            if let Err(cleanup) = runner.run(&rollout.id, Event::Failed { reason }).await {
                warn!(rollout_id = %rollout.id, error = %cleanup, "could not record the failure");
            }
            Err(FunctionError {
                error_type: FunctionError::from(error).error_type,
                message: format!(
                    "rollout {} could not start and was stopped; the alias is on version {}",
                    rollout.id, rollout.spec.current_version
                ),
            })
        }
    }
}

fn started<P: Ports>(ports: &P, rollout: &Rollout, existing: bool) -> Started {
    Started {
        rollout: RolloutView::new(rollout, ports.take_call_counts()),
        existing,
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
