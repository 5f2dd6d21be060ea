//! `step`: advances rollouts on Scheduler ticks, and takes operator commands
//! (pause / resume / promote) and watchdog re-drives. Wiring only; logic in `handler`.

use glidepath_aws::adapters::AwsPorts;
use glidepath_aws::config::Config;
use glidepath_aws::entry::{Entry, respond};
use glidepath_aws::function::init_tracing;
use lambda_runtime::{Error, LambdaEvent, service_fn};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = glidepath_aws::sdk::load().await;
    let ports = AwsPorts::new(&sdk, &config);
    let policy = &config.policy;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deadline = glidepath_aws::function::deadline(&event.context);
        let entry = Entry::of(&event.payload);
        let ports = &ports;
        async move {
            respond(
                entry,
                handler::handle_until(ports, event.payload, deadline, policy).await,
            )
        }
    }))
    .await
}
