//! `glidepath simulate --compare-health`: the static alarm and canary analysis side by side,
//! over many seeds, at several traffic levels and several degrees of badness. A new version
//! as good as the old one (1×) that is rolled back is a false rollback; a worse one (2×,
//! 10×) that succeeds is a miss.

use super::{Scenario, SimulateError, simulate};
use glidepath_core::{AnalysisSpec, Status};
use serde::Serialize;
use std::fmt::Write as _;

/// The grid to run.
#[derive(Debug, Clone)]
pub struct Grid {
    pub rps: Vec<u32>,
    /// The new version's error rate as a multiple of the old one's.
    pub multipliers: Vec<f64>,
    pub seeds: u64,
}

/// One cell: a detector at one traffic level and badness, over every seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub rps: u32,
    pub multiplier: f64,
    pub detector: &'static str,
    pub runs: u64,
    pub rolled_back: u64,
    pub succeeded: u64,
}

impl Cell {
    /// Rolled back when the new version is as good as the old: wrong.
    pub fn false_rollbacks(&self) -> Option<u64> {
        (self.multiplier <= 1.0).then_some(self.rolled_back)
    }

    /// Succeeded when the new version is worse: missed.
    pub fn misses(&self) -> Option<u64> {
        (self.multiplier > 1.0).then_some(self.succeeded)
    }
}

/// Runs `strategy` under `base` with each detector over the grid. `base.error_rate_old`
/// must be above 0 (the multipliers scale it).
pub fn compare_health(
    strategy: &str,
    base: &Scenario,
    analysis: &AnalysisSpec,
    grid: &Grid,
) -> Result<Vec<Cell>, SimulateError> {
    let invalid = |flag, problem: &str| SimulateError::InvalidOption {
        flag,
        problem: problem.to_string(),
    };
    if base.error_rate_old <= 0.0 {
        return Err(invalid(
            "--error-rate-old",
            "must be above 0: --compare-health scales it by each multiplier",
        ));
    }
    if grid.seeds == 0 {
        return Err(invalid("--seeds", "must be at least 1"));
    }
    if grid
        .multipliers
        .iter()
        .any(|m| !(m.is_finite() && *m > 0.0))
    {
        return Err(invalid("--multipliers", "each must be a number above 0"));
    }
    let mut cells = Vec::new();
    for &rps in &grid.rps {
        for &multiplier in &grid.multipliers {
            for (detector, analysis) in [("alarm", None), ("analysis", Some(analysis.clone()))] {
                let mut cell = Cell {
                    rps,
                    multiplier,
                    detector,
                    runs: 0,
                    rolled_back: 0,
                    succeeded: 0,
                };
                for seed in 1..=grid.seeds {
                    let scenario = Scenario {
                        rps,
                        error_rate_new: (base.error_rate_old * multiplier).min(1.0),
                        fail_after_seconds: None,
                        seed,
                        analysis: analysis.clone(),
                        ..base.clone()
                    };
                    let result = simulate(strategy, &scenario)?;
                    cell.runs += 1;
                    match result.outcome {
                        Status::Succeeded => cell.succeeded += 1,
                        _ => cell.rolled_back += 1,
                    }
                }
                cells.push(cell);
            }
        }
    }
    Ok(cells)
}

/// The table: one line per traffic level and badness, both detectors side by side.
pub fn format_table(
    strategy: &str,
    base: &Scenario,
    analysis: &AnalysisSpec,
    cells: &[Cell],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{strategy}: old version failing {:.2} %; static alarm above {:.2} % per {} s; analysis at confidence {}, minInvocations {}, noData {:?}",
        base.error_rate_old * 100.0,
        base.alarm_threshold * 100.0,
        base.alarm_period_seconds,
        analysis.confidence,
        analysis.min_invocations,
        analysis.no_data,
    );
    let _ = writeln!(
        out,
        "{:>6}  {:>8}  {:<28}  {:<28}",
        "rps", "new/old", "static alarm", "canary analysis"
    );
    for pair in cells.chunks(2) {
        let [alarm, analysed] = pair else { continue };
        let describe = |cell: &Cell| match (cell.false_rollbacks(), cell.misses()) {
            (Some(wrong), _) => format!("{wrong}/{} false rollbacks", cell.runs),
            (_, Some(missed)) => format!("{missed}/{} missed", cell.runs),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:>6}  {:>7}x  {:<28}  {:<28}",
            alarm.rps,
            alarm.multiplier,
            describe(alarm),
            describe(analysed)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_low_traffic_comparison_counts_each_outcome() {
        let base = Scenario {
            error_rate_old: 0.02,
            ..Scenario::default()
        };
        let analysis = AnalysisSpec::from_json(&json!({})).expect("valid");
        let grid = Grid {
            rps: vec![20],
            multipliers: vec![1.0, 10.0],
            seeds: 4,
        };
        let cells =
            compare_health("Canary10Percent5Minutes", &base, &analysis, &grid).expect("runs");
        assert_eq!(cells.len(), 4);
        for cell in &cells {
            assert_eq!(cell.runs, 4, "{cell:?}");
        }
        // A new version failing ten times as often (20 % of requests) is caught by both
        // detectors at least once in four.
        for cell in cells.iter().filter(|c| c.multiplier > 1.0) {
            assert!(cell.rolled_back > 0, "{cell:?}");
        }
        let table = format_table("Canary10Percent5Minutes", &base, &analysis, &cells);
        assert!(
            table.contains("false rollbacks") && table.contains("missed"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 4, "{table}");
    }

    #[test]
    fn the_grid_is_checked() {
        let analysis = AnalysisSpec::from_json(&json!({})).expect("valid");
        let grid = Grid {
            rps: vec![20],
            multipliers: vec![2.0],
            seeds: 1,
        };
        let error = compare_health("AllAtOnce", &Scenario::default(), &analysis, &grid)
            .expect_err("no old error rate");
        assert!(error.to_string().starts_with("--error-rate-old"), "{error}");
    }
}
