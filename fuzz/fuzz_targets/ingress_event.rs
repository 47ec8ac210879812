//! Any bytes as a function URL event, through the ingress's own event conversion
//! (`ingress::event`) and `Ingress::handle`: the events `lambda_http` panicked on (docs/behaviour.md,
//! "Known library bugs worked around") and whatever the fuzzer makes of the sample events. Invariants:
//! see `hookrelay_fuzz::harness::run_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookrelay_fuzz::harness::run_event(data));
