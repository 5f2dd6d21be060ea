//! `finalize` against the in-memory AWS.

use super::handle;
use glidepath_aws::fakes::{FakeAws, seed_rollout};
use glidepath_aws::ports::HandOff;
use glidepath_core::Weight;
use glidepath_core::{HookOutcome, Status};
use serde_json::json;

async fn post_traffic(fake: &FakeAws) -> String {
    fake.add_function("orders", 2, "live", 1);
    fake.world().functions.insert("smoke".into());
    let rollout = seed_rollout(
        fake,
        json!({"function": "orders", "alias": "live", "targetVersion": "2",
        "strategy": "Canary10Percent5Minutes", "hooks": {"postTraffic": "smoke"}}),
    )
    .await;
    // As step would: promote, which lands in PostTraffic.
    glidepath_aws::Runner::new(fake, glidepath_aws::Role::Step)
        .run(&rollout.id, glidepath_core::Event::Promote)
        .await
        .unwrap();
    rollout.id
}

#[tokio::test]
async fn moves_everything_to_the_new_version_then_succeeds() {
    let fake = FakeAws::new(1_000);
    let id = post_traffic(&fake).await;
    assert_eq!(
        fake.alias("orders", "live").unwrap().routing,
        Some(("2".into(), 0.1)),
        "step left the work to finalize"
    );
    let view = handle(&fake, json!({"rolloutId": id})).await.unwrap();
    assert_eq!(
        (view.status, view.weight),
        (Status::Succeeded, Weight::percent(100))
    );
    let alias = fake.alias("orders", "live").unwrap();
    assert_eq!((alias.version.as_str(), alias.routing), ("2", None));
    assert_eq!(fake.world().hook_calls.len(), 1);
    assert!(fake.world().locks.is_empty());
    // Again: harmless.
    assert_eq!(
        handle(&fake, json!({"rolloutId": id}))
            .await
            .unwrap()
            .status,
        Status::Succeeded
    );
    assert_eq!(fake.world().hook_calls.len(), 1);
}

#[tokio::test]
async fn a_failing_post_traffic_hook_hands_over_to_rollback() {
    let fake = FakeAws::new(1_000);
    let id = post_traffic(&fake).await;
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "checkout broken".into(),
        },
    );
    let view = handle(&fake, json!({"rolloutId": id})).await.unwrap();
    assert_eq!(view.status, Status::RollingBack);
    assert!(view.reason.unwrap().contains("checkout broken"));
    assert!(fake.world().hand_offs.contains(&(HandOff::Rollback, id)));
}

/// Issue 7: arbitrary and mutated inputs are answered, never a panic (see
/// `glidepath_aws::fuzz`).
#[test]
fn fuzzed_inputs_never_panic() {
    let ran = glidepath_aws::fuzz::fuzz_handler(
        "finalize",
        &[json!({"rolloutId": "r-1"})],
        |fake, input| async move { handle(&fake, input).await.err().map(|e| e.error_type) },
    );
    assert!(ran > 0);
}
