//! `scripts/bench-scale`: the table's cost as the number of rollouts in it grows (10, 100,
//! 1,000), on the local emulator, through the same DynamoDB adapter the functions use. It
//! measures the reads that could grow with the table:
//!
//! - a tick's read of its rollout (`GetItem` by key);
//! - the watchdog's sweep for overdue work (`Query` of the sparse `active` index), with its pages;
//! - `check-alarms` finding the rollouts an alarm guards (`Query` of the watches), for an alarm
//!   guarding 100 rollouts;
//! - `glidepath list`'s newest 20 (`recent` index and `BatchGetItem`).
//!
//! The rollouts are records with owed ticks on functions that do not exist: nothing runs them,
//! so the figures are the store's, not a function's. It prints; it judges nothing.

use glidepath_aws::adapters::{CallCounter, DynamoStore};
use glidepath_aws::ports::RolloutStore;
use glidepath_core::{Event, Grace, Rollout, RolloutRequest, transition};
use glidepath_e2e::clients::Clients;
use glidepath_e2e::stack::deploy;
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SIZES: [usize; 3] = [10, 100, 1_000];
const GUARDED: usize = 100;
const SAMPLES: usize = 30;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

/// A shifting rollout of `function`, its tick due an hour ago, watching `alarm`.
fn overdue_rollout(id: String, function: &str, alarm: &str, now: u64) -> anyhow::Result<Rollout> {
    let request = RolloutRequest::from_json(&json!({"function": function, "alias": "live",
        "targetVersion": "2", "strategy": "Canary10Percent30Minutes", "alarms": [alarm]}))?;
    let created = Rollout::new(id, request.spec("1", "2"), request.plan, now - 5_400);
    let mut started = transition(&created, Event::Start, now - 5_400)?.rollout;
    started.owed = Default::default();
    Ok(started)
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
}

async fn bench() -> anyhow::Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let run_id = now % 1_000_000;
    let clients = Clients::new().await;
    let glidepath = deploy(&clients, &format!("gpscale{run_id}")).await?;
    let calls = CallCounter::default();
    let store = DynamoStore::new(clients.dynamodb.clone(), &glidepath.table, 1, calls.clone());
    let guarded_alarm = format!("scale-{run_id}-guard");
    println!(
        "{:>6}  {:>10}  {:>18}  {:>10}  {:>20}  {:>12}",
        "rollouts", "tick read", "watchdog sweep", "overdue", "alarm of 100 (query)", "list 20"
    );
    let mut seeded = 0;
    let mut ids = Vec::new();
    for size in SIZES {
        let seeding = Instant::now();
        while seeded < size {
            let alarm = if seeded < GUARDED {
                guarded_alarm.clone()
            } else {
                format!("scale-{run_id}-own-{seeded}")
            };
            let rollout = overdue_rollout(
                format!("scale{run_id}-{seeded:05}"),
                &format!("scale-{run_id}-fn-{seeded}"),
                &alarm,
                now,
            )?;
            store.create(&rollout).await?;
            ids.push(rollout.id.clone());
            seeded += 1;
        }
        let seeded_in = seeding.elapsed();
        calls.take();
        let mut reads = Vec::new();
        for sample in 0..SAMPLES {
            let id = &ids[(sample * 7919) % ids.len()];
            let clock = Instant::now();
            store.load(id).await?;
            reads.push(clock.elapsed());
        }
        let read_calls = calls.take();
        let mut sweeps = Vec::new();
        let mut overdue = 0;
        for _ in 0..5 {
            let clock = Instant::now();
            overdue = store.overdue(now, &Grace::default()).await?.len();
            sweeps.push(clock.elapsed());
        }
        let sweep_pages = calls.take().get("dynamodb:Query").copied().unwrap_or(0) / 5;
        let mut watching = Vec::new();
        let mut guarded = 0;
        for _ in 0..5 {
            let clock = Instant::now();
            guarded = store.rollouts_watching(&guarded_alarm).await?.len();
            watching.push(clock.elapsed());
        }
        let watch_pages = calls.take().get("dynamodb:Query").copied().unwrap_or(0) / 5;
        let mut lists = Vec::new();
        for _ in 0..5 {
            let clock = Instant::now();
            store.recent(false, 20).await?;
            lists.push(clock.elapsed());
        }
        let list_calls = calls.take();
        println!(
            "{size:>8}  {:>7.1} ms  {:>7.1} ms, {sweep_pages} page{}  {overdue:>10}  {:>6.1} ms, {guarded} found  {:>9.1} ms",
            median(reads),
            median(sweeps),
            if sweep_pages == 1 { " " } else { "s" },
            median(watching),
            median(lists),
        );
        eprintln!(
            "  ({size}: seeded in {:.1}s; tick reads {:?}; list calls over 5 runs {:?}; alarm query pages {watch_pages})",
            seeded_in.as_secs_f64(),
            read_calls,
            list_calls
        );
    }
    Ok(())
}
