//! TOML errors as config errors: named by the dotted key or table the parser points at
//! (`route[1].mode`, `route[0].hmac.algorithm2`, `worker`), with the line, and without quoting
//! the line or the value (either could be a secret in the wrong place).

use super::ConfigError;

pub(super) fn toml_error(text: &str, err: &toml::de::Error) -> ConfigError {
    // serde reads a struct from an array as a tuple, so `ingress = [{}]` would be reported as
    // "expected usize" (the struct's first field): say what the key must be instead.
    if let Some(wrong_shape) = shape_error(text) {
        return wrong_shape;
    }
    let offset = err.span().map(|span| span.start.min(text.len()));
    let message = without_the_value(err.message().trim_end());
    let field = field_in_message(&message);
    let at = offset.and_then(|offset| key_path_at(text, offset));
    let key = match (at, field) {
        (Some(path), Some(field)) if path == field || path.ends_with(&format!(".{field}")) => path,
        (Some(path), Some(field)) => format!("{path}.{field}"),
        (Some(path), None) => path,
        (None, Some(field)) => field,
        (None, None) => "config".to_owned(),
    };
    match offset.and_then(|offset| text.get(..offset)) {
        Some(before) => ConfigError::new(key, format!("{message} (line {})", before.matches('\n').count() + 1)),
        None => ConfigError::new(key, message),
    }
}

/// The dotted key (or table) at `offset`: the table it is in, the keys of the inline tables
/// around it on its line, and the key itself when `offset` is at one.
fn key_path_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |at| offset + at);
    let line = &text[line_start..line_end];
    let mut headers: Vec<(bool, &str)> = text[..line_start].lines().filter_map(table_header).collect();
    if let Some(header) = table_header(line).or_else(|| unclosed_header(line)) {
        headers.push(header);
        return table_path(&headers);
    }
    let mut path: Vec<String> = table_path(&headers).into_iter().collect();
    path.extend(keys_on_line(line, offset - line_start));
    (!path.is_empty()).then(|| path.join("."))
}

/// The name of the last table header, with indices for arrays of tables (`route[1]`,
/// `route[0].hmac` for a `[route.hmac]` after the first `[[route]]`).
fn table_path(headers: &[(bool, &str)]) -> Option<String> {
    let &(is_array, name) = headers.last()?;
    let count = |array: &str| headers.iter().filter(|h| **h == (true, array)).count();
    // The longest array of tables this table is (or is inside of).
    let array = headers
        .iter()
        .filter(|(array, prefix)| {
            *array && (*prefix == name || name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')))
        })
        .map(|(_, prefix)| *prefix)
        .max_by_key(|prefix| prefix.len());
    Some(match array {
        Some(array) if array == name && !is_array => name.to_owned(),
        Some(array) => format!("{array}[{}]{}", count(array).saturating_sub(1), &name[array.len()..]),
        None => name.to_owned(),
    })
}

/// `[name]` → `(false, name)`, `[[name]]` → `(true, name)`, spaces and a trailing comment allowed.
fn table_header(line: &str) -> Option<(bool, &str)> {
    let line = line.trim_start();
    let (is_array, rest) = match line.strip_prefix("[[") {
        Some(rest) => (true, rest),
        None => (false, line.strip_prefix('[')?),
    };
    let close = if is_array { "]]" } else { "]" };
    Some((is_array, rest.split_once(close)?.0.trim()))
}

/// `[worker` (the error TOML reports for it): the table meant.
fn unclosed_header(line: &str) -> Option<(bool, &str)> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (is_array, rest) = match rest.strip_prefix('[') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let name = rest.trim().split([' ', '\t', '#', ']']).next()?;
    is_bare_key(name).then_some((is_array, name))
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)))
}

/// The keys leading to column `col` of a `key = value` line: `hmac.algorithm2` for the
/// `algorithm2` in `hmac = { header = "x", algorithm2 = 1 }`. A key is only read where the line
/// has it before an `=`, so a value is never taken for one.
fn keys_on_line(line: &str, col: usize) -> Vec<String> {
    // frames[d]: the key whose value is being read at inline-table depth d.
    let mut frames: Vec<Vec<String>> = vec![Vec::new()];
    let mut expecting_key = true;
    let mut token = String::new();
    let mut string: Option<char> = None;
    let mut escaped = false;
    let mut arrays = 0usize;
    for c in line[..col.min(line.len())].chars() {
        if let Some(quote) = string {
            if expecting_key {
                token.push(c);
            }
            match (escaped, c) {
                (false, '\\') if quote == '"' => escaped = true,
                (false, c) if c == quote => string = None,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                string = Some(c);
                if expecting_key {
                    token.push(c);
                }
            }
            '#' => break,
            '=' if expecting_key => {
                let key = key_segments(&token);
                if key.is_empty() {
                    return Vec::new();
                }
                if let Some(frame) = frames.last_mut() {
                    *frame = key;
                }
                token.clear();
                expecting_key = false;
            }
            _ if expecting_key => token.push(c),
            '[' => arrays += 1,
            ']' => arrays = arrays.saturating_sub(1),
            _ if arrays > 0 => {}
            '{' => {
                frames.push(Vec::new());
                expecting_key = true;
            }
            ',' if frames.len() > 1 => {
                if let Some(frame) = frames.last_mut() {
                    frame.clear();
                }
                expecting_key = true;
            }
            '}' if frames.len() > 1 => {
                frames.pop();
            }
            _ => {}
        }
    }
    let mut keys: Vec<String> = frames.into_iter().flatten().collect();
    if expecting_key && token.trim().is_empty() {
        if let Some(key) = key_starting_at(&line[col.min(line.len())..]) {
            keys.push(key.to_owned());
        }
    }
    keys
}

/// `a."b c".d` → `[a, b c, d]`; empty when it is not a key.
fn key_segments(token: &str) -> Vec<String> {
    let segments: Vec<String> = token
        .split('.')
        .map(|part| part.trim().trim_matches(|c| c == '"' || c == '\'').to_owned())
        .collect();
    match segments.iter().any(String::is_empty) {
        true => Vec::new(),
        false => segments,
    }
}

/// The bare key `rest` starts with, when an `=` follows it (possibly after more dotted parts).
fn key_starting_at(rest: &str) -> Option<&str> {
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    let (key, after) = rest.split_at(end);
    let after = after.trim_start();
    let assigned = after.starts_with('=')
        || after
            .strip_prefix('.')
            .and_then(|dotted| dotted.split_once('='))
            .is_some_and(|(keys, _)| is_bare_key(&keys.replace([' ', '\t'], "")));
    (!key.is_empty() && assigned).then_some(key)
}

/// serde's "invalid type: string \"hunter2\", expected a boolean" without the value, which could
/// be a secret in the wrong place.
fn without_the_value(message: &str) -> String {
    for kind in ["invalid type", "invalid value", "invalid length"] {
        if let Some((_, expected)) = message
            .strip_prefix(kind)
            .and_then(|rest| rest.rsplit_once(", expected "))
        {
            return format!("{kind}: expected {expected}");
        }
    }
    message.to_owned()
}

/// serde names the field in backticks ("missing field `path`", "unknown field `foo`").
fn field_in_message(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

/// What a key must be, where the document has something else (checked only once parsing failed).
#[derive(Clone, Copy)]
enum Shape {
    Table,
    ArrayOfTables,
}

const TOP_LEVEL: &[(&str, Shape)] = &[
    ("downstream", Shape::Table),
    ("targets", Shape::Table),
    ("route", Shape::ArrayOfTables),
    ("s3", Shape::Table),
    ("ingress", Shape::Table),
    ("worker", Shape::Table),
];
const ROUTE: &[(&str, Shape)] = &[
    ("hmac", Shape::Table),
    ("challenge", Shape::Table),
    ("options", Shape::Table),
    ("ack", Shape::Table),
    ("callback", Shape::Table),
];
const S3: &[(&str, Shape)] = &[("rule", Shape::ArrayOfTables), ("options", Shape::Table)];

fn shape_error(text: &str) -> Option<ConfigError> {
    let document: toml::Table = text.parse().ok()?;
    let wrong = |key: String, shape: Shape| {
        let reason = match shape {
            Shape::Table => format!("must be a table (`[{key}]` or `{{ ... }}`)"),
            Shape::ArrayOfTables => format!("must be an array of tables (`[[{key}]]`)"),
        };
        Some(ConfigError::new(key, reason))
    };
    let check = |table: &toml::Table, prefix: &str, shapes: &[(&str, Shape)]| {
        shapes.iter().find_map(|&(key, shape)| {
            let fits = match (table.get(key)?, shape) {
                (toml::Value::Table(_), Shape::Table) => true,
                (toml::Value::Array(items), Shape::ArrayOfTables) => items.iter().all(toml::Value::is_table),
                _ => false,
            };
            (!fits).then(|| format!("{prefix}{key}")).map(|key| (key, shape))
        })
    };
    if let Some((key, shape)) = check(&document, "", TOP_LEVEL) {
        return wrong(key, shape);
    }
    let routes = document.get("route").and_then(toml::Value::as_array);
    for (index, route) in routes.into_iter().flatten().enumerate() {
        if let Some((key, shape)) = route
            .as_table()
            .and_then(|r| check(r, &format!("route[{index}]."), ROUTE))
        {
            return wrong(key, shape);
        }
    }
    if let Some((name, _)) = document
        .get("targets")
        .and_then(toml::Value::as_table)
        .and_then(|targets| targets.iter().find(|(_, target)| !target.is_table()))
    {
        return wrong(format!("targets.{name}"), Shape::Table);
    }
    let s3 = document.get("s3").and_then(toml::Value::as_table);
    if let Some((key, shape)) = s3.and_then(|s3| check(s3, "s3.", S3)) {
        return wrong(key, shape);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        match toml::from_str::<super::super::RawConfig>(text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => toml_error(text, &e).key,
        }
    }

    #[test]
    fn a_struct_given_an_array_says_it_must_be_a_table() {
        for (text, name) in [
            ("ingress = [{}]", "ingress"),
            ("worker = [1]", "worker"),
            ("route = [1]", "route"),
            ("route = 5", "route"),
            ("[targets]\nx = [1]", "targets.x"),
            ("[[route]]\npath = \"/x\"\nhmac = [1]", "route[0].hmac"),
            ("[s3]\nrule = {}", "s3.rule"),
        ] {
            let e = toml_error(text, &toml::from_str::<super::super::RawConfig>(text).err().unwrap());
            assert_eq!(e.key, name, "{text:?}: {e}");
            assert!(e.reason.contains("must be"), "{text:?}: {e}");
            assert!(!e.reason.contains("usize"), "{text:?}: {e}");
        }
    }

    #[test]
    fn syntax_errors_name_the_key_or_table() {
        for (text, name) in [
            ("[worker\nconcurrency = 1", "worker"),
            ("[worker]\nconcurrency = 1\nconcurrency = 2", "worker.concurrency"),
            ("[worker]\nconcurrency = 1\n[worker]\nwarm_up = true", "worker"),
            ("[worker]\nconcurrency = 1 2", "worker.concurrency"),
            ("[worker]\nconcurrency = 1,\n", "worker.concurrency"),
            ("[[route]]\npath = \n", "route[0].path"),
            (
                "[[route]]\npath = \"/x\"\n[[route]]\npath = \"/y\nverify = \"none\"",
                "route[1].path",
            ),
            ("[[route]]\nverify = \"none\"", "route[0].path"),
            ("[targets.x]\nkind = 5", "targets.x.kind"),
            ("[worker]\nx.y = 1\n", "worker.x"),
            ("[worker]\n\"concurrency\" = \"a\"\n", "worker.concurrency"),
            (
                "[[route]]\npath = \"/x\"\n[route.hmac]\nheader = 5",
                "route[0].hmac.header",
            ),
            (
                "[[route]]\npath = \"/x\"\nhmac = { header = \"x\", algorithm = \"sha1\", algorithm2 = 1 }",
                "route[0].hmac.algorithm2",
            ),
            (
                "[[s3.rule]]\nprefix = \"a\"\n[[s3.rule]]\nprefix = 5",
                "s3.rule[1].prefix",
            ),
        ] {
            assert_eq!(key(text), name, "{text:?}");
        }
    }

    #[test]
    fn a_value_is_never_taken_for_a_key() {
        for text in [
            "[[route]]\nsecrets = [\n  hunter2\n]",
            "[[route]]\nsecrets = [\"env:A\",\n  hunter2 ]",
            "[worker]\nconcurrency = hunter2",
        ] {
            let e = toml_error(text, &toml::from_str::<super::super::RawConfig>(text).err().unwrap());
            assert!(!e.to_string().contains("hunter2"), "{text:?}: {e}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, an error and never a panic (the locator slices by the parser's
        /// byte offsets, with multi-byte characters around).
        #[test]
        fn any_text_gives_an_error_or_a_config(
            text in "([\\[\\]{}=.,\"'#\\\\ \t\n]|[a-z_]{1,8}|\u{e9}|\u{1F600}|route|worker|hmac|ingress|1){0,40}"
        ) {
            let _ = super::super::Config::from_toml(&text);
        }
    }

    #[test]
    fn the_line_is_counted_from_one() {
        let text = "[worker]\n\nconcurrency = \"ten\"";
        let e = toml_error(text, &toml::from_str::<super::super::RawConfig>(text).err().unwrap());
        assert!(e.reason.ends_with("(line 3)"), "{e}");
    }
}
