//! What a rollout record owes, and when that work is overdue: the one rule the DynamoDB
//! adapter's `active` index, the in-memory fake and the watchdog all follow.
//!
//! A transition that moves the alias or schedules a tick is persisted *first*, with those
//! effects marked as [`Owed`]; the runner then carries them out and confirms (clears) them.
//! Only the writer that won the record's `seq` ever creates owed effects, so only it (or a
//! re-drive of that same record) may carry them out: this is what fences every alias write.

use crate::rollout::{Rollout, Status, UnixSeconds};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an owed alias write treats what the alias holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AliasWrite {
    /// Conditional on the `RevisionId` Glidepath last confirmed; anything else is drift.
    Fenced,
    /// Overwrites whatever the alias holds (a rollback, or an operator taking it back).
    TakeOver,
}

/// Effects a persisted transition decided and that are not yet confirmed done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owed {
    /// The alias must be set to the record's `weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<AliasWrite>,
    /// The tick for the record's `seq` at `next_tick_at` must be scheduled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tick: bool,
}

impl Owed {
    /// Nothing owed.
    pub fn is_empty(&self) -> bool {
        self.alias.is_none() && !self.tick
    }
}

/// Why an unfinished rollout may need a re-drive, which decides how long to wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwedKind {
    /// Persisted effects (an alias write, a tick to schedule) not yet confirmed.
    Effects,
    /// The tick for the current `seq`.
    Tick,
    /// A pre- or post-traffic hook stage.
    Hook,
    /// Restoring the alias to the old version.
    Rollback,
    /// State changes not yet published (`notified_seq < seq`), finished rollouts included.
    Notification,
    /// A member of a release waiting at a barrier: the release is coordinated again (the
    /// invocation that should have moved the members on may have died).
    Release,
}

impl OwedKind {
    /// The short name stored in index keys.
    pub fn as_str(self) -> &'static str {
        match self {
            OwedKind::Effects => "effects",
            OwedKind::Tick => "tick",
            OwedKind::Hook => "hook",
            OwedKind::Rollback => "rollback",
            OwedKind::Notification => "notification",
            OwedKind::Release => "release",
        }
    }

    /// Reads [`OwedKind::as_str`] back.
    pub fn parse(text: &str) -> Option<OwedKind> {
        [
            OwedKind::Effects,
            OwedKind::Tick,
            OwedKind::Hook,
            OwedKind::Rollback,
            OwedKind::Notification,
            OwedKind::Release,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for OwedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Work an unfinished rollout owes, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwedWork {
    pub kind: OwedKind,
    /// When the work became due (a tick's due time, or when the stage was entered).
    pub since: UnixSeconds,
}

/// How long each kind of owed work may stay undone before the watchdog re-drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    /// Unconfirmed effects: the writer normally confirms within its own invocation.
    pub effects: u64,
    /// A tick Scheduler should have delivered (it fires within a minute).
    pub tick: u64,
    /// A hook stage (hook functions run for at most 300 s; this leaves room for the
    /// invoking function's own timeout and one retry).
    pub hook: u64,
    /// A rollback that has not finished.
    pub rollback: u64,
    /// A state change whose notification was not published.
    pub notification: u64,
}

impl Default for Grace {
    fn default() -> Self {
        Grace {
            effects: 60,
            tick: 120,
            hook: 960,
            rollback: 60,
            notification: 60,
        }
    }
}

impl Grace {
    /// The same grace for every kind (tests and emulator runs that cannot wait minutes).
    pub fn uniform(seconds: u64) -> Self {
        Grace {
            effects: seconds,
            tick: seconds,
            hook: seconds,
            rollback: seconds,
            notification: seconds,
        }
    }

    /// The grace for one kind of work.
    pub fn of(&self, kind: OwedKind) -> u64 {
        match kind {
            OwedKind::Effects => self.effects,
            OwedKind::Tick => self.tick,
            OwedKind::Hook => self.hook,
            OwedKind::Rollback => self.rollback,
            OwedKind::Notification => self.notification,
            // As long as a tick may be late: the members it waits for arrive by ticks.
            OwedKind::Release => self.tick,
        }
    }

    /// The shortest grace: an index query for overdue work reads every entry owed since
    /// before `now - shortest()` and filters with [`Grace::is_overdue`].
    pub fn shortest(&self) -> u64 {
        self.effects
            .min(self.tick)
            .min(self.hook)
            .min(self.rollback)
            .min(self.notification)
    }

    /// Whether work owed since `work.since` is overdue at `now`.
    pub fn is_overdue(&self, work: OwedWork, now: UnixSeconds) -> bool {
        work.since.saturating_add(self.of(work.kind)) < now
    }
}

impl Rollout {
    /// What this record owes and since when; `None` when it owes nothing (finished and
    /// notified, or paused for an operator). Unconfirmed effects come first, then an
    /// unpublished state change, then what the status waits for.
    pub fn owed_work(&self) -> Option<OwedWork> {
        let at = |kind, since| Some(OwedWork { kind, since });
        if !self.owed.is_empty() && !self.status.is_terminal() {
            return at(OwedKind::Effects, self.updated_at);
        }
        if self.notified_seq < self.seq {
            return at(OwedKind::Notification, self.updated_at);
        }
        // A member that went back owes coordination until the release has followed it.
        if self.owes_release_followers() {
            return at(OwedKind::Release, self.updated_at);
        }
        if self.status.is_terminal() {
            return None;
        }
        match self.status {
            // A member not started yet: a later wave's, until the release starts it; the
            // first wave's, until `start` (or a re-drive, should it have stopped) does.
            Status::PreTraffic if self.is_unstarted() => at(OwedKind::Release, self.updated_at),
            Status::Shifting | Status::Baking => {
                self.next_tick_at.and_then(|due| at(OwedKind::Tick, due))
            }
            // A callback hook is waited for until its deadline tick.
            Status::PreTraffic | Status::PostTraffic if self.spec.hooks.callback => self
                .next_tick_at
                .and_then(|due| at(OwedKind::Tick, due))
                .or_else(|| at(OwedKind::Hook, self.updated_at)),
            Status::PreTraffic | Status::PostTraffic => at(OwedKind::Hook, self.updated_at),
            Status::RollingBack => at(OwedKind::Rollback, self.updated_at),
            Status::Paused if self.barrier().is_some() => at(OwedKind::Release, self.updated_at),
            Status::Paused | Status::Succeeded | Status::RolledBack | Status::Failed => None,
        }
    }
}
