//! The alerts of template.yaml: every alarm notifies the alerts topic (when it fires and when it
//! recovers), watches a resource the template creates, takes its threshold from a parameter with a
//! default, and links a runbook entry that exists in docs/operations.md; the e-mail subscription
//! exists only when an address is given; the saved Logs Insights queries read fields the real
//! functions log.

use std::collections::BTreeSet;

use serde_json::{json, Value};

fn alarms(template: &Value) -> Vec<(&String, &Value)> {
    template["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::CloudWatch::Alarm")
        .collect()
}

/// The resource type a CloudWatch namespace's metrics are about (the only two the template uses).
fn measured_kind(namespace: &str) -> &'static str {
    match namespace {
        "AWS/SQS" => "AWS::SQS::Queue",
        "AWS/Lambda" => "AWS::Serverless::Function",
        other => panic!("namespace {other:?}"),
    }
}

/// GitHub's anchors of the Markdown headings in `text`.
fn heading_anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn every_alarm_notifies_the_alerts_topic_and_links_its_runbook() {
    let template = hookrelay_e2e::template::load();
    let runbooks = std::fs::read_to_string(hookrelay_e2e::util::workspace_root().join("docs/operations.md"))
        .expect("docs/operations.md");
    let anchors = heading_anchors(&runbooks);
    let alarms = alarms(&template);
    assert!(alarms.len() >= 4, "{} alarms", alarms.len());
    let topic = json!([{ "Ref": "AlertsTopic" }]);
    assert_eq!(template["Resources"]["AlertsTopic"]["Type"], "AWS::SNS::Topic");
    let mut linked = BTreeSet::new();
    for (name, alarm) in alarms {
        let properties = &alarm["Properties"];
        assert_eq!(properties["AlarmActions"], topic, "{name}");
        assert_eq!(properties["OKActions"], topic, "{name}");
        assert!(
            runbooks.contains(&format!("`{name}`")),
            "docs/operations.md does not list {name}"
        );
        let description = properties["AlarmDescription"]["Fn::Sub"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: the description is a !Sub with the runbook link"));
        let (_, anchor) = description
            .split_once("${RunbookUrl}#")
            .unwrap_or_else(|| panic!("{name}: no ${{RunbookUrl}}#entry in {description:?}"));
        let anchor: String = anchor.chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(anchors.contains(&anchor), "{name}: docs/operations.md has no #{anchor}");
        assert!(
            linked.insert(anchor.clone()),
            "{name}: #{anchor} is another alarm's runbook"
        );
        // Every ${...} of the description is a parameter (a typo would deploy as literal text).
        for reference in description.split("${").skip(1) {
            let parameter = reference.split('}').next().unwrap();
            assert!(
                template["Parameters"].get(parameter).is_some(),
                "{name}: ${{{parameter}}} is no parameter"
            );
        }
        // The threshold: a number, or a parameter with a default.
        match &properties["Threshold"] {
            Value::Number(_) => {}
            Value::Object(reference) => {
                let parameter = reference["Ref"].as_str().expect("Ref");
                assert!(
                    template["Parameters"][parameter].get("Default").is_some(),
                    "{name}: threshold parameter {parameter} has no default"
                );
            }
            other => panic!("{name}: threshold {other}"),
        }
        // What it watches is a resource of this template, of the kind the namespace measures.
        let kind = measured_kind(properties["Namespace"].as_str().unwrap_or_default());
        let dimensions = properties["Dimensions"].as_array().expect("Dimensions");
        assert_eq!(dimensions.len(), 1, "{name}");
        let value = &dimensions[0]["Value"];
        let resource = value["Ref"]
            .as_str()
            .or_else(|| value["Fn::GetAtt"][0].as_str())
            .or_else(|| value["Fn::GetAtt"].as_str().and_then(|a| a.split('.').next()))
            .unwrap_or_else(|| panic!("{name}: dimension {value}"));
        assert_eq!(
            template["Resources"][resource]["Type"], kind,
            "{name} watches {resource}"
        );
    }
}

#[test]
fn the_email_subscription_exists_only_with_an_address() {
    let template = hookrelay_e2e::template::load();
    let subscription = &template["Resources"]["AlertsEmailSubscription"];
    assert_eq!(subscription["Type"], "AWS::SNS::Subscription");
    assert_eq!(subscription["Condition"], "HasAlertEmail");
    assert_eq!(subscription["Properties"]["Endpoint"], json!({ "Ref": "AlertEmail" }));
    assert_eq!(subscription["Properties"]["TopicArn"], json!({ "Ref": "AlertsTopic" }));
    assert_eq!(
        template["Conditions"]["HasAlertEmail"],
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "AlertEmail" }, ""] }] })
    );
    assert_eq!(template["Parameters"]["AlertEmail"]["Default"], "");
    assert_eq!(
        template["Outputs"]["AlertsTopicArn"]["Value"],
        json!({ "Ref": "AlertsTopic" })
    );
}

/// The `fields.x` / `span.x` paths a Logs Insights query reads.
fn query_fields(query: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in query.match_indices("fields.").chain(query.match_indices("span.")) {
        let before = query[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let path: String = query[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        found.insert(path);
    }
    found
}

/// Whether some JSON log line has a value at `path` (`fields.id`, `span.route`).
fn logged(lines: &[Value], path: &str) -> bool {
    lines.iter().any(|line| {
        path.split('.')
            .try_fold(line, |value, key| value.get(key))
            .is_some_and(|value| !value.is_null())
    })
}

/// The saved queries read fields the functions really log: the real binaries run with JSON logs,
/// see a rejected webhook, a delivered one and a dead-lettered one, and every `fields.*` /
/// `span.*` a query of template.yaml reads is in the log lines of the functions it searches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saved_queries_read_fields_the_functions_log() {
    use hookrelay_e2e::{Failure, GithubDelivery};

    use crate::{options, start, GITHUB_ROUTE, GITHUB_SECRET};

    let s = start(options(GITHUB_ROUTE).env("AWS_LAMBDA_LOG_FORMAT", "JSON")).await;
    s.algorithm.fail_when(
        |r| r.body_text().contains("indigestible"),
        Failure::AlgorithmError("cannot digest this".into()),
    );
    let url = s.url("/hooks/github");
    let rejected = GithubDelivery::json("not-the-secret", r#"{"n":1}"#)
        .send(&s.http, &url)
        .await;
    assert_eq!(rejected.status, 401, "{rejected}");
    for body in [r#"{"n":2}"#, r#"{"n":3,"indigestible":true}"#] {
        let reply = GithubDelivery::json(GITHUB_SECRET, body).send(&s.http, &url).await;
        assert_eq!(reply.status, 200, "{reply}");
    }
    let json_lines = |process: &hookrelay_e2e::FunctionProcess| -> Vec<Value> {
        process
            .logs()
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(&l.line).ok())
            .collect()
    };
    s.wait_for("both jobs done and one dead-lettered", || async {
        let worker = json_lines(&s.worker);
        let done = worker
            .iter()
            .filter(|l| l["fields"]["message"] == "record done")
            .count();
        let dead = worker.iter().any(|l| l["fields"]["decision"] == "dead-lettered");
        (done >= 2 && dead).then_some(())
    })
    .await;

    let template = hookrelay_e2e::template::load();
    let groups = [
        ("IngressLogGroup", json_lines(&s.ingress)),
        ("WorkerLogGroup", json_lines(&s.worker)),
        ("S3RelayLogGroup", json_lines(&s.s3_relay)),
    ];
    let queries: Vec<_> = template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::QueryDefinition")
        .collect();
    assert!(queries.len() >= 3, "{} saved queries", queries.len());
    let mut problems = Vec::new();
    for (name, query) in queries {
        let text = query["Properties"]["QueryString"].as_str().expect("QueryString");
        let searched: Vec<&str> = query["Properties"]["LogGroupNames"]
            .as_array()
            .expect("LogGroupNames")
            .iter()
            .map(|g| g["Ref"].as_str().expect("a log group of the template"))
            .collect();
        let lines: Vec<Value> = groups
            .iter()
            .filter(|(group, _)| searched.contains(group))
            .flat_map(|(_, lines)| lines.iter().cloned())
            .collect();
        assert_eq!(
            searched.len(),
            groups.iter().filter(|(g, _)| searched.contains(g)).count(),
            "{name}"
        );
        for field in query_fields(text) {
            if !logged(&lines, &field) {
                problems.push(format!("{name}: no log line of {searched:?} has `{field}`"));
            }
        }
    }
    if !problems.is_empty() {
        s.fail(&problems.join("\n")).await;
    }
}

/// The dashboard's body is valid JSON once CloudFormation substitutes it, and every metric it
/// draws watches a resource of this template of the kind its namespace measures.
#[test]
fn the_dashboard_draws_this_stacks_resources() {
    let template = hookrelay_e2e::template::load();
    let dashboard = &template["Resources"]["OperationsDashboard"];
    assert_eq!(dashboard["Type"], "AWS::CloudWatch::Dashboard");
    let body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("the body is a !Sub string");
    // Substitute as CloudFormation would, remembering what each ${...} named.
    let mut substituted = String::new();
    let mut named = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${...}") + start;
        let name = &rest[start + 2..end];
        let resource = name.split('.').next().unwrap();
        assert!(
            name.starts_with("AWS::")
                || template["Parameters"].get(name).is_some()
                || template["Resources"].get(resource).is_some(),
            "${{{name}}} names nothing in the template"
        );
        substituted.push_str(&format!("<{name}>"));
        named.push(name.to_owned());
        rest = &rest[end + 1..];
    }
    substituted.push_str(rest);
    let body: Value = serde_json::from_str(&substituted).unwrap_or_else(|e| panic!("dashboard JSON: {e}"));
    let widgets = body["widgets"].as_array().expect("widgets");
    assert!(widgets.len() >= 4);
    let mut drawn = 0;
    for widget in widgets {
        for metric in widget["properties"]["metrics"].as_array().expect("metrics") {
            let (namespace, dimension) = (metric[0].as_str().unwrap(), metric[3].as_str().unwrap());
            let resource = dimension.trim_matches(['<', '>']).split('.').next().unwrap();
            let kind = measured_kind(namespace);
            assert_eq!(template["Resources"][resource]["Type"], kind, "{metric}");
            drawn += 1;
        }
    }
    assert!(drawn >= 10, "{drawn} metrics");
    for queue in ["JobsQueue.QueueName", "DeadLetterQueue.QueueName"] {
        assert!(named.iter().any(|n| n == queue), "the dashboard does not draw {queue}");
    }
}
