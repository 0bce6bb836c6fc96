//! The `homedesk-zstd1` content coding: zstd with a dictionary both sides
//! already hold, so that the small JSON bodies of an agent's day (one
//! action, one page of two changes) cost their content on a metered link,
//! not their keys (docs/decisions/0043-dictionary-coding.md).
//!
//! The dictionary of a body is [`DICTIONARY`] followed by a *prefix*:
//! - a request body (workstation → platform) has no prefix;
//! - an answer's prefix is the request body it answers (decoded; empty for a
//!   request without one), so an answer that repeats what the workstation
//!   just sent — the reply it pushed, as the platform stored it — refers to
//!   it instead of sending it again.
//!
//! [`DICTIONARY`] is frozen: both ends of every release must hold the same
//! bytes under the same coding name. A better dictionary is a new file and a
//! new name (`homedesk-zstd2`), offered beside this one.
//!
//! Negotiation is plain HTTP: the workstation lists the coding in
//! `Accept-Encoding`; the platform says it takes request bodies in it with
//! `Accept-Encoding` on its answers (RFC 7694), and the workstation only
//! compresses requests once it has seen that.

/// The coding's name in `Content-Encoding` and `Accept-Encoding`.
pub const DICTIONARY_CODING: &str = "homedesk-zstd1";

/// Protocol JSON of every kind, with placeholder values: the keys, the enum
/// values and the shape of pages, actions, answers and events. Made once
/// from the protocol's records (`docs/decisions/0043-dictionary-coding.md`)
/// and never edited; the most common bodies come last (nearest to the data,
/// cheapest to refer to).
pub const DICTIONARY: &[u8] = include_bytes!("coding/dictionary-1.txt");

/// zstd level: the platform's level for pages.
const LEVEL: i32 = 3;

/// Why a body in `homedesk-zstd1` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CodingError {
    #[error("{DICTIONARY_CODING} body does not decode: {0}")]
    Corrupt(String),
    #[error("{DICTIONARY_CODING} body decodes to more than {limit} bytes")]
    TooLarge { limit: usize },
}

fn dictionary_with(prefix: &[u8]) -> Vec<u8> {
    let mut dictionary = Vec::with_capacity(DICTIONARY.len() + prefix.len());
    dictionary.extend_from_slice(DICTIONARY);
    dictionary.extend_from_slice(prefix);
    dictionary
}

/// `body` in `homedesk-zstd1`, against [`DICTIONARY`] and `prefix`.
pub fn encode(body: &[u8], prefix: &[u8]) -> Vec<u8> {
    let dictionary = dictionary_with(prefix);
    let compressed =
        zstd::bulk::Compressor::with_dictionary(LEVEL, &dictionary).and_then(|mut c| {
            // The frame keeps its size (the reader allocates exactly that) and
            // drops what TLS already gives: a checksum, and the dictionary's id
            // (a raw dictionary has none).
            use zstd::zstd_safe::CParameter;
            c.set_parameter(CParameter::ChecksumFlag(false))?;
            c.set_parameter(CParameter::DictIdFlag(false))?;
            c.set_parameter(CParameter::ContentSizeFlag(true))?;
            c.compress(body)
        });
    // Compressing into memory fails only when memory does.
    compressed.expect("zstd compresses into memory")
}

/// A `homedesk-zstd1` body back to its bytes, refusing one that would be
/// larger than `limit`.
pub fn decode(data: &[u8], prefix: &[u8], limit: usize) -> Result<Vec<u8>, CodingError> {
    let size = zstd::bulk::Decompressor::upper_bound(data)
        .ok_or_else(|| CodingError::Corrupt("no frame with its size".into()))?;
    if size > limit {
        return Err(CodingError::TooLarge { limit });
    }
    let dictionary = dictionary_with(prefix);
    zstd::bulk::Decompressor::with_dictionary(&dictionary)
        .and_then(|mut d| d.decompress(data, size))
        .map_err(|err| CodingError::Corrupt(err.to_string()))
}

/// Whether an `Accept-Encoding` value lists `homedesk-zstd1` (and not with
/// `q=0`).
pub fn accepts_dictionary_coding(accept_encoding: &str) -> bool {
    lists_coding(accept_encoding, DICTIONARY_CODING)
}

/// Whether an `Accept-Encoding` value lists `coding` (any case), and not
/// with `q=0`: `"gzip, zstd;q=0.5"` lists `zstd`, `"zstd;q=0"` does not.
pub fn lists_coding(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|listed| {
        let mut parts = listed.split(';').map(str::trim);
        parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = r#"{"actions":[{"key":"3b1f0c7e-8a3d-4c55-9d1e-0f6e2a7b9c11","created_at":1796420825900,"action":{"type":"reply","conversation_id":"conv-Bk9vyZSRkRO4","message_id":"msg-abc-1","body":"您好，订单已在今天上午发出，预计两到三天送达。","attachments":[]}}]}"#;

    #[test]
    fn the_dictionary_is_frozen() {
        // FNV-1a over the bytes: a changed dictionary under the same name
        // would garble every body between two releases. Make a new file
        // and a new coding name instead.
        let hash = DICTIONARY.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(
            (DICTIONARY.len(), hash),
            (5138, 0x9206e928291763ee_u64),
            "dictionary-1.txt changed"
        );
    }

    #[test]
    fn a_body_comes_back_as_it_was() {
        for prefix in [&b""[..], REPLY.as_bytes()] {
            for body in [&b""[..], b"{}", REPLY.as_bytes(), &[0xff; 5000][..]] {
                let encoded = encode(body, prefix);
                assert_eq!(decode(&encoded, prefix, 1 << 20).unwrap(), body);
            }
        }
    }

    #[test]
    fn protocol_json_is_much_smaller_than_plain_zstd() {
        let plain = zstd::bulk::compress(REPLY.as_bytes(), LEVEL).unwrap().len();
        let coded = encode(REPLY.as_bytes(), b"").len();
        assert!(
            coded * 10 < plain * 8,
            "{coded} B against plain zstd's {plain} B"
        );
        // An answer that repeats the request refers to it.
        let answer = format!(r#"{{"results":[],"changes":{REPLY}}}"#);
        let alone = encode(answer.as_bytes(), b"").len();
        let against_request = encode(answer.as_bytes(), REPLY.as_bytes()).len();
        assert!(
            against_request * 2 < alone,
            "{against_request} B against {alone} B"
        );
    }

    #[test]
    fn bad_bodies_are_refused_not_misread() {
        assert!(matches!(
            decode(b"not zstd", b"", 1024),
            Err(CodingError::Corrupt(_))
        ));
        let big = encode(&[b'a'; 4096], b"");
        assert!(matches!(
            decode(&big, b"", 1024),
            Err(CodingError::TooLarge { limit: 1024 })
        ));
        // The wrong prefix is an error or different bytes, never a panic.
        let encoded = encode(REPLY.as_bytes(), REPLY.as_bytes());
        assert_ne!(
            decode(&encoded, b"", 1 << 20).ok().as_deref(),
            Some(REPLY.as_bytes())
        );
    }

    #[test]
    fn accept_encoding_is_read_like_http() {
        assert!(accepts_dictionary_coding("homedesk-zstd1, zstd, gzip"));
        assert!(accepts_dictionary_coding("gzip, HOMEDESK-ZSTD1;q=0.9"));
        assert!(!accepts_dictionary_coding("homedesk-zstd1;q=0"));
        assert!(!accepts_dictionary_coding("zstd, gzip"));
        assert!(!accepts_dictionary_coding(""));
    }
}
