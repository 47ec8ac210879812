//! The library's layer rule, checked on its source (ARCHITECTURE.md, "Layers"):
//!
//! 1. every top-level module has a layer in the table of `src/lib.rs`'s documentation, and the
//!    table names only modules that exist;
//! 2. a module uses only modules of lower layers (and itself): no `crate::` or `super::` path
//!    from a file of layer N reaches a module of layer N or above;
//! 3. inside a module folder, the sibling submodules use each other without cycles.
//!
//! Paths are read from the source text (comments and string literals removed): `use` trees with
//! groups, and paths in expressions alike. Test code counts too: a test that needs an upper layer
//! belongs in that layer.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// A module path from the crate root, e.g. `["delivery", "call"]`.
type ModPath = Vec<String>;

struct SourceFile {
    path: PathBuf,
    module: ModPath,
    text: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module file of the library (not `src/bin`), with its module path.
fn source_files() -> Vec<SourceFile> {
    fn walk(dir: &Path, module: &ModPath, out: &mut Vec<SourceFile>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if path.is_dir() {
                if module.is_empty() && name == "bin" {
                    continue;
                }
                let mut child = module.clone();
                child.push(name);
                walk(&path, &child, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut file_module = module.clone();
                if stem != "mod" && stem != "lib" {
                    file_module.push(stem.to_owned());
                }
                let text = strip_comments_and_strings(&fs::read_to_string(&path).unwrap());
                out.push(SourceFile {
                    path,
                    module: file_module,
                    text,
                });
            }
        }
    }
    let mut files = Vec::new();
    walk(&src_dir(), &Vec::new(), &mut files);
    files
}

/// The source with comments, string and char literals blanked out (newlines kept), so that only
/// code is searched for paths and braces count truly.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_newlines = |out: &mut String, slice: &[char]| {
        for &c in slice {
            out.push(if c == '\n' { '\n' } else { ' ' });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            keep_newlines(&mut out, &chars[i..end]);
            i = end;
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let start = i;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            keep_newlines(&mut out, &chars[start..i.min(chars.len())]);
        } else if (c == 'r' || c == 'b') && is_raw_string_start(&chars, i) {
            // r"..", r#".."#, br#".."#
            let start = i;
            while chars[i] != 'r' {
                i += 1;
            }
            i += 1;
            let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
            i += hashes + 1;
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                i += 1;
            }
            i = (i + closing.len()).min(chars.len());
            keep_newlines(&mut out, &chars[start..i]);
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            keep_newlines(&mut out, &chars[start..i]);
        } else if c == '\'' && is_char_literal(&chars, i) {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            keep_newlines(&mut out, &chars[start..i]);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_raw_string_start(chars: &[char], i: usize) -> bool {
    if i > 0 && is_ident_char(chars[i - 1]) {
        return false;
    }
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return false;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// `'x'`, `'\n'`, `'\u{7f}'`, but not a lifetime (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// One path a file uses, resolved from the crate root, and the module the code using it is in
/// (a file's inline modules, such as `mod tests`, resolve `super::` from themselves).
#[derive(Debug)]
struct Use {
    from: ModPath,
    to: ModPath,
    line: usize,
}

/// Every `crate::` and `super::` path in `file`, `use` groups expanded.
fn uses(file: &SourceFile) -> Vec<Use> {
    let chars: Vec<char> = file.text.chars().collect();
    let mut found = Vec::new();
    // Inline modules (`mod tests { .. }`): their names and the brace depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_word = i == 0 || !is_ident_char(chars[i - 1]);
        if c == '\n' {
            line += 1;
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
        } else if at_word && starts_with(&chars, i, "mod ") {
            let mut j = i + 4;
            let name: String = chars[j..].iter().take_while(|c| is_ident_char(**c)).collect();
            j += name.len();
            while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            if chars.get(j) == Some(&'{') {
                inline.push((name, depth));
            }
        } else if at_word && (starts_with(&chars, i, "crate::") || starts_with(&chars, i, "super::")) {
            let mut here = file.module.clone();
            here.extend(inline.iter().map(|(name, _)| name.clone()));
            let mut j = i;
            let mut base = here.clone();
            let mut relative = false;
            if starts_with(&chars, j, "crate::") {
                base.clear();
                j += "crate::".len();
            } else {
                relative = true;
            }
            while relative && starts_with(&chars, j, "super::") {
                base.pop();
                j += "super::".len();
            }
            let mut paths = Vec::new();
            let end = parse_tree(&chars, j, base, &mut paths);
            for to in paths {
                found.push(Use {
                    from: here.clone(),
                    to,
                    line,
                });
            }
            line += chars[i..end].iter().filter(|&&c| c == '\n').count();
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

fn starts_with(chars: &[char], i: usize, text: &str) -> bool {
    text.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c))
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// Parses a path (tree) starting at `i` under `prefix`; pushes each full path; returns where it
/// ends.
fn parse_tree(chars: &[char], i: usize, prefix: ModPath, out: &mut Vec<ModPath>) -> usize {
    let mut i = skip_space(chars, i);
    let mut path = prefix;
    loop {
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                i = skip_space(chars, i);
                match chars.get(i) {
                    Some('}') => return i + 1,
                    Some(',') => i += 1,
                    Some(_) => i = parse_tree(chars, i, path.clone(), out),
                    None => return i,
                }
            }
        }
        let ident: String = chars[i..]
            .iter()
            .take_while(|c| is_ident_char(**c) || **c == '*')
            .collect();
        if ident.is_empty() {
            out.push(path);
            return i;
        }
        i += ident.len();
        if ident != "self" && ident != "*" {
            path.push(ident);
        }
        let after = skip_space(chars, i);
        if starts_with(chars, after, "::") {
            i = skip_space(chars, after + 2);
        } else {
            out.push(path);
            return i;
        }
    }
}

/// The layer of each top-level module, from the table in `src/lib.rs`'s documentation: rows
/// `//! | N | [`a`], [`b`] | ... |`.
fn layer_table() -> BTreeMap<String, usize> {
    let lib = fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    let mut layers = BTreeMap::new();
    for row in lib.lines().filter_map(|l| l.strip_prefix("//! |")) {
        let mut cells = row.split('|').map(str::trim);
        let (Some(number), Some(modules)) = (cells.next(), cells.next()) else {
            continue;
        };
        let Ok(layer) = number.parse::<usize>() else { continue };
        for name in modules
            .split(',')
            .map(|m| m.trim().trim_start_matches("[`").trim_end_matches("`]"))
        {
            assert!(
                layers.insert(name.to_owned(), layer).is_none(),
                "lib.rs: `{name}` is in two layers"
            );
        }
    }
    layers
}

fn top_level_modules() -> BTreeSet<String> {
    let lib = strip_comments_and_strings(&fs::read_to_string(src_dir().join("lib.rs")).unwrap());
    lib.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("pub mod ").or_else(|| l.strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect()
}

/// The module tree as files and folders give it: each module's child modules.
fn children(files: &[SourceFile]) -> BTreeMap<ModPath, BTreeSet<String>> {
    let mut tree: BTreeMap<ModPath, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        for depth in 0..file.module.len() {
            tree.entry(file.module[..depth].to_vec())
                .or_default()
                .insert(file.module[depth].clone());
        }
    }
    tree
}

#[test]
fn every_module_has_a_layer() {
    let layers = layer_table();
    let modules = top_level_modules();
    assert!(layers.len() >= 5, "lib.rs has no layer table: {layers:?}");
    let unplaced: Vec<_> = modules.iter().filter(|m| !layers.contains_key(*m)).collect();
    let missing: Vec<_> = layers.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in lib.rs's table: {unplaced:?}"
    );
    assert!(
        missing.is_empty(),
        "lib.rs's table names modules that do not exist: {missing:?}"
    );
}

#[test]
fn modules_use_only_lower_layers() {
    let layers = layer_table();
    let mut upward = Vec::new();
    let files = source_files();
    assert!(
        files.len() > 30,
        "found only {} files under {:?}",
        files.len(),
        src_dir()
    );
    for file in &files {
        let Some(from) = file.module.first() else { continue };
        for reference in uses(file) {
            let Some(to) = reference.to.first() else { continue };
            let (Some(&from_layer), Some(&to_layer)) = (layers.get(from), layers.get(to)) else {
                continue;
            };
            if from != to && to_layer >= from_layer {
                upward.push(format!(
                    "{}:{}: `{}` (layer {from_layer}) uses `{}` (layer {to_layer})",
                    file.path.strip_prefix(src_dir()).unwrap().display(),
                    reference.line,
                    file.module.join("::"),
                    reference.to.join("::"),
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "modules may only use lower layers (shared/src/lib.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn sibling_modules_have_no_cycles() {
    let files = source_files();
    let tree = children(&files);
    // parent → (child → children it uses)
    let mut edges: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        for reference in uses(file) {
            let common = file
                .module
                .iter()
                .zip(&reference.to)
                .take_while(|(a, b)| a == b)
                .count();
            let (Some(from), Some(to)) = (file.module.get(common), reference.to.get(common)) else {
                continue;
            };
            let parent = file.module[..common].to_vec();
            if tree.get(&parent).is_some_and(|kids| kids.contains(to)) {
                edges
                    .entry(parent)
                    .or_default()
                    .entry(from.clone())
                    .or_default()
                    .insert(to.clone());
            }
        }
    }
    let mut cycles = Vec::new();
    for (parent, graph) in &edges {
        if let Some(cycle) = find_cycle(graph) {
            let prefix = match parent.is_empty() {
                true => String::new(),
                false => format!("{}::", parent.join("::")),
            };
            cycles.push(format!("{prefix}{{{}}}", cycle.join(" → ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between sibling modules:\n{}",
        cycles.join("\n")
    );
}

/// A cycle in `graph`, as the list of its nodes (first repeated at the end), if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

// ---- the checker checks itself -------------------------------------------------------------

fn file(module: &[&str], text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from("x.rs"),
        module: module.iter().map(|s| (*s).to_owned()).collect(),
        text: strip_comments_and_strings(text),
    }
}

fn targets(file: &SourceFile) -> Vec<String> {
    uses(file).into_iter().map(|u| u.to.join("::")).collect()
}

#[test]
fn paths_are_read_from_use_trees_and_expressions() {
    let source = file(
        &["delivery", "http"],
        r##"
use crate::{
    config::{ConfigError, TargetSpec},
    delivery::call::{self, CallError},
    wire::envelope::*,
};
// crate::startup is only a comment
const A: &str = "crate::startup in a string";
const B: &str = r#"crate::redrive in a raw "string""#;
const C: char = '{';
fn f<'a>(x: &'a str) -> usize { super::retry::classify(x) + crate::foundation::tls::n() }
"##,
    );
    assert_eq!(
        targets(&source),
        [
            "config::ConfigError",
            "config::TargetSpec",
            "delivery::call",
            "delivery::call::CallError",
            "wire::envelope",
            "delivery::retry::classify",
            "foundation::tls::n",
        ]
    );
}

#[test]
fn super_resolves_from_inline_modules() {
    let source = file(
        &["dedup"],
        "pub fn a() {}\n#[cfg(test)]\nmod tests {\n    use super::{memory::MemoryLedger, *};\n}\nfn b() { super::queue::x() }\n",
    );
    let found: Vec<_> = uses(&source)
        .into_iter()
        .map(|u| (u.from.join("::"), u.to.join("::")))
        .collect();
    assert_eq!(
        found,
        [
            ("dedup::tests".to_owned(), "dedup::memory::MemoryLedger".to_owned()),
            ("dedup::tests".to_owned(), "dedup".to_owned()),
            ("dedup".to_owned(), "queue::x".to_owned()),
        ]
    );
}

#[test]
fn cycles_are_found() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            graph.entry((*a).to_owned()).or_default().insert((*b).to_owned());
        }
        graph
    };
    assert_eq!(find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
