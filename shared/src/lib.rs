//! hookrelay's library: everything the `ingress`, `s3-relay` and `worker` functions do, which are
//! thin wiring around it, and the `hookrelay` CLI.
//!
//! The modules are layers; each uses only the layers listed above it (`tests/layers.rs` fails
//! the build's tests otherwise), so a change low in the list cannot depend on one high in it:
//!
//! | layer | modules | what it is |
//! |---|---|---|
//! | 0 | [`foundation`] | the cold-start error, secrets, the TLS/HTTP stack the SDK shares |
//! | 1 | [`filter`] | the EventBridge pattern engine: compile, match, numerics |
//! | 2 | [`config`] | the TOML config, parsed and validated once at cold start |
//! | 3 | [`inbound`] | what arrives: signature verification, routing and input mapping, S3 events |
//! | 4 | [`wire`] | what travels: the queue envelope, dead-letter attributes, the callback body |
//! | 5 | [`delivery`] | where jobs go: the target port, call errors and retry classes, the adapters |
//! | 6 | [`queue`], [`dedup`] | the jobs queue and the de-duplication ledger: ports with their AWS adapters |
//! | 7 | [`startup`] | cold-start wiring: logging, the config source, init errors to the Runtime API |
//! | 8 | [`redrive`] | operator tools over the queues |
//!
//! [`inbound::verify::Verifier::verify`] is the only way to obtain a verified request, and only a
//! verified request can become a webhook [`wire::envelope::Envelope`]. See `ARCHITECTURE.md` for
//! the data flow and `docs/wire-formats.md` for what goes over the wire.

#![warn(missing_docs)]

pub mod foundation;

pub mod filter;

pub mod config;

pub mod inbound;

pub mod wire;

pub mod delivery;

pub mod dedup;
pub mod queue;

pub mod startup;

pub mod redrive;
