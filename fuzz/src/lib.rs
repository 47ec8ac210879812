//! Shared helpers of hookrelay's fuzz targets (`fuzz_targets/*.rs`, run by `make fuzz`).
//!
//! * [`input`]: the byte format of a fuzzed webhook request (a few control bytes, header lines,
//!   the body), so that seeds can be written by `seeds.py` and read by a person;
//! * [`signing`]: a valid signature for every verification scheme, and the mutations that must
//!   make it fail;
//! * [`harness`]: the real `Ingress` over an in-memory queue that records every queued envelope,
//!   and the invariants checked on each answer. A target over another entry point (e.g. the raw
//!   function URL event) decodes with [`input::FuzzRequest::decode`], signs with
//!   [`harness::Case::new`], sends its own request built from the case's parts, and calls
//!   [`harness::Case::check`];
//! * [`envelope`]: the round-trip check every queued envelope must pass.

pub mod envelope;
pub mod harness;
pub mod input;
pub mod signing;

/// One current-thread runtime for every async call of a target (built once per process).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
        })
        .block_on(future)
}
