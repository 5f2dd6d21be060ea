//! `glidepath simulate` outcomes for healthy and failing new versions.

use glidepath_cli::simulate::{Detection, Scenario, simulate};
use glidepath_core::{Status, Weight};

fn scenario() -> Scenario {
    Scenario {
        rps: 200,
        ..Scenario::default()
    }
}

#[test]
fn a_healthy_version_succeeds_after_the_whole_plan() {
    let canary = simulate("Canary10Percent5Minutes", &scenario()).unwrap();
    assert_eq!(canary.outcome, Status::Succeeded);
    assert_eq!(canary.duration_seconds, 300);
    assert_eq!(canary.failed_requests, 0);
    assert_eq!(canary.detection_seconds, None);
    // 10 % of 200 rps for 300 s, give or take the randomness of routing.
    assert!(
        (5_400..6_600).contains(&canary.requests_new),
        "{}",
        canary.requests_new
    );
    let weights: Vec<Weight> = canary.timeline.iter().map(|e| e.weight).collect();
    // Shifting at 10 %, at 100 %, the verified post-traffic stage, success.
    let full = Weight::FULL;
    assert_eq!(weights, vec![Weight::percent(10), full, full, full]);

    let linear = simulate(
        "Linear10PercentEvery10Minutes",
        &Scenario {
            bake_seconds: 600,
            ..scenario()
        },
    )
    .unwrap();
    assert_eq!(linear.outcome, Status::Succeeded);
    assert_eq!(linear.duration_seconds, 90 * 60 + 600);
}

#[test]
fn a_failing_version_is_rolled_back_sooner_with_event_detection() {
    let bad = Scenario {
        error_rate_new: 0.05,
        ..scenario()
    };
    let by_tick = simulate("Canary10Percent15Minutes", &bad).unwrap();
    let by_event = simulate(
        "Canary10Percent15Minutes",
        &Scenario {
            detection: Detection::Event,
            ..bad.clone()
        },
    )
    .unwrap();
    assert_eq!(by_tick.outcome, Status::RolledBack);
    assert_eq!(by_event.outcome, Status::RolledBack);
    assert_eq!(by_tick.duration_seconds, 900, "noticed at the first tick");
    assert_eq!(
        by_event.duration_seconds, 60,
        "noticed at the end of the first alarm period"
    );
    assert_eq!(by_tick.detection_seconds, Some(900));
    assert_eq!(by_event.detection_seconds, Some(60));
    assert!(by_event.failed_requests * 5 < by_tick.failed_requests);
    assert_eq!(
        by_event.timeline.last().map(|e| e.weight),
        Some(Weight::ZERO)
    );
    assert!(
        by_event
            .timeline
            .iter()
            .any(|e| e.reason.as_deref().is_some_and(|r| r.contains("is ALARM"))),
        "the rollback says why"
    );
}

#[test]
fn fail_after_lets_early_steps_pass() {
    let result = simulate(
        "Linear10PercentEvery1Minute",
        &Scenario {
            error_rate_new: 0.2,
            fail_after_seconds: Some(200),
            detection: Detection::Event,
            ..scenario()
        },
    )
    .unwrap();
    assert_eq!(result.outcome, Status::RolledBack);
    // Weights 10 % and 20 % and 30 % pass; the period closing at 240 s catches it.
    assert_eq!(result.duration_seconds, 240);
    let peak = result.timeline.iter().map(|e| e.weight).max();
    assert_eq!(peak, Some(Weight::percent(40)));
    assert_eq!(result.detection_seconds, Some(40));
}

#[test]
fn baseline_errors_below_the_threshold_do_not_roll_back() {
    let result = simulate(
        "Linear10PercentEvery2Minutes",
        &Scenario {
            error_rate_old: 0.002,
            error_rate_new: 0.002,
            ..scenario()
        },
    )
    .unwrap();
    assert_eq!(result.outcome, Status::Succeeded);
    assert!(result.failed_requests > 0);
}

#[test]
fn manual_gates_wait_for_the_simulated_operator() {
    let result = simulate(
        r#"{"type":"steps","steps":[{"weight":5,"bake":"1m"},{"pause":true},{"weight":50,"bake":"1m"}]}"#,
        &Scenario {
            gate_resume_after_seconds: 300,
            ..scenario()
        },
    )
    .unwrap();
    assert_eq!(result.outcome, Status::Succeeded);
    assert_eq!(result.duration_seconds, 60 + 300 + 60);
    assert!(result.timeline.iter().any(|e| e.status == Status::Paused));
}

#[test]
fn the_same_seed_gives_the_same_result_and_another_seed_differs() {
    let bad = Scenario {
        error_rate_new: 0.03,
        seed: 7,
        ..scenario()
    };
    let a = simulate("Linear10PercentEvery3Minutes", &bad).unwrap();
    let b = simulate("Linear10PercentEvery3Minutes", &bad).unwrap();
    assert_eq!(a, b);
    let c = simulate("Linear10PercentEvery3Minutes", &Scenario { seed: 8, ..bad }).unwrap();
    assert_ne!(a.requests_new, c.requests_new);
}

#[test]
fn bad_options_name_the_flag() {
    let error = simulate(
        "AllAtOnce",
        &Scenario {
            rps: 0,
            ..scenario()
        },
    )
    .unwrap_err();
    assert!(error.to_string().starts_with("--rps"), "{error}");
    let error = simulate("Canary5", &scenario()).unwrap_err();
    assert!(
        error.to_string().contains("unknown strategy `Canary5`"),
        "{error}"
    );
}
