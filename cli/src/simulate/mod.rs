//! `glidepath simulate`: drives the real engine through a rollout against synthetic traffic on
//! a virtual clock, one second at a time.
//!
//! The fake alias sends each request to the new version with the current weight's
//! probability; each version fails requests at its own error rate; an [`ErrorRateAlarm`]
//! watches the new version. With [`Detection::Tick`] the alarm is only read when a step tick
//! checks health; with [`Detection::Event`] its change to `ALARM` triggers the rollback at
//! once, as Glidepath's `check-alarms` function does in AWS. Effects are instantaneous here:
//! hooks pass, the alias moves and ticks fire exactly on time.
//!
//! With an `analysis` ([`Scenario::analysis`]) the health checks use canary analysis instead
//! of the alarm: each version's invocations and errors since the current weight, judged by
//! the engine's own [`glidepath_core::judge`] (metrics are available at once here; in AWS
//! they arrive about a minute late, which a hold absorbs). [`compare`] runs both detectors
//! over many seeds.

mod alarm;
pub mod compare;
mod report;
mod rng;

pub use alarm::{AlarmState, ErrorRateAlarm};
pub use report::{SimulationReport, format_text};

use glidepath_core::{
    AnalysisSpec, Command, Event, Evidence, HealthVerdict, HookOutcome, PauseKind, Rollout,
    RolloutSpec, Status, Strategy, StrategyError, TransitionError, VersionMetrics, Weight, judge,
    transition,
};
use rng::SplitMix64;
use serde::Serialize;
use std::collections::VecDeque;

/// Longest simulated rollout: a guard against a plan that never ends.
pub const MAX_SIMULATED_SECONDS: u64 = 30 * 24 * 3600;

/// When the alarm's state reaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Only when a step tick checks health (how tick-driven tools such as CodeDeploy react).
    Tick,
    /// As soon as the alarm changes state (Glidepath's alarm event path).
    Event,
}

/// The traffic, failure and alarm model of one simulation.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub rps: u32,
    pub error_rate_old: f64,
    pub error_rate_new: f64,
    /// The new version behaves like the old one until this many seconds into the rollout.
    pub fail_after_seconds: Option<u64>,
    pub alarm_threshold: f64,
    pub alarm_period_seconds: u64,
    pub detection: Detection,
    pub bake_seconds: u64,
    /// How long a simulated operator takes to resume a manual gate.
    pub gate_resume_after_seconds: u64,
    pub seed: u64,
    /// Canary analysis instead of the alarm, when set.
    pub analysis: Option<AnalysisSpec>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            rps: 100,
            error_rate_old: 0.0,
            error_rate_new: 0.0,
            fail_after_seconds: None,
            alarm_threshold: 0.01,
            alarm_period_seconds: 60,
            detection: Detection::Tick,
            bake_seconds: 0,
            gate_resume_after_seconds: 0,
            seed: 1,
            analysis: None,
        }
    }
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{flag}: {problem}")]
    InvalidOption { flag: &'static str, problem: String },
    #[error("strategy `{strategy}`: {source}")]
    Strategy {
        strategy: String,
        #[source]
        source: StrategyError,
    },
    #[error("the engine refused an event the simulator sent: {0}")]
    Engine(#[from] TransitionError),
    #[error("strategy `{0}` did not finish within {MAX_SIMULATED_SECONDS} simulated seconds")]
    NoEnd(String),
}

impl Scenario {
    /// Checks every option, naming the flag of the first bad one.
    pub fn validate(&self) -> Result<(), SimulateError> {
        let invalid = |flag, problem: String| Err(SimulateError::InvalidOption { flag, problem });
        if self.rps == 0 {
            return invalid("--rps", "must be at least 1".into());
        }
        for (flag, value) in [
            ("--error-rate-old", self.error_rate_old),
            ("--error-rate-new", self.error_rate_new),
            ("--alarm-threshold", self.alarm_threshold),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return invalid(
                    flag,
                    format!("{value} is not a fraction in [0, 1] (0.05 means 5 %)"),
                );
            }
        }
        if self.alarm_period_seconds == 0 {
            return invalid("--alarm-period", "must be at least 1s".into());
        }
        Ok(())
    }
}

/// One line of the weight timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub at_seconds: u64,
    pub status: Status,
    pub weight: Weight,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What happened to one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationResult {
    pub strategy: String,
    pub outcome: Status,
    pub duration_seconds: u64,
    pub requests_new: u64,
    pub failed_requests: u64,
    /// Seconds from the first failed request on the new version to the rollback (1 s
    /// resolution); `None` when nothing was rolled back or the new version never failed.
    pub detection_seconds: Option<u64>,
    #[serde(skip)]
    pub timeline: Vec<TimelineEntry>,
}

/// Simulates one rollout of `strategy` under `scenario`.
pub fn simulate(strategy: &str, scenario: &Scenario) -> Result<SimulationResult, SimulateError> {
    scenario.validate()?;
    let plan = Strategy::parse(strategy)
        .map_err(|source| SimulateError::Strategy {
            strategy: strategy.to_string(),
            source,
        })?
        .plan();
    let spec = RolloutSpec {
        function: "simulated".into(),
        alias: "live".into(),
        current_version: "1".into(),
        target_version: "2".into(),
        strategy: strategy.into(),
        bake_seconds: scenario.bake_seconds,
        alarms: if scenario.analysis.is_some() {
            Vec::new()
        } else {
            vec!["new-version-errors".into()]
        },
        insufficient_data: Default::default(),
        hooks: Default::default(),
        analysis: scenario.analysis.clone(),
        managed_alarms: Vec::new(),
        idempotency_key: None,
        function_arn: None,
        requested_by: None,
        authorized_by: None,
        overridden: Vec::new(),
    };
    let mut sim = Simulation {
        scenario,
        rollout: Rollout::new("simulation", spec, plan, 0),
        alias_weight: Weight::ZERO,
        timers: Vec::new(),
        alarm: ErrorRateAlarm::new(scenario.alarm_threshold, scenario.alarm_period_seconds),
        rng: SplitMix64::new(scenario.seed),
        timeline: Vec::new(),
        requests_new: 0,
        failed_requests: 0,
        first_bad_at: None,
        rollback_at: None,
        gate_since: None,
        window: Default::default(),
    };
    sim.apply(Event::Start, 0)?;
    for now in 0..=MAX_SIMULATED_SECONDS {
        sim.before_traffic(now)?;
        if sim.rollout.status.is_terminal() {
            return Ok(sim.finish(strategy, now));
        }
        sim.serve(now);
    }
    Err(SimulateError::NoEnd(strategy.to_string()))
}

struct Simulation<'a> {
    scenario: &'a Scenario,
    rollout: Rollout,
    alias_weight: Weight,
    timers: Vec<(u64, u64)>,
    alarm: ErrorRateAlarm,
    rng: SplitMix64,
    timeline: Vec<TimelineEntry>,
    requests_new: u64,
    failed_requests: u64,
    first_bad_at: Option<u64>,
    rollback_at: Option<u64>,
    gate_since: Option<u64>,
    /// Each version's traffic since the alias last changed: (old, new).
    window: (VersionMetrics, VersionMetrics),
}

impl Simulation<'_> {
    /// Feeds `event` to the engine, runs its commands, and feeds back what they report.
    fn apply(&mut self, event: Event, now: u64) -> Result<(), SimulateError> {
        let mut pending = VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            let next = transition(&self.rollout, event, now)?;
            if next.rollout.status == Status::RollingBack && self.rollback_at.is_none() {
                self.rollback_at = Some(now);
            }
            self.rollout = next.rollout;
            for command in next.commands {
                match command {
                    Command::SetWeight { weight, .. } => {
                        // The simulated alias always takes the write: confirm it at once.
                        if weight != self.alias_weight {
                            self.window = Default::default();
                        }
                        self.alias_weight = weight;
                        self.rollout.owed = Default::default();
                        pending.push_back(Event::AliasApplied {
                            seq: self.rollout.seq,
                        });
                    }
                    Command::ScheduleTick { seq, at } => {
                        self.rollout.owed.tick = false;
                        self.timers.push((at, seq));
                    }
                    Command::CheckHealth { seq } => {
                        let verdict = self.health();
                        pending.push_back(Event::Health { seq, verdict });
                    }
                    Command::RunHook { phase, .. } => pending.push_back(Event::HookCompleted {
                        phase,
                        outcome: HookOutcome::Succeeded,
                    }),
                    Command::CancelTicks => self.timers.clear(),
                    Command::ReleaseLock => {}
                    // A simulated rollout is alone: never a member of a release.
                    Command::CoordinateRelease => {}
                    Command::Notify(notification) => self.timeline.push(TimelineEntry {
                        at_seconds: now,
                        status: notification.status,
                        weight: notification.weight,
                        reason: notification.reason,
                    }),
                }
            }
        }
        Ok(())
    }

    /// A tick's health check: the alarm's state, or canary analysis of the window.
    fn health(&self) -> HealthVerdict {
        let Some(analysis) = &self.scenario.analysis else {
            return match self.alarm.state() {
                AlarmState::Alarm => HealthVerdict::Breached {
                    reason: self.alarm.describe(),
                },
                AlarmState::Ok | AlarmState::InsufficientData => HealthVerdict::Healthy,
            };
        };
        if !self.rollout.has_analysis_window() {
            return HealthVerdict::Healthy;
        }
        let evidence = Evidence {
            baseline_version: "1".into(),
            baseline: self.window.0,
            canary_version: "2".into(),
            canary: self.window.1,
        };
        judge(analysis, &evidence, self.rollout.analysis_checks()).verdict()
    }

    /// Everything that happens at the start of second `now`: the alarm closes a period,
    /// due ticks fire, an operator passes a manual gate.
    fn before_traffic(&mut self, now: u64) -> Result<(), SimulateError> {
        if self.alarm.evaluate(now) == Some(AlarmState::Alarm)
            && self.scenario.detection == Detection::Event
            && self.scenario.analysis.is_none()
        {
            let reason = self.alarm.describe();
            self.apply(Event::Breach { reason }, now)?;
        }
        // A tick can schedule another for the same second (a step with no wait): fire
        // until none is due.
        while let Some(index) = (0..self.timers.len())
            .filter(|&i| self.timers[i].0 <= now)
            .min_by_key(|&i| self.timers[i])
        {
            let (_, seq) = self.timers.swap_remove(index);
            self.apply(Event::Tick { seq }, now)?;
        }
        let at_gate = self.rollout.status == Status::Paused
            && self
                .rollout
                .pause
                .is_some_and(|p| p.kind == PauseKind::Gate);
        if at_gate {
            let since = *self.gate_since.get_or_insert(now);
            if now - since >= self.scenario.gate_resume_after_seconds {
                self.gate_since = None;
                self.apply(Event::Resume, now)?;
            }
        }
        Ok(())
    }

    /// One second of traffic through the fake alias.
    fn serve(&mut self, now: u64) {
        let share_new = self.alias_weight.fraction();
        let new_is_bad = self
            .scenario
            .fail_after_seconds
            .is_none_or(|after| now >= after);
        let error_rate_new = if new_is_bad {
            self.scenario.error_rate_new
        } else {
            self.scenario.error_rate_old
        };
        let (mut requests_new, mut errors_new, mut errors_old) = (0u64, 0u64, 0u64);
        for _ in 0..self.scenario.rps {
            if self.rng.chance(share_new) {
                requests_new += 1;
                if self.rng.chance(error_rate_new) {
                    errors_new += 1;
                }
            } else if self.rng.chance(self.scenario.error_rate_old) {
                errors_old += 1;
            }
        }
        if errors_new > 0 && new_is_bad && self.first_bad_at.is_none() {
            self.first_bad_at = Some(now);
        }
        let requests_old = u64::from(self.scenario.rps) - requests_new;
        self.window.0.invocations += requests_old;
        self.window.0.errors += errors_old;
        self.window.1.invocations += requests_new;
        self.window.1.errors += errors_new;
        self.alarm.record(requests_new, errors_new);
        self.requests_new += requests_new;
        self.failed_requests += errors_new + errors_old;
    }

    fn finish(self, strategy: &str, now: u64) -> SimulationResult {
        let detection_seconds = match (self.first_bad_at, self.rollback_at) {
            (Some(bad), Some(rollback)) => Some(rollback.saturating_sub(bad)),
            _ => None,
        };
        SimulationResult {
            strategy: strategy.to_string(),
            outcome: self.rollout.status,
            duration_seconds: now,
            requests_new: self.requests_new,
            failed_requests: self.failed_requests,
            detection_seconds,
            timeline: self.timeline,
        }
    }
}
