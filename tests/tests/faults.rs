//! AWS faults end to end: the orchestrator deployed into the emulator with every AWS call
//! its functions make going through a fault-injecting proxy (`glidepath_e2e::faults`), and
//! rollouts of good and bad versions driven to the end. Also, with faults off, a tick whose
//! schedule is lost is recovered by the watchdog.
//!
//! `GLIDEPATH_FAULT_RATE` (default 0.2) and `GLIDEPATH_FAULT_ROLLOUTS` (default 20, rounded
//! up to an even number) set the run; it prints what it saw. Needs the emulator: run
//! `scripts/test`.

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_lambda::types::Environment;
use glidepath_aws::ports::RolloutStore;
use glidepath_core::Status;
use glidepath_e2e::clients::Clients;
use glidepath_e2e::faults::FaultProxy;
use glidepath_e2e::stack::{Orchestrator, deploy};
use glidepath_e2e::target::{ALIAS, Target};
use glidepath_e2e::{run, wait_for};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The watchdog's grace in this stack: re-drive anything owed for more than this.
const GRACE_SECONDS: u64 = 4;
const CONVERGE: Duration = Duration::from_secs(300);

/// The services the orchestrator's functions call, by the SDK's endpoint variable.
const SERVICES: &[&str] = &[
    "DYNAMODB",
    "LAMBDA",
    "SCHEDULER",
    "CLOUDWATCH",
    "EVENTBRIDGE",
];

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Adds `extra` to a function's environment, keeping what the template set.
async fn add_environment(
    clients: &Clients,
    function: &str,
    extra: &[(String, String)],
) -> anyhow::Result<()> {
    let config = clients
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await?;
    let mut variables = config
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    for (name, value) in extra {
        variables.insert(name.clone(), value.clone());
    }
    clients
        .lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

fn orchestrator_functions(glidepath: &Orchestrator) -> [&str; 6] {
    [
        &glidepath.start,
        &glidepath.step,
        &glidepath.check_alarms,
        &glidepath.finalize,
        &glidepath.rollback,
        &glidepath.watchdog,
    ]
}

/// Starts a rollout as a CI job would: retried with the same idempotency key until accepted.
/// `on_created` runs once, as soon as the rollout exists (a start can be created and still
/// answer `Retryable`, and then goes on by itself while the job retries).
async fn start<F, Fut>(
    clients: &Clients,
    glidepath: &Orchestrator,
    request: &Value,
    target: &Target,
    on_created: F,
) -> String
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let store = glidepath.store(clients);
    let function_key = target
        .function_key(clients)
        .await
        .expect("the target's ARN");
    let key = request["idempotencyKey"].as_str().unwrap_or_default();
    let mut created = false;
    let clock = Instant::now();
    loop {
        let answer = clients.invoke(&glidepath.start, request).await;
        if !created
            && store
                .find_by_idempotency_key(&function_key, ALIAS, key)
                .await
                .ok()
                .flatten()
                .is_some()
        {
            created = true;
            on_created().await;
        }
        match answer {
            Ok(Ok(answer)) => {
                return answer["rolloutId"]
                    .as_str()
                    .expect("a rolloutId")
                    .to_string();
            }
            Ok(Err((kind, message))) => {
                assert_eq!(kind, "Retryable", "start refused {request}: {message}");
            }
            Err(error) => eprintln!("invoking start failed ({error}); retrying"),
        }
        assert!(
            clock.elapsed() < Duration::from_secs(120),
            "start never accepted {request}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Planned {
    target: Target,
    id: String,
    good: bool,
    /// The version the alias was on before, which a rolled-back rollout must leave.
    from: String,
    to: String,
    started: Instant,
    finished: Option<Duration>,
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn rollouts_converge_safely_under_injected_aws_faults() {
    run(async {
        let run_id = now() % 1_000_000;
        let clients = Clients::new().await;
        let glidepath = deploy(&clients, &format!("gpf{run_id}"))
            .await
            .expect("the orchestrator deploys");
        let upstream = clients
            .endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("the emulator's endpoint is an address");
        let rate: f64 = env_number("GLIDEPATH_FAULT_RATE", 0.2);
        let proxy = FaultProxy::start(upstream, 0.0, run_id)
            .await
            .expect("the proxy starts");
        let mut extra: Vec<(String, String)> = SERVICES
            .iter()
            .map(|s| (format!("AWS_ENDPOINT_URL_{s}"), proxy.url.clone()))
            .collect();
        extra.push((
            "GLIDEPATH_WATCHDOG_GRACE_SECONDS".into(),
            GRACE_SECONDS.to_string(),
        ));
        for function in orchestrator_functions(&glidepath) {
            add_environment(&clients, function, &extra)
                .await
                .expect("the function's environment is updated");
        }
        let store = glidepath.store(&clients);

        // 1. Faults off: a tick whose schedule is lost is recovered by the watchdog.
        let lost = Target::create(&clients, &format!("lost-{run_id}"))
            .await
            .expect("a target");
        let mut request = lost.request(
            "3",
            json!({"type": "linear", "percent": 50, "interval": "3s"}),
        );
        request["idempotencyKey"] = json!(format!("lost-{run_id}"));
        let id = start(&clients, &glidepath, &request, &lost, || async {}).await;
        let rollout = store.load(&id).await.unwrap().unwrap();
        clients
            .scheduler
            .delete_schedule()
            .name(format!("gp-{id}-{}", rollout.seq))
            .group_name(&glidepath.schedule_group)
            .send()
            .await
            .expect("the tick's schedule is there to lose");
        let clock = Instant::now();
        let recovered = wait_for("the watchdog to recover the lost tick", CONVERGE, || {
            let (clients, glidepath, store, id) = (&clients, &glidepath, &store, &id);
            async move {
                clients.invoke(&glidepath.watchdog, &json!({})).await?.ok();
                let rollout = store.load(id).await?.expect("rollout");
                Ok((rollout.status == Status::Succeeded).then_some(rollout))
            }
        })
        .await
        .expect("recovered");
        eprintln!(
            "lost tick: rollout {id} recovered by the watchdog and {} in {:.1}s (grace {GRACE_SECONDS}s, tick due after 3s)",
            recovered.status,
            clock.elapsed().as_secs_f64()
        );

        // 2. Faults on: good and bad versions, with and without hooks, to the end.
        let count: usize = env_number("GLIDEPATH_FAULT_ROLLOUTS", 20usize).div_ceil(2);
        let mut targets = Vec::new();
        for i in 0..count {
            targets.push(
                Target::create(&clients, &format!("fault{i}-{run_id}"))
                    .await
                    .expect("a target"),
            );
        }
        proxy.set_rate(rate);
        let mut planned: Vec<Planned> = Vec::new();
        let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
        let began = Instant::now();
        for round in 0..2 {
            let mut this_round = Vec::new();
            for (i, target) in targets.iter().enumerate() {
                // Round 0: even targets 1 -> 3 (good), odd ones 1 -> 2 (bad, rolled back).
                // Round 1: even targets 3 -> 2 (bad), odd ones 1 -> 3 (good).
                let good = (i + round) % 2 == 0;
                let from = if round == 1 && i % 2 == 0 { "3" } else { "1" };
                let to = if good { "3" } else { "2" };
                let interval = if good { "3s" } else { "20s" };
                let mut request = target.request(
                    to,
                    json!({"type": "linear", "percent": 50, "interval": interval}),
                );
                request["idempotencyKey"] = json!(format!("f{run_id}-{i}-{round}"));
                let with_hook = i % 3 == 0;
                if with_hook {
                    request["hooks"] = json!({"preTraffic": glidepath.pre_traffic_hook,
                        "postTraffic": glidepath.post_traffic_hook});
                }
                // The bad version's alarm fires as soon as its rollout exists; its first
                // step waits long enough (20 s) that the alarm is set before the first health
                // check, however many times the job must retry `start` under the faults.
                let id = start(&clients, &glidepath, &request, target, || async {
                    if !good {
                        target
                            .set_alarm(&clients, StateValue::Alarm)
                            .await
                            .expect("alarm set");
                    }
                })
                .await;
                this_round.push(Planned {
                    target: target.clone(),
                    id,
                    good,
                    from: from.to_string(),
                    to: to.to_string(),
                    started: Instant::now(),
                    finished: None,
                });
            }
            // Drive the round to the end, sweeping with the watchdog as its schedule would.
            let clock = Instant::now();
            loop {
                let mut open = 0;
                for rollout in this_round.iter_mut().filter(|p| p.finished.is_none()) {
                    match store.load(&rollout.id).await {
                        Ok(Some(record)) if record.status.is_terminal() => {
                            rollout.finished = Some(rollout.started.elapsed());
                        }
                        _ => open += 1,
                    }
                }
                if open == 0 {
                    break;
                }
                assert!(
                    clock.elapsed() < CONVERGE,
                    "{open} rollouts of round {round} did not finish"
                );
                let _ = clients.invoke(&glidepath.watchdog, &json!({})).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            // Every rollout of the round ended; no bad version kept traffic; no step was
            // applied twice. Checked before the next round moves the aliases again.
            for rollout in &this_round {
                let record = store.load(&rollout.id).await.unwrap().unwrap();
                let (version, routing) = rollout.target.alias(&clients).await.unwrap();
                *outcomes
                    .entry(format!(
                        "{} version -> {}",
                        if rollout.good { "good" } else { "bad" },
                        record.status
                    ))
                    .or_default() += 1;
                if rollout.good {
                    assert_eq!(
                        record.status,
                        Status::Succeeded,
                        "{}: {:?}",
                        rollout.id,
                        record.reason
                    );
                    assert_eq!((version.as_str(), routing), (rollout.to.as_str(), None));
                } else {
                    assert_eq!(record.status, Status::RolledBack, "{}", rollout.id);
                    assert_eq!(
                        (version.as_str(), routing),
                        (rollout.from.as_str(), None),
                        "{}: the bad version kept traffic",
                        rollout.id
                    );
                }
                let history = store.history(&rollout.id).await.unwrap();
                let seqs: Vec<u64> = history.iter().map(|h| h.seq).collect();
                assert_eq!(
                    seqs,
                    (0..seqs.len() as u64).collect::<Vec<_>>(),
                    "{}: history seq is contiguous",
                    rollout.id
                );
                let shifts: Vec<glidepath_core::Weight> = history
                    .iter()
                    .filter(|h| h.status == Status::Shifting)
                    .map(|h| h.weight)
                    .collect();
                assert!(
                    shifts.windows(2).all(|w| w[0] < w[1]),
                    "{}: a step was applied twice: {shifts:?}",
                    rollout.id
                );
            }
            for rollout in this_round.iter().filter(|p| !p.good) {
                rollout
                    .target
                    .set_alarm(&clients, StateValue::Ok)
                    .await
                    .expect("alarm reset");
            }
            planned.extend(this_round);
        }
        proxy.set_rate(0.0);

        let slowest = planned
            .iter()
            .filter_map(|p| p.finished)
            .max()
            .unwrap_or_default();
        let injected = proxy.injected();
        eprintln!(
            "faults: {} rollouts at a {:.0}% fault rate; {} AWS requests through the proxy, {} faults injected {:?}; outcomes {:?}; slowest rollout {:.1}s; all {:.1}s",
            planned.len(),
            rate * 100.0,
            proxy.requests(),
            injected.values().sum::<u64>(),
            injected,
            outcomes,
            slowest.as_secs_f64(),
            began.elapsed().as_secs_f64()
        );
        assert!(
            rate == 0.0 || injected.values().sum::<u64>() > 0,
            "faults were injected"
        );
    });
}
