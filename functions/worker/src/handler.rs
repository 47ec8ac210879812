//! The worker handler: each SQS record is one job, delivered to its target concurrently (bounded).
//! The public entry `main.rs` and the fuzz targets use; the logic lives in one module per concept:
//!
//! - [`crate::batch`]: the SQS batch (bounded fan-out, the invocation deadline, panic isolation,
//!   the partial-batch-failure response);
//! - `record`: one record (deliver, classify, retry later / dead-letter / callback), and
//!   the table of what becomes of each outcome;
//! - `job`: a record as read, what became of it and its log lines;
//! - [`crate::budget`]: the time a record's call may take before the deadline.

pub use crate::{
    batch::{Worker, ANSWER_MARGIN},
    budget::{deadline_from_epoch_ms, CallTimeouts, CALL_MARGIN},
    settings::Settings,
};

#[cfg(test)]
mod tests;
