//! [`HealthCheck`] on CloudWatch alarms: one `DescribeAlarms` call for all of a rollout's
//! alarms, metric and composite; and Lambda's per-version metrics for canary analysis
//! ([`super::metric_data`]).

use super::calls::CallCounter;
use crate::error::PortError;
use crate::health::{AlarmState, verdict};
use crate::ports::{HealthCheck, MetricsQuery};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, MetricDataQuery, MetricStat, StateValue,
};
use glidepath_core::managed_alarms::{AlarmDefinition, AlarmKind, BREACHING_MINUTES};
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

    async fn put_alarms(&self, alarms: &[AlarmDefinition]) -> Result<(), PortError> {
        for alarm in alarms {
            self.calls.record("cloudwatch:PutMetricAlarm");
            put_metric_alarm(&self.client, alarm)
                .send()
                .await
                .map_err(|e| PortError::aws("CloudWatch PutMetricAlarm", e))?;
        }
        Ok(())
    }

    async fn delete_alarms(&self, names: &[String]) -> Result<(), PortError> {
        // DeleteAlarms takes at most 100 names per call.
        for chunk in names.chunks(100) {
            self.calls.record("cloudwatch:DeleteAlarms");
            self.client
                .delete_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| PortError::aws("CloudWatch DeleteAlarms", e))?;
        }
        Ok(())
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

/// The `PutMetricAlarm` request of a managed alarm ([`glidepath_core::managed_alarms`]): the
/// target version's metrics behind the alias, one-minute periods, `ALARM` after
/// `BREACHING_MINUTES` breaching minutes in a row, missing data not breaching.
pub fn put_metric_alarm(
    client: &Client,
    alarm: &AlarmDefinition,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    let metric = |name: &str| {
        super::metric_data::per_version_metric(
            name,
            &alarm.function_name,
            &alarm.resource,
            &alarm.version,
        )
    };
    let request = client
        .put_metric_alarm()
        .alarm_name(&alarm.name)
        .alarm_description(&alarm.description)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .evaluation_periods(BREACHING_MINUTES as i32)
        .datapoints_to_alarm(BREACHING_MINUTES as i32)
        .treat_missing_data("notBreaching");
    match alarm.kind {
        AlarmKind::ErrorRate { above } => {
            let sum = |id: &str, name: &str| {
                MetricDataQuery::builder()
                    .id(id)
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric(name))
                            .period(60)
                            .stat("Sum")
                            .build(),
                    )
                    .return_data(false)
                    .build()
            };
            request
                .threshold(above)
                .metrics(sum("errors", "Errors"))
                .metrics(sum("invocations", "Invocations"))
                .metrics(
                    MetricDataQuery::builder()
                        .id("rate")
                        .label("error rate")
                        .expression("IF(invocations > 0, errors / invocations, 0)")
                        .return_data(true)
                        .build(),
                )
        }
        AlarmKind::P99 { above_ms } => request
            .threshold(above_ms)
            .namespace("AWS/Lambda")
            .metric_name("Duration")
            .set_dimensions(metric("Duration").dimensions)
            .period(60)
            .extended_statistic("p99"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glidepath_core::managed_alarms::{AlarmDefinition, AlarmKind};

    fn alarm(kind: AlarmKind) -> AlarmDefinition {
        AlarmDefinition {
            name: "gp-r01-error-rate".into(),
            kind,
            function_name: "orders".into(),
            resource: "orders:live".into(),
            version: "7".into(),
            description: "test".into(),
        }
    }

    fn client() -> Client {
        let config = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatch::config::Region::new("eu-west-1"))
            .build();
        Client::from_conf(config)
    }

    #[test]
    fn the_error_rate_alarm_is_metric_math_on_the_target_version() {
        let client = client();
        let request = put_metric_alarm(&client, &alarm(AlarmKind::ErrorRate { above: 0.01 }));
        let input = request.as_input();
        assert_eq!(input.get_threshold(), &Some(0.01));
        assert_eq!(input.get_evaluation_periods(), &Some(3));
        assert_eq!(input.get_datapoints_to_alarm(), &Some(3));
        assert_eq!(
            input.get_treat_missing_data().as_deref(),
            Some("notBreaching")
        );
        let metrics = input.get_metrics().as_deref().unwrap_or_default();
        assert_eq!(metrics.len(), 3);
        assert_eq!(
            metrics[2].expression(),
            Some("IF(invocations > 0, errors / invocations, 0)")
        );
        let dimensions: Vec<(&str, &str)> = metrics[0]
            .metric_stat()
            .and_then(|s| s.metric())
            .map(|m| m.dimensions())
            .unwrap_or_default()
            .iter()
            .map(|d| (d.name().unwrap_or(""), d.value().unwrap_or("")))
            .collect();
        assert_eq!(
            dimensions,
            [
                ("FunctionName", "orders"),
                ("Resource", "orders:live"),
                ("ExecutedVersion", "7")
            ]
        );
    }

    #[test]
    fn the_p99_alarm_is_an_extended_statistic() {
        let client = client();
        let request = put_metric_alarm(&client, &alarm(AlarmKind::P99 { above_ms: 800.0 }));
        let input = request.as_input();
        assert_eq!(input.get_extended_statistic().as_deref(), Some("p99"));
        assert_eq!(input.get_metric_name().as_deref(), Some("Duration"));
        assert_eq!(input.get_threshold(), &Some(800.0));
    }
}
