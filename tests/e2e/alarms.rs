//! The alerts of template.yaml: every alarm notifies the alerts topic (when it fires and when it
//! recovers), watches a resource the template creates, takes its threshold from a parameter with a
//! default, and links a runbook entry that exists in docs/operations.md; the e-mail subscription
//! exists only when an address is given.

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
        let kind = match properties["Namespace"].as_str() {
            Some("AWS/SQS") => "AWS::SQS::Queue",
            Some("AWS/Lambda") => "AWS::Serverless::Function",
            other => panic!("{name}: namespace {other:?}"),
        };
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
