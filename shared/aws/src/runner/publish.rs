//! Publishing state changes at least once: the record keeps the last `seq` published
//! (`notified_seq`); what is owed is published from the history, in order. The change that
//! begins a rollback is also told to the rollout's `onRollback` hook, as part of publishing
//! it, so the hook is told at least once too.

use super::{Run, Runner};
use crate::ports::{HistoryEntry, HookRequest, HookRunner, Notifier, Ports, RolloutStore};
use glidepath_core::{HookPhase, Rollout};
use tracing::{info, warn};

impl<P: Ports> Runner<'_, P> {
    /// Publishes one state change; a failure is logged and leaves it owed.
    pub(super) async fn publish(&self, rollout: &Rollout, change: &HistoryEntry) -> bool {
        if let (Some(hook), true) = (&rollout.spec.hooks.on_rollback, change.begins_rollback()) {
            let mut request = HookRequest::new(rollout, HookPhase::OnRollback);
            request.status = Some(change.status);
            request.reason = change.reason.clone();
            match self.ports.hooks().notify(hook, &request).await {
                Ok(()) => {
                    info!(rollout_id = %rollout.id, hook = %hook, seq = change.seq, "on-rollback hook told");
                }
                // A transient failure: the change stays owed, and the next run tells it.
                Err(error @ crate::PortError::Aws { .. }) => {
                    warn!(rollout_id = %rollout.id, hook = %hook, error = %error, "could not tell the on-rollback hook; the change stays owed");
                    return false;
                }
                // The hook is gone or may not be invoked: retrying will not help, and the
                // state change must still be published.
                Err(error) => {
                    warn!(rollout_id = %rollout.id, hook = %hook, error = %error, "the on-rollback hook cannot be told; publishing the change without it");
                }
            }
        }
        match self.ports.notifier().notify(rollout, change).await {
            Ok(()) => true,
            Err(error) => {
                warn!(rollout_id = %rollout.id, seq = change.seq, error = %error, "could not publish the state change; it stays owed");
                false
            }
        }
    }

    /// Publishes, in order and from the history, the state changes the record has not
    /// published yet (a failed publish, a hand-off, an invocation that died).
    pub(super) async fn publish_owed(&self, run: &mut Run) {
        if run.rollout.notified_seq >= run.rollout.seq {
            return;
        }
        let history = match self.ports.store().history(&run.rollout.id).await {
            Ok(history) => history,
            Err(error) => {
                warn!(rollout_id = %run.rollout.id, error = %error, "could not read the history to publish owed state changes");
                return;
            }
        };
        let (from, to) = (run.rollout.notified_seq, run.rollout.seq);
        for change in history.iter().filter(|h| h.seq > from && h.seq <= to) {
            if !self.publish(&run.rollout, change).await {
                return;
            }
            run.rollout.notified_seq = change.seq;
            run.dirty = true;
        }
    }
}
