//! [`RolloutStore`] on one DynamoDB table (ARCHITECTURE.md, "State"):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | rollout | `ROLLOUT#<id>` | `STATE` (the record as JSON in `record`, plus `seq`, `status`, index keys) |
//! | history | `ROLLOUT#<id>` | `EVENT#<seq, 10 digits>` |
//! | alias lock | `ALIAS#<function>#<alias>` | `LOCK` |
//! | alarm watch | `ALARM#<name>` | `ROLLOUT#<id>` |
//! | idempotency key | `IDEMPOTENCY#<key>` | `IDEMPOTENCY` |
//!
//! `<function>` is the function's ARN when the rollout knows it ([`RolloutSpec::function_key`]),
//! so a name and an ARN lock the same alias. Index `byAlias` (`gsi1pk = ALIAS#<function>#<alias>`,
//! `gsi1sk = <created-at>#<id>`) lists an alias's rollouts; the sparse index `active`
//! (`gsi2pk = ACTIVE`, `gsi2sk = <owed since>#<kind>#<id>`) holds exactly the rollouts whose
//! [`Rollout::owed_work`] is `Some`, for the watchdog, which reads the entries owed since
//! before `now - Grace::shortest()` and keeps those [`Grace::is_overdue`] says are overdue:
//! the same rule the in-memory fake applies to the records themselves. The index `recent`
//! (`gsi3pk = OPEN` or `ENDED` by [`Status::is_terminal`], `gsi3sk = <created-at>#<id>`,
//! keys only) lists the table's rollouts newest first for `glidepath list`; its keys change
//! only at creation and at the end, so a tick does not write it.
//!
//! Finished rollouts and their history get `expiresAt` (TTL) at the end of the retention
//! period; an idempotency claim at the end of the retention period from its creation, and a
//! claim past its `expiresAt` counts as free even before DynamoDB deletes it.

use super::calls::CallCounter;
use crate::error::PortError;
use crate::ports::{Created, HistoryEntry, RolloutStore, claim_is_live, lock_conflict};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use glidepath_core::{
    Actor, Channel, Grace, OwedKind, OwedWork, Rollout, RolloutSpec, Status, UnixSeconds, Weight,
};
use std::collections::HashMap;

pub const BY_ALIAS_INDEX: &str = "byAlias";
pub const ACTIVE_INDEX: &str = "active";
pub const RECENT_INDEX: &str = "recent";

/// The `recent` index's partition of a rollout: unfinished ones apart from finished ones, so
/// that `list --active` reads only the first.
fn recent_partition(status: Status) -> &'static str {
    if status.is_terminal() {
        "ENDED"
    } else {
        "OPEN"
    }
}

/// How many keys one `BatchGetItem` may ask for.
const BATCH_GET_LIMIT: usize = 100;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention_seconds: u64,
    calls: CallCounter,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn rollout_pk(id: &str) -> String {
    format!("ROLLOUT#{id}")
}

fn alias_pk(function: &str, alias: &str) -> String {
    format!("ALIAS#{function}#{alias}")
}

fn lock_pk(spec: &RolloutSpec) -> String {
    alias_pk(spec.function_key(), &spec.alias)
}

/// Idempotency keys are scoped to the alias: one team's key never finds another's rollout.
pub fn idempotency_pk(spec_function_key: &str, alias: &str, key: &str) -> String {
    format!("IDEMPOTENCY#{spec_function_key}#{alias}#{key}")
}

/// The `active` index's sort key for a rollout that owes work.
pub fn active_sort_key(work: OwedWork, id: &str) -> String {
    format!("{:012}#{}#{id}", work.since, work.kind)
}

/// Reads [`active_sort_key`] back.
pub fn parse_active_sort_key(key: &str) -> Option<(OwedWork, &str)> {
    let mut parts = key.splitn(3, '#');
    let since = parts.next()?.parse().ok()?;
    let kind = OwedKind::parse(parts.next()?)?;
    let id = parts.next()?;
    Some((OwedWork { kind, since }, id))
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

fn parse_record(item: &Item) -> Result<Rollout, PortError> {
    let record = text(item, "record")
        .ok_or_else(|| PortError::Invalid("stored rollout has no `record` attribute".into()))?;
    Rollout::from_json(record)
        .map_err(|e| PortError::Invalid(format!("stored rollout is unreadable: {e}")))
}

fn build<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> Result<T, PortError> {
    result.map_err(|e| PortError::aws("building a DynamoDB request", e))
}

impl DynamoStore {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        retention_days: u32,
        calls: CallCounter,
    ) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            retention_seconds: u64::from(retention_days) * 86_400,
            calls,
        }
    }

    fn state_item(&self, rollout: &Rollout) -> Item {
        let mut item = key(rollout_pk(&rollout.id), "STATE");
        item.insert("record".into(), s(rollout.to_json()));
        item.insert("seq".into(), n(rollout.seq));
        item.insert("status".into(), s(rollout.status.as_str()));
        item.insert("function".into(), s(&rollout.spec.function));
        item.insert("alias".into(), s(&rollout.spec.alias));
        let created = format!("{:012}#{}", rollout.created_at, rollout.id);
        item.insert("gsi1pk".into(), s(lock_pk(&rollout.spec)));
        item.insert("gsi1sk".into(), s(created.clone()));
        item.insert("gsi3pk".into(), s(recent_partition(rollout.status)));
        item.insert("gsi3sk".into(), s(created));
        if rollout.status.is_terminal() {
            item.insert("expiresAt".into(), n(self.expires_at(rollout)));
        }
        if let Some(work) = rollout.owed_work() {
            item.insert("gsi2pk".into(), s("ACTIVE"));
            item.insert("gsi2sk".into(), s(active_sort_key(work, &rollout.id)));
        }
        item
    }

    fn expires_at(&self, rollout: &Rollout) -> u64 {
        rollout.updated_at + self.retention_seconds
    }

    fn claim_key(&self, spec: &RolloutSpec, idempotency_key: &str) -> Item {
        key(
            idempotency_pk(spec.function_key(), &spec.alias, idempotency_key),
            "IDEMPOTENCY",
        )
    }

    /// The item of [`HistoryEntry::latest`], the one rule for what a history item says.
    fn history_item(&self, rollout: &Rollout, event: &str) -> Item {
        let entry = HistoryEntry::latest(rollout, event);
        let mut item = key(rollout_pk(&rollout.id), format!("EVENT#{:010}", entry.seq));
        item.insert("event".into(), s(&entry.event));
        item.insert("seq".into(), n(entry.seq));
        item.insert("status".into(), s(entry.status.as_str()));
        // Percent, as a DynamoDB number: `10`, `0.5`.
        item.insert("weight".into(), AttributeValue::N(entry.weight.to_string()));
        item.insert("at".into(), n(entry.at));
        if let Some(reason) = &entry.reason {
            item.insert("reason".into(), s(reason));
        }
        if let Some(actor) = &entry.actor {
            item.insert("actor".into(), s(&actor.principal));
            item.insert("actorVia".into(), s(channel_name(actor.via)));
        }
        if rollout.status.is_terminal() {
            item.insert("expiresAt".into(), n(self.expires_at(rollout)));
        }
        item
    }

    fn put(
        &self,
        item: Item,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, PortError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(condition) = condition {
            put = put.condition_expression(condition);
        }
        for (name, value) in values {
            put = put.expression_attribute_values(*name, value.clone());
        }
        Ok(TransactWriteItem::builder()
            .put(build(put.build())?)
            .build())
    }

    fn delete(
        &self,
        key: Item,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, PortError> {
        let mut delete = Delete::builder().table_name(&self.table).set_key(Some(key));
        if let Some(condition) = condition {
            delete = delete.condition_expression(condition);
        }
        for (name, value) in values {
            delete = delete.expression_attribute_values(*name, value.clone());
        }
        Ok(TransactWriteItem::builder()
            .delete(build(delete.build())?)
            .build())
    }

    /// Runs a transaction; `Ok(Err(indexes))` lists the items whose condition failed. A
    /// transaction cancelled for any other reason (throttling, a conflicting transaction,
    /// validation) is an error: retryable, never mistaken for a lost race.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Vec<usize>>, PortError> {
        self.calls.record("dynamodb:TransactWriteItems");
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(error) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(canceled)) =
                    error.as_service_error()
                {
                    let codes: Vec<Option<&str>> = canceled
                        .cancellation_reasons()
                        .iter()
                        .map(|reason| reason.code())
                        .collect();
                    if let Some(failed) = conditional_failures(&codes) {
                        return Ok(Err(failed));
                    }
                    return Err(PortError::Aws {
                        operation: "DynamoDB TransactWriteItems",
                        message: format!(
                            "transaction cancelled ({})",
                            codes
                                .iter()
                                .map(|code| code.unwrap_or("?"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        source: Some(Box::new(error)),
                    });
                }
                Err(PortError::aws("DynamoDB TransactWriteItems", error))
            }
        }
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, PortError> {
        self.calls.record("dynamodb:GetItem");
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::aws("DynamoDB GetItem", e))?;
        Ok(output.item)
    }

    async fn query(
        &self,
        index: Option<&str>,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<Item>, PortError> {
        self.query_items(index, key_condition, values, None).await
    }

    /// Every item matching `key_condition`, page by page; with `newest`, only that many,
    /// in descending sort-key order.
    async fn query_items(
        &self,
        index: Option<&str>,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest: Option<usize>,
    ) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.calls.record("dynamodb:Query");
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .set_exclusive_start_key(start.take());
            if let Some(index) = index {
                request = request.index_name(index);
            }
            if let Some(limit) = newest {
                let left = limit.saturating_sub(items.len());
                request = request
                    .scan_index_forward(false)
                    .limit(i32::try_from(left).unwrap_or(i32::MAX));
            }
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            let output = request
                .send()
                .await
                .map_err(|e| PortError::aws("DynamoDB Query", e))?;
            items.extend(output.items.unwrap_or_default());
            let enough = newest.is_some_and(|limit| items.len() >= limit);
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() && !enough => start = Some(last),
                _ => break,
            }
        }
        if let Some(limit) = newest {
            items.truncate(limit);
        }
        Ok(items)
    }

    /// The `recent` index's sort keys in `partition`, newest first, at most `limit`.
    async fn newest_keys(&self, partition: &str, limit: usize) -> Result<Vec<String>, PortError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .query_items(
                Some(RECENT_INDEX),
                "gsi3pk = :partition",
                vec![(":partition", s(partition))],
                Some(limit),
            )
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| text(item, "gsi3sk").map(str::to_string))
            .collect())
    }

    /// The records of `ids` (those that exist), by id, with `BatchGetItem`; keys DynamoDB
    /// leaves unprocessed are asked for again, a bounded number of times.
    async fn load_many(&self, ids: &[String]) -> Result<HashMap<String, Rollout>, PortError> {
        let mut records = HashMap::new();
        for chunk in ids.chunks(BATCH_GET_LIMIT) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|id| key(rollout_pk(id), "STATE"))
                .collect();
            let mut request = Some(build(
                aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build(),
            )?);
            for attempt in 0u32.. {
                let Some(wanted) = request.take() else { break };
                if attempt == 5 {
                    return Err(PortError::Aws {
                        operation: "DynamoDB BatchGetItem",
                        message: "keys still unprocessed after 5 attempts".into(),
                        source: None,
                    });
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                self.calls.record("dynamodb:BatchGetItem");
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, wanted)
                    .send()
                    .await
                    .map_err(|e| PortError::aws("DynamoDB BatchGetItem", e))?;
                for item in output
                    .responses
                    .as_ref()
                    .and_then(|tables| tables.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let rollout = parse_record(item)?;
                    records.insert(rollout.id.clone(), rollout);
                }
                request = output
                    .unprocessed_keys
                    .and_then(|mut tables| tables.remove(&self.table))
                    .filter(|left| !left.keys().is_empty());
            }
        }
        Ok(records)
    }

    async fn lock_holder(&self, function: &str, alias: &str) -> Result<Option<String>, PortError> {
        self.lock_holder_at(alias_pk(function, alias)).await
    }

    async fn lock_holder_at(&self, pk: String) -> Result<Option<String>, PortError> {
        let lock = self.get(key(pk, "LOCK")).await?;
        Ok(lock
            .as_ref()
            .and_then(|item| text(item, "rolloutId"))
            .map(str::to_string))
    }
}

/// The items of a cancelled transaction whose condition failed, when that is the only reason
/// it was cancelled (`None` when anything else, such as throttling or a conflicting
/// transaction, cancelled it: that is not a lost race).
pub fn conditional_failures(codes: &[Option<&str>]) -> Option<Vec<usize>> {
    let mut failed = Vec::new();
    for (index, code) in codes.iter().enumerate() {
        match code {
            None | Some("None") => {}
            Some("ConditionalCheckFailed") => failed.push(index),
            Some(_) => return None,
        }
    }
    (!failed.is_empty()).then_some(failed)
}

impl DynamoStore {
    /// The items that create `rollout`: its record, its alias lock, its first history
    /// item, its alarm watches and its idempotency claim.
    fn create_items(&self, rollout: &Rollout) -> Result<Vec<TransactWriteItem>, PortError> {
        let spec = &rollout.spec;
        let absent = Some("attribute_not_exists(pk)");
        let mut items = vec![
            self.put(self.state_item(rollout), absent, &[])?,
            self.put(
                {
                    let mut lock = key(lock_pk(spec), "LOCK");
                    lock.insert("rolloutId".into(), s(&rollout.id));
                    lock.insert("since".into(), n(rollout.created_at));
                    lock
                },
                absent,
                &[],
            )?,
            self.put(self.history_item(rollout, "create"), None, &[])?,
        ];
        for alarm in &spec.alarms {
            let mut watch = key(format!("ALARM#{alarm}"), format!("ROLLOUT#{}", rollout.id));
            watch.insert("rolloutId".into(), s(&rollout.id));
            items.push(self.put(watch, None, &[])?);
        }
        if let Some(idempotency_key) = &spec.idempotency_key {
            let mut claim = self.claim_key(spec, idempotency_key);
            claim.insert("rolloutId".into(), s(&rollout.id));
            // The key is remembered for the retention period from creation; an expired
            // claim is free even before TTL deletes it.
            claim.insert(
                "expiresAt".into(),
                n(rollout.created_at + self.retention_seconds),
            );
            items.push(self.put(
                claim,
                Some("attribute_not_exists(pk) OR expiresAt < :now"),
                &[(":now", n(rollout.created_at))],
            )?);
        }
        Ok(items)
    }

    /// The items that write `rollout` over the record at `expected_seq` (always the first
    /// item), with its history item and, for a transition into a terminal status, the
    /// release of its lock and alarm watches.
    fn save_items(
        &self,
        expected_seq: u64,
        rollout: &Rollout,
        event: Option<&str>,
    ) -> Result<Vec<TransactWriteItem>, PortError> {
        let mut items = vec![self.put(
            self.state_item(rollout),
            Some("seq = :expected"),
            &[(":expected", n(expected_seq))],
        )?];
        if let Some(event) = event {
            items.push(self.put(self.history_item(rollout, event), None, &[])?);
        }
        // The transition into a terminal status releases; a later confirmation does not touch
        // the lock (another rollout may hold it by then).
        if rollout.status.is_terminal() && event.is_some() {
            let spec = &rollout.spec;
            items.push(self.delete(
                key(lock_pk(spec), "LOCK"),
                Some("attribute_not_exists(pk) OR rolloutId = :id"),
                &[(":id", s(&rollout.id))],
            )?);
            for alarm in &spec.alarms {
                items.push(self.delete(
                    key(format!("ALARM#{alarm}"), format!("ROLLOUT#{}", rollout.id)),
                    None,
                    &[],
                )?);
            }
        }
        Ok(items)
    }
}

impl RolloutStore for DynamoStore {
    async fn create(&self, rollout: &Rollout) -> Result<Created, PortError> {
        self.create_all(std::slice::from_ref(rollout)).await
    }

    async fn create_all(&self, rollouts: &[Rollout]) -> Result<Created, PortError> {
        if let Some(refusal) = crate::ports::refuse_create_all(rollouts) {
            return Err(refusal);
        }
        let mut items = Vec::new();
        for rollout in rollouts {
            items.extend(self.create_items(rollout)?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(Created::New),
            Err(_) => {
                // The key first: a retried request returns its rollout, whatever holds the lock.
                if let Some(first) = rollouts.first() {
                    let spec = &first.spec;
                    if let Some(key) = &spec.idempotency_key {
                        if let Some(existing) = self
                            .find_by_idempotency_key(spec.function_key(), &spec.alias, key)
                            .await?
                        {
                            return Ok(Created::Existing(Box::new(existing)));
                        }
                    }
                }
                let mut holders = Vec::new();
                for rollout in rollouts {
                    holders.push(self.lock_holder_at(lock_pk(&rollout.spec)).await?);
                }
                lock_conflict(rollouts, &holders)
            }
        }
    }

    async fn load(&self, id: &str) -> Result<Option<Rollout>, PortError> {
        self.get(key(rollout_pk(id), "STATE"))
            .await?
            .map(|item| parse_record(&item))
            .transpose()
    }

    async fn save(
        &self,
        expected_seq: u64,
        rollout: &Rollout,
        event: Option<&str>,
    ) -> Result<(), PortError> {
        let items = self.save_items(expected_seq, rollout, event)?;
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(failed) if failed.contains(&0) => Err(PortError::Conflict(format!(
                "rollout {} changed since seq {expected_seq}",
                rollout.id
            ))),
            Err(_) => Err(PortError::Conflict(format!(
                "the lock of {}:{} is held by another rollout",
                rollout.spec.function, rollout.spec.alias
            ))),
        }
    }

    async fn save_all(&self, writes: &[(u64, Rollout)], event: &str) -> Result<(), PortError> {
        let mut items = Vec::new();
        for (expected_seq, rollout) in writes {
            items.extend(self.save_items(*expected_seq, rollout, Some(event))?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(PortError::Conflict(format!(
                "one of rollouts {} changed since it was read",
                writes
                    .iter()
                    .map(|(_, r)| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn find_by_idempotency_key(
        &self,
        function_key: &str,
        alias: &str,
        idempotency_key: &str,
    ) -> Result<Option<Rollout>, PortError> {
        let claim = self
            .get(key(
                idempotency_pk(function_key, alias, idempotency_key),
                "IDEMPOTENCY",
            ))
            .await?;
        let Some(claim) = claim else {
            return Ok(None);
        };
        let expires_at = claim
            .get("expiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if expires_at.is_some_and(|at| !claim_is_live(at, crate::clock::now())) {
            return Ok(None);
        }
        match text(&claim, "rolloutId") {
            Some(id) => self.load(id).await,
            None => Ok(None),
        }
    }

    async fn active_rollout(
        &self,
        function_key: &str,
        alias: &str,
    ) -> Result<Option<String>, PortError> {
        self.lock_holder(function_key, alias).await
    }

    async fn rollouts_for_alias(
        &self,
        function_key: &str,
        alias: &str,
    ) -> Result<Vec<Rollout>, PortError> {
        self.query(
            Some(BY_ALIAS_INDEX),
            "gsi1pk = :pk",
            vec![(":pk", s(alias_pk(function_key, alias)))],
        )
        .await?
        .iter()
        .map(parse_record)
        .collect()
    }

    async fn recent(&self, open_only: bool, limit: usize) -> Result<Vec<Rollout>, PortError> {
        let mut keys = self.newest_keys("OPEN", limit).await?;
        if !open_only {
            keys.extend(self.newest_keys("ENDED", limit).await?);
        }
        // Newest first; a rollout that ended between the two queries is in both, under the
        // same sort key.
        keys.sort_by(|a, b| b.cmp(a));
        keys.dedup();
        let ids: Vec<String> = keys
            .iter()
            .filter_map(|key| key.split_once('#').map(|(_, id)| id.to_string()))
            .take(limit)
            .collect();
        let mut records = self.load_many(&ids).await?;
        // A record that expired since the index was read is left out; so is one that ended
        // after the (eventually consistent) index still listed it as open: the record says.
        Ok(ids
            .iter()
            .filter_map(|id| records.remove(id))
            .filter(|rollout| !(open_only && rollout.status.is_terminal()))
            .collect())
    }

    async fn rollouts_watching(&self, alarm: &str) -> Result<Vec<String>, PortError> {
        Ok(self
            .query(None, "pk = :pk", vec![(":pk", s(format!("ALARM#{alarm}")))])
            .await?
            .iter()
            .filter_map(|item| text(item, "rolloutId").map(str::to_string))
            .collect())
    }

    async fn overdue(&self, now: UnixSeconds, grace: &Grace) -> Result<Vec<String>, PortError> {
        let before = now.saturating_sub(grace.shortest());
        let items = self
            .query(
                Some(ACTIVE_INDEX),
                "gsi2pk = :active AND gsi2sk < :before",
                vec![
                    (":active", s("ACTIVE")),
                    (":before", s(format!("{before:012}#"))),
                ],
            )
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| parse_active_sort_key(text(item, "gsi2sk")?))
            .filter(|(work, _)| grace.is_overdue(*work, now))
            .map(|(_, id)| id.to_string())
            .collect())
    }
    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, PortError> {
        let items = self
            .query(
                None,
                "pk = :pk AND begins_with(sk, :prefix)",
                vec![(":pk", s(rollout_pk(id))), (":prefix", s("EVENT#"))],
            )
            .await?;
        let number = |item: &Item, name: &str| -> u64 {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        items
            .iter()
            .map(|item| {
                let status = text(item, "status").unwrap_or_default();
                Ok(HistoryEntry {
                    seq: number(item, "seq"),
                    event: text(item, "event").unwrap_or_default().to_string(),
                    status: serde_json::from_value(serde_json::Value::String(status.to_string()))
                        .map_err(|_| {
                        PortError::Invalid(format!("history item has an unknown status `{status}`"))
                    })?,
                    weight: item
                        .get("weight")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<f64>().ok())
                        .and_then(|percent| Weight::from_percent(percent).ok())
                        .ok_or_else(|| {
                            PortError::Invalid("history item has no readable `weight`".into())
                        })?,
                    at: number(item, "at"),
                    reason: text(item, "reason").map(str::to_string),
                    actor: text(item, "actor").map(|principal| Actor {
                        principal: principal.to_string(),
                        via: text(item, "actorVia")
                            .and_then(channel_from_name)
                            .unwrap_or(Channel::DirectInvoke),
                    }),
                })
            })
            .collect()
    }
}

/// A channel as history items store it: its serde name, the same as in the record's JSON.
fn channel_name(channel: Channel) -> String {
    serde_json::to_value(channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn channel_from_name(name: &str) -> Option<Channel> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}
