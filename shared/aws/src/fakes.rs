//! An in-memory AWS behind every port, for handler tests: one [`World`] holds the table, the
//! aliases, the schedules, the alarms and a record of every effect. Tests arrange it, run a
//! handler, and assert on what changed. It follows the AWS behaviour the adapters rely on:
//! conditional writes on `seq`, `RevisionId` checks on alias updates, idempotent schedules.
//! Where a rule could differ between the fake and its adapter (what is overdue, whether an
//! alias is still Glidepath's, which function an ARN names), both call the same function, and
//! the port contract tests (`tests/tests/contract.rs`) run one set of test bodies against
//! both.
//!
//! Faults: `failures` makes an operation fail before it acts; `lost_answers` makes it act and
//! then fail (the answer lost on the way back). A scheduling hook ([`FakeAws::with_yield`])
//! lets a concurrency tester switch tasks at every port call.

use crate::error::PortError;
use crate::ports::{
    AliasRouter, AliasState, CodeSigning, Created, Dispatcher, HandOff, HealthCheck, HistoryEntry,
    HookRequest, HookRunner, MetricsQuery, Notifier, Ports, RolloutStore, Ticker, VersionInfo,
    alias_config, claim_is_live, reconcile,
};
use crate::runner::Role;
use glidepath_core::managed_alarms::AlarmDefinition;
use glidepath_core::{
    Grace, HealthVerdict, HookOutcome, InsufficientData, Rollout, RolloutSpec, Status, UnixSeconds,
    VersionMetrics, Weight,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

/// The account and region of the fake: function ARNs are `FUNCTION_ARN_PREFIX` + name.
pub const FUNCTION_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// A policy that lets every actor do everything, with no guardrails: for tests of what a
/// handler does once a request is authorised.
pub fn open_policy() -> glidepath_core::Policy {
    glidepath_core::Policy::from_json(
        r#"{"rules": [{"name": "everyone", "principals": ["*"], "actions": ["*"], "mayOverride": ["*"]}],
            "guardrails": {"requireHealthSignal": false, "maxFirstStepPercent": 100,
                           "allAtOnceNeedsAllow": false, "downgradeNeedsAllow": false}}"#,
    )
    .expect("the open policy is valid")
}

/// `body` as a function URL with `AuthType: AWS_IAM` delivers it from `caller` (an IAM ARN).
pub fn function_url_request(caller: &str, body: &serde_json::Value) -> serde_json::Value {
    let mut request: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/function-url-iam-request.json"))
            .expect("the fixture is JSON");
    request["requestContext"]["authorizer"]["iam"]["userArn"] = caller.into();
    request["body"] = body.to_string().into();
    request
}

/// The function name an unqualified or qualified ARN (or a plain name) refers to
/// ([`glidepath_core::function_name`]), owned.
pub fn function_name(function: &str) -> String {
    glidepath_core::function_name(function).to_string()
}

/// The `CodeSha256` the fake gives a version: 44 base64 characters, one per version.
pub fn fake_code_sha256(function: &str, version: u64) -> String {
    let seed = format!("{function}{version}");
    let mut text: String = seed.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    while text.len() < 43 {
        text.push('A');
    }
    text.truncate(43);
    text.push('=');
    text
}

fn alias_key(function: &str, alias: &str) -> (String, String) {
    (function_name(function), alias.to_string())
}

pub use crate::health::AlarmState;

/// Everything the fake AWS holds.
#[derive(Debug, Default)]
pub struct World {
    pub now: UnixSeconds,
    /// Code-signing configurations by function name.
    pub code_signing: BTreeMap<String, CodeSigning>,
    pub rollouts: BTreeMap<String, Rollout>,
    pub history: BTreeMap<String, Vec<HistoryEntry>>,
    /// Alias locks by (function key, alias).
    pub locks: BTreeMap<(String, String), String>,
    /// Idempotency claims by (function key, alias, key): (rollout id, expires at).
    pub idempotency: BTreeMap<(String, String, String), (String, UnixSeconds)>,
    /// How long finished rollouts and idempotency claims are kept.
    pub retention_seconds: u64,
    pub watches: BTreeMap<String, BTreeSet<String>>,
    pub aliases: BTreeMap<(String, String), AliasState>,
    pub versions: BTreeMap<(String, String), VersionInfo>,
    pub functions: BTreeSet<String>,
    /// Execution roles by function name (default `arn:aws:iam::123456789012:role/app`).
    pub function_roles: BTreeMap<String, String>,
    /// Tags by function name.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Every refusal published.
    pub refusals: Vec<crate::ports::Refusal>,
    /// Pending ticks by schedule name: (rollout id, seq, due).
    pub schedules: BTreeMap<String, (String, u64, UnixSeconds)>,
    pub alarms: BTreeMap<String, AlarmState>,
    /// What CloudWatch holds for each version, over any window (canary analysis).
    pub version_metrics: BTreeMap<String, VersionMetrics>,
    /// Every canary-analysis query asked, in order.
    pub metrics_queries: Vec<MetricsQuery>,
    /// The alarms Glidepath created and has not deleted, by name.
    pub managed_alarms: BTreeMap<String, AlarmDefinition>,
    /// What each hook function answers (default: succeeded).
    pub hook_outcomes: BTreeMap<String, HookOutcome>,
    /// How long each hook function takes to answer (default: at once).
    pub hook_delays: BTreeMap<String, std::time::Duration>,
    pub hook_calls: Vec<(String, HookRequest)>,
    /// Every hook told without waiting (`onRollback`), in order.
    pub hook_notices: Vec<(String, HookRequest)>,
    /// (rollout id, status, weight) of every notification.
    pub notifications: Vec<(String, Status, Weight)>,
    /// Every published change, whole (its actor included).
    pub notified_changes: Vec<HistoryEntry>,
    /// (rollout id, seq) of every notification, in order.
    pub notified_seqs: Vec<(String, u64)>,
    pub hand_offs: Vec<(HandOff, String)>,
    /// (function, weight) of every alias write Glidepath made.
    pub alias_writes: Vec<(String, Weight)>,
    /// Operations that fail with a retryable AWS error, with how many more times.
    pub failures: BTreeMap<&'static str, u32>,
    /// Operations that take effect and then fail (the answer lost), with how many more times.
    pub lost_answers: BTreeMap<&'static str, u32>,
    /// Operations that answer "not found" (the thing was deleted under Glidepath), with how
    /// many more times.
    pub not_found: BTreeMap<&'static str, u32>,
    revision: u64,
}

impl World {
    /// Whether `rollout` may be written over the stored record at `expected_seq` (the
    /// conditions of one `save`).
    fn check_write(
        &self,
        expected_seq: u64,
        rollout: &Rollout,
        event: Option<&str>,
    ) -> Result<(), PortError> {
        let stored = self.rollouts.get(&rollout.id).map(|r| r.seq);
        if stored != Some(expected_seq) {
            return Err(PortError::Conflict(format!(
                "rollout {} changed since seq {expected_seq}",
                rollout.id
            )));
        }
        let lock = (
            rollout.spec.function_key().to_string(),
            rollout.spec.alias.clone(),
        );
        if rollout.status.is_terminal() && event.is_some() {
            if let Some(holder) = self.locks.get(&lock) {
                if *holder != rollout.id {
                    return Err(PortError::Conflict(format!(
                        "the lock of {}:{} is held by another rollout",
                        rollout.spec.function, rollout.spec.alias
                    )));
                }
            }
        }
        Ok(())
    }

    /// Writes `rollout` (checked by [`World::check_write`]), its history item, and the end
    /// of its lock and watches when the transition ends it.
    fn write(&mut self, rollout: &Rollout, event: Option<&str>) {
        self.rollouts.insert(rollout.id.clone(), rollout.clone());
        if let Some(event) = event {
            self.history
                .entry(rollout.id.clone())
                .or_default()
                .push(HistoryEntry::latest(rollout, event));
        }
        if rollout.status.is_terminal() && event.is_some() {
            let lock = (
                rollout.spec.function_key().to_string(),
                rollout.spec.alias.clone(),
            );
            self.locks.remove(&lock);
            for alarm in &rollout.spec.alarms {
                if let Some(watchers) = self.watches.get_mut(alarm) {
                    watchers.remove(&rollout.id);
                }
            }
        }
    }

    fn next_revision(&mut self) -> String {
        self.revision += 1;
        format!("rev-{}", self.revision)
    }

    fn fail(&mut self, operation: &'static str) -> Result<(), PortError> {
        Self::take(&mut self.failures, operation, "injected failure")
    }

    /// After an operation took effect: fail it anyway if its answer is to be lost.
    fn lose_answer(&mut self, operation: &'static str) -> Result<(), PortError> {
        Self::take(&mut self.lost_answers, operation, "injected lost answer")
    }

    fn take(
        faults: &mut BTreeMap<&'static str, u32>,
        operation: &'static str,
        message: &str,
    ) -> Result<(), PortError> {
        match faults.get_mut(operation) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Err(PortError::Aws {
                    operation,
                    message: message.into(),
                    source: None,
                })
            }
            _ => Ok(()),
        }
    }
}

/// A scheduling point a concurrency tester runs at every port call.
pub type YieldHook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A handle on one shared [`World`]; clones share it.
#[derive(Clone, Default)]
pub struct FakeAws {
    world: Arc<Mutex<World>>,
    yield_hook: Option<YieldHook>,
}

impl std::fmt::Debug for FakeAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAws").finish_non_exhaustive()
    }
}

impl FakeAws {
    pub fn new(now: UnixSeconds) -> Self {
        let fake = FakeAws::default();
        {
            let mut world = fake.world();
            world.now = now;
            world.retention_seconds = 90 * 86_400;
        }
        fake
    }

    /// The same world, with `hook` run before every port call (a scheduling point).
    pub fn with_yield(&self, hook: YieldHook) -> Self {
        FakeAws {
            world: self.world.clone(),
            yield_hook: Some(hook),
        }
    }

    async fn interleave(&self) {
        if let Some(hook) = &self.yield_hook {
            hook().await;
        }
    }

    /// The world, to arrange or inspect.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A function with published versions 1..=`versions` (all sharing role and DLQ) and an
    /// alias on `alias_version`.
    pub fn add_function(&self, function: &str, versions: u64, alias: &str, alias_version: u64) {
        let mut world = self.world();
        world.functions.insert(function.to_string());
        for version in 1..=versions {
            world.versions.insert(
                (function.to_string(), version.to_string()),
                VersionInfo {
                    version: version.to_string(),
                    role: "arn:aws:iam::123456789012:role/app".into(),
                    dead_letter_target: None,
                    code_sha256: Some(fake_code_sha256(function, version)),
                    signing_profile_version_arn: None,
                },
            );
        }
        let revision = world.next_revision();
        world.aliases.insert(
            alias_key(function, alias),
            AliasState {
                arn: Some(format!("{FUNCTION_ARN_PREFIX}{function}:{alias}")),
                version: alias_version.to_string(),
                routing: None,
                revision,
            },
        );
    }

    /// Someone other than Glidepath points the alias at `version`.
    pub fn move_alias_externally(&self, function: &str, alias: &str, version: &str) {
        let mut world = self.world();
        let revision = world.next_revision();
        world.aliases.insert(
            alias_key(function, alias),
            AliasState {
                arn: Some(format!("{FUNCTION_ARN_PREFIX}{function}:{alias}")),
                version: version.to_string(),
                routing: None,
                revision,
            },
        );
    }

    pub fn alias(&self, function: &str, alias: &str) -> Option<AliasState> {
        self.world()
            .aliases
            .get(&alias_key(function, alias))
            .cloned()
    }

    pub fn set_alarm(&self, name: &str, state: AlarmState) {
        self.world().alarms.insert(name.to_string(), state);
    }

    pub fn advance(&self, seconds: u64) {
        self.world().now += seconds;
    }

    pub fn rollout(&self, id: &str) -> Option<Rollout> {
        self.world().rollouts.get(id).cloned()
    }

    /// The pending tick with the highest seq for a rollout.
    pub fn latest_tick(&self, rollout_id: &str) -> Option<(u64, UnixSeconds)> {
        self.world()
            .schedules
            .values()
            .filter(|(id, _, _)| id == rollout_id)
            .map(|(_, seq, at)| (*seq, *at))
            .max()
    }
}

impl RolloutStore for FakeAws {
    async fn create(&self, rollout: &Rollout) -> Result<Created, PortError> {
        self.create_all(std::slice::from_ref(rollout)).await
    }

    async fn create_all(&self, rollouts: &[Rollout]) -> Result<Created, PortError> {
        self.interleave().await;
        if let Some(refusal) = crate::ports::refuse_create_all(rollouts) {
            return Err(refusal);
        }
        let mut world = self.world();
        world.fail("dynamodb:TransactWriteItems")?;
        let claim_of = |rollout: &Rollout| {
            let spec = &rollout.spec;
            spec.idempotency_key.as_ref().map(|k| {
                (
                    spec.function_key().to_string(),
                    spec.alias.clone(),
                    k.clone(),
                )
            })
        };
        let lock_of = |rollout: &Rollout| {
            (
                rollout.spec.function_key().to_string(),
                rollout.spec.alias.clone(),
            )
        };
        // A live claim of any member cancels the transaction; the first member's key finds
        // the rollout it created.
        let claimed = rollouts.iter().any(|rollout| {
            claim_of(rollout)
                .and_then(|claim| world.idempotency.get(&claim))
                .is_some_and(|(_, expires)| claim_is_live(*expires, rollout.created_at))
        });
        let locked = rollouts
            .iter()
            .any(|rollout| world.locks.contains_key(&lock_of(rollout)));
        if claimed || locked {
            if let Some((id, expires)) = rollouts
                .first()
                .and_then(claim_of)
                .and_then(|c| world.idempotency.get(&c))
            {
                if claim_is_live(*expires, rollouts[0].created_at) {
                    if let Some(existing) = world.rollouts.get(id) {
                        return Ok(Created::Existing(Box::new(existing.clone())));
                    }
                }
            }
            let holders: Vec<Option<String>> = rollouts
                .iter()
                .map(|rollout| world.locks.get(&lock_of(rollout)).cloned())
                .collect();
            return crate::ports::lock_conflict(rollouts, &holders);
        }
        for rollout in rollouts {
            world.locks.insert(lock_of(rollout), rollout.id.clone());
            if let Some(claim) = claim_of(rollout) {
                let expires = rollout.created_at + world.retention_seconds;
                world
                    .idempotency
                    .insert(claim, (rollout.id.clone(), expires));
            }
            for alarm in &rollout.spec.alarms {
                world
                    .watches
                    .entry(alarm.clone())
                    .or_default()
                    .insert(rollout.id.clone());
            }
            world.rollouts.insert(rollout.id.clone(), rollout.clone());
            world
                .history
                .entry(rollout.id.clone())
                .or_default()
                .push(HistoryEntry::latest(rollout, "create"));
        }
        world.lose_answer("dynamodb:TransactWriteItems")?;
        Ok(Created::New)
    }

    async fn load(&self, id: &str) -> Result<Option<Rollout>, PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("dynamodb:GetItem")?;
        Ok(world.rollouts.get(id).cloned())
    }

    async fn save(
        &self,
        expected_seq: u64,
        rollout: &Rollout,
        event: Option<&str>,
    ) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("dynamodb:TransactWriteItems")?;
        world.check_write(expected_seq, rollout, event)?;
        world.write(rollout, event);
        world.lose_answer("dynamodb:TransactWriteItems")?;
        Ok(())
    }

    async fn save_all(&self, writes: &[(u64, Rollout)], event: &str) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("dynamodb:TransactWriteItems")?;
        for (expected_seq, rollout) in writes {
            world
                .check_write(*expected_seq, rollout, Some(event))
                .map_err(|_| {
                    PortError::Conflict(format!(
                        "one of rollouts {} changed since it was read",
                        writes
                            .iter()
                            .map(|(_, r)| r.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
        }
        for (_, rollout) in writes {
            world.write(rollout, Some(event));
        }
        world.lose_answer("dynamodb:TransactWriteItems")?;
        Ok(())
    }

    async fn find_by_idempotency_key(
        &self,
        function_key: &str,
        alias: &str,
        key: &str,
    ) -> Result<Option<Rollout>, PortError> {
        self.interleave().await;
        let world = self.world();
        let claim = (function_key.to_string(), alias.to_string(), key.to_string());
        Ok(world
            .idempotency
            .get(&claim)
            .filter(|(_, expires)| claim_is_live(*expires, world.now))
            .and_then(|(id, _)| world.rollouts.get(id))
            .cloned())
    }

    async fn active_rollout(
        &self,
        function_key: &str,
        alias: &str,
    ) -> Result<Option<String>, PortError> {
        self.interleave().await;
        Ok(self
            .world()
            .locks
            .get(&(function_key.to_string(), alias.to_string()))
            .cloned())
    }

    async fn rollouts_for_alias(
        &self,
        function_key: &str,
        alias: &str,
    ) -> Result<Vec<Rollout>, PortError> {
        self.interleave().await;
        let mut rollouts: Vec<Rollout> = self
            .world()
            .rollouts
            .values()
            .filter(|r| r.spec.function_key() == function_key && r.spec.alias == alias)
            .cloned()
            .collect();
        rollouts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(rollouts)
    }

    async fn recent(&self, open_only: bool, limit: usize) -> Result<Vec<Rollout>, PortError> {
        self.interleave().await;
        let mut rollouts: Vec<Rollout> = self
            .world()
            .rollouts
            .values()
            .filter(|r| !open_only || !r.status.is_terminal())
            .cloned()
            .collect();
        rollouts.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        rollouts.truncate(limit);
        Ok(rollouts)
    }

    async fn rollouts_watching(&self, alarm: &str) -> Result<Vec<String>, PortError> {
        self.interleave().await;
        Ok(self
            .world()
            .watches
            .get(alarm)
            .map(|w| w.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, PortError> {
        self.interleave().await;
        Ok(self.world().history.get(id).cloned().unwrap_or_default())
    }

    async fn overdue(&self, now: UnixSeconds, grace: &Grace) -> Result<Vec<String>, PortError> {
        self.interleave().await;
        let world = self.world();
        let mut owed: Vec<(UnixSeconds, String)> = world
            .rollouts
            .values()
            .filter_map(|r| r.owed_work().map(|work| (work, r)))
            .filter(|(work, _)| grace.is_overdue(*work, now))
            .map(|(work, r)| (work.since, r.id.clone()))
            .collect();
        // The index's order: oldest owed first.
        owed.sort();
        Ok(owed.into_iter().map(|(_, id)| id).collect())
    }
}

impl AliasRouter for FakeAws {
    async fn read_alias(&self, function: &str, alias: &str) -> Result<AliasState, PortError> {
        self.interleave().await;
        self.world().fail("lambda:GetAlias")?;
        self.alias(function, alias).ok_or_else(|| {
            PortError::NotFound(format!("`alias`: function {function} has no alias {alias}"))
        })
    }

    async fn version_info(&self, function: &str, version: &str) -> Result<VersionInfo, PortError> {
        self.interleave().await;
        let world = self.world();
        let name = function_name(function);
        // `$LATEST` of any function the world has (a hook's configuration, say).
        if version == "$LATEST" && world.functions.contains(&name) {
            return Ok(VersionInfo {
                version: version.to_string(),
                role: world
                    .function_roles
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| "arn:aws:iam::123456789012:role/app".into()),
                dead_letter_target: None,
                code_sha256: None,
                signing_profile_version_arn: None,
            });
        }
        world
            .versions
            .get(&(function_name(function), version.to_string()))
            .cloned()
            .ok_or_else(|| {
                PortError::NotFound(format!(
                    "`targetVersion`: function {function} has no published version {version}"
                ))
            })
    }

    async fn publish_latest(&self, function: &str) -> Result<String, PortError> {
        self.interleave().await;
        let function = &function_name(function);
        let mut world = self.world();
        if !world.functions.contains(function) {
            return Err(PortError::NotFound(format!(
                "`function`: no function {function}"
            )));
        }
        let next = world
            .versions
            .keys()
            .filter(|(f, _)| f == function)
            .filter_map(|(_, v)| v.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let info = VersionInfo {
            version: next.to_string(),
            role: "arn:aws:iam::123456789012:role/app".into(),
            dead_letter_target: None,
            code_sha256: Some(fake_code_sha256(function, next)),
            signing_profile_version_arn: None,
        };
        world
            .versions
            .insert((function.to_string(), next.to_string()), info);
        Ok(next.to_string())
    }

    async fn code_signing(&self, function: &str) -> Result<Option<CodeSigning>, PortError> {
        self.interleave().await;
        Ok(self
            .world()
            .code_signing
            .get(&function_name(function))
            .cloned())
    }

    async fn function_tags(&self, function: &str) -> Result<BTreeMap<String, String>, PortError> {
        self.interleave().await;
        let world = self.world();
        let name = function_name(function);
        if !world.functions.contains(&name) {
            return Err(PortError::NotFound(format!("no function {function}")));
        }
        Ok(world.tags.get(&name).cloned().unwrap_or_default())
    }

    async fn function_exists(&self, function: &str) -> Result<bool, PortError> {
        self.interleave().await;
        Ok(self.world().functions.contains(&function_name(function)))
    }

    async fn set_weight(
        &self,
        spec: &RolloutSpec,
        weight: Weight,
        fence: Option<&str>,
    ) -> Result<String, PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("lambda:UpdateAlias")?;
        if let Some(left @ 1..) = world.not_found.get_mut("lambda:UpdateAlias") {
            *left -= 1;
            return Err(PortError::NotFound(format!(
                "`alias`: function {} has no alias {}",
                spec.function, spec.alias
            )));
        }
        let key = alias_key(&spec.function, &spec.alias);
        let current = world.aliases.get(&key).cloned().ok_or_else(|| {
            PortError::NotFound(format!("no alias {}:{}", spec.function, spec.alias))
        })?;
        if let Some(fence) = fence {
            if fence != current.revision {
                return reconcile(&current, spec, weight, fence);
            }
        }
        let (version, routing) = alias_config(spec, weight);
        let revision = world.next_revision();
        world.aliases.insert(
            key,
            AliasState {
                arn: current.arn,
                version,
                routing,
                revision: revision.clone(),
            },
        );
        world.alias_writes.push((spec.function.clone(), weight));
        world.lose_answer("lambda:UpdateAlias")?;
        Ok(revision)
    }
}

impl Ticker for FakeAws {
    async fn schedule(&self, rollout_id: &str, seq: u64, at: UnixSeconds) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("scheduler:CreateSchedule")?;
        // Like CreateSchedule: an existing name is a conflict the adapter treats as success.
        world
            .schedules
            .entry(format!("gp-{rollout_id}-{seq}"))
            .or_insert((rollout_id.to_string(), seq, at));
        world.lose_answer("scheduler:CreateSchedule")?;
        Ok(())
    }

    async fn cancel(&self, rollout_id: &str) -> Result<(), PortError> {
        self.interleave().await;
        self.world()
            .schedules
            .retain(|_, (id, _, _)| id != rollout_id);
        Ok(())
    }
}

impl HealthCheck for FakeAws {
    async fn check(
        &self,
        alarms: &[String],
        policy: InsufficientData,
    ) -> Result<HealthVerdict, PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("cloudwatch:DescribeAlarms")?;
        Ok(crate::health::verdict(
            alarms,
            |name| world.alarms.get(name).map(|state| (*state, String::new())),
            policy,
        ))
    }

    async fn missing_alarms(&self, alarms: &[String]) -> Result<Vec<String>, PortError> {
        self.interleave().await;
        let world = self.world();
        Ok(alarms
            .iter()
            .filter(|name| !world.alarms.contains_key(*name))
            .cloned()
            .collect())
    }

    async fn put_alarms(&self, alarms: &[AlarmDefinition]) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        for alarm in alarms {
            world.fail("cloudwatch:PutMetricAlarm")?;
            world
                .alarms
                .entry(alarm.name.clone())
                .or_insert(AlarmState::InsufficientData);
            world
                .managed_alarms
                .insert(alarm.name.clone(), alarm.clone());
            world.lose_answer("cloudwatch:PutMetricAlarm")?;
        }
        Ok(())
    }

    async fn delete_alarms(&self, names: &[String]) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("cloudwatch:DeleteAlarms")?;
        for name in names {
            world.alarms.remove(name);
            world.managed_alarms.remove(name);
        }
        Ok(())
    }

    async fn version_metrics(
        &self,
        query: &MetricsQuery,
    ) -> Result<(VersionMetrics, VersionMetrics), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("cloudwatch:GetMetricData")?;
        world.metrics_queries.push(query.clone());
        let of = |version: &str| {
            world
                .version_metrics
                .get(version)
                .copied()
                .unwrap_or_default()
        };
        Ok((of(&query.baseline_version), of(&query.canary_version)))
    }
}

impl HookRunner for FakeAws {
    async fn run(&self, function: &str, request: &HookRequest) -> Result<HookOutcome, PortError> {
        self.interleave().await;
        let function = &function_name(function);
        let delay = self.world().hook_delays.get(function).copied();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let mut world = self.world();
        world
            .hook_calls
            .push((function.to_string(), request.clone()));
        if !world.functions.contains(function) {
            return Ok(HookOutcome::Failed {
                reason: format!("hook function {function} does not exist"),
            });
        }
        Ok(world
            .hook_outcomes
            .get(function)
            .cloned()
            .unwrap_or(HookOutcome::Succeeded))
    }

    async fn start_callback(&self, function: &str, request: &HookRequest) -> Result<(), PortError> {
        let mut request = request.clone();
        request.callback_function = Some("step".into());
        HookRunner::notify(self, function, &request).await
    }

    async fn notify(&self, function: &str, request: &HookRequest) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("lambda:Invoke (notice)")?;
        if !world.functions.contains(&function_name(function)) {
            return Err(PortError::NotFound(format!(
                "hook function {function} does not exist"
            )));
        }
        world
            .hook_notices
            .push((function_name(function), request.clone()));
        Ok(())
    }
}

impl Notifier for FakeAws {
    async fn notify(&self, rollout: &Rollout, change: &HistoryEntry) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("events:PutEvents")?;
        world
            .notifications
            .push((rollout.id.clone(), change.status, change.weight));
        world.notified_seqs.push((rollout.id.clone(), change.seq));
        world.notified_changes.push(change.clone());
        Ok(())
    }

    async fn refused(&self, refusal: &crate::ports::Refusal) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("events:PutEvents")?;
        world.refusals.push(refusal.clone());
        Ok(())
    }
}

impl Dispatcher for FakeAws {
    async fn hand_off(&self, work: HandOff, rollout_id: &str) -> Result<(), PortError> {
        self.interleave().await;
        let mut world = self.world();
        world.fail("lambda:Invoke")?;
        world.hand_offs.push((work, rollout_id.to_string()));
        Ok(())
    }
}

impl Ports for FakeAws {
    type Store = FakeAws;
    type Router = FakeAws;
    type Ticker = FakeAws;
    type Health = FakeAws;
    type Hooks = FakeAws;
    type Notifier = FakeAws;
    type Dispatcher = FakeAws;
    fn store(&self) -> &FakeAws {
        self
    }
    fn router(&self) -> &FakeAws {
        self
    }
    fn ticker(&self) -> &FakeAws {
        self
    }
    fn health(&self) -> &FakeAws {
        self
    }
    fn hooks(&self) -> &FakeAws {
        self
    }
    fn notifier(&self) -> &FakeAws {
        self
    }
    fn dispatcher(&self) -> &FakeAws {
        self
    }
    fn now(&self) -> UnixSeconds {
        self.world().now
    }
}

/// Creates a rollout from a request (as `start` would, without its checks) and starts it.
/// The alias's current version and revision come from the fake world.
pub async fn seed_rollout(fake: &FakeAws, request: serde_json::Value) -> Rollout {
    let request = glidepath_core::RolloutRequest::from_json(&request).expect("a valid request");
    let alias = fake
        .alias(&request.function, &request.alias)
        .expect("the fake world has the alias");
    let target = match &request.target {
        glidepath_core::Target::Version(version) => version.clone(),
        glidepath_core::Target::PublishLatest => panic!("seed_rollout takes a targetVersion"),
    };
    let mut spec = request.spec(&alias.version, &target);
    spec.function_arn = alias.function_arn();
    let now = fake.world().now;
    let mut rollout = Rollout::new(
        format!("r-{}", fake.world().rollouts.len() + 1),
        spec,
        request.plan.clone(),
        now,
    );
    rollout.alias_revision = Some(alias.revision);
    fake.create(&rollout).await.expect("created");
    crate::Runner::new(fake, Role::Start)
        .run_on(rollout, glidepath_core::Event::Start)
        .await
        .expect("started")
}

/// Creates the release `request` asks for (a release request, every member with a
/// `targetVersion`) the way `start` does, with ids `rel-1-0`, `rel-1-1`, ..., and starts every
/// member of the first wave; returns the members as stored afterwards.
pub async fn seed_release(fake: &FakeAws, request: serde_json::Value) -> Vec<Rollout> {
    let request = glidepath_core::ReleaseRequest::from_json(&request).expect("a valid release");
    let release_id = "rel-1".to_string();
    let ids: Vec<String> = (0..request.members.len())
        .map(|index| glidepath_core::release::member_id(&release_id, index))
        .collect();
    let now = fake.world().now;
    let mut members = Vec::new();
    for (index, member) in request.members.iter().enumerate() {
        let alias = fake
            .alias(&member.function, &member.alias)
            .expect("the fake world has the alias");
        let glidepath_core::Target::Version(target) = &member.target else {
            panic!("seed_release takes targetVersion");
        };
        let mut spec = member.spec(&alias.version, target);
        spec.function_arn = alias.function_arn();
        let mut rollout = Rollout::new(ids[index].clone(), spec, member.plan.clone(), now);
        rollout.alias_revision = Some(alias.revision);
        rollout.release = Some(request.membership(&release_id, &ids, index));
        members.push(rollout);
    }
    fake.create_all(&members).await.expect("created");
    for member in members.into_iter().filter(|m| m.wave() == 0) {
        crate::Runner::new(fake, Role::Start)
            .run_on(member, glidepath_core::Event::Start)
            .await
            .expect("started");
    }
    ids.iter()
        .map(|id| fake.rollout(id).expect("stored"))
        .collect()
}
