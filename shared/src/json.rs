//! Reading only what is needed from a JSON body: a webhook body can be hundreds of KiB of which a
//! filter or a delivery id needs one field.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON object body with only the top-level fields `wanted` accepts; the others are skipped
/// without being built. `None` when the body is not a JSON object.
pub(crate) fn top_level_fields(body: &[u8], wanted: impl Fn(&str) -> bool) -> Option<Value> {
    struct Fields<F>(F);

    impl<'de, F: Fn(&str) -> bool> Visitor<'de> for Fields<F> {
        type Value = Map<String, Value>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if (self.0)(&key) {
                    // A repeated key keeps its last value, as a full parse does.
                    fields.insert(key, map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(fields)
        }
    }

    impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for Fields<F> {
        type Value = Map<String, Value>;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_map(self)
        }
    }

    // From a slice, serde_json skips the strings of ignored fields without checking their UTF-8,
    // which a full parse refuses: checked up front, both decide alike (found by fuzz/filter_match).
    let text = std::str::from_utf8(body).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = Fields(wanted).deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(Value::Object(fields))
}

/// The first top-level `key` of a JSON object body, reading no further than that field: for
/// labels such as delivery ids, where a full parse of a large body is the cost of a request.
/// Unlike [`top_level_fields`] it does not check the rest of the body, and of repeated keys the
/// first wins. `None` when the body is not a JSON object or has no such field.
pub(crate) fn first_top_level_field(body: &[u8], key: &str) -> Option<Value> {
    struct First<'k, 'f> {
        key: &'k str,
        found: &'f mut Option<Value>,
    }

    impl<'de> Visitor<'de> for First<'_, '_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if name == self.key {
                    *self.found = Some(map.next_value()?);
                    // Stops the parse here; the caller reads `found`, not this error.
                    return Err(serde::de::Error::custom("found"));
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let mut found = None;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let _ = deserializer.deserialize_map(First { key, found: &mut found });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_field_is_read_without_the_rest() {
        let first = |body: &str, key| first_top_level_field(body.as_bytes(), key);
        assert_eq!(first(r#"{"id":"evt_1","type":"x"}"#, "id"), Some("evt_1".into()));
        assert_eq!(
            first(r#"{"a":[1,{"id":2}],"id":{"n":3}}"#, "id"),
            Some(serde_json::json!({"n": 3}))
        );
        assert_eq!(first(r#"{"id":"first","id":"second"}"#, "id"), Some("first".into()));
        assert_eq!(first(r#"{"id":"evt_1", not json after"#, "id"), Some("evt_1".into()));
        assert_eq!(first(r#"{"i\u0064":"escaped key"}"#, "id"), Some("escaped key".into()));
        assert_eq!(first(r#"{"other":1}"#, "id"), None);
        assert_eq!(first(r#"{"other":1, broken"#, "id"), None);
        assert_eq!(first(r#"{"id":tru"#, "id"), None);
        assert_eq!(first(r#"["id","x"]"#, "id"), None);
        assert_eq!(first("", "id"), None);
    }
}
