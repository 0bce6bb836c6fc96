//! `make bench` — what a photo costs the platform and a workstation.
//!
//! Starts the real server (release build) on loopback TLS, uploads photos
//! made here (12-megapixel camera-like JPEGs and a phone screenshot PNG,
//! each a new photo so nothing is answered as a repeat) and measures:
//! - time per upload (check, decode, re-encode, thumbnail, store), median,
//!   against the baseline of decoding the same file in this process;
//! - the thumbnail's size, median and largest, against the 30 KB cap;
//! - bytes a workstation downloads for a conversation with 5 photos when it
//!   fetches thumbnails only, against fetching every full photo.
//!
//! Prints a Markdown table and writes it to `target/bench/photos.md`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use homedesk_protocol::{Attachment, MAX_THUMBNAIL_BYTES};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};
use support::Server;

const PHOTOS: u32 = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A camera-like scene: smooth light, edges, and sensor noise, different
/// for each `seed`.
fn scene(width: u32, height: u32, seed: u32) -> RgbImage {
    let mut noise = 0x9e37_79b9_u32 ^ seed.wrapping_mul(0x85eb_ca6b);
    RgbImage::from_fn(width, height, |x, y| {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let jitter = (noise % 9) as f32 - 4.0;
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        let wave = ((fx * 23.0 + seed as f32).sin() * (fy * 17.0).cos()) * 40.0;
        let crate_edge = if ((x / 180) + (y / 140) + seed).is_multiple_of(3) {
            35.0
        } else {
            0.0
        };
        let channel = |base: f32| (base + wave + crate_edge + jitter).clamp(0.0, 255.0) as u8;
        image::Rgb([
            channel(190.0 * (1.0 - fy) + 40.0),
            channel(120.0 + 60.0 * fx),
            channel(70.0 + 50.0 * fy),
        ])
    })
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 92)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encodes");
    out
}

/// A phone screenshot: flat panels and text-like stripes.
fn screenshot(seed: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(1080, 2340, |x, y| {
        let row = y / 48;
        let text = (x / 9 + row * 7 + seed) % 5 < 2 && y % 48 < 22 && x > 60 && x < 1020;
        if text {
            image::Rgb([30, 30, 30])
        } else if row.is_multiple_of(6) {
            image::Rgb([7, 193, 96])
        } else {
            image::Rgb([245, 245, 245])
        }
    });
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(image.as_raw(), 1080, 2340, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    out
}

async fn upload(server: &Server, token: &str, bytes: Vec<u8>) -> Attachment {
    let response = server
        .client
        .post(format!("{}/v1/attachments", server.url))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    response.json().await.expect("an Attachment")
}

async fn download(server: &Server, token: &str, path: &str) -> usize {
    server
        .client
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body")
        .len()
}

#[tokio::main]
async fn main() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;

    let mut decode = Vec::new();
    let mut upload_ms = Vec::new();
    let mut upload_sizes = Vec::new();
    let mut thumbnails = Vec::new();
    let mut full = Vec::new();
    let mut photos = Vec::new();
    for seed in 0..PHOTOS {
        let bytes = jpeg(&scene(4000, 3000, seed));
        upload_sizes.push(bytes.len() as f64);
        let started = Instant::now();
        let decoded = image::load_from_memory(&bytes).expect("decodes");
        decode.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(decoded);
        let started = Instant::now();
        let photo = upload(&server, &token, bytes).await;
        upload_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        photos.push(photo);
    }
    for photo in &photos {
        let path = format!("/v1/attachments/{}", photo.id);
        thumbnails.push(download(&server, &token, &format!("{path}/thumbnail")).await as f64);
        full.push(download(&server, &token, &path).await as f64);
    }
    let mut screenshot_ms = Vec::new();
    let mut screenshot_thumbs = Vec::new();
    for seed in 0..PHOTOS {
        let bytes = screenshot(seed);
        let started = Instant::now();
        let shot = upload(&server, &token, bytes).await;
        screenshot_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        screenshot_thumbs.push(
            download(
                &server,
                &token,
                &format!("/v1/attachments/{}/thumbnail", shot.id),
            )
            .await as f64,
        );
    }

    let kib = |b: f64| b / 1024.0;
    let decode_median = median(decode.clone());
    let upload_median = median(upload_ms.clone());
    let largest_thumb = thumbnails
        .iter()
        .chain(&screenshot_thumbs)
        .copied()
        .fold(0.0, f64::max);
    let thumbs_total: f64 = thumbnails.iter().sum();
    let full_total: f64 = full.iter().sum();
    let table = format!(
        "| measure | median | ratio |\n|---|---:|---:|\n\
         | baseline: decoding a 12 MP JPEG ({:.0} KiB) in the client process | {:.0} ms | 1.00 |\n\
         | upload of a 12 MP JPEG: checked, decoded, re-encoded, thumbnail, stored | {:.0} ms | {:.2} |\n\
         | upload of a 1080×2340 screenshot PNG | {:.0} ms | {:.2} |\n\
         | thumbnail of a 12 MP photo (cap {:.0} KiB) | {:.1} KiB | {:.2} of the cap |\n\
         | largest thumbnail of the {} uploads | {:.1} KiB | {:.2} of the cap |\n\
         | a conversation with {PHOTOS} photos: full photos downloaded | {:.0} KiB | 1.00 |\n\
         | the same, thumbnails only (until one is opened) | {:.0} KiB | {:.3} |\n",
        kib(median(upload_sizes)),
        decode_median,
        upload_median,
        upload_median / decode_median,
        median(screenshot_ms.clone()),
        median(screenshot_ms) / decode_median,
        kib(MAX_THUMBNAIL_BYTES as f64),
        kib(median(thumbnails.clone())),
        median(thumbnails.clone()) / MAX_THUMBNAIL_BYTES as f64,
        2 * PHOTOS,
        kib(largest_thumb),
        largest_thumb / MAX_THUMBNAIL_BYTES as f64,
        kib(full_total),
        kib(thumbs_total),
        thumbs_total / full_total,
    );
    println!("\n{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(dir.join("photos.md"), &table).expect("write the table");
}
