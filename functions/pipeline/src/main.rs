//! `pipeline`: the target of a CodePipeline Lambda invoke action; starts a rollout and keeps
//! the action in progress until it ends. Wiring only; logic in `handler`.

use glidepath_aws::adapters::AwsPorts;
use glidepath_aws::config::Config;
use glidepath_aws::function::{Invocation, init_tracing};
use lambda_runtime::{Error, LambdaEvent, service_fn};

mod codepipeline;
mod handler;
mod job;
mod release;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = glidepath_aws::sdk::load().await;
    let ports = AwsPorts::new(&sdk, &config);
    let jobs = codepipeline::CodePipelineJobs::new(&sdk);
    let settings = handler::Settings {
        policy: &config.policy,
        alarm_prefix: config.alarm_prefix.as_str(),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let invocation = Invocation::from_context(&event.context);
        let (ports, jobs, settings) = (&ports, &jobs, &settings);
        async move { handler::handle(ports, jobs, event.payload, &invocation, settings).await }
    }))
    .await
}
