//! (f) Config errors fail the init loudly: the function posts `/runtime/init/error` with a
//! message naming the key, exits non-zero, and never prints a secret value.

use std::time::Duration;

use hookrelay_e2e::function::binary;
use hookrelay_e2e::{FunctionConfig, FunctionProcess, InitError, RuntimeApi};

const DEADLINE: Duration = hookrelay_e2e::util::DEADLINE;
/// Nothing listens there: an init that fails on config must not need AWS anyway.
const NOWHERE: &str = "http://127.0.0.1:9";

pub(crate) struct Failed {
    pub(crate) init: InitError,
    pub(crate) process: FunctionProcess,
    code: Option<i32>,
}

/// Start `function` with `config` and wait for it to report an init error and exit.
async fn start_failing(function: &str, config: &str) -> Failed {
    start_failing_with(function, config, &[]).await
}

/// [`start_failing`] with more environment (e.g. `HOOKRELAY_DLQ_URL`, a callback secret).
pub(crate) async fn start_failing_with(function: &str, config: &str, extra_env: &[(&str, &str)]) -> Failed {
    let api = RuntimeApi::start(function).await;
    let cfg = FunctionConfig::new(function, binary(function))
        .envs(extra_env.iter().copied())
        .env("HOOKRELAY_CONFIG", config)
        .env("HOOKRELAY_QUEUE_URL", format!("{NOWHERE}/123456789012/hookrelay-jobs"))
        .env("AWS_ENDPOINT_URL", NOWHERE)
        .env("GITHUB_WEBHOOK_SECRET", "unused")
        .env("ALGO_API_KEY", "unused");
    let process = FunctionProcess::spawn(&api, cfg).await;
    let Some(status) = process.wait(DEADLINE).await else {
        panic!(
            "{function} with an invalid config is still running after {DEADLINE:?}\n{}",
            process.report()
        );
    };
    let Some(init) = api.wait_for_init_error(DEADLINE).await else {
        panic!(
            "{function} exited ({status}) without posting /runtime/init/error\n{}",
            process.report()
        );
    };
    Failed {
        init,
        code: status.code(),
        process,
    }
}

pub(crate) fn assert_names_key(f: &Failed, function: &str, key: &str) {
    let msg = f.init.message();
    assert!(
        msg.contains(key),
        "{function}: the init error must name `{key}`, got {:?}\n{}",
        f.init.body,
        f.process.report()
    );
    assert!(
        f.code.is_some_and(|c| c != 0),
        "{function}: must exit non-zero, got {:?}\n{}",
        f.code,
        f.process.report()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_without_path_fails_every_function_init() {
    let config = r#"
[downstream]
base_url = "http://127.0.0.1:9"
api_key = "env:ALGO_API_KEY"

[[route]]
verify = "none"
algorithm = "demo/Hello/0.1.0"

[s3]
algorithm = "demo/Hello/0.1.0"
"#;
    for function in ["ingress", "worker", "s3-relay"] {
        let f = start_failing(function, config).await;
        assert_names_key(&f, function, "path");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_secret_is_refused_without_being_printed() {
    let config = r#"
[downstream]
base_url = "http://127.0.0.1:9"

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["hunter2"]
algorithm = "demo/Hello/0.1.0"
"#;
    let f = start_failing("ingress", config).await;
    assert_names_key(&f, "ingress", "secrets");
    assert!(
        !f.init.body.contains("hunter2"),
        "the init error holds the secret: {}",
        f.init.body
    );
    assert!(
        !f.process.output().contains("hunter2"),
        "the output holds the secret:\n{}",
        f.process.report()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toml_syntax_error_on_a_secret_line_does_not_quote_it() {
    // Unterminated array: the parser's error points at this line, which holds a (bad) secret.
    let config = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["hunter2"
algorithm = "demo/Hello/0.1.0"
"#;
    let f = start_failing("ingress", config).await;
    assert!(f.code.is_some_and(|c| c != 0), "{}", f.process.report());
    assert!(
        !f.init.body.contains("hunter2"),
        "the init error holds the secret: {}",
        f.init.body
    );
    assert!(
        !f.process.output().contains("hunter2"),
        "the output holds the secret:\n{}",
        f.process.report()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_cert_file_without_a_certificate_fails_every_function_init() {
    let config = r#"
[downstream]
base_url = "https://127.0.0.1:9"
api_key = "env:ALGO_API_KEY"

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"

[s3]
algorithm = "demo/Hello/0.1.0"
"#;
    let not_a_cert = std::env::temp_dir().join(format!("hookrelay-not-a-cert-{}.pem", std::process::id()));
    std::fs::write(&not_a_cert, "this is not a PEM certificate\n").expect("write");
    let path = not_a_cert.display().to_string();
    for function in ["ingress", "s3-relay", "worker"] {
        let f = start_failing_with(
            function,
            config,
            &[
                ("SSL_CERT_FILE", &path),
                ("HOOKRELAY_DLQ_URL", "http://127.0.0.1:9/1/dlq"),
            ],
        )
        .await;
        assert_names_key(&f, function, "SSL_CERT_FILE");
    }
    let _ = std::fs::remove_file(&not_a_cert);
}
