//! An in-memory queue for unit tests of the handlers (feature `test-util`).

use std::sync::Mutex;

use super::*;

/// A queue in a vector.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    /// Every envelope queued, in order.
    pub messages: Mutex<Vec<Envelope>>,
    /// When set, every enqueue fails as if SQS were down.
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl MemoryQueue {
    /// A copy of what was queued.
    pub fn taken(&self) -> Vec<Envelope> {
        self.messages.lock().unwrap().clone()
    }
}

impl JobQueue for MemoryQueue {
    async fn enqueue(&self, envelope: &Envelope, _keys: &MessageKeys) -> Result<String, QueueError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Unavailable("memory queue switched off".into()));
        }
        let mut messages = self.messages.lock().unwrap();
        messages.push(envelope.clone());
        Ok(format!("m-{}", messages.len()))
    }
}
