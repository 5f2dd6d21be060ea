//! What a hook needs from AWS: invoking the target version, and, for CodeDeploy, reading
//! the deployment's AppSpec and reporting the result.

use glidepath_aws::PortError;
use std::future::Future;

/// A synchronous invocation's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    /// `Unhandled` / `Handled` when the function failed.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
}

pub trait HookPorts: Send + Sync {
    /// Invokes `function` at `version` with `payload`, synchronously.
    fn invoke(
        &self,
        function: &str,
        version: &str,
        payload: &[u8],
    ) -> impl Future<Output = Result<Invoked, PortError>> + Send;
    /// The AppSpec of a CodeDeploy deployment (`GetDeployment` → `revision`), as text.
    fn appspec(
        &self,
        deployment_id: &str,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
    /// `PutLifecycleEventHookExecutionStatus`.
    fn report(
        &self,
        deployment_id: &str,
        execution_id: &str,
        succeeded: bool,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Answers Glidepath for a callback hook: invokes `callback_function` (`step`) with the
    /// `hookResult` command `payload`, synchronously, so a refusal is seen.
    fn answer(
        &self,
        callback_function: &str,
        payload: &serde_json::Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Lambda and CodeDeploy clients.
#[derive(Debug, Clone)]
pub struct AwsHookPorts {
    pub lambda: aws_sdk_lambda::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
}

impl AwsHookPorts {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        AwsHookPorts {
            lambda: aws_sdk_lambda::Client::new(sdk),
            codedeploy: aws_sdk_codedeploy::Client::new(sdk),
        }
    }
}

impl HookPorts for AwsHookPorts {
    async fn invoke(
        &self,
        function: &str,
        version: &str,
        payload: &[u8],
    ) -> Result<Invoked, PortError> {
        let output = self
            .lambda
            .invoke()
            .function_name(function)
            .qualifier(version)
            .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_vec()))
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => {
                    PortError::NotFound(format!("function {function} has no version {version}"))
                }
                _ => PortError::aws("Lambda Invoke (smoke test)", error),
            })?;
        Ok(Invoked {
            function_error: output.function_error,
            payload: output.payload.map(|p| p.into_inner()).unwrap_or_default(),
        })
    }

    async fn appspec(&self, deployment_id: &str) -> Result<String, PortError> {
        let output = self
            .codedeploy
            .get_deployment()
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(|e| PortError::aws("CodeDeploy GetDeployment", e))?;
        let revision = output
            .deployment_info
            .and_then(|info| info.revision)
            .ok_or_else(|| {
                PortError::Invalid(format!("deployment {deployment_id} has no revision"))
            })?;
        // `string` is the older, deprecated place for the same inline AppSpec.
        #[allow(deprecated)]
        let content = revision
            .app_spec_content
            .and_then(|c| c.content)
            .or_else(|| revision.string.and_then(|s| s.content));
        content.ok_or_else(|| {
            PortError::Invalid(format!(
                "deployment {deployment_id} keeps its AppSpec in {} rather than inline: the hook reads only inline AppSpecs (AppSpecContent or String), which Lambda deployments from CloudFormation and SAM use",
                revision
                    .revision_type
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "an unknown place".into())
            ))
        })
    }

    async fn answer(
        &self,
        callback_function: &str,
        payload: &serde_json::Value,
    ) -> Result<(), PortError> {
        let output = self
            .lambda
            .invoke()
            .function_name(callback_function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| PortError::aws("Lambda Invoke (hook answer)", e))?;
        if output.function_error.is_some() {
            let body = output
                .payload
                .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                .unwrap_or_default();
            return Err(PortError::Aws {
                operation: "Lambda Invoke (hook answer)",
                message: format!("{callback_function} refused the answer: {body}"),
                source: None,
            });
        }
        Ok(())
    }

    async fn report(
        &self,
        deployment_id: &str,
        execution_id: &str,
        succeeded: bool,
    ) -> Result<(), PortError> {
        use aws_sdk_codedeploy::types::LifecycleEventStatus;
        self.codedeploy
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
            .status(if succeeded {
                LifecycleEventStatus::Succeeded
            } else {
                LifecycleEventStatus::Failed
            })
            .send()
            .await
            .map_err(|e| PortError::aws("CodeDeploy PutLifecycleEventHookExecutionStatus", e))?;
        Ok(())
    }
}
