//! `e21`: alarms that call `check-alarms` directly as their alarm action, with AWS's
//! documented payload (`tests/fixtures/cloudwatch-alarm-action-lambda.json`): one of this
//! account, named by the rollout by name, and one of another account, named by ARN, which the
//! suite's policy (everyone may do everything) lets roll back. The emulator does not run alarm
//! actions, so the test delivers the payload as CloudWatch would.

use super::{World, world};
use glidepath_core::Status;
use glidepath_e2e::run;
use glidepath_e2e::target::Target;
use serde_json::{Value, json};

/// The documented alarm-action payload for `alarm_arn` going to `ALARM` now.
fn alarm_action(alarm_arn: &str) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../fixtures/cloudwatch-alarm-action-lambda.json"
    ))
    .expect("the fixture is JSON");
    let fields: Vec<&str> = alarm_arn.splitn(7, ':').collect();
    let now = format!(
        "{}.000+0000",
        glidepath_aws::clock::utc_datetime(glidepath_aws::clock::now())
    );
    event["alarmArn"] = json!(alarm_arn);
    event["accountId"] = json!(fields[4]);
    event["region"] = json!(fields[3]);
    event["time"] = json!(now);
    event["alarmData"]["alarmName"] = json!(fields[6]);
    event["alarmData"]["state"]["timestamp"] = json!(now);
    event
}

async fn account_and_region(world: &World, target: &Target) -> (String, String) {
    let arn = target
        .function_key(&world.clients)
        .await
        .expect("the target's ARN");
    let fields: Vec<&str> = arn.split(':').collect();
    (fields[4].to_string(), fields[3].to_string())
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e21_alarm_actions_of_this_and_another_account_roll_back() {
    run(async {
        let world = world().await;
        let (local, remote) =
            tokio::join!(world.target("action-local"), world.target("action-remote"));
        let (account, region) = account_and_region(world, &local).await;
        let strategy = json!({"type": "linear", "percent": 10, "interval": "30s"});

        // This account's alarm, by name.
        let id = world.started(&local.request("2", strategy.clone())).await;
        let arn = format!(
            "arn:aws:cloudwatch:{region}:{account}:alarm:{}",
            local.alarm
        );
        let outcome = world
            .clients
            .invoke(&world.glidepath.check_alarms, &alarm_action(&arn))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("check-alarms refused: {e:?}"));
        assert_eq!(outcome["rolledBack"], json!([id]), "{outcome}");
        world.wait_status(&id, Status::RolledBack).await;
        local.expect_alias(&world.clients, "1", None).await;

        // Another account's alarm, by ARN: pushed only, judged by the policy.
        let foreign = format!(
            "arn:aws:cloudwatch:{region}:444455556666:alarm:{}",
            remote.alarm
        );
        let mut request = remote.request("2", strategy);
        request["alarms"] = json!([remote.alarm, foreign]);
        let id = world.started(&request).await;
        let outcome = world
            .clients
            .invoke(&world.glidepath.check_alarms, &alarm_action(&foreign))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("check-alarms refused: {e:?}"));
        assert_eq!(outcome["rolledBack"], json!([id]), "{outcome}");
        let rolled_back = world.wait_status(&id, Status::RolledBack).await;
        assert!(rolled_back.reason.unwrap_or_default().contains(&foreign));
        remote.expect_alias(&world.clients, "1", None).await;
    });
}
