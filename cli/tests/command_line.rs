//! The `glidepath` binary as a user runs it: output shapes, exit codes, one-line errors.

use std::process::{Command, Output};

fn glidepath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glidepath"))
        .args(args)
        .output()
        .expect("glidepath runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn plan_json_has_the_documented_shape() {
    let output = glidepath(&["plan", "Canary10Percent5Minutes", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "strategy": "Canary10Percent5Minutes",
            "steps": [{"weight": 10, "waitSeconds": 300}, {"weight": 100, "waitSeconds": 0}],
            "bakeSeconds": 0,
            "totalSeconds": 300
        })
    );
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
}

#[test]
fn plan_json_with_a_gate_and_bake() {
    let strategy = r#"{"type":"steps","steps":[{"weight":5,"bake":"2m"},{"pause":true}]}"#;
    let output = glidepath(&["plan", strategy, "--bake", "10m", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["strategy"], strategy, "the strategy as given");
    assert_eq!(
        value["steps"],
        serde_json::json!([{"weight": 5, "waitSeconds": 120}, {"pause": true}, {"weight": 100, "waitSeconds": 0}])
    );
    assert_eq!(value["bakeSeconds"], 600);
    assert_eq!(value["totalSeconds"], 720);
}

#[test]
fn plan_takes_fractional_percents() {
    let output = glidepath(&[
        "plan",
        r#"{"type":"canary","percent":0.5,"interval":"10m"}"#,
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        value["steps"],
        serde_json::json!([{"weight": 0.5, "waitSeconds": 600}, {"weight": 100, "waitSeconds": 0}])
    );
    let refused = glidepath(&[
        "plan",
        r#"{"type":"canary","percent":0.125,"interval":"10m"}"#,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("more than two decimals"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn plan_table_lists_every_step() {
    let output = glidepath(&[
        "plan",
        "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    ]);
    let text = stdout(&output);
    for weight in (10..=100).step_by(10) {
        assert!(text.contains(&format!(" {weight}%")), "{text}");
    }
    assert!(text.contains("total: 27m (1620s)"), "{text}");
}

#[test]
fn bad_input_exits_2_with_one_line_on_stderr() {
    for args in [
        vec!["plan", "Canary10Percent7Minutes"],
        vec!["plan", r#"{"type":"linear","percent":0,"interval":"1m"}"#],
        vec!["plan", "AllAtOnce", "--bake", "ten minutes"],
        vec!["plan"],
        vec![
            "simulate",
            "--strategy",
            "AllAtOnce",
            "--error-rate-new",
            "150%",
        ],
        vec!["simulate", "--strategy", "AllAtOnce", "--rps", "0"],
        vec!["simulate", "--strategy", "AllAtOnce", "--detection", "poll"],
        vec!["simulate"],
        vec![
            "simulate",
            "--strategy",
            "AllAtOnce",
            "--compare-health",
            "--seeds",
            "1",
        ],
        vec![
            "simulate",
            "--strategy",
            "AllAtOnce",
            "--analysis",
            r#"{"confidence": 2}"#,
        ],
        vec!["simulate", "--strategy", "AllAtOnce", "--seeds", "3"],
        vec!["status"],
        vec!["status", "r-1", "--function", "orders", "--alias", "live"],
        vec!["status", "--function", "orders"],
        vec!["list", "--alias", "live"],
        vec!["abort", "r-1"],
    ] {
        let output = glidepath(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}");
        let message = stderr(&output);
        assert_eq!(message.trim_end().lines().count(), 1, "{args:?}: {message}");
        assert!(message.starts_with("glidepath: "), "{message}");
    }
}

#[test]
fn simulate_json_has_the_documented_keys() {
    let output = glidepath(&[
        "simulate",
        "--strategy",
        "Canary10Percent5Minutes",
        "--strategy",
        "AllAtOnce",
        "--error-rate-new",
        "0.05",
        "--detection",
        "event",
        "--bake",
        "5m",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let results = value["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        let mut keys: Vec<&str> = result
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "detectionSeconds",
                "durationSeconds",
                "failedRequests",
                "outcome",
                "requestsNew",
                "strategy"
            ]
        );
        assert_eq!(result["outcome"], "RolledBack");
    }
    let healthy = glidepath(&["simulate", "--strategy", "AllAtOnce", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&healthy)).unwrap();
    assert_eq!(
        value["results"][0]["detectionSeconds"],
        serde_json::Value::Null
    );
    assert_eq!(value["results"][0]["outcome"], "Succeeded");
}

#[test]
fn compare_health_prints_both_detectors_side_by_side() {
    let output = glidepath(&[
        "simulate",
        "--strategy",
        "Canary10Percent5Minutes",
        "--error-rate-old",
        "2%",
        "--compare-health",
        "--seeds",
        "2",
        "--rps-list",
        "20",
        "--multipliers",
        "1,10",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let cells = value["comparisons"][0]["cells"].as_array().unwrap();
    let detectors: Vec<&str> = cells
        .iter()
        .map(|c| c["detector"].as_str().unwrap())
        .collect();
    assert_eq!(detectors, ["alarm", "analysis", "alarm", "analysis"]);
    assert!(cells.iter().all(|c| c["runs"] == 2));
    let refused = glidepath(&[
        "simulate",
        "--strategy",
        "AllAtOnce",
        "--analysis",
        r#"{"confidence": 2}"#,
    ]);
    assert!(
        stderr(&refused).contains("analysis.confidence"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn simulate_text_shows_a_timeline_and_a_comparison() {
    let output = glidepath(&[
        "simulate",
        "--strategy",
        "Canary10Percent5Minutes",
        "--strategy",
        "Linear10PercentEvery1Minute",
        "--error-rate-new",
        "5%",
    ]);
    let text = stdout(&output);
    assert!(text.contains("RollingBack"), "{text}");
    assert!(
        text.contains("strategy") && text.contains("detection"),
        "{text}"
    );
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let output = glidepath(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for command in [
            "plan", "simulate", "start", "status", "watch", "history", "list", "pause", "resume",
            "promote", "abort", "versions", "prune",
        ] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let output = glidepath(&["completions", "cmd.exe"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn operator_commands_without_a_reachable_stack_exit_3_with_one_line() {
    // No region and no endpoint: the configuration error is named, before any call.
    let output = Command::new(env!("CARGO_BIN_EXE_glidepath"))
        .args(["status", "r-1"])
        .env_clear()
        .env("HOME", "/nonexistent")
        .output()
        .expect("glidepath runs");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no AWS region"),
        "{}",
        stderr(&output)
    );
}
