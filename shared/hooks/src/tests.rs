//! The hook logic against a hand-written fake of its ports.

use super::*;
use glidepath_aws::PortError;
use std::sync::Mutex;

#[derive(Default)]
struct Fake {
    /// How long every invoke takes.
    delay: Option<std::time::Duration>,
    /// What each (function, version) answers: (function error, payload).
    answers: Vec<((String, String), Option<String>, Value)>,
    invoked: Mutex<Vec<(String, String, Value)>>,
    reports: Mutex<Vec<(String, String, bool)>>,
    /// Answers sent to Glidepath: (callback function, payload).
    answers_sent: Mutex<Vec<(String, Value)>>,
    report_fails: bool,
    /// The AppSpec of each deployment id.
    appspecs: Vec<(String, String)>,
}

impl HookPorts for Fake {
    async fn invoke(
        &self,
        function: &str,
        version: &str,
        payload: &[u8],
    ) -> Result<Invoked, PortError> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.invoked.lock().unwrap().push((
            function.into(),
            version.into(),
            serde_json::from_slice(payload).unwrap(),
        ));
        let answer = self
            .answers
            .iter()
            .find(|((f, v), _, _)| f == function && v == version);
        match answer {
            None => Err(PortError::NotFound(format!(
                "function {function} has no version {version}"
            ))),
            Some((_, error, payload)) => Ok(Invoked {
                function_error: error.clone(),
                payload: payload.to_string().into_bytes(),
            }),
        }
    }

    async fn appspec(&self, deployment_id: &str) -> Result<String, PortError> {
        self.appspecs
            .iter()
            .find(|(id, _)| id == deployment_id)
            .map(|(_, content)| content.clone())
            .ok_or_else(|| PortError::NotFound(format!("no deployment {deployment_id}")))
    }

    async fn answer(&self, callback_function: &str, payload: &Value) -> Result<(), PortError> {
        self.answers_sent
            .lock()
            .unwrap()
            .push((callback_function.into(), payload.clone()));
        Ok(())
    }

    async fn report(
        &self,
        deployment_id: &str,
        execution_id: &str,
        succeeded: bool,
    ) -> Result<(), PortError> {
        self.reports
            .lock()
            .unwrap()
            .push((deployment_id.into(), execution_id.into(), succeeded));
        if self.report_fails {
            return Err(PortError::Aws {
                operation: "CodeDeploy",
                message: "down".into(),
                source: None,
            });
        }
        Ok(())
    }
}

fn config() -> HookConfig {
    HookConfig {
        tests: vec![
            SmokeTest {
                name: "ping".into(),
                event: json!({"ping": true}),
                expect: Some(json!({"ok": true})),
            },
            SmokeTest {
                name: "order".into(),
                event: json!({"order": 1}),
                expect: None,
            },
        ],
    }
}

/// A deployment of `orders` to `version`, with the id of the fixture event.
fn deploying(version: &str, fake: Fake) -> Fake {
    Fake {
        appspecs: vec![(
            "d-deploymentId".into(),
            format!(
                r#"{{"version":0.0,"Resources":[{{"orders":{{"Type":"AWS::Lambda::Function","Properties":{{"Name":"orders","Alias":"live","CurrentVersion":"1","TargetVersion":"{version}"}}}}}}]}}"#
            ),
        )],
        ..fake
    }
}

fn fake(version_2: (Option<&str>, Value)) -> Fake {
    Fake {
        answers: vec![(
            ("orders".into(), "2".into()),
            version_2.0.map(str::to_string),
            version_2.1,
        )],
        ..Fake::default()
    }
}

fn glidepath_request() -> Value {
    json!({"rolloutId": "r-1", "function": "orders", "alias": "live", "currentVersion": "1", "targetVersion": "2", "phase": "PreTraffic"})
}

#[tokio::test]
async fn passing_tests_succeed_against_the_target_version() {
    let fake = fake((None, json!({"ok": true, "version": "2"})));
    let answer = handle(&fake, &config(), glidepath_request()).await.unwrap();
    assert_eq!(answer, json!({"status": "Succeeded"}));
    let invoked = fake.invoked.lock().unwrap();
    assert_eq!(invoked.len(), 2);
    assert!(
        invoked.iter().all(|(f, v, _)| f == "orders" && v == "2"),
        "qualified with the target version"
    );
}

#[tokio::test]
async fn a_function_error_or_a_missing_subset_fails() {
    let erroring = fake((Some("Unhandled"), json!({"errorMessage": "boom"})));
    let answer = handle(&erroring, &config(), glidepath_request())
        .await
        .unwrap();
    assert_eq!(answer["status"], "Failed");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("test ping: version 2 returned a function error (Unhandled)")
    );

    let wrong = fake((None, json!({"ok": false})));
    let answer = handle(&wrong, &config(), glidepath_request())
        .await
        .unwrap();
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("does not contain {\"ok\":true}"),
        "{answer}"
    );
}

#[tokio::test]
async fn codedeploy_gets_a_report_on_every_path() {
    let event: Value =
        serde_json::from_str(include_str!("codedeploy-lifecycle-hook.json")).unwrap();
    let good = deploying("2", fake((None, json!({"ok": true}))));
    assert_eq!(
        handle(&good, &config(), event.clone()).await.unwrap()["status"],
        "Succeeded"
    );
    assert!(good.reports.lock().unwrap()[0].2);
    assert_eq!(good.reports.lock().unwrap()[0].0, "d-deploymentId");
    assert_eq!(
        good.invoked.lock().unwrap()[0].1,
        "2",
        "the AppSpec's version"
    );

    let bad = deploying("2", fake((Some("Unhandled"), json!({}))));
    assert_eq!(
        handle(&bad, &config(), event.clone()).await.unwrap()["status"],
        "Failed"
    );
    assert!(!bad.reports.lock().unwrap()[0].2);

    // Issue 8: the version comes from the deployment, so a deployment of an untested
    // version (9 has no answer here) fails, whatever was configured before.
    let other_version = deploying("9", fake((None, json!({"ok": true}))));
    assert_eq!(
        handle(&other_version, &config(), event.clone())
            .await
            .unwrap()["status"],
        "Failed"
    );
    assert_eq!(other_version.invoked.lock().unwrap()[0].1, "9");
    assert!(!other_version.reports.lock().unwrap()[0].2);

    // A deployment whose AppSpec cannot be read fails, and is still reported.
    let unreadable = fake((None, json!({"ok": true})));
    let answer = handle(&unreadable, &config(), event.clone()).await.unwrap();
    assert_eq!(answer["status"], "Failed");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("could not read what deployment d-deploymentId deploys"),
        "{answer}"
    );
    assert!(unreadable.invoked.lock().unwrap().is_empty());
    assert!(!unreadable.reports.lock().unwrap()[0].2);

    let unreachable = Fake {
        report_fails: true,
        ..deploying("2", fake((None, json!({"ok": true}))))
    };
    assert_eq!(
        handle(&unreachable, &config(), event)
            .await
            .unwrap_err()
            .error_type,
        "Retryable"
    );
}

/// Issue 7, finding 8: tests slower than the invocation are cut short and reported as
/// failed before the deadline, instead of the function being killed before it reports.
#[tokio::test(start_paused = true)]
async fn codedeploy_gets_a_report_before_the_deadline() {
    let event: Value =
        serde_json::from_str(include_str!("codedeploy-lifecycle-hook.json")).unwrap();
    let slow = Fake {
        delay: Some(std::time::Duration::from_secs(900)),
        ..deploying("2", fake((None, json!({"ok": true}))))
    };
    let deadline = SystemTime::now() + std::time::Duration::from_secs(300);
    let answer = handle_until(&slow, &config(), event, Some(deadline))
        .await
        .unwrap();
    assert_eq!(answer["status"], "Failed");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("did not finish within"),
        "{answer}"
    );
    assert_eq!(slow.reports.lock().unwrap().len(), 1);
    assert!(!slow.reports.lock().unwrap()[0].2);
}

#[test]
fn json_subsets() {
    assert!(smoke::contains(
        &json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}}),
        &json!({"b": {"c": [1, {"d": 2}]}})
    ));
    assert!(!smoke::contains(&json!({"a": 1}), &json!({"a": 2})));
    assert!(!smoke::contains(&json!({"a": [1, 2]}), &json!({"a": [1]})));
    assert!(smoke::contains(&json!("x"), &json!("x")));
}

/// A Glidepath request for a callback hook.
fn callback_request() -> Value {
    let mut request = glidepath_request();
    request["hookExecutionId"] = json!("PreTraffic-1");
    request["callbackFunction"] = json!("glidepath-step");
    request
}

#[tokio::test]
async fn a_callback_hook_answers_glidepath_on_every_path() {
    for (version_2, status) in [
        ((None, json!({"ok": true})), "Succeeded"),
        (
            (Some("Unhandled"), json!({"errorMessage": "boom"})),
            "Failed",
        ),
    ] {
        let fake = fake(version_2);
        let answer = handle(&fake, &config(), callback_request()).await.unwrap();
        assert_eq!(answer["status"], status);
        let sent = fake.answers_sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let (callback, payload) = &sent[0];
        assert_eq!(callback, "glidepath-step");
        assert_eq!(payload["command"], "hookResult");
        assert_eq!(payload["rolloutId"], "r-1");
        assert_eq!(payload["hookExecutionId"], "PreTraffic-1");
        assert_eq!(payload["status"], status);
    }
    // Tests that cannot run (no such version) are a failed answer, not a silence.
    let missing = Fake::default();
    handle(&missing, &config(), callback_request())
        .await
        .unwrap();
    assert_eq!(
        missing.answers_sent.lock().unwrap()[0].1["status"],
        "Failed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_callback_hook_answers_before_its_own_deadline() {
    let slow = Fake {
        delay: Some(std::time::Duration::from_secs(900)),
        ..fake((None, json!({"ok": true})))
    };
    let deadline = SystemTime::now() + std::time::Duration::from_secs(300);
    handle_until(&slow, &config(), callback_request(), Some(deadline))
        .await
        .unwrap();
    let sent = slow.answers_sent.lock().unwrap();
    assert_eq!(sent[0].1["status"], "Failed");
    assert!(
        sent[0].1["reason"]
            .as_str()
            .unwrap()
            .contains("did not finish within"),
        "{:?}",
        sent[0]
    );
}
