//! Reading only what is needed from a JSON body: a webhook body can be hundreds of KiB of which a
//! filter or a delivery id needs one field.

use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value read exactly as a full parse into [`Value`] reads it, without building it: every
/// string is decoded (so invalid UTF-8 and lone surrogate escapes are errors), every number is
/// converted (so `1e400` is out of range), and nesting counts against the same recursion limit.
/// serde's [`IgnoredAny`] skips strings and numbers unchecked, so a body it accepts may be one a
/// full parse refuses: a filter must not decide on a body that input mapping calls "not JSON".
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// A JSON object body with only the top-level fields `wanted` accepts; the others are checked as
/// a full parse would check them but not built. `None` exactly when `serde_json::from_slice::<Value>`
/// fails or gives something other than an object.
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
                    map.next_value::<Checked>()?;
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

    // A JSON text is ASCII outside its strings, so a body that is not UTF-8 is not JSON. One pass
    // over the whole body is cheaper than checking each string as it is read.
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
    use proptest::prelude::*;

    use super::*;

    /// What a full parse makes of `body`, if it is an object.
    fn full_object(body: &[u8]) -> Option<Value> {
        serde_json::from_slice::<Value>(body).ok().filter(Value::is_object)
    }

    /// Bodies a skipping parser accepts but a full parse refuses, each in a field no one reads.
    #[test]
    fn skipped_fields_are_checked_as_a_full_parse_checks_them() {
        let mut deep = String::from(r#"{"want":1,"skip":"#);
        deep.push_str(&"[".repeat(200));
        deep.push_str(&"]".repeat(200));
        deep.push('}');
        let bodies: Vec<Vec<u8>> = vec![
            b"{\"want\":1,\"skip\":\"\xff\xfe\"}".to_vec(),
            b"{\"want\":1,\"skip\":\"caf\xc3\"}".to_vec(),
            b"{\"want\":1,\"skip\":\"\xed\xa0\x80\"}".to_vec(), // a surrogate encoded as UTF-8
            b"{\"want\":1,\"skip\":[\"ok\",{\"k\":\"\xc0\xaf\"}]}".to_vec(),
            br#"{"want":1,"skip":"\ud800"}"#.to_vec(),
            br#"{"want":1,"skip":"\udc00x"}"#.to_vec(),
            br#"{"want":1,"skip":"\ud800\u0041"}"#.to_vec(),
            br#"{"want":1,"skip":{"\ud83d":0}}"#.to_vec(),
            br#"{"want":1,"skip":1e400}"#.to_vec(),
            br#"{"want":1,"skip":-1e400}"#.to_vec(),
            deep.into_bytes(),
        ];
        for body in &bodies {
            assert_eq!(full_object(body), None, "{:?}", String::from_utf8_lossy(body));
            assert_eq!(
                top_level_fields(body, |key| key == "want"),
                None,
                "the fast path accepted {:?}",
                String::from_utf8_lossy(body)
            );
        }
        // What a full parse accepts, the fast path accepts too.
        let good = br#"{"want":"\ud83d\ude00","skip":["caf\u00e9",1e300,{"\u00ff":null}]}"#;
        assert_eq!(
            top_level_fields(good, |key| key == "want"),
            Some(serde_json::json!({"want": "😀"}))
        );
    }

    /// Bytes that are mostly JSON objects with strings, escapes and numbers, then mutated: a
    /// byte replaced by one of the awkward ones (invalid UTF-8, a surrogate half, a quote).
    fn mutated_object() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(r#""text""#.to_owned()),
            Just(r#""\ud83d\ude00""#.to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just(r#""\udfff\ud800""#.to_owned()),
            Just("\"caf\u{e9}\"".to_owned()),
            Just("1e400".to_owned()),
            Just("-0.5e-3".to_owned()),
            Just("[1,[2,{\"a\":null}]]".to_owned()),
            Just("true".to_owned()),
            "\"[a-z\\\\u0-9]{0,8}\"",
        ];
        let fields = prop::collection::vec(
            (prop::sample::select(vec!["want", "skip", "other", "want"]), piece),
            0..5,
        )
        .prop_map(|fields| {
            let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", inner.join(",")).into_bytes()
        });
        let awkward = prop::sample::select(vec![0xffu8, 0xc3, 0xed, 0xa0, 0x80, b'"', b'\\', 0x00, b'}']);
        (
            fields,
            prop::collection::vec((any::<prop::sample::Index>(), awkward), 0..3),
        )
            .prop_map(|(mut body, edits)| {
                for (at, byte) in edits {
                    let at = at.index(body.len().max(1));
                    if let Some(b) = body.get_mut(at) {
                        *b = byte;
                    }
                }
                body
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The fast path gives exactly the wanted fields of a full parse, and nothing where a full
        /// parse fails.
        #[test]
        fn top_level_fields_agree_with_a_full_parse(body in mutated_object()) {
            let full = full_object(&body).map(|value| {
                let mut object = value.as_object().cloned().unwrap_or_default();
                object.retain(|key, _| key == "want");
                Value::Object(object)
            });
            prop_assert_eq!(top_level_fields(&body, |key| key == "want"), full, "{:?}", String::from_utf8_lossy(&body));
        }
    }

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
