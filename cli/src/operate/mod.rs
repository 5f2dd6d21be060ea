//! The operator's commands against a deployed Glidepath stack: `start [--wait]`, `status`,
//! `watch`, `history`, `list`, `pause`, `resume`, `promote`, `abort`, `release start`
//! ([`release`]: a release's id works wherever a rollout's does), and `versions prune`
//! ([`prune`]).
//!
//! They are written against [`Control`], the narrow port to a stack (invoke one of its
//! functions, read its table), so that their logic and output are tested without AWS;
//! [`aws::AwsControl`] is the real one. Every command ends in an [`Exit`] a CI job can branch
//! on: 0 done (a rollout that succeeded), 1 the rollout rolled back or failed, 2 bad input,
//! 3 AWS or configuration, 4 conflict, 5 forbidden by the authorisation policy.

pub mod aws;
pub mod chart;
pub mod prune;
pub mod release;
pub mod render;
pub mod url;

use glidepath_aws::ports::HistoryEntry;
use glidepath_core::{Rollout, Status};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

/// What the process exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command did what it said (a waited-for rollout succeeded).
    Done = 0,
    /// The rollout rolled back or failed.
    RolledBack = 1,
    /// Glidepath refused the input (`InvalidRequest`), or the command line was wrong.
    BadInput = 2,
    /// AWS failed, the stack or credentials are missing (`Retryable` too).
    Aws = 3,
    /// Another rollout or operator got there first (`Conflict`).
    Conflict = 4,
    /// The authorisation policy or a guardrail refused it (`Forbidden`).
    Forbidden = 5,
}

/// Why a command failed: one line for stderr, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OperateError {
    pub exit: Exit,
    pub message: String,
}

impl OperateError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        OperateError {
            exit,
            message: message.into(),
        }
    }

    /// A Glidepath function's error, by its stable `errorType`.
    pub fn from_function(error_type: &str, message: &str) -> Self {
        let exit = match error_type {
            "InvalidRequest" => Exit::BadInput,
            "Conflict" => Exit::Conflict,
            "Forbidden" => Exit::Forbidden,
            _ => Exit::Aws,
        };
        OperateError::new(exit, format!("{error_type}: {message}"))
    }
}

/// Which of the stack's operator-facing functions to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Start,
    Step,
    Rollback,
}

/// What the commands need from a deployed stack.
pub trait Control {
    /// Invokes `function` with `payload` and returns its answer; a function error becomes
    /// [`OperateError::from_function`].
    fn invoke(
        &self,
        function: Function,
        payload: &Value,
    ) -> impl Future<Output = Result<Value, OperateError>>;
    fn load(&self, id: &str) -> impl Future<Output = Result<Option<Rollout>, OperateError>>;
    fn history(&self, id: &str) -> impl Future<Output = Result<Vec<HistoryEntry>, OperateError>>;
    /// The rollouts of an alias (any order).
    fn rollouts_for_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> impl Future<Output = Result<Vec<Rollout>, OperateError>>;
    /// Up to `limit` rollouts of the whole table, newest first (only unfinished ones with
    /// `open_only`).
    fn recent(
        &self,
        open_only: bool,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Rollout>, OperateError>>;
    /// The time now, for what is drawn up to now.
    fn now(&self) -> glidepath_core::UnixSeconds;
    /// Waits between two polls of `watch`.
    fn pause(&self, interval: Duration) -> impl Future<Output = ()>;
    /// The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each named alarm that exists.
    fn alarm_states(
        &self,
        alarms: &[String],
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, OperateError>>;
    /// A function's published versions (`$LATEST` included or not).
    fn versions(&self, function: &str) -> impl Future<Output = Result<Vec<String>, OperateError>>;
    /// Where each alias of the function routes.
    fn alias_routes(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Vec<prune::AliasRoute>, OperateError>>;
    /// Whether provisioned concurrency is configured on that version.
    fn has_provisioned_concurrency(
        &self,
        function: &str,
        version: &str,
    ) -> impl Future<Output = Result<bool, OperateError>>;
    /// Deletes a published version.
    fn delete_version(
        &self,
        function: &str,
        version: &str,
    ) -> impl Future<Output = Result<(), OperateError>>;
}

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The operator commands over a [`Control`], printing to `out`.
pub struct Operator<'a, C: Control> {
    pub control: &'a C,
    pub format: Format,
    /// How often `watch` reads the rollout.
    pub interval: Duration,
    /// Colours in text output.
    pub paint: render::Paint,
    /// `watch` draws a live progress bar (text output on a terminal).
    pub live: bool,
}

impl<C: Control> Operator<'_, C> {
    /// `start`: sends the request; with `wait`, watches the rollout to its end.
    pub async fn start(
        &self,
        request: &Value,
        wait: bool,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let answer = self.control.invoke(Function::Start, request).await?;
        let id = answer["rolloutId"]
            .as_str()
            .ok_or_else(|| {
                OperateError::new(
                    Exit::Aws,
                    format!("start answered without a rolloutId: {answer}"),
                )
            })?
            .to_string();
        if !wait {
            self.print(out, &answer, &render::started(&answer))?;
            return Ok(Exit::Done);
        }
        if self.format == Format::Text {
            writeln!(out, "{}", render::started(&answer).trim_end()).map_err(io)?;
        }
        self.watch(&id, out).await
    }

    /// `status`: where the rollout is, its plan with the current step marked, and each of
    /// its alarms' state now.
    pub async fn status(&self, id: &str, out: &mut dyn Write) -> Result<Exit, OperateError> {
        match self.target(id).await? {
            release::Target::Rollout(rollout) => self.status_of(*rollout, out).await,
            release::Target::Release(members) => self.release_status(&members, out),
        }
    }

    /// `status` of a rollout already read.
    pub async fn status_of(
        &self,
        rollout: Rollout,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let readable = glidepath_core::alarm_ref::readable(&rollout.spec.alarms);
        let states = self.control.alarm_states(&readable).await?;
        let states: std::collections::BTreeMap<String, String> = rollout
            .spec
            .alarms
            .iter()
            .map(|name| {
                // Another account's alarm (by ARN) cannot be read from here.
                let state = if glidepath_core::alarm_ref::is_pushed_only(name) {
                    "pushed".to_string()
                } else {
                    states
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| "missing".into())
                };
                (name.clone(), state)
            })
            .collect();
        let mut json = render::rollout_json(&rollout);
        json["alarmStates"] = serde_json::to_value(&states).unwrap_or(Value::Null);
        self.print(out, &json, &render::status(&rollout, &states, self.paint))?;
        Ok(Exit::Done)
    }

    /// `history`: every transition; with `svg`, also the chart of them written to that file
    /// (before anything is printed, so a failed write prints no table).
    pub async fn history(
        &self,
        id: &str,
        svg: Option<&std::path::Path>,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let rollout = match self.target(id).await? {
            release::Target::Rollout(rollout) => *rollout,
            release::Target::Release(_) if svg.is_some() => {
                return Err(OperateError::new(
                    Exit::BadInput,
                    "--svg: draw one member of a release (give its rollout id)",
                ));
            }
            release::Target::Release(members) => {
                return self.release_history(&members, out).await;
            }
        };
        let history = self.control.history(&rollout.id).await?;
        let mut text = render::history(&history, self.paint);
        if let Some(path) = svg {
            let chart = chart::history_svg(&rollout, &history, self.control.now())
                .map_err(|e| OperateError::new(Exit::Aws, e))?;
            std::fs::write(path, chart).map_err(|e| {
                OperateError::new(
                    Exit::BadInput,
                    format!("--svg: could not write {}: {e}", path.display()),
                )
            })?;
            let _ = writeln!(text, "chart written to {}", path.display());
        }
        let json = serde_json::to_value(&history).unwrap_or(Value::Null);
        self.print(out, &json, &text)?;
        Ok(Exit::Done)
    }

    /// `status --function F --alias A`: the alias's unfinished rollout, or else its latest.
    pub async fn alias_rollout(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Rollout, OperateError> {
        let rollouts = self.control.rollouts_for_alias(function, alias).await?;
        rollouts
            .iter()
            .find(|r| !r.status.is_terminal())
            .or_else(|| rollouts.iter().max_by_key(|r| (r.created_at, &r.id)))
            .cloned()
            .ok_or_else(|| {
                OperateError::new(
                    Exit::BadInput,
                    format!("no rollout of {function}:{alias} in this stack"),
                )
            })
    }

    /// `list`: rollouts newest first: an alias's, a function's (each of its aliases'), or
    /// the whole table's (its `recent` index).
    pub async fn list(
        &self,
        function: Option<&str>,
        alias: Option<&str>,
        active_only: bool,
        limit: usize,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let mut rollouts = match (function, alias) {
            (Some(function), Some(alias)) => {
                self.control.rollouts_for_alias(function, alias).await?
            }
            (Some(function), None) => {
                let mut all = Vec::new();
                for route in self.control.alias_routes(function).await? {
                    all.extend(
                        self.control
                            .rollouts_for_alias(function, &route.alias)
                            .await?,
                    );
                }
                all
            }
            (None, _) => self.control.recent(active_only, limit).await?,
        };
        rollouts.retain(|r| !active_only || !r.status.is_terminal());
        rollouts.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        rollouts.truncate(limit);
        let json = Value::Array(rollouts.iter().map(render::rollout_json).collect());
        self.print(out, &json, &render::list(&rollouts, self.paint))?;
        Ok(Exit::Done)
    }

    /// `pause` / `resume` / `promote`.
    pub async fn command(
        &self,
        id: &str,
        command: &str,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let answer = self
            .control
            .invoke(
                Function::Step,
                &json!({"rolloutId": id, "command": command}),
            )
            .await?;
        self.print(out, &answer, &render::answer(&answer))?;
        Ok(Exit::Done)
    }

    /// `abort`: rolls back now.
    pub async fn abort(
        &self,
        id: &str,
        reason: &str,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let answer = self
            .control
            .invoke(
                Function::Rollback,
                &json!({"rolloutId": id, "command": "abort", "reason": reason}),
            )
            .await?;
        self.print(out, &answer, &render::answer(&answer))?;
        Ok(Exit::Done)
    }

    /// `watch`: prints each transition as it is recorded (one JSON object a line with
    /// `--json`) until the rollout ends; exits 0 if it succeeded, 1 otherwise. On a terminal
    /// ([`Operator::live`]) a progress bar of the weight stays below the transitions, with the
    /// status, the step, the time to the next step and the alarms' states beside it.
    pub async fn watch(&self, id: &str, out: &mut dyn Write) -> Result<Exit, OperateError> {
        let bar = self.live.then(progress_bar);
        let mut printed = 0u64;
        let mut first = true;
        loop {
            // A release (by its id or a member's) is watched member by member.
            let rollout = match self.control.load(id).await? {
                Some(rollout) if rollout.release.is_none() => rollout,
                _ => return self.watch_release(id, out).await,
            };
            let history = self.control.history(id).await?;
            let seen = printed;
            for entry in history.iter().filter(|h| first || h.seq > seen) {
                let line = match self.format {
                    Format::Json => serde_json::to_string(entry).unwrap_or_default(),
                    Format::Text => render::transition(entry, self.paint),
                };
                match &bar {
                    Some(bar) => bar.println(line),
                    None => writeln!(out, "{line}").map_err(io)?,
                }
                printed = printed.max(entry.seq);
            }
            first = false;
            let ended = rollout.status.is_terminal() && printed >= rollout.seq;
            if let Some(bar) = &bar {
                let readable = glidepath_core::alarm_ref::readable(&rollout.spec.alarms);
                let states = self.control.alarm_states(&readable).await?;
                bar.set_position(u64::from(rollout.weight.hundredths()));
                bar.set_message(render::progress(
                    &rollout,
                    &states,
                    self.control.now(),
                    self.paint,
                ));
                if ended {
                    bar.finish_and_clear();
                }
            }
            out.flush().map_err(io)?;
            if ended {
                if self.format == Format::Text {
                    writeln!(out, "{}", render::ending(&rollout, self.paint)).map_err(io)?;
                }
                return Ok(if rollout.status == Status::Succeeded {
                    Exit::Done
                } else {
                    Exit::RolledBack
                });
            }
            self.control.pause(self.interval).await;
        }
    }

    /// `versions prune`: decides from every fact first, then (with `yes`) deletes.
    pub async fn prune(
        &self,
        function: &str,
        keep: usize,
        yes: bool,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let versions = self.control.versions(function).await?;
        let aliases = self.control.alias_routes(function).await?;
        let mut unfinished = Vec::new();
        for route in &aliases {
            for rollout in self
                .control
                .rollouts_for_alias(function, &route.alias)
                .await?
            {
                if !rollout.status.is_terminal() {
                    unfinished.push(prune::Unfinished {
                        rollout_id: rollout.id.clone(),
                        current: rollout.spec.current_version.clone(),
                        target: rollout.spec.target_version.clone(),
                    });
                }
            }
        }
        let mut provisioned = std::collections::BTreeSet::new();
        for version in prune::candidates(&versions, &aliases, &unfinished, keep) {
            if self
                .control
                .has_provisioned_concurrency(function, &version)
                .await?
            {
                provisioned.insert(version);
            }
        }
        let decisions = prune::decide(&versions, &aliases, &unfinished, &provisioned, keep);
        if yes {
            for decision in decisions.iter().filter(|d| d.delete) {
                self.control
                    .delete_version(function, &decision.version)
                    .await
                    .map_err(|e| {
                        OperateError::new(
                            e.exit,
                            format!(
                                "stopped at version {}: {} (versions listed before it were deleted)",
                                decision.version, e.message
                            ),
                        )
                    })?;
            }
        }
        let json = json!({"function": function, "deleted": yes, "versions": decisions});
        self.print(out, &json, &prune::render(function, &decisions, yes))?;
        Ok(Exit::Done)
    }

    fn print(&self, out: &mut dyn Write, json: &Value, text: &str) -> Result<(), OperateError> {
        match self.format {
            Format::Json => writeln!(out, "{json}"),
            Format::Text => write!(out, "{text}"),
        }
        .map_err(io)
    }
}

/// The live view's bar: the weight on the new version, 0 to 100 % in 0.01 % steps (the
/// message beside it starts with the weight).
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(u64::from(glidepath_core::Weight::FULL.hundredths())),
        indicatif::ProgressDrawTarget::stdout(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {wide_msg}") {
        bar.set_style(style.progress_chars("█▌ "));
    }
    bar
}

fn io(error: std::io::Error) -> OperateError {
    OperateError::new(Exit::Aws, format!("could not write the output: {error}"))
}

#[cfg(test)]
mod tests;
