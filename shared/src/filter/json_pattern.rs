//! Route filters as users already have them: an EventBridge pattern written as JSON text (copied
//! from the EventBridge console, AWS's docs or a CloudFormation `EventPattern` string), and the
//! check that a route filter only names parts of the request. The config (`filter = '''{..}'''`)
//! and `hookrelay test-filter` both come through here, so the JSON form has exactly the semantics
//! and the errors of the TOML table form. JSON is also the only way to write `null` matching
//! (`"responseElements": [null]`), which TOML cannot express.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::compile::key_path;
use super::{error, Filter, FilterError};

/// The parts of the request a route filter looks at: the keys of the event the ingress gives
/// `Filter::matches`.
pub const REQUEST_PARTS: [&str; 5] = ["method", "path", "query", "headers", "body"];

/// A pattern from JSON text. A key given twice in one object is an error, as it is in TOML
/// (a JSON parser would silently keep one of them).
pub fn parse(text: &str) -> Result<Value, FilterError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Strict::deserialize(&mut deserializer).and_then(|Strict(value)| {
        deserializer.end()?;
        Ok(value)
    });
    parsed.map_err(|e| error("", format!("is not valid JSON: {e}")))
}

/// A route's filter: `pattern` must be an object naming only [`REQUEST_PARTS`] (and `$or`) at
/// its top level.
pub fn compile_for_request(pattern: &Value) -> Result<Filter, FilterError> {
    let object = pattern
        .as_object()
        .ok_or_else(|| error("", "must be a table (or a JSON object)"))?;
    names_only_parts(object, "")?;
    Filter::compile(pattern)
}

/// The top level of a route filter, and of each alternative of a top-level `$or`, names only
/// parts of the request: anything else could never match.
fn names_only_parts(object: &Map<String, Value>, at: &str) -> Result<(), FilterError> {
    for (key, value) in object {
        let here = key_path(at, key);
        match (key.as_str(), value) {
            ("$or", Value::Array(alternatives)) => {
                for (index, alternative) in alternatives.iter().enumerate() {
                    if let Value::Object(alternative) = alternative {
                        names_only_parts(alternative, &format!("{here}[{index}]"))?;
                    }
                }
            }
            // Filter::compile says what is wrong with the shape of `$or`.
            ("$or", _) => {}
            (part, _) if REQUEST_PARTS.contains(&part) => {}
            _ => {
                return Err(error(
                    &here,
                    "filters look at `method`, `path`, `query`, `headers` and `body` only",
                ))
            }
        }
    }
    Ok(())
}

/// A `Value` parsed refusing repeated object keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(A::Error::custom(format!("key `{key}` is given twice")));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_text_is_the_same_pattern_as_the_value() {
        let text = r#"{"body": {"detail": {"state": ["running"], "n": [{"numeric": [">", 1.5]}]}}}"#;
        assert_eq!(
            parse(text),
            Ok(json!({"body": {"detail": {"state": ["running"], "n": [{"numeric": [">", 1.5]}]}}}))
        );
        assert_eq!(
            parse(r#"{"body": {"responseElements": [null]}}"#),
            Ok(json!({"body": {"responseElements": [null]}}))
        );
    }

    #[test]
    fn bad_json_and_repeated_keys_are_refused() {
        for (text, says) in [
            (r#"{"body": {"state": ["running"]}"#, "EOF while parsing"),
            (
                r#"{"body": {"state": ["running"], "state": ["x"]}}"#,
                "key `state` is given twice",
            ),
            (r#"{"body": {}} trailing"#, "trailing characters"),
            ("", "EOF while parsing"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.path, "", "{text}");
            assert!(
                e.reason.starts_with("is not valid JSON: ") && e.reason.contains(says),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn route_filters_name_parts_of_the_request() {
        assert!(compile_for_request(&json!({"body": {"a": ["b"]}, "headers": {"x": ["y"]}})).is_ok());
        let e = compile_for_request(&json!({"detail": {"a": ["b"]}})).unwrap_err();
        assert_eq!((e.path.as_str(), e.reason.contains("`body` only")), ("detail", true));
        let e = compile_for_request(&json!({"body.a": ["b"]})).unwrap_err();
        assert_eq!(e.path, "\"body.a\"");
        let e = compile_for_request(&json!({"$or": [{"body": {"a": ["1"]}}, {"detail": {"b": ["2"]}}]})).unwrap_err();
        assert_eq!(e.path, "\"$or\"[1].detail");
        assert!(compile_for_request(&json!({"$or": [{"body": {"a": ["1"]}}, {"query": {"b": ["2"]}}]})).is_ok());
        let e = compile_for_request(&json!(["body"])).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.reason.as_str()),
            ("", "must be a table (or a JSON object)")
        );
    }
}
