//! The worker function's logic, as a library so that its tests and fuzz targets reach the same
//! handler the binary runs. `main.rs` is the wiring.
//!
//! Modules, each using only those above it: `budget` ← `timeout_fit`, `settings` ← `job` ←
//! `record` ← `batch` ← `handler` (the public entry); `actions` is the SQS-actions port.

pub mod actions;
pub mod batch;
pub mod budget;
pub mod handler;
mod job;
mod record;
pub mod settings;
pub mod timeout_fit;
