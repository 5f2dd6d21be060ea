//! The runner applies engine transitions through the ports: load the rollout, ask the engine
//! for the next state and its commands, run the commands, persist conditionally on `seq`,
//! and feed what the commands report back as events, until nothing is left to do.
//!
//! Ordering, chosen so that a failure at any point leaves a state that is safe and that a
//! retry can resume:
//! - Raising traffic (`SetWeight` outside a rollback) and scheduling the next tick happen
//!   *before* the write: if either fails, nothing was persisted and the same event can be
//!   retried; the new `RevisionId` goes into that one write. When the alias already moved and
//!   what follows fails (the schedule, or the write itself), the alias is put back to the
//!   stored weight first.
//! - A rollback is persisted *first* (`RollingBack`), then the alias is restored: if
//!   restoring fails, the stored status still says what is owed ([`Event::Redrive`]).
//! - Cancelling ticks, notifications and hook or health results come after the write.
//! - Statuses this function hands off (`PostTraffic` to `finalize`, `RollingBack` to
//!   `rollback`) are persisted and passed on, their work left to the function that owns it;
//!   a re-drive of a rollout already in such a status is passed on the same way.

use crate::error::PortError;
use crate::ports::{
    AliasRouter, Dispatcher, HandOff, HealthCheck, HookRequest, HookRunner, LastWrite, Notifier,
    Ports, RolloutStore, Ticker,
};
use glidepath_core::{Command, Event, Rollout, Status, TransitionError, transition};
use std::collections::VecDeque;
use tracing::{info, warn};

/// Why a run stopped short.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no rollout with id `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Rejected(#[from] TransitionError),
    #[error(transparent)]
    Port(#[from] PortError),
}

impl RunError {
    /// The stable name a Lambda caller sees in `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            RunError::NotFound(_) => "InvalidRequest",
            RunError::Rejected(_) => "Conflict",
            RunError::Port(error) => error.error_type(),
        }
    }
}

/// Applies events to rollouts through a set of ports.
pub struct Runner<'a, P: Ports> {
    ports: &'a P,
    hand_offs: &'a [(Status, HandOff)],
}

impl<'a, P: Ports> Runner<'a, P> {
    /// A runner that does all the work itself.
    pub fn new(ports: &'a P) -> Self {
        Runner {
            ports,
            hand_offs: &[],
        }
    }

    /// A runner that passes rollouts reaching these statuses to another function.
    pub fn handing_off(ports: &'a P, hand_offs: &'a [(Status, HandOff)]) -> Self {
        Runner { ports, hand_offs }
    }

    /// Loads rollout `id` and applies `event` and everything that follows from it.
    pub async fn run(&self, id: &str, event: Event) -> Result<Rollout, RunError> {
        let rollout = self.reload(id).await?;
        self.run_on(rollout, event).await
    }

    /// Applies `event` to an already loaded rollout.
    pub async fn run_on(&self, mut rollout: Rollout, event: Event) -> Result<Rollout, RunError> {
        let mut pending = VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            let now = self.ports.now();
            let step = transition(&rollout, event.clone(), now)?;
            let mut next = step.rollout;
            // A transition into a handed-off status, or a re-drive of one, goes to the
            // function that owns that work.
            let hands_over = step.changed || event == Event::Redrive;
            let hand_off = self
                .hand_offs
                .iter()
                .find(|(status, _)| hands_over && *status == next.status)
                .map(|(_, work)| *work);
            let restoring = next.status == Status::RollingBack;

            // Before the write: raise traffic, schedule the next tick.
            if hand_off.is_none() {
                let mut drifted = None;
                for command in &step.commands {
                    match command {
                        Command::SetWeight { weight, take_over } if !restoring => {
                            let expected = rollout
                                .alias_revision
                                .as_deref()
                                .filter(|_| !take_over)
                                .map(|revision| LastWrite {
                                    revision,
                                    weight: rollout.weight,
                                });
                            match self
                                .ports
                                .router()
                                .set_weight(&rollout.spec, *weight, expected)
                                .await
                            {
                                Ok(revision) => next.alias_revision = Some(revision),
                                Err(PortError::Drift(detail)) => {
                                    drifted = Some(detail);
                                    break;
                                }
                                Err(error) => return Err(error.into()),
                            }
                        }
                        // A tick due now (a step with no wait) runs in this invocation.
                        Command::ScheduleTick { seq, at } if *at > now => {
                            if let Err(error) =
                                self.ports.ticker().schedule(&rollout.id, *seq, *at).await
                            {
                                return Err(self.undo_alias(&rollout, &next, error).await);
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(detail) = drifted {
                    // Our own earlier write, or someone else's? Only an unchanged record
                    // means the alias moved under a rollout that is still ours to drive.
                    let stored = self.reload(&rollout.id).await?;
                    if stored.seq != rollout.seq {
                        info!(rollout_id = %rollout.id, "rollout moved on while this event ran; dropping it");
                        return Ok(stored);
                    }
                    warn!(rollout_id = %rollout.id, detail = %detail, "alias drift");
                    rollout = stored;
                    pending.push_front(Event::Drift { detail });
                    continue;
                }
            }

            // The write: conditional on the seq this transition started from.
            if step.changed || next.alias_revision != rollout.alias_revision {
                let name = step.changed.then(|| event.name());
                match self.ports.store().save(rollout.seq, &next, name).await {
                    Ok(()) => {}
                    Err(PortError::Conflict(reason)) => {
                        info!(rollout_id = %rollout.id, reason = %reason, "lost a race to another writer; dropping this event");
                        return self.reload(&rollout.id).await;
                    }
                    Err(error) => return Err(self.undo_alias(&rollout, &next, error).await),
                }
                if step.changed {
                    info!(
                        rollout_id = %next.id, seq = next.seq, event = event.name(),
                        status = %next.status, weight = next.weight, "transition"
                    );
                }
            }
            rollout = next;

            // After the write.
            for command in step.commands {
                match command {
                    Command::SetWeight { weight, .. } if restoring && hand_off.is_none() => {
                        let revision = self
                            .ports
                            .router()
                            .set_weight(&rollout.spec, weight, None)
                            .await?;
                        rollout.alias_revision = Some(revision);
                        pending.push_back(Event::RollbackApplied);
                    }
                    Command::ScheduleTick { seq, at } if at <= now && hand_off.is_none() => {
                        pending.push_back(Event::Tick { seq });
                    }
                    Command::CancelTicks => {
                        if let Err(error) = self.ports.ticker().cancel(&rollout.id).await {
                            // Harmless: stale ticks are no-ops and schedules delete themselves.
                            warn!(rollout_id = %rollout.id, error = %error, "could not cancel pending ticks");
                        }
                    }
                    Command::Notify(_) => {
                        if let Err(error) = self.ports.notifier().notify(&rollout).await {
                            warn!(rollout_id = %rollout.id, error = %error, "could not publish the state change");
                        }
                    }
                    Command::CheckHealth { seq } if hand_off.is_none() => {
                        let verdict = self
                            .ports
                            .health()
                            .check(&rollout.spec.alarms, rollout.spec.insufficient_data)
                            .await?;
                        pending.push_back(Event::Health { seq, verdict });
                    }
                    Command::RunHook { phase, function } if hand_off.is_none() => {
                        let request = HookRequest::new(&rollout, phase);
                        let outcome = self.ports.hooks().run(&function, &request).await?;
                        pending.push_back(Event::HookCompleted { phase, outcome });
                    }
                    // ReleaseLock is part of the terminal write; the rest ran before it.
                    _ => {}
                }
            }
            if let Some(work) = hand_off {
                self.ports.dispatcher().hand_off(work, &rollout.id).await?;
                info!(rollout_id = %rollout.id, ?work, "handed off");
                break;
            }
        }
        Ok(rollout)
    }

    /// An effect or the write failed after this transition had already moved the alias:
    /// put the alias back where the stored record says it is, so that the retried event
    /// starts from a consistent state (and a rollout failed at its first step leaves no
    /// traffic on the new version). Returns the original error.
    async fn undo_alias(&self, before: &Rollout, after: &Rollout, error: PortError) -> RunError {
        if after.alias_revision != before.alias_revision {
            warn!(rollout_id = %before.id, weight = before.weight, error = %error, "undoing the alias change of a failed step");
            if let Err(undo) = self
                .ports
                .router()
                .set_weight(&before.spec, before.weight, None)
                .await
            {
                warn!(rollout_id = %before.id, error = %undo, "could not undo the alias change");
            }
        }
        error.into()
    }

    async fn reload(&self, id: &str) -> Result<Rollout, RunError> {
        self.ports
            .store()
            .load(id)
            .await?
            .ok_or_else(|| RunError::NotFound(id.to_string()))
    }
}
