//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, URL + params)>`, as twilio-python's
//! `RequestValidator` (`twilio/request_validator.py`) computes and checks it.
//!
//! - URL: `public_url` (what is configured at Twilio; the function cannot see it), plus `?` and
//!   the request's raw query string when there is one. Like `RequestValidator.validate`, the URL
//!   is tried both without a port and with one (the explicit port, else 443/80), because Twilio's
//!   signing is "inconsistent" about it. `reqwest::Url` adds a `/` to a bare host, so for such a
//!   URL the spelling without the `/` is tried too.
//! - `application/x-www-form-urlencoded` bodies: every parameter, by name in sorted order and,
//!   for a repeated name, each of its values in sorted order, appended as name + value
//!   (`compute_signature`: `for param_name in sorted(set(params)): for value in sorted(values)`).
//! - JSON bodies: Twilio adds `bodySHA256=<hex SHA-256 of the raw body>` to the URL and signs the
//!   URL alone; the body's digest must equal it. Whenever the query has `bodySHA256`, it is
//!   enforced, whatever the content type.
//! - Any other non-empty body is refused: the signature would not cover it.
//!
//! Delivery id: the `I-Twilio-Idempotency-Token` header when present (Twilio's per-request token,
//! the same on its retries; commonly used to drop duplicate deliveries), else none.
//!
//! A property of Twilio's scheme (not of this code): names and values are concatenated without
//! separators, so the signature authenticates that concatenation rather than each parameter's
//! boundaries.

use std::time::SystemTime;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{
    support::{ct_eq, first_match, header_id, header_str, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

const SIGNATURE_HEADER: &str = "x-twilio-signature";
const DELIVERY_HEADER: &str = "i-twilio-idempotency-token";
const BODY_HASH_PARAM: &[u8] = b"bodySHA256";
const FORM: &str = "application/x-www-form-urlencoded";

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    let key = settings.key("public_url");
    let url = settings.public_url.as_ref().ok_or_else(|| {
        ConfigError::new(
            &key,
            "verify = \"twilio\" needs the webhook URL as configured at Twilio",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            key,
            "must be an http(s) URL without a query or fragment",
        ));
    }
    // Never echo the URL here: it would carry the credentials.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            key,
            "must not carry credentials (config text holds no secrets)",
        ));
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(ConfigError::new(key, "must be an http(s) URL with a host"));
    };
    let scheme = url.scheme();
    let mut paths = vec![url.path()];
    if url.path() == "/" {
        paths.push("");
    }
    let bases = paths
        .into_iter()
        .flat_map(|path| {
            [
                format!("{scheme}://{host}{path}"),
                format!("{scheme}://{host}:{port}{path}"),
            ]
        })
        .collect();
    Ok(Box::new(Twilio {
        secrets: settings.secrets,
        bases,
    }))
}

struct Twilio {
    secrets: Vec<Secret>,
    /// The public URL's spellings without the query: without and with the port.
    bases: Vec<String>,
}

impl Scheme for Twilio {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        let value = required_header(request.headers, SIGNATURE_HEADER, Rejection::MissingSignature)?;
        let presented: [u8; 20] = BASE64
            .decode(value)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(Rejection::MalformedSignature)?;
        let query = request.query.filter(|q| !q.is_empty());
        let params = signed_params(request, query)?;
        for base in &self.bases {
            let url = match query {
                Some(query) => format!("{base}?{query}"),
                None => base.clone(),
            };
            let matched = first_match(&self.secrets, &[presented], |key| {
                hmac_sha1(key, &[url.as_bytes(), &params])
            });
            if matched.is_ok() {
                return matched;
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, DELIVERY_HEADER)
    }
}

/// What follows the URL in the signed string, after checking the body is covered by it.
fn signed_params(request: &WebhookRequest<'_>, query: Option<&str>) -> Result<Vec<u8>, Rejection> {
    if let Some(expected) = body_hash_param(query.unwrap_or(""))? {
        let actual: [u8; 32] = Sha256::digest(request.body).into();
        return if ct_eq(&actual, &expected) {
            Ok(Vec::new())
        } else {
            Err(Rejection::SignatureMismatch)
        };
    }
    if is_form(request.headers) {
        return Ok(sorted_form_params(request.body));
    }
    if request.body.is_empty() {
        return Ok(Vec::new());
    }
    Err(Rejection::SignatureMismatch)
}

/// The `bodySHA256` query parameter, if any: exactly one, 64 hex digits.
fn body_hash_param(query: &str) -> Result<Option<[u8; 32]>, Rejection> {
    let mut found = None;
    for (name, value) in form_pairs(query.as_bytes()) {
        if name != BODY_HASH_PARAM {
            continue;
        }
        let mut digest = [0u8; 32];
        hex::decode_to_slice(&value, &mut digest).map_err(|_| Rejection::MalformedSignature)?;
        if found.replace(digest).is_some() {
            return Err(Rejection::MalformedSignature);
        }
    }
    Ok(found)
}

fn is_form(headers: &http::HeaderMap) -> bool {
    header_str(headers, "content-type")
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(FORM))
}

/// Every parameter as name + value, sorted by name and then by value (twilio-python's order).
fn sorted_form_params(body: &[u8]) -> Vec<u8> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = form_pairs(body).collect();
    // twilio-python signs `sorted(set(values))` per name: a repeated identical pair counts once.
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .flat_map(|(name, value)| [name, value])
        .flatten()
        .collect()
}

/// `application/x-www-form-urlencoded` pairs, decoded to bytes (`+` is a space, then
/// percent-escapes); empty segments are skipped and a segment without `=` has an empty value.
fn form_pairs(text: &[u8]) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    text.split(|&b| b == b'&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (form_decode(name), form_decode(value))
    })
}

fn form_decode(text: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = text.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_encoding::percent_decode(&spaced).collect()
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    // Every expected signature below was computed independently, in Python with hmac/hashlib,
    // following compute_signature; the first three are also the published values.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php";
    const QUERY: &str = "foo=1&bar=2";
    /// Twilio's docs ("Webhooks security"): these parameters at
    /// `https://mycompany.com/myapp.php?foo=1&bar=2`, auth token `12345`.
    const DOCS_BODY: &[u8] =
        b"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212";
    const DOCS_SIG: &str = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
    /// twilio-python's tests/unit/test_request_validator.py: the same with `+14158675309`.
    const LIB_BODY: &[u8] =
        b"To=%2B18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
    const LIB_SIG: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    /// twilio-python's test of repeated names: values of one name are sorted too.
    const DUPLICATE_SIG: &str = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
    /// twilio-python's JSON-body test: signed over the URL with `bodySHA256`, no parameters.
    const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const JSON_SIG: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";
    /// The docs example signed with a second auth token.
    const SECONDARY: &str = "secondary-token";
    const SECONDARY_SIG: &str = "kjhpaLhVdPJwP5lPU+pqI+Xa4KE=";

    fn twilio_at(url: &str, tokens: &[&str]) -> Verifier {
        let mut s = settings(tokens);
        s.public_url = Some(reqwest::Url::parse(url).unwrap());
        verifier(build(s).unwrap())
    }

    fn twilio(tokens: &[&str]) -> Verifier {
        twilio_at(URL, tokens)
    }

    fn form_headers(signature: &str) -> http::HeaderMap {
        headers(&[
            ("X-Twilio-Signature", signature),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ])
    }

    fn request<'a>(h: &'a http::HeaderMap, query: Option<&'a str>, body: &'a [u8]) -> WebhookRequest<'a> {
        WebhookRequest { query, ..post(h, body) }
    }

    fn verdict(v: &Verifier, h: &http::HeaderMap, query: Option<&str>, body: &[u8]) -> Result<(), Rejection> {
        delivered(v.verify(request(h, query, body), &SystemClock)).map(|_| ())
    }

    #[test]
    fn accepts_the_documented_examples() {
        verdict(&twilio(&[TOKEN]), &form_headers(DOCS_SIG), Some(QUERY), DOCS_BODY).unwrap();
        verdict(&twilio(&[TOKEN]), &form_headers(LIB_SIG), Some(QUERY), LIB_BODY).unwrap();
    }

    #[test]
    fn parameters_are_sorted_by_name_then_value() {
        let h = form_headers(DUPLICATE_SIG);
        for body in [
            &b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"[..],
            b"Digits=1234&Digits=5678&SidAccount=AC123&Sid=CA123",
            b"Digits=5678&Sid=CA123&Digits=1234&SidAccount=AC123",
            // twilio-python signs sorted(set(values)): a repeated identical pair counts once.
            b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
        ] {
            verdict(&twilio(&[TOKEN]), &h, Some(QUERY), body).unwrap();
        }
        // Dropping or changing one of the repeated values breaks the signature.
        for body in [
            &b"Sid=CA123&SidAccount=AC123&Digits=5678"[..],
            b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1235",
        ] {
            assert_eq!(
                verdict(&twilio(&[TOKEN]), &h, Some(QUERY), body),
                Err(Rejection::SignatureMismatch)
            );
        }
    }

    #[test]
    fn form_values_are_decoded_and_empty_ones_kept() {
        // Body "hello world & more", From "+1 555", Empty "" at https://example.com/hook.
        let h = headers(&[
            ("x-twilio-signature", "5fVpmG5nKmsAXU1udlbAmkq+A/k="),
            ("content-type", "Application/X-WWW-Form-URLEncoded; charset=utf-8"),
        ]);
        let v = twilio_at("https://example.com/hook", &[TOKEN]);
        verdict(&v, &h, None, b"Body=hello+world+%26+more&From=%2B1%20555&Empty=").unwrap();
        verdict(&v, &h, None, b"Empty&&From=%2b1+555&Body=hello%20world%20%26%20more&").unwrap();
        assert_eq!(
            verdict(&v, &h, None, b"Body=hello+world+%26+more&From=%2B1%20555"),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn tries_the_url_with_and_without_the_port() {
        // twilio-python's port tests: each signature is over the spelling named.
        let cases = [
            // signed with :443, configured without a port
            ("https://mycompany.com/myapp.php", "kvajT1Ptam85bY51eRf/AJRuM3w="),
            // signed with :80, configured without a port
            ("http://mycompany.com/myapp.php", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
            // signed without a port, configured with :1234
            ("https://mycompany.com:1234/myapp.php", LIB_SIG),
            // signed with :1234, configured with :1234
            ("http://mycompany.com:1234/myapp.php", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
            // signed without a port, configured with the default one (which Url drops)
            ("https://mycompany.com:443/myapp.php", LIB_SIG),
        ];
        for (url, sig) in cases {
            verdict(&twilio_at(url, &[TOKEN]), &form_headers(sig), Some(QUERY), LIB_BODY)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        // But the scheme and host are not negotiable.
        for url in ["http://mycompany.com/myapp.php", "https://mycompany.org/myapp.php"] {
            assert_eq!(
                verdict(&twilio_at(url, &[TOKEN]), &form_headers(LIB_SIG), Some(QUERY), LIB_BODY),
                Err(Rejection::SignatureMismatch),
                "{url}"
            );
        }
    }

    #[test]
    fn a_bare_host_is_tried_with_and_without_its_slash() {
        let v = twilio_at("https://example.com", &[TOKEN]);
        for (sig, query) in [
            ("BmQF5eX2QBhg5SBxcmaMeWKH3z8=", None),
            ("zKbx40JiTqctzeMmt/+JoplOSsE=", None),
            ("dKZjr10m6jQWNcyWi7hMysuowGw=", Some("x=1")),
        ] {
            verdict(&v, &form_headers(sig), query, b"A=1").unwrap();
        }
        // A path is used as configured.
        let v = twilio_at("https://example.com/hook", &[TOKEN]);
        assert_eq!(
            verdict(&v, &form_headers("6ww2fX0+fIJ+RoSMqrY858wGUu8="), Some("x=1"), b""),
            Ok(())
        );
        let v = twilio_at("https://example.com/hook/", &[TOKEN]);
        assert_eq!(
            verdict(&v, &form_headers("6ww2fX0+fIJ+RoSMqrY858wGUu8="), Some("x=1"), b""),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn json_bodies_are_bound_by_body_sha256() {
        let h = headers(&[("x-twilio-signature", JSON_SIG), ("content-type", "application/json")]);
        let query = format!("{QUERY}&bodySHA256={JSON_HASH}");
        let v = twilio(&[TOKEN]);
        verdict(&v, &h, Some(&query), JSON_BODY).unwrap();
        // The hash is enforced even if the content type claims a form.
        let as_form = form_headers(JSON_SIG);
        verdict(&v, &as_form, Some(&query), JSON_BODY).unwrap();
        assert_eq!(
            verdict(&v, &as_form, Some(&query), b""),
            Err(Rejection::SignatureMismatch)
        );
        for tampered in [
            &br#"{"property": "value", "boolean": false}"#[..],
            br#"{"property":"value","boolean":true}"#,
            b"",
        ] {
            assert_eq!(
                verdict(&v, &h, Some(&query), tampered),
                Err(Rejection::SignatureMismatch)
            );
        }
        // A different hash in the query is a different URL.
        let other_hash = hex::encode(Sha256::digest(b"{}"));
        assert_eq!(
            verdict(&v, &h, Some(&format!("{QUERY}&bodySHA256={other_hash}")), b"{}"),
            Err(Rejection::SignatureMismatch)
        );
        for bad in [
            format!("{QUERY}&bodySHA256=xyz"),
            format!("{QUERY}&bodySHA256="),
            format!("{QUERY}&bodySHA256={}", &JSON_HASH[..62]),
            format!("{QUERY}&bodySHA256={JSON_HASH}&bodySHA256={JSON_HASH}"),
        ] {
            assert_eq!(
                verdict(&v, &h, Some(&bad), JSON_BODY),
                Err(Rejection::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_body_the_signature_does_not_cover_is_refused() {
        // Signed over the URL alone: fine with no body, refused with one that is neither a form
        // nor bound by bodySHA256.
        let v = twilio_at("https://example.com/hook", &[TOKEN]);
        let sig = "6ww2fX0+fIJ+RoSMqrY858wGUu8=";
        let json = headers(&[("x-twilio-signature", sig), ("content-type", "application/json")]);
        verdict(&v, &json, Some("x=1"), b"").unwrap();
        assert_eq!(
            verdict(&v, &json, Some("x=1"), br#"{"forged":true}"#),
            Err(Rejection::SignatureMismatch)
        );
        let untyped = headers(&[("x-twilio-signature", sig)]);
        assert_eq!(
            verdict(&v, &untyped, Some("x=1"), b"A=1"),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampering_and_a_wrong_token() {
        let v = twilio(&[TOKEN]);
        let h = form_headers(DOCS_SIG);
        let changed_value =
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1235&From=%2B14158675310&To=%2B18005551212";
        let extra_param =
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212&X=1";
        // `+` unescaped decodes to a space, so this is a different Caller.
        let unescaped_plus =
            b"CallSid=CA1234567890ABCDE&Caller=+14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212";
        for body in [&changed_value[..], extra_param, unescaped_plus] {
            assert_eq!(verdict(&v, &h, Some(QUERY), body), Err(Rejection::SignatureMismatch));
        }
        for query in [None, Some("foo=1&bar=3"), Some("bar=2&foo=1")] {
            assert_eq!(verdict(&v, &h, query, DOCS_BODY), Err(Rejection::SignatureMismatch));
        }
        assert_eq!(
            verdict(&twilio(&["54321"]), &h, Some(QUERY), DOCS_BODY),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_missing_and_malformed_signatures() {
        let v = twilio(&[TOKEN]);
        let missing = headers(&[("content-type", FORM)]);
        assert_eq!(
            verdict(&v, &missing, Some(QUERY), DOCS_BODY),
            Err(Rejection::MissingSignature)
        );
        let sha256_sized = BASE64.encode([0u8; 32]);
        let hex = hex::encode(BASE64.decode(DOCS_SIG).unwrap());
        for bad in [
            "",
            "not base64",
            "GvWf1cFY/Q7PnoempGyD5oXAezc",
            "GvWf1cFY_Q7PnoempGyD5oXAezc=",
            "GvWf1cFY/Q7PnoempGyD5oXAez==",
            sha256_sized.as_str(),
            hex.as_str(),
        ] {
            assert_eq!(
                verdict(&v, &form_headers(bad), Some(QUERY), DOCS_BODY),
                Err(Rejection::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn rotation_accepts_either_auth_token() {
        for sig in [DOCS_SIG, SECONDARY_SIG] {
            for tokens in [[TOKEN, SECONDARY], [SECONDARY, TOKEN]] {
                verdict(&twilio(&tokens), &form_headers(sig), Some(QUERY), DOCS_BODY).unwrap();
            }
        }
    }

    #[test]
    fn records_the_idempotency_token() {
        let mut h = form_headers(DOCS_SIG);
        let v = twilio(&[TOKEN]);
        let d = delivered(v.verify(request(&h, Some(QUERY), DOCS_BODY), &SystemClock)).unwrap();
        assert_eq!(d.delivery_id(), None);
        h.insert(DELIVERY_HEADER, "e8b2a4b0-5c1e-4c1b-9a54-2f3c1d0e9f7a".parse().unwrap());
        let d = delivered(v.verify(request(&h, Some(QUERY), DOCS_BODY), &SystemClock)).unwrap();
        assert_eq!(d.delivery_id(), Some("e8b2a4b0-5c1e-4c1b-9a54-2f3c1d0e9f7a"));
    }

    #[test]
    fn public_url_errors_name_the_key_and_not_the_url() {
        let build_at = |url: Option<&str>| {
            let mut s = settings(&[TOKEN]);
            s.public_url = url.map(|u| reqwest::Url::parse(u).unwrap());
            build(s).map(|_| ()).unwrap_err()
        };
        for url in [
            None,
            Some("https://user:hunter2@example.com/hook"),
            Some("https://example.com/hook?x=1"),
            Some("https://example.com/hook#rc=2"),
            Some("ftp://example.com/hook"),
        ] {
            let e = build_at(url);
            assert_eq!(e.key, "route[0].public_url", "{url:?}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }
}
