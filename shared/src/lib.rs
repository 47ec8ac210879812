//! hookrelay's core, shared by the `ingress`, `s3-relay` and `worker` functions.
//!
//! The functions are thin wiring around this crate: [`config`] is read once at cold start,
//! [`verify`] turns a raw request into a [`verify::Verified`] one (the only way to build a webhook
//! [`envelope::Envelope`]), [`queue`] puts envelopes on SQS, and [`algorithm`] calls the downstream.

pub mod algorithm;
pub mod callback;
pub mod config;
pub mod dedup;
pub mod envelope;
pub mod filter;
mod json;
pub mod queue;
pub mod redrive;
pub mod retry;
pub mod route;
pub mod s3_event;
pub mod sdk_http;
pub mod secret;
pub mod startup;
pub mod target;
pub mod tls;
pub mod verify;
