//! The rollout state machine: `transition(&Rollout, Event, now)` returns the next record and
//! the commands to run. Pure and deterministic; terminal states absorb every later event.

use crate::analysis::{DEFAULT_HOLD_SECONDS, HOLD_RECHECK_SECONDS, NoData};
use crate::duration::format_duration;
use crate::event::{Command, Event, HealthVerdict, HookOutcome, HookPhase, Notification};
use crate::owed::{AliasWrite, Owed};
use crate::plan::PlanStep;
use crate::rollout::{Pause, PauseKind, Rollout, Status, UnixSeconds};
use crate::weight::Weight;

/// How long a hook stage may go on, re-driven, without its hook ever answering (an invoking
/// function that dies mid-hook, again and again): a re-drive after this fails the stage
/// safely, as a failed hook would. CodeDeploy gives a lifecycle hook the same hour.
pub const HOOK_STAGE_LIMIT_SECONDS: u64 = 3_600;

/// Reasons longer than this are cut (with `…`): they come from alarms, hooks and operators,
/// and go into a DynamoDB item, a history item and a notification.
pub const MAX_REASON_CHARS: usize = 1_024;

/// Why an operator's command does not apply to a member waiting at a barrier.
const AT_BARRIER: &str = "it waits for the other members of its release, which move it on";

/// A tick may arrive this many seconds before it is due (clock skew between the scheduler and
/// the function) and still count. Earlier ticks are ignored.
pub const EARLY_TICK_TOLERANCE_SECONDS: u64 = 2;

/// The outcome of one event: the next record, whether it changed (and so must be written,
/// with `seq` bumped), and the effects to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub rollout: Rollout,
    pub changed: bool,
    pub commands: Vec<Command>,
}

/// An operator command that does not apply to the rollout as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("rollout {id} has already finished ({status}); `{command}` cannot change it")]
    Finished {
        id: String,
        status: Status,
        command: &'static str,
    },
    #[error("`{command}` is not possible while rollout {id} is {status}: {hint}")]
    NotAllowed {
        id: String,
        status: Status,
        command: &'static str,
        hint: &'static str,
    },
}

/// Applies `event` to `rollout` at `now`.
pub fn transition(
    rollout: &Rollout,
    event: Event,
    now: UnixSeconds,
) -> Result<Transition, TransitionError> {
    use Status::*;
    let not_allowed = |hint: &'static str| TransitionError::NotAllowed {
        id: rollout.id.clone(),
        status: rollout.status,
        command: event.name(),
        hint,
    };
    if rollout.status.is_terminal() {
        let idempotent_abort = matches!(event, Event::Abort { .. }) && rollout.status == RolledBack;
        if event.is_operator_command() && !idempotent_abort {
            return Err(TransitionError::Finished {
                id: rollout.id.clone(),
                status: rollout.status,
                command: event.name(),
            });
        }
        return Ok(unchanged(rollout));
    }

    let step = Step::new(rollout, now);
    let status = rollout.status;
    // A member never started (a later wave) has never touched its alias: whatever ends it
    // ends it there, with nothing written.
    if rollout.is_unstarted() && rollout.wave() > 0 {
        let ended = match &event {
            Event::Breach { reason } | Event::Failed { reason } => Some(reason.clone()),
            Event::Health {
                verdict: HealthVerdict::Breached { reason },
                ..
            } => Some(reason.clone()),
            Event::Abort { reason } => Some(format!("aborted by operator: {reason}")),
            Event::Drift { detail } => Some(format!("alias changed outside Glidepath ({detail})")),
            _ => None,
        };
        if let Some(reason) = ended {
            return Ok(step.end(
                RolledBack,
                format!("{reason}; ended before this member started"),
            ));
        }
    }
    Ok(match event {
        Event::Start if status == PreTraffic && rollout.seq == 0 => step.start(),
        Event::HookResult {
            execution_id,
            outcome,
        } => match rollout.hook_execution_id() {
            Some(expected) if expected == execution_id => {
                let phase = if status == PreTraffic {
                    HookPhase::PreTraffic
                } else {
                    HookPhase::PostTraffic
                };
                return transition(rollout, Event::HookCompleted { phase, outcome }, now);
            }
            _ => unchanged(rollout),
        },
        Event::HookCompleted { phase, outcome } => match (phase, status, outcome) {
            (HookPhase::PreTraffic, PreTraffic, HookOutcome::Succeeded) if rollout.seq > 0 => {
                step.allow_traffic()
            }
            (HookPhase::PreTraffic, PreTraffic, HookOutcome::Failed { reason })
                if rollout.seq > 0 =>
            {
                // Nothing shifted yet: the alias is still wholly on the current version.
                step.end(RolledBack, format!("pre-traffic hook failed: {reason}"))
            }
            // Only once the alias is confirmed at 100 %.
            (HookPhase::PostTraffic, PostTraffic, HookOutcome::Succeeded)
                if rollout.owed.alias.is_none() =>
            {
                step.end(Succeeded, None)
            }
            (HookPhase::PostTraffic, PostTraffic, HookOutcome::Failed { reason }) => {
                step.roll_back(format!("post-traffic hook failed: {reason}"))
            }
            _ => unchanged(rollout),
        },
        Event::Tick { seq } => {
            if seq != rollout.seq || !is_due(rollout, now) {
                unchanged(rollout)
            } else if matches!(status, Shifting | Baking) {
                unchanged_with(rollout, vec![Command::CheckHealth { seq }])
            } else if rollout.hook_execution_id().is_some() {
                // A callback hook's deadline: no answer came.
                hook_timed_out(rollout, step)
            } else {
                unchanged(rollout)
            }
        }
        Event::Health { seq, verdict } => {
            // Never past a step whose own effects are not confirmed yet.
            let checkable = seq == rollout.seq
                && matches!(status, Shifting | Baking)
                && rollout.owed.is_empty()
                && is_due(rollout, now);
            match verdict {
                HealthVerdict::Breached { reason } if status != RollingBack => {
                    step.roll_back(reason)
                }
                HealthVerdict::Healthy if checkable => step.advance(),
                HealthVerdict::NoData { reason } if checkable => step.no_evidence(reason),
                _ => unchanged(rollout),
            }
        }
        Event::Breach { reason } if status != RollingBack => step.roll_back(reason),
        Event::Pause => match (status, rollout.barrier()) {
            (Shifting | Baking, _) => step.pause(PauseKind::Operator, status, None),
            // A member waiting for the others: pausing it holds the whole release.
            (Paused, Some(at)) if matches!(at.from, Shifting | Baking) => {
                step.pause(PauseKind::Operator, at.from, None)
            }
            (Paused, Some(_)) => return Err(not_allowed(AT_BARRIER)),
            (Paused, None) => return Err(not_allowed("it is already paused")),
            _ => {
                return Err(not_allowed(
                    "only a shifting or baking rollout can be paused",
                ));
            }
        },
        Event::Resume => match rollout.pause {
            Some(pause) if pause.kind == PauseKind::Release => return Err(not_allowed(AT_BARRIER)),
            Some(pause) if status == Paused => step.resume(pause),
            _ => return Err(not_allowed("it is not paused")),
        },
        Event::Promote => match (status, rollout.barrier()) {
            (Paused, Some(at)) if matches!(at.from, PreTraffic) => {
                return Err(not_allowed(
                    "traffic cannot move before every member's pre-traffic hook succeeds",
                ));
            }
            (Paused, Some(at)) if matches!(at.from, PostTraffic) => {
                return Err(not_allowed("it is already past shifting"));
            }
            (Shifting | Paused | Baking, _) => step.promote(),
            (PreTraffic, _) => {
                return Err(not_allowed(
                    "traffic cannot move before the pre-traffic hook succeeds",
                ));
            }
            _ => return Err(not_allowed("it is already past shifting")),
        },
        Event::Abort { reason } if status != RollingBack => {
            step.roll_back(format!("aborted by operator: {reason}"))
        }
        // A member's alias moved by someone else: the whole release goes back, this member
        // included (the safe state is 100 % on the old version).
        Event::Drift { detail } if rollout.release.is_some() && status != PreTraffic => {
            match status {
                RollingBack => unchanged(rollout),
                _ => step.roll_back(format!("alias changed outside Glidepath ({detail})")),
            }
        }
        Event::Drift { detail } => match (status, rollout.pause) {
            (
                Paused,
                Some(Pause {
                    kind: PauseKind::Drift,
                    ..
                }),
            ) => unchanged(rollout),
            (Paused, Some(pause)) => step.pause(PauseKind::Drift, pause.resume_to, Some(detail)),
            (Shifting | Baking | PostTraffic, _) => {
                step.pause(PauseKind::Drift, status, Some(detail))
            }
            (PreTraffic, _) => step.end(
                Failed,
                format!("alias changed outside Glidepath before traffic shifted ({detail})"),
            ),
            _ => unchanged(rollout),
        },
        Event::AliasApplied { seq } if seq == rollout.seq && rollout.owed.alias.is_none() => {
            match status {
                RollingBack => step.end(RolledBack, None),
                PostTraffic if rollout.spec.hooks.post_traffic.is_none() => {
                    step.end(Succeeded, None)
                }
                _ => unchanged(rollout),
            }
        }
        Event::Redrive => redrive(rollout, step, now),
        Event::ReleaseAdvance { from }
            if rollout.barrier() == Some(from) && rollout.owed.is_empty() =>
        {
            step.released().advance_from(from)
        }
        // A member never started (a later wave) ends without touching its alias.
        Event::ReleaseRollBack { member, reason } if rollout.is_unstarted() => {
            step.rolled_back_for(member.clone()).end(
                RolledBack,
                format!(
                    "release rolled back for member {member} before this member started: {reason}"
                ),
            )
        }
        Event::ReleaseRollBack { member, reason } if status != RollingBack => step
            .rolled_back_for(member.clone())
            .roll_back(format!("release rolled back for member {member}: {reason}")),
        Event::Failed { reason } => match status {
            PreTraffic => step.end(Failed, reason),
            RollingBack => unchanged(rollout),
            _ => step.roll_back(reason),
        },
        _ => unchanged(rollout),
    })
}

/// A callback hook did not answer by its deadline: the stage fails safely.
fn hook_timed_out(rollout: &Rollout, step: Step<'_>) -> Transition {
    let waited = format_duration(rollout.spec.hooks.timeout());
    if rollout.status == Status::PreTraffic {
        // Nothing shifted before the pre-traffic hook: ending the stage leaves no traffic.
        step.end(
            Status::RolledBack,
            format!("pre-traffic hook did not answer within {waited}"),
        )
    } else {
        step.roll_back(format!("post-traffic hook did not answer within {waited}"))
    }
}

fn unchanged(rollout: &Rollout) -> Transition {
    unchanged_with(rollout, Vec::new())
}

fn unchanged_with(rollout: &Rollout, commands: Vec<Command>) -> Transition {
    Transition {
        rollout: rollout.clone(),
        changed: false,
        commands,
    }
}

/// [`Event::Redrive`]: the work the record still owes, asked for again. Unconfirmed effects
/// come first (the same alias write and tick, fenced as before); then what the status owes.
fn redrive(rollout: &Rollout, step: Step<'_>, now: UnixSeconds) -> Transition {
    let mut commands = Vec::new();
    if let Some(write) = rollout.owed.alias {
        commands.push(Command::SetWeight {
            weight: rollout.weight,
            take_over: write == AliasWrite::TakeOver,
        });
    }
    if rollout.owed.tick {
        if let Some(at) = rollout.next_tick_at {
            commands.push(Command::ScheduleTick {
                seq: rollout.seq,
                at,
            });
        }
    }
    let hook = |phase, function: &Option<String>| {
        function
            .clone()
            .map(|function| Command::RunHook { phase, function })
    };
    let owes_effects = !rollout.owed.is_empty();
    // A callback hook has its own deadline (a tick); this limit is for hooks that answer
    // within an invocation.
    let stage_expired = !rollout.spec.hooks.callback
        && now >= rollout.updated_at.saturating_add(HOOK_STAGE_LIMIT_SECONDS);
    let expired = |phase: &str| {
        format!(
            "{phase} hook did not answer within {} of the stage starting (re-driven until then)",
            crate::duration::format_duration(HOOK_STAGE_LIMIT_SECONDS)
        )
    };
    match rollout.status {
        // A later wave's member: the release starts it when the earlier waves are done.
        Status::PreTraffic if rollout.seq == 0 && rollout.wave() > 0 => {
            commands.push(Command::CoordinateRelease);
        }
        // `start` stopped before its first event.
        Status::PreTraffic if rollout.seq == 0 => return step.start(),
        // A callback hook past its deadline (the tick was lost).
        Status::PreTraffic | Status::PostTraffic
            if rollout.hook_execution_id().is_some() && !owes_effects && is_due(rollout, now) =>
        {
            return hook_timed_out(rollout, step);
        }
        // Nothing shifted before the pre-traffic hook: ending the stage leaves no traffic.
        Status::PreTraffic if stage_expired => {
            return step.end(Status::RolledBack, expired("pre-traffic"));
        }
        Status::PostTraffic if stage_expired && rollout.spec.hooks.post_traffic.is_some() => {
            return step.roll_back(expired("post-traffic"));
        }
        // A callback hook was invoked once its stage's effects were confirmed: invoke it
        // again only if they were not (the invocation died before), not on every re-drive.
        Status::PreTraffic | Status::PostTraffic
            if rollout.hook_execution_id().is_some() && !owes_effects => {}
        Status::PreTraffic => {
            commands.extend(hook(HookPhase::PreTraffic, &rollout.spec.hooks.pre_traffic));
        }
        // A lost tick, delivered again (ignored when not due).
        Status::Shifting | Status::Baking if !owes_effects && is_due(rollout, now) => {
            commands.push(Command::CheckHealth { seq: rollout.seq });
        }
        Status::PostTraffic => match &rollout.spec.hooks.post_traffic {
            Some(_) => commands.extend(hook(
                HookPhase::PostTraffic,
                &rollout.spec.hooks.post_traffic,
            )),
            None if !owes_effects => return step.end(Status::Succeeded, None),
            None => {}
        },
        // A member at a barrier: the release is coordinated again.
        Status::Paused if rollout.barrier().is_some() => {
            commands.push(Command::CoordinateRelease);
        }
        // Restoring is always safe to repeat.
        Status::RollingBack if rollout.owed.alias.is_none() => {
            commands.push(Command::SetWeight {
                weight: Weight::ZERO,
                take_over: true,
            });
        }
        _ => {}
    }
    unchanged_with(rollout, commands)
}

fn is_due(rollout: &Rollout, now: UnixSeconds) -> bool {
    rollout
        .next_tick_at
        .is_some_and(|due| now.saturating_add(EARLY_TICK_TOLERANCE_SECONDS) >= due)
}

/// Builds one changed transition: the next record with `seq` bumped, and its commands.
struct Step<'a> {
    before: &'a Rollout,
    next: Rollout,
    now: UnixSeconds,
    commands: Vec<Command>,
    /// The release is moving this member on ([`Event::ReleaseAdvance`]): no barrier.
    released: bool,
}

impl<'a> Step<'a> {
    fn new(before: &'a Rollout, now: UnixSeconds) -> Self {
        let mut next = before.clone();
        next.seq += 1;
        next.updated_at = now;
        next.next_tick_at = None;
        next.held_since = None;
        // Each transition owes only the effects it decides (see `finish`).
        next.owed = Owed::default();
        Step {
            before,
            next,
            now,
            commands: Vec::new(),
            released: false,
        }
    }

    fn released(mut self) -> Self {
        self.released = true;
        self
    }

    fn rolled_back_for(mut self, member: String) -> Self {
        if let Some(release) = &mut self.next.release {
            release.rolled_back_for = Some(member);
        }
        self
    }

    /// Whether this member of a release must wait for the others before moving on by
    /// itself (always, unless the release is what moves it).
    fn waits_for_release(&self) -> bool {
        self.before.release.is_some() && !self.released
    }

    /// A member of a release waits at a barrier where, alone, it would have moved on from
    /// `from`; the release is coordinated.
    fn barrier(mut self, from: Status) -> Transition {
        let release = self
            .before
            .release
            .as_ref()
            .map(|r| r.name.clone().unwrap_or_else(|| r.id.clone()))
            .unwrap_or_default();
        self.next.status = Status::Paused;
        self.next.pause = Some(Pause {
            kind: PauseKind::Release,
            resume_to: from,
        });
        self.next.reason = Some(format!(
            "waiting for the other members of release {release}"
        ));
        self.commands.push(Command::CoordinateRelease);
        self.finish()
    }

    /// What the member does when the release moves it on from `from`.
    fn advance_from(self, from: crate::release::BarrierPosition) -> Transition {
        match from.from {
            Status::PreTraffic => self.allow_traffic(),
            Status::Shifting => {
                let next_index = from.step_index.map_or(0, |index| index + 1);
                self.enter_step(next_index)
            }
            Status::Baking => self.post_traffic(),
            _ => self.end(Status::Succeeded, None),
        }
    }

    fn finish_with(
        mut self,
        change: impl FnOnce(&mut Rollout),
        commands: Vec<Command>,
    ) -> Transition {
        change(&mut self.next);
        self.commands.extend(commands);
        self.finish()
    }

    fn finish(mut self) -> Transition {
        if self.next.status != Status::Paused {
            self.next.pause = None;
        }
        // A member going bad takes the release with it.
        let bad = crate::release::is_bad;
        // ... and a member that has finished going back settles the release when it is the
        // last (its siblings may all be back by now).
        let finished_back =
            self.before.status == Status::RollingBack && self.next.status.is_terminal();
        if self.next.release.is_some()
            && bad(self.next.status)
            && (!bad(self.before.status) || finished_back)
        {
            self.commands.push(Command::CoordinateRelease);
        }
        if let Some(reason) = &mut self.next.reason {
            cap_reason(reason);
        }
        // One alias write per transition, to the record's weight: a take-over (resuming
        // after drift) that also passes a gate writes the next step's weight directly, so
        // the record always says the one write it owes.
        let writes: Vec<bool> = self
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::SetWeight { take_over, .. } => Some(*take_over),
                _ => None,
            })
            .collect();
        if writes.len() > 1 {
            let take_over = writes.iter().any(|t| *t);
            let weight = self.next.weight;
            let mut kept = false;
            self.commands.retain_mut(|c| match c {
                Command::SetWeight { .. } if kept => false,
                Command::SetWeight {
                    weight: w,
                    take_over: t,
                } => {
                    *w = weight;
                    *t = take_over;
                    kept = true;
                    true
                }
                _ => true,
            });
        }
        // Alias writes and ticks are persisted as owed before they run (write-ahead): only
        // the writer that won this `seq` carries them out, and a re-drive can finish them.
        for command in &self.commands {
            match command {
                Command::SetWeight { take_over, .. } => {
                    self.next.owed.alias = Some(if *take_over {
                        AliasWrite::TakeOver
                    } else {
                        AliasWrite::Fenced
                    });
                }
                Command::ScheduleTick { .. } => self.next.owed.tick = true,
                _ => {}
            }
        }
        self.commands.push(Command::Notify(Notification {
            status: self.next.status,
            weight: self.next.weight,
            reason: self.next.reason.clone(),
        }));
        Transition {
            rollout: self.next,
            changed: true,
            commands: self.commands,
        }
    }

    fn set_weight(&mut self, weight: Weight) {
        if weight != self.next.weight {
            self.commands.push(Command::SetWeight {
                weight,
                take_over: false,
            });
            self.next.weight = weight;
            self.next.weight_since = Some(self.now);
        }
    }

    /// Canary analysis had too little traffic to judge: the rollout's `analysis.noData`
    /// says whether to go on, roll back, or hold the weight and check again in a minute,
    /// for at most `holdFor` (then roll back: no evidence is no proof of health).
    fn no_evidence(mut self, reason: String) -> Transition {
        let (policy, hold_seconds) = self
            .before
            .spec
            .analysis
            .as_ref()
            .map_or((NoData::Hold, DEFAULT_HOLD_SECONDS), |a| {
                (a.no_data, a.hold_seconds)
            });
        match policy {
            NoData::Pass => self.advance(),
            NoData::Fail => self.roll_back(format!("no evidence (noData: fail): {reason}")),
            NoData::Hold => {
                let since = self.before.held_since.unwrap_or(self.now);
                if self.now.saturating_sub(since) >= hold_seconds {
                    return self.roll_back(format!(
                        "still no evidence after holding {}: {reason}",
                        format_duration(hold_seconds)
                    ));
                }
                self.next.held_since = Some(since);
                self.next.reason = Some(format!(
                    "holding at {}% for evidence: {reason}",
                    self.next.weight
                ));
                self.schedule_tick(HOLD_RECHECK_SECONDS);
                self.finish()
            }
        }
    }

    fn schedule_tick(&mut self, after_seconds: u64) {
        let at = self.now.saturating_add(after_seconds);
        self.next.next_tick_at = Some(at);
        self.commands.push(Command::ScheduleTick {
            seq: self.next.seq,
            at,
        });
    }

    /// The rollout's first event: the pre-traffic hook, or straight to the first step.
    fn start(mut self) -> Transition {
        match self.before.spec.hooks.pre_traffic.clone() {
            Some(function) => {
                self.await_callback();
                self.finish_with(
                    |next| next.status = Status::PreTraffic,
                    vec![Command::RunHook {
                        phase: HookPhase::PreTraffic,
                        function,
                    }],
                )
            }
            None => self.allow_traffic(),
        }
    }

    /// A callback hook is about to be invoked: its deadline is a tick.
    fn await_callback(&mut self) {
        if self.before.spec.hooks.callback {
            self.schedule_tick(self.before.spec.hooks.timeout());
        }
    }

    /// The pre-traffic hook succeeded (or there is none): apply the first plan step.
    fn allow_traffic(mut self) -> Transition {
        if self.waits_for_release() {
            return self.barrier(Status::PreTraffic);
        }
        self.next.traffic_allowed = true;
        self.enter_step(0)
    }

    /// Moves to plan step `index`, or past the plan when there are no more steps.
    fn enter_step(mut self, index: usize) -> Transition {
        match self.before.plan.get(index) {
            Some(PlanStep::Shift {
                weight,
                wait_seconds,
            }) => {
                self.next.status = Status::Shifting;
                self.next.step_index = Some(index);
                self.next.reason = None;
                self.set_weight(weight);
                self.schedule_tick(wait_seconds);
                self.finish()
            }
            Some(PlanStep::Pause) => {
                self.next.step_index = Some(index);
                self.pause(PauseKind::Gate, Status::Shifting, None)
            }
            None => self.plan_complete(),
        }
    }

    /// Every plan step is done: bake at 100 % if asked, else the post-traffic stage.
    fn plan_complete(mut self) -> Transition {
        let bake = self.before.spec.bake_seconds;
        if bake > 0 && self.before.status != Status::Baking {
            self.next.status = Status::Baking;
            self.next.reason = None;
            self.schedule_tick(bake);
            self.finish()
        } else {
            self.post_traffic()
        }
    }

    /// At 100 %: the alias is written (or verified, with a fenced write of the same
    /// weight) before anything can succeed, so drift after the last shift is seen; then
    /// the post-traffic hook, or success once the write is confirmed
    /// ([`Event::AliasApplied`]).
    fn post_traffic(mut self) -> Transition {
        self.next.status = Status::PostTraffic;
        self.next.reason = None;
        if !self.next.weight.is_full() {
            self.next.weight_since = Some(self.now);
        }
        self.next.weight = Weight::FULL;
        if !self
            .commands
            .iter()
            .any(|c| matches!(c, Command::SetWeight { .. }))
        {
            self.commands.push(Command::SetWeight {
                weight: Weight::FULL,
                take_over: false,
            });
        }
        if let Some(function) = self.before.spec.hooks.post_traffic.clone() {
            self.await_callback();
            self.commands.push(Command::RunHook {
                phase: HookPhase::PostTraffic,
                function,
            });
        }
        self.finish()
    }

    /// A healthy, due tick: the next plan step, or the end of the bake.
    fn advance(self) -> Transition {
        if self.waits_for_release() {
            let from = self.before.status;
            return self.barrier(from);
        }
        if self.before.status == Status::Baking {
            return self.post_traffic();
        }
        let next_index = self.before.step_index.map_or(0, |index| index + 1);
        self.enter_step(next_index)
    }

    fn pause(mut self, kind: PauseKind, resume_to: Status, detail: Option<String>) -> Transition {
        self.next.status = Status::Paused;
        self.next.pause = Some(Pause { kind, resume_to });
        self.next.reason = Some(match (kind, detail) {
            (PauseKind::Gate, _) => "waiting at a manual gate: resume or promote".to_string(),
            (PauseKind::Operator, _) => "paused by operator".to_string(),
            // `barrier` writes its own reason.
            (PauseKind::Release, _) => "waiting for the other members of its release".to_string(),
            (PauseKind::Drift, detail) => format!(
                "alias changed outside Glidepath ({}): resume to re-apply {}% or abort",
                detail.unwrap_or_default(),
                self.before.weight
            ),
        });
        self.finish()
    }

    fn resume(mut self, pause: Pause) -> Transition {
        if pause.kind == PauseKind::Gate {
            return self.advance_past_gate();
        }
        if pause.kind == PauseKind::Drift {
            // Take the alias back: re-apply the rollout's weight over whatever is there now.
            self.commands.push(Command::SetWeight {
                weight: self.before.weight,
                take_over: true,
            });
            if pause.resume_to == Status::PostTraffic {
                return self.post_traffic();
            }
            if self.before.current_step() == Some(PlanStep::Pause) {
                // Drift found the rollout at a manual gate: resuming also passes the gate.
                return self.advance_past_gate();
            }
        }
        self.next.status = pause.resume_to;
        self.next.reason = None;
        // The step's whole wait starts again: the new version is watched for a full interval.
        let wait = match pause.resume_to {
            Status::Baking => self.before.spec.bake_seconds,
            _ => match self.before.current_step() {
                Some(PlanStep::Shift { wait_seconds, .. }) => wait_seconds,
                _ => 0,
            },
        };
        self.schedule_tick(wait);
        self.finish()
    }

    fn advance_past_gate(self) -> Transition {
        let next_index = self.before.step_index.map_or(0, |index| index + 1);
        self.enter_step(next_index)
    }

    fn promote(mut self) -> Transition {
        let last_shift = self
            .before
            .plan
            .steps()
            .iter()
            .rposition(|step| matches!(step, PlanStep::Shift { .. }));
        self.next.step_index = last_shift;
        if self
            .before
            .pause
            .is_some_and(|p| p.kind == PauseKind::Drift)
        {
            // The alias is not where we left it: write 100 % even if the record says so.
            self.commands.push(Command::SetWeight {
                weight: Weight::FULL,
                take_over: true,
            });
            self.next.weight = Weight::FULL;
        } else {
            self.set_weight(Weight::FULL);
        }
        self.post_traffic()
    }

    fn roll_back(mut self, reason: impl Into<String>) -> Transition {
        self.next.status = Status::RollingBack;
        self.next.reason = Some(reason.into());
        self.next.weight = Weight::ZERO;
        // Always written, even at 0 %: the alias may hold a weight the record has not seen.
        self.commands.push(Command::SetWeight {
            weight: Weight::ZERO,
            take_over: true,
        });
        self.finish()
    }

    fn end(mut self, status: Status, reason: impl Into<Option<String>>) -> Transition {
        debug_assert!(status.is_terminal());
        if status == Status::Succeeded && self.waits_for_release() {
            return self.barrier(Status::PostTraffic);
        }
        self.next.status = status;
        if let Some(reason) = reason.into() {
            self.next.reason = Some(reason);
        } else if status == Status::Succeeded {
            self.next.reason = None;
        }
        if status != Status::Succeeded {
            self.next.weight = Weight::ZERO;
        }
        self.commands.push(Command::CancelTicks);
        self.commands.push(Command::ReleaseLock);
        self.finish()
    }
}

/// Cuts `reason` to [`MAX_REASON_CHARS`] characters.
fn cap_reason(reason: &mut String) {
    if let Some((cut, _)) = reason.char_indices().nth(MAX_REASON_CHARS) {
        reason.truncate(cut);
        reason.push('…');
    }
}
