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

    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let fields = Fields(wanted).deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(Value::Object(fields))
}
