//! `rollback` against the in-memory AWS.

use super::handle;
use glidepath_aws::fakes::{FakeAws, seed_rollout};
use glidepath_core::Status;
use glidepath_core::Weight;
use serde_json::json;

async fn shifting(fake: &FakeAws) -> String {
    fake.add_function("orders", 2, "live", 1);
    seed_rollout(fake, json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "Linear10PercentEvery1Minute"}))
        .await
        .id
}

#[tokio::test]
async fn abort_puts_everything_back_on_the_old_version() {
    let fake = FakeAws::new(1_000);
    let id = shifting(&fake).await;
    let view = handle(
        &fake,
        json!({"rolloutId": id, "command": "abort", "reason": "latency"}),
    )
    .await
    .unwrap();
    assert_eq!(
        (view.status, view.weight),
        (Status::RolledBack, Weight::percent(0))
    );
    assert_eq!(view.reason.as_deref(), Some("aborted by operator: latency"));
    let alias = fake.alias("orders", "live").unwrap();
    assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    let world = fake.world();
    assert!(world.locks.is_empty() && world.schedules.is_empty());
}

#[tokio::test]
async fn rolling_back_twice_is_harmless() {
    let fake = FakeAws::new(1_000);
    let id = shifting(&fake).await;
    handle(&fake, json!({"rolloutId": id, "command": "abort"}))
        .await
        .unwrap();
    let writes = fake.world().alias_writes.len();
    for input in [
        json!({"rolloutId": id, "command": "abort"}),
        json!({"rolloutId": id}),
    ] {
        assert_eq!(
            handle(&fake, input).await.unwrap().status,
            Status::RolledBack
        );
    }
    assert_eq!(fake.world().alias_writes.len(), writes);
}

#[tokio::test]
async fn finishes_a_rollback_even_after_someone_moved_the_alias() {
    let fake = FakeAws::new(1_000);
    let id = shifting(&fake).await;
    // check-alarms persisted RollingBack and handed over; meanwhile the alias moved.
    glidepath_aws::Runner::new(&fake, glidepath_aws::Role::CheckAlarms)
        .run(
            &id,
            glidepath_core::Event::Breach {
                reason: "alarm".into(),
            },
        )
        .await
        .unwrap();
    fake.move_alias_externally("orders", "live", "2");
    let view = handle(&fake, json!({"rolloutId": id})).await.unwrap();
    assert_eq!(view.status, Status::RolledBack);
    assert_eq!(
        fake.alias("orders", "live").unwrap().version,
        "1",
        "the safe state wins"
    );
}

#[tokio::test]
async fn aborting_a_finished_rollout_is_a_conflict() {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 2, "live", 1);
    let done = seed_rollout(&fake, json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "AllAtOnce"})).await;
    assert_eq!(done.status, Status::Succeeded);
    let error = handle(&fake, json!({"rolloutId": done.id, "command": "abort"}))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("already finished"),
        "{}",
        error.message
    );
}

/// Issue 7: arbitrary and mutated inputs are answered, never a panic (see
/// `glidepath_aws::fuzz`).
#[test]
fn fuzzed_inputs_never_panic() {
    let ran = glidepath_aws::fuzz::fuzz_handler(
        "rollback",
        &[
            json!({"rolloutId": "r-1", "command": "abort", "reason": "x"}),
            json!({"rolloutId": "r-1"}),
        ],
        |fake, input| async move { handle(&fake, input).await.err().map(|e| e.error_type) },
    );
    assert!(ran > 0);
}

#[tokio::test]
async fn an_unknown_command_is_refused_by_name() {
    let fake = FakeAws::new(1_000);
    let error = handle(&fake, json!({"rolloutId": "r-1", "command": "promote"}))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.contains("promote") && error.message.contains("abort"),
        "{}",
        error.message
    );
}

/// Issue 8: an abort needs a rule of the authorisation policy, and is recorded with its actor.
#[tokio::test]
async fn abort_needs_the_policy_and_records_its_actor() {
    use glidepath_aws::fakes::function_url_request;
    use glidepath_core::{Actor, Policy};
    let policy = Policy::from_json(
        r#"{"rules": [{"name": "on-call", "principals": ["arn:aws:sts::123456789012:assumed-role/oncall/*"], "actions": ["abort"]}]}"#,
    )
    .unwrap();
    let fake = FakeAws::new(1_000);
    let id = shifting(&fake).await;
    let abort = json!({"rolloutId": id, "command": "abort", "reason": "latency"});
    let stranger = "arn:aws:sts::123456789012:assumed-role/intern/eve";
    for event in [function_url_request(stranger, &abort), abort.clone()] {
        let error = super::handle_with(&fake, event, &policy).await.unwrap_err();
        assert_eq!(error.error_type, "Forbidden", "{}", error.message);
    }
    assert_eq!(
        fake.alias("orders", "live").unwrap().routing.map(|r| r.0),
        Some("2".into())
    );
    let alice = "arn:aws:sts::123456789012:assumed-role/oncall/alice";
    let view = super::handle_with(&fake, function_url_request(alice, &abort), &policy)
        .await
        .unwrap()
        .into_rollout()
        .unwrap();
    assert_eq!(view.status, Status::RolledBack);
    let entry = fake.world().history[&id]
        .iter()
        .find(|h| h.event == "abort")
        .cloned()
        .unwrap();
    assert_eq!(entry.actor, Some(Actor::iam(alice)));
    // Finishing a rollback already decided needs no rule.
    assert!(
        super::handle_with(&fake, json!({"rolloutId": id}), &policy)
            .await
            .is_ok()
    );
}
