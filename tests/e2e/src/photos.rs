//! Photo files for tests, good and bad, written to a folder as a customer
//! or an agent would pick them: a real JPEG, and each file the platform
//! must refuse (a program renamed `.jpg`, a JPEG cut in half, a PNG whose
//! header claims 30000×30000 pixels, an empty file, a file over 5 MB).

use std::path::PathBuf;

use image::ImageEncoder;

/// The platform's cap on a photo, 5 MB (`homedesk_protocol::MAX_ATTACHMENT_BYTES`).
const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// A real JPEG with detail (a gradient with a pattern), `width`×`height`.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let r = u8::try_from(x * 255 / width.max(1)).unwrap_or(255);
        let g = u8::try_from(y * 255 / height.max(1)).unwrap_or(255);
        let b = if (x / 16 + y / 16) % 2 == 0 { 40 } else { 200 };
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("a JPEG encodes");
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    let mut crc = 0xFFFF_FFFFu32;
    for byte in &crc_input {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut chunk = u32::try_from(data.len())
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    chunk.extend_from_slice(&crc_input);
    chunk.extend_from_slice(&(!crc).to_be_bytes());
    chunk
}

/// A few hundred bytes of PNG whose header claims 30000×30000 pixels (it
/// would unpack into 2.7 GB).
pub fn huge_png() -> Vec<u8> {
    let mut ihdr = 30_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &ihdr),
        &png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        &png_chunk(b"IEND", &[]),
    ]
    .concat()
}

/// Good and bad photo files in a folder of their own.
pub struct PhotoFiles {
    dir: tempfile::TempDir,
}

impl PhotoFiles {
    pub fn new() -> anyhow::Result<PhotoFiles> {
        let files = PhotoFiles {
            dir: tempfile::tempdir()?,
        };
        let whole = jpeg(640, 480);
        let mut program = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
        program.resize(4096, 0x90);
        let mut over = vec![0xFF, 0xD8, 0xFF, 0xE0];
        over.resize(MAX_PHOTO_BYTES + 1, 0x42);
        for (name, bytes) in [
            ("peaches.jpg", whole.clone()),
            ("size-chart.jpg", jpeg(480, 320)),
            ("program.jpg", program),
            ("cut-in-half.jpg", whole[..whole.len() / 2].to_vec()),
            ("huge.png", huge_png()),
            ("empty.jpg", Vec::new()),
            ("too-big.jpg", over),
        ] {
            std::fs::write(files.dir.path().join(name), bytes)?;
        }
        Ok(files)
    }

    /// The file `name` (one of those listed in [`PhotoFiles::new`]).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
