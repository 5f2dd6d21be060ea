//! Issue 7's findings, each as the sequence that broke Glidepath, replayed step by step
//! against the in-memory AWS, and each now passing under the alias protocol
//! (`src/runner/`) and the rules in one place. They use interfaces the old code did not
//! have, so they were not run against it; RELIABILITY.md lists the mutations (the fence
//! removed, lost races dropped) that make them and the explored interleavings
//! (`interleavings.rs`) fail.

mod support;

use glidepath_aws::fakes::AlarmState;
use glidepath_aws::ports::{HandOff, RolloutStore};
use glidepath_aws::{PortError, Role, RunError, Runner};
use glidepath_core::Weight;
use glidepath_core::{Event, Grace, HookOutcome, HookPhase, Status};
use support::*;

/// 1. A writer that loses the `seq` race leaves nothing behind: `start` finishes its
///    pre-traffic hook after an abort rolled the rollout back.
#[tokio::test]
async fn a_hook_that_completes_after_an_abort_moves_no_traffic() {
    let fake = world();
    let created = create(&fake, with_pre_hook(), "r-1").await;
    // `start` persists PreTraffic and starts the hook: this is its copy of the record.
    let step = glidepath_core::transition(&created, Event::Start, T0).unwrap();
    fake.save(created.seq, &step.rollout, Some("start"))
        .await
        .unwrap();
    let running_hook = step.rollout;

    // Meanwhile an operator aborts: RollingBack, alias restored, RolledBack.
    let aborted = Runner::new(&fake, Role::Rollback)
        .run(
            "r-1",
            Event::Abort {
                reason: "bad build".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(aborted.status, Status::RolledBack);

    // The hook now succeeds; `start` applies it to its stale record.
    let after = Runner::new(&fake, Role::Start)
        .run_on(
            running_hook,
            Event::HookCompleted {
                phase: HookPhase::PreTraffic,
                outcome: HookOutcome::Succeeded,
            },
        )
        .await
        .unwrap();
    assert_eq!(after.status, Status::RolledBack);
    let alias = fake.alias("orders", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.routing),
        ("1", None),
        "no traffic on the aborted version"
    );
    assert!(raised_weights(&fake).is_empty(), "no alias write above 0 %");
    check_invariants(&fake, "r-1");
}

/// 2. No undo: a tick whose schedule fails leaves its step persisted and owed; a rollback in
///    that window wins, and the retried tick writes nothing.
#[tokio::test]
async fn a_failed_schedule_then_a_rollback_leaves_the_old_version() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    let seq = due_tick(&fake, &rollout);
    fake.world().failures.insert("scheduler:CreateSchedule", 1);
    let error = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap_err();
    assert_eq!(error.error_type().as_str(), "Retryable");
    assert_eq!(fake.rollout("r-1").unwrap().weight, Weight::percent(20));

    let rolled_back = Runner::new(&fake, Role::Rollback)
        .run(
            "r-1",
            Event::Abort {
                reason: "regression".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rolled_back.status, Status::RolledBack);
    // Lambda retries the tick.
    let writes = fake.world().alias_writes.len();
    let retried = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(retried.status, Status::RolledBack);
    assert_eq!(fake.world().alias_writes.len(), writes);
    check_invariants(&fake, "r-1");
}

/// 2 (second part). `start`'s first step moved the alias, then the schedule failed and the
/// write failed: stopping the rollout restores the alias instead of claiming it.
#[tokio::test]
async fn a_first_step_that_fails_after_moving_the_alias_is_rolled_back() {
    let fake = world();
    let created = create(&fake, linear(), "r-1").await;
    fake.world().failures.insert("scheduler:CreateSchedule", 1);
    let error = Runner::new(&fake, Role::Start)
        .run_on(created, Event::Start)
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::Port(PortError::Aws { .. })));
    assert_eq!(
        fake.alias("orders", "live").unwrap().routing,
        Some(("2".into(), 0.1)),
        "the step was persisted first, so the alias matches the record"
    );
    let stopped = Runner::new(&fake, Role::Rollback)
        .run(
            "r-1",
            Event::Failed {
                reason: "could not start".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(stopped.status, Status::RolledBack);
    check_invariants(&fake, "r-1");
}

/// 3. One rule for what is overdue: hook stages, rollbacks and paused rollouts are not
///    overdue until their grace has passed (the adapter's index follows the same rule; the
///    contract tests hold it to this fake).
#[tokio::test]
async fn only_work_past_its_grace_is_overdue() {
    let fake = world();
    fake.world()
        .hook_outcomes
        .insert("smoke".into(), HookOutcome::Failed { reason: "x".into() });
    let created = create(&fake, with_pre_hook(), "r-hook").await;
    let mut running_hook = glidepath_core::transition(&created, Event::Start, T0)
        .unwrap()
        .rollout;
    running_hook.notified_seq = running_hook.seq; // published, as the runner does
    fake.save(0, &running_hook, Some("start")).await.unwrap();
    let grace = Grace::default();
    assert!(fake.overdue(T0 + 1, &grace).await.unwrap().is_empty());
    assert!(
        fake.overdue(T0 + grace.hook - 1, &grace)
            .await
            .unwrap()
            .is_empty(),
        "a hook still within its grace is not re-driven (it would run twice)"
    );
    assert_eq!(
        fake.overdue(T0 + grace.hook + 1, &grace).await.unwrap(),
        vec!["r-hook".to_string()]
    );
}

/// 4. Drift after the last shift: someone moves the alias while the rollout bakes. It must
///    not succeed with the alias elsewhere, nor owe work forever.
#[tokio::test]
async fn drift_while_baking_pauses_instead_of_succeeding() {
    for post_hook in [false, true] {
        let fake = world();
        let mut request = serde_json::json!({"function": "orders", "alias": "live",
            "targetVersion": "2", "strategy": "AllAtOnce", "bake": "1m"});
        if post_hook {
            request["hooks"] = serde_json::json!({"postTraffic": "smoke"});
        }
        let baking = started(&fake, request, "r-1").await;
        assert_eq!(baking.status, Status::Baking);
        fake.move_alias_externally("orders", "live", "3");
        let seq = due_tick(&fake, &baking);
        Runner::new(&fake, Role::Step)
            .run("r-1", Event::Tick { seq })
            .await
            .unwrap();
        settle(&fake, "r-1").await;
        let after = fake.rollout("r-1").unwrap();
        assert_eq!(after.status, Status::Paused, "post hook: {post_hook}");
        assert!(after.reason.unwrap().contains("outside Glidepath"));
        assert_eq!(fake.alias("orders", "live").unwrap().version, "3");
        assert!(fake.world().hook_calls.is_empty());
        check_invariants(&fake, "r-1");
        // Nothing is owed: the watchdog leaves it to the operator.
        assert!(
            fake.overdue(T0 + 100_000, &Grace::default())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// 5. An event that loses the `seq` race is applied again to the winner's record: a breach
///    that loses to a tick still rolls back, at once.
#[tokio::test]
async fn a_breach_that_loses_to_a_tick_still_rolls_back() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    let breach_copy = rollout.clone(); // check-alarms loaded this
    let seq = due_tick(&fake, &rollout);
    Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(fake.rollout("r-1").unwrap().weight, Weight::percent(20));
    let after = Runner::new(&fake, Role::CheckAlarms)
        .run_on(
            breach_copy,
            Event::Breach {
                reason: "alarm orders-errors is ALARM".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(after.status, Status::RollingBack);
    assert_eq!(
        fake.world().hand_offs,
        vec![(HandOff::Rollback, "r-1".to_string())]
    );
    settle(&fake, "r-1").await;
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
    check_invariants(&fake, "r-1");
}

/// 5 (operators). A pause that loses the race is judged against the newer record: it
/// applies, or is refused with `Conflict`, never answered with an unchanged status.
#[tokio::test]
async fn an_operator_command_that_loses_the_race_is_applied_or_refused() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    let stale = rollout.clone();
    Runner::new(&fake, Role::Step)
        .run("r-1", Event::Pause)
        .await
        .unwrap();
    let error = Runner::new(&fake, Role::Step)
        .run_on(stale.clone(), Event::Pause)
        .await
        .unwrap_err();
    assert_eq!(error.error_type().as_str(), "Conflict");
    assert!(error.to_string().contains("already paused"), "{error}");
    let resumed = Runner::new(&fake, Role::Step)
        .run_on(stale, Event::Resume)
        .await
        .unwrap();
    assert_eq!(resumed.status, Status::Shifting);
}

/// 5 (errors). A transaction the store could not commit for another reason than a lost
/// race is retryable, not `Conflict`.
#[tokio::test]
async fn a_failed_write_is_retryable_not_a_conflict() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    let seq = due_tick(&fake, &rollout);
    fake.world()
        .failures
        .insert("dynamodb:TransactWriteItems", 1);
    let error = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap_err();
    assert_eq!(error.error_type().as_str(), "Retryable");
    assert_eq!(fake.rollout("r-1").unwrap().seq, rollout.seq);
}

/// 6. A retried hand-off is handed off again: the first invoke of `finalize` failed.
#[tokio::test]
async fn a_retried_event_hands_the_rollout_off_again() {
    let fake = world();
    let rollout = started(&fake, with_post_hook(), "r-1").await;
    let seq = due_tick(&fake, &rollout);
    fake.world().failures.insert("lambda:Invoke", 1);
    let error = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::HandOff { .. }), "{error}");
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::PostTraffic);
    // Scheduler retries the tick.
    Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(
        fake.world().hand_offs,
        vec![(HandOff::Finalize, "r-1".to_string())]
    );
    settle(&fake, "r-1").await;
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::Succeeded);
    check_invariants(&fake, "r-1");
}

/// 10. An alarm already in `ALARM` is read by the first tick even without an event, and a
///     breach found there rolls back.
#[tokio::test]
async fn the_first_tick_reads_the_alarms() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    let seq = due_tick(&fake, &rollout);
    let after = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(after.status, Status::RollingBack);
}

/// 11 (store). An idempotency claim is remembered for the retention period, then free.
#[tokio::test]
async fn an_idempotency_key_is_free_again_after_retention() {
    let fake = world();
    let mut request = linear();
    request["idempotencyKey"] = serde_json::json!("build-7");
    let first = started(&fake, request.clone(), "r-1").await;
    let key = first.spec.function_key().to_string();
    assert_eq!(
        fake.find_by_idempotency_key(&key, "live", "build-7")
            .await
            .unwrap()
            .map(|r| r.id),
        Some("r-1".to_string())
    );
    let retention = fake.world().retention_seconds;
    fake.advance(retention + 1);
    assert_eq!(
        fake.find_by_idempotency_key(&key, "live", "build-7")
            .await
            .unwrap(),
        None
    );
}

/// 12. `rollback {"rolloutId"}` without a command only finishes rollbacks: it does not
///     finalize a rollout in its post-traffic stage.
#[tokio::test]
async fn rollback_without_a_command_leaves_other_statuses_alone() {
    let fake = world();
    let rollout = started(&fake, with_post_hook(), "r-1").await;
    let seq = due_tick(&fake, &rollout);
    Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::PostTraffic);
    let writes = fake.world().alias_writes.len();
    let after = Runner::new(&fake, Role::Rollback)
        .redrive("r-1")
        .await
        .unwrap();
    assert_eq!(after.status, Status::PostTraffic);
    assert!(fake.world().hook_calls.is_empty());
    assert_eq!(fake.world().alias_writes.len(), writes);
}

/// 12. An SDK retry of a create that had already committed is not a conflict with itself.
#[tokio::test]
async fn a_retried_create_that_committed_is_not_a_conflict() {
    let fake = world();
    let rollout = create(&fake, linear(), "r-1").await;
    assert_eq!(
        fake.create(&rollout).await.unwrap(),
        glidepath_aws::ports::Created::New
    );
}

/// No notification lost: a state change whose publish failed stays owed, the watchdog finds
/// it, and a re-drive publishes it from the history, in order, once.
#[tokio::test]
async fn a_failed_notification_is_published_later() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    let seq = due_tick(&fake, &rollout);
    fake.world().failures.insert("events:PutEvents", 1);
    let after = Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(
        after.weight,
        Weight::percent(20),
        "a failed publish does not stop the rollout"
    );
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.notified_seq, stored.seq - 1);
    let grace = Grace::default();
    let now = fake.world().now;
    assert_eq!(
        fake.overdue(now + grace.notification + 1, &grace)
            .await
            .unwrap(),
        vec!["r-1".to_string()]
    );
    Runner::new(&fake, Role::Step).redrive("r-1").await.unwrap();
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.notified_seq, stored.seq);
    let seqs: Vec<u64> = fake
        .world()
        .notified_seqs
        .iter()
        .map(|(_, seq)| *seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=stored.seq).collect::<Vec<_>>(),
        "each change once, in order"
    );
}

/// A hand-off leaves the publish to the receiver, which finds the change owed.
#[tokio::test]
async fn the_receiver_of_a_hand_off_publishes_the_change() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    Runner::new(&fake, Role::CheckAlarms)
        .run_on(
            rollout,
            Event::Breach {
                reason: "alarm".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::RollingBack);
    settle(&fake, "r-1").await;
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.status, Status::RolledBack);
    assert_eq!(stored.notified_seq, stored.seq);
    let statuses: Vec<Status> = fake.world().notifications.iter().map(|n| n.1).collect();
    assert_eq!(
        statuses,
        [Status::Shifting, Status::RollingBack, Status::RolledBack]
    );
}

/// 8. Hooks have a deadline: a hook slower than the invocation's time fails its stage safely
///    (no traffic on the new version) instead of the function timing out, again and again.
#[tokio::test(start_paused = true)]
async fn a_hook_slower_than_the_invocation_fails_its_stage() {
    let fake = world();
    fake.world()
        .hook_delays
        .insert("smoke".into(), std::time::Duration::from_secs(600));
    let created = create(&fake, with_pre_hook(), "r-1").await;
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(300);
    let after = Runner::new(&fake, Role::Start)
        .with_deadline(Some(deadline))
        .run_on(created, Event::Start)
        .await
        .unwrap();
    assert_eq!(
        (after.status, after.weight),
        (Status::RolledBack, Weight::percent(0))
    );
    assert!(
        after
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("did not answer within"),
        "{:?}",
        after.reason
    );
    assert!(raised_weights(&fake).is_empty());
    check_invariants(&fake, "r-1");
}

/// 8. Too little time left to give a hook a fair run: the stage is left owed for a fresh
///    invocation, not judged.
#[tokio::test]
async fn a_hook_with_no_time_left_is_left_to_a_fresh_invocation() {
    let fake = world();
    let created = create(&fake, with_pre_hook(), "r-1").await;
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(20);
    let error = Runner::new(&fake, Role::Start)
        .with_deadline(Some(deadline))
        .run_on(created, Event::Start)
        .await
        .unwrap_err();
    assert_eq!(error.error_type().as_str(), "Retryable");
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.status, Status::PreTraffic);
    assert!(fake.world().hook_calls.is_empty());
}

/// Review finding: a take-over delayed past a rollback. An operator resumes after drift; its
/// write is slow to land; meanwhile an abort rolls back and finishes. The late take-over
/// finds the record moved on and writes nothing.
#[tokio::test]
async fn a_take_over_delayed_past_a_rollback_writes_nothing() {
    let fake = world();
    let rollout = started(&fake, linear(), "r-1").await;
    fake.move_alias_externally("orders", "live", "3");
    let seq = due_tick(&fake, &rollout);
    Runner::new(&fake, Role::Step)
        .run("r-1", Event::Tick { seq })
        .await
        .unwrap();
    let paused = fake.rollout("r-1").unwrap();
    assert_eq!(paused.status, Status::Paused);
    // `step` saved the resume (its take-over owed, its change published) and is about to
    // write...
    let mut resume = glidepath_core::transition(&paused, Event::Resume, T0 + 100).unwrap();
    resume.rollout.notified_seq = resume.rollout.seq;
    fake.save(paused.seq, &resume.rollout, Some("resume"))
        .await
        .unwrap();
    // ...when an abort runs to the end.
    let aborted = Runner::new(&fake, Role::Rollback)
        .run(
            "r-1",
            Event::Abort {
                reason: "bad".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(aborted.status, Status::RolledBack);
    // The resume's write lands now (its invocation carries on with its copy).
    let late = Runner::new(&fake, Role::Step)
        .run_on(resume.rollout.clone(), Event::Redrive)
        .await
        .unwrap();
    assert_eq!(late.status, Status::RolledBack);
    let alias = fake.alias("orders", "live").unwrap();
    assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    check_invariants(&fake, "r-1");
}

/// Review finding: an abort whose restore failed is finished by the retried abort.
#[tokio::test]
async fn a_retried_abort_finishes_the_rollback() {
    let fake = world();
    started(&fake, linear(), "r-1").await;
    fake.world().failures.insert("lambda:UpdateAlias", 1);
    let abort = || Event::Abort {
        reason: "bad".into(),
    };
    let error = Runner::new(&fake, Role::Rollback)
        .run("r-1", abort())
        .await
        .unwrap_err();
    assert_eq!(error.error_type().as_str(), "Retryable");
    assert_eq!(fake.rollout("r-1").unwrap().status, Status::RollingBack);
    let retried = Runner::new(&fake, Role::Rollback)
        .run("r-1", abort())
        .await
        .unwrap();
    assert_eq!(retried.status, Status::RolledBack);
    check_invariants(&fake, "r-1");
}

/// Review finding: a later publish must not mark an earlier, failed one as published.
#[tokio::test]
async fn a_failed_publish_is_not_skipped_by_a_later_one() {
    let fake = world();
    let created = create(&fake, with_pre_hook(), "r-1").await;
    // PreTraffic's publish fails; Shifting's (after the hook) succeeds.
    fake.world().failures.insert("events:PutEvents", 1);
    Runner::new(&fake, Role::Start)
        .run_on(created, Event::Start)
        .await
        .unwrap();
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.status, Status::Shifting);
    assert_eq!(stored.notified_seq, 0, "seq 1 was never published");
    Runner::new(&fake, Role::Step).redrive("r-1").await.unwrap();
    let stored = fake.rollout("r-1").unwrap();
    assert_eq!(stored.notified_seq, stored.seq);
    let seqs: Vec<u64> = fake
        .world()
        .notified_seqs
        .iter()
        .map(|(_, seq)| *seq)
        .collect();
    assert_eq!(
        seqs,
        vec![2, 1, 2],
        "seq 2 twice (at least once), seq 1 not lost"
    );
}

/// Review finding: while a hook runs, the record owes only the hook stage, so the watchdog
/// gives it the hook's grace instead of re-running it after a minute.
#[tokio::test(start_paused = true)]
async fn a_running_hook_owes_only_its_stage() {
    let fake = world();
    fake.world()
        .hook_delays
        .insert("smoke".into(), std::time::Duration::from_secs(300));
    let created = create(&fake, with_pre_hook(), "r-1").await;
    let running = {
        let fake = fake.clone();
        tokio::spawn(async move {
            Runner::new(&fake, Role::Start)
                .run_on(created, Event::Start)
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    let during = fake.rollout("r-1").unwrap();
    assert_eq!(during.status, Status::PreTraffic);
    assert_eq!(
        during.owed_work().map(|w| w.kind),
        Some(glidepath_core::OwedKind::Hook),
        "{during:?}"
    );
    let after = running.await.unwrap().unwrap();
    assert_eq!(after.status, Status::Shifting);
}
