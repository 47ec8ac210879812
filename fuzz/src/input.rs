//! The byte format of a fuzzed webhook request:
//!
//! ```text
//! byte 0   route (index into the harness's routes, modulo their number)
//! byte 1   flags: bit 0 sign the request, bit 1 form-encoded content type (else JSON),
//!          bit 2 sign with Ed25519 (Standard Webhooks `v1a`), bit 3 send a GET instead of a POST
//! byte 2   mutation kind (see [`crate::signing::Mutation::decode`])
//! byte 3   mutation position (which bit/byte the mutation touches)
//! then     header lines up to a blank line: `name: value` adds a header, `?text` sets the raw
//!          query string (no blank line: no headers, the rest is the body)
//! then     the body, raw bytes
//! ```
//!
//! Anything that cannot be a header name or value is skipped, as an HTTP stack would refuse it.

/// A decoded fuzz input.
#[derive(Debug, Clone)]
pub struct FuzzRequest<'a> {
    pub route: u8,
    pub sign: bool,
    pub form: bool,
    pub ed25519: bool,
    pub get: bool,
    pub mutation_kind: u8,
    pub mutation_at: u8,
    /// Extra headers as given (not yet validated).
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub query: Option<&'a [u8]>,
    pub body: &'a [u8],
}

impl<'a> FuzzRequest<'a> {
    /// `None` for inputs shorter than the four control bytes.
    pub fn decode(data: &'a [u8]) -> Option<FuzzRequest<'a>> {
        let (control, rest) = data.split_at_checked(4)?;
        let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&rest[..at], &rest[at + 2..]),
            None => (&rest[..0], rest),
        };
        let mut headers = Vec::new();
        let mut query = None;
        for line in head.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Some(q) = line.strip_prefix(b"?") {
                query = Some(q);
            } else if let Some(colon) = line.iter().position(|&b| b == b':') {
                let value = &line[colon + 1..];
                headers.push((&line[..colon], value.strip_prefix(b" ").unwrap_or(value)));
            }
        }
        Some(FuzzRequest {
            route: control[0],
            sign: control[1] & 1 != 0,
            form: control[1] & 2 != 0,
            ed25519: control[1] & 4 != 0,
            get: control[1] & 8 != 0,
            mutation_kind: control[2],
            mutation_at: control[3],
            headers,
            query,
            body,
        })
    }
}

/// The inverse of [`FuzzRequest::decode`], for seeds written from Rust (regression tests).
pub fn encode(control: [u8; 4], headers: &[(&str, &str)], query: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<String> = query.map(|q| format!("?{q}")).into_iter().collect();
    lines.extend(headers.iter().map(|(name, value)| format!("{name}: {value}")));
    let mut out = control.to_vec();
    out.extend_from_slice(lines.join("\n").as_bytes());
    out.extend_from_slice(b"\n\n");
    out.extend_from_slice(body);
    out
}
