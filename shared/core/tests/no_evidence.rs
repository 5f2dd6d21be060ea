//! Canary analysis in the state machine: the window each weight opens, and what a health
//! check without enough evidence (`HealthVerdict::NoData`) leads to under each
//! `analysis.noData` policy.

mod support;

use glidepath_core::Weight;
use glidepath_core::{
    AnalysisSpec, Command, Event, HealthVerdict, Rollout, Status, Transition, transition,
};
use serde_json::json;
use support::rollout;

const T0: u64 = 1_000;

fn apply(r: &Rollout, event: Event, now: u64) -> Transition {
    transition(r, event, now).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// A started canary (10 % for 5 minutes) with `analysis`, its effects confirmed.
fn started(analysis: serde_json::Value) -> Rollout {
    let mut r = rollout("Canary10Percent5Minutes", 0, false, false);
    r.spec.analysis = Some(AnalysisSpec::from_json(&analysis).expect("valid"));
    let mut started = apply(&r, Event::Start, T0).rollout;
    started.owed = Default::default();
    started
}

fn verdict(r: &Rollout, verdict: HealthVerdict, now: u64) -> Rollout {
    let mut next = apply(
        r,
        Event::Health {
            seq: r.seq,
            verdict,
        },
        now,
    )
    .rollout;
    next.owed = Default::default();
    next
}

fn no_data() -> HealthVerdict {
    HealthVerdict::NoData {
        reason: "v5: 3 invocations in the window, fewer than minInvocations 50".into(),
    }
}

#[test]
fn each_weight_opens_the_window_the_analysis_reads() {
    let r = started(json!({}));
    assert_eq!(r.weight_since, Some(T0));
    let full = verdict(&r, HealthVerdict::Healthy, T0 + 300);
    assert_eq!(full.weight, Weight::percent(100));
    assert_eq!(full.weight_since, Some(T0 + 300));
}

#[test]
fn holding_keeps_the_weight_and_checks_again_every_minute() {
    let r = started(json!({}));
    let due = T0 + 300;
    let held = apply(
        &r,
        Event::Health {
            seq: r.seq,
            verdict: no_data(),
        },
        due,
    );
    assert!(held.changed);
    let record = &held.rollout;
    assert_eq!(
        (record.status, record.weight),
        (Status::Shifting, Weight::percent(10))
    );
    assert_eq!(record.held_since, Some(due));
    assert_eq!(record.next_tick_at, Some(due + 60));
    assert_eq!(
        record.reason.as_deref(),
        Some(
            "holding at 10% for evidence: v5: 3 invocations in the window, fewer than minInvocations 50"
        )
    );
    assert!(
        !held
            .commands
            .iter()
            .any(|c| matches!(c, Command::SetWeight { .. })),
        "the alias is not touched"
    );
    assert!(held.commands.contains(&Command::ScheduleTick {
        seq: record.seq,
        at: due + 60
    }));

    // Still nothing a minute later: the hold keeps its start.
    let mut again = record.clone();
    again.owed = Default::default();
    let again = verdict(&again, no_data(), due + 60);
    assert_eq!(again.held_since, Some(due));
    // Evidence at last: the next step, the hold and its reason cleared.
    let full = verdict(&again, HealthVerdict::Healthy, due + 120);
    assert_eq!(
        (full.status, full.weight),
        (Status::Shifting, Weight::percent(100))
    );
    assert_eq!((full.held_since, full.reason), (None, None));
}

#[test]
fn a_hold_ends_in_a_rollback_after_hold_for() {
    let mut r = started(json!({"holdFor": "3m"}));
    let mut now = T0 + 300;
    for _ in 0..3 {
        r = verdict(&r, no_data(), now);
        assert_eq!(r.status, Status::Shifting, "held at {now}");
        now += 60;
    }
    let ended = verdict(&r, no_data(), now);
    assert_eq!(ended.status, Status::RollingBack);
    assert_eq!(
        ended.reason.as_deref(),
        Some(
            "still no evidence after holding 3m: v5: 3 invocations in the window, fewer than minInvocations 50"
        )
    );
}

#[test]
fn pass_goes_on_and_fail_rolls_back() {
    let passed = verdict(&started(json!({"noData": "pass"})), no_data(), T0 + 300);
    assert_eq!(
        (passed.status, passed.weight),
        (Status::Shifting, Weight::percent(100))
    );
    let failed = verdict(&started(json!({"noData": "fail"})), no_data(), T0 + 300);
    assert_eq!(failed.status, Status::RollingBack);
    assert!(
        failed
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("no evidence (noData: fail): v5: 3 invocations")),
        "{:?}",
        failed.reason
    );
}

#[test]
fn a_verdict_for_an_old_step_or_before_the_tick_is_due_changes_nothing() {
    let r = started(json!({}));
    let stale = apply(
        &r,
        Event::Health {
            seq: r.seq - 1,
            verdict: no_data(),
        },
        T0 + 300,
    );
    assert!(!stale.changed);
    let early = apply(
        &r,
        Event::Health {
            seq: r.seq,
            verdict: no_data(),
        },
        T0 + 10,
    );
    assert!(!early.changed);
}

#[test]
fn each_step_that_waits_and_a_bake_is_one_analysed_check() {
    let mut linear = rollout("Linear10PercentEvery1Minute", 0, false, false);
    assert_eq!(
        linear.analysis_checks(),
        9,
        "10 % to 90 % wait; 100 % does not"
    );
    linear.spec.bake_seconds = 600;
    assert_eq!(linear.analysis_checks(), 10);
    assert_eq!(rollout("AllAtOnce", 0, false, false).analysis_checks(), 1);
}

#[test]
fn the_analysis_is_part_of_the_stored_record() {
    let r = started(json!({"metrics": ["errors", "duration-p99"], "maxP99Ms": 800}));
    let read = Rollout::from_json(&r.to_json()).expect("reads back");
    assert_eq!(read, r);
    assert!(
        r.to_json().contains(r#""maxP99Ms":800.0"#),
        "{}",
        r.to_json()
    );
}
