//! Property tests for route filters (`hookrelay::filter`): arbitrary patterns, generated from a
//! grammar of valid and invalid operators, and arbitrary JSON events never panic; compiling and
//! matching are deterministic; and a few laws of the pattern language hold on arbitrary events.

use std::collections::BTreeMap;

use hookrelay::{
    config::Config,
    filter::Filter,
    foundation::secret::SecretResolver,
    inbound::route::RequestView,
    inbound::verify::{Decision, SystemClock, Verifier, WebhookRequest},
};
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

// ---- generators ---------------------------------------------------------------------------------

/// Field names, with the awkward ones over-represented: dotted, empty, operator names, `$or`.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "c", "body", "x-github-event"]).prop_map(String::from),
        2 => prop::sample::select(vec!["a.b", "b.c", "", ".", "a.", "prefix", "numeric", "exists", "$or"])
            .prop_map(String::from),
        1 => "[a-c.$]{0,4}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ab.*\\\\/-]{0,8}",
        1 => prop::sample::select(vec!["10.0.0.1", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32", "", "INIT", "init"])
            .prop_map(String::from),
        1 => any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (-20i64..20).prop_map(Value::from),
        2 => (-2000i32..2000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        1 => prop::sample::select(vec![5e9, -5e9, 5.000001e9, 0.000001, 0.0000001, 1e-300, 1e300]).prop_map(Value::from),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        4 => text().prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5).prop_map(object),
        ]
    })
}

fn event() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), json(), 0..6).prop_map(object)
}

fn object(map: BTreeMap<String, Value>) -> Value {
    Value::Object(map.into_iter().collect())
}

fn numeric_operator() -> impl Strategy<Value = Value> {
    prop::sample::select(vec!["=", "<", "<=", ">", ">=", "==", "", "≥"]).prop_map(Value::from)
}

/// An operator object, valid or not: every operator with good and bad arguments, unknown
/// operators, empty and two-operator objects.
fn operator() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "prefix",
        "suffix",
        "equals-ignore-case",
        "wildcard",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "prefixx",
        "exactly",
        "$or",
    ]);
    let sub_operator = prop::sample::select(vec![
        "prefix",
        "suffix",
        "equals-ignore-case",
        "wildcard",
        "numeric",
        "x",
    ]);
    prop_oneof![
        text().prop_map(|t| json!({"prefix": t})),
        text().prop_map(|t| json!({"prefix": {"equals-ignore-case": t}})),
        text().prop_map(|t| json!({"suffix": t})),
        text().prop_map(|t| json!({"suffix": {"equals-ignore-case": t}})),
        text().prop_map(|t| json!({"equals-ignore-case": t})),
        text().prop_map(|t| json!({"wildcard": t})),
        text().prop_map(|t| json!({"cidr": t})),
        any::<bool>().prop_map(|b| json!({"exists": b})),
        prop_oneof![
            text().prop_map(Value::String),
            number(),
            prop::collection::vec(text().prop_map(Value::String), 0..3).prop_map(Value::Array),
            prop::collection::vec(number(), 0..3).prop_map(Value::Array),
            prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
            (
                sub_operator,
                prop_oneof![
                    text().prop_map(Value::String),
                    prop::collection::vec(text().prop_map(Value::String), 0..3).prop_map(Value::Array),
                    scalar(),
                ]
            )
                .prop_map(|(op, v)| json!({ op: v })),
        ]
        .prop_map(|arg| json!({"anything-but": arg})),
        prop::collection::vec(prop_oneof![numeric_operator(), number(), scalar()], 0..6)
            .prop_map(|items| json!({"numeric": items})),
        (name.clone(), json()).prop_map(|(op, arg)| json!({ op: arg })),
        (name.clone(), name, text()).prop_map(|(a, b, t)| if a == b { json!({}) } else { json!({ a: t, b: t }) }),
    ]
}

fn match_value() -> impl Strategy<Value = Value> {
    prop_oneof![6 => scalar(), 6 => operator(), 1 => json()]
}

/// Mostly 1 to 3, sometimes 0 (which patterns may not have).
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 1usize..4, 1 => Just(0usize)]
}

/// A pattern object: fields holding arrays of match values, nested objects, `$or` arrays, and
/// now and then something that is neither.
fn pattern() -> impl Strategy<Value = Value> {
    let values = || {
        size()
            .prop_flat_map(|n| prop::collection::vec(match_value(), n))
            .prop_map(Value::Array)
    };
    let fields_of = |values: BoxedStrategy<Value>| {
        size()
            .prop_flat_map(move |n| prop::collection::btree_map(key(), values.clone(), n))
            .prop_map(object)
            .boxed()
    };
    let leaf = fields_of(prop_oneof![12 => values(), 1 => scalar()].boxed());
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let fields = fields_of(prop_oneof![3 => values(), 2 => inner.clone()].boxed());
        let alternatives =
            prop_oneof![6 => 2usize..4, 1 => 0usize..2].prop_flat_map(move |n| prop::collection::vec(inner.clone(), n));
        prop_oneof![
            3 => fields.clone(),
            1 => (fields, alternatives).prop_map(|(mut f, alternatives)| {
                f["$or"] = Value::Array(alternatives);
                f
            }),
        ]
    })
}

/// Patterns built only from valid operators, which `compile` must accept.
fn valid_pattern() -> impl Strategy<Value = Value> {
    let plain_key = || prop::sample::select(vec!["a", "b", "c", "d", "x-github-event", "body"]).prop_map(String::from);
    let safe_text = || "[ab/-]{0,5}";
    let wildcard = "[ab/]{0,3}(\\*[ab/]{1,3}){0,3}\\*?";
    let decimal = || (-40_000i32..40_000).prop_map(|n| f64::from(n) / 8.0);
    let valid_operator = prop_oneof![
        safe_text().prop_map(|t| json!({"prefix": t})),
        safe_text().prop_map(|t| json!({"prefix": {"equals-ignore-case": t}})),
        safe_text().prop_map(|t| json!({"suffix": t})),
        safe_text().prop_map(|t| json!({"suffix": {"equals-ignore-case": t}})),
        safe_text().prop_map(|t| json!({"equals-ignore-case": t})),
        wildcard.prop_map(|w| json!({"wildcard": w})),
        any::<bool>().prop_map(|b| json!({"exists": b})),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(ip, bits)| { json!({"cidr": format!("{}.{}.{}.{}/{bits}", ip[0], ip[1], ip[2], ip[3])}) }),
        safe_text().prop_map(|t| json!({"anything-but": t})),
        decimal().prop_map(|n| json!({"anything-but": n})),
        prop::collection::vec(safe_text(), 1..3).prop_map(|t| json!({"anything-but": t})),
        prop::collection::vec(decimal(), 1..3).prop_map(|n| json!({"anything-but": n})),
        (
            "[ab/]{1,4}",
            prop::sample::select(vec!["prefix", "suffix", "equals-ignore-case", "wildcard"])
        )
            .prop_map(|(t, op)| json!({"anything-but": { op: t }})),
        (prop::sample::select(vec!["=", "<", "<=", ">", ">="]), decimal())
            .prop_map(|(op, n)| json!({"numeric": [op, n]})),
        (
            prop::sample::select(vec![">", ">="]),
            decimal(),
            prop::sample::select(vec!["<", "<="]),
            1i32..1000
        )
            .prop_map(|(low, n, high, gap)| json!({"numeric": [low, n, high, n + f64::from(gap)]})),
    ];
    let values = prop::collection::vec(prop_oneof![2 => valid_operator, 1 => scalar()], 1..4).prop_map(Value::Array);
    let leaf = prop::collection::btree_map(plain_key(), values.clone(), 1..4).prop_map(object);
    leaf.prop_recursive(3, 16, 3, move |inner| {
        let fields =
            prop::collection::btree_map(plain_key(), prop_oneof![values.clone(), inner.clone()], 1..4).prop_map(object);
        prop_oneof![
            3 => fields,
            1 => prop::collection::vec(inner, 2..4).prop_map(|alternatives| json!({"$or": alternatives})),
        ]
    })
}

// ---- helpers ------------------------------------------------------------------------------------

/// Every leaf of `value` with the object keys on its way (arrays are transparent).
fn leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| leaves(item, path, out)),
        Value::Object(map) => {
            for (key, child) in map {
                path.push(key.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

/// `{"k1": {"k2": .. {"kn": values}}}`.
fn nest(path: &[String], values: Value) -> Value {
    path.iter().rev().fold(values, |inner, key| {
        let mut map = Map::new();
        map.insert(key.clone(), inner);
        Value::Object(map)
    })
}

fn compiles(pattern: Value) -> Filter {
    Filter::compile(&pattern).unwrap_or_else(|e| panic!("{pattern} was rejected: {e}"))
}

/// A wildcard as AWS documents it: `*` any run, `\*` and `\\` literals, no `**`, no other escape.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Star,
    Char(char),
}

fn reference_parse(raw: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => return None,
            '*' => tokens.push(Token::Star),
            '\\' => match chars.next() {
                Some(e @ ('*' | '\\')) => tokens.push(Token::Char(e)),
                _ => return None,
            },
            c => tokens.push(Token::Char(c)),
        }
    }
    Some(tokens)
}

/// Textbook dynamic programming, to check the filter's greedy matcher against.
fn reference_match(tokens: &[Token], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for token in tokens {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match token {
                Token::Star => row[j] || (j > 0 && next[j - 1]),
                Token::Char(c) => j > 0 && row[j - 1] && text[j - 1] == *c,
            };
        }
        row = next;
    }
    row[text.len()]
}

/// A JSON event serialised, with now and then a string or number swapped for something only a
/// full parse refuses (invalid UTF-8, a lone surrogate escape, a number out of range) and a byte
/// overwritten, so that bodies a skipping parser would accept turn up often.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    let poison = prop::sample::select(vec![
        &b"\"\xff\""[..],
        b"\"caf\xe9\"",
        b"\"\xed\xa0\x80\"",
        br#""\ud800""#,
        br#""\udc00\ud800""#,
        br#""\ud83d\ude00""#,
        b"1e400",
        b"-1e999",
        b"\"ok\"",
    ]);
    let awkward = prop::sample::select(vec![0xffu8, 0xc3, 0xed, b'"', b'\\', b'u', 0x00]);
    (
        event(),
        prop::collection::vec((any::<prop::sample::Index>(), poison), 0..3),
        prop::collection::vec((any::<prop::sample::Index>(), awkward), 0..2),
    )
        .prop_map(|(mut event, poisons, bytes)| {
            // A field the patterns below name, so that the filter often matches on the fast path.
            if let Value::Object(fields) = &mut event {
                fields.insert("a".into(), "x".into());
            }
            let mut body = serde_json::to_vec(&event).unwrap_or_default();
            for (at, poison) in poisons {
                // Replace a JSON string or number that follows a `:` (a field's value).
                let colons: Vec<usize> = body
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b':')
                    .map(|(i, _)| i)
                    .collect();
                if colons.is_empty() {
                    continue;
                }
                let start = colons[at.index(colons.len())] + 1;
                let end = match body.get(start) {
                    Some(b'"') => body[start + 1..]
                        .windows(2)
                        .position(|w| w[1] == b'"' && w[0] != b'\\')
                        .map_or(start + 1, |p| start + p + 3),
                    Some(b) if b.is_ascii_digit() || *b == b'-' => {
                        start
                            + body[start..]
                                .iter()
                                .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
                                .count()
                    }
                    _ => continue,
                };
                body.splice(start..end.min(body.len()), poison.iter().copied());
            }
            for (at, byte) in bytes {
                let at = at.index(body.len().max(1));
                if let Some(b) = body.get_mut(at) {
                    *b = byte;
                }
            }
            body
        })
}

/// The route the equivalence property runs through: no verification, the real `RequestView`.
fn none_verifier() -> (String, Verifier) {
    let config = Config::from_toml("[[route]]\npath = \"/p\"\nverify = \"none\"\nalgorithm = \"a/b\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let route = &config.routes[0];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let verifier = runtime
        .block_on(Verifier::for_route(route, &SecretResolver::new(None)))
        .unwrap_or_else(|e| panic!("{e}"));
    (route.path.clone(), verifier)
}

// ---- properties ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Compiling never panics and gives the same answer twice; an accepted pattern matches every
    /// event without panicking, the same way each time, and the same way as its clone.
    #[test]
    fn filter_arbitrary_patterns_and_events_never_panic(
        pattern in prop_oneof![3 => pattern(), 2 => valid_pattern(), 1 => json()],
        events in prop::collection::vec(prop_oneof![4 => event(), 1 => json()], 1..4),
    ) {
        let first = Filter::compile(&pattern);
        let second = Filter::compile(&pattern);
        match (first, second) {
            (Ok(filter), Ok(again)) => {
                let copy = filter.clone();
                for event in &events {
                    let verdict = filter.matches(event);
                    prop_assert_eq!(verdict, filter.matches(event));
                    prop_assert_eq!(verdict, again.matches(event));
                    prop_assert_eq!(verdict, copy.matches(event));
                }
            }
            (Err(a), Err(b)) => {
                prop_assert!(!a.reason.is_empty());
                prop_assert_eq!(a, b);
            }
            (a, b) => prop_assert!(false, "compiled differently: {:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }

    /// The grammar of valid operators is accepted, and matching it stays deterministic.
    #[test]
    fn filter_valid_patterns_compile(pattern in valid_pattern(), events in prop::collection::vec(event(), 1..4)) {
        let filter = compiles(pattern);
        for event in &events {
            prop_assert_eq!(filter.matches(event), filter.matches(event));
        }
    }

    /// A pattern naming any leaf of an event by its path and value matches the event; `exists`
    /// true matches and false does not.
    #[test]
    fn filter_every_leaf_matches_its_own_exact_pattern(event in event()) {
        let mut found = Vec::new();
        leaves(&event, &mut Vec::new(), &mut found);
        for (path, leaf) in found.into_iter().filter(|(path, _)| !path.iter().any(|k| k == "$or")) {
            prop_assert!(compiles(nest(&path, json!([leaf.clone()]))).matches(&event), "{:?} = {}", path, leaf);
            prop_assert!(compiles(nest(&path, json!([{"exists": true}]))).matches(&event), "{:?}", path);
            prop_assert!(!compiles(nest(&path, json!([{"exists": false}]))).matches(&event), "{:?}", path);
        }
    }

    /// Exactly one of `exists: true` and `exists: false` matches, for any path and event.
    #[test]
    fn filter_exists_true_and_false_are_complements(
        path in prop::collection::vec(key().prop_filter("not $or", |k| k != "$or"), 1..4),
        event in event(),
    ) {
        let present = compiles(nest(&path, json!([{"exists": true}]))).matches(&event);
        let absent = compiles(nest(&path, json!([{"exists": false}]))).matches(&event);
        prop_assert!(present != absent, "{:?} in {}", path, event);
    }

    /// On a single present string, `[x]` and `[{"anything-but": x}]` split the cases; on a missing
    /// field neither matches.
    #[test]
    fn filter_anything_but_is_the_complement_of_equality_on_present_strings(x in text(), v in text()) {
        let equal = compiles(json!({"k": [x.clone()]}));
        let anything_but = compiles(json!({"k": [{"anything-but": x}]}));
        let event = json!({"k": v});
        prop_assert!(equal.matches(&event) != anything_but.matches(&event));
        let missing = json!({"other": 1});
        prop_assert!(!equal.matches(&missing));
        prop_assert!(!anything_but.matches(&missing));
    }

    /// `numeric` ranges agree with plain arithmetic on values with few decimals.
    #[test]
    fn filter_numeric_ranges_agree_with_arithmetic(low in -80i32..80, gap in 1i32..40, x in -100i32..100, closed in any::<bool>()) {
        let (low, high, x) = (f64::from(low) / 4.0, f64::from(low + gap) / 4.0, f64::from(x) / 4.0);
        let top = if closed { "<=" } else { "<" };
        let filter = compiles(json!({"n": [{"numeric": [">", low, top, high]}]}));
        let expected = low < x && if closed { x <= high } else { x < high };
        prop_assert_eq!(filter.matches(&json!({"n": x})), expected);
        if x.fract() == 0.0 {
            // Integers and floats are the same number to `numeric`.
            prop_assert_eq!(filter.matches(&json!({"n": x as i64})), expected);
        }
    }

    /// The wildcard matcher (greedy, linear) agrees with a dynamic-programming reference, and the
    /// validator accepts exactly the wildcards the documented escaping rules allow.
    #[test]
    fn filter_wildcard_agrees_with_a_reference_matcher(raw in "[ab*\\\\]{0,8}", text in "[ab*\\\\]{0,10}") {
        let compiled = Filter::compile(&json!({"s": [{"wildcard": raw.clone()}]}));
        match (compiled, reference_parse(&raw)) {
            (Ok(filter), Some(tokens)) => {
                prop_assert_eq!(filter.matches(&json!({"s": text.clone()})), reference_match(&tokens, &text));
            }
            (Err(_), None) => {}
            (compiled, reference) => prop_assert!(
                false,
                "{:?}: filter {:?}, reference {:?}",
                raw,
                compiled.map(|_| "accepted"),
                reference
            ),
        }
    }

    /// The ingress's fast path (only the top-level fields the filter reads are built) decides
    /// exactly as matching the whole request does, whose body is a full `serde_json` parse, also
    /// on bodies that only a full parse refuses (invalid UTF-8, lone surrogates, numbers out of
    /// range in fields the filter never reads).
    #[test]
    fn filter_fast_path_decides_as_a_full_parse(
        pattern in prop_oneof![
            1 => Just(json!({"a": ["x"]})),
            1 => Just(json!({"a": [{"exists": false}]})),
            1 => Just(json!({"a": [{"prefix": "x"}], "b": [{"exists": false}]})),
            2 => valid_pattern(),
        ],
        body in body_bytes(),
    ) {
        let filter = compiles(json!({"body": pattern}));
        let (path, verifier) = none_verifier();
        let headers = http::HeaderMap::new();
        let request = WebhookRequest { method: &http::Method::POST, headers: &headers, query: None, body: &body };
        let Ok(Decision::Deliver(verified)) = verifier.verify(request, &SystemClock) else {
            return Err(TestCaseError::fail("verify = none delivers every POST"));
        };
        // A fresh view each time: the body a view has parsed once is reused by `passes`.
        let fast = RequestView::new(&verified, &path).passes(&filter);
        let view = RequestView::new(&verified, &path);
        let whole = filter.matches(&view.filter_event());
        prop_assert_eq!(fast, whole, "{:?}", String::from_utf8_lossy(&body));
        // And the whole request's body is what a full parse makes of it.
        let parsed = serde_json::from_slice::<Value>(&body).ok();
        prop_assert_eq!(view.filter_event().get("body").cloned(), parsed);
    }
}
