//! The pipeline action against the in-memory AWS and a recording fake of CodePipeline.

use super::{ACTION_LIMIT_SECONDS, JobOutcome, ROLLBACK_MARGIN_SECONDS, Settings, handle};
use crate::job::{FailureKind, JobReport, JobResults, Reported};
use glidepath_aws::fakes::{AlarmState, FakeAws, open_policy};
use glidepath_aws::function::{FunctionError, Invocation};
use glidepath_aws::{PortError, Role, Runner};
use glidepath_core::{Channel, Event, Policy, Status, Weight};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const FIXTURE: &str = include_str!("fixtures/codepipeline-job.json");
const JOB_ID: &str = "11111111-abcd-1111-abcd-111111abcdef";

/// CodePipeline's job API, recording each report; a job reported finished refuses more
/// (`InvalidJobStateException`), as CodePipeline does.
#[derive(Default, Clone)]
struct FakeJobs {
    reports: Arc<Mutex<Vec<(String, JobReport)>>>,
}

impl FakeJobs {
    fn reports(&self) -> Vec<JobReport> {
        self.reports
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }
}

impl JobResults for FakeJobs {
    async fn report(&self, job_id: &str, report: &JobReport) -> Result<Reported, PortError> {
        let mut reports = self.reports.lock().unwrap();
        let finished = reports
            .iter()
            .any(|(id, r)| id == job_id && !matches!(r, JobReport::InProgress { .. }));
        if finished {
            return Ok(Reported::AlreadyFinished);
        }
        reports.push((job_id.to_string(), report.clone()));
        Ok(Reported::Recorded)
    }
}

fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 3, "live", 1);
    fake.set_alarm("orders-errors", AlarmState::Ok);
    fake
}

/// The documented job event, carrying `request` as its `UserParameters`.
fn job(request: &Value, token: Option<&str>) -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture");
    // The documented sample's account, made the fake world's (where its functions live).
    event["CodePipeline.job"]["accountId"] = Value::from("123456789012");
    let data = &mut event["CodePipeline.job"]["data"];
    data["actionConfiguration"]["configuration"]["UserParameters"] = match request {
        Value::String(text) => Value::from(text.clone()),
        other => Value::from(other.to_string()),
    };
    match token {
        Some(token) => data["continuationToken"] = Value::from(token),
        None => {
            data.as_object_mut().unwrap().remove("continuationToken");
        }
    }
    event
}

fn request() -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
           "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"]})
}

fn invocation() -> Invocation {
    Invocation {
        deadline: None,
        account: Some("123456789012".into()),
        region: None,
    }
}

async fn deliver_with(
    fake: &FakeAws,
    jobs: &FakeJobs,
    event: Value,
    policy: &Policy,
) -> Result<JobOutcome, FunctionError> {
    let settings = Settings {
        policy,
        alarm_prefix: "glidepath-",
    };
    handle(fake, jobs, event, &invocation(), &settings).await
}

async fn deliver(fake: &FakeAws, jobs: &FakeJobs, event: Value) -> JobOutcome {
    deliver_with(fake, jobs, event, &open_policy())
        .await
        .expect("handled")
}

/// Delivers every tick due until the rollout stops moving; a rollback handed off is carried
/// out as the `rollback` function would.
async fn tick_to_the_end(fake: &FakeAws, id: &str) {
    ticks(fake, id).await;
    if fake.rollout(id).unwrap().status == Status::RollingBack {
        Runner::new(fake, Role::Rollback)
            .run(id, Event::Redrive)
            .await
            .expect("rollback");
    }
}

async fn ticks(fake: &FakeAws, id: &str) {
    while let Some((seq, at)) = fake.latest_tick(id) {
        if fake.rollout(id).unwrap().status.is_terminal() {
            return;
        }
        let now = fake.world().now;
        fake.advance(at.saturating_sub(now));
        Runner::new(fake, Role::Step)
            .run(id, Event::Tick { seq })
            .await
            .expect("tick");
        if fake.latest_tick(id) == Some((seq, at)) {
            return;
        }
    }
}

#[tokio::test]
async fn a_good_version_keeps_the_action_open_then_succeeds_with_variables() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let first = deliver(&fake, &jobs, job(&request(), None)).await;
    let id = first.rollout_id.clone().expect("a rollout");
    let JobReport::InProgress {
        token,
        percent,
        summary,
        ..
    } = &jobs.reports()[0]
    else {
        panic!("{:?}", jobs.reports())
    };
    assert_eq!((token.as_str(), *percent), (id.as_str(), 10));
    assert!(
        summary.starts_with("Shifting: 10 % of orders:live on version 2 (from 1), step 1 of 2"),
        "{summary}"
    );
    let rollout = fake.rollout(&id).unwrap();
    assert_eq!(rollout.spec.idempotency_key.as_deref(), Some(JOB_ID));
    let actor = rollout.spec.requested_by.unwrap();
    assert_eq!(
        (actor.principal.as_str(), actor.via),
        ("codepipeline:123456789012", Channel::CodePipeline)
    );

    // CodePipeline invokes again while the rollout runs: still in progress, same token.
    deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    assert!(matches!(&jobs.reports()[1], JobReport::InProgress { token, .. } if *token == id));

    tick_to_the_end(&fake, &id).await;
    assert_eq!(fake.rollout(&id).unwrap().status, Status::Succeeded);
    let last = deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    assert_eq!(last.reported, "succeeded");
    let JobReport::Succeeded { variables, .. } = jobs.reports().last().unwrap().clone() else {
        panic!("{:?}", jobs.reports())
    };
    assert_eq!(variables["rolloutId"], id);
    assert_eq!(variables["version"], "2");
    assert_eq!(variables["previousVersion"], "1");
    assert_eq!(variables["status"], "Succeeded");
}

#[tokio::test]
async fn a_bad_version_fails_the_job_with_the_rollback_reason() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let id = deliver(&fake, &jobs, job(&request(), None))
        .await
        .rollout_id
        .unwrap();
    fake.set_alarm("orders-errors", AlarmState::Alarm);
    tick_to_the_end(&fake, &id).await;
    assert_eq!(fake.rollout(&id).unwrap().status, Status::RolledBack);
    let outcome = deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    assert_eq!(outcome.reported, "failed");
    let JobReport::Failed { kind, message, .. } = jobs.reports().last().unwrap().clone() else {
        panic!()
    };
    assert_eq!(kind, FailureKind::JobFailed);
    assert!(message.contains("RolledBack"), "{message}");
    assert!(message.contains("orders-errors"), "{message}");
    assert!(
        message.ends_with("orders:live is on version 1"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_request_fails_the_job_naming_the_field_and_starts_nothing() {
    let cases = [
        (
            json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "Fast"}),
            "`strategy`",
        ),
        (
            Value::from("{not json"),
            "`UserParameters`: not a JSON rollout request",
        ),
        (
            Value::from(
                r##"{"function": "orders", "alias": "live", "targetVersion": "#{Build.VERSION}"}"##,
            ),
            "`#{Build.VERSION}` was not replaced",
        ),
        (
            json!({"function": "orders", "alias": "live", "targetVersion": "2", "idempotencyKey": "k"}),
            "`idempotencyKey`",
        ),
        (
            json!({"function": "orders", "alias": "live", "targetVersion": "9", "strategy": "Canary10Percent5Minutes"}),
            "9",
        ),
        (
            json!({"function": "orders", "alias": "live", "targetVersion": "2",
                "strategy": {"type": "steps", "steps": [{"weight": 10, "bake": "24h"}]}}),
            "more than the 23h30m",
        ),
        (Value::from(""), "`UserParameters`: missing"),
    ];
    for (request, expected) in cases {
        let (fake, jobs) = (world(), FakeJobs::default());
        let outcome = deliver(&fake, &jobs, job(&request, None)).await;
        assert_eq!(outcome.reported, "failed", "{request}");
        assert!(
            outcome.detail.contains(expected),
            "{request}: {}",
            outcome.detail
        );
        let JobReport::Failed { kind, .. } = &jobs.reports()[0] else {
            panic!()
        };
        assert_eq!(*kind, FailureKind::ConfigurationError, "{request}");
        let world = fake.world();
        assert!(world.rollouts.is_empty(), "{request}: no rollout");
        assert_eq!(
            world.aliases[&("orders".into(), "live".into())].routing,
            None
        );
    }
}

#[tokio::test]
async fn the_policy_judges_the_pipeline_as_its_own_principal() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let policy = Policy::from_json(
        r#"{"rules": [{"name": "ops", "principals": ["arn:aws:iam::*:role/ops"], "actions": ["start"]}]}"#,
    )
    .unwrap();
    let outcome = deliver_with(&fake, &jobs, job(&request(), None), &policy)
        .await
        .unwrap();
    assert_eq!(outcome.reported, "failed");
    assert!(
        outcome.detail.contains("codepipeline:123456789012"),
        "{}",
        outcome.detail
    );
    assert!(matches!(
        &jobs.reports()[0],
        JobReport::Failed {
            kind: FailureKind::PermissionError,
            ..
        }
    ));
    assert!(fake.world().rollouts.is_empty());

    let allowed = Policy::from_json(
        r#"{"rules": [{"name": "pipelines", "principals": ["codepipeline:123456789012"], "actions": ["start"]}]}"#,
    )
    .unwrap();
    let (fake, jobs) = (world(), FakeJobs::default());
    let outcome = deliver_with(&fake, &jobs, job(&request(), None), &allowed)
        .await
        .unwrap();
    assert_eq!(outcome.reported, "inProgress");
}

#[tokio::test]
async fn the_same_job_delivered_twice_starts_one_rollout() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let a = deliver(&fake, &jobs, job(&request(), None)).await;
    let b = deliver(&fake, &jobs, job(&request(), None)).await;
    assert_eq!(a.rollout_id, b.rollout_id);
    assert_eq!(fake.world().rollouts.len(), 1);
    // And a repeated final report changes nothing.
    let id = a.rollout_id.unwrap();
    tick_to_the_end(&fake, &id).await;
    deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    let again = deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    assert!(again.already_finished);
    assert_eq!(
        jobs.reports()
            .iter()
            .filter(|r| matches!(r, JobReport::Succeeded { .. }))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_token_naming_another_jobs_rollout_changes_nothing() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let id = deliver(&fake, &jobs, job(&request(), None))
        .await
        .rollout_id
        .unwrap();
    let mut forged = job(&request(), Some(&id));
    forged["CodePipeline.job"]["id"] = Value::from("22222222-abcd-1111-abcd-111111abcdef");
    // Even at the time limit, a forged token does not roll another job's rollout back.
    fake.advance(ACTION_LIMIT_SECONDS);
    let outcome = deliver(&fake, &jobs, forged).await;
    assert_eq!(outcome.reported, "failed");
    assert!(
        outcome.detail.contains("did not start"),
        "{}",
        outcome.detail
    );
    assert_eq!(fake.rollout(&id).unwrap().status, Status::Shifting);
}

#[tokio::test]
async fn a_rollout_still_running_near_the_action_limit_is_rolled_back_and_the_job_failed() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let gated = json!({"function": "orders", "alias": "live", "targetVersion": "2", "alarms": ["orders-errors"],
                       "strategy": {"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"pause": true}, {"weight": 100}]}});
    let id = deliver(&fake, &jobs, job(&gated, None))
        .await
        .rollout_id
        .unwrap();
    tick_to_the_end(&fake, &id).await;
    assert_eq!(fake.rollout(&id).unwrap().status, Status::Paused);
    let created = fake.rollout(&id).unwrap().created_at;
    let now = fake.world().now;
    fake.advance(created + ACTION_LIMIT_SECONDS - ROLLBACK_MARGIN_SECONDS - 1 - now);
    let still = deliver(&fake, &jobs, job(&gated, Some(&id))).await;
    assert_eq!(still.reported, "inProgress");
    assert!(
        still.detail.contains("glidepath resume"),
        "{}",
        still.detail
    );
    fake.advance(1);
    let outcome = deliver(&fake, &jobs, job(&gated, Some(&id))).await;
    assert_eq!(outcome.reported, "failed");
    assert!(
        outcome.detail.contains("24 h were nearly up"),
        "{}",
        outcome.detail
    );
    let rollout = fake.rollout(&id).unwrap();
    assert!(
        matches!(rollout.status, Status::RolledBack | Status::RollingBack),
        "{:?}",
        rollout.status
    );
    assert_eq!(rollout.weight, Weight::ZERO);
}

#[tokio::test]
async fn a_job_of_another_account_is_refused() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let mut event = job(&request(), None);
    event["CodePipeline.job"]["accountId"] = Value::from("999999999999");
    let error = deliver_with(&fake, &jobs, event, &open_policy())
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidRequest");
    assert!(jobs.reports().is_empty());
    assert!(fake.world().rollouts.is_empty());
}

/// Every log line of a whole job (start, progress, success, failure), at every level:
/// none carries the job's credentials. The subscriber is the process's global one (a scoped
/// one misses events whose callsites other test threads registered first), so the other
/// tests of this binary log into the same sink and are checked too.
#[test]
fn the_credentials_appear_in_no_log_line() {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("only this test sets the global subscriber");
    tracing::callsite::rebuild_interest_cache();
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (fake, jobs) = (world(), FakeJobs::default());
            let id = deliver(&fake, &jobs, job(&request(), None))
                .await
                .rollout_id
                .unwrap();
            deliver(&fake, &jobs, job(&request(), Some(&id))).await;
            tick_to_the_end(&fake, &id).await;
            deliver(&fake, &jobs, job(&request(), Some(&id))).await;
            deliver(&fake, &jobs, job(&Value::from("{bad"), None)).await;
            let _ = deliver_with(
                &fake,
                &jobs,
                {
                    let mut e = job(&request(), None);
                    e["CodePipeline.job"]["accountId"] = Value::from("999999999999");
                    e
                },
                &open_policy(),
            )
            .await;
        });
    }
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("job reported"),
        "the test saw the logs: {logs}"
    );
    for secret in [
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "EXAMPLE-SESSION-TOKEN-DO-NOT-LOG",
        "AKIAIOSFODNN7EXAMPLE",
        "artifactCredentials",
    ] {
        assert!(!logs.contains(secret), "{secret} was logged");
    }
}

/// Arbitrary and mutated job events are answered, never a panic (see `glidepath_aws::fuzz`).
#[test]
fn fuzzed_inputs_never_panic() {
    let seeds = [
        job(&request(), None),
        job(&request(), Some("r01a20aca67d000354d5d")),
    ];
    let ran = glidepath_aws::fuzz::fuzz_handler("pipeline", &seeds, |fake, input| async move {
        let jobs = FakeJobs::default();
        deliver_with(&fake, &jobs, input, &open_policy())
            .await
            .err()
            .map(|e| e.error_type)
    });
    assert!(ran > 0);
}

/// Review finding: a job whose id is another rollout's idempotency key (one a person or a
/// script chose) must not take that rollout over, even at the action's time limit.
#[tokio::test]
async fn a_job_naming_a_rollout_that_no_pipeline_started_changes_nothing() {
    let (fake, jobs) = (world(), FakeJobs::default());
    let mut by_hand = request();
    by_hand["idempotencyKey"] = Value::from(JOB_ID);
    let started = glidepath_start::handler::start_request(
        &fake,
        &by_hand,
        glidepath_core::Actor::direct_invoke(),
        &invocation(),
        &open_policy(),
        "glidepath-",
    )
    .await
    .unwrap();
    let id = started.rollout.rollout_id;
    fake.advance(ACTION_LIMIT_SECONDS);
    let outcome = deliver(&fake, &jobs, job(&request(), Some(&id))).await;
    assert_eq!(outcome.reported, "failed");
    assert!(
        outcome.detail.contains("did not start"),
        "{}",
        outcome.detail
    );
    assert_eq!(fake.rollout(&id).unwrap().status, Status::Shifting);
}

#[tokio::test]
async fn at_the_time_limit_a_pipeline_the_policy_does_not_let_abort_fails_the_job_and_leaves_the_rollout()
 {
    let (fake, jobs) = (world(), FakeJobs::default());
    let start_only = Policy::from_json(
        r#"{"rules": [{"name": "pipelines", "principals": ["codepipeline:*"], "actions": ["start"]}],
            "guardrails": {"requireHealthSignal": false}}"#,
    )
    .unwrap();
    let gated = json!({"function": "orders", "alias": "live", "targetVersion": "2", "alarms": ["orders-errors"],
                       "strategy": {"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"pause": true}, {"weight": 100}]}});
    let id = deliver_with(&fake, &jobs, job(&gated, None), &start_only)
        .await
        .unwrap()
        .rollout_id
        .unwrap();
    fake.advance(ACTION_LIMIT_SECONDS);
    let outcome = deliver_with(&fake, &jobs, job(&gated, Some(&id)), &start_only)
        .await
        .unwrap();
    assert_eq!(outcome.reported, "failed");
    assert!(
        outcome.detail.contains("may not abort"),
        "{}",
        outcome.detail
    );
    assert!(!fake.rollout(&id).unwrap().status.is_terminal());
}

/// A release of `orders` and `payments` as a pipeline's `UserParameters`.
fn release_request() -> Value {
    json!({"release": "checkout", "members": [
            {"function": "orders", "alias": "live", "targetVersion": "2", "alarms": ["orders-errors"]},
            {"function": "payments", "alias": "live", "targetVersion": "2", "alarms": ["orders-errors"]}],
           "strategy": "Canary10Percent5Minutes"})
}

#[tokio::test]
async fn a_release_keeps_the_action_open_until_every_member_succeeds() {
    let (fake, jobs) = (world(), FakeJobs::default());
    fake.add_function("payments", 3, "live", 1);
    let first = deliver(&fake, &jobs, job(&release_request(), None)).await;
    let id = first.rollout_id.clone().expect("a release id");
    assert!(id.starts_with("rel"), "{id}");
    let JobReport::InProgress {
        token,
        summary,
        percent,
        ..
    } = jobs.reports()[0].clone()
    else {
        panic!("{:?}", jobs.reports())
    };
    assert_eq!((token.as_str(), percent), (id.as_str(), 10));
    assert!(
        summary.contains("orders:live 10 %, payments:live 10 %"),
        "{summary}"
    );
    let members: Vec<String> = (0..2)
        .map(|i| glidepath_core::release::member_id(&id, i))
        .collect();
    assert_eq!(
        fake.rollout(&members[1])
            .unwrap()
            .spec
            .idempotency_key
            .as_deref(),
        Some(JOB_ID)
    );
    for member in &members {
        ticks(&fake, member).await;
    }
    let last = deliver(&fake, &jobs, job(&release_request(), Some(&id))).await;
    assert_eq!(last.reported, "succeeded", "{:?}", jobs.reports());
    let JobReport::Succeeded { variables, .. } = jobs.reports().last().unwrap().clone() else {
        panic!()
    };
    assert_eq!(variables["releaseId"], id);
    assert_eq!(variables["members"], "2");

    // A bad member in the parameters: a configuration error naming it, nothing started.
    let (fake, jobs) = (world(), FakeJobs::default());
    let mut bad = release_request();
    bad["members"][1]["targetVersion"] = json!("$LATEST");
    deliver(&fake, &jobs, job(&bad, None)).await;
    let JobReport::Failed { kind, message, .. } = jobs.reports()[0].clone() else {
        panic!()
    };
    assert_eq!(kind, FailureKind::ConfigurationError);
    assert!(message.contains("members[1].targetVersion"), "{message}");
    assert!(fake.world().rollouts.is_empty());
}

#[tokio::test]
async fn a_release_that_goes_back_fails_the_job_with_the_member_named() {
    let (fake, jobs) = (world(), FakeJobs::default());
    fake.add_function("payments", 3, "live", 1);
    fake.set_alarm("payments-errors", AlarmState::Ok);
    let mut request = release_request();
    request["members"][1]["alarms"] = json!(["payments-errors"]);
    let id = deliver(&fake, &jobs, job(&request, None))
        .await
        .rollout_id
        .unwrap();
    fake.set_alarm("payments-errors", AlarmState::Alarm);
    let payments = glidepath_core::release::member_id(&id, 1);
    tick_to_the_end(&fake, &payments).await;
    let hand_offs = std::mem::take(&mut fake.world().hand_offs);
    for (_, member) in hand_offs {
        Runner::new(&fake, Role::Rollback)
            .redrive(&member)
            .await
            .expect("rolled back");
    }
    let outcome = deliver(&fake, &jobs, job(&request, Some(&id))).await;
    assert_eq!(outcome.reported, "failed", "{:?}", jobs.reports());
    let JobReport::Failed { kind, message, .. } = jobs.reports().last().unwrap().clone() else {
        panic!()
    };
    assert_eq!(kind, FailureKind::JobFailed);
    assert!(
        message.contains("payments:live") && message.contains("payments-errors"),
        "{message}"
    );
    // Another job's token: refused, nothing changed.
    let mut other = job(&request, Some(&id));
    other["CodePipeline.job"]["id"] = json!("22222222-abcd-2222-abcd-222222abcdef");
    deliver(&fake, &jobs, other).await;
    let JobReport::Failed { message, .. } = jobs.reports().last().unwrap().clone() else {
        panic!()
    };
    assert!(message.contains("did not start"), "{message}");
}
