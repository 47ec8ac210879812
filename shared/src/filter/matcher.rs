//! The compiled form of a filter and the test each matcher makes on one leaf of the event:
//! alternatives of fields, each field's test (present with matchers, or absent), and the
//! matchers (exact values, string operators, `numeric` ranges, `cidr` blocks, `anything-but`).
//! Building them from a pattern is [`super::compile`] and [`super::operator`]'s job; finding the
//! leaves a field names is [`super::walk`]'s.

use std::{net::IpAddr, sync::Arc};

use serde_json::{Number, Value};

use super::fold;
use super::number::Scaled;

#[derive(Debug, Clone)]
pub(super) struct Alternative {
    pub(super) fields: Vec<Field>,
}

/// One field of one alternative: a dot-joined path and what must hold there.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) path: Arc<str>,
    pub(super) test: Test,
    /// The field's match values as written, for explanations.
    pub(super) written: Arc<str>,
}

#[derive(Debug, Clone)]
pub(super) enum Test {
    /// `exists: false`: no leaf at the path.
    Absent,
    /// A leaf at the path matches one of these.
    Present(Arc<[Matcher]>),
}

#[derive(Debug, Clone)]
pub(super) enum Matcher {
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
pub(super) enum AnythingBut {
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
pub(super) struct Range {
    pub(super) low: Option<(i128, bool)>,
    pub(super) high: Option<(i128, bool)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Cidr {
    pub(super) network: IpAddr,
    pub(super) bits: u8,
}

/// A wildcard pattern as the literal parts between its `*`s (so `parts.len()` = stars + 1).
#[derive(Debug, Clone)]
pub(super) struct Wildcard {
    pub(super) parts: Vec<String>,
}

// ---- evaluation ---------------------------------------------------------------------------------

impl Matcher {
    /// Whether this matches a leaf (a string, number, boolean or null) of the event.
    pub(super) fn matches(&self, leaf: &Value) -> bool {
        match self {
            Matcher::Exact(expected) => expected == leaf,
            Matcher::Exists => true,
            Matcher::Numeric(range) => leaf.as_number().is_some_and(|n| range.contains(n)),
            Matcher::AnythingBut(but) => !but.excludes(leaf),
            _ => {
                let Some(text) = leaf.as_str() else { return false };
                match self {
                    Matcher::Prefix(prefix) => text.starts_with(prefix.as_str()),
                    Matcher::PrefixIgnoreCase(prefix) => fold::starts_with(text, prefix),
                    Matcher::Suffix(suffix) => text.ends_with(suffix.as_str()),
                    Matcher::SuffixIgnoreCase(suffix) => fold::ends_with(text, suffix),
                    Matcher::EqualsIgnoreCase(expected) => fold::equals(text, expected),
                    Matcher::Wildcard(wildcard) => wildcard.matches(text),
                    Matcher::Cidr(cidr) => cidr.contains(text),
                    _ => false,
                }
            }
        }
    }
}

impl AnythingBut {
    /// Whether the leaf is one of the excluded values. Leaves of another type are never excluded:
    /// `{"anything-but": {"prefix": "init"}}` matches `12` and `null`.
    fn excludes(&self, leaf: &Value) -> bool {
        match (self, leaf) {
            (AnythingBut::Numbers(numbers), Value::Number(n)) => {
                Scaled::of(n).is_some_and(|value| numbers.iter().any(|b| value.equals(*b)))
            }
            (AnythingBut::Strings(strings), Value::String(s)) => strings.iter().any(|x| x == s),
            (AnythingBut::Prefixes(prefixes), Value::String(s)) => prefixes.iter().any(|p| s.starts_with(p.as_str())),
            (AnythingBut::Suffixes(suffixes), Value::String(s)) => suffixes.iter().any(|p| s.ends_with(p.as_str())),
            (AnythingBut::IgnoreCase(values), Value::String(s)) => values.iter().any(|v| fold::equals(s, v)),
            (AnythingBut::Wildcards(wildcards), Value::String(s)) => wildcards.iter().any(|w| w.matches(s)),
            _ => false,
        }
    }
}

impl Range {
    pub(super) fn contains(&self, number: &Number) -> bool {
        let Some(value) = Scaled::of(number) else { return false };
        self.low.is_none_or(|low| value.above(low)) && self.high.is_none_or(|high| value.below(high))
    }
}

impl Wildcard {
    /// Greedy: the first part is a prefix, the last a suffix, and each middle part is taken at its
    /// leftmost occurrence after the previous one. Linear; nothing is retried.
    pub(super) fn matches(&self, text: &str) -> bool {
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
    /// Whether `text` is an IP address of this block (of the same family).
    pub(super) fn contains(&self, text: &str) -> bool {
        match text.parse::<IpAddr>() {
            Ok(ip) if ip.is_ipv4() == self.network.is_ipv4() => mask(ip, self.bits) == self.network,
            _ => false,
        }
    }
}

/// `ip` with all but its first `bits` bits cleared: the network a CIDR block names.
pub(super) fn mask(ip: IpAddr, bits: u8) -> IpAddr {
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
