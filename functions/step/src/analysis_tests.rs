//! `step`'s health check with canary analysis, against the in-memory AWS: the metrics of both
//! versions since the current weight, judged at each tick.

use super::handle;
use super::tests::{tick, world};
use glidepath_aws::fakes::{AlarmState, FakeAws, seed_rollout};
use glidepath_aws::ports::HandOff;
use glidepath_core::Weight;
use glidepath_core::{Status, VersionMetrics};
use serde_json::json;

/// A 10 % canary for 5 minutes, guarded by an alarm and by analysis.
fn analysed(analysis: serde_json::Value) -> serde_json::Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
        "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"], "analysis": analysis})
}

fn metrics(fake: &FakeAws, version: &str, invocations: u64, errors: u64) {
    fake.world().version_metrics.insert(
        version.into(),
        VersionMetrics {
            invocations,
            errors,
            ..VersionMetrics::default()
        },
    );
}

#[tokio::test]
async fn a_worse_canary_is_rolled_back_with_the_numbers() {
    let fake = world();
    let rollout = seed_rollout(&fake, analysed(json!({}))).await;
    metrics(&fake, "1", 540, 2);
    metrics(&fake, "2", 61, 4);
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    assert_eq!(
        after.reason.as_deref(),
        Some("canary analysis: v2: 4 errors / 61 (6.6 %) vs v1: 2 / 540 (0.4 %), p = 0.001")
    );
    let world = fake.world();
    assert_eq!(
        world.hand_offs,
        vec![(HandOff::Rollback, rollout.id.clone())]
    );
    let query = &world.metrics_queries[0];
    assert_eq!(
        (query.function_name.as_str(), query.alias.as_str()),
        ("orders", "live")
    );
    assert_eq!(
        (
            query.baseline_version.as_str(),
            query.canary_version.as_str()
        ),
        ("1", "2")
    );
    // The window: from the minute the 10 % was decided to the end of the tick's minute.
    assert_eq!((query.start, query.end), (960, 1_320));
}

#[tokio::test]
async fn an_equal_canary_goes_on() {
    let fake = world();
    let rollout = seed_rollout(&fake, analysed(json!({}))).await;
    metrics(&fake, "1", 900, 18);
    metrics(&fake, "2", 100, 2);
    let after = tick(&fake, &rollout.id).await;
    // The 100 % step has no wait, so no window to analyse: its alarms alone finish it.
    assert_eq!(
        (after.status, after.weight),
        (Status::Succeeded, Weight::percent(100))
    );
    assert_eq!(fake.world().metrics_queries.len(), 1);
}

#[tokio::test]
async fn a_bake_is_analysed_against_the_limit_alone() {
    let fake = world();
    let mut request = analysed(json!({"maxErrorRate": "1%"}));
    request["bake"] = json!("10m");
    let rollout = seed_rollout(&fake, request).await;
    metrics(&fake, "1", 900, 9);
    metrics(&fake, "2", 100, 1);
    let baking = tick(&fake, &rollout.id).await;
    assert_eq!(
        (baking.status, baking.weight),
        (Status::Baking, Weight::percent(100))
    );
    // At 100 % the old version has no traffic; the new one is clearly above 1 %.
    metrics(&fake, "1", 0, 0);
    metrics(&fake, "2", 1_000, 40);
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    assert!(
        after.reason.as_deref().is_some_and(|r| r.starts_with(
            "canary analysis: v2: 40 errors / 1000 invocations (4.0 %) is above maxErrorRate 1 %"
        )),
        "{:?}",
        after.reason
    );
}

#[tokio::test]
async fn too_little_traffic_holds_then_rolls_back_after_hold_for() {
    let fake = world();
    let rollout = seed_rollout(&fake, analysed(json!({"holdFor": "2m"}))).await;
    metrics(&fake, "2", 3, 0);
    let held = tick(&fake, &rollout.id).await;
    assert_eq!(
        (held.status, held.weight),
        (Status::Shifting, Weight::percent(10))
    );
    assert!(
        held.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("holding at 10% for evidence: v2: 3 invocations")),
        "{:?}",
        held.reason
    );
    let (_, due) = fake
        .latest_tick(&rollout.id)
        .expect("a re-check is scheduled");
    assert_eq!(due, fake.world().now + 60);
    assert_eq!(
        fake.alias("orders", "live").and_then(|a| a.routing),
        Some(("2".into(), 0.1)),
        "the alias stays where it was"
    );
    tick(&fake, &rollout.id).await;
    let ended = tick(&fake, &rollout.id).await;
    assert_eq!(ended.status, Status::RollingBack);
    assert!(
        ended
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("still no evidence after holding 2m")),
        "{:?}",
        ended.reason
    );
    assert_eq!(fake.world().metrics_queries.len(), 3, "one query per check");
}

#[tokio::test]
async fn a_breached_alarm_needs_no_metrics() {
    let fake = world();
    let rollout = seed_rollout(&fake, analysed(json!({}))).await;
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    let after = tick(&fake, &rollout.id).await;
    assert_eq!(after.status, Status::RollingBack);
    assert!(fake.world().metrics_queries.is_empty());
}

#[tokio::test]
async fn a_failed_metrics_read_is_retryable_and_changes_nothing() {
    let fake = world();
    let rollout = seed_rollout(&fake, analysed(json!({}))).await;
    fake.world().failures.insert("cloudwatch:GetMetricData", 1);
    let (seq, at) = fake.latest_tick(&rollout.id).expect("a tick");
    let now = fake.world().now;
    fake.advance(at - now);
    let error = handle(&fake, json!({"rolloutId": rollout.id, "seq": seq}))
        .await
        .expect_err("retryable");
    assert_eq!(error.error_type, "Retryable");
    let stored = fake.world().rollouts[&rollout.id].clone();
    assert_eq!(
        (stored.status, stored.weight, stored.seq),
        (Status::Shifting, Weight::percent(10), rollout.seq)
    );
    // The retry (the scheduler's) sees the metrics.
    metrics(&fake, "1", 900, 18);
    metrics(&fake, "2", 100, 2);
    let after = handle(&fake, json!({"rolloutId": rollout.id, "seq": seq}))
        .await
        .expect("retried");
    assert_eq!(
        (after.status, after.weight),
        (Status::Succeeded, Weight::percent(100))
    );
}
