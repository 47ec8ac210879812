//! Layer 5, where a job goes: the [`targets::JobTarget`] port and its registry, the [`call`]
//! vocabulary every target answers in, [`retry`] classification and backoff, and the adapters:
//! the Algorithmia-compatible [`algorithm`] API, generic [`http`] targets and result
//! [`callback`]s.

pub mod algorithm;
pub mod call;
pub mod callback;
pub mod http;
pub mod retry;
pub mod retry_after;
pub mod targets;
