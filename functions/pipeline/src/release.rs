//! The pipeline action for a release: `UserParameters` may be a release request (`members`
//! or `waves`, see `glidepath_core::release_request`). It is started through `start`'s own
//! release logic with the job id as its idempotency key; the continuation token is the
//! release id; the job succeeds when every member has, with the output variables
//! `releaseId`, `status` and `members` (how many), and fails with the release's reason as
//! soon as it has gone back. The 24 hours of the action count every wave: a release whose
//! waves' plans and bakes add up to more is refused up front, and one still unfinished near
//! the limit is aborted as a whole.

use crate::handler::{ACTION_LIMIT_SECONDS, ROLLBACK_MARGIN_SECONDS};
use crate::job::{FailureKind, JobReport, SUMMARY_LIMIT, truncate};
use glidepath_aws::function::{FunctionError, ReleaseView};
use glidepath_aws::ports::Ports;
use glidepath_aws::{Role, Runner};
use glidepath_core::release::release_status;
use glidepath_core::{Action, Actor, Event, Policy, ReleaseRequest, Rollout, Status};
use std::collections::BTreeMap;
use tracing::warn;

/// Whether the plan of `request` (each wave in turn: its plan's waits and its bake) fits in
/// the action's time; the refusal names the field when it does not.
pub fn fits(request: &ReleaseRequest) -> Result<(), String> {
    let Some(first) = request.members.first() else {
        return Ok(());
    };
    let waves = request.waves.iter().max().map_or(1, |w| w + 1) as u64;
    let waits = (first.plan.total_wait_seconds() + first.bake_seconds) * waves;
    let room = ACTION_LIMIT_SECONDS - ROLLBACK_MARGIN_SECONDS;
    if waits > room {
        return Err(format!(
            "`strategy`: its waits and bake, over {waves} wave(s), add up to {}, more than the {} a CodePipeline Lambda action may run (24 h, less {} kept to roll back and report); use a shorter plan or fewer waves",
            glidepath_core::format_duration(waits),
            glidepath_core::format_duration(room),
            glidepath_core::format_duration(ROLLBACK_MARGIN_SECONDS)
        ));
    }
    Ok(())
}

/// Where a release stands, as a report; aborts it first if the action's time is nearly up
/// (when the pipeline may abort every member).
pub async fn report_on<P: Ports>(
    ports: &P,
    members: Vec<Rollout>,
    actor: &Actor,
    policy: &Policy,
) -> Result<JobReport, FunctionError> {
    let view = ReleaseView::new(&members, BTreeMap::new());
    let id = view.release_id.clone();
    if members.iter().all(|m| m.status.is_terminal()) {
        return Ok(finished(&view));
    }
    let created = members.iter().map(|m| m.created_at).min().unwrap_or(0);
    if ports.now() >= created + ACTION_LIMIT_SECONDS - ROLLBACK_MARGIN_SECONDS {
        for member in &members {
            if let Err(refused) =
                glidepath_aws::entry::authorize(policy, actor, Action::Abort, member)
            {
                return Ok(JobReport::failed(
                    FailureKind::JobFailed,
                    &format!(
                        "the CodePipeline action's 24 h are nearly up and release {id} is still {}; the pipeline may not abort it ({refused}), so it goes on: finish or abort it by hand",
                        view.status.as_str()
                    ),
                    Some(id),
                ));
            }
        }
        warn!(release = %id, "pipeline action out of time; rolling the release back");
        let reason = format!(
            "the CodePipeline action's 24 h were nearly up and release {id} was still {}",
            view.status.as_str()
        );
        let after = Runner::new(ports, Role::Rollback)
            .command_release(members, Event::Abort { reason })
            .await?;
        let view = ReleaseView::new(&after, BTreeMap::new());
        return Ok(JobReport::failed(
            FailureKind::JobFailed,
            &format!(
                "release {id} is {}: {}",
                view.status.as_str(),
                view.reason.as_deref().unwrap_or("rolling back")
            ),
            Some(id),
        ));
    }
    Ok(JobReport::InProgress {
        token: id.clone(),
        summary: truncate(&summary(&members), SUMMARY_LIMIT),
        percent: percent(&members),
        external_id: id,
    })
}

/// The report of a release whose members have all ended.
fn finished(view: &ReleaseView) -> JobReport {
    if view.status == Status::Succeeded {
        return JobReport::Succeeded {
            summary: format!(
                "release {}: all {} members are wholly on their new versions",
                view.release_id,
                view.members.len()
            ),
            external_id: view.release_id.clone(),
            variables: BTreeMap::from([
                ("releaseId".to_string(), view.release_id.clone()),
                ("status".to_string(), view.status.as_str().to_string()),
                ("members".to_string(), view.members.len().to_string()),
            ]),
        };
    }
    // With `earlierWaves: keep`, the waves that finished stay on their new versions: say so.
    let kept: Vec<String> = view
        .members
        .iter()
        .filter(|m| m.status == Status::Succeeded)
        .map(|m| format!("{}:{} on version {}", m.function, m.alias, m.target_version))
        .collect();
    let where_now = if kept.is_empty() {
        "Every member is back on its previous version".to_string()
    } else {
        format!(
            "Earlier waves kept their new versions ({}); every other member is back on its previous version",
            kept.join(", ")
        )
    };
    JobReport::failed(
        FailureKind::JobFailed,
        &format!(
            "release {} {}: {}. {where_now}",
            view.release_id,
            view.status.as_str(),
            view.reason.as_deref().unwrap_or("no reason recorded")
        ),
        Some(view.release_id.clone()),
    )
}

/// `percentComplete` of a release: each member's weight, a finished member counting 100.
fn percent(members: &[Rollout]) -> i32 {
    let total: u32 = members
        .iter()
        .map(|m| {
            if m.status == Status::Succeeded || m.finished_wave() {
                100
            } else {
                u32::from(m.weight.hundredths() / 100)
            }
        })
        .sum();
    i32::try_from(total / members.len().max(1) as u32).unwrap_or(0)
}

/// One line on where a release is: its status, the wave at work, each member's weight.
pub fn summary(members: &[Rollout]) -> String {
    let release = members.first().and_then(|m| m.release.as_ref());
    let waves = members.iter().map(Rollout::wave).max().unwrap_or(0) + 1;
    let wave = members
        .iter()
        .filter(|m| !m.finished_wave() && !m.is_unstarted())
        .map(Rollout::wave)
        .min()
        .unwrap_or(0);
    let parts: Vec<String> = members
        .iter()
        .map(|m| format!("{}:{} {} %", m.spec.function_name(), m.spec.alias, m.weight))
        .collect();
    let waves = if waves > 1 {
        format!(", wave {} of {waves}", wave + 1)
    } else {
        String::new()
    };
    format!(
        "{}{waves}: {}; release {}",
        release_status(members).as_str(),
        parts.join(", "),
        release.map_or("?", |r| r.id.as_str())
    )
}
