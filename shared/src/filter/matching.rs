//! Matching a compiled filter against an event: each matcher on a leaf, and the walk that keeps
//! the fields of one alternative within the same element of every event array.

use serde_json::{Map, Value};

use super::number::Scaled;
use super::{fold, AnythingBut, Field, Matcher, Test, MAX_EVENT_DEPTH};

impl Matcher {
    /// Whether this matches a leaf (a string, number, boolean or null) of the event.
    fn matches(&self, leaf: &Value) -> bool {
        match self {
            Matcher::Exact(expected) => expected == leaf,
            Matcher::Exists => true,
            Matcher::Numeric(range) => leaf.as_number().is_some_and(|n| range.contains(n)),
            Matcher::AnythingBut(but) => !but.excludes(leaf),
            _ => {
                let Some(text) = leaf.as_str() else { return false };
                match self {
                    Matcher::Prefix(prefix) => text.starts_with(prefix.as_str()),
                    Matcher::PrefixIgnoreCase(prefix) => fold::starts_with(text, prefix),
                    Matcher::Suffix(suffix) => text.ends_with(suffix.as_str()),
                    Matcher::SuffixIgnoreCase(suffix) => fold::ends_with(text, suffix),
                    Matcher::EqualsIgnoreCase(expected) => fold::equals(text, expected),
                    Matcher::Wildcard(wildcard) => wildcard.matches(text),
                    Matcher::Cidr(cidr) => cidr.contains(text),
                    _ => false,
                }
            }
        }
    }
}

impl AnythingBut {
    /// Whether the leaf is one of the excluded values. Leaves of another type are never excluded:
    /// `{"anything-but": {"prefix": "init"}}` matches `12` and `null`.
    fn excludes(&self, leaf: &Value) -> bool {
        match (self, leaf) {
            (AnythingBut::Numbers(numbers), Value::Number(n)) => {
                Scaled::of(n).is_some_and(|value| numbers.iter().any(|b| value.equals(*b)))
            }
            (AnythingBut::Strings(strings), Value::String(s)) => strings.iter().any(|x| x == s),
            (AnythingBut::Prefixes(prefixes), Value::String(s)) => prefixes.iter().any(|p| s.starts_with(p.as_str())),
            (AnythingBut::Suffixes(suffixes), Value::String(s)) => suffixes.iter().any(|p| s.ends_with(p.as_str())),
            (AnythingBut::IgnoreCase(values), Value::String(s)) => values.iter().any(|v| fold::equals(s, v)),
            (AnythingBut::Wildcards(wildcards), Value::String(s)) => wildcards.iter().any(|w| w.matches(s)),
            _ => false,
        }
    }
}

/// Where one field stands in the walk: `rest` is the byte offset of the part of its path still to
/// find in the event, `None` once the whole path has been walked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Route {
    pub(super) field: usize,
    pub(super) rest: Option<usize>,
}

pub(super) struct Walk<'f, 'b> {
    pub(super) fields: &'f [Field],
    pub(super) budget: &'b mut usize,
}

impl Walk<'_, '_> {
    fn positive(&self, route: &Route) -> bool {
        matches!(self.fields[route.field].test, Test::Present(_))
    }

    /// Whether all these fields hold together in `value`, choosing the same element of every
    /// event array for all of them.
    pub(super) fn holds(&mut self, routes: &[Route], value: &Value, depth: usize) -> bool {
        if routes.is_empty() {
            return true;
        }
        if depth > MAX_EVENT_DEPTH {
            return false;
        }
        match value {
            // A field that needs a leaf is satisfied by one element, and the fields walking
            // through this array together must all be satisfied by that same element. Fields that
            // only need absence (nothing else here picks an element) need it in every element.
            Value::Array(items) => {
                if routes.iter().any(|r| self.positive(r)) {
                    items.iter().any(|item| self.holds(routes, item, depth + 1))
                } else {
                    items.iter().all(|item| self.holds(routes, item, depth + 1))
                }
            }
            Value::Object(object) => self.holds_in_object(routes, object, depth),
            leaf => routes
                .iter()
                .all(|route| match (&self.fields[route.field].test, route.rest) {
                    (Test::Present(matchers), None) => matchers.iter().any(|m| m.matches(leaf)),
                    (Test::Absent, None) => false,
                    (Test::Present(_), Some(_)) => false,
                    (Test::Absent, Some(_)) => true,
                }),
        }
    }

    fn holds_in_object(&mut self, routes: &[Route], object: &Map<String, Value>, depth: usize) -> bool {
        let mut fixed: Vec<(&String, &Value, Route)> = Vec::with_capacity(routes.len());
        let mut choices: Vec<Vec<(&String, &Value, Route)>> = Vec::new();
        for route in routes {
            let field = &self.fields[route.field];
            let Some(offset) = route.rest else {
                // The path ends at an object, which is not a leaf.
                if self.positive(route) {
                    return false;
                }
                continue;
            };
            let rest = &field.path[offset..];
            let mut candidates = Vec::new();
            for (at, byte) in rest.bytes().enumerate() {
                if byte == b'.' {
                    if let Some((key, value)) = object.get_key_value(&rest[..at]) {
                        let next = Route {
                            field: route.field,
                            rest: Some(offset + at + 1),
                        };
                        candidates.push((key, value, next));
                    }
                }
            }
            if let Some((key, value)) = object.get_key_value(rest) {
                candidates.push((
                    key,
                    value,
                    Route {
                        field: route.field,
                        rest: None,
                    },
                ));
            }
            match (&field.test, candidates.len()) {
                // Absence must hold along every route.
                (Test::Absent, _) => fixed.extend(candidates),
                (Test::Present(_), 0) => return false,
                (Test::Present(_), 1) => fixed.extend(candidates),
                (Test::Present(_), _) => choices.push(candidates),
            }
        }
        if choices.is_empty() {
            return self.holds_per_key(fixed, depth);
        }
        // Dotted keys gave some fields more than one route: try the combinations, within budget.
        let mut picks = vec![0usize; choices.len()];
        loop {
            if *self.budget == 0 {
                return false;
            }
            *self.budget -= 1;
            let mut routed = fixed.clone();
            routed.extend(choices.iter().zip(&picks).map(|(options, &pick)| options[pick]));
            if self.holds_per_key(routed, depth) {
                return true;
            }
            let mut digit = 0;
            loop {
                if digit == picks.len() {
                    return false;
                }
                picks[digit] += 1;
                if picks[digit] < choices[digit].len() {
                    break;
                }
                picks[digit] = 0;
                digit += 1;
            }
        }
    }

    /// Different keys of an object share no arrays, so each key's fields are checked on their own.
    fn holds_per_key(&mut self, mut routed: Vec<(&String, &Value, Route)>, depth: usize) -> bool {
        routed.sort_by(|a, b| a.0.cmp(b.0));
        let mut start = 0;
        while start < routed.len() {
            let key = routed[start].0;
            let end = start + routed[start..].iter().take_while(|r| r.0 == key).count();
            let routes: Vec<Route> = routed[start..end].iter().map(|r| r.2).collect();
            if !self.holds(&routes, routed[start].1, depth + 1) {
                return false;
            }
            start = end;
        }
        true
    }
}
