//! Walking the event for a compiled filter: each field of an alternative follows its dot-joined
//! path through the event's objects (along every spelling dotted event keys allow) to the leaves
//! its matchers test, and the fields of one alternative stay within the same element of every
//! event array.

use serde_json::{Map, Value};

use super::matcher::{Field, Test};
use super::Filter;

/// Deepest event nesting looked at (bodies parsed by `serde_json` stop at 128 anyway).
pub(super) const MAX_EVENT_DEPTH: usize = 512;
/// Route combinations tried per `matches` call when dotted event keys make routes ambiguous.
pub(super) const ROUTE_BUDGET: usize = 1024;

impl Filter {
    /// `event` is the object the filter looks at; hookrelay passes `{"method", "path", "query":
    /// {name: value}, "headers": {lower-cased name: value}, "body": <parsed JSON body or absent>}`.
    pub fn matches(&self, event: &Value) -> bool {
        let mut budget = ROUTE_BUDGET;
        self.alternatives.iter().any(|alternative| {
            let mut walk = Walk {
                fields: &alternative.fields,
                budget: &mut budget,
            };
            let routes: Vec<Route> = (0..alternative.fields.len())
                .map(|field| Route { field, rest: Some(0) })
                .collect();
            walk.holds(&routes, event, 0)
        })
    }
}

/// Where one field stands in the walk: `rest` is the byte offset of the part of its path still to
/// find in the event, `None` once the whole path has been walked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Route {
    pub(super) field: usize,
    pub(super) rest: Option<usize>,
}

/// One alternative's fields being walked through the event, and the route combinations left to
/// try ([`ROUTE_BUDGET`], shared by all alternatives of one `matches` call).
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
