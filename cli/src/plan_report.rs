//! `glidepath plan`: the schedule a strategy produces, as a table or as JSON.

use glidepath_core::duration::DisplaySeconds;
use glidepath_core::{Plan, PlanStep, Strategy, StrategyError};
use serde::Serialize;
use std::fmt::Write as _;

/// The `--json` form: `{"strategy", "steps", "bakeSeconds", "totalSeconds"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    pub strategy: String,
    pub steps: Plan,
    pub bake_seconds: u64,
    /// Every wait plus the bake; manual gates count as zero.
    pub total_seconds: u64,
}

impl PlanReport {
    /// Parses and validates `strategy` (a name or JSON) and lays out its plan.
    pub fn new(strategy: &str, bake_seconds: u64) -> Result<Self, StrategyError> {
        let plan = Strategy::parse(strategy)?.plan();
        Ok(PlanReport {
            strategy: strategy.to_string(),
            total_seconds: plan.total_wait_seconds() + bake_seconds,
            steps: plan,
            bake_seconds,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a plan report always serializes")
    }

    /// A readable table: each step's weight, how long it is held, and when it starts.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "strategy: {}", self.strategy);
        let _ = writeln!(
            out,
            "{:>4}  {:<13}  {:>8}  {:>8}",
            "step", "new version", "hold", "starts"
        );
        let mut elapsed = 0u64;
        for (index, step) in self.steps.steps().iter().enumerate() {
            match step {
                PlanStep::Shift {
                    weight,
                    wait_seconds,
                } => {
                    let _ = writeln!(
                        out,
                        "{:>4}  {:<13}  {:>8}  {:>8}",
                        index + 1,
                        format!("{weight}%"),
                        DisplaySeconds(*wait_seconds).to_string(),
                        DisplaySeconds(elapsed).to_string()
                    );
                    elapsed += wait_seconds;
                }
                PlanStep::Pause => {
                    let _ = writeln!(
                        out,
                        "{:>4}  {:<13}  {:>8}  {:>8}",
                        index + 1,
                        "manual gate",
                        "resume",
                        DisplaySeconds(elapsed).to_string()
                    );
                }
            }
        }
        if self.bake_seconds > 0 {
            let _ = writeln!(
                out,
                "{:>4}  {:<13}  {:>8}  {:>8}",
                "bake",
                "100%",
                DisplaySeconds(self.bake_seconds).to_string(),
                DisplaySeconds(elapsed).to_string()
            );
        }
        let _ = write!(
            out,
            "total: {} ({}s)",
            DisplaySeconds(self.total_seconds),
            self.total_seconds
        );
        if self.steps.has_gate() {
            out.push_str(", plus the time spent waiting at manual gates");
        }
        out.push('\n');
        out
    }
}
