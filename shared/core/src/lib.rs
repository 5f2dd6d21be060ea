//! The Glidepath rollout engine: no AWS, no I/O, no clock.
//!
//! - [`alarm_ref`]: alarms named by name (read by Glidepath) or by ARN (another account's,
//!   pushed only).
//! - [`duration`]: `90s` / `5m` / `1h30m` parsing and display.
//! - [`analysis`]: canary analysis: the new version judged against the old one from their
//!   per-version metrics, with the exact tests of [`stats`].
//! - [`strategy`]: CodeDeploy predefined configs and the JSON strategy forms, validated.
//! - [`plan`]: the ordered weights, waits and manual gates a strategy turns into.
//! - [`rollout`]: the persisted [`Rollout`] record, its [`Status`] and request ([`RolloutSpec`]).
//! - [`request`]: a user's rollout request, checked field by field.
//! - [`event`]: the [`Event`]s the engine reacts to and the [`Command`]s (effects) it emits.
//! - [`managed_alarms`]: the per-version alarms Glidepath creates for `"alarms": "auto"`.
//! - [`owed`]: what a record owes (unconfirmed effects, a tick, a hook stage, a rollback)
//!   and when the watchdog should re-drive it: the one rule the store and its fakes share.
//! - [`policy`]: who may move traffic: the [`Actor`] behind a request, the authorisation
//!   [`Policy`] and the [`Guardrail`]s of a new rollout.
//! - [`publish_tags`]: the tags that opt a function into rollouts on publish, read into a
//!   rollout request.
//! - [`release`]: release trains: members shifted in lockstep and rolled back together,
//!   coordinated by a pure rule over every member's record.
//! - [`release_request`]: a release request (shared fields, members), checked field by field.
//! - [`weight`]: [`Weight`], a share of traffic in 0.01 % steps.
//! - [`transition()`]: the pure state machine tying them together.
//!
//! Callers (the Lambdas, `glidepath simulate`) load a rollout, call [`transition()`] with an
//! event and the current time, persist the result conditionally on `seq`, then run the
//! commands and feed their results back as events.

pub mod alarm_ref;
pub mod analysis;
pub mod duration;
pub mod event;
pub mod managed_alarms;
pub mod owed;
pub mod plan;
pub mod policy;
pub mod publish_tags;
pub mod release;
pub mod release_request;
pub mod request;
pub mod rollout;
pub mod stats;
pub mod strategy;
mod transition;
pub mod weight;

pub use analysis::{AnalysisSpec, Evidence, Finding, Metric, NoData, VersionMetrics, judge};
pub use duration::{DurationError, MAX_DURATION_SECONDS, format_duration, parse_duration};
pub use event::{Command, Event, HealthVerdict, HookOutcome, HookPhase, Notification};
pub use owed::{AliasWrite, Grace, Owed, OwedKind, OwedWork};
pub use plan::{MAX_PLAN_STEPS, Plan, PlanStep};
pub use policy::{
    Action, Actor, Channel, DIRECT_INVOKE_PRINCIPAL, Forbidden, Grant, Guardrail, Guardrails,
    Policy, PolicyError, RolloutFacts,
};
pub use release_request::ReleaseRequest;
pub use request::{MAX_ALARMS, RequestError, RolloutRequest, Target};
pub use rollout::{
    Hooks, InsufficientData, Pause, PauseKind, RecordError, Rollout, RolloutSpec, SCHEMA_VERSION,
    Status, UnixSeconds, arn_account, function_name, unqualified_function_arn,
};
pub use strategy::{
    CODEDEPLOY_PREFIX, MAX_STRATEGY_BYTES, PREDEFINED, StepSpec, Strategy, StrategyError,
};
pub use transition::{
    EARLY_TICK_TOLERANCE_SECONDS, HOOK_STAGE_LIMIT_SECONDS, MAX_REASON_CHARS, Transition,
    TransitionError, transition,
};
pub use weight::{Weight, WeightError};
