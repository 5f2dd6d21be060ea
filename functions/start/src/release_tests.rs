//! Starting a release against the in-memory AWS.

use super::start_release;
use glidepath_aws::fakes::{AlarmState, FakeAws, open_policy};
use glidepath_aws::function::Invocation;
use glidepath_aws::ports::{HandOff, RolloutStore};
use glidepath_aws::{Role, Runner};
use glidepath_core::{Actor, HookOutcome, Status, Weight};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 3] = ["api", "worker", "consumer"];

fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    for function in FUNCTIONS {
        fake.add_function(function, 3, "live", 1);
        fake.set_alarm(&format!("{function}-errors"), AlarmState::Ok);
    }
    fake.world().functions.insert("smoke".into());
    fake.set_alarm("checkout-errors", AlarmState::Ok);
    fake
}

fn request() -> Value {
    json!({
        "release": "checkout-42",
        "members": FUNCTIONS.iter().map(|f| json!({
            "function": f, "alias": "live", "targetVersion": "2", "alarms": [format!("{f}-errors")]
        })).collect::<Vec<_>>(),
        "strategy": "Linear10PercentEvery1Minute",
        "alarms": ["checkout-errors"],
        "hooks": {"preTraffic": "smoke"},
        "idempotencyKey": "build-42",
    })
}

/// A single rollout's request, started the way a release's members are.
async fn start_single(
    fake: &FakeAws,
    body: &Value,
) -> Result<crate::handler::Started, glidepath_aws::function::FunctionError> {
    crate::handler::start_request(
        fake,
        body,
        Actor::direct_invoke(),
        &Invocation::default(),
        &open_policy(),
        "glidepath-",
    )
    .await
}

async fn start(
    fake: &FakeAws,
    body: Value,
) -> Result<super::ReleaseStarted, glidepath_aws::function::FunctionError> {
    start_release(
        fake,
        &body,
        Actor::direct_invoke(),
        &Invocation::default(),
        &open_policy(),
        "glidepath-",
    )
    .await
}

fn routing(fake: &FakeAws, function: &str) -> Option<(String, f64)> {
    fake.world().aliases[&(function.to_string(), "live".to_string())]
        .routing
        .clone()
}

#[tokio::test]
async fn every_member_takes_the_first_step_together() {
    let fake = world();
    let started = start(&fake, request()).await.expect("started");
    let release = started.release;
    assert!(!started.existing);
    assert!(release.release_id.starts_with("rel"));
    assert_eq!(release.name.as_deref(), Some("checkout-42"));
    assert_eq!(release.status, Status::Shifting);
    assert_eq!(release.members.len(), 3);
    for (member, function) in release.members.iter().zip(FUNCTIONS) {
        assert_eq!(member.function, function);
        assert_eq!(
            (member.status, member.weight),
            (Status::Shifting, Weight::percent(10))
        );
        assert_eq!(
            member.release_id.as_deref(),
            Some(release.release_id.as_str())
        );
        assert_eq!(routing(&fake, function), Some(("2".into(), 0.1)));
    }
    // Every member's pre-traffic hook ran before any traffic moved.
    let world = fake.world();
    assert_eq!(world.hook_calls.len(), 3);
    let first_write = world
        .alias_writes
        .iter()
        .position(|(_, w)| !w.is_zero())
        .expect("a write");
    assert!(
        first_write < 3
            || world.alias_writes[..first_write]
                .iter()
                .all(|(_, w)| w.is_zero())
    );
    // Each member watches the shared alarm and its own.
    let api = world
        .rollouts
        .values()
        .find(|r| r.spec.function == "api")
        .expect("api");
    assert_eq!(api.spec.alarms, ["checkout-errors", "api-errors"]);
}

#[tokio::test]
async fn a_member_whose_alias_is_held_refuses_the_release_and_nothing_moves() {
    let fake = world();
    let single = json!({"function": "worker", "alias": "live", "targetVersion": "3",
        "strategy": "Canary10Percent5Minutes", "alarms": ["worker-errors"]});
    start_single(&fake, &single)
        .await
        .expect("a rollout of worker");
    let before = fake.world().rollouts.len();
    let error = start(&fake, request()).await.expect_err("refused");
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("members[1] (worker:live)"),
        "{}",
        error.message
    );
    assert_eq!(fake.world().rollouts.len(), before, "no member created");
    assert_eq!(routing(&fake, "api"), None);
    assert_eq!(routing(&fake, "consumer"), None);
    assert!(fake.world().hook_calls.is_empty());
}

#[tokio::test]
async fn a_bad_member_is_named_and_nothing_is_created() {
    let fake = world();
    let mut body = request();
    body["members"][2]["targetVersion"] = json!("9");
    let error = start(&fake, body).await.expect_err("refused");
    assert!(
        error.message.starts_with("members[2] (consumer:live): "),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
    let mut body = request();
    body["members"][0]["alarms"] = json!(["no-such-alarm"]);
    let error = start(&fake, body).await.expect_err("refused");
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.contains("members[0] (api:live)") && error.message.contains("no-such-alarm"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
}

/// Runs the rollbacks handed to the `rollback` function, as it would.
async fn run_hand_offs(fake: &FakeAws) {
    let hand_offs = std::mem::take(&mut fake.world().hand_offs);
    for (work, id) in hand_offs {
        assert_eq!(work, HandOff::Rollback);
        Runner::new(fake, Role::Rollback)
            .redrive(&id)
            .await
            .expect("rolled back");
    }
}

#[tokio::test]
async fn a_failing_pre_traffic_hook_sends_no_traffic_to_any_member() {
    let fake = world();
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "GET /checkout: 500".into(),
        },
    );
    let release = start(&fake, request()).await.expect("started").release;
    // The first member's hook failed: it ended without traffic, and the others, never
    // started, ended for it without their aliases touched.
    assert_eq!(release.status, Status::RolledBack, "{release:?}");
    let reason = release.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("api:live") && reason.contains("GET /checkout: 500"),
        "{reason}"
    );
    assert_eq!(
        fake.world().hook_calls.len(),
        1,
        "the others were not started"
    );
    run_hand_offs(&fake).await;
    let members = Runner::new(&fake, Role::Step)
        .load_members(
            &fake
                .rollout(&release.members[0].rollout_id)
                .and_then(|r| r.release)
                .expect("member"),
        )
        .await
        .expect("members");
    assert!(
        members.iter().all(|m| m.status == Status::RolledBack),
        "{members:?}"
    );
    assert!(
        members[2]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("for member api:live"))
    );
    let world = fake.world();
    for function in FUNCTIONS {
        let alias = &world.aliases[&(function.to_string(), "live".to_string())];
        assert_eq!((alias.version.as_str(), &alias.routing), ("1", &None));
    }
    assert!(world.alias_writes.iter().all(|(_, w)| w.is_zero()));
    assert!(world.locks.is_empty(), "every lock released");
}

#[tokio::test]
async fn the_same_request_again_answers_with_its_release() {
    let fake = world();
    let first = start(&fake, request()).await.expect("started").release;
    let again = start(&fake, request()).await.expect("again");
    assert!(again.existing);
    assert_eq!(again.release.release_id, first.release_id);
    assert_eq!(fake.world().rollouts.len(), 3);
    let stored = fake
        .load(&first.members[1].rollout_id)
        .await
        .expect("load")
        .expect("member");
    assert_eq!(stored.release.map(|r| r.index), Some(1));
}

#[tokio::test]
async fn a_reused_key_with_another_release_or_a_single_rollout_is_refused() {
    let fake = world();
    start(&fake, request()).await.expect("started");
    // The same key, member 2 to another version.
    let mut changed = request();
    changed["members"][2]["targetVersion"] = json!("3");
    let error = start(&fake, changed).await.expect_err("refused");
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("members[2] (targetVersion)"),
        "{}",
        error.message
    );
    // The same key for one rollout of the first member's alias.
    let single = json!({"function": "api", "alias": "live", "targetVersion": "2",
        "strategy": "Linear10PercentEvery1Minute", "alarms": ["checkout-errors", "api-errors"],
        "hooks": {"preTraffic": "smoke"}, "idempotencyKey": "build-42"});
    let error = start_single(&fake, &single).await.expect_err("refused");
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("was used for release rel"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn one_alias_by_name_and_by_arn_is_one_member() {
    let fake = world();
    let mut body = request();
    body["members"][2] = json!({"function": format!("{}api", glidepath_aws::fakes::FUNCTION_ARN_PREFIX),
        "alias": "live", "targetVersion": "2"});
    let error = start(&fake, body).await.expect_err("refused");
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.starts_with("members[2]") && error.message.contains("members[0]"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
}

#[tokio::test]
async fn a_member_elsewhere_has_no_health_signal_glidepath_can_read() {
    let fake = world();
    // Glidepath runs in another region than the functions: its alarms cannot watch them.
    let invocation = Invocation {
        region: Some("eu-west-1".into()),
        ..Invocation::default()
    };
    let guarded = glidepath_core::Policy::from_json(
        r#"{"rules": [{"name": "all", "principals": ["*"], "actions": ["*"], "mayOverride": ["*"]}]}"#,
    )
    .expect("policy");
    let error = start_release(
        &fake,
        &request(),
        Actor::direct_invoke(),
        &invocation,
        &guarded,
        "glidepath-",
    )
    .await
    .expect_err("refused");
    assert_eq!(error.error_type, "Forbidden");
    assert!(error.message.starts_with("members[0]"), "{}", error.message);
    // Overriding the guardrail, by someone allowed to, starts it.
    let mut body = request();
    body["allow"] = json!(["noHealthSignal"]);
    start_release(
        &fake,
        &body,
        Actor::direct_invoke(),
        &invocation,
        &guarded,
        "glidepath-",
    )
    .await
    .expect("started with the override");
}
