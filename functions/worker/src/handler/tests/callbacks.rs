//! Callbacks: the final outcome reported, follow-up callback jobs, and when the record comes back.

use super::support::*;

#[tokio::test]
async fn the_result_is_sent_to_the_callback_after_success() {
    let w = reporting_worker();
    let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let sent = w.callbacks.delivered();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].route.as_str(), sent[0].id.as_str()), ("/hooks/x", "job-hello"));
    assert_eq!(
        sent[0].body,
        serde_json::json!({
            "id": "job-hello",
            "route": "/hooks/x",
            "delivery_id": "d-1",
            "status": "succeeded",
            "result": "ok",
        })
    );
    assert!(w.actions.queued().is_empty() && w.actions.dead_letters().is_empty());
}

#[tokio::test]
async fn routes_without_a_callback_send_none() {
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::for_routes(&["/hooks/other"]),
        MemoryActions::default(),
        settings(4, 30),
    );
    let response = w.handle(jobs(&["a", "status:400"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty());
    assert!(w.callbacks.attempts().is_empty());
}

#[tokio::test]
async fn a_failed_callback_queues_a_follow_up_job_and_the_job_is_done() {
    let w = reporting_worker();
    w.callbacks.then(Err(unavailable()));
    let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty(), "the job itself is done: {response:?}");
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
    assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
    let queued = w.actions.queued();
    assert_eq!(queued.len(), 1);
    let (message_id, followup) = &queued[0];
    assert_eq!(message_id, "m-hello");
    assert_eq!(followup.source, Source::Callback);
    assert_eq!(
        (followup.id.as_str(), followup.route.as_str()),
        ("job-hello", "/hooks/x")
    );
    assert_eq!(followup.target.name, "callback");
    assert_eq!(followup.target.algorithm, None);
    let body: serde_json::Value = serde_json::from_slice(&followup.payload.to_bytes().unwrap()).unwrap();
    assert_eq!(
        body,
        w.callbacks.attempts()[0].body,
        "the follow-up carries the same callback"
    );
}

#[tokio::test]
async fn a_callback_job_sends_its_callback_and_never_calls_the_target() {
    let w = reporting_worker();
    let body = serde_json::json!({"id": "job-x", "route": "/hooks/x", "status": "succeeded", "result": 1});
    let records = vec![record("m-cb", &callback_job_json("x", &body), 2)];
    let response = w.handle(event(records), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    assert_eq!(
        w.target.calls.load(Ordering::SeqCst),
        0,
        "the algorithm is never called again"
    );
    let sent = w.callbacks.delivered();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].id.as_str(), &sent[0].body), ("job-x", &body));
    assert!(w.actions.queued().is_empty());
}

#[tokio::test]
async fn a_failing_callback_job_is_retried_with_backoff_then_dead_lettered_like_any_job() {
    let w = reporting_worker();
    let body = serde_json::json!({"id": "job-x", "status": "succeeded", "result": 1});
    w.callbacks.then(Err(unavailable()));
    w.callbacks.then(Err(CallError::Status {
        status: 410,
        message: "Gone".into(),
        retry_after: None,
    }));
    let transient = record("m-cb1", &callback_job_json("x", &body), 3);
    let response = w.handle(event(vec![transient]), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-cb1"]);
    assert_eq!(w.actions.retries().len(), 1);
    let permanent = record("m-cb2", &callback_job_json("y", &body), 1);
    let response = w.handle(event(vec![permanent.clone()]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty());
    let letters = w.actions.dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(Some(letters[0].body.as_str()), permanent.body.as_deref());
    assert_eq!(letters[0].status, Some(410));
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 0);
    assert!(
        w.actions.queued().is_empty(),
        "a callback job is retried itself, not re-queued"
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_then_reported_as_failed() {
    let w = reporting_worker();
    let response = w.handle(jobs(&["status:400"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(w.actions.dead_letters().len(), 1);
    let sent = w.callbacks.delivered();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["status"], "failed");
    assert_eq!(sent[0].body["error"]["status"], 400);
    assert!(sent[0].body["error"]["message"].as_str().unwrap().contains("400"));
    assert!(sent[0].body.get("result").is_none());
}

#[tokio::test]
async fn transient_failures_send_no_callback_yet() {
    let w = reporting_worker();
    let response = w.handle(jobs(&["status:503"]), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-status:503"]);
    assert!(w.callbacks.attempts().is_empty());
}

#[tokio::test]
async fn a_callback_refused_for_good_is_dead_lettered_as_a_follow_up_job() {
    let w = reporting_worker();
    w.callbacks.then(Err(CallError::Status {
        status: 401,
        message: "Unauthorized".into(),
        retry_after: None,
    }));
    let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty());
    assert!(w.actions.queued().is_empty());
    let letters = w.actions.dead_letters();
    assert_eq!(letters.len(), 1);
    let followup = Envelope::from_json(&letters[0].body).unwrap();
    assert_eq!((followup.source, followup.id.as_str()), (Source::Callback, "job-hello"));
    assert_eq!(letters[0].message_id, "m-hello:callback");
    assert_eq!(letters[0].status, Some(401));
    assert!(
        letters[0].error.starts_with("callback URL answered 401"),
        "{}",
        letters[0].error
    );
}

#[tokio::test]
async fn when_sqs_takes_no_follow_up_the_record_comes_back_so_the_callback_is_not_lost() {
    let w = reporting_worker();
    w.callbacks.then(Err(CallError::Timeout));
    w.actions.queue_down.store(true, Ordering::SeqCst);
    let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-hello"]);
}

#[tokio::test(start_paused = true)]
async fn without_time_left_for_the_callback_it_is_queued_untried() {
    // The call takes 13.5 s of 16: 2.5 s left, minus the 2 s margin kept for queueing, is
    // under the 1 s a call needs: the callback is queued without an attempt.
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::for_routes(&["/hooks/x"]),
        MemoryActions::default(),
        settings(4, 14),
    );
    let deadline = Instant::now() + Duration::from_secs(16);
    let response = w.handle(jobs(&["sleep:13.5"]), deadline).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    assert!(w.callbacks.attempts().is_empty());
    assert_eq!(w.actions.queued().len(), 1);
}
