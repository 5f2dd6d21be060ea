//! [`Control`] on a deployed stack: the stack's names come from its CloudFormation outputs,
//! read once per run; the functions are invoked with Lambda `Invoke`; the rollout table is read
//! with the same adapter the functions use. Credentials, region and endpoint come from the
//! standard AWS configuration chain (profiles, `AWS_REGION`, `AWS_ENDPOINT_URL`), loaded once.
//!
//! The commands that change a rollout reach the functions through the stack's function URLs,
//! signed with the caller's credentials ([`super::url`]), so the rollout records the caller's
//! own IAM ARN; with `--via invoke` they use Lambda `Invoke` instead, recorded as
//! `lambda:invoke` (Lambda passes no caller identity on an invoke).

use super::prune::AliasRoute;
use super::{Control, Exit, Function, OperateError};
use aws_sdk_lambda::primitives::Blob;
use glidepath_aws::adapters::{AlarmHealth, CallCounter, DynamoStore, LambdaRouter};
use glidepath_aws::ports::{AliasRouter, HistoryEntry, RolloutStore};
use glidepath_core::Rollout;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// A deployed stack's names, from its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub name: String,
    pub start: String,
    pub step: String,
    pub rollback: String,
    pub table: String,
    /// The function URLs of `start`, `step` and `rollback` (`StartUrl`, `StepUrl`,
    /// `RollbackUrl`), when the stack has them.
    pub urls: Option<[String; 3]>,
}

/// How the commands reach the stack's functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Via {
    /// The function URLs, SigV4-signed: the rollout records your IAM ARN.
    #[default]
    Url,
    /// Lambda `Invoke`: recorded as `lambda:invoke`.
    Invoke,
}

impl Stack {
    /// Picks the names out of `outputs`, naming the first one missing.
    pub fn from_outputs(
        name: &str,
        outputs: &HashMap<String, String>,
    ) -> Result<Stack, OperateError> {
        let output = |key: &str| {
            outputs.get(key).cloned().ok_or_else(|| {
                OperateError::new(
                    Exit::Aws,
                    format!("stack {name} has no output {key}: is it a Glidepath stack?"),
                )
            })
        };
        Ok(Stack {
            name: name.to_string(),
            start: output("StartFunctionName")?,
            step: output("StepFunctionName")?,
            rollback: output("RollbackFunctionName")?,
            table: output("TableName")?,
            urls: match (
                outputs.get("StartUrl"),
                outputs.get("StepUrl"),
                outputs.get("RollbackUrl"),
            ) {
                (Some(start), Some(step), Some(rollback)) => {
                    Some([start.clone(), step.clone(), rollback.clone()])
                }
                _ => None,
            },
        })
    }
}

/// The real stack.
pub struct AwsControl {
    pub stack: Stack,
    /// Set when the commands go through the function URLs.
    urls: Option<super::url::UrlInvoker>,
    /// Each function's ARN as `GetAlias` reported it, by the name or ARN it was asked with.
    function_arns: std::sync::Mutex<HashMap<String, String>>,
    lambda: aws_sdk_lambda::Client,
    store: DynamoStore,
    router: LambdaRouter,
    alarms: AlarmHealth,
}

impl AwsControl {
    /// Loads the AWS configuration once and reads stack `name`'s outputs.
    pub async fn connect(name: &str, via: Via) -> Result<AwsControl, OperateError> {
        let sdk = glidepath_aws::sdk::load().await;
        let Some(region) = sdk.region() else {
            return Err(OperateError::new(
                Exit::Aws,
                "no AWS region: set AWS_REGION or a profile's region",
            ));
        };
        let cloudformation = aws_sdk_cloudformation::Client::new(&sdk);
        let described = cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|error| {
                let text = aws_smithy_types::error::display::DisplayErrorContext(&error).to_string();
                if text.contains("does not exist") {
                    OperateError::new(
                        Exit::Aws,
                        format!("no stack {name} in this account and region: pass --stack or set GLIDEPATH_STACK"),
                    )
                } else {
                    OperateError::new(Exit::Aws, format!("could not read stack {name}: {text}"))
                }
            })?;
        let outputs: HashMap<String, String> = described
            .stacks()
            .first()
            .map(|stack| {
                stack
                    .outputs()
                    .iter()
                    .filter_map(|o| {
                        Some((o.output_key()?.to_string(), o.output_value()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let stack = Stack::from_outputs(name, &outputs)?;
        let urls = match (via, &stack.urls) {
            (Via::Invoke, _) => None,
            (Via::Url, None) => {
                return Err(OperateError::new(
                    Exit::Aws,
                    format!(
                        "stack {name} has no function URLs (outputs StartUrl, StepUrl, RollbackUrl): pass --via invoke"
                    ),
                ));
            }
            (Via::Url, Some(_)) => {
                let credentials = sdk.credentials_provider().ok_or_else(|| {
                    OperateError::new(
                        Exit::Aws,
                        "no AWS credentials to sign with: configure a profile or the AWS_* variables",
                    )
                })?;
                Some(super::url::UrlInvoker::new(
                    credentials,
                    region.to_string(),
                    sdk.endpoint_url(),
                )?)
            }
        };
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        Ok(AwsControl {
            store: DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                &stack.table,
                1,
                CallCounter::default(),
            ),
            router: LambdaRouter::new(
                glidepath_aws::adapters::members::LambdaClients::new(&sdk, None, None),
                CallCounter::default(),
            ),
            alarms: AlarmHealth::new(
                aws_sdk_cloudwatch::Client::new(&sdk),
                CallCounter::default(),
            ),
            lambda,
            urls,
            function_arns: Default::default(),
            stack,
        })
    }
}

fn aws(error: glidepath_aws::PortError) -> OperateError {
    OperateError::new(Exit::Aws, error.to_string())
}

impl Control for AwsControl {
    async fn invoke(&self, function: Function, payload: &Value) -> Result<Value, OperateError> {
        if let (Some(invoker), Some([start, step, rollback])) = (&self.urls, &self.stack.urls) {
            let url = match function {
                Function::Start => start,
                Function::Step => step,
                Function::Rollback => rollback,
            };
            return invoker.post(url, payload).await;
        }
        let name = match function {
            Function::Start => &self.stack.start,
            Function::Step => &self.stack.step,
            Function::Rollback => &self.stack.rollback,
        };
        let output = self
            .lambda
            .invoke()
            .function_name(name)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| {
                OperateError::new(
                    Exit::Aws,
                    format!(
                        "could not invoke {name}: {}",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    ),
                )
            })?;
        let body: Value = output
            .payload()
            .and_then(|p| serde_json::from_slice(p.as_ref()).ok())
            .unwrap_or(Value::Null);
        if output.function_error().is_some() {
            return Err(OperateError::from_function(
                body["errorType"].as_str().unwrap_or("Unhandled"),
                body["errorMessage"]
                    .as_str()
                    .unwrap_or("the function failed"),
            ));
        }
        Ok(body)
    }

    async fn load(&self, id: &str) -> Result<Option<Rollout>, OperateError> {
        self.store.load(id).await.map_err(aws)
    }

    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, OperateError> {
        self.store.history(id).await.map_err(aws)
    }

    async fn rollouts_for_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Vec<Rollout>, OperateError> {
        // The table keys an alias by its function's ARN, as GetAlias reports it: the same for
        // every alias of the function, so read once a run (`list --function`, `versions
        // prune` ask for each alias in turn).
        let known = self
            .function_arns
            .lock()
            .ok()
            .and_then(|arns| arns.get(function).cloned());
        if let Some(key) = known {
            return self
                .store
                .rollouts_for_alias(&key, alias)
                .await
                .map_err(aws);
        }
        let state = self.router.read_alias(function, alias).await.map_err(|e| {
            OperateError::new(
                if matches!(e, glidepath_aws::PortError::NotFound(_)) {
                    Exit::BadInput
                } else {
                    Exit::Aws
                },
                e.to_string(),
            )
        })?;
        let key = state.function_arn().unwrap_or_else(|| function.to_string());
        if let Ok(mut arns) = self.function_arns.lock() {
            arns.insert(function.to_string(), key.clone());
        }
        self.store
            .rollouts_for_alias(&key, alias)
            .await
            .map_err(aws)
    }

    async fn recent(&self, open_only: bool, limit: usize) -> Result<Vec<Rollout>, OperateError> {
        self.store.recent(open_only, limit).await.map_err(aws)
    }

    fn now(&self) -> glidepath_core::UnixSeconds {
        glidepath_aws::clock::now()
    }

    async fn pause(&self, interval: Duration) {
        tokio::time::sleep(interval).await;
    }

    async fn alarm_states(
        &self,
        alarms: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, OperateError> {
        if alarms.is_empty() {
            return Ok(Default::default());
        }
        Ok(self
            .alarms
            .states(alarms)
            .await
            .map_err(aws)?
            .into_iter()
            .map(|(name, (state, _reason))| (name, state.as_str().to_string()))
            .collect())
    }

    async fn versions(&self, function: &str) -> Result<Vec<String>, OperateError> {
        let mut versions = Vec::new();
        let mut pages = self
            .lambda
            .list_versions_by_function()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| lambda_error("ListVersionsByFunction", function, e))?;
            versions.extend(page.versions().iter().filter_map(|v| v.version.clone()));
        }
        Ok(versions)
    }

    async fn alias_routes(&self, function: &str) -> Result<Vec<AliasRoute>, OperateError> {
        let mut routes = Vec::new();
        let mut pages = self
            .lambda
            .list_aliases()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| lambda_error("ListAliases", function, e))?;
            for alias in page.aliases() {
                let (Some(name), Some(version)) = (&alias.name, &alias.function_version) else {
                    continue;
                };
                let additional = alias
                    .routing_config
                    .as_ref()
                    .and_then(|r| r.additional_version_weights.as_ref())
                    .and_then(|weights| weights.keys().next().cloned());
                routes.push(AliasRoute {
                    alias: name.clone(),
                    version: version.clone(),
                    additional,
                });
            }
        }
        Ok(routes)
    }

    async fn has_provisioned_concurrency(
        &self,
        function: &str,
        version: &str,
    ) -> Result<bool, OperateError> {
        match self
            .lambda
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_provisioned_concurrency_config_not_found_exception()) =>
            {
                Ok(false)
            }
            // Anything else stops the prune before it deletes: never guess "not in use".
            Err(error) => Err(lambda_error(
                "GetProvisionedConcurrencyConfig",
                function,
                error,
            )),
        }
    }

    async fn delete_version(&self, function: &str, version: &str) -> Result<(), OperateError> {
        self.lambda
            .delete_function()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
            .map_err(|e| lambda_error("DeleteFunction", function, e))?;
        Ok(())
    }
}

fn lambda_error<E: std::error::Error + Send + Sync + 'static>(
    operation: &str,
    function: &str,
    error: aws_sdk_lambda::error::SdkError<E>,
) -> OperateError {
    let exit = match &error {
        aws_sdk_lambda::error::SdkError::ServiceError(e) if e.raw().status().as_u16() == 404 => {
            Exit::BadInput
        }
        aws_sdk_lambda::error::SdkError::ServiceError(e) if e.raw().status().as_u16() == 409 => {
            Exit::Conflict
        }
        _ => Exit::Aws,
    };
    OperateError::new(
        exit,
        format!(
            "Lambda {operation} of {function}: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&error)
        ),
    )
}
