//! The `beforeShift` gate and the `onRollback` notice, through `step`, against the in-memory
//! AWS.

use super::handle;
use super::tests::{tick, world};
use glidepath_aws::fakes::{AlarmState, seed_rollout};
use glidepath_core::{HookOutcome, HookPhase, Status, Weight};
use serde_json::{Value, json};

fn gated(strategy: Value) -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": strategy,
           "alarms": ["orders-errors"], "hooks": {"beforeShift": "smoke", "onRollback": "pager"}})
}

#[tokio::test]
async fn the_before_shift_hook_is_asked_before_each_increase_and_never_at_a_gate() {
    let fake = world();
    fake.world().functions.insert("pager".into());
    let strategy = json!({"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"weight": 50, "bake": "1m"}, {"pause": true}, {"weight": 100}]});
    let rollout = seed_rollout(&fake, gated(strategy)).await;
    // The first step follows the start (the pre-traffic stage is its gate), not a check.
    assert!(fake.world().hook_calls.is_empty());
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.weight, Weight::percent(50));
    let paused = tick(&fake, &rollout.id).await;
    assert_eq!(paused.status, Status::Paused);
    let calls = fake.world().hook_calls.clone();
    // Asked once, for 10 → 50; the check before the manual gate raised nothing.
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (hook, request) = &calls[0];
    assert_eq!(hook, "smoke");
    assert_eq!(request.phase, HookPhase::BeforeShift);
    assert_eq!(request.next_weight, Some(Weight::percent(50)));
    assert_eq!(request.target_version, "2");
    assert!(
        fake.world().hook_notices.is_empty(),
        "no rollback, no notice"
    );
}

#[tokio::test]
async fn a_refusing_before_shift_hook_rolls_back_and_the_on_rollback_hook_is_told_once() {
    let fake = world();
    fake.world().functions.insert("pager".into());
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "checkout journey failed".into(),
        },
    );
    let rollout = seed_rollout(&fake, gated(json!("Linear10PercentEvery1Minute"))).await;
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    let reason = after.reason.unwrap();
    assert!(
        reason.contains(
            "before-shift hook smoke refused the step from 10 % to 20 %: checkout journey failed"
        ),
        "{reason}"
    );
    // The rollback finishes (as `rollback` would): no second notice.
    let done = glidepath_aws::Runner::new(&fake, glidepath_aws::Role::Rollback)
        .run(&rollout.id, glidepath_core::Event::Redrive)
        .await
        .unwrap();
    assert_eq!(done.status, Status::RolledBack);
    let notices = fake.world().hook_notices.clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let (hook, notice) = &notices[0];
    assert_eq!(hook, "pager");
    assert_eq!(notice.phase, HookPhase::OnRollback);
    assert_eq!(notice.status, Some(Status::RollingBack));
    assert_eq!(notice.reason.as_deref(), Some(reason.as_str()));
}

#[tokio::test]
async fn an_on_rollback_notice_that_fails_stays_owed_and_is_sent_again() {
    let fake = world();
    fake.world().functions.insert("pager".into());
    let rollout = seed_rollout(&fake, gated(json!("Canary10Percent5Minutes"))).await;
    fake.world().failures.insert("lambda:Invoke (notice)", 1);
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    assert!(fake.world().hook_notices.is_empty());
    let owed = fake.rollout(&rollout.id).unwrap();
    assert!(owed.notified_seq < owed.seq, "the change is still owed");
    // The next run on the rollout (the watchdog's re-drive) publishes what is owed, then the
    // rollback finishes.
    handle(
        &fake,
        json!({"rolloutId": rollout.id, "command": "redrive"}),
    )
    .await
    .unwrap();
    glidepath_aws::Runner::new(&fake, glidepath_aws::Role::Rollback)
        .run(&rollout.id, glidepath_core::Event::Redrive)
        .await
        .unwrap();
    let notices = fake.world().hook_notices.clone();
    assert_eq!(
        notices.len(),
        1,
        "told once the notice went through: {notices:?}"
    );
    assert_eq!(notices[0].1.status, Some(Status::RollingBack));
    let end = fake.rollout(&rollout.id).unwrap();
    assert_eq!(end.status, Status::RolledBack);
    assert_eq!(end.notified_seq, end.seq);
}

#[tokio::test]
async fn a_failed_pre_traffic_hook_tells_the_on_rollback_hook() {
    let fake = world();
    fake.world().functions.insert("pager".into());
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "GET /health: 500".into(),
        },
    );
    let mut request = gated(json!("Canary10Percent5Minutes"));
    request["hooks"] = json!({"preTraffic": "smoke", "onRollback": "pager"});
    let rollout = seed_rollout(&fake, request).await;
    assert_eq!(rollout.status, Status::RolledBack);
    let notices = fake.world().hook_notices.clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].1.status, Some(Status::RolledBack));
    assert!(
        notices[0]
            .1
            .reason
            .as_deref()
            .unwrap()
            .contains("GET /health: 500")
    );
}

/// A rollout whose pre-traffic hook `smoke` answers by callback within 30 minutes, started
/// (waiting for the answer). `smoke` runs as `smoke-role`.
async fn waiting_for_a_callback() -> (glidepath_aws::fakes::FakeAws, String) {
    let fake = world();
    fake.world().function_roles.insert(
        "smoke".into(),
        "arn:aws:iam::123456789012:role/smoke-role".into(),
    );
    let rollout = seed_rollout(
        &fake,
        json!({"function": "orders", "alias": "live", "targetVersion": "2",
               "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"],
               "hooks": {"preTraffic": "smoke", "answer": "callback", "timeout": "30m"}}),
    )
    .await;
    assert_eq!(rollout.status, Status::PreTraffic);
    (fake, rollout.id)
}

fn answer(id: &str, execution: &str, status: &str) -> Value {
    json!({"rolloutId": id, "command": "hookResult", "hookExecutionId": execution,
           "status": status, "reason": "journey tests"})
}

/// Only the hook's own role may answer; everyone else needs a rule for `hookResult`.
fn strict_policy() -> glidepath_core::Policy {
    glidepath_core::Policy::from_json(
        r#"{"rules": [{"name": "ops", "principals": ["arn:aws:sts::*:assumed-role/ops/*"], "actions": ["*"]}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn a_callback_hook_is_invoked_with_its_execution_id_and_answered_by_its_own_role() {
    let (fake, id) = waiting_for_a_callback().await;
    let notices = fake.world().hook_notices.clone();
    assert_eq!(notices.len(), 1);
    let (hook, request) = &notices[0];
    assert_eq!(hook, "smoke");
    assert_eq!(request.hook_execution_id.as_deref(), Some("PreTraffic-1"));
    assert_eq!(request.callback_function.as_deref(), Some("step"));
    assert!(
        fake.world().hook_calls.is_empty(),
        "not run within the invocation"
    );
    let (seq, due) = fake.latest_tick(&id).unwrap();
    assert_eq!((seq, due), (1, 1_000 + 1_800), "the deadline is a tick");

    // The hook's own role answers through the function URL.
    let from_hook = glidepath_aws::fakes::function_url_request(
        "arn:aws:sts::123456789012:assumed-role/smoke-role/smoke",
        &answer(&id, "PreTraffic-1", "Succeeded"),
    );
    let after = super::handle_until(&fake, from_hook, None, &strict_policy())
        .await
        .unwrap()
        .into_rollout()
        .unwrap();
    assert_eq!(
        (after.status, after.weight),
        (Status::Shifting, Weight::percent(10))
    );
    // Who answered is recorded: the answer let traffic start.
    let history = fake.world().history[&id].clone();
    let answered = history
        .iter()
        .find(|h| h.event == "hook-result")
        .expect("the answer is in the history");
    assert_eq!(
        answered.actor.as_ref().map(|a| a.principal.as_str()),
        Some("arn:aws:sts::123456789012:assumed-role/smoke-role/smoke")
    );
}

#[tokio::test]
async fn anyone_else_needs_the_policy_and_a_guessed_id_is_no_credential() {
    let (fake, id) = waiting_for_a_callback().await;
    // A direct invoke (no identity) with the right id: refused without a rule.
    let error = super::handle_until(
        &fake,
        answer(&id, "PreTraffic-1", "Succeeded"),
        None,
        &strict_policy(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    // Another role, through the URL: refused too.
    let intruder = glidepath_aws::fakes::function_url_request(
        "arn:aws:sts::123456789012:assumed-role/other-role/x",
        &answer(&id, "PreTraffic-1", "Succeeded"),
    );
    let error = super::handle_until(&fake, intruder, None, &strict_policy())
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert_eq!(fake.rollout(&id).unwrap().status, Status::PreTraffic);
    // Allowed by the policy, but for another execution: nothing changes.
    let after = handle(&fake, answer(&id, "PreTraffic-7", "Succeeded"))
        .await
        .unwrap();
    assert_eq!(after.status, Status::PreTraffic);
}

#[tokio::test]
async fn a_failed_or_missing_answer_ends_the_stage_without_traffic_and_a_late_one_changes_nothing()
{
    let (fake, id) = waiting_for_a_callback().await;
    let failed = handle(&fake, answer(&id, "PreTraffic-1", "Failed"))
        .await
        .unwrap();
    assert_eq!(failed.status, Status::RolledBack);
    assert!(failed.reason.unwrap().contains("journey tests"));

    let (fake, id) = waiting_for_a_callback().await;
    let timed_out = tick(&fake, &id).await;
    assert_eq!(timed_out.status, Status::RolledBack);
    assert!(
        timed_out
            .reason
            .as_deref()
            .unwrap()
            .contains("did not answer within 30m"),
        "{:?}",
        timed_out.reason
    );
    let late = handle(&fake, answer(&id, "PreTraffic-1", "Succeeded"))
        .await
        .unwrap();
    assert_eq!(late.status, Status::RolledBack);
    assert_eq!(fake.alias("orders", "live").unwrap().routing, None);
}

#[tokio::test]
async fn a_hook_result_must_say_which_execution_and_what_status() {
    let (fake, id) = waiting_for_a_callback().await;
    let error = handle(
        &fake,
        json!({"rolloutId": id, "command": "hookResult", "status": "Succeeded"}),
    )
    .await
    .unwrap_err();
    assert!(
        error.message.contains("`hookExecutionId`"),
        "{}",
        error.message
    );
    let error = handle(
        &fake,
        json!({"rolloutId": id, "command": "hookResult", "hookExecutionId": "PreTraffic-1"}),
    )
    .await
    .unwrap_err();
    assert!(error.message.contains("`status`"), "{}", error.message);
    let error = handle(
        &fake,
        json!({"rolloutId": id, "command": "pause", "status": "Succeeded"}),
    )
    .await
    .unwrap_err();
    assert!(
        error.message.contains("hookResult command only"),
        "{}",
        error.message
    );
}

/// Review finding: with `noData: pass`, too little data also raises the weight, so the gate
/// is asked then too.
#[tokio::test]
async fn the_gate_is_asked_before_an_increase_on_too_little_data_that_passes() {
    let fake = world();
    fake.world().functions.insert("pager".into());
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "not yet".into(),
        },
    );
    let mut request = gated(json!("Linear10PercentEvery1Minute"));
    request["analysis"] = json!({"metrics": ["errors"], "noData": "pass", "minInvocations": 50});
    let rollout = seed_rollout(&fake, request).await;
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack, "{:?}", after.reason);
    assert!(
        after
            .reason
            .unwrap()
            .contains("before-shift hook smoke refused")
    );
}

/// Review finding: an on-rollback hook that no longer exists does not hold the state change
/// back (it is published; the notice is given up).
#[tokio::test]
async fn a_missing_on_rollback_hook_does_not_block_the_state_change() {
    let fake = world(); // no `pager` function
    let rollout = seed_rollout(&fake, gated(json!("Canary10Percent5Minutes"))).await;
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    // `rollback` (handed the rollout) publishes the change, and its own.
    glidepath_aws::Runner::new(&fake, glidepath_aws::Role::Rollback)
        .run(&rollout.id, glidepath_core::Event::Redrive)
        .await
        .unwrap();
    let stored = fake.rollout(&rollout.id).unwrap();
    assert_eq!(stored.status, Status::RolledBack);
    assert_eq!(
        stored.notified_seq, stored.seq,
        "published without the notice"
    );
    assert!(fake.world().hook_notices.is_empty());
}
