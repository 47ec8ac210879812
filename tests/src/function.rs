//! A real function binary running as a Lambda execution environment would run it: a child
//! process with the Lambda environment variables, polling a [`RuntimeApi`] emulator.
//!
//! Output is captured line by line ([`LogBuffer`]); the process can be killed and its exit
//! status awaited. The child is killed when the [`FunctionProcess`] is dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::{mpsc, watch};

use crate::logs::{LogBuffer, Stream};
use crate::runtime_api::{InstanceId, RuntimeApi, REGION};
use crate::util;

/// Directory holding the workspace binaries: `$HOOKRELAY_BIN_DIR`, else the target directory
/// of the running executable (`target/debug/deps/<test>` → `target/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOOKRELAY_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("exe has a parent").to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// Path of a workspace binary (`ingress`, `s3-relay`, `worker`, `echo-lambda`).
/// Panics when it is missing, telling how to build it.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        panic!(
            "function binary {} not found: run `cargo build --workspace` first \
             (or point HOOKRELAY_BIN_DIR at the directory holding it)",
            path.display()
        );
    }
    path
}

/// How to start one function process.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    pub binary: PathBuf,
    /// Arguments of `binary` (e.g. `-m awslambdaric module.handler` for a Python baseline).
    pub args: Vec<String>,
    /// Working directory (default: the harness's).
    pub current_dir: Option<PathBuf>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub memory_mb: u32,
    /// Environment of the function; defaults: the AWS test settings (`AWS_REGION=us-east-1`,
    /// `AWS_ACCESS_KEY_ID=test`, `AWS_SECRET_ACCESS_KEY=test`, `AWS_EC2_METADATA_DISABLED=true`).
    /// Add `HOOKRELAY_CONFIG`, `HOOKRELAY_QUEUE_URL`, `AWS_ENDPOINT_URL`, secrets.
    pub env: BTreeMap<String, String>,
    /// Echo output live with this prefix (e.g. `"[ingress] "`).
    pub echo_prefix: Option<String>,
}

impl FunctionConfig {
    pub fn new(function_name: &str, binary: impl AsRef<Path>) -> Self {
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            env.insert(k.to_string(), v.to_string());
        }
        let echo_prefix = crate::logs::echo_from_env().then(|| format!("[{function_name}] "));
        Self {
            function_name: function_name.to_string(),
            binary: binary.as_ref().to_path_buf(),
            args: Vec::new(),
            current_dir: None,
            memory_mb: 128,
            env,
            echo_prefix,
        }
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.insert(key.to_string(), value.into());
        self
    }

    pub fn envs<K: AsRef<str>, V: AsRef<str>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self {
        for (k, v) in vars {
            self.env.insert(k.as_ref().to_string(), v.as_ref().to_string());
        }
        self
    }

    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args = args.into_iter().map(|a| a.as_ref().to_string()).collect();
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.current_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn echo_logs(mut self, prefix: impl Into<String>) -> Self {
        self.echo_prefix = Some(prefix.into());
        self
    }
}

/// A running (or exited) function process.
pub struct FunctionProcess {
    name: String,
    pid: Option<u32>,
    instance: InstanceId,
    logs: LogBuffer,
    exit: watch::Receiver<Option<ExitStatus>>,
    kill: mpsc::Sender<()>,
    api: RuntimeApi,
}

impl std::fmt::Debug for FunctionProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionProcess")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .finish()
    }
}

impl FunctionProcess {
    /// Spawn the binary as a new instance polling `api`. Returns once the process is started
    /// (not necessarily initialised: see [`Self::wait_ready`]).
    pub async fn spawn(api: &RuntimeApi, config: FunctionConfig) -> FunctionProcess {
        let endpoint = api.attach_instance().await;
        let name = config.function_name.clone();
        let mut cmd = Command::new(&config.binary);
        cmd.args(&config.args);
        if let Some(dir) = &config.current_dir {
            cmd.current_dir(dir);
        }
        cmd.env_clear();
        // A Lambda environment is clean; keep only what makes debugging possible.
        for key in ["PATH", "RUST_LOG", "RUST_BACKTRACE", "LANG"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        let log_stream = format!(
            "{}/[$LATEST]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            uuid::Uuid::new_v4().simple()
        );
        cmd.env("AWS_LAMBDA_RUNTIME_API", endpoint.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", config.memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("TZ", ":UTC");
        cmd.envs(&config.env);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);

        util::die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", config.binary.display()));
        let pid = child.id();
        let logs = LogBuffer::new(config.echo_prefix.clone());
        let out = logs.capture(Stream::Stdout, child.stdout.take().expect("stdout piped"));
        let err = logs.capture(Stream::Stderr, child.stderr.take().expect("stderr piped"));

        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, mut kill_rx) = mpsc::channel::<()>(1);
        let api2 = api.clone();
        let id = endpoint.id;
        let label = name.clone();
        let echo = config.echo_prefix.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                s = child.wait() => s,
                // An explicit kill, or every handle dropped.
                _ = kill_rx.recv() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            // Let the readers drain the pipes so the logs are complete.
            let drain = async {
                let _ = out.await;
                let _ = err.await;
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
            let desc = match &status {
                Ok(s) => format!("{label} exited: {s}"),
                Err(e) => format!("{label}: wait failed: {e}"),
            };
            if let Some(prefix) = echo {
                println!("{prefix}{desc}");
            }
            api2.instance_exited(id, &desc);
            let _ = exit_tx.send(Some(status.unwrap_or_else(|_| failed_status())));
        });

        FunctionProcess {
            name,
            pid,
            instance: id,
            logs,
            exit: exit_rx,
            kill: kill_tx,
            api: api.clone(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub fn instance(&self) -> InstanceId {
        self.instance
    }

    pub fn runtime_api(&self) -> &RuntimeApi {
        &self.api
    }

    /// Captured output.
    pub fn logs(&self) -> &LogBuffer {
        &self.logs
    }

    /// All output so far (stdout and stderr interleaved).
    pub fn output(&self) -> String {
        self.logs.text()
    }

    /// Exit status, if it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.borrow()
    }

    pub fn is_running(&self) -> bool {
        self.exit_status().is_none()
    }

    /// Wait for the process to exit; `None` if it is still running after `timeout`.
    pub async fn wait(&self, timeout: Duration) -> Option<ExitStatus> {
        let mut rx = self.exit.clone();
        let res = tokio::time::timeout(timeout, rx.wait_for(|s| s.is_some())).await;
        match res {
            Ok(Ok(s)) => *s,
            _ => self.exit_status(),
        }
    }

    /// Wait until the function finished its init and polls for work.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        self.api
            .wait_ready(self.instance, timeout)
            .await
            .map_err(|e| format!("{}: {e}", self.name))
    }

    /// Kill the process (SIGKILL) and wait for it.
    pub async fn kill(&self) -> Option<ExitStatus> {
        let _ = self.kill.try_send(());
        self.wait(Duration::from_secs(10)).await
    }

    /// A failure-message block: name, status and the captured output.
    pub fn report(&self) -> String {
        let status = match self.exit_status() {
            Some(s) => format!("exited: {s}"),
            None => "running".to_string(),
        };
        format!(
            "--- {} (pid {:?}, {status}) ---\n{}",
            self.name,
            self.pid,
            self.logs.tail(200)
        )
    }
}

#[cfg(unix)]
fn failed_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(255 << 8)
}

#[cfg(not(unix))]
fn failed_status() -> ExitStatus {
    std::process::Command::new("cmd")
        .args(["/C", "exit 255"])
        .status()
        .unwrap()
}
