//! A local HTTP endpoint that answers and records AWS JSON-protocol calls, standing in for
//! CodeDeploy (which the emulator lacks). Functions point at it with
//! `AWS_ENDPOINT_URL_CODEDEPLOY`. It answers a target given an answer with [`Recorder::answer`]
//! with that answer, and every other call with `{}` (echoing a lifecycle hook execution id).

use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One recorded call: its `X-Amz-Target` (e.g. `CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus`) and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub target: String,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Recorder {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    answers: Answers,
}

type Answers = Arc<Mutex<Vec<(String, Value)>>>;

impl Recorder {
    /// Listens on a free loopback port until the process ends.
    pub async fn start() -> anyhow::Result<Recorder> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let answers: Answers = Arc::default();
        let (recorded, answering) = (calls.clone(), answers.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (recorded, answering) = (recorded.clone(), answering.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, recorded, answering).await;
                });
            }
        });
        Ok(Recorder {
            url,
            calls,
            answers,
        })
    }

    /// From now on, answers calls to `target` (e.g. `CodeDeploy_20141006.GetDeployment`)
    /// with `answer`.
    pub fn answer(&self, target: &str, answer: Value) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.retain(|(t, _)| t != target);
            answers.push((target.to_string(), answer));
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    calls: Arc<Mutex<Vec<Call>>>,
    answers: Answers,
) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut target = String::new();
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            reader.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-amz-target" => target = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).await?;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let canned = answers.lock().ok().and_then(|answers| {
            answers
                .iter()
                .find(|(t, _)| *t == target)
                .map(|(_, answer)| answer.to_string())
        });
        let answer = match (canned, body.get("lifecycleEventHookExecutionId")) {
            (Some(answer), _) => answer,
            (None, Some(id)) => {
                serde_json::json!({ "lifecycleEventHookExecutionId": id }).to_string()
            }
            (None, None) => "{}".to_string(),
        };
        if let Ok(mut calls) = calls.lock() {
            calls.push(Call { target, body });
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-requestid: e2e\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        write.write_all(response.as_bytes()).await?;
    }
}
