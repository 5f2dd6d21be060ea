//! Counts the AWS API calls the adapters make, by operation, so a function can report how
//! many calls one event cost (counted, not estimated).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl CallCounter {
    pub fn record(&self, operation: &'static str) {
        if let Ok(mut calls) = self.0.lock() {
            *calls.entry(operation).or_default() += 1;
        }
    }

    /// The calls so far, by `service:Operation`, and clears the count.
    pub fn take(&self) -> BTreeMap<&'static str, u64> {
        self.0
            .lock()
            .map(|mut calls| std::mem::take(&mut *calls))
            .unwrap_or_default()
    }
}
