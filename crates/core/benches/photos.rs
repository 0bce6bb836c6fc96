//! `make bench` — what photos cost a workstation's link.
//!
//! Starts the real platform (the optimised build `make bench` made for its
//! sync bench) on loopback TLS. A customer writes with five photos (phone
//! photos of 2048×1536, two messages: the platform takes four per message),
//! and two workstations, each behind its own counting proxy, claim a copy
//! of that conversation:
//! - ours: the sync fetches the five thumbnails, then the agent opens one
//!   photo;
//! - the baseline, in the same run: a workstation that syncs the
//!   conversation without thumbnails and downloads every photo in full.
//!
//! The figures are bytes from the platform to the workstation as on the
//! wire (TLS included), from the claim on. Prints a Markdown table and
//! writes it to `target/bench/photos.md`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Cursor;
use std::sync::atomic::Ordering;

use common::flaky::FlakyProxy;
use common::{Server, engine_at};
use homedesk_core::clock;
use homedesk_core::photos::{MediaKind, MediaRequest};
use homedesk_core::store::{attachments, outbox};
use homedesk_core::sync::{SyncEngine, Transport};
use homedesk_protocol::{Action, Attachment};
use serde_json::json;

/// A phone photo: a smooth scene with sensor noise, as JPEG quality 92.
fn phone_photo(seed: u32) -> Vec<u8> {
    let (width, height) = (2048, 1536);
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as i32 - 12;
        let shade = |base: u32| (base as i32 + noise).clamp(0, 255) as u8;
        image::Rgb([
            shade(60 + x * 160 / width),
            shade(90 + y * 120 / height + seed * 10),
            shade(40 + (x + y) * 100 / (width + height)),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&img)
        .expect("encodes");
    out.into_inner()
}

async fn upload(server: &Server, bytes: Vec<u8>) -> Attachment {
    server
        .client
        .post(format!("{}/v1/attachments", server.url))
        .bearer_auth(server.ingress_token())
        .body(bytes)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("an Attachment")
}

/// A customer's conversation carrying `photos`, three then two per message.
async fn conversation_with(server: &Server, customer: &str, photos: &[Attachment]) -> String {
    let mut conversation = String::new();
    for (n, chunk) in photos.chunks(3).enumerate() {
        let mut message = common::platform::ingress_message(
            &format!("{customer}-{n}"),
            customer,
            "aftersales",
            "桃子收到就烂了，您看照片",
        );
        message["attachments"] = json!(chunk.iter().map(|p| p.id.clone()).collect::<Vec<_>>());
        let (status, answer) = server.ingress("chat", &message).await;
        assert!(status.is_success(), "ingress: {answer}");
        conversation = answer["conversation_id"].as_str().expect("id").to_owned();
    }
    conversation
}

/// What the claim's sync downloaded: bytes on the wire (the conversation,
/// and the thumbnails if the engine fetches them), and the thumbnails kept.
struct Claimed {
    wire: u64,
    thumbnails: u64,
    thumbnail_bytes: u64,
}

/// Signs in, syncs the world (and the canned replies' photos), then claims
/// `conversation`.
async fn claim<T: Transport>(
    engine: &SyncEngine<T>,
    proxy: &FlakyProxy,
    agent: &str,
    conversation: &str,
) -> Claimed {
    engine
        .sign_in(agent, common::platform::DEMO_PASSWORD)
        .await
        .expect("signs in");
    engine.sync_once().await.expect("first sync");
    let action = Action::Claim {
        conversation_id: conversation.to_owned(),
    };
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, agent, action, clock::now_ms()))
        .expect("claim saved");
    let kept = engine.store().read(attachments::usage).expect("usage");
    let before = proxy.stats.down_bytes.load(Ordering::Relaxed);
    let report = engine.sync_once().await.expect("claim synced");
    assert_eq!(report.pushed, 1);
    let after = engine.store().read(attachments::usage).expect("usage");
    assert_eq!(after.full, (0, 0), "no full image yet: {after:?}");
    Claimed {
        wire: proxy.stats.down_bytes.load(Ordering::Relaxed) - before,
        thumbnails: after.thumbs.0 - kept.thumbs.0,
        thumbnail_bytes: after.thumbs.1 - kept.thumbs.1,
    }
}

async fn open<T: Transport>(engine: &SyncEngine<T>, proxy: &FlakyProxy, photo: &Attachment) -> u64 {
    let before = proxy.stats.down_bytes.load(Ordering::Relaxed);
    let full = engine
        .media(&MediaRequest {
            kind: MediaKind::Full,
            id: photo.id.clone(),
        })
        .await
        .expect("opened");
    assert_eq!(full.data.len(), photo.bytes as usize);
    proxy.stats.down_bytes.load(Ordering::Relaxed) - before
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let server = Server::start_demo(&[]);
    let mut photos = Vec::new();
    for seed in 1..=5 {
        photos.push(upload(&server, phone_photo(seed)).await);
    }
    let full_bytes: u64 = photos.iter().map(|p| u64::from(p.bytes)).sum();
    let ours_conversation = conversation_with(&server, "cust-bench-1", &photos).await;
    let base_conversation = conversation_with(&server, "cust-bench-2", &photos).await;
    let upstream = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("addr");
    let dir = tempfile::tempdir().expect("tmp");

    // Ours: thumbnails by the sync, one photo opened.
    let ours_proxy = FlakyProxy::start(upstream, 1).await;
    let ours = engine_at(
        &server,
        &ours_proxy.url(),
        &dir.path().join("ours.sqlite"),
        "bench-ours",
    );
    let claimed = claim(&ours, &ours_proxy, "a1002", &ours_conversation).await;
    assert_eq!(claimed.thumbnails, 5, "five thumbnails");
    let synced = claimed.wire;
    let opened = open(&ours, &ours_proxy, &photos[0]).await;

    // The baseline: no thumbnails, every photo in full.
    let base_proxy = FlakyProxy::start(upstream, 2).await;
    let mut config = common::quick_config("bench-base");
    config.thumbnails_per_sync = 0;
    let base = SyncEngine::new(
        std::sync::Arc::new(
            homedesk_core::store::Store::open(
                dir.path().join("base.sqlite"),
                &homedesk_core::store::StoreKey::from_bytes([7; 32]),
            )
            .expect("store"),
        ),
        common::transport(&server, &base_proxy.url()),
        config,
    )
    .expect("engine");
    let conversation_only = claim(&base, &base_proxy, "a1001", &base_conversation)
        .await
        .wire;
    let mut all_full = 0;
    for photo in &photos {
        all_full += open(&base, &base_proxy, photo).await;
    }
    let baseline = conversation_only + all_full;

    let rows = [
        (
            "baseline: the conversation and all 5 photos in full".to_owned(),
            baseline,
        ),
        (
            format!(
                "the conversation and 5 thumbnails ({} of thumbnails)",
                kib(claimed.thumbnail_bytes)
            ),
            synced,
        ),
        ("… then one photo opened".to_owned(), synced + opened),
    ];
    let mut out = String::new();
    out.push_str(&format!(
        "Five photos of 2048×1536 ({} as the platform keeps them, {} on average).\n\n",
        kib(full_bytes),
        kib(full_bytes / 5)
    ));
    out.push_str("| downloaded by the workstation, from the claim on | bytes (wire, TLS) | ratio |\n|---|---:|---:|\n");
    for (what, bytes) in &rows {
        out.push_str(&format!(
            "| {what} | {} | {:.3} |\n",
            kib(*bytes),
            *bytes as f64 / baseline as f64
        ));
    }
    println!("\n## Photos: bytes a workstation downloads\n\n{out}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("photos.md"), out);
}
