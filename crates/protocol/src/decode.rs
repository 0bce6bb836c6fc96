//! Reading JSON from a peer with errors that name the field.
//!
//! serde_json alone says "invalid type: string, expected u64 at line 1
//! column 40"; [`decode`] says `actions[0].created_at: invalid type: …`, which
//! is what a person fixing a client needs.

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

/// serde_json appends " at line L column C"; with a path that is noise.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
