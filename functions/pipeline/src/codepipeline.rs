//! The [`JobResults`] port on CodePipeline's job API.

use crate::job::{FailureKind, JobReport, JobResults, Reported};
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::{ExecutionDetails, FailureDetails, FailureType};
use glidepath_aws::PortError;

/// `PutJobSuccessResult` and `PutJobFailureResult`.
#[derive(Debug, Clone)]
pub struct CodePipelineJobs {
    client: Client,
}

impl CodePipelineJobs {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        CodePipelineJobs {
            client: Client::new(sdk),
        }
    }
}

fn failure_type(kind: FailureKind) -> FailureType {
    match kind {
        FailureKind::JobFailed => FailureType::JobFailed,
        FailureKind::ConfigurationError => FailureType::ConfigurationError,
        FailureKind::PermissionError => FailureType::PermissionError,
    }
}

/// A call's error: a job that already has its result is not a failure of ours.
fn judged<E>(
    operation: &'static str,
    error: aws_sdk_codepipeline::error::SdkError<E>,
) -> Result<Reported, PortError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if error.code() == Some("InvalidJobStateException") {
        return Ok(Reported::AlreadyFinished);
    }
    Err(PortError::aws(operation, error))
}

impl JobResults for CodePipelineJobs {
    async fn report(&self, job_id: &str, report: &JobReport) -> Result<Reported, PortError> {
        match report {
            JobReport::InProgress {
                token,
                summary,
                percent,
                external_id,
            } => {
                let details = ExecutionDetails::builder()
                    .summary(summary)
                    .percent_complete(*percent)
                    .external_execution_id(external_id)
                    .build();
                match self
                    .client
                    .put_job_success_result()
                    .job_id(job_id)
                    .continuation_token(token)
                    .execution_details(details)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Reported::Recorded),
                    Err(error) => judged("codepipeline:PutJobSuccessResult", error),
                }
            }
            JobReport::Succeeded {
                summary,
                external_id,
                variables,
            } => {
                let details = ExecutionDetails::builder()
                    .summary(summary)
                    .percent_complete(100)
                    .external_execution_id(external_id)
                    .build();
                match self
                    .client
                    .put_job_success_result()
                    .job_id(job_id)
                    .execution_details(details)
                    .set_output_variables(Some(variables.clone().into_iter().collect()))
                    .send()
                    .await
                {
                    Ok(_) => Ok(Reported::Recorded),
                    Err(error) => judged("codepipeline:PutJobSuccessResult", error),
                }
            }
            JobReport::Failed {
                kind,
                message,
                external_id,
            } => {
                let details = FailureDetails::builder()
                    .r#type(failure_type(*kind))
                    .message(message)
                    .set_external_execution_id(external_id.clone())
                    .build()
                    .map_err(|e| PortError::aws("codepipeline:PutJobFailureResult", e))?;
                match self
                    .client
                    .put_job_failure_result()
                    .job_id(job_id)
                    .failure_details(details)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Reported::Recorded),
                    Err(error) => judged("codepipeline:PutJobFailureResult", error),
                }
            }
        }
    }
}
