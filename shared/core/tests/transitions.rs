//! Example-driven tests of the state machine: one scenario per behaviour.

mod support;

use glidepath_core::Weight;
use glidepath_core::{
    AliasWrite, Command, Event, HOOK_STAGE_LIMIT_SECONDS, HealthVerdict, HookOutcome, HookPhase,
    MAX_REASON_CHARS, OwedKind, OwedWork, PauseKind, Rollout, SCHEMA_VERSION, Status, Transition,
    TransitionError, transition,
};
use support::rollout;

const T0: u64 = 1_000;

fn apply(r: &Rollout, event: Event, now: u64) -> Transition {
    transition(r, event, now).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// The record after the runner carried out and confirmed its owed effects, and published
/// the state change.
fn confirm(r: &Rollout) -> Rollout {
    let mut r = r.clone();
    r.owed = Default::default();
    r.notified_seq = r.seq;
    r
}

/// The runner's confirmation of an owed alias write: the record confirmed, then
/// `AliasApplied` for its seq.
fn alias_applied(r: &Rollout, now: u64) -> Transition {
    apply(&confirm(r), Event::AliasApplied { seq: r.seq }, now)
}

/// A due tick followed by a healthy verdict, as the step function runs them (after the
/// record's owed effects were confirmed).
fn healthy_tick(r: &Rollout) -> Transition {
    let r = &confirm(r);
    let now = r.next_tick_at.expect("a tick is scheduled");
    let tick = apply(r, Event::Tick { seq: r.seq }, now);
    assert!(!tick.changed);
    assert_eq!(tick.commands, vec![Command::CheckHealth { seq: r.seq }]);
    apply(
        r,
        Event::Health {
            seq: r.seq,
            verdict: HealthVerdict::Healthy,
        },
        now,
    )
}

fn set_weights(t: &Transition) -> Vec<Weight> {
    t.commands
        .iter()
        .filter_map(|c| match c {
            Command::SetWeight { weight, .. } => Some(*weight),
            _ => None,
        })
        .collect()
}

#[test]
fn canary_without_hooks_runs_to_success() {
    let r = rollout("Canary10Percent5Minutes", 0, false, false);
    let started = apply(&r, Event::Start, T0);
    assert_eq!(started.rollout.status, Status::Shifting);
    assert_eq!(started.rollout.weight, Weight::percent(10));
    assert_eq!(started.rollout.seq, 1);
    assert_eq!(
        &started.commands[..2],
        &[
            Command::SetWeight {
                weight: Weight::percent(10),
                take_over: false
            },
            Command::ScheduleTick {
                seq: 1,
                at: T0 + 300
            },
        ]
    );
    assert!(matches!(started.commands[2], Command::Notify(_)));

    let full = healthy_tick(&started.rollout);
    assert_eq!(
        (full.rollout.status, full.rollout.weight),
        (Status::Shifting, Weight::percent(100))
    );
    assert_eq!(set_weights(&full), vec![Weight::percent(100)]);

    // The end of the plan: the alias is verified at 100 % (a fenced write) before success.
    let post = healthy_tick(&full.rollout);
    assert_eq!(post.rollout.status, Status::PostTraffic);
    assert_eq!(set_weights(&post), vec![Weight::percent(100)]);
    assert_eq!(post.rollout.owed.alias, Some(AliasWrite::Fenced));
    let done = alias_applied(&post.rollout, T0 + 600);
    assert_eq!(done.rollout.status, Status::Succeeded);
    assert_eq!(done.rollout.weight, Weight::percent(100));
    assert!(done.commands.contains(&Command::ReleaseLock));
    assert!(done.commands.contains(&Command::CancelTicks));
    assert_eq!(done.rollout.seq, 4);
}

#[test]
fn owed_effects_are_recorded_and_hold_the_next_step() {
    let started = apply(
        &rollout("Linear10PercentEvery1Minute", 0, false, false),
        Event::Start,
        T0,
    );
    let owed = started.rollout.owed;
    assert_eq!((owed.alias, owed.tick), (Some(AliasWrite::Fenced), true));
    // A due, healthy tick does not advance past a step whose write is unconfirmed.
    let r = &started.rollout;
    let unconfirmed = apply(
        r,
        Event::Health {
            seq: r.seq,
            verdict: HealthVerdict::Healthy,
        },
        T0 + 60,
    );
    assert!(!unconfirmed.changed);
    // A confirmation for another seq changes nothing; the watchdog sees owed effects, then
    // (once they are confirmed) an unpublished change, then the tick.
    assert!(!apply(r, Event::AliasApplied { seq: r.seq + 1 }, T0 + 1).changed);
    assert_eq!(
        r.owed_work(),
        Some(OwedWork {
            kind: OwedKind::Effects,
            since: T0
        })
    );
    let mut unpublished = r.clone();
    unpublished.owed = Default::default();
    assert_eq!(
        unpublished.owed_work(),
        Some(OwedWork {
            kind: OwedKind::Notification,
            since: T0
        })
    );
    let confirmed = confirm(r);
    assert_eq!(
        confirmed.owed_work(),
        Some(OwedWork {
            kind: OwedKind::Tick,
            since: T0 + 60
        })
    );
    assert_eq!(healthy_tick(r).rollout.weight, Weight::percent(20));
}

#[test]
fn drift_after_the_last_shift_pauses_instead_of_succeeding() {
    for post_hook in [false, true] {
        let r = apply(
            &rollout("AllAtOnce", 60, false, post_hook),
            Event::Start,
            T0,
        )
        .rollout;
        let baking = healthy_tick(&r).rollout;
        assert_eq!(baking.status, Status::Baking);
        let post = healthy_tick(&baking);
        assert_eq!(post.rollout.status, Status::PostTraffic);
        // The verifying write found the alias moved by someone else.
        let drift = apply(
            &post.rollout,
            Event::Drift {
                detail: "version 9".into(),
            },
            T0 + 61,
        );
        assert_eq!(drift.rollout.status, Status::Paused);
        assert_eq!(
            drift.rollout.pause.map(|p| p.resume_to),
            Some(Status::PostTraffic)
        );
        assert!(drift.rollout.owed.is_empty());
        // Resume takes the alias back at 100 % and runs the post-traffic stage again.
        let resumed = apply(&drift.rollout, Event::Resume, T0 + 70);
        assert_eq!(resumed.rollout.status, Status::PostTraffic);
        assert_eq!(
            resumed.commands[0],
            Command::SetWeight {
                weight: Weight::percent(100),
                take_over: true
            }
        );
        assert_eq!(
            resumed
                .commands
                .iter()
                .any(|c| matches!(c, Command::RunHook { .. })),
            post_hook
        );
        if !post_hook {
            let done = alias_applied(&resumed.rollout, T0 + 71);
            assert_eq!(done.rollout.status, Status::Succeeded);
        }
    }
}

#[test]
fn long_reasons_are_capped() {
    let r = apply(
        &rollout("Canary10Percent5Minutes", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    let t = apply(
        &r,
        Event::Abort {
            reason: "é".repeat(5_000),
        },
        T0 + 1,
    );
    let reason = t.rollout.reason.unwrap();
    assert_eq!(reason.chars().count(), MAX_REASON_CHARS + 1);
    assert!(reason.ends_with('…'));
}

#[test]
fn stale_early_and_repeated_ticks_change_nothing() {
    let r = apply(
        &rollout("Canary10Percent5Minutes", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    for (seq, now) in [(0, T0 + 300), (2, T0 + 300), (1, T0 + 10)] {
        let t = apply(&r, Event::Tick { seq }, now);
        assert_eq!(
            (t.changed, t.commands.len()),
            (false, 0),
            "tick {seq} at {now}"
        );
        assert_eq!(t.rollout, r);
    }
    let advanced = healthy_tick(&r).rollout;
    let repeat = apply(&advanced, Event::Tick { seq: 1 }, T0 + 300);
    assert_eq!((repeat.changed, repeat.commands.len()), (false, 0));
    let late_health = apply(
        &advanced,
        Event::Health {
            seq: 1,
            verdict: HealthVerdict::Healthy,
        },
        T0 + 301,
    );
    assert!(!late_health.changed);
}

#[test]
fn pre_traffic_hook_gates_all_traffic() {
    let r = rollout("Linear10PercentEvery1Minute", 0, true, false);
    let started = apply(&r, Event::Start, T0);
    assert_eq!(started.rollout.status, Status::PreTraffic);
    assert_eq!(
        started.commands[0],
        Command::RunHook {
            phase: HookPhase::PreTraffic,
            function: "smoke-pre".into()
        }
    );
    assert!(set_weights(&started).is_empty());
    assert!(matches!(
        transition(&started.rollout, Event::Promote, T0),
        Err(TransitionError::NotAllowed { .. })
    ));

    let failed = apply(
        &started.rollout,
        Event::HookCompleted {
            phase: HookPhase::PreTraffic,
            outcome: HookOutcome::Failed {
                reason: "HTTP 500".into(),
            },
        },
        T0 + 5,
    );
    assert_eq!(failed.rollout.status, Status::RolledBack);
    assert_eq!(failed.rollout.weight, Weight::percent(0));
    assert!(set_weights(&failed).is_empty(), "no traffic ever moved");
    assert!(
        failed
            .rollout
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500")
    );

    let ok = apply(
        &started.rollout,
        Event::HookCompleted {
            phase: HookPhase::PreTraffic,
            outcome: HookOutcome::Succeeded,
        },
        T0 + 5,
    );
    assert_eq!(
        (ok.rollout.status, ok.rollout.weight),
        (Status::Shifting, Weight::percent(10))
    );
}

#[test]
fn breach_rolls_back_and_rollback_is_idempotent() {
    let r = apply(
        &rollout("Linear10PercentEvery1Minute", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    let r = healthy_tick(&r).rollout;
    assert_eq!(r.weight, Weight::percent(20));
    let breach = apply(
        &r,
        Event::Breach {
            reason: "alarm orders-errors is ALARM".into(),
        },
        T0 + 70,
    );
    assert_eq!(breach.rollout.status, Status::RollingBack);
    assert_eq!(set_weights(&breach), vec![Weight::percent(0)]);
    // A second breach, a tick for the old seq and an abort while rolling back change nothing.
    for event in [
        Event::Breach {
            reason: "again".into(),
        },
        Event::Tick { seq: r.seq },
        Event::Abort { reason: "x".into() },
    ] {
        assert!(!apply(&breach.rollout, event, T0 + 71).changed);
    }
    let done = alias_applied(&breach.rollout, T0 + 72);
    assert_eq!(
        (done.rollout.status, done.rollout.weight),
        (Status::RolledBack, Weight::percent(0))
    );
    assert!(done.commands.contains(&Command::ReleaseLock));
    assert_eq!(
        done.rollout.reason.as_deref(),
        Some("alarm orders-errors is ALARM")
    );
    // Terminal: machine events absorbed, abort is harmless, other operator commands refused.
    assert!(!alias_applied(&done.rollout, T0 + 80).changed);
    assert!(
        !apply(
            &done.rollout,
            Event::Abort {
                reason: "again".into()
            },
            T0 + 80
        )
        .changed
    );
    assert!(matches!(
        transition(&done.rollout, Event::Resume, T0),
        Err(TransitionError::Finished { .. })
    ));
}

#[test]
fn breached_health_on_a_tick_rolls_back() {
    let r = apply(
        &rollout("Canary10Percent5Minutes", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    let t = apply(
        &r,
        Event::Health {
            seq: r.seq,
            verdict: HealthVerdict::Breached {
                reason: "p99".into(),
            },
        },
        T0 + 300,
    );
    assert_eq!(t.rollout.status, Status::RollingBack);
}

#[test]
fn operator_pause_resume_promote_abort() {
    let r = apply(
        &rollout("Linear10PercentEvery1Minute", 0, false, true),
        Event::Start,
        T0,
    )
    .rollout;
    let paused = apply(&r, Event::Pause, T0 + 10).rollout;
    assert_eq!(paused.status, Status::Paused);
    assert_eq!(paused.pause.map(|p| p.kind), Some(PauseKind::Operator));
    assert!(matches!(
        transition(&paused, Event::Pause, T0),
        Err(TransitionError::NotAllowed { .. })
    ));
    // The old tick is stale now; nothing moves while paused.
    assert!(!apply(&paused, Event::Tick { seq: r.seq }, T0 + 60).changed);

    let resumed = apply(&paused, Event::Resume, T0 + 100);
    assert_eq!(resumed.rollout.status, Status::Shifting);
    assert_eq!(
        resumed.rollout.next_tick_at,
        Some(T0 + 160),
        "the step's wait starts again"
    );
    assert!(set_weights(&resumed).is_empty());
    assert!(matches!(
        transition(&resumed.rollout, Event::Resume, T0),
        Err(TransitionError::NotAllowed { .. })
    ));

    let promoted = apply(&resumed.rollout, Event::Promote, T0 + 110);
    assert_eq!(promoted.rollout.status, Status::PostTraffic);
    assert_eq!(set_weights(&promoted), vec![Weight::percent(100)]);
    assert!(promoted.commands.contains(&Command::RunHook {
        phase: HookPhase::PostTraffic,
        function: "smoke-post".into()
    }));

    let aborted = apply(
        &promoted.rollout,
        Event::Abort {
            reason: "bad".into(),
        },
        T0 + 120,
    );
    assert_eq!(aborted.rollout.status, Status::RollingBack);
    assert_eq!(
        aborted.rollout.reason.as_deref(),
        Some("aborted by operator: bad")
    );
}

#[test]
fn manual_gate_holds_until_resume() {
    let r = rollout(
        r#"{"type":"steps","steps":[{"weight":5,"bake":"1m"},{"pause":true},{"weight":50,"bake":"1m"}]}"#,
        0,
        false,
        false,
    );
    let r = apply(&r, Event::Start, T0).rollout;
    let gated = healthy_tick(&r).rollout;
    assert_eq!(
        (gated.status, gated.weight),
        (Status::Paused, Weight::percent(5))
    );
    assert_eq!(gated.pause.map(|p| p.kind), Some(PauseKind::Gate));
    assert_eq!(gated.next_tick_at, None);
    let next = apply(&gated, Event::Resume, T0 + 500);
    assert_eq!(
        (next.rollout.status, next.rollout.weight),
        (Status::Shifting, Weight::percent(50))
    );
    assert_eq!(next.rollout.next_tick_at, Some(T0 + 560));
}

#[test]
fn bake_then_post_hook_then_success() {
    let r = apply(&rollout("AllAtOnce", 600, false, true), Event::Start, T0).rollout;
    assert_eq!(r.weight, Weight::percent(100));
    let baking = healthy_tick(&r).rollout;
    assert_eq!(baking.status, Status::Baking);
    assert_eq!(baking.next_tick_at, Some(T0 + 600));
    let post = confirm(&healthy_tick(&baking).rollout);
    assert_eq!(post.status, Status::PostTraffic);
    let ok = apply(
        &post,
        Event::HookCompleted {
            phase: HookPhase::PostTraffic,
            outcome: HookOutcome::Succeeded,
        },
        T0 + 620,
    );
    assert_eq!(ok.rollout.status, Status::Succeeded);
    let bad = apply(
        &post,
        Event::HookCompleted {
            phase: HookPhase::PostTraffic,
            outcome: HookOutcome::Failed {
                reason: "timeout".into(),
            },
        },
        T0 + 620,
    );
    assert_eq!(bad.rollout.status, Status::RollingBack);
    assert_eq!(set_weights(&bad), vec![Weight::percent(0)]);
}

#[test]
fn drift_pauses_and_resume_reapplies_the_weight() {
    let r = apply(
        &rollout("Canary10Percent5Minutes", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    let drifted = apply(
        &r,
        Event::Drift {
            detail: "RevisionId changed".into(),
        },
        T0 + 30,
    );
    assert_eq!(drifted.rollout.status, Status::Paused);
    assert!(
        drifted
            .rollout
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("RevisionId changed")
    );
    assert!(
        !apply(
            &drifted.rollout,
            Event::Drift {
                detail: "again".into()
            },
            T0 + 31
        )
        .changed
    );
    let resumed = apply(&drifted.rollout, Event::Resume, T0 + 60);
    assert_eq!(set_weights(&resumed), vec![Weight::percent(10)]);
    assert_eq!(resumed.rollout.status, Status::Shifting);
}

#[test]
fn failure_before_traffic_fails_and_after_traffic_rolls_back() {
    let r = rollout("Canary10Percent5Minutes", 0, true, false);
    let started = apply(&r, Event::Start, T0).rollout;
    let failed = apply(
        &started,
        Event::Failed {
            reason: "hook not found".into(),
        },
        T0 + 1,
    );
    assert_eq!(failed.rollout.status, Status::Failed);
    assert!(failed.commands.contains(&Command::ReleaseLock));

    let shifting = apply(
        &rollout("Canary10Percent5Minutes", 0, false, false),
        Event::Start,
        T0,
    )
    .rollout;
    let t = apply(
        &shifting,
        Event::Failed {
            reason: "throttled".into(),
        },
        T0 + 1,
    );
    assert_eq!(t.rollout.status, Status::RollingBack);
}

#[test]
fn start_twice_is_harmless() {
    let started = apply(&rollout("AllAtOnce", 0, true, false), Event::Start, T0).rollout;
    assert!(!apply(&started, Event::Start, T0 + 1).changed);
}

#[test]
fn record_round_trips_and_refuses_a_future_schema() {
    let r = apply(
        &rollout("Canary10Percent5Minutes", 120, true, true),
        Event::Start,
        T0,
    )
    .rollout;
    let json = r.to_json();
    assert!(json.contains(&format!("\"schemaVersion\":{SCHEMA_VERSION}")));
    assert_eq!(Rollout::from_json(&json).unwrap(), r);
    let future = json.replace(
        &format!("\"schemaVersion\":{SCHEMA_VERSION}"),
        "\"schemaVersion\":99",
    );
    assert!(
        Rollout::from_json(&future)
            .unwrap_err()
            .to_string()
            .contains("schema version 99")
    );
}

#[test]
fn drift_before_any_traffic_fails_the_rollout() {
    let r = rollout("Canary10Percent5Minutes", 0, true, false);
    let started = apply(&r, Event::Start, T0).rollout;
    let t = apply(
        &started,
        Event::Drift {
            detail: "RevisionId changed".into(),
        },
        T0 + 1,
    );
    assert_eq!(
        (t.rollout.status, t.rollout.weight),
        (Status::Failed, Weight::percent(0))
    );
    assert!(t.commands.contains(&Command::ReleaseLock));
    assert!(set_weights(&t).is_empty());
}

#[test]
fn redrive_returns_the_owed_work_and_changes_nothing() {
    let r = rollout("AllAtOnce", 0, true, true);
    // Not started yet (start stopped before its first event): a re-drive starts it.
    assert_eq!(apply(&r, Event::Redrive, T0), apply(&r, Event::Start, T0));
    let pre = apply(&r, Event::Start, T0).rollout;
    let owed = apply(&pre, Event::Redrive, T0 + 1);
    assert!(!owed.changed);
    assert_eq!(
        owed.commands,
        vec![Command::RunHook {
            phase: HookPhase::PreTraffic,
            function: "smoke-pre".into()
        }]
    );

    let shifting = apply(
        &pre,
        Event::HookCompleted {
            phase: HookPhase::PreTraffic,
            outcome: HookOutcome::Succeeded,
        },
        T0 + 2,
    )
    .rollout;
    // Unconfirmed effects are asked for again, exactly as decided.
    assert_eq!(
        apply(&shifting, Event::Redrive, T0 + 3).commands,
        vec![
            Command::SetWeight {
                weight: Weight::percent(100),
                take_over: false
            },
            Command::ScheduleTick {
                seq: shifting.seq,
                at: T0 + 2
            }
        ]
    );
    // Once confirmed, a re-drive is a tick: a health check when one is due.
    assert_eq!(
        apply(&confirm(&shifting), Event::Redrive, T0 + 3).commands,
        vec![Command::CheckHealth { seq: shifting.seq }]
    );
    let post = healthy_tick(&shifting).rollout;
    assert_eq!(post.status, Status::PostTraffic);
    assert_eq!(
        apply(&post, Event::Redrive, T0 + 4).commands,
        vec![
            Command::SetWeight {
                weight: Weight::percent(100),
                take_over: false
            },
            Command::RunHook {
                phase: HookPhase::PostTraffic,
                function: "smoke-post".into()
            },
        ]
    );
    let rolling_back = apply(
        &post,
        Event::Abort {
            reason: "no".into(),
        },
        T0 + 5,
    )
    .rollout;
    assert_eq!(
        apply(&rolling_back, Event::Redrive, T0 + 6).commands,
        vec![Command::SetWeight {
            weight: Weight::percent(0),
            take_over: true
        }]
    );
}

#[test]
fn a_hook_stage_that_never_answers_fails_safely_at_its_limit() {
    let r = rollout("Canary10Percent5Minutes", 0, true, true);
    let pre = apply(&r, Event::Start, T0).rollout;
    assert_eq!(pre.status, Status::PreTraffic);
    // Re-driven within the limit: the hook runs again.
    let again = apply(&pre, Event::Redrive, T0 + HOOK_STAGE_LIMIT_SECONDS - 1);
    assert!(!again.changed);
    assert!(matches!(again.commands[..], [Command::RunHook { .. }]));
    // Past it: the stage fails with nothing shifted.
    let failed = apply(&pre, Event::Redrive, T0 + HOOK_STAGE_LIMIT_SECONDS);
    assert_eq!(
        (failed.rollout.status, failed.rollout.weight),
        (Status::RolledBack, Weight::percent(0))
    );
    assert!(set_weights(&failed).is_empty());
    assert!(failed.rollout.reason.unwrap().contains("did not answer"));
}

#[test]
fn resuming_after_drift_at_a_gate_owes_one_write() {
    let r = rollout(
        r#"{"type":"steps","steps":[{"weight":10,"bake":"1m"},{"pause":true},{"weight":50,"bake":"1m"}]}"#,
        0,
        false,
        false,
    );
    let shifting = confirm(&apply(&r, Event::Start, T0).rollout);
    let gate = confirm(&healthy_tick(&shifting).rollout);
    assert_eq!(gate.status, Status::Paused);
    let drifted = apply(
        &gate,
        Event::Drift {
            detail: "moved".into(),
        },
        T0 + 70,
    )
    .rollout;
    let resumed = apply(&drifted, Event::Resume, T0 + 80);
    assert_eq!(
        resumed
            .commands
            .iter()
            .filter(|c| matches!(c, Command::SetWeight { .. }))
            .collect::<Vec<_>>(),
        vec![&Command::SetWeight {
            weight: Weight::percent(50),
            take_over: true
        }]
    );
    assert_eq!(resumed.rollout.owed.alias, Some(AliasWrite::TakeOver));
}
