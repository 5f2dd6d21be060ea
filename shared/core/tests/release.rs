//! Release trains in the engine: members wait for each other at barriers, move on together,
//! and go back together. Examples first, then properties over random plans and events.

mod support;

use glidepath_core::release::{
    BarrierPosition, Coordination, EarlierWaves, ReleaseMembership, coordinate, member_id,
    release_status,
};
use glidepath_core::{
    Command, Event, HealthVerdict, HookOutcome, HookPhase, OwedKind, PauseKind, Rollout, Status,
    Transition, Weight, transition,
};
use proptest::prelude::*;

/// `n` members of release `rel1`, on `strategy`, with the given hooks.
fn train(n: usize, strategy: &str, bake: u64, pre: bool, post: bool) -> Vec<Rollout> {
    in_waves(
        &vec![0; n],
        EarlierWaves::RollBack,
        strategy,
        bake,
        pre,
        post,
    )
}

/// Members of release `rel1` in the waves given (member `i` in wave `waves[i]`).
fn in_waves(
    waves: &[usize],
    earlier_waves: EarlierWaves,
    strategy: &str,
    bake: u64,
    pre: bool,
    post: bool,
) -> Vec<Rollout> {
    let n = waves.len();
    let ids: Vec<String> = (0..n).map(|i| member_id("rel1", i)).collect();
    (0..n)
        .map(|index| {
            let mut r = support::rollout(strategy, bake, pre, post);
            r.id = ids[index].clone();
            r.spec.function = format!("fn{index}");
            r.release = Some(ReleaseMembership {
                id: "rel1".into(),
                name: Some("checkout".into()),
                index,
                members: ids.clone(),
                rolled_back_for: None,
                wave: waves[index],
                earlier_waves,
                settled: false,
            });
            r
        })
        .collect()
}

fn apply(r: &mut Rollout, event: Event, now: u64) -> Transition {
    let t = transition(r, event.clone(), now).unwrap_or_else(|e| panic!("{event:?}: {e}"));
    *r = t.rollout.clone();
    t
}

/// Confirms what a member owes, as the runner would after carrying it out.
fn confirm(r: &mut Rollout, now: u64) {
    let alias = r.owed.alias.is_some();
    r.owed = Default::default();
    if alias {
        let seq = r.seq;
        apply(r, Event::AliasApplied { seq }, now);
    }
}

/// A due, healthy check of a shifting or baking member.
fn healthy(r: &mut Rollout) -> Transition {
    let now = r.next_tick_at.unwrap_or(r.updated_at);
    let seq = r.seq;
    apply(
        r,
        Event::Health {
            seq,
            verdict: HealthVerdict::Healthy,
        },
        now,
    )
}

/// Applies the coordinator's decision the way the runner does: an advance to every member at
/// once (all transitions must apply), a rollback to each target.
fn coordinate_and_apply(members: &mut [Rollout], now: u64) -> Coordination {
    let decision = coordinate(members);
    match &decision {
        Coordination::Advance { from, targets } => {
            let next: Vec<Transition> = targets
                .iter()
                .map(|&i| {
                    transition(&members[i], Event::ReleaseAdvance { from: *from }, now)
                        .expect("an advance applies")
                })
                .collect();
            assert!(next.iter().all(|t| t.changed), "every member moves on");
            for (&i, t) in targets.iter().zip(next) {
                members[i] = t.rollout;
            }
        }
        Coordination::StartWave { targets, .. } => {
            for &i in targets {
                apply(&mut members[i], Event::Start, now);
            }
        }
        Coordination::RollBack {
            cause,
            reason,
            targets,
        } => {
            for &i in targets {
                apply(
                    &mut members[i],
                    Event::ReleaseRollBack {
                        member: cause.clone(),
                        reason: reason.clone(),
                    },
                    now,
                );
            }
        }
        Coordination::Wait => {}
    }
    decision
}

#[test]
fn members_wait_for_each_other_before_the_first_step_and_move_together() {
    let mut members = train(3, "Linear10PercentEvery1Minute", 0, false, false);
    let t = apply(&mut members[0], Event::Start, 1_000);
    assert_eq!(members[0].status, Status::Paused);
    assert_eq!(
        members[0].barrier(),
        Some(BarrierPosition {
            from: Status::PreTraffic,
            step_index: None
        })
    );
    assert!(t.commands.contains(&Command::CoordinateRelease));
    assert!(
        !t.commands
            .iter()
            .any(|c| matches!(c, Command::SetWeight { .. })),
        "no traffic before the others are ready"
    );
    assert_eq!(coordinate(&members), Coordination::Wait);
    apply(&mut members[1], Event::Start, 1_000);
    apply(&mut members[2], Event::Start, 1_001);
    assert!(matches!(
        coordinate_and_apply(&mut members, 1_002),
        Coordination::Advance { .. }
    ));
    for m in &members {
        assert_eq!(m.status, Status::Shifting);
        assert_eq!(m.weight, Weight::percent(10));
        assert!(m.traffic_allowed);
    }
}

#[test]
fn a_step_advances_only_when_every_member_is_healthy_and_confirmed() {
    let mut members = train(2, "Linear10PercentEvery1Minute", 0, false, false);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    coordinate_and_apply(&mut members, 1_000);
    // Member 0's write is confirmed and its check healthy; member 1's write is not confirmed.
    confirm(&mut members[0], 1_000);
    healthy(&mut members[0]);
    assert_eq!(members[0].pause.map(|p| p.kind), Some(PauseKind::Release));
    assert_eq!(coordinate(&members), Coordination::Wait);
    // An unconfirmed member cannot even be checked.
    let before = members[1].clone();
    healthy(&mut members[1]);
    assert_eq!(members[1], before);
    confirm(&mut members[1], 1_000);
    healthy(&mut members[1]);
    assert!(matches!(
        coordinate_and_apply(&mut members, 1_061),
        Coordination::Advance { .. }
    ));
    assert!(members.iter().all(|m| m.weight == Weight::percent(20)));
}

#[test]
fn one_member_breaching_rolls_the_whole_train_back_naming_it() {
    let mut members = train(3, "Linear10PercentEvery1Minute", 0, false, false);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    coordinate_and_apply(&mut members, 1_000);
    let t = apply(
        &mut members[1],
        Event::Breach {
            reason: "alarm fn1-errors is ALARM".into(),
        },
        1_010,
    );
    assert!(t.commands.contains(&Command::CoordinateRelease));
    match coordinate_and_apply(&mut members, 1_011) {
        Coordination::RollBack { cause, targets, .. } => {
            assert_eq!(cause, "fn1:live (rel1-1)");
            assert_eq!(targets, vec![0, 2]);
        }
        other => panic!("{other:?}"),
    }
    for m in &members {
        assert_eq!(m.status, Status::RollingBack);
        assert_eq!(m.weight, Weight::ZERO);
    }
    let reason = members[2].reason.clone().unwrap();
    assert!(
        reason.contains("fn1:live (rel1-1)") && reason.contains("fn1-errors"),
        "{reason}"
    );
    // Once they all roll back, the cause stays the member that went bad first.
    for m in members.iter_mut() {
        confirm(m, 1_012);
    }
    assert!(members.iter().all(|m| m.status == Status::RolledBack));
    assert_eq!(release_status(&members), Status::RolledBack);
    assert_eq!(coordinate(&members), Coordination::Wait);
}

#[test]
fn drift_on_a_member_rolls_the_train_back_instead_of_pausing() {
    let mut members = train(2, "Canary10Percent5Minutes", 0, false, false);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    coordinate_and_apply(&mut members, 1_000);
    apply(
        &mut members[0],
        Event::Drift {
            detail: "someone ran update-alias".into(),
        },
        1_005,
    );
    assert_eq!(members[0].status, Status::RollingBack);
    assert!(matches!(
        coordinate_and_apply(&mut members, 1_006),
        Coordination::RollBack { .. }
    ));
    assert_eq!(members[1].status, Status::RollingBack);
}

/// Started members of an `AllAtOnce` release taken to the post-traffic stage together.
fn to_post_traffic(members: &mut [Rollout]) {
    coordinate_and_apply(members, 1_000);
    for m in members.iter_mut() {
        confirm(m, 1_000);
        healthy(m);
    }
    coordinate_and_apply(members, 1_001);
    for m in members.iter_mut() {
        confirm(m, 1_001);
        assert_eq!(m.status, Status::PostTraffic);
    }
}

#[test]
fn no_member_succeeds_before_every_member_passed_its_post_traffic_hook() {
    let mut members = train(2, "AllAtOnce", 0, false, true);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    to_post_traffic(&mut members);
    let ok = Event::HookCompleted {
        phase: HookPhase::PostTraffic,
        outcome: HookOutcome::Succeeded,
    };
    apply(&mut members[0], ok.clone(), 1_010);
    assert_eq!(
        members[0].barrier().map(|b| b.from),
        Some(Status::PostTraffic)
    );
    assert_eq!(coordinate(&members), Coordination::Wait);
    // The second member's hook fails: the first, at 100 % and waiting, goes back too.
    apply(
        &mut members[1],
        Event::HookCompleted {
            phase: HookPhase::PostTraffic,
            outcome: HookOutcome::Failed {
                reason: "smoke test 3 failed".into(),
            },
        },
        1_011,
    );
    assert!(matches!(
        coordinate_and_apply(&mut members, 1_012),
        Coordination::RollBack { .. }
    ));
    assert!(members.iter().all(|m| m.status == Status::RollingBack));

    // The good path: both pass, then both succeed in one move.
    let mut members = train(2, "AllAtOnce", 0, false, true);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    to_post_traffic(&mut members);
    for m in members.iter_mut() {
        apply(m, ok.clone(), 1_010);
    }
    assert!(matches!(
        coordinate_and_apply(&mut members, 1_011),
        Coordination::Advance { .. }
    ));
    assert!(members.iter().all(|m| m.status == Status::Succeeded));
    assert_eq!(release_status(&members), Status::Succeeded);
}

#[test]
fn operator_commands_on_a_member_at_a_barrier() {
    let mut members = train(2, "Linear10PercentEvery1Minute", 0, false, false);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    coordinate_and_apply(&mut members, 1_000);
    confirm(&mut members[0], 1_000);
    healthy(&mut members[0]);
    // Only the release moves a member on from a barrier.
    let refused = transition(&members[0], Event::Resume, 1_100).unwrap_err();
    assert!(refused.to_string().contains("other members"), "{refused}");
    // Pausing it holds the release: it waits a whole step again once resumed.
    apply(&mut members[0], Event::Pause, 1_100);
    assert_eq!(members[0].pause.map(|p| p.kind), Some(PauseKind::Operator));
    apply(&mut members[0], Event::Resume, 1_200);
    assert_eq!(members[0].status, Status::Shifting);
    assert_eq!(members[0].next_tick_at, Some(1_260));
    confirm(&mut members[0], 1_200);
    // A re-drive of a member at a barrier asks for the release to be coordinated, and a
    // member at a barrier is owed work for the watchdog.
    healthy(&mut members[0]);
    members[0].notified_seq = members[0].seq;
    assert_eq!(
        members[0].owed_work().map(|w| w.kind),
        Some(OwedKind::Release)
    );
    let t = transition(&members[0], Event::Redrive, 1_300).unwrap();
    assert!(!t.changed);
    assert_eq!(t.commands, vec![Command::CoordinateRelease]);
}

#[test]
fn an_advance_for_another_barrier_changes_nothing() {
    let mut members = train(2, "Linear10PercentEvery1Minute", 0, false, false);
    for m in members.iter_mut() {
        apply(m, Event::Start, 1_000);
    }
    let stale = BarrierPosition {
        from: Status::Shifting,
        step_index: Some(3),
    };
    let t = transition(&members[0], Event::ReleaseAdvance { from: stale }, 1_001).unwrap();
    assert!(!t.changed);
}

// ---- Properties ----------------------------------------------------------------------

/// What the harness does next.
#[derive(Debug, Clone)]
enum Action {
    Start(usize),
    HealthyTick(usize),
    Confirm(usize),
    PreHook(usize, bool),
    PostHook(usize, bool),
    Breach(usize),
    Drift(usize),
    Failed(usize),
    Redrive(usize),
    /// Run the coordinator (what `CoordinateRelease` asks the runner for).
    Coordinate,
    /// Operator commands on the release, as `step` applies them.
    Pause,
    Resume,
    Promote,
    Abort,
}

/// With `failures` false, nothing goes wrong (no breach, drift, failed effect, failed hook or
/// abort), so that runs also reach the end of the plan.
fn action(n: usize, failures: bool) -> BoxedStrategy<Action> {
    let m = 0..n;
    let happy = prop_oneof![
        2 => m.clone().prop_map(Action::Start),
        10 => m.clone().prop_map(Action::HealthyTick),
        10 => m.clone().prop_map(Action::Confirm),
        2 => m.clone().prop_map(|i| Action::PreHook(i, true)),
        2 => m.clone().prop_map(|i| Action::PostHook(i, true)),
        2 => m.clone().prop_map(Action::Redrive),
        8 => Just(Action::Coordinate),
        1 => Just(Action::Pause),
        2 => Just(Action::Resume),
        1 => Just(Action::Promote),
    ];
    if !failures {
        return happy.boxed();
    }
    prop_oneof![
        30 => happy,
        1 => (m.clone(), any::<bool>()).prop_map(|(i, pre)| if pre {
            Action::PreHook(i, false)
        } else {
            Action::PostHook(i, false)
        }),
        1 => m.clone().prop_map(Action::Breach),
        1 => m.clone().prop_map(Action::Drift),
        1 => m.prop_map(Action::Failed),
        1 => Just(Action::Abort),
    ]
    .boxed()
}

/// How far a member is along the shared plan: 0 before traffic, `k + 1` at step `k`, then
/// the bake, the post-traffic stage and success. A member at a barrier counts where it is.
fn progress(m: &Rollout) -> usize {
    let len = m.plan.steps().len();
    let status = m.barrier().map_or(m.status, |b| b.from);
    match status {
        Status::PreTraffic => 0,
        Status::Shifting | Status::Paused => m.step_index.map_or(0, |i| i + 1),
        Status::Baking => len + 1,
        Status::PostTraffic => len + 2,
        _ => len + 3,
    }
}

fn bad(m: &Rollout) -> bool {
    matches!(
        m.status,
        Status::RollingBack | Status::RolledBack | Status::Failed
    )
}

struct Harness {
    members: Vec<Rollout>,
    /// The weight each alias would have after every write so far.
    alias: Vec<Weight>,
    now: u64,
    promoted: bool,
}

impl Harness {
    fn record(&mut self, i: usize, t: &Transition) {
        for c in &t.commands {
            if let Command::SetWeight { weight, .. } = c {
                self.alias[i] = *weight;
            }
        }
        self.members[i] = t.rollout.clone();
    }

    /// Applies `event` to member `i`, following a due tick's health check with a healthy
    /// verdict. Refusals are for operator commands only.
    fn feed(&mut self, i: usize, event: Event) -> Result<(), TestCaseError> {
        match transition(&self.members[i], event.clone(), self.now) {
            Ok(t) => {
                let checks = t
                    .commands
                    .iter()
                    .any(|c| matches!(c, Command::CheckHealth { .. }));
                self.record(i, &t);
                if checks {
                    let seq = self.members[i].seq;
                    self.feed(
                        i,
                        Event::Health {
                            seq,
                            verdict: HealthVerdict::Healthy,
                        },
                    )?;
                }
                Ok(())
            }
            Err(_) => {
                prop_assert!(event.is_operator_command(), "{:?} refused", event);
                Ok(())
            }
        }
    }

    /// The coordinator's decision, applied: an advance to all members in one move.
    fn coordinate(&mut self) -> Result<(), TestCaseError> {
        match coordinate(&self.members) {
            Coordination::Advance { from, targets } => {
                let mut next = Vec::new();
                for &i in &targets {
                    let t = transition(&self.members[i], Event::ReleaseAdvance { from }, self.now)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(t.changed, "an advance left a member where it was");
                    next.push((i, t));
                }
                for (i, t) in &next {
                    self.record(*i, t);
                }
            }
            Coordination::StartWave { targets, .. } => {
                for i in targets {
                    self.feed(i, Event::Start)?;
                }
            }
            Coordination::RollBack {
                cause,
                reason,
                targets,
            } => {
                for i in targets {
                    self.feed(
                        i,
                        Event::ReleaseRollBack {
                            member: cause.clone(),
                            reason: reason.clone(),
                        },
                    )?;
                }
            }
            Coordination::Wait => {}
        }
        Ok(())
    }

    /// An operator command on the release: a gate or a promote moves every member at once
    /// (or none); pause, resume (after a pause) and abort go to each member that takes them.
    fn operator(&mut self, event: Event) -> Result<(), TestCaseError> {
        let at_gate = |m: &Rollout| m.pause.is_some_and(|p| p.kind == PauseKind::Gate);
        let joint = match event {
            Event::Promote => true,
            Event::Resume => self.members.iter().any(at_gate),
            _ => false,
        };
        if joint {
            // The wave at work, as `command_release` picks it.
            let open = glidepath_core::release::at_work(&self.members);
            let Some(&first) = open.first() else {
                return Ok(());
            };
            let same_gate = open.iter().all(|&i| {
                at_gate(&self.members[i])
                    && self.members[i].step_index == self.members[first].step_index
            });
            if event == Event::Resume && !same_gate {
                return Ok(());
            }
            let all: Result<Vec<Transition>, _> = open
                .iter()
                .map(|&i| transition(&self.members[i], event.clone(), self.now))
                .collect();
            if let Ok(all) = all {
                for (&i, t) in open.iter().zip(&all) {
                    self.record(i, t);
                }
                if event == Event::Promote {
                    self.promoted = true;
                }
            }
            return Ok(());
        }
        for i in 0..self.members.len() {
            self.feed(i, event.clone())?;
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let waves = self.members.iter().map(Rollout::wave).max().unwrap_or(0);
        let keep =
            self.members[0].release.as_ref().map(|r| r.earlier_waves) == Some(EarlierWaves::Keep);
        for wave in 0..=waves {
            let in_wave: Vec<&Rollout> = self.members.iter().filter(|m| m.wave() == wave).collect();
            // Lockstep: members of a wave never differ by more than one step.
            let going: Vec<&&Rollout> = in_wave.iter().filter(|m| !bad(m)).collect();
            if !self.promoted {
                if let (Some(lo), Some(hi)) = (
                    going.iter().map(|m| progress(m)).min(),
                    going.iter().map(|m| progress(m)).max(),
                ) {
                    prop_assert!(
                        hi - lo <= 1,
                        "wave {} members {} steps apart: {:?}",
                        wave,
                        hi - lo,
                        in_wave
                            .iter()
                            .map(|m| (m.status, m.step_index, m.pause))
                            .collect::<Vec<_>>()
                    );
                }
            }
            // A wave succeeds together.
            if in_wave.iter().any(|m| m.status == Status::Succeeded) {
                prop_assert!(
                    in_wave.iter().all(|m| m.status == Status::Succeeded),
                    "wave {} part succeeded: {:?}",
                    wave,
                    in_wave.iter().map(|m| m.status).collect::<Vec<_>>()
                );
            }
            // A wave starts only once every earlier wave has finished.
            if wave > 0 && in_wave.iter().any(|m| !m.is_unstarted() && !bad(m)) {
                for m in self.members.iter().filter(|m| m.wave() < wave) {
                    prop_assert!(
                        m.finished_wave() || bad(m),
                        "wave {} started while {} of wave {} is {}",
                        wave,
                        m.id,
                        m.wave(),
                        m.status
                    );
                }
            }
        }
        // All or nothing (`rollBack`): a member succeeded only if every member did. With
        // `keep`, the waves up to the last that succeeded have wholly succeeded.
        if let Some(last_done) = self
            .members
            .iter()
            .filter(|m| m.status == Status::Succeeded)
            .map(Rollout::wave)
            .max()
        {
            for m in &self.members {
                if !keep || m.wave() <= last_done {
                    prop_assert!(
                        m.status == Status::Succeeded,
                        "{} (wave {}) is {} while wave {} succeeded",
                        m.id,
                        m.wave(),
                        m.status,
                        last_done
                    );
                }
            }
        }
        for (m, alias) in self.members.iter().zip(&self.alias) {
            if m.status == Status::RolledBack || m.status == Status::Failed {
                prop_assert_eq!(*alias, Weight::ZERO);
            }
        }
        Ok(())
    }

    /// What the runner and the watchdog do until nothing is left: confirm every owed effect,
    /// re-drive, and coordinate.
    fn settle(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..8 {
            for i in 0..self.members.len() {
                let alias = self.members[i].owed.alias.is_some();
                self.members[i].owed = Default::default();
                if alias {
                    let seq = self.members[i].seq;
                    self.feed(i, Event::AliasApplied { seq })?;
                }
                self.feed(i, Event::Redrive)?;
            }
            self.coordinate()?;
            self.check()?;
        }
        Ok(())
    }
}

fn strategy() -> impl proptest::strategy::Strategy<Value = String> {
    prop_oneof![
        Just("AllAtOnce".to_string()),
        Just("Canary10Percent5Minutes".to_string()),
        Just("Linear10PercentEvery1Minute".to_string()),
        Just(r#"{"type":"steps","steps":[{"weight":5,"bake":"1m"},{"pause":true},{"weight":50,"bake":"2m"}]}"#.to_string()),
        Just(r#"{"type":"steps","steps":[{"weight":1,"bake":"0s"},{"weight":25,"bake":"1m"}]}"#.to_string()),
    ]
}

/// Each member's wave (nondecreasing, the first in wave 0, at most three waves) and the
/// policy for earlier waves.
type Waves = (Vec<usize>, EarlierWaves);

fn waves(n: usize) -> impl proptest::strategy::Strategy<Value = Waves> {
    (
        proptest::collection::vec(0usize..=1, n),
        prop_oneof![Just(EarlierWaves::RollBack), Just(EarlierWaves::Keep)],
    )
        .prop_map(|(steps, policy)| {
            let mut wave = 0;
            let waves = steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    if i > 0 {
                        wave = (wave + step).min(2);
                    }
                    wave
                })
                .collect();
            (waves, policy)
        })
}

fn case() -> impl proptest::strategy::Strategy<Value = (Waves, String, u64, bool, bool, Vec<Action>)>
{
    (2usize..=4, any::<bool>()).prop_flat_map(|(n, failures)| {
        (
            waves(n),
            strategy(),
            prop_oneof![Just(0u64), Just(120)],
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(action(n, failures), 0..200),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
    ))]

    /// Members of a wave never differ by more than one step; a wave starts only once the
    /// earlier ones finished; a release that goes back leaves every member at 0 % new
    /// (but succeeded earlier waves with `keep`); a release (a wave, with `keep`) succeeds
    /// only when every member has.
    #[test]
    fn trains_move_in_lockstep_and_fail_together(
        ((waves, policy), strategy, bake, pre, post, actions) in case()
    ) {
        let n = waves.len();
        let members = in_waves(&waves, policy, &strategy, bake, pre, post);
        let mut h = Harness { alias: vec![Weight::ZERO; n], now: 1_000, members, promoted: false };
        for action in actions {
            h.now += 7;
            let hook = |phase, ok: bool| Event::HookCompleted {
                phase,
                outcome: if ok { HookOutcome::Succeeded } else {
                    HookOutcome::Failed { reason: "smoke".into() }
                },
            };
            match action {
                // `start` starts the first wave; the release starts the others.
                Action::Start(i) if h.members[i].wave() == 0 => h.feed(i, Event::Start)?,
                Action::Start(_) => {}
                Action::HealthyTick(i) => {
                    h.now = h.now.max(h.members[i].next_tick_at.unwrap_or(h.now));
                    let seq = h.members[i].seq;
                    h.feed(i, Event::Tick { seq })?;
                }
                Action::Confirm(i) => {
                    let alias = h.members[i].owed.alias.is_some();
                    h.members[i].owed = Default::default();
                    if alias {
                        let seq = h.members[i].seq;
                        h.feed(i, Event::AliasApplied { seq })?;
                    }
                }
                Action::PreHook(i, ok) => h.feed(i, hook(HookPhase::PreTraffic, ok))?,
                Action::PostHook(i, ok) => h.feed(i, hook(HookPhase::PostTraffic, ok))?,
                Action::Breach(i) => h.feed(i, Event::Breach { reason: "alarm".into() })?,
                Action::Drift(i) => h.feed(i, Event::Drift { detail: "moved".into() })?,
                Action::Failed(i) => h.feed(i, Event::Failed { reason: "write failed".into() })?,
                Action::Redrive(i) => h.feed(i, Event::Redrive)?,
                Action::Coordinate => h.coordinate()?,
                Action::Pause => h.operator(Event::Pause)?,
                Action::Resume => h.operator(Event::Resume)?,
                Action::Promote => h.operator(Event::Promote)?,
                Action::Abort => h.operator(Event::Abort { reason: "operator".into() })?,
            }
            h.check()?;
        }
        h.settle()?;
        // Once settled, a release that went bad is wholly back on the old versions, but for
        // earlier waves that succeeded under `keep`.
        if h.members.iter().any(bad) {
            for (m, alias) in h.members.iter().zip(&h.alias) {
                let kept = policy == EarlierWaves::Keep && m.status == Status::Succeeded;
                prop_assert!(
                    kept || m.status == Status::RolledBack || m.status == Status::Failed,
                    "member {} is {} after the release went back", m.id, m.status
                );
                if !kept {
                    prop_assert_eq!(*alias, Weight::ZERO);
                }
            }
        }
    }
}

/// Takes every started, unfinished member of `members` through its plan (AllAtOnce, no
/// hooks) to the last barrier, coordinating as the runner does.
fn finish_started(members: &mut [Rollout], now: u64) {
    for _ in 0..4 {
        for m in members.iter_mut() {
            if m.is_unstarted() || m.status.is_terminal() {
                continue;
            }
            confirm(m, now);
            if matches!(m.status, Status::Shifting | Status::Baking) {
                healthy(m);
            }
        }
        coordinate_and_apply(members, now);
    }
}

#[test]
fn a_later_wave_starts_only_when_the_earlier_one_has_finished() {
    let mut members = in_waves(
        &[0, 0, 1],
        EarlierWaves::RollBack,
        "AllAtOnce",
        0,
        false,
        false,
    );
    apply(&mut members[0], Event::Start, 1_000);
    apply(&mut members[1], Event::Start, 1_000);
    coordinate_and_apply(&mut members, 1_000);
    assert!(
        members[2].is_unstarted(),
        "wave 1 waits while wave 0 shifts"
    );
    // A re-drive of the waiting member asks for coordination, never starts it.
    let redrive = transition(&members[2], Event::Redrive, 1_000).expect("re-driven");
    assert_eq!(redrive.commands, vec![Command::CoordinateRelease]);
    assert_eq!(
        members[2].owed_work().map(|w| w.kind),
        Some(OwedKind::Release)
    );
    finish_started(&mut members, 1_001);
    // Wave 0 at 100 % and waiting (rollBack: it succeeds with the last wave); wave 1 started.
    assert!(members[..2].iter().all(Rollout::finished_wave));
    assert!(!members[2].is_unstarted());
    finish_started(&mut members, 1_002);
    assert!(
        members.iter().all(|m| m.status == Status::Succeeded),
        "{members:?}"
    );
}

#[test]
fn a_failed_later_wave_takes_finished_waves_back_unless_they_keep() {
    for (policy, first_wave) in [
        (EarlierWaves::RollBack, Status::RollingBack),
        (EarlierWaves::Keep, Status::Succeeded),
    ] {
        let mut members = in_waves(&[0, 1, 2], policy, "AllAtOnce", 0, false, false);
        apply(&mut members[0], Event::Start, 1_000);
        finish_started(&mut members, 1_001);
        assert!(!members[1].is_unstarted() && members[2].is_unstarted());
        apply(
            &mut members[1],
            Event::Breach {
                reason: "alarm b-errors is ALARM".into(),
            },
            1_002,
        );
        coordinate_and_apply(&mut members, 1_003);
        assert_eq!(members[0].status, first_wave, "{policy:?}");
        // The wave never started ends without its alias touched.
        assert_eq!(members[2].status, Status::RolledBack, "{policy:?}");
        assert!(
            members[2]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("before this member started")),
            "{:?}",
            members[2].reason
        );
    }
    let unstarted = &in_waves(
        &[0, 1],
        EarlierWaves::RollBack,
        "AllAtOnce",
        0,
        false,
        false,
    )[1];
    let ended = transition(
        unstarted,
        Event::ReleaseRollBack {
            member: "a".into(),
            reason: "bad".into(),
        },
        1_000,
    )
    .expect("applies");
    assert!(
        !ended
            .commands
            .iter()
            .any(|c| matches!(c, Command::SetWeight { .. })),
        "no alias write for a member that never moved: {:?}",
        ended.commands
    );
}

#[test]
fn a_later_wave_started_half_way_is_started_to_the_end() {
    let mut members = in_waves(
        &[0, 1, 1],
        EarlierWaves::RollBack,
        "AllAtOnce",
        0,
        false,
        false,
    );
    apply(&mut members[0], Event::Start, 1_000);
    finish_started(&mut members, 1_001);
    // Starting wave 1 was interrupted after its first member: the second is started next.
    let mut half = members.clone();
    half[2] = in_waves(
        &[0, 1, 1],
        EarlierWaves::RollBack,
        "AllAtOnce",
        0,
        false,
        false,
    )[2]
    .clone();
    assert!(half[2].is_unstarted() && !half[1].is_unstarted());
    assert_eq!(
        coordinate(&half),
        Coordination::StartWave {
            wave: 1,
            targets: vec![2]
        }
    );
}

#[test]
fn operators_move_the_wave_at_work_and_ready_to_succeed_is_one_place() {
    let gated = r#"{"type":"steps","steps":[{"weight":10,"bake":"1m"},{"pause":true},{"weight":100,"bake":"1m"}]}"#;
    let mut members = in_waves(&[0, 1], EarlierWaves::RollBack, gated, 0, false, false);
    // Wave 0 promoted to 100 % (ready to succeed at step 0); wave 1 at its gate.
    apply(&mut members[0], Event::Start, 1_000);
    coordinate_and_apply(&mut members, 1_000);
    confirm(&mut members[0], 1_000);
    apply(&mut members[0], Event::Promote, 1_001);
    confirm(&mut members[0], 1_001);
    assert!(members[0].finished_wave(), "{:?}", members[0]);
    coordinate_and_apply(&mut members, 1_002);
    assert!(!members[1].is_unstarted());
    for _ in 0..3 {
        confirm(&mut members[1], 1_003);
        if members[1].status == Status::Shifting {
            healthy(&mut members[1]);
        }
        coordinate_and_apply(&mut members, 1_100);
    }
    assert_eq!(members[1].pause.map(|p| p.kind), Some(PauseKind::Gate));
    // A joint resume moves wave 1 only: wave 0 waits at 100 %.
    assert_eq!(glidepath_core::release::at_work(&members), vec![1]);
    apply(&mut members[1], Event::Resume, 1_200);
    confirm(&mut members[1], 1_200);
    healthy(&mut members[1]);
    coordinate_and_apply(&mut members, 1_300);
    confirm(&mut members[1], 1_300);
    // Promoted at step 0 or through a gate to step 2: the same last barrier; both succeed.
    assert_eq!(members[0].barrier(), members[1].barrier(), "{members:?}");
    coordinate_and_apply(&mut members, 1_301);
    assert!(
        members.iter().all(|m| m.status == Status::Succeeded),
        "{members:?}"
    );
}

#[test]
fn a_breach_or_abort_of_an_unstarted_member_writes_nothing() {
    let members = in_waves(
        &[0, 1],
        EarlierWaves::RollBack,
        "AllAtOnce",
        0,
        false,
        false,
    );
    for event in [
        Event::Breach {
            reason: "alarm".into(),
        },
        Event::Abort {
            reason: "stop".into(),
        },
        Event::Drift {
            detail: "moved".into(),
        },
    ] {
        let t = transition(&members[1], event.clone(), 1_000).expect("applies");
        assert_eq!(t.rollout.status, Status::RolledBack, "{event:?}");
        assert!(
            !t.commands
                .iter()
                .any(|c| matches!(c, Command::SetWeight { .. })),
            "{event:?}: {:?}",
            t.commands
        );
    }
}
