//! The ingress accept path (route → verify → filter → input mapping → envelope → queue) through
//! `Ingress::handle`, with requests signed for every scheme, then mutated. Invariants: see
//! `hookrelay_fuzz::harness`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookrelay_fuzz::harness::run_ingress(data));
