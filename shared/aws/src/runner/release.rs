//! Coordinating a release ([`glidepath_core::release`]): when a member reaches a barrier or
//! goes bad, the runner loads every member and carries out [`coordinate`]'s decision. An
//! advance is written for all members in one transaction (`save_all`, conditional on each
//! member's `seq`), then each member's effects run as after any write; a rollback is an
//! ordinary event for each member still going. Two coordinators at once are harmless: one
//! advance wins the transaction, the other finds the members moved on.

use super::{Role, Run, RunError, Runner};
use crate::error::PortError;
use crate::ports::{AliasRouter, Dispatcher, HandOff, Ports, RolloutStore};
use glidepath_core::release::{Coordination, ReleaseMembership, coordinate, is_settled};
use glidepath_core::{Actor, Event, Rollout, Status, Transition, transition};
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
            actor: Actor::glidepath(self.role.component()),
            coordinating: true,
            ..*self
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
        // `finalize` and `check-alarms` may not do everything moving a release takes (start a
        // wave, schedule ticks, end a member that never started): `step` does it for them.
        if matches!(self.role, Role::Finalize | Role::CheckAlarms) {
            if let Err(error) = self
                .ports
                .dispatcher()
                .hand_off(HandOff::Redrive, &run.rollout.id)
                .await
            {
                warn!(rollout_id = %run.rollout.id, error = %error, "could not hand the release's coordination to step; the watchdog does");
            }
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
        match &member.release {
            Some(release) => self.coordinate_members(release).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// [`Runner::coordinate_release`] of `release`; the members as the last round read them.
    async fn coordinate_members(
        &self,
        release: &ReleaseMembership,
    ) -> Result<Vec<Rollout>, RunError> {
        let coordinator = self.coordinator();
        let mut members = Vec::new();
        for _ in 0..MAX_ROUNDS {
            members = self.load_members(release).await?;
            match coordinate(&members) {
                Coordination::Wait if is_settled(&members) => {
                    self.settle(&members).await?;
                    return Ok(members);
                }
                Coordination::Wait => return Ok(members),
                Coordination::Advance { from, targets } => {
                    let moving: Vec<Rollout> =
                        targets.iter().map(|&i| members[i].clone()).collect();
                    // Members that waited at 100 % (a finished wave, perhaps for hours) succeed
                    // only if their aliases are still where Glidepath left them.
                    if from.from == Status::PostTraffic {
                        if let Some((member, detail)) = coordinator.moved_alias(&moving).await? {
                            warn!(rollout_id = %member.id, detail = %detail, "a member's alias moved while it waited to succeed");
                            Box::pin(coordinator.run_on(member, Event::Drift { detail })).await?;
                            continue;
                        }
                    }
                    Box::pin(coordinator.advance_together(moving, from)).await?;
                }
                Coordination::StartWave { wave, targets } => {
                    info!(release = %release.id, wave, "the earlier waves are done; starting the next");
                    for index in targets {
                        Box::pin(coordinator.run_on(members[index].clone(), Event::Start)).await?;
                    }
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
        Ok(members)
    }

    /// The first of `members` whose alias no longer holds 100 % of its target version, with
    /// what it holds instead.
    async fn moved_alias(
        &self,
        members: &[Rollout],
    ) -> Result<Option<(Rollout, String)>, RunError> {
        for member in members {
            let spec = &member.spec;
            let found = match self
                .ports
                .router()
                .read_alias(&spec.function, &spec.alias)
                .await
            {
                Ok(found) => found,
                Err(PortError::NotFound(detail)) => {
                    return Ok(Some((
                        member.clone(),
                        format!("the alias is gone ({detail})"),
                    )));
                }
                Err(error) => return Err(error.into()),
            };
            if !found.holds(spec, glidepath_core::Weight::FULL) {
                let detail = format!(
                    "alias {}:{} points at version {} (revision {}) while the member waited to succeed on version {}",
                    spec.function, spec.alias, found.version, found.revision, spec.target_version
                );
                return Ok(Some((member.clone(), detail)));
            }
        }
        Ok(None)
    }

    /// Every member is back or succeeded: the members that went back owe no more
    /// coordination. Marked on finished records only (nothing else writes them but a
    /// notification mark, which a lost race here only repeats).
    async fn settle(&self, members: &[Rollout]) -> Result<(), RunError> {
        for member in members {
            let unsettled = member.release.as_ref().is_some_and(|r| !r.settled);
            if !unsettled || !member.status.is_terminal() || member.status == Status::Succeeded {
                continue;
            }
            let mut settled = member.clone();
            if let Some(release) = &mut settled.release {
                release.settled = true;
            }
            match self.ports.store().save(member.seq, &settled, None).await {
                Ok(()) | Err(PortError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// An operator's command on what it names (`load_target`): one rollout, or a whole
    /// release ([`Runner::command_release`]); answered as the functions answer.
    pub async fn command_target(
        &self,
        target: crate::entry::CommandTarget,
        event: Event,
    ) -> Result<crate::function::CommandAnswer, RunError> {
        use crate::function::{CommandAnswer, ReleaseView, RolloutView};
        Ok(match target {
            crate::entry::CommandTarget::Rollout(stored) => {
                let rollout = self.run_on(*stored, event).await?;
                CommandAnswer::Rollout(RolloutView::new(&rollout, self.ports.take_call_counts()))
            }
            crate::entry::CommandTarget::Release(members) => {
                let members = self.command_release(members, event).await?;
                CommandAnswer::Release(ReleaseView::new(&members, self.ports.take_call_counts()))
            }
        })
    }

    /// Every member of the release `member` belongs to, in order, reading all but `member`
    /// itself (a rollout on its own: just it).
    pub async fn members_of(&self, member: Rollout) -> Result<Vec<Rollout>, RunError> {
        let Some(release) = member.release.clone() else {
            return Ok(vec![member]);
        };
        let mut members = Vec::with_capacity(release.members.len());
        for id in &release.members {
            if *id == member.id {
                members.push(member.clone());
            } else {
                members.push(self.reload(id).await?);
            }
        }
        Ok(members)
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

    /// Moves every member on from the barrier at `from`, in one write (see
    /// [`Runner::apply_together`]); a member that changed since it was read loses the whole
    /// write, and the caller reads them all again.
    async fn advance_together(
        &self,
        members: Vec<Rollout>,
        from: glidepath_core::release::BarrierPosition,
    ) -> Result<(), RunError> {
        match self
            .apply_together(members, Event::ReleaseAdvance { from })
            .await
        {
            Err(RunError::Port(PortError::Conflict(reason))) => {
                info!(reason = %reason, "a member changed before the release moved on; reading them again");
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Applies `event` to every member in one write (all transitions must apply, else the
    /// first refusal is returned and nothing changes); then each member's effects run as
    /// after any write. A member that changed since it was read is `Conflict`.
    async fn apply_together(
        &self,
        members: Vec<Rollout>,
        event: Event,
    ) -> Result<Vec<Rollout>, RunError> {
        let now = self.ports.now();
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
        self.ports.store().save_all(&writes, event.name()).await?;
        if let Some(first) = steps.first() {
            info!(release = ?first.rollout.release.as_ref().map(|r| &r.id), event = event.name(),
                status = %first.rollout.status, weight = %first.rollout.weight, "release moved on");
        }
        let mut after = Vec::with_capacity(steps.len());
        for step in steps {
            after.push(self.run_written(step, event.clone()).await?);
        }
        Ok(after)
    }

    /// An operator's command on a whole release (`members`, loaded and authorised):
    /// - `promote`, and `resume` at a manual gate, move every member at once (all or none;
    ///   at a gate only when every member waits at the same one);
    /// - `pause`, `resume` after a pause and `abort` go to each member that takes them (a
    ///   refusal by all is returned); an abort names no member as the cause.
    ///
    /// Then the release is coordinated, and its members are returned as they are now.
    pub async fn command_release(
        &self,
        members: Vec<Rollout>,
        event: Event,
    ) -> Result<Vec<Rollout>, RunError> {
        let Some(release) = members.first().and_then(|m| m.release.clone()) else {
            return Ok(members);
        };
        // The command is the operator's; the members it moves do not coordinate one by one.
        let runner = Runner {
            coordinating: true,
            actor: self.actor.clone(),
            ..*self
        };
        let at_gate = |m: &Rollout| {
            m.status == glidepath_core::Status::Paused
                && m.pause
                    .is_some_and(|p| p.kind == glidepath_core::PauseKind::Gate)
        };
        let joint = match event {
            Event::Promote => true,
            Event::Resume => members.iter().any(at_gate),
            _ => false,
        };
        if joint {
            // The wave at work: not finished waves waiting at 100 %, nor later waves.
            let open: Vec<Rollout> = glidepath_core::release::at_work(&members)
                .into_iter()
                .map(|i| members[i].clone())
                .collect();
            if open.is_empty() {
                return self.load_members(&release).await;
            }
            if event == Event::Resume {
                let gate = open[0].step_index;
                if let Some(behind) = open.iter().find(|m| !at_gate(m) || m.step_index != gate) {
                    return Err(RunError::Rejected(
                        glidepath_core::TransitionError::NotAllowed {
                            id: behind.id.clone(),
                            status: behind.status,
                            command: "resume",
                            hint: "every member of the release must wait at the same manual gate; resume again once they do",
                        },
                    ));
                }
            }
            runner.apply_together(open, event).await?;
        } else {
            let mut refusal = None;
            let mut applied = false;
            for member in members {
                match Box::pin(runner.run_on(member, event.clone())).await {
                    Ok(_) => applied = true,
                    Err(RunError::Rejected(rejected)) => refusal = refusal.or(Some(rejected)),
                    Err(error) => return Err(error),
                }
            }
            if let (false, Some(rejected)) = (applied, refusal) {
                return Err(RunError::Rejected(rejected));
            }
        }
        // Coordinated once the command is in (its last read is the members as they are now).
        Box::pin(self.coordinate_members(&release)).await
    }
}
