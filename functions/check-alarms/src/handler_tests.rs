//! `check-alarms` against the in-memory AWS, with AWS's documented event samples.

use super::handle;
use glidepath_aws::fakes::{AlarmState, FakeAws, seed_rollout};
use glidepath_aws::ports::HandOff;
use glidepath_core::Status;
use serde_json::{Value, json};

const ALARM_EVENT: &str = include_str!("fixtures/eventbridge-alarm-state-change.json");
const ALARM: &str = "orders-api-new-version-errors";
/// Where the documented sample event comes from.
fn home() -> super::Home {
    super::Home::new(
        Some("us-east-1".into()),
        "arn:aws:lambda:us-east-1:123456789012:function:glidepath-check-alarms",
    )
}

fn alarm_event(state: &str) -> Value {
    let mut event: Value = serde_json::from_str(ALARM_EVENT).unwrap();
    event["detail"]["state"]["value"] = json!(state);
    event
}

async fn world_with_rollouts() -> (FakeAws, Vec<String>) {
    let fake = FakeAws::new(1_000);
    fake.set_alarm(ALARM, AlarmState::Ok);
    let mut ids = Vec::new();
    for (function, policy) in [("orders", "ignore"), ("billing", "breach")] {
        fake.add_function(function, 2, "live", 1);
        let rollout = seed_rollout(
            &fake,
            json!({"function": function, "alias": "live", "targetVersion": "2",
            "strategy": "Canary10Percent30Minutes", "alarms": [ALARM], "insufficientData": policy}),
        )
        .await;
        ids.push(rollout.id);
    }
    (fake, ids)
}

#[tokio::test]
async fn alarm_rolls_back_every_guarded_rollout_at_once() {
    let (fake, ids) = world_with_rollouts().await;
    let outcome = handle(&fake, alarm_event("ALARM"), &home()).await.unwrap();
    assert_eq!(outcome.alarm, ALARM);
    assert_eq!(outcome.rolled_back, ids);
    for id in &ids {
        let rollout = fake.rollout(id).unwrap();
        assert_eq!(rollout.status, Status::RollingBack);
        assert!(rollout.reason.unwrap().contains("Threshold Crossed"));
    }
    let hand_offs = fake.world().hand_offs.clone();
    assert_eq!(
        hand_offs,
        ids.iter()
            .map(|id| (HandOff::Rollback, id.clone()))
            .collect::<Vec<_>>()
    );
    // The same event again (a retry after a lost invoke, say): the rollouts are reported
    // as rolling back and handed to `rollback` again; nothing else is written.
    let history = fake.world().history.clone();
    let again = handle(&fake, alarm_event("ALARM"), &home()).await.unwrap();
    assert_eq!(again.rolled_back, ids);
    assert_eq!(fake.world().hand_offs.len(), 4);
    assert_eq!(fake.world().history, history);
}

#[tokio::test]
async fn a_failed_hand_off_rolls_back_here() {
    let (fake, ids) = world_with_rollouts().await;
    // Issue 7, finding 6: the asynchronous invoke of `rollback` fails.
    fake.world().failures.insert("lambda:Invoke", 10);
    let outcome = handle(&fake, alarm_event("ALARM"), &home()).await.unwrap();
    assert_eq!(outcome.rolled_back, ids);
    for id in &ids {
        assert_eq!(fake.rollout(id).unwrap().status, Status::RolledBack);
    }
    for function in ["orders", "billing"] {
        let alias = fake.alias(function, "live").unwrap();
        assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    }
}

#[tokio::test]
async fn events_from_elsewhere_or_before_the_rollout_are_refused() {
    let (fake, ids) = world_with_rollouts().await;
    let elsewhere = super::Home::new(
        Some("eu-west-1".into()),
        "arn:aws:lambda:eu-west-1:123456789012:function:glidepath-check-alarms",
    );
    let error = handle(&fake, alarm_event("ALARM"), &elsewhere)
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(error.message.contains("us-east-1"), "{}", error.message);
    let other_account = super::Home::new(
        Some("us-east-1".into()),
        "arn:aws:lambda:us-east-1:999999999999:function:glidepath-check-alarms",
    );
    let error = handle(&fake, alarm_event("ALARM"), &other_account)
        .await
        .unwrap_err();
    assert!(error.message.contains("`account`"), "{}", error.message);
    let mut forged = alarm_event("ALARM");
    forged["source"] = json!("my.app");
    let error = handle(&fake, forged, &home()).await.unwrap_err();
    assert!(error.message.contains("`source`"), "{}", error.message);
    // A state change from before the rollouts existed (a delayed delivery).
    let mut old = alarm_event("ALARM");
    old["detail"]["state"]["timestamp"] = json!("1969-12-31T23:59:00.000+0000");
    let outcome = handle(&fake, old, &home()).await.unwrap();
    assert!(outcome.rolled_back.is_empty());
    assert_eq!(outcome.older_than_rollout, ids);
    for id in &ids {
        assert_eq!(fake.rollout(id).unwrap().status, Status::Shifting);
    }
}

#[tokio::test]
async fn ok_changes_nothing_and_insufficient_data_follows_each_policy() {
    let (fake, ids) = world_with_rollouts().await;
    assert!(
        handle(&fake, alarm_event("OK"), &home())
            .await
            .unwrap()
            .rolled_back
            .is_empty()
    );
    let outcome = handle(&fake, alarm_event("INSUFFICIENT_DATA"), &home())
        .await
        .unwrap();
    assert_eq!(outcome.rolled_back, vec![ids[1].clone()]);
    assert_eq!(fake.rollout(&ids[0]).unwrap().status, Status::Shifting);
}

#[tokio::test]
async fn the_direct_alarm_action_event_works_too() {
    let (fake, ids) = world_with_rollouts().await;
    let detail: Value = serde_json::from_str::<Value>(ALARM_EVENT).unwrap()["detail"].clone();
    let direct = json!({"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
        "accountId": "123456789012", "time": "2026-11-21T12:30:00.000+0000", "region": "us-east-1", "alarmData": detail});
    assert_eq!(
        handle(&fake, direct, &home()).await.unwrap().rolled_back,
        ids
    );
}

#[tokio::test]
async fn other_events_are_refused() {
    let (fake, _) = world_with_rollouts().await;
    let mut event = alarm_event("ALARM");
    event["detail-type"] = json!("EC2 Instance State-change Notification");
    assert_eq!(
        handle(&fake, event, &home()).await.unwrap_err().error_type,
        "InvalidRequest"
    );
    assert_eq!(
        handle(&fake, json!({"hello": 1}), &home())
            .await
            .unwrap_err()
            .error_type,
        "InvalidRequest"
    );
}

/// Issue 7: arbitrary and mutated inputs are answered, never a panic (see
/// `glidepath_aws::fuzz`).
#[test]
fn fuzzed_inputs_never_panic() {
    let ran = glidepath_aws::fuzz::fuzz_handler(
        "check-alarms",
        &[
            serde_json::from_str(ALARM_EVENT).unwrap(),
            json!({"alarmData": {"alarmName": "orders-errors", "state": {"value": "ALARM", "reason": "x", "timestamp": "2026-11-21T12:30:00.000+0000"}}, "time": "2026-11-21T12:30:00.000Z"}),
        ],
        |fake, input| async move {
            handle(&fake, input, &home())
                .await
                .err()
                .map(|e| e.error_type)
        },
    );
    assert!(ran > 0);
}

const ACTION_EVENT: &str = include_str!("fixtures/cloudwatch-alarm-action-lambda.json");
/// The documented alarm action's alarm, as a rollout of another account names it.
const FOREIGN_ALARM: &str =
    "arn:aws:cloudwatch:us-east-1:444455556666:alarm:lambda-demo-metric-alarm";

/// Glidepath in 123456789012; rollouts on `orders` and `billing` naming the documented
/// alarm of account 444455556666 by ARN.
async fn world_with_a_foreign_alarm() -> (FakeAws, Vec<String>) {
    let fake = FakeAws::new(1_000);
    let mut ids = Vec::new();
    for function in ["orders", "billing"] {
        fake.add_function(function, 2, "live", 1);
        let rollout = seed_rollout(
            &fake,
            json!({"function": function, "alias": "live", "targetVersion": "2",
                   "strategy": "Canary10Percent30Minutes", "alarms": [FOREIGN_ALARM]}),
        )
        .await;
        ids.push(rollout.id);
    }
    (fake, ids)
}

fn action_event() -> Value {
    serde_json::from_str(ACTION_EVENT).unwrap()
}

#[tokio::test]
async fn the_documented_alarm_action_of_this_account_rolls_back() {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 2, "live", 1);
    fake.set_alarm("lambda-demo-metric-alarm", AlarmState::Ok);
    let rollout = seed_rollout(
        &fake,
        json!({"function": "orders", "alias": "live", "targetVersion": "2",
               "strategy": "Canary10Percent30Minutes", "alarms": ["lambda-demo-metric-alarm"]}),
    )
    .await;
    let home = super::Home::new(
        Some("us-east-1".into()),
        "arn:aws:lambda:us-east-1:444455556666:function:glidepath-check-alarms",
    );
    let outcome = handle(&fake, action_event(), &home).await.unwrap();
    assert_eq!(outcome.rolled_back, vec![rollout.id.clone()]);
    assert_eq!(
        fake.rollout(&rollout.id).unwrap().status,
        Status::RollingBack
    );
}

#[tokio::test]
async fn an_alarm_of_another_account_rolls_back_only_what_the_policy_lets_it() {
    let (fake, ids) = world_with_a_foreign_alarm().await;
    let policy = glidepath_core::Policy::from_json(
        r#"{"rules": [{"name": "monitoring-account", "principals": ["arn:aws:cloudwatch:*:444455556666:alarm:*"],
             "actions": ["abort"], "functions": ["*:function:orders"]}]}"#,
    )
    .unwrap();
    let outcome = handle(&fake, action_event(), &home().with_policy(policy))
        .await
        .unwrap();
    assert_eq!(outcome.rolled_back, vec![ids[0].clone()]);
    assert_eq!(outcome.not_allowed, vec![ids[1].clone()]);
    let orders = fake.rollout(&ids[0]).unwrap();
    assert_eq!(orders.status, Status::RollingBack);
    assert!(orders.reason.unwrap().contains(FOREIGN_ALARM));
    assert_eq!(fake.rollout(&ids[1]).unwrap().status, Status::Shifting);
}

#[tokio::test]
async fn an_alarm_of_another_account_is_refused_unless_the_policy_names_it() {
    let (fake, ids) = world_with_a_foreign_alarm().await;
    // No rule at all (the default): refused before anything is read.
    let error = handle(&fake, action_event(), &home()).await.unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(error.message.contains(FOREIGN_ALARM), "{}", error.message);
    // A rule for another account's alarms does not cover this one.
    let policy = glidepath_core::Policy::from_json(
        r#"{"rules": [{"name": "other", "principals": ["arn:aws:cloudwatch:*:777777777777:alarm:*"], "actions": ["abort"]}]}"#,
    )
    .unwrap();
    let error = handle(&fake, action_event(), &home().with_policy(policy.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    // The ARN must be the event's own account's and name the alarm; an EventBridge event
    // from another account is never taken.
    let mut mismatched = action_event();
    mismatched["alarmArn"] =
        json!("arn:aws:cloudwatch:us-east-1:777777777777:alarm:lambda-demo-metric-alarm");
    let error = handle(&fake, mismatched, &home().with_policy(policy))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    let mut bridged = alarm_event("ALARM");
    bridged["account"] = json!("444455556666");
    let error = handle(&fake, bridged, &home()).await.unwrap_err();
    assert!(error.message.contains("`account`"), "{}", error.message);
    for id in &ids {
        assert_eq!(fake.rollout(id).unwrap().status, Status::Shifting);
    }
}

#[tokio::test]
async fn an_alarm_of_this_account_never_acts_on_a_rollout_naming_another_accounts_alarm_of_the_same_name()
 {
    let (fake, ids) = world_with_a_foreign_alarm().await;
    let mut local = action_event();
    local["accountId"] = json!("123456789012");
    local["alarmArn"] =
        json!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:lambda-demo-metric-alarm");
    let outcome = handle(&fake, local, &home()).await.unwrap();
    assert!(outcome.rolled_back.is_empty());
    for id in &ids {
        assert_eq!(fake.rollout(id).unwrap().status, Status::Shifting);
    }
}

/// Review finding: an alarm of this account named like another account's alarm ARN does not
/// act for it.
#[tokio::test]
async fn an_alarm_of_this_account_named_like_an_arn_is_refused() {
    let (fake, ids) = world_with_a_foreign_alarm().await;
    let mut event = alarm_event("ALARM");
    event["detail"]["alarmName"] = json!(FOREIGN_ALARM);
    event["detail"]["state"]["timestamp"] = json!("2026-11-21T12:30:00.000+0000");
    let error = handle(&fake, event, &home()).await.unwrap_err();
    assert!(
        error.message.contains("named like an alarm ARN"),
        "{}",
        error.message
    );
    for id in &ids {
        assert_eq!(fake.rollout(id).unwrap().status, Status::Shifting);
    }
}
