//! (d) Partial batch failure: the algorithm keeps failing one job of a batch with a transient error
//! (HTTP 503). The worker reports exactly that record in `batchItemFailures`, the others are
//! delivered once, and the failing message reaches the DLQ after maxReceiveCount receives.
//! (Permanent failures skip the retries: see `worker_faults`.)

use hookrelay_e2e::{Failure, GithubDelivery};

use crate::{options, start, GITHUB_ROUTE, GITHUB_SECRET};

const MAX_RECEIVE_COUNT: u32 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_record_is_retried_then_dead_lettered() {
    let opts = options(GITHUB_ROUTE)
        .visibility_timeout(1)
        .max_receive_count(MAX_RECEIVE_COUNT)
        .worker_source_paused();
    let mut s = start(opts).await;
    s.algorithm.fail_when(
        |r| r.body_text().contains("poison"),
        Failure::Status(503, "poison is indigestible today".into()),
    );

    let bodies = [r#"{"n":1}"#, r#"{"n":2,"poison":true}"#, r#"{"n":3}"#];
    for body in bodies {
        let reply = GithubDelivery::json(GITHUB_SECRET, body)
            .send(&s.http, &s.url("/hooks/github"))
            .await;
        if reply.status != 200 {
            s.fail(&format!("webhook {body} not queued: {reply}")).await;
        }
    }
    // All three wait in the queue, so the first poll takes them as one batch.
    s.wait_for("the three jobs in the queue", || async {
        let c = s.moto.queue_counts(&s.jobs.url).await.ok()?;
        (c.visible == 3).then_some(())
    })
    .await;
    s.start_worker_source();

    let dead = s
        .wait_for("the failing job in the DLQ", || async {
            s.moto
                .receive(&s.dlq.url, 0, 0)
                .await
                .ok()
                .and_then(|m| m.into_iter().next())
        })
        .await;
    s.wait_queue_empty(&s.jobs).await;

    let source = s.worker_source();
    let batches = source.invocations();
    let first = &batches[0];
    let poison: Vec<_> = first.records.iter().filter(|r| r.body.contains("poison")).collect();
    if first.records.len() != 3 || poison.len() != 1 {
        s.fail("the first worker invocation must hold the three jobs").await;
    }
    let poison_id = poison[0].message_id.clone();
    if first.reported_failures() != [poison_id.clone()] {
        s.fail(&format!(
            "batchItemFailures must be exactly [{poison_id}], got {:?}",
            first.reported_failures()
        ))
        .await;
    }

    // The failing message: delivered maxReceiveCount times, reported failed each time, then
    // moved to the DLQ unchanged.
    let deliveries = source.deliveries_of(&poison_id);
    let counts: Vec<u32> = deliveries.iter().map(|d| d.receive_count).collect();
    if counts != (1..=MAX_RECEIVE_COUNT).collect::<Vec<_>>() {
        s.fail(&format!("the failing job was delivered with receive counts {counts:?}"))
            .await;
    }
    for b in batches
        .iter()
        .filter(|b| b.records.iter().any(|r| r.message_id == poison_id))
    {
        if !b.reported_failures().contains(&poison_id) {
            s.fail("every delivery of the failing job must report it").await;
        }
    }
    if dead.message_id() != Some(poison_id.as_str()) || dead.body() != Some(poison[0].body.as_str()) {
        s.fail(&format!("unexpected DLQ message {dead:?}")).await;
    }

    // The other two: delivered to the algorithm exactly once each, deleted after the first batch.
    for body in [bodies[0], bodies[2]] {
        let n = s.algorithm.requests_with_body(body.as_bytes()).len();
        if n != 1 {
            s.fail(&format!("{body} reached the algorithm {n} times (expected once)"))
                .await;
        }
    }
    if first.deleted.len() != 2 || first.deleted.contains(&poison_id) {
        s.fail("the first batch must delete exactly the two delivered jobs")
            .await;
    }
    let poison_calls = s.algorithm.requests_with_body(bodies[1].as_bytes()).len();
    if poison_calls < MAX_RECEIVE_COUNT as usize {
        s.fail(&format!("the failing job reached the algorithm {poison_calls} times"))
            .await;
    }
}
