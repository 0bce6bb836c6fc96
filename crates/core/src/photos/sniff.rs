//! What an image file really is, from its first bytes: the type by its
//! magic bytes (never the file name) and its size in pixels from the
//! header, without decoding it. Enough for the workstation to refuse a
//! renamed executable, an empty file or a 30000×30000 PNG before it is
//! queued; the platform decodes and re-encodes every photo anyway.

/// A JPEG, PNG or WebP file's type and size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub media_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The image type by the magic bytes, or `None`.
pub fn media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The type and pixel size, or `None` when the bytes are not a JPEG, PNG
/// or WebP whose header can be read.
pub fn inspect(bytes: &[u8]) -> Option<ImageInfo> {
    let media_type = media_type(bytes)?;
    let (width, height) = match media_type {
        "image/jpeg" => jpeg_size(bytes)?,
        "image/png" => png_size(bytes)?,
        _ => webp_size(bytes)?,
    };
    (width > 0 && height > 0).then_some(ImageInfo {
        media_type,
        width,
        height,
    })
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(b[0]) << 8 | u32::from(b[1]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    // Signature (8), then the IHDR chunk: length (4), type (4), width, height.
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(bytes, 16)?, be32(bytes, 20)?))
}

fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => at += 1,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => at += 2,
            // Start of scan or end of image before any frame header.
            0xD9 | 0xDA => return None,
            // Start of frame (not DHT, JPG or DAC): precision, height, width.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(bytes, at + 7)?, be16(bytes, at + 5)?));
            }
            _ => {
                let length = be16(bytes, at + 2)? as usize;
                if length < 2 {
                    return None;
                }
                at += 2 + length;
            }
        }
    }
}

fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3 bytes) and start code 9d 01 2a, then 14-bit sizes.
            if bytes.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            let w = u32::from(u16::from_le_bytes([*bytes.get(26)?, *bytes.get(27)?]) & 0x3fff);
            let h = u32::from(u16::from_le_bytes([*bytes.get(28)?, *bytes.get(29)?]) & 0x3fff);
            Some((w, h))
        }
        b"VP8L" => {
            if *bytes.get(20)? != 0x2f {
                return None;
            }
            let b = bytes.get(21..25)?;
            let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The first bytes of a PNG of `width`×`height` (enough for its header).
    pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    /// The first bytes of a baseline JPEG of `width`×`height`, with an APP0
    /// segment before its frame header.
    pub(crate) fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes
    }

    #[test]
    fn the_type_and_size_come_from_the_header() {
        assert_eq!(
            inspect(&png_header(640, 480)),
            Some(ImageInfo {
                media_type: "image/png",
                width: 640,
                height: 480
            })
        );
        assert_eq!(
            inspect(&jpeg_header(1024, 768)),
            Some(ImageInfo {
                media_type: "image/jpeg",
                width: 1024,
                height: 768
            })
        );
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x7f, 0x02, 0x00, 0xdf, 0x01, 0x00]);
        assert_eq!(
            inspect(&vp8x),
            Some(ImageInfo {
                media_type: "image/webp",
                width: 640,
                height: 480
            })
        );
        let mut lossless = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits: u32 = (100 - 1) | ((50 - 1) << 14);
        lossless.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(
            inspect(&lossless).map(|i| (i.width, i.height)),
            Some((100, 50))
        );
    }

    #[test]
    fn a_renamed_executable_an_empty_file_and_a_cut_header_are_not_images() {
        assert_eq!(inspect(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(inspect(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(inspect(b""), None);
        assert_eq!(inspect(&png_header(640, 480)[..18]), None, "cut in IHDR");
        assert_eq!(inspect(&jpeg_header(10, 10)[..20]), None, "cut before SOF");
        assert_eq!(inspect(&png_header(0, 480)), None, "no pixels");
    }
}
