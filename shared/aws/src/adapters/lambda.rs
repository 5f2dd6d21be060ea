//! Lambda adapters: the alias router ([`AliasRouter`]), smoke-test hooks ([`HookRunner`],
//! synchronous invoke) and hand-offs to `finalize` / `rollback` ([`Dispatcher`], asynchronous
//! invoke).

use super::calls::CallCounter;
use super::members::LambdaClients;
use crate::error::PortError;
use crate::ports::{
    AliasRouter, AliasState, CodeSigning, Dispatcher, HandOff, HookRequest, HookRunner,
    VersionInfo, alias_config, reconcile,
};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, InvocationType};
use glidepath_core::{HookOutcome, RolloutSpec, Weight};
use std::collections::HashMap;

/// The alias router: each call goes to the client of the region and account its function
/// lives in ([`LambdaClients`]).
#[derive(Debug, Clone)]
pub struct LambdaRouter {
    clients: LambdaClients,
    calls: CallCounter,
}

impl LambdaRouter {
    pub fn new(clients: LambdaClients, calls: CallCounter) -> Self {
        LambdaRouter { clients, calls }
    }
}

impl AliasRouter for LambdaRouter {
    async fn read_alias(&self, function: &str, alias: &str) -> Result<AliasState, PortError> {
        self.calls.record("lambda:GetAlias");
        let output = self
            .clients
            .for_function(function)
            .await?
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => PortError::NotFound(format!(
                    "`alias`: function {function} has no alias {alias}"
                )),
                _ => PortError::aws("Lambda GetAlias", error),
            })?;
        let routing = output
            .routing_config
            .and_then(|config| config.additional_version_weights)
            .and_then(|weights| weights.into_iter().next());
        Ok(AliasState {
            arn: output.alias_arn,
            version: output.function_version.unwrap_or_default(),
            routing,
            revision: output.revision_id.unwrap_or_default(),
        })
    }

    async fn version_info(&self, function: &str, version: &str) -> Result<VersionInfo, PortError> {
        self.calls.record("lambda:GetFunctionConfiguration");
        let output = self
            .clients
            .for_function(function)
            .await?
            .get_function_configuration()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => PortError::NotFound(format!(
                    "`targetVersion`: function {function} has no published version {version}"
                )),
                _ => PortError::aws("Lambda GetFunctionConfiguration", error),
            })?;
        Ok(VersionInfo {
            code_sha256: output.code_sha256,
            version: output.version.unwrap_or_else(|| version.to_string()),
            role: output.role.unwrap_or_default(),
            dead_letter_target: output
                .dead_letter_config
                .and_then(|config| config.target_arn),
            signing_profile_version_arn: output.signing_profile_version_arn,
        })
    }

    async fn code_signing(&self, function: &str) -> Result<Option<CodeSigning>, PortError> {
        self.calls.record("lambda:GetFunctionCodeSigningConfig");
        let client = self.clients.for_function(function).await?;
        let output = client
            .get_function_code_signing_config()
            .function_name(function)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => {
                    PortError::NotFound(format!("`function`: no function {function}"))
                }
                _ => PortError::aws("Lambda GetFunctionCodeSigningConfig", error),
            })?;
        let config_arn = output.code_signing_config_arn;
        if config_arn.trim().is_empty() {
            return Ok(None);
        }
        self.calls.record("lambda:GetCodeSigningConfig");
        let config = client
            .get_code_signing_config()
            .code_signing_config_arn(&config_arn)
            .send()
            .await
            .map_err(|e| PortError::aws("Lambda GetCodeSigningConfig", e))?
            .code_signing_config
            .ok_or_else(|| PortError::Aws {
                operation: "Lambda GetCodeSigningConfig",
                message: format!("no configuration returned for {config_arn}"),
                source: None,
            })?;
        let allowed_profiles = config
            .allowed_publishers
            .map(|publishers| publishers.signing_profile_version_arns)
            .unwrap_or_default();
        Ok(Some(CodeSigning {
            config_arn,
            allowed_profiles,
        }))
    }

    async fn publish_latest(&self, function: &str) -> Result<String, PortError> {
        self.calls.record("lambda:PublishVersion");
        let output = self
            .clients
            .for_function(function)
            .await?
            .publish_version()
            .function_name(function)
            .description("published by Glidepath")
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => {
                    PortError::NotFound(format!("`function`: no function {function}"))
                }
                _ => PortError::aws("Lambda PublishVersion", error),
            })?;
        output.version.ok_or_else(|| {
            PortError::Invalid(format!("PublishVersion of {function} returned no version"))
        })
    }

    async fn function_tags(
        &self,
        function: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, PortError> {
        // ListTags takes an ARN only: a name is read for its ARN first.
        let client = self.clients.for_function(function).await?;
        // ListTags takes the function's unqualified ARN (the fake, by name, takes any).
        let arn = if function.starts_with("arn:") {
            glidepath_core::unqualified_function_arn(function).to_string()
        } else {
            self.calls.record("lambda:GetFunctionConfiguration");
            let config = client
                .get_function_configuration()
                .function_name(function)
                .send()
                .await
                .map_err(|e| not_found_or("Lambda GetFunctionConfiguration", function, e))?;
            glidepath_core::unqualified_function_arn(config.function_arn().unwrap_or(function))
                .to_string()
        };
        self.calls.record("lambda:ListTags");
        let output = client
            .list_tags()
            .resource(&arn)
            .send()
            .await
            .map_err(|e| not_found_or("Lambda ListTags", function, e))?;
        Ok(output
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn function_exists(&self, function: &str) -> Result<bool, PortError> {
        self.calls.record("lambda:GetFunctionConfiguration");
        match self
            .clients
            .for_function(function)
            .await?
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(PortError::aws("Lambda GetFunctionConfiguration", error)),
        }
    }

    async fn set_weight(
        &self,
        spec: &RolloutSpec,
        weight: Weight,
        fence: Option<&str>,
    ) -> Result<String, PortError> {
        if let Some(revision) = self.update_alias(spec, weight, fence).await? {
            return Ok(revision);
        }
        let Some(fence) = fence else {
            return Err(PortError::Invalid(
                "an unconditional UpdateAlias cannot be stale".into(),
            ));
        };
        // Someone wrote the alias since the revision this record confirmed: judge what is
        // there now, and never write over it.
        let found = self.read_alias(&spec.function, &spec.alias).await?;
        reconcile(&found, spec, weight, fence)
    }
}

impl LambdaRouter {
    /// `UpdateAlias` to `weight` %; `Ok(None)` when `revision` is stale.
    async fn update_alias(
        &self,
        spec: &RolloutSpec,
        weight: Weight,
        revision: Option<&str>,
    ) -> Result<Option<String>, PortError> {
        let (version, routing) = alias_config(spec, weight);
        let weights: HashMap<String, f64> = routing.into_iter().collect();
        self.calls.record("lambda:UpdateAlias");
        let result = self
            .clients
            .for_function(&spec.function)
            .await?
            .update_alias()
            .function_name(&spec.function)
            .name(&spec.alias)
            .function_version(&version)
            // An empty map removes the routing configuration.
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(weights))
                    .build(),
            )
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.revision_id.unwrap_or_default())),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_precondition_failed_exception()) =>
            {
                Ok(None)
            }
            // The function, the alias or the version is gone: no retry mends that.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Err(PortError::NotFound(format!(
                    "alias {}:{} cannot be set to version {version}: the function, the alias or the version is gone",
                    spec.function, spec.alias
                )))
            }
            Err(error) => Err(PortError::aws("Lambda UpdateAlias", error)),
        }
    }
}

/// Runs hook functions synchronously and reads their verdict.
#[derive(Debug, Clone)]
pub struct LambdaHooks {
    client: Client,
    calls: CallCounter,
    /// The function callback hooks answer (`step`).
    callback_function: String,
}

impl LambdaHooks {
    pub fn new(client: Client, calls: CallCounter, callback_function: String) -> Self {
        LambdaHooks {
            client,
            calls,
            callback_function,
        }
    }
}

/// A hook's verdict from its response. Fails closed: only an explicit
/// `{"status": "Succeeded"}` passes; a function error, `{"status": "Failed"}`, and anything
/// else (`null`, `"FAILED"`, no status) fail the stage.
pub fn hook_verdict(function_error: Option<&str>, payload: &[u8]) -> HookOutcome {
    let body: serde_json::Value =
        serde_json::from_slice(payload).unwrap_or(serde_json::Value::Null);
    let message = |body: &serde_json::Value, key: &str| {
        body.get(key).and_then(|v| v.as_str()).map(str::to_string)
    };
    if let Some(kind) = function_error {
        let detail = message(&body, "errorMessage")
            .unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned());
        return HookOutcome::Failed {
            reason: format!("{kind}: {detail}"),
        };
    }
    match body.get("status").and_then(|s| s.as_str()) {
        Some("Succeeded") => HookOutcome::Succeeded,
        Some("Failed") => HookOutcome::Failed {
            reason: message(&body, "reason").unwrap_or_else(|| "the hook reported Failed".into()),
        },
        _ => {
            let answer = String::from_utf8_lossy(payload);
            let shown: String = answer.chars().take(200).collect();
            HookOutcome::Failed {
                reason: format!(
                    "the hook answered {shown}, not {{\"status\": \"Succeeded\"}}: only an explicit success passes"
                ),
            }
        }
    }
}

impl HookRunner for LambdaHooks {
    async fn run(&self, function: &str, request: &HookRequest) -> Result<HookOutcome, PortError> {
        let payload = serde_json::to_vec(request).map_err(|e| PortError::Invalid(e.to_string()))?;
        self.calls.record("lambda:Invoke");
        let result = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await;
        match result {
            Ok(output) => Ok(hook_verdict(
                output.function_error.as_deref(),
                output
                    .payload
                    .as_ref()
                    .map(|p| p.as_ref())
                    .unwrap_or_default(),
            )),
            // A hook that cannot be found is a failed hook, not a reason to retry.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(HookOutcome::Failed {
                    reason: format!("hook function {function} does not exist"),
                })
            }
            Err(error) => Err(PortError::aws("Lambda Invoke (hook)", error)),
        }
    }

    async fn start_callback(&self, function: &str, request: &HookRequest) -> Result<(), PortError> {
        let mut request = request.clone();
        request.callback_function = Some(self.callback_function.clone());
        self.notify(function, &request).await
    }

    async fn notify(&self, function: &str, request: &HookRequest) -> Result<(), PortError> {
        let payload = serde_json::to_vec(request).map_err(|e| PortError::Invalid(e.to_string()))?;
        invoke_async(&self.client, &self.calls, function, payload)
            .await
            .map_err(|e| {
                use aws_sdk_lambda::error::ProvideErrorMetadata;
                match e.code() {
                    // For good: the hook is gone, or this role may not invoke it.
                    Some("ResourceNotFoundException") => {
                        PortError::NotFound(format!("hook function {function} does not exist"))
                    }
                    Some("AccessDeniedException") => PortError::Invalid(format!(
                        "this function may not invoke hook {function}: {}",
                        e.message().unwrap_or("access denied")
                    )),
                    _ => PortError::aws("Lambda Invoke (hook notice)", e),
                }
            })?;
        Ok(())
    }
}

/// Hands rollouts to `finalize` and `rollback` by asynchronous invoke.
#[derive(Debug, Clone)]
pub struct LambdaDispatcher {
    client: Client,
    step_function: String,
    finalize_function: String,
    rollback_function: String,
    calls: CallCounter,
}

impl LambdaDispatcher {
    pub fn new(
        client: Client,
        step_function: String,
        finalize_function: String,
        rollback_function: String,
        calls: CallCounter,
    ) -> Self {
        LambdaDispatcher {
            client,
            step_function,
            finalize_function,
            rollback_function,
            calls,
        }
    }
}

impl Dispatcher for LambdaDispatcher {
    async fn hand_off(&self, work: HandOff, rollout_id: &str) -> Result<(), PortError> {
        let (function, payload) = match work {
            HandOff::Finalize => (
                &self.finalize_function,
                serde_json::json!({ "rolloutId": rollout_id }),
            ),
            HandOff::Rollback => (
                &self.rollback_function,
                serde_json::json!({ "rolloutId": rollout_id }),
            ),
            HandOff::Redrive => (
                &self.step_function,
                serde_json::json!({ "rolloutId": rollout_id, "command": "redrive" }),
            ),
        };
        invoke_async(
            &self.client,
            &self.calls,
            function,
            payload.to_string().into_bytes(),
        )
        .await
        .map_err(|e| PortError::aws("Lambda Invoke (hand-off)", e))?;
        Ok(())
    }
}

/// One asynchronous invoke (Lambda queues the event and retries it), counted; only whether
/// Lambda took it.
async fn invoke_async(
    client: &Client,
    calls: &CallCounter,
    function: &str,
    payload: Vec<u8>,
) -> Result<(), aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>> {
    calls.record("lambda:Invoke");
    client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload))
        .send()
        .await
        .map(|_| ())
}

/// `NotFound` when Lambda says the function does not exist, else the AWS error.
fn not_found_or<E>(
    operation: &'static str,
    function: &str,
    error: aws_sdk_lambda::error::SdkError<E>,
) -> PortError
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_lambda::error::ProvideErrorMetadata;
    if error.code() == Some("ResourceNotFoundException") {
        return PortError::NotFound(format!("no Lambda function {function}"));
    }
    PortError::aws(operation, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_verdicts() {
        assert_eq!(
            hook_verdict(None, br#"{"status":"Succeeded"}"#),
            HookOutcome::Succeeded
        );
        // Fails closed: anything but an explicit success is a failure.
        for answer in [
            &b"null"[..],
            b"{}",
            br#"{"status":"FAILED"}"#,
            br#"{"status":"succeeded"}"#,
            b"",
        ] {
            assert!(
                matches!(hook_verdict(None, answer), HookOutcome::Failed { .. }),
                "{}",
                String::from_utf8_lossy(answer)
            );
        }
        assert_eq!(
            hook_verdict(
                None,
                br#"{"status":"Failed","reason":"GET / returned 500"}"#
            ),
            HookOutcome::Failed {
                reason: "GET / returned 500".into()
            }
        );
        assert_eq!(
            hook_verdict(
                Some("Unhandled"),
                br#"{"errorMessage":"boom","errorType":"Panic"}"#
            ),
            HookOutcome::Failed {
                reason: "Unhandled: boom".into()
            }
        );
    }
}
