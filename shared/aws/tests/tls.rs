//! The HTTPS client of `glidepath_aws::sdk` against a real TLS server on loopback: an AWS
//! call (DynamoDB `ListTables`, signed) goes through rustls on ring to a server whose
//! certificate a test certificate authority signed, and a server the client does not trust
//! is refused before any request is sent.
//!
//! The client as deployed, [`sdk::https_client`], trusts the system's store, which
//! rustls-native-certs finds through `SSL_CERT_FILE` first: a child process of this test
//! binary, with that variable pointing at the test authority and no proxy variables, makes the
//! same call through it (a test cannot set a variable in its own process: `set_var` is
//! `unsafe`, which this workspace forbids).
//!
//! `fixtures/tls/` holds that authority's certificate (its key was deleted once it had signed)
//! and a `localhost` certificate and key, for these tests only; `generate.sh` there made them.
//! The tests in this process take the proxy from the environment as the deployed client
//! does: with `HTTPS_PROXY` set and `localhost` not in `NO_PROXY` they would reach the proxy.

use std::sync::Arc;

use aws_smithy_http_client::tls::{TlsContext, TrustStore};
use glidepath_aws::sdk;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const CA: &str = include_str!("fixtures/tls/ca.pem");
const LOCALHOST_CERT: &str = include_str!("fixtures/tls/localhost.pem");
const LOCALHOST_KEY: &str = include_str!("fixtures/tls/localhost.key");
const LIST_TABLES: &str = r#"{"TableNames":["glidepath-tls"]}"#;

/// Serves one HTTPS connection on loopback as `localhost` and answers its one request with a
/// DynamoDB `ListTables` answer. The task's value is the request's head, or the TLS error.
async fn serve_once() -> (u16, JoinHandle<Result<String, String>>) {
    let chain = vec![CertificateDer::from_pem_slice(LOCALHOST_CERT.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(LOCALHOST_KEY.as_bytes()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = tls.read(&mut buffer).await.map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the client closed before its request".into());
            }
            request.extend_from_slice(&buffer[..read]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{LIST_TABLES}",
            LIST_TABLES.len()
        );
        tls.write_all(answer.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tls.shutdown().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&request).to_string();
        Ok(text[..text.find("\r\n\r\n").unwrap_or(text.len())].to_string())
    });
    (port, served)
}

/// Whom the client trusts.
enum Trust {
    /// The test authority only, through [`sdk::https_client_trusting`].
    TestAuthority,
    /// The system's store, through [`sdk::https_client`] as deployed.
    System,
}

async fn dynamodb(port: u16, trust: Trust) -> aws_sdk_dynamodb::Client {
    let mut loader = sdk::defaults()
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .endpoint_url(format!("https://localhost:{port}"));
    if let Trust::TestAuthority = trust {
        let context = TlsContext::builder()
            .with_trust_store(
                TrustStore::empty()
                    .with_native_roots(false)
                    .with_pem_certificate(CA.as_bytes()),
            )
            .build()
            .expect("trust store");
        loader = loader.http_client(sdk::https_client_trusting(context));
    }
    let config = aws_sdk_dynamodb::config::Builder::from(&loader.load().await)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// `ListTables` through a client trusting `trust`, to a server on loopback; asserts the
/// answer arrived and the request was signed.
async fn list_tables_over_tls(trust: Trust) {
    let (port, served) = serve_once().await;
    let tables = dynamodb(port, trust)
        .await
        .list_tables()
        .send()
        .await
        .expect("ListTables over TLS");
    assert_eq!(tables.table_names(), ["glidepath-tls"]);
    let head = served.await.expect("server task").expect("TLS served");
    assert!(head.starts_with("POST / HTTP/1.1"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("x-amz-target: dynamodb_20120810.listtables"),
        "{head}"
    );
    assert!(head.contains("authorization: aws4-hmac-sha256"), "{head}");
}

#[tokio::test]
async fn a_signed_call_goes_through_rustls_on_ring() {
    list_tables_over_tls(Trust::TestAuthority).await;
}

/// The name of the test [`the_deployed_client_trusts_the_system_store`] runs in a child.
const CHILD: &str = "child_the_deployed_client_over_tls";

#[test]
fn the_deployed_client_trusts_the_system_store() {
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"));
    child
        .args(["--exact", CHILD, "--include-ignored", "--test-threads", "1"])
        .env("SSL_CERT_FILE", ca)
        .env("GLIDEPATH_TLS_CHILD", "1")
        .env_remove("SSL_CERT_DIR");
    for proxy in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        child.env_remove(proxy);
    }
    let output = child.output().expect("the child test ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
#[ignore = "run in a child process by the_deployed_client_trusts_the_system_store"]
async fn child_the_deployed_client_over_tls() {
    assert_eq!(
        std::env::var("GLIDEPATH_TLS_CHILD").as_deref(),
        Ok("1"),
        "{CHILD} needs SSL_CERT_FILE set to the test authority: run the_deployed_client_trusts_the_system_store"
    );
    list_tables_over_tls(Trust::System).await;
}

#[tokio::test]
async fn a_server_outside_the_trust_store_is_refused() {
    let (port, served) = serve_once().await;
    // The system's certificate authorities, as deployed: they never signed the test CA.
    let refused = dynamodb(port, Trust::System)
        .await
        .list_tables()
        .send()
        .await
        .expect_err("an untrusted server must be refused");
    let text = aws_smithy_types::error::display::DisplayErrorContext(&refused).to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    let server_side = served.await.expect("server task");
    assert!(
        server_side.is_err(),
        "the request reached the server: {server_side:?}"
    );
}
