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
pub(crate) async fn start_failing(function: &str, config: &str) -> Failed {
    start_failing_with(function, config, &[]).await
}

/// [`start_failing`] with more environment (e.g. `HOOKRELAY_DLQ_URL`, a callback secret).
pub(crate) async fn start_failing_with(function: &str, config: &str, extra_env: &[(&str, &str)]) -> Failed {
    start_failing_as(
        base_config(function)
            .env("HOOKRELAY_CONFIG", config)
            .envs(extra_env.iter().copied()),
    )
    .await
}

/// A function with the environment these tests share, and no config source yet (and no
/// `HOOKRELAY_DLQ_URL`: worker_faults checks the worker refuses to start without one).
pub(crate) fn base_config(function: &str) -> FunctionConfig {
    FunctionConfig::new(function, binary(function))
        .env("HOOKRELAY_QUEUE_URL", format!("{NOWHERE}/123456789012/hookrelay-jobs"))
        .env("AWS_ENDPOINT_URL", NOWHERE)
        .env("GITHUB_WEBHOOK_SECRET", "unused")
        .env("ALGO_API_KEY", "unused")
}

/// Start the function `cfg` describes and wait for it to report an init error and exit.
pub(crate) async fn start_failing_as(cfg: FunctionConfig) -> Failed {
    let function = cfg.function_name.clone();
    let api = RuntimeApi::start(&function).await;
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

/// `hookrelay check-config <file>` on `config` with `env`: (exit code, stdout, stderr).
pub(crate) fn check_config(config: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let file = std::env::temp_dir().join(format!(
        "hookrelay-check-config-{}-{}.toml",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&file, config).expect("write the config");
    let output = std::process::Command::new(binary("hookrelay"))
        .arg("check-config")
        .arg(&file)
        .env_remove("HOOKRELAY_DEDUP_TABLE")
        .env_remove("HOOKRELAY_QUEUE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("run hookrelay check-config");
    let _ = std::fs::remove_file(&file);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A signed route and its trailing-slash twin that would switch verification off.
const SLASH_TWINS: &str = r#"
[downstream]
base_url = "http://127.0.0.1:9"
api_key = "env:ALGO_API_KEY"

[[route]]
path = "/hooks/a"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/a/"
verify = "none"
algorithm = "demo/Hello/0.1.0"

[s3]
algorithm = "demo/Hello/0.1.0"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_slash_twin_fails_every_function_init_and_check_config() {
    for function in ["ingress", "worker", "s3-relay"] {
        let f = start_failing(function, SLASH_TWINS).await;
        assert_names_key(&f, function, "route[1].path");
        let msg = f.init.message();
        assert!(
            msg.contains("`/hooks/a/`") && msg.contains("route[0]'s `/hooks/a`"),
            "{function}: the init error must name both routes, got {msg:?}"
        );
    }
    let (code, stdout, stderr) = check_config(SLASH_TWINS, &[]);
    assert!(
        code.is_some_and(|c| c != 0),
        "check-config accepted it:\n{stdout}{stderr}"
    );
    assert!(
        stderr.contains("route[1].path") && stderr.contains("route[0]'s `/hooks/a`"),
        "{stderr}"
    );
}

const GOOD: &str = r#"
[downstream]
base_url = "http://127.0.0.1:9"
api_key = "env:ALGO_API_KEY"

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"

[s3]
algorithm = "demo/Hello/0.1.0"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_config_variable_is_refused_even_beside_a_config_file() {
    let file = std::env::temp_dir().join(format!("hookrelay-good-{}.toml", std::process::id()));
    std::fs::write(&file, GOOD).expect("write");
    let path = file.display().to_string();
    for function in ["ingress", "worker", "s3-relay"] {
        // Before: the empty text won, and the ingress came up with no routes at all.
        let f = start_failing_with(function, "", &[("HOOKRELAY_CONFIG_FILE", &path)]).await;
        assert_names_key(&f, function, "HOOKRELAY_CONFIG");
        assert!(f.init.message().contains("both set"), "{}", f.init.message());
        let f = start_failing(function, "").await;
        assert_names_key(&f, function, "HOOKRELAY_CONFIG");
        assert!(f.init.message().contains("empty"), "{}", f.init.message());
    }
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_url_that_is_not_one_fails_the_init() {
    for (function, variable) in [
        ("ingress", "HOOKRELAY_QUEUE_URL"),
        ("s3-relay", "HOOKRELAY_QUEUE_URL"),
        ("worker", "HOOKRELAY_QUEUE_URL"),
        ("worker", "HOOKRELAY_DLQ_URL"),
    ] {
        let dlq = format!("{NOWHERE}/123456789012/hookrelay-dlq");
        let env = [("HOOKRELAY_DLQ_URL", dlq.as_str()), (variable, "not a url")];
        let f = start_failing_with(function, GOOD, &env).await;
        assert_names_key(&f, function, variable);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toml_errors_name_the_key_or_table() {
    for (config, key, said) in [
        // serde used to report this as "expected usize".
        ("ingress = [{}]", "`ingress`", "must be a table"),
        ("[worker\nconcurrency = 2", "`worker`", "unclosed table"),
        ("[worker]\nconcurrency = 2\nconcurrency = 3", "`worker.concurrency`", "duplicate key"),
        (
            "[[route]]\npath = \"/a\"\nverify = \"none\"\nalgorithm = \"a/b\"\nhmac = { header = \"x\", algorithm2 = 1 }",
            "`route[0].hmac",
            "",
        ),
    ] {
        let f = start_failing("ingress", config).await;
        assert_names_key(&f, "ingress", key);
        let msg = f.init.message();
        assert!(msg.contains(said) && !msg.contains("usize"), "{config:?}: {msg}");
        let (code, _, stderr) = check_config(config, &[]);
        assert!(code.is_some_and(|c| c != 0) && stderr.contains(key), "{config:?}: {stderr}");
    }
}

/// The ingress comes up with `extra_env`; returns its output once it polls for work.
async fn ingress_output(config: &str, extra_env: &[(&str, &str)]) -> String {
    let api = RuntimeApi::start("ingress").await;
    let cfg = base_config("ingress")
        .env("HOOKRELAY_CONFIG", config)
        .envs(extra_env.iter().copied());
    let process = FunctionProcess::spawn(&api, cfg).await;
    if let Err(e) = process.wait_ready(DEADLINE).await {
        panic!("the ingress did not start: {e}\n{}", process.report());
    }
    let output = process.output();
    process.kill().await;
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_that_is_off_is_said_once_at_cold_start_and_by_check_config() {
    let token_route = r#"
[[route]]
path = "/hooks/token"
verify = "token"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
"#;
    let config = format!("{GOOD}{token_route}");
    let off = ingress_output(&config, &[]).await;
    let warnings: Vec<&str> = off.lines().filter(|l| l.contains("de-duplication is off")).collect();
    assert_eq!(warnings.len(), 1, "one warning expected:\n{off}");
    assert!(
        warnings[0].contains("/hooks/github") && warnings[0].contains("HOOKRELAY_DEDUP_TABLE"),
        "{}",
        warnings[0]
    );
    assert!(
        !warnings[0].contains("/hooks/token"),
        "token sends no delivery id: {}",
        warnings[0]
    );
    for on in [
        ("HOOKRELAY_DEDUP_TABLE", "hookrelay-dedup"),
        (
            "HOOKRELAY_QUEUE_URL",
            "http://127.0.0.1:9/123456789012/hookrelay-jobs.fifo",
        ),
    ] {
        let output = ingress_output(&config, &[on]).await;
        assert!(!output.contains("de-duplication is off"), "{on:?}:\n{output}");
    }

    let (code, stdout, stderr) = check_config(&config, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let warning = stdout.lines().find(|l| l.starts_with("warning: de-duplication is off"));
    assert!(
        warning.is_some_and(|w| w.contains("/hooks/github") && w.contains("HOOKRELAY_DEDUP_TABLE")),
        "{stdout}"
    );
    let (_, stdout, _) = check_config(&config, &[("HOOKRELAY_DEDUP_TABLE", "t")]);
    assert!(!stdout.contains("warning"), "{stdout}");
}
