//! `[worker]`: how the worker function works through its batches and retries.

use std::time::Duration;

use serde::Deserialize;

use crate::foundation::ConfigError;

/// `[worker]`.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How many records of a batch are in flight at once (`concurrency`, 1 to 1000, default 10).
    pub concurrency: usize,
    /// Backoff of the first retry of a transient failure; doubles with every receive
    /// (`retry_base_secs`, 1 to 3600, default 2).
    pub retry_base: Duration,
    /// The longest backoff (a target's `Retry-After` may ask for more, up to SQS's 12 hours)
    /// (`retry_max_secs`, `retry_base_secs` to 43200, default 900).
    pub retry_max: Duration,
    /// Whether an algorithm's `{"error": ...}` answer is retried (default: dead-lettered at once)
    /// (`algorithm_errors = "transient"`, default `"permanent"`).
    pub retry_algorithm_errors: bool,
    /// Whether the worker opens a connection to each target it will call during init, so the
    /// first job does not pay the TCP and TLS handshakes ([`crate::delivery::targets::Targets::warm_up`])
    /// (`warm_up`, default false).
    pub warm_up: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorker {
    concurrency: Option<usize>,
    retry_base_secs: Option<u64>,
    retry_max_secs: Option<u64>,
    algorithm_errors: Option<String>,
    warm_up: Option<bool>,
}

impl RawWorker {
    pub(super) fn validate(self) -> Result<WorkerSettings, ConfigError> {
        let concurrency = self.concurrency.unwrap_or(10);
        if !(1..=1000).contains(&concurrency) {
            return Err(ConfigError::new("worker.concurrency", "must be between 1 and 1000"));
        }
        let retry_base_secs = self.retry_base_secs.unwrap_or(2);
        if !(1..=3600).contains(&retry_base_secs) {
            return Err(ConfigError::new("worker.retry_base_secs", "must be between 1 and 3600"));
        }
        let retry_max_secs = self.retry_max_secs.unwrap_or(900);
        if !(retry_base_secs..=43_200).contains(&retry_max_secs) {
            return Err(ConfigError::new(
                "worker.retry_max_secs",
                "must be between retry_base_secs and 43200",
            ));
        }
        let retry_algorithm_errors = match self.algorithm_errors.as_deref().unwrap_or("permanent") {
            "permanent" => false,
            "transient" => true,
            other => {
                return Err(ConfigError::new(
                    "worker.algorithm_errors",
                    format!("`{other}` is not `permanent` or `transient`"),
                ))
            }
        };
        Ok(WorkerSettings {
            concurrency,
            retry_base: Duration::from_secs(retry_base_secs),
            retry_max: Duration::from_secs(retry_max_secs),
            retry_algorithm_errors,
            warm_up: self.warm_up.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn warm_up_is_a_worker_switch() {
        let c = Config::from_toml("[worker]\nwarm_up = true").unwrap();
        assert!(c.worker.warm_up);
    }
}
