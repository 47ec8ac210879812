//! BENCHMARKS.md, one section per measurement, in the order the module docs of `main.rs` list.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::concurrency::WorkerResult;
use crate::footprint::Footprint;
use crate::function_dir;
use crate::hot_path::{criterion_median, us};
use crate::latency::{FirstCalls, WarmOverhead};
use crate::machine::{file_size, machine, modified};
use crate::stats::{ms, spread, stats, Stats};

/// The title and the paragraph on when, where and under what load the numbers were taken.
pub fn header(w: &mut String, started: chrono::DateTime<chrono::Utc>, load_before: &str, load_after: &str) {
    writeln!(w, "# Benchmarks").unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "Written by `make bench` ({}). Machine: {}. Release profile as in the root `Cargo.toml`. \
         Numbers are from this one machine and run; compare ratios, not absolute times. \
         1-minute load average before/after the process-level runs: {load_before}/{load_after}.",
        started.format("%Y-%m-%d %H:%M UTC"),
        machine()
    )
    .unwrap();
    writeln!(w).unwrap();
}

/// Section 1: cold start.
pub fn cold_start(
    w: &mut String,
    runs: usize,
    python_ok: bool,
    cold_stats: &BTreeMap<String, Stats>,
    missing: &[&str],
) {
    writeln!(
        w,
        "## 1. Cold start: process spawn → first `GET /runtime/invocation/next`\n"
    )
    .unwrap();
    writeln!(
        w,
        "Each binary is spawned with a clean Lambda environment and its real config (two routes, secrets \
         from `env:`, API key, S3 settings; SDK clients built) and timed until its first request line \
         reaches a blocking loopback listener. {runs} runs each, interleaved with rotating order, after \
         one untimed warm-up run each. Floor: `echo-lambda` (a minimal `lambda_runtime` function, \
         tests/src/bin/echo-lambda.rs). Python: bench/python/relay.py (HMAC check, boto3 SQS client \
         at import) under awslambdaric{}.\n",
        if python_ok {
            ""
        } else {
            " — **not run: awslambdaric/boto3 not installed**"
        }
    )
    .unwrap();
    writeln!(w, "| binary | median | spread (ms) | vs floor | Python ÷ this |").unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    let floor = cold_stats.get("echo-lambda").map(|s| s.median);
    let py = cold_stats.get("python-relay").map(|s| s.median);
    for name in ["echo-lambda", "ingress", "s3-relay", "worker", "python-relay"] {
        if let Some(st) = cold_stats.get(name) {
            writeln!(
                w,
                "| {name} | {} | {} | {} | {} |",
                ms(st),
                spread(st),
                floor.map_or("—".into(), |f| format!("{:.2}x", st.median / f)),
                py.map_or("—".into(), |p| format!("{:.1}x", p / st.median)),
            )
            .unwrap();
        }
    }
    for name in missing {
        writeln!(w, "| {name} | **not measured: binary not built** | | | |").unwrap();
    }
    writeln!(w).unwrap();
    for name in ["ingress", "s3-relay", "worker"] {
        if let (Some(st), Some(f)) = (cold_stats.get(name), floor) {
            let r = st.median / f;
            write!(w, "- {name}: {:.2}x the floor (goal ≤ 1.5x: {})", r, verdict(r <= 1.5)).unwrap();
            if let Some(p) = py {
                let x = p / st.median;
                write!(w, "; {:.1}x faster than Python (goal ≥ 30x: {})", x, verdict(x >= 30.0)).unwrap();
            }
            writeln!(w).unwrap();
        }
    }
    writeln!(w).unwrap();
}

/// Section 2: first invocation after init, with a TLS handshake.
pub fn first_invocation(w: &mut String, first_runs: usize, first: &Option<FirstCalls>) {
    writeln!(w, "## 2. First invocation after init, with a TLS handshake\n").unwrap();
    writeln!(
        w,
        "A fresh worker process per run, trusting a private CA through `SSL_CERT_FILE`; once it polls \
         `/next`, one SQS record is invoked and timed until the function's response. The call goes to an \
         HTTPS algorithm server on loopback (the harness's, certificate signed by that CA), so the time \
         includes the process's first TLS handshake. Python: bench/python/worker.py (urllib3 pool and a \
         boto3 SQS client built at import) under awslambdaric, same server, same CA. {first_runs} runs each, \
         interleaved, after one untimed run each. The warm-up row is the same worker with `[worker] \
         warm_up = true`: it opens its connection during init (a HEAD of the base URL), so the handshake \
         is in its init, which section 1 does not time, instead of here.\n"
    )
    .unwrap();
    match &first {
        None => writeln!(w, "**Not measured**: the `worker` binary was not built.\n").unwrap(),
        Some(first) => {
            let rust = stats(&first.rust);
            writeln!(w, "| worker | median | spread (ms) |").unwrap();
            writeln!(w, "|---|---|---|").unwrap();
            writeln!(w, "| hookrelay `worker` | {} | {} |", ms(&rust), spread(&rust)).unwrap();
            let warmed = stats(&first.rust_warmed_up);
            writeln!(
                w,
                "| hookrelay `worker` with `[worker] warm_up = true` (handshake during init) | {} | {} |",
                ms(&warmed),
                spread(&warmed)
            )
            .unwrap();
            match &first.python {
                Some(py) => {
                    let py = stats(py);
                    writeln!(w, "| Python worker.py | {} | {} |\n", ms(&py), spread(&py)).unwrap();
                    writeln!(
                        w,
                        "- hookrelay's first invocation takes {:.2}x Python's (goal ≤ 1x: {})\n",
                        rust.median / py.median,
                        verdict(rust.median <= py.median)
                    )
                    .unwrap();
                }
                None => writeln!(w, "\n**Python baseline not run**: awslambdaric/boto3 not installed.\n").unwrap(),
            }
        }
    }
}

/// Section 3: ingress warm overhead.
pub fn warm_overhead(w: &mut String, warm: &Option<WarmOverhead>) {
    writeln!(w, "## 3. Ingress warm overhead\n").unwrap();
    writeln!(
        w,
        "Warm requests invoked straight through the harness's Runtime API (no HTTP gateway): a signed 1 KiB \
         GitHub delivery as a function URL event, to the release `ingress` whose SQS endpoint is an instant \
         stub on loopback (it answers every call at once), and the same event to `echo-lambda`, which only \
         echoes it: the Runtime API round trip. Blocks of 100, interleaved (with a block of SendMessage \
         calls from the runner to the same stub through the functions' own SQS client), after 100 of \
         each to warm up. Ingress minus echo is hookrelay's time per request with the SQS call; minus \
         the SendMessage median, outside it.\n"
    )
    .unwrap();
    match &warm {
        None => writeln!(w, "**Not measured**: the `ingress` binary was not built.\n").unwrap(),
        Some(warm) => {
            let (ing, floor, send) = (stats(&warm.ingress), stats(&warm.floor), stats(&warm.send_message));
            writeln!(w, "| measured | median per request | spread (ms) |").unwrap();
            writeln!(w, "|---|---|---|").unwrap();
            for (label, st) in [
                ("ingress (instant SQS stub)", &ing),
                ("echo-lambda (round trip)", &floor),
                ("one SendMessage to the stub through the functions' SQS client", &send),
            ] {
                writeln!(w, "| {label} | {:.3} ms | {} |", st.median, spread(st)).unwrap();
            }
            let total = ing.median - floor.median;
            let outside = total - send.median;
            writeln!(
                w,
                "\n- ingress time per request: {total:.3} ms with the SQS call, {outside:.3} ms outside it \
                 (goal ≤ 0.35 ms outside the SQS call: {})\n",
                verdict(outside <= 0.35)
            )
            .unwrap();
        }
    }
}

/// Section 4: ingress hot path (criterion).
pub fn hot_path(w: &mut String, criterion_dir: &Path) {
    writeln!(w, "## 4. Ingress hot path (criterion)\n").unwrap();
    writeln!(
        w,
        "`cargo bench -p hookrelay --bench hot_path` (shared/benches/hot_path.rs): route lookup + \
         verification + filter + input mapping + envelope JSON, through the library's public API, vs one \
         bare HMAC-SHA256 of the same JSON body. Medians of criterion's bootstrap; spread is the \
         95% confidence interval of the median.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| body | case | hookrelay median (95% CI) | bare HMAC median | ratio | goal |"
    )
    .unwrap();
    writeln!(w, "|---|---|---|---|---|---|").unwrap();
    let mut any_criterion = false;
    for (label, goal) in [("1KiB", 3.0), ("64KiB", 1.2)] {
        let group = format!("ingress_hot_path_{label}");
        let Some(base) = criterion_median(criterion_dir, &group, "hmac_sha256") else {
            continue;
        };
        any_criterion = true;
        for case in ["github", "github_nofilter", "stripe"] {
            if let Some((m, lo, hi)) = criterion_median(criterion_dir, &group, case) {
                let r = m / base.0;
                writeln!(
                    w,
                    "| {label} | {case} | {} ({}–{}) | {} | {:.2}x | ≤ {goal}x: {} |",
                    us(m),
                    us(lo),
                    us(hi),
                    us(base.0),
                    r,
                    verdict(r <= goal)
                )
                .unwrap();
            }
        }
    }
    if !any_criterion {
        writeln!(
            w,
            "\n**Not measured**: no criterion output under {}.",
            criterion_dir.display()
        )
        .unwrap();
    }
    writeln!(w).unwrap();
}

/// Section 5: worker concurrency.
pub fn worker_concurrency(w: &mut String, worker_runs: usize, worker: &Option<WorkerResult>) {
    writeln!(w, "## 5. Worker concurrency\n").unwrap();
    writeln!(
        w,
        "The real `worker` release binary under the harness's Runtime API emulator, `[worker] concurrency = 10`, \
         calling the harness's algorithm server, which holds every call 200 ms. Time from invoke to \
         the function's response, {worker_runs} runs of each batch size, interleaved, after one warm-up batch. \
         Every record succeeded (no `batchItemFailures`).\n"
    )
    .unwrap();
    match &worker {
        None => writeln!(w, "**Not measured**: the `worker` binary was not built.\n").unwrap(),
        Some(worker) => {
            let (one, ten, hundred) = (stats(&worker.one), stats(&worker.ten), stats(&worker.hundred));
            writeln!(w, "| batch | median | spread (ms) | ÷ one call | goal |").unwrap();
            writeln!(w, "|---|---|---|---|---|").unwrap();
            writeln!(w, "| 1 record | {} | {} | 1.00x | — |", ms(&one), spread(&one)).unwrap();
            let r10 = ten.median / one.median;
            let r100 = hundred.median / one.median;
            writeln!(
                w,
                "| 10 records | {} | {} | {:.2}x | ≤ 1.3x: {} |",
                ms(&ten),
                spread(&ten),
                r10,
                verdict(r10 <= 1.3)
            )
            .unwrap();
            writeln!(
                w,
                "| 100 records, bound 10 | {} | {} | {:.2}x | ≤ 11x: {} |",
                ms(&hundred),
                spread(&hundred),
                r100,
                verdict(r100 <= 11.0)
            )
            .unwrap();
            writeln!(w).unwrap();
        }
    }
}

/// Section 6: footprint: peak RSS, binary and zip sizes.
pub fn footprint(w: &mut String, invocations: usize, fps: &[Footprint], root: &Path, lambda_dir: &Path) {
    writeln!(w, "## 6. Footprint\n").unwrap();
    writeln!(
        w,
        "Peak RSS is `VmHWM` from `/proc/<pid>/status` after {invocations} sequential invocations through the \
         harness (ingress: signed 1 KiB GitHub webhooks through the function URL gateway; s3-relay: one-record \
         S3 notifications; worker: one-record SQS batches to the algorithm server), each function with a fresh \
         moto queue. Latency per invocation is end to end through the harness and moto, shown for context only.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| function | VmHWM | VmRSS at end | goal ≤ 12 MiB | per invocation (median, IQR) |"
    )
    .unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    for f in fps {
        let mib = f.hwm_kib as f64 / 1024.0;
        writeln!(
            w,
            "| {} | {:.2} MiB | {:.2} MiB | {} | {:.2} ms ({:.2}–{:.2}), n={} |",
            f.name,
            mib,
            f.rss_kib as f64 / 1024.0,
            verdict(mib <= 12.0),
            f.per_invocation_ms.median,
            f.per_invocation_ms.p25,
            f.per_invocation_ms.p75,
            f.invocations
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    let bin_dir = function_dir();
    writeln!(
        w,
        "Sizes: the release binary in {} and `cargo lambda build --release --output-format zip` output in {} \
         (`bootstrap.zip`; 1 MB = 10^6 bytes).\n",
        bin_dir.strip_prefix(root).unwrap_or(&bin_dir).display(),
        lambda_dir.strip_prefix(root).unwrap_or(lambda_dir).display()
    )
    .unwrap();
    writeln!(w, "| function | release binary | zip | goal ≤ 4 MB | zip written |").unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    for name in ["ingress", "s3-relay", "worker"] {
        let bin = file_size(&bin_dir.join(name));
        let zip = file_size(&lambda_dir.join(name).join("bootstrap.zip"));
        writeln!(
            w,
            "| {name} | {} | {} | {} | {} |",
            bin.map_or("—".into(), mb),
            zip.map_or("not built".into(), mb),
            zip.map_or("—", |b| verdict(b <= 4_000_000)),
            modified(&lambda_dir.join(name).join("bootstrap.zip")).unwrap_or_else(|| "—".into()),
        )
        .unwrap();
    }
    writeln!(w).unwrap();
}

pub fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}
