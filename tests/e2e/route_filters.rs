//! Route filters end to end: events a route's `filter` rejects are answered `filtered` and never
//! queued, verification still comes first, and the worker delivers exactly the accepted events.
//! (Conventions of the route tests: `routes.rs`.)

use std::collections::BTreeSet;

use hookrelay_e2e::AlgoRequest;
use serde_json::json;

use crate::routes::{
    expect_filtered, fail_on, github, options, queued_id, queued_total, send_cal, settled_calls, CAL_SECRET,
};
use crate::start;

const FILTER_ROUTES: &str = r#"
[[route]]
path = "/hooks/cal"
verify = "cal"
secrets = ["env:CAL_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = { body = { triggerEvent = ["BOOKING_CREATED", "BOOKING_RESCHEDULED"] } }

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = { headers = { "x-github-event" = ["push"] }, body = { ref = ["refs/heads/main"] } }
"#;

fn cal_booking(trigger: &str, uid: &str) -> String {
    json!({
        "triggerEvent": trigger,
        "createdAt": "2026-11-23T15:00:00.000Z",
        "payload": {"uid": uid, "title": "30 min meeting", "startTime": "2026-11-24T09:00:00Z"},
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_answer_filtered_and_queue_only_matching_events() {
    let mut s = start(options(FILTER_ROUTES, None).worker_source_paused()).await;
    let mut problems = Vec::new();

    // Events the filters reject: answered `filtered`, never queued.
    let cancelled = cal_booking("BOOKING_CANCELLED", "b-1");
    let r = send_cal(&s, "/hooks/cal", &cancelled, CAL_SECRET).await;
    expect_filtered("signed Cal.com BOOKING_CANCELLED", &r, &mut problems);
    let push_dev = json!({"ref": "refs/heads/dev", "after": "a1b2"}).to_string();
    let r = github("push", &push_dev).send(&s.http, &s.url("/hooks/github")).await;
    expect_filtered("GitHub push to refs/heads/dev", &r, &mut problems);
    let ping_main = json!({"ref": "refs/heads/main", "zen": "Keep it logically awesome."}).to_string();
    let r = github("ping", &ping_main).send(&s.http, &s.url("/hooks/github")).await;
    expect_filtered("GitHub ping (event not push) with ref main", &r, &mut problems);

    // Verification comes first: a forged event is refused, whatever the filter would say.
    let r = send_cal(&s, "/hooks/cal", &cancelled, "not-the-secret").await;
    if r.status != 401 {
        problems.push(format!("Cal.com event with a wrong signature: expected 401, got {r}"));
    }
    let created = cal_booking("BOOKING_CREATED", "b-2");
    let r = send_cal(&s, "/hooks/cal", &created, "not-the-secret").await;
    if r.status != 401 {
        problems.push(format!("forged BOOKING_CREATED: expected 401, got {r}"));
    }

    let total = queued_total(&s).await;
    if total != 0 {
        problems.push(format!(
            "filtered or refused events were queued: {total} message(s) in the queue"
        ));
    }

    // Events the filters accept are queued (the same observation sees them).
    let rescheduled = cal_booking("BOOKING_RESCHEDULED", "b-3");
    let push_main = json!({"ref": "refs/heads/main", "after": "c3d4"}).to_string();
    let r = send_cal(&s, "/hooks/cal", &created, CAL_SECRET).await;
    queued_id("signed BOOKING_CREATED", &r, &mut problems);
    let r = send_cal(&s, "/hooks/cal", &rescheduled, CAL_SECRET).await;
    queued_id("signed BOOKING_RESCHEDULED", &r, &mut problems);
    let r = github("push", &push_main).send(&s.http, &s.url("/hooks/github")).await;
    queued_id("GitHub push to refs/heads/main", &r, &mut problems);
    let total = queued_total(&s).await;
    if total != 3 {
        problems.push(format!("expected the 3 accepted events in the queue, found {total}"));
    }
    fail_on(&s, &problems, "").await;

    // The worker delivers exactly the accepted events; the algorithm never sees a filtered one.
    s.start_worker_source();
    let calls = settled_calls(&s, 3).await;
    let got: BTreeSet<String> = calls.iter().map(AlgoRequest::body_text).collect();
    let want: BTreeSet<String> = [created, rescheduled, push_main].into_iter().collect();
    if got != want || calls.len() != 3 {
        problems.push(format!(
            "the algorithm got {} call(s) with bodies {got:?}; expected exactly {want:?}",
            calls.len()
        ));
    }
    for forbidden in [&cancelled, &push_dev, &ping_main] {
        if !s.algorithm.requests_with_body(forbidden.as_bytes()).is_empty() {
            problems.push(format!("a filtered event reached the algorithm: {forbidden}"));
        }
    }
    fail_on(&s, &problems, "").await;
}
