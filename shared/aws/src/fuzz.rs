//! Fuzzing the functions' input parsing (proptest: no nightly toolchain installs here, so
//! cargo-fuzz is out). Arbitrary JSON, shaped with the field names and values the functions
//! know, and mutations of real inputs, go into a handler over a fake world that holds one
//! running rollout (`r-1`). Every input must be answered, never panic, and a refusal must
//! carry one of the stable error names. `GLIDEPATH_FUZZ_CASES` sets the cases (default
//! 2,000 per function in CI).

use crate::fakes::{AlarmState, FakeAws, seed_rollout};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use std::future::Future;

/// Field names and values that reach past the first check of some input.
const WORDS: &[&str] = &[
    "rolloutId",
    "r-1",
    "seq",
    "command",
    "pause",
    "resume",
    "promote",
    "redrive",
    "abort",
    "reason",
    "function",
    "orders",
    "alias",
    "live",
    "targetVersion",
    "2",
    "strategy",
    "Canary10Percent5Minutes",
    "alarms",
    "orders-errors",
    "detail-type",
    "CloudWatch Alarm State Change",
    "Rollout Requested",
    "source",
    "aws.cloudwatch",
    "detail",
    "alarmName",
    "state",
    "value",
    "ALARM",
    "INSUFFICIENT_DATA",
    "timestamp",
    "2026-11-21T12:30:00.000+0000",
    "alarmData",
    "region",
    "us-east-1",
    "account",
    "idempotencyKey",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS.to_vec()).prop_map(str::to_string),
        "[a-zA-Z0-9 :._-]{0,12}",
    ]
}

/// Arbitrary JSON built from the functions' vocabulary.
pub fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u64..8).prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn cases() -> u32 {
    std::env::var("GLIDEPATH_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// A world with `orders:live` and one rollout `r-1` shifting at 10 %.
async fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    fake.add_function("orders", 3, "live", 1);
    fake.set_alarm("orders-errors", AlarmState::Ok);
    seed_rollout(
        &fake,
        json!({"function": "orders", "alias": "live", "targetVersion": "2",
               "strategy": "Linear10PercentEvery1Minute", "alarms": ["orders-errors"]}),
    )
    .await;
    fake
}

/// Feeds arbitrary inputs, and `seeds` with one field replaced, to `handle`, which answers
/// with the error type of a refusal (`None` when the input was handled). Returns how many
/// inputs ran; panics (failing the test) on a panic or an unknown error type.
pub fn fuzz_handler<H, F>(name: &str, seeds: &[Value], handle: H) -> u32
where
    H: Fn(FakeAws, Value) -> F,
    F: Future<Output = Option<&'static str>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let seeds = seeds.to_vec();
    let mutated = (
        prop::sample::select(if seeds.is_empty() {
            vec![json!({})]
        } else {
            seeds
        }),
        word(),
        arbitrary_json(),
    )
        .prop_map(|(mut seed, key, value)| {
            if let Value::Object(map) = &mut seed {
                map.insert(key, value);
            }
            seed
        });
    let inputs = prop_oneof![arbitrary_json(), mutated];
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let ran = std::cell::Cell::new(0u32);
    runner
        .run(&inputs, |input| {
            ran.set(ran.get() + 1);
            let outcome = runtime.block_on(async {
                let fake = world().await;
                handle(fake, input.clone()).await
            });
            if let Some(kind) = outcome {
                prop_assert!(
                    ["InvalidRequest", "Conflict", "Retryable"].contains(&kind),
                    "{input}: unknown error type {kind}"
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    println!("fuzz {name}: {} inputs, 0 panics", ran.get());
    ran.get()
}
