//! Where the config comes from. Exactly one source, so there is nothing to guess:
//!
//! - `HOOKRELAY_CONFIG`: the TOML text itself. Lambda allows 4 KB for all of a function's
//!   environment variables together, so this suits small configs only;
//! - `HOOKRELAY_CONFIG_FILE`: a file packaged with the function (a path; relative paths are from
//!   the working directory, `/var/task` on Lambda), or an S3 object, `s3://<bucket>/<key>`, read
//!   once at cold start (`?versionId=<id>` pins one version of it).
//!
//! Both set is refused rather than letting one silently win (an empty `HOOKRELAY_CONFIG` used to
//! hide a `HOOKRELAY_CONFIG_FILE`), and so is a source that is empty: an ingress without routes
//! cannot be what the deployer meant. Reading an S3 object needs the SDK: `crate::startup` does it.

use std::{ffi::OsString, path::PathBuf};

use super::{Config, ConfigError, CONFIG_ENV, CONFIG_FILE_ENV};

/// The largest config accepted from a file or an S3 object: far above any realistic one, and it
/// keeps a wrong object from being read into memory whole.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Where the config is read from: exactly one of the two environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `HOOKRELAY_CONFIG`: the TOML text.
    Text(String),
    /// `HOOKRELAY_CONFIG_FILE=<path>`.
    File(PathBuf),
    /// `HOOKRELAY_CONFIG_FILE=s3://<bucket>/<key>[?versionId=<id>]`.
    S3(S3Object),
}

/// An S3 object named by `s3://<bucket>/<key>[?versionId=<id>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The bucket name.
    pub bucket: String,
    /// The object key, as written after the bucket.
    pub key: String,
    /// `versionId`: one version of the object, pinned (default: the current one).
    pub version_id: Option<String>,
}

impl std::fmt::Display for S3Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        match &self.version_id {
            Some(version) => write!(f, "?versionId={version}"),
            None => Ok(()),
        }
    }
}

impl ConfigSource {
    /// The source the environment names.
    pub fn from_env() -> Result<ConfigSource, ConfigError> {
        ConfigSource::from_vars(std::env::var_os(CONFIG_ENV), std::env::var_os(CONFIG_FILE_ENV))
    }

    /// The source named by the values of `HOOKRELAY_CONFIG` and `HOOKRELAY_CONFIG_FILE`.
    pub fn from_vars(text: Option<OsString>, file: Option<OsString>) -> Result<ConfigSource, ConfigError> {
        let utf8 = |name: &str, value: OsString| {
            value
                .into_string()
                .map_err(|_| ConfigError::new(name, "is not valid UTF-8"))
        };
        match (text, file) {
            (Some(text), Some(file)) => {
                let empty = [(CONFIG_ENV, &text), (CONFIG_FILE_ENV, &file)]
                    .into_iter()
                    .filter(|(_, value)| value.is_empty())
                    .map(|(name, _)| format!(" (`{name}` is empty)"))
                    .collect::<String>();
                Err(ConfigError::new(
                    CONFIG_ENV,
                    format!("`{CONFIG_ENV}` and `{CONFIG_FILE_ENV}` are both set; set only one{empty}"),
                ))
            }
            (Some(text), None) => {
                let text = utf8(CONFIG_ENV, text)?;
                match text.trim().is_empty() {
                    true => Err(ConfigError::new(
                        CONFIG_ENV,
                        format!("is set but empty; set it to the TOML config, or unset it and set `{CONFIG_FILE_ENV}`"),
                    )),
                    false => Ok(ConfigSource::Text(text)),
                }
            }
            (None, Some(file)) => {
                let file = utf8(CONFIG_FILE_ENV, file)?;
                if file.trim().is_empty() {
                    return Err(ConfigError::new(
                        CONFIG_FILE_ENV,
                        "is set but empty; set it to a path or an `s3://<bucket>/<key>` URI",
                    ));
                }
                match file.strip_prefix("s3://") {
                    Some(location) => S3Object::parse(location).map(ConfigSource::S3),
                    None => Ok(ConfigSource::File(PathBuf::from(file))),
                }
            }
            (None, None) => Err(ConfigError::new(
                CONFIG_ENV,
                format!("set `{CONFIG_ENV}` (TOML text) or `{CONFIG_FILE_ENV}` (a path, or `s3://<bucket>/<key>`)"),
            )),
        }
    }

    /// The environment variable an error about this source's content is reported under.
    pub fn variable(&self) -> &'static str {
        match self {
            ConfigSource::Text(_) => CONFIG_ENV,
            ConfigSource::File(_) | ConfigSource::S3(_) => CONFIG_FILE_ENV,
        }
    }

    /// The text of a source that needs no AWS call (an S3 object is read by
    /// `crate::startup::load_config`).
    pub fn read_local(&self) -> Result<String, ConfigError> {
        match self {
            ConfigSource::Text(text) => Ok(text.clone()),
            ConfigSource::File(path) => read_file(path),
            ConfigSource::S3(object) => Err(ConfigError::new(
                CONFIG_FILE_ENV,
                format!("{object} is read with the AWS SDK, at cold start"),
            )),
        }
    }

    /// Parses this source's text, refusing an empty one.
    pub fn parse(&self, text: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            let what = match self {
                ConfigSource::Text(_) => "is empty".to_owned(),
                ConfigSource::File(path) => format!("`{}` is empty", path.display()),
                ConfigSource::S3(object) => format!("{object} is empty"),
            };
            return Err(ConfigError::new(self.variable(), what));
        }
        Config::from_toml(text)
    }
}

fn read_file(path: &std::path::Path) -> Result<String, ConfigError> {
    let shown = path.display();
    let too_large = || format!("`{shown}` is larger than {MAX_CONFIG_BYTES} bytes");
    let metadata = std::fs::metadata(path)
        .map_err(|e| ConfigError::new(CONFIG_FILE_ENV, format!("cannot read `{shown}`: {e}")))?;
    if metadata.len() > MAX_CONFIG_BYTES as u64 {
        return Err(ConfigError::new(CONFIG_FILE_ENV, too_large()));
    }
    std::fs::read_to_string(path).map_err(|e| ConfigError::new(CONFIG_FILE_ENV, format!("cannot read `{shown}`: {e}")))
}

impl S3Object {
    /// `<bucket>/<key>[?versionId=<id>]`, the part after `s3://`.
    fn parse(location: &str) -> Result<S3Object, ConfigError> {
        let refuse = |why: &str| {
            ConfigError::new(
                CONFIG_FILE_ENV,
                format!("`s3://{location}` {why}; expected `s3://<bucket>/<key>[?versionId=<id>]`"),
            )
        };
        let (bucket, rest) = location.split_once('/').ok_or_else(|| refuse("has no key"))?;
        let (key, version_id) = match rest.rsplit_once("?versionId=") {
            Some((key, version)) if !version.is_empty() => (key, Some(version.to_owned())),
            Some(_) => return Err(refuse("has an empty versionId")),
            None => (rest, None),
        };
        // S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens.
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !bucket_ok {
            return Err(refuse("does not start with a bucket name"));
        }
        if key.is_empty() {
            return Err(refuse("has no key"));
        }
        // A URL would resolve them away: the object read would not be the one named.
        if key.split('/').any(|segment| segment == "." || segment == "..") {
            return Err(refuse("has a `.` or `..` path segment in its key"));
        }
        Ok(S3Object {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: Option<&str>, file: Option<&str>) -> Result<ConfigSource, ConfigError> {
        ConfigSource::from_vars(text.map(OsString::from), file.map(OsString::from))
    }

    #[test]
    fn exactly_one_source_is_set() {
        assert_eq!(
            source(Some("[worker]"), None).unwrap(),
            ConfigSource::Text("[worker]".into())
        );
        assert_eq!(
            source(None, Some("hookrelay.toml")).unwrap(),
            ConfigSource::File("hookrelay.toml".into())
        );
        let both = source(Some(""), Some("hookrelay.toml")).unwrap_err();
        assert_eq!(both.key, CONFIG_ENV);
        assert!(
            both.reason.contains("both set") && both.reason.contains("`HOOKRELAY_CONFIG` is empty"),
            "{both}"
        );
        assert!(source(Some("[worker]"), Some("a.toml")).is_err());
        let neither = source(None, None).unwrap_err();
        assert!(neither.reason.contains(CONFIG_FILE_ENV), "{neither}");
    }

    #[test]
    fn an_empty_source_is_refused() {
        assert_eq!(source(Some(""), None).unwrap_err().key, CONFIG_ENV);
        assert_eq!(source(Some(" \n\t"), None).unwrap_err().key, CONFIG_ENV);
        assert_eq!(source(None, Some("")).unwrap_err().key, CONFIG_FILE_ENV);
        let text = ConfigSource::Text("x".into());
        assert_eq!(text.parse("# nothing but a comment\n").map(|_| ()), Ok(()));
        assert_eq!(text.parse("  \n").unwrap_err().key, CONFIG_ENV);
        let file = ConfigSource::File("/var/task/hookrelay.toml".into());
        let e = file.parse("").unwrap_err();
        assert_eq!(e.key, CONFIG_FILE_ENV);
        assert!(e.reason.contains("/var/task/hookrelay.toml"), "{e}");
    }

    #[test]
    fn s3_references() {
        assert_eq!(
            source(None, Some("s3://my-bucket/config/hookrelay.toml")).unwrap(),
            ConfigSource::S3(S3Object {
                bucket: "my-bucket".into(),
                key: "config/hookrelay.toml".into(),
                version_id: None
            })
        );
        let pinned = source(
            None,
            Some("s3://b.example/k?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
        )
        .unwrap();
        let ConfigSource::S3(object) = &pinned else {
            panic!("{pinned:?}")
        };
        assert_eq!(object.version_id.as_deref(), Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"));
        assert_eq!(
            object.to_string(),
            "s3://b.example/k?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
        );
        for bad in [
            "s3://",
            "s3://bucket",
            "s3://bucket/",
            "s3://Bucket/k",
            "s3://b/k",
            "s3://bucket/k?versionId=",
            "s3://bucket/a/../k",
            "s3://bucket/./k",
        ] {
            let e = source(None, Some(bad)).unwrap_err();
            assert_eq!(e.key, CONFIG_FILE_ENV, "{bad}");
        }
    }

    #[test]
    fn a_missing_file_names_the_variable_and_the_path() {
        let e = ConfigSource::File("/nonexistent/hookrelay.toml".into())
            .read_local()
            .unwrap_err();
        assert_eq!(e.key, CONFIG_FILE_ENV);
        assert!(e.reason.contains("/nonexistent/hookrelay.toml"), "{e}");
    }
}
