//! Canary analysis's read ([`HealthCheck::version_metrics`](crate::ports::HealthCheck)): one
//! `GetMetricData` (paged) asks for both versions' per-version Lambda metrics: `Invocations`
//! always, `Errors`, `Throttles` (sums) and `Duration` (p99) as the analysis's metrics need,
//! each in one-minute periods with the dimensions `FunctionName`, `Resource =
//! <function>:<alias>` and `ExecutedVersion`. Sums add up over the window; the p99 is the
//! highest one-minute p99.

use crate::error::PortError;
use crate::ports::MetricsQuery;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric as CwMetric, MetricDataQuery, MetricStat};
use glidepath_core::{Metric, VersionMetrics};

/// Lambda's metric `name` of one version behind an alias (`Resource = <function>:<alias>`,
/// `ExecutedVersion`): what canary analysis reads and what managed alarms watch.
pub(crate) fn per_version_metric(
    name: &str,
    function_name: &str,
    resource: &str,
    version: &str,
) -> CwMetric {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    CwMetric::builder()
        .namespace("AWS/Lambda")
        .metric_name(name)
        .dimensions(dimension("FunctionName", function_name))
        .dimensions(dimension("Resource", resource))
        .dimensions(dimension("ExecutedVersion", version))
        .build()
}

/// One series asked for: its query id, whose it is, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub id: String,
    pub canary: bool,
    pub metric_name: &'static str,
    pub stat: &'static str,
}

/// The series a query needs, baseline's then canary's.
pub fn series(query: &MetricsQuery) -> Vec<Series> {
    let mut wanted = Vec::new();
    for (prefix, canary) in [("baseline", false), ("canary", true)] {
        let mut add = |what: &str, metric_name, stat| {
            wanted.push(Series {
                id: format!("{prefix}_{what}"),
                canary,
                metric_name,
                stat,
            })
        };
        add("invocations", "Invocations", "Sum");
        for metric in &query.metrics {
            match metric {
                Metric::Errors => add("errors", "Errors", "Sum"),
                Metric::Throttles => add("throttles", "Throttles", "Sum"),
                Metric::DurationP99 => add("p99", "Duration", "p99"),
            }
        }
    }
    wanted
}

/// Adds one series' datapoints into the version's metrics.
pub fn fold(metrics: &mut (VersionMetrics, VersionMetrics), series: &Series, values: &[f64]) {
    let version = if series.canary {
        &mut metrics.1
    } else {
        &mut metrics.0
    };
    let sum = values
        .iter()
        .filter(|v| v.is_finite() && **v > 0.0)
        .sum::<f64>()
        .round() as u64;
    match series.metric_name {
        "Invocations" => version.invocations += sum,
        "Errors" => version.errors += sum,
        "Throttles" => version.throttles += sum,
        _ => {
            let highest = values
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(version.p99_ms, |acc: Option<f64>, v| {
                    Some(acc.map_or(v, |a| a.max(v)))
                });
            version.p99_ms = highest;
        }
    }
}

/// Runs the query; `record` counts each page's call.
pub async fn fetch(
    client: &Client,
    query: &MetricsQuery,
    record: impl Fn(),
) -> Result<(VersionMetrics, VersionMetrics), PortError> {
    let wanted = series(query);
    let resource = format!("{}:{}", query.function_name, query.alias);
    let mut queries = Vec::with_capacity(wanted.len());
    for series in &wanted {
        let version = if series.canary {
            &query.canary_version
        } else {
            &query.baseline_version
        };
        let metric =
            per_version_metric(series.metric_name, &query.function_name, &resource, version);
        let stat = MetricStat::builder()
            .metric(metric)
            .period(60)
            .stat(series.stat)
            .build();
        queries.push(
            MetricDataQuery::builder()
                .id(&series.id)
                .metric_stat(stat)
                .return_data(true)
                .build(),
        );
    }
    let mut metrics = (VersionMetrics::default(), VersionMetrics::default());
    let mut token: Option<String> = None;
    loop {
        record();
        let output = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(query.start as i64))
            .end_time(DateTime::from_secs(query.end as i64))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| PortError::aws("CloudWatch GetMetricData", e))?;
        for result in output.metric_data_results() {
            let Some(series) = wanted.iter().find(|s| Some(s.id.as_str()) == result.id()) else {
                continue;
            };
            fold(&mut metrics, series, result.values());
        }
        match output.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(metrics),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(metrics: Vec<Metric>) -> MetricsQuery {
        MetricsQuery {
            function_name: "orders".into(),
            alias: "live".into(),
            baseline_version: "6".into(),
            canary_version: "7".into(),
            metrics,
            start: 600,
            end: 1_200,
        }
    }

    #[test]
    fn asks_for_invocations_and_what_the_analysis_reads() {
        let ids: Vec<String> = series(&query(vec![Metric::Errors, Metric::DurationP99]))
            .into_iter()
            .map(|s| format!("{} {} {}", s.id, s.metric_name, s.stat))
            .collect();
        assert_eq!(
            ids,
            [
                "baseline_invocations Invocations Sum",
                "baseline_errors Errors Sum",
                "baseline_p99 Duration p99",
                "canary_invocations Invocations Sum",
                "canary_errors Errors Sum",
                "canary_p99 Duration p99",
            ]
        );
    }

    #[test]
    fn sums_add_up_and_the_p99_is_the_highest_minute() {
        let wanted = series(&query(vec![Metric::Errors, Metric::DurationP99]));
        let mut metrics = Default::default();
        let by_id = |id: &str| wanted.iter().find(|s| s.id == id).expect("asked for");
        fold(&mut metrics, by_id("canary_invocations"), &[30.0, 31.0]);
        fold(&mut metrics, by_id("canary_errors"), &[1.0, 0.0, 2.0]);
        fold(&mut metrics, by_id("canary_p99"), &[120.5, 340.0, 99.0]);
        fold(&mut metrics, by_id("baseline_invocations"), &[540.0]);
        assert_eq!(
            metrics.1,
            VersionMetrics {
                invocations: 61,
                errors: 3,
                throttles: 0,
                p99_ms: Some(340.0)
            }
        );
        assert_eq!(metrics.0.invocations, 540);
        assert_eq!(metrics.0.p99_ms, None, "no datapoints is no p99");
    }
}
