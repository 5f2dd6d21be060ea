//! [`RolloutStore`] on one DynamoDB table (DESIGN.md, "State in DynamoDB"):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | rollout | `ROLLOUT#<id>` | `STATE` (the record as JSON in `record`, plus `seq`, `status`, index keys) |
//! | history | `ROLLOUT#<id>` | `EVENT#<seq, 10 digits>` |
//! | alias lock | `ALIAS#<function>#<alias>` | `LOCK` |
//! | alarm watch | `ALARM#<name>` | `ROLLOUT#<id>` |
//! | idempotency key | `IDEMPOTENCY#<key>` | `IDEMPOTENCY` |
//!
//! Index `byAlias` (`gsi1pk = ALIAS#<function>#<alias>`, `gsi1sk = <created-at>#<id>`) lists an
//! alias's rollouts; the sparse index `active` (`gsi2pk = ACTIVE`, `gsi2sk = <re-drive due>#<id>`)
//! holds only rollouts that owe work (not paused, not finished), for the watchdog. Finished rollouts get `expiresAt` (TTL).

use super::calls::CallCounter;
use crate::error::PortError;
use crate::ports::{Created, HistoryEntry, RolloutStore};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use glidepath_core::{Rollout, UnixSeconds};
use std::collections::HashMap;

pub const BY_ALIAS_INDEX: &str = "byAlias";
pub const ACTIVE_INDEX: &str = "active";

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
        item.insert(
            "gsi1pk".into(),
            s(alias_pk(&rollout.spec.function, &rollout.spec.alias)),
        );
        item.insert(
            "gsi1sk".into(),
            s(format!("{:012}#{}", rollout.created_at, rollout.id)),
        );
        if rollout.status.is_terminal() {
            item.insert(
                "expiresAt".into(),
                n(rollout.updated_at + self.retention_seconds),
            );
        } else {
            item.insert("gsi2pk".into(), s("ACTIVE"));
            item.insert(
                "gsi2sk".into(),
                s(format!(
                    "{:012}#{}",
                    rollout.next_tick_at.unwrap_or(0),
                    rollout.id
                )),
            );
        }
        item
    }

    fn history_item(&self, rollout: &Rollout, event: &str) -> Item {
        let mut item = key(
            rollout_pk(&rollout.id),
            format!("EVENT#{:010}", rollout.seq),
        );
        item.insert("event".into(), s(event));
        item.insert("seq".into(), n(rollout.seq));
        item.insert("status".into(), s(rollout.status.as_str()));
        item.insert("weight".into(), n(u64::from(rollout.weight)));
        item.insert("at".into(), n(rollout.updated_at));
        if let Some(reason) = &rollout.reason {
            item.insert("reason".into(), s(reason));
        }
        if rollout.status.is_terminal() {
            item.insert(
                "expiresAt".into(),
                n(rollout.updated_at + self.retention_seconds),
            );
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

    /// Runs a transaction; `Ok(Err(indexes))` lists the items whose condition failed.
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
                    let failed: Vec<usize> = canceled
                        .cancellation_reasons()
                        .iter()
                        .enumerate()
                        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
                        .map(|(index, _)| index)
                        .collect();
                    return Ok(Err(failed));
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
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            let output = request
                .send()
                .await
                .map_err(|e| PortError::aws("DynamoDB Query", e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(items),
            }
        }
    }

    async fn lock_holder(&self, function: &str, alias: &str) -> Result<Option<String>, PortError> {
        let lock = self.get(key(alias_pk(function, alias), "LOCK")).await?;
        Ok(lock
            .as_ref()
            .and_then(|item| text(item, "rolloutId"))
            .map(str::to_string))
    }
}

impl RolloutStore for DynamoStore {
    async fn create(&self, rollout: &Rollout) -> Result<Created, PortError> {
        let spec = &rollout.spec;
        let absent = Some("attribute_not_exists(pk)");
        let mut items = vec![
            self.put(self.state_item(rollout), absent, &[])?,
            self.put(
                {
                    let mut lock = key(alias_pk(&spec.function, &spec.alias), "LOCK");
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
            let mut claim = key(format!("IDEMPOTENCY#{idempotency_key}"), "IDEMPOTENCY");
            claim.insert("rolloutId".into(), s(&rollout.id));
            items.push(self.put(claim, absent, &[])?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(Created::New),
            Err(_) => {
                // The key first: a retried request returns its rollout, whatever holds the lock.
                if let Some(key) = &spec.idempotency_key {
                    if let Some(existing) = self.find_by_idempotency_key(key).await? {
                        return Ok(Created::Existing(Box::new(existing)));
                    }
                }
                let holder = self.lock_holder(&spec.function, &spec.alias).await?;
                Err(PortError::Conflict(format!(
                    "alias {}:{} already has an active rollout ({}); wait for it to finish or abort it",
                    spec.function,
                    spec.alias,
                    holder.unwrap_or_else(|| "unknown".into())
                )))
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
        let mut items = vec![self.put(
            self.state_item(rollout),
            Some("seq = :expected"),
            &[(":expected", n(expected_seq))],
        )?];
        if let Some(event) = event {
            items.push(self.put(self.history_item(rollout, event), None, &[])?);
        }
        if rollout.status.is_terminal() {
            let spec = &rollout.spec;
            items.push(self.delete(
                key(alias_pk(&spec.function, &spec.alias), "LOCK"),
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
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(failed) if failed.contains(&0) || failed.is_empty() => Err(PortError::Conflict(
                format!("rollout {} changed since seq {expected_seq}", rollout.id),
            )),
            Err(_) => Err(PortError::Conflict(format!(
                "the lock of {}:{} is held by another rollout",
                rollout.spec.function, rollout.spec.alias
            ))),
        }
    }

    async fn find_by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<Rollout>, PortError> {
        let claim = self
            .get(key(format!("IDEMPOTENCY#{idempotency_key}"), "IDEMPOTENCY"))
            .await?;
        match claim.as_ref().and_then(|item| text(item, "rolloutId")) {
            Some(id) => self.load(id).await,
            None => Ok(None),
        }
    }

    async fn active_rollout(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Option<String>, PortError> {
        self.lock_holder(function, alias).await
    }

    async fn rollouts_for_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Vec<Rollout>, PortError> {
        self.query(
            Some(BY_ALIAS_INDEX),
            "gsi1pk = :pk",
            vec![(":pk", s(alias_pk(function, alias)))],
        )
        .await?
        .iter()
        .map(parse_record)
        .collect()
    }

    async fn rollouts_watching(&self, alarm: &str) -> Result<Vec<String>, PortError> {
        Ok(self
            .query(None, "pk = :pk", vec![(":pk", s(format!("ALARM#{alarm}")))])
            .await?
            .iter()
            .filter_map(|item| text(item, "rolloutId").map(str::to_string))
            .collect())
    }

    async fn overdue(&self, now: UnixSeconds) -> Result<Vec<String>, PortError> {
        let items = self
            .query(
                Some(ACTIVE_INDEX),
                "gsi2pk = :active AND gsi2sk < :now",
                vec![(":active", s("ACTIVE")), (":now", s(format!("{now:012}#")))],
            )
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                text(item, "pk")
                    .and_then(|pk| pk.strip_prefix("ROLLOUT#"))
                    .map(str::to_string)
            })
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
                    weight: u8::try_from(number(item, "weight")).unwrap_or(0),
                    at: number(item, "at"),
                    reason: text(item, "reason").map(str::to_string),
                })
            })
            .collect()
    }
}
