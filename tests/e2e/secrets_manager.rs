//! (g) A route secret stored in Secrets Manager as JSON (`secretsmanager:<id>#<json key>`).

use hookrelay_e2e::GithubDelivery;

use crate::{options, start, GITHUB_SECRET};

const SECRET_ID: &str = "hookrelay/github";
const SECRET_VALUE: &str = "sm-webhook-secret-7f3a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_manager_json_secret_verifies_webhooks() {
    let route = r#"
[[route]]
path = "/hooks/sm"
verify = "github"
secrets = ["secretsmanager:hookrelay/github#webhook_secret"]
algorithm = "demo/Hello/0.1.0"
"#;
    let secret_json = serde_json::json!({ "webhook_secret": SECRET_VALUE, "other": "x" }).to_string();
    let s = start(options(route).secret(SECRET_ID, &secret_json)).await;
    let url = s.url("/hooks/sm");

    let body = r#"{"zen":"signed with the Secrets Manager value"}"#;
    let reply = GithubDelivery::json(SECRET_VALUE, body).send(&s.http, &url).await;
    if reply.status != 200 {
        s.fail(&format!(
            "expected 200 for a webhook signed with the stored secret, got {reply}"
        ))
        .await;
    }
    s.wait_for("the webhook to reach the algorithm", || async {
        s.algorithm.requests_with_body(body.as_bytes()).into_iter().next()
    })
    .await;

    // Other keys of the JSON secret, the whole JSON text, or another secret do not verify.
    for wrong in ["x", secret_json.as_str(), GITHUB_SECRET] {
        let reply = GithubDelivery::json(wrong, r#"{"zen":"wrong key"}"#)
            .send(&s.http, &url)
            .await;
        if reply.status != 401 {
            s.fail(&format!(
                "expected 401 for a webhook signed with {wrong:?}, got {reply}"
            ))
            .await;
        }
    }
    assert!(
        !s.ingress.output().contains(SECRET_VALUE),
        "the ingress printed the secret:\n{}",
        s.ingress.report()
    );
}
