//! Fuzzing the engine's parsers with proptest (no nightly toolchain installs here, so
//! cargo-fuzz is out): arbitrary JSON shaped like requests and strategies, and arbitrary
//! text, into `RolloutRequest::from_json`, `Strategy::parse`, `parse_duration` and
//! `Rollout::from_json`. A parser may refuse anything; it must never panic, and what it
//! accepts must hold its invariants.
//!
//! The corpus in `tests/fuzz-corpus/` (real requests and strategies, and inputs that once
//! mattered) runs first, every time. `GLIDEPATH_FUZZ_CASES` sets the generated cases per
//! target (default 2,000 in CI); each target prints how many inputs it ran.

use glidepath_core::{
    MAX_DURATION_SECONDS, PlanStep, Rollout, RolloutRequest, Strategy as RolloutStrategy,
    parse_duration,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

const CORPUS: &[(&str, &str)] = &[
    (
        "request-full",
        include_str!("fuzz-corpus/request-full.json"),
    ),
    (
        "request-publish",
        include_str!("fuzz-corpus/request-publish.json"),
    ),
    (
        "strategy-steps",
        include_str!("fuzz-corpus/strategy-steps.json"),
    ),
    (
        "strategy-deep",
        include_str!("fuzz-corpus/strategy-deep.json"),
    ),
    (
        "rollout-record",
        include_str!("fuzz-corpus/rollout-record.json"),
    ),
];

fn cases() -> u32 {
    std::env::var("GLIDEPATH_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// Keys the parsers know, so that generated objects reach past the first check.
const KEYS: &[&str] = &[
    "function",
    "alias",
    "targetVersion",
    "publish",
    "strategy",
    "bake",
    "alarms",
    "insufficientData",
    "hooks",
    "preTraffic",
    "postTraffic",
    "idempotencyKey",
    "type",
    "percent",
    "interval",
    "steps",
    "weight",
    "pause",
    "schemaVersion",
    "id",
    "spec",
    "plan",
    "status",
    "seq",
    "weight",
];

fn scalar() -> impl proptest::strategy::Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u8>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9:_ .%-]{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "Canary10Percent5Minutes",
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            "AllAtOnce",
            "5m",
            "1h30m",
            "168h1s",
            "99999999999999999999h",
            "canary",
            "linear",
            "steps",
            "allAtOnce",
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
            "$LATEST",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json() -> impl proptest::strategy::Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS.to_vec()).prop_map(str::to_string),
                        "[a-z]{1,8}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every parser on one input.
fn feed(value: &Value) {
    if let Ok(request) = RolloutRequest::from_json(value) {
        // What is accepted holds the plan's rules.
        let weights: Vec<glidepath_core::Weight> = request.plan.weights().collect();
        assert_eq!(
            weights.last(),
            Some(&glidepath_core::Weight::FULL),
            "a plan ends at 100 %"
        );
        assert!(weights.windows(2).all(|w| w[0] < w[1]), "weights rise");
        assert!(request.bake_seconds <= MAX_DURATION_SECONDS);
        for step in request.plan.steps() {
            if let PlanStep::Shift { wait_seconds, .. } = step {
                assert!(*wait_seconds <= MAX_DURATION_SECONDS);
            }
        }
    }
    let text = value.to_string();
    let _ = RolloutStrategy::parse(&text);
    let _ = Rollout::from_json(&text);
    if let Value::String(s) = value {
        let _ = RolloutStrategy::parse(s);
        if let Ok(seconds) = parse_duration(s) {
            assert!(seconds <= MAX_DURATION_SECONDS);
        }
    }
    if let Some(strategy) = value.get("strategy") {
        let _ = RolloutStrategy::parse(&strategy.to_string());
    }
}

fn run(name: &str, strategy: impl proptest::strategy::Strategy<Value = Value>) -> u32 {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let ran = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |value| {
            ran.set(ran.get() + 1);
            feed(&value);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    println!("fuzz {name}: {} generated inputs, 0 panics", ran.get());
    ran.get()
}

#[test]
fn the_corpus_parses_without_panics() {
    for (name, text) in CORPUS {
        let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        feed(&value);
        feed(&Value::String(text.to_string()));
    }
    // The real request in the corpus is accepted, so the fuzzer starts from a valid shape.
    let request: Value = serde_json::from_str(CORPUS[0].1).expect("json");
    assert!(RolloutRequest::from_json(&request).is_ok());
    let record = Rollout::from_json(CORPUS[4].1);
    assert!(record.is_ok(), "{record:?}");
}

#[test]
fn arbitrary_json_never_panics_a_parser() {
    run("json", json());
}

#[test]
fn mutated_requests_never_panic_a_parser() {
    // The corpus request with one field replaced by anything.
    let base: Value = serde_json::from_str(CORPUS[0].1).expect("json");
    let mutated = (prop::sample::select(KEYS.to_vec()), json()).prop_map(move |(key, value)| {
        let mut request = base.clone();
        request[key] = value;
        request
    });
    run("mutated-request", mutated);
}

#[test]
fn arbitrary_text_never_panics_the_text_parsers() {
    run(
        "text",
        prop_oneof![
            ".{0,64}".prop_map(Value::String),
            "[0-9smh ]{0,24}".prop_map(Value::String),
            "\\{[\"a-z:,0-9\\[\\]{}]{0,64}".prop_map(Value::String),
        ],
    );
}
