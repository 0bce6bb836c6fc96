//! Reading JSON from a peer with errors that name the field.
//!
//! serde_json alone says "invalid type: string, expected u64 at line 1
//! column 40"; [`decode`] says `actions[0].created_at: invalid type: …`, which
//! is what a person fixing a client needs.
//!
//! A whole number written with a fraction or an exponent (`5.0`, `1e3`) is
//! a JSON Schema `integer`, and clients whose numbers are floats (Python,
//! spreadsheets) send them so; serde refuses them for integer fields, so a
//! body refused for its shape is read again with such literals rewritten as
//! the integers they denote (exactly, on their digits). Bodies without them
//! are read once, exactly as before.

/// A body that could not be read as the expected message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON at all (or truncated).
    #[error("the body is not valid JSON: {0}")]
    Syntax(String),
    /// JSON of the wrong shape; `path` names the field (`.` for the whole body).
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
}

/// Parses `bytes` as a `T`.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let refused = match decode_exact(bytes) {
        Err(shape @ DecodeError::Shape { .. }) => shape,
        other => return other,
    };
    match integral_numbers_as_integers(bytes) {
        Some(rewritten) => decode_exact(&rewritten),
        None => Err(refused),
    }
}

fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            DecodeError::Syntax(inner.to_string())
        } else {
            DecodeError::Shape {
                path,
                message: strip_position(&inner.to_string()),
            }
        }
    })?;
    de.end().map_err(|e| DecodeError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Integers longer than this stay as written: no integer field holds one.
const MAX_INTEGER_DIGITS: usize = 20;

/// The JSON text with every number literal that has a fraction or an
/// exponent but denotes a whole number (`5.0`, `1e3`, `-2.50e1`) written as
/// that integer, computed on the decimal digits (no float rounding); `None`
/// when there is no such literal. Strings are copied as they are.
fn integral_numbers_as_integers(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            // Copy the string through its closing quote, skipping escapes.
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.extend_from_slice(&bytes[start..i]);
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let literal = &bytes[start..i];
            match whole_number(literal) {
                Some(integer) => {
                    out.extend_from_slice(integer.as_bytes());
                    changed = true;
                }
                None => out.extend_from_slice(literal),
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed.then_some(out)
}

/// `literal` as an integer, if it has a fraction or exponent and its value
/// is a whole number of at most [`MAX_INTEGER_DIGITS`] digits.
fn whole_number(literal: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(literal).ok()?;
    if !text.contains(['.', 'e', 'E']) {
        return None;
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // value = digits * 10^(exponent - fraction.len())
    let digits = format!("{whole}{fraction}");
    if digits.bytes().all(|b| b == b'0') {
        return Some("0".to_owned());
    }
    let shift = exponent.checked_sub(i64::try_from(fraction.len()).ok()?)?;
    let integer = if shift >= 0 {
        if usize::try_from(shift).ok()? > MAX_INTEGER_DIGITS {
            return None;
        }
        let zeros = "0".repeat(usize::try_from(shift).ok()?);
        format!("{digits}{zeros}")
    } else {
        let cut = usize::try_from(shift.unsigned_abs()).ok()?;
        let keep = digits.len().saturating_sub(cut);
        let (kept, dropped) = digits.split_at(keep);
        if !dropped.bytes().all(|b| b == b'0') {
            return None;
        }
        kept.to_owned()
    };
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    if integer.len() > MAX_INTEGER_DIGITS {
        return None;
    }
    Some(if negative && integer != "0" {
        format!("-{integer}")
    } else {
        integer.to_owned()
    })
}

/// serde_json appends " at line L column C"; with a path that is noise.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
