//! Reaching the stack's functions through their function URLs (`AuthType: AWS_IAM`), signed
//! with SigV4 (service `lambda`) from the standard credentials chain, so that the rollout
//! records the caller's own IAM ARN rather than `lambda:invoke`.
//!
//! With `AWS_ENDPOINT_URL` set (a local emulator), the request goes to that endpoint with the
//! function URL's own `Host` header, which is how an emulator tells function URLs apart.
//!
//! The client is hyper with rustls on ring and the system's certificate authorities, not the
//! SDK's: it connects within [`CONNECT_TIMEOUT`] and gives up on an answer after
//! [`ANSWER_DEADLINE`], so a dead network cannot hang the CLI. It does not go through a proxy.

use super::{Exit, OperateError};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// How long a connection to a function URL may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the CLI waits for a function URL's answer. Lambda ends every invocation within
/// 15 minutes, its largest timeout, and the URL then answers with an error; a connection
/// silent for longer than that is dead.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(15 * 60 + 30);

/// Signs and sends requests to function URLs.
pub struct UrlInvoker {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    credentials: SharedCredentialsProvider,
    region: String,
    /// `AWS_ENDPOINT_URL`, when set: where requests go instead of the URL's host.
    endpoint: Option<http::Uri>,
    /// [`ANSWER_DEADLINE`], or a shorter one in tests.
    deadline: Duration,
}

/// A signed request, ready to send (and to inspect in tests).
pub fn signed_request(
    url: &http::Uri,
    endpoint: Option<&http::Uri>,
    body: &[u8],
    credentials: &aws_credential_types::Credentials,
    region: &str,
    time: SystemTime,
) -> Result<http::Request<Full<Bytes>>, OperateError> {
    let host = url
        .authority()
        .map(|a| a.to_string())
        .ok_or_else(|| OperateError::new(Exit::Aws, format!("function URL {url} has no host")))?;
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    // What is signed is the function URL itself; an emulator endpoint only changes where the
    // bytes go.
    let signed_uri = format!("https://{host}{path}");
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| OperateError::new(Exit::Aws, format!("could not sign the request: {e}")))?
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
    ];
    let signable = SignableRequest::new(
        "POST",
        &signed_uri,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| OperateError::new(Exit::Aws, format!("could not sign the request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| OperateError::new(Exit::Aws, format!("could not sign the request: {e}")))?
        .into_parts();
    let target = match endpoint {
        Some(endpoint) => format!(
            "{}://{}{path}",
            endpoint.scheme_str().unwrap_or("http"),
            endpoint
                .authority()
                .map(|a| a.as_str())
                .unwrap_or("localhost")
        ),
        None => signed_uri,
    };
    let mut request = http::Request::builder()
        .method("POST")
        .uri(target)
        .header("host", &host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| OperateError::new(Exit::Aws, format!("could not build the request: {e}")))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

impl UrlInvoker {
    pub fn new(
        credentials: SharedCredentialsProvider,
        region: String,
        endpoint: Option<&str>,
    ) -> Result<UrlInvoker, OperateError> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| OperateError::new(Exit::Aws, format!("no TLS root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let endpoint = endpoint
            .map(|text| {
                text.parse::<http::Uri>().map_err(|e| {
                    OperateError::new(Exit::Aws, format!("AWS_ENDPOINT_URL `{text}`: {e}"))
                })
            })
            .transpose()?;
        Ok(UrlInvoker {
            client: Client::builder(TokioExecutor::new()).build(connector),
            credentials,
            region,
            endpoint,
            deadline: ANSWER_DEADLINE,
        })
    }

    /// The same invoker, giving up on an answer after `deadline` instead.
    pub fn with_deadline(self, deadline: Duration) -> UrlInvoker {
        UrlInvoker { deadline, ..self }
    }

    /// POSTs `payload` to `url`; a Glidepath error (`{errorType, errorMessage}`) becomes
    /// [`OperateError::from_function`], a refusal by the URL's IAM check a `Forbidden` exit.
    pub async fn post(&self, url: &str, payload: &Value) -> Result<Value, OperateError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| OperateError::new(Exit::Aws, format!("function URL `{url}`: {e}")))?;
        let credentials = self.credentials.provide_credentials().await.map_err(|e| {
            OperateError::new(Exit::Aws, format!("no AWS credentials to sign with: {e}"))
        })?;
        let body = payload.to_string();
        let request = signed_request(
            &uri,
            self.endpoint.as_ref(),
            body.as_bytes(),
            &credentials,
            &self.region,
            SystemTime::now(),
        )?;
        let exchange = async {
            let response =
                self.client.request(request).await.map_err(|e| {
                    OperateError::new(Exit::Aws, format!("could not reach {url}: {e}"))
                })?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| {
                    OperateError::new(Exit::Aws, format!("reading the answer of {url}: {e}"))
                })?
                .to_bytes();
            Ok::<_, OperateError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.deadline, exchange)
            .await
            .map_err(|_| {
                OperateError::new(
                    Exit::Aws,
                    format!(
                        "no answer from {url} within {} s; the request may or may not have been carried out: look with `glidepath status` before sending it again",
                        self.deadline.as_secs_f64()
                    ),
                )
            })??;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        match answer["errorType"].as_str() {
            Some(error_type) => Err(OperateError::from_function(
                error_type,
                answer["errorMessage"]
                    .as_str()
                    .unwrap_or("the function failed"),
            )),
            None if status == 403 => Err(OperateError::new(
                Exit::Forbidden,
                format!(
                    "the function URL refused the signed request (HTTP 403): your credentials need lambda:InvokeFunctionUrl on it ({url})"
                ),
            )),
            None => Err(OperateError::new(
                Exit::Aws,
                format!(
                    "{url} answered HTTP {status}: {}",
                    String::from_utf8_lossy(&bytes)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn credentials(token: Option<&str>) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        )
    }

    #[test]
    fn a_request_is_signed_for_lambda_in_the_region() {
        let url: http::Uri = "https://abc123.lambda-url.eu-west-1.on.aws/"
            .parse()
            .expect("a URL");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let request = signed_request(
            &url,
            None,
            br#"{"rolloutId":"r-1","command":"pause"}"#,
            &credentials(Some("session-token")),
            "eu-west-1",
            time,
        )
        .expect("signed");
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        // The same request signed by an independent implementation, botocore 1.43's
        // `SigV4Auth(credentials, "lambda", "eu-west-1")` at 2026-11-18T11:06:40Z, gives
        // exactly this header.
        assert_eq!(
            header("authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261118/eu-west-1/lambda/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
             Signature=3f5f93c9bd02277f3e18e50eae38cd449a7e211b7ee6b8afdb93e0ced2186b04"
        );
        assert_eq!(header("x-amz-date"), "20261118T110640Z");
        assert_eq!(header("x-amz-security-token"), "session-token");
        assert_eq!(header("host"), "abc123.lambda-url.eu-west-1.on.aws");
        assert_eq!(
            request.uri().to_string(),
            "https://abc123.lambda-url.eu-west-1.on.aws/"
        );
    }

    #[tokio::test]
    async fn a_silent_function_url_is_given_up_on() {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let invoker = UrlInvoker::new(
            SharedCredentialsProvider::new(credentials(None)),
            "us-east-1".into(),
            Some(&endpoint),
        )
        .expect("invoker")
        .with_deadline(Duration::from_millis(300));
        // Without its own deadline the invoker would wait forever: the outer one fails the
        // test instead of hanging it.
        let refused = tokio::time::timeout(
            Duration::from_secs(5),
            invoker.post(
                "https://abc123.lambda-url.us-east-1.on.aws/",
                &serde_json::json!({"command": "pause"}),
            ),
        )
        .await
        .expect("the invoker gave up by itself within 5 s")
        .expect_err("no answer");
        assert!(
            refused.message.contains("no answer from"),
            "{}",
            refused.message
        );
        assert!(
            refused.message.contains("glidepath status"),
            "{}",
            refused.message
        );
        held.abort();
    }

    #[test]
    fn an_emulator_gets_the_bytes_and_the_url_keeps_its_host() {
        let url: http::Uri = "https://abc123.lambda-url.us-east-1.on.aws/"
            .parse()
            .expect("a URL");
        let endpoint: http::Uri = "http://127.0.0.1:4566".parse().expect("an endpoint");
        let request = signed_request(
            &url,
            Some(&endpoint),
            b"{}",
            &credentials(None),
            "us-east-1",
            SystemTime::now(),
        )
        .expect("signed");
        assert_eq!(request.uri().to_string(), "http://127.0.0.1:4566/");
        assert_eq!(
            request.headers().get("host").and_then(|v| v.to_str().ok()),
            Some("abc123.lambda-url.us-east-1.on.aws")
        );
    }
}
