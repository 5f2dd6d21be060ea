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
