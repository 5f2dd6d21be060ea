//! A CodePipeline **Lambda invoke** action that stays open until its rollout ends.
//!
//! - **First invocation** (no continuation token): the action's `UserParameters` are a
//!   rollout request (the JSON `start` takes). It is started through `start`'s own logic
//!   (`glidepath_start::handler::start_request`), with the job id as its idempotency key
//!   and `codepipeline:<account>` as its actor. The job is then told the rollout is in
//!   progress, with the rollout id as the continuation token.
//! - **Each re-invocation** (the token): the rollout is read and the job told how far it is
//!   (weight, step), until it ends: success with the output variables `rolloutId`,
//!   `version`, `previousVersion` and `status`, or failure with the reason it rolled back.
//! - A bad request fails the job (`ConfigurationError`) naming the field, and starts nothing;
//!   a policy refusal is a `PermissionError`; a held alias (`Conflict`) is `JobFailed`.
//! - A transient AWS failure is returned as the function's error: CodePipeline invokes
//!   asynchronously, so Lambda delivers the same event again (twice) and the idempotency
//!   key makes the repeat carry the same rollout on.
//!
//! CodePipeline gives the action 24 hours in all ([`ACTION_LIMIT_SECONDS`]). A request whose
//! plan alone waits longer is refused up front; a rollout still unfinished
//! [`ROLLBACK_MARGIN_SECONDS`] before the limit (held at a gate, say) is rolled back and the
//! job failed, so the pipeline and production never disagree: a job that failed has its
//! version wholly off the alias.
//!
//! A release request (`members` or `waves`) is taken the same way: its continuation token is
//! the release id ([`crate::release`]).
//!
//! The job event carries credentials: it is never logged ([`crate::job`] blanks them first).

use crate::job::{FailureKind, Job, JobReport, JobResults, Reported, SUMMARY_LIMIT, truncate};
use glidepath_aws::function::{FunctionError, Invocation};
use glidepath_aws::ports::{Ports, RolloutStore};
use glidepath_aws::{ErrorType, Role, Runner};
use glidepath_core::{
    Action, Actor, Event, Policy, ReleaseRequest, Rollout, RolloutRequest, Status, UnixSeconds,
};
use glidepath_start::handler::start_request;
use glidepath_start::release::start_release;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use tracing::{info, warn};

/// How long CodePipeline lets a Lambda invoke action run, continuations included (AWS
/// CodePipeline quotas: "AWS Lambda invoke action: 24 hours").
pub const ACTION_LIMIT_SECONDS: u64 = 24 * 3600;
/// Kept back from the limit: a rollout still unfinished this long before it is rolled back,
/// with time for the rollback and the report (CodePipeline does not document how often it
/// invokes again, so the margin is generous).
pub const ROLLBACK_MARGIN_SECONDS: u64 = 30 * 60;

/// What the function did with a job (its result; CodePipeline itself reads only the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOutcome {
    pub job_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_id: Option<String>,
    /// `inProgress`, `succeeded` or `failed`.
    pub reported: &'static str,
    /// The summary or failure message sent.
    pub detail: String,
    /// The job already had its result (a repeated delivery): nothing was changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_finished: bool,
}

/// What the pipeline function is configured with.
pub struct Settings<'a> {
    pub policy: &'a Policy,
    pub alarm_prefix: &'a str,
}

/// Handles one job event: starts or follows its rollout and reports to CodePipeline.
pub async fn handle<P: Ports, J: JobResults>(
    ports: &P,
    jobs: &J,
    event: Value,
    invocation: &Invocation,
    settings: &Settings<'_>,
) -> Result<JobOutcome, FunctionError> {
    let job = Job::parse(event)?;
    if let (Some(ours), Some(theirs)) = (invocation.account.as_deref(), job.account.as_deref()) {
        if ours != theirs {
            return Err(FunctionError::invalid(format!(
                "`CodePipeline.job.accountId`: the job belongs to account {theirs}; this Glidepath runs in {ours} and takes its own account's jobs only"
            )));
        }
    }
    let (report, rollout_id) = match &job.continuation_token {
        None => first(ports, &job, invocation, settings).await?,
        Some(token) => (
            follow(ports, &job, token, settings.policy).await?,
            Some(token.clone()),
        ),
    };
    let reported = jobs.report(&job.id, &report).await?;
    let (kind, detail) = match &report {
        JobReport::InProgress { summary, .. } => ("inProgress", summary.clone()),
        JobReport::Succeeded { summary, .. } => ("succeeded", summary.clone()),
        JobReport::Failed { message, .. } => ("failed", message.clone()),
    };
    info!(job_id = %job.id, rollout_id = ?rollout_id, reported = kind,
        already_finished = reported == Reported::AlreadyFinished, "job reported");
    Ok(JobOutcome {
        job_id: job.id,
        rollout_id,
        reported: kind,
        detail,
        already_finished: reported == Reported::AlreadyFinished,
    })
}

/// The first invocation: validate, start, and report.
async fn first<P: Ports>(
    ports: &P,
    job: &Job,
    invocation: &Invocation,
    settings: &Settings<'_>,
) -> Result<(JobReport, Option<String>), FunctionError> {
    let body = match request_of(job) {
        Ok(body) => body,
        Err(message) => {
            info!(job_id = %job.id, "job refused: bad request");
            return Ok((
                JobReport::failed(FailureKind::ConfigurationError, &message, None),
                None,
            ));
        }
    };
    let actor = Actor::code_pipeline(job.account.as_deref().unwrap_or("unknown"));
    if ReleaseRequest::is_release(&body) {
        return first_release(ports, job, &body, actor, invocation, settings).await;
    }
    match start_request(
        ports,
        &body,
        actor.clone(),
        invocation,
        settings.policy,
        settings.alarm_prefix,
    )
    .await
    {
        Ok(started) => {
            let id = started.rollout.rollout_id;
            info!(job_id = %job.id, rollout_id = %id, existing = started.existing, "rollout started for a pipeline job");
            Ok((
                report_on(ports, &started.record, Some((&actor, settings.policy))).await?,
                Some(id),
            ))
        }
        Err(error) => refused(job, error),
    }
}

/// A start that failed: a transient failure is the function's error (Lambda delivers the
/// event again); anything else fails the job, by kind.
fn refused(job: &Job, error: FunctionError) -> Result<(JobReport, Option<String>), FunctionError> {
    if error.error_type == ErrorType::Retryable.as_str() {
        return Err(error);
    }
    let kind = if error.error_type == ErrorType::InvalidRequest.as_str() {
        FailureKind::ConfigurationError
    } else if error.error_type == ErrorType::Forbidden.as_str() {
        FailureKind::PermissionError
    } else {
        FailureKind::JobFailed
    };
    info!(job_id = %job.id, error_type = %error.error_type, "job refused");
    Ok((
        JobReport::failed(
            kind,
            &format!("{}: {}", error.error_type, error.message),
            None,
        ),
        None,
    ))
}

/// The first invocation of a job whose request is a release.
async fn first_release<P: Ports>(
    ports: &P,
    job: &Job,
    body: &Value,
    actor: Actor,
    invocation: &Invocation,
    settings: &Settings<'_>,
) -> Result<(JobReport, Option<String>), FunctionError> {
    match start_release(
        ports,
        body,
        actor.clone(),
        invocation,
        settings.policy,
        settings.alarm_prefix,
    )
    .await
    {
        Ok(started) => {
            let id = started.release.release_id.clone();
            info!(job_id = %job.id, release = %id, existing = started.existing, "release started for a pipeline job");
            Ok((
                crate::release::report_on(ports, started.members, &actor, settings.policy).await?,
                Some(id),
            ))
        }
        Err(error) => refused(job, error),
    }
}

/// The members of release `id`, if it is one.
async fn release_members<P: Ports>(
    ports: &P,
    id: &str,
) -> Result<Option<Vec<Rollout>>, FunctionError> {
    let Some(first) = ports
        .store()
        .load(&glidepath_core::release::member_id(id, 0))
        .await?
    else {
        return Ok(None);
    };
    if first.release.is_none() {
        return Ok(None);
    }
    Ok(Some(
        Runner::new(ports, Role::Step).members_of(first).await?,
    ))
}

/// The rollout request in a job's `UserParameters`, with the job id as its idempotency key;
/// or why it is not one (naming the field). Checks what only the pipeline adds: that
/// CodePipeline replaced every variable, that no other idempotency key is given, and that
/// the plan fits in the action's time.
fn request_of(job: &Job) -> Result<Value, String> {
    let Some(text) = job
        .user_parameters
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    else {
        return Err(
            "`UserParameters`: missing; put the rollout request (the JSON `start` takes) there"
                .into(),
        );
    };
    if let Some(at) = text.find("#{") {
        let variable: String = text[at..].chars().take_while(|c| *c != '}').collect();
        return Err(format!(
            "`UserParameters`: `{variable}}}` was not replaced; check the action's namespace and the variable's name"
        ));
    }
    let mut body: Value = serde_json::from_str(text)
        .map_err(|e| format!("`UserParameters`: not a JSON rollout request: {e}"))?;
    let Some(object) = body.as_object_mut() else {
        return Err("`UserParameters`: expected a JSON object (a rollout request)".into());
    };
    if object.contains_key("idempotencyKey") {
        return Err(
            "`idempotencyKey`: the pipeline action uses the job id as the key; leave it out".into(),
        );
    }
    object.insert("idempotencyKey".into(), Value::from(job.id.clone()));
    if ReleaseRequest::is_release(&body) {
        let release = ReleaseRequest::from_json(&body).map_err(|e| e.to_string())?;
        crate::release::fits(&release)?;
        return Ok(body);
    }
    let request = RolloutRequest::from_json(&body).map_err(|e| e.to_string())?;
    let waits = request.plan.total_wait_seconds() + request.bake_seconds;
    let room = ACTION_LIMIT_SECONDS - ROLLBACK_MARGIN_SECONDS;
    if waits > room {
        return Err(format!(
            "`strategy`: its waits and bake add up to {}, more than the {} a CodePipeline Lambda action may run (24 h, less {} kept to roll back and report); use a shorter plan, or start it outside the pipeline",
            glidepath_core::format_duration(waits),
            glidepath_core::format_duration(room),
            glidepath_core::format_duration(ROLLBACK_MARGIN_SECONDS)
        ));
    }
    Ok(body)
}

/// A re-invocation: the token is the rollout id; the rollout must be this job's (started by a
/// pipeline of this account, with this job's id as its key).
async fn follow<P: Ports>(
    ports: &P,
    job: &Job,
    token: &str,
    policy: &Policy,
) -> Result<JobReport, FunctionError> {
    let actor = Actor::code_pipeline(job.account.as_deref().unwrap_or("unknown"));
    let stored = ports.store().load(token).await?;
    if stored.is_none() {
        if let Some(members) = release_members(ports, token).await? {
            let ours = members.first().is_some_and(|m| {
                m.spec.idempotency_key.as_deref() == Some(job.id.as_str())
                    && m.spec.requested_by.as_ref() == Some(&actor)
            });
            if !ours {
                warn!(job_id = %job.id, release = %token, "continuation token names another job's release");
                return Ok(JobReport::failed(
                    FailureKind::JobFailed,
                    &format!(
                        "the continuation token names release {token}, which this job did not start; nothing was changed"
                    ),
                    None,
                ));
            }
            return crate::release::report_on(ports, members, &actor, policy).await;
        }
    }
    let Some(rollout) = stored else {
        return Ok(JobReport::failed(
            FailureKind::JobFailed,
            &format!(
                "the continuation token names no rollout ({token}): the rollout record is gone (past its retention?)"
            ),
            None,
        ));
    };
    if rollout.spec.idempotency_key.as_deref() != Some(job.id.as_str())
        || rollout.spec.requested_by.as_ref() != Some(&actor)
    {
        warn!(job_id = %job.id, rollout_id = %rollout.id, "continuation token names another job's rollout");
        return Ok(JobReport::failed(
            FailureKind::JobFailed,
            &format!(
                "the continuation token names rollout {}, which this job did not start; nothing was changed",
                rollout.id
            ),
            None,
        ));
    }
    report_on(ports, &rollout, Some((&actor, policy))).await
}

/// Where `rollout` stands, as a report; rolls it back first if the action's time is nearly up
/// (and `may_abort` says who asks: the pipeline must be allowed to `abort` the alias).
async fn report_on<P: Ports>(
    ports: &P,
    rollout: &Rollout,
    may_abort: Option<(&Actor, &Policy)>,
) -> Result<JobReport, FunctionError> {
    if rollout.status.is_terminal() {
        return Ok(finished(rollout));
    }
    let deadline = rollout.created_at + ACTION_LIMIT_SECONDS - ROLLBACK_MARGIN_SECONDS;
    if ports.now() >= deadline {
        if let Some((actor, policy)) = may_abort {
            if let Err(refused) =
                glidepath_aws::entry::authorize(policy, actor, Action::Abort, rollout)
            {
                warn!(rollout_id = %rollout.id, refused = %refused, "pipeline out of time but not allowed to abort");
                return Ok(JobReport::failed(
                    FailureKind::JobFailed,
                    &format!(
                        "the CodePipeline action's 24 h are nearly up and rollout {} is still {}; the pipeline may not abort it ({refused}), so it goes on: finish or abort it by hand",
                        rollout.id,
                        rollout.status.as_str()
                    ),
                    Some(rollout.id.clone()),
                ));
            }
        }
        return out_of_time(ports, rollout).await;
    }
    Ok(JobReport::InProgress {
        token: rollout.id.clone(),
        summary: truncate(&summary(rollout, ports.now()), SUMMARY_LIMIT),
        percent: percent(rollout),
        external_id: rollout.id.clone(),
    })
}

/// The report of a rollout that has ended.
fn finished(rollout: &Rollout) -> JobReport {
    let spec = &rollout.spec;
    if rollout.status == Status::Succeeded {
        let variables = BTreeMap::from([
            ("rolloutId".to_string(), rollout.id.clone()),
            ("version".to_string(), spec.target_version.clone()),
            ("previousVersion".to_string(), spec.current_version.clone()),
            ("status".to_string(), rollout.status.as_str().to_string()),
        ]);
        return JobReport::Succeeded {
            summary: format!(
                "{}:{} is wholly on version {} (rollout {})",
                spec.function_name(),
                spec.alias,
                spec.target_version,
                rollout.id
            ),
            external_id: rollout.id.clone(),
            variables,
        };
    }
    let reason = rollout.reason.as_deref().unwrap_or("no reason recorded");
    JobReport::failed(
        FailureKind::JobFailed,
        &format!(
            "rollout {} {}: {reason}. {}:{} is on version {}",
            rollout.id,
            rollout.status.as_str(),
            spec.function_name(),
            spec.alias,
            spec.current_version
        ),
        Some(rollout.id.clone()),
    )
}

/// The action's time is nearly up and the rollout has not ended: roll it back, fail the job.
async fn out_of_time<P: Ports>(ports: &P, rollout: &Rollout) -> Result<JobReport, FunctionError> {
    let reason = format!(
        "the CodePipeline action's 24 h were nearly up and the rollout was still {}; rolled back so the failed job leaves version {} off the alias",
        rollout.status.as_str(),
        rollout.spec.target_version
    );
    warn!(rollout_id = %rollout.id, "pipeline action out of time; rolling back");
    let after = Runner::new(ports, Role::Rollback)
        .run_on(rollout.clone(), Event::Failed { reason })
        .await?;
    if after.status.is_terminal() {
        return Ok(finished(&after));
    }
    // Still rolling back (handed off, or an AWS call to finish): the job fails now, saying so.
    Ok(JobReport::failed(
        FailureKind::JobFailed,
        &format!(
            "rollout {} is {}: {}",
            after.id,
            after.status.as_str(),
            after.reason.as_deref().unwrap_or("rolling back")
        ),
        Some(after.id.clone()),
    ))
}

/// `percentComplete`: the weight on the new version, in whole percent.
fn percent(rollout: &Rollout) -> i32 {
    // Hundredths of a percent, 0..=10_000: always fits.
    i32::from(rollout.weight.hundredths() / 100)
}

/// One line on where a rollout is, for the pipeline console.
pub fn summary(rollout: &Rollout, now: UnixSeconds) -> String {
    let spec = &rollout.spec;
    let steps = rollout.plan.len();
    let step = rollout
        .step_index
        .map(|i| format!(", step {} of {steps}", i + 1))
        .unwrap_or_default();
    let next = rollout
        .next_tick_at
        .filter(|at| *at > now)
        .map(|at| {
            format!(
                ", next check in {}",
                glidepath_core::format_duration(at - now)
            )
        })
        .unwrap_or_default();
    let hint = match rollout.status {
        Status::Paused => format!(" (resume with `glidepath resume {}`)", rollout.id),
        _ => String::new(),
    };
    format!(
        "{}: {} % of {}:{} on version {} (from {}){step}{next}{hint}; rollout {}",
        rollout.status.as_str(),
        rollout.weight,
        spec.function_name(),
        spec.alias,
        spec.target_version,
        spec.current_version,
        rollout.id
    )
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
