//! Case-insensitive comparison for `equals-ignore-case` and the ignore-case forms of `prefix`,
//! `suffix` and `anything-but`: full Unicode case folding (CaseFolding.txt, statuses C and F,
//! from the `caseless` crate), so that characters whose case forms differ in length compare equal:
//! `ῆ` (U+1FC6) and `Η͂` (U+0397 U+0342) both fold to `ῆ`, `ß` and `SS` to `ss`, `ﬁ` to `fi`,
//! `İ` to `i̇`.
//!
//! AWS's engine (event-ruler's `EqualsIgnoreCaseParser`) accepts, for each character of the
//! pattern, its lower- or its upper-case form, which handles length changes only in one direction
//! (pattern `ῆ` matches `Η͂`, pattern `Η͂` does not match `ῆ`). Folding both sides is symmetric
//! and agrees with event-ruler wherever event-ruler matches.
//!
//! A folded prefix or suffix must end on a character boundary of the event's value: `ß` folds to
//! `ss`, and the prefix `s` does not match `ßx` (half a character), as in event-ruler, whose
//! patterns match whole characters.

use caseless::Caseless;

/// `text` case-folded, for a pattern, once at compile time.
pub(super) fn fold(text: &str) -> String {
    caseless::default_case_fold_str(text)
}

/// The full case folding of one character: one to three characters.
fn fold_char(c: char) -> impl DoubleEndedIterator<Item = char> {
    let mut folded = ['\0'; 3];
    let mut len = 0;
    for (slot, f) in folded.iter_mut().zip(std::iter::once(c).default_case_fold()) {
        *slot = f;
        len += 1;
    }
    folded.into_iter().take(len)
}

/// ASCII folds to ASCII lower case, one byte for one byte (only non-ASCII characters such as
/// U+212A KELVIN SIGN fold *into* ASCII), so an ASCII value needs no table look-ups.
fn ascii_eq(text: &[u8], folded: &[u8]) -> bool {
    text.len() == folded.len() && text.iter().zip(folded).all(|(t, f)| t.to_ascii_lowercase() == *f)
}

/// Whether `text` folds to `folded` (a pattern already folded with [`fold`]).
pub(super) fn equals(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        return ascii_eq(text.as_bytes(), folded.as_bytes());
    }
    text.chars().default_case_fold().eq(folded.chars())
}

/// Whether some prefix of `text` ending on a character boundary folds to `folded`.
pub(super) fn starts_with(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        return text.len() >= folded.len() && ascii_eq(&text.as_bytes()[..folded.len()], folded.as_bytes());
    }
    let mut want = folded.chars();
    if want.as_str().is_empty() {
        return true;
    }
    for c in text.chars() {
        for f in fold_char(c) {
            // Running out of pattern inside a character's folding is a split character: no match.
            if want.next() != Some(f) {
                return false;
            }
        }
        if want.as_str().is_empty() {
            return true;
        }
    }
    false
}

/// Whether some suffix of `text` starting on a character boundary folds to `folded`.
pub(super) fn ends_with(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        return text.len() >= folded.len()
            && ascii_eq(&text.as_bytes()[text.len() - folded.len()..], folded.as_bytes());
    }
    let mut want = folded.chars();
    if want.as_str().is_empty() {
        return true;
    }
    for c in text.chars().rev() {
        for f in fold_char(c).rev() {
            if want.next_back() != Some(f) {
                return false;
            }
        }
        if want.as_str().is_empty() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    // Non-ASCII text is written as escapes: editors and terminals normalise precomposed and
    // combining forms, and which form is used is the point of these tests.
    const ETA_PERISPOMENI: &str = "\u{1fc6}"; // ῆ
    const ETA_UPPER: &str = "\u{397}\u{342}"; // Η͂, the uppercase of ῆ, two code points

    #[test]
    fn characters_whose_case_forms_differ_in_length() {
        for (a, b) in [
            (ETA_PERISPOMENI, ETA_UPPER),
            ("stra\u{df}e", "STRASSE"),       // ß
            ("stra\u{df}e", "STRA\u{1e9e}E"), // ẞ
            ("\u{fb01}le", "FILE"),           // ﬁ
            ("\u{fb01}le", "file"),
            ("\u{130}stanbul", "i\u{307}stanbul"),              // İ
            ("\u{3b0}", "\u{3a5}\u{308}\u{301}"),               // ΰ, Ϋ́
            ("\u{3a3}\u{399}\u{3a3}", "\u{3c3}\u{3b9}\u{3c2}"), // ΣΙΣ, σις (final sigma)
            ("\u{1c5}", "\u{1c6}"),                             // ǅ, ǆ
            ("\u{212a}", "k"),                                  // KELVIN SIGN
            ("", ""),
        ] {
            assert!(equals(a, &fold(b)), "{a} = {b}");
            assert!(equals(b, &fold(a)), "{b} = {a}");
        }
        for (a, b) in [
            ("\u{130}", "i"),       // İ is not i
            ("\u{131}", "i"),       // ı is not i
            ("\u{23f}", "\u{240}"), // ȿ, ɀ: different letters
            ("ss", "s"),
            (ETA_PERISPOMENI, "\u{3b7}"), // ῆ is not η
            // Canonical equivalents are not folded together (AWS does not normalise either).
            ("\u{3b0}", "\u{3ab}\u{301}"),
        ] {
            assert!(!equals(a, &fold(b)), "{a} != {b}");
            assert!(!equals(b, &fold(a)), "{b} != {a}");
        }
    }

    /// aws/event-ruler's `ByteMachineTest` case for `equals-ignore-case` and the ignore-case
    /// `prefix` and `suffix`: `ΰɀɐΐΰῆK` against case forms that differ in length.
    #[test]
    fn event_ruler_multi_length_characters() {
        let pattern = fold("\u{3b0}\u{240}\u{250}\u{390}\u{3b0}\u{1fc6}\u{212a}");
        let matching = [
            "\u{3a5}\u{308}\u{301}\u{240}\u{2c6f}\u{390}\u{3a5}\u{308}\u{301}\u{397}\u{342}k",
            "\u{3b0}\u{2c7f}\u{250}\u{399}\u{308}\u{301}\u{3b0}\u{1fc6}\u{212a}",
            "\u{3a5}\u{308}\u{301}\u{2c7f}\u{2c6f}\u{399}\u{308}\u{301}\u{3a5}\u{308}\u{301}\u{1fc6}k",
            "\u{3b0}\u{240}\u{250}\u{390}\u{3b0}\u{397}\u{342}\u{212a}",
        ];
        for text in matching {
            assert!(equals(text, &pattern), "{text}");
            assert!(starts_with(text, &pattern), "{text}");
            assert!(ends_with(text, &pattern), "{text}");
        }
        let other_letters = [
            "",
            "\u{3a5}\u{308}\u{301}\u{23f}\u{2c6f}\u{390}\u{3a5}\u{308}\u{301}\u{397}\u{342}k",
            "\u{3b0}\u{2c7e}\u{250}\u{399}\u{308}\u{301}\u{3b0}\u{1fc6}\u{212a}",
        ];
        for text in other_letters {
            assert!(!equals(text, &pattern), "{text}");
            assert!(!starts_with(text, &pattern), "{text}");
            assert!(!ends_with(text, &pattern), "{text}");
        }
        let tail = "A\u{308}\u{301}\u{240}\u{2c6f}\u{390}\u{3a5}\u{308}\u{301}\u{397}\u{342}";
        for text in matching {
            assert!(starts_with(&format!("{text}{tail}"), &pattern), "{text}{tail}");
            assert!(ends_with(&format!("{tail}{text}"), &pattern), "{tail}{text}");
            assert!(!equals(&format!("{text}{tail}"), &pattern), "{text}{tail}");
        }
    }

    #[test]
    fn prefixes_and_suffixes_whose_folded_forms_change_length() {
        // Folding makes the pattern longer or shorter than the part of the value it matches.
        assert!(starts_with("STRASSE-1", &fold("stra\u{df}")));
        assert!(starts_with("Stra\u{df}e-1", &fold("STRASS")));
        assert!(starts_with("\u{fb01}nance", &fold("FI")));
        assert!(starts_with("Finance", &fold("\u{fb01}")));
        assert!(starts_with("\u{1fc6}\u{3bc}\u{3bf}\u{3c2}", &fold(ETA_UPPER)));
        assert!(starts_with("\u{397}\u{342}\u{39c}", &fold(ETA_PERISPOMENI)));
        assert!(starts_with("\u{130}zmir", &fold("i\u{307}z")));
        assert!(ends_with("report.PDF", &fold(".pdf")));
        assert!(ends_with("the-STRASSE", &fold("stra\u{df}e")));
        assert!(ends_with("meine-Stra\u{df}e", &fold("SSE")));
        assert!(ends_with("o\u{fb01}", &fold("FI")));
        assert!(ends_with("\u{39a}\u{1fc6}", &fold("\u{3ba}\u{397}\u{342}")));
        // Half a character is not a prefix or a suffix.
        assert!(!starts_with("\u{df}x", &fold("s")));
        assert!(!ends_with("x\u{df}", &fold("s")));
        assert!(!starts_with("\u{fb01}x", &fold("f")));
        assert!(!ends_with("o\u{fb01}", &fold("i")));
        assert!(!starts_with("\u{130}x", &fold("i")));
        assert!(!starts_with("\u{1fc6}x", &fold("\u{397}")));
        // The empty prefix and suffix match anything, a longer one nothing shorter.
        assert!(starts_with("", ""));
        assert!(ends_with("x", ""));
        assert!(!starts_with("st", &fold("stra\u{df}e")));
        assert!(!ends_with("e", &fold("stra\u{df}e")));
    }

    proptest::proptest! {
        /// The ASCII shortcut answers as the general folding does.
        #[test]
        fn ascii_values_fold_as_any_other(text in "[a-zA-Z.-]{0,6}", pattern in "[a-zA-Z.\u{212a}\u{17f}-]{0,4}") {
            let folded = fold(&pattern);
            let general = |t: &str| t.chars().default_case_fold().collect::<String>();
            proptest::prop_assert_eq!(equals(&text, &folded), general(&text) == folded);
            proptest::prop_assert_eq!(starts_with(&text, &folded), general(&text).starts_with(&folded));
            proptest::prop_assert_eq!(ends_with(&text, &folded), general(&text).ends_with(&folded));
        }
    }

    /// The operators as a pattern writes them, through `Filter`: the issue's `ῆ` / `Η͂`, `ﬁ`, `İ`
    /// and `ß` in `equals-ignore-case`, ignore-case `prefix` / `suffix` and `anything-but`.
    #[test]
    fn ignore_case_operators_fold_fully() {
        use serde_json::json;

        use crate::filter::Filter;

        let check = |pattern: serde_json::Value, value: &str, expected: bool| {
            let filter = Filter::compile(&json!({ "s": [pattern.clone()] })).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                filter.matches(&json!({ "s": value })),
                expected,
                "{pattern} on {value:?}"
            );
        };
        for (pattern, value) in [
            (ETA_PERISPOMENI, ETA_UPPER),
            (ETA_UPPER, ETA_PERISPOMENI),
            ("\u{fb01}", "FI"),
            ("fi", "\u{fb01}"),
            ("\u{130}", "i\u{307}"),
            ("STRASSE", "Stra\u{df}e"),
        ] {
            check(json!({ "equals-ignore-case": pattern }), value, true);
            check(
                json!({ "prefix": { "equals-ignore-case": pattern } }),
                &format!("{value}-x"),
                true,
            );
            check(
                json!({ "suffix": { "equals-ignore-case": pattern } }),
                &format!("x-{value}"),
                true,
            );
            check(
                json!({ "anything-but": { "equals-ignore-case": [pattern] } }),
                value,
                false,
            );
            check(
                json!({ "anything-but": { "equals-ignore-case": pattern } }),
                &format!("{value}-x"),
                true,
            );
        }
        check(json!({ "equals-ignore-case": "i" }), "\u{130}", false);
        check(json!({ "prefix": { "equals-ignore-case": "s" } }), "\u{df}x", false);
        check(json!({ "suffix": { "equals-ignore-case": "i" } }), "o\u{fb01}", false);
        // Case-sensitive operators do not fold.
        check(json!({ "prefix": "fi" }), "\u{fb01}x", false);
        check(json!(ETA_PERISPOMENI), ETA_UPPER, false);
    }
}
