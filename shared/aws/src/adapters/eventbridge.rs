//! [`Notifier`] on EventBridge: `source: glidepath`, `detail-type: Glidepath Rollout State
//! Change` on every transition.

use super::calls::CallCounter;
use crate::error::PortError;
use crate::ports::{HistoryEntry, Notifier, Refusal};
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use glidepath_core::Rollout;

pub const SOURCE: &str = "glidepath";
pub const STATE_CHANGE: &str = "Glidepath Rollout State Change";
/// The `detail-type` of a rollout asked for by an event and refused ([`Refusal`]).
pub const REFUSED: &str = "Glidepath Rollout Refused";

/// The notification's `detail`: the transition `change` of `rollout`. `rolloutId` and `seq`
/// identify it: a consumer that sees the same pair twice has seen the same change. `actor` is
/// who caused this change; `requestedBy` who asked for the rollout. A member of a release
/// also names the release (`release`: its id, name, the member's place and how many members
/// it has), so a consumer can follow a whole train.
pub fn state_change_detail(rollout: &Rollout, change: &HistoryEntry) -> serde_json::Value {
    let mut detail = serde_json::json!({
        "rolloutId": rollout.id,
        "function": rollout.spec.function,
        "alias": rollout.spec.alias,
        "status": change.status,
        "weight": change.weight,
        "currentVersion": rollout.spec.current_version,
        "targetVersion": rollout.spec.target_version,
        "reason": change.reason,
        "event": change.event,
        "at": change.at,
        "seq": change.seq,
        "actor": change.actor,
        "requestedBy": rollout.spec.requested_by,
        "authorizedBy": rollout.spec.authorized_by,
    });
    if let Some(release) = &rollout.release {
        detail["release"] = serde_json::json!({
            "id": release.id,
            "name": release.name,
            "member": release.index,
            "members": release.members.len(),
        });
    }
    detail
}

#[derive(Debug, Clone)]
pub struct EventBridgeNotifier {
    client: Client,
    bus: String,
    calls: CallCounter,
}

impl EventBridgeNotifier {
    pub fn new(client: Client, bus: String, calls: CallCounter) -> Self {
        EventBridgeNotifier { client, bus, calls }
    }
}

impl Notifier for EventBridgeNotifier {
    async fn notify(&self, rollout: &Rollout, change: &HistoryEntry) -> Result<(), PortError> {
        let detail = state_change_detail(rollout, change).to_string();
        self.put(STATE_CHANGE, detail).await
    }

    async fn refused(&self, refusal: &Refusal) -> Result<(), PortError> {
        let detail = serde_json::to_string(refusal).map_err(|e| PortError::Aws {
            operation: "EventBridge PutEvents",
            message: format!("the refusal does not serialise: {e}"),
            source: None,
        })?;
        self.put(REFUSED, detail).await
    }
}

impl EventBridgeNotifier {
    /// One event on the notification bus.
    async fn put(&self, detail_type: &str, detail: String) -> Result<(), PortError> {
        let entry = PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(detail_type)
            .detail(detail)
            .event_bus_name(&self.bus)
            .build();
        self.calls.record("events:PutEvents");
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| PortError::aws("EventBridge PutEvents", e))?;
        if output.failed_entry_count > 0 {
            let why = output
                .entries()
                .iter()
                .filter_map(|e| e.error_message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(PortError::Aws {
                operation: "EventBridge PutEvents",
                message: why,
                source: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glidepath_core::{Actor, Rollout, RolloutRequest};

    /// Issue 8: a notification names who caused the change, who asked for the rollout, and
    /// the rule that allowed it.
    #[test]
    fn the_state_change_names_its_actor() {
        let request = RolloutRequest::from_json(&serde_json::json!({"function": "orders",
            "alias": "live", "targetVersion": "2", "strategy": "AllAtOnce"}))
        .unwrap();
        let mut spec = request.spec("1", "2");
        spec.requested_by = Some(Actor::iam("arn:aws:sts::1:assumed-role/deployer/ci"));
        spec.authorized_by = Some("deployer".into());
        let mut rollout = Rollout::new("r-1", spec, request.plan.clone(), 10);
        rollout.actor = Some(Actor::iam("arn:aws:sts::1:assumed-role/oncall/alice"));
        let detail = state_change_detail(&rollout, &HistoryEntry::latest(&rollout, "pause"));
        assert_eq!(
            detail["actor"],
            serde_json::json!({"principal": "arn:aws:sts::1:assumed-role/oncall/alice", "via": "FunctionUrl"})
        );
        assert_eq!(
            detail["requestedBy"]["principal"],
            "arn:aws:sts::1:assumed-role/deployer/ci"
        );
        assert_eq!(detail["authorizedBy"], "deployer");
        assert_eq!(detail["event"], "pause");
        assert!(detail.get("release").is_none());

        // A member of a release names it.
        rollout.release = Some(glidepath_core::release::ReleaseMembership {
            id: "rel1".into(),
            name: Some("checkout".into()),
            index: 1,
            members: vec!["rel1-0".into(), "rel1-1".into()],
            rolled_back_for: None,
            wave: 0,
            earlier_waves: Default::default(),
            settled: false,
        });
        let detail = state_change_detail(&rollout, &HistoryEntry::latest(&rollout, "pause"));
        assert_eq!(
            detail["release"],
            serde_json::json!({"id": "rel1", "name": "checkout", "member": 1, "members": 2})
        );
    }
}
