//! Coordinating a release ([`glidepath_core::release`]): when a member reaches a barrier or
//! goes bad, the runner loads every member and carries out [`coordinate`]'s decision. An
//! advance is written for all members in one transaction (`save_all`, conditional on each
//! member's `seq`), then each member's effects run as after any write; a rollback is an
//! ordinary event for each member still going. Two coordinators at once are harmless: one
//! advance wins the transaction, the other finds the members moved on.

use super::{Run, RunError, Runner};
use crate::error::PortError;
use crate::ports::{Ports, RolloutStore};
use glidepath_core::release::{Coordination, ReleaseMembership, coordinate};
use glidepath_core::{Actor, Event, Rollout, Transition, transition};
use tracing::{info, warn};

/// How many decisions one coordination carries out before leaving the rest to the next
/// event (each advance is a plan step; a release has at most `MAX_PLAN_STEPS` and a few
/// stages).
const MAX_ROUNDS: usize = 64;

impl<P: Ports> Runner<'_, P> {
    /// A runner that carries out a release's decisions: its events are Glidepath's own, and
    /// the members it moves do not coordinate again.
    fn coordinator(&self) -> Runner<'_, P> {
        Runner {
            ports: self.ports,
            role: self.role,
            deadline: self.deadline,
            actor: Actor::glidepath(self.role.component()),
            coordinating: true,
        }
    }

    /// After a member's run asked for it: coordinate its release, with what this run did
    /// recorded first. A failure is logged, not returned: the member's own change is done,
    /// and the release is coordinated again by the next member to arrive, or by the
    /// watchdog (a member waiting at a barrier is owed work).
    pub(super) async fn coordinate_after(&self, run: &mut Run) {
        if self.coordinating || run.rollout.release.is_none() {
            return;
        }
        if run.dirty && !matches!(self.checkpoint(run).await, Ok(true)) {
            return;
        }
        if let Err(error) = Box::pin(self.coordinate_release(&run.rollout)).await {
            warn!(rollout_id = %run.rollout.id, error = %error, "could not coordinate the release; the next member or the watchdog does");
        }
        // The coordinator may have moved this member on: its record is the truth now.
        if let Ok(stored) = self.reload(&run.rollout.id).await {
            if stored.seq != run.rollout.seq {
                run.rollout = stored;
                run.dirty = false;
                run.pending.clear();
            }
        }
    }

    /// Loads every member of `member`'s release and carries out the release's decisions
    /// until it is to wait.
    pub async fn coordinate_release(&self, member: &Rollout) -> Result<(), RunError> {
        let Some(release) = &member.release else {
            return Ok(());
        };
        let coordinator = self.coordinator();
        for _ in 0..MAX_ROUNDS {
            let members = self.load_members(release).await?;
            match coordinate(&members) {
                Coordination::Wait => return Ok(()),
                Coordination::Advance { from } => {
                    Box::pin(coordinator.advance_together(members, from)).await?;
                }
                Coordination::RollBack {
                    cause,
                    reason,
                    targets,
                } => {
                    info!(release = %release.id, cause = %cause, "a member went bad; rolling the release back");
                    for index in targets {
                        let event = Event::ReleaseRollBack {
                            member: cause.clone(),
                            reason: reason.clone(),
                        };
                        Box::pin(coordinator.run_on(members[index].clone(), event)).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every member of `release`, in order; a member that is not found is an error.
    pub async fn load_members(
        &self,
        release: &ReleaseMembership,
    ) -> Result<Vec<Rollout>, RunError> {
        let mut members = Vec::with_capacity(release.members.len());
        for id in &release.members {
            members.push(self.reload(id).await?);
        }
        Ok(members)
    }

    /// Moves every member on from the barrier at `from`, in one write; then each member's
    /// effects run. A member that changed since it was read loses the whole write: the
    /// caller reads them all again.
    async fn advance_together(
        &self,
        members: Vec<Rollout>,
        from: glidepath_core::release::BarrierPosition,
    ) -> Result<(), RunError> {
        let now = self.ports.now();
        let event = Event::ReleaseAdvance { from };
        let mut steps: Vec<Transition> = Vec::with_capacity(members.len());
        for member in &members {
            let mut step = transition(member, event.clone(), now)?;
            step.rollout.actor = Some(self.actor_of(&event));
            steps.push(step);
        }
        let writes: Vec<(u64, Rollout)> = members
            .iter()
            .zip(&steps)
            .map(|(member, step)| (member.seq, step.rollout.clone()))
            .collect();
        match self.ports.store().save_all(&writes, event.name()).await {
            Ok(()) => {}
            Err(PortError::Conflict(reason)) => {
                info!(reason = %reason, "a member changed before the release moved on; reading them again");
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        }
        if let Some(first) = steps.first() {
            info!(release = ?first.rollout.release.as_ref().map(|r| &r.id), from = ?from.from,
                step = ?from.step_index, status = %first.rollout.status, weight = %first.rollout.weight,
                "release moved on");
        }
        for step in steps {
            self.run_written(step, event.clone()).await?;
        }
        Ok(())
    }
}
