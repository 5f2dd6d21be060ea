//! The persisted rollout record: what was asked for, the plan, and where the rollout is.
//! This is the item DynamoDB stores, so its JSON form is versioned
//! ([`SCHEMA_VERSION`]); fields added later must carry a serde default.

use crate::owed::Owed;
use crate::plan::{Plan, PlanStep};
use crate::policy::{Actor, Guardrail};
use crate::weight::Weight;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the stored JSON form. Bump it on an incompatible change and teach
/// [`Rollout::from_json`] to upgrade the older form.
pub const SCHEMA_VERSION: u32 = 1;

/// Seconds since the Unix epoch. The engine never reads a clock: time comes in as an argument.
pub type UnixSeconds = u64;

/// Where a rollout is. See ARCHITECTURE.md, "Lifecycle": `PreTraffic → Shifting ⇄ Paused → Baking →
/// PostTraffic → Succeeded`, and `RollingBack → RolledBack`, plus `Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Created; the pre-traffic hook (if any) runs. No traffic on the new version yet.
    PreTraffic,
    /// Traffic is being shifted step by step.
    Shifting,
    /// Held at the current weight: a manual gate, an operator's pause, or alias drift.
    Paused,
    /// At 100 %, watching for the bake time before finishing.
    Baking,
    /// At 100 %, the post-traffic hook runs.
    PostTraffic,
    /// Done: the alias points at the new version only.
    Succeeded,
    /// The alias is being put back to 100 % on the old version.
    RollingBack,
    /// Done: the alias points at the old version only.
    RolledBack,
    /// Glidepath could not act before any traffic moved; the alias is on the old version.
    Failed,
}

impl Status {
    /// Terminal states absorb every later event.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::RolledBack | Status::Failed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PreTraffic => "PreTraffic",
            Status::Shifting => "Shifting",
            Status::Paused => "Paused",
            Status::Baking => "Baking",
            Status::PostTraffic => "PostTraffic",
            Status::Succeeded => "Succeeded",
            Status::RollingBack => "RollingBack",
            Status::RolledBack => "RolledBack",
            Status::Failed => "Failed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rollout is paused, which decides what `resume` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PauseKind {
    /// A `{"pause": true}` step of the plan: resume moves on to the next step.
    Gate,
    /// An operator's `pause`: resume restarts the current step's wait.
    Operator,
    /// Someone else moved the alias: resume re-applies the rollout's weight.
    Drift,
    /// A member of a release waits here for the other members (a barrier,
    /// [`crate::release`]); the release moves it on, never an operator's `resume`.
    Release,
}

/// A pause in force, and the status to return to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pause {
    pub kind: PauseKind,
    pub resume_to: Status,
}

/// What `INSUFFICIENT_DATA` on a rollout's alarm means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InsufficientData {
    /// Not a breach (a new version with little traffic often has no data yet).
    #[default]
    Ignore,
    /// Treated as a breach.
    Breach,
}

/// Hook functions (names or ARNs): smoke tests before traffic shifts and after 100 %, a gate
/// before each weight increase, and a notice when the rollout rolls back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_traffic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_traffic: Option<String>,
    /// Asked, after a healthy check and before each weight increase Glidepath makes on its
    /// own (the next step, or 100 % at the end of the plan): anything but success rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_shift: Option<String>,
    /// Told, asynchronously and at least once, when the rollout starts rolling back (or
    /// ends without traffic), with the reason: to page, or open a ticket. Its answer changes
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_rollback: Option<String>,
    /// `"answer": "callback"`: the pre- and post-traffic hooks are invoked asynchronously with
    /// a hook execution id and answer later through `step`'s `hookResult` command, within
    /// [`Hooks::timeout`]; otherwise (`"return"`, the default) each answers within the
    /// invocation that runs it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callback: bool,
    /// How long a callback hook has to answer (`"timeout"`, default 1 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// How long a callback hook has to answer by default (CodeDeploy gives a lifecycle hook an
/// hour too).
pub const DEFAULT_HOOK_TIMEOUT_SECONDS: u64 = 3_600;

impl Hooks {
    /// How long a callback hook has to answer.
    pub fn timeout(&self) -> u64 {
        self.timeout_seconds.unwrap_or(DEFAULT_HOOK_TIMEOUT_SECONDS)
    }
}

/// What the rollout was asked to do, resolved: versions are concrete and the strategy parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    pub function: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    /// The strategy as the user gave it (a name or JSON).
    pub strategy: String,
    #[serde(default)]
    pub bake_seconds: u64,
    #[serde(default)]
    pub alarms: Vec<String>,
    #[serde(default)]
    pub insufficient_data: InsufficientData,
    #[serde(default)]
    pub hooks: Hooks,
    /// Canary analysis at every health check, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::analysis::AnalysisSpec>,
    /// The alarms among `alarms` that Glidepath created for this rollout (`"alarms": "auto"`)
    /// and deletes when it ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_alarms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The function's unqualified ARN as Lambda reported it when the rollout was created:
    /// the alias lock and the alias index use it, so a name and an ARN are one alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// Who asked for the rollout (absent on records written before actors were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<Actor>,
    /// The authorisation policy rule that allowed the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_by: Option<String>,
    /// Guardrails the request overrode, as the policy let its actor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Guardrail>,
}

impl RolloutSpec {
    /// The function's name (`FunctionName` of Lambda's metrics), from a name or an ARN.
    pub fn function_name(&self) -> &str {
        function_name(&self.function)
    }

    /// The function as the lock and the alias index know it (its ARN when known).
    pub fn function_key(&self) -> &str {
        self.function_arn.as_deref().unwrap_or(&self.function)
    }
}

/// The function name a name, or a full, partial or qualified function ARN, refers to.
pub fn function_name(function: &str) -> &str {
    match function.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => function,
    }
}

/// A function ARN without its qualifier (`arn:aws:lambda:<region>:<account>:function:<name>`,
/// from the same with `:<version>` or `:<alias>` after it); anything else as it is.
pub fn unqualified_function_arn(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((end, _)) if arn.contains(":function:") => &arn[..end],
        _ => arn,
    }
}

/// The account of an ARN (its fifth field), if it names one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty())
}

/// The persisted state of one rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub schema_version: u32,
    pub id: String,
    pub spec: RolloutSpec,
    pub plan: Plan,
    pub status: Status,
    /// Index of the plan step in effect; `None` before the first shift.
    pub step_index: Option<usize>,
    /// Percentage of traffic on the target version now (0–100).
    pub weight: Weight,
    /// Bumped on every transition: ticks carry it, writes are conditional on it.
    pub seq: u64,
    /// `RevisionId` of the alias as Glidepath last wrote and confirmed it (set by the runner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_revision: Option<String>,
    /// When the tick for the current `seq` is due, if one is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_tick_at: Option<UnixSeconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    /// The last `seq` whose state change was published (notifications are at least once:
    /// a change not yet published is owed, and published from the history).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub notified_seq: u64,
    /// Effects this record's transition decided that are not yet confirmed done.
    #[serde(default, skip_serializing_if = "Owed::is_empty")]
    pub owed: Owed,
    /// Whether the pre-traffic hook has succeeded (or there is none and traffic may move).
    #[serde(default)]
    pub traffic_allowed: bool,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
    /// Why the rollout is paused, rolled back or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who caused the latest transition (an operator, or Glidepath itself); its history item
    /// and notification carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// When the current weight was decided: canary analysis reads the metrics from here on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_since: Option<UnixSeconds>,
    /// Since when the rollout has been held at its weight for want of evidence
    /// (`analysis.noData: "hold"`); cleared by any other transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_since: Option<UnixSeconds>,
    /// The release this rollout is a member of, if any ([`crate::release`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<crate::release::ReleaseMembership>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Why a stored rollout could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("stored rollout is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error(
        "stored rollout has schema version {found}; this build reads up to {SCHEMA_VERSION}: upgrade Glidepath"
    )]
    FutureSchema { found: u32 },
}

impl Rollout {
    /// A new rollout in `PreTraffic`, before its `Start` event.
    pub fn new(id: impl Into<String>, spec: RolloutSpec, plan: Plan, now: UnixSeconds) -> Self {
        Rollout {
            schema_version: SCHEMA_VERSION,
            id: id.into(),
            spec,
            plan,
            status: Status::PreTraffic,
            step_index: None,
            weight: Weight::ZERO,
            seq: 0,
            alias_revision: None,
            next_tick_at: None,
            pause: None,
            owed: Owed::default(),
            notified_seq: 0,
            traffic_allowed: false,
            created_at: now,
            updated_at: now,
            reason: None,
            actor: None,
            weight_since: None,
            held_since: None,
            release: None,
        }
    }

    /// The execution id a callback hook's answer must carry: the stage's phase and the `seq`
    /// it started at (`PreTraffic-1`), while the rollout waits in a hook stage for a callback
    /// hook. Any other answer (a late one, a repeat, a guess) changes nothing.
    pub fn hook_execution_id(&self) -> Option<String> {
        if !self.spec.hooks.callback {
            return None;
        }
        let phase = match self.status {
            Status::PreTraffic if self.seq > 0 && self.spec.hooks.pre_traffic.is_some() => {
                crate::HookPhase::PreTraffic
            }
            Status::PostTraffic if self.spec.hooks.post_traffic.is_some() => {
                crate::HookPhase::PostTraffic
            }
            _ => return None,
        };
        Some(format!("{phase}-{}", self.seq))
    }

    /// Whether a health check with `verdict` moves the rollout on (a healthy one, or too
    /// little data where the rollout's `analysis.noData` is `pass`): the one rule the engine
    /// advances by and the runner asks the `beforeShift` gate by.
    pub fn advances_on(&self, verdict: &crate::HealthVerdict) -> bool {
        match verdict {
            crate::HealthVerdict::Healthy => true,
            crate::HealthVerdict::NoData { .. } => {
                self.spec.analysis.as_ref().map(|a| a.no_data) == Some(crate::NoData::Pass)
            }
            crate::HealthVerdict::Breached { .. } => false,
        }
    }

    /// The weight the next plan step would raise the alias to, after a healthy check of this
    /// one: `None` at a gate, after the last step (the plan ends at 100 %), or when the
    /// rollout is not shifting.
    pub fn next_increase(&self) -> Option<Weight> {
        if self.status != Status::Shifting {
            return None;
        }
        match self.plan.get(self.step_index.map_or(0, |i| i + 1))? {
            PlanStep::Shift { weight, .. } if weight > self.weight => Some(weight),
            _ => None,
        }
    }

    /// The plan step in effect, if traffic has started to shift.
    pub fn current_step(&self) -> Option<PlanStep> {
        self.step_index.and_then(|index| self.plan.get(index))
    }

    /// How many health checks of this rollout canary analysis judges: one per plan step that
    /// waits, and one at the end of a bake (at least 1). [`crate::judge`] splits the
    /// rollout's confidence across them.
    pub fn analysis_checks(&self) -> u32 {
        let waits = self
            .plan
            .steps()
            .iter()
            .filter(
                |step| matches!(step, PlanStep::Shift { wait_seconds, .. } if *wait_seconds > 0),
            )
            .count();
        let bake = usize::from(self.spec.bake_seconds > 0);
        u32::try_from(waits + bake).unwrap_or(u32::MAX).max(1)
    }

    /// Whether a health check now has traffic at the current weight to analyse: the step in
    /// effect waited, or the rollout baked. A step with no wait (the last 100 % of a canary)
    /// has no window, and is checked by its alarms alone.
    pub fn has_analysis_window(&self) -> bool {
        match self.status {
            Status::Baking => true,
            Status::Shifting => matches!(
                self.current_step(),
                Some(PlanStep::Shift { wait_seconds, .. }) if wait_seconds > 0
            ),
            _ => false,
        }
    }

    /// Reads the stored JSON form, refusing a schema newer than this build knows.
    pub fn from_json(text: &str) -> Result<Rollout, RecordError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Version {
            schema_version: u32,
        }
        let version: Version = serde_json::from_str(text)?;
        if version.schema_version > SCHEMA_VERSION {
            return Err(RecordError::FutureSchema {
                found: version.schema_version,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a rollout always serializes")
    }
}
