//! Events the engine reacts to and the commands (effects) it asks for, as plain data.

use crate::rollout::{Status, UnixSeconds};
use crate::weight::Weight;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookPhase {
    PreTraffic,
    PostTraffic,
    /// The gate asked before each weight increase (`hooks.beforeShift`).
    BeforeShift,
    /// The notice of a rollback (`hooks.onRollback`).
    OnRollback,
}

impl fmt::Display for HookPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookPhase::PreTraffic => "PreTraffic",
            HookPhase::PostTraffic => "PostTraffic",
            HookPhase::BeforeShift => "BeforeShift",
            HookPhase::OnRollback => "OnRollback",
        })
    }
}

/// The result of running a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    Succeeded,
    Failed { reason: String },
}

/// The result of a health check (alarms and metrics) of the target version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthVerdict {
    Healthy,
    Breached {
        reason: String,
    },
    /// Canary analysis saw too little traffic to judge; the rollout's `analysis.noData`
    /// decides what follows.
    NoData {
        reason: String,
    },
}

/// Something that happened to a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The rollout record was created: run the pre-traffic hook or start shifting.
    Start,
    /// A hook finished.
    HookCompleted {
        phase: HookPhase,
        outcome: HookOutcome,
    },
    /// A callback hook answered for `execution_id` (see [`crate::Rollout::hook_execution_id`]).
    HookResult {
        execution_id: String,
        outcome: HookOutcome,
    },
    /// A scheduled tick, carrying the `seq` it was scheduled for.
    Tick { seq: u64 },
    /// The health check that a tick for `seq` asked for.
    Health { seq: u64, verdict: HealthVerdict },
    /// An alarm went to `ALARM` (event path): roll back without waiting for a tick.
    Breach { reason: String },
    /// Operator: hold the current weight.
    Pause,
    /// Operator: continue after a pause or a manual gate.
    Resume,
    /// Operator: skip the remaining steps (and bake) and go to 100 %.
    Promote,
    /// Operator: roll back now.
    Abort { reason: String },
    /// The alias was changed by someone else (its `RevisionId` no longer matches).
    Drift { detail: String },
    /// The alias write owed by the record at `seq` is done and confirmed: a rollback ends
    /// `RolledBack`, a post-traffic stage without a hook ends `Succeeded`.
    AliasApplied { seq: u64 },
    /// Glidepath could not carry out an effect and cannot go on.
    Failed { reason: String },
    /// Asks for the work the current status still owes (run a hook, restore the alias),
    /// without changing anything: how a function that takes over a rollout, or a
    /// watchdog, resumes it.
    Redrive,
    /// The release moves this member on from the barrier at `from` (every member waits
    /// there): what the member would have done by itself, had it been alone.
    ReleaseAdvance {
        from: crate::release::BarrierPosition,
    },
    /// Another member of the release (`member`) went bad: this one rolls back too.
    ReleaseRollBack { member: String, reason: String },
}

impl Event {
    /// A stable name for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::HookCompleted { .. } => "hook-completed",
            Event::HookResult { .. } => "hook-result",
            Event::Tick { .. } => "tick",
            Event::Health { .. } => "health",
            Event::Breach { .. } => "breach",
            Event::Pause => "pause",
            Event::Resume => "resume",
            Event::Promote => "promote",
            Event::Abort { .. } => "abort",
            Event::Drift { .. } => "drift",
            Event::AliasApplied { .. } => "alias-applied",
            Event::Failed { .. } => "failed",
            Event::Redrive => "redrive",
            Event::ReleaseAdvance { .. } => "release-advance",
            Event::ReleaseRollBack { .. } => "release-rollback",
        }
    }

    /// Operator commands get an error when they cannot apply; machine events are absorbed.
    pub fn is_operator_command(&self) -> bool {
        matches!(
            self,
            Event::Pause | Event::Resume | Event::Promote | Event::Abort { .. }
        )
    }
}

/// An effect the engine asks for. The caller runs them in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Invoke a hook function and feed back [`Event::HookCompleted`].
    RunHook { phase: HookPhase, function: String },
    /// Route `weight` % of the alias's traffic to the target version (0: all on the current
    /// version, 100: all on the target, both without a routing config). The record that asks
    /// for it is persisted first with the write marked owed; the write runs after, then is
    /// confirmed ([`Event::AliasApplied`]). Unless `take_over`, the write is conditional on
    /// the alias's `RevisionId` being the one Glidepath last confirmed, and a mismatch is fed
    /// back as [`Event::Drift`]. With `take_over` (rolling back, or an operator resuming
    /// after drift) it overwrites whatever the alias holds.
    SetWeight { weight: Weight, take_over: bool },
    /// Deliver `Event::Tick { seq }` at `at`.
    ScheduleTick { seq: u64, at: UnixSeconds },
    /// Check alarms and metrics, then feed back [`Event::Health`] with this `seq`.
    CheckHealth { seq: u64 },
    /// Delete ticks still pending for this rollout.
    CancelTicks,
    /// Free the alias for the next rollout.
    ReleaseLock,
    /// Publish the new state (EventBridge "Glidepath Rollout State Change").
    Notify(Notification),
    /// A member of a release reached a barrier or went bad: load every member and act on
    /// [`crate::release::coordinate`]'s decision.
    CoordinateRelease,
}

/// What a state-change notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub status: Status,
    pub weight: Weight,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
