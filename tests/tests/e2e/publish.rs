//! `e20`: rollouts on publish. The emulator records no CloudTrail events, so the scenario
//! delivers the record of a published version (`tests/fixtures/cloudtrail-publish-version.json`,
//! as the stack's `version-published` rule would) to `start` itself, as the alarm scenarios
//! deliver alarm events.

use super::{World, world};
use anyhow::Context;
use glidepath_aws::ports::RolloutStore;
use glidepath_core::Status;
use glidepath_e2e::run;
use glidepath_e2e::target::{ALIAS, Target};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// Tags `target`'s function.
async fn tag(world: &World, target: &Target, tags: &[(&str, String)]) -> anyhow::Result<()> {
    let arn = target.function_key(&world.clients).await?;
    let tags: HashMap<String, String> = tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    world
        .clients
        .lambda
        .tag_resource()
        .resource(arn)
        .set_tags(Some(tags))
        .send()
        .await?;
    Ok(())
}

/// The CloudTrail record of `target`'s `version` being published, as EventBridge delivers it.
async fn published(world: &World, target: &Target, version: &str) -> anyhow::Result<Value> {
    let arn = target.function_key(&world.clients).await?;
    let fields: Vec<&str> = arn.split(':').collect();
    let (region, account) = (fields[3], fields[4]);
    let config = world
        .clients
        .lambda
        .get_function_configuration()
        .function_name(&target.function)
        .qualifier(version)
        .send()
        .await?;
    let mut event: Value = serde_json::from_str(include_str!(
        "../../fixtures/cloudtrail-publish-version.json"
    ))?;
    event["account"] = Value::from(account);
    event["region"] = Value::from(region);
    let detail = &mut event["detail"];
    detail["recipientAccountId"] = Value::from(account);
    detail["awsRegion"] = Value::from(region);
    detail["requestParameters"]["functionName"] = Value::from(target.function.clone());
    let response = &mut detail["responseElements"];
    response["functionName"] = Value::from(target.function.clone());
    response["functionArn"] = Value::from(format!("{arn}:{version}"));
    response["version"] = Value::from(version);
    response["codeSha256"] = Value::from(config.code_sha256().context("a code hash")?);
    Ok(event)
}

/// A queue receiving the stack's `Glidepath Rollout Refused` events about `function`.
async fn refusals_queue(world: &World, function_arn: &str) -> anyhow::Result<String> {
    let pattern = json!({"source": ["glidepath"], "detail-type": ["Glidepath Rollout Refused"],
                         "detail": {"function": [function_arn]}});
    super::queue_of_events(
        &world.clients,
        &format!("gp{}-refusals", world.run_id),
        &pattern,
    )
    .await
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e20_a_published_version_of_a_tagged_function_is_rolled_out() {
    run(async {
        let world = world().await;
        let (good, untagged, badly) = tokio::join!(
            world.target("pub-good"),
            world.target("pub-untagged"),
            world.target("pub-badtags")
        );
        let store = world.glidepath.store(&world.clients);

        // Opted in: the published version is rolled out with the tags' strategy and alarm.
        tag(
            world,
            &good,
            &[
                ("glidepath:alias", ALIAS.to_string()),
                ("glidepath:strategy", "linear:50:3s".to_string()),
                ("glidepath:alarms", good.alarm.clone()),
            ],
        )
        .await
        .unwrap();
        let started = Instant::now();
        let answer = world
            .clients
            .invoke(
                &world.glidepath.start,
                &published(world, &good, "3").await.unwrap(),
            )
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("start refused the publish: {e:?}"));
        assert_eq!(answer["outcome"], "started", "{answer}");
        let id = answer["started"]["rolloutId"].as_str().unwrap().to_string();
        let done = world.wait_status(&id, Status::Succeeded).await;
        assert_eq!(done.spec.alarms, vec![good.alarm.clone()]);
        assert_eq!(
            done.spec.requested_by.unwrap().principal.split(':').next(),
            Some("publish")
        );
        good.expect_alias(&world.clients, "3", None).await;
        eprintln!(
            "e20: published version to Succeeded in {:.1}s",
            started.elapsed().as_secs_f64()
        );

        // Not opted in: ignored, nothing created.
        let answer = world
            .clients
            .invoke(
                &world.glidepath.start,
                &published(world, &untagged, "3").await.unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(answer["outcome"], "ignored", "{answer}");
        let key = untagged.function_key(&world.clients).await.unwrap();
        assert!(
            store
                .rollouts_for_alias(&key, ALIAS)
                .await
                .unwrap()
                .is_empty()
        );

        // Bad tags: refused with an event that says why; nothing moves.
        let key = badly.function_key(&world.clients).await.unwrap();
        let queue = refusals_queue(world, &key).await.unwrap();
        tag(
            world,
            &badly,
            &[
                ("glidepath:alias", ALIAS.to_string()),
                ("glidepath:strategy", "canary:ten:5m".to_string()),
            ],
        )
        .await
        .unwrap();
        let (error_type, message) = world
            .clients
            .invoke(
                &world.glidepath.start,
                &published(world, &badly, "3").await.unwrap(),
            )
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(error_type, "InvalidRequest");
        assert!(message.contains("tag `glidepath:strategy`"), "{message}");
        assert!(
            store
                .rollouts_for_alias(&key, ALIAS)
                .await
                .unwrap()
                .is_empty()
        );
        badly.expect_alias(&world.clients, "1", None).await;
        let refusal = glidepath_e2e::wait_for("the refusal event", super::DEADLINE, || async {
            let messages = world
                .clients
                .sqs
                .receive_message()
                .queue_url(&queue)
                .wait_time_seconds(1)
                .send()
                .await?;
            Ok(messages
                .messages()
                .first()
                .and_then(|m| serde_json::from_str::<Value>(m.body().unwrap_or("{}")).ok()))
        })
        .await
        .unwrap();
        assert_eq!(refusal["detail"]["version"], "3");
        assert_eq!(refusal["detail"]["trigger"], "publish");
        assert_eq!(refusal["detail"]["reason"], message.as_str());
    });
}
