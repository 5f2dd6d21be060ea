//! Running a hook within the invocation's deadline; the gate asked before each increase.

use super::{HOOK_DEADLINE_MARGIN, MIN_HOOK_BUDGET, RunError, Runner};
use crate::error::PortError;
use crate::ports::{HookRequest, HookRunner, Ports};
use glidepath_core::{HealthVerdict, HookOutcome, HookPhase, Rollout};
use std::time::SystemTime;
use tracing::{info, warn};

impl<P: Ports> Runner<'_, P> {
    /// After a healthy check: asks the rollout's `beforeShift` hook whether the next step may
    /// raise the weight. Anything but success is a breach (the rollout rolls back); no hook,
    /// or no increase next, is healthy.
    pub(super) async fn before_shift(&self, rollout: &Rollout) -> Result<HealthVerdict, RunError> {
        let (Some(hook), Some(next)) = (&rollout.spec.hooks.before_shift, rollout.next_increase())
        else {
            return Ok(HealthVerdict::Healthy);
        };
        let mut request = HookRequest::new(rollout, HookPhase::BeforeShift);
        request.next_weight = Some(next);
        match self.run_hook(hook, &request).await? {
            HookOutcome::Succeeded => {
                info!(rollout_id = %rollout.id, hook = %hook, next = %next, "before-shift hook allows the increase");
                Ok(HealthVerdict::Healthy)
            }
            HookOutcome::Failed { reason } => Ok(HealthVerdict::Breached {
                reason: format!(
                    "before-shift hook {hook} refused the step from {} % to {next} %: {reason}",
                    rollout.weight
                ),
            }),
        }
    }

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
