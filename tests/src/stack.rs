//! Deploys the orchestrator: the workspace's function binaries (built by `scripts/test`
//! before the suite runs) are zipped as `bootstrap`, uploaded to S3, and `infra/template.yaml`
//! is deployed through CloudFormation (from S3) with each `CodeUri` pointing at its zip.

use crate::clients::Clients;
use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::{Capability, StackStatus};
use glidepath_aws::adapters::{CallCounter, DynamoStore};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The functions the template declares, by binary name.
pub const FUNCTIONS: &[&str] = &[
    "start",
    "pipeline",
    "step",
    "check-alarms",
    "finalize",
    "rollback",
    "watchdog",
    "pre-traffic-hook",
    "post-traffic-hook",
];

/// The deployed orchestrator's names.
#[derive(Debug, Clone)]
pub struct Orchestrator {
    pub stack: String,
    pub start: String,
    /// The CodePipeline action.
    pub pipeline: String,
    pub step: String,
    pub check_alarms: String,
    pub finalize: String,
    pub rollback: String,
    pub watchdog: String,
    pub pre_traffic_hook: String,
    pub post_traffic_hook: String,
    pub table: String,
    pub schedule_group: String,
    /// The bus `Rollout Requested` events go to.
    pub request_bus: String,
}

/// The member role (`infra/member-account.yaml`) the suite's stack assumes in other accounts.
pub const MEMBER_ROLE_NAME: &str = "glidepath-member";

/// The authorisation policy the suite deploys: anyone may do anything (the tests exercise
/// rollouts, not guardrails, which the handler tests cover) except principals of the
/// `intruder` role, which a deny rule refuses everything.
pub const E2E_POLICY: &str = r#"{"rules": [
    {"name": "no-intruders", "effect": "deny", "principals": ["arn:aws:sts::*:assumed-role/intruder/*"], "actions": ["*"]},
    {"name": "e2e", "principals": ["*"], "actions": ["*"], "mayOverride": ["*"]}],
  "guardrails": {"requireHealthSignal": false, "maxFirstStepPercent": 100,
                 "allAtOnceNeedsAllow": false, "downgradeNeedsAllow": false}}"#;

impl Orchestrator {
    /// Reads rollout state the way the functions do.
    pub fn store(&self, clients: &Clients) -> DynamoStore {
        DynamoStore::new(
            clients.dynamodb.clone(),
            &self.table,
            1,
            CallCounter::default(),
        )
    }
}

/// Where cargo put this build's binaries (`target/debug`), found from the running
/// executable: a test lives in `target/debug/deps`, the demo in `target/debug`.
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("the executable has no directory")?;
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent().context("deps has no parent")?;
    }
    Ok(dir.to_path_buf())
}

/// A Lambda deployment package holding `binary` as an executable `bootstrap`.
pub fn bootstrap_zip(binary: &str) -> anyhow::Result<Vec<u8>> {
    let path = binary_dir()?.join(binary);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "{} is missing: build the functions first (scripts/test does)",
            path.display()
        )
    })?;
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    writer.start_file("bootstrap", options)?;
    writer.write_all(&bytes)?;
    writer.finish()?;
    Ok(buffer.into_inner())
}

/// Uploads the function zips and deploys the template as stack `name`.
pub async fn deploy(clients: &Clients, name: &str) -> anyhow::Result<Orchestrator> {
    let bucket = format!("{name}-code");
    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .context("creating the code bucket")?;
    let template_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let mut template = std::fs::read_to_string(&template_path)
        .with_context(|| format!("reading {}", template_path.display()))?;
    for function in FUNCTIONS {
        let zip = bootstrap_zip(function)?;
        let key = format!("{function}.zip");
        clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(zip.into())
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        let local = format!("CodeUri: ../functions/{function}\n");
        anyhow::ensure!(template.contains(&local), "the template has no `{local}`");
        template = template.replace(&local, &format!("CodeUri: s3://{bucket}/{key}\n"));
    }
    // The template is larger than the 51,200 bytes CloudFormation takes inline: it goes
    // through S3, as `sam deploy` sends it.
    clients
        .s3
        .put_object()
        .bucket(&bucket)
        .key("template.yaml")
        .body(template.into_bytes().into())
        .send()
        .await
        .context("uploading the template")?;
    clients
        .cloudformation
        .create_stack()
        .stack_name(name)
        .template_url(format!("https://s3.amazonaws.com/{bucket}/template.yaml"))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("AuthorizationPolicy")
                .parameter_value(E2E_POLICY)
                .build(),
        )
        // Members of a release in other accounts are reached through this role there.
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("MemberRoleName")
                .parameter_value(MEMBER_ROLE_NAME)
                .build(),
        )
        .send()
        .await
        .context("CreateStack")?;
    let stack = crate::wait_for(
        "the stack to be created",
        Duration::from_secs(300),
        || async {
            let stacks = clients
                .cloudformation
                .describe_stacks()
                .stack_name(name)
                .send()
                .await?;
            let stack = stacks
                .stacks()
                .first()
                .cloned()
                .context("DescribeStacks returned no stack")?;
            match stack.stack_status() {
                Some(StackStatus::CreateComplete) => Ok(Some(stack)),
                Some(StackStatus::CreateInProgress) | None => Ok(None),
                Some(other) => bail!(
                    "stack {name} is {other:?}: {}",
                    stack.stack_status_reason().unwrap_or_default()
                ),
            }
        },
    )
    .await?;
    let outputs: HashMap<String, String> = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    let output = |key: &str| {
        outputs
            .get(key)
            .cloned()
            .with_context(|| format!("stack output {key} is missing"))
    };
    Ok(Orchestrator {
        stack: name.to_string(),
        start: output("StartFunctionName")?,
        pipeline: output("PipelineFunctionName")?,
        step: output("StepFunctionName")?,
        check_alarms: output("CheckAlarmsFunctionName")?,
        finalize: output("FinalizeFunctionName")?,
        rollback: output("RollbackFunctionName")?,
        watchdog: output("WatchdogFunctionName")?,
        pre_traffic_hook: output("PreTrafficHookFunctionName")?,
        post_traffic_hook: output("PostTrafficHookFunctionName")?,
        table: output("TableName")?,
        schedule_group: output("ScheduleGroupName")?,
        request_bus: output("RequestBusName")?,
    })
}
