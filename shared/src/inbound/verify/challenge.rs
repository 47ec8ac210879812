//! The generic ownership challenge (`challenge = { query = ".." }` or `{ json = "/.." }`): echo a
//! value the sender chose. Nothing derived from a secret is returned, so echoing is no oracle;
//! the JSON form is only answered after the route's signature check passed.

use super::{Reply, WebhookRequest};
use crate::config::Challenge;

/// The longest challenge echoed back: enough for any real one, too short to abuse as a reflector.
const MAX_CHALLENGE_LEN: usize = 1024;

pub(super) fn answer_get(challenge: &Challenge, request: &WebhookRequest<'_>) -> Option<Reply> {
    let Challenge::Query(name) = challenge else { return None };
    let query = request.query?;
    let value = url_form_pairs(query).find(|(k, _)| k == name).map(|(_, v)| v)?;
    bounded(value).map(Reply::text)
}

pub(super) fn answer_post(challenge: &Challenge, request: &WebhookRequest<'_>) -> Option<Reply> {
    let Challenge::Json(pointer) = challenge else {
        return None;
    };
    let body: serde_json::Value = serde_json::from_slice(request.body).ok()?;
    let value = body.pointer(pointer)?.as_str()?.to_owned();
    bounded(value).map(|v| Reply::json(serde_json::json!({ "challenge": v })))
}

fn bounded(value: String) -> Option<String> {
    (!value.is_empty() && value.len() <= MAX_CHALLENGE_LEN).then_some(value)
}

fn url_form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k), form_decode(v))
    })
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then percent-escapes.
pub(crate) fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::testing::headers;

    fn get<'a>(h: &'a http::HeaderMap, query: &'a str) -> WebhookRequest<'a> {
        WebhookRequest {
            method: &http::Method::GET,
            headers: h,
            query: Some(query),
            body: b"",
        }
    }

    #[test]
    fn echoes_a_query_challenge() {
        let h = headers(&[]);
        let c = Challenge::Query("challenge".into());
        assert_eq!(
            answer_get(&c, &get(&h, "a=1&challenge=x%20y+z")),
            Some(Reply::text("x y z"))
        );
        assert_eq!(answer_get(&c, &get(&h, "a=1")), None);
        assert_eq!(answer_get(&c, &get(&h, "challenge=")), None);
        assert_eq!(
            answer_get(&c, &get(&h, &format!("challenge={}", "a".repeat(2000)))),
            None
        );
    }

    #[test]
    fn echoes_a_json_challenge() {
        let h = headers(&[]);
        let c = Challenge::Json("/challenge".into());
        let req = |body: &'static [u8]| WebhookRequest {
            method: &http::Method::POST,
            headers: &h,
            query: None,
            body,
        };
        assert_eq!(
            answer_post(&c, &req(br#"{"challenge":"abc"}"#)),
            Some(Reply::json(serde_json::json!({"challenge": "abc"})))
        );
        assert_eq!(answer_post(&c, &req(br#"{"event":"push"}"#)), None);
        assert_eq!(answer_post(&c, &req(b"not json")), None);
    }
}
