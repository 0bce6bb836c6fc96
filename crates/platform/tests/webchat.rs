//! The built-in web chat against the real platform binary over HTTPS: the
//! page and its CSP, the customer cookie, messages going in through ingress
//! (once each), agents' replies coming out over SSE with their delivery
//! state moving `queued → sent → delivered`, photos both ways (only a
//! conversation's own customer sees them), and the abuse limits.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use support::{DEADLINE, Server, eventually};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// A browser's view of the chat API: one customer cookie.
struct Customer<'a> {
    server: &'a Server,
    cookie: String,
}

impl<'a> Customer<'a> {
    /// A new customer (`POST /chat/api/session`), keeping the cookie it was given.
    async fn new(server: &'a Server, name: Option<&str>) -> Customer<'a> {
        let body = match name {
            Some(name) => json!({ "name": name }),
            None => json!({}),
        };
        let response = server
            .client
            .post(format!("{}/chat/api/session", server.url))
            .json(&body)
            .send()
            .await
            .expect("session request");
        assert_eq!(response.status(), StatusCode::CREATED, "a new customer");
        let set_cookie = response.headers()[SET_COOKIE]
            .to_str()
            .expect("Set-Cookie is text")
            .to_owned();
        let cookie = set_cookie
            .split(';')
            .next()
            .expect("a name=value first")
            .to_owned();
        Customer { server, cookie }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .server
            .client
            .request(method, format!("{}{path}", self.server.url))
            .header(COOKIE, &self.cookie);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request reaches the platform");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn write(&self, client_id: &str, body: &str) -> (StatusCode, Value) {
        let (status, _, value) = self
            .send(
                reqwest::Method::POST,
                "/chat/api/messages",
                Some(&json!({"queue": "aftersales", "client_id": client_id, "body": body})),
            )
            .await;
        (status, value)
    }

    async fn events(&self) -> ChatEvents {
        let response = self
            .server
            .client
            .get(format!("{}/chat/api/events", self.server.url))
            .header(COOKIE, &self.cookie)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("the event stream opens");
        assert_eq!(response.status(), StatusCode::OK, "the event stream opens");
        ChatEvents {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// The page's event stream: `(event name, data)`.
struct ChatEvents {
    stream: ByteStream,
    buffer: String,
}

impl ChatEvents {
    async fn next(&mut self) -> (String, Value) {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let name = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .map(str::trim)
                    .unwrap_or("message")
                    .to_owned();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                return (
                    name,
                    serde_json::from_str(&data).expect("event data is JSON"),
                );
            }
            match tokio::time::timeout_at(until, self.stream.next()).await {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                other => panic!("the chat stream ended or stalled: {other:?}"),
            }
        }
    }
}

/// The platform's latest copy of a message as `token`'s agent sees it.
async fn agent_copy(server: &Server, token: &str, message_id: &str) -> Option<Value> {
    let (changes, _) = server.pull_all(token, None).await;
    changes
        .iter()
        .rev()
        .map(|c| serde_json::to_value(c).expect("a change is JSON"))
        .find(|c| c["entity"] == "message" && c["id"] == message_id)
        .map(|c| c["data"].clone())
}

async fn conversation_of(server: &Server, token: &str, message_id: &str) -> String {
    let message = agent_copy(server, token, message_id)
        .await
        .expect("the agent sees the customer's message");
    message["conversation_id"]
        .as_str()
        .expect("a conversation id")
        .to_owned()
}

async fn reply(server: &Server, token: &str, conversation: &str, message_id: &str, body: &str) {
    let results = server
        .act(
            token,
            json!([
                {"key": format!("claim-{message_id}"), "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}},
                {"key": format!("reply-{message_id}"), "created_at": 1, "action": {"type": "reply", "conversation_id": conversation, "message_id": message_id, "body": body}},
            ]),
        )
        .await;
    // The claim is a conflict after the first reply (already mine); the reply applies.
    assert_eq!(results[1]["status"], "applied", "{results:?}");
}

async fn delivery_state(server: &Server, token: &str, message_id: &str) -> Option<String> {
    agent_copy(server, token, message_id)
        .await
        .and_then(|m| m["delivery"]["state"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_csp_and_only_for_real_queues() {
    let server = Server::start_demo(&[]);
    let page = server
        .client
        .get(format!("{}/chat/aftersales", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_SECURITY_POLICY], CSP);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-queue="aftersales""#), "{html}");
    assert!(
        html.contains("<title>售后服务 · 在线客服</title>"),
        "Chinese by default: {html}"
    );
    assert!(
        html.contains(r#"<script src="/chat/assets/chat.js" defer></script>"#),
        "{html}"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "no inline script: {html}"
    );
    assert!(!html.contains("style="), "no inline style: {html}");

    for (asset, kind) in [
        ("chat.js", "text/javascript; charset=utf-8"),
        ("chat.css", "text/css; charset=utf-8"),
    ] {
        let response = server
            .client
            .get(format!("{}/chat/assets/{asset}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert_eq!(response.headers()[CONTENT_TYPE], kind, "{asset}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }

    let missing = server
        .client
        .get(format!("{}/chat/no-such-queue", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[CONTENT_SECURITY_POLICY], CSP);
    assert!(missing.text().await.unwrap().contains("找不到这个客服页面"));
}

#[tokio::test]
async fn a_customer_gets_an_http_only_strict_cookie_that_resumes_their_session() {
    let server = Server::start_demo(&[]);
    let response = server
        .client
        .post(format!("{}/chat/api/session", server.url))
        .json(&json!({"name": "  李桂兰 "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/chat"] {
        assert!(
            set_cookie.split("; ").any(|p| p == part),
            "{part}: {set_cookie}"
        );
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("hd_chat=") && cookie.len() == "hd_chat=".len() + 43);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"name": "李桂兰"}));

    let customer = Customer {
        server: &server,
        cookie,
    };
    let (status, _, body) = customer
        .send(reqwest::Method::GET, "/chat/api/session", None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"name": "李桂兰"})));

    // No cookie, or a cookie the platform never gave: no session.
    for cookie in [
        None,
        Some("hd_chat=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("hd_chat=<script>"),
    ] {
        let mut request = server
            .client
            .get(format!("{}/chat/api/session", server.url));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{cookie:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
    }

    // A name too long is refused and creates nobody.
    let (status, body) = server
        .post(
            "/chat/api/session",
            None,
            &json!({"name": "名".repeat(101)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_request");
}

#[tokio::test]
async fn customer_messages_go_in_through_ingress_once_and_bad_ones_store_nothing() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await.access_token;
    let customer = Customer::new(&server, Some("李桂兰")).await;

    let (status, first) = customer.write("page-msg-0001", "桃子收到就烂了一半").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["from"], "customer");
    assert_eq!(first["state"], "received");
    let id = first["id"].as_str().unwrap().to_owned();

    // A resend after a lost answer is the same message, stored once.
    let (status, again) = customer.write("page-msg-0001", "桃子收到就烂了一半").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], first["id"]);

    let conversation = conversation_of(&server, &agent, &id).await;
    let (changes, _) = server.pull_all(&agent, None).await;
    let changes: Vec<Value> = changes
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let stored = changes
        .iter()
        .rev()
        .find(|c| c["entity"] == "conversation" && c["id"] == conversation.as_str())
        .expect("the agent sees the conversation");
    assert_eq!(stored["data"]["channel"], "chat");
    assert_eq!(stored["data"]["queue"], "aftersales");
    let customer_id = stored["data"]["customer_id"].as_str().unwrap();
    assert!(customer_id.starts_with("web-"), "{customer_id}");
    let person = changes
        .iter()
        .rev()
        .find(|c| c["entity"] == "customer" && c["id"] == customer_id)
        .expect("the agent sees the customer");
    assert_eq!(person["data"]["name"], "李桂兰");
    let messages_before = changes.iter().filter(|c| c["entity"] == "message").count();
    assert_eq!(messages_before, 1, "one message, not two: {changes:?}");

    // Too long, empty, a bad client id, an unknown queue, no cookie: refused, nothing stored.
    let (status, body) = customer.write("page-msg-0002", &"桃".repeat(10_001)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    let (status, body) = customer.write("page-msg-0003", "  \n ").await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request"))
    );
    let (status, body) = customer.write("short", "你好").await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request"))
    );
    let (status, _, body) = customer
        .send(
            reqwest::Method::POST,
            "/chat/api/messages",
            Some(&json!({"queue": "nowhere", "client_id": "page-msg-0004", "body": "你好"})),
        )
        .await;
    // Well formed but naming nothing: 404, as for ingress.
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
    let (status, body) = server
        .post(
            "/chat/api/messages",
            None,
            &json!({"queue": "aftersales", "client_id": "page-msg-0005", "body": "你好"}),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized"))
    );
    let (changes, _) = server.pull_all(&agent, None).await;
    let messages_after = changes
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .filter(|c| c["entity"] == "message")
        .count();
    assert_eq!(messages_after, 1, "the refused messages stored nothing");
}

#[tokio::test]
async fn a_reply_waits_queued_until_the_page_is_sent_it_and_is_delivered_when_shown() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await.access_token;
    let customer = Customer::new(&server, None).await;
    let (_, first) = customer.write("page-msg-0001", "请问什么时候发货？").await;
    let conversation = conversation_of(&server, &agent, first["id"].as_str().unwrap()).await;

    // The customer has closed the page: the reply waits.
    reply(
        &server,
        &agent,
        &conversation,
        "msg-reply-away",
        "今天下午发货",
    )
    .await;
    assert_eq!(
        delivery_state(&server, &agent, "msg-reply-away")
            .await
            .as_deref(),
        Some("queued")
    );
    // An internal note never reaches the customer.
    server
        .act(
            &agent,
            json!([{"key": "note-0001", "created_at": 1, "action": {"type": "internal_note", "conversation_id": conversation, "message_id": "msg-note-1", "body": "顾客催发货"}}]),
        )
        .await;

    // The page comes back: the snapshot has the reply, which is now `sent`.
    let mut events = customer.events().await;
    let (name, snapshot) = events.next().await;
    assert_eq!(name, "snapshot");
    let bodies: Vec<&str> = snapshot["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["请问什么时候发货？", "今天下午发货"],
        "no note: {snapshot}"
    );
    assert_eq!(
        snapshot["messages"][0]["state"], "read",
        "answered after it"
    );
    assert_eq!(snapshot["messages"][1]["from"], "agent");
    assert!(
        snapshot["messages"][1].get("agent").is_none(),
        "no agent code: {snapshot}"
    );
    eventually("the reply is marked sent", || async {
        (delivery_state(&server, &agent, "msg-reply-away")
            .await
            .as_deref()
            == Some("sent"))
        .then_some(())
    })
    .await;

    // Another customer cannot move this reply's tick.
    let stranger = Customer::new(&server, None).await;
    let (status, _, _) = stranger
        .send(
            reqwest::Method::POST,
            "/chat/api/seen",
            Some(&json!({"ids": ["msg-reply-away"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        delivery_state(&server, &agent, "msg-reply-away")
            .await
            .as_deref(),
        Some("sent")
    );

    // The page says it showed it: delivered.
    let (status, _, _) = customer
        .send(
            reqwest::Method::POST,
            "/chat/api/seen",
            Some(&json!({"ids": ["msg-reply-away"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        delivery_state(&server, &agent, "msg-reply-away")
            .await
            .as_deref(),
        Some("delivered")
    );

    // A reply while the page is open arrives on the stream without a reload.
    reply(
        &server,
        &agent,
        &conversation,
        "msg-reply-live",
        "快递单号稍后发您",
    )
    .await;
    let live = loop {
        let (name, data) = events.next().await;
        if name == "message" && data["id"] == "msg-reply-live" {
            break data;
        }
    };
    assert_eq!(live["body"], "快递单号稍后发您");
    eventually("the live reply is marked sent", || async {
        (delivery_state(&server, &agent, "msg-reply-live")
            .await
            .as_deref()
            == Some("sent"))
        .then_some(())
    })
    .await;

    // Too many ids at once are refused.
    let ids: Vec<String> = (0..101).map(|i| format!("msg-{i}")).collect();
    let (status, _, body) = customer
        .send(
            reqwest::Method::POST,
            "/chat/api/seen",
            Some(&json!({ "ids": ids })),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request"))
    );
}

#[tokio::test]
async fn the_same_cookie_resumes_the_conversation_after_a_platform_restart() {
    let mut server = Server::start_demo(&[]);
    let customer_cookie = {
        let customer = Customer::new(&server, Some("王大妈")).await;
        customer.write("page-msg-0001", "我的快递到哪了？").await;
        customer.cookie.clone()
    };
    server.stop();
    let dir = server.dir.clone();
    let restarted = Server::start_at(&dir, &["--demo"]);
    let customer = Customer {
        server: &restarted,
        cookie: customer_cookie,
    };
    let mut events = customer.events().await;
    let (name, snapshot) = events.next().await;
    assert_eq!(name, "snapshot");
    assert_eq!(snapshot["customer"]["name"], "王大妈");
    assert_eq!(snapshot["messages"][0]["body"], "我的快递到哪了？");
}

#[tokio::test]
async fn a_customer_over_the_limit_is_told_to_wait_and_others_are_not_slowed() {
    let server = Server::start_demo(&["--chat-customer-rate", "3", "--chat-ip-rate", "100"]);
    let agent = server.sign_in("a1002").await.access_token;
    let hasty = Customer::new(&server, None).await;
    for i in 0..3 {
        let (status, body) = hasty.write(&format!("page-msg-000{i}"), "在吗？").await;
        assert_eq!(status, StatusCode::CREATED, "message {i}: {body}");
    }
    let (status, headers, body) = hasty
        .send(
            reqwest::Method::POST,
            "/chat/api/messages",
            Some(&json!({"queue": "aftersales", "client_id": "page-msg-0009", "body": "在吗？？"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    let wait: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");

    let calm = Customer::new(&server, None).await;
    let (status, _) = calm.write("page-msg-0001", "你好").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another customer is not slowed"
    );

    let (changes, _) = server.pull_all(&agent, None).await;
    let stored = changes
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .filter(|c| c["entity"] == "message" && c["data"]["body"] == "在吗？？")
        .count();
    assert_eq!(stored, 0, "the refused message was not stored");

    let metrics = server.metrics().await;
    assert!(
        metrics.contains("homedesk_webchat_limited_total{by=\"customer\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("homedesk_ingress_total{channel=\"webchat\"} 4"),
        "{metrics}"
    );
}

#[tokio::test]
async fn one_address_over_its_limit_is_told_to_wait() {
    let server = Server::start_demo(&["--chat-ip-rate", "2"]);
    Customer::new(&server, None).await;
    Customer::new(&server, None).await;
    let response = server
        .client
        .post(format!("{}/chat/api/session", server.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(
        !response.headers().contains_key(SET_COOKIE),
        "no customer was created"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
}

/// A small real JPEG with some detail.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&image)
        .expect("encodes");
    out
}

impl Customer<'_> {
    async fn upload(&self, bytes: Vec<u8>) -> (StatusCode, Value) {
        let response = self
            .server
            .client
            .post(format!("{}/chat/api/attachments", self.server.url))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload reaches the platform");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn fetch(&self, path: &str) -> (StatusCode, String, usize) {
        let response = self
            .server
            .client
            .get(format!("{}{path}", self.server.url))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("request reaches the platform");
        let status = response.status();
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (status, kind, response.bytes().await.map_or(0, |b| b.len()))
    }
}

#[tokio::test]
async fn a_customers_photo_reaches_the_agent_and_only_that_customer_can_open_it() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await.access_token;
    let customer = Customer::new(&server, Some("李桂兰")).await;

    let (status, photo) = customer.upload(jpeg(640, 480)).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    let photo_id = photo["id"].as_str().expect("an id").to_owned();
    assert_eq!(photo["media_type"], "image/jpeg");
    // Sent with a message (a photo alone is a message too).
    let (status, _, sent) = customer
        .send(
            reqwest::Method::POST,
            "/chat/api/messages",
            Some(&json!({"queue": "aftersales", "client_id": "page-photo-01", "body": "", "attachments": [photo_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["attachments"][0]["id"], photo_id.as_str());
    assert_eq!(sent["attachments"][0]["width"], 640);

    // The agent's copy carries the platform's record of the photo.
    let stored = agent_copy(&server, &agent, sent["id"].as_str().unwrap())
        .await
        .expect("the agent sees the photo message");
    assert_eq!(stored["attachments"][0]["id"], photo_id.as_str());

    // The customer sees the thumbnail and the full photo of their conversation.
    let (status, kind, size) = customer
        .fetch(&format!("/chat/api/attachments/{photo_id}/thumbnail"))
        .await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/jpeg"));
    assert!(size > 0 && size <= homedesk_protocol::MAX_THUMBNAIL_BYTES);
    let (status, _, _) = customer
        .fetch(&format!("/chat/api/attachments/{photo_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Another customer, and nobody without a cookie, cannot.
    let stranger = Customer::new(&server, None).await;
    for path in [
        format!("/chat/api/attachments/{photo_id}"),
        format!("/chat/api/attachments/{photo_id}/thumbnail"),
    ] {
        let (status, _, _) = stranger.fetch(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = server.get(&path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }

    // An agent's photo reply reaches the customer's page the same way.
    let conversation = stored["conversation_id"].as_str().unwrap().to_owned();
    let (status, record) = {
        let response = server
            .client
            .post(format!("{}/v1/attachments", server.url))
            .bearer_auth(&agent)
            .body(jpeg(300, 200))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::CREATED, "{record}");
    server
        .act(
            &agent,
            json!([
                {"key": "claim-photo-1", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}},
                {"key": "reply-photo-1", "created_at": 1, "action": {"type": "reply", "conversation_id": conversation, "message_id": "msg-size-chart", "body": "尺码表请看图", "attachments": [record]}},
            ]),
        )
        .await;
    let mut events = customer.events().await;
    let (_, snapshot) = events.next().await;
    let reply = snapshot["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "msg-size-chart")
        .cloned()
        .expect("the photo reply is on the page");
    let agent_photo = reply["attachments"][0]["id"].as_str().unwrap();
    let (status, kind, _) = customer
        .fetch(&format!("/chat/api/attachments/{agent_photo}/thumbnail"))
        .await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/jpeg"));
}

#[tokio::test]
async fn a_bad_photo_from_the_page_is_refused_with_its_code_and_needs_a_session() {
    let server = Server::start_demo(&[]);
    let customer = Customer::new(&server, None).await;
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    elf.resize(2048, 0x90);
    let whole = jpeg(400, 300);
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut over = vec![0xFF, 0xD8, 0xFF, 0xE0];
    over.resize(homedesk_protocol::MAX_ATTACHMENT_BYTES + 1, 0x42);
    for (what, bytes, status, code) in [
        (
            "a renamed program",
            elf,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "a JPEG cut in half",
            truncated,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_image",
        ),
        (
            "an empty file",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "empty_attachment",
        ),
        (
            "a file over 5 MB",
            over,
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
        ),
    ] {
        let (got, body) = customer.upload(bytes).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
    }
    // No session, no upload.
    let response = server
        .client
        .post(format!("{}/chat/api/attachments", server.url))
        .body(jpeg(10, 10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// A name's 100 characters are counted as sent (as the OpenAPI file's
/// `maxLength` counts), not after folding its spaces.
#[tokio::test]
async fn a_long_name_is_refused_whatever_its_spaces() {
    let server = Server::start_demo(&[]);
    let spaced = format!("李{}桂兰", " ".repeat(98));
    assert_eq!(spaced.chars().count(), 101);
    let (status, body) = server
        .post("/chat/api/session", None, &json!({ "name": spaced }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_request");
    let hundred = format!("李{}桂兰", " ".repeat(97));
    let (status, body) = server
        .post("/chat/api/session", None, &json!({ "name": hundred }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "李 桂兰");
}

/// A body that is not a JSON object opens no session, though every field of
/// the request has a default (serde alone reads a struct from `[]`).
#[tokio::test]
async fn a_session_request_that_is_not_an_object_is_refused() {
    let server = Server::start_demo(&[]);
    for body in ["[]", "[null]", "[\"李桂兰\"]"] {
        let response = server
            .client
            .post(format!("{}/chat/api/session", server.url))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(response.headers().get(SET_COOKIE).is_none(), "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], "invalid_request", "{body}");
    }
}

/// The largest report the OpenAPI file allows is taken, and an id no
/// message can have is refused.
#[tokio::test]
async fn seen_reports_are_judged_as_the_openapi_file_says() {
    let server = Server::start_demo(&[]);
    let customer = Customer::new(&server, None).await;
    // 100 ids of 128 characters, each written as a pair of \u escapes as
    // Python's json module writes them.
    let id = "\\ud83c\\udf51".repeat(128);
    let ids = vec![format!("\"{id}\""); 100].join(",");
    let response = server
        .client
        .post(format!("{}/chat/api/seen", server.url))
        .header(COOKIE, &customer.cookie)
        .header(CONTENT_TYPE, "application/json")
        .body(format!("{{\"ids\":[{ids}]}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    for bad in ["".to_owned(), "m".repeat(129)] {
        let (status, _, body) = customer
            .send(
                reqwest::Method::POST,
                "/chat/api/seen",
                Some(&json!({ "ids": ["m-1", bad] })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["code"], "invalid_request");
    }
    let (status, _, _) = customer
        .send(
            reqwest::Method::POST,
            "/chat/api/seen",
            Some(&json!({ "ids": ["m".repeat(128)] })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
