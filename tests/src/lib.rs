//! # hookrelay-e2e: a local Lambda harness and the end-to-end tests
//!
//! The real function binaries (`ingress`, `s3-relay`, `worker`) run unmodified, as on Lambda,
//! against loopback emulations of the AWS pieces around them:
//!
//! | module           | emulates                                                              |
//! |------------------|-----------------------------------------------------------------------|
//! | [`runtime_api`]  | the Lambda Runtime API a function process polls                       |
//! | [`function`]     | an execution environment: the binary as a child process, Lambda env    |
//! | [`function_url`] | a Lambda function URL (payload format 2.0, buffered)                   |
//! | [`sqs_source`]   | an SQS event source mapping with `ReportBatchItemFailures`             |
//! | [`moto`]         | SQS, S3, Secrets Manager, DynamoDB (a `moto_server` process) + helpers |
//! | [`algorithm`]    | the downstream Algorithmia-compatible API (demo `Hello` algorithm)     |
//! | [`recorder`]     | a generic HTTP endpoint that records every request (`http` targets)    |
//! | [`stack`]        | the whole pipeline for one test, every piece on its own free port      |
//! | [`chaos`]        | a downstream API misbehaving on a seeded schedule (fault injection)    |
//! | [`tcp_proxy`]    | an outage switch in front of a server (moto) that keeps its state      |
//! | [`webhook`]      | GitHub-signed webhook deliveries                                       |
//! | [`logs`]         | captured process output                                               |
//!
//! ## Running
//!
//! ```sh
//! make venv                                     # .venv with moto[server] (requirements-dev.txt)
//! cargo build --workspace                       # the function binaries the tests spawn
//! cargo test -p hookrelay-e2e --test e2e        # end-to-end tests
//! cargo test -p hookrelay-e2e --test selftest   # the harness's own tests (echo-lambda)
//! ```
//!
//! ## Environment variables
//!
//! - `HOOKRELAY_MOTO_SERVER`: the `moto_server` executable. Default
//!   `<workspace>/.venv/bin/moto_server`. If it is missing the tests fail loudly (never skip).
//! - `HOOKRELAY_BIN_DIR`: directory of the function binaries. Default: the target directory of
//!   the running test executable (`target/debug`). Missing binaries fail with
//!   "run `cargo build --workspace` first".
//! - `HOOKRELAY_E2E_ECHO_LOGS=1`: echo every function's output live, prefixed `[name] `
//!   (it is always captured and printed in a failing test's message).
//! - `RUST_LOG`, `RUST_BACKTRACE`: passed through to the function processes (whose environment
//!   is otherwise only what Lambda would set plus what the test gives).
//!
//! Only loopback is used. Each test starts its own moto, functions and servers, so tests run in
//! parallel; waits poll with an overall deadline ([`util::DEADLINE`]) and never assert on time.

pub mod algorithm;
pub mod chaos;
pub mod function;
pub mod function_url;
pub mod logs;
pub mod moto;
pub mod private_ca;
pub mod recorder;
pub mod runtime_api;
pub mod sqs_source;
pub mod stack;
pub mod tcp_proxy;
pub mod template;
pub mod util;
pub mod webhook;

pub use algorithm::{AlgoRequest, AlgorithmServer, Failure, StrayRequest};
pub use function::{FunctionConfig, FunctionProcess};
pub use function_url::{FunctionUrl, FunctionUrlConfig};
pub use moto::{DedupItem, Moto, Queue, QueueCounts};
pub use private_ca::PrivateCa;
pub use recorder::{CannedReply, RecordedRequest, RecordingServer};
pub use runtime_api::{InitError, InvokeError, RuntimeApi};
pub use sqs_source::{BatchInvocation, BatchOutcome, EventSourceConfig, SqsEventSource};
pub use stack::{Stack, StackOptions};
pub use webhook::{github_signature, GithubDelivery, Reply};
