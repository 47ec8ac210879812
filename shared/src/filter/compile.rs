//! Compiling a pattern: its structure (objects of fields, dotted names, `$or`) expanded into
//! alternatives in disjunctive normal form, each a list of fields with their tests, within the
//! limits on nesting and expansion. Each match value goes to [`super::operator`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::matcher::{Alternative, Field, Matcher, Test};
use super::operator::{compile_operator, Item};
use super::{error, Filter, FilterError};

/// `$or` alternatives and mixed `exists: false` fields multiply out; a pattern may expand to at
/// most this many alternatives. (AWS rejects "too complex" rules too, without a documented number.)
const MAX_ALTERNATIVES: usize = 1024;
/// Deepest pattern nesting accepted.
const MAX_PATTERN_DEPTH: usize = 64;

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
}

/// A field while the pattern is being expanded: `at` is where it was written, for errors.
#[derive(Clone)]
struct Draft {
    path: Arc<str>,
    test: Test,
    at: Arc<str>,
    written: Arc<str>,
}

/// `parent.key`, quoting keys the way TOML would (`"$or"`, `"a.b"`), since that is how they are
/// written in hookrelay's config.
pub(super) fn key_path(parent: &str, key: &str) -> String {
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
