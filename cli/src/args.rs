//! The command line: `glidepath plan` and `glidepath simulate` (offline), and the operator
//! commands against a deployed stack ([`crate::operate`]).

use crate::operate::{Control, Exit, Format, OperateError, Operator};
use crate::plan_report::PlanReport;
use crate::simulate::compare::{Grid, compare_health, format_table};
use crate::simulate::{
    Detection, Scenario, SimulateError, SimulationReport, format_text, simulate,
};
use clap::{Parser, Subcommand, ValueEnum};
use glidepath_core::{AnalysisSpec, StrategyError, parse_duration};

/// Progressive delivery for AWS Lambda aliases.
#[derive(Debug, Parser)]
#[command(name = "glidepath", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
    /// The Glidepath stack to operate (its CloudFormation outputs name its functions and table).
    #[arg(
        long,
        global = true,
        env = "GLIDEPATH_STACK",
        default_value = "glidepath"
    )]
    pub stack: String,
    /// Print one JSON document (`watch`, `start --wait`: one JSON object a transition, a line each).
    #[arg(long, global = true)]
    pub json: bool,
    /// How commands reach the stack: `url` signs requests to its function URLs with your
    /// credentials (the rollout records your IAM ARN); `invoke` uses Lambda Invoke (recorded as
    /// `lambda:invoke`).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "GLIDEPATH_VIA",
        default_value = "url"
    )]
    pub via: crate::operate::aws::Via,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Print the schedule a strategy produces.
    Plan(PlanArgs),
    /// Run rollouts against synthetic traffic on a virtual clock, and compare strategies.
    Simulate(SimulateArgs),
    /// Start a rollout; with --wait, watch it to its end (exit 0 succeeded, 1 rolled back).
    Start(StartArgs),
    /// Where a rollout is: status, weight, its plan with the current step marked.
    Status(StatusArgs),
    /// Print each transition of a rollout as it happens, until it ends (exit 0 succeeded, 1 not).
    Watch(WatchArgs),
    /// Every transition of a rollout: time, event, status, weight, actor, reason.
    History(HistoryArgs),
    /// Rollouts newest first: every one in the table, a function's, or an alias's.
    List(ListArgs),
    /// Hold the rollout at its current weight.
    Pause(IdArg),
    /// Continue after a pause or a manual gate.
    Resume(IdArg),
    /// Skip the remaining steps (and bake): go to 100 % now.
    Promote(IdArg),
    /// Roll back now: everything back on the old version.
    Abort(AbortArgs),
    /// A function's published versions.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// Releases: several functions shifted together, rolled back together.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Print a completion script for a shell (e.g. `glidepath completions bash > /etc/bash_completion.d/glidepath`).
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Start the release a JSON file describes (`members`, and the strategy, bake, alarms and
    /// hooks they share); with --wait, watch it to its end (exit 0 every member succeeded, 1
    /// the release rolled back). `status`, `watch`, `history`, `pause`, `resume`, `promote`
    /// and `abort` take the release id it prints.
    Start(ReleaseStartArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReleaseStartArgs {
    /// The release request (`-` for stdin).
    pub file: std::path::PathBuf,
    /// Watch the release to its end.
    #[arg(long)]
    pub wait: bool,
}

impl ReleaseStartArgs {
    /// The file's JSON.
    pub fn request(&self) -> Result<serde_json::Value, String> {
        let text = if self.file.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).map_err(|e| format!("-: {e}"))?
        } else {
            std::fs::read_to_string(&self.file)
                .map_err(|e| format!("{}: {e}", self.file.display()))?
        };
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", self.file.display()))
    }
}

#[derive(Debug, Subcommand)]
pub enum VersionsCommand {
    /// Delete old versions (a dry run unless --yes), never one an alias routes to, one an
    /// unfinished rollout needs, one with provisioned concurrency, or $LATEST.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    #[arg(long)]
    pub function: String,
    /// How many of the newest versions to keep besides those in use.
    #[arg(long)]
    pub keep: usize,
    /// Delete them (without it, only print what would be deleted).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, clap::Args)]
pub struct IdArg {
    /// The rollout's id (`start` prints it).
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The rollout's id (`start` prints it).
    pub id: String,
    /// Also draw the weight over time, with health checks, gates and the ending marked, as an
    /// SVG file (to attach to an incident ticket).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The rollout's id; or name the alias with --function and --alias.
    #[arg(required_unless_present = "function", conflicts_with = "function")]
    pub id: Option<String>,
    /// The function whose alias's current (or else latest) rollout to show.
    #[arg(long, requires = "alias")]
    pub function: Option<String>,
    #[arg(long, requires = "function")]
    pub alias: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    pub id: String,
    /// How often to read the rollout.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "2s")]
    pub interval: u64,
}

#[derive(Debug, clap::Args)]
pub struct AbortArgs {
    pub id: String,
    /// Why: recorded in the rollout and its notification.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this function's rollouts (name or ARN); without it, every rollout in the table.
    #[arg(long)]
    pub function: Option<String>,
    /// Only this alias's rollouts.
    #[arg(long, requires = "function")]
    pub alias: Option<String>,
    /// Only rollouts that have not ended.
    #[arg(long)]
    pub active: bool,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The whole JSON request from a file (`-` for stdin), instead of the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["function", "alias", "version", "publish", "strategy", "bake", "alarms", "pre_traffic", "post_traffic", "idempotency_key"])]
    pub request: Option<std::path::PathBuf>,
    #[arg(long, required_unless_present = "request")]
    pub function: Option<String>,
    #[arg(long, required_unless_present = "request")]
    pub alias: Option<String>,
    /// The published version to roll out.
    #[arg(long, conflicts_with = "publish", required_unless_present_any = ["request", "publish"])]
    pub version: Option<String>,
    /// Publish $LATEST and roll out the version that creates.
    #[arg(long)]
    pub publish: bool,
    /// A CodeDeploy name or a JSON strategy.
    #[arg(long, required_unless_present = "request")]
    pub strategy: Option<String>,
    /// Watch time at 100 % before the rollout finishes (e.g. 10m).
    #[arg(long)]
    pub bake: Option<String>,
    /// A CloudWatch alarm that rolls the rollout back; repeat for several.
    #[arg(long = "alarm", value_name = "NAME")]
    pub alarms: Vec<String>,
    #[arg(long, value_name = "FUNCTION")]
    pub pre_traffic: Option<String>,
    #[arg(long, value_name = "FUNCTION")]
    pub post_traffic: Option<String>,
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Watch the rollout to its end; exit 0 if it succeeded, 1 if it rolled back or failed.
    #[arg(long)]
    pub wait: bool,
}

impl StartArgs {
    /// The request `start` sends: the file's JSON, or the flags as Glidepath's request fields
    /// (checked by Glidepath, which names any bad field).
    pub fn request(&self) -> Result<serde_json::Value, String> {
        if let Some(path) = &self.request {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| format!("--request -: {e}"))?
            } else {
                std::fs::read_to_string(path)
                    .map_err(|e| format!("--request {}: {e}", path.display()))?
            };
            return serde_json::from_str(&text)
                .map_err(|e| format!("--request {}: not JSON: {e}", path.display()));
        }
        let mut request = serde_json::Map::new();
        let mut put = |key: &str, value: serde_json::Value| {
            request.insert(key.to_string(), value);
        };
        put("function", self.function.clone().into());
        put("alias", self.alias.clone().into());
        match &self.version {
            Some(version) => put("targetVersion", version.clone().into()),
            None => put("publish", true.into()),
        }
        let strategy = self.strategy.clone().unwrap_or_default();
        // A JSON strategy goes as an object, a name as a string.
        put(
            "strategy",
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&strategy)
                .map(serde_json::Value::Object)
                .unwrap_or_else(|_| strategy.into()),
        );
        if let Some(bake) = &self.bake {
            put("bake", bake.clone().into());
        }
        if !self.alarms.is_empty() {
            put("alarms", self.alarms.clone().into());
        }
        let mut hooks = serde_json::Map::new();
        if let Some(hook) = &self.pre_traffic {
            hooks.insert("preTraffic".into(), hook.clone().into());
        }
        if let Some(hook) = &self.post_traffic {
            hooks.insert("postTraffic".into(), hook.clone().into());
        }
        if !hooks.is_empty() {
            put("hooks", hooks.into());
        }
        if let Some(key) = &self.idempotency_key {
            put("idempotencyKey", key.clone().into());
        }
        Ok(request.into())
    }
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// A CodeDeploy name (`Canary10Percent5Minutes`, `CodeDeployDefault.LambdaLinear10PercentEvery1Minute`,
    /// `AllAtOnce`, ...) or a JSON strategy (`{"type":"canary","percent":10,"interval":"5m"}`).
    pub strategy: String,
    /// Watch time at 100 % before the rollout finishes.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "0s")]
    pub bake: u64,
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
    /// Check health by canary analysis instead of the alarm: the request's `analysis` block as
    /// JSON, e.g. '{"confidence": 0.99, "minInvocations": 50}' ('{}' for the defaults).
    #[arg(long, value_name = "JSON")]
    pub analysis: Option<String>,
    /// Compare the static alarm with canary analysis over many seeds, at each --rps-list
    /// traffic level and each --multipliers badness of the new version.
    #[arg(long)]
    pub compare_health: bool,
    /// Runs per cell of --compare-health.
    #[arg(long, default_value_t = 100, requires = "compare_health")]
    pub seeds: u64,
    /// Traffic levels for --compare-health.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "20,1000",
        requires = "compare_health"
    )]
    pub rps_list: Vec<u32>,
    /// The new version's error rate as multiples of --error-rate-old, for --compare-health.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,2,10",
        requires = "compare_health"
    )]
    pub multipliers: Vec<f64>,
}

/// Why a subcommand could not run (always the caller's input).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
    /// An operator command given to the offline runner (a bug in the caller).
    #[error("`{0}` needs a deployed stack: run it through Cli::operate")]
    NeedsStack(&'static str),
}

impl Cli {
    /// Runs the subcommand and returns what it prints on stdout.
    pub fn run(&self) -> Result<String, CliError> {
        match &self.command {
            CliCommand::Plan(args) => {
                let report = PlanReport::new(&args.strategy, args.bake)?;
                Ok(if self.json {
                    report.to_json() + "\n"
                } else {
                    report.to_text()
                })
            }
            CliCommand::Simulate(args) if args.compare_health => {
                let scenario = args.scenario()?;
                let analysis = scenario
                    .analysis
                    .clone()
                    .ok_or(SimulateError::InvalidOption {
                        flag: "--analysis",
                        problem: "--compare-health needs an analysis".into(),
                    })?;
                let grid = Grid {
                    rps: args.rps_list.clone(),
                    multipliers: args.multipliers.clone(),
                    seeds: args.seeds,
                };
                let mut text = String::new();
                let mut tables = Vec::new();
                for strategy in &args.strategies {
                    let cells = compare_health(strategy, &scenario, &analysis, &grid)?;
                    text.push_str(&format_table(strategy, &scenario, &analysis, &cells));
                    tables.push(serde_json::json!({"strategy": strategy, "cells": cells}));
                }
                Ok(if self.json {
                    serde_json::json!({"comparisons": tables}).to_string() + "\n"
                } else {
                    text
                })
            }
            CliCommand::Simulate(args) => {
                let scenario = args.scenario()?;
                let results = args
                    .strategies
                    .iter()
                    .map(|strategy| simulate(strategy, &scenario))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if self.json {
                    SimulationReport { results: &results }.to_json() + "\n"
                } else {
                    format_text(&results)
                })
            }
            CliCommand::Completions(args) => {
                let mut command = <Cli as clap::CommandFactory>::command();
                let mut script = Vec::new();
                clap_complete::generate(args.shell, &mut command, "glidepath", &mut script);
                Ok(String::from_utf8_lossy(&script).into_owned())
            }
            _ => Err(CliError::NeedsStack("operator command")),
        }
    }

    /// Whether the command works offline (`plan`, `simulate`, `completions`) rather than on a
    /// stack.
    pub fn is_offline(&self) -> bool {
        matches!(
            self.command,
            CliCommand::Plan(_) | CliCommand::Simulate(_) | CliCommand::Completions(_)
        )
    }

    /// Runs an operator command against `control`, printing to `out`; `terminal` says that
    /// `out` is one (colours unless `NO_COLOR`, and `watch`'s live progress bar).
    pub async fn operate<C: Control>(
        &self,
        control: &C,
        out: &mut dyn std::io::Write,
        terminal: bool,
    ) -> Result<Exit, OperateError> {
        let interval = match &self.command {
            CliCommand::Watch(args) => args.interval.max(1),
            _ => 2,
        };
        let operator = Operator {
            control,
            format: if self.json {
                Format::Json
            } else {
                Format::Text
            },
            interval: std::time::Duration::from_secs(interval),
            paint: crate::operate::render::Paint::for_terminal(terminal && !self.json),
            live: terminal && !self.json,
        };
        match &self.command {
            CliCommand::Start(args) => {
                let request = args
                    .request()
                    .map_err(|e| OperateError::new(Exit::BadInput, e))?;
                operator.start(&request, args.wait, out).await
            }
            CliCommand::Status(args) => match (&args.id, &args.function, &args.alias) {
                (Some(id), _, _) => operator.status(id, out).await,
                (None, Some(function), Some(alias)) => {
                    let rollout = operator.alias_rollout(function, alias).await?;
                    operator.status_of(rollout, out).await
                }
                _ => Err(OperateError::new(
                    Exit::BadInput,
                    "status needs a rollout id, or --function and --alias",
                )),
            },
            CliCommand::Watch(args) => operator.watch(&args.id, out).await,
            CliCommand::History(args) => operator.history(&args.id, args.svg.as_deref(), out).await,
            CliCommand::List(args) => {
                operator
                    .list(
                        args.function.as_deref(),
                        args.alias.as_deref(),
                        args.active,
                        args.limit,
                        out,
                    )
                    .await
            }
            CliCommand::Pause(args) => operator.command(&args.id, "pause", out).await,
            CliCommand::Resume(args) => operator.command(&args.id, "resume", out).await,
            CliCommand::Promote(args) => operator.command(&args.id, "promote", out).await,
            CliCommand::Abort(args) => operator.abort(&args.id, &args.reason, out).await,
            CliCommand::Release(ReleaseCommand::Start(args)) => {
                let request = args
                    .request()
                    .map_err(|e| OperateError::new(Exit::BadInput, e))?;
                operator.release_start(&request, args.wait, out).await
            }
            CliCommand::Versions(VersionsCommand::Prune(args)) => {
                operator
                    .prune(&args.function, args.keep, args.yes, out)
                    .await
            }
            CliCommand::Plan(_) | CliCommand::Simulate(_) | CliCommand::Completions(_) => Err(
                OperateError::new(Exit::BadInput, "this command runs offline"),
            ),
        }
    }
}

impl SimulateArgs {
    /// The analysis of `--analysis`, checked like a request's (`{}` under
    /// `--compare-health` without it).
    pub fn analysis(&self) -> Result<Option<AnalysisSpec>, SimulateError> {
        let text = match (&self.analysis, self.compare_health) {
            (Some(text), _) => text.as_str(),
            (None, true) => "{}",
            (None, false) => return Ok(None),
        };
        let invalid = |problem: String| SimulateError::InvalidOption {
            flag: "--analysis",
            problem,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        AnalysisSpec::from_json(&value)
            .map(Some)
            .map_err(|e| invalid(e.to_string()))
    }

    pub fn scenario(&self) -> Result<Scenario, SimulateError> {
        Ok(Scenario {
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
            analysis: self.analysis()?,
        })
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
