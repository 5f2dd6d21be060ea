//! Starting a rollout: read the request (a direct invoke, or the `detail` of an EventBridge
//! `Rollout Requested` event), check everything that can be checked before any change, then
//! create the rollout with its alias lock and take the first step.
//!
//! Every refusal happens before `create`, so a bad request leaves no rollout and no alias
//! change. If the first step is interrupted after `create` by a transient failure, the rollout
//! keeps what it owes and a retry of the request (or the watchdog) carries it on; if it
//! cannot go on at all, it is failed (or rolled back, if its first step had moved the alias)
//! so the alias lock is not left held. The same
//! idempotency key with a different request is refused with `Conflict` naming what differs;
//! keys are scoped to the alias.
//!
//! Who asks is checked first: the actor (the IAM caller of the function URL, the account of
//! an EventBridge event, or an unidentified direct invoke) must be allowed to `start` on the
//! alias by the authorisation policy, and the rollout must pass the policy's guardrails
//! (a health signal, a small first step, no all-at-once, no downgrade) unless the request
//! overrides them in `allow` and the granting rule lets it. Refusals are `Forbidden`. The
//! actor, the rule and the overrides are recorded in the rollout.

use glidepath_aws::entry::identify;
use glidepath_aws::function::{FunctionError, Invocation, RolloutView};
use glidepath_aws::ports::{AliasRouter, Created, HealthCheck, Ports, RolloutStore};
use glidepath_aws::{ErrorType, PortError, Role, Runner, clock::new_rollout_id};
use glidepath_core::managed_alarms;
use glidepath_core::policy::is_downgrade;
use glidepath_core::{
    Action, Actor, Event, HealthVerdict, OwedKind, Policy, Rollout, RolloutFacts, RolloutRequest,
    Status, Target,
};
use serde_json::Value;
use tracing::{info, warn};

/// The EventBridge `detail-type` that asks for a rollout.
pub const ROLLOUT_REQUESTED: &str = "Rollout Requested";

/// What `start` answers: the rollout, and whether it already existed (same idempotency key).
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    #[serde(flatten)]
    pub rollout: RolloutView,
    pub existing: bool,
    /// The record as this start left it (for a caller that goes on with it: the pipeline).
    #[serde(skip)]
    pub record: Box<Rollout>,
}

/// The request inside an EventBridge envelope, or the event itself.
/// The EventBridge `source` of rollout requests.
pub const ROLLOUT_SOURCE: &str = "glidepath";

/// The request inside an EventBridge envelope, or the event itself, and who sent it. An
/// envelope must say `source: glidepath` and come from this Glidepath's own account
/// (`our_account`, when known): an event forwarded from elsewhere is refused. Its actor is
/// the sending account.
fn request_body(
    event: Value,
    actor: Actor,
    our_account: Option<&str>,
) -> Result<(Value, Actor), FunctionError> {
    if event.get("detail-type").is_none() || actor.via != glidepath_core::Channel::DirectInvoke {
        return Ok((event, actor));
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
    if envelope.source != ROLLOUT_SOURCE {
        return Err(FunctionError::invalid(format!(
            "`source`: `{}` is not `{ROLLOUT_SOURCE}`",
            envelope.source
        )));
    }
    if let (Some(ours), Some(theirs)) = (our_account, envelope.account.as_deref()) {
        if ours != theirs {
            return Err(FunctionError::invalid(format!(
                "`account`: the request comes from account {theirs}; this Glidepath takes requests from its own account ({ours}) only"
            )));
        }
    }
    let account = envelope.account.as_deref().unwrap_or("unknown");
    Ok((envelope.detail, Actor::event_bridge(account)))
}

/// Deletes alarms made for a rollout that was not created (best effort: a left-over alarm
/// guards nothing, no rollout watches it).
pub(crate) async fn remove_alarms<P: Ports>(ports: &P, names: &[String]) {
    if names.is_empty() {
        return;
    }
    if let Err(error) = ports.health().delete_alarms(names).await {
        warn!(error = %error, alarms = ?names, "could not delete the alarms made for a rollout that was not created");
    }
}

/// The fields in which `request` differs from the rollout its idempotency key created.
pub(crate) fn differences(request: &RolloutRequest, existing: &Rollout) -> Vec<&'static str> {
    let spec = &existing.spec;
    let mut differ = Vec::new();
    if let Target::Version(version) = &request.target {
        if *version != spec.target_version {
            differ.push("targetVersion");
        }
    }
    if request.strategy != spec.strategy {
        differ.push("strategy");
    }
    if request.bake_seconds != spec.bake_seconds {
        differ.push("bake");
    }
    let managed = !spec.managed_alarms.is_empty();
    if request.managed_alarms != managed || (!managed && request.alarms != spec.alarms) {
        differ.push("alarms");
    }
    if request.insufficient_data != spec.insufficient_data {
        differ.push("insufficientData");
    }
    if request.hooks != spec.hooks {
        differ.push("hooks");
    }
    if request.analysis != spec.analysis {
        differ.push("analysis");
    }
    differ
}

/// Handles one event without a deadline, under a policy that allows everything (tests).
#[cfg(test)]
pub async fn handle<P: Ports>(ports: &P, event: Value) -> Result<Started, FunctionError> {
    handle_until(
        ports,
        event,
        &Invocation::default(),
        &glidepath_aws::fakes::open_policy(),
        "glidepath-",
    )
    .await
}

/// What the guardrails judge of a request, before anything is published or created. `away`:
/// the function is in another region or account, where the alarms Glidepath reads (its own
/// region and account's) cannot observe it.
fn facts(request: &RolloutRequest, current_version: &str, away: bool) -> RolloutFacts {
    RolloutFacts {
        // Only what Glidepath can read itself counts: an alarm of another account (by ARN)
        // pushes breaches but cannot be checked; and for a function elsewhere, nothing
        // Glidepath reads is about it.
        health_signals: if away {
            0
        } else {
            glidepath_core::alarm_ref::readable(&request.alarms).len()
                + usize::from(request.analysis.is_some())
        },
        first_step_percent: request.plan.weights().next().unwrap_or_default(),
        downgrade: match &request.target {
            Target::Version(target) => is_downgrade(current_version, target),
            // Publishing makes the newest version: never older than the alias's.
            Target::PublishLatest => false,
        },
    }
}

/// Handles one event; hooks are bounded by `deadline` (the invocation's).
pub async fn handle_until<P: Ports>(
    ports: &P,
    event: Value,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
) -> Result<Started, FunctionError> {
    let (body, actor) = identify_request(event, invocation)?;
    start_request(ports, &body, actor, invocation, policy, alarm_prefix).await
}

/// The request in `event` and who sent it (a function URL caller, an EventBridge account,
/// or an unidentified direct invoke).
pub fn identify_request(
    event: Value,
    invocation: &Invocation,
) -> Result<(Value, Actor), FunctionError> {
    let (actor, event) = identify(event)?;
    request_body(event, actor, invocation.account.as_deref())
}

/// A rollout checked and ready to be created, or the one its idempotency key created.
pub(crate) enum Prepared {
    New {
        rollout: Box<Rollout>,
        /// The alarms to create first (`"alarms": "auto"`).
        managed: Vec<managed_alarms::AlarmDefinition>,
    },
    Existing(Box<Rollout>),
}

/// Starts the rollout `body` asks for on behalf of `actor`, whoever has identified it (the
/// `start` function, from its event; the `pipeline` function, from a CodePipeline job).
pub async fn start_request<P: Ports>(
    ports: &P,
    body: &Value,
    actor: Actor,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
) -> Result<Started, FunctionError> {
    let deadline = invocation.deadline;
    let request = RolloutRequest::from_json(body)?;
    let id = new_rollout_id();
    let (rollout, managed) = match prepare(
        ports,
        &request,
        &actor,
        invocation,
        policy,
        alarm_prefix,
        id,
    )
    .await?
    {
        Prepared::Existing(existing) if existing.release.is_some() => {
            return Err(FunctionError::conflict(format!(
                "`idempotencyKey`: `{}` was used for release {}, not for one rollout; use a new key",
                request.idempotency_key.as_deref().unwrap_or_default(),
                existing.release.as_ref().map_or("?", |r| r.id.as_str())
            )));
        }
        Prepared::Existing(existing) => return resume_existing(ports, *existing, deadline).await,
        Prepared::New { rollout, managed } => (*rollout, managed),
    };
    if let Some(existing) =
        create_with_alarms(ports, std::slice::from_ref(&rollout), &managed).await?
    {
        return resume_existing(ports, existing, deadline).await;
    }
    let spec = &rollout.spec;
    info!(rollout_id = %rollout.id, function = %spec.function, alias = %spec.alias,
        current = %spec.current_version, target = %spec.target_version,
        actor = %actor, rule = ?spec.authorized_by, overridden = ?spec.overridden, "rollout created");
    let rollout = first_step(ports, rollout, actor, deadline).await?;
    Ok(started(ports, &rollout, false))
}

/// Creates `rollouts` (one rollout, or a release's members, in one transaction) after the
/// alarms Glidepath makes for them (`"alarms": "auto"`), so a breach is watched from the first
/// step; a create that does not happen takes those alarms away again. `Some`: the rollout the
/// idempotency key created before.
pub(crate) async fn create_with_alarms<P: Ports>(
    ports: &P,
    rollouts: &[Rollout],
    managed: &[managed_alarms::AlarmDefinition],
) -> Result<Option<Rollout>, FunctionError> {
    let names: Vec<String> = managed.iter().map(|a| a.name.clone()).collect();
    if !managed.is_empty() {
        if let Err(error) = ports.health().put_alarms(managed).await {
            remove_alarms(ports, &names).await;
            return Err(error.into());
        }
    }
    let created = ports.store().create_all(rollouts).await;
    if !matches!(created, Ok(Created::New)) {
        remove_alarms(ports, &names).await;
    }
    match created {
        Ok(Created::New) => Ok(None),
        Ok(Created::Existing(existing)) => Ok(Some(*existing)),
        Err(PortError::Conflict(message)) => Err(FunctionError::conflict(message)),
        Err(error) => Err(error.into()),
    }
}

/// Everything `start` checks of one rollout request before anything changes, and the
/// rollout it would create (with id `id`): who asks and the guardrails, the idempotency key,
/// the alias (free, not split), the versions, the alarms and the hooks. Publishing
/// `$LATEST` (`"publish": true`) is the one change it may make.
pub(crate) async fn prepare<P: Ports>(
    ports: &P,
    request: &RolloutRequest,
    actor: &Actor,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
    id: String,
) -> Result<Prepared, FunctionError> {
    let store = ports.store();
    let router = ports.router();
    let (function, alias_name) = (&request.function, &request.alias);
    // A function named by ARN is authorised on that ARN before anything is read there (in
    // another account, reading means assuming the member role).
    let named = glidepath_aws::adapters::members::Location::of_function(function);
    if named.is_some() {
        policy.authorize(
            actor,
            Action::Start,
            glidepath_core::unqualified_function_arn(function),
            alias_name,
        )?;
    }
    let alias = router.read_alias(function, alias_name).await?;
    // One alias, one lock: a name and an ARN of the same function are the same key.
    let function_key = alias.function_arn().unwrap_or_else(|| function.clone());
    // Who asks, and whether the rollout is within the guardrails, before anything else.
    let grant = policy.authorize(actor, Action::Start, &function_key, alias_name)?;
    let place = alias
        .function_arn()
        .and_then(|arn| glidepath_aws::adapters::members::Location::of_function(&arn));
    let away = place.as_ref().is_some_and(|place| {
        invocation
            .region
            .as_deref()
            .is_some_and(|r| r != place.region)
            || invocation
                .account
                .as_deref()
                .is_some_and(|a| a != place.account)
    });
    let overridden = policy.guard(&grant, facts(request, &alias.version, away), &request.allow)?;
    if let Some(key) = &request.idempotency_key {
        if let Some(existing) = store
            .find_by_idempotency_key(&function_key, alias_name, key)
            .await?
        {
            let differ = differences(request, &existing);
            if !differ.is_empty() {
                return Err(FunctionError::conflict(format!(
                    "`idempotencyKey`: `{key}` was used for rollout {} with a different {}; use a new key for a new request",
                    existing.id,
                    differ.join(", ")
                )));
            }
            info!(rollout_id = %existing.id, "idempotency key seen before; returning its rollout");
            return Ok(Prepared::Existing(Box::new(existing)));
        }
    }
    if let Some(holder) = store.active_rollout(&function_key, alias_name).await? {
        return Err(FunctionError::conflict(format!(
            "alias {function}:{alias_name} already has an active rollout ({holder}); wait for it to finish or abort it"
        )));
    }
    if let Some((version, weight)) = &alias.routing {
        return Err(FunctionError::conflict(format!(
            "alias {function}:{alias_name} already sends {:.1}% of its traffic to version {version}: another deployment is in progress",
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
    // Alarms Glidepath makes, and the metrics canary analysis reads, are this stack's region
    // and account's: a function elsewhere (a member of a release) cannot use them.
    if let Some(place) = &place {
        if away && (request.managed_alarms || request.analysis.is_some()) {
            let field = if request.managed_alarms {
                "alarms"
            } else {
                "analysis"
            };
            return Err(FunctionError::invalid(format!(
                "`{field}`: {function} is in {} of account {}; Glidepath reads metrics and makes alarms in its own region and account only (a function elsewhere has no health signal Glidepath can read: allow `noHealthSignal`, and guard it with pushed alarms or alarms on metrics shared to this account)",
                place.region, place.account
            )));
        }
    }
    let current_info = router.version_info(function, &alias.version).await?;
    let target_info = router.version_info(function, &target).await?;
    if let Some(expected) = &request.expect_code_sha256 {
        if target_info.code_sha256.as_deref() != Some(expected.as_str()) {
            return Err(FunctionError::invalid(format!(
                "`expectCodeSha256`: version {target} of {function} holds code {}, not {expected}; refusing to roll out other code than the build's",
                target_info
                    .code_sha256
                    .as_deref()
                    .unwrap_or("of unknown SHA-256")
            )));
        }
    }
    // A function under a code-signing config takes only code its allowed publishers signed
    // (Lambda itself refuses unsigned code only under `Enforce`).
    if let Some(signing) = router.code_signing(function).await? {
        if let Some(refusal) = signing.refusal(function, &target_info) {
            return Err(FunctionError::forbidden(format!(
                "`targetVersion`: {refusal}"
            )));
        }
    }
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
    for alarm in &request.alarms {
        if let Ok(Some(arn)) = glidepath_core::alarm_ref::parse(alarm) {
            if invocation.account.as_deref() == Some(arn.account) {
                return Err(FunctionError::invalid(format!(
                    "`alarms`: {alarm} is an alarm of this account; name it `{}`, so that every tick reads it",
                    arn.name
                )));
            }
        }
    }
    let readable = glidepath_core::alarm_ref::readable(&request.alarms);
    let missing = ports.health().missing_alarms(&readable).await?;
    if !missing.is_empty() {
        return Err(FunctionError::invalid(format!(
            "`alarms`: no CloudWatch alarm named {}",
            missing.join(", ")
        )));
    }
    if !readable.is_empty() {
        // An alarm already in ALARM sends no new event: refuse now rather than shift
        // traffic until the first tick reads it.
        if let HealthVerdict::Breached { reason } = ports
            .health()
            .check(&readable, request.insufficient_data)
            .await?
        {
            return Err(FunctionError::conflict(format!(
                "`alarms`: {reason}; a rollout cannot start while a guarding alarm is breached"
            )));
        }
    }
    for (field, hook) in [
        ("hooks.preTraffic", &request.hooks.pre_traffic),
        ("hooks.postTraffic", &request.hooks.post_traffic),
        ("hooks.beforeShift", &request.hooks.before_shift),
        ("hooks.onRollback", &request.hooks.on_rollback),
    ] {
        if let Some(hook) = hook {
            if !router.function_exists(hook).await? {
                return Err(FunctionError::invalid(format!(
                    "`{field}`: no Lambda function {hook}"
                )));
            }
        }
    }

    let mut spec = request.spec(&alias.version, &target);
    spec.function_arn = alias.function_arn();
    spec.requested_by = Some(actor.clone());
    spec.authorized_by = Some(grant.rule.clone());
    spec.overridden = overridden;
    // `"alarms": "auto"`: the alarms exist before the rollout does, so a breach is watched
    // from its first step; a rollout that is not created takes them away again.
    let managed = if request.managed_alarms {
        managed_alarms::definitions(alarm_prefix, &id, &spec)
    } else {
        Vec::new()
    };
    spec.managed_alarms = managed.iter().map(|a| a.name.clone()).collect();
    spec.alarms.extend(spec.managed_alarms.iter().cloned());
    let mut rollout = Rollout::new(id, spec, request.plan.clone(), ports.now());
    rollout.alias_revision = Some(alias.revision);
    rollout.actor = Some(actor.clone());
    Ok(Prepared::New {
        rollout: Box::new(rollout),
        managed,
    })
}

/// A created rollout's first event. A transient failure leaves it owing what it owes (a
/// retry of the request, or the watchdog, carries it on); any other stops it, so that the
/// alias lock is not left held or traffic moved.
pub(crate) async fn first_step<P: Ports>(
    ports: &P,
    rollout: Rollout,
    actor: Actor,
    deadline: Option<std::time::SystemTime>,
) -> Result<Rollout, FunctionError> {
    match Runner::new(ports, Role::Start)
        .with_deadline(deadline)
        .with_actor(actor)
        .run_on(rollout.clone(), Event::Start)
        .await
    {
        Ok(rollout) => Ok(rollout),
        // A transient failure stops nothing: the rollout is saved with what it owes, and a
        // retry of this request (same idempotency key) or the watchdog carries it on. A
        // healthy rollout is never rolled back because AWS hiccuped.
        Err(error) if error.error_type() == ErrorType::Retryable => {
            warn!(rollout_id = %rollout.id, error = %error, "first step interrupted; the rollout owes it");
            Err(FunctionError::retryable(format!(
                "rollout {} was created but its first step was interrupted ({error}); send the request again with the same idempotencyKey, or the watchdog resumes it",
                rollout.id
            )))
        }
        Err(error) => {
            // It cannot go on (the alias or a version vanished, say): do not leave the lock
            // held or traffic moved. Failing it rolls back whatever its first step moved.
            warn!(rollout_id = %rollout.id, error = %error, "first step failed; stopping the rollout");
            let reason = format!("could not start: {error}");
            let error_type = FunctionError::from(error).error_type;
            let outcome = Runner::new(ports, Role::Rollback)
                .with_deadline(deadline)
                .run(&rollout.id, Event::Failed { reason })
                .await;
            let now = match &outcome {
                Ok(stopped) if stopped.status.is_terminal() => format!(
                    "it is {} and the alias is wholly on version {}",
                    stopped.status, stopped.spec.current_version
                ),
                Ok(stopped) => format!(
                    "it is {}; the watchdog finishes restoring version {}",
                    stopped.status, stopped.spec.current_version
                ),
                Err(cleanup) => {
                    warn!(rollout_id = %rollout.id, error = %cleanup, "could not stop the rollout");
                    format!("stopping it failed too ({cleanup}); the watchdog re-drives it")
                }
            };
            Err(FunctionError {
                error_type,
                message: format!("rollout {} could not start: {now}", rollout.id),
            })
        }
    }
}

/// The same request again: answer with its rollout, and if that rollout was interrupted
/// before it got going (never started, or its effects unconfirmed), carry it on now rather
/// than wait for the watchdog.
pub(crate) async fn resume_existing<P: Ports>(
    ports: &P,
    existing: Rollout,
    deadline: Option<std::time::SystemTime>,
) -> Result<Started, FunctionError> {
    let interrupted = existing.owed_work().is_some_and(|work| {
        work.kind == OwedKind::Effects
            || (existing.status == Status::PreTraffic && existing.seq == 0)
    });
    if !interrupted {
        return Ok(started(ports, &existing, true));
    }
    info!(rollout_id = %existing.id, "resuming an interrupted rollout for a repeated request");
    let resumed = Runner::new(ports, Role::Start)
        .with_deadline(deadline)
        .run_on(existing, Event::Redrive)
        .await?;
    Ok(started(ports, &resumed, true))
}

fn started<P: Ports>(ports: &P, rollout: &Rollout, existing: bool) -> Started {
    Started {
        rollout: RolloutView::new(rollout, ports.take_call_counts()),
        existing,
        record: Box::new(rollout.clone()),
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "managed_alarms_tests.rs"]
mod managed_alarms_tests;
