//! An in-memory ledger for unit tests of the handlers (feature `test-util`).

use std::{collections::HashMap, sync::Mutex};

use super::*;

/// A ledger in a map.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    entries: Mutex<HashMap<String, (String, SystemTime)>>,
}

impl DeliveryLedger for MemoryLedger {
    async fn seen(&self, key: &str, now: SystemTime) -> Result<Option<String>, LedgerError> {
        let entries = self.entries.lock().unwrap();
        Ok(entries
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(id, _)| id.clone()))
    }

    async fn record(&self, key: &str, job_id: &str, expires: SystemTime) -> Result<(), LedgerError> {
        self.entries
            .lock()
            .unwrap()
            .insert(key.to_owned(), (job_id.to_owned(), expires));
        Ok(())
    }
}
