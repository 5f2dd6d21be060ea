//! A function to roll out: version 1 good, version 2 bad (fails every request), version 3
//! good; alias `live` on version 1; an alarm `<name>-errors` that tests drive.

use crate::clients::Clients;
use crate::stack::bootstrap_zip;
use anyhow::Context;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};

pub const ALIAS: &str = "live";
pub const ROLE: &str = "arn:aws:iam::000000000000:role/glidepath-e2e-target";

/// The namespace of a target's error metric. In AWS the `FunctionName`, `Resource` and
/// `ExecutedVersion` dimensions tell versions apart; the emulator evaluates an alarm over
/// every datapoint of its namespace and metric name whatever the dimensions, so each
/// function (and version) gets a namespace of its own.
pub fn metric_namespace(function: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("Glidepath/E2E/{function}/v{version}"),
        None => format!("Glidepath/E2E/{function}"),
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub function: String,
    pub alarm: String,
}

impl Target {
    /// Creates the function, its three versions, the alias and the alarm (state OK).
    pub async fn create(clients: &Clients, function: &str) -> anyhow::Result<Target> {
        let zip = bootstrap_zip("target-function")?;
        let environment = |behaviour: &str| {
            Environment::builder()
                .variables("BEHAVIOUR", behaviour)
                .build()
        };
        clients
            .lambda
            .create_function()
            .function_name(function)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(ROLE)
            .timeout(30)
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .environment(environment("good"))
            .send()
            .await
            .with_context(|| format!("creating {function}"))?;
        for (behaviour, expected) in [("good", "1"), ("bad", "2"), ("good", "3")] {
            clients
                .lambda
                .update_function_configuration()
                .function_name(function)
                .environment(environment(behaviour))
                .send()
                .await?;
            let version = clients
                .lambda
                .publish_version()
                .function_name(function)
                .send()
                .await?;
            anyhow::ensure!(
                version.version() == Some(expected),
                "published {:?}, expected {expected}",
                version.version()
            );
        }
        clients
            .lambda
            .create_alias()
            .function_name(function)
            .name(ALIAS)
            .function_version("1")
            .send()
            .await?;
        let alarm = format!("{function}-errors");
        put_error_alarm(clients, &alarm, function, None).await?;
        Ok(Target {
            function: function.to_string(),
            alarm,
        })
    }

    pub async fn set_alarm(&self, clients: &Clients, state: StateValue) -> anyhow::Result<()> {
        clients
            .cloudwatch
            .set_alarm_state()
            .alarm_name(&self.alarm)
            .state_value(state.clone())
            .state_reason(format!("set by the end-to-end test: {state:?}"))
            .send()
            .await?;
        Ok(())
    }

    /// The alias's version and routing (`None` when it sends everything to one version).
    pub async fn alias(
        &self,
        clients: &Clients,
    ) -> anyhow::Result<(String, Option<(String, f64)>)> {
        let alias = clients
            .lambda
            .get_alias()
            .function_name(&self.function)
            .name(ALIAS)
            .send()
            .await?;
        let routing = alias
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .and_then(|weights| weights.iter().next().map(|(v, w)| (v.clone(), *w)));
        Ok((
            alias.function_version().unwrap_or_default().to_string(),
            routing,
        ))
    }

    /// An alarm on one version's errors (`ExecutedVersion` dimension), the kind a rollout
    /// should be guarded by: another version's errors do not set it off.
    pub async fn version_alarm(&self, clients: &Clients, version: &str) -> anyhow::Result<String> {
        let alarm = format!("{}-v{version}-errors", self.function);
        put_error_alarm(clients, &alarm, &self.function, Some(version)).await?;
        Ok(alarm)
    }

    /// Publishes one datapoint of Lambda's per-version metrics of `version` behind the alias
    /// (`Invocations`, `Errors`; namespace `AWS/Lambda`, dimensions `FunctionName`,
    /// `Resource`, `ExecutedVersion`), timestamped now, as Lambda would for traffic through
    /// the alias. The emulator's own Lambda metrics carry only `FunctionName`, and real
    /// CloudWatch refuses `PutMetricData` into `AWS/` namespaces: this is for the emulator.
    pub async fn publish_version_metrics(
        &self,
        clients: &Clients,
        version: &str,
        invocations: u64,
        errors: u64,
    ) -> anyhow::Result<()> {
        use aws_sdk_cloudwatch::types::MetricDatum;
        let dimensions = [
            ("FunctionName", self.function.clone()),
            ("Resource", format!("{}:{ALIAS}", self.function)),
            ("ExecutedVersion", version.to_string()),
        ];
        let datum = |name: &str, value: u64| {
            let mut datum = MetricDatum::builder()
                .metric_name(name)
                .value(value as f64)
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from(
                    std::time::SystemTime::now(),
                ));
            for (key, value) in &dimensions {
                datum = datum.dimensions(Dimension::builder().name(*key).value(value).build());
            }
            datum.build()
        };
        clients
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Lambda")
            .metric_data(datum("Invocations", invocations))
            .metric_data(datum("Errors", errors))
            .send()
            .await
            .context("PutMetricData")?;
        Ok(())
    }

    /// The function as Glidepath keys its locks and indexes: its unqualified ARN, as
    /// `GetAlias` reports it.
    pub async fn function_key(&self, clients: &Clients) -> anyhow::Result<String> {
        let alias = clients
            .lambda
            .get_alias()
            .function_name(&self.function)
            .name(ALIAS)
            .send()
            .await?;
        let arn = alias.alias_arn().context("GetAlias gave no AliasArn")?;
        Ok(arn
            .strip_suffix(&format!(":{ALIAS}"))
            .unwrap_or(arn)
            .to_string())
    }

    /// The alias's current `RevisionId`.
    pub async fn revision(&self, clients: &Clients) -> anyhow::Result<Option<String>> {
        let alias = clients
            .lambda
            .get_alias()
            .function_name(&self.function)
            .name(ALIAS)
            .send()
            .await?;
        Ok(alias.revision_id)
    }

    /// Asserts where the alias points: `version`, and the additional version and weight.
    pub async fn expect_alias(
        &self,
        clients: &Clients,
        version: &str,
        routing: Option<(&str, f64)>,
    ) {
        let actual = self.alias(clients).await.expect("the alias is readable");
        let expected = (
            version.to_string(),
            routing.map(|(v, w)| (v.to_string(), w)),
        );
        assert_eq!(actual, expected, "alias {}:{ALIAS}", self.function);
    }

    /// A rollout request for this function.
    pub fn request(&self, target_version: &str, strategy: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "function": self.function,
            "alias": ALIAS,
            "targetVersion": target_version,
            "strategy": strategy,
            "alarms": [self.alarm],
        })
    }
}

/// An alarm on a function's (or one version's) error count, set to `OK` to begin with.
async fn put_error_alarm(
    clients: &Clients,
    alarm: &str,
    function: &str,
    version: Option<&str>,
) -> anyhow::Result<()> {
    let mut request = clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(alarm)
        .namespace(metric_namespace(function, version))
        .metric_name("Errors")
        .dimensions(
            Dimension::builder()
                .name("FunctionName")
                .value(function)
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("Resource")
                .value(format!("{function}:{ALIAS}"))
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold);
    if let Some(version) = version {
        request = request.dimensions(
            Dimension::builder()
                .name("ExecutedVersion")
                .value(version)
                .build(),
        );
    }
    request.send().await?;
    clients
        .cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Ok)
        .state_reason("no errors yet")
        .send()
        .await?;
    Ok(())
}
