//! The platform end to end, photos: an upload is checked by its real type
//! and size, re-encoded without its metadata, stored once by content, and
//! served with a small JPEG thumbnail; replies and customer messages carry
//! the platform's own record of each photo; every bad file is refused with
//! its own code and leaves nothing behind.

mod support;

use std::io::Cursor;

use homedesk_protocol::{
    Attachment, ChangeBody, MAX_ATTACHMENT_BYTES, MAX_THUMBNAIL_BYTES, Message, Record,
};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ImageDecoder, ImageEncoder, RgbImage, RgbaImage};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::*;

// ---------- making test files ----------

/// Pixels that compress badly, like a real photo's detail (and unlike a
/// flat test card): deterministic noise over a gradient.
fn detailed(width: u32, height: u32) -> RgbImage {
    let mut seed = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [n, m, _, _] = seed.to_le_bytes();
        let g = u8::try_from((x * 255) / width).unwrap_or(255);
        let b = u8::try_from((y * 255) / height).unwrap_or(255);
        image::Rgb([n, g.wrapping_add(m / 4), b])
    })
}

fn jpeg_of(image: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, 90);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).expect("JPEG takes EXIF");
    }
    encoder
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encodes");
    out
}

/// The 24 bytes of a GPS latitude 30° 15' 12.34": what must not survive.
const LATITUDE: [u8; 24] = [
    0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0, 15, 0, 0, 0, 1, 0, 0, 0x04, 0xD2, 0, 0, 0, 100,
];

/// An EXIF block (big-endian TIFF) saying "turn 90° clockwise to view"
/// and where the photo was taken.
fn exif_with_location() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: orientation 6, GPS IFD at 38.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // GPS IFD at 38: latitude ref "N", latitude at 68.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0x00, 0x02, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(tiff.len(), 68);
    tiff.extend_from_slice(&LATITUDE);
    tiff
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len())
        .expect("small")
        .to_be_bytes()
        .to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32(&[&kind[..], data].concat());
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A PNG with transparency and a text chunk naming a place.
fn png_with_text() -> Vec<u8> {
    let image = RgbaImage::from_fn(300, 200, |x, y| {
        image::Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            90,
            if x < 150 { 255 } else { 60 },
        ])
    });
    let mut plain = Vec::new();
    PngEncoder::new(&mut plain)
        .write_image(image.as_raw(), 300, 200, image::ExtendedColorType::Rgba8)
        .expect("encodes");
    // Signature (8) + IHDR chunk (25), then the text, then the rest.
    let text = png_chunk(b"tEXt", b"Comment\0secret-farm-location");
    [&plain[..33], &text[..], &plain[33..]].concat()
}

fn webp_of(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 200, 255])
    });
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgba8,
        )
        .expect("encodes");
    out
}

/// A PNG header claiming 30000×30000 pixels, with a tiny valid IDAT: a
/// few hundred bytes that would unpack into 2.7 GB.
fn png_bomb_header() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    // zlib of nothing.
    let idat = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    [
        PNG_SIGNATURE,
        &png_chunk(b"IHDR", &ihdr)[..],
        &png_chunk(b"IDAT", &idat)[..],
        &png_chunk(b"IEND", &[])[..],
    ]
    .concat()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------- talking to the platform ----------

async fn upload(server: &Server, token: Option<&str>, bytes: Vec<u8>) -> (StatusCode, Value) {
    let mut req = server
        .client
        .post(format!("{}/v1/attachments", server.url))
        // What a client claims does not matter; the bytes do.
        .header("Content-Type", "image/jpeg")
        .header("Content-Disposition", "attachment; filename=\"photo.jpg\"")
        .body(bytes);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let response = req.send().await.expect("upload reaches the platform");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn stored(server: &Server, token: &str, bytes: Vec<u8>) -> Attachment {
    let (status, body) = upload(server, Some(token), bytes).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a good photo is stored: {body}"
    );
    serde_json::from_value(body).expect("an Attachment")
}

async fn fetch(
    server: &Server,
    token: &str,
    path: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = server
        .client
        .get(format!("{}{path}", server.url))
        .bearer_auth(token);
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    let response = req.send().await.expect("request reaches the platform");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, headers, bytes)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Rows in the platform's photo table, read beside the running server,
/// besides the photos of the demo's canned replies (its size charts).
fn stored_photos(server: &Server) -> i64 {
    // The records' JSON is text in both dialects; each reads it its own way.
    let attachment_id = if on_postgres() {
        "(data::jsonb) -> 'attachment' ->> 'id'"
    } else {
        "json_extract(data, '$.attachment.id')"
    };
    sql_value(
        &server.dir,
        &format!(
            "SELECT count(*) FROM attachments WHERE id NOT IN (
                 SELECT {attachment_id} FROM records
                 WHERE kind = 'canned_reply' AND {attachment_id} IS NOT NULL)"
        ),
    )
    .parse()
    .expect("a count")
}

fn messages(changes: &[homedesk_protocol::Change]) -> Vec<Message> {
    changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Message(m)) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

// ---------- tests ----------

#[tokio::test]
async fn a_photo_is_stored_upright_without_its_location_once_with_a_small_jpeg_thumbnail() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let original = jpeg_of(&detailed(1200, 800), Some(exif_with_location()));
    assert!(
        contains(&original, &LATITUDE),
        "the test photo has a location"
    );

    let photo = stored(&server, &token, original.clone()).await;
    assert_eq!(photo.media_type, "image/jpeg");
    assert_eq!(
        (photo.width, photo.height),
        (800, 1200),
        "the EXIF orientation (turn 90°) is applied before the EXIF is dropped"
    );

    let path = format!("/v1/attachments/{}", photo.id);
    let (status, headers, image) = fetch(&server, &token, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert_eq!(
        header(&headers, "cache-control"),
        "private, max-age=31536000, immutable"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "etag"), format!("\"{}\"", photo.id));
    assert_eq!(
        image.len(),
        photo.bytes as usize,
        "the record gives the size"
    );
    assert_eq!(
        hex_sha256(&image),
        photo.id,
        "the id is the SHA-256 of the stored bytes"
    );
    assert!(
        !contains(&image, &LATITUDE),
        "the location is not in the stored bytes"
    );
    assert!(!contains(&image, b"Exif"), "no EXIF block at all is stored");
    let mut decoder =
        image::codecs::jpeg::JpegDecoder::new(Cursor::new(&image)).expect("a readable JPEG");
    assert_eq!(decoder.exif_metadata().expect("readable"), None);

    let (status, headers, _) =
        fetch(&server, &token, &path, Some(&format!("\"{}\"", photo.id))).await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "a cached copy is confirmed, not sent again"
    );
    assert_eq!(header(&headers, "etag"), format!("\"{}\"", photo.id));

    let compressed = raw_client(&server.dir.join("tls").join("ca.pem"))
        .get(format!("{}{path}", server.url))
        .bearer_auth(&token)
        .header("Accept-Encoding", "zstd, gzip")
        .send()
        .await
        .expect("request reaches the platform");
    assert_eq!(
        compressed.headers().get("content-encoding"),
        None,
        "a JPEG is not compressed again on the way"
    );

    let (status, headers, thumbnail) =
        fetch(&server, &token, &format!("{path}/thumbnail"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(
        thumbnail.len() <= MAX_THUMBNAIL_BYTES,
        "a thumbnail of a detailed photo is at most 30 KB: {} bytes",
        thumbnail.len()
    );
    let small = image::load_from_memory_with_format(&thumbnail, image::ImageFormat::Jpeg)
        .expect("the thumbnail is a JPEG");
    assert_eq!(
        (small.width(), small.height()),
        (213, 320),
        "upright, long side 320 px"
    );

    // The same photo again: the same record, stored once.
    let (status, again) = upload(&server, Some(&token), original).await;
    assert_eq!(status, StatusCode::OK, "a repeat is not new: {again}");
    assert_eq!(
        serde_json::from_value::<Attachment>(again).expect("an Attachment"),
        photo
    );
    assert_eq!(stored_photos(&server), 1, "the same photo is stored once");

    // A channel adapter may upload too (a customer's photo).
    let (status, _) = upload(
        &server,
        Some(&server.ingress_token()),
        jpeg_of(&detailed(64, 48), None),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(stored_photos(&server), 2);
}

#[tokio::test]
async fn png_and_webp_are_accepted_and_keep_their_type_without_their_metadata() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let png = png_with_text();
    assert!(contains(&png, b"secret-farm-location"));
    let photo = stored(&server, &token, png).await;
    assert_eq!(photo.media_type, "image/png");
    assert_eq!((photo.width, photo.height), (300, 200));
    let (status, headers, image) = fetch(
        &server,
        &token,
        &format!("/v1/attachments/{}", photo.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert!(
        !contains(&image, b"secret-farm-location"),
        "text chunks are not stored"
    );
    let back = image::load_from_memory_with_format(&image, image::ImageFormat::Png).expect("a PNG");
    assert!(back.color().has_alpha(), "a PNG keeps its transparency");
    let (_, headers, thumbnail) = fetch(
        &server,
        &token,
        &format!("/v1/attachments/{}/thumbnail", photo.id),
        None,
    )
    .await;
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    image::load_from_memory_with_format(&thumbnail, image::ImageFormat::Jpeg)
        .expect("a PNG's thumbnail is a JPEG too");

    let webp = stored(&server, &token, webp_of(120, 90)).await;
    assert_eq!(webp.media_type, "image/webp");
    assert_eq!((webp.width, webp.height), (120, 90));
    let (_, headers, image) = fetch(
        &server,
        &token,
        &format!("/v1/attachments/{}", webp.id),
        None,
    )
    .await;
    assert_eq!(header(&headers, "content-type"), "image/webp");
    image::load_from_memory_with_format(&image, image::ImageFormat::WebP).expect("a WebP");
    assert_eq!(stored_photos(&server), 2);
}

#[tokio::test]
async fn each_bad_file_is_refused_with_its_own_code_and_nothing_is_stored() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;

    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(4096, 0x90);
    let whole = jpeg_of(&detailed(400, 300), None);
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut just_over = vec![0xFF, 0xD8, 0xFF, 0xE0];
    just_over.resize(MAX_ATTACHMENT_BYTES + 1, 0x42);
    let mut far_over = just_over.clone();
    far_over.resize(8 * 1024 * 1024, 0x42);

    let cases: [(&str, Vec<u8>, StatusCode, &str); 6] = [
        (
            "a program renamed photo.jpg",
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
            "a PNG claiming 30000×30000 pixels",
            png_bomb_header(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_many_pixels",
        ),
        (
            "an empty file",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "empty_attachment",
        ),
        (
            "a file one byte over 5 MB",
            just_over,
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
        ),
        (
            "a file of 8 MB",
            far_over,
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let (got, body) = upload(&server, Some(&token), bytes).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: a message for people"
        );
    }
    assert_eq!(stored_photos(&server), 0, "no bad file left anything");

    let (status, body) = upload(&server, None, jpeg_of(&detailed(32, 32), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A big upload with an expired or missing token still hears why (its
    // body is read, not reset mid-send), so a workstation can refresh.
    let (status, body) = upload(&server, None, vec![0xFF; 4 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = upload(
        &server,
        Some("not-a-token"),
        jpeg_of(&detailed(32, 32), None),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(stored_photos(&server), 0);

    for id in [
        "ab".repeat(32),
        format!("local-{}", "ab".repeat(32)),
        "../platform.db".into(),
    ] {
        let (status, _, body) =
            fetch(&server, &token, &format!("/v1/attachments/{id}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        let body: Value = serde_json::from_slice(&body).expect("an error body");
        assert_eq!(body["code"], "not_found");
    }
    let (status, body) = server
        .get(&format!("/v1/attachments/{}", "ab".repeat(32)), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "reading needs an agent: {body}"
    );
}

/// docs/openapi.yaml lists `Homedesk-Link` (ok or degraded) for the upload,
/// which takes an agent's token or an adapter's secret: a malformed value is
/// refused whoever sends it (Schemathesis found an adapter's accepted), and
/// nothing is stored.
#[tokio::test]
async fn a_malformed_link_header_is_refused_from_an_adapter_as_from_an_agent() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1001").await.access_token;
    let adapter = server.ingress_token();
    let photo = jpeg_of(&detailed(48, 32), None);
    for (who, token) in [("an agent", &agent), ("an adapter", &adapter)] {
        let response = server
            .client
            .post(format!("{}/v1/attachments", server.url))
            .bearer_auth(token)
            .header("Homedesk-Link", "Degraded")
            .body(photo.clone())
            .send()
            .await
            .expect("upload reaches the platform");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{who}: Homedesk-Link is exactly ok or degraded: {body}"
        );
    }
    assert_eq!(stored_photos(&server), 0, "a refused upload stores nothing");
    for (who, token) in [("an agent", &agent), ("an adapter", &adapter)] {
        let response = server
            .client
            .post(format!("{}/v1/attachments", server.url))
            .bearer_auth(token)
            .header("Homedesk-Link", "ok")
            .body(photo.clone())
            .send()
            .await
            .expect("upload reaches the platform");
        assert!(
            response.status().is_success(),
            "{who}: a well-formed statement is taken ({})",
            response.status()
        );
    }
}

#[tokio::test]
async fn a_reply_carries_the_platforms_photo_record_and_an_unknown_photo_is_refused() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let conversation = server
        .customer_writes(
            "chat",
            "photo-reply-1",
            "cust-photo",
            "presales",
            "有尺码表吗？",
        )
        .await;
    let claimed = server
        .act(&token, json!([{"key": "key-claim-photo", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]))
        .await;
    assert_eq!(claimed[0]["status"], "applied", "{claimed:?}");
    let chart = stored(&server, &token, png_with_text()).await;

    // The workstation's copy of the record is wrong; the platform's wins.
    let claimed_record =
        json!({"id": chart.id, "media_type": "image/jpeg", "bytes": 1, "width": 1, "height": 1});
    let unknown = json!({"id": "cd".repeat(32), "media_type": "image/jpeg", "bytes": 1, "width": 1, "height": 1});
    let local = json!({"id": format!("local-{}", "ef".repeat(32)), "media_type": "image/jpeg", "bytes": 1, "width": 1, "height": 1});
    let results = server
        .act(&token, json!([
            {"key": "key-reply-photo-1", "created_at": 2, "action": {"type": "reply", "conversation_id": conversation, "message_id": "m-photo-1", "body": "", "attachments": [claimed_record]}},
            {"key": "key-reply-photo-2", "created_at": 3, "action": {"type": "reply", "conversation_id": conversation, "message_id": "m-photo-2", "body": "看这张", "attachments": [unknown]}},
            {"key": "key-reply-photo-3", "created_at": 4, "action": {"type": "reply", "conversation_id": conversation, "message_id": "m-photo-3", "body": "看这张", "attachments": [local]}}
        ]))
        .await;
    assert_eq!(
        results[0]["status"], "applied",
        "a photo alone is a reply: {results:?}"
    );
    for refused in &results[1..] {
        assert_eq!(refused["status"], "rejected", "{refused}");
        assert_eq!(refused["code"], "unknown_attachment", "{refused}");
    }

    let (changes, _) = server.pull_all(&token, None).await;
    let messages = messages(&changes);
    let reply = messages
        .iter()
        .find(|m| m.id == "m-photo-1")
        .expect("the photo reply is in the change feed");
    assert_eq!(
        reply.attachments,
        vec![chart.clone()],
        "the message carries the platform's record"
    );
    assert!(
        !messages
            .iter()
            .any(|m| m.id == "m-photo-2" || m.id == "m-photo-3"),
        "a refused reply stored no message"
    );
}

#[tokio::test]
async fn a_customer_photo_arrives_through_ingress_and_an_unknown_one_is_refused() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let adapter = server.ingress_token();
    let (status, body) = upload(&server, Some(&adapter), jpeg_of(&detailed(640, 480), None)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let peaches: Attachment = serde_json::from_value(body).expect("an Attachment");

    let mut message = ingress_message("photo-in-1", "cust-peach", "aftersales", "");
    message["attachments"] = json!([peaches.id]);
    let (status, accepted) = server.ingress("chat", &message).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a photo alone is a message: {accepted}"
    );

    let mut unknown = ingress_message("photo-in-2", "cust-ghost", "aftersales", "看图");
    unknown["attachments"] = json!(["cd".repeat(32)]);
    let (status, body) = server.ingress("chat", &unknown).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "a well-formed id that names no photo is 404, like an unknown queue \
         (docs/openapi.yaml: a valid request is 2xx, 401, 403, 404 or 409): {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("attachments")),
        "the message names the field: {body}"
    );
    let mut too_many = ingress_message("photo-in-3", "cust-ghost", "aftersales", "看图");
    too_many["attachments"] = json!(vec![peaches.id.clone(); 5]);
    let (status, _) = server.ingress("chat", &too_many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "at most 4 photos");
    let (status, _) = server
        .ingress(
            "chat",
            &ingress_message("photo-in-4", "cust-ghost", "aftersales", " "),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no text and no photo");

    let (changes, _) = server.pull_all(&token, None).await;
    let customer_message = messages(&changes)
        .into_iter()
        .find(|m| m.id == accepted["message_id"].as_str().unwrap_or_default())
        .expect("the customer's message reaches the agent");
    assert_eq!(customer_message.attachments, vec![peaches.clone()]);
    assert!(
        !changes.iter().any(|c| matches!(&c.body,
            ChangeBody::Upsert(Record::Conversation(conv)) if conv.customer_id == "cust-ghost")),
        "a refused message opened no conversation"
    );
    let (status, _, thumbnail) = fetch(
        &server,
        &token,
        &format!("/v1/attachments/{}/thumbnail", peaches.id),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the agent sees the customer's photo"
    );
    assert!(thumbnail.len() <= MAX_THUMBNAIL_BYTES);
}
