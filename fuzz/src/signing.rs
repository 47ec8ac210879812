//! A valid signature for each verification scheme, computed here from the providers' documented
//! algorithms (the same ones tests/vectors checks against the providers' own libraries), and the
//! semantic mutations after which no request may verify.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use ed25519_dalek::Signer;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The secret every HMAC scheme is configured with (GitHub's documentation example).
pub const SECRET: &str = "It's a Secret to Everybody";
/// A different secret: a verifier built with it must refuse whatever the real one accepted.
pub const WRONG_SECRET: &str = "It's a Secret to Nobody";
/// The raw Standard Webhooks signing key (configured as `whsec_` + its base64).
pub const SW_KEY: &[u8] = b"standard-webhooks fuzz key 32 b!";
/// The Ed25519 seed of the Standard Webhooks `v1a` key pair.
pub const SW_SEED: [u8; 32] = [7; 32];
pub const BASIC_USER_PASSWORD: &str = "fuzz:pa55word";
pub const META_VERIFY_TOKEN: &str = "meta-verify-token";
pub const TWILIO_URL: &str = "https://example.com/twilio";
pub const DELIVERY_ID: &str = "fuzz-delivery-1";
/// The generic `hmac` scheme's signature and timestamp headers.
pub const HMAC_HEADER: &str = "x-fuzz-signature";
pub const HMAC_TIMESTAMP: &str = "x-fuzz-timestamp";

/// The schemes are the library's own ([`hookrelay::config::SchemeKind`]); what the fuzzer needs of each on top
/// (its route keys, the headers it reads, what a mutation breaks) is [`SchemeFixture`].
pub use hookrelay::config::SchemeKind as Scheme;

/// Every scheme, in the library's order.
pub const SCHEMES: [Scheme; 13] = Scheme::ALL;

/// What the fuzzer changes after signing. Each applicable mutation changes what the scheme
/// authenticates, so the request must be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    None,
    /// Flip one bit of the signature (the MAC, the Ed25519 signature, the token or credentials).
    SignatureBit(u8),
    /// Flip one bit of the body after signing.
    BodyBit(u8),
    /// Send another timestamp than the one signed (one second later: still within tolerance).
    Timestamp,
    /// Send another delivery id than the one signed (Standard Webhooks signs it).
    Id,
}

impl Mutation {
    /// Byte 2 of the input chooses the kind (most inputs stay unmutated), byte 3 the position.
    pub fn decode(kind: u8, at: u8) -> Mutation {
        match kind % 8 {
            1 => Mutation::SignatureBit(at),
            2 => Mutation::BodyBit(at),
            3 => Mutation::Timestamp,
            4 => Mutation::Id,
            _ => Mutation::None,
        }
    }
}

/// The fuzzer's knowledge of a scheme: how to configure a route for it and what it reads.
pub trait SchemeFixture: Copy {
    /// The route's verification keys (TOML lines), with secrets read from the environment
    /// variables [`set_secret_env`] sets. `wrong` configures [`WRONG_SECRET`] instead.
    fn route_toml(self, wrong: bool) -> String;
    /// The headers this scheme reads: a fuzzed extra header with one of these names may
    /// legitimately change the outcome of a signed request.
    fn headers_read(self) -> &'static [&'static str];
    /// Whether `mutation` breaks this scheme's signature: `Some(true)` it must (what the scheme
    /// authenticates changed), `Some(false)` it must not (the scheme does not read what changed),
    /// `None` it may or may not.
    fn broken_by(self, mutation: Mutation, form: bool) -> Option<bool>;
}

impl SchemeFixture for Scheme {
    fn route_toml(self, wrong: bool) -> String {
        let env = if wrong { "FUZZ_WRONG" } else { "FUZZ" };
        let secrets = format!("secrets = [\"env:{env}_SECRET\"]");
        let extra = match self {
            Scheme::StandardWebhooks => {
                format!("secrets = [\"env:{env}_SW_SECRET\"]\npublic_keys = [\"env:{env}_SW_PUBLIC_KEY\"]")
            }
            Scheme::Meta => format!("{secrets}\nverify_token = \"env:FUZZ_META_TOKEN\""),
            Scheme::Twilio => format!("{secrets}\npublic_url = \"{TWILIO_URL}\""),
            Scheme::Hmac => format!(
                "{secrets}\nhmac = {{ header = \"{HMAC_HEADER}\", algorithm = \"sha256\", encoding = \"base64\", \
                 prefix = \"sha256=\", content = \"{{timestamp}}.{{header:x-fuzz-id}}.{{body}}\", \
                 timestamp_header = \"{HMAC_TIMESTAMP}\" }}"
            ),
            Scheme::Basic => format!("secrets = [\"env:{env}_BASIC\"]"),
            Scheme::None => String::new(),
            _ => secrets,
        };
        format!("verify = \"{}\"\n{extra}", self.name())
    }

    fn headers_read(self) -> &'static [&'static str] {
        match self {
            Scheme::GitHub | Scheme::Meta => &["x-hub-signature-256", "x-github-delivery"],
            Scheme::Stripe => &["stripe-signature"],
            Scheme::Slack => &["x-slack-signature", "x-slack-request-timestamp"],
            Scheme::StandardWebhooks => &[
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "svix-id",
                "svix-timestamp",
                "svix-signature",
            ],
            Scheme::Shopify => &["x-shopify-hmac-sha256", "x-shopify-webhook-id"],
            Scheme::Zoom => &["x-zm-signature", "x-zm-request-timestamp", "x-zm-trackingid"],
            Scheme::Twilio => &["x-twilio-signature", "content-type", "i-twilio-idempotency-token"],
            Scheme::Cal => &["x-cal-signature-256"],
            Scheme::Hmac => &[HMAC_HEADER, HMAC_TIMESTAMP, "x-fuzz-id"],
            Scheme::Token => &["x-webhook-token"],
            Scheme::Basic => &["authorization"],
            Scheme::None => &[],
        }
    }

    fn broken_by(self, mutation: Mutation, form: bool) -> Option<bool> {
        match mutation {
            Mutation::None => Some(false),
            Mutation::SignatureBit(_) => Some(self != Scheme::None),
            // Twilio signs form parameters, not bytes: `%4a` and `%4A` are the same parameter,
            // `a=1&b=2` and `b=2&a=1` the same parameters.
            Mutation::BodyBit(_) if self == Scheme::Twilio && form => None,
            Mutation::BodyBit(_) => Some(!matches!(self, Scheme::Token | Scheme::Basic | Scheme::None)),
            Mutation::Timestamp => Some(matches!(
                self,
                Scheme::Stripe | Scheme::Slack | Scheme::Zoom | Scheme::StandardWebhooks | Scheme::Hmac
            )),
            Mutation::Id => Some(matches!(self, Scheme::StandardWebhooks | Scheme::Hmac)),
        }
    }
}

/// Sets the environment variables the routes' `env:` secret references read (idempotent).
pub fn set_secret_env() {
    let public_key = ed25519_dalek::SigningKey::from_bytes(&SW_SEED).verifying_key();
    let vars = [
        ("FUZZ_SECRET", SECRET.to_owned()),
        ("FUZZ_WRONG_SECRET", WRONG_SECRET.to_owned()),
        ("FUZZ_SW_SECRET", format!("whsec_{}", BASE64.encode(SW_KEY))),
        ("FUZZ_WRONG_SW_SECRET", format!("whsec_{}", BASE64.encode(WRONG_SECRET))),
        (
            "FUZZ_SW_PUBLIC_KEY",
            format!("whpk_{}", BASE64.encode(public_key.as_bytes())),
        ),
        (
            "FUZZ_WRONG_SW_PUBLIC_KEY",
            format!(
                "whpk_{}",
                BASE64.encode(
                    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
                        .verifying_key()
                        .as_bytes()
                )
            ),
        ),
        ("FUZZ_BASIC", BASIC_USER_PASSWORD.to_owned()),
        ("FUZZ_WRONG_BASIC", "fuzz:other".to_owned()),
        ("FUZZ_META_TOKEN", META_VERIFY_TOKEN.to_owned()),
    ];
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
}

/// What signing adds to a request: headers (raw bytes; the caller drops what is not a valid
/// header value), and for Twilio the query string that was signed.
#[derive(Debug, Clone, Default)]
pub struct Signed {
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// Replaces the fuzzed query (Twilio signs the URL, and `bodySHA256` for non-form bodies).
    pub query: Option<String>,
    /// The body to send (the signed one, or the mutated one).
    pub body: Vec<u8>,
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn flip(bytes: &mut [u8], at: u8) {
    if bytes.is_empty() {
        return;
    }
    let bit = at as usize % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// `application/x-www-form-urlencoded` decoding, as Twilio's libraries read parameters.
fn form_decode(text: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = text.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_encoding::percent_decode(&spaced).collect()
}

/// Twilio's signed string for a form body: the URL, then each parameter name and value, sorted.
fn twilio_form_params(body: &[u8]) -> Vec<u8> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = body
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(i) => (form_decode(&pair[..i]), form_decode(&pair[i + 1..])),
            None => (form_decode(pair), Vec::new()),
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs.into_iter().flat_map(|(n, v)| [n, v]).flatten().collect()
}

/// Signs `body` for `scheme` at `now`, then applies `mutation`.
pub fn sign(scheme: Scheme, body: &[u8], form: bool, ed25519: bool, mutation: Mutation, now: SystemTime) -> Signed {
    let secret = SECRET.as_bytes();
    let unix = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let signed_ts = unix.to_string();
    let sent_ts = match mutation {
        Mutation::Timestamp => (unix + 1).to_string(),
        _ => signed_ts.clone(),
    };
    let sent_id = match mutation {
        Mutation::Id => format!("{DELIVERY_ID}x"),
        _ => DELIVERY_ID.to_owned(),
    };
    let mut sent_body = body.to_vec();
    if let Mutation::BodyBit(at) = mutation {
        if sent_body.is_empty() {
            sent_body.push(b'x');
        } else {
            flip(&mut sent_body, at);
        }
    }
    // The signature bytes, before their encoding; the mutation flips one of their bits.
    let mut mac: Vec<u8>;
    let mut query = None;
    let encode: fn(&[u8]) -> String;
    match scheme {
        Scheme::GitHub | Scheme::Meta | Scheme::Cal | Scheme::Shopify => {
            mac = hmac_sha256(secret, &[body]);
            encode = if scheme == Scheme::Shopify {
                |b| BASE64.encode(b)
            } else {
                |b| hex::encode(b)
            };
        }
        Scheme::Stripe => {
            mac = hmac_sha256(secret, &[signed_ts.as_bytes(), b".", body]);
            encode = |b| hex::encode(b);
        }
        Scheme::Slack | Scheme::Zoom => {
            mac = hmac_sha256(secret, &[b"v0:", signed_ts.as_bytes(), b":", body]);
            encode = |b| hex::encode(b);
        }
        Scheme::StandardWebhooks => {
            let content = [DELIVERY_ID.as_bytes(), b".", signed_ts.as_bytes(), b".", body].concat();
            mac = match ed25519 {
                true => ed25519_dalek::SigningKey::from_bytes(&SW_SEED)
                    .sign(&content)
                    .to_bytes()
                    .to_vec(),
                false => hmac_sha256(SW_KEY, &[&content]),
            };
            encode = |b| BASE64.encode(b);
        }
        Scheme::Twilio => {
            let (url, params) = match form {
                // Twilio signs the URL with its query: send none (the fuzzed one is replaced).
                true => {
                    query = Some(String::new());
                    (TWILIO_URL.to_owned(), twilio_form_params(body))
                }
                false => {
                    let q = format!("bodySHA256={}", hex::encode(Sha256::digest(body)));
                    let url = format!("{TWILIO_URL}?{q}");
                    query = Some(q);
                    (url, Vec::new())
                }
            };
            mac = hmac_sha1(secret, &[url.as_bytes(), &params]);
            encode = |b| BASE64.encode(b);
        }
        Scheme::Hmac => {
            mac = hmac_sha256(
                secret,
                &[signed_ts.as_bytes(), b".", DELIVERY_ID.as_bytes(), b".", body],
            );
            encode = |b| BASE64.encode(b);
        }
        Scheme::Token => {
            mac = secret.to_vec();
            encode = |b| String::from_utf8_lossy(b).into_owned();
        }
        Scheme::Basic => {
            mac = BASIC_USER_PASSWORD.as_bytes().to_vec();
            encode = |b| BASE64.encode(b);
        }
        Scheme::None => {
            mac = Vec::new();
            encode = |_| String::new();
        }
    }
    if let Mutation::SignatureBit(at) = mutation {
        flip(&mut mac, at);
        if scheme == Scheme::Token && std::str::from_utf8(&mac).is_err() {
            // Keep the token a header value that differs from the secret.
            mac = b"It's a Secret to Everybodz".to_vec();
        }
    }
    let signature = encode(&mac);
    let headers: Vec<(&'static str, String)> = match scheme {
        Scheme::GitHub | Scheme::Meta => vec![
            ("x-hub-signature-256", format!("sha256={signature}")),
            ("x-github-delivery", sent_id),
        ],
        Scheme::Cal => vec![("x-cal-signature-256", signature)],
        Scheme::Shopify => vec![("x-shopify-hmac-sha256", signature), ("x-shopify-webhook-id", sent_id)],
        Scheme::Stripe => vec![("stripe-signature", format!("t={sent_ts},v1={signature}"))],
        Scheme::Slack => vec![
            ("x-slack-request-timestamp", sent_ts),
            ("x-slack-signature", format!("v0={signature}")),
        ],
        Scheme::Zoom => vec![
            ("x-zm-request-timestamp", sent_ts),
            ("x-zm-signature", format!("v0={signature}")),
            ("x-zm-trackingid", sent_id),
        ],
        Scheme::StandardWebhooks => vec![
            ("webhook-id", sent_id),
            ("webhook-timestamp", sent_ts),
            (
                "webhook-signature",
                format!("{},{signature}", if ed25519 { "v1a" } else { "v1" }),
            ),
        ],
        Scheme::Twilio => vec![
            ("x-twilio-signature", signature),
            ("i-twilio-idempotency-token", sent_id),
        ],
        Scheme::Hmac => vec![
            (HMAC_HEADER, format!("sha256={signature}")),
            (HMAC_TIMESTAMP, sent_ts),
            ("x-fuzz-id", sent_id),
        ],
        Scheme::Token => vec![("x-webhook-token", signature)],
        Scheme::Basic => vec![("authorization", format!("Basic {signature}"))],
        Scheme::None => Vec::new(),
    };
    Signed {
        headers: headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect(),
        query,
        body: sent_body,
    }
}
