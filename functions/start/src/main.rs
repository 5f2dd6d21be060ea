//! `start`: validates a rollout request, creates the rollout and takes its first step.
//! Wiring only; logic in `handler`.

use glidepath_aws::adapters::AwsPorts;
use glidepath_aws::config::Config;
use glidepath_aws::entry::{Entry, respond};
use glidepath_aws::function::init_tracing;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = glidepath_aws::sdk::load().await;
    let ports = AwsPorts::new(&sdk, &config);
    let (policy, alarm_prefix) = (&config.policy, config.alarm_prefix.as_str());
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let invocation = glidepath_aws::function::Invocation::from_context(&event.context);
        let entry = Entry::of(&event.payload);
        let ports = &ports;
        async move {
            respond(
                entry,
                glidepath_start::handle_event(
                    ports,
                    event.payload,
                    &invocation,
                    policy,
                    alarm_prefix,
                )
                .await,
            )
        }
    }))
    .await
}
