//! Minisign signatures and public keys as the Tauri updater reads them.
//!
//! `tauri signer sign` writes the `.sig` file as the base64 of minisign's
//! four-line signature text, and the updater's public key is the base64 of
//! minisign's two-line public key file; the updater decodes both that way
//! and verifies with `minisign-verify`, as this module does. The plain
//! minisign texts (`minisign -S` output, `minisign.pub`) are taken too and
//! stored in the updater's form.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use minisign_verify::{PublicKey, Signature};

/// A well-formed signature: its updater form and its parts.
pub struct ReleaseSignature {
    /// Base64 of the minisign text: the manifest's `signature`.
    pub updater_form: String,
    pub signature: Signature,
}

/// The minisign text inside `text`, which is either that text or its base64.
fn minisign_text(text: &str, what: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.starts_with("untrusted comment:") {
        return Ok(format!("{trimmed}\n"));
    }
    let bytes = STANDARD.decode(trimmed).map_err(|_| {
        format!("{what} is neither minisign text nor its base64 (as `tauri signer` writes it)")
    })?;
    String::from_utf8(bytes).map_err(|_| format!("{what}: its base64 does not hold minisign text"))
}

/// Reads a `.sig` file's text.
pub fn parse_signature(text: &str) -> Result<ReleaseSignature, String> {
    let minisign = minisign_text(text, "the signature")?;
    let signature = Signature::decode(&minisign).map_err(|e| {
        format!("the signature is not a well-formed minisign signature ({e}); give the .sig file `tauri signer sign` wrote")
    })?;
    Ok(ReleaseSignature {
        updater_form: STANDARD.encode(minisign.as_bytes()),
        signature,
    })
}

/// Reads a public key: the updater's form (`tauri signer generate` writes
/// it to `KEY.pub`, and it is what `plugins.updater.pubkey` holds), a
/// `minisign.pub` file, or the bare key line.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let trimmed = text.trim();
    let bad =
        |e: minisign_verify::Error| format!("the public key is not a minisign public key ({e})");
    if trimmed.starts_with("RW")
        && !trimmed.contains('\n')
        && let Ok(key) = PublicKey::from_base64(trimmed)
    {
        return Ok(key);
    }
    let minisign = minisign_text(trimmed, "the public key")?;
    PublicKey::decode(&minisign).map_err(bad)
}

/// The version the signature was made for (`version:` in its trusted
/// comment, which `tauri signer sign --app-version` and `tauri build`
/// write), if it names one.
pub fn signed_version(signature: &Signature) -> Option<&str> {
    signature
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"))
}

/// Checks `package` against the signature as the updater will.
pub fn verify(key: &PublicKey, package: &[u8], signature: &Signature) -> Result<(), String> {
    key.verify(package, signature, true).map_err(|e| match e {
        minisign_verify::Error::UnexpectedKeyId => {
            "the package was signed with another key than the public key given; \
             the workstations would refuse it"
                .to_owned()
        }
        minisign_verify::Error::InvalidSignature => {
            "the signature does not match the package (another file, or changed since it was \
             signed); the workstations would refuse it"
                .to_owned()
        }
        other => format!("the signature cannot be checked: {other}"),
    })
}
