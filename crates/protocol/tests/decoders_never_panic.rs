//! Whatever bytes arrive, the protocol's decoders answer `Ok` or a
//! [`DecodeError`]; they never panic. The platform decodes every request
//! body with [`decode`] and the workstation every answer and event, so a
//! panic here would be a way for anyone on the network to stop a handler
//! (or, on the PC, the sync engine).
//!
//! Three kinds of input: arbitrary bytes; text made of JSON's own tokens in
//! any order (gets past the first byte far more often); and real messages
//! with a few bytes changed, inserted or removed (reaches the deep fields).
//! `make fuzz` runs the same decoders under libFuzzer for longer.

use homedesk_protocol::{
    ActionBatch, Change, ChangesPage, ErrorBody, IngressMessage, Refresh, ServerEvent, Session,
    SignIn, TrainingUpload, UpdateManifest, decode,
};
use proptest::prelude::*;

/// Runs every decoder on `bytes`; the result is ignored, only a panic fails.
fn decode_all(bytes: &[u8]) {
    let _ = decode::<SignIn>(bytes);
    let _ = decode::<Refresh>(bytes);
    let _ = decode::<Session>(bytes);
    let _ = decode::<ActionBatch>(bytes);
    let _ = decode::<TrainingUpload>(bytes);
    let _ = decode::<IngressMessage>(bytes);
    let _ = decode::<ServerEvent>(bytes);
    let _ = decode::<Change>(bytes);
    let _ = decode::<ChangesPage>(bytes);
    let _ = decode::<ErrorBody>(bytes);
    let _ = decode::<UpdateManifest>(bytes);
    let _ = decode::<serde_json::Value>(bytes);
}

/// Real messages of the kinds above, as a peer sends them.
const SAMPLES: &[&str] = &[
    r#"{"agent":"a1001","password":"homedesk-demo","device_id":"ws-1"}"#,
    r#"{"refresh_token":"abc"}"#,
    r#"{"actions":[{"key":"act-1","created_at":1.0e3,"action":{"type":"reply","conversation_id":"c1","body":"您好，亲"}}]}"#,
    r#"{"external_id":"tb-1","customer":{"external_id":"u1","name":"王女士","phone":"13800000000"},"queue":"pre-sales","subject":"问","body":"发货了吗","attachments":[],"priority":"high"}"#,
    r#"{"type":"offer","offer":{"conversation_id":"c1","queue":"pre-sales","expires_at":-2.50e1}}"#,
    r#"{"changes":[{"seq":"1","kind":"conversation","id":"c1","op":"delete"}],"next_cursor":"1","has_more":false,"server_time":5.0}"#,
    r#"{"code":"too_many_attempts","message":"wait"}"#,
    r#"{"version":"0.2.0","notes":"x","pub_date":"2026-01-01T00:00:00Z","platforms":{"linux-x86_64":{"url":"https://p/x","signature":"s"}}}"#,
];

/// JSON's tokens and a few awkward ones (deep nesting, huge and fractional
/// numbers, escapes, lone surrogates, non-ASCII).
fn json_token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"a\"",
        "\"type\"",
        "\"reply\"",
        "\"actions\"",
        "\"changes\"",
        "0",
        "-1",
        "1.0",
        "1e3",
        "-2.50e1",
        "1e400",
        "1.5e-400",
        "123456789012345678901234567890",
        "0.000000000000000000001e21",
        "true",
        "false",
        "null",
        "\\u0000",
        "\\ud800",
        "\"\\ud800\"",
        "\"您好\"",
        " ",
        "\n",
        "\u{feff}",
        "\u{0}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn json_shaped_text_never_panics(tokens in prop::collection::vec(json_token(), 0..200)) {
        decode_all(tokens.concat().as_bytes());
    }

    #[test]
    fn real_messages_changed_a_little_never_panic(
        sample in prop::sample::select(SAMPLES.to_vec()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = sample.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.push(byte),
            }
        }
        decode_all(&bytes);
    }
}

#[test]
fn deeply_nested_input_is_refused_not_a_stack_overflow() {
    // serde_json stops at 128 levels; a body of 100,000 brackets must be an
    // error, not a crash of the thread that reads it.
    let deep = "[".repeat(100_000);
    decode_all(deep.as_bytes());
    assert!(decode::<ActionBatch>(deep.as_bytes()).is_err());
}
