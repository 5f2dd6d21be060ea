//! Running the smoke tests against one version and judging the answers.

use crate::config::SmokeTest;
use crate::ports::HookPorts;
use glidepath_aws::PortError;
use glidepath_core::HookOutcome;
use serde_json::Value;

/// Runs every test in order and stops at the first failure.
pub async fn run<P: HookPorts>(
    ports: &P,
    function: &str,
    version: &str,
    tests: &[SmokeTest],
) -> Result<HookOutcome, PortError> {
    for test in tests {
        let payload =
            serde_json::to_vec(&test.event).map_err(|e| PortError::Invalid(e.to_string()))?;
        let invoked = match ports.invoke(function, version, &payload).await {
            Ok(invoked) => invoked,
            Err(PortError::NotFound(message)) => {
                return Ok(HookOutcome::Failed {
                    reason: format!("test {}: {message}", test.name),
                });
            }
            Err(error) => return Err(error),
        };
        let answer = String::from_utf8_lossy(&invoked.payload);
        if let Some(kind) = &invoked.function_error {
            return Ok(HookOutcome::Failed {
                reason: format!(
                    "test {}: version {version} returned a function error ({kind}): {}",
                    test.name,
                    clip(&answer)
                ),
            });
        }
        if let Some(expected) = &test.expect {
            let actual: Value = serde_json::from_slice(&invoked.payload).unwrap_or(Value::Null);
            if !contains(&actual, expected) {
                return Ok(HookOutcome::Failed {
                    reason: format!(
                        "test {}: the answer {} does not contain {expected}",
                        test.name,
                        clip(&answer)
                    ),
                });
            }
        }
    }
    Ok(HookOutcome::Succeeded)
}

/// Whether `actual` contains `expected`: every key of an expected object is in the actual
/// object with a containing value; arrays match element by element; other values are equal.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|found| contains(found, value))),
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len()
                && actual.iter().zip(expected).all(|(a, e)| contains(a, e))
        }
        _ => actual == expected,
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 300;
    if text.len() <= MAX {
        return text.to_string();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &text[..cut])
}
