//! Running a hook within the invocation's deadline.

use super::{HOOK_DEADLINE_MARGIN, MIN_HOOK_BUDGET, RunError, Runner};
use crate::error::PortError;
use crate::ports::{HookRequest, HookRunner, Ports};
use glidepath_core::HookOutcome;
use std::time::SystemTime;
use tracing::warn;

impl<P: Ports> Runner<'_, P> {
    /// Runs a hook within the invocation's deadline, if one is known.
    pub(super) async fn run_hook(
        &self,
        function: &str,
        request: &HookRequest,
    ) -> Result<HookOutcome, RunError> {
        let Some(deadline) = self.deadline else {
            return Ok(self.ports.hooks().run(function, request).await?);
        };
        let budget = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(HOOK_DEADLINE_MARGIN);
        if budget < MIN_HOOK_BUDGET {
            return Err(RunError::Port(PortError::Aws {
                operation: "running a hook",
                message: format!(
                    "only {}s left in this invocation for hook {function}; the stage is re-driven",
                    budget.as_secs()
                ),
                source: None,
            }));
        }
        match tokio::time::timeout(budget, self.ports.hooks().run(function, request)).await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => {
                warn!(rollout_id = %request.rollout_id, hook = %function, budget_seconds = budget.as_secs(), "hook timed out");
                Ok(HookOutcome::Failed {
                    reason: format!(
                        "hook {function} did not answer within {}s, the time this invocation had",
                        budget.as_secs()
                    ),
                })
            }
        }
    }
}
