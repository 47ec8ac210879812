//! Route filters: the Amazon EventBridge / Lambda event-filtering pattern language, compiled once
//! at cold start and matched against every verified request.
//!
//! The language is AWS's, as documented in
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html> (syntax),
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>
//!   (comparison operators),
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html>,
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html>,
//! - <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html> ("Lambda supports
//!   the same set of syntax and rules as Amazon EventBridge"),
//!
//! with the gaps in the documentation filled in from AWS's own engine,
//! [`aws/event-ruler`](https://github.com/aws/event-ruler) (`JsonRuleCompiler`, `ACFinder`).
//!
//! # Semantics in brief
//! - A pattern is an object. Fields are ANDed; the values in a field's array are ORed; `$or` (an
//!   array of at least two objects, at any level) ORs whole sub-patterns.
//! - Field names are joined with `.`: `{"a": {"b": [..]}}` and `{"a.b": [..]}` are the same
//!   pattern, and both look at `{"a": {"b": ..}}` and at `{"a.b": ..}` in the event (documented
//!   under "Considerations when creating event patterns").
//! - A pattern value only ever matches a *leaf* of the event (a string, number, boolean or
//!   `null`). An event array is transparent: the field matches when any element does. Fields that
//!   lie in objects in *different* elements of the same event array never combine (event-ruler's
//!   array consistency): `{"e": {"first": ["Anna"], "last": ["Jones"]}}` does not match
//!   `{"e": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}`.
//! - Every operator except `exists: false` needs the field to be present as a leaf; `anything-but`
//!   does not match a missing field, but matches `null` and values of other types.
//! - `exists: false` holds when no leaf at that path is reachable; an object (or an empty array)
//!   at the path counts as absent ("exists matching only works on leaf nodes"). When the other
//!   fields of the pattern pick elements of an event array, only those elements are looked at.
//!   So `{"body": [{"exists": true}]}` does *not* match a JSON object body: name a field inside it.
//! - Numbers in exact matches compare by representation ("300, 300.0 and 3.0e2 are not considered
//!   equal"); as far as `serde_json` keeps it, that means integers never equal floats. `numeric`
//!   and numeric `anything-but` compare by value, exactly, to six decimal places, within
//!   ±5.0e9.
//!
//! Matching is a walk of the parts of the event the pattern names: linear in event size per
//! `$or` alternative, with wildcards matched by greedy substring search (no backtracking). The only
//! search is over ambiguous routes that dotted event keys create (`{"a": {"b": 1}, "a.b": 2}`),
//! and that is capped; past the cap the event does not match.
//!
//! # Layout
//! One concept per module. The modules form a chain without cycles: each uses only those listed
//! before it, never one after it; [`Filter`] and [`FilterError`], defined here, need only
//! `matcher`, and each module adds its part of `Filter`'s methods:
//! - `number`: numbers as `numeric` compares them (value × 10^6, exact, ±5.0e9);
//! - `fold`: full Unicode case folding for the ignore-case operators;
//! - `matcher`: the compiled form (alternatives, fields, matchers) and each matcher's test on a leaf;
//! - `operator`: one match value or operator object → a matcher;
//! - `compile`: a pattern's structure → alternatives, within the limits ([`Filter::compile`]);
//! - `walk`: routing each field through the event to its leaves ([`Filter::matches`]);
//! - [`json_pattern`]: patterns written as JSON text, and route filters naming request parts;
//! - `explain`: why an event does not match, for `hookrelay test-filter` ([`Filter::explain`]).

mod number;

mod fold;

mod matcher;

mod operator;

mod compile;

mod walk;

pub mod json_pattern;

mod explain;

pub use self::explain::{test_filter, BadInput, Explanation, Failure};
use self::matcher::Alternative;

/// A validated pattern, compiled once at cold start: built by [`Filter::compile`] (`compile.rs`),
/// matched by [`Filter::matches`] (`walk.rs`), explained by [`Filter::explain`] (`explain.rs`).
#[derive(Debug, Clone)]
pub struct Filter {
    /// The pattern in disjunctive normal form: it matches when any alternative does.
    alternatives: Vec<Alternative>,
}

/// Why a pattern was rejected, and where: `path` is a JSON path within the pattern such as
/// `body.triggerEvent[0]` (empty for the pattern itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", location(.path), .reason)]
pub struct FilterError {
    /// Where in the pattern, e.g. `body.triggerEvent[0]`; empty for the pattern as a whole.
    pub path: String,
    /// What is wrong there, e.g. "unknown operator `prefixx`".
    pub reason: String,
}

fn location(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("at `{path}`: ")
    }
}

impl Filter {
    /// Whether any field of the pattern is `part`'s top-level `key` or lies under it:
    /// `body.a.b` reads `("body", "a")`, `headers.x-github-event` reads `("headers", "x-github-event")`.
    /// Leaving out of the event what no field reads cannot change a match.
    pub fn reads(&self, part: &str, key: &str) -> bool {
        self.alternatives
            .iter()
            .flat_map(|a| &a.fields)
            .any(|field| match field.path.strip_prefix(part) {
                Some("") => true,
                Some(rest) => rest
                    .strip_prefix('.')
                    .and_then(|rest| rest.strip_prefix(key))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.')),
                None => false,
            })
    }

    /// [`Filter::reads`] of the body.
    pub fn reads_body_field(&self, key: &str) -> bool {
        self.reads("body", key)
    }
}

fn error(path: &str, reason: impl Into<String>) -> FilterError {
    FilterError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests;
