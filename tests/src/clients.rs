//! SDK clients for the local emulator: `AWS_ENDPOINT_URL` (default `http://127.0.0.1:4566`),
//! test credentials, `us-east-1`, path-style S3.

use aws_config::Region;
use aws_sdk_lambda::config::Credentials;
use aws_sdk_lambda::primitives::Blob;
use serde_json::Value;

pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
pub struct Clients {
    pub sdk: aws_config::SdkConfig,
    pub endpoint: String,
    pub lambda: aws_sdk_lambda::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    pub async fn new() -> Clients {
        Clients::elsewhere(REGION, "test").await
    }

    /// Clients for `region`, signing with the access key `access_key`: the emulator keeps the
    /// state of each region apart, and takes a 12-digit access key as the account it acts in
    /// (`test` is its default account).
    pub async fn elsewhere(region: &str, access_key: &str) -> Clients {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:4566".to_string());
        let sdk = glidepath_aws::sdk::defaults()
            .endpoint_url(&endpoint)
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new(
                access_key.to_string(),
                "test",
                None,
                None,
                "glidepath-e2e",
            ))
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        Clients {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            scheduler: aws_sdk_scheduler::Client::new(&sdk),
            events: aws_sdk_eventbridge::Client::new(&sdk),
            cloudformation: aws_sdk_cloudformation::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            s3,
            sdk,
            endpoint,
        }
    }

    /// Invokes a function synchronously: `Ok(answer)`, or `Err((errorType, errorMessage))`
    /// when the function returned an error.
    pub async fn invoke(
        &self,
        function: &str,
        payload: &Value,
    ) -> anyhow::Result<Result<Value, (String, String)>> {
        let output = self
            .lambda
            .invoke()
            .function_name(function)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await?;
        let body: Value = output
            .payload()
            .map(|p| serde_json::from_slice(p.as_ref()).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        if output.function_error().is_some() {
            let field = |name: &str| {
                body.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Ok(Err((field("errorType"), field("errorMessage"))));
        }
        Ok(Ok(body))
    }
}
