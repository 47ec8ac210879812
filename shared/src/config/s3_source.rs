//! Reading the config object (`HOOKRELAY_CONFIG_FILE=s3://...`) at cold start: one GET, signed
//! with SigV4 by the AWS SDK's own `aws-sigv4`, over the project's HTTP stack (`crate::foundation::tls`).
//!
//! Not `aws-sdk-s3`: that client grew each function binary by 1.35 MB (the ingress from 7.49 to
//! 8.85 MB, release build), which would put the deploy zips over their 4 MB goal (BENCHMARKS.md)
//! for one request per cold start. The signer, the credentials chain and the region are the
//! SDK's, already linked for SQS; this module only builds the URL and reads the answer.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{ConfigError, S3Object, CONFIG_FILE_ENV, MAX_CONFIG_BYTES};

/// S3's own override of `AWS_ENDPOINT_URL` (the SDK's service-specific endpoint variable).
const S3_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_S3";

/// What SigV4 leaves unescaped in a path segment: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The text of `object`, with the region, credentials and endpoint of `sdk_config`.
pub async fn read(object: &S3Object, sdk_config: &aws_config::SdkConfig) -> Result<String, ConfigError> {
    let refuse = |why: String| ConfigError::new(CONFIG_FILE_ENV, format!("cannot read {object}: {why}"));
    let region = sdk_config
        .region()
        .ok_or_else(|| refuse("no AWS region (AWS_REGION)".into()))?
        .to_string();
    let endpoint = std::env::var(S3_ENDPOINT_ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .or_else(|| sdk_config.endpoint_url().map(str::to_owned));
    let url = object_url(object, &region, endpoint.as_deref()).map_err(refuse)?;
    let credentials = sdk_config
        .credentials_provider()
        .ok_or_else(|| refuse("no AWS credentials".into()))?
        .provide_credentials()
        .await
        .map_err(|e| refuse(format!("no AWS credentials: {e}")))?;
    let headers = signed_headers(url.as_str(), &[], &credentials.into(), &region, SystemTime::now()).map_err(refuse)?;
    // Lambda gives the whole init 10 s: a stalled read must fail it with this message.
    let client = crate::foundation::tls::http_client_builder()?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(8))
        .build()
        .map_err(|e| refuse(e.to_string()))?;
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = request.send().await.map_err(|e| refuse(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(refuse(match s3_error_code(&body) {
            Some(code) => format!("S3 answered {status} {code}"),
            None => format!("S3 answered {status}"),
        }));
    }
    let too_large = || refuse(format!("larger than {MAX_CONFIG_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_CONFIG_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| refuse(e.to_string()))? {
        if body.len() + chunk.len() > MAX_CONFIG_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| refuse("not UTF-8 text".into()))
}

/// Virtual-hosted style on AWS (`https://<bucket>.s3.<region>.amazonaws.com/<key>`), path style
/// for bucket names with dots (a dotted host would not match S3's certificate) and for endpoint
/// overrides (emulators such as moto serve buckets by path).
fn object_url(object: &S3Object, region: &str, endpoint: Option<&str>) -> Result<reqwest::Url, String> {
    let key: Vec<String> = object
        .key
        .split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect();
    let key = key.join("/");
    let domain = match region.starts_with("cn-") {
        true => "amazonaws.com.cn",
        false => "amazonaws.com",
    };
    let bucket = &object.bucket;
    let mut url = match endpoint {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None if bucket.contains('.') => format!("https://s3.{region}.{domain}/{bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.{domain}/{key}"),
    };
    if let Some(version) = &object.version_id {
        url.push_str("?versionId=");
        url.extend(utf8_percent_encode(version, SEGMENT));
    }
    let url = reqwest::Url::parse(&url).map_err(|e| format!("no URL for it: {e}"))?;
    // The signer needs a host to sign (and would panic without one).
    match matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|host| !host.is_empty()) {
        true => Ok(url),
        false => Err(format!(
            "the S3 endpoint `{}` is not an http(s) URL",
            endpoint.unwrap_or_default()
        )),
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-content-sha256`, and
/// `x-amz-security-token` for temporary credentials, as on Lambda) of a GET of `url`.
fn signed_headers(
    url: &str,
    headers: &[(&str, &str)],
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut settings = SigningSettings::default();
    // S3 signs the path as sent: no double encoding, no normalisation; and it wants the payload
    // hash in `x-amz-content-sha256`.
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new("GET", url, headers.iter().copied(), SignableBody::Bytes(&[]))
        .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|header| (header.name(), header.value().to_owned()))
        .collect())
}

/// `<Code>NoSuchKey</Code>` from S3's XML error body.
fn s3_error_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let code = &body[start..start + body[start..].find("</Code>")?];
    code.bytes().all(|b| b.is_ascii_alphanumeric()).then_some(code)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use aws_credential_types::Credentials;

    use super::*;

    fn object(bucket: &str, key: &str, version: Option<&str>) -> S3Object {
        S3Object {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version.map(str::to_owned),
        }
    }

    /// AWS's own example of a signed S3 GET ("Signature Calculations for the Authorization
    /// Header", GET Object): the settings above must produce its signature.
    #[test]
    fn signs_like_the_s3_documentation_example() {
        let identity: Identity = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "example",
        )
        .into();
        let may_24_2013 = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        let headers = signed_headers(
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
            &identity,
            "us-east-1",
            may_24_2013,
        )
        .unwrap();
        let authorization = headers.iter().find(|(name, _)| *name == "authorization").unwrap();
        assert_eq!(
            authorization.1,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert!(headers.contains(&(
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into()
        )));
    }

    #[test]
    fn temporary_credentials_send_their_session_token() {
        let identity: Identity = Credentials::new("AKID", "secret", Some("token".into()), None, "lambda").into();
        let headers = signed_headers("https://b.s3.amazonaws.com/k", &[], &identity, "eu-west-1", UNIX_EPOCH).unwrap();
        assert!(
            headers.contains(&("x-amz-security-token", "token".into())),
            "{headers:?}"
        );
    }

    #[test]
    fn object_urls() {
        let url =
            |o: &S3Object, region: &str, endpoint: Option<&str>| object_url(o, region, endpoint).unwrap().to_string();
        assert_eq!(
            url(&object("my-bucket", "prod/hook relay+1.toml", None), "eu-west-1", None),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/prod/hook%20relay%2B1.toml"
        );
        assert_eq!(
            url(&object("my.bucket", "k.toml", Some("3/L4kq+t")), "cn-north-1", None),
            "https://s3.cn-north-1.amazonaws.com.cn/my.bucket/k.toml?versionId=3%2FL4kq%2Bt"
        );
        assert_eq!(
            url(
                &object("b-1", "a/b.toml", None),
                "us-east-1",
                Some("http://127.0.0.1:5000/")
            ),
            "http://127.0.0.1:5000/b-1/a/b.toml"
        );
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_an_error() {
        for endpoint in ["unix:/tmp/s", "not a url", "file:///tmp"] {
            assert!(
                object_url(&object("b-1", "k", None), "us-east-1", Some(endpoint)).is_err(),
                "{endpoint}"
            );
        }
    }

    #[test]
    fn s3_error_codes() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>..</Message></Error>";
        assert_eq!(s3_error_code(body), Some("NoSuchKey"));
        assert_eq!(s3_error_code("<Code>a b</Code>"), None);
        assert_eq!(s3_error_code("<Code>unterminated"), None);
        assert_eq!(s3_error_code(""), None);
    }
}
