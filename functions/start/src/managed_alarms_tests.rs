//! `start` with `"alarms": "auto"`: the alarms Glidepath makes exist before the rollout, are
//! watched like named ones, and go when the rollout ends or is not created.

use super::handle;
use glidepath_aws::fakes::FakeAws;
use glidepath_aws::ports::RolloutStore;
use glidepath_core::{HookOutcome, Status};
use serde_json::{Value, json};

fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 3, "live", 1);
    fake.world().functions.insert("smoke".into());
    fake
}

fn auto(analysis: Value) -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
        "strategy": "Canary10Percent5Minutes", "alarms": "auto", "analysis": analysis,
        "idempotencyKey": "build-1"})
}

#[tokio::test]
async fn the_alarms_are_made_before_the_rollout_and_watched() {
    let fake = world();
    let started = handle(
        &fake,
        auto(json!({"maxErrorRate": "1%", "metrics": ["errors", "duration-p99"], "maxP99Ms": 800})),
    )
    .await
    .expect("started");
    let id = &started.rollout.rollout_id;
    let names = [
        format!("glidepath-{id}-error-rate"),
        format!("glidepath-{id}-p99"),
    ];
    let rollout = fake.rollout(id).expect("created");
    assert_eq!(rollout.spec.managed_alarms, names);
    assert_eq!(rollout.spec.alarms, names, "watched like named alarms");
    assert_eq!(
        fake.world()
            .managed_alarms
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        names
    );
    for name in &names {
        assert_eq!(
            fake.rollouts_watching(name).await.expect("watches"),
            std::slice::from_ref(id),
            "an alarm event on {name} finds the rollout"
        );
    }
    // The same request again is the same rollout, not a conflict over `alarms`.
    let again = handle(
        &fake,
        auto(json!({"maxErrorRate": "1%", "metrics": ["errors", "duration-p99"], "maxP99Ms": 800})),
    )
    .await
    .expect("the same request");
    assert!(again.existing);
    assert_eq!(fake.world().managed_alarms.len(), 2, "no second set");
}

#[tokio::test]
async fn the_alarms_go_when_the_rollout_ends() {
    let fake = world();
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "smoke test failed".into(),
        },
    );
    let mut request = auto(json!({"maxErrorRate": "1%"}));
    request["hooks"] = json!({"preTraffic": "smoke"});
    let started = handle(&fake, request).await.expect("started");
    assert_eq!(started.rollout.status, Status::RolledBack);
    assert!(
        fake.world().managed_alarms.is_empty(),
        "deleted with the rollout's end"
    );
}

#[tokio::test]
async fn a_failed_alarm_creation_creates_nothing() {
    let fake = world();
    fake.world().failures.insert("cloudwatch:PutMetricAlarm", 1);
    let error = handle(&fake, auto(json!({"maxErrorRate": "1%"})))
        .await
        .expect_err("retryable");
    assert_eq!(error.error_type, "Retryable");
    let world = fake.world();
    assert!(world.rollouts.is_empty() && world.managed_alarms.is_empty());
    assert_eq!(
        world.aliases[&("orders".into(), "live".into())].routing,
        None,
        "no traffic moved"
    );
}

/// Review round: an alarm created whose answer was lost (so `start` fails after the alarm
/// exists) is deleted again: no left-over (fails if the clean-up is removed).
#[tokio::test]
async fn an_alarm_created_before_a_failure_is_taken_away() {
    let fake = world();
    fake.world()
        .lost_answers
        .insert("cloudwatch:PutMetricAlarm", 1);
    let error = handle(&fake, auto(json!({"maxErrorRate": "1%"})))
        .await
        .expect_err("retryable");
    assert_eq!(error.error_type, "Retryable");
    let world = fake.world();
    assert!(world.rollouts.is_empty());
    assert!(
        world.managed_alarms.is_empty(),
        "{:?}",
        world.managed_alarms
    );
}

#[tokio::test]
async fn auto_needs_a_limit_to_watch() {
    let fake = world();
    let error = handle(&fake, auto(json!({"metrics": ["errors"]})))
        .await
        .expect_err("refused");
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error
            .message
            .starts_with("`alarms`: \"auto\" needs an `analysis`"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
}

/// Two starts with `"alarms": "auto"` on one alias, interleaved at every port call with the
/// second delayed by 0 to 7 scheduling points: one rollout is created, and only its alarms are
/// left (the loser takes away the alarms it made before losing the lock).
#[tokio::test]
async fn two_starts_on_one_alias_leave_only_the_winners_alarms() {
    use std::sync::Arc;
    for delay in 0..8 {
        let fake = world();
        let yielding = fake.with_yield(Arc::new(|| Box::pin(tokio::task::yield_now())));
        let mut request = auto(json!({"maxErrorRate": "1%"}));
        request.as_object_mut().map(|r| r.remove("idempotencyKey"));
        let (first, second) = tokio::join!(handle(&yielding, request.clone()), async {
            for _ in 0..delay {
                tokio::task::yield_now().await;
            }
            handle(&yielding, request.clone()).await
        });
        let winners = [&first, &second].iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "delay {delay}: {first:?} / {second:?}");
        let world = fake.world();
        assert_eq!(world.rollouts.len(), 1, "delay {delay}");
        let rollout = world.rollouts.values().next().expect("one rollout");
        assert_eq!(
            world.managed_alarms.keys().cloned().collect::<Vec<_>>(),
            rollout.spec.managed_alarms,
            "delay {delay}: only the winner's alarms are left"
        );
    }
}
