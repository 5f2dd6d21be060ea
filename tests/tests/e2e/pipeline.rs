//! `e19`: the CodePipeline action, driven as CodePipeline drives it. CodePipeline has no
//! emulator: the `pipeline` function reports to a [`Recorder`] (`AWS_ENDPOINT_URL_CODEPIPELINE`)
//! and the test re-invokes it with the continuation token each report asks for, with the
//! documented job event (`tests/fixtures/codepipeline-job.json`) as the envelope.

use super::{World, world};
use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_lambda::types::Environment;
use glidepath_core::Status;
use glidepath_e2e::recorder::{Call, Recorder};
use glidepath_e2e::run;
use glidepath_e2e::target::Target;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SUCCESS: &str = "CodePipeline_20150709.PutJobSuccessResult";
const FAILURE: &str = "CodePipeline_20150709.PutJobFailureResult";

/// Points the stack's `pipeline` function at `recorder` for CodePipeline's job API.
async fn report_to(world: &World, recorder: &Recorder) {
    let lambda = &world.clients.lambda;
    let function = &world.glidepath.pipeline;
    let config = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .expect("the emulator answers");
    let mut variables = config
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    variables.insert("AWS_ENDPOINT_URL_CODEPIPELINE".into(), recorder.url.clone());
    lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .expect("the emulator answers");
}

/// The documented job event for job `job_id` of the emulator's account, carrying `request`.
fn job_event(account: &str, job_id: &str, request: &Value, token: Option<&str>) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../fixtures/codepipeline-job.json"))
            .expect("the fixture is JSON");
    let job = &mut event["CodePipeline.job"];
    job["id"] = Value::from(job_id);
    job["accountId"] = Value::from(account);
    let data = &mut job["data"];
    data["actionConfiguration"]["configuration"]["UserParameters"] =
        Value::from(request.to_string());
    match token {
        Some(token) => data["continuationToken"] = Value::from(token),
        None => {
            data.as_object_mut()
                .expect("data is an object")
                .remove("continuationToken");
        }
    }
    event
}

/// The calls the function made for `job_id`.
fn reports(recorder: &Recorder, job_id: &str) -> Vec<Call> {
    recorder
        .calls()
        .into_iter()
        .filter(|c| c.body["jobId"] == job_id)
        .collect()
}

/// Delivers job `job_id` (with `token`, if CodePipeline is continuing it) to the `pipeline`
/// function, which must answer.
async fn deliver(
    world: &World,
    account: &str,
    job_id: &str,
    request: &Value,
    token: Option<&str>,
) -> Value {
    world
        .clients
        .invoke(
            &world.glidepath.pipeline,
            &job_event(account, job_id, request, token),
        )
        .await
        .expect("the emulator answers")
        .unwrap_or_else(|e| panic!("the pipeline function failed: {e:?}"))
}

/// Invokes the action as CodePipeline does: once, then again with each continuation token,
/// until a report carries none. Returns the job's reports.
async fn drive(
    world: &World,
    recorder: &Recorder,
    account: &str,
    job_id: &str,
    request: &Value,
) -> Vec<Call> {
    let deadline = Instant::now() + super::DEADLINE;
    let mut token: Option<String> = None;
    loop {
        let answer = deliver(world, account, job_id, request, token.as_deref()).await;
        let last = reports(recorder, job_id).last().cloned().expect("a report");
        match last.body["continuationToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => {
                eprintln!("pipeline job {job_id}: {answer}");
                return reports(recorder, job_id);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the job never finished: {:?}",
            reports(recorder, job_id)
        );
        // CodePipeline's own pace is undocumented; a second keeps the test quick.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn account_of(world: &World, target: &Target) -> String {
    let arn = target
        .function_key(&world.clients)
        .await
        .expect("the emulator answers");
    arn.split(':')
        .nth(4)
        .expect("the emulator answers")
        .to_string()
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e19_a_pipeline_action_waits_for_the_rollout_and_reports_its_end() {
    run(async {
        let world = world().await;
        let recorder = Recorder::start().await.unwrap();
        report_to(world, &recorder).await;
        let (good, bad, refused) = tokio::join!(
            world.target("pipe-good"),
            world.target("pipe-bad"),
            world.target("pipe-refused")
        );
        let account = account_of(world, &good).await;
        let strategy = json!({"type": "linear", "percent": 50, "interval": "3s"});

        // A good version: several continuations, then success with the output variables.
        let run_id = world.run_id;
        let job = format!("{:08x}-0000-4000-8000-000000000001", run_id);
        let request = good.request("2", strategy.clone());
        let calls = drive(world, &recorder, &account, &job, &request).await;
        let (last, progress) = calls.split_last().unwrap();
        assert!(progress.len() >= 2, "several continuations: {calls:?}");
        let id = progress[0].body["continuationToken"]
            .as_str()
            .unwrap()
            .to_string();
        for call in progress {
            assert_eq!(call.target, SUCCESS);
            assert_eq!(call.body["continuationToken"], id.as_str());
            let details = &call.body["executionDetails"];
            assert!(
                details["summary"].as_str().unwrap().contains(&id),
                "{details}"
            );
            assert!(details["percentComplete"].as_i64().unwrap() <= 100);
        }
        assert_eq!(last.target, SUCCESS, "{last:?}");
        assert_eq!(last.body["outputVariables"]["rolloutId"], id.as_str());
        assert_eq!(last.body["outputVariables"]["version"], "2");
        assert_eq!(last.body["outputVariables"]["status"], "Succeeded");
        assert!(last.body.get("continuationToken").is_none());
        let rollout = world.rollout(&id).await;
        assert_eq!(rollout.status, Status::Succeeded);
        assert_eq!(
            rollout.spec.requested_by.unwrap().principal,
            format!("codepipeline:{account}")
        );
        good.expect_alias(&world.clients, "2", None).await;

        // The same job delivered twice starts one rollout (the job id is the idempotency key).
        let again = deliver(world, &account, &job, &request, None).await;
        assert_eq!(again["rolloutId"], id.as_str(), "{again}");

        // A bad version: the alarm fires mid-rollout; the job fails with the reason.
        let job = format!("{:08x}-0000-4000-8000-000000000002", run_id);
        let request = bad.request(
            "2",
            json!({"type": "linear", "percent": 10, "interval": "3s"}),
        );
        let first = deliver(world, &account, &job, &request, None).await;
        assert_eq!(first["reported"], "inProgress", "{first}");
        bad.set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let calls = drive(world, &recorder, &account, &job, &request).await;
        let last = calls.last().unwrap();
        assert_eq!(last.target, FAILURE, "{last:?}");
        assert_eq!(last.body["failureDetails"]["type"], "JobFailed");
        let message = last.body["failureDetails"]["message"].as_str().unwrap();
        assert!(message.contains(&bad.alarm), "{message}");
        bad.expect_alias(&world.clients, "1", None).await;

        // A bad request: the job fails naming the field, and nothing starts.
        let job = format!("{:08x}-0000-4000-8000-000000000003", run_id);
        let mut request = refused.request("2", strategy);
        request["bake"] = json!("soon");
        let answer = deliver(world, &account, &job, &request, None).await;
        assert_eq!(answer["reported"], "failed", "{answer}");
        let calls = reports(&recorder, &job);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].target, FAILURE);
        assert_eq!(
            calls[0].body["failureDetails"]["type"],
            "ConfigurationError"
        );
        assert!(
            calls[0].body["failureDetails"]["message"]
                .as_str()
                .unwrap()
                .contains("`bake`"),
            "{:?}",
            calls[0]
        );
        let function_key = refused.function_key(&world.clients).await.unwrap();
        let store = world.glidepath.store(&world.clients);
        use glidepath_aws::ports::RolloutStore;
        assert!(
            store
                .rollouts_for_alias(&function_key, glidepath_e2e::target::ALIAS)
                .await
                .unwrap()
                .is_empty()
        );
        refused.expect_alias(&world.clients, "1", None).await;
    });
}
