//! The runner applies engine transitions through the ports: load the rollout, ask the engine
//! for the next state and its commands, persist conditionally on `seq`, carry out the
//! effects, and feed what they report back as events, until nothing is left to do.
//!
//! The alias protocol (ARCHITECTURE.md, "One authority for the alias"):
//! 1. **The write comes first.** A transition is persisted conditionally on the `seq` it
//!    started from, with the alias write and the tick it decided marked as
//!    [`Owed`](glidepath_core::Owed). A writer that loses the race writes nothing anywhere:
//!    it reloads and applies its event again to what the winner wrote.
//! 2. **Then the effects.** The owed alias write is fenced by the `RevisionId` the record
//!    last confirmed (or takes the alias over, for a rollback); the owed tick is scheduled.
//! 3. **Then the confirmation.** The new revision is recorded and the owed marks cleared,
//!    in the next write of the record (without a `seq` bump, so the tick stays current).
//!
//! A record that still owes effects has them carried out (again: each is idempotent) before
//! any later event, except the events that take the alias over anyway (a rollback, drift).
//! Hooks and health checks run after the write; statuses another function owns
//! (`PostTraffic` with a hook → `finalize`, `RollingBack` → `rollback`) are handed off.

use crate::error::{ErrorType, PortError};
use crate::ports::{
    AliasRouter, Dispatcher, HandOff, HealthCheck, HistoryEntry, HookRequest, Ports, RolloutStore,
    Ticker,
};
use glidepath_core::{
    Actor, Command, Event, Owed, Rollout, Status, Transition, TransitionError, UnixSeconds,
    transition,
};
use std::collections::VecDeque;

mod hooks;
mod publish;
mod release;
use std::time::{Duration, SystemTime};
use tracing::{info, warn};

/// How many times one event is applied again after losing the `seq` race before the
/// invocation gives up with a retryable error.
pub const MAX_CONFLICT_RETRIES: u32 = 8;

/// Why a run stopped short.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no rollout with id `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Rejected(#[from] TransitionError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(
        "rollout {0} kept changing under this event ({MAX_CONFLICT_RETRIES} lost races); send it again"
    )]
    Contended(String),
    /// The state is persisted; passing it to the function that owns the work failed.
    #[error("rollout {id} is {status}; handing it to {work:?} failed: {source}")]
    HandOff {
        id: String,
        status: Status,
        work: HandOff,
        #[source]
        source: PortError,
    },
}

impl RunError {
    /// The stable name a Lambda caller sees in `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            RunError::NotFound(_) => ErrorType::InvalidRequest,
            RunError::Rejected(_) => ErrorType::Conflict,
            RunError::Port(error) => error.error_type(),
            RunError::Contended(_) | RunError::HandOff { .. } => ErrorType::Retryable,
        }
    }
}

/// Which function is running events: decides what it hands off and what a re-drive means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `start`: creates rollouts and takes them as far as it can.
    Start,
    /// `step`: ticks, operator commands, the watchdog's re-drives.
    Step,
    /// `check-alarms`: breaches.
    CheckAlarms,
    /// `finalize`: the post-traffic stage.
    Finalize,
    /// `rollback`: restoring the old version.
    Rollback,
}

impl Role {
    /// The function's name, as Glidepath's own actor names it (`glidepath:step`).
    pub fn component(self) -> &'static str {
        match self {
            Role::Start => "start",
            Role::Step => "step",
            Role::CheckAlarms => "check-alarms",
            Role::Finalize => "finalize",
            Role::Rollback => "rollback",
        }
    }
}

/// Time kept back from the invocation's deadline when a hook runs: enough to record its
/// outcome (or, for the CodeDeploy path, to report it).
pub const HOOK_DEADLINE_MARGIN: Duration = Duration::from_secs(10);
/// Less time than this left for a hook: leave the stage to a fresh invocation (a re-drive)
/// rather than judge the hook on a budget it was never given.
pub const MIN_HOOK_BUDGET: Duration = Duration::from_secs(30);

/// Applies events to rollouts through a set of ports.
pub struct Runner<'a, P: Ports> {
    ports: &'a P,
    role: Role,
    deadline: Option<SystemTime>,
    /// Who asked for the event this runner applies (an operator's command, a start); the
    /// events that follow from it are Glidepath's own.
    actor: Actor,
    /// This runner carries out a release's coordination: the members it moves do not ask
    /// for coordination again (the coordinator looks again itself).
    coordinating: bool,
}

/// One run's state: the rollout as this invocation knows it, what is left to apply, and
/// whether it differs from the stored record (effects confirmed, notifications published)
/// so that the next write, or a last one, records it.
struct Run {
    rollout: Rollout,
    pending: VecDeque<Event>,
    dirty: bool,
    conflicts: u32,
    /// Set when handing a rollback to `rollback` failed: do it here instead.
    rollback_inline: bool,
    /// A transition asked for the rollout's release to be coordinated, once the run is done.
    coordinate: bool,
}

impl Run {
    fn new(rollout: Rollout) -> Self {
        Run {
            rollout,
            pending: VecDeque::new(),
            dirty: false,
            conflicts: 0,
            rollback_inline: false,
            coordinate: false,
        }
    }

    /// Queues `event` first, preceded by a re-drive of what the record owes: always for a
    /// rollback (a retried abort or breach finishes it), and for owed effects unless `event`
    /// takes the alias over anyway.
    fn queue_first(&mut self, event: Event) {
        let owes = !self.rollout.owed.is_empty();
        let rolling_back = self.rollout.status == Status::RollingBack;
        let redrive_first =
            event != Event::Redrive && (rolling_back || (owes && !takes_alias_over(&event)));
        self.pending.push_front(event);
        if redrive_first {
            self.pending.push_front(Event::Redrive);
        }
    }
}

/// What carrying out the owed effects came to.
enum Carried {
    Done {
        alias_applied: bool,
    },
    /// A fenced write found someone else's change.
    Drift(String),
    /// A take-over found that the record moved on: the newer writer owns the alias.
    Superseded(Box<Rollout>),
    /// A member of a release could not have its alias written, for a reason a retry does not
    /// mend (the version or the function is gone): the release must go back.
    Failed(String),
}

/// How many times a take-over reads the alias and tries to write it before giving up
/// (`Retryable`): each try fails only if the alias changed between the read and the write.
pub const TAKE_OVER_ATTEMPTS: u32 = 5;

/// Events after which the alias is restored or left to an operator whatever an owed write
/// would have done: carrying that write out first would only raise traffic on a version
/// that is being rolled back.
fn takes_alias_over(event: &Event) -> bool {
    matches!(
        event,
        Event::Breach { .. }
            | Event::Abort { .. }
            | Event::Failed { .. }
            | Event::Drift { .. }
            | Event::ReleaseRollBack { .. }
            | Event::Health {
                verdict: glidepath_core::HealthVerdict::Breached { .. },
                ..
            }
    )
}

impl<'a, P: Ports> Runner<'a, P> {
    /// A runner for the function `role`.
    pub fn new(ports: &'a P, role: Role) -> Self {
        Runner {
            ports,
            role,
            deadline: None,
            actor: Actor::glidepath(role.component()),
            coordinating: false,
        }
    }

    /// Records `actor` as the cause of the operator command or start this runner applies.
    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    /// Who caused `event`: the runner's actor for a start or an operator's command,
    /// Glidepath itself for everything that follows (ticks, hooks, alias confirmations).
    fn actor_of(&self, event: &Event) -> Actor {
        // A hook's answer is recorded as the caller's too: it can let traffic start.
        if event.is_operator_command()
            || *event == Event::Start
            || matches!(event, Event::HookResult { .. })
        {
            self.actor.clone()
        } else {
            Actor::glidepath(self.role.component())
        }
    }

    /// Bounds hooks by the invocation's deadline (Lambda's `context.deadline`): a hook that
    /// does not answer `HOOK_DEADLINE_MARGIN` before it fails its stage safely, instead of
    /// the function timing out and being re-driven forever.
    pub fn with_deadline(mut self, deadline: Option<SystemTime>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Loads rollout `id` and applies `event` and everything that follows from it.
    pub async fn run(&self, id: &str, event: Event) -> Result<Rollout, RunError> {
        let rollout = self.reload(id).await?;
        self.run_on(rollout, event).await
    }

    /// Re-drives rollout `id`: the work its record owes, as far as this function owns it.
    /// `rollback` only finishes rollbacks; `finalize` only post-traffic stages (and hands a
    /// rollback on); a record in any other status is returned as it is.
    pub async fn redrive(&self, id: &str) -> Result<Rollout, RunError> {
        let rollout = self.reload(id).await?;
        let owned = match self.role {
            Role::Rollback => rollout.status == Status::RollingBack,
            Role::Finalize => matches!(rollout.status, Status::PostTraffic | Status::RollingBack),
            Role::Start | Role::Step | Role::CheckAlarms => true,
        };
        if !owned {
            info!(rollout_id = %id, status = %rollout.status, role = ?self.role, "nothing for this function to re-drive");
            return Ok(rollout);
        }
        // A member that had gone back and still owed its release's coordination (the
        // invocation that should have told the others died): its record absorbs the re-drive,
        // so coordinate here. (A re-drive that itself ends a rollback coordinates as any
        // transition into the end does.)
        let owed = rollout.owes_release_followers();
        let after = self.run_on(rollout, Event::Redrive).await?;
        if owed && self.role != Role::Finalize && self.role != Role::CheckAlarms {
            self.coordinate_release(&after).await?;
            return self.reload(id).await;
        }
        Ok(after)
    }

    /// Applies `event` to an already loaded rollout.
    pub async fn run_on(&self, rollout: Rollout, event: Event) -> Result<Rollout, RunError> {
        let mut run = Run::new(rollout);
        self.publish_owed(&mut run).await;
        run.queue_first(event);
        self.drive(run).await
    }

    /// Carries on a transition of `event` that is already written (with the other members
    /// of a release, in one transaction): its hand-off, effects and what follows.
    async fn run_written(&self, step: Transition, event: Event) -> Result<Rollout, RunError> {
        let mut run = Run::new(step.rollout.clone());
        let now = self.ports.now();
        if let Some(done) = self.after_write(&mut run, step, &event, now).await? {
            return Ok(done);
        }
        self.drive(run).await
    }

    /// Applies the run's pending events until none is left.
    async fn drive(&self, mut run: Run) -> Result<Rollout, RunError> {
        while let Some(event) = run.pending.pop_front() {
            let now = self.ports.now();
            let Some(mut step) = self.decide(&mut run, &event, now).await? else {
                continue;
            };
            if step.changed {
                step.rollout.actor = Some(self.actor_of(&event));
            }
            // 1. The write.
            if !self.write(&mut run, &step, &event).await? {
                continue;
            }
            if let Some(done) = self.after_write(&mut run, step, &event, now).await? {
                return Ok(done);
            }
        }
        if run.coordinate {
            self.coordinate_after(&mut run).await;
        }
        self.finish(run).await
    }

    /// Everything after a transition's write: the hand-off, the owed effects, and what
    /// follows them. `Some`: the run is over, with this record.
    async fn after_write(
        &self,
        run: &mut Run,
        step: Transition,
        event: &Event,
        now: UnixSeconds,
    ) -> Result<Option<Rollout>, RunError> {
        let Transition {
            rollout: next,
            changed,
            commands,
        } = step;
        run.rollout = next;
        // 2. The hand-off, for statuses another function owns.
        if let Some(work) = self.hand_off_for(run) {
            // A member going back takes its release with it before the hand-off.
            if commands.contains(&Command::CoordinateRelease) {
                self.coordinate_after(run).await;
            }
            if self.hand_off(run, work).await? {
                return Ok(Some(run.rollout.clone()));
            }
            return Ok(None);
        }
        // 3. The owed effects.
        let alias_applied = match self.carry_out(run, &commands, now).await? {
            Carried::Done { alias_applied } => alias_applied,
            Carried::Drift(detail) => return Ok(Some(self.drifted(run, detail).await?)),
            Carried::Failed(reason) => {
                warn!(rollout_id = %run.rollout.id, reason = %reason, "a member's alias write failed for good; its release goes back");
                run.pending.push_front(Event::Failed {
                    reason: format!("the alias write failed: {reason}"),
                });
                return Ok(None);
            }
            Carried::Superseded(newer) => {
                info!(rollout_id = %newer.id, "the record moved on before this take-over; leaving the alias to the newer writer");
                return Ok(Some(*newer));
            }
        };
        if (changed || *event == Event::Redrive) && !run.rollout.owed.is_empty() {
            run.rollout.owed = Owed::default();
            run.dirty = true;
        }
        // 4. After the effects.
        self.follow_up(run, commands, event, now, alias_applied)
            .await?;
        Ok(None)
    }

    /// The engine's answer to `event`. A command refused against a stale copy is judged
    /// again against the stored record (`None`: re-queued): it may apply there, or be
    /// refused for the right reason.
    async fn decide(
        &self,
        run: &mut Run,
        event: &Event,
        now: UnixSeconds,
    ) -> Result<Option<Transition>, RunError> {
        match transition(&run.rollout, event.clone(), now) {
            Ok(step) => Ok(Some(step)),
            Err(rejected) => {
                let stored = self.reload(&run.rollout.id).await?;
                if stored.seq == run.rollout.seq {
                    return Err(rejected.into());
                }
                self.lost_race(run, event.clone(), "refused against a stale copy")
                    .await?;
                Ok(None)
            }
        }
    }

    /// Writes the transition (or the confirmations of this run), conditional on the `seq`
    /// it started from. `false`: the race was lost and the event re-queued.
    async fn write(
        &self,
        run: &mut Run,
        step: &Transition,
        event: &Event,
    ) -> Result<bool, RunError> {
        if !step.changed && !run.dirty {
            return Ok(true);
        }
        let name = step.changed.then(|| event.name());
        match self
            .ports
            .store()
            .save(run.rollout.seq, &step.rollout, name)
            .await
        {
            Ok(()) => run.dirty = false,
            Err(PortError::Conflict(reason)) => {
                self.lost_race(run, event.clone(), &reason).await?;
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        }
        if step.changed {
            info!(
                rollout_id = %step.rollout.id, seq = step.rollout.seq, event = event.name(),
                status = %step.rollout.status, weight = %step.rollout.weight, "transition"
            );
        }
        Ok(true)
    }

    /// Passes the rollout to the function that owns its work. `true`: handed off, this run
    /// is over. `false`: a rollback could not be handed off and is done here instead. The
    /// receiver publishes the state change (it finds it owed): one write fewer here.
    async fn hand_off(&self, run: &mut Run, work: HandOff) -> Result<bool, RunError> {
        match self
            .ports
            .dispatcher()
            .hand_off(work, &run.rollout.id)
            .await
        {
            Ok(()) => {
                info!(rollout_id = %run.rollout.id, ?work, "handed off");
                Ok(true)
            }
            Err(error) if work == HandOff::Rollback => {
                // Never leave a rollback waiting on a failed invoke.
                warn!(rollout_id = %run.rollout.id, error = %error, "handing off the rollback failed; rolling back here");
                run.rollback_inline = true;
                run.pending.clear();
                run.pending.push_back(Event::Redrive);
                Ok(false)
            }
            Err(source) => Err(RunError::HandOff {
                id: run.rollout.id.clone(),
                status: run.rollout.status,
                work,
                source,
            }),
        }
    }

    /// The owed effects, in order: the alias (fenced, or a take-over), then the tick.
    async fn carry_out(
        &self,
        run: &mut Run,
        commands: &[Command],
        now: UnixSeconds,
    ) -> Result<Carried, RunError> {
        let mut alias_applied = false;
        for command in commands {
            match *command {
                Command::SetWeight {
                    weight,
                    take_over: true,
                } => match self.take_over(run, weight).await? {
                    Ok(revision) => {
                        run.rollout.alias_revision = Some(revision);
                        alias_applied = true;
                    }
                    Err(newer) => return Ok(Carried::Superseded(Box::new(newer))),
                },
                Command::SetWeight {
                    weight,
                    take_over: false,
                } => {
                    let fence = run.rollout.alias_revision.clone();
                    match self
                        .ports
                        .router()
                        .set_weight(&run.rollout.spec, weight, fence.as_deref())
                        .await
                    {
                        Ok(revision) => {
                            run.rollout.alias_revision = Some(revision);
                            alias_applied = true;
                        }
                        Err(PortError::Drift(detail)) => return Ok(Carried::Drift(detail)),
                        Err(error)
                            if run.rollout.release.is_some()
                                && error.error_type() != ErrorType::Retryable =>
                        {
                            return Ok(Carried::Failed(error.to_string()));
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
                Command::ScheduleTick { seq, at } if at > now => {
                    self.ports
                        .ticker()
                        .schedule(&run.rollout.id, seq, at)
                        .await?;
                }
                _ => {}
            }
        }
        Ok(Carried::Done { alias_applied })
    }

    /// A take-over (a rollback, or taking the alias back after drift) writes whatever the
    /// alias holds, but never blindly: it reads the alias, checks that the record it carries
    /// out is still the stored one, and writes conditionally on the revision it read. A
    /// take-over that was delayed past a newer writer (a rollback after a resume, a new
    /// rollout after a rollback) therefore finds the record moved on, or its write refused,
    /// and leaves the alias to that writer. `Err(newer)`: superseded by `newer`.
    async fn take_over(
        &self,
        run: &Run,
        weight: glidepath_core::Weight,
    ) -> Result<Result<String, Rollout>, RunError> {
        let spec = &run.rollout.spec;
        for _ in 0..TAKE_OVER_ATTEMPTS {
            let found = self
                .ports
                .router()
                .read_alias(&spec.function, &spec.alias)
                .await?;
            // Written even when the alias already holds `weight`: the new revision is what
            // fences out a fenced writer still in flight with the old one (the explored
            // interleavings found a rollback that skipped its write, then a raise landing).
            let stored = self.reload(&run.rollout.id).await?;
            if stored.seq != run.rollout.seq {
                return Ok(Err(stored));
            }
            match self
                .ports
                .router()
                .set_weight(spec, weight, Some(&found.revision))
                .await
            {
                Ok(revision) => return Ok(Ok(revision)),
                // The alias changed between the read and the write: look again.
                Err(PortError::Drift(_)) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(RunError::Port(PortError::Aws {
            operation: "taking the alias over",
            message: format!(
                "alias {}:{} kept changing under {TAKE_OVER_ATTEMPTS} attempts",
                spec.function, spec.alias
            ),
            source: None,
        }))
    }

    /// After the effects: cancel ticks, publish, check health, run hooks, run a tick that
    /// is due now; what they report is applied next, before anything else queued.
    async fn follow_up(
        &self,
        run: &mut Run,
        commands: Vec<Command>,
        event: &Event,
        now: UnixSeconds,
        alias_applied: bool,
    ) -> Result<(), RunError> {
        let mut follow_ups = Vec::new();
        if alias_applied {
            follow_ups.push(Event::AliasApplied {
                seq: run.rollout.seq,
            });
        }
        // First what is quick: cancel ticks, publish.
        for command in &commands {
            match command {
                Command::CancelTicks => {
                    if let Err(error) = self.ports.ticker().cancel(&run.rollout.id).await {
                        // Harmless: stale ticks are no-ops and schedules delete themselves.
                        warn!(rollout_id = %run.rollout.id, error = %error, "could not cancel pending ticks");
                    }
                }
                Command::Notify(_) => {
                    let change = HistoryEntry::latest(&run.rollout, event.name());
                    // Marked only when nothing before it is unpublished: a gap is published
                    // later from the history (at least once, never skipped).
                    if self.publish(&run.rollout, &change).await
                        && run.rollout.notified_seq + 1 == run.rollout.seq
                    {
                        run.rollout.notified_seq = run.rollout.seq;
                        run.dirty = true;
                    }
                }
                _ => {}
            }
        }
        // A hook may run for minutes: record first what this run has done (confirmed
        // effects, published changes), so that the record owes nothing but the hook stage
        // meanwhile and the watchdog leaves it the hook's grace.
        let runs_hook = commands
            .iter()
            .any(|c| matches!(c, Command::RunHook { .. }));
        let commands_coordinate = commands.contains(&Command::CoordinateRelease);
        if runs_hook && run.dirty && !self.checkpoint(run).await? {
            return Ok(());
        }
        for command in commands {
            match command {
                Command::CheckHealth { seq } => {
                    let mut verdict =
                        crate::health::assess(self.ports.health(), &run.rollout, now).await?;
                    // Whatever would move the rollout on passes the gate first.
                    if run.rollout.advances_on(&verdict) {
                        if let refused @ glidepath_core::HealthVerdict::Breached { .. } =
                            self.before_shift(&run.rollout).await?
                        {
                            verdict = refused;
                        }
                    }
                    follow_ups.push(Event::Health { seq, verdict });
                }
                Command::RunHook { phase, function } => {
                    let mut request = HookRequest::new(&run.rollout, phase);
                    if let Some(id) = run.rollout.hook_execution_id() {
                        // A callback hook answers later, through `step`; its deadline is
                        // the tick already scheduled.
                        request.hook_execution_id = Some(id.clone());
                        crate::ports::HookRunner::start_callback(
                            self.ports.hooks(),
                            &function,
                            &request,
                        )
                        .await?;
                        info!(rollout_id = %run.rollout.id, hook = %function, execution_id = %id, "callback hook invoked");
                    } else {
                        let outcome = self.run_hook(&function, &request).await?;
                        follow_ups.push(Event::HookCompleted { phase, outcome });
                    }
                }
                // A tick due now (a step with no wait) runs in this invocation.
                Command::ScheduleTick { seq, at } if at <= now => {
                    follow_ups.push(Event::Tick { seq });
                }
                // The rollout has ended: the alarms Glidepath made for it go. Best effort: a
                // left-over alarm guards nothing (its watches went with the lock).
                Command::ReleaseLock if !run.rollout.spec.managed_alarms.is_empty() => {
                    let names = &run.rollout.spec.managed_alarms;
                    if let Err(error) = self.ports.health().delete_alarms(names).await {
                        warn!(rollout_id = %run.rollout.id, error = %error, alarms = ?names,
                            "could not delete the alarms Glidepath made; delete them by hand");
                    }
                }
                // SetWeight and later ticks ran before, CancelTicks and Notify above;
                // ReleaseLock (the lock itself) is part of the write.
                _ => {}
            }
        }
        for event in follow_ups.into_iter().rev() {
            run.pending.push_front(event);
        }
        run.coordinate |= commands_coordinate;
        Ok(())
    }

    /// Writes what this run did that the stored record does not say yet, before something
    /// long. `false`: a newer writer changed the record; this run stops (its pending events
    /// dropped, the newer record taken as the truth).
    async fn checkpoint(&self, run: &mut Run) -> Result<bool, RunError> {
        match self
            .ports
            .store()
            .save(run.rollout.seq, &run.rollout, None)
            .await
        {
            Ok(()) => {
                run.dirty = false;
                Ok(true)
            }
            Err(PortError::Conflict(_)) => {
                run.rollout = self.reload(&run.rollout.id).await?;
                run.dirty = false;
                run.pending.clear();
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records what this run did that the stored record does not say yet.
    async fn finish(&self, run: Run) -> Result<Rollout, RunError> {
        if !run.dirty {
            return Ok(run.rollout);
        }
        match self
            .ports
            .store()
            .save(run.rollout.seq, &run.rollout, None)
            .await
        {
            Ok(()) => Ok(run.rollout),
            // A newer writer took over: its record is the truth now.
            Err(PortError::Conflict(_)) => self.reload(&run.rollout.id).await,
            Err(error) => Err(error.into()),
        }
    }

    /// Which function the rollout goes to next, if not this one. A rollout found in a
    /// handed-off status is handed off again every time: the receiving functions are
    /// idempotent, and a retried event must not strand it.
    fn hand_off_for(&self, run: &Run) -> Option<HandOff> {
        match run.rollout.status {
            Status::RollingBack if self.role != Role::Rollback && !run.rollback_inline => {
                Some(HandOff::Rollback)
            }
            Status::PostTraffic
                if self.role != Role::Finalize && run.rollout.spec.hooks.post_traffic.is_some() =>
            {
                Some(HandOff::Finalize)
            }
            _ => None,
        }
    }

    /// The save lost on `seq`: apply the same event to what the winner wrote.
    async fn lost_race(&self, run: &mut Run, event: Event, reason: &str) -> Result<(), RunError> {
        run.conflicts += 1;
        if run.conflicts > MAX_CONFLICT_RETRIES {
            return Err(RunError::Contended(run.rollout.id.clone()));
        }
        info!(rollout_id = %run.rollout.id, reason = %reason, event = event.name(), "lost a race to another writer; applying the event to the newer record");
        run.rollout = self.reload(&run.rollout.id).await?;
        run.dirty = false;
        run.queue_first(event);
        Ok(())
    }

    /// A fenced alias write found the alias elsewhere. If the record moved on, the newer
    /// writer owns the alias and this run stops; otherwise someone outside Glidepath moved
    /// it, and the rollout pauses (or fails, or keeps rolling back) as the engine says.
    async fn drifted(&self, run: &Run, detail: String) -> Result<Rollout, RunError> {
        let stored = self.reload(&run.rollout.id).await?;
        if stored.seq != run.rollout.seq {
            info!(rollout_id = %stored.id, "rollout moved on while this write ran; leaving the alias to the newer writer");
            return Ok(stored);
        }
        warn!(rollout_id = %stored.id, detail = %detail, "alias drift");
        Box::pin(self.run_on(stored, Event::Drift { detail })).await
    }

    async fn reload(&self, id: &str) -> Result<Rollout, RunError> {
        self.ports
            .store()
            .load(id)
            .await?
            .ok_or_else(|| RunError::NotFound(id.to_string()))
    }
}
