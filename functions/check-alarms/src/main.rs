//! `check-alarms`: rolls back, at once, every active rollout an alarm guards when it goes
//! to `ALARM`. Wiring only; logic in `handler`.

use glidepath_aws::adapters::AwsPorts;
use glidepath_aws::config::Config;
use glidepath_aws::function::init_tracing;
use lambda_runtime::{Error, LambdaEvent, service_fn};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = glidepath_aws::sdk::load().await;
    let ports = AwsPorts::new(&sdk, &config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let home = handler::Home::new(config.region.clone(), &event.context.invoked_function_arn)
            .with_policy(config.policy.clone());
        let ports = &ports;
        async move { handler::handle(ports, event.payload, &home).await }
    }))
    .await
}
