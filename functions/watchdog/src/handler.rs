//! Finding rollouts that should have moved and did not (a tick Scheduler lost or gave up
//! on, a hook stage or a rollback whose function failed for good), and sending each to
//! `step` with `{"command": "redrive"}`. The index `active` holds, per rollout that owes work,
//! what it owes and since when (`Rollout::owed_work`); one query finds those past their
//! grace (`Grace::is_overdue`, `GLIDEPATH_WATCHDOG_GRACE_SECONDS` to shorten it).
//!
//! The scheduled event's content is ignored. Re-driving is idempotent: `step` ignores a tick
//! that is not due and hands hook stages and rollbacks back to `finalize` / `rollback`.

use glidepath_aws::function::FunctionError;
use glidepath_aws::ports::{Dispatcher, HandOff, Ports, RolloutStore};
use glidepath_core::Grace;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use tracing::{info, warn};

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sweep {
    /// Rollouts sent to `step` to be re-driven.
    pub redriven: Vec<String>,
    /// The AWS calls this sweep made, by `service:Operation` (the index query's pages are
    /// its `dynamodb:Query` count).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_calls: BTreeMap<&'static str, u64>,
}

pub async fn handle<P: Ports>(
    ports: &P,
    _event: Value,
    grace: &Grace,
) -> Result<Sweep, FunctionError> {
    let overdue = ports.store().overdue(ports.now(), grace).await?;
    let mut sweep = Sweep {
        redriven: Vec::new(),
        aws_calls: BTreeMap::new(),
    };
    let mut failures = Vec::new();
    for id in overdue {
        match ports.dispatcher().hand_off(HandOff::Redrive, &id).await {
            Ok(()) => {
                warn!(rollout_id = %id, "overdue; re-driving");
                sweep.redriven.push(id);
            }
            Err(error) => failures.push(format!("{id}: {error}")),
        }
    }
    sweep.aws_calls = ports.take_call_counts();
    info!(redriven = sweep.redriven.len(), "watchdog sweep");
    if failures.is_empty() {
        Ok(sweep)
    } else {
        Err(FunctionError::retryable(format!(
            "could not re-drive {}",
            failures.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glidepath_aws::fakes::{FakeAws, seed_rollout};
    const TICK_GRACE_SECONDS: u64 = 120;
    use serde_json::json;

    #[tokio::test]
    async fn re_drives_only_overdue_rollouts() {
        let fake = FakeAws::new(1_000);
        fake.add_function("orders", 2, "live", 1);
        fake.add_function("billing", 2, "live", 1);
        let _slow = seed_rollout(&fake, json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "Canary10Percent30Minutes"})).await;
        let fast = seed_rollout(&fake, json!({"function": "billing", "alias": "live", "targetVersion": "2", "strategy": {"type": "canary", "percent": 10, "interval": "1m"}})).await;
        assert!(
            handle(&fake, json!({}), &Grace::default())
                .await
                .unwrap()
                .redriven
                .is_empty(),
            "nothing is due yet"
        );

        // billing's tick (due at +60 s) is lost; past the grace the watchdog notices.
        fake.advance(60 + TICK_GRACE_SECONDS + 1);
        let sweep = handle(&fake, json!({}), &Grace::default()).await.unwrap();
        assert_eq!(sweep.redriven, vec![fast.id.clone()]);
        assert_eq!(fake.world().hand_offs, vec![(HandOff::Redrive, fast.id)]);
    }

    #[tokio::test]
    async fn paused_and_finished_rollouts_are_left_alone() {
        let fake = FakeAws::new(1_000);
        fake.add_function("orders", 2, "live", 1);
        let done = seed_rollout(&fake, json!({"function": "orders", "alias": "live", "targetVersion": "2", "strategy": "AllAtOnce"})).await;
        assert!(done.status.is_terminal());
        fake.advance(100_000);
        assert!(
            handle(&fake, json!({}), &Grace::default())
                .await
                .unwrap()
                .redriven
                .is_empty()
        );
    }
}
