use super::*;
use proptest::prelude::*;
use serde_json::json;

/// One check of a rollout analysed once.
fn judge_once(spec: &AnalysisSpec, evidence: &Evidence) -> Finding {
    judge(spec, evidence, 1)
}

fn spec(value: Value) -> AnalysisSpec {
    AnalysisSpec::from_json(&value).expect("a valid analysis block")
}

fn refused(value: Value) -> RequestError {
    AnalysisSpec::from_json(&value).expect_err("refused")
}

fn evidence(new: (u64, u64), old: (u64, u64)) -> Evidence {
    Evidence {
        baseline_version: "6".into(),
        baseline: VersionMetrics {
            invocations: old.1,
            errors: old.0,
            ..VersionMetrics::default()
        },
        canary_version: "7".into(),
        canary: VersionMetrics {
            invocations: new.1,
            errors: new.0,
            ..VersionMetrics::default()
        },
    }
}

#[test]
fn defaults_fill_an_empty_block() {
    assert_eq!(
        spec(json!({})),
        AnalysisSpec {
            metrics: vec![Metric::Errors],
            max_error_rate: None,
            max_relative_error_increase: 1.0,
            max_p99_ms: None,
            min_invocations: 50,
            confidence: 0.99,
            no_data: NoData::Hold,
            hold_seconds: 1_800,
        }
    );
    let full = spec(json!({"metrics": ["duration-p99", "errors", "throttles"],
        "maxErrorRate": "1%", "maxRelativeErrorIncrease": 2.0, "maxP99Ms": 800,
        "minInvocations": 20, "confidence": 0.95, "noData": "hold", "holdFor": "10m"}));
    assert_eq!(
        full.metrics,
        [Metric::Errors, Metric::Throttles, Metric::DurationP99]
    );
    assert_eq!(full.max_error_rate, Some(0.01));
    assert_eq!(full.hold_seconds, 600);
    assert_eq!(
        spec(json!({"maxErrorRate": 0.005})).max_error_rate,
        Some(0.005)
    );
}

#[test]
fn each_bad_field_is_named() {
    let cases = [
        (json!([]), "analysis"),
        (json!({"metric": ["errors"]}), "analysis.metric"),
        (json!({"metrics": []}), "analysis.metrics"),
        (json!({"metrics": ["latency"]}), "analysis.metrics[0]"),
        (
            json!({"metrics": ["errors", "errors"]}),
            "analysis.metrics[1]",
        ),
        (
            json!({"maxErrorRate": "1 percent"}),
            "analysis.maxErrorRate",
        ),
        (json!({"maxErrorRate": 0}), "analysis.maxErrorRate"),
        (json!({"maxErrorRate": "100%"}), "analysis.maxErrorRate"),
        (
            json!({"maxRelativeErrorIncrease": 0.5}),
            "analysis.maxRelativeErrorIncrease",
        ),
        (json!({"metrics": ["duration-p99"]}), "analysis.maxP99Ms"),
        (json!({"maxP99Ms": 800}), "analysis.maxP99Ms"),
        (
            json!({"metrics": ["throttles"], "maxErrorRate": "1%"}),
            "analysis.maxErrorRate",
        ),
        (json!({"minInvocations": 0}), "analysis.minInvocations"),
        (json!({"minInvocations": 2.5}), "analysis.minInvocations"),
        (json!({"confidence": 1.0}), "analysis.confidence"),
        (json!({"confidence": 0.5}), "analysis.confidence"),
        (json!({"confidence": "99%"}), "analysis.confidence"),
        (json!({"noData": "wait"}), "analysis.noData"),
        (json!({"holdFor": "30s"}), "analysis.holdFor"),
        (
            json!({"holdFor": "10m", "noData": "pass"}),
            "analysis.holdFor",
        ),
    ];
    for (value, field) in cases {
        let error = refused(value.clone());
        assert_eq!(error.field, field, "{value}: {error}");
    }
}

#[test]
fn a_clearly_worse_version_fails_with_the_numbers() {
    let finding = judge_once(&spec(json!({})), &evidence((4, 61), (2, 540)));
    assert_eq!(
        finding,
        Finding::Fail {
            reason: "v7: 4 errors / 61 (6.6 %) vs v6: 2 / 540 (0.4 %), p = 0.001".into()
        }
    );
}

#[test]
fn an_equal_version_passes_and_says_why() {
    let finding = judge_once(&spec(json!({})), &evidence((2, 100), (18, 900)));
    let Finding::Pass { summary } = finding else {
        panic!("{finding:?}")
    };
    assert!(
        summary.starts_with("v7: 2 errors / 100 (2.0 %) vs v6: 18 / 900 (2.0 %), p = 0."),
        "{summary}"
    );
}

#[test]
fn too_few_invocations_is_no_evidence() {
    assert_eq!(
        judge_once(
            &spec(json!({"minInvocations": 100})),
            &evidence((30, 99), (0, 900))
        ),
        Finding::NoData {
            reason: "v7: 99 invocations in the window, fewer than minInvocations 100".into()
        }
    );
}

#[test]
fn the_effect_size_floor_spares_a_significant_but_small_increase() {
    // 1.10 % vs 1.00 % over millions: significant, but under a 2x floor.
    let big = evidence((11_000, 1_000_000), (90_000, 9_000_000));
    assert!(matches!(
        judge_once(&spec(json!({})), &big),
        Finding::Fail { .. }
    ));
    assert!(matches!(
        judge_once(&spec(json!({"maxRelativeErrorIncrease": 2.0})), &big),
        Finding::Pass { .. }
    ));
}

#[test]
fn the_absolute_limit_needs_evidence_too() {
    let limited = spec(json!({"maxErrorRate": "1%"}));
    // One error in 50 is 2 %, but one unlucky request is no proof the rate is above 1 %.
    assert!(matches!(
        judge_once(&limited, &evidence((1, 50), (0, 0))),
        Finding::Pass { .. }
    ));
    // At 100 % there is no old traffic: only the limit can fail the version.
    let finding = judge_once(&limited, &evidence((9, 200), (0, 0)));
    let Finding::Fail { reason } = finding else {
        panic!("{finding:?}")
    };
    assert!(
        reason.starts_with(
            "v7: 9 errors / 200 invocations (4.5 %) is above maxErrorRate 1 % beyond chance, p = "
        ),
        "{reason}"
    );
}

#[test]
fn throttles_and_latency() {
    let both = spec(json!({"metrics": ["throttles", "duration-p99"], "maxP99Ms": 800}));
    let mut slow = evidence((0, 500), (0, 5_000));
    slow.canary.p99_ms = Some(950.0);
    assert_eq!(
        judge_once(&both, &slow),
        Finding::Fail {
            reason: "v7: duration p99 950 ms is above maxP99Ms 800".into()
        }
    );
    let mut throttled = evidence((0, 500), (0, 5_000));
    throttled.canary.throttles = 40;
    throttled.baseline.throttles = 5;
    throttled.canary.p99_ms = Some(100.0);
    let finding = judge_once(&both, &throttled);
    let Finding::Fail { reason } = finding else {
        panic!("{finding:?}")
    };
    assert!(reason.starts_with("v7: 40 throttles / 540"), "{reason}");
}

#[test]
fn the_confidence_is_split_across_a_rollouts_checks() {
    // p = 0.0049 (20/200 vs 90/1800): below 0.01 for one check, not for ten.
    let ev = evidence((20, 200), (90, 1_800));
    assert!(matches!(
        judge(&spec(json!({})), &ev, 1),
        Finding::Fail { .. }
    ));
    assert!(matches!(
        judge(&spec(json!({})), &ev, 10),
        Finding::Pass { .. }
    ));
}

/// A small deterministic generator (splitmix64) for the false-positive test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    }

    fn binomial(&mut self, trials: u64, rate: f64) -> u64 {
        (0..trials).filter(|_| self.next() < rate).count() as u64
    }
}

#[test]
fn identical_versions_fail_at_most_at_the_stated_rate() {
    // 4,000 windows of a 10 % canary (200 vs 1,800 invocations) at the same 2 % error rate.
    for confidence in [0.95, 0.99] {
        let judged = spec(json!({"confidence": confidence}));
        let mut rng = Rng(7);
        let windows = 4_000;
        let failed = (0..windows)
            .filter(|_| {
                let new = rng.binomial(200, 0.02);
                let old = rng.binomial(1_800, 0.02);
                matches!(
                    judge_once(&judged, &evidence((new, 200), (old, 1_800))),
                    Finding::Fail { .. }
                )
            })
            .count();
        let rate = failed as f64 / f64::from(windows);
        assert!(
            rate <= 1.0 - confidence,
            "at confidence {confidence}: {failed} of {windows} windows failed ({rate})"
        );
    }
}

proptest! {
    /// More errors on the new version, all else equal, never turns a failure into a pass.
    #[test]
    fn more_evidence_of_harm_never_passes_a_failure(
        invocations in 50u64..3_000,
        errors in 0u64..200,
        more in 1u64..100,
        old_invocations in 0u64..30_000,
        old_errors in 0u64..600,
        ratio in 1.0f64..4.0,
        limit in proptest::option::of(0.001f64..0.2),
    ) {
        let mut block = json!({"maxRelativeErrorIncrease": ratio});
        if let Some(limit) = limit {
            block["maxErrorRate"] = json!(limit);
        }
        let judged = spec(block);
        let errors = errors.min(invocations);
        let old_errors = old_errors.min(old_invocations);
        let worse = (errors + more).min(invocations);
        let before = judge_once(&judged, &evidence((errors, invocations), (old_errors, old_invocations)));
        let after = judge_once(&judged, &evidence((worse, invocations), (old_errors, old_invocations)));
        if matches!(before, Finding::Fail { .. }) {
            prop_assert!(matches!(after, Finding::Fail { .. }), "{before:?} then {after:?}");
        }
    }

    /// Parsing is total: any JSON gives a spec or a field-named error, never a panic.
    #[test]
    fn any_block_parses_or_names_a_field(text in "\\PC{0,80}") {
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if let Err(error) = AnalysisSpec::from_json(&value) {
            prop_assert!(error.field.starts_with("analysis"));
        }
    }
}
