//! The narrow interfaces Glidepath's logic needs from the outside world. Each has an AWS SDK
//! adapter (in [`crate::adapters`]) and, with the `fakes` feature, an in-memory fake.

use crate::error::PortError;
use glidepath_core::managed_alarms::AlarmDefinition;
use glidepath_core::{
    Actor, Grace, HealthVerdict, HookOutcome, HookPhase, InsufficientData, Rollout, RolloutSpec,
    Status, UnixSeconds, VersionMetrics, Weight,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// The outcome of creating a rollout.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    /// The idempotency key was used before: this is the rollout it created.
    Existing(Box<Rollout>),
}

/// One transition in a rollout's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub seq: u64,
    pub event: String,
    pub status: Status,
    pub weight: Weight,
    pub at: UnixSeconds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who caused the transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
}

/// Rollout state (DynamoDB).
pub trait RolloutStore: Send + Sync {
    /// Creates the rollout and takes the alias lock in one transaction. A lock held by
    /// another rollout is `Conflict`; a reused idempotency key returns its rollout; a retry
    /// of a create that already committed is `New`.
    fn create(&self, rollout: &Rollout) -> impl Future<Output = Result<Created, PortError>> + Send;
    /// Creates every rollout (the members of a release) as [`RolloutStore::create`] does
    /// each, in one transaction: all or none. A lock held by another rollout is `Conflict`
    /// naming that alias, and nothing is created; the first member's reused idempotency key
    /// returns that member (`Existing`); a retry of a create that committed is `New`.
    fn create_all(
        &self,
        rollouts: &[Rollout],
    ) -> impl Future<Output = Result<Created, PortError>> + Send;
    fn load(&self, id: &str) -> impl Future<Output = Result<Option<Rollout>, PortError>> + Send;
    /// Writes `rollout` if the stored `seq` is still `expected_seq` (else `Conflict`), and
    /// appends a history item named `event` when given. A transition (`event` given) into a
    /// terminal status also releases the alias lock and the alarm watches in the same
    /// transaction; a write without an event (a confirmation) touches only the record.
    fn save(
        &self,
        expected_seq: u64,
        rollout: &Rollout,
        event: Option<&str>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Writes every record as [`RolloutStore::save`] does each with `event`, in one
    /// transaction: only if every stored `seq` is still the one given with it (else
    /// `Conflict`, and nothing is written). How a release moves all its members on at once.
    fn save_all(
        &self,
        writes: &[(u64, Rollout)],
        event: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The rollout an idempotency key created for this alias (keys are scoped to the alias;
    /// `function_key` is [`RolloutSpec::function_key`]), while the claim has not expired.
    fn find_by_idempotency_key(
        &self,
        function_key: &str,
        alias: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<Rollout>, PortError>> + Send;
    /// The rollout holding the alias lock, if any (`function_key` as above).
    fn active_rollout(
        &self,
        function_key: &str,
        alias: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    /// Every rollout of an alias, oldest first (`function_key` as above).
    fn rollouts_for_alias(
        &self,
        function_key: &str,
        alias: &str,
    ) -> impl Future<Output = Result<Vec<Rollout>, PortError>> + Send;
    /// Up to `limit` rollouts, newest first (by creation time, then id): all of them, or with
    /// `open_only` those whose status is not terminal. For `glidepath list`.
    fn recent(
        &self,
        open_only: bool,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Rollout>, PortError>> + Send;
    /// Ids of the active rollouts an alarm guards.
    fn rollouts_watching(
        &self,
        alarm: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    fn history(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, PortError>> + Send;
    /// Ids of the rollouts (finished ones with an unpublished change included) whose
    /// [`Rollout::owed_work`] is overdue at `now` by `grace` ([`Grace::is_overdue`]).
    fn overdue(
        &self,
        now: UnixSeconds,
        grace: &Grace,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// Why `rollouts` cannot be created in one transaction, if they cannot: more items than
/// DynamoDB takes in one (`release::transaction_items`), or one alias twice (a transaction may
/// touch an item once). The adapter and the fake both ask this before anything is written.
pub fn refuse_create_all(rollouts: &[Rollout]) -> Option<PortError> {
    let items: usize = rollouts
        .iter()
        .map(|r| {
            glidepath_core::release::transaction_items(
                &[r.spec.alarms.len()],
                r.spec.idempotency_key.is_some(),
            )
        })
        .sum();
    if items > glidepath_core::release::MAX_TRANSACTION_ITEMS {
        return Some(PortError::Invalid(format!(
            "creating these {} rollouts takes {items} items in one transaction; DynamoDB allows {}",
            rollouts.len(),
            glidepath_core::release::MAX_TRANSACTION_ITEMS
        )));
    }
    for (index, rollout) in rollouts.iter().enumerate() {
        let key = (rollout.spec.function_key(), rollout.spec.alias.as_str());
        if rollouts[..index]
            .iter()
            .any(|r| (r.spec.function_key(), r.spec.alias.as_str()) == key)
        {
            return Some(PortError::Invalid(format!(
                "alias {}:{} is twice in one create",
                key.0, key.1
            )));
        }
    }
    None
}

/// What a cancelled create of `rollouts` came to, from the holders of their alias locks read
/// after it: `Conflict` naming an alias another rollout holds; `New` when every lock is
/// held by its own rollout (a retry of a create that had committed); else `Conflict` (the
/// locks changed under the create: send it again).
pub fn lock_conflict(
    rollouts: &[Rollout],
    holders: &[Option<String>],
) -> Result<Created, PortError> {
    let mut all_ours = true;
    for (rollout, holder) in rollouts.iter().zip(holders) {
        match holder {
            Some(holder) if *holder == rollout.id => {}
            Some(holder) => {
                return Err(PortError::Conflict(format!(
                    "alias {}:{} already has an active rollout ({holder}); wait for it to finish or abort it",
                    rollout.spec.function, rollout.spec.alias
                )));
            }
            None => all_ours = false,
        }
    }
    if all_ours {
        return Ok(Created::New);
    }
    Err(PortError::Conflict(
        "the aliases' locks changed while the rollout was created; send the request again".into(),
    ))
}

/// Whether an idempotency claim that expires at `expires_at` still holds at `now` (DynamoDB's
/// TTL deletes expired items lazily, so an expired claim may still be read).
pub fn claim_is_live(expires_at: UnixSeconds, now: UnixSeconds) -> bool {
    expires_at >= now
}

/// An alias as Lambda reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasState {
    /// The alias's ARN (`arn:…:function:<name>:<alias>`), when Lambda gave one.
    pub arn: Option<String>,
    pub version: String,
    /// The additional version and its weight (0.0–1.0), if the alias splits traffic.
    pub routing: Option<(String, f64)>,
    pub revision: String,
}

/// What must match between two versions for an alias to split traffic between them.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    pub version: String,
    pub role: String,
    pub dead_letter_target: Option<String>,
    /// The version's `CodeSha256` (base64), as Lambda reports it.
    pub code_sha256: Option<String>,
    /// `SigningProfileVersionArn`: the signing profile version that signed the code, if signed.
    pub signing_profile_version_arn: Option<String>,
}

/// A function's code-signing configuration: which signing profile versions may publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSigning {
    pub config_arn: String,
    /// `AllowedPublishers.SigningProfileVersionArns`.
    pub allowed_profiles: Vec<String>,
}

impl CodeSigning {
    /// Why `version` may not be rolled out under this configuration, if it may not: it must
    /// carry a signature by one of the allowed profiles. Lambda refuses unsigned code only
    /// when the configuration says `Enforce`; with `Warn` it deploys it, so Glidepath checks
    /// either way.
    pub fn refusal(&self, function: &str, version: &VersionInfo) -> Option<String> {
        let allowed = |profile: &String| self.allowed_profiles.contains(profile);
        match &version.signing_profile_version_arn {
            Some(profile) if allowed(profile) => None,
            Some(profile) => Some(format!(
                "version {} of {function} is signed by {profile}, which is not an allowed publisher of its code-signing config {}",
                version.version, self.config_arn
            )),
            None => Some(format!(
                "version {} of {function} carries no signature, and the function has the code-signing config {}",
                version.version, self.config_arn
            )),
        }
    }
}

/// The alias (Lambda).
pub trait AliasRouter: Send + Sync {
    fn read_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> impl Future<Output = Result<AliasState, PortError>> + Send;
    /// A published version's configuration; `NotFound` when there is no such version.
    fn version_info(
        &self,
        function: &str,
        version: &str,
    ) -> impl Future<Output = Result<VersionInfo, PortError>> + Send;
    /// Publishes `$LATEST` and returns the version number.
    fn publish_latest(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
    /// The function's code-signing configuration, if it has one.
    fn code_signing(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Option<CodeSigning>, PortError>> + Send;
    /// The function's tags (`ListTags`; `function` is its name or unqualified ARN). A missing
    /// function is `NotFound`.
    fn function_tags(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, PortError>> + Send;
    /// Whether a function (a hook) exists.
    fn function_exists(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Puts `weight` on the target version (0 and 100 % leave no routing config) and returns
    /// the alias's new `RevisionId`. With `fence`, the write is conditional on the alias's
    /// revision being that one; when it is not, the alias is re-read and judged by
    /// [`reconcile`] (already at `weight`: success, else `Drift`), and nothing is written.
    /// Without `fence`, the alias is overwritten.
    fn set_weight(
        &self,
        spec: &RolloutSpec,
        weight: Weight,
        fence: Option<&str>,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// After a fenced alias write found another revision: the alias is still Glidepath's only if
/// it already holds `weight` (a repeated or re-driven write of the same owed record did it),
/// and then its revision is the one to confirm. Anything else is drift, described for the
/// operator. A fenced writer never writes over a revision it did not expect: that is what
/// keeps a writer that lost the `seq` race from leaving its change behind.
pub fn reconcile(
    found: &AliasState,
    spec: &RolloutSpec,
    weight: Weight,
    fence: &str,
) -> Result<String, PortError> {
    if found.holds(spec, weight) {
        return Ok(found.revision.clone());
    }
    let routing = match &found.routing {
        Some((version, share)) => format!(" with {:.2}% on version {version}", share * 100.0),
        None => String::new(),
    };
    Err(PortError::Drift(format!(
        "alias {}:{} points at version {}{routing} (revision {}), not at revision {fence} that Glidepath last confirmed",
        spec.function, spec.alias, found.version, found.revision
    )))
}

/// The alias configuration that puts `weight` % on the target version: the version the alias
/// points at, and the additional version with its weight as Lambda takes it, a fraction
/// (none at 0 and 100 %).
pub fn alias_config(spec: &RolloutSpec, weight: Weight) -> (String, Option<(String, f64)>) {
    if weight.is_zero() {
        (spec.current_version.clone(), None)
    } else if weight.is_full() {
        (spec.target_version.clone(), None)
    } else {
        (
            spec.current_version.clone(),
            Some((spec.target_version.clone(), weight.fraction())),
        )
    }
}

impl AliasState {
    /// The function's unqualified ARN, from the alias ARN.
    pub fn function_arn(&self) -> Option<String> {
        let arn = self.arn.as_deref()?;
        let (function, _alias) = arn.rsplit_once(':')?;
        function
            .contains(":function:")
            .then(|| function.to_string())
    }

    /// Whether the alias holds exactly `weight` of a rollout of `spec` (a routing weight read
    /// back to the nearest hundredth of a percent, [`Weight::from_fraction`]).
    pub fn holds(&self, spec: &RolloutSpec, weight: Weight) -> bool {
        let (version, routing) = alias_config(spec, weight);
        self.version == version
            && match (&self.routing, &routing) {
                (None, None) => true,
                (Some((va, wa)), Some((vb, _))) => {
                    va == vb && Weight::from_fraction(*wa) == Some(weight)
                }
                _ => false,
            }
    }
}

/// The clock that advances rollouts (EventBridge Scheduler).
pub trait Ticker: Send + Sync {
    /// A one-time tick `{"rolloutId", "seq"}` for `step` at `at`; an existing one is success.
    fn schedule(
        &self,
        rollout_id: &str,
        seq: u64,
        at: UnixSeconds,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes the rollout's pending ticks.
    fn cancel(&self, rollout_id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// What canary analysis asks CloudWatch for: Lambda's per-version metrics (namespace
/// `AWS/Lambda`, dimensions `FunctionName`, `Resource = <function>:<alias>`,
/// `ExecutedVersion`) of both versions, one-minute periods over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    /// The function's name (the `FunctionName` dimension), never its ARN.
    pub function_name: String,
    pub alias: String,
    pub baseline_version: String,
    pub canary_version: String,
    pub metrics: Vec<glidepath_core::Metric>,
    /// Whole minutes: the minute the current weight was decided in.
    pub start: UnixSeconds,
    /// Whole minutes, after `start`: the end of the minute `now` is in.
    pub end: UnixSeconds,
}

impl MetricsQuery {
    /// The query for `rollout`'s analysis at `now`: the window since its current weight was
    /// decided; `None` without an analysis.
    pub fn for_rollout(rollout: &Rollout, now: UnixSeconds) -> Option<MetricsQuery> {
        let analysis = rollout.spec.analysis.as_ref()?;
        let since = rollout.weight_since.unwrap_or(rollout.updated_at);
        let start = since - since % 60;
        let end = (now.div_ceil(60) * 60).max(start + 60);
        Some(MetricsQuery {
            function_name: rollout.spec.function_name().to_string(),
            alias: rollout.spec.alias.clone(),
            baseline_version: rollout.spec.current_version.clone(),
            canary_version: rollout.spec.target_version.clone(),
            metrics: analysis.metrics.clone(),
            start,
            end,
        })
    }
}

/// Health of the target version (CloudWatch alarms, and Lambda's per-version metrics).
pub trait HealthCheck: Send + Sync {
    /// Any alarm in `ALARM` (or missing) is a breach; `INSUFFICIENT_DATA` follows `policy`.
    fn check(
        &self,
        alarms: &[String],
        policy: InsufficientData,
    ) -> impl Future<Output = Result<HealthVerdict, PortError>> + Send;
    /// The names among `alarms` that do not exist.
    fn missing_alarms(
        &self,
        alarms: &[String],
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// The baseline's and the canary's metrics over the query's window (one
    /// `GetMetricData`, paged): sums of `Invocations`, `Errors` and `Throttles`, and the
    /// highest one-minute p99 of `Duration`; a version with no datapoints has zeros.
    fn version_metrics(
        &self,
        query: &MetricsQuery,
    ) -> impl Future<Output = Result<(VersionMetrics, VersionMetrics), PortError>> + Send;
    /// Creates (or updates) the alarms Glidepath manages for a rollout, one `PutMetricAlarm`
    /// each.
    fn put_alarms(
        &self,
        alarms: &[AlarmDefinition],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes the named alarms (`DeleteAlarms`); a name that does not exist is no error.
    fn delete_alarms(&self, names: &[String])
    -> impl Future<Output = Result<(), PortError>> + Send;
}

/// What a hook function receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRequest {
    pub rollout_id: String,
    pub function: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    pub phase: HookPhase,
    /// `BeforeShift`: the weight the next step would put on the target version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_weight: Option<Weight>,
    /// `OnRollback`: the rollout's status and why it is rolling back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A callback hook: the id its answer must carry, and the function to answer
    /// (`{"rolloutId", "command": "hookResult", "hookExecutionId", "status", "reason"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_execution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_function: Option<String>,
}

impl HookRequest {
    pub fn new(rollout: &Rollout, phase: HookPhase) -> Self {
        HookRequest {
            rollout_id: rollout.id.clone(),
            function: rollout.spec.function.clone(),
            alias: rollout.spec.alias.clone(),
            current_version: rollout.spec.current_version.clone(),
            target_version: rollout.spec.target_version.clone(),
            phase,
            next_weight: None,
            status: None,
            reason: None,
            hook_execution_id: None,
            callback_function: None,
        }
    }
}

/// Smoke-test hooks (synchronous Lambda invoke).
pub trait HookRunner: Send + Sync {
    /// Runs the hook; a function error or `{"status": "Failed"}` is a failed hook, not an `Err`.
    fn run(
        &self,
        function: &str,
        request: &HookRequest,
    ) -> impl Future<Output = Result<HookOutcome, PortError>> + Send;
    /// Invokes callback hook `function` asynchronously with `request`, naming the function it
    /// answers (`step`) in `callbackFunction`; only whether Lambda took the event.
    fn start_callback(
        &self,
        function: &str,
        request: &HookRequest,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Tells hook `function` of `request` without waiting (asynchronous invoke: Lambda queues
    /// and retries it); only whether Lambda took the event.
    fn notify(
        &self,
        function: &str,
        request: &HookRequest,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// State-change notifications (EventBridge). At least once: the runner records the last
/// `seq` published in the rollout (`notified_seq`) and publishes what is owed from the
/// history; consumers de-duplicate by `rolloutId` and `seq`.
pub trait Notifier: Send + Sync {
    /// Publishes `change`, one transition of `rollout`.
    fn notify(
        &self,
        rollout: &Rollout,
        change: &HistoryEntry,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Publishes that a rollout asked for by an event nobody answers (a published version)
    /// was not started, and why.
    fn refused(&self, refusal: &Refusal) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// A rollout that was asked for without a caller to answer, and refused: nothing moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub function: String,
    pub version: String,
    /// What asked: `publish` (a published version of a function that opted in by tags).
    pub trigger: String,
    /// The `errorType` it would have had (`InvalidRequest`, `Conflict`, `Forbidden`).
    pub error_type: String,
    pub reason: String,
}

impl HistoryEntry {
    /// Whether this change is the one that begins a rollback: entering `RollingBack`, or
    /// ending `RolledBack` or `Failed` directly (no traffic had moved, so there was nothing to
    /// restore; a re-drive that ends an expired hook stage is one of these). The end of a
    /// rollback (its restore confirmed) is not.
    pub fn begins_rollback(&self) -> bool {
        match self.status {
            Status::RollingBack => true,
            Status::RolledBack | Status::Failed => self.event != "alias-applied",
            _ => false,
        }
    }

    /// The history entry of the record's latest transition, as `event` made it.
    pub fn latest(rollout: &Rollout, event: &str) -> HistoryEntry {
        HistoryEntry {
            seq: rollout.seq,
            event: event.to_string(),
            status: rollout.status,
            weight: rollout.weight,
            at: rollout.updated_at,
            reason: rollout.reason.clone(),
            actor: rollout.actor.clone(),
        }
    }
}

/// Work another function takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOff {
    /// `finalize`: 100 %, the post-traffic hook, success.
    Finalize,
    /// `rollback`: 100 % on the old version.
    Rollback,
    /// `step` with `{"command": "redrive"}`: the watchdog resuming a stuck rollout.
    Redrive,
}

/// Passing a rollout to `finalize` or `rollback` (asynchronous Lambda invoke).
pub trait Dispatcher: Send + Sync {
    fn hand_off(
        &self,
        work: HandOff,
        rollout_id: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Every port a function may use, and the clock.
pub trait Ports: Send + Sync {
    type Store: RolloutStore;
    type Router: AliasRouter;
    type Ticker: Ticker;
    type Health: HealthCheck;
    type Hooks: HookRunner;
    type Notifier: Notifier;
    type Dispatcher: Dispatcher;
    fn store(&self) -> &Self::Store;
    fn router(&self) -> &Self::Router;
    fn ticker(&self) -> &Self::Ticker;
    fn health(&self) -> &Self::Health;
    fn hooks(&self) -> &Self::Hooks;
    fn notifier(&self) -> &Self::Notifier;
    fn dispatcher(&self) -> &Self::Dispatcher;
    /// Seconds since the Unix epoch.
    fn now(&self) -> UnixSeconds;
    /// The AWS calls made since the last call of this method, by `service:Operation`.
    fn take_call_counts(&self) -> std::collections::BTreeMap<&'static str, u64> {
        std::collections::BTreeMap::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(status: Status, event: &str) -> HistoryEntry {
        HistoryEntry {
            seq: 3,
            event: event.into(),
            status,
            weight: Weight::ZERO,
            at: 0,
            reason: None,
            actor: None,
        }
    }

    #[test]
    fn a_rollback_begins_once() {
        assert!(change(Status::RollingBack, "breach").begins_rollback());
        assert!(change(Status::RollingBack, "abort").begins_rollback());
        assert!(change(Status::RolledBack, "hook-completed").begins_rollback());
        assert!(change(Status::Failed, "drift").begins_rollback());
        assert!(!change(Status::RolledBack, "alias-applied").begins_rollback());
        // A pre-traffic stage that expired, found by a re-drive.
        assert!(change(Status::RolledBack, "redrive").begins_rollback());
        assert!(!change(Status::Shifting, "health").begins_rollback());
        assert!(!change(Status::Succeeded, "alias-applied").begins_rollback());
    }
}
