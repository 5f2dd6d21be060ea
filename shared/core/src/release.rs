//! Release trains: several rollouts (the **members**) shifted in lockstep behind one set of
//! gates, and rolled back together.
//!
//! A member is an ordinary [`Rollout`] (its own alias lock, alias writes, ticks, hooks and
//! history) that carries a [`ReleaseMembership`]. The single-rollout engine treats it the same
//! way except at the moments it would move on by itself: instead of taking the next plan
//! step (or starting to shift, or succeeding) it waits at a **barrier**
//! ([`PauseKind::Release`](crate::PauseKind::Release)), and emits
//! [`Command::CoordinateRelease`](crate::Command::CoordinateRelease). The coordinator
//! ([`coordinate`], pure) looks at every member's record and decides for the train:
//!
//! - every member waits at the same barrier, with nothing owed: [`Coordination::Advance`],
//!   applied to all members in one transaction, so members never differ by more than one
//!   step and none succeeds unless all do;
//! - a member is rolling back, rolled back or failed (a breach, a failed hook, drift, a
//!   failed alias write, an operator's abort): [`Coordination::RollBack`] of every other
//!   member, with a reason naming the member that caused it;
//! - otherwise [`Coordination::Wait`].
//!
//! **Waves.** A release may be split into waves (one region first, then the rest; a staging
//! account, then production). Every member is created at the start, but a member of wave
//! `N + 1` is started only once every member of wave `N` has finished its plan, its bake and
//! its post-traffic hook ([`Coordination::StartWave`]). A member going bad rolls back every
//! member that has not succeeded, so later waves never start; whether earlier waves stay on
//! the new version is the release's [`EarlierWaves`]: with `rollBack` (the default) a
//! finished wave waits at 100 % until the last wave finishes, and goes back with any later
//! failure; with `keep` each wave succeeds as soon as it finishes.
//!
//! Member ids are the release id and the member's place (`<release>-0`, `<release>-1`, ...),
//! so a release is found from its id without an item of its own ([`member_id`]).

use crate::rollout::{PauseKind, Rollout, Status};
use serde::{Deserialize, Serialize};

/// Most members one release may have. Starting a release creates every member, its alias
/// lock, its history item, its alarm watches and its idempotency claim in one DynamoDB
/// transaction (at most [`MAX_TRANSACTION_ITEMS`] items), so the alarms count too
/// ([`transaction_items`]).
pub const MAX_MEMBERS: usize = 10;

/// DynamoDB's limit on the items of one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The items starting a release writes in its one transaction: per member the record, the
/// alias lock, the history item, one watch per alarm and the idempotency claim (when a key
/// is given). Every later joint write (an advance, the end) writes fewer.
pub fn transaction_items(alarms_per_member: &[usize], idempotency_key: bool) -> usize {
    alarms_per_member
        .iter()
        .map(|alarms| 3 + alarms + usize::from(idempotency_key))
        .sum()
}

/// The id of member `index` of release `release_id`.
pub fn member_id(release_id: &str, index: usize) -> String {
    format!("{release_id}-{index}")
}

/// Whether the waves before a failed one stay on the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EarlierWaves {
    /// A finished wave waits at 100 % for the last one, and goes back if a later wave fails:
    /// the release is all or nothing.
    #[default]
    RollBack,
    /// Each wave succeeds when it finishes; a later failure rolls back only what has not.
    Keep,
}

/// What makes a rollout a member of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseMembership {
    /// The release's id.
    pub id: String,
    /// The release's name, as the request gave it (for notifications and views).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// This member's place in the release (its id is [`member_id`]`(id, index)`).
    pub index: usize,
    /// Every member's id, in order (this one included).
    pub members: Vec<String>,
    /// The wave this member belongs to (0: the first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wave: usize,
    /// What a failure in a later wave does to finished waves.
    #[serde(default, skip_serializing_if = "is_default")]
    pub earlier_waves: EarlierWaves,
    /// Set on a member that went back (or ended) once the coordinator has seen every member
    /// back or succeeded: until then it owes coordination ([`crate::OwedKind::Release`]), so
    /// that the release follows it back even if the invocation that should have told the
    /// others died.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settled: bool,
    /// Set when this member was rolled back because another member went bad: that member
    /// (`<function>:<alias> (<rollout id>)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_for: Option<String>,
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

fn is_default(value: &EarlierWaves) -> bool {
    *value == EarlierWaves::default()
}

/// Where a member waits at a barrier: the status it would move on from and its plan step.
/// Every member of a release has the same plan, so equal positions are the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BarrierPosition {
    /// `PreTraffic` (ready to shift the first step), `Shifting` (a step's wait is over and
    /// healthy), `Baking` (the bake is over) or `PostTraffic` (ready to succeed).
    pub from: Status,
    pub step_index: Option<usize>,
}

impl Rollout {
    /// The barrier this member waits at, if it waits at one.
    pub fn barrier(&self) -> Option<BarrierPosition> {
        match self.pause {
            Some(pause) if self.status == Status::Paused && pause.kind == PauseKind::Release => {
                Some(BarrierPosition {
                    from: pause.resume_to,
                    // Ready to succeed is one place whichever way the member got to 100 %
                    // (the last step, a promote, a trailing gate).
                    step_index: if pause.resume_to == Status::PostTraffic {
                        None
                    } else {
                        self.step_index
                    },
                })
            }
            _ => None,
        }
    }

    /// Whether this member of a release has not been started: a later wave waiting for the
    /// earlier ones (or a member `start` has not reached yet).
    pub fn is_unstarted(&self) -> bool {
        self.release.is_some() && self.status == Status::PreTraffic && self.seq == 0
    }

    /// The wave of a member (0 for a rollout on its own).
    pub fn wave(&self) -> usize {
        self.release.as_ref().map_or(0, |r| r.wave)
    }

    /// Whether this member has finished its wave's work: succeeded, or at the last barrier
    /// (at 100 %, baked, post-traffic hook passed) waiting to succeed.
    pub fn finished_wave(&self) -> bool {
        self.status == Status::Succeeded
            || self
                .barrier()
                .is_some_and(|b| b.from == Status::PostTraffic)
    }

    /// Whether this member has gone back (ended `RolledBack` or `Failed`) and its release has
    /// not yet been seen to follow it: it owes coordination ([`crate::OwedKind::Release`]).
    pub fn owes_release_followers(&self) -> bool {
        self.release.as_ref().is_some_and(|r| !r.settled)
            && matches!(self.status, Status::RolledBack | Status::Failed)
    }

    /// `<function>:<alias> (<id>)`: how a release names its member.
    pub fn member_label(&self) -> String {
        format!("{}:{} ({})", self.spec.function, self.spec.alias, self.id)
    }
}

/// Whether a member has gone bad: the train follows it back.
pub fn is_bad(status: Status) -> bool {
    matches!(
        status,
        Status::RollingBack | Status::RolledBack | Status::Failed
    )
}

/// What the release as a whole must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coordination {
    /// Nothing yet: some member is still on its way to the barrier (or the release is over).
    Wait,
    /// The members at `targets` (indexes) all wait at `from` with nothing owed: move them
    /// all on, together.
    Advance {
        from: BarrierPosition,
        targets: Vec<usize>,
    },
    /// Every earlier wave has finished: start the members of `wave` at `targets` (those not
    /// started yet).
    StartWave { wave: usize, targets: Vec<usize> },
    /// `cause` went bad: roll back the members at `targets` (indexes), with `reason`.
    RollBack {
        cause: String,
        reason: String,
        targets: Vec<usize>,
    },
}

/// The release's next move, from every member's record (in member order).
pub fn coordinate(members: &[Rollout]) -> Coordination {
    let bad: Vec<&Rollout> = members.iter().filter(|m| is_bad(m.status)).collect();
    if !bad.is_empty() {
        let targets: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| !is_bad(m.status) && m.status != Status::Succeeded)
            .map(|(index, _)| index)
            .collect();
        if targets.is_empty() {
            return Coordination::Wait;
        }
        let (cause, reason) = cause_of(&bad);
        return Coordination::RollBack {
            cause,
            reason,
            targets,
        };
    }
    let keep = members
        .first()
        .and_then(|m| m.release.as_ref())
        .map(|r| r.earlier_waves)
        == Some(EarlierWaves::Keep);
    // The wave at work: the first with a member that has not finished (with `keep`, that
    // has not succeeded: a finished wave succeeds before the next starts).
    let open = |m: &&Rollout| {
        if keep {
            m.status != Status::Succeeded
        } else {
            !m.finished_wave()
        }
    };
    let Some(wave) = members.iter().filter(open).map(Rollout::wave).min() else {
        // Every wave has finished: the members waiting to succeed succeed together.
        return advance(members, |_| true);
    };
    let in_wave = |m: &Rollout| m.wave() == wave;
    // Members of a later wave at work not started yet (all of them when the wave opens; the
    // rest of them when starting it was interrupted) are started. The first wave is `start`'s
    // to start (and a re-drive's, should `start` stop half way).
    let unstarted = indexes(members, |m| in_wave(m) && m.is_unstarted());
    if wave > 0 && !unstarted.is_empty() {
        return Coordination::StartWave {
            wave,
            targets: unstarted,
        };
    }
    advance(members, in_wave)
}

/// The members an operator's joint command (`promote`, a gate's `resume`) moves: those of the
/// wave at work that have started and not finished (a finished wave waits at 100 %, a later
/// wave has not started).
pub fn at_work(members: &[Rollout]) -> Vec<usize> {
    let busy = |m: &Rollout| !m.status.is_terminal() && !m.finished_wave() && !m.is_unstarted();
    let Some(wave) = members.iter().filter(|m| busy(m)).map(Rollout::wave).min() else {
        return Vec::new();
    };
    indexes(members, |m| m.wave() == wave && busy(m))
}

/// The indexes of the members `which` picks.
fn indexes(members: &[Rollout], which: impl Fn(&Rollout) -> bool) -> Vec<usize> {
    members
        .iter()
        .enumerate()
        .filter(|(_, m)| which(m))
        .map(|(index, _)| index)
        .collect()
}

/// An advance of the members `which` picks (those not yet succeeded), if they all wait at
/// the same barrier with nothing owed.
fn advance(members: &[Rollout], which: impl Fn(&Rollout) -> bool) -> Coordination {
    let targets = indexes(members, |m| which(m) && m.status != Status::Succeeded);
    let from = targets.first().and_then(|&i| members[i].barrier());
    match from {
        Some(from)
            if targets
                .iter()
                .all(|&i| members[i].barrier() == Some(from) && members[i].owed.is_empty()) =>
        {
            Coordination::Advance { from, targets }
        }
        _ => Coordination::Wait,
    }
}

/// Why a release went back, if it did: the member that went bad first on its own, and its
/// reason (as the coordinator names it to the others).
pub fn cause(members: &[Rollout]) -> Option<(String, String)> {
    let bad: Vec<&Rollout> = members.iter().filter(|m| is_bad(m.status)).collect();
    (!bad.is_empty()).then(|| cause_of(&bad))
}

/// The member that went bad first on its own (not for another member), and why.
fn cause_of(bad: &[&Rollout]) -> (String, String) {
    let own = bad
        .iter()
        .filter(|m| {
            m.release
                .as_ref()
                .is_none_or(|release| release.rolled_back_for.is_none())
        })
        .min_by_key(|m| (m.updated_at, m.release.as_ref().map_or(0, |r| r.index)));
    match own {
        Some(member) => (
            member.member_label(),
            member
                .reason
                .clone()
                .unwrap_or_else(|| format!("it is {}", member.status)),
        ),
        // Every bad member followed another one: carry the first one's cause on.
        None => {
            let first = bad[0];
            let cause = first
                .release
                .as_ref()
                .and_then(|r| r.rolled_back_for.clone())
                .unwrap_or_else(|| first.member_label());
            (cause, first.reason.clone().unwrap_or_default())
        }
    }
}

/// Whether every member has gone back or succeeded: nothing is left to coordinate.
pub fn is_settled(members: &[Rollout]) -> bool {
    members
        .iter()
        .all(|m| is_bad(m.status) || m.status == Status::Succeeded)
}

/// The status of a release as a whole, from its members': rolled back (or rolling back)
/// when any member is, succeeded when all are, paused when a member waits at a manual gate
/// or for an operator, else the least advanced member's.
pub fn release_status(members: &[Rollout]) -> Status {
    if members.iter().any(|m| is_bad(m.status)) {
        let done = members.iter().all(|m| m.status.is_terminal());
        return if done {
            Status::RolledBack
        } else {
            Status::RollingBack
        };
    }
    if !members.is_empty() && members.iter().all(|m| m.status == Status::Succeeded) {
        return Status::Succeeded;
    }
    let paused = members.iter().any(|m| {
        m.pause
            .is_some_and(|p| m.status == Status::Paused && p.kind != PauseKind::Release)
    });
    if paused {
        return Status::Paused;
    }
    let order = |status: Status| match status {
        Status::PreTraffic => 0,
        Status::Shifting => 1,
        Status::Baking => 2,
        Status::PostTraffic => 3,
        _ => 4,
    };
    // Members of later waves not started yet do not hold the release back.
    let started: Vec<&Rollout> = members.iter().filter(|m| !m.is_unstarted()).collect();
    let counted: Vec<&Rollout> = if started.is_empty() {
        members.iter().collect()
    } else {
        started
    };
    counted
        .iter()
        .filter(|m| m.status != Status::Succeeded)
        .map(|m| m.barrier().map_or(m.status, |b| b.from))
        .min_by_key(|status| order(*status))
        .unwrap_or(Status::PreTraffic)
}
