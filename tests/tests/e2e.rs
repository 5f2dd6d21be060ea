//! End-to-end scenarios against the orchestrator deployed from `infra/template.yaml` into the
//! local AWS emulator. They need the emulator and the function binaries, which
//! `scripts/test` provides; a plain `cargo test` skips them (`#[ignore]`).
//!
//! Each scenario has its own target function, so they run in parallel.

use anyhow::Context;
use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, Environment, FunctionCode, Runtime};
use glidepath_aws::adapters::{CallCounter, LambdaRouter};
use glidepath_aws::contract;
use glidepath_aws::ports::RolloutStore;
use glidepath_core::Weight;
use glidepath_core::{Rollout, Status};
use glidepath_e2e::clients::Clients;
use glidepath_e2e::recorder::Recorder;
use glidepath_e2e::stack::{Orchestrator, bootstrap_zip, deploy};
use glidepath_e2e::target::{ALIAS, Target};
use glidepath_e2e::{run, wait_for};
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

const DEADLINE: Duration = Duration::from_secs(120);

#[path = "e2e/alarm_actions.rs"]
mod alarm_actions;
#[path = "e2e/hooks.rs"]
mod hooks;
#[path = "e2e/pipeline.rs"]
mod pipeline;
#[path = "e2e/publish.rs"]
mod publish;
#[path = "e2e/releases.rs"]
mod releases;
#[path = "e2e/waves.rs"]
mod waves;

struct World {
    clients: Clients,
    glidepath: Orchestrator,
    run_id: u64,
    notifications: String,
}

/// The stack, deployed once for the whole run.
async fn world() -> &'static World {
    static WORLD: OnceCell<World> = OnceCell::const_new();
    WORLD
        .get_or_init(|| async {
            let run_id = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() % 1_000_000)
                .unwrap_or(0);
            let clients = Clients::new().await;
            let started = Instant::now();
            let glidepath = deploy(&clients, &format!("gp{run_id}"))
                .await
                .expect("the orchestrator deploys");
            eprintln!(
                "deployed stack {} in {:.1}s",
                glidepath.stack,
                started.elapsed().as_secs_f64()
            );
            let notifications = notification_queue(&clients, run_id)
                .await
                .expect("a notification queue");
            World {
                clients,
                glidepath,
                run_id,
                notifications,
            }
        })
        .await
}

/// An SQS queue receiving every "Glidepath Rollout State Change" event.
async fn notification_queue(clients: &Clients, run_id: u64) -> anyhow::Result<String> {
    let pattern =
        json!({"source": ["glidepath"], "detail-type": ["Glidepath Rollout State Change"]});
    queue_of_events(clients, &format!("gp{run_id}-notifications"), &pattern).await
}

/// An SQS queue `name`, receiving the default bus's events that match `pattern` (through a
/// rule of the same name).
async fn queue_of_events(clients: &Clients, name: &str, pattern: &Value) -> anyhow::Result<String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let url = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await?
        .queue_url
        .context("queue url")?;
    let attributes = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .context("queue arn")?;
    clients
        .events
        .put_rule()
        .name(name)
        .event_pattern(pattern.to_string())
        .send()
        .await?;
    clients
        .events
        .put_targets()
        .rule(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()?,
        )
        .send()
        .await?;
    Ok(url)
}

impl World {
    async fn target(&self, name: &str) -> Target {
        Target::create(&self.clients, &format!("{name}-{}", self.run_id))
            .await
            .expect("the target function is created")
    }

    async fn start(&self, request: &Value) -> Result<Value, (String, String)> {
        self.clients
            .invoke(&self.glidepath.start, request)
            .await
            .expect("start is invoked")
    }

    /// Starts a rollout that must be accepted, and returns its id.
    async fn started(&self, request: &Value) -> String {
        let answer = self
            .start(request)
            .await
            .unwrap_or_else(|e| panic!("start refused {request}: {e:?}"));
        id_of(&answer)
    }

    async fn step(&self, input: Value) -> Result<Value, (String, String)> {
        self.clients
            .invoke(&self.glidepath.step, &input)
            .await
            .expect("step is invoked")
    }

    async fn rollout(&self, id: &str) -> Rollout {
        self.glidepath
            .store(&self.clients)
            .load(id)
            .await
            .expect("the table answers")
            .expect("the rollout exists")
    }

    /// A release's members as stored, from `start`'s answer about it.
    async fn members_of(&self, answer: &Value) -> Vec<Rollout> {
        let mut members = Vec::new();
        for member in answer["members"].as_array().expect("members") {
            members.push(
                self.rollout(member["rolloutId"].as_str().expect("an id"))
                    .await,
            );
        }
        members
    }

    async fn wait_status(&self, id: &str, status: Status) -> Rollout {
        wait_for(
            &format!("rollout {id} to be {status}"),
            DEADLINE,
            || async {
                let rollout = self.rollout(id).await;
                Ok((rollout.status == status).then_some(rollout))
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn history(&self, id: &str) -> Vec<(String, Status, Weight)> {
        self.glidepath
            .store(&self.clients)
            .history(id)
            .await
            .expect("the history is readable")
            .into_iter()
            .map(|h| (h.event, h.status, h.weight))
            .collect()
    }

    /// Stops Scheduler delivering the rollout's tick for `seq`, so the test delivers it.
    async fn take_over_tick(&self, id: &str, seq: u64) {
        self.clients
            .scheduler
            .delete_schedule()
            .name(format!("gp-{id}-{seq}"))
            .group_name(&self.glidepath.schedule_group)
            .send()
            .await
            .expect("the tick's schedule exists");
    }
}

/// What EventBridge delivers to `check-alarms` when `alarm` goes to `ALARM` now (the emulator
/// emits no such event, and refuses `aws.*` sources in PutEvents, so the tests deliver it):
/// the documented sample, stamped with now and this account, delivered to `check-alarms`.
/// Returns its answer.
async fn deliver_alarm(world: &World, alarm: &str) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "../fixtures/eventbridge-alarm-state-change.json"
    ))
    .expect("the fixture is JSON");
    event["detail"]["alarmName"] = json!(alarm);
    // A real delivery is stamped with the change's time; the sample's is older than the
    // rollout, and a change older than a rollout does not concern it.
    let now = format!(
        "{}.000+0000",
        glidepath_aws::clock::utc_datetime(glidepath_aws::clock::now())
    );
    event["detail"]["state"]["timestamp"] = json!(now);
    // And with this account: check-alarms refuses another account's alarms.
    let arn = world
        .clients
        .lambda
        .get_function_configuration()
        .function_name(&world.glidepath.check_alarms)
        .send()
        .await
        .expect("check-alarms exists")
        .function_arn
        .unwrap_or_default();
    if let Some(account) = arn.split(':').nth(4) {
        event["account"] = json!(account);
    }
    world
        .clients
        .invoke(&world.glidepath.check_alarms, &event)
        .await
        .expect("check-alarms is invoked")
        .expect("check-alarms takes the event")
}

fn id_of(answer: &Value) -> String {
    answer["rolloutId"]
        .as_str()
        .expect("an answer with a rolloutId")
        .to_string()
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e01_canary_with_hooks_and_bake_succeeds() {
    run(async {
        let world = world().await;
        let target = world.target("canary").await;
        let mut request = target.request(
            "3",
            json!({"type": "canary", "percent": 10, "interval": "3s"}),
        );
        request["bake"] = json!("3s");
        request["hooks"] = json!({"preTraffic": world.glidepath.pre_traffic_hook, "postTraffic": world.glidepath.post_traffic_hook});
        // Through the EventBridge rule, as a pipeline or another account would ask.
        let sent = world
            .clients
            .events
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .source("glidepath")
                    .detail_type("Rollout Requested")
                    .event_bus_name(&world.glidepath.request_bus)
                    .detail(request.to_string())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(sent.failed_entry_count(), 0);
        let store = world.glidepath.store(&world.clients);
        let function_key = target.function_key(&world.clients).await.unwrap();
        let id = wait_for("the rollout to be created", DEADLINE, || async {
            Ok(store
                .rollouts_for_alias(&function_key, ALIAS)
                .await?
                .first()
                .map(|r| r.id.clone()))
        })
        .await
        .unwrap();
        let started = Instant::now();
        let done = world.wait_status(&id, Status::Succeeded).await;
        eprintln!(
            "canary rollout {id} succeeded in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(done.weight, Weight::percent(100));
        // all on the new version, no routing.
        target.expect_alias(&world.clients, "3", None).await;
        let history = world.history(&id).await;
        let expected: Vec<(String, Status, Weight)> = [
            ("create", Status::PreTraffic, 0),
            ("start", Status::PreTraffic, 0),
            ("hook-completed", Status::Shifting, 10),
            ("health", Status::Shifting, 100),
            ("health", Status::Baking, 100),
            ("health", Status::PostTraffic, 100),
            ("hook-completed", Status::Succeeded, 100),
        ]
        .into_iter()
        .map(|(e, s, w)| (e.to_string(), s, Weight::percent(w)))
        .collect();
        assert_eq!(history, expected);

        // Every transition was published.
        let mut seen: Vec<String> = Vec::new();
        let clock = Instant::now();
        while !seen.iter().any(|s| s == "Succeeded") {
            assert!(
                clock.elapsed() < DEADLINE,
                "no Succeeded notification; saw {seen:?}"
            );
            let messages = world
                .clients
                .sqs
                .receive_message()
                .queue_url(&world.notifications)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            for message in messages.messages() {
                let body: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
                if body["detail"]["rolloutId"] == json!(id) {
                    seen.push(
                        body["detail"]["status"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
        }
        for status in [
            "PreTraffic",
            "Shifting",
            "Baking",
            "PostTraffic",
            "Succeeded",
        ] {
            assert!(
                seen.iter().any(|s| s == status),
                "no {status} notification in {seen:?}"
            );
        }
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e02_an_alarm_rolls_back_at_the_next_tick() {
    run(async {
        let world = world().await;
        let target = world.target("alarm-tick").await;
        let started = world
            .start(&target.request(
                "2",
                json!({"type": "linear", "percent": 10, "interval": "3s"}),
            ))
            .await
            .unwrap();
        let id = id_of(&started);
        assert_eq!(started["weight"], 10);
        target
            .set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let rolled_back = world.wait_status(&id, Status::RolledBack).await;
        assert_eq!(rolled_back.weight, Weight::percent(0));
        assert!(
            rolled_back
                .reason
                .unwrap_or_default()
                .contains(&target.alarm)
        );
        target.expect_alias(&world.clients, "1", None).await;
        let history = world.history(&id).await;
        assert!(
            history
                .iter()
                .all(|(_, _, weight)| *weight <= Weight::percent(10)),
            "no weight above 10 %: {history:?}"
        );
        assert_eq!(history.last().map(|h| h.0.as_str()), Some("alias-applied"));
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e03_an_alarm_event_rolls_back_without_waiting_for_a_tick() {
    run(async {
        let world = world().await;
        let target = world.target("alarm-event").await;
        let id = world
            .started(&target.request("2", json!("Canary10Percent30Minutes")))
            .await;
        target
            .set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let clock = Instant::now();
        let outcome = deliver_alarm(world, &target.alarm).await;
        assert_eq!(outcome["rolledBack"], json!([id]));
        // It reports what that cost: one lookup of the alarm's watches, and reads of the
        // rollout it guards.
        assert_eq!(outcome["awsCalls"]["dynamodb:Query"], json!(1), "{outcome}");
        assert!(
            outcome["awsCalls"]["dynamodb:GetItem"].as_u64() >= Some(1),
            "{outcome}"
        );
        world.wait_status(&id, Status::RolledBack).await;
        let seconds = clock.elapsed().as_secs_f64();
        eprintln!("alarm event to RolledBack: {seconds:.2}s (the next tick was 30 minutes away)");
        assert!(seconds < 60.0);
        target.expect_alias(&world.clients, "1", None).await;
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e04_a_failing_pre_traffic_hook_keeps_all_traffic_off_the_bad_version() {
    run(async {
        let world = world().await;
        let target = world.target("pre-hook").await;
        let mut request = target.request("2", json!("Linear10PercentEvery1Minute"));
        request["hooks"] = json!({"preTraffic": world.glidepath.pre_traffic_hook});
        let answer = world.start(&request).await.unwrap();
        assert_eq!(answer["status"], "RolledBack");
        let rollout = world.rollout(&id_of(&answer)).await;
        assert!(
            rollout
                .reason
                .unwrap_or_default()
                .contains("pre-traffic hook failed")
        );
        let history = world.history(&rollout.id).await;
        assert!(
            history.iter().all(|(_, _, weight)| weight.is_zero()),
            "traffic moved: {history:?}"
        );
        target.expect_alias(&world.clients, "1", None).await;
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e05_repeated_and_late_ticks_change_nothing() {
    run(async {
        let world = world().await;
        let target = world.target("ticks").await;
        let strategy = json!({"type": "steps", "steps": [{"weight": 10, "bake": "2s"}, {"weight": 20, "bake": "10m"}]});
        let id = world.started(&target.request("3", strategy)).await;
        world.take_over_tick(&id, 1).await;
        tokio::time::sleep(Duration::from_secs(3)).await;

        let first = world
            .step(json!({"rolloutId": id, "seq": 1}))
            .await
            .unwrap();
        assert_eq!(
            (first["weight"].as_u64(), first["seq"].as_u64()),
            (Some(20), Some(2))
        );
        eprintln!(
            "AWS calls of a tick that shifts traffic: {}",
            first["awsCalls"]
        );
        let repeat = world
            .step(json!({"rolloutId": id, "seq": 1}))
            .await
            .unwrap();
        assert_eq!(
            (repeat["weight"].as_u64(), repeat["seq"].as_u64()),
            (Some(20), Some(2))
        );
        eprintln!("AWS calls of a repeated tick: {}", repeat["awsCalls"]);
        let early = world
            .step(json!({"rolloutId": id, "seq": 2}))
            .await
            .unwrap();
        assert_eq!(
            early["seq"].as_u64(),
            Some(2),
            "a tick before it is due changes nothing"
        );
        target
            .expect_alias(&world.clients, "1", Some(("3", 0.2)))
            .await;
        // The shift tick's cost, counted by the adapters: one write persists the step with
        // its effects owed, one confirms them (ARCHITECTURE.md, "One authority for the alias").
        let calls = first["awsCalls"].as_object().unwrap();
        for (operation, count) in [
            ("cloudwatch:DescribeAlarms", 1),
            ("lambda:UpdateAlias", 1),
            ("dynamodb:TransactWriteItems", 2),
            ("scheduler:CreateSchedule", 1),
        ] {
            assert_eq!(
                calls.get(operation).and_then(Value::as_u64),
                Some(count),
                "{operation} in {calls:?}"
            );
        }
        world
            .clients
            .invoke(
                &world.glidepath.rollback,
                &json!({"rolloutId": id, "command": "abort", "reason": "test done"}),
            )
            .await
            .unwrap()
            .unwrap();
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e06_one_rollout_per_alias() {
    run(async {
        let world = world().await;
        let target = world.target("lock").await;
        let first = world
            .started(&target.request("3", json!("Canary10Percent30Minutes")))
            .await;
        let (kind, message) = world
            .start(&target.request("2", json!("AllAtOnce")))
            .await
            .unwrap_err();
        assert_eq!(kind, "Conflict");
        assert!(message.contains(&first), "{message}");
        let rollout = world.rollout(&first).await;
        assert_eq!(
            (rollout.status, rollout.weight),
            (Status::Shifting, Weight::percent(10))
        );
        target
            .expect_alias(&world.clients, "1", Some(("3", 0.1)))
            .await;
        // The watchdog's query of the `active` index finds nothing overdue here.
        let sweep = world
            .clients
            .invoke(&world.glidepath.watchdog, &json!({}))
            .await
            .unwrap()
            .unwrap();
        assert!(
            !sweep["redriven"]
                .as_array()
                .unwrap()
                .contains(&json!(first)),
            "{sweep}"
        );
        // It reports what that cost: the query's pages are its `dynamodb:Query` count.
        assert!(
            sweep["awsCalls"]["dynamodb:Query"].as_u64() >= Some(1),
            "{sweep}"
        );
        let store = world.glidepath.store(&world.clients);
        let function_key = target.function_key(&world.clients).await.unwrap();
        assert_eq!(
            store
                .rollouts_for_alias(&function_key, ALIAS)
                .await
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e07_operator_pause_resume_promote_and_abort() {
    run(async {
        let world = world().await;
        let target = world.target("operator").await;
        let mut request = target.request("3", json!("Linear10PercentEvery10Minutes"));
        request["hooks"] = json!({"postTraffic": world.glidepath.post_traffic_hook});
        let id = world.started(&request).await;
        let paused = world
            .step(json!({"rolloutId": id, "command": "pause"}))
            .await
            .unwrap();
        assert_eq!(paused["status"], "Paused");
        // Authorising the command and applying it share one read of the rollout.
        assert_eq!(paused["awsCalls"]["dynamodb:GetItem"], 1, "{paused}");
        let (kind, _) = world
            .step(json!({"rolloutId": id, "command": "pause"}))
            .await
            .unwrap_err();
        assert_eq!(kind, "Conflict");
        assert_eq!(
            world
                .step(json!({"rolloutId": id, "command": "resume"}))
                .await
                .unwrap()["status"],
            "Shifting"
        );
        assert_eq!(
            world
                .step(json!({"rolloutId": id, "command": "promote"}))
                .await
                .unwrap()["status"],
            "PostTraffic"
        );
        world.wait_status(&id, Status::Succeeded).await;
        target.expect_alias(&world.clients, "3", None).await;

        let other = world.target("abort").await;
        let id = world
            .started(&other.request("2", json!("Linear10PercentEvery10Minutes")))
            .await;
        let abort = json!({"rolloutId": id, "command": "abort", "reason": "error budget"});
        let aborted = world
            .clients
            .invoke(&world.glidepath.rollback, &abort)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(aborted["status"], "RolledBack");
        assert_eq!(aborted["reason"], "aborted by operator: error budget");
        other.expect_alias(&world.clients, "1", None).await;
        let again = world
            .clients
            .invoke(&world.glidepath.rollback, &abort)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again["status"], "RolledBack", "aborting twice is harmless");
    });
}

/// Issue 8, end to end: an operator command from a principal the deployed policy denies is
/// refused (`403` through the URL form of the request, nothing changed); an allowed one is
/// carried out and its actor is in the history DynamoDB keeps. The emulator's function URL
/// front end checks the SigV4 signature but does not fill in the caller
/// (`requestContext.authorizer.iam`), so the URL-shaped request is invoked directly here:
/// the same path through the function as a real URL request.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e11_operators_are_authorised_and_recorded() {
    run(async {
        let world = world().await;
        let target = world.target("authorised").await;
        let id = world
            .started(&target.request("3", json!("Linear10PercentEvery10Minutes")))
            .await;
        let pause = json!({"rolloutId": id, "command": "pause"});
        let intruder = "arn:aws:sts::000000000000:assumed-role/intruder/mallory";
        let refused = world
            .clients
            .invoke(
                &world.glidepath.step,
                &glidepath_aws::fakes::function_url_request(intruder, &pause),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(refused["statusCode"], 403, "{refused}");
        let body: Value = serde_json::from_str(refused["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["errorType"], "Forbidden");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("rule `no-intruders`"),
            "{body}"
        );
        let store = world.glidepath.store(&world.clients);
        let before = store.load(&id).await.unwrap().unwrap();
        assert_eq!(before.status, Status::Shifting, "nothing changed");

        let operator = "arn:aws:sts::000000000000:assumed-role/ops/alice";
        let paused = world
            .clients
            .invoke(
                &world.glidepath.step,
                &glidepath_aws::fakes::function_url_request(operator, &pause),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paused["statusCode"], 200, "{paused}");
        let history = store.history(&id).await.unwrap();
        let entry = history.iter().find(|h| h.event == "pause").unwrap();
        assert_eq!(entry.actor, Some(glidepath_core::Actor::iam(operator)));
        let start = history.iter().find(|h| h.event == "start").unwrap();
        assert_eq!(start.actor, Some(glidepath_core::Actor::direct_invoke()));
        let rollout = store.load(&id).await.unwrap().unwrap();
        assert_eq!(rollout.spec.authorized_by.as_deref(), Some("e2e"));
        world
            .clients
            .invoke(
                &world.glidepath.rollback,
                &json!({"rolloutId": id, "command": "abort"}),
            )
            .await
            .unwrap()
            .unwrap();
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e08_invalid_requests_leave_nothing_behind() {
    run(async {
        let world = world().await;
        let target = world.target("invalid").await;
        let revision_before = target.revision(&world.clients).await.unwrap();
        let base = target.request("2", json!("Canary10Percent5Minutes"));
        let with = |key: &str, value: Value| {
            let mut request = base.clone();
            request[key] = value;
            request
        };
        for (request, expected) in [
            (
                with("targetVersion", json!("1")),
                "already points at version 1",
            ),
            (with("targetVersion", json!("$LATEST")), "$LATEST"),
            (with("alias", json!("nope")), "no alias nope"),
            (
                with("alarms", json!(["no-such-alarm"])),
                "no CloudWatch alarm named no-such-alarm",
            ),
            (
                with("strategy", json!("Canary10Percent7Minutes")),
                "unknown strategy",
            ),
            (
                with(
                    "strategy",
                    json!({"type": "linear", "percent": 0, "interval": "1m"}),
                ),
                "`percent`",
            ),
        ] {
            let (kind, message) = world.start(&request).await.unwrap_err();
            assert_eq!(kind, "InvalidRequest", "{request}: {message}");
            assert!(message.contains(expected), "{request}: {message}");
        }
        let store = world.glidepath.store(&world.clients);
        let function_key = target.function_key(&world.clients).await.unwrap();
        assert!(
            store
                .rollouts_for_alias(&function_key, ALIAS)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .active_rollout(&target.function, ALIAS)
                .await
                .unwrap()
                .is_none()
        );
        let revision_after = target.revision(&world.clients).await.unwrap();
        assert_eq!(revision_before, revision_after, "the alias was not touched");
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e09_drift_pauses_the_rollout() {
    run(async {
        let world = world().await;
        let target = world.target("drift").await;
        let strategy = json!({"type": "steps", "steps": [{"weight": 10, "bake": "2s"}, {"weight": 50, "bake": "10m"}]});
        let id = world.started(&target.request("3", strategy)).await;
        world.take_over_tick(&id, 1).await;
        // Someone else moves the alias by hand.
        world
            .clients
            .lambda
            .update_alias()
            .function_name(&target.function)
            .name(ALIAS)
            .function_version("1")
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .additional_version_weights("2", 0.3)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let paused = world
            .step(json!({"rolloutId": id, "seq": 1}))
            .await
            .unwrap();
        assert_eq!(paused["status"], "Paused");
        assert!(
            paused["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("changed outside Glidepath"),
            "{paused}"
        );
        // their change stands.
        target
            .expect_alias(&world.clients, "1", Some(("2", 0.3)))
            .await;
        let aborted = world
            .clients
            .invoke(
                &world.glidepath.rollback,
                &json!({"rolloutId": id, "command": "abort"}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(aborted["status"], "RolledBack");
        // abort restores the safe state.
        target.expect_alias(&world.clients, "1", None).await;
    });
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e10_codedeploy_hooks_report_every_outcome() {
    run(async {
        let world = world().await;
        let target = world.target("codedeploy").await;
        let recorder = Recorder::start().await.unwrap();
        let event: Value =
            serde_json::from_str(include_str!("../fixtures/codedeploy-lifecycle-hook.json"))
                .unwrap();
        let hook = format!("cd-hook-{}", world.run_id);
        let environment = Environment::builder()
            .variables(
                "GLIDEPATH_SMOKE_TESTS",
                r#"[{"name":"ping","event":{"ping":true},"expect":{"ok":true}}]"#,
            )
            .variables("AWS_ENDPOINT_URL_CODEDEPLOY", &recorder.url)
            .build();
        world
            .clients
            .lambda
            .create_function()
            .function_name(&hook)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(glidepath_e2e::target::ROLE)
            .timeout(60)
            .code(
                FunctionCode::builder()
                    .zip_file(bootstrap_zip("pre-traffic-hook").unwrap().into())
                    .build(),
            )
            .environment(environment)
            .send()
            .await
            .unwrap();
        // One hook, configured with nothing about versions: each deployment's AppSpec
        // (GetDeployment, answered by the recorder) names the version it tests.
        for (version, expected) in [("2", "Failed"), ("3", "Succeeded")] {
            let appspec = json!({"version": 0.0, "Resources": [{"target": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Name": target.function, "Alias": "live",
                    "CurrentVersion": "1", "TargetVersion": version}}}]});
            recorder.answer(
                "CodeDeploy_20141006.GetDeployment",
                json!({"deploymentInfo": {"deploymentId": event["DeploymentId"],
                    "revision": {"revisionType": "AppSpecContent",
                        "appSpecContent": {"content": appspec.to_string()}}}}),
            );
            let answer = world.clients.invoke(&hook, &event).await.unwrap().unwrap();
            assert_eq!(answer["status"], expected, "{answer}");
            let calls = recorder.calls();
            let report = calls.last().expect("CodeDeploy was called");
            assert_eq!(
                report.target,
                "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"
            );
            assert_eq!(report.body["deploymentId"], event["DeploymentId"]);
            assert_eq!(
                report.body["lifecycleEventHookExecutionId"],
                event["LifecycleEventHookExecutionId"]
            );
            assert_eq!(report.body["status"], expected);
            let read = &calls[calls.len() - 2];
            assert_eq!(read.target, "CodeDeploy_20141006.GetDeployment");
            assert_eq!(read.body["deploymentId"], event["DeploymentId"]);
        }
    });
}

/// The port contract tests (`glidepath_aws::contract`) against the DynamoDB and Lambda
/// adapters on the emulator: the same bodies the in-memory fakes pass
/// (`shared/aws/tests/contract.rs`).
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn port_contracts_hold_for_the_aws_adapters() {
    run(async {
        let world = world().await;
        let store = world.glidepath.store(&world.clients);
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let prefix = format!("contract{}", world.run_id);
        contract::store_records_and_locks(&store, &format!("{prefix}r"), at).await;
        contract::store_overdue(&store, &format!("{prefix}o"), at).await;
        contract::store_releases(&store, &format!("{prefix}t"), at).await;
        contract::store_idempotency(&store, &format!("{prefix}i"), at).await;
        // Created a year ahead, so they are the table's newest whatever else runs meanwhile.
        contract::store_recent(&store, &format!("{prefix}n"), at + 365 * 86_400).await;
        let target = world.target("contract").await;
        let router = LambdaRouter::new(
            glidepath_aws::adapters::members::LambdaClients::new(&world.clients.sdk, None, None),
            CallCounter::default(),
        );
        contract::alias_fencing(&router, &target.function, "1", "3").await;
        let arn = target.function_key(&world.clients).await.unwrap();
        let tags: std::collections::BTreeMap<String, String> = [
            ("glidepath:alias".to_string(), "live".to_string()),
            ("team".to_string(), "contract".to_string()),
        ]
        .into();
        world
            .clients
            .lambda
            .tag_resource()
            .resource(&arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .unwrap();
        contract::function_tags(&router, &target.function, &arn, &tags).await;
        contract::latest_role(&router, &target.function, "1").await;
        let hooks = glidepath_aws::adapters::LambdaHooks::new(
            world.clients.lambda.clone(),
            CallCounter::default(),
            world.glidepath.step.clone(),
        );
        contract::notice_to_a_missing_hook(&hooks, &format!("{prefix}-no-such-hook")).await;
    })
}

/// Runs the `glidepath` binary against the deployed stack; its exit code and stdout.
/// Runs the `glidepath` binary against the stack by Lambda `Invoke` (the emulator passes no
/// caller identity through function URLs, so the scenarios that drive rollouts use invoke):
/// its exit code and stdout.
async fn glidepath(world: &World, args: &[&str]) -> (i32, String) {
    let (code, stdout, _) = glidepath_via(world, "invoke", args).await;
    (code, stdout)
}

/// Runs the `glidepath` binary with `--via via`: its exit code, stdout and stderr.
async fn glidepath_via(world: &World, via: &str, args: &[&str]) -> (i32, String, String) {
    let binary = glidepath_e2e::stack::binary_dir()
        .expect("the build's directory")
        .join("glidepath");
    let mut command = std::process::Command::new(binary);
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", &world.clients.endpoint)
        .env("AWS_REGION", glidepath_e2e::clients::REGION)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env("GLIDEPATH_VIA", via)
        .env("GLIDEPATH_STACK", &world.glidepath.stack);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command ran")
        .expect("glidepath is built (scripts/test builds it)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !stderr.is_empty() {
        eprintln!("glidepath {args:?}: {stderr}");
    }
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    )
}

/// Issue 9 (part): a whole good and a whole bad rollout driven only through the CLI: `start
/// --wait` exits 0 when the rollout succeeds, `watch` exits 1 when it rolls back, `--json`
/// prints one transition a line, and `status`, `history` and `list` read the table.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e12_the_cli_drives_a_good_and_a_bad_rollout() {
    run(async {
        let world = world().await;
        let good = world.target("cli-good").await;
        let (code, out) = glidepath(
            world,
            &[
                "start",
                "--function",
                &good.function,
                "--alias",
                ALIAS,
                "--version",
                "3",
                "--strategy",
                r#"{"type":"linear","percent":50,"interval":"2s"}"#,
                "--alarm",
                &good.alarm,
                "--wait",
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}");
        let lines: Vec<Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON object a line"))
            .collect();
        assert_eq!(
            lines.first().map(|l| l["event"].clone()),
            Some(json!("create"))
        );
        assert_eq!(
            lines.last().map(|l| l["status"].clone()),
            Some(json!("Succeeded"))
        );
        good.expect_alias(&world.clients, "3", None).await;

        let bad = world.target("cli-bad").await;
        let (code, out) = glidepath(
            world,
            &[
                "start",
                "--function",
                &bad.function,
                "--alias",
                ALIAS,
                "--version",
                "2",
                "--strategy",
                r#"{"type":"linear","percent":10,"interval":"3s"}"#,
                "--alarm",
                &bad.alarm,
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}");
        let started: Value = serde_json::from_str(&out).unwrap();
        let id = started["rolloutId"].as_str().unwrap().to_string();
        bad.set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let (code, out) = glidepath(world, &["watch", &id, "--interval", "1s"]).await;
        assert_eq!(code, 1, "a rolled-back rollout exits 1: {out}");
        assert!(out.contains("ended RolledBack"), "{out}");
        bad.expect_alias(&world.clients, "1", None).await;

        let (code, out) = glidepath(world, &["status", &id, "--json"]).await;
        assert_eq!(code, 0);
        let status: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(status["status"], "RolledBack");
        assert_eq!(status["requestedBy"]["principal"], "lambda:invoke");
        assert_eq!(status["alarmStates"][&bad.alarm], "ALARM");
        let chart = std::env::temp_dir().join(format!("glidepath-e12-{}.svg", world.run_id));
        let chart_arg = chart.to_string_lossy().into_owned();
        let (code, out) = glidepath(world, &["history", &id, "--svg", &chart_arg]).await;
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("alias-applied") && out.contains("RolledBack"),
            "{out}"
        );
        let svg = std::fs::read_to_string(&chart).expect("history --svg wrote its file");
        let document = roxmltree::Document::parse(&svg).expect("a well-formed SVG document");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = document
            .descendants()
            .filter_map(|node| node.text())
            .collect();
        assert!(
            texts.iter().any(|t| t.contains(&id))
                && texts.iter().any(|t| t.contains("rolled back")),
            "the caption names the rollout and the legend its rollback: {texts:?}"
        );
        if std::env::var_os("GLIDEPATH_KEEP_CHART").is_none() {
            let _ = std::fs::remove_file(&chart);
        }
        // The alias's last rollout by name, and the whole table's list.
        let (code, out) = glidepath(
            world,
            &[
                "status",
                "--function",
                &bad.function,
                "--alias",
                ALIAS,
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["rolloutId"],
            json!(id)
        );
        let (code, out) = glidepath(world, &["list", "--limit", "1000", "--json"]).await;
        assert_eq!(code, 0, "{out}");
        let everything: Value = serde_json::from_str(&out).unwrap();
        let listed_ids: Vec<&str> = everything
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["rolloutId"].as_str())
            .collect();
        assert!(listed_ids.contains(&id.as_str()), "{listed_ids:?}");
        let (code, out) =
            glidepath(world, &["list", "--active", "--limit", "1000", "--json"]).await;
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains(&id), "a rolled-back rollout is not active");
        let (code, out) = glidepath(
            world,
            &[
                "list",
                "--function",
                &bad.function,
                "--alias",
                ALIAS,
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0);
        let listed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(listed[0]["rolloutId"], json!(id));

        // Bad input, a command that does not apply, and an unknown stack each get their code.
        let (code, _) = glidepath(
            world,
            &[
                "start",
                "--function",
                &bad.function,
                "--alias",
                ALIAS,
                "--version",
                "x",
                "--strategy",
                "AllAtOnce",
            ],
        )
        .await;
        assert_eq!(code, 2, "InvalidRequest");
        let (code, _) = glidepath(world, &["pause", &id]).await;
        assert_eq!(code, 4, "Conflict: a rolled-back rollout cannot be paused");
        let (code, _) = glidepath(world, &["--stack", "no-such-stack", "status", &id]).await;
        assert_eq!(code, 3, "a missing stack");
    });
}

/// Issue 9 (part): `versions prune` keeps the versions an alias routes to, its weighted
/// additional version included, and deletes the rest only with `--yes`.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e13_versions_prune_keeps_what_an_alias_uses() {
    run(async {
        let world = world().await;
        let target = world.target("cli-prune").await;
        world
            .clients
            .lambda
            .update_alias()
            .function_name(&target.function)
            .name(ALIAS)
            .function_version("1")
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .additional_version_weights("2", 0.2)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let prune = [
            "versions",
            "prune",
            "--function",
            &target.function,
            "--keep",
            "0",
        ];
        // An unfinished rollout on a second alias, held at a gate, needs version 3.
        world
            .clients
            .lambda
            .create_alias()
            .function_name(&target.function)
            .name("beta")
            .function_version("1")
            .send()
            .await
            .unwrap();
        let (code, out) = glidepath(
            world,
            &[
                "start",
                "--function",
                &target.function,
                "--alias",
                "beta",
                "--version",
                "3",
                "--strategy",
                r#"{"type":"steps","steps":[{"weight":10},{"pause":true}]}"#,
                "--alarm",
                &target.alarm,
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}");
        let held = serde_json::from_str::<Value>(&out).unwrap()["rolloutId"]
            .as_str()
            .unwrap()
            .to_string();
        let (code, out) = glidepath(world, &prune).await;
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(":3  kept: ")
                && out.contains(&format!("the target version of unfinished rollout {held}")),
            "{out}"
        );
        let (code, out) = glidepath(world, &["abort", &held, "--reason", "e13"]).await;
        assert_eq!(code, 0, "{out}");
        let (code, out) = glidepath(world, &["watch", &held, "--interval", "1s"]).await;
        assert_eq!(code, 1, "aborted: {out}");
        let (code, out) = glidepath(world, &prune).await;
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(":3  would be deleted"), "{out}");
        assert!(
            out.contains(":2  kept: alias live sends it a weighted share"),
            "{out}"
        );
        assert!(out.contains(":1  kept: alias live routes to it"), "{out}");
        let versions = |clients: &Clients| {
            let lambda = clients.lambda.clone();
            let function = target.function.clone();
            async move {
                let listed = lambda
                    .list_versions_by_function()
                    .function_name(function)
                    .send()
                    .await
                    .unwrap();
                let mut versions: Vec<String> = listed
                    .versions()
                    .iter()
                    .filter_map(|v| v.version.clone())
                    .collect();
                versions.sort();
                versions
            }
        };
        assert_eq!(
            versions(&world.clients).await,
            ["$LATEST", "1", "2", "3"],
            "dry run"
        );
        let mut with_yes = prune.to_vec();
        with_yes.push("--yes");
        let (code, out) = glidepath(world, &with_yes).await;
        assert_eq!(code, 0, "{out}");
        assert_eq!(versions(&world.clients).await, ["$LATEST", "1", "2"]);
    });
}

/// Issue 10 (part): canary analysis on the emulator. The emulator's Lambda records only the
/// `FunctionName` dimension, so the scenario publishes the window's per-version datapoints
/// itself (`Target::publish_version_metrics`), and the deployed `step` reads them back with
/// `GetMetricData` at the end of the 10 % step: a version twice as bad as the old one is
/// rolled back with the numbers; one as good as the old one finishes.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e14_canary_analysis_rolls_back_a_worse_version_and_passes_an_equal_one() {
    run(async {
        let world = world().await;
        let worse = world.target("analysis-worse").await;
        let equal = world.target("analysis-equal").await;
        let request = |target: &Target| {
            let mut request = target.request(
                "3",
                json!({"type": "steps", "steps": [{"weight": 10, "bake": "15s"}]}),
            );
            request["analysis"] = json!({"minInvocations": 100});
            request
        };
        let worse_id = world.started(&request(&worse)).await;
        let equal_id = world.started(&request(&equal)).await;
        // The 10 % window's traffic: 5 % errors on the old version; 10 % (twice as bad) and
        // 5 % (the same) on the new one.
        for (target, new_errors) in [(&worse, 50), (&equal, 25)] {
            target
                .publish_version_metrics(&world.clients, "1", 2_000, 100)
                .await
                .unwrap();
            target
                .publish_version_metrics(&world.clients, "3", 500, new_errors)
                .await
                .unwrap();
        }
        let rolled_back = world.wait_status(&worse_id, Status::RolledBack).await;
        assert_eq!(
            rolled_back.reason.as_deref(),
            Some(
                "canary analysis: v3: 50 errors / 500 (10.0 %) vs v1: 100 / 2000 (5.0 %), p = 5.2e-5"
            )
        );
        worse.expect_alias(&world.clients, "1", None).await;
        let succeeded = world.wait_status(&equal_id, Status::Succeeded).await;
        assert_eq!(succeeded.weight, Weight::percent(100));
        equal.expect_alias(&world.clients, "3", None).await;
    });
}

/// Issue 10 (part): no traffic on the new version is no evidence: the rollout holds its
/// weight, checking every minute, and rolls back when `holdFor` runs out.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e15_canary_analysis_without_data_holds_then_rolls_back() {
    run(async {
        let world = world().await;
        let target = world.target("analysis-nodata").await;
        let mut request = target.request(
            "3",
            json!({"type": "steps", "steps": [{"weight": 10, "bake": "5s"}]}),
        );
        request["analysis"] = json!({"holdFor": "1m"});
        let id = world.started(&request).await;
        let held = wait_for("the rollout to hold for evidence", DEADLINE, || async {
            let rollout = world.rollout(&id).await;
            Ok(rollout
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("holding at 10% for evidence: v3: 0 invocations"))
                .then_some(rollout))
        })
        .await
        .unwrap();
        assert_eq!(
            (held.status, held.weight),
            (Status::Shifting, Weight::percent(10))
        );
        target
            .expect_alias(&world.clients, "1", Some(("3", 0.1)))
            .await;
        let rolled_back = world.wait_status(&id, Status::RolledBack).await;
        assert!(
            rolled_back.reason.as_deref().is_some_and(
                |r| r.starts_with("still no evidence after holding 1m: v3: 0 invocations")
            ),
            "{:?}",
            rolled_back.reason
        );
        target.expect_alias(&world.clients, "1", None).await;
    });
}

/// Issue 10 (part): a fractional first step (0.5 %) reaches the alias as the fraction 0.005,
/// and the CLI and the record show it as 0.5 %.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e16_a_fractional_weight_reaches_the_alias() {
    run(async {
        let world = world().await;
        let target = world.target("fractional").await;
        let started = world
            .start(&target.request(
                "3",
                json!({"type": "canary", "percent": 0.5, "interval": "10m"}),
            ))
            .await
            .unwrap();
        assert_eq!(started["weight"], json!(0.5));
        let id = id_of(&started);
        target
            .expect_alias(&world.clients, "1", Some(("3", 0.005)))
            .await;
        let rollout = world.rollout(&id).await;
        assert_eq!(rollout.weight, Weight::from_hundredths(50).unwrap());
        let (code, out) = glidepath(world, &["status", &id]).await;
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("status    Shifting at 0.5%"), "{out}");
        assert!(out.contains(">  1. 0.5%  then wait 10m"), "{out}");
        let (code, out) = glidepath(world, &["abort", &id, "--reason", "e16 done"]).await;
        assert_eq!(code, 0, "{out}");
        world.wait_status(&id, Status::RolledBack).await;
        target.expect_alias(&world.clients, "1", None).await;
    });
}

/// Issue 10 (optional part): `"alarms": "auto"` makes a per-version alarm from the analysis's
/// limit before the rollout starts; its `ALARM` rolls the rollout back through `check-alarms`
/// without waiting for a tick, and the alarm is deleted when the rollout ends.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e17_alarms_glidepath_makes_roll_back_at_once_and_go_at_the_end() {
    run(async {
        let world = world().await;
        let target = world.target("auto-alarms").await;
        let mut request = target.request("2", json!("Canary10Percent30Minutes"));
        request["alarms"] = json!("auto");
        request["analysis"] = json!({"maxErrorRate": "1%"});
        let id = world.started(&request).await;
        let prefix = format!("{}-gp-{id}", world.glidepath.stack);
        let alarms = |world: &'static World, prefix: String| async move {
            world
                .clients
                .cloudwatch
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .send()
                .await
                .unwrap()
                .metric_alarms()
                .iter()
                .filter_map(|a| a.alarm_name.clone())
                .collect::<Vec<String>>()
        };
        let made = alarms(world, prefix.clone()).await;
        assert_eq!(
            made,
            [format!("{prefix}-error-rate")],
            "made before the rollout"
        );
        assert_eq!(world.rollout(&id).await.spec.alarms, made);
        world
            .clients
            .cloudwatch
            .set_alarm_state()
            .alarm_name(&made[0])
            .state_value(StateValue::Alarm)
            .state_reason("set by e17")
            .send()
            .await
            .unwrap();
        let outcome = deliver_alarm(world, &made[0]).await;
        assert_eq!(outcome["rolledBack"], json!([id]));
        world.wait_status(&id, Status::RolledBack).await;
        target.expect_alias(&world.clients, "1", None).await;
        wait_for("the made alarm to be deleted", DEADLINE, || async {
            Ok(alarms(world, prefix.clone()).await.is_empty().then_some(()))
        })
        .await
        .unwrap();
    });
}

/// Issue 9: `--via url` (the default) signs the request with SigV4 and sends it to the stack's
/// function URL. The emulator checks that the request is signed, but it does not pass the
/// caller's identity to the function (`requestContext.authorizer.iam`), so Glidepath refuses it
/// (`Forbidden`, exit 5) with its own message. That message shows the signed request reached
/// the function. On AWS the same request is recorded under the caller's ARN.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e18_the_cli_signs_requests_to_the_function_urls() {
    run(async {
        let world = world().await;
        let target = world.target("cli-url").await;
        let id = world
            .started(&target.request("3", json!("Canary10Percent30Minutes")))
            .await;
        let (code, _, stderr) = glidepath_via(world, "url", &["pause", &id]).await;
        assert_eq!(code, 5, "{stderr}");
        assert!(
            stderr.contains("carries no authenticated IAM caller"),
            "the signed request reached Glidepath through the URL: {stderr}"
        );
        let rollout = world.rollout(&id).await;
        assert_eq!(rollout.status, Status::Shifting, "nothing changed");
        let (code, out) = glidepath(world, &["abort", &id, "--reason", "e18 done"]).await;
        assert_eq!(code, 0, "{out}");
    });
}
