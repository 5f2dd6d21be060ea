//! Rollouts on publish, against the in-memory AWS, with the CloudTrail record as EventBridge
//! delivers it (`fixtures/cloudtrail-publish-version.json`).

use super::on_publish;
use glidepath_aws::fakes::{
    AlarmState, FUNCTION_ARN_PREFIX, FakeAws, fake_code_sha256, open_policy,
};
use glidepath_aws::function::{FunctionError, Invocation};
use glidepath_core::{Channel, Status, Weight};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/cloudtrail-publish-version.json");

fn world(tags: &[(&str, &str)]) -> FakeAws {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 3, "live", 1);
    fake.set_alarm("orders-errors", AlarmState::Ok);
    fake.world().tags.insert(
        "orders".into(),
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    fake
}

fn opted_in() -> FakeAws {
    world(&[
        ("glidepath:managed", "true"),
        ("glidepath:alias", "live"),
        ("glidepath:strategy", "Canary10Percent5Minutes"),
        ("glidepath:alarms", "orders-errors"),
    ])
}

/// The record of `orders` version `version` published, with the fake's code hash for it.
fn published(version: u64) -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let response = &mut event["detail"]["responseElements"];
    response["version"] = Value::from(version.to_string());
    response["functionArn"] = Value::from(format!("{FUNCTION_ARN_PREFIX}orders:{version}"));
    response["codeSha256"] = Value::from(fake_code_sha256("orders", version));
    event
}

async fn deliver(fake: &FakeAws, event: Value) -> Result<super::Published, FunctionError> {
    let invocation = Invocation {
        deadline: None,
        account: Some("123456789012".into()),
        region: None,
    };
    on_publish(fake, event, &invocation, &open_policy(), "glidepath-").await
}

#[tokio::test]
async fn a_published_version_of_an_opted_in_function_is_rolled_out() {
    let fake = opted_in();
    let outcome = deliver(&fake, published(2)).await.unwrap();
    assert_eq!(outcome.outcome, "started");
    let view = outcome.started.unwrap().rollout;
    assert_eq!(
        (view.status, view.weight, view.target_version.as_str()),
        (Status::Shifting, Weight::percent(10), "2")
    );
    let rollout = fake.rollout(&view.rollout_id).unwrap();
    assert_eq!(rollout.spec.alarms, vec!["orders-errors".to_string()]);
    assert_eq!(rollout.spec.idempotency_key.as_deref(), Some("publish-2"));
    let actor = rollout.spec.requested_by.unwrap();
    assert_eq!(
        (actor.principal.as_str(), actor.via),
        ("publish:123456789012", Channel::Publish)
    );
    // EventBridge delivering the same record again changes nothing.
    let again = deliver(&fake, published(2)).await.unwrap();
    assert_eq!(again.outcome, "ignored");
    assert_eq!(fake.world().rollouts.len(), 1);
}

#[tokio::test]
async fn a_function_without_the_opt_in_tag_is_ignored() {
    let fake = world(&[("glidepath:managed", "true")]);
    let outcome = deliver(&fake, published(2)).await.unwrap();
    assert_eq!(outcome.outcome, "ignored");
    assert!(outcome.reason.unwrap().contains("glidepath:alias"));
    let world = fake.world();
    assert!(world.rollouts.is_empty());
    assert!(world.refusals.is_empty());
}

#[tokio::test]
async fn bad_tags_fail_with_an_event_saying_why_and_nothing_moves() {
    for (tags, expected) in [
        (
            vec![
                ("glidepath:alias", "live"),
                ("glidepath:strategy", "canary:ten:5m"),
            ],
            "tag `glidepath:strategy`",
        ),
        (
            vec![
                ("glidepath:alias", "live"),
                ("glidepath:strategy", "Fastest"),
            ],
            "`strategy`",
        ),
        (
            vec![
                ("glidepath:alias", "live"),
                ("glidepath:strategy", "AllAtOnce"),
                ("glidepath:alarms", "no-such-alarm"),
            ],
            "`alarms`: no CloudWatch alarm named no-such-alarm",
        ),
        (
            vec![
                ("glidepath:alias", "canary"),
                ("glidepath:strategy", "AllAtOnce"),
            ],
            "canary",
        ),
    ] {
        let fake = world(&tags);
        let error = deliver(&fake, published(2)).await.unwrap_err();
        assert!(
            error.message.contains(expected),
            "{tags:?}: {}",
            error.message
        );
        let world = fake.world();
        assert!(world.rollouts.is_empty(), "{tags:?}");
        assert_eq!(
            world.aliases[&("orders".into(), "live".into())].routing,
            None
        );
        assert_eq!(world.refusals.len(), 1, "{tags:?}");
        let refusal = &world.refusals[0];
        assert_eq!(
            (refusal.version.as_str(), refusal.trigger.as_str()),
            ("2", "publish")
        );
        assert_eq!(refusal.reason, error.message);
        assert_eq!(refusal.error_type, error.error_type);
    }
}

#[tokio::test]
async fn a_version_holding_other_code_than_published_is_refused() {
    let fake = opted_in();
    let mut event = published(2);
    event["detail"]["responseElements"]["codeSha256"] = Value::from(fake_code_sha256("orders", 3));
    let error = deliver(&fake, event).await.unwrap_err();
    assert!(
        error.message.contains("`expectCodeSha256`"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
}

#[tokio::test]
async fn update_alias_and_other_calls_are_not_triggers() {
    let fake = opted_in();
    let mut event = published(2);
    event["detail"]["eventName"] = Value::from("UpdateAlias20150331");
    let error = deliver(&fake, event).await.unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.contains("`detail.eventName`"),
        "{}",
        error.message
    );

    let mut update = published(2);
    update["detail"]["eventName"] = Value::from("UpdateFunctionCode20150331v2");
    update["detail"]["requestParameters"]["publish"] = Value::Bool(false);
    assert_eq!(
        deliver(&fake, update.clone()).await.unwrap().outcome,
        "ignored"
    );
    // An UpdateFunctionCode that publishes is a publish.
    update["detail"]["requestParameters"]["publish"] = Value::Bool(true);
    assert_eq!(deliver(&fake, update).await.unwrap().outcome, "started");

    let mut failed = published(3);
    failed["detail"]["eventName"] = Value::from("PublishVersion20150331");
    failed["detail"]["errorCode"] = Value::from("ResourceConflictException");
    assert_eq!(deliver(&fake, failed).await.unwrap().outcome, "ignored");
}

#[tokio::test]
async fn an_event_of_another_account_or_source_is_refused() {
    let fake = opted_in();
    let mut foreign = published(2);
    foreign["account"] = Value::from("999999999999");
    let error = deliver(&fake, foreign).await.unwrap_err();
    assert!(error.message.contains("`account`"), "{}", error.message);
    let mut forged = published(2);
    forged["source"] = Value::from("my.app");
    let error = deliver(&fake, forged).await.unwrap_err();
    assert!(error.message.contains("`source`"), "{}", error.message);
    assert!(fake.world().rollouts.is_empty());
}

#[tokio::test]
async fn a_version_glidepath_itself_published_for_its_rollout_is_not_rolled_out_twice() {
    let fake = opted_in();
    let started = crate::handler::handle(
        &fake,
        serde_json::json!({"function": "orders", "alias": "live", "publish": true,
                           "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"]}),
    )
    .await
    .unwrap();
    let version: u64 = started.rollout.target_version.parse().unwrap();
    let outcome = deliver(&fake, published(version)).await.unwrap();
    assert_eq!(outcome.outcome, "ignored", "{outcome:?}");
    assert!(
        outcome
            .reason
            .unwrap()
            .contains("already rolled out this version")
    );
    assert!(fake.world().refusals.is_empty());
}

/// Arbitrary and mutated CloudTrail records are answered, never a panic.
#[test]
fn fuzzed_inputs_never_panic() {
    let ran = glidepath_aws::fuzz::fuzz_handler(
        "start (publish)",
        &[published(2)],
        |fake, input| async move {
            fake.add_function("orders", 3, "live", 1);
            deliver(&fake, input).await.err().map(|e| e.error_type)
        },
    );
    assert!(ran > 0);
}

/// Review finding: a version `"publish": true` published and its pre-traffic hook rolled back
/// within seconds is not rolled out again when CloudTrail's record arrives minutes later.
#[tokio::test]
async fn a_version_already_rolled_back_is_not_tried_again_by_its_late_publish_record() {
    let fake = opted_in();
    fake.world().functions.insert("smoke".into());
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        glidepath_core::HookOutcome::Failed {
            reason: "GET /health: 500".into(),
        },
    );
    let started = crate::handler::handle(
        &fake,
        serde_json::json!({"function": "orders", "alias": "live", "publish": true,
                           "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"],
                           "hooks": {"preTraffic": "smoke"}}),
    )
    .await
    .unwrap();
    assert_eq!(started.rollout.status, Status::RolledBack);
    let version: u64 = started.rollout.target_version.parse().unwrap();
    let outcome = deliver(&fake, published(version)).await.unwrap();
    assert_eq!(outcome.outcome, "ignored", "{outcome:?}");
    assert_eq!(fake.world().rollouts.len(), 1);
}
