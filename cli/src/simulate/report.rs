//! How `glidepath simulate` prints its results: `--json`, or text with a timeline per
//! strategy and a comparison table.

use super::SimulationResult;
use glidepath_core::duration::DisplaySeconds;
use serde::Serialize;
use std::fmt::Write as _;

/// The `--json` form: `{"results": [...]}`.
#[derive(Debug, Serialize)]
pub struct SimulationReport<'a> {
    pub results: &'a [SimulationResult],
}

impl SimulationReport<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a simulation report always serializes")
    }
}

/// Each strategy's timeline and figures, then a side-by-side table when there are several.
pub fn format_text(results: &[SimulationResult]) -> String {
    let mut out = String::new();
    for result in results {
        let _ = writeln!(
            out,
            "{}: {} after {} ({}s)",
            result.strategy,
            result.outcome,
            DisplaySeconds(result.duration_seconds),
            result.duration_seconds
        );
        let _ = writeln!(
            out,
            "  requests to the new version: {}, failed requests users saw: {}, {}",
            result.requests_new,
            result.failed_requests,
            match result.detection_seconds {
                Some(seconds) => format!("rolled back {seconds}s after the first bad request"),
                None => "nothing detected".to_string(),
            }
        );
        let _ = writeln!(out, "  {:>8}  {:<12}  {:>4}", "time", "status", "new");
        let mut previous_reason = None;
        for entry in &result.timeline {
            let _ = write!(
                out,
                "  {:>8}  {:<12}  {:>3}%",
                DisplaySeconds(entry.at_seconds).to_string(),
                entry.status.as_str(),
                entry.weight
            );
            // A reason carried over from the previous line is not repeated.
            if let Some(reason) = entry
                .reason
                .as_ref()
                .filter(|r| Some(*r) != previous_reason)
            {
                let _ = write!(out, "  {reason}");
            }
            previous_reason = entry.reason.as_ref();
            out.push('\n');
        }
        out.push('\n');
    }
    if results.len() > 1 {
        let width = results
            .iter()
            .map(|r| r.strategy.len())
            .max()
            .unwrap_or(8)
            .clamp(8, 60);
        let _ = writeln!(
            out,
            "{:<width$}  {:<10}  {:>9}  {:>12}  {:>8}  {:>9}",
            "strategy", "outcome", "duration", "requests new", "failed", "detection"
        );
        for r in results {
            let _ = writeln!(
                out,
                "{:<width$}  {:<10}  {:>9}  {:>12}  {:>8}  {:>9}",
                r.strategy,
                r.outcome.as_str(),
                DisplaySeconds(r.duration_seconds).to_string(),
                r.requests_new,
                r.failed_requests,
                r.detection_seconds
                    .map_or("-".to_string(), |s| format!("{s}s"))
            );
        }
    }
    out
}
