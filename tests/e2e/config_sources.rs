//! Configs of any realistic size deploy (docs/deploy.md): a 30-route config with filters and
//! targets, far over Lambda's 4 KB of environment, read by the real functions at cold start from
//! an S3 object (`HOOKRELAY_CONFIG_FILE=s3://...`, the SAM template's `HookrelayConfigS3Uri`) or
//! from a file packaged with them (`cargo lambda build --include`), then a request served on the
//! last route. And template.yaml keeps each function's environment under 4 KB.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use hookrelay_e2e::function::binary;
use hookrelay_e2e::{
    FunctionConfig, FunctionProcess, FunctionUrl, FunctionUrlConfig, GithubDelivery, Moto, RuntimeApi,
};

use crate::{ALGO_KEY, GITHUB_SECRET};

const DEADLINE: Duration = hookrelay_e2e::util::DEADLINE;
/// What Lambda allows for all of a function's environment variables together.
const LAMBDA_ENV_LIMIT: usize = 4 * 1024;
const ROUTES: usize = 30;

/// A config as a real deployment grows one: 30 routes, each with a filter, some with input
/// mapping, spread over the default algorithm API, a second one and an HTTP target.
fn large_config() -> String {
    let mut config = String::from(
        r#"
[downstream]
base_url = "http://127.0.0.1:9"
api_key = "env:ALGO_API_KEY"
timeout_secs = 30

[targets.vision]
type = "algorithm"
base_url = "https://vision.example.com"
api_key = "env:ALGO_API_KEY"

[targets.notify]
type = "http"
url = "https://hooks.example.com/notify"
headers = { "x-api-key" = "env:ALGO_API_KEY", "x-source" = "hookrelay" }
timeout_secs = 10

[s3]
algorithm = "demo/Hello/0.1.0"
"#,
    );
    for n in 1..=ROUTES {
        let target = match n % 3 {
            0 => "target = \"notify\"".to_owned(),
            1 => format!("algorithm = \"acme/Indexer{n}/1.0.0\""),
            _ => format!("target = \"vision\"\nalgorithm = \"vision/Classify{n}/2.1.0\""),
        };
        let input = match n % 2 {
            0 => "input = { repo = \"/repository/full_name\", after = \"/after\", delivery = \"delivery_id\" }\n",
            _ => "",
        };
        config.push_str(&format!(
            r#"
[[route]]
path = "/hooks/team-{n:02}/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
{target}
filter = {{ headers = {{ "x-github-event" = ["push", "pull_request"] }}, body = {{ repository = {{ full_name = ["acme/service-{n:02}"] }}, ref = [{{ prefix = "refs/heads/" }}] }} }}
{input}dedup_window_secs = 600
"#
        ));
    }
    config
}

const LAST_ROUTE: &str = "/hooks/team-30/github";

/// The three functions up with `env` (and `dir` as the working directory, as `/var/task`).
struct Functions {
    ingress: FunctionProcess,
    url: FunctionUrl,
    others: Vec<FunctionProcess>,
}

async fn start_functions(env: &BTreeMap<String, String>, dir: Option<&Path>) -> Functions {
    let mut processes = Vec::new();
    let mut ingress_api = None;
    for name in ["ingress", "worker", "s3-relay"] {
        let api = RuntimeApi::start(name).await;
        let mut cfg = FunctionConfig::new(name, binary(name)).envs(env.clone());
        if let Some(dir) = dir {
            cfg = cfg.current_dir(dir);
        }
        let process = FunctionProcess::spawn(&api, cfg).await;
        if let Err(e) = process.wait_ready(DEADLINE).await {
            let errors: Vec<String> = api.init_errors().iter().map(|e| e.message()).collect();
            panic!(
                "{name} did not start: {e}\ninit errors: {errors:?}\n{}",
                process.report()
            );
        }
        if name == "ingress" {
            ingress_api = Some(api);
        }
        processes.push(process);
    }
    let url = FunctionUrl::start(ingress_api.expect("ingress started"), FunctionUrlConfig::default()).await;
    let ingress = processes.remove(0);
    Functions {
        ingress,
        url,
        others: processes,
    }
}

impl Functions {
    async fn stop(self) {
        self.ingress.kill().await;
        for process in &self.others {
            process.kill().await;
        }
    }
}

/// A GitHub push for `repo`, signed with the functions' secret.
fn push(repo: &str) -> GithubDelivery {
    let body = json!({ "ref": "refs/heads/main", "after": "abc123", "repository": { "full_name": repo } });
    let mut delivery = GithubDelivery::json(GITHUB_SECRET, &body.to_string());
    delivery.event = "push".into();
    delivery
}

/// The last route answers by its config: its own repository is queued, another one filtered.
async fn assert_the_last_route_serves(moto: &Moto, queue_url: &str, f: &Functions) {
    let http = reqwest::Client::new();
    let url = format!("{}{LAST_ROUTE}", f.url.url());
    let filtered = push("acme/service-01").send(&http, &url).await;
    assert_eq!(filtered.status, 200, "{filtered}\n{}", f.ingress.report());
    assert_eq!(filtered.json()["status"], "filtered", "{filtered}");
    let queued = push("acme/service-30").send(&http, &url).await;
    assert_eq!(queued.status, 200, "{queued}\n{}", f.ingress.report());
    assert_eq!(queued.json()["status"], "queued", "{queued}");
    let messages = moto.receive(queue_url, 5, 30).await.expect("receive");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap_or_default()).expect("an envelope");
    assert_eq!(envelope["route"], LAST_ROUTE, "{envelope}");
    assert_eq!(envelope["target"]["name"], "notify", "{envelope}");
}

/// The environment every function gets, without a config source.
async fn base_env(moto: &Moto, queue: &str) -> BTreeMap<String, String> {
    let jobs = moto.create_queue(queue, 30).await;
    let dlq = moto.create_queue(&format!("{queue}-dlq"), 30).await;
    BTreeMap::from([
        ("HOOKRELAY_QUEUE_URL".to_owned(), jobs.url),
        ("HOOKRELAY_DLQ_URL".to_owned(), dlq.url),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint_url()),
        ("GITHUB_WEBHOOK_SECRET".to_owned(), GITHUB_SECRET.to_owned()),
        ("ALGO_API_KEY".to_owned(), ALGO_KEY.to_owned()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_route_config_is_read_from_s3_at_cold_start() {
    let config = large_config();
    assert!(
        config.len() > LAMBDA_ENV_LIMIT,
        "the config must not fit the environment ({} bytes)",
        config.len()
    );
    let moto = Moto::start().await;
    let env = base_env(&moto, "hookrelay-jobs").await;
    let bucket = "hookrelay-config";
    moto.create_bucket(bucket).await;
    moto.enable_versioning(bucket).await;
    let pinned = moto
        .put_object_version(bucket, "prod/hookrelay.toml", config.as_bytes().to_vec())
        .await;
    // A later, broken upload: the pinned version is what the functions read.
    moto.put_object_version(bucket, "prod/hookrelay.toml", b"[worker\n".to_vec())
        .await;

    let mut s3_env = env.clone();
    s3_env.insert(
        "HOOKRELAY_CONFIG_FILE".into(),
        format!("s3://{bucket}/prod/hookrelay.toml?versionId={pinned}"),
    );
    let functions = start_functions(&s3_env, None).await;
    assert_the_last_route_serves(&moto, &env["HOOKRELAY_QUEUE_URL"], &functions).await;
    functions.stop().await;

    // `hookrelay check-config` reads the same object before a deploy points at it.
    let check = std::process::Command::new(binary("hookrelay"))
        .arg("check-config")
        .arg(&s3_env["HOOKRELAY_CONFIG_FILE"])
        .envs(FunctionConfig::new("hookrelay", binary("hookrelay")).env)
        .env("AWS_ENDPOINT_URL", moto.endpoint_url())
        .output()
        .expect("run hookrelay check-config");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && stdout.contains(&format!("{ROUTES} route(s)")) && stdout.contains(LAST_ROUTE),
        "{stdout}{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // The latest version (broken) and a missing object both fail the init, naming the source.
    for (reference, named) in [
        (format!("s3://{bucket}/prod/hookrelay.toml"), "`worker`"),
        (format!("s3://{bucket}/prod/missing.toml"), "HOOKRELAY_CONFIG_FILE"),
    ] {
        let api = RuntimeApi::start("ingress").await;
        let cfg = FunctionConfig::new("ingress", binary("ingress"))
            .envs(env.clone())
            .env("HOOKRELAY_CONFIG_FILE", &reference);
        let process = FunctionProcess::spawn(&api, cfg).await;
        let init = api.wait_for_init_error(DEADLINE).await;
        let message = init.map(|e| e.message()).unwrap_or_default();
        assert!(
            message.contains(named),
            "{reference}: {message:?}\n{}",
            process.report()
        );
        process.kill().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_route_config_packaged_with_the_functions_is_read_at_cold_start() {
    let moto = Moto::start().await;
    let mut env = base_env(&moto, "hookrelay-jobs").await;
    // `cargo lambda build --include hookrelay.toml` puts the file next to `bootstrap`, in the
    // function's working directory (`/var/task`).
    let task = std::env::temp_dir().join(format!("hookrelay-task-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&task).expect("create the task directory");
    std::fs::write(task.join("hookrelay.toml"), large_config()).expect("write the config");
    env.insert("HOOKRELAY_CONFIG_FILE".into(), "hookrelay.toml".into());
    let functions = start_functions(&env, Some(&task)).await;
    assert_the_last_route_serves(&moto, &env["HOOKRELAY_QUEUE_URL"], &functions).await;
    functions.stop().await;
    let _ = std::fs::remove_dir_all(&task);
}

// ---- template.yaml: the functions' environment as CloudFormation would set it -------------------

/// A minimal CloudFormation evaluator for the intrinsics the environment uses. Resources are
/// replaced by values as long as AWS makes them, so the sizes are upper bounds.
struct Evaluator<'a> {
    template: &'a Value,
    parameters: BTreeMap<String, String>,
}

impl Evaluator<'_> {
    fn parameter(&self, name: &str) -> Option<String> {
        if let Some(value) = self.parameters.get(name) {
            return Some(value.clone());
        }
        let default = self.template["Parameters"].get(name)?.get("Default")?;
        Some(match default {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    fn reference(&self, name: &str) -> Option<String> {
        if let Some(value) = self.parameter(name) {
            return Some(value);
        }
        let longest_queue_url = format!(
            "https://sqs.ap-southeast-2.amazonaws.com/123456789012/{}",
            "q".repeat(80)
        );
        Some(match name {
            "AWS::NoValue" => return None,
            "AWS::Region" => "ap-southeast-2".into(),
            "AWS::Partition" => "aws-us-gov".into(),
            "AWS::AccountId" => "123456789012".into(),
            "AWS::StackName" => "s".repeat(128),
            "JobsQueue" | "DeadLetterQueue" => longest_queue_url,
            "DedupTable" => "t".repeat(255),
            other => panic!("the environment refers to `{other}`: teach this test its longest value"),
        })
    }

    fn condition(&self, value: &Value) -> bool {
        if let Some(name) = value.get("Condition").and_then(Value::as_str) {
            return self.condition(&self.template["Conditions"][name]);
        }
        let (function, args) = value
            .as_object()
            .and_then(|o| o.iter().next())
            .unwrap_or_else(|| panic!("not a condition: {value}"));
        let args = args.as_array().expect("condition arguments");
        match function.as_str() {
            "Fn::Equals" => self.eval(&args[0]) == self.eval(&args[1]),
            "Fn::Not" => !self.condition(&args[0]),
            "Fn::And" => args.iter().all(|a| self.condition(a)),
            "Fn::Or" => args.iter().any(|a| self.condition(a)),
            other => panic!("condition function {other}"),
        }
    }

    fn string(&self, value: &Value) -> String {
        self.eval(value).unwrap_or_else(|| panic!("no value: {value}"))
    }

    /// `None` for `AWS::NoValue`.
    fn eval(&self, value: &Value) -> Option<String> {
        let object = match value {
            Value::String(text) => return Some(text.clone()),
            Value::Number(n) => return Some(n.to_string()),
            Value::Object(object) if object.len() == 1 => object,
            other => panic!("cannot evaluate {other}"),
        };
        let (function, args) = object.iter().next().expect("one key");
        match function.as_str() {
            "Ref" => self.reference(args.as_str().expect("Ref name")),
            "Fn::If" => {
                let name = args[0].as_str().expect("condition name");
                let chosen = match self.condition(&self.template["Conditions"][name]) {
                    true => &args[1],
                    false => &args[2],
                };
                self.eval(chosen)
            }
            "Fn::Sub" => {
                let (text, vars) = match args {
                    Value::String(text) => (text.as_str(), serde_json::Map::new()),
                    Value::Array(parts) => (
                        parts[0].as_str().expect("Sub text"),
                        parts[1].as_object().cloned().unwrap_or_default(),
                    ),
                    other => panic!("Fn::Sub {other}"),
                };
                let mut out = String::new();
                let mut rest = text;
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let end = rest[start..].find('}').expect("closed ${") + start;
                    let name = &rest[start + 2..end];
                    let value = match vars.get(name) {
                        Some(value) => self.string(value),
                        None => self.reference(name).unwrap_or_default(),
                    };
                    out.push_str(&value);
                    rest = &rest[end + 1..];
                }
                out.push_str(rest);
                Some(out)
            }
            "Fn::FindInMap" => {
                let keys: Vec<String> = args.as_array().expect("keys").iter().map(|k| self.string(k)).collect();
                Some(self.string(&self.template["Mappings"][&keys[0]][&keys[1]][&keys[2]]))
            }
            "Fn::Select" => {
                let index: usize = self.string(&args[0]).parse().expect("index");
                let list = match &args[1] {
                    Value::Array(items) => items.iter().map(|i| self.string(i)).collect(),
                    other => self.list(other),
                };
                Some(list[index].clone())
            }
            other => panic!("the environment uses {other}: teach this test to evaluate it"),
        }
    }

    fn list(&self, value: &Value) -> Vec<String> {
        let args = &value["Fn::Split"];
        let separator = self.string(&args[0]);
        self.string(&args[1])
            .split(separator.as_str())
            .map(str::to_owned)
            .collect()
    }

    /// Each function's environment: the template's Globals, then the function's own variables.
    fn environments(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let globals = &self.template["Globals"]["Function"]["Environment"]["Variables"];
        let resources = self.template["Resources"].as_object().expect("Resources");
        let functions = resources
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function");
        functions
            .map(|(name, resource)| {
                let own = &resource["Properties"]["Environment"]["Variables"];
                let mut env = BTreeMap::new();
                for variables in [globals, own] {
                    for (key, value) in variables.as_object().into_iter().flatten() {
                        match self.eval(value) {
                            Some(value) => env.insert(key.clone(), value),
                            None => env.remove(key),
                        };
                    }
                }
                (name.clone(), env)
            })
            .collect()
    }
}

fn size(env: &BTreeMap<String, String>) -> usize {
    env.iter().map(|(key, value)| key.len() + value.len()).sum()
}

#[test]
fn the_template_keeps_every_environment_under_4_kb() {
    let template = hookrelay_e2e::template::load();
    let longest_uri = format!(
        "s3://{}/{}?versionId={}",
        "b".repeat(63),
        "config/".repeat(40),
        "v".repeat(32)
    );
    let with = |parameters: &[(&str, &str)]| Evaluator {
        template: &template,
        parameters: parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };

    // The documented path for a large config: HookrelayConfigS3Uri.
    let s3 = with(&[("HookrelayConfigS3Uri", &longest_uri)]).environments();
    assert_eq!(s3.len(), 3, "{s3:?}");
    for (function, env) in &s3 {
        assert_eq!(
            env.get("HOOKRELAY_CONFIG_FILE"),
            Some(&longest_uri),
            "{function}: {env:?}"
        );
        assert!(
            !env.contains_key("HOOKRELAY_CONFIG"),
            "{function}: both sources set: {env:?}"
        );
        assert!(size(env) < LAMBDA_ENV_LIMIT, "{function}: {} bytes", size(env));
    }

    // Least privilege: each role may read that one object (any version), nothing else in S3.
    let s3_policy = |evaluator: &Evaluator<'_>, function: &str| -> Option<(Value, String)> {
        let policies = template["Resources"][function]["Properties"]["Policies"].as_array()?;
        let conditional = policies.iter().find_map(|p| {
            let branches = p.get("Fn::If")?.as_array()?;
            (branches[0] == "UseS3Config").then(|| branches.clone())
        })?;
        let statement = conditional[1]["Statement"][0].clone();
        let resource = evaluator.string(&statement["Resource"]);
        assert_eq!(conditional[2], json!({"Ref": "AWS::NoValue"}), "{function}");
        Some((statement["Action"].clone(), resource))
    };
    let evaluator = with(&[(
        "HookrelayConfigS3Uri",
        "s3://my-config/hookrelay/prod.toml?versionId=v7",
    )]);
    for function in s3.keys() {
        let (actions, resource) =
            s3_policy(&evaluator, function).unwrap_or_else(|| panic!("{function} may not read the config object"));
        assert_eq!(actions, json!(["s3:GetObject", "s3:GetObjectVersion"]), "{function}");
        assert_eq!(
            resource, "arn:aws-us-gov:s3:::my-config/hookrelay/prod.toml",
            "{function}"
        );
        let unset = s3_policy(&with(&[]), function).map(|(_, resource)| resource);
        assert_eq!(
            unset.as_deref(),
            Some("arn:aws-us-gov:s3:::"),
            "{function}: the unused branch evaluates"
        );
    }

    // The built-in config, at the longest values its parameters allow.
    let builtin = with(&[
        ("WebhookSecretName", &"w".repeat(512)),
        ("AlgorithmApiKeySecretName", &"k".repeat(512)),
        ("AlgorithmApiBaseUrl", &format!("https://{}", "a".repeat(253))),
        (
            "Algorithm",
            &format!("{}/{}/{}", "o".repeat(50), "n".repeat(50), "v".repeat(20)),
        ),
    ])
    .environments();
    for (function, env) in &builtin {
        assert!(env["HOOKRELAY_CONFIG"].contains("[[route]]"), "{function}: {env:?}");
        assert!(!env.contains_key("HOOKRELAY_CONFIG_FILE"), "{function}: {env:?}");
        assert!(size(env) < LAMBDA_ENV_LIMIT, "{function}: {} bytes", size(env));
    }

    // Why HookrelayConfigS3Uri exists: the 30-route config as text would not deploy.
    let large = large_config();
    let inline = with(&[("HookrelayConfig", &large)]).environments();
    for (function, env) in &inline {
        assert!(size(env) > LAMBDA_ENV_LIMIT, "{function}: {} bytes", size(env));
    }
}
