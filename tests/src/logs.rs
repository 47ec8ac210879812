//! Captured output of a child process (a function binary or moto): every line of stdout and
//! stderr, kept in memory so tests can assert on it and print it when they fail, and optionally
//! echoed live with a prefix (`make dev`, or `HOOKRELAY_E2E_ECHO_LOGS=1` in tests).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::task::JoinHandle;

/// Which pipe a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of output (without its trailing newline; invalid UTF-8 replaced).
#[derive(Clone, Debug)]
pub struct LogLine {
    pub stream: Stream,
    pub line: String,
    /// Time since the log buffer was created (the process was spawned).
    pub at: Duration,
}

#[derive(Default)]
struct Inner {
    lines: Vec<LogLine>,
}

/// Shared, append-only buffer of a process's output.
#[derive(Clone)]
pub struct LogBuffer {
    inner: Arc<Mutex<Inner>>,
    started: Instant,
    /// Echo each line live to our stdout with this prefix (e.g. `[ingress] `).
    echo_prefix: Option<Arc<str>>,
}

impl LogBuffer {
    pub fn new(echo_prefix: Option<String>) -> Self {
        Self {
            inner: Arc::default(),
            started: Instant::now(),
            echo_prefix: echo_prefix.map(Arc::from),
        }
    }

    pub fn push(&self, stream: Stream, line: String) {
        if let Some(prefix) = &self.echo_prefix {
            match stream {
                Stream::Stdout => println!("{prefix}{line}"),
                Stream::Stderr => println!("{prefix}(stderr) {line}"),
            }
        }
        let at = self.started.elapsed();
        self.inner.lock().unwrap().lines.push(LogLine { stream, line, at });
    }

    /// A snapshot of all lines so far.
    pub fn lines(&self) -> Vec<LogLine> {
        self.inner.lock().unwrap().lines.clone()
    }

    /// Everything written to stdout and stderr, one line each, in arrival order.
    pub fn text(&self) -> String {
        let inner = self.inner.lock().unwrap();
        let mut out = String::new();
        for l in &inner.lines {
            out.push_str(&l.line);
            out.push('\n');
        }
        out
    }

    /// Only the lines of one stream.
    pub fn stream_text(&self, stream: Stream) -> String {
        let inner = self.inner.lock().unwrap();
        let mut out = String::new();
        for l in inner.lines.iter().filter(|l| l.stream == stream) {
            out.push_str(&l.line);
            out.push('\n');
        }
        out
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.inner.lock().unwrap().lines.iter().any(|l| l.line.contains(needle))
    }

    /// The last `n` lines, formatted for a failure message.
    pub fn tail(&self, n: usize) -> String {
        let inner = self.inner.lock().unwrap();
        let skip = inner.lines.len().saturating_sub(n);
        let mut out = String::new();
        if skip > 0 {
            out.push_str(&format!("    ... ({skip} earlier lines)\n"));
        }
        for l in inner.lines.iter().skip(skip) {
            out.push_str(&format!("{l}\n"));
        }
        out
    }

    /// Read `reader` line by line into this buffer until EOF.
    pub fn capture<R>(&self, stream: Stream, reader: R) -> JoinHandle<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let this = self.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        while matches!(buf.last(), Some(b'\n' | b'\r')) {
                            buf.pop();
                        }
                        this.push(stream, String::from_utf8_lossy(&buf).into_owned());
                    }
                }
            }
        })
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.stream {
            Stream::Stdout => "out",
            Stream::Stderr => "err",
        };
        write!(f, "    {:>8.3}s {tag} | {}", self.at.as_secs_f64(), self.line)
    }
}

impl fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogBuffer")
            .field("lines", &self.inner.lock().unwrap().lines.len())
            .finish()
    }
}

/// Whether tests should echo process output live (`HOOKRELAY_E2E_ECHO_LOGS=1`).
pub fn echo_from_env() -> bool {
    matches!(
        std::env::var("HOOKRELAY_E2E_ECHO_LOGS").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}
