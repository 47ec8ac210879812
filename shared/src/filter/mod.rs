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
mod matching;
mod number;

use std::{net::IpAddr, sync::Arc};

use serde_json::{Map, Number, Value};

pub use self::explain::{test_filter, BadInput, Explanation, Failure};
use self::fold::fold;
use self::matching::{Route, Walk};
use self::number::Scaled;

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

#[cfg(test)]
mod tests;
