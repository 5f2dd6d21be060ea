//! The demo behind `scripts/demo`: deploys Glidepath into the local AWS emulator, then rolls
//! out a bad version (an alarm catches it and Glidepath rolls back) and a good one (it goes
//! all the way, through hooks and bake), printing each transition as it happens.
//!
//! The emulator does not route alias traffic by weight, so the demo plays the callers: each
//! second it sends requests to the version the alias's current weight would pick, and
//! publishes the new version's errors as the metric its alarm watches.

use anyhow::Context;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_lambda::primitives::Blob;
use glidepath_aws::ports::RolloutStore;
use glidepath_core::Status;
use glidepath_e2e::clients::Clients;
use glidepath_e2e::stack::{Orchestrator, deploy};
use glidepath_e2e::target::{ALIAS, Target, metric_namespace};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const REQUESTS_PER_SECOND: u64 = 5;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(demo())
}

async fn demo() -> anyhow::Result<()> {
    let run_id = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 1_000_000;
    let clients = Clients::new().await;
    println!(
        "Deploying Glidepath (infra/template.yaml) into the local emulator at {} ...",
        clients.endpoint
    );
    let clock = Instant::now();
    let glidepath = deploy(&clients, &format!("gpdemo{run_id}")).await?;
    println!(
        "  stack {} ready in {:.0}s",
        glidepath.stack,
        clock.elapsed().as_secs_f64()
    );
    let target = Target::create(&clients, &format!("orders-{run_id}")).await?;
    println!(
        "Target function {}: version 1 (good) behind alias `{ALIAS}`, version 2 fails every request, version 3 is good.\n",
        target.function
    );

    let strategy = json!({"type": "canary", "percent": 20, "interval": "20s"});
    let alarm = target.version_alarm(&clients, "2").await?;
    println!("1) Rolling out the bad version 2: {strategy}, guarded by alarm {alarm}");
    let mut request = target.request("2", strategy.clone());
    request["alarms"] = json!([alarm]);
    let outcome = rollout(&clients, &glidepath, &target, request).await?;
    println!("   => {outcome}\n");

    let mut request = target.request("3", strategy);
    request["alarms"] = json!([target.version_alarm(&clients, "3").await?]);
    request["bake"] = json!("10s");
    request["hooks"] = json!({"preTraffic": glidepath.pre_traffic_hook, "postTraffic": glidepath.post_traffic_hook});
    println!("2) Rolling out the good version 3, with smoke-test hooks and a 10s bake");
    let outcome = rollout(&clients, &glidepath, &target, request).await?;
    println!("   => {outcome}");
    let (version, routing) = target.alias(&clients).await?;
    println!(
        "\nAlias {}:{ALIAS} now points at version {version} ({})",
        target.function,
        routing.map_or("no routing config".to_string(), |r| format!("{r:?}"))
    );
    Ok(())
}

/// Starts a rollout, plays traffic and prints transitions until it ends.
async fn rollout(
    clients: &Clients,
    glidepath: &Orchestrator,
    target: &Target,
    request: serde_json::Value,
) -> anyhow::Result<String> {
    let started = clients.invoke(&glidepath.start, &request).await?;
    let answer = started
        .map_err(|(kind, message)| anyhow::anyhow!("start refused it: {kind}: {message}"))?;
    let id = answer["rolloutId"]
        .as_str()
        .context("no rolloutId")?
        .to_string();
    let store = glidepath.store(clients);
    let clock = Instant::now();
    let (mut printed, mut served, mut failed) = (0usize, 0u64, 0u64);
    loop {
        for entry in store.history(&id).await?.iter().skip(printed) {
            printed += 1;
            println!(
                "   {:>5.1}s  {:<16} {:<12} {:>3}% on the new version{}",
                clock.elapsed().as_secs_f64(),
                entry.event,
                entry.status.as_str(),
                entry.weight,
                entry
                    .reason
                    .as_ref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default()
            );
        }
        let rollout = store.load(&id).await?.context("the rollout vanished")?;
        if rollout.status.is_terminal() {
            return Ok(format!(
                "{} after {:.0}s; the callers' requests: {served} sent, {failed} failed",
                rollout.status,
                clock.elapsed().as_secs_f64()
            ));
        }
        let (sent, errors) = traffic(
            clients,
            target,
            &rollout.spec.current_version,
            &rollout.spec.target_version,
            weight_now(rollout.status, rollout.weight),
        )
        .await?;
        served += sent;
        failed += errors;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The share on the new version now, in hundredths of a percent.
fn weight_now(status: Status, weight: glidepath_core::Weight) -> u64 {
    match status {
        Status::PreTraffic | Status::RolledBack | Status::Failed => 0,
        _ => u64::from(weight.hundredths()),
    }
}

/// One second of callers: of every `REQUESTS_PER_SECOND` requests, the alias's weight share
/// goes to the new version. The new version's errors are published as its alarm's metric.
async fn traffic(
    clients: &Clients,
    target: &Target,
    current: &str,
    new: &str,
    hundredths: u64,
) -> anyhow::Result<(u64, u64)> {
    let to_new = (REQUESTS_PER_SECOND * hundredths).div_ceil(10_000);
    let mut errors = 0;
    for index in 0..REQUESTS_PER_SECOND {
        let version = if index < to_new { new } else { current };
        let output = clients
            .lambda
            .invoke()
            .function_name(&target.function)
            .qualifier(version)
            .payload(Blob::new(r#"{"path":"/orders"}"#))
            .send()
            .await?;
        if output.function_error().is_some() && version == new {
            errors += 1;
        }
    }
    if to_new > 0 {
        let datum = MetricDatum::builder()
            .metric_name("Errors")
            .dimensions(
                Dimension::builder()
                    .name("FunctionName")
                    .value(&target.function)
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("Resource")
                    .value(format!("{}:{ALIAS}", target.function))
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("ExecutedVersion")
                    .value(new)
                    .build(),
            )
            .value(errors as f64)
            .unit(StandardUnit::Count)
            .build();
        clients
            .cloudwatch
            .put_metric_data()
            .namespace(metric_namespace(&target.function, Some(new)))
            .metric_data(datum)
            .send()
            .await?;
    }
    Ok((REQUESTS_PER_SECOND, errors))
}
