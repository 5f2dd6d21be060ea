//! `watchdog`: on a `rate()` schedule, re-drives every rollout whose tick, hook stage or
//! rollback is overdue, so a lost schedule never leaves a rollout stuck. Wiring only.

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
        handler::handle(&ports, event.payload, &config.grace)
    }))
    .await
}
