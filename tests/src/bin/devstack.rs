//! `make dev`: the whole hookrelay pipeline on loopback, for humans.
//!
//! moto (queue `hookrelay-jobs` + DLQ `hookrelay-dlq`, maxReceiveCount 3; bucket
//! `hookrelay-uploads` notifying `hookrelay-s3-events`), the demo algorithm, and the three real
//! function binaries behind a function URL on 127.0.0.1:9000. Function output is streamed with
//! a `[name]` prefix. Ctrl-C stops everything it started.
//!
//! ```text
//! devstack [--port 9000] [--moto-port 9001] [--config dev/hookrelay.toml]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use hookrelay_e2e::{
    stack::{DEV_FUNCTION_TIMEOUT, DEV_WEBHOOK_SECRET as WEBHOOK_SECRET},
    util, Stack, StackOptions,
};

struct Args {
    port: u16,
    moto_port: u16,
    config: PathBuf,
}

fn usage() -> &'static str {
    "usage: devstack [--port PORT (9000)] [--moto-port PORT (9001)] [--config PATH (dev/hookrelay.toml)]"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 9000,
        moto_port: 9001,
        config: util::workspace_root().join("dev/hookrelay.toml"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--moto-port" => args.moto_port = value()?.parse().map_err(|e| format!("--moto-port: {e}"))?,
            "--config" => args.config = PathBuf::from(value()?),
            "-h" | "--help" => return Err(usage().to_string()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let config = match std::fs::read_to_string(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("devstack: cannot read {}: {e}", args.config.display());
            return ExitCode::from(2);
        }
    };

    let mut opts = StackOptions::dev(&config);
    opts.function_url_bind = SocketAddr::from(([127, 0, 0, 1], args.port));
    opts.moto_port = Some(args.moto_port);
    opts.echo_logs = true;
    opts.algorithm_log = true;
    // Pass RUST_LOG through for more (or less) function output.

    println!("devstack: starting moto, the demo algorithm and the functions ...");
    let stack = match Stack::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("devstack: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_instructions(&stack, &args);

    wait_for_shutdown_signal().await;
    println!("\ndevstack: stopping ...");
    stack.shutdown().await;
    println!("devstack: stopped");
    ExitCode::SUCCESS
}

async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn print_instructions(s: &Stack, args: &Args) {
    let url = s.function_url.url();
    let moto = s.moto.endpoint_url();
    let config = args
        .config
        .strip_prefix(util::workspace_root())
        .unwrap_or(&args.config)
        .display()
        .to_string();
    println!(
        r#"
================================================================================
hookrelay dev stack is running. Ctrl-C stops it.

  function URL (ingress)  {url}
  AWS (moto)              {moto}
                          queues {jobs} (DLQ {dlq}, maxReceiveCount 3), {s3q}
                          bucket {bucket} -> {s3q} -> s3-relay
  demo algorithm          {algo}  (answers "Hello <input>")
  config                  {config}  (webhook secret "{secret}")
  function timeout        {timeout}s (each function)

Send a GitHub-signed webhook:

  body='{{"zen":"Keep it logically awesome.","hook_id":1}}'
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac '{secret}' | awk '{{print $NF}}')
  curl -i {url}/hooks/github \
    -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: ping' \
    -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958' \
    -H "X-Hub-Signature-256: sha256=$sig" \
    --data-binary "$body"

Upload an object (S3 notification -> SQS -> s3-relay -> queue -> worker -> algorithm):

  printf 'hello' > /tmp/hookrelay-hello.txt
  curl -i -T /tmp/hookrelay-hello.txt '{moto}/{bucket}/my%20photo(1).jpg'

Function output is prefixed [ingress], [worker], [s3-relay]; algorithm calls [algorithm].
================================================================================
"#,
        jobs = s.jobs.name,
        dlq = s.dlq.name,
        s3q = s.s3_events.name,
        bucket = s.bucket,
        algo = s.algorithm.url(),
        secret = WEBHOOK_SECRET,
        timeout = DEV_FUNCTION_TIMEOUT.as_secs(),
    );
}
