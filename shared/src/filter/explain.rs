//! Why an event does not match a filter, for `hookrelay test-filter` (in the spirit of
//! `aws events test-event-pattern`). The decision is always [`Filter::matches`], the code the
//! ingress runs; the explanation then runs the same matcher on one field of each alternative at a
//! time to find the first that fails, and says what the event holds there.

use std::{fmt, path::Path};

use serde_json::Value;

use super::matcher::Alternative;
use super::walk::{Route, Walk, MAX_EVENT_DEPTH, ROUTE_BUDGET};
use super::{json_pattern, Filter};

/// How many values found at a field are shown.
const SHOWN_VALUES: usize = 3;
/// Longest value shown, in characters.
const SHOWN_CHARS: usize = 80;

/// The outcome of matching one event, with the reason when it does not match.
#[derive(Debug, Clone, PartialEq)]
pub enum Explanation {
    /// The event matches: [`Filter::matches`] holds.
    Match,
    /// One failure per alternative of the pattern (one unless it has `$or`), in pattern order.
    NoMatch(Vec<Failure>),
}

/// Why one alternative of the pattern does not match the event.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// `path` (dot-joined, e.g. `body.detail.state`) is the first field that fails on its own:
    /// `wanted` is its match values as written, `found` the values the event has there
    /// (empty when it has none).
    Field {
        /// The failing field's dot-joined path.
        path: String,
        /// Its match values as written in the pattern.
        wanted: String,
        /// The values the event has at that path, the first few only (empty when it has none).
        found: Vec<Value>,
    },
    /// Every field matches on its own, but not together: they match in different elements of
    /// an event array (or dotted keys made the event too ambiguous to search).
    Together {
        /// The dot-joined paths of all fields of the alternative.
        paths: Vec<String>,
    },
}

impl Filter {
    /// [`Filter::matches`], and when it does not match, why.
    pub fn explain(&self, event: &Value) -> Explanation {
        if self.matches(event) {
            return Explanation::Match;
        }
        Explanation::NoMatch(self.alternatives.iter().map(|a| first_failure(a, event)).collect())
    }
}

fn first_failure(alternative: &Alternative, event: &Value) -> Failure {
    let mut budget = ROUTE_BUDGET;
    let failing = (0..alternative.fields.len()).find(|&i| {
        let mut walk = Walk {
            fields: &alternative.fields[i..=i],
            budget: &mut budget,
        };
        !walk.holds(
            &[Route {
                field: 0,
                rest: Some(0),
            }],
            event,
            0,
        )
    });
    match failing {
        Some(i) => {
            let field = &alternative.fields[i];
            let mut found = Vec::new();
            values_at(event, &field.path, &mut found, 0);
            Failure::Field {
                path: field.path.to_string(),
                wanted: field.written.to_string(),
                found,
            }
        }
        None => Failure::Together {
            paths: alternative.fields.iter().map(|f| f.path.to_string()).collect(),
        },
    }
}

/// The values at a dot-joined `path` of `value`, looking through arrays and trying every way
/// dotted keys can split the path, as the matcher does; at most [`SHOWN_VALUES`] + 1.
fn values_at(value: &Value, path: &str, out: &mut Vec<Value>, depth: usize) {
    if out.len() > SHOWN_VALUES || depth > MAX_EVENT_DEPTH {
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|item| values_at(item, path, out, depth + 1)),
        Value::Object(object) => {
            for (at, byte) in path.bytes().enumerate() {
                if byte == b'.' {
                    if let Some(inner) = object.get(&path[..at]) {
                        values_at(inner, &path[at + 1..], out, depth + 1);
                    }
                }
            }
            match object.get(path) {
                Some(Value::Array(items)) => out.extend(items.iter().take(SHOWN_VALUES + 1).cloned()),
                Some(found) => out.push(found.clone()),
                None => {}
            }
        }
        _ => {}
    }
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHOWN_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SHOWN_CHARS).collect();
    format!("{cut}…")
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Field { path, wanted, found } => {
                let has = match found.as_slice() {
                    [] => "is missing".to_owned(),
                    [one] if !one.is_object() => format!("is {}", shown(one)),
                    many => {
                        let listed: Vec<String> = many.iter().take(SHOWN_VALUES).map(shown).collect();
                        let more = if many.len() > SHOWN_VALUES { ", …" } else { "" };
                        format!("has {}{more}", listed.join(", "))
                    }
                };
                write!(f, "`{path}` {has}; the pattern wants {wanted}")
            }
            Failure::Together { paths } => {
                let paths: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
                write!(
                    f,
                    "{} each match, but not in the same element of an event array",
                    paths.join(", ")
                )
            }
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Explanation::Match => f.write_str("match"),
            Explanation::NoMatch(failures) => match failures.as_slice() {
                [one] => write!(f, "no match: {one}"),
                many => {
                    f.write_str("no match: no `$or` alternative matches")?;
                    for (index, failure) in many.iter().enumerate() {
                        write!(f, "\n  alternative {}: {failure}", index + 1)?;
                    }
                    Ok(())
                }
            },
        }
    }
}

/// Input `hookrelay test-filter` cannot use, naming which (`pattern` or `event`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct BadInput {
    /// Which argument: `pattern` or `event`.
    pub what: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// `hookrelay test-filter --pattern <json|file> --event <json|file>`: each argument is JSON text
/// when it starts with `{`, else a file holding it. The pattern is a route's `filter` in JSON
/// (compiled exactly as the config compiles it); the event is the request as filters see it,
/// `{"method", "path", "query", "headers", "body"}`, any part left out being absent.
pub fn test_filter(pattern: &str, event: &str) -> Result<Explanation, BadInput> {
    let bad = |what| move |reason: String| BadInput { what, reason };
    let pattern_text = argument(pattern).map_err(bad("pattern"))?;
    let pattern = json_pattern::parse(&pattern_text).map_err(|e| bad("pattern")(e.to_string()))?;
    let filter = json_pattern::compile_for_request(&pattern).map_err(|e| bad("pattern")(e.to_string()))?;
    let event_text = argument(event).map_err(bad("event"))?;
    let event: Value =
        serde_json::from_str(&event_text).map_err(|e| bad("event")(format!("is not valid JSON: {e}")))?;
    let parts_only = event
        .as_object()
        .is_some_and(|o| o.keys().all(|k| json_pattern::REQUEST_PARTS.contains(&k.as_str())));
    if !parts_only {
        return Err(bad("event")(
            "must be the request as filters see it: an object of `method`, `path`, `query`, `headers` and `body` \
             (a webhook's JSON goes under `body`)"
                .to_owned(),
        ));
    }
    Ok(filter.explain(&event))
}

fn argument(text: &str) -> Result<String, String> {
    if text.trim_start().starts_with('{') {
        return Ok(text.to_owned());
    }
    std::fs::read_to_string(Path::new(text)).map_err(|e| format!("cannot read `{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn explain(pattern: Value, event: Value) -> String {
        let filter = Filter::compile(&pattern).unwrap_or_else(|e| panic!("{e}"));
        let explanation = filter.explain(&event);
        // The explanation never disagrees with the decision the ingress makes.
        assert_eq!(
            explanation == Explanation::Match,
            filter.matches(&event),
            "{pattern} on {event}"
        );
        explanation.to_string()
    }

    #[test]
    fn names_the_first_field_that_fails_and_what_is_there() {
        let pattern = json!({"body": {"detail": {"state": ["running"], "n": [{"numeric": [">", 5]}]}}});
        assert_eq!(
            explain(
                pattern.clone(),
                json!({"body": {"detail": {"state": "running", "n": 9}}})
            ),
            "match"
        );
        assert_eq!(
            explain(
                pattern.clone(),
                json!({"body": {"detail": {"state": "running", "n": 2}}})
            ),
            r#"no match: `body.detail.n` is 2; the pattern wants [{"numeric":[">",5]}]"#
        );
        assert_eq!(
            explain(
                pattern.clone(),
                json!({"body": {"detail": {"state": ["stopped", "pending"], "n": 9}}})
            ),
            r#"no match: `body.detail.state` has "stopped", "pending"; the pattern wants ["running"]"#
        );
        assert_eq!(
            explain(pattern, json!({"headers": {}})),
            r#"no match: `body.detail.n` is missing; the pattern wants [{"numeric":[">",5]}]"#
        );
        assert_eq!(
            explain(
                json!({"body": {"ref": [{"exists": false}]}}),
                json!({"body": {"ref": "x"}})
            ),
            r#"no match: `body.ref` is "x"; the pattern wants [{"exists":false}]"#
        );
        assert_eq!(
            explain(
                json!({"body": {"detail": ["x"]}}),
                json!({"body": {"detail": {"a": 1}}})
            ),
            r#"no match: `body.detail` has {"a":1}; the pattern wants ["x"]"#
        );
    }

    #[test]
    fn explains_each_or_alternative_and_fields_that_only_fail_together() {
        let or = json!({"$or": [{"body": {"a": ["1"]}}, {"headers": {"h": ["x"]}}]});
        assert_eq!(
            explain(or, json!({"body": {"a": "2"}})),
            "no match: no `$or` alternative matches\n  alternative 1: `body.a` is \"2\"; the pattern wants [\"1\"]\n  \
             alternative 2: `headers.h` is missing; the pattern wants [\"x\"]"
        );
        let pattern = json!({"body": {"e": {"first": ["Anna"], "last": ["Jones"]}}});
        let event = json!({"body": {"e": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}});
        assert_eq!(
            explain(pattern, event),
            "no match: `body.e.first`, `body.e.last` each match, but not in the same element of an event array"
        );
    }

    #[test]
    fn long_and_many_values_are_cut() {
        let long = "x".repeat(200);
        let text = explain(json!({"body": {"a": ["y"]}}), json!({"body": {"a": long}}));
        assert!(
            text.ends_with("…; the pattern wants [\"y\"]") && text.len() < 150,
            "{text}"
        );
        let text = explain(json!({"body": {"a": ["y"]}}), json!({"body": {"a": [1, 2, 3, 4, 5]}}));
        assert_eq!(text, "no match: `body.a` has 1, 2, 3, …; the pattern wants [\"y\"]");
    }

    #[test]
    fn test_filter_reads_json_or_files_and_names_bad_input() {
        let dir = std::env::temp_dir().join(format!("hookrelay-explain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("pattern.json");
        std::fs::write(&file, r#"{"body": {"state": [null]}}"#).unwrap_or_else(|e| panic!("{e}"));
        let path = file.to_string_lossy().into_owned();
        assert_eq!(
            test_filter(&path, r#"{"body": {"state": null}}"#),
            Ok(Explanation::Match)
        );
        let missing = dir.join("nope.json").to_string_lossy().into_owned();
        for (pattern, event, what, says) in [
            (missing.as_str(), "{}", "pattern", "cannot read"),
            (r#"{"body": {"a": ["1"]"#, "{}", "pattern", "is not valid JSON"),
            (
                r#"{"body": {"a": [{"prefixx": "1"}]}}"#,
                "{}",
                "pattern",
                "at `body.a[0]`: unknown operator `prefixx`",
            ),
            (r#"{"detail": {"a": ["1"]}}"#, "{}", "pattern", "at `detail`"),
            (r#"{"body": {"a": ["1"]}}"#, "{", "event", "is not valid JSON"),
            (
                r#"{"body": {"a": ["1"]}}"#,
                r#"{"detail": {}}"#,
                "event",
                "under `body`",
            ),
        ] {
            let e = test_filter(pattern, event)
                .err()
                .unwrap_or_else(|| panic!("{pattern} / {event} was accepted"));
            assert_eq!(e.what, what, "{e}");
            assert!(e.reason.contains(says), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }
}
