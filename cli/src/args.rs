//! The command line: `glidepath plan` and `glidepath simulate`.

use crate::plan_report::PlanReport;
use crate::simulate::{
    Detection, Scenario, SimulateError, SimulationReport, format_text, simulate,
};
use clap::{Parser, Subcommand, ValueEnum};
use glidepath_core::{StrategyError, parse_duration};

/// Progressive delivery for AWS Lambda aliases.
#[derive(Debug, Parser)]
#[command(name = "glidepath", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Print the schedule a strategy produces.
    Plan(PlanArgs),
    /// Run rollouts against synthetic traffic on a virtual clock, and compare strategies.
    Simulate(SimulateArgs),
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// A CodeDeploy name (`Canary10Percent5Minutes`, `CodeDeployDefault.LambdaLinear10PercentEvery1Minute`,
    /// `AllAtOnce`, ...) or a JSON strategy (`{"type":"canary","percent":10,"interval":"5m"}`).
    pub strategy: String,
    /// Watch time at 100 % before the rollout finishes.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "0s")]
    pub bake: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DetectionArg {
    /// The alarm is read only when a step tick checks health.
    Tick,
    /// The alarm's change to ALARM rolls back at once.
    Event,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// A strategy to simulate (name or JSON); repeat to compare several.
    #[arg(long = "strategy", value_name = "STRATEGY", required = true)]
    pub strategies: Vec<String>,
    /// Requests per second through the alias.
    #[arg(long, default_value_t = 100)]
    pub rps: u32,
    /// Fraction of requests the old version fails (0.002 or 0.2%).
    #[arg(long, value_name = "P", value_parser = fraction, default_value = "0")]
    pub error_rate_old: f64,
    /// Fraction of requests the new version fails (0.05 or 5%).
    #[arg(long, value_name = "Q", value_parser = fraction, default_value = "0")]
    pub error_rate_new: f64,
    /// The new version behaves like the old one until this long into the rollout.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub fail_after: Option<u64>,
    /// The alarm fires when the new version's error rate over a period is above this.
    #[arg(long, value_name = "R", value_parser = fraction, default_value = "0.01")]
    pub alarm_threshold: f64,
    /// The alarm's evaluation period.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "60s")]
    pub alarm_period: u64,
    /// When the rollout learns of the alarm.
    #[arg(long, value_enum, default_value = "tick")]
    pub detection: DetectionArg,
    /// Watch time at 100 % before the rollout finishes.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "0s")]
    pub bake: u64,
    /// How long the simulated operator waits before resuming a manual gate.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "0s")]
    pub gate_resume_after: u64,
    /// Seed of the synthetic traffic: the same seed gives the same results.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Why a subcommand could not run (always the caller's input).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

impl Cli {
    /// Runs the subcommand and returns what it prints on stdout.
    pub fn run(&self) -> Result<String, CliError> {
        match &self.command {
            CliCommand::Plan(args) => {
                let report = PlanReport::new(&args.strategy, args.bake)?;
                Ok(if args.json {
                    report.to_json() + "\n"
                } else {
                    report.to_text()
                })
            }
            CliCommand::Simulate(args) => {
                let scenario = args.scenario();
                let results = args
                    .strategies
                    .iter()
                    .map(|strategy| simulate(strategy, &scenario))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if args.json {
                    SimulationReport { results: &results }.to_json() + "\n"
                } else {
                    format_text(&results)
                })
            }
        }
    }
}

impl SimulateArgs {
    pub fn scenario(&self) -> Scenario {
        Scenario {
            rps: self.rps,
            error_rate_old: self.error_rate_old,
            error_rate_new: self.error_rate_new,
            fail_after_seconds: self.fail_after,
            alarm_threshold: self.alarm_threshold,
            alarm_period_seconds: self.alarm_period,
            detection: match self.detection {
                DetectionArg::Tick => Detection::Tick,
                DetectionArg::Event => Detection::Event,
            },
            bake_seconds: self.bake,
            gate_resume_after_seconds: self.gate_resume_after,
            seed: self.seed,
        }
    }
}

fn duration(text: &str) -> Result<u64, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

/// `0.05` or `5%`, in [0, 1].
fn fraction(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    }
    .map_err(|_| {
        format!(
            "`{text}` is not a number; expected a fraction such as 0.05 or a percentage such as 5%"
        )
    })?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("`{text}` is not in [0, 1] (0 % to 100 %)"))
    }
}
