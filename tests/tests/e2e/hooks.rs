//! `e22`: the `beforeShift` gate on the emulator: the stack's own smoke-test hook, asked
//! before each increase, refuses a bad version after its first step, and the rollout rolls
//! back; for a good version it allows every increase. (The `onRollback` notice is checked by
//! the handler tests only: the emulator keeps no record of asynchronous invokes to read back.)

use super::world;
use glidepath_core::{Status, Weight};
use glidepath_e2e::run;
use serde_json::json;

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e22_a_before_shift_hook_refuses_a_bad_version_between_steps() {
    run(async {
        let world = world().await;
        let (bad, good) = tokio::join!(world.target("gate-bad"), world.target("gate-good"));
        let hooks = json!({"beforeShift": world.glidepath.pre_traffic_hook});
        let strategy = json!({"type": "linear", "percent": 50, "interval": "3s"});

        let mut request = bad.request("2", strategy.clone());
        request["hooks"] = hooks.clone();
        let id = world.started(&request).await;
        let rolled_back = world.wait_status(&id, Status::RolledBack).await;
        let reason = rolled_back.reason.unwrap_or_default();
        assert!(
            reason.contains("before-shift hook") && reason.contains("from 50 % to 100 %"),
            "{reason}"
        );
        let history = world.history(&id).await;
        assert!(
            history.iter().all(|(_, _, w)| *w <= Weight::percent(50)),
            "never above the first step: {history:?}"
        );
        bad.expect_alias(&world.clients, "1", None).await;

        let mut request = good.request("3", strategy);
        request["hooks"] = hooks;
        let id = world.started(&request).await;
        world.wait_status(&id, Status::Succeeded).await;
        good.expect_alias(&world.clients, "3", None).await;
    });
}

/// `e23`: callback hooks. The stack's smoke-test hooks, invoked asynchronously with an
/// execution id, answer through `step`'s `hookResult` (a direct invoke here, which the suite's
/// policy allows): a good version goes through both stages, a bad one is stopped by its
/// pre-traffic hook before any traffic; a hook that never answers (the target function
/// itself, which ignores callbacks) fails the stage at its deadline.
#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e23_callback_hooks_answer_through_step_and_a_silent_one_times_out() {
    run(async {
        let world = world().await;
        let (good, bad, silent) = tokio::join!(
            world.target("callback-good"),
            world.target("callback-bad"),
            world.target("callback-silent")
        );
        let strategy = json!({"type": "canary", "percent": 10, "interval": "3s"});
        let hooks = json!({"preTraffic": world.glidepath.pre_traffic_hook,
                           "postTraffic": world.glidepath.post_traffic_hook,
                           "answer": "callback", "timeout": "2m"});

        let good_run = async {
            let mut request = good.request("3", strategy.clone());
            request["hooks"] = hooks.clone();
            let id = world.started(&request).await;
            let done = world.wait_status(&id, Status::Succeeded).await;
            let events: Vec<String> = world.history(&id).await.into_iter().map(|h| h.0).collect();
            assert_eq!(
                events.iter().filter(|e| *e == "hook-result").count(),
                2,
                "both stages answered by callback: {events:?}"
            );
            good.expect_alias(&world.clients, "3", None).await;
            done
        };
        let bad_run = async {
            let mut request = bad.request("2", strategy.clone());
            request["hooks"] = hooks.clone();
            let id = world.started(&request).await;
            let done = world.wait_status(&id, Status::RolledBack).await;
            assert!(
                done.reason
                    .as_deref()
                    .unwrap_or_default()
                    .contains("pre-traffic hook failed"),
                "{:?}",
                done.reason
            );
            let history = world.history(&id).await;
            assert!(
                history.iter().all(|(_, _, w)| *w == Weight::ZERO),
                "{history:?}"
            );
            bad.expect_alias(&world.clients, "1", None).await;
        };
        let silent_run = async {
            let mut request = silent.request("3", strategy.clone());
            request["hooks"] =
                json!({"preTraffic": silent.function, "answer": "callback", "timeout": "1m"});
            let id = world.started(&request).await;
            let done = glidepath_e2e::wait_for(
                "the silent hook's deadline",
                std::time::Duration::from_secs(150),
                || async {
                    let rollout = world.rollout(&id).await;
                    Ok((rollout.status == Status::RolledBack).then_some(rollout))
                },
            )
            .await
            .unwrap();
            assert!(
                done.reason
                    .as_deref()
                    .unwrap_or_default()
                    .contains("did not answer within 1m"),
                "{:?}",
                done.reason
            );
            silent.expect_alias(&world.clients, "1", None).await;
        };
        tokio::join!(good_run, bad_run, silent_run);
    });
}
