//! The real ingress (`ingress::handler::Ingress`) over an in-memory queue, and the invariants of
//! its accept path:
//!
//! * a request that fails verification is never queued: a request that was not signed, or whose
//!   signature, body, timestamp or id was changed after signing, is refused (or at least not
//!   queued), and whatever is queued also verifies with a separately built verifier;
//! * a correctly signed POST is not refused (no 401/403/405) unless a fuzzed header collides with
//!   one the scheme reads;
//! * every queued envelope round-trips ([`crate::envelope::assert_round_trips`]) and carries the
//!   body as sent (routes without input mapping) or valid JSON (routes with one).

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::SystemTime,
};

use aws_lambda_events::{encodings::Body, event::lambda_function_urls::LambdaFunctionUrlRequest};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use hookrelay::{
    config::Config,
    dedup::{DeliveryLedger, LedgerError},
    delivery::call::{CallError, Delivered},
    delivery::targets::JobTarget,
    foundation::secret::SecretResolver,
    inbound::verify::{Decision, SystemClock, Verifier, WebhookRequest},
    queue::{JobQueue, MessageKeys, QueueError},
    wire::envelope::{Envelope, Payload},
};
use http::Response;
use http::{HeaderName, HeaderValue, Method};
use ingress::handler::Ingress;

use crate::{
    input::FuzzRequest,
    signing::{self, Mutation, Scheme, SchemeFixture, SCHEMES},
};

/// A queue that keeps what the ingress queued during the current input.
#[derive(Debug, Default)]
pub struct RecordingQueue {
    pub queued: Mutex<Vec<Envelope>>,
}

/// The ingress's handle on a [`RecordingQueue`] the harness keeps too.
#[derive(Debug, Clone, Default)]
pub struct SharedQueue(pub Arc<RecordingQueue>);

impl JobQueue for SharedQueue {
    async fn enqueue(&self, envelope: &Envelope, _keys: &MessageKeys) -> Result<String, QueueError> {
        let mut queued = self.0.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queued.push(envelope.clone());
        Ok(format!("m-{}", queued.len()))
    }
}

impl RecordingQueue {
    pub fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// No de-duplication: every input starts from the same state (a ledger would grow without bound
/// and make outcomes depend on earlier inputs).
#[derive(Debug, Default)]
pub struct NoLedger;

impl DeliveryLedger for NoLedger {
    async fn seen(&self, _key: &str, _now: SystemTime) -> Result<Option<String>, LedgerError> {
        Ok(None)
    }

    async fn record(&self, _key: &str, _job_id: &str, _expires: SystemTime) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// Never called: the fuzzed routes are all asynchronous.
pub struct NoTarget;

impl JobTarget for NoTarget {
    async fn deliver(&self, _envelope: &Envelope) -> Result<Delivered, CallError> {
        Err(CallError::Algorithm("no target in the fuzz harness".into()))
    }
}

/// How a route's requests reach the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The body, unchanged.
    Plain,
    /// A filter on the body and a header, then an input template (body pointers, header, method).
    FilteredMapped,
    /// A filter with numeric and `anything-but` tests, then a JSON pointer into the body.
    Pointer,
}

pub const VARIANTS: [Variant; 3] = [Variant::Plain, Variant::FilteredMapped, Variant::Pointer];

/// One fuzzed route: its scheme and how it filters and maps.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub scheme: Scheme,
    pub variant: Variant,
}

impl RouteSpec {
    pub fn path(self) -> String {
        let variant = match self.variant {
            Variant::Plain => "plain",
            Variant::FilteredMapped => "mapped",
            Variant::Pointer => "pointer",
        };
        format!("/{variant}/{}", self.scheme.name())
    }

    fn toml(self, wrong: bool) -> String {
        let extra = match self.variant {
            Variant::Plain => "",
            Variant::FilteredMapped => {
                "filter = { body = { action = [{ prefix = \"open\" }, \"closed\", { equals-ignore-case = \"MERGED\" }] }, \
                 headers = { \"x-fuzz-kind\" = [{ exists = false }, \"a\"] } }\n\
                 input = { action = \"/action\", number = \"/pull_request/number\", kind = \"header:x-fuzz-kind\", \
                 method = \"method\", delivery = \"delivery_id\" }"
            }
            Variant::Pointer => {
                "filter = { body = { size = [{ numeric = [\">=\", 0, \"<\", 1e9] }], type = [{ anything-but = [\"ping\"] }] } }\n\
                 input = \"/payload\""
            }
        };
        format!(
            "[[route]]\npath = \"{}\"\nalgorithm = \"fuzz/Target/1.0.0\"\ndedup_window_secs = 0\n{}\n{extra}\n",
            self.path(),
            self.scheme.route_toml(wrong)
        )
    }
}

/// Every (scheme, variant) pair, in a fixed order (byte 0 of an input picks one).
pub fn routes() -> Vec<RouteSpec> {
    VARIANTS
        .iter()
        .flat_map(|&variant| SCHEMES.iter().map(move |&scheme| RouteSpec { scheme, variant }))
        .collect()
}

/// The whole config of the fuzzed ingress (`wrong`: every secret replaced by another one).
pub fn config_toml(wrong: bool) -> String {
    routes().iter().map(|r| r.toml(wrong)).collect()
}

pub type FuzzIngress = Ingress<SharedQueue, NoLedger, NoTarget>;

/// The ingress under test and, per route, a verifier built on its own (for the cross-check) and
/// one built with the wrong secrets.
pub struct Harness {
    pub ingress: FuzzIngress,
    /// What the ingress queued for the current input.
    pub queue: Arc<RecordingQueue>,
    pub routes: Vec<RouteSpec>,
    pub verifiers: Vec<Verifier>,
    pub wrong_verifiers: Vec<Verifier>,
}

impl Harness {
    /// Built once per process, as the function builds it at cold start.
    pub fn get() -> &'static Harness {
        static HARNESS: OnceLock<Harness> = OnceLock::new();
        HARNESS.get_or_init(|| {
            signing::set_secret_env();
            let config = Config::from_toml(&config_toml(false)).unwrap_or_else(|e| panic!("fuzz config: {e}"));
            let wrong = Config::from_toml(&config_toml(true)).unwrap_or_else(|e| panic!("fuzz config: {e}"));
            let resolver = SecretResolver::new(None);
            crate::block_on(async {
                let mut verifiers = Vec::new();
                let mut wrong_verifiers = Vec::new();
                for (route, wrong_route) in config.routes.iter().zip(&wrong.routes) {
                    verifiers.push(Verifier::for_route(route, &resolver).await.expect("verifier"));
                    wrong_verifiers.push(Verifier::for_route(wrong_route, &resolver).await.expect("verifier"));
                }
                let queue = SharedQueue::default();
                let ingress = Ingress::from_config(&config, &resolver, queue.clone(), NoLedger, None)
                    .await
                    .unwrap_or_else(|e| panic!("fuzz ingress: {e}"));
                Harness {
                    ingress,
                    queue: queue.0,
                    routes: routes(),
                    verifiers,
                    wrong_verifiers,
                }
            })
        })
    }
}

/// One fuzzed request, signed (or not) and mutated, as parts any entry point can send.
#[derive(Debug, Clone)]
pub struct Case {
    pub route_index: usize,
    pub route: RouteSpec,
    pub method: Method,
    pub path: String,
    /// The raw query string (validated by [`Case::request`], dropped if it is no valid URI part).
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub signed: bool,
    pub mutation: Mutation,
    /// Whether a fuzzed extra header shares its name with one the scheme reads.
    pub collides: bool,
}

impl Case {
    pub fn new(input: &FuzzRequest<'_>, now: SystemTime) -> Case {
        let harness = Harness::get();
        let route_index = input.route as usize % harness.routes.len();
        let route = harness.routes[route_index];
        let mutation = if input.sign {
            Mutation::decode(input.mutation_kind, input.mutation_at)
        } else {
            Mutation::None
        };
        let signed = if input.sign {
            signing::sign(route.scheme, input.body, input.form, input.ed25519, mutation, now)
        } else {
            signing::Signed {
                body: input.body.to_vec(),
                ..Default::default()
            }
        };
        let mut headers = http::HeaderMap::new();
        let content_type = match input.form {
            true => "application/x-www-form-urlencoded",
            false => "application/json",
        };
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for (name, value) in &signed.headers {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        let mut collides = false;
        for (name, value) in &input.headers {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
                collides |= route.scheme.headers_read().contains(&name.as_str()) || name == http::header::CONTENT_TYPE;
                headers.append(name, value);
            }
        }
        let query = match (&signed.query, input.query) {
            (Some(signed), _) => Some(signed.clone()),
            (None, Some(q)) => Some(String::from_utf8_lossy(q).into_owned()),
            (None, None) => None,
        };
        Case {
            route_index,
            route,
            method: if input.get { Method::GET } else { Method::POST },
            path: route.path(),
            query,
            headers,
            body: signed.body,
            signed: input.sign,
            mutation,
            collides,
        }
    }

    /// Whether this request is authentic: `Some(true)` signed and not mutated in a way the scheme
    /// notices, or on a `verify = "none"` route; `Some(false)` unsigned or mutated in what the
    /// scheme authenticates; `None` when the mutation may or may not change that.
    pub fn authentic(&self) -> Option<bool> {
        if self.route.scheme == Scheme::None {
            return Some(true);
        }
        if !self.signed {
            return Some(false);
        }
        self.route
            .scheme
            .broken_by(self.mutation, self.form())
            .map(|broken| !broken)
    }

    fn form(&self) -> bool {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"))
    }

    /// The function URL event AWS would send for this case (payload format 2.0): the query as
    /// sent, a body that is not UTF-8 base64-encoded, as a function URL does.
    pub fn event(&self) -> LambdaFunctionUrlRequest {
        let (body, is_base64_encoded) = match std::str::from_utf8(&self.body) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => (BASE64.encode(&self.body), true),
        };
        // Built field by field: the event types are `#[non_exhaustive]`.
        let mut event = LambdaFunctionUrlRequest::default();
        event.version = Some("2.0".into());
        event.raw_path = Some(self.path.clone());
        event.raw_query_string = Some(self.query.clone().unwrap_or_default());
        event.headers = self.headers.clone();
        event.body = Some(body);
        event.is_base64_encoded = is_base64_encoded;
        event.request_context.http.method = Some(self.method.as_str().to_owned());
        event.request_context.http.path = Some(self.path.clone());
        event.request_context.time_epoch = 1_700_000_000_000;
        event
    }

    fn webhook(&self) -> WebhookRequest<'_> {
        WebhookRequest {
            method: &self.method,
            headers: &self.headers,
            query: self.query.as_deref(),
            body: &self.body,
        }
    }

    /// Checks the invariants on the ingress's answer and what it queued.
    pub fn check(&self, response: &Response<Body>, queued: &[Envelope]) {
        let harness = Harness::get();
        let status = response.status().as_u16();
        assert!(queued.len() <= 1, "one request queued {} jobs", queued.len());
        if let Some(job) = queued.first() {
            assert!(
                self.authentic() != Some(false),
                "an inauthentic request was queued: {:?} {:?} (status {status})",
                self.route,
                self.mutation
            );
            let verified = harness.verifiers[self.route_index].verify(self.webhook(), &SystemClock);
            assert!(
                matches!(verified, Ok(Decision::Deliver(_))),
                "queued, but its own verifier says {verified:?}"
            );
            if self.route.scheme != Scheme::None {
                let wrong = harness.wrong_verifiers[self.route_index].verify(self.webhook(), &SystemClock);
                assert!(
                    wrong.is_err(),
                    "accepted by a verifier with other secrets too: {wrong:?}"
                );
            }
            assert_eq!(status, 200, "queued but answered {status}");
            crate::envelope::assert_round_trips(job);
            assert_eq!(job.route, self.route.path());
            match self.route.variant {
                Variant::Plain => assert_eq!(job.payload.to_bytes().ok().as_deref(), Some(&self.body[..])),
                _ => {
                    let Payload::Text(text) = &job.payload else {
                        panic!("a mapped input is not text: {:?}", job.payload)
                    };
                    serde_json::from_str::<serde_json::Value>(text).expect("a mapped input is JSON");
                }
            }
        }
        if self.authentic() == Some(true) && self.method == Method::POST && !self.collides {
            assert!(
                !matches!(status, 401 | 403 | 405),
                "a correctly signed request was refused with {status}: {:?} {}",
                self.route,
                String::from_utf8_lossy(response.body().as_ref())
            );
        }
        if self.authentic() == Some(false) {
            assert!(queued.is_empty());
        }
    }
}

/// Decodes, signs, sends as a function URL event through the ingress's own event conversion
/// (`ingress::event::into_request`) and `Ingress::handle`, and checks one input.
pub fn run_ingress(data: &[u8]) {
    let Some(input) = FuzzRequest::decode(data) else {
        return;
    };
    let harness = Harness::get();
    let case = Case::new(&input, SystemTime::now());
    let request = ingress::event::into_request(case.event())
        .unwrap_or_else(|e| panic!("an event built from a request could not be read back: {e}"));
    let response = crate::block_on(harness.ingress.handle(request));
    let queued = harness.queue.take();
    if trace() {
        eprintln!(
            "route {} signed {} mutation {:?} -> {} queued {} {}",
            case.path,
            case.signed,
            case.mutation,
            response.status().as_u16(),
            queued.len(),
            String::from_utf8_lossy(response.body().as_ref())
        );
    }
    case.check(&response, &queued);
}

/// Any bytes as a function URL event: read the way the runtime reads it, converted by the ingress
/// (`ingress::event::into_request`), answered by `Ingress::handle` and back into a function URL
/// response. Nothing may panic; an event that cannot be read is a 400 with nothing queued; and
/// whatever is queued verifies with its route's separately built verifier, on the request as
/// the event describes it (its raw query included).
pub fn run_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<LambdaFunctionUrlRequest>(data) else {
        return;
    };
    let harness = Harness::get();
    let request = match ingress::event::into_request(event) {
        Ok(request) => request,
        Err(_) => {
            assert!(harness.queue.take().is_empty());
            return;
        }
    };
    let method = request.method().clone();
    let headers = request.headers().clone();
    let query = ingress::event::raw_query(request.extensions()).map(str::to_owned);
    let path = request.uri().path().to_owned();
    let body = request.body().clone();
    let response = crate::block_on(harness.ingress.handle(request));
    let status = response.status().as_u16();
    let _ = ingress::event::into_response(response);
    let queued = harness.queue.take();
    assert!(queued.len() <= 1, "one event queued {} jobs", queued.len());
    if queued.is_empty() {
        return;
    }
    assert_eq!(status, 200, "queued but answered {status}");
    let index = harness
        .routes
        .iter()
        .position(|r| hookrelay::inbound::route::normalize_path(&path) == r.path())
        .unwrap_or_else(|| panic!("queued for `{path}`, which is no route"));
    let webhook = WebhookRequest {
        method: &method,
        headers: &headers,
        query: query.as_deref(),
        body: &body,
    };
    let verified = harness.verifiers[index].verify(webhook, &SystemClock);
    assert!(
        matches!(verified, Ok(Decision::Deliver(_))),
        "queued, but its own verifier says {verified:?}"
    );
    crate::envelope::assert_round_trips(&queued[0]);
}

/// `HOOKRELAY_FUZZ_TRACE=1`: one line per input on stderr (to see what a corpus reaches).
pub fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("HOOKRELAY_FUZZ_TRACE").is_some())
}
