//! [`Ticker`] on EventBridge Scheduler: one one-time `at()` schedule per tick, in Glidepath's
//! schedule group, deleted by Scheduler after it fires.

use super::calls::CallCounter;
use crate::clock::utc_datetime;
use crate::error::PortError;
use crate::ports::Ticker;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use glidepath_core::UnixSeconds;

#[derive(Debug, Clone)]
pub struct SchedulerTicker {
    client: Client,
    group: String,
    role_arn: String,
    step_function_arn: String,
    calls: CallCounter,
}

/// Schedule names are `gp-<rollout id>-<seq>`: unique per tick, so creating one twice is
/// idempotent, and listable by prefix when a rollout ends.
pub fn schedule_name(rollout_id: &str, seq: u64) -> String {
    format!("gp-{rollout_id}-{seq}")
}

impl SchedulerTicker {
    pub fn new(
        client: Client,
        group: String,
        role_arn: String,
        step_function_arn: String,
        calls: CallCounter,
    ) -> Self {
        SchedulerTicker {
            client,
            group,
            role_arn,
            step_function_arn,
            calls,
        }
    }
}

impl Ticker for SchedulerTicker {
    async fn schedule(&self, rollout_id: &str, seq: u64, at: UnixSeconds) -> Result<(), PortError> {
        let input = serde_json::json!({ "rolloutId": rollout_id, "seq": seq }).to_string();
        let target = Target::builder()
            .arn(&self.step_function_arn)
            .role_arn(&self.role_arn)
            .input(input)
            .build()
            .map_err(|e| PortError::aws("building a Scheduler target", e))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| PortError::aws("building a Scheduler time window", e))?;
        self.calls.record("scheduler:CreateSchedule");
        let result = self
            .client
            .create_schedule()
            .name(schedule_name(rollout_id, seq))
            .group_name(&self.group)
            .schedule_expression(format!("at({})", utc_datetime(at)))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(format!("Glidepath tick {seq} of rollout {rollout_id}"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conflict_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(PortError::aws("Scheduler CreateSchedule", error)),
        }
    }

    async fn cancel(&self, rollout_id: &str) -> Result<(), PortError> {
        let prefix = format!("gp-{rollout_id}-");
        let mut token: Option<String> = None;
        let mut names = Vec::new();
        loop {
            self.calls.record("scheduler:ListSchedules");
            let page = self
                .client
                .list_schedules()
                .group_name(&self.group)
                .name_prefix(&prefix)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| PortError::aws("Scheduler ListSchedules", e))?;
            names.extend(page.schedules.iter().filter_map(|s| s.name.clone()));
            match page.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        for name in names {
            self.calls.record("scheduler:DeleteSchedule");
            let result = self
                .client
                .delete_schedule()
                .name(&name)
                .group_name(&self.group)
                .send()
                .await;
            match result {
                Ok(_) => {}
                // Already fired and deleted itself.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) => {}
                Err(error) => return Err(PortError::aws("Scheduler DeleteSchedule", error)),
            }
        }
        Ok(())
    }
}
