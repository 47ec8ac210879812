//! Remembering deliveries so provider retries are queued once.
//!
//! Standard SQS queues do not de-duplicate, so the ingress keeps a small ledger (a DynamoDB table
//! with TTL) of the delivery ids it has queued. The ledger is consulted before queueing and
//! written after SQS accepted the message: a failure anywhere can only ever cause a duplicate
//! (which the downstream's `Idempotency-Key` absorbs), never a lost webhook. Writing first would
//! make the reverse trade: a claim whose message never reached SQS would swallow the retry.
//!
//! [`DeliveryLedger`] is the port, [`dynamodb::DynamoLedger`] its adapter, `memory` the in-memory
//! one of unit tests (feature `test-util`).

use std::{future::Future, time::SystemTime};

use crate::config::{Config, SchemeKind};

pub mod dynamodb;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;

pub use dynamodb::DynamoLedger;

/// The DynamoDB table of the ledger; unset, the ingress keeps no ledger.
pub const DEDUP_TABLE_ENV: &str = "HOOKRELAY_DEDUP_TABLE";

/// The routes whose provider retries would be dropped by de-duplication, but are not: the route
/// remembers delivery ids (`dedup_window_secs` is not 0) and its scheme sends one, yet nothing
/// remembers them (a standard queue and no ledger). Empty when de-duplication works.
pub fn routes_without_dedup(config: &Config, queue_is_fifo: bool, has_ledger: bool) -> Vec<&str> {
    if queue_is_fifo || has_ledger {
        return Vec::new();
    }
    config
        .routes
        .iter()
        .filter(|route| !route.dedup_window.is_zero() && sends_delivery_id(route.verify.scheme))
        .map(|route| route.path.as_str())
        .collect()
}

/// What to tell the user about [`routes_without_dedup`], or `None` when there is nothing to say.
pub fn dedup_off_warning(routes: &[&str]) -> Option<String> {
    if routes.is_empty() {
        return None;
    }
    Some(format!(
        "de-duplication is off for {} route(s) ({}): on a standard queue without `{DEDUP_TABLE_ENV}`, a provider's \
         retry of a delivery is queued again; set `{DEDUP_TABLE_ENV}` to a DynamoDB table (template.yaml creates \
         one), use a FIFO queue, or set `dedup_window_secs = 0` on the route to say so",
        routes.len(),
        routes.join(", ")
    ))
}

/// Logs the [`dedup_off_warning`] once, at cold start.
pub fn warn_if_off(config: &Config, queue_is_fifo: bool, has_ledger: bool) {
    if let Some(warning) = dedup_off_warning(&routes_without_dedup(config, queue_is_fifo, has_ledger)) {
        tracing::warn!("{warning}");
    }
}

/// Whether the scheme gives each delivery an id (the `delivery_id` of its `crate::inbound::verify`
/// module): only those deliveries can be recognised when they come again.
fn sends_delivery_id(scheme: SchemeKind) -> bool {
    match scheme {
        SchemeKind::GitHub
        | SchemeKind::Stripe
        | SchemeKind::Slack
        | SchemeKind::StandardWebhooks
        | SchemeKind::Shopify
        | SchemeKind::Zoom
        | SchemeKind::Twilio => true,
        SchemeKind::Meta
        | SchemeKind::Cal
        | SchemeKind::Hmac
        | SchemeKind::Token
        | SchemeKind::Basic
        | SchemeKind::None => false,
    }
}

/// The ledger could not be read or written (the ingress answers 503: the provider retries).
#[derive(Debug, thiserror::Error)]
#[error("de-duplication ledger unavailable: {0}")]
pub struct LedgerError(String);

/// Which deliveries were queued recently, keyed by route and delivery id.
pub trait DeliveryLedger: Send + Sync {
    /// The job id recorded for `key`, if it has not expired by `now`.
    fn seen(&self, key: &str, now: SystemTime) -> impl Future<Output = Result<Option<String>, LedgerError>> + Send;

    /// Remembers `key` as queued under `job_id` until `expires`.
    fn record(
        &self,
        key: &str,
        job_id: &str,
        expires: SystemTime,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// No ledger configured: every delivery is new.
impl<L: DeliveryLedger> DeliveryLedger for Option<L> {
    async fn seen(&self, key: &str, now: SystemTime) -> Result<Option<String>, LedgerError> {
        match self {
            Some(ledger) => ledger.seen(key, now).await,
            None => Ok(None),
        }
    }

    async fn record(&self, key: &str, job_id: &str, expires: SystemTime) -> Result<(), LedgerError> {
        match self {
            Some(ledger) => ledger.record(key, job_id, expires).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{memory::MemoryLedger, *};
    use crate::config::Config;

    #[test]
    fn the_routes_left_without_dedup() {
        let config = Config::from_toml(
            r#"
            [[route]]
            path = "/gh"
            verify = "github"
            secrets = ["env:S"]
            algorithm = "a/b"
            [[route]]
            path = "/gh-no-window"
            verify = "github"
            secrets = ["env:S"]
            algorithm = "a/b"
            dedup_window_secs = 0
            [[route]]
            path = "/token"
            verify = "token"
            secrets = ["env:S"]
            algorithm = "a/b"
            [[route]]
            path = "/svix"
            verify = "svix"
            secrets = ["env:S"]
            algorithm = "a/b"
            "#,
        )
        .unwrap();
        assert_eq!(routes_without_dedup(&config, false, false), ["/gh", "/svix"]);
        assert!(routes_without_dedup(&config, true, false).is_empty());
        assert!(routes_without_dedup(&config, false, true).is_empty());
        let warning = dedup_off_warning(&routes_without_dedup(&config, false, false)).unwrap();
        assert!(
            warning.contains("/gh, /svix") && warning.contains(DEDUP_TABLE_ENV),
            "{warning}"
        );
        assert_eq!(dedup_off_warning(&[]), None);
    }

    #[tokio::test]
    async fn entries_expire() {
        let ledger = MemoryLedger::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(ledger.seen("k", t0).await.unwrap(), None);
        ledger
            .record("k", "job-1", t0 + Duration::from_secs(300))
            .await
            .unwrap();
        assert_eq!(
            ledger
                .seen("k", t0 + Duration::from_secs(299))
                .await
                .unwrap()
                .as_deref(),
            Some("job-1")
        );
        assert_eq!(ledger.seen("k", t0 + Duration::from_secs(300)).await.unwrap(), None);
        let off: Option<MemoryLedger> = None;
        off.record("k", "j", t0 + Duration::from_secs(9)).await.unwrap();
        assert_eq!(off.seen("k", t0).await.unwrap(), None);
    }
}
