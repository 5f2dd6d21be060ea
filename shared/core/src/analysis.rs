//! Canary analysis: the new version judged against the old one on the same traffic window,
//! from Lambda's per-version metrics (`ExecutedVersion`), at every health check.
//!
//! The request's `analysis` block ([`AnalysisSpec::from_json`]):
//!
//! ```json
//! {"metrics": ["errors", "throttles", "duration-p99"], "maxErrorRate": "1%",
//!  "maxRelativeErrorIncrease": 2.0, "maxP99Ms": 800, "minInvocations": 50,
//!  "confidence": 0.99, "noData": "hold", "holdFor": "30m"}
//! ```
//!
//! [`judge`] decides, purely, from both versions' counts ([`VersionMetrics`]):
//!
//! 1. Fewer than `minInvocations` on the new version is no evidence ([`Finding::NoData`]); the
//!    engine then follows `noData`: `hold` keeps the weight and checks again every minute
//!    for at most `holdFor` (then rolls back), `pass` goes on, `fail` rolls back.
//! 2. `errors` (and `throttles`): the new version fails when its rate is higher than the old
//!    version's beyond what chance explains: one-sided Fisher's exact test, p below
//!    1 − `confidence`, and the observed rate more than `maxRelativeErrorIncrease` times the
//!    old one (an effect-size floor: at high traffic a trivial difference is significant).
//!    With no traffic on the old version (at 100 %) there is nothing to compare with.
//! 3. `maxErrorRate`: the new version fails when its error rate is above the limit beyond
//!    chance: the exact binomial tail at the limit, p below 1 − `confidence`. One unlucky
//!    request among few does not fail it; a rate clearly above does.
//! 4. `duration-p99` with `maxP99Ms`: the new version fails when its highest one-minute p99
//!    in the window is above the limit.
//!
//! Fisher's exact test is used because it is exact at any count (no normal approximation
//! that low-traffic canaries break) and conservative: identical versions fail a test at most
//! its significance level of the time. A rollout is analysed once per step that waits (and
//! once at the end of a bake), so `confidence` is split across those checks (Bonferroni):
//! identical versions are rolled back at most 1 − `confidence` of the time over the whole
//! rollout. `glidepath simulate --compare-health` measures it.

use crate::duration::{format_duration, parse_duration};
use crate::request::RequestError;
use crate::stats::{binomial_at_least, fisher_greater};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A per-version metric the analysis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Metric {
    /// `Errors` against `Invocations`.
    #[serde(rename = "errors")]
    Errors,
    /// `Throttles` against `Invocations` + `Throttles`.
    #[serde(rename = "throttles")]
    Throttles,
    /// `Duration`, p99.
    #[serde(rename = "duration-p99")]
    DurationP99,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Errors => "errors",
            Metric::Throttles => "throttles",
            Metric::DurationP99 => "duration-p99",
        }
    }

    fn parse(text: &str) -> Option<Metric> {
        [Metric::Errors, Metric::Throttles, Metric::DurationP99]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// What too little traffic on the new version means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NoData {
    /// Keep the weight and check again every minute, for at most `holdFor`; then roll back.
    #[default]
    Hold,
    /// Go on as if healthy.
    Pass,
    /// Roll back.
    Fail,
}

/// The default `minInvocations`.
pub const DEFAULT_MIN_INVOCATIONS: u64 = 50;
/// The default `confidence`.
pub const DEFAULT_CONFIDENCE: f64 = 0.99;
/// The default `holdFor`: 30 minutes.
pub const DEFAULT_HOLD_SECONDS: u64 = 1_800;
/// How soon a held rollout checks again: Lambda's metrics have one-minute resolution.
pub const HOLD_RECHECK_SECONDS: u64 = 60;

/// A rollout's analysis settings, validated. Every float is finite (so `Eq` holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisSpec {
    pub metrics: Vec<Metric>,
    /// An absolute limit on the new version's error rate (a fraction), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// How many times the old version's rate the new one's must exceed to fail (≥ 1).
    pub max_relative_error_increase: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99_ms: Option<f64>,
    pub min_invocations: u64,
    /// In (0.5, 1): a comparison fails at p < 1 − confidence.
    pub confidence: f64,
    pub no_data: NoData,
    pub hold_seconds: u64,
}

impl Eq for AnalysisSpec {}

const FIELDS: &[&str] = &[
    "metrics",
    "maxErrorRate",
    "maxRelativeErrorIncrease",
    "maxP99Ms",
    "minInvocations",
    "confidence",
    "noData",
    "holdFor",
];

fn bad(field: &str, problem: impl Into<String>) -> RequestError {
    RequestError {
        field: format!("analysis.{field}"),
        problem: problem.into(),
    }
}

fn number(object: &Map<String, Value>, field: &str) -> Result<Option<f64>, RequestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| bad(field, format!("{n} is not a finite number"))),
        Some(other) => Err(bad(field, format!("{other} is not a number"))),
    }
}

/// `0.01` or `"1%"`, in (0, 1).
fn rate(object: &Map<String, Value>, field: &str) -> Result<Option<f64>, RequestError> {
    let value = match object.get(field) {
        Some(Value::String(text)) => {
            let percent = text.trim().strip_suffix('%').ok_or_else(|| {
                bad(
                    field,
                    format!(
                        "`{text}` is not a fraction such as 0.01 or a percentage such as \"1%\""
                    ),
                )
            })?;
            let percent: f64 = percent.trim().parse().map_err(|_| {
                bad(
                    field,
                    format!("`{text}` is not a percentage such as \"1%\""),
                )
            })?;
            Some(percent / 100.0)
        }
        _ => number(object, field)?,
    };
    match value {
        Some(v) if !(v > 0.0 && v < 1.0) => Err(bad(field, "must be above 0 % and below 100 %")),
        other => Ok(other),
    }
}

impl AnalysisSpec {
    /// Parses and checks the request's `analysis` object; each problem names its field
    /// (`analysis.confidence`, …).
    pub fn from_json(value: &Value) -> Result<AnalysisSpec, RequestError> {
        let object = value.as_object().ok_or_else(|| RequestError {
            field: "analysis".into(),
            problem: format!("{value} is not an object"),
        })?;
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(
                unknown,
                format!("is not a known field; known fields: {}", FIELDS.join(", ")),
            ));
        }
        let metrics = match object.get("metrics") {
            None | Some(Value::Null) => vec![Metric::Errors],
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut metrics = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let metric = item.as_str().and_then(Metric::parse).ok_or_else(|| {
                        bad(
                            &format!("metrics[{index}]"),
                            format!(
                                "{item} is not one of \"errors\", \"throttles\", \"duration-p99\""
                            ),
                        )
                    })?;
                    if metrics.contains(&metric) {
                        return Err(bad(
                            &format!("metrics[{index}]"),
                            format!("`{}` is listed twice", metric.as_str()),
                        ));
                    }
                    metrics.push(metric);
                }
                metrics.sort();
                metrics
            }
            Some(other) => {
                return Err(bad(
                    "metrics",
                    format!(
                        "{other} is not a non-empty list such as [\"errors\", \"duration-p99\"]"
                    ),
                ));
            }
        };
        let max_error_rate = rate(object, "maxErrorRate")?;
        let max_relative_error_increase = match number(object, "maxRelativeErrorIncrease")? {
            None => 1.0,
            Some(ratio) if (1.0..=1_000.0).contains(&ratio) => ratio,
            Some(ratio) => {
                return Err(bad(
                    "maxRelativeErrorIncrease",
                    format!("{ratio} is not between 1 (any significant increase) and 1000"),
                ));
            }
        };
        let max_p99_ms = match number(object, "maxP99Ms")? {
            Some(ms) if !(ms > 0.0 && ms <= 900_000.0) => {
                return Err(bad(
                    "maxP99Ms",
                    format!(
                        "{ms} is not a duration in milliseconds above 0 and at most 900000 (Lambda's 15 minutes)"
                    ),
                ));
            }
            other => other,
        };
        match (metrics.contains(&Metric::DurationP99), max_p99_ms) {
            (true, None) => {
                return Err(bad(
                    "maxP99Ms",
                    "missing: `duration-p99` needs a limit in milliseconds",
                ));
            }
            (false, Some(_)) => {
                return Err(bad(
                    "maxP99Ms",
                    "is set but `metrics` does not include \"duration-p99\"",
                ));
            }
            _ => {}
        }
        if max_error_rate.is_some() && !metrics.contains(&Metric::Errors) {
            return Err(bad(
                "maxErrorRate",
                "is set but `metrics` does not include \"errors\"",
            ));
        }
        let min_invocations = match object.get("minInvocations") {
            None | Some(Value::Null) => DEFAULT_MIN_INVOCATIONS,
            Some(value) => value
                .as_u64()
                .filter(|n| (1..=1_000_000_000).contains(n))
                .ok_or_else(|| {
                    bad(
                        "minInvocations",
                        format!("{value} is not a whole number from 1 to 1000000000"),
                    )
                })?,
        };
        let confidence = match number(object, "confidence")? {
            None => DEFAULT_CONFIDENCE,
            Some(c) if (0.8..=0.999_999).contains(&c) => c,
            Some(c) => {
                return Err(bad(
                    "confidence",
                    format!("{c} is not between 0.8 and 0.999999 (e.g. 0.99)"),
                ));
            }
        };
        let no_data = match object.get("noData") {
            None | Some(Value::Null) => NoData::Hold,
            Some(Value::String(text)) if text == "hold" => NoData::Hold,
            Some(Value::String(text)) if text == "pass" => NoData::Pass,
            Some(Value::String(text)) if text == "fail" => NoData::Fail,
            Some(other) => {
                return Err(bad(
                    "noData",
                    format!("{other} is not \"hold\", \"pass\" or \"fail\""),
                ));
            }
        };
        let hold_seconds = match object.get("holdFor") {
            None | Some(Value::Null) => DEFAULT_HOLD_SECONDS,
            Some(Value::String(text)) => {
                let seconds = parse_duration(text).map_err(|e| bad("holdFor", e.to_string()))?;
                if seconds < HOLD_RECHECK_SECONDS {
                    return Err(bad("holdFor", "must be at least 1m (one re-check)"));
                }
                if no_data != NoData::Hold {
                    return Err(bad("holdFor", "only applies with \"noData\": \"hold\""));
                }
                seconds
            }
            Some(other) => {
                return Err(bad(
                    "holdFor",
                    format!("{other} is not a duration such as \"30m\""),
                ));
            }
        };
        Ok(AnalysisSpec {
            metrics,
            max_error_rate,
            max_relative_error_increase,
            max_p99_ms,
            min_invocations,
            confidence,
            no_data,
            hold_seconds,
        })
    }

    /// The significance level over a whole rollout: 1 − `confidence`.
    pub fn alpha(&self) -> f64 {
        1.0 - self.confidence
    }

    /// How the hold ends, for reasons: "30m".
    pub fn hold_for(&self) -> String {
        format_duration(self.hold_seconds)
    }
}

/// One version's counts over the window, from CloudWatch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VersionMetrics {
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    /// The highest one-minute p99 of `Duration` in the window, when there was traffic.
    pub p99_ms: Option<f64>,
}

/// Both versions' metrics over the same window.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub baseline_version: String,
    pub baseline: VersionMetrics,
    pub canary_version: String,
    pub canary: VersionMetrics,
}

/// What the analysis found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// No metric shows harm; the summary has the numbers.
    Pass { summary: String },
    /// The new version is worse; the reason has the numbers and the p-value.
    Fail { reason: String },
    /// Too little traffic on the new version to judge.
    NoData { reason: String },
}

impl Finding {
    /// The health verdict this finding is, the one rule the functions and `simulate` share.
    pub fn verdict(self) -> crate::HealthVerdict {
        match self {
            Finding::Pass { .. } => crate::HealthVerdict::Healthy,
            Finding::Fail { reason } => crate::HealthVerdict::Breached {
                reason: format!("canary analysis: {reason}"),
            },
            Finding::NoData { reason } => crate::HealthVerdict::NoData { reason },
        }
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "no data".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        format!("p = {p:.1e}")
    } else {
        format!("p = {p:.3}")
    }
}

/// Judges the new version against the old over one window (see the module docs), as one of
/// a rollout's `checks` analysed health checks ([`crate::Rollout::analysis_checks`]): each
/// test runs at (1 − `confidence`) / `checks` (Bonferroni), so that identical versions are
/// rolled back at most 1 − `confidence` of the time over the whole rollout.
pub fn judge(spec: &AnalysisSpec, evidence: &Evidence, checks: u32) -> Finding {
    let (old, new) = (&evidence.baseline, &evidence.canary);
    let (v_old, v_new) = (&evidence.baseline_version, &evidence.canary_version);
    if new.invocations < spec.min_invocations {
        return Finding::NoData {
            reason: format!(
                "v{v_new}: {} invocations in the window, fewer than minInvocations {}",
                new.invocations, spec.min_invocations
            ),
        };
    }
    let alpha = spec.alpha() / f64::from(checks.max(1));
    let mut notes = Vec::new();
    for metric in &spec.metrics {
        match metric {
            Metric::Errors | Metric::Throttles => {
                let (what, new_bad, new_all, old_bad, old_all) = match metric {
                    Metric::Errors => (
                        "errors",
                        new.errors,
                        new.invocations,
                        old.errors,
                        old.invocations,
                    ),
                    _ => (
                        "throttles",
                        new.throttles,
                        new.invocations + new.throttles,
                        old.throttles,
                        old.invocations + old.throttles,
                    ),
                };
                let new_bad = new_bad.min(new_all);
                let old_bad = old_bad.min(old_all);
                let counts = format!(
                    "v{v_new}: {new_bad} {what} / {new_all} ({}) vs v{v_old}: {old_bad} / {old_all} ({})",
                    percent(new_bad, new_all),
                    percent(old_bad, old_all)
                );
                if *metric == Metric::Errors
                    && let Some(limit) = spec.max_error_rate
                {
                    let p = binomial_at_least(new_bad, new_all, limit);
                    if p < alpha {
                        return Finding::Fail {
                            reason: format!(
                                "v{v_new}: {new_bad} errors / {new_all} invocations ({}) is above maxErrorRate {} beyond chance, {}",
                                percent(new_bad, new_all),
                                format_rate(limit),
                                p_value(p)
                            ),
                        };
                    }
                }
                if old_all == 0 {
                    notes.push(format!("{counts}: no traffic on v{v_old} to compare with"));
                    continue;
                }
                let p = fisher_greater(new_bad, new_all, old_bad, old_all);
                let new_rate = new_bad as f64 / new_all as f64;
                let old_rate = old_bad as f64 / old_all as f64;
                let large_enough = new_rate > spec.max_relative_error_increase * old_rate;
                if p < alpha && large_enough {
                    return Finding::Fail {
                        reason: format!("{counts}, {}", p_value(p)),
                    };
                }
                notes.push(format!("{counts}, {}", p_value(p)));
            }
            Metric::DurationP99 => {
                let limit = spec.max_p99_ms.unwrap_or(f64::INFINITY);
                match new.p99_ms {
                    Some(p99) if p99 > limit => {
                        return Finding::Fail {
                            reason: format!(
                                "v{v_new}: duration p99 {p99:.0} ms is above maxP99Ms {limit:.0}"
                            ),
                        };
                    }
                    Some(p99) => notes.push(format!("v{v_new}: duration p99 {p99:.0} ms")),
                    None => notes.push(format!("v{v_new}: no duration data")),
                }
            }
        }
    }
    Finding::Pass {
        summary: notes.join("; "),
    }
}

fn format_rate(rate: f64) -> String {
    let percent = rate * 100.0;
    if (percent - percent.round()).abs() < 1e-9 {
        format!("{percent:.0} %")
    } else {
        format!("{percent} %")
    }
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
