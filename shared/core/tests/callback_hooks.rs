//! Callback hooks (`"answer": "callback"`): the stage waits for an answer carrying its
//! execution id until a deadline tick; anything else changes nothing.

mod support;

use glidepath_core::{Command, Event, HookOutcome, HookPhase, Rollout, Status, Weight, transition};

/// A rollout with callback pre- and post-traffic hooks and a 30-minute timeout, started.
fn started() -> Rollout {
    let mut rollout = support::rollout("Canary10Percent5Minutes", 0, true, true);
    rollout.spec.hooks.callback = true;
    rollout.spec.hooks.timeout_seconds = Some(1_800);
    let t = transition(&rollout, Event::Start, 1_000).expect("started");
    assert!(
        t.commands
            .contains(&Command::ScheduleTick { seq: 1, at: 2_800 })
    );
    assert!(t.commands.iter().any(|c| matches!(
        c,
        Command::RunHook {
            phase: HookPhase::PreTraffic,
            ..
        }
    )));
    let mut rollout = t.rollout;
    rollout.owed = Default::default(); // the tick was scheduled and confirmed
    rollout
}

fn answer(id: &str, outcome: HookOutcome) -> Event {
    Event::HookResult {
        execution_id: id.into(),
        outcome,
    }
}

#[test]
fn only_the_answer_for_this_stage_moves_it() {
    let rollout = started();
    assert_eq!(rollout.hook_execution_id().as_deref(), Some("PreTraffic-1"));
    for wrong in ["PreTraffic-0", "PostTraffic-1", "PreTraffic-2", "guess"] {
        let t = transition(&rollout, answer(wrong, HookOutcome::Succeeded), 1_100).unwrap();
        assert!(!t.changed, "{wrong}");
    }
    let t = transition(
        &rollout,
        answer("PreTraffic-1", HookOutcome::Succeeded),
        1_100,
    )
    .unwrap();
    assert_eq!(
        (t.rollout.status, t.rollout.weight),
        (Status::Shifting, Weight::percent(10))
    );
    // The same answer again (a duplicate callback) finds a stage that has moved on.
    let again = transition(
        &t.rollout,
        answer("PreTraffic-1", HookOutcome::Succeeded),
        1_101,
    )
    .unwrap();
    assert!(!again.changed);
}

#[test]
fn a_failed_answer_ends_the_stage_without_traffic() {
    let rollout = started();
    let t = transition(
        &rollout,
        answer(
            "PreTraffic-1",
            HookOutcome::Failed {
                reason: "suite red".into(),
            },
        ),
        1_100,
    )
    .unwrap();
    assert_eq!(t.rollout.status, Status::RolledBack);
    assert_eq!(t.rollout.weight, Weight::ZERO);
    assert!(t.rollout.reason.unwrap().contains("suite red"));
}

#[test]
fn no_answer_by_the_deadline_fails_the_stage_and_a_late_answer_changes_nothing() {
    let rollout = started();
    // Before the deadline, the tick is early and changes nothing.
    assert!(
        !transition(&rollout, Event::Tick { seq: 1 }, 2_700)
            .unwrap()
            .changed
    );
    let t = transition(&rollout, Event::Tick { seq: 1 }, 2_800).unwrap();
    assert_eq!(t.rollout.status, Status::RolledBack);
    assert!(
        t.rollout
            .reason
            .as_deref()
            .unwrap()
            .contains("did not answer within 30m"),
        "{:?}",
        t.rollout.reason
    );
    let late = transition(
        &t.rollout,
        answer("PreTraffic-1", HookOutcome::Succeeded),
        2_900,
    )
    .unwrap();
    assert!(!late.changed);
    // A re-drive past the deadline (the tick lost) does the same.
    let redriven = transition(&rollout, Event::Redrive, 2_900).unwrap();
    assert_eq!(redriven.rollout.status, Status::RolledBack);
}

#[test]
fn the_watchdog_waits_for_the_deadline_not_the_hook_grace() {
    let mut rollout = started();
    rollout.notified_seq = rollout.seq; // the change was published
    let owed = rollout.owed_work().unwrap();
    assert_eq!(owed.kind, glidepath_core::OwedKind::Tick);
    assert_eq!(owed.since, 2_800);
}

#[test]
fn the_post_traffic_stage_waits_the_same_way_and_rolls_back_on_timeout() {
    let rollout = started();
    let mut rollout = transition(
        &rollout,
        answer("PreTraffic-1", HookOutcome::Succeeded),
        1_100,
    )
    .unwrap()
    .rollout;
    rollout.owed = Default::default();
    // Promote to 100 %: the post-traffic stage, with its own deadline.
    let t = transition(&rollout, Event::Promote, 1_200).unwrap();
    assert_eq!(t.rollout.status, Status::PostTraffic);
    let seq = t.rollout.seq;
    assert!(
        t.commands
            .contains(&Command::ScheduleTick { seq, at: 3_000 })
    );
    let mut waiting = t.rollout;
    waiting.owed = Default::default();
    assert_eq!(
        waiting.hook_execution_id(),
        Some(format!("PostTraffic-{seq}"))
    );
    let timed_out = transition(&waiting, Event::Tick { seq }, 3_000).unwrap();
    assert_eq!(timed_out.rollout.status, Status::RollingBack);
    let ok = transition(
        &waiting,
        answer(&format!("PostTraffic-{seq}"), HookOutcome::Succeeded),
        1_300,
    )
    .unwrap();
    assert_eq!(ok.rollout.status, Status::Succeeded);
}

#[test]
fn hooks_that_answer_within_their_invocation_have_no_execution_id_or_deadline() {
    let rollout = support::rollout("Canary10Percent5Minutes", 0, true, false);
    let t = transition(&rollout, Event::Start, 1_000).unwrap();
    assert!(
        !t.commands
            .iter()
            .any(|c| matches!(c, Command::ScheduleTick { .. }))
    );
    assert_eq!(t.rollout.hook_execution_id(), None);
}

/// Review finding: a re-drive (a wrong answer handed to `finalize`, a retried start) does not
/// invoke a callback hook again once its stage's effects were confirmed; before that it does.
#[test]
fn a_redrive_invokes_a_callback_hook_again_only_while_its_stage_owes_effects() {
    let rollout = started();
    let t = transition(&rollout, Event::Redrive, 1_100).expect("redrive");
    assert!(
        !t.commands
            .iter()
            .any(|c| matches!(c, Command::RunHook { .. })),
        "{:?}",
        t.commands
    );
    let mut unconfirmed = rollout.clone();
    unconfirmed.owed.tick = true;
    let t = transition(&unconfirmed, Event::Redrive, 1_100).expect("redrive");
    assert!(
        t.commands
            .iter()
            .any(|c| matches!(c, Command::RunHook { .. }))
    );
}
