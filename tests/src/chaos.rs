//! A misbehaving algorithm API for fault-injection tests: an Algorithmia-compatible endpoint on
//! loopback whose answers follow a **seeded** random schedule.
//!
//! It speaks HTTP/1.1 itself (over a raw [`tokio::net::TcpStream`], keep-alive included), so it
//! can do what a framework would not: close a connection without answering. For each call the
//! schedule picks one [`Act`] from `(seed, request body, attempt number of that body)`, so the
//! same seed and the same inputs give the same misbehaviour run after run:
//!
//! - [`Act::Ok`]: `200 {"result": "Hello <input>", "metadata": {...}}`;
//! - [`Act::ServerError`]: a 500, 502 or 503 `{"error": {...}}`;
//! - [`Act::TooManyRequests`]: `429` with `Retry-After: 1`;
//! - [`Act::Slow`]: a `200` sent only after [`ChaosSchedule::slow_for`] (past the worker's call
//!   timeout, so the worker has given up: the target did the work, the caller never saw it);
//! - [`Act::Drop`]: the request is read, then the socket is closed without an answer;
//! - [`Act::Poison`]: a body containing [`POISON_MARKER`] always gets a permanent
//!   `400 AlgorithmError`.
//!
//! From the `calm_after`-th attempt of a body on, the answer is always [`Act::Ok`] (poison
//! excepted): every transient failure ends, so a job that is retried often enough is delivered.
//! Every call is recorded ([`ChaosTarget::calls`]) with its `Idempotency-Key`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util;

/// A request body containing this is a poison job: always answered with a permanent 400.
pub const POISON_MARKER: &str = "poison";

/// What the target did with one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Act {
    Ok,
    /// 500, 502 or 503.
    ServerError(u16),
    /// 429 with `Retry-After: 1`.
    TooManyRequests,
    /// A 200 after [`ChaosSchedule::slow_for`].
    Slow,
    /// Closed the connection without answering.
    Drop,
    /// A permanent 400 `AlgorithmError`.
    Poison,
}

impl Act {
    pub fn label(&self) -> String {
        match self {
            Act::Ok => "200".into(),
            Act::ServerError(code) => code.to_string(),
            Act::TooManyRequests => "429+Retry-After".into(),
            Act::Slow => "slow".into(),
            Act::Drop => "dropped".into(),
            Act::Poison => "400".into(),
        }
    }
}

/// The seeded schedule: relative weights of each misbehaviour.
#[derive(Clone, Debug)]
pub struct ChaosSchedule {
    pub seed: u64,
    pub ok: u32,
    pub server_error: u32,
    pub too_many: u32,
    pub slow: u32,
    pub drop: u32,
    /// How long a slow answer takes (set it past the worker's call timeout).
    pub slow_for: Duration,
    /// From this attempt of a body on, always answer 200 (poison excepted).
    pub calm_after: u32,
}

impl ChaosSchedule {
    /// About half of all first attempts misbehave.
    pub fn new(seed: u64, slow_for: Duration) -> Self {
        Self {
            seed,
            ok: 50,
            server_error: 18,
            too_many: 12,
            slow: 4,
            drop: 12,
            slow_for,
            calm_after: 6,
        }
    }

    /// The act for the `attempt`-th call (1-based) with this body.
    pub fn pick(&self, body: &[u8], attempt: u32) -> Act {
        if contains(body, POISON_MARKER.as_bytes()) {
            return Act::Poison;
        }
        if attempt >= self.calm_after {
            return Act::Ok;
        }
        let mut h = splitmix64(self.seed ^ fnv1a(body));
        h = splitmix64(h ^ u64::from(attempt));
        let total = u64::from(self.ok + self.server_error + self.too_many + self.slow + self.drop).max(1);
        let mut roll = (h % total) as u32;
        for (weight, act) in [
            (self.ok, Act::Ok),
            (
                self.server_error,
                Act::ServerError([500, 502, 503][(h >> 32) as usize % 3]),
            ),
            (self.too_many, Act::TooManyRequests),
            (self.slow, Act::Slow),
            (self.drop, Act::Drop),
        ] {
            if roll < weight {
                return act;
            }
            roll -= weight;
        }
        Act::Ok
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One call received by the chaos target.
#[derive(Clone, Debug)]
pub struct ChaosCall {
    pub path: String,
    pub idempotency_key: Option<String>,
    pub body: Vec<u8>,
    /// 1-based attempt number of this body at the target.
    pub attempt: u32,
    pub act: Act,
    /// For 200s: the whole answer was written to the socket.
    pub answered: bool,
    /// Seconds since the target started.
    pub at: f64,
}

impl ChaosCall {
    /// A 200 the caller could see: answered at once and fully written.
    pub fn delivered(&self) -> bool {
        self.act == Act::Ok && self.answered
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<ChaosCall>,
    attempts: HashMap<Vec<u8>, u32>,
    in_flight: usize,
}

struct Ctx {
    schedule: ChaosSchedule,
    started: Instant,
    inner: Mutex<Inner>,
}

/// The running target. Stops (and cuts its connections) when dropped.
pub struct ChaosTarget {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    task: tokio::task::AbortHandle,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Drop for ChaosTarget {
    fn drop(&mut self) {
        self.task.abort();
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

impl ChaosTarget {
    pub async fn start(schedule: ChaosSchedule) -> ChaosTarget {
        let listener = util::bind(util::any_loopback()).await;
        let addr = listener.local_addr().expect("local_addr");
        let ctx = Arc::new(Ctx {
            schedule,
            started: Instant::now(),
            inner: Mutex::default(),
        });
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (ctx2, conns) = (ctx.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handle = tokio::spawn(serve(ctx2.clone(), stream));
                let mut conns = conns.lock().unwrap();
                conns.retain(|h| !h.is_finished());
                conns.push(handle.abort_handle());
            }
        });
        ChaosTarget {
            addr,
            ctx,
            task: task.abort_handle(),
            connections,
        }
    }

    /// Base URL for `[downstream] base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn schedule(&self) -> &ChaosSchedule {
        &self.ctx.schedule
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<ChaosCall> {
        self.ctx.inner.lock().unwrap().calls.clone()
    }

    pub fn call_count(&self) -> usize {
        self.ctx.inner.lock().unwrap().calls.len()
    }

    /// Calls being answered right now (read, answer not yet written).
    pub fn in_flight(&self) -> usize {
        self.ctx.inner.lock().unwrap().in_flight
    }

    /// How many calls got each act.
    pub fn act_counts(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<Act, usize> = HashMap::new();
        for c in self.ctx.inner.lock().unwrap().calls.iter() {
            *counts.entry(c.act).or_default() += 1;
        }
        let mut out: Vec<(Act, usize)> = counts.into_iter().collect();
        out.sort();
        out.into_iter().map(|(a, n)| (a.label(), n)).collect()
    }
}

/// One parsed request.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Read one request from `stream` (`buf` keeps bytes read past it). `None` on EOF or garbage.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + length].to_vec();
    buf.drain(..body_start + length);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn response(status: u16, reason: &str, extra_headers: &[(&str, &str)], body: &Value) -> Vec<u8> {
    let body = body.to_string();
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra_headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

async fn serve(ctx: Arc<Ctx>, mut stream: TcpStream) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await {
        let header = |name: &str| req.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if req.method != "POST" || !req.path.starts_with("/v1/algo/") {
            let answer = response(404, "Not Found", &[], &json!({"error": {"message": "not found"}}));
            if stream.write_all(&answer).await.is_err() {
                return;
            }
            continue;
        }
        let (index, act) = {
            let mut inner = ctx.inner.lock().unwrap();
            let attempt = {
                let n = inner.attempts.entry(req.body.clone()).or_default();
                *n += 1;
                *n
            };
            let act = ctx.schedule.pick(&req.body, attempt);
            inner.calls.push(ChaosCall {
                path: req.path.clone(),
                idempotency_key: header("idempotency-key"),
                body: req.body.clone(),
                attempt,
                act,
                answered: false,
                at: ctx.started.elapsed().as_secs_f64(),
            });
            inner.in_flight += 1;
            (inner.calls.len() - 1, act)
        };
        let ok = || {
            let input = match serde_json::from_slice::<Value>(&req.body) {
                Ok(Value::String(s)) => s,
                _ => String::from_utf8_lossy(&req.body).into_owned(),
            };
            response(
                200,
                "OK",
                &[],
                &json!({"result": format!("Hello {input}"), "metadata": {"content_type": "text", "duration": 0.001}}),
            )
        };
        let answer = match act {
            Act::Ok => Some(ok()),
            Act::Slow => {
                tokio::time::sleep(ctx.schedule.slow_for).await;
                Some(ok())
            }
            Act::ServerError(code) => Some(response(
                code,
                "Chaos",
                &[],
                &json!({"error": {"message": "chaos: the target is having a bad day"}}),
            )),
            Act::TooManyRequests => Some(response(
                429,
                "Too Many Requests",
                &[("retry-after", "1")],
                &json!({"error": {"message": "chaos: slow down"}}),
            )),
            Act::Poison => Some(response(
                400,
                "Bad Request",
                &[],
                &json!({"error": {"message": "chaos: cannot digest poison", "error_type": "AlgorithmError"}}),
            )),
            Act::Drop => None,
        };
        let written = match &answer {
            Some(bytes) => stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok(),
            None => false,
        };
        {
            let mut inner = ctx.inner.lock().unwrap();
            inner.in_flight -= 1;
            inner.calls[index].answered = written;
        }
        if !written {
            // Dropped on purpose (or the caller left): close without an answer.
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_deterministic_and_calms_down() {
        let s = ChaosSchedule::new(7, Duration::from_secs(3));
        let t = ChaosSchedule::new(7, Duration::from_secs(3));
        for n in 0..200 {
            let body = format!("{{\"n\":{n}}}");
            for attempt in 1..10 {
                assert_eq!(s.pick(body.as_bytes(), attempt), t.pick(body.as_bytes(), attempt));
            }
            assert_eq!(s.pick(body.as_bytes(), s.calm_after), Act::Ok);
        }
        assert_eq!(s.pick(br#"{"poison":true}"#, 99), Act::Poison);
        let acts: std::collections::HashSet<Act> = (0..500).map(|n| s.pick(format!("{n}").as_bytes(), 1)).collect();
        assert!(acts.len() >= 5, "{acts:?}");
    }
}
