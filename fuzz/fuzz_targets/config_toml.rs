//! The config (`Config::from_toml`, what every function reads at cold start).
//!
//! Invariants: never panics, whatever the text; an error in a document that is valid TOML names
//! the key it is about (syntax errors are reported by the TOML parser, with its own position).
#![no_main]

use hookrelay::config::Config;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err(error) = Config::from_toml(text) else {
        return;
    };
    let message = error.to_string();
    assert!(!message.is_empty());
    if toml::from_str::<toml::Table>(text).is_ok() {
        assert!(!error.key.is_empty(), "a config error names no key: {message}\n{text}");
    }
});
