//! Builders shared by the engine's test files.

use glidepath_core::{Hooks, Rollout, RolloutSpec, Strategy};

pub fn rollout(strategy: &str, bake_seconds: u64, pre: bool, post: bool) -> Rollout {
    let plan = Strategy::parse(strategy).expect("valid strategy").plan();
    let spec = RolloutSpec {
        function: "orders".into(),
        alias: "live".into(),
        current_version: "4".into(),
        target_version: "5".into(),
        strategy: strategy.into(),
        bake_seconds,
        alarms: vec!["orders-errors".into()],
        insufficient_data: Default::default(),
        hooks: Hooks {
            pre_traffic: pre.then(|| "smoke-pre".to_string()),
            post_traffic: post.then(|| "smoke-post".to_string()),
            ..Hooks::default()
        },
        analysis: None,
        managed_alarms: Vec::new(),
        idempotency_key: None,
        function_arn: None,
        requested_by: None,
        authorized_by: None,
        overridden: Vec::new(),
    };
    Rollout::new("r-1", spec, plan, 1_000)
}
