//! `start` against the in-memory AWS.

use super::{Started, handle};
use glidepath_aws::fakes::{AlarmState, FUNCTION_ARN_PREFIX, FakeAws};
use glidepath_aws::function::FunctionError;
use glidepath_core::Weight;
use glidepath_core::{Actor, Guardrail, HookOutcome, Policy, Status};
use serde_json::{Value, json};

fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 3, "live", 1);
    fake.world().functions.insert("smoke".into());
    fake.set_alarm("orders-errors", AlarmState::Ok);
    fake
}

fn request() -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "Canary10Percent5Minutes",
           "alarms": ["orders-errors"], "hooks": {"preTraffic": "smoke"}})
}

#[tokio::test]
async fn starts_a_rollout_after_the_pre_traffic_hook() {
    let fake = world();
    let started = handle(&fake, request()).await.unwrap();
    assert!(!started.existing);
    let view = started.rollout;
    assert_eq!(
        (view.status, view.weight),
        (Status::Shifting, Weight::percent(10))
    );
    assert_eq!(
        (view.current_version.as_str(), view.target_version.as_str()),
        ("1", "2")
    );
    let world = fake.world();
    assert_eq!(world.hook_calls.len(), 1);
    assert_eq!(world.hook_calls[0].1.target_version, "2");
    assert_eq!(
        world.aliases[&("orders".into(), "live".into())].routing,
        Some(("2".into(), 0.1))
    );
    assert_eq!(world.schedules.len(), 1);
    assert_eq!(
        world
            .locks
            .get(&(format!("{FUNCTION_ARN_PREFIX}orders"), "live".into())),
        Some(&view.rollout_id)
    );
}

#[tokio::test]
async fn accepts_an_eventbridge_rollout_requested_event() {
    let fake = world();
    let event = json!({"version": "0", "id": "e-1", "detail-type": "Rollout Requested", "source": "glidepath",
                       "account": "123456789012", "time": "2026-11-21T12:00:00Z", "region": "us-east-1",
                       "resources": [], "detail": request()});
    assert_eq!(
        handle(&fake, event).await.unwrap().rollout.status,
        Status::Shifting
    );
    let wrong =
        json!({"detail-type": "Something Else", "source": "glidepath", "detail": request()});
    assert_eq!(
        handle(&fake, wrong).await.unwrap_err().error_type,
        "InvalidRequest"
    );
}

#[tokio::test]
async fn a_failing_pre_traffic_hook_never_sends_traffic() {
    let fake = world();
    fake.world().hook_outcomes.insert(
        "smoke".into(),
        HookOutcome::Failed {
            reason: "GET /health: 500".into(),
        },
    );
    let view = handle(&fake, request()).await.unwrap().rollout;
    assert_eq!(
        (view.status, view.weight),
        (Status::RolledBack, Weight::percent(0))
    );
    assert!(view.reason.unwrap().contains("GET /health: 500"));
    let world = fake.world();
    assert!(world.alias_writes.is_empty(), "the alias was never touched");
    assert!(world.locks.is_empty());
}

#[tokio::test]
async fn invalid_requests_change_nothing() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"targetVersion": "1"}), "already points at version 1"),
        (
            json!({"targetVersion": "$LATEST"}),
            "`targetVersion`: $LATEST",
        ),
        (json!({"targetVersion": "9"}), "no published version 9"),
        (json!({"alias": "staging"}), "no alias staging"),
        (
            json!({"alarms": ["nope"]}),
            "`alarms`: no CloudWatch alarm named nope",
        ),
        (json!({"strategy": "Canary10Percent7Minutes"}), "`strategy`"),
        (
            json!({"hooks": {"postTraffic": "missing-hook"}}),
            "`hooks.postTraffic`: no Lambda function missing-hook",
        ),
        (json!({"bake": "forever"}), "`bake`"),
    ];
    for (change, expected) in cases {
        let fake = world();
        let mut bad = request();
        for (key, value) in change.as_object().unwrap() {
            bad[key] = value.clone();
        }
        let error = handle(&fake, bad.clone()).await.unwrap_err();
        assert_eq!(error.error_type, "InvalidRequest", "{bad}");
        assert!(error.message.contains(expected), "{bad}: {}", error.message);
        let world = fake.world();
        assert!(
            world.rollouts.is_empty() && world.locks.is_empty() && world.alias_writes.is_empty(),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn different_roles_cannot_share_an_alias() {
    let fake = world();
    fake.world()
        .versions
        .get_mut(&("orders".into(), "2".into()))
        .unwrap()
        .role = "arn:aws:iam::123456789012:role/other".into();
    let error = handle(&fake, request()).await.unwrap_err();
    assert!(
        error.message.contains("same execution role"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn one_rollout_per_alias_and_idempotent_retries() {
    let fake = world();
    let mut keyed = request();
    keyed["idempotencyKey"] = json!("build-42");
    let first = handle(&fake, keyed.clone()).await.unwrap().rollout;
    let again = handle(&fake, keyed).await.unwrap();
    assert!(again.existing);
    assert_eq!(again.rollout.rollout_id, first.rollout_id);

    let mut other = request();
    other["targetVersion"] = json!("3");
    let error = handle(&fake, other).await.unwrap_err();
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains(&first.rollout_id),
        "{}",
        error.message
    );
    assert_eq!(fake.world().rollouts.len(), 1);
    assert_eq!(
        fake.rollout(&first.rollout_id).unwrap().weight,
        Weight::percent(10),
        "the first is unaffected"
    );
}

#[tokio::test]
async fn publish_true_publishes_latest() {
    let fake = world();
    let mut publish = request();
    publish.as_object_mut().unwrap().remove("targetVersion");
    publish["publish"] = json!(true);
    let view = handle(&fake, publish).await.unwrap().rollout;
    assert_eq!(view.target_version, "4");
}

#[tokio::test]
async fn a_first_step_that_cannot_go_on_releases_the_lock() {
    let fake = world();
    // The alias is gone when the first step writes it (and back for the rollback).
    fake.world().not_found.insert("lambda:UpdateAlias", 1);
    let error = handle(&fake, request()).await.unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.contains("could not start"),
        "{}",
        error.message
    );
    let world = fake.world();
    let rollout = world.rollouts.values().next().unwrap();
    assert!(rollout.status.is_terminal(), "{}", rollout.status);
    assert!(world.locks.is_empty());
}

#[tokio::test]
async fn all_at_once_without_hooks_finishes_in_one_call() {
    let fake = world();
    let view = handle(&fake, json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "AllAtOnce"}))
        .await
        .unwrap()
        .rollout;
    assert_eq!(
        (view.status, view.weight),
        (Status::Succeeded, Weight::percent(100))
    );
    assert!(fake.world().hand_offs.is_empty());
}

#[tokio::test]
async fn an_interrupted_first_step_is_carried_on_by_the_retried_request() {
    let mut keyed = request();
    keyed["idempotencyKey"] = json!("build-9");
    for failing in ["lambda:UpdateAlias", "scheduler:CreateSchedule"] {
        let fake = world();
        fake.world().failures.insert(failing, 1);
        let error = handle(&fake, keyed.clone()).await.unwrap_err();
        assert_eq!(error.error_type, "Retryable", "{failing}");
        assert!(
            error.message.contains("same idempotencyKey"),
            "{}",
            error.message
        );
        {
            let world = fake.world();
            let rollout = world.rollouts.values().next().unwrap();
            // Not rolled back for a hiccup: the step is persisted and owed.
            assert_eq!(
                (rollout.status, rollout.weight),
                (Status::Shifting, Weight::percent(10))
            );
            assert!(!rollout.owed.is_empty());
            assert_eq!(world.locks.len(), 1);
        }
        let again = handle(&fake, keyed.clone()).await.unwrap();
        assert!(again.existing);
        assert_eq!(again.rollout.status, Status::Shifting);
        let world = fake.world();
        let rollout = world.rollouts.values().next().unwrap();
        assert!(
            rollout.owed.is_empty(),
            "{failing}: carried on and confirmed"
        );
        assert_eq!(
            world.aliases[&("orders".into(), "live".into())].routing,
            Some(("2".into(), 0.1))
        );
        assert_eq!(world.schedules.len(), 1);
    }
}

#[tokio::test]
async fn a_name_and_an_arn_are_one_alias() {
    // Issue 7, finding 7: `orders` and its ARN built different lock keys.
    let fake = world();
    handle(&fake, request()).await.unwrap();
    let mut by_arn = request();
    by_arn["function"] = json!(format!("{FUNCTION_ARN_PREFIX}orders"));
    let error = handle(&fake, by_arn).await.unwrap_err();
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("active rollout"),
        "{}",
        error.message
    );
    assert_eq!(fake.world().rollouts.len(), 1);
}

#[tokio::test]
async fn a_reused_key_with_a_different_request_is_refused() {
    // Issue 7, finding 11: the same key returned the first rollout as if it were this one.
    let fake = world();
    let mut first = request();
    first["idempotencyKey"] = json!("build-42");
    let created = handle(&fake, first.clone()).await.unwrap();
    let again = handle(&fake, first.clone()).await.unwrap();
    assert!(again.existing);
    assert_eq!(again.rollout.rollout_id, created.rollout.rollout_id);
    let mut different = first;
    different["targetVersion"] = json!("3");
    different["strategy"] = json!("AllAtOnce");
    let error = handle(&fake, different).await.unwrap_err();
    assert_eq!(error.error_type, "Conflict");
    assert!(
        error.message.contains("targetVersion, strategy"),
        "{}",
        error.message
    );
    // Keys are scoped to the alias: another function's request with the same key is its own.
    fake.add_function("billing", 2, "live", 1);
    let other = handle(
        &fake,
        json!({"function": "billing", "alias": "live", "targetVersion": "2",
        "strategy": "Canary10Percent5Minutes", "idempotencyKey": "build-42"}),
    )
    .await
    .unwrap();
    assert!(!other.existing);
}

#[tokio::test]
async fn an_alarm_already_in_alarm_refuses_the_start() {
    // Issue 7, finding 10: an alarm already in ALARM emits no new event.
    let fake = world();
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    let error = handle(&fake, request()).await.unwrap_err();
    assert_eq!(error.error_type, "Conflict");
    assert!(error.message.contains("orders-errors"), "{}", error.message);
    assert!(fake.world().rollouts.is_empty());
    assert!(fake.world().alias_writes.is_empty());
}

#[tokio::test]
async fn a_failed_hand_off_does_not_roll_a_healthy_rollout_back() {
    // Issue 7, finding 6: one transient invoke error handing a healthy AllAtOnce rollout to
    // finalize rolled it back.
    let fake = world();
    fake.world().failures.insert("lambda:Invoke", 1);
    let error = handle(
        &fake,
        json!({"function": "orders", "alias": "live", "targetVersion": "2",
        "strategy": "AllAtOnce", "hooks": {"postTraffic": "smoke"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type, "Retryable");
    let rollout = fake.world().rollouts.values().next().unwrap().clone();
    assert_eq!(rollout.status, Status::PostTraffic);
    assert!(fake.world().locks.values().any(|id| *id == rollout.id));
}

/// Issue 7: arbitrary and mutated inputs are answered, never a panic (see
/// `glidepath_aws::fuzz`).
#[test]
fn fuzzed_inputs_never_panic() {
    let ran = glidepath_aws::fuzz::fuzz_handler(
        "start",
        &[
            json!({"function": "orders", "alias": "live", "targetVersion": "3", "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"]}),
            json!({"detail-type": "Rollout Requested", "source": "glidepath", "detail": {"function": "orders", "alias": "live", "targetVersion": "3", "strategy": "AllAtOnce"}}),
        ],
        |fake, input| async move { handle(&fake, input).await.err().map(|e| e.error_type) },
    );
    assert!(ran > 0);
}

#[tokio::test]
async fn a_rollout_request_from_another_source_or_account_is_refused() {
    // Issue 8: `start` checks the event's source and account, not only its detail-type.
    let fake = world();
    let envelope = |source: &str, account: &str| {
        json!({"version": "0", "id": "e-1", "detail-type": "Rollout Requested", "source": source,
               "account": account, "time": "2026-11-21T12:00:00Z", "region": "us-east-1",
               "resources": [], "detail": request()})
    };
    let ours = glidepath_aws::function::Invocation {
        deadline: None,
        account: Some("123456789012".into()),
        region: None,
    };
    let open = glidepath_aws::fakes::open_policy();
    let error = super::handle_until(
        &fake,
        envelope("my.app", "123456789012"),
        &ours,
        &open,
        "glidepath-",
    )
    .await
    .unwrap_err();
    assert!(error.message.contains("`source`"), "{}", error.message);
    let error = super::handle_until(
        &fake,
        envelope("glidepath", "999999999999"),
        &ours,
        &open,
        "glidepath-",
    )
    .await
    .unwrap_err();
    assert!(error.message.contains("`account`"), "{}", error.message);
    assert!(fake.world().rollouts.is_empty());
    let accepted = super::handle_until(
        &fake,
        envelope("glidepath", "123456789012"),
        &ours,
        &open,
        "glidepath-",
    )
    .await
    .unwrap();
    assert_eq!(accepted.rollout.status, Status::Shifting);
    // The sending account is the rollout's actor.
    let world = fake.world();
    let rollout = world.rollouts.values().next().unwrap();
    assert_eq!(
        rollout.spec.requested_by,
        Some(Actor::event_bridge("123456789012"))
    );
}

/// The policy of the issue-8 tests: a deployer role may start on `live` only, within the
/// guardrails; on-call may override downgrades and all-at-once; nobody may start payments.
fn policy() -> Policy {
    Policy::from_json(&format!(
        r#"{{"rules": [
            {{"name": "payments-frozen", "effect": "deny", "principals": ["*"], "actions": ["start"],
              "functions": ["*:function:payments"]}},
            {{"name": "deployer", "principals": ["{DEPLOYER}"], "actions": ["start", "abort"],
              "functions": ["{FUNCTION_ARN_PREFIX}*"], "aliases": ["live"]}},
            {{"name": "on-call", "principals": ["{ON_CALL}"], "actions": ["*"],
              "mayOverride": ["downgrade", "allAtOnce"]}}],
          "guardrails": {{"maxFirstStepPercent": 25}}}}"#
    ))
    .unwrap()
}

const DEPLOYER: &str = "arn:aws:sts::123456789012:assumed-role/deployer/build-7";
const ON_CALL: &str = "arn:aws:sts::123456789012:assumed-role/oncall/alice";

async fn start_as(fake: &FakeAws, caller: &str, body: &Value) -> Result<Started, FunctionError> {
    super::handle_until(
        fake,
        glidepath_aws::fakes::function_url_request(caller, body),
        &glidepath_aws::function::Invocation::default(),
        &policy(),
        "glidepath-",
    )
    .await
}

#[tokio::test]
async fn only_principals_the_policy_allows_may_start_and_they_are_recorded() {
    let fake = world();
    // A direct invoke, and an unknown principal, are refused and change nothing.
    let error = super::handle_until(
        &fake,
        request(),
        &glidepath_aws::function::Invocation::default(),
        &policy(),
        "glidepath-",
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(error.message.contains("lambda:invoke"), "{}", error.message);
    let stranger = "arn:aws:sts::123456789012:assumed-role/intern/bob";
    let error = start_as(&fake, stranger, &request()).await.unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(
        error.message.contains("no rule of the authorisation policy lets arn:aws:sts::123456789012:assumed-role/intern/bob"),
        "{}",
        error.message
    );
    // The deployer may not start on another alias.
    fake.add_function("beta-orders", 3, "beta", 1);
    let mut beta = request();
    beta["function"] = json!("beta-orders");
    beta["alias"] = json!("beta");
    assert_eq!(
        start_as(&fake, DEPLOYER, &beta)
            .await
            .unwrap_err()
            .error_type,
        "Forbidden"
    );
    // A deny rule names itself.
    fake.add_function("payments", 3, "live", 1);
    let mut payments = request();
    payments["function"] = json!("payments");
    let error = start_as(&fake, ON_CALL, &payments).await.unwrap_err();
    assert!(
        error.message.contains("rule `payments-frozen`"),
        "{}",
        error.message
    );
    {
        let world = fake.world();
        assert!(world.rollouts.is_empty());
        assert!(world.alias_writes.is_empty(), "no alias moved");
    }
    // The deployer may start on live: the actor and the rule are on the record, its history
    // and the notification.
    let started = start_as(&fake, DEPLOYER, &request()).await.unwrap();
    let world = fake.world();
    let rollout = &world.rollouts[&started.rollout.rollout_id];
    assert_eq!(rollout.spec.requested_by, Some(Actor::iam(DEPLOYER)));
    assert_eq!(rollout.spec.authorized_by.as_deref(), Some("deployer"));
    let history = &world.history[&started.rollout.rollout_id];
    assert_eq!(history[0].actor, Some(Actor::iam(DEPLOYER)), "create");
    assert_eq!(history[1].event, "start");
    assert_eq!(history[1].actor, Some(Actor::iam(DEPLOYER)));
    assert!(
        history[2..]
            .iter()
            .all(|h| h.actor == Some(Actor::glidepath("start"))),
        "what follows is Glidepath's own: {history:?}"
    );
}

#[tokio::test]
async fn guardrails_hold_unless_overridden_by_someone_allowed_to() {
    let fake = world();
    // No alarm: refused (nobody here may override it).
    let mut unwatched = request();
    unwatched["alarms"] = json!([]);
    let error = start_as(&fake, ON_CALL, &unwatched).await.unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(
        error.message.contains("guardrail `noHealthSignal`"),
        "{}",
        error.message
    );
    // A first step above 25 %.
    let mut large = request();
    large["strategy"] = json!({"type": "canary", "percent": 50, "interval": "5m"});
    let error = start_as(&fake, ON_CALL, &large).await.unwrap_err();
    assert!(
        error.message.contains("guardrail `largeFirstStep`"),
        "{}",
        error.message
    );
    // All at once: needs `allow`, and a rule that lets the actor.
    let mut at_once = request();
    at_once["strategy"] = json!("AllAtOnce");
    let error = start_as(&fake, ON_CALL, &at_once).await.unwrap_err();
    assert!(
        error.message.contains("add \"allAtOnce\" to `allow`"),
        "{}",
        error.message
    );
    at_once["allow"] = json!(["allAtOnce"]);
    let error = start_as(&fake, DEPLOYER, &at_once).await.unwrap_err();
    assert!(
        error.message.contains("rule `deployer`"),
        "{}",
        error.message
    );
    // A downgrade (the alias is on 1; roll "back" to it from 3).
    fake.add_function("catalog", 3, "live", 3);
    let mut downgrade = request();
    downgrade["function"] = json!("catalog");
    downgrade["targetVersion"] = json!("1");
    let error = start_as(&fake, ON_CALL, &downgrade).await.unwrap_err();
    assert!(
        error.message.contains("guardrail `downgrade`"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty(), "nothing was created");
    // Overridden by on-call, and recorded.
    let started = start_as(&fake, ON_CALL, &at_once).await.unwrap();
    assert_eq!(started.rollout.weight, Weight::percent(100));
    let world = fake.world();
    let rollout = &world.rollouts[&started.rollout.rollout_id];
    assert_eq!(rollout.spec.overridden, vec![Guardrail::AllAtOnce]);
    assert_eq!(rollout.spec.authorized_by.as_deref(), Some("on-call"));
}

#[tokio::test]
async fn expect_code_sha256_pins_the_artifact() {
    // Issue 8: a rollout can pin the build's artifact; other code is refused.
    let fake = world();
    let mut pinned = request();
    pinned["expectCodeSha256"] = json!(glidepath_aws::fakes::fake_code_sha256("orders", 3));
    let error = handle(&fake, pinned.clone()).await.unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(
        error.message.contains("`expectCodeSha256`"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty());
    pinned["expectCodeSha256"] = json!(glidepath_aws::fakes::fake_code_sha256("orders", 2));
    assert_eq!(
        handle(&fake, pinned).await.unwrap().rollout.status,
        Status::Shifting
    );
}

/// Issue 8: a function with a code-signing config takes only versions its allowed publishers
/// signed, whatever the config's own policy (`Warn` lets Lambda deploy unsigned code).
#[tokio::test]
async fn a_code_signing_config_admits_only_signed_versions() {
    use glidepath_aws::ports::CodeSigning;
    let fake = world();
    let allowed = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/release/abc";
    fake.world().code_signing.insert(
        "orders".into(),
        CodeSigning {
            config_arn: "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1".into(),
            allowed_profiles: vec![allowed.into()],
        },
    );
    let error = handle(&fake, request()).await.unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(
        error.message.contains("carries no signature"),
        "{}",
        error.message
    );
    let sign = |profile: &str| {
        fake.world()
            .versions
            .get_mut(&("orders".to_string(), "2".to_string()))
            .unwrap()
            .signing_profile_version_arn = Some(profile.into());
    };
    sign("arn:aws:signer:us-east-1:999999999999:/signing-profiles/other/xyz");
    let error = handle(&fake, request()).await.unwrap_err();
    assert!(
        error.message.contains("which is not an allowed publisher"),
        "{}",
        error.message
    );
    assert!(fake.world().rollouts.is_empty(), "nothing was created");
    sign(allowed);
    assert_eq!(
        handle(&fake, request()).await.unwrap().rollout.status,
        Status::Shifting
    );
}

/// Another account's alarm, named by ARN: pushed only.
const FOREIGN_ALARM: &str = "arn:aws:cloudwatch:us-east-1:444455556666:alarm:orders-errors";

#[tokio::test]
async fn an_alarm_of_another_account_is_watched_but_neither_read_nor_counted_as_the_signal() {
    let fake = world();
    let mut request = request();
    request["alarms"] = json!(["orders-errors", FOREIGN_ALARM]);
    let view = handle(&fake, request).await.unwrap().rollout;
    assert_eq!(view.status, Status::Shifting);
    // Ticks read only the alarm of this account: the other one (which DescribeAlarms cannot
    // see) does not count as missing.
    let (seq, at) = fake.latest_tick(&view.rollout_id).unwrap();
    let now = fake.world().now;
    fake.advance(at - now);
    let after = glidepath_aws::Runner::new(&fake, glidepath_aws::Role::Step)
        .run(&view.rollout_id, glidepath_core::Event::Tick { seq })
        .await
        .unwrap();
    assert_eq!(after.status, Status::Succeeded, "{:?}", after.reason);
    assert_eq!(after.weight, Weight::percent(100));
    // As the only alarm, it is no health signal for the guardrail.
    let fake = world();
    let strict =
        Policy::from_json(r#"{"rules": [{"name": "all", "principals": ["*"], "actions": ["*"]}]}"#)
            .unwrap();
    let mut request = self::request();
    request["alarms"] = json!([FOREIGN_ALARM]);
    request["hooks"] = json!({});
    let error = super::handle_until(
        &fake,
        request,
        &glidepath_aws::function::Invocation::default(),
        &strict,
        "glidepath-",
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type, "Forbidden");
    assert!(
        error.message.contains("noHealthSignal"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_alarm_of_this_account_named_by_arn_or_a_malformed_arn_is_refused() {
    let fake = world();
    let mut request = request();
    request["alarms"] = json!(["arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-errors"]);
    let invocation = glidepath_aws::function::Invocation {
        deadline: None,
        account: Some("123456789012".into()),
        region: None,
    };
    let error = super::handle_until(
        &fake,
        request,
        &invocation,
        &glidepath_aws::fakes::open_policy(),
        "glidepath-",
    )
    .await
    .unwrap_err();
    assert!(
        error.message.contains("name it `orders-errors`"),
        "{}",
        error.message
    );
    let mut request = self::request();
    request["alarms"] = json!(["arn:aws:sns:us-east-1:444455556666:topic"]);
    let error = handle(&fake, request).await.unwrap_err();
    assert!(error.message.contains("`alarms[0]`"), "{}", error.message);
    assert!(fake.world().rollouts.is_empty());
}
