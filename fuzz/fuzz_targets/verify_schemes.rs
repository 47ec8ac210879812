//! Each scheme's header parsing and verification, on valid-signature-then-mutate requests.
//!
//! Invariants: a correctly signed request verifies; one whose signature, body, timestamp or
//! signed id was changed never does; and whatever verifies (after any free-form edit of the
//! signature header) is refused by a verifier built with other secrets, i.e. no parsing quirk
//! makes acceptance independent of the secret.
#![no_main]

use std::time::SystemTime;

use hookrelay::inbound::verify::{Decision, SystemClock, WebhookRequest};
use hookrelay_fuzz::{
    harness::{Case, Harness},
    input::FuzzRequest,
    signing::{Scheme, SchemeFixture},
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(input) = FuzzRequest::decode(data) else {
        return;
    };
    let harness = Harness::get();
    let mut case = Case::new(&input, SystemTime::now());
    // Kinds 5-7 edit the signature header as text: its outcome is unknown (an upper-case hex
    // digest is the same signature), so only the secret-independence check applies.
    let edited = input.sign
        && input.mutation_kind % 8 >= 5
        && edit_signature(&mut case, input.mutation_kind % 8, input.mutation_at, input.body);
    let request = WebhookRequest {
        method: &case.method,
        headers: &case.headers,
        query: case.query.as_deref(),
        body: &case.body,
    };
    let decision = harness.verifiers[case.route_index].verify(request, &SystemClock);
    let delivered = matches!(decision, Ok(Decision::Deliver(_)));
    if !edited {
        if case.authentic() == Some(true) && case.method == http::Method::POST && !case.collides {
            assert!(
                decision.is_ok(),
                "a correctly signed {:?} request was refused: {decision:?}",
                case.route.scheme
            );
        }
        if case.authentic() == Some(false) {
            assert!(
                !delivered && (case.method != http::Method::POST || decision.is_err()),
                "a mutated {:?} request ({:?}) verified: {decision:?}",
                case.route.scheme,
                case.mutation
            );
        }
    }
    if delivered && case.route.scheme != Scheme::None {
        let wrong = harness.wrong_verifiers[case.route_index].verify(request, &SystemClock);
        assert!(
            wrong.is_err(),
            "{:?}: accepted with other secrets too: {wrong:?}",
            case.route.scheme
        );
    }
});

/// Edits the first signature header as text: 5 inserts a byte, 6 truncates, 7 appends a second
/// entry made of the body's first bytes (several signatures in one header). Returns whether a
/// header was edited.
fn edit_signature(case: &mut Case, kind: u8, at: u8, body: &[u8]) -> bool {
    let Some(name) = case
        .route
        .scheme
        .headers_read()
        .iter()
        .find(|n| case.headers.contains_key(**n))
    else {
        return false;
    };
    let mut value = case.headers[*name].as_bytes().to_vec();
    let at = at as usize % (value.len() + 1);
    match kind {
        5 => value.insert(at, body.first().copied().unwrap_or(b',')),
        6 => value.truncate(at),
        _ => {
            value.extend_from_slice(b",");
            value.extend_from_slice(&body[..body.len().min(48)]);
        }
    }
    match http::HeaderValue::from_bytes(&value) {
        Ok(value) => {
            case.headers.insert(*name, value);
            true
        }
        Err(_) => false,
    }
}
