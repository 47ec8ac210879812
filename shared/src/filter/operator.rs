//! One match value of a field's array turned into a matcher: the operator objects (`prefix`,
//! `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `cidr`, `exists`), the
//! shapes of their arguments, the numbers AWS accepts in them, and the parsing of wildcards and
//! CIDR blocks. Errors name the operator and what it takes.

use std::net::IpAddr;

use serde_json::{Map, Number, Value};

use super::fold::fold;
use super::matcher::{mask, AnythingBut, Cidr, Matcher, Range, Wildcard};
use super::number::Scaled;
use super::{error, FilterError};

/// What one value in a field's array turns into.
pub(super) enum Item {
    Absent,
    Matcher(Matcher),
}

pub(super) fn compile_operator(operator: &Map<String, Value>, at: &str) -> Result<Item, FilterError> {
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
}

impl Cidr {
    /// `address/bits`, e.g. `10.0.0.0/24` or `2001:db8::/32`.
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
}
