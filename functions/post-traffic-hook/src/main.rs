//! `post-traffic-hook`: smoke-tests the new version once it takes all the traffic, for a
//! Glidepath rollout (`hooks.postTraffic`) or a CodeDeploy `AfterAllowTraffic` hook. Wiring
//! only; the logic is in `glidepath_hooks`.

use glidepath_aws::function::init_tracing;
use glidepath_hooks::{AwsHookPorts, HookConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = HookConfig::from_env()?;
    let sdk = glidepath_aws::sdk::load().await;
    let ports = AwsHookPorts::new(&sdk);
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deadline = glidepath_aws::function::deadline(&event.context);
        glidepath_hooks::handle_until(&ports, &config, event.payload, deadline)
    }))
    .await
}
