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

mod explain;
mod fold;
pub mod json_pattern;

use std::{net::IpAddr, sync::Arc};

use serde_json::{Map, Number, Value};

pub use self::explain::{test_filter, BadInput, Explanation, Failure};
use self::fold::fold;

/// `$or` alternatives and mixed `exists: false` fields multiply out; a pattern may expand to at
/// most this many alternatives. (AWS rejects "too complex" rules too, without a documented number.)
const MAX_ALTERNATIVES: usize = 1024;
/// Deepest pattern nesting accepted.
const MAX_PATTERN_DEPTH: usize = 64;
/// Deepest event nesting looked at (bodies parsed by `serde_json` stop at 128 anyway).
const MAX_EVENT_DEPTH: usize = 512;
/// Route combinations tried per `matches` call when dotted event keys make routes ambiguous.
const ROUTE_BUDGET: usize = 1024;
/// `numeric` range limit, ±5.0e9, scaled by 10^6 (six decimal places).
const NUMERIC_LIMIT: i128 = 5_000_000_000 * SCALE;
const SCALE: i128 = 1_000_000;

/// event-ruler's reserved words: they cannot be field names inside `$or`
/// (`Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
];

/// A validated pattern, compiled once at cold start.
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
    pub path: String,
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
    /// `pattern` is the TOML-decoded value (serde_json::Value). Errors say what is wrong and where,
    /// as a JSON path within the pattern, e.g. "at `body.triggerEvent[0]`: unknown operator `prefixx`".
    pub fn compile(pattern: &Value) -> Result<Filter, FilterError> {
        let Value::Object(object) = pattern else {
            return Err(error("", "a filter pattern must be an object"));
        };
        let drafts = compile_object(object, None, "", false, 0)?;
        let mut alternatives = Vec::with_capacity(drafts.len());
        for mut fields in drafts {
            fields.sort_by(|a, b| a.path.cmp(&b.path));
            if let Some(pair) = fields.windows(2).find(|w| w[0].path == w[1].path) {
                let (first, second) = (&pair[0], &pair[1]);
                return Err(error(
                    &second.at,
                    format!(
                        "field `{}` is also given at `{}`; AWS would silently keep only one of them",
                        second.path, first.at
                    ),
                ));
            }
            alternatives.push(Alternative {
                fields: fields
                    .into_iter()
                    .map(|d| Field {
                        path: d.path,
                        test: d.test,
                        written: d.written,
                    })
                    .collect(),
            });
        }
        Ok(Filter { alternatives })
    }

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

fn error(path: &str, reason: impl Into<String>) -> FilterError {
    FilterError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

// ---- compiled form ------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Alternative {
    fields: Vec<Field>,
}

/// One field of one alternative: a dot-joined path and what must hold there.
#[derive(Debug, Clone)]
struct Field {
    path: Arc<str>,
    test: Test,
    /// The field's match values as written, for explanations.
    written: Arc<str>,
}

#[derive(Debug, Clone)]
enum Test {
    /// `exists: false`: no leaf at the path.
    Absent,
    /// A leaf at the path matches one of these.
    Present(Arc<[Matcher]>),
}

#[derive(Debug, Clone)]
enum Matcher {
    /// A string, number, boolean or `null`, compared as JSON.
    Exact(Value),
    /// `exists: true`.
    Exists,
    Prefix(String),
    /// Case-folded (full Unicode folding, see `fold`).
    PrefixIgnoreCase(String),
    Suffix(String),
    /// Case-folded.
    SuffixIgnoreCase(String),
    /// Case-folded.
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(Cidr),
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone)]
enum AnythingBut {
    Strings(Vec<String>),
    Numbers(Vec<i128>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    /// Case-folded.
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

/// A `numeric` condition on value × 10^6; bounds are `(bound, inclusive)`.
#[derive(Debug, Clone, Copy)]
struct Range {
    low: Option<(i128, bool)>,
    high: Option<(i128, bool)>,
}

#[derive(Debug, Clone, Copy)]
struct Cidr {
    network: IpAddr,
    bits: u8,
}

/// A wildcard pattern as the literal parts between its `*`s (so `parts.len()` = stars + 1).
#[derive(Debug, Clone)]
struct Wildcard {
    parts: Vec<String>,
}

// ---- compiling ----------------------------------------------------------------------------------

/// A field while the pattern is being expanded: `at` is where it was written, for errors.
#[derive(Clone)]
struct Draft {
    path: Arc<str>,
    test: Test,
    at: Arc<str>,
    written: Arc<str>,
}

/// What one value in a field's array turns into.
enum Item {
    Absent,
    Matcher(Matcher),
}

/// `parent.key`, quoting keys the way TOML would (`"$or"`, `"a.b"`), since that is how they are
/// written in hookrelay's config.
fn key_path(parent: &str, key: &str) -> String {
    let bare = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let key = if bare {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Expands an object of the pattern into alternatives, each a list of fields.
fn compile_object(
    object: &Map<String, Value>,
    prefix: Option<&str>,
    at: &str,
    in_or: bool,
    depth: usize,
) -> Result<Vec<Vec<Draft>>, FilterError> {
    if depth > MAX_PATTERN_DEPTH {
        return Err(error(
            at,
            format!("the pattern is nested more than {MAX_PATTERN_DEPTH} levels deep"),
        ));
    }
    if object.is_empty() {
        return Err(error(at, "empty objects are not allowed"));
    }
    let mut alternatives = vec![Vec::new()];
    for (key, value) in object {
        let here = key_path(at, key);
        if key == "$or" {
            let options = compile_or(value, prefix, &here, depth)?;
            alternatives = cross(alternatives, &options, &here)?;
            continue;
        }
        if in_or && RESERVED_IN_OR.contains(&key.as_str()) {
            return Err(error(
                &here,
                format!("`{key}` is an operator name, so it cannot be a field name inside `$or`"),
            ));
        }
        let path = match prefix {
            None => key.clone(),
            Some(prefix) => format!("{prefix}.{key}"),
        };
        let options = match value {
            Value::Object(inner) => compile_object(inner, Some(&path), &here, in_or, depth + 1)?,
            Value::Array(items) => {
                let path: Arc<str> = path.into();
                let at: Arc<str> = here.as_str().into();
                let written: Arc<str> = value.to_string().into();
                compile_field(items, &here)?
                    .into_iter()
                    .map(|test| {
                        vec![Draft {
                            path: path.clone(),
                            test,
                            at: at.clone(),
                            written: written.clone(),
                        }]
                    })
                    .collect()
            }
            _ => {
                return Err(error(
                    &here,
                    "must be an object of fields or an array of match values, e.g. `[\"value\"]`",
                ))
            }
        };
        alternatives = cross(alternatives, &options, &here)?;
    }
    Ok(alternatives)
}

fn compile_or(value: &Value, prefix: Option<&str>, at: &str, depth: usize) -> Result<Vec<Vec<Draft>>, FilterError> {
    let items = match value {
        Value::Array(items) if items.len() >= 2 => items,
        _ => return Err(error(at, "`$or` must be an array of at least two objects")),
    };
    let mut options = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let here = index_path(at, index);
        let Value::Object(object) = item else {
            return Err(error(&here, "each `$or` alternative must be an object"));
        };
        options.extend(compile_object(object, prefix, &here, true, depth + 1)?);
        if options.len() > MAX_ALTERNATIVES {
            return Err(too_many(at));
        }
    }
    Ok(options)
}

fn too_many(at: &str) -> FilterError {
    error(
        at,
        format!("the pattern expands to more than {MAX_ALTERNATIVES} alternatives (`$or` and `exists: false` combine multiplicatively); simplify it"),
    )
}

/// Every alternative so far, ANDed with every option.
fn cross(so_far: Vec<Vec<Draft>>, options: &[Vec<Draft>], at: &str) -> Result<Vec<Vec<Draft>>, FilterError> {
    if so_far.len().saturating_mul(options.len()) > MAX_ALTERNATIVES {
        return Err(too_many(at));
    }
    if options.len() == 1 {
        let option = &options[0];
        return Ok(so_far
            .into_iter()
            .map(|mut fields| {
                fields.extend(option.iter().cloned());
                fields
            })
            .collect());
    }
    Ok(so_far
        .iter()
        .flat_map(|fields| {
            options.iter().map(move |option| {
                let mut fields = fields.clone();
                fields.extend(option.iter().cloned());
                fields
            })
        })
        .collect())
}

/// A field's array of match values: one test, or two when `exists: false` is ORed with others.
fn compile_field(items: &[Value], at: &str) -> Result<Vec<Test>, FilterError> {
    if items.is_empty() {
        return Err(error(at, "empty arrays are not allowed"));
    }
    let mut matchers = Vec::new();
    let mut absent = false;
    for (index, item) in items.iter().enumerate() {
        let here = index_path(at, index);
        match item {
            Value::Object(operator) => match compile_operator(operator, &here)? {
                Item::Absent => absent = true,
                Item::Matcher(matcher) => matchers.push(matcher),
            },
            Value::Array(_) => {
                return Err(error(
                    &here,
                    "a match value must be a string, number, boolean, null or an operator object, not an array",
                ))
            }
            scalar => matchers.push(Matcher::Exact(scalar.clone())),
        }
    }
    let mut tests = Vec::with_capacity(2);
    if !matchers.is_empty() {
        tests.push(Test::Present(matchers.into()));
    }
    if absent {
        tests.push(Test::Absent);
    }
    Ok(tests)
}

fn compile_operator(operator: &Map<String, Value>, at: &str) -> Result<Item, FilterError> {
    let mut entries = operator.iter();
    let (name, argument) = match (entries.next(), entries.next()) {
        (Some(entry), None) => entry,
        (None, _) => {
            return Err(error(
                at,
                "an operator object needs an operator, e.g. `{\"prefix\": \"a\"}`",
            ))
        }
        (Some(_), Some(_)) => {
            let names: Vec<String> = operator.keys().map(|k| format!("`{k}`")).collect();
            return Err(error(
                at,
                format!(
                    "an operator object holds exactly one operator, found {}; list alternatives as separate array elements",
                    names.join(", ")
                ),
            ));
        }
    };
    let matcher = match name.as_str() {
        "prefix" => match string_or_ignore_case(argument, at, "prefix")? {
            (text, false) => Matcher::Prefix(text.to_owned()),
            (text, true) => Matcher::PrefixIgnoreCase(fold(text)),
        },
        "suffix" => match string_or_ignore_case(argument, at, "suffix")? {
            (text, false) => Matcher::Suffix(text.to_owned()),
            (text, true) => Matcher::SuffixIgnoreCase(fold(text)),
        },
        "equals-ignore-case" => Matcher::EqualsIgnoreCase(fold(string_argument(argument, at, name)?)),
        "wildcard" => Matcher::Wildcard(Wildcard::parse(string_argument(argument, at, name)?, at)?),
        "anything-but" => Matcher::AnythingBut(compile_anything_but(argument, at)?),
        "numeric" => Matcher::Numeric(compile_numeric(argument, at)?),
        "cidr" => Matcher::Cidr(Cidr::parse(string_argument(argument, at, name)?, at)?),
        "exists" => match argument {
            Value::Bool(true) => Matcher::Exists,
            Value::Bool(false) => return Ok(Item::Absent),
            _ => return Err(error(at, "`exists` must be true or false")),
        },
        other => return Err(error(at, format!("unknown operator `{other}`"))),
    };
    Ok(Item::Matcher(matcher))
}

fn string_argument<'v>(argument: &'v Value, at: &str, operator: &str) -> Result<&'v str, FilterError> {
    argument
        .as_str()
        .ok_or_else(|| error(at, format!("`{operator}` must be a string")))
}

/// `"text"` or `{"equals-ignore-case": "text"}`, for `prefix` and `suffix`.
fn string_or_ignore_case<'v>(argument: &'v Value, at: &str, operator: &str) -> Result<(&'v str, bool), FilterError> {
    match argument {
        Value::String(text) => Ok((text, false)),
        Value::Object(inner) => match single_entry(inner) {
            Some(("equals-ignore-case", Value::String(text))) => Ok((text, true)),
            Some(("equals-ignore-case", _)) => Err(error(at, "`equals-ignore-case` must be a string")),
            _ => Err(error(
                at,
                format!("`{operator}` takes a string or `{{\"equals-ignore-case\": \"...\"}}`"),
            )),
        },
        _ => Err(error(at, format!("`{operator}` must be a string"))),
    }
}

fn single_entry(object: &Map<String, Value>) -> Option<(&str, &Value)> {
    let mut entries = object.iter();
    match (entries.next(), entries.next()) {
        (Some((key, value)), None) => Some((key, value)),
        _ => None,
    }
}

fn compile_anything_but(argument: &Value, at: &str) -> Result<AnythingBut, FilterError> {
    const SHAPE: &str = "`anything-but` takes a string, a number, a non-empty list of only strings or only numbers, \
                         or an object with one of `prefix`, `suffix`, `equals-ignore-case`, `wildcard`";
    match argument {
        Value::String(text) => Ok(AnythingBut::Strings(vec![text.clone()])),
        Value::Number(number) => Ok(AnythingBut::Numbers(vec![pattern_number(number, at)?])),
        Value::Array(items) => {
            if let Some(strings) = items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                if !strings.is_empty() {
                    return Ok(AnythingBut::Strings(strings.into_iter().map(str::to_owned).collect()));
                }
            } else if items.iter().all(Value::is_number) {
                let numbers = items
                    .iter()
                    .filter_map(Value::as_number)
                    .map(|n| pattern_number(n, at))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(AnythingBut::Numbers(numbers));
            }
            Err(error(at, SHAPE))
        }
        Value::Object(inner) => {
            let Some((operator, value)) = single_entry(inner) else {
                return Err(error(at, SHAPE));
            };
            if !matches!(operator, "prefix" | "suffix" | "equals-ignore-case" | "wildcard") {
                return Err(error(
                    at,
                    format!("unknown operator `{operator}` in `anything-but` (it takes `prefix`, `suffix`, `equals-ignore-case` or `wildcard`)"),
                ));
            }
            let texts: Vec<&str> = match value {
                Value::String(text) => vec![text],
                Value::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(Value::as_str)
                    .collect::<Option<_>>()
                    .ok_or_else(|| error(at, format!("`anything-but` `{operator}` values must be strings")))?,
                _ => {
                    return Err(error(
                        at,
                        format!("`anything-but` `{operator}` takes a string or a non-empty list of strings"),
                    ))
                }
            };
            let owned = || texts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
            match operator {
                "prefix" | "suffix" if texts.iter().any(|t| t.is_empty()) => {
                    Err(error(at, format!("`anything-but` `{operator}` must not be empty")))
                }
                "prefix" => Ok(AnythingBut::Prefixes(owned())),
                "suffix" => Ok(AnythingBut::Suffixes(owned())),
                "equals-ignore-case" => Ok(AnythingBut::IgnoreCase(texts.iter().map(|t| fold(t)).collect())),
                _ => Ok(AnythingBut::Wildcards(
                    texts.iter().map(|t| Wildcard::parse(t, at)).collect::<Result<_, _>>()?,
                )),
            }
        }
        Value::Null | Value::Bool(_) => Err(error(at, SHAPE)),
    }
}

/// `[op, n]`, `[">" or ">=", n, "<" or "<=", m]` with n < m; op one of `=`, `<`, `<=`, `>`, `>=`.
fn compile_numeric(argument: &Value, at: &str) -> Result<Range, FilterError> {
    let Value::Array(items) = argument else {
        return Err(error(at, "`numeric` must be an array such as `[\">\", 0, \"<=\", 5]`"));
    };
    let operator = |index: usize| -> Result<&str, FilterError> {
        items.get(index).and_then(Value::as_str).ok_or_else(|| {
            error(
                at,
                format!("`numeric` expects an operator (`=`, `<`, `<=`, `>`, `>=`) at position {index}"),
            )
        })
    };
    let operand = |index: usize, op: &str| -> Result<i128, FilterError> {
        match items.get(index) {
            Some(Value::Number(number)) => pattern_number(number, at),
            _ => Err(error(at, format!("`numeric` `{op}` must be followed by a number"))),
        }
    };
    let first = operator(0)?;
    let value = match first {
        "=" | "<" | "<=" | ">" | ">=" => operand(1, first)?,
        other => return Err(error(at, format!("unknown `numeric` operator `{other}`"))),
    };
    let only_two = |range: Range| {
        if items.len() == 2 {
            Ok(range)
        } else {
            Err(error(
                at,
                format!("too many elements in `numeric`: `{first}` takes one number (only `>`/`>=` may start a range)"),
            ))
        }
    };
    match first {
        "=" => only_two(Range {
            low: Some((value, true)),
            high: Some((value, true)),
        }),
        "<" | "<=" => only_two(Range {
            low: None,
            high: Some((value, first == "<=")),
        }),
        _ => {
            let low = Some((value, first == ">="));
            if items.len() == 2 {
                return Ok(Range { low, high: None });
            }
            let second = operator(2)?;
            if second != "<" && second != "<=" {
                return Err(error(
                    at,
                    format!("a `numeric` range continues with `<` or `<=`, not `{second}`"),
                ));
            }
            let top = operand(3, second)?;
            if items.len() > 4 {
                return Err(error(at, "too many elements in `numeric` range"));
            }
            if top <= value {
                return Err(error(at, "the bottom of a `numeric` range must be less than its top"));
            }
            Ok(Range {
                low,
                high: Some((top, second == "<=")),
            })
        }
    }
}

/// A number written in the pattern, as value × 10^6; AWS limits these to ±5.0e9 and six decimals.
fn pattern_number(number: &Number, at: &str) -> Result<i128, FilterError> {
    match Scaled::of(number) {
        Some(Scaled { floor, exact: true }) => Ok(floor),
        Some(_) => Err(error(
            at,
            format!("`{number}` has more than six digits after the decimal point, the precision AWS supports"),
        )),
        None => Err(error(
            at,
            format!("`{number}` is outside -5000000000..=5000000000, the range AWS supports"),
        )),
    }
}

impl Wildcard {
    /// `*` matches any run of characters; `\*` is a literal `*` and `\\` a literal `\`. Two `*`
    /// in a row and any other escape are invalid (event-ruler's `WildcardParser`).
    fn parse(raw: &str, at: &str) -> Result<Wildcard, FilterError> {
        let mut parts = vec![String::new()];
        let mut chars = raw.char_indices().peekable();
        while let Some((position, c)) = chars.next() {
            match c {
                '*' => {
                    if matches!(chars.peek(), Some((_, '*'))) {
                        return Err(error(
                            at,
                            format!("wildcard `{raw}` has consecutive `*` at byte {position}; one `*` already matches any run"),
                        ));
                    }
                    parts.push(String::new());
                }
                '\\' => match chars.next() {
                    Some((_, escaped @ ('*' | '\\'))) => {
                        if let Some(part) = parts.last_mut() {
                            part.push(escaped);
                        }
                    }
                    _ => {
                        return Err(error(
                            at,
                            format!("wildcard `{raw}` has an invalid escape at byte {position}: only `\\*` and `\\\\` are allowed"),
                        ))
                    }
                },
                c => {
                    if let Some(part) = parts.last_mut() {
                        part.push(c);
                    }
                }
            }
        }
        Ok(Wildcard { parts })
    }

    /// Greedy: the first part is a prefix, the last a suffix, and each middle part is taken at its
    /// leftmost occurrence after the previous one. Linear; nothing is retried.
    fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.parts.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return text == first;
        };
        if text.len() < first.len() + last.len() || !text.starts_with(first.as_str()) || !text.ends_with(last.as_str())
        {
            return false;
        }
        let mut window = &text[first.len()..text.len() - last.len()];
        for part in middle {
            match window.find(part.as_str()) {
                Some(start) => window = &window[start + part.len()..],
                None => return false,
            }
        }
        true
    }
}

impl Cidr {
    fn parse(raw: &str, at: &str) -> Result<Cidr, FilterError> {
        let Some((address, bits)) = raw.split_once('/') else {
            return Err(error(at, format!("`cidr` `{raw}` needs one `/`, as in `10.0.0.0/24`")));
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| error(at, format!("`cidr` `{raw}`: `{address}` is not an IP address")))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits
            .parse()
            .ok()
            .filter(|b| *b <= max)
            .ok_or_else(|| error(at, format!("`cidr` `{raw}`: the mask must be a number from 0 to {max}")))?;
        Ok(Cidr {
            network: mask(network, bits),
            bits,
        })
    }

    fn contains(&self, text: &str) -> bool {
        match text.parse::<IpAddr>() {
            Ok(ip) if ip.is_ipv4() == self.network.is_ipv4() => mask(ip, self.bits) == self.network,
            _ => false,
        }
    }
}

fn mask(ip: IpAddr, bits: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & keep).into())
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & keep).into())
        }
    }
}

// ---- numbers ------------------------------------------------------------------------------------

/// A JSON number as value × 10^6 = `floor` + a fraction in [0, 1), which is zero when `exact`.
/// `None` outside ±5.0e9.
#[derive(Debug, Clone, Copy)]
struct Scaled {
    floor: i128,
    exact: bool,
}

impl Scaled {
    fn of(number: &Number) -> Option<Scaled> {
        let whole = number
            .as_u64()
            .map(i128::from)
            .or_else(|| number.as_i64().map(i128::from));
        if let Some(whole) = whole {
            let floor = whole.checked_mul(SCALE)?;
            return (floor.abs() <= NUMERIC_LIMIT).then_some(Scaled { floor, exact: true });
        }
        let float = number.as_f64()?;
        if !float.is_finite() || float.abs() > 5.0e9 {
            return None;
        }
        // The shortest decimal that reads back as this float, e.g. `3.018e2`: the number as it
        // was most likely written, and exactly representable in decimal.
        let text = format!("{float:e}");
        let (mantissa, exponent) = text.split_once('e')?;
        let exponent: i32 = exponent.parse().ok()?;
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa),
        };
        let (int_digits, frac_digits) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: u128 = format!("{int_digits}{frac_digits}").parse().ok()?;
        let shift = exponent - i32::try_from(frac_digits.len()).ok()? + 6;
        let (magnitude, remainder) = if shift >= 0 {
            (digits.checked_mul(10u128.checked_pow(shift.unsigned_abs())?)?, false)
        } else {
            match 10u128.checked_pow(shift.unsigned_abs()) {
                Some(divisor) => {
                    let quotient = digits / divisor;
                    (quotient, quotient * divisor != digits)
                }
                None => (0, digits != 0),
            }
        };
        let magnitude = i128::try_from(magnitude).ok()?;
        let floor = if negative {
            -magnitude - i128::from(remainder)
        } else {
            magnitude
        };
        (floor.abs() <= NUMERIC_LIMIT).then_some(Scaled {
            floor,
            exact: !remainder,
        })
    }

    fn equals(self, bound: i128) -> bool {
        self.exact && self.floor == bound
    }

    fn above(self, (bound, inclusive): (i128, bool)) -> bool {
        self.floor > bound || (self.floor == bound && (inclusive || !self.exact))
    }

    fn below(self, (bound, inclusive): (i128, bool)) -> bool {
        self.floor < bound || (inclusive && self.equals(bound))
    }
}

impl Range {
    fn contains(&self, number: &Number) -> bool {
        let Some(value) = Scaled::of(number) else { return false };
        self.low.is_none_or(|low| value.above(low)) && self.high.is_none_or(|high| value.below(high))
    }
}

// ---- matching -----------------------------------------------------------------------------------

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
struct Route {
    field: usize,
    rest: Option<usize>,
}

struct Walk<'f, 'b> {
    fields: &'f [Field],
    budget: &'b mut usize,
}

impl Walk<'_, '_> {
    fn positive(&self, route: &Route) -> bool {
        matches!(self.fields[route.field].test, Test::Present(_))
    }

    /// Whether all these fields hold together in `value`, choosing the same element of every
    /// event array for all of them.
    fn holds(&mut self, routes: &[Route], value: &Value, depth: usize) -> bool {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn filter(pattern: Value) -> Filter {
        Filter::compile(&pattern).unwrap_or_else(|e| panic!("{pattern} was rejected: {e}"))
    }

    #[track_caller]
    fn matches(pattern: Value, event: Value) {
        assert!(
            filter(pattern.clone()).matches(&event),
            "{pattern} should match {event}"
        );
    }

    #[track_caller]
    fn misses(pattern: Value, event: Value) {
        assert!(
            !filter(pattern.clone()).matches(&event),
            "{pattern} should not match {event}"
        );
    }

    #[track_caller]
    fn rejected(pattern: Value) -> FilterError {
        match Filter::compile(&pattern) {
            Ok(_) => panic!("{pattern} should be rejected"),
            Err(e) => e,
        }
    }

    #[track_caller]
    fn rejected_at(pattern: Value, path: &str, reason_contains: &str) {
        let e = rejected(pattern.clone());
        assert_eq!(e.path, path, "{pattern}: {e}");
        assert!(
            e.reason.contains(reason_contains),
            "{pattern}: `{e}` should mention `{reason_contains}`"
        );
    }

    /// The sample event of aws/event-ruler's README ("Ruler by Example"), which the EventBridge
    /// "Comparison operators" page's patterns (c-count, d-count, x-limit, source-ip) are written for.
    fn ruler_event() -> Value {
        json!({
          "version": "0",
          "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
          "detail-type": "EC2 Instance State-change Notification",
          "source": "aws.ec2",
          "account": "012345679012",
          "time": "2017-10-02T16:24:49Z",
          "region": "us-east-1",
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
          "detail": {
            "c-count": 5,
            "d-count": 3,
            "x-limit": 301.8,
            "source-ip": "10.0.0.33",
            "instance-id": "i-000000aaaaaa00000",
            "state": "running"
          }
        })
    }

    fn with_detail(detail: Value) -> Value {
        json!({"source": "aws.ec2", "detail": detail})
    }

    // ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html ----------

    #[test]
    fn event_patterns_page_ec2_termination() {
        let event = json!({
          "version": "0",
          "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
          "detail-type": "EC2 Instance State-change Notification",
          "source": "aws.ec2",
          "account": "111122223333",
          "time": "2017-12-22T18:43:48Z",
          "region": "us-west-1",
          "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
          "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
        });
        let pattern = json!({
          "source": ["aws.ec2"],
          "detail-type": ["EC2 Instance State-change Notification"],
          "detail": {"state": ["terminated"]}
        });
        matches(pattern.clone(), event.clone());
        let mut running = event.clone();
        running["detail"]["state"] = json!("running");
        misses(pattern.clone(), running);
        // "the event must contain all the field names listed in the event pattern"
        let mut no_detail = event;
        no_detail.as_object_mut().unwrap().remove("detail");
        misses(pattern, no_detail);
    }

    #[test]
    fn event_patterns_page_match_values_are_ored() {
        let pattern = json!({"source": ["aws.ec2", "aws.fargate"]});
        matches(pattern.clone(), json!({"source": "aws.ec2"}));
        matches(pattern.clone(), json!({"source": "aws.fargate"}));
        misses(pattern, json!({"source": "aws.s3"}));
    }

    #[test]
    fn event_patterns_page_macie_value_matching() {
        let event = json!({
          "version": "0",
          "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
          "detail-type": "Macie Alert",
          "source": "aws.macie",
          "account": "123456789012",
          "time": "2017-04-24T22:28:49Z",
          "region": "us-east-1",
          "resources": [
            "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
            "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
          ],
          "detail": {
            "notification-type": "ALERT_CREATED",
            "name": "Scanning bucket policies",
            "tags": ["Custom_Alert", "Insider"],
            "risk-score": 80,
            "trigger": {"rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id", "alert-type": "basic", "risk": 8}
          }
        });
        let pattern = json!({
          "source": ["aws.macie"],
          "detail-type": ["Macie Alert"],
          "detail": {"risk-score": [80], "trigger": {"risk": [8]}}
        });
        matches(pattern.clone(), event.clone());
        let mut low = event.clone();
        low["detail"]["trigger"]["risk"] = json!(7);
        misses(pattern.clone(), low);
        // Type mismatch: the number 80 is not the string "80".
        let mut stringly = event;
        stringly["detail"]["risk-score"] = json!("80");
        misses(pattern, stringly);
    }

    /// "For strings, EventBridge uses exact character-by-character matching without case-folding
    /// or any other string normalization. For numbers, EventBridge uses string representation. For
    /// example, 300, 300.0, and 3.0e2 are not considered equal." (Considerations.) serde_json keeps
    /// integers apart from floats, but `300.0` and `3.0e2` both become the float 300.
    #[test]
    fn considerations_numbers_compare_by_representation() {
        let event = |n: Value| json!({"n": n});
        let int_300: Value = serde_json::from_str("300").unwrap();
        let float_300: Value = serde_json::from_str("300.0").unwrap();
        let exp_300: Value = serde_json::from_str("3.0e2").unwrap();
        matches(json!({"n": [300]}), event(int_300.clone()));
        misses(json!({"n": [300]}), event(float_300.clone()));
        misses(json!({"n": [300]}), event(exp_300.clone()));
        misses(json!({"n": [300.0]}), event(int_300.clone()));
        matches(json!({"n": [300.0]}), event(float_300.clone()));
        misses(json!({"n": ["300"]}), event(int_300.clone()));
        misses(json!({"s": ["Alice"]}), json!({"s": "alice"}));
        // `numeric` compares values, so it is the way to match 300 however it is written.
        for n in [int_300, float_300, exp_300] {
            matches(json!({"n": [{"numeric": ["=", 300]}]}), event(n));
        }
    }

    /// "When EventBridge compiles event patterns for use, it uses dot (.) as the joining
    /// character", so these patterns are the same and both match both events (Considerations).
    #[test]
    fn considerations_dot_joined_field_names() {
        let nested = json!({"detail": {"state": {"status": ["running"]}}});
        let dotted = json!({"detail": {"state.status": ["running"]}});
        for pattern in [nested, dotted] {
            matches(pattern.clone(), json!({"detail": {"state": {"status": "running"}}}));
            matches(pattern.clone(), json!({"detail": {"state.status": "running"}}));
            misses(pattern, json!({"detail": {"state": {"status": "stopped"}}}));
        }
        // Fields of one pattern may be found along different spellings.
        matches(json!({"a": {"x": [1], "y": [2]}}), json!({"a": {"y": 2}, "a.x": 1}));
        // Ambiguous routes: `a.b` is found through `a.b`, not through `a` → `b`.
        matches(json!({"a": {"b": [2]}}), json!({"a": {"b": 1}, "a.b": 2}));
        misses(json!({"a": {"b": [3]}}), json!({"a": {"b": 1}, "a.b": 2}));
        misses(
            json!({"a": {"b": [{"exists": false}]}}),
            json!({"a": {"c": 1}, "a.b": 2}),
        );
    }

    // ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html

    fn autoscaling_event() -> Value {
        json!({
          "version": "0",
          "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
          "detail-type": "EC2 Instance Launch Successful",
          "source": "aws.autoscaling",
          "account": "123456789012",
          "time": "2015-11-11T21:31:47Z",
          "region": "us-east-1",
          "resources": [],
          "detail": {"eventVersion": "", "responseElements": null}
        })
    }

    #[test]
    fn null_values_page() {
        matches(json!({"detail": {"eventVersion": [""]}}), autoscaling_event());
        matches(json!({"detail": {"responseElements": [null]}}), autoscaling_event());
        // "Null values and empty strings are not interchangeable in pattern matching."
        misses(json!({"detail": {"responseElements": [""]}}), autoscaling_event());
        misses(json!({"detail": {"eventVersion": [null]}}), autoscaling_event());
        // null is a value, missing is not: [null] needs the field.
        misses(json!({"detail": {"other": [null]}}), autoscaling_event());
        // An empty event array holds no value at all, not even null.
        misses(json!({"resources": [null]}), autoscaling_event());
        misses(json!({"resources": [{"exists": true}]}), autoscaling_event());
        matches(json!({"resources": [{"exists": false}]}), autoscaling_event());
        // ... and the event-patterns page's field-matching example on the same event.
        matches(
            json!({
              "source": ["aws.autoscaling"],
              "detail-type": ["EC2 Instance Launch Successful"],
              "detail": {"responseElements": [null]}
            }),
            autoscaling_event(),
        );
    }

    // ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html ---

    #[test]
    fn arrays_page_intersection() {
        let pattern = json!({"resources": [
           "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
           "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
           "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
        ]});
        let event = json!({"resources": [
           "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
           "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
        ]});
        matches(pattern.clone(), event);
        misses(
            pattern,
            json!({"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}),
        );
    }

    /// aws/event-ruler README, "JSON Array Matching": objects in arrays are matched as if they were
    /// the value of the parent field, and fields from different elements do not combine.
    #[test]
    fn arrays_of_objects_are_matched_element_by_element() {
        let event = json!({"employees": [
            {"firstName": "John", "lastName": "Doe"},
            {"firstName": "Anna", "lastName": "Smith"},
            {"firstName": "Peter", "lastName": "Jones"}
        ]});
        matches(json!({"employees": {"firstName": ["Anna"]}}), event.clone());
        matches(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
            event.clone(),
        );
        misses(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            event,
        );
        let nested = json!({"employees": [
            [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
            [{"firstName": "Peter", "lastName": "Jones"}]
        ]});
        matches(json!({"employees": {"firstName": ["Anna"]}}), nested.clone());
        misses(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            nested,
        );
        // Fields outside the array still combine with any element.
        matches(
            json!({"team": ["x"], "employees": {"lastName": ["Jones"]}}),
            json!({"team": "x", "employees": [{"lastName": "Doe"}, {"lastName": "Jones"}]}),
        );
    }

    // ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html

    #[test]
    fn operators_prefix() {
        let pattern = json!({"time": [{"prefix": "2017-10-02"}]});
        matches(pattern.clone(), json!({"time": "2017-10-02T18:43:48Z"}));
        matches(pattern.clone(), ruler_event());
        misses(pattern.clone(), json!({"time": "2017-10-03T18:43:48Z"}));
        misses(pattern.clone(), json!({"time": "2017-10-0"}));
        misses(pattern.clone(), json!({"other": "2017-10-02"}));
        misses(json!({"n": [{"prefix": "12"}]}), json!({"n": 123})); // strings only
        misses(pattern, json!({"time": ["2017-10-01", "x"]}));
        matches(
            json!({"time": [{"prefix": "2017"}]}),
            json!({"time": ["1999", "2017-01"]}),
        );
        // Case-sensitive unless asked otherwise.
        misses(json!({"r": [{"prefix": "us-"}]}), json!({"r": "US-east-1"}));
    }

    #[test]
    fn operators_prefix_ignore_case() {
        let pattern = json!({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}});
        for service in ["EventBridge", "EVENTBRIDGE", "eventbridge", "eventB"] {
            matches(pattern.clone(), with_detail(json!({"service": service})));
        }
        misses(pattern.clone(), with_detail(json!({"service": "Event Bridge"})));
        misses(pattern, with_detail(json!({"service": 1})));
    }

    #[test]
    fn operators_suffix() {
        let pattern = json!({"FileName": [{"suffix": ".png"}]});
        matches(pattern.clone(), json!({"FileName": "image.png"}));
        misses(pattern.clone(), json!({"FileName": "image.PNG"}));
        misses(pattern.clone(), json!({"FileName": "image.png.txt"}));
        misses(pattern, json!({"FileName": null}));
    }

    #[test]
    fn operators_suffix_ignore_case() {
        let pattern = json!({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}});
        matches(pattern.clone(), with_detail(json!({"FileName": "image.png"})));
        matches(pattern.clone(), with_detail(json!({"FileName": "IMAGE.PNG"})));
        matches(pattern.clone(), with_detail(json!({"FileName": "x.PnG"})));
        misses(pattern, with_detail(json!({"FileName": "image.jpg"})));
    }

    #[test]
    fn operators_equals_ignore_case() {
        let pattern = json!({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]});
        matches(pattern.clone(), ruler_event());
        matches(
            pattern.clone(),
            json!({"detail-type": "EC2 INSTANCE STATE-CHANGE NOTIFICATION"}),
        );
        misses(
            pattern.clone(),
            json!({"detail-type": "EC2 Instance State-change Notifications"}),
        );
        misses(pattern, json!({"detail-type": ["nope"]}));
        // Lambda comparison table: Equals (ignore case).
        matches(
            json!({"Name": [{"equals-ignore-case": "alice"}]}),
            json!({"Name": "Alice"}),
        );
    }

    #[test]
    fn operators_anything_but_string_and_number() {
        let state = json!({"detail": {"state": [{"anything-but": "initializing"}]}});
        matches(state.clone(), ruler_event()); // "running"
        misses(state.clone(), with_detail(json!({"state": "initializing"})));
        // Not case-insensitive.
        matches(state.clone(), with_detail(json!({"state": "Initializing"})));
        // A missing field is not "anything but": there is nothing to compare.
        misses(state.clone(), with_detail(json!({})));
        misses(state.clone(), json!({"source": "aws.ec2"}));
        // ... but null and other types are values that are not "initializing".
        matches(state.clone(), with_detail(json!({"state": null})));
        matches(state.clone(), with_detail(json!({"state": 12})));
        // An object is not a leaf.
        misses(state, with_detail(json!({"state": {"name": "x"}})));

        let limit = json!({"detail": {"x-limit": [{"anything-but": 123}]}});
        matches(limit.clone(), ruler_event()); // 301.8
        misses(limit.clone(), with_detail(json!({"x-limit": 123})));
        misses(limit.clone(), with_detail(json!({"x-limit": 123.0}))); // compared as numbers
        matches(limit.clone(), with_detail(json!({"x-limit": "123"}))); // a string is not 123
        misses(limit, with_detail(json!({})));
    }

    #[test]
    fn operators_anything_but_lists() {
        let strings = json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}});
        matches(strings.clone(), ruler_event());
        misses(strings.clone(), with_detail(json!({"state": "stopped"})));
        misses(strings.clone(), with_detail(json!({"state": "overloaded"})));
        misses(strings, with_detail(json!({})));

        let numbers = json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}});
        matches(numbers.clone(), ruler_event());
        misses(numbers.clone(), with_detail(json!({"x-limit": 200})));
        misses(numbers.clone(), with_detail(json!({"x-limit": 3.0e2})));
        matches(numbers, with_detail(json!({"x-limit": 100.5})));

        // Lambda comparison table: "Not".
        let weather = json!({"Weather": [{"anything-but": ["Raining"]}]});
        matches(weather.clone(), json!({"Weather": "Sunny"}));
        misses(weather, json!({"Weather": "Raining"}));
    }

    /// An event array matches when any element does, so `anything-but` matches an array that
    /// holds the excluded value next to any other value.
    #[test]
    fn operators_anything_but_with_event_arrays() {
        let pattern = json!({"tags": [{"anything-but": "secret"}]});
        matches(pattern.clone(), json!({"tags": ["secret", "public"]}));
        misses(pattern.clone(), json!({"tags": ["secret"]}));
        misses(pattern, json!({"tags": []}));
    }

    #[test]
    fn operators_anything_but_prefix() {
        let pattern = json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}});
        matches(pattern.clone(), ruler_event());
        misses(pattern.clone(), with_detail(json!({"state": "initializing"})));
        matches(pattern.clone(), with_detail(json!({"state": 12})));
        misses(pattern.clone(), with_detail(json!({})));
        let region = json!({"Region": [{"anything-but": {"prefix": "us-"}}]});
        matches(region.clone(), json!({"Region": "eu-west-1"}));
        misses(region, json!({"Region": "us-east-1"}));
        matches(
            json!({"s": [{"anything-but": {"prefix": ["a", "b"]}}]}),
            json!({"s": "c"}),
        );
        misses(
            json!({"s": [{"anything-but": {"prefix": ["a", "b"]}}]}),
            json!({"s": "bc"}),
        );
    }

    #[test]
    fn operators_anything_but_suffix() {
        let pattern = json!({"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}});
        matches(pattern.clone(), with_detail(json!({"FileName": "file.png"})));
        misses(pattern.clone(), with_detail(json!({"FileName": "file.txt"})));
        matches(pattern.clone(), with_detail(json!({"FileName": "file.TXT"})));
        misses(pattern, with_detail(json!({})));
    }

    #[test]
    fn operators_anything_but_ignore_case() {
        let pattern =
            json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}});
        matches(pattern.clone(), ruler_event());
        misses(pattern.clone(), with_detail(json!({"state": "stopped"})));
        misses(pattern.clone(), with_detail(json!({"state": "OVERLOADED"})));
        matches(pattern.clone(), with_detail(json!({"state": null})));
        misses(pattern, with_detail(json!({})));
        let single = json!({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]});
        misses(single.clone(), json!({"state": "INITIALIZING"}));
        matches(single, json!({"state": "running"}));
    }

    #[test]
    fn operators_anything_but_wildcard() {
        let pattern = json!({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}});
        matches(pattern.clone(), with_detail(json!({"FilePath": "/usr/bin/app"})));
        misses(pattern.clone(), with_detail(json!({"FilePath": "/usr/lib/libc.so"})));
        matches(pattern.clone(), with_detail(json!({"FilePath": 123})));
        misses(pattern, with_detail(json!({})));
        let list = json!({"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}});
        misses(list.clone(), with_detail(json!({"FilePath": "/usr/bin/app"})));
        matches(list, with_detail(json!({"FilePath": "/etc/passwd"})));
    }

    #[test]
    fn operators_numeric() {
        let pattern = json!({"detail": {
            "c-count": [{"numeric": [">", 0, "<=", 5]}],
            "d-count": [{"numeric": ["<", 10]}],
            "x-limit": [{"numeric": ["=", 3.018e2]}]
        }});
        matches(pattern.clone(), ruler_event());
        let with = |c: Value, d: Value, x: Value| with_detail(json!({"c-count": c, "d-count": d, "x-limit": x}));
        matches(pattern.clone(), with(json!(0.000001), json!(-1e9), json!(301.8)));
        misses(pattern.clone(), with(json!(0), json!(3), json!(301.8))); // > 0 is open
        matches(pattern.clone(), with(json!(5), json!(3), json!(301.8))); // <= 5 is closed
        misses(pattern.clone(), with(json!(5.000001), json!(3), json!(301.8)));
        misses(pattern.clone(), with(json!(5), json!(10), json!(301.8))); // < 10 is open
        misses(pattern.clone(), with(json!(5), json!(3), json!(301.800001)));
        misses(pattern.clone(), with(json!("5"), json!(3), json!(301.8))); // numbers only
        misses(pattern.clone(), with(json!(null), json!(3), json!(301.8)));
        misses(pattern, with_detail(json!({"d-count": 3, "x-limit": 301.8}))); // missing

        // Lambda developer guide: "Temperature" between 50 (open) and 60 (closed).
        let temperature = json!({"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}});
        matches(temperature.clone(), json!({"data": {"Temperature": 60}}));
        misses(temperature.clone(), json!({"data": {"Temperature": 50}}));
        misses(temperature, json!({"data": {"Temperature": "55"}}));
        // Lambda comparison table: Numeric (equals).
        matches(json!({"Price": [{"numeric": ["=", 100]}]}), json!({"Price": 100.0}));
        misses(
            json!({"Price": [{"numeric": ["=", 100]}]}),
            json!({"Price": 100.000001}),
        );
        // ">=" and "<=" are closed.
        let closed = json!({"n": [{"numeric": [">=", -1.5, "<=", 1.5]}]});
        matches(closed.clone(), json!({"n": -1.5}));
        matches(closed.clone(), json!({"n": 1.5}));
        misses(closed.clone(), json!({"n": -1.5000001}));
        misses(closed, json!({"n": 1.5000001}));
        // AWS's range is ±5.0e9; values beyond it never match a range.
        matches(json!({"n": [{"numeric": ["<=", 5e9]}]}), json!({"n": 5_000_000_000u64}));
        misses(json!({"n": [{"numeric": [">", 0]}]}), json!({"n": 5_000_000_001u64}));
        misses(json!({"n": [{"numeric": ["<", 0]}]}), json!({"n": -1e300}));
        // Any element of an event array may be the one in range.
        matches(json!({"n": [{"numeric": [">", 10]}]}), json!({"n": [1, 2, 30]}));
    }

    #[test]
    fn operators_cidr() {
        let pattern = json!({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}});
        matches(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.0.0"})));
        matches(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.0.255"})));
        misses(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.1.0"})));
        misses(pattern.clone(), with_detail(json!({"sourceIPAddress": "not an ip"})));
        misses(
            pattern.clone(),
            with_detail(json!({"sourceIPAddress": "::ffff:10.0.0.1"})),
        );
        misses(pattern, with_detail(json!({"sourceIPAddress": 167772161})));
        matches(
            json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}),
            ruler_event(),
        );
        let v6 = json!({"ip": [{"cidr": "2001:db8::/32"}]});
        matches(v6.clone(), json!({"ip": "2001:db8:1234::1"}));
        misses(v6.clone(), json!({"ip": "2001:db9::1"}));
        misses(v6, json!({"ip": "10.0.0.1"}));
        matches(json!({"ip": [{"cidr": "0.0.0.0/0"}]}), json!({"ip": "8.8.8.8"}));
    }

    #[test]
    fn operators_exists() {
        let exists = json!({"detail": {"c-count": [{"exists": true}]}});
        let absent = json!({"detail": {"c-count": [{"exists": false}]}});
        matches(exists.clone(), ruler_event());
        misses(absent.clone(), ruler_event());

        // The page's example events for `exists: false`.
        let without = json!({
          "detail-type": ["EC2 Instance State-change Notification"],
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
          "detail": {"state": ["initializing", "running"]}
        });
        matches(absent.clone(), without.clone());
        misses(exists.clone(), without);
        // "also matches the following event because c-count isn't a leaf node"
        let intermediate = json!({
          "detail-type": ["EC2 Instance State-change Notification"],
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
          "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}
        });
        matches(absent.clone(), intermediate.clone());
        misses(exists.clone(), intermediate);

        // null is present; a missing parent means a missing field.
        matches(exists.clone(), with_detail(json!({"c-count": null})));
        misses(absent.clone(), with_detail(json!({"c-count": null})));
        matches(absent.clone(), json!({"source": "aws.ec2"}));
        misses(exists, json!({"source": "aws.ec2"}));
        // Lambda comparison table: Exists / Does not exist.
        matches(json!({"ProductName": [{"exists": true}]}), json!({"ProductName": ""}));
        matches(json!({"ProductName": [{"exists": false}]}), json!({"Product": "x"}));
        // A leaf that is not at the path's end does not make the path exist.
        matches(absent, with_detail(json!("just a string")));
    }

    /// `exists: false` on fields inside event arrays: with nothing else picking an element, the
    /// field must be missing from every element; alongside fields that pick an element, only that
    /// element counts.
    #[test]
    fn operators_exists_false_in_arrays() {
        let event = json!({"items": [{"id": 1, "tag": "x"}, {"id": 2}]});
        misses(json!({"items": {"tag": [{"exists": false}]}}), event.clone());
        matches(json!({"items": {"tag": [{"exists": true}]}}), event.clone());
        matches(json!({"items": {"id": [2], "tag": [{"exists": false}]}}), event.clone());
        misses(json!({"items": {"id": [1], "tag": [{"exists": false}]}}), event.clone());
        matches(json!({"items": {"missing": [{"exists": false}]}}), event);
        // Arrays of leaves: present when any element is there.
        misses(json!({"tags": [{"exists": false}]}), json!({"tags": ["a"]}));
        matches(json!({"tags": [{"exists": false}]}), json!({"tags": []}));
        matches(json!({"tags": [{"exists": false}]}), json!({"tags": [{"k": "v"}]}));
    }

    /// LocalStack's AWS-validated `or-exists` case: `exists: false` ORed with another operator in
    /// one field.
    #[test]
    fn operators_exists_false_ored_with_a_value() {
        let pattern = json!({"dynamodb": {"NewImage": {"homemade": {"S": [
            {"anything-but": ["roses"]},
            {"exists": false}
        ]}}}});
        matches(
            pattern.clone(),
            json!({"dynamodb": {"NewImage": {"homemade": {"N": "789"}}}}),
        );
        matches(
            pattern.clone(),
            json!({"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}}),
        );
        matches(
            pattern.clone(),
            json!({"dynamodb": {"NewImage": {"homemade": {"S": "tulips"}}}}),
        );
        misses(pattern, json!({"dynamodb": {"NewImage": {"homemade": {"S": "roses"}}}}));
    }

    #[test]
    fn operators_wildcard() {
        let pattern = json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
        matches(
            pattern.clone(),
            json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}),
        );
        matches(
            pattern.clone(),
            json!({"EventBusArn": "arn:aws:events:us-east-1::event-bus/"}),
        ); // * may be empty
        misses(
            pattern.clone(),
            json!({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}),
        );
        misses(pattern, json!({"EventBusArn": 1}));
        // `*` crosses `/` and matches any run, including none.
        let png = json!({"f": [{"wildcard": "dir/*.png"}]});
        matches(png.clone(), json!({"f": "dir/a/b.png"}));
        matches(png.clone(), json!({"f": "dir/.png"}));
        misses(png, json!({"f": "dir/a.png.bak"}));
        // No wildcard: exact.
        matches(json!({"f": [{"wildcard": "abc"}]}), json!({"f": "abc"}));
        misses(json!({"f": [{"wildcard": "abc"}]}), json!({"f": "abcd"}));
        // Escapes: `\*` is a literal star, `\\` a literal backslash.
        matches(json!({"f": [{"wildcard": "a\\*b"}]}), json!({"f": "a*b"}));
        misses(json!({"f": [{"wildcard": "a\\*b"}]}), json!({"f": "axb"}));
        matches(json!({"f": [{"wildcard": "a\\\\*"}]}), json!({"f": "a\\whatever"}));
        // Greedy matching is still right when a part repeats.
        matches(json!({"f": [{"wildcard": "*ab*ab"}]}), json!({"f": "xabyabab"}));
        misses(json!({"f": [{"wildcard": "a*a"}]}), json!({"f": "a"}));
        matches(json!({"f": [{"wildcard": "*"}]}), json!({"f": ""}));
    }

    #[test]
    fn wildcard_is_linear_on_adversarial_input() {
        let text = format!("{}c", "a".repeat(200_000));
        let pattern = format!("{}*b*c", "*a".repeat(30));
        let started = std::time::Instant::now();
        misses(json!({"f": [{"wildcard": pattern}]}), json!({"f": text}));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn operators_or() {
        let pattern = json!({"$or": [
            {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
            {"d-count": [{"numeric": ["<", 10]}]},
            {"x-limit": [{"numeric": ["=", 3.018e2]}]}
        ]});
        matches(pattern.clone(), json!({"c-count": 3}));
        matches(pattern.clone(), json!({"d-count": 9, "c-count": 100}));
        matches(pattern.clone(), json!({"x-limit": 301.8}));
        misses(pattern.clone(), json!({"c-count": 6, "d-count": 10, "x-limit": 1}));
        misses(pattern, json!({}));

        let cloudwatch = json!({
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"namespace": ["AWS/EC2", "AWS/ES"]}
            ]
        });
        matches(
            cloudwatch.clone(),
            json!({"source": "aws.cloudwatch", "metricName": "ReadLatency"}),
        );
        matches(
            cloudwatch.clone(),
            json!({"source": "aws.cloudwatch", "namespace": "AWS/ES"}),
        );
        misses(cloudwatch.clone(), json!({"source": "aws.ec2", "namespace": "AWS/ES"}));
        misses(cloudwatch, json!({"source": "aws.cloudwatch", "namespace": "AWS/S3"}));

        // event-ruler README: "$or" nested in an object and inside another "$or".
        let nested = json!({
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"], "$or": [
                    {"metricId": [1234]},
                    {"spaceId": [1000]}
                ]},
                {"scope": ["Service"]}
            ],
            "detail": {"$or": [{"source": ["a"]}, {"detail-type": ["b"]}]}
        });
        let base = |extra: Value| {
            let mut event = json!({"source": "aws.cloudwatch", "detail": {"detail-type": "b"}});
            for (k, v) in extra.as_object().unwrap() {
                event[k] = v.clone();
            }
            event
        };
        matches(nested.clone(), base(json!({"scope": "Service"})));
        matches(
            nested.clone(),
            base(json!({"metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000})),
        );
        misses(
            nested.clone(),
            base(json!({"metricType": "MetricType", "namespace": "AWS/ES"})),
        );
        misses(
            nested,
            json!({"source": "aws.cloudwatch", "scope": "Service", "detail": {"source": "z"}}),
        );
    }

    #[test]
    fn operators_complex_example() {
        let pattern = json!({
          "time": [{"prefix": "2017-10-02"}],
          "detail": {
            "state": [{"anything-but": "initializing"}],
            "c-count": [{"numeric": [">", 0, "<=", 5]}],
            "d-count": [{"numeric": ["<", 10]}],
            "x-limit": [{"anything-but": [100, 200, 300]}],
            "source-ip": [{"cidr": "10.0.0.0/8"}]
          }
        });
        matches(pattern.clone(), ruler_event());
        let mut wrong_ip = ruler_event();
        wrong_ip["detail"]["source-ip"] = json!("11.0.0.1");
        misses(pattern, wrong_ip);
    }

    // ---- https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html ------------

    #[test]
    fn lambda_event_filtering_examples() {
        let kinesis = json!({
            "partitionKey": "1",
            "data": {"City": "Seattle", "State": "WA", "Temperature": 46, "Location": "Los Angeles"}
        });
        matches(
            json!({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}),
            kinesis.clone(),
        );
        misses(
            json!({"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}),
            kinesis,
        );
        let dynamodb = json!({"dynamodb": {
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
            "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
        }});
        matches(json!({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}), dynamodb.clone());
        misses(json!({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}), dynamodb);
        // The console example `{ "a" : [ 1, 2 ] }`.
        matches(json!({"a": [1, 2]}), json!({"a": 2}));
        misses(json!({"a": [1, 2]}), json!({"a": 3}));
        // The comparison table rows not covered elsewhere.
        matches(json!({"UserID": [null]}), json!({"UserID": null}));
        matches(json!({"LastName": [""]}), json!({"LastName": ""}));
        misses(json!({"LastName": [""]}), json!({"LastName": null}));
        matches(
            json!({"PaymentType": ["Credit", "Debit"]}),
            json!({"PaymentType": "Debit"}),
        );
        matches(
            json!({"Location": ["New York"], "Day": ["Monday"]}),
            json!({"Location": "New York", "Day": "Monday"}),
        );
        misses(
            json!({"Location": ["New York"], "Day": ["Monday"]}),
            json!({"Location": "New York", "Day": "Friday"}),
        );
        matches(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "us-west-2"}));
        matches(json!({"b": [true]}), json!({"b": true}));
        misses(json!({"b": [true]}), json!({"b": "true"}));
    }

    // ---- hookrelay-shaped -----------------------------------------------------------------------

    fn request(headers: Value, body: Option<Value>) -> Value {
        let mut event = json!({"method": "POST", "path": "/hooks", "query": {}, "headers": headers});
        if let Some(body) = body {
            event["body"] = body;
        }
        event
    }

    #[test]
    fn cal_com_trigger_events() {
        let pattern = json!({"body": {"triggerEvent": ["BOOKING_CREATED", "BOOKING_RESCHEDULED"]}});
        let cal = |trigger: &str| {
            request(
                json!({}),
                Some(json!({"triggerEvent": trigger, "payload": {"uid": "x"}})),
            )
        };
        matches(pattern.clone(), cal("BOOKING_CREATED"));
        matches(pattern.clone(), cal("BOOKING_RESCHEDULED"));
        misses(pattern.clone(), cal("BOOKING_CANCELLED"));
        misses(pattern.clone(), cal("booking_created"));
        misses(pattern.clone(), request(json!({}), None)); // no JSON body
        misses(pattern, request(json!({}), Some(json!(["BOOKING_CREATED"])))); // not an object
    }

    #[test]
    fn github_pushes_to_main() {
        let pattern = json!({"headers": {"x-github-event": ["push"]}, "body": {"ref": ["refs/heads/main"]}});
        let github = |event: &str, git_ref: &str| {
            request(
                json!({"x-github-event": event, "content-type": "application/json"}),
                Some(json!({"ref": git_ref, "commits": [{"id": "abc"}]})),
            )
        };
        matches(pattern.clone(), github("push", "refs/heads/main"));
        misses(pattern.clone(), github("push", "refs/heads/feature"));
        misses(pattern.clone(), github("ping", "refs/heads/main"));
        misses(
            pattern.clone(),
            request(json!({}), Some(json!({"ref": "refs/heads/main"}))),
        );
        // Tags or any branch under release/.
        let releases = json!({"headers": {"x-github-event": ["push"]}, "body": {"ref": [
            {"prefix": "refs/tags/"}, {"wildcard": "refs/heads/release/*"}
        ]}});
        matches(releases.clone(), github("push", "refs/tags/v1.2.3"));
        matches(releases.clone(), github("push", "refs/heads/release/2024.1"));
        misses(releases, github("push", "refs/heads/main"));
        // Methods, paths and query parameters are fields too.
        let mut query = github("push", "refs/heads/main");
        query["query"] = json!({"token": "abc"});
        matches(
            json!({"method": ["POST"], "path": [{"prefix": "/hooks"}], "query": {"token": [{"exists": true}]}}),
            query,
        );
    }

    /// `exists` only sees leaves, so it cannot test for "a JSON body" directly.
    #[test]
    fn body_exists_only_sees_leaves() {
        let object_body = request(json!({}), Some(json!({"action": "opened"})));
        let no_body = request(json!({}), None);
        misses(json!({"body": [{"exists": true}]}), object_body.clone());
        matches(json!({"body": [{"exists": false}]}), object_body.clone());
        matches(json!({"body": [{"exists": false}]}), no_body.clone());
        matches(json!({"body": {"action": [{"exists": true}]}}), object_body);
        misses(json!({"body": {"action": [{"exists": true}]}}), no_body);
        // A scalar JSON body is a leaf.
        matches(
            json!({"body": [{"exists": true}]}),
            request(json!({}), Some(json!("text"))),
        );
    }

    // ---- validation: what AWS rejects -----------------------------------------------------------

    #[test]
    fn rejects_malformed_structure() {
        rejected_at(json!(["a"]), "", "must be an object");
        rejected_at(json!("a"), "", "must be an object");
        rejected_at(json!({}), "", "empty objects");
        rejected_at(json!({"a": {}}), "a", "empty objects");
        rejected_at(json!({"a": "x"}), "a", "array of match values");
        rejected_at(json!({"a": 1}), "a", "array of match values");
        rejected_at(json!({"a": null}), "a", "array of match values");
        rejected_at(json!({"body": {"x": []}}), "body.x", "empty arrays");
        rejected_at(json!({"a": [["x"]]}), "a[0]", "not an array");
        rejected_at(json!({"a": ["x", {}]}), "a[1]", "needs an operator");
        rejected_at(
            json!({"a": [{"prefix": "x", "suffix": "y"}]}),
            "a[0]",
            "exactly one operator",
        );
        rejected_at(
            json!({"a.b": {"c": [{"nope": 1}]}}),
            "\"a.b\".c[0]",
            "unknown operator `nope`",
        );
    }

    #[test]
    fn rejects_unknown_operators_with_their_path() {
        let e = rejected(json!({"body": {"triggerEvent": [{"prefixx": "BOOKING_"}]}}));
        assert_eq!(e.path, "body.triggerEvent[0]");
        assert_eq!(e.to_string(), "at `body.triggerEvent[0]`: unknown operator `prefixx`");
        // Operator names are case-sensitive.
        rejected_at(json!({"a": [{"Prefix": "x"}]}), "a[0]", "unknown operator `Prefix`");
        rejected_at(json!({"a": [{"exactly": "x"}]}), "a[0]", "unknown operator `exactly`");
        rejected_at(json!({"a": [{"regex": "x"}]}), "a[0]", "unknown operator `regex`");
    }

    #[test]
    fn rejects_bad_operator_arguments() {
        for (bad, reason) in [
            (json!({"prefix": 1}), "must be a string"),
            (json!({"prefix": null}), "must be a string"),
            (json!({"prefix": ["a"]}), "must be a string"),
            (json!({"prefix": {"suffix": "a"}}), "equals-ignore-case"),
            (json!({"prefix": {"equals-ignore-case": 1}}), "must be a string"),
            (
                json!({"prefix": {"equals-ignore-case": "a", "x": "b"}}),
                "equals-ignore-case",
            ),
            (json!({"suffix": 1}), "must be a string"),
            (json!({"suffix": {"wildcard": "a"}}), "equals-ignore-case"),
            (json!({"equals-ignore-case": 1}), "must be a string"),
            (json!({"equals-ignore-case": ["a"]}), "must be a string"),
            (json!({"wildcard": 1}), "must be a string"),
            (json!({"exists": "true"}), "true or false"),
            (json!({"exists": 1}), "true or false"),
            (json!({"exists": null}), "true or false"),
            (json!({"cidr": 10}), "must be a string"),
            (json!({"cidr": "10.0.0.0"}), "one `/`"),
            (json!({"cidr": "10.0.0.0/33"}), "mask"),
            (json!({"cidr": "10.0.0.0/x"}), "mask"),
            (json!({"cidr": "10.0.0/8"}), "not an IP address"),
            (json!({"cidr": "2001:db8::/129"}), "mask"),
        ] {
            rejected_at(json!({"f": [bad]}), "f[0]", reason);
        }
    }

    #[test]
    fn rejects_bad_anything_but() {
        for (bad, reason) in [
            (json!(null), "`anything-but` takes"),
            (json!(true), "`anything-but` takes"),
            (json!([]), "`anything-but` takes"),
            (json!(["a", 1]), "only strings or only numbers"),
            (json!([null]), "`anything-but` takes"),
            (json!([true, false]), "`anything-but` takes"),
            (json!([["a"]]), "`anything-but` takes"),
            (json!({}), "`anything-but` takes"),
            (json!({"prefix": "a", "suffix": "b"}), "`anything-but` takes"),
            (
                json!({"numeric": [">", 1]}),
                "unknown operator `numeric` in `anything-but`",
            ),
            (json!({"exists": true}), "unknown operator `exists` in `anything-but`"),
            (json!({"prefix": ""}), "must not be empty"),
            (json!({"suffix": ["a", ""]}), "must not be empty"),
            (json!({"prefix": 1}), "takes a string or a non-empty list"),
            (json!({"prefix": []}), "takes a string or a non-empty list"),
            (json!({"equals-ignore-case": [1]}), "must be strings"),
            (json!({"wildcard": "a**"}), "consecutive"),
            (json!({"wildcard": ["ok", "\\x"]}), "invalid escape"),
            (json!(1e10), "outside"),
            (json!([1, 0.0000001]), "six digits"),
        ] {
            rejected_at(json!({"f": [{"anything-but": bad}]}), "f[0]", reason);
        }
        // Allowed: an empty wildcard (LocalStack's AWS-validated `content_anything_wildcard_empty`).
        filter(json!({"f": [{"anything-but": {"wildcard": ""}}]}));
    }

    #[test]
    fn rejects_bad_numeric() {
        for (bad, reason) in [
            (json!(5), "must be an array"),
            (json!([]), "expects an operator"),
            (json!([5]), "expects an operator"),
            (json!(["=="]), "unknown `numeric` operator `==`"),
            (json!(["!=", 5]), "unknown `numeric` operator `!=`"),
            (json!(["="]), "followed by a number"),
            (json!(["=", "5"]), "followed by a number"),
            (json!(["=", null]), "followed by a number"),
            (json!(["=", 5, "<", 6]), "too many elements"),
            (json!(["<", 5, ">", 0]), "too many elements"),
            (json!(["<=", 5, 6]), "too many elements"),
            (json!([">", 0, ">", 5]), "continues with `<` or `<=`"),
            (json!([">", 0, "=", 5]), "continues with `<` or `<=`"),
            (json!([">", 0, 5]), "expects an operator"),
            (json!([">", 0, "<"]), "followed by a number"),
            (json!([">", 0, "<", 5, "x"]), "too many elements"),
            (json!([">", 5, "<", 5]), "less than its top"),
            (json!([">=", 6, "<=", 5]), "less than its top"),
            (json!([">", 5000000001u64]), "outside"),
            (json!(["<", -5.0e9 - 1.0]), "outside"),
            (json!(["=", 0.0000001]), "six digits"),
        ] {
            rejected_at(json!({"f": [{"numeric": bad}]}), "f[0]", reason);
        }
        filter(json!({"f": [{"numeric": ["=", 5e9]}]}));
        filter(json!({"f": [{"numeric": [">", -5e9, "<", 0.000001]}]}));
    }

    #[test]
    fn rejects_bad_wildcards() {
        // "consecutive wildcard characters are not supported"; "Using the backslash to escape
        // other characters is not supported" (wildcard matching, comparison operators page).
        rejected_at(
            json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}),
            "EventBusArn[0]",
            "consecutive `*` at byte 25",
        );
        rejected_at(json!({"f": [{"wildcard": "a\\b"}]}), "f[0]", "invalid escape at byte 1");
        rejected_at(json!({"f": [{"wildcard": "trailing\\"}]}), "f[0]", "invalid escape");
        filter(json!({"f": [{"wildcard": "\\**"}]})); // a literal star, then a wildcard
        filter(json!({"f": [{"wildcard": "*\\*"}]}));
        filter(json!({"f": [{"wildcard": ""}]}));
    }

    #[test]
    fn rejects_bad_or() {
        rejected_at(json!({"$or": {"a": ["x"]}}), "\"$or\"", "at least two objects");
        rejected_at(json!({"$or": [{"a": ["x"]}]}), "\"$or\"", "at least two objects");
        rejected_at(json!({"$or": []}), "\"$or\"", "at least two objects");
        rejected_at(json!({"$or": [{"a": ["x"]}, "b"]}), "\"$or\"[1]", "must be an object");
        rejected_at(json!({"$or": [{"a": ["x"]}, {}]}), "\"$or\"[1]", "empty objects");
        rejected_at(
            json!({"$or": [{"a": ["x"]}, {"b": []}]}),
            "\"$or\"[1].b",
            "empty arrays",
        );
        // event-ruler's reserved words cannot be field names inside `$or` (but can outside).
        rejected_at(
            json!({"$or": [{"numeric": [123]}, {"prefix": ["abc"]}]}),
            "\"$or\"[0].numeric",
            "operator name",
        );
        rejected_at(
            json!({"d": {"$or": [{"a": {"exists": [1]}}, {"b": [2]}]}}),
            "d.\"$or\"[0].a.exists",
            "operator name",
        );
        filter(json!({"detail": {"prefix": ["abc"]}}));
        // Too many combinations.
        let pair = json!([{"a": ["x"]}, {"b": ["y"]}]);
        let mut pattern = json!({});
        for level in 0..11 {
            pattern[format!("k{level}")] = json!({"$or": pair.clone()});
        }
        rejected_at(pattern, "k9", "more than 1024 alternatives");
    }

    #[test]
    fn rejects_a_field_given_twice_in_one_alternative() {
        rejected_at(
            json!({"a": {"b": [1]}, "a.b": [2]}),
            "\"a.b\"",
            "field `a.b` is also given at `a.b`",
        );
        rejected_at(
            json!({"a": [1], "$or": [{"a": [2]}, {"b": [3]}]}),
            "a",
            "field `a` is also given at `\"$or\"[0].a`",
        );
        // Across alternatives a field may repeat.
        filter(json!({"$or": [{"a": [2]}, {"a": [3]}]}));
    }

    #[test]
    fn error_display() {
        assert_eq!(rejected(json!(1)).to_string(), "a filter pattern must be an object");
        assert_eq!(
            rejected(json!({"a": []})).to_string(),
            "at `a`: empty arrays are not allowed"
        );
    }

    #[test]
    fn never_panics_on_odd_events() {
        let f =
            filter(json!({"a": {"b": [{"numeric": [">", 0]}], "c": [{"exists": false}]}, "d": [{"wildcard": "*x*"}]}));
        for event in [
            json!(null),
            json!(1),
            json!("a"),
            json!([]),
            json!([[[[{"a": {"b": 1}}]]]]),
            json!({"a": [[[{"b": 1}]]], "d": ["x"]}),
            json!({"a": {"b": 1e308}, "d": "\u{0}x\u{10ffff}"}),
            json!({"a": {"b": -1e-308}, "d": "x"}),
            json!({"a": {"b": u64::MAX}, "d": "x"}),
            json!({"a": {"b": i64::MIN}, "d": "x"}),
        ] {
            let _ = f.matches(&event);
        }
        // Deeper than any parsed body can be (serde_json stops at 128): no match, no stack overflow.
        let mut deep = json!(1);
        for _ in 0..2000 {
            deep = Value::Array(vec![deep]);
        }
        let mut event = Map::new();
        event.insert("a".into(), deep);
        assert!(!filter(json!({"a": [1]})).matches(&Value::Object(event)));
    }

    #[test]
    fn scaled_numbers_are_exact() {
        let s = |v: Value| Scaled::of(v.as_number().unwrap());
        let check = |v: Value, floor: i128, exact: bool| {
            let scaled = s(v.clone()).unwrap_or_else(|| panic!("{v} out of range"));
            assert_eq!((scaled.floor, scaled.exact), (floor, exact), "{v}");
        };
        check(json!(0.1), 100_000, true);
        check(json!(301.8), 301_800_000, true);
        check(json!(-0.0000005), -1, false);
        check(json!(0.0000005), 0, false);
        check(json!(-2), -2_000_000, true);
        check(json!(5e9), 5_000_000_000_000_000, true);
        check(json!(1e-300), 0, false);
        assert!(s(json!(5.000001e9)).is_none());
        assert!(s(json!(u64::MAX)).is_none());
    }
}
