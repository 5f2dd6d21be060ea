//! `finalize`: 100 % on the new version, the post-traffic hook, success.
//! Wiring only; logic in `handler`.

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
        let deadline = glidepath_aws::function::deadline(&event.context);
        handler::handle_until(&ports, event.payload, deadline)
    }))
    .await
}
