//! The one place an AWS SDK configuration is loaded, for every function, the CLI and the
//! end-to-end tests.
//!
//! The SDK's `default-https-client` feature is off on every SDK crate: it would link aws-lc,
//! a large C library (about 0.6 MB of every function's zip; BENCHMARKS.md, "Artifacts"), and
//! `deny.toml` bans it. [`https_client`] is the same client the SDK would make (hyper with rustls,
//! the system's trust store, the connector settings and sleep of each client, the proxy from
//! the environment) with rustls on `ring` instead. An SDK client built without this
//! configuration has no HTTP client at all and fails its first call, rather than sending
//! through a second TLS stack.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, TlsContext, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The HTTPS client every AWS client of Glidepath sends through: rustls on `ring`, trusting
/// the system's certificate authorities.
pub fn https_client() -> SharedHttpClient {
    https_client_trusting(TlsContext::default())
}

/// [`https_client`] with another trust store (the tests' own certificate authority).
pub fn https_client_trusting(context: TlsContext) -> SharedHttpClient {
    // What the SDK's own `default_https_client` (aws-smithy-runtime) does, line for line, with
    // ring for aws-lc. `build_with_connector_fn` is hidden from the crate's docs but is how the
    // SDK builds its client; the public `build_https` would not take the proxy from the
    // environment. The lockfile pins the crate: on an upgrade, compare this with that function.
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// `aws_config::defaults` at the latest behaviour version, sending through [`https_client`].
/// For callers that set more (a region, an endpoint, credentials) before loading.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// The configuration from the environment (region, credentials), loaded once per process.
pub async fn load() -> SdkConfig {
    defaults().load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_loaded_configuration_carries_an_http_client() {
        let sdk = defaults()
            .region(aws_config::Region::new("eu-west-1"))
            .load()
            .await;
        assert!(sdk.http_client().is_some(), "no HTTP client configured");
    }
}
