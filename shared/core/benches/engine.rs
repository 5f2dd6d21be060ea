//! Engine micro-benchmarks (criterion): the pure work a Lambda does per event, without AWS.
//! `cargo bench -p glidepath-core --bench engine`; figures and the machine in BENCHMARKS.md.
//! They measure and print; nothing here fails on a slow machine.

use criterion::{Criterion, criterion_group, criterion_main};
use glidepath_core::{
    AnalysisSpec, Event, Evidence, HealthVerdict, Rollout, RolloutRequest, Strategy,
    VersionMetrics, judge, transition,
};
use serde_json::json;
use std::hint::black_box;

fn request() -> serde_json::Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "7",
        "strategy": {"type": "steps", "steps": [{"weight": 0.5, "bake": "5m"}, {"pause": true},
            {"weight": 10, "bake": "10m"}, {"weight": 50, "bake": "10m"}]},
        "bake": "10m", "alarms": ["orders-live-v7-errors", "orders-live-v7-p99"],
        "hooks": {"preTraffic": "smoke-pre", "postTraffic": "smoke-post"},
        "idempotencyKey": "build-1234",
        "analysis": {"metrics": ["errors", "duration-p99"], "maxP99Ms": 800, "confidence": 0.99}})
}

/// A rollout shifting at its first step, effects confirmed, its tick due at 1,300.
fn shifting() -> Rollout {
    let parsed = RolloutRequest::from_json(&json!({"function": "orders", "alias": "live",
        "targetVersion": "7", "strategy": "Linear10PercentEvery1Minute", "alarms": ["e"]}))
    .expect("a valid request");
    let rollout = Rollout::new("r-bench", parsed.spec("6", "7"), parsed.plan, 1_000);
    let mut started = transition(&rollout, Event::Start, 1_000)
        .expect("starts")
        .rollout;
    started.owed = Default::default();
    started
}

fn engine(c: &mut Criterion) {
    let body = request();
    c.bench_function("request: parse and validate a full request", |b| {
        b.iter(|| RolloutRequest::from_json(black_box(&body)))
    });
    c.bench_function("plan: Linear10PercentEvery1Minute", |b| {
        b.iter(|| {
            Strategy::parse(black_box("Linear10PercentEvery1Minute"))
                .map(|strategy| strategy.plan())
        })
    });
    let steps = r#"{"type":"steps","steps":[{"weight":0.5,"bake":"5m"},{"pause":true},{"weight":10,"bake":"10m"},{"weight":50}]}"#;
    c.bench_function("plan: a JSON steps strategy", |b| {
        b.iter(|| Strategy::parse(black_box(steps)).map(|strategy| strategy.plan()))
    });
    let rollout = shifting();
    let due = rollout.next_tick_at.unwrap_or(1_060);
    c.bench_function("transition: a due tick (asks for a health check)", |b| {
        b.iter(|| transition(black_box(&rollout), Event::Tick { seq: rollout.seq }, due))
    });
    c.bench_function("transition: a healthy verdict (the next step)", |b| {
        b.iter(|| {
            transition(
                black_box(&rollout),
                Event::Health {
                    seq: rollout.seq,
                    verdict: HealthVerdict::Healthy,
                },
                due,
            )
        })
    });
    let record = rollout.to_json();
    c.bench_function("record: read a stored rollout", |b| {
        b.iter(|| Rollout::from_json(black_box(&record)))
    });
    let analysis = AnalysisSpec::from_json(&json!({})).expect("defaults");
    let evidence = |new: u64, old: u64| Evidence {
        baseline_version: "6".into(),
        baseline: VersionMetrics {
            invocations: old,
            errors: old / 100,
            ..VersionMetrics::default()
        },
        canary_version: "7".into(),
        canary: VersionMetrics {
            invocations: new,
            errors: new / 50,
            ..VersionMetrics::default()
        },
    };
    let low = evidence(200, 1_800);
    c.bench_function("analysis: judge 200 vs 1,800 invocations", |b| {
        b.iter(|| judge(&analysis, black_box(&low), 10))
    });
    let high = evidence(1_000_000, 9_000_000);
    c.bench_function("analysis: judge 1 M vs 9 M invocations", |b| {
        b.iter(|| judge(&analysis, black_box(&high), 10))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
