//! From uploaded bytes to a photo the platform keeps, with no database in
//! sight: pure work on bytes, so it runs outside any transaction.
//!
//! The order is the defence. Size first (nothing over
//! [`MAX_ATTACHMENT_BYTES`] is parsed), then the real type by its first
//! bytes (a renamed program is not an image, whatever its name says), then
//! the dimensions from the header alone, refused over
//! [`MAX_ATTACHMENT_PIXELS`] *before* any pixel is decoded (a few kilobytes
//! of PNG can claim 30000×30000 pixels and unpack into gigabytes), and the
//! decoder runs with a memory limit as a second fence. Only then is the
//! image decoded, turned upright (EXIF orientation), and encoded again from
//! its pixels alone, which is what drops every piece of metadata (EXIF with
//! its GPS location, text chunks, colour profiles). The encoders are
//! deterministic, so the same upload always gives the same stored bytes,
//! and so the same content address.

use std::io::Cursor;

use homedesk_protocol::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_PIXELS, MAX_THUMBNAIL_BYTES};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};

/// JPEG quality of a re-encoded photo: no visible loss at the sizes an
/// agent looks at, a fraction of the bytes of 95+.
pub const PHOTO_QUALITY: u8 = 85;

/// Longest side of a thumbnail, in pixels (a thread shows them smaller).
pub const THUMBNAIL_SIDE: u32 = 320;

/// Most memory one decode may take: a 40-megapixel image at 16 bits per
/// channel with alpha. The pixel check refuses anything bigger first; this
/// is the decoder's own fence.
pub const MAX_DECODE_BYTES: u64 = MAX_ATTACHMENT_PIXELS * 8;

/// The image types the platform keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    WebP,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::WebP => "image/webp",
        }
    }

    fn name(self) -> &'static str {
        match self {
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
            MediaType::WebP => "WebP",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            MediaType::Jpeg => ImageFormat::Jpeg,
            MediaType::Png => ImageFormat::Png,
            MediaType::WebP => ImageFormat::WebP,
        }
    }
}

/// The real type of `bytes` by their signature, whatever the file was called.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(MediaType::WebP)
    } else {
        None
    }
}

/// Why an upload is not a photo the platform keeps. The words are for
/// people; callers branch on the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; a photo may be at most {MAX_ATTACHMENT_BYTES} bytes (5 MB)")]
    TooLarge { size: usize },
    #[error("the file is not a JPEG, PNG or WebP image (judged by its content, not its name)")]
    NotAnImage,
    #[error(
        "the image is {width}×{height} pixels; a photo may have at most {MAX_ATTACHMENT_PIXELS} (40 megapixels)"
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("the {format} image cannot be read (truncated or damaged): {detail}")]
    Unreadable {
        format: &'static str,
        detail: String,
    },
}

/// A checked, re-encoded photo and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub media_type: MediaType,
    /// The bytes to store: metadata-free, at most [`MAX_ATTACHMENT_BYTES`].
    pub image: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// A JPEG of at most [`MAX_THUMBNAIL_BYTES`], long side at most
    /// [`THUMBNAIL_SIDE`].
    pub thumbnail: Vec<u8>,
}

/// Checks `input` and re-encodes it (see the module documentation).
pub fn reencode(input: &[u8]) -> Result<Photo, Refused> {
    if input.is_empty() {
        return Err(Refused::Empty);
    }
    if input.len() > MAX_ATTACHMENT_BYTES {
        return Err(Refused::TooLarge { size: input.len() });
    }
    let kind = sniff(input).ok_or(Refused::NotAnImage)?;
    let unreadable = |detail: String| Refused::Unreadable {
        format: kind.name(),
        detail,
    };
    if kind == MediaType::Jpeg && !jpeg_has_end(input) {
        // The JPEG decoder fills a cut-off image with grey rather than fail.
        return Err(unreadable(
            "the file ends before the image does (no end-of-image marker)".into(),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(input), kind.format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    // Reads the header only: no pixel is decoded yet.
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| unreadable(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_ATTACHMENT_PIXELS {
        return Err(Refused::TooManyPixels { width, height });
    }
    if width == 0 || height == 0 {
        return Err(unreadable("the image has no pixels".into()));
    }
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(Refused::TooManyPixels { width, height });
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| unreadable(e.to_string()))?;
    image.apply_orientation(orientation);

    let (media_type, stored) = encode_photo(&image, kind).map_err(|e| unreadable(e.to_string()))?;
    let thumbnail = thumbnail(&image).map_err(|e| unreadable(e.to_string()))?;
    Ok(Photo {
        media_type,
        image: stored,
        width: image.width(),
        height: image.height(),
        thumbnail,
    })
}

/// Whether a JPEG has its end-of-image marker after the start of its first
/// scan. Segments before the scan are skipped by their lengths, so the end
/// marker of a thumbnail embedded in the EXIF block does not count; inside
/// the scan every 0xFF byte is followed by 0x00 or a restart marker, so
/// 0xFF 0xD9 there is the real end. Bytes after the end are allowed (some
/// cameras append data).
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        if marker == 0xDA {
            break; // start of scan
        }
        let (Some(&hi), Some(&lo)) = (bytes.get(at + 2), bytes.get(at + 3)) else {
            return false;
        };
        at += 2 + usize::from(u16::from_be_bytes([hi, lo]));
    }
    bytes[at..].windows(2).any(|pair| pair == [0xFF, 0xD9])
}

/// The bytes to store. A JPEG stays a JPEG. A PNG or WebP is kept lossless
/// in its own type (screenshots and size charts stay sharp) unless that
/// comes out over [`MAX_ATTACHMENT_BYTES`]; then it becomes a JPEG.
fn encode_photo(image: &DynamicImage, kind: MediaType) -> Result<(MediaType, Vec<u8>), ImageError> {
    let lossless = match kind {
        MediaType::Jpeg => None,
        MediaType::Png => {
            let mut out = Vec::new();
            image.write_with_encoder(PngEncoder::new(&mut out))?;
            Some(out)
        }
        MediaType::WebP => {
            let mut out = Vec::new();
            let eight_bit = match image {
                DynamicImage::ImageLuma8(_)
                | DynamicImage::ImageLumaA8(_)
                | DynamicImage::ImageRgb8(_)
                | DynamicImage::ImageRgba8(_) => image.clone(),
                _ if image.color().has_alpha() => image.to_rgba8().into(),
                _ => image.to_rgb8().into(),
            };
            eight_bit.write_with_encoder(WebPEncoder::new_lossless(&mut out))?;
            Some(out)
        }
    };
    if let Some(out) = lossless.filter(|out| out.len() <= MAX_ATTACHMENT_BYTES) {
        return Ok((kind, out));
    }
    let rgb = flatten(image);
    for quality in [PHOTO_QUALITY, 75, 65, 55, 45] {
        let out = jpeg(&rgb, quality)?;
        if out.len() <= MAX_ATTACHMENT_BYTES {
            return Ok((MediaType::Jpeg, out));
        }
    }
    // 40 megapixels at quality 45 fit in 5 MB unless the picture is noise;
    // a smaller copy always fits.
    let half = DynamicImage::ImageRgb8(rgb)
        .thumbnail((image.width() / 2).max(1), (image.height() / 2).max(1));
    encode_photo(&half, MediaType::Jpeg)
}

/// A JPEG of at most [`MAX_THUMBNAIL_BYTES`]: the image scaled to fit
/// [`THUMBNAIL_SIDE`], at the best quality that fits, smaller if none does.
pub fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut side = THUMBNAIL_SIDE;
    loop {
        let small = if image.width().max(image.height()) > side {
            image.thumbnail(side, side)
        } else {
            image.clone()
        };
        let rgb = flatten(&small);
        let mut smallest = Vec::new();
        for quality in [80, 70, 60, 50, 40] {
            smallest = jpeg(&rgb, quality)?;
            if smallest.len() <= MAX_THUMBNAIL_BYTES {
                return Ok(smallest);
            }
        }
        if side <= 16 {
            return Ok(smallest);
        }
        side = side * 3 / 4;
    }
}

/// RGB pixels, any transparency laid on white (a JPEG has no alpha, and
/// transparent pixels are often black underneath).
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let c = u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a));
            u8::try_from(c / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn jpeg(rgb: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_first_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(MediaType::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaType::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None, "a WAV is RIFF too");
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
        assert_eq!(sniff(b"GIF89a"), None, "GIF is not accepted");
    }

    #[test]
    fn a_jpeg_cut_short_has_no_end_and_an_embedded_thumbnail_end_does_not_count() {
        let mut whole = Vec::new();
        RgbImage::from_pixel(32, 32, image::Rgb([200, 10, 10]))
            .write_with_encoder(JpegEncoder::new_with_quality(&mut whole, 80))
            .expect("encodes");
        assert!(jpeg_has_end(&whole));
        assert!(!jpeg_has_end(&whole[..whole.len() - 2]));
        // An APP1 block that carries its own SOI…EOI, then the image cut short.
        let mut app1 = vec![0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xD8, 0xFF, 0xD9];
        app1.extend_from_slice(&[0xAA, 0xBB]);
        let cut = [&whole[..2], &app1[..], &whole[2..whole.len() - 2]].concat();
        assert!(!jpeg_has_end(&cut), "the thumbnail's end marker is skipped");
    }

    #[test]
    fn a_thumbnail_of_noise_still_fits() {
        let mut seed = 7u32;
        let noise = RgbImage::from_fn(900, 700, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let [a, b, c, _] = seed.to_le_bytes();
            image::Rgb([a, b, c])
        });
        let thumb = thumbnail(&DynamicImage::ImageRgb8(noise)).expect("thumbnail");
        assert!(thumb.len() <= MAX_THUMBNAIL_BYTES, "{} bytes", thumb.len());
        let back = image::load_from_memory(&thumb).expect("a JPEG");
        assert!(back.width().max(back.height()) <= THUMBNAIL_SIDE);
    }
}
