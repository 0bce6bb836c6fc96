//! The workstation's HTTP client follows no redirect: a platform address
//! that answers the sign-in with `307 Temporary Redirect` (which keeps the
//! method and the body) to another address must not make the workstation
//! send the agent's password there, nor a refresh token or bearer token.
//!
//! Both "servers" are small raw HTTP listeners on loopback, reached through
//! the real `HttpTransport` (plain HTTP via the explicit development
//! switch; redirects are a matter of the client, not of TLS).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use homedesk_core::sync::{HttpConfig, HttpTransport, Transport, TransportError};
use homedesk_protocol::SignIn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PASSWORD: &str = "the-agents-password-7";

/// Reads one request (head and body) from `stream`; `None` if it closes.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let length: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(text + &String::from_utf8_lossy(&body))
}

/// A listener that records every request it gets and answers
/// `status` with `extra` headers.
async fn listener(status: &'static str, extra: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let record = record.clone();
            let extra = extra.clone();
            tokio::spawn(async move {
                if let Some(request) = read_request(&mut stream).await {
                    record.lock().expect("seen").push(request);
                }
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{extra}content-type: application/json\r\n\
                     content-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn transport(url: &str) -> HttpTransport {
    let mut http = HttpConfig::new(url);
    http.allow_insecure_loopback = true;
    http.connect_timeout = Duration::from_secs(3);
    http.idle_timeout = Duration::from_secs(5);
    HttpTransport::new(&http).expect("transport")
}

#[tokio::test]
async fn a_redirected_sign_in_never_sends_the_password_to_the_other_address() {
    let (elsewhere, reached) = listener("200 OK", String::new()).await;
    let (platform, asked) = listener(
        "307 Temporary Redirect",
        format!("location: {elsewhere}/v1/sessions\r\n"),
    )
    .await;
    let transport = transport(&platform);

    let answer = transport
        .sign_in(&SignIn {
            agent: "a1001".into(),
            password: PASSWORD.into(),
            device_id: "redirect-test".into(),
        })
        .await;
    assert!(
        matches!(answer, Err(TransportError::Refused { status: 307, .. })),
        "a redirect is an answer the sign-in does not accept: {answer:?}"
    );
    assert_eq!(
        asked.lock().expect("asked").len(),
        1,
        "the platform's address was asked once"
    );

    let refreshed = transport.refresh("a-refresh-token-secret").await;
    assert!(refreshed.is_err(), "{refreshed:?}");
    let pushed = transport
        .push(
            "an-access-token-secret",
            &homedesk_protocol::ActionBatch { actions: vec![] },
        )
        .await;
    assert!(pushed.is_err(), "{pushed:?}");

    let reached = reached.lock().expect("reached");
    assert!(
        reached.is_empty(),
        "nothing went to the address the redirect named, least of all the password: {reached:?}"
    );
}
