//! Reusable smoke-test hooks (`pre-traffic-hook`, `post-traffic-hook`): invoke the target
//! version, qualified, with the test events of their configuration, and check that no test
//! got a function error and that each answer contains the expected JSON subset.
//!
//! - Invoked by Glidepath with a [`HookRequest`], they answer `{"status": "Succeeded"}` or
//!   `{"status": "Failed", "reason"}`.
//! - Invoked by CodeDeploy (`{"DeploymentId", "LifecycleEventHookExecutionId"}`), they read
//!   the version being deployed from the deployment's AppSpec ([`appspec`]), test it, and
//!   report `Succeeded` / `Failed` with `PutLifecycleEventHookExecutionStatus` on every
//!   path, errors included.
//!
//! Only an explicit success passes: an answer of a Glidepath hook other than
//! `{"status": "Succeeded"}` fails the stage (the runner judges it), and here every test
//! that could not run, or whose answer cannot be read, counts as failed.
//!
//! Layout: [`config`] (the tests, from the environment), [`appspec`] (what a CodeDeploy
//! deployment deploys), [`smoke`] (running and judging the tests), [`ports`] (invoke, read
//! the deployment, report, with their AWS adapters), and [`handle`] here.

pub mod appspec;
pub mod config;
pub mod ports;
pub mod smoke;

pub use config::{HookConfig, SmokeTest};
pub use ports::{AwsHookPorts, HookPorts, Invoked};

use aws_lambda_events::codedeploy::CodeDeployLifecycleEvent;
use glidepath_aws::function::FunctionError;
use glidepath_aws::ports::HookRequest;
use glidepath_core::HookOutcome;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};
use tracing::{info, warn};

/// Time kept back from the invocation's deadline to report to CodeDeploy.
pub const REPORT_MARGIN: Duration = Duration::from_secs(10);

/// Handles one invocation, from Glidepath or from CodeDeploy, without a deadline.
pub async fn handle<P: HookPorts>(
    ports: &P,
    config: &HookConfig,
    event: Value,
) -> Result<Value, FunctionError> {
    handle_until(ports, config, event, None).await
}

/// Handles one invocation. For CodeDeploy, the smoke tests get until `deadline` less
/// [`REPORT_MARGIN`]: tests still running then count as failed, and the report is sent
/// before Lambda would kill the function (CodeDeploy would otherwise wait its hour).
pub async fn handle_until<P: HookPorts>(
    ports: &P,
    config: &HookConfig,
    event: Value,
    deadline: Option<SystemTime>,
) -> Result<Value, FunctionError> {
    if event.get("LifecycleEventHookExecutionId").is_some() {
        let lifecycle: CodeDeployLifecycleEvent = serde_json::from_value(event).map_err(|e| {
            FunctionError::invalid(format!("malformed CodeDeploy lifecycle event: {e}"))
        })?;
        return codedeploy(ports, config, lifecycle, deadline).await;
    }
    let request: HookRequest = glidepath_aws::function::parse_input(event)?;
    info!(rollout_id = %request.rollout_id, phase = %request.phase, function = %request.function,
        version = %request.target_version, tests = config.tests.len(), "smoke tests");
    if let (Some(execution_id), Some(callback)) =
        (&request.hook_execution_id, &request.callback_function)
    {
        // A callback hook: the answer goes to `step` on every path, before this invocation
        // ends (tests still running then count as failed).
        let outcome = bounded(
            ports,
            &request.function,
            &request.target_version,
            config,
            deadline,
        )
        .await;
        // The same answer a hook returns within its invocation, addressed to the execution.
        let mut payload = answer(&outcome);
        payload["rolloutId"] = json!(request.rollout_id);
        payload["command"] = json!("hookResult");
        payload["hookExecutionId"] = json!(execution_id);
        info!(rollout_id = %request.rollout_id, execution_id = %execution_id, status = %payload["status"], "answering Glidepath");
        if let Err(error) = ports.answer(callback, &payload).await {
            warn!(rollout_id = %request.rollout_id, error = %error, "could not answer Glidepath");
            return Err(error.into());
        }
        return Ok(answer(&outcome));
    }
    let outcome = smoke::run(
        ports,
        &request.function,
        &request.target_version,
        &config.tests,
    )
    .await?;
    Ok(answer(&outcome))
}

/// The smoke tests of `version`, given until `deadline` less [`REPORT_MARGIN`]; every way
/// they cannot pass (an error, no time left) is a failure with its reason.
async fn bounded<P: HookPorts>(
    ports: &P,
    function: &str,
    version: &str,
    config: &HookConfig,
    deadline: Option<SystemTime>,
) -> HookOutcome {
    let tests = smoke::run(ports, function, version, &config.tests);
    let result = match deadline {
        None => Ok(tests.await),
        Some(deadline) => {
            let budget = deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(REPORT_MARGIN);
            tokio::time::timeout(budget, tests)
                .await
                .map_err(|_| budget)
        }
    };
    match result {
        Ok(Ok(outcome)) => outcome,
        // Report even when the tests could not run: the caller would otherwise wait.
        Ok(Err(error)) => HookOutcome::Failed {
            reason: format!("could not run the smoke tests: {error}"),
        },
        Err(budget) => HookOutcome::Failed {
            reason: format!(
                "the smoke tests did not finish within {}s, the time this invocation had",
                budget.as_secs()
            ),
        },
    }
}

async fn codedeploy<P: HookPorts>(
    ports: &P,
    config: &HookConfig,
    event: CodeDeployLifecycleEvent,
    deadline: Option<SystemTime>,
) -> Result<Value, FunctionError> {
    let outcome = match codedeploy_target(ports, &event.deployment_id).await {
        Err(reason) => HookOutcome::Failed { reason },
        Ok(target) => {
            info!(deployment_id = %event.deployment_id, function = %target.function,
                alias = %target.alias, version = %target.target_version, tests = config.tests.len(),
                "smoke tests of a CodeDeploy deployment");
            bounded(
                ports,
                &target.function,
                &target.target_version,
                config,
                deadline,
            )
            .await
        }
    };
    let succeeded = outcome == HookOutcome::Succeeded;
    info!(deployment_id = %event.deployment_id, succeeded, "reporting to CodeDeploy");
    if let Err(error) = ports
        .report(
            &event.deployment_id,
            &event.lifecycle_event_hook_execution_id,
            succeeded,
        )
        .await
    {
        warn!(deployment_id = %event.deployment_id, error = %error, "could not report to CodeDeploy");
        return Err(error.into());
    }
    Ok(answer(&outcome))
}

/// What the deployment deploys, from its AppSpec; the error is the reason the stage fails.
async fn codedeploy_target<P: HookPorts>(
    ports: &P,
    deployment_id: &str,
) -> Result<appspec::AppSpecTarget, String> {
    let content = ports
        .appspec(deployment_id)
        .await
        .map_err(|e| format!("could not read what deployment {deployment_id} deploys: {e}"))?;
    appspec::parse(&content)
}

fn answer(outcome: &HookOutcome) -> Value {
    match outcome {
        HookOutcome::Succeeded => json!({"status": "Succeeded"}),
        HookOutcome::Failed { reason } => json!({"status": "Failed", "reason": reason}),
    }
}

#[cfg(test)]
mod tests;
