//! A CodePipeline job as this function needs it, with its secrets removed at the door; what
//! the function reports back; and the port it reports through.
//!
//! The job event carries `artifactCredentials` (temporary keys to the pipeline's artifact
//! bucket). Glidepath never needs them: [`Job::parse`] overwrites them before the event is
//! read into any type, so no `Debug`, error message or log line can carry them.

use aws_lambda_events::event::codepipeline_job::CodePipelineJobEvent;
use glidepath_aws::PortError;
use glidepath_aws::function::FunctionError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;

/// The most characters of `executionDetails.summary` CodePipeline takes.
pub const SUMMARY_LIMIT: usize = 2048;
/// The most characters of a failure's `message` CodePipeline takes.
pub const MESSAGE_LIMIT: usize = 5000;

/// What this function reads of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub account: Option<String>,
    /// The action's `UserParameters`, as CodePipeline resolved them (variables substituted).
    pub user_parameters: Option<String>,
    /// Set when CodePipeline invokes again after an earlier answer asked it to: the rollout id.
    pub continuation_token: Option<String>,
}

impl Job {
    /// Reads a job event. The credentials are blanked first, whatever the event's shape.
    pub fn parse(mut event: Value) -> Result<Job, FunctionError> {
        if let Some(data) = event
            .get_mut("CodePipeline.job")
            .and_then(|job| job.get_mut("data"))
            .and_then(Value::as_object_mut)
        {
            data.insert(
                "artifactCredentials".into(),
                Value::Object(Default::default()),
            );
        }
        let event: CodePipelineJobEvent = serde_json::from_value(event)
            .map_err(|e| FunctionError::invalid(format!("not a CodePipeline job event: {e}")))?;
        let job = event.code_pipeline_job;
        let id = job
            .id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| FunctionError::invalid("`CodePipeline.job.id`: missing"))?;
        Ok(Job {
            id,
            account: job.account_id,
            user_parameters: job.data.action_configuration.configuration.user_parameters,
            continuation_token: job.data.continuation_token.filter(|t| !t.is_empty()),
        })
    }
}

/// How a failed job is classed in the pipeline console (`FailureDetails.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The rollout rolled back or failed, or could not start (`JobFailed`).
    JobFailed,
    /// The action's `UserParameters` are not a valid rollout request (`ConfigurationError`).
    ConfigurationError,
    /// The authorisation policy refused the pipeline (`PermissionError`).
    PermissionError,
}

/// What the function tells CodePipeline about a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobReport {
    /// Still going: keep the action *In progress* and invoke again with `token`.
    InProgress {
        token: String,
        summary: String,
        percent: i32,
        external_id: String,
    },
    /// Done: the action succeeds and sets its output variables.
    Succeeded {
        summary: String,
        external_id: String,
        variables: BTreeMap<String, String>,
    },
    /// The action fails with `message`.
    Failed {
        kind: FailureKind,
        message: String,
        external_id: Option<String>,
    },
}

impl JobReport {
    /// A failure, its message cut to CodePipeline's limit.
    pub fn failed(kind: FailureKind, message: &str, external_id: Option<String>) -> JobReport {
        JobReport::Failed {
            kind,
            message: truncate(message, MESSAGE_LIMIT),
            external_id,
        }
    }
}

/// `text`, cut to at most `limit` characters (with an ellipsis when cut).
pub fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// What CodePipeline said to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Recorded,
    /// The job already has its result (`InvalidJobStateException`): a repeated delivery, or
    /// the action timed out. Nothing to do.
    AlreadyFinished,
}

/// CodePipeline's job API (`PutJobSuccessResult`, `PutJobFailureResult`).
pub trait JobResults: Send + Sync {
    fn report(
        &self,
        job_id: &str,
        report: &JobReport,
    ) -> impl Future<Output = Result<Reported, PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("fixtures/codepipeline-job.json");

    #[test]
    fn the_documented_job_reads_without_its_credentials() {
        let event: Value = serde_json::from_str(FIXTURE).expect("fixture");
        let job = Job::parse(event).expect("job");
        assert_eq!(job.id, "11111111-abcd-1111-abcd-111111abcdef");
        assert_eq!(job.account.as_deref(), Some("111111111111"));
        assert!(job.user_parameters.unwrap().contains("orders-api"));
        assert_eq!(
            job.continuation_token.as_deref(),
            Some("A continuation token if continuing job")
        );
    }

    #[test]
    fn a_credential_of_the_wrong_type_is_not_echoed_in_the_error() {
        let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture");
        event["CodePipeline.job"]["data"]["artifactCredentials"]["secretAccessKey"] =
            Value::from(12345);
        event["CodePipeline.job"]["data"]["inputArtifacts"] = Value::from("wrong");
        let error = Job::parse(event).expect_err("malformed");
        assert!(!error.message.contains("12345"), "{}", error.message);
        assert!(!error.message.contains("EXAMPLE"), "{}", error.message);
    }

    #[test]
    fn a_job_without_an_id_is_refused_by_field() {
        let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture");
        event["CodePipeline.job"]["id"] = Value::Null;
        let error = Job::parse(event).expect_err("no id");
        assert!(error.message.contains("`CodePipeline.job.id`"));
    }

    #[test]
    fn long_texts_are_cut_to_the_limit() {
        let long = "x".repeat(MESSAGE_LIMIT + 10);
        let JobReport::Failed { message, .. } =
            JobReport::failed(FailureKind::JobFailed, &long, None)
        else {
            unreachable!()
        };
        assert_eq!(message.chars().count(), MESSAGE_LIMIT);
        assert!(message.ends_with('…'));
        assert_eq!(truncate("short", 10), "short");
    }
}
