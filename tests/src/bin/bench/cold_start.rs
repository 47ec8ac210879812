//! Section 1, cold start: process spawn → the first `GET /2018-06-01/runtime/invocation/next` on a
//! blocking loopback listener, runs interleaved.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hookrelay_e2e::function::binary;

use crate::{function_binary, SECRET};

/// One way to start a Lambda process: program, args, environment, working directory.
#[derive(Clone)]
pub struct Launch {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
}

pub fn lambda_env(function_name: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("TZ", ":UTC"),
        // Never reached at init; SendMessage is not part of a cold start.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("HOOKRELAY_QUEUE_URL", "http://127.0.0.1:9/123456789012/jobs"),
        ("HOOKRELAY_DLQ_URL", "http://127.0.0.1:9/123456789012/jobs-dlq"),
        ("GITHUB_WEBHOOK_SECRET", SECRET),
        ("STRIPE_WEBHOOK_SECRET", "whsec_bench"),
        ("ALGO_API_KEY", "simBenchKey"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    if let Some(path) = std::env::var_os("PATH") {
        env.insert("PATH".into(), path.to_string_lossy().into_owned());
    }
    env
}

pub fn rust_launch(name: &str, config: &str) -> Launch {
    let mut env = lambda_env(name);
    env.insert("HOOKRELAY_CONFIG".into(), config.to_string());
    Launch {
        name: name.to_string(),
        program: if name == "echo-lambda" {
            binary(name)
        } else {
            function_binary(name)
        },
        args: vec![],
        env,
        cwd: None,
    }
}

/// Spawn → first `GET .../invocation/next`. The listener is std and blocking, in its own thread,
/// so nothing in this process competes with the child for the CPU while it starts.
pub fn cold_start_once(launch: &Launch) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel::<Result<Instant, String>>();
    let acceptor = std::thread::spawn(move || {
        let result = (|| {
            let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed before a request".to_string());
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(2).any(|w| w == b"\r\n") {
                    let at = Instant::now();
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.lines().next().unwrap_or("");
                    return if line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                        Ok(at)
                    } else {
                        Err(format!("first request was {line:?}"))
                    };
                }
            }
        })();
        let _ = tx.send(result);
    });
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .env_clear()
        .envs(&launch.env)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(dir) = &launch.cwd {
        cmd.current_dir(dir);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", launch.program.display()))?;
    let got = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let status = child.wait();
    if got.is_err() {
        // Unblock the acceptor.
        let _ = std::net::TcpStream::connect(addr);
    }
    let _ = acceptor.join();
    match got {
        Ok(Ok(at)) => Ok(at.duration_since(start).as_secs_f64() * 1000.0),
        Ok(Err(e)) => Err(format!("{}: {e} (exit {status:?})", launch.name)),
        Err(_) => Err(format!("{}: no /next within 20 s (exit {status:?})", launch.name)),
    }
}

pub fn cold_starts(launches: &[Launch], runs: usize) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    // Warm the page cache and check each one works before timing anything.
    for l in launches {
        cold_start_once(l)?;
    }
    for run in 0..runs {
        // Interleaved, and the order rotates so no binary always follows the same one.
        for i in 0..launches.len() {
            let l = &launches[(i + run) % launches.len()];
            let t = cold_start_once(l)?;
            out.entry(l.name.clone()).or_default().push(t);
        }
    }
    Ok(out)
}
