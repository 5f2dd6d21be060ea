//! [`HealthCheck`] on CloudWatch alarms: one `DescribeAlarms` call for all of a rollout's
//! alarms, metric and composite; and Lambda's per-version metrics for canary analysis
//! ([`super::metric_data`]).

use super::calls::CallCounter;
use crate::error::PortError;
use crate::health::{AlarmState, verdict};
use crate::ports::{HealthCheck, MetricsQuery};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use glidepath_core::{HealthVerdict, InsufficientData, VersionMetrics};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct AlarmHealth {
    client: Client,
    calls: CallCounter,
}

impl AlarmHealth {
    pub fn new(client: Client, calls: CallCounter) -> Self {
        AlarmHealth { client, calls }
    }

    /// Each named alarm's state and reason; a name missing from the map does not exist.
    pub async fn states(
        &self,
        alarms: &[String],
    ) -> Result<BTreeMap<String, (StateValue, String)>, PortError> {
        let mut states = BTreeMap::new();
        // DescribeAlarms takes at most 100 names per call.
        for chunk in alarms.chunks(100) {
            let mut token: Option<String> = None;
            loop {
                self.calls.record("cloudwatch:DescribeAlarms");
                let output = self
                    .client
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.to_vec()))
                    .alarm_types(AlarmType::MetricAlarm)
                    .alarm_types(AlarmType::CompositeAlarm)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| PortError::aws("CloudWatch DescribeAlarms", e))?;
                for alarm in output.metric_alarms() {
                    if let (Some(name), Some(state)) = (&alarm.alarm_name, &alarm.state_value) {
                        states.insert(
                            name.clone(),
                            (
                                state.clone(),
                                alarm.state_reason.clone().unwrap_or_default(),
                            ),
                        );
                    }
                }
                for alarm in output.composite_alarms() {
                    if let (Some(name), Some(state)) = (&alarm.alarm_name, &alarm.state_value) {
                        states.insert(
                            name.clone(),
                            (
                                state.clone(),
                                alarm.state_reason.clone().unwrap_or_default(),
                            ),
                        );
                    }
                }
                match output.next_token {
                    Some(next) if !next.is_empty() => token = Some(next),
                    _ => break,
                }
            }
        }
        Ok(states)
    }
}

impl HealthCheck for AlarmHealth {
    async fn check(
        &self,
        alarms: &[String],
        policy: InsufficientData,
    ) -> Result<HealthVerdict, PortError> {
        if alarms.is_empty() {
            return Ok(HealthVerdict::Healthy);
        }
        let states = self.states(alarms).await?;
        Ok(verdict(
            alarms,
            |name| {
                states.get(name).map(|(state, reason)| {
                    let state = match state {
                        StateValue::Alarm => AlarmState::Alarm,
                        StateValue::InsufficientData => AlarmState::InsufficientData,
                        _ => AlarmState::Ok,
                    };
                    (state, reason.clone())
                })
            },
            policy,
        ))
    }

    async fn version_metrics(
        &self,
        query: &MetricsQuery,
    ) -> Result<(VersionMetrics, VersionMetrics), PortError> {
        super::metric_data::fetch(&self.client, query, || {
            self.calls.record("cloudwatch:GetMetricData")
        })
        .await
    }

    async fn missing_alarms(&self, alarms: &[String]) -> Result<Vec<String>, PortError> {
        if alarms.is_empty() {
            return Ok(Vec::new());
        }
        let states = self.states(alarms).await?;
        Ok(alarms
            .iter()
            .filter(|name| !states.contains_key(*name))
            .cloned()
            .collect())
    }
}
