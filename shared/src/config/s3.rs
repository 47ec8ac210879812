//! `[[s3.rule]]` and `[s3]`: which S3 objects the s3-relay function sends where, and what it sends.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::targets::{target_ref, AlgorithmOptions, TargetRef, TargetSpec};
use crate::foundation::ConfigError;

/// `[s3]`: the S3 relay's rules.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Tried in order; the first match decides.
    pub rules: Vec<S3Rule>,
}

/// `[[s3.rule]]`: which objects go where.
#[derive(Debug, Clone)]
pub struct S3Rule {
    /// `bucket`: only objects of this bucket (default: any bucket).
    pub bucket: Option<String>,
    /// `prefix`: only keys starting with it (default: any).
    pub prefix: String,
    /// `suffix`: only keys ending with it (default: any).
    pub suffix: String,
    /// `target`, `algorithm`, `options`: where matching objects go (default target: `downstream`).
    pub target: TargetRef,
    /// `input`: what the target receives for an object (default `key`).
    pub input: S3Input,
}

impl S3Rule {
    /// Whether the object `key` in `bucket` is one this rule takes.
    pub fn matches(&self, bucket: &str, key: &str) -> bool {
        self.bucket.as_deref().is_none_or(|b| b == bucket)
            && key.starts_with(&self.prefix)
            && key.ends_with(&self.suffix)
    }
}

/// `input` of an S3 rule: what the target receives for an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum S3Input {
    /// The decoded key as a JSON string (default).
    #[default]
    Key,
    /// `"s3://bucket/key"` as a JSON string.
    Uri,
    /// The whole record as JSON.
    Record,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawS3Rule {
    bucket: Option<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    target: Option<String>,
    algorithm: Option<String>,
    options: Option<AlgorithmOptions>,
    #[serde(default)]
    input: S3Input,
}

fn s3_rules(raw: Vec<RawS3Rule>, targets: &BTreeMap<String, TargetSpec>) -> Result<Vec<S3Rule>, ConfigError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let key = |field: &str| format!("s3.rule[{i}].{field}");
            Ok(S3Rule {
                bucket: rule.bucket,
                prefix: rule.prefix,
                suffix: rule.suffix,
                target: target_ref(&key, rule.target, rule.algorithm, rule.options, targets)?,
                input: rule.input,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawS3 {
    /// The default for objects no rule matches (`[s3] algorithm = ...`).
    algorithm: Option<String>,
    target: Option<String>,
    options: Option<AlgorithmOptions>,
    #[serde(default)]
    input: S3Input,
    #[serde(default, rename = "rule")]
    rules: Vec<RawS3Rule>,
}

impl RawS3 {
    pub(super) fn validate(self, targets: &BTreeMap<String, TargetSpec>) -> Result<S3Settings, ConfigError> {
        let mut rules = s3_rules(self.rules, targets)?;
        // `[s3] algorithm/target` is the catch-all after the rules.
        if self.algorithm.is_some() || self.target.is_some() {
            let key = |field: &str| format!("s3.{field}");
            let target = target_ref(&key, self.target, self.algorithm, self.options, targets)?;
            rules.push(S3Rule {
                bucket: None,
                prefix: String::new(),
                suffix: String::new(),
                target,
                input: self.input,
            });
        } else if self.options.is_some() {
            return Err(ConfigError::new("s3.options", "needs `s3.algorithm`"));
        }
        if rules.is_empty() {
            return Err(ConfigError::new(
                "s3.algorithm",
                "set `algorithm` (or `target`) or at least one `[[s3.rule]]`",
            ));
        }
        Ok(S3Settings { rules })
    }
}
