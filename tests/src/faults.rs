//! A fault-injecting HTTP proxy between the deployed functions and the emulator. Each request
//! is, at the configured rate, answered with one of the faults AWS clients meet, else
//! forwarded as it is:
//!
//! - `throttled`: `503 Service Unavailable` (the SDK backs off and retries);
//! - `server-error`: `500 Internal Server Error`;
//! - `reset`: the connection is reset before any answer;
//! - `slow`: forwarded after 1–3 s;
//! - `lost-answer`: forwarded and applied, then the connection is reset: the caller never
//!   learns that its call took effect, and its retry meets the consequences (a stale
//!   `RevisionId`, a failed condition).
//!
//! Functions are pointed at it with the SDK's service-specific endpoint variables
//! (`AWS_ENDPOINT_URL_DYNAMODB`, ...), which take precedence over the emulator's own
//! `AWS_ENDPOINT_URL`. It listens on loopback only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The kinds of fault, by name.
pub const FAULTS: &[&str] = &["throttled", "server-error", "reset", "slow", "lost-answer"];

/// A running proxy.
#[derive(Clone)]
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    state: Arc<State>,
}

struct State {
    upstream: SocketAddr,
    /// Faults per million requests.
    rate_ppm: AtomicU64,
    rng: Mutex<u64>,
    requests: AtomicU64,
    injected: Mutex<BTreeMap<&'static str, u64>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` that injects a fault into `rate` (0–1) of the requests,
    /// chosen by a seeded generator.
    pub async fn start(upstream: SocketAddr, rate: f64, seed: u64) -> anyhow::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            upstream,
            rate_ppm: AtomicU64::new((rate.clamp(0.0, 1.0) * 1e6) as u64),
            rng: Mutex::new(seed),
            requests: AtomicU64::new(0),
            injected: Mutex::new(BTreeMap::new()),
        });
        let accepting = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = accepting.clone();
                tokio::spawn(async move {
                    let _ = serve(client, state).await;
                });
            }
        });
        Ok(FaultProxy { url, state })
    }

    /// Changes the fault rate (0 turns faults off).
    pub fn set_rate(&self, rate: f64) {
        self.state
            .rate_ppm
            .store((rate.clamp(0.0, 1.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// Requests seen so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Faults injected so far, by kind.
    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        self.state
            .injected
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

impl State {
    /// SplitMix64: the next pseudo-random number.
    fn next(&self) -> u64 {
        let mut seed = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&self) -> Option<&'static str> {
        let roll = self.next() % 1_000_000;
        if roll >= self.rate_ppm.load(Ordering::Relaxed) {
            return None;
        }
        let fault = FAULTS[(self.next() % FAULTS.len() as u64) as usize];
        if let Ok(mut injected) = self.injected.lock() {
            *injected.entry(fault).or_default() += 1;
        }
        Some(fault)
    }
}

/// Serves one client connection, request by request (HTTP/1.1 keep-alive).
async fn serve(mut client: TcpStream, state: Arc<State>) -> anyhow::Result<()> {
    client.set_nodelay(true)?;
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_message(&mut client, &mut buffer).await? else {
            return Ok(());
        };
        state.requests.fetch_add(1, Ordering::Relaxed);
        match state.pick() {
            Some("throttled") => respond(&mut client, "503 Service Unavailable").await?,
            Some("server-error") => respond(&mut client, "500 Internal Server Error").await?,
            Some("reset") => return reset(client),
            Some("lost-answer") => {
                let _ = forward(&request, state.upstream).await?;
                return reset(client);
            }
            Some(_slow) => {
                let delay = 1_000 + state.next() % 2_000;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let answer = forward(&request, state.upstream).await?;
                client.write_all(&answer).await?;
            }
            None => {
                let answer = forward(&request, state.upstream).await?;
                client.write_all(&answer).await?;
            }
        }
    }
}

async fn respond(client: &mut TcpStream, status: &str) -> anyhow::Result<()> {
    let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
    client.write_all(answer.as_bytes()).await?;
    Ok(())
}

/// Drops the connection with a reset, not a clean close.
fn reset(client: TcpStream) -> anyhow::Result<()> {
    client.set_zero_linger()?;
    drop(client);
    Ok(())
}

/// Sends one request on a fresh connection and returns the whole answer.
async fn forward(request: &[u8], upstream: SocketAddr) -> anyhow::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.set_nodelay(true)?;
    server.write_all(request).await?;
    let mut buffer = Vec::new();
    read_message(&mut server, &mut buffer)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the emulator closed the connection without an answer"))
}

/// Reads one HTTP/1.1 message (head, then a body by `content-length` or chunked) from
/// `stream`, keeping any bytes past it in `buffer`. `None` on a clean end of stream.
async fn read_message(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> anyhow::Result<Option<Vec<u8>>> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        if !fill(stream, buffer).await? {
            return if buffer.is_empty() {
                Ok(None)
            } else {
                anyhow::bail!("the stream ended inside a message head")
            };
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let length = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        loop {
            if let Some(end) = chunked_end(&buffer[head_end..]) {
                break end;
            }
            if !fill(stream, buffer).await? {
                anyhow::bail!("the stream ended inside a chunked body");
            }
        }
    } else if let Some(length) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
        length
    } else if head.starts_with("http/") && !head.starts_with("http/1.1 204") {
        // An answer without a length runs to the end of the connection.
        while fill(stream, buffer).await? {}
        buffer.len() - head_end
    } else {
        0
    };
    while buffer.len() < head_end + length {
        if !fill(stream, buffer).await? {
            anyhow::bail!("the stream ended inside a body");
        }
    }
    let message: Vec<u8> = buffer.drain(..head_end + length).collect();
    Ok(Some(message))
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let read = stream.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The length of a complete chunked body at the start of `body`, if it is all there.
fn chunked_end(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line_end = at + find(&body[at..], b"\r\n")?;
        let size_text = String::from_utf8_lossy(&body[at..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers end with an empty line.
            let end = at + find(&body[at..], b"\r\n")? + 2;
            return Some(end);
        }
        at += size + 2;
        if at > body.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_a_chunked_body() {
        assert_eq!(chunked_end(b"3\r\nabc\r\n0\r\n\r\n"), Some(13));
        assert_eq!(chunked_end(b"3\r\nabc\r\n"), None);
    }
}
