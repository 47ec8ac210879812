//! The DynamoDB adapter of [`DeliveryLedger`]: one item per delivery key, expiring by TTL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;

use super::{DeliveryLedger, LedgerError};

/// Table schema: partition key `pk` (S); `job_id` (S); `expires_at` (N, epoch seconds, the TTL attribute).
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLedger {
    /// The ledger in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoLedger {
            client,
            table: table.into(),
        }
    }
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

impl DeliveryLedger for DynamoLedger {
    async fn seen(&self, key: &str, now: SystemTime) -> Result<Option<String>, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| LedgerError(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
        let Some(item) = output.item else { return Ok(None) };
        // TTL deletion is lazy (up to days late): expiry is checked here, not left to DynamoDB.
        let expires = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok());
        if expires.is_none_or(|e| e <= epoch_secs(now)) {
            return Ok(None);
        }
        Ok(item
            .get("job_id")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .or_else(|| Some(String::new())))
    }

    async fn record(&self, key: &str, job_id: &str, expires: SystemTime) -> Result<(), LedgerError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_owned()))
            .item("job_id", AttributeValue::S(job_id.to_owned()))
            .item("expires_at", AttributeValue::N(epoch_secs(expires).to_string()))
            .send()
            .await
            .map_err(|e| LedgerError(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
