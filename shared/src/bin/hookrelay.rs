//! The `hookrelay` operator CLI:
//! - `hookrelay check-config <file | s3://bucket/key>` validates a config, exactly as the functions do at
//!   cold start, and prints what it routes where, and a warning where de-duplication is off (as
//!   the ingress would log it with this environment's `HOOKRELAY_DEDUP_TABLE` and
//!   `HOOKRELAY_QUEUE_URL`). Secrets are not resolved (no AWS access needed but to read from S3).
//! - `hookrelay redrive <dlq-url> <queue-url>` moves dead-lettered jobs back, unchanged, once their
//!   cause is fixed (standard AWS environment: region, credentials, `AWS_ENDPOINT_URL`).
//! - `hookrelay test-filter --pattern <json|file> --event <json|file>` tries a route filter on a
//!   request with the ingress's own matcher: prints `match` (exit 0) or `no match: <the first field
//!   that failed>` (exit 1); a pattern or event it cannot use is exit 2, with the reason.

use std::process::ExitCode;

use hookrelay::config::{Config, ConfigSource, InputMapping, Mode, S3Input};

const USAGE: &str = "usage: hookrelay check-config <config.toml>\n       hookrelay redrive <dlq-url> <queue-url>\n       hookrelay test-filter --pattern <json|file> --event <json|file>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["check-config", path] => check_config(path),
        ["redrive", from, to] => redrive(from, to),
        ["test-filter", "--pattern", pattern, "--event", event]
        | ["test-filter", "--event", event, "--pattern", pattern] => test_filter(pattern, event),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn test_filter(pattern: &str, event: &str) -> ExitCode {
    match hookrelay::filter::test_filter(pattern, event) {
        Ok(explanation @ hookrelay::filter::Explanation::Match) => {
            println!("{explanation}");
            ExitCode::SUCCESS
        }
        Ok(explanation) => {
            println!("{explanation}");
            ExitCode::from(1)
        }
        Err(bad) => {
            eprintln!("{bad}");
            ExitCode::from(2)
        }
    }
}

fn redrive(from: &str, to: &str) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let sdk_config = match hookrelay::startup::aws_sdk_config().await {
            Ok(sdk_config) => sdk_config,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let client = aws_sdk_sqs::Client::new(&sdk_config);
        match hookrelay::redrive::redrive(&client, from, to, usize::MAX).await {
            Ok(moved) => {
                println!("moved {moved} message(s) from {from} to {to}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn check_config(path: &str) -> ExitCode {
    // The file as the functions would read it from `HOOKRELAY_CONFIG_FILE`: a path, or an S3
    // object (`s3://<bucket>/<key>[?versionId=<id>]`, with the standard AWS environment).
    let loaded = ConfigSource::from_vars(None, Some(path.into())).and_then(|source| match &source {
        ConfigSource::S3(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| hookrelay::config::ConfigError::new("runtime", e))
            .and_then(|runtime| runtime.block_on(hookrelay::startup::load_config_from(&source))),
        local => local.read_local().and_then(|text| local.parse(&text)),
    });
    match loaded {
        Ok(config) => {
            print!("{}", describe(&config));
            // The same decision the ingress logs at cold start, from this environment: run
            // check-config with the ingress's `HOOKRELAY_DEDUP_TABLE` / `HOOKRELAY_QUEUE_URL`.
            let set = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
            let fifo = set(hookrelay::queue::QUEUE_URL_ENV).is_some_and(|url| url.ends_with(".fifo"));
            let ledger = set(hookrelay::dedup::DEDUP_TABLE_ENV).is_some();
            let unprotected = hookrelay::dedup::routes_without_dedup(&config, fifo, ledger);
            if let Some(warning) = hookrelay::dedup::dedup_off_warning(&unprotected) {
                println!("\nwarning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn describe(config: &Config) -> String {
    let mut rows = vec![["path", "verify", "target", "mode", "filter", "input", "dedup"].map(String::from)];
    for route in &config.routes {
        let target = match &route.target.algorithm {
            Some(algorithm) => format!("{}:{algorithm}", route.target.name),
            None => route.target.name.clone(),
        };
        let mode = match route.mode {
            Mode::Async => "async".to_owned(),
            Mode::Sync { deadline } => format!("sync {}s", deadline.as_secs()),
        };
        let input = match &route.input {
            InputMapping::Body => "body".to_owned(),
            InputMapping::Pointer(p) => p.clone(),
            InputMapping::Template(fields) => format!("template({})", fields.len()),
        };
        rows.push([
            route.path.clone(),
            format!("{:?}", route.verify.scheme).to_lowercase(),
            target,
            mode,
            if route.filter.is_some() { "yes" } else { "-" }.to_owned(),
            input,
            format!("{}s", route.dedup_window.as_secs()),
        ]);
    }
    let mut out = format!("{} route(s)\n{}", config.routes.len(), table(&rows));
    if let Some(s3) = &config.s3 {
        let mut rows = vec![["bucket", "prefix", "suffix", "target", "input"].map(String::from)];
        for rule in &s3.rules {
            let input = match rule.input {
                S3Input::Key => "key",
                S3Input::Uri => "uri",
                S3Input::Record => "record",
            };
            rows.push([
                rule.bucket.clone().unwrap_or_else(|| "*".into()),
                rule.prefix.clone(),
                rule.suffix.clone(),
                format!(
                    "{}:{}",
                    rule.target.name,
                    rule.target.algorithm.as_ref().map_or("", |a| a.as_str())
                ),
                input.to_owned(),
            ]);
        }
        out.push_str(&format!(
            "\n{} S3 rule(s), first match wins\n{}",
            s3.rules.len(),
            table(&rows)
        ));
    }
    out
}

fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_routes_and_rules() {
        let config = Config::from_toml(
            r#"
            [[route]]
            path = "/hooks/github"
            verify = "github"
            secrets = ["env:S"]
            algorithm = "demo/Hello/0.1.0"
            filter = { headers = { "x-github-event" = ["push"] } }
            mode = "sync"
            [s3]
            algorithm = "demo/Hello"
            "#,
        )
        .unwrap();
        let text = describe(&config);
        assert!(text.contains("1 route(s)"), "{text}");
        assert!(
            text.contains("/hooks/github  github  downstream:demo/Hello/0.1.0  sync 25s  yes     body   300s"),
            "{text}"
        );
        let s3_row = ["*", "downstream:demo/Hello", "key"];
        assert!(text.lines().any(|l| l.split_whitespace().eq(s3_row)), "{text}");
    }
}
