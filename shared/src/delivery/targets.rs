//! The delivery port ([`JobTarget`]) and the registry of configured targets behind it:
//! `[downstream]` and every `[targets.<name>]` (algorithm APIs, [`super::algorithm`], and generic
//! HTTP endpoints, [`super::http`]).

use std::{collections::BTreeMap, future::Future, time::Duration};

use crate::{
    config::{Config, ConfigError, TargetSpec, DOWNSTREAM},
    delivery::{
        algorithm::AlgorithmClient,
        call::{CallError, Delivered},
        http::HttpTarget,
    },
    foundation::secret::SecretResolver,
    wire::envelope::Envelope,
};

/// Where a job is delivered. The worker (and the ingress in sync mode) depend on this trait only.
pub trait JobTarget: Send + Sync {
    /// Delivers the job's payload to its target; the answer, or why not.
    fn deliver(&self, envelope: &Envelope) -> impl Future<Output = Result<Delivered, CallError>> + Send;
}

/// Every configured target, with clients built (and secrets resolved) once at cold start.
#[derive(Debug)]
pub struct Targets {
    downstream: AlgorithmClient,
    named: BTreeMap<String, Client>,
}

#[derive(Debug)]
enum Client {
    Algorithm(AlgorithmClient),
    Http(HttpTarget),
}

impl Targets {
    /// Every target of `config`, clients built and secrets resolved.
    pub async fn from_config(config: &Config, resolver: &SecretResolver) -> Result<Targets, ConfigError> {
        let downstream = algorithm_client(&config.downstream, DOWNSTREAM, resolver).await?;
        let mut named = BTreeMap::new();
        for (name, spec) in &config.targets {
            let client = match spec {
                TargetSpec::Algorithm(api) => {
                    Client::Algorithm(algorithm_client(api, &format!("targets.{name}"), resolver).await?)
                }
                TargetSpec::Http(spec) => Client::Http(HttpTarget::new(name, spec, resolver).await?),
            };
            named.insert(name.clone(), client);
        }
        Ok(Targets { downstream, named })
    }
}

impl Targets {
    /// Opens a connection to each target in `names` before the first job, with a `HEAD` of its
    /// URL (a safe method; the answer is ignored), so the worker's first call skips the TCP and
    /// TLS handshakes. Meant for init, where Lambda lends the function a full vCPU whatever its
    /// memory size. A target that does not answer within `within` stays cold: never an error.
    /// Returns how many connections were opened.
    pub async fn warm_up<'a>(&self, names: impl IntoIterator<Item = &'a str>, within: Duration) -> usize {
        let mut calls = tokio::task::JoinSet::new();
        for name in names {
            let head = match (name, self.named.get(name)) {
                (DOWNSTREAM, _) => self.downstream.head(),
                (_, Some(Client::Algorithm(client))) => client.head(),
                (_, Some(Client::Http(target))) => target.head(),
                (_, None) => continue,
            };
            let request = head.timeout(within);
            calls.spawn(async move { request.send().await.is_ok() });
        }
        let mut opened = 0;
        while let Some(done) = calls.join_next().await {
            opened += usize::from(matches!(done, Ok(true)));
        }
        opened
    }
}

async fn algorithm_client(
    api: &crate::config::Downstream,
    table: &str,
    resolver: &SecretResolver,
) -> Result<AlgorithmClient, ConfigError> {
    let key = match &api.api_key {
        Some(reference) => Some(resolver.resolve(&format!("{table}.api_key"), reference).await?),
        None => None,
    };
    AlgorithmClient::new(api, key).map_err(|e| ConfigError::new(e.key.replacen(DOWNSTREAM, table, 1), e.reason))
}

impl JobTarget for Targets {
    async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
        let input = envelope
            .payload
            .to_bytes()
            .map_err(|e| CallError::BadJob(e.to_string()))?;
        let target = &envelope.target;
        let client = match target.name.as_str() {
            DOWNSTREAM => Some(&self.downstream),
            name => match self.named.get(name) {
                Some(Client::Algorithm(client)) => Some(client),
                Some(Client::Http(http)) => return http.send(input, envelope).await,
                None => return Err(CallError::BadJob(format!("unknown target `{name}`"))),
            },
        };
        let (Some(client), Some(algorithm)) = (client, &target.algorithm) else {
            return Err(CallError::BadJob(format!(
                "target `{}` needs an algorithm",
                target.name
            )));
        };
        client.call(algorithm, &target.options, input, &envelope.id).await
    }
}
