//! Every predefined name, the JSON forms, the plans they produce, and each validation error.

use glidepath_core::Weight;
use glidepath_core::{PlanStep, Strategy, StrategyError};

/// The plan's (weight, wait) pairs, a gate as (0, 0), for plans of whole percents.
fn shifts(strategy: &str) -> Vec<(u8, u64)> {
    exact_shifts(strategy)
        .into_iter()
        .map(|(weight, wait)| {
            assert!(weight.is_whole(), "{strategy}: {weight} % is not whole");
            (
                u8::try_from(weight.hundredths() / 100).unwrap_or(u8::MAX),
                wait,
            )
        })
        .collect()
}

/// The plan's (weight, wait) pairs, a gate as (0 %, 0).
fn exact_shifts(strategy: &str) -> Vec<(Weight, u64)> {
    Strategy::parse(strategy)
        .unwrap_or_else(|e| panic!("{strategy}: {e}"))
        .plan()
        .steps()
        .iter()
        .map(|step| match step {
            PlanStep::Shift {
                weight,
                wait_seconds,
            } => (*weight, *wait_seconds),
            PlanStep::Pause => (Weight::ZERO, 0),
        })
        .collect()
}

#[test]
fn fractional_percents_to_two_decimals() {
    let half = Weight::from_percent(0.5).unwrap_or_default();
    assert_eq!(
        exact_shifts(r#"{"type":"canary","percent":0.5,"interval":"10m"}"#),
        vec![(half, 600), (Weight::FULL, 0)]
    );
    assert_eq!(
        exact_shifts(r#"{"type":"steps","steps":[{"weight":0.1,"bake":"5m"},{"weight":2.5}]}"#),
        vec![
            (Weight::from_percent(0.1).unwrap_or_default(), 300),
            (Weight::from_percent(2.5).unwrap_or_default(), 0),
            (Weight::FULL, 0)
        ]
    );
    let linear = exact_shifts(r#"{"type":"linear","percent":2.5,"interval":"1m"}"#);
    assert_eq!(
        linear.len(),
        40,
        "2.5 % at a time: 39 steps below 100 %, then 100 %"
    );
    assert_eq!(linear[1].0, Weight::from_percent(5.0).unwrap_or_default());
    assert!(
        error(r#"{"type":"canary","percent":0.125,"interval":"1m"}"#)
            .contains("more than two decimals"),
    );
    assert!(
        error(r#"{"type":"linear","percent":0.5,"interval":"1m"}"#)
            .contains("takes 200 steps to reach 100 %; at most 100 are allowed"),
    );
    assert!(
        error(r#"{"type":"steps","steps":[{"weight":0.5},{"weight":0.5}]}"#)
            .contains("weights must strictly increase")
    );
}

fn error(strategy: &str) -> String {
    match Strategy::parse(strategy) {
        Ok(parsed) => panic!("{strategy} should be refused, parsed as {parsed:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_predefined_canary_with_and_without_prefix() {
    for (name, minutes) in [
        ("Canary10Percent5Minutes", 5),
        ("Canary10Percent10Minutes", 10),
        ("Canary10Percent15Minutes", 15),
        ("Canary10Percent30Minutes", 30),
    ] {
        let expected = vec![(10, minutes * 60), (100, 0)];
        assert_eq!(shifts(name), expected, "{name}");
        assert_eq!(shifts(&format!("CodeDeployDefault.Lambda{name}")), expected);
        assert_eq!(
            shifts(&format!("CodeDeployDefault.Lambda.{name}")),
            expected
        );
    }
}

#[test]
fn every_predefined_linear_with_and_without_prefix() {
    for (name, minutes) in [
        ("Linear10PercentEvery1Minute", 1),
        ("Linear10PercentEvery2Minutes", 2),
        ("Linear10PercentEvery3Minutes", 3),
        ("Linear10PercentEvery10Minutes", 10),
    ] {
        let mut expected: Vec<(u8, u64)> = (1..=9).map(|n| (n * 10, minutes * 60)).collect();
        expected.push((100, 0));
        assert_eq!(shifts(name), expected, "{name}");
        assert_eq!(shifts(&format!("CodeDeployDefault.Lambda{name}")), expected);
    }
    let plan = Strategy::parse("Linear10PercentEvery10Minutes")
        .unwrap()
        .plan();
    assert_eq!(
        plan.total_wait_seconds(),
        90 * 60,
        "reaches 100 % after 90 minutes"
    );
}

#[test]
fn all_at_once() {
    assert_eq!(shifts("AllAtOnce"), vec![(100, 0)]);
    assert_eq!(shifts("CodeDeployDefault.LambdaAllAtOnce"), vec![(100, 0)]);
    assert_eq!(shifts(r#"{"type":"allAtOnce"}"#), vec![(100, 0)]);
}

#[test]
fn custom_canary_and_linear() {
    assert_eq!(
        shifts(r#"{"type":"canary","percent":25,"interval":"90s"}"#),
        vec![(25, 90), (100, 0)]
    );
    assert_eq!(
        shifts(r#"{"type":"linear","percent":30,"interval":"1h"}"#),
        vec![(30, 3600), (60, 3600), (90, 3600), (100, 0)]
    );
    let one_percent = shifts(r#"{"type":"linear","percent":1,"interval":"1s"}"#);
    assert_eq!(one_percent.len(), 100);
    assert_eq!(one_percent.last(), Some(&(100, 0)));
}

#[test]
fn explicit_steps_with_gate_and_implied_final_step() {
    let plan = Strategy::parse(
        r#"{"type":"steps","steps":[{"weight":5,"bake":"2m"},{"pause":true},{"weight":50,"bake":"10m"}]}"#,
    )
    .unwrap()
    .plan();
    assert_eq!(
        plan.steps(),
        &[
            PlanStep::Shift {
                weight: Weight::percent(5),
                wait_seconds: 120
            },
            PlanStep::Pause,
            PlanStep::Shift {
                weight: Weight::percent(50),
                wait_seconds: 600
            },
            PlanStep::Shift {
                weight: Weight::percent(100),
                wait_seconds: 0
            },
        ]
    );
    // An explicit final 100 % keeps its bake and adds nothing.
    assert_eq!(
        shifts(r#"{"type":"steps","steps":[{"weight":50},{"weight":100,"bake":"1m"}]}"#),
        vec![(50, 0), (100, 60)]
    );
}

#[test]
fn unknown_names_list_the_accepted_ones() {
    let message = error("Canary10Percent7Minutes");
    assert!(message.contains("`Canary10Percent7Minutes`"), "{message}");
    for accepted in [
        "Canary10Percent5Minutes",
        "Linear10PercentEvery10Minutes",
        "AllAtOnce",
    ] {
        assert!(message.contains(accepted), "{message}");
    }
    assert!(matches!(
        Strategy::parse("canary10percent5minutes"),
        Err(StrategyError::UnknownName { .. })
    ));
}

#[test]
fn validation_errors_name_the_field_and_value() {
    let cases = [
        (
            r#"{"type":"canary","percent":0,"interval":"5m"}"#,
            "`percent`",
            "0 is not above 0 and below 100",
        ),
        (
            r#"{"type":"canary","percent":100,"interval":"5m"}"#,
            "`percent`",
            "100",
        ),
        (
            r#"{"type":"linear","percent":300,"interval":"5m"}"#,
            "`percent`",
            "300",
        ),
        (
            r#"{"type":"linear","percent":10.125,"interval":"5m"}"#,
            "`percent`",
            "10.125 has more than two decimals",
        ),
        (r#"{"type":"linear","percent":10}"#, "`interval`", "missing"),
        (
            r#"{"type":"linear","percent":10,"interval":"0s"}"#,
            "`interval`",
            "minimum of 1s",
        ),
        (
            r#"{"type":"canary","percent":10,"interval":"5 minutes"}"#,
            "`interval`",
            "5 minutes",
        ),
        (
            r#"{"type":"canary","percent":10,"interval":300}"#,
            "`interval`",
            "300",
        ),
        (r#"{"type":"steps","steps":[]}"#, "`steps`", "empty"),
        (
            r#"{"type":"steps","steps":[{"weight":0}]}"#,
            "`steps[0].weight`",
            "0 is not in (0, 100]",
        ),
        (
            r#"{"type":"steps","steps":[{"weight":101}]}"#,
            "`steps[0].weight`",
            "101",
        ),
        (
            r#"{"type":"steps","steps":[{"weight":20},{"weight":20}]}"#,
            "`steps[1].weight`",
            "strictly increase",
        ),
        (
            r#"{"type":"steps","steps":[{"weight":50},{"pause":true},{"weight":10}]}"#,
            "`steps[2].weight`",
            "previous weight 50",
        ),
        (
            r#"{"type":"steps","steps":[{"weight":5,"bake":"soon"}]}"#,
            "`steps[0].bake`",
            "soon",
        ),
        (
            r#"{"type":"steps","steps":[{"pause":false}]}"#,
            "`steps[0].pause`",
            "false",
        ),
        (
            r#"{"type":"steps","steps":[{"weight":5,"wait":"1m"}]}"#,
            "`steps[0].wait`",
            "allowed: weight, bake",
        ),
        (
            r#"{"type":"canary","percent":10,"interval":"5m","extra":1}"#,
            "`extra`",
            "not a known field",
        ),
        (r#"{"type":"blue-green"}"#, "`type`", "blue-green"),
        (r#"{"percent":10}"#, "`type`", "missing"),
    ];
    for (input, field, detail) in cases {
        let message = error(input);
        assert!(
            message.contains(field),
            "{input}: `{message}` should name {field}"
        );
        assert!(
            message.contains(detail),
            "{input}: `{message}` should say {detail}"
        );
    }
}

#[test]
fn too_many_steps_is_refused() {
    let steps: Vec<String> = (1..=101).map(|_| r#"{"pause":true}"#.to_string()).collect();
    let input = format!(r#"{{"type":"steps","steps":[{}]}}"#, steps.join(","));
    let message = error(&input);
    assert!(
        message.contains("`steps`") && message.contains("101 entries"),
        "{message}"
    );
}

#[test]
fn malformed_json_is_reported_as_json() {
    assert!(matches!(
        Strategy::parse(r#"{"type":"canary","#),
        Err(StrategyError::Json(_))
    ));
}
