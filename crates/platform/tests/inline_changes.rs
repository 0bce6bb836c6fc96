//! Changes where they are due (protocol.md §6–7, decision 0038): small pages
//! of changes on the event stream of a workstation that asks for them, the
//! pull that follows a push in the push's answer, and the event stream as
//! one zstd stream when the workstation accepts it. Bad parameters are
//! refused and write nothing.

mod support;

use std::time::Duration;

use homedesk_protocol::{ChangeBody, ChangesPage, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::json;
use support::*;

/// The conversations whose messages a page holds.
fn message_conversations(page: &ChangesPage) -> Vec<String> {
    page.changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Message(m)) => Some(m.conversation_id.clone()),
            _ => None,
        })
        .collect()
}

fn seq_of(cursor: &str) -> u64 {
    homedesk_protocol::cursor_position(cursor)
        .expect("a cursor past the first sync")
        .1
}

#[tokio::test]
async fn a_stream_that_asks_gets_the_changes_themselves_and_nothing_it_may_not_see() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await; // aftersales + logistics
    let mut events = server
        .events_at("/v1/events?changes=inline", &agent.access_token, None)
        .await;
    let first = events
        .wait_for("the poke on connect", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await;
    let ServerEvent::Changes {
        latest_seq: start,
        inline: None,
    } = first
    else {
        panic!("on connect a plain poke: {first:?}")
    };

    let mine = server
        .customer_writes("chat", "inl-1", "cust-inl-1", "logistics", "快递到哪了？")
        .await;
    let event = events
        .wait_for("the customer's message itself", |e| {
            matches!(
                e,
                ServerEvent::Changes {
                    inline: Some(_),
                    ..
                }
            )
        })
        .await;
    let ServerEvent::Changes {
        latest_seq,
        inline: Some(inline),
    } = event
    else {
        unreachable!()
    };
    assert_eq!(inline.after, start, "the page follows the connect poke");
    assert!(!inline.page.has_more);
    assert_eq!(seq_of(&inline.page.next_cursor), latest_seq);
    assert!(
        message_conversations(&inline.page).contains(&mine),
        "the message is on the event: {inline:?}"
    );
    // The same page a pull from there answers.
    let (instance, _) = homedesk_protocol::cursor_position(&inline.page.next_cursor).unwrap();
    let from = format!("{instance}.{start}");
    let pulled = server.page(&agent.access_token, Some(&from), 500).await;
    assert_eq!(
        pulled.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        inline
            .page
            .changes
            .iter()
            .map(|c| c.seq)
            .collect::<Vec<_>>(),
        "an inline page is the page a pull would answer"
    );

    // A contact in a queue a1002 does not serve: nothing of it on a1002's
    // stream; the next page still starts where a1002 is.
    let other = server
        .customer_writes("chat", "inl-2", "cust-inl-2", "presales", "有现货吗？")
        .await;
    let again = server
        .customer_writes("chat", "inl-3", "cust-inl-3", "aftersales", "我要退货")
        .await;
    let event = events
        .wait_for("the next contact of a1002's queues", |e| {
            matches!(e, ServerEvent::Changes { inline: Some(i), .. }
                if message_conversations(&i.page).contains(&again))
        })
        .await;
    let ServerEvent::Changes {
        inline: Some(inline),
        ..
    } = event
    else {
        unreachable!()
    };
    assert!(
        !message_conversations(&inline.page).contains(&other),
        "another queue's contact is not on a1002's stream: {inline:?}"
    );
    assert!(inline.after >= latest_seq, "pages follow one another");
}

#[tokio::test]
async fn a_stream_without_the_parameter_only_pokes_and_bad_parameters_are_refused() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let mut events = server.events(&agent.access_token, None).await;
    events
        .wait_for("the poke on connect", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await;
    server
        .customer_writes("chat", "poke-1", "cust-poke-1", "logistics", "在吗")
        .await;
    let event = events
        .wait_for("a poke", |e| matches!(e, ServerEvent::Changes { .. }))
        .await;
    assert!(
        matches!(event, ServerEvent::Changes { inline: None, .. }),
        "a stream that did not ask gets pokes: {event:?}"
    );

    for path in [
        "/v1/events?changes=all",
        "/v1/events?inline=1",
        "/v1/events?changes=inline&changes=poke&x=1",
        "/v1/events?heartbeat=ping",
        "/v1/events?changes=inline&heartbeat=",
    ] {
        let (status, body) = server.get(path, Some(&agent.access_token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["code"], "invalid_request", "{path}: {body}");
    }
}

#[tokio::test]
async fn a_push_answers_with_the_changes_after_its_cursor() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let token = agent.access_token.as_str();
    let (_, cursor) = server.pull_all(token, None).await;
    let waiting = server
        .customer_writes("chat", "push-1", "cust-push-1", "logistics", "发票怎么开？")
        .await;

    let presence = |key: &str| {
        json!({"actions": [{"key": key, "created_at": 1,
            "action": {"type": "presence", "presence": "available"}}]})
    };
    let (status, body) = server
        .post(
            &format!("/v1/actions?cursor={cursor}"),
            Some(token),
            &presence("inl-presence-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let page: ChangesPage =
        serde_json::from_value(body["changes"].clone()).expect("the answer holds a page");
    assert!(!page.has_more);
    assert!(
        message_conversations(&page).contains(&waiting),
        "the customer's message that came before the push: {page:?}"
    );
    assert!(
        page.changes.iter().any(|c| matches!(&c.body,
            ChangeBody::Upsert(Record::AgentProfile(p)) if p.code == "a1002")),
        "the push's own change: {page:?}"
    );
    let (_, end) = server.pull_all(token, Some(page.next_cursor.clone())).await;
    assert_eq!(
        end, page.next_cursor,
        "nothing more to pull after the answer"
    );

    // A push without the parameter answers as before.
    let (status, body) = server
        .post("/v1/actions", Some(token), &presence("inl-presence-2"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("changes").is_none(), "{body}");

    // A cursor the platform does not know: the push still counts; the
    // workstation's own pull will hear of the cursor.
    let (status, body) = server
        .post(
            "/v1/actions?cursor=not-a-cursor",
            Some(token),
            &presence("inl-presence-3"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    assert!(body.get("changes").is_none(), "{body}");

    // An unknown parameter is refused before anything is written.
    let (status, body) = server
        .post(
            "/v1/actions?cursr=x",
            Some(token),
            &presence("inl-presence-4"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, body) = server
        .post("/v1/actions", Some(token), &presence("inl-presence-4"))
        .await;
    assert_eq!(
        body["results"][0]["status"], "applied",
        "the refused request wrote nothing: {body}"
    );
}

#[tokio::test]
async fn the_event_stream_is_one_zstd_stream_only_when_accepted() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let raw = raw_client(&server.dir.join("tls").join("ca.pem"));
    let url = format!("{}/v1/events", server.url);

    let plain = raw
        .get(&url)
        .bearer_auth(&agent.access_token)
        .send()
        .await
        .expect("stream opens");
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none());
    let mut plain = plain;
    let chunk = tokio::time::timeout(Duration::from_secs(10), plain.chunk())
        .await
        .expect("the first event comes at once")
        .expect("reads")
        .expect("a chunk");
    assert!(
        chunk.starts_with(b"event: changes\ndata: {"),
        "plain SSE: {chunk:?}"
    );

    let mut packed = raw
        .get(&url)
        .bearer_auth(&agent.access_token)
        .header("accept-encoding", "gzip, zstd")
        .send()
        .await
        .expect("stream opens");
    assert_eq!(packed.status(), StatusCode::OK);
    assert_eq!(
        packed
            .headers()
            .get("content-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"zstd"[..])
    );
    // Each event is flushed: the first chunk decodes to the whole first
    // event without waiting for more.
    let chunk = tokio::time::timeout(Duration::from_secs(10), packed.chunk())
        .await
        .expect("the first event comes at once, compressed")
        .expect("reads")
        .expect("a chunk");
    let mut decoder = zstd::stream::raw::Decoder::new().expect("decoder");
    let mut out = vec![0u8; 64 * 1024];
    let mut input = zstd::stream::raw::InBuffer::around(&chunk[..]);
    let mut output = zstd::stream::raw::OutBuffer::around(&mut out[..]);
    zstd::stream::raw::Operation::run(&mut decoder, &mut input, &mut output).expect("zstd");
    let n = output.pos();
    let text = String::from_utf8_lossy(&out[..n]).into_owned();
    assert!(
        text.starts_with("event: changes\ndata: {") && text.ends_with("\n\n"),
        "one whole event: {text:?}"
    );
}

#[tokio::test]
async fn a_stream_that_asks_gets_comment_heartbeats_and_others_heartbeat_events() {
    // A heartbeat says only that the stream is alive: as an SSE comment it
    // is a few bytes (decision 0048). Workstations that did not ask (older
    // ones) get the event they know, with the platform's time.
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let raw = raw_client(&server.dir.join("tls").join("ca.pem"));
    let open = |query: &'static str| {
        let request = raw
            .get(format!("{}/v1/events{query}", server.url))
            .bearer_auth(&agent.access_token);
        async move {
            let response = request.send().await.expect("stream opens");
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response
        }
    };
    let mut commented = open("?changes=inline&heartbeat=comment").await;
    let mut evented = open("?changes=inline").await;
    // The heartbeat comes after 15 s of silence; a bound only so that a
    // failure ends the test.
    let bound = Duration::from_secs(40);
    let opening = next_chunk(&mut commented, bound).await;
    assert!(opening.starts_with("event: changes\n"), "{opening:?}");
    let heartbeat = next_chunk(&mut commented, bound).await;
    assert_eq!(heartbeat, ":\n", "a comment, and only that");

    let opening = next_chunk(&mut evented, bound).await;
    assert!(opening.starts_with("event: changes\n"), "{opening:?}");
    let heartbeat = next_chunk(&mut evented, bound).await;
    let data = heartbeat
        .strip_prefix("event: heartbeat\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("a heartbeat event: {heartbeat:?}"));
    let event: ServerEvent = serde_json::from_str(data).expect("a ServerEvent");
    assert!(
        matches!(event, ServerEvent::Heartbeat { server_time: Some(t) } if t > 0),
        "{event:?}"
    );
}

/// The next chunk of an event stream, as text.
async fn next_chunk(response: &mut reqwest::Response, bound: Duration) -> String {
    let chunk = tokio::time::timeout(bound, response.chunk())
        .await
        .expect("something comes")
        .expect("reads")
        .expect("a chunk");
    String::from_utf8_lossy(&chunk).into_owned()
}
