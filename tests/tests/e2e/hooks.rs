//! `e22`: the `beforeShift` gate on the emulator: the stack's own smoke-test hook, asked
//! before each increase, refuses a bad version after its first step, and the rollout rolls
//! back; for a good version it allows every increase. The same hook is the `onRollback`
//! notice (asynchronous; its delivery is checked by the handler tests, the emulator keeps no
//! record of asynchronous invokes to read back).

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
        let hooks = json!({"beforeShift": world.glidepath.pre_traffic_hook,
                           "onRollback": world.glidepath.post_traffic_hook});
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
