//! Starting a release ([`glidepath_core::release`]): every member is checked as its own
//! rollout request would be (who asks, the guardrails, the alias, the versions, the alarms,
//! the hooks) before anything changes; then all members and their alias locks are created in
//! one transaction, all or none; then each member takes its first event and waits for the
//! others at the first barrier, where the last to arrive moves them all on.
//!
//! A bad member is named (`members[1] (orders-worker:live): ...`), and nothing is created.
//! The idempotency key is the release's: each member claims it on its own alias, and the
//! same request again answers with the release it started.

use crate::handler::{Prepared, create_with_alarms, first_step, prepare};
use glidepath_aws::clock::new_release_id;
use glidepath_aws::function::{FunctionError, Invocation, ReleaseView};
use glidepath_aws::ports::{Ports, RolloutStore};
use glidepath_aws::{ErrorType, Role, Runner};
use glidepath_core::release::{MAX_TRANSACTION_ITEMS, member_id, transaction_items};
use glidepath_core::{Actor, Event, OwedKind, Policy, ReleaseRequest, Rollout, Status};
use serde_json::Value;
use tracing::{info, warn};

/// What `start` answers for a release.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStarted {
    #[serde(flatten)]
    pub release: ReleaseView,
    /// The same request (idempotency key) started it before.
    pub existing: bool,
    /// The members as this start left them (for a caller that goes on with them: the
    /// pipeline).
    #[serde(skip)]
    pub members: Vec<Rollout>,
}

/// Where the request lists member `index`: `members[1]`, or `waves[1].members[0]`.
fn place(request: &ReleaseRequest, index: usize) -> String {
    let wave = request.waves[index];
    if request.waves.iter().all(|w| *w == 0) {
        return format!("members[{index}]");
    }
    let within = request.waves[..index]
        .iter()
        .filter(|w| **w == wave)
        .count();
    format!("waves[{wave}].members[{within}]")
}

/// A refusal of member `index`, named with its place and alias.
fn in_member(error: FunctionError, request: &ReleaseRequest, index: usize) -> FunctionError {
    let member = &request.members[index];
    FunctionError {
        error_type: error.error_type,
        message: format!(
            "{} ({}:{}): {}",
            place(request, index),
            member.function,
            member.alias,
            error.message
        ),
    }
}

/// Starts the release `body` asks for on behalf of `actor`.
pub async fn start_release<P: Ports>(
    ports: &P,
    body: &Value,
    actor: Actor,
    invocation: &Invocation,
    policy: &Policy,
    alarm_prefix: &str,
) -> Result<ReleaseStarted, FunctionError> {
    let deadline = invocation.deadline;
    let request = ReleaseRequest::from_json(body)?;
    let release_id = new_release_id();
    let ids: Vec<String> = (0..request.members.len())
        .map(|index| member_id(&release_id, index))
        .collect();
    let mut members: Vec<Rollout> = Vec::with_capacity(ids.len());
    let mut managed = Vec::new();
    for (index, member) in request.members.iter().enumerate() {
        let prepared = prepare(
            ports,
            member,
            &actor,
            invocation,
            policy,
            alarm_prefix,
            ids[index].clone(),
        )
        .await
        .map_err(|e| in_member(e, &request, index))?;
        match prepared {
            Prepared::New {
                rollout,
                managed: alarms,
            } => {
                members.push(*rollout);
                managed.extend(alarms);
            }
            // The same request again: its first member found the release it started.
            Prepared::Existing(existing)
                if index == 0 && existing.release.as_ref().is_some_and(|r| r.index == 0) =>
            {
                let members = same_release(ports, &request, &existing).await?;
                return resume_existing(ports, members, deadline).await;
            }
            Prepared::Existing(existing) => {
                return Err(in_member(
                    FunctionError::conflict(format!(
                        "`idempotencyKey`: the key was used for rollout {} of this alias, which is not this release's first member; use a new key for a new release",
                        existing.id
                    )),
                    &request,
                    index,
                ));
            }
        }
    }
    // One alias, one member: a name and an ARN of the same function are the same alias.
    for (index, member) in members.iter().enumerate() {
        let key = (member.spec.function_key(), member.spec.alias.as_str());
        if let Some(earlier) = members[..index]
            .iter()
            .position(|m| (m.spec.function_key(), m.spec.alias.as_str()) == key)
        {
            return Err(in_member(
                FunctionError::invalid(format!(
                    "`function`: the same alias as {} ({}); each alias is in a release once",
                    place(&request, earlier),
                    key.0
                )),
                &request,
                index,
            ));
        }
    }
    let alarms: Vec<usize> = members.iter().map(|m| m.spec.alarms.len()).collect();
    let keyed = members.iter().any(|m| m.spec.idempotency_key.is_some());
    let items = transaction_items(&alarms, keyed);
    if items > MAX_TRANSACTION_ITEMS {
        return Err(FunctionError::invalid(format!(
            "`members`: this release takes {items} items to create in one DynamoDB transaction (per member its record, lock, history item, one watch per alarm and its key); the limit is {MAX_TRANSACTION_ITEMS}: fewer members or fewer alarms"
        )));
    }
    for (index, member) in members.iter_mut().enumerate() {
        member.release = Some(request.membership(&release_id, &ids, index));
    }
    if let Some(existing) = create_with_alarms(ports, &members, &managed).await? {
        let members = same_release(ports, &request, &existing).await?;
        return resume_existing(ports, members, deadline).await;
    }
    info!(release = %release_id, name = ?request.name, members = members.len(), actor = %actor, "release created");
    // Each first-wave member's first event: the last to reach the first barrier moves them
    // all on. Later waves are started by the release when the earlier ones are done.
    let store = ports.store();
    for member in members.iter().filter(|m| m.wave() == 0) {
        // A member the release already moved (rolled back for another) is not started.
        match store.load(&member.id).await? {
            Some(stored) if stored.status == Status::PreTraffic && stored.seq == 0 => {}
            _ => continue,
        }
        if let Err(error) = first_step(ports, member.clone(), actor.clone(), deadline).await {
            warn!(release = %release_id, rollout_id = %member.id, error = %error.message, "a member's first step did not finish");
            if error.error_type == ErrorType::Retryable.as_str() {
                return Err(FunctionError::retryable(format!(
                    "release {release_id} was created but a member's first step was interrupted ({}); send the request again with the same idempotencyKey, or the watchdog resumes it",
                    error.message
                )));
            }
            return Err(error);
        }
    }
    let runner = Runner::new(ports, Role::Start);
    let stored = runner
        .load_members(members[0].release.as_ref().expect("set above"))
        .await?;
    Ok(ReleaseStarted {
        release: ReleaseView::new(&stored, ports.take_call_counts()),
        existing: false,
        members: stored,
    })
}

/// The same request again: answer with its release, carrying on members that were
/// interrupted before they got going.
async fn resume_existing<P: Ports>(
    ports: &P,
    members: Vec<Rollout>,
    deadline: Option<std::time::SystemTime>,
) -> Result<ReleaseStarted, FunctionError> {
    let runner = Runner::new(ports, Role::Start).with_deadline(deadline);
    let mut resumed = false;
    for member in &members {
        let interrupted = member.owed_work().is_some_and(|work| {
            work.kind == OwedKind::Effects
                || (member.status == Status::PreTraffic && member.seq == 0)
        });
        if interrupted {
            info!(rollout_id = %member.id, "resuming an interrupted member for a repeated request");
            runner.run_on(member.clone(), Event::Redrive).await?;
            resumed = true;
        }
    }
    // Read again only what a resume may have moved.
    let members = match members.first() {
        Some(first) if resumed => {
            runner
                .load_members(first.release.as_ref().expect("a member"))
                .await?
        }
        _ => members,
    };
    Ok(ReleaseStarted {
        release: ReleaseView::new(&members, ports.take_call_counts()),
        existing: true,
        members,
    })
}

/// Refuses the same key with a different release: every member (function, alias, version,
/// strategy, alarms, hooks...), the waves and `earlierWaves` must be the same.
async fn same_release<P: Ports>(
    ports: &P,
    request: &ReleaseRequest,
    first: &Rollout,
) -> Result<Vec<Rollout>, FunctionError> {
    let Some(release) = &first.release else {
        return Err(FunctionError::conflict(format!(
            "`idempotencyKey`: the key was used for rollout {}, not for a release",
            first.id
        )));
    };
    let members = Runner::new(ports, Role::Start)
        .members_of(first.clone())
        .await?;
    let mut differ: Vec<String> = Vec::new();
    if members.len() != request.members.len() {
        differ.push(format!(
            "members ({} then, {} now)",
            members.len(),
            request.members.len()
        ));
    } else {
        for (index, (member, asked)) in members.iter().zip(&request.members).enumerate() {
            // A name and an ARN of one function are one alias.
            let same_function = if asked.function.starts_with("arn:") {
                glidepath_core::unqualified_function_arn(&asked.function)
                    == member.spec.function_key()
            } else {
                asked.function == member.spec.function_name()
            };
            let same_alias = asked.alias == member.spec.alias && same_function;
            let mut fields: Vec<&str> = crate::handler::differences(asked, member);
            if !same_alias {
                fields.insert(0, "function/alias");
            }
            if member.release.as_ref().map(|r| r.wave) != request.waves.get(index).copied() {
                fields.push("wave");
            }
            if !fields.is_empty() {
                differ.push(format!("{} ({})", place(request, index), fields.join(", ")));
            }
        }
    }
    if release.earlier_waves != request.earlier_waves {
        differ.push("earlierWaves".into());
    }
    if differ.is_empty() {
        return Ok(members);
    }
    Err(FunctionError::conflict(format!(
        "`idempotencyKey`: the key was used for release {} with a different {}; use a new key for a new release",
        release.id,
        differ.join("; ")
    )))
}

#[cfg(test)]
#[path = "release_tests.rs"]
mod tests;
