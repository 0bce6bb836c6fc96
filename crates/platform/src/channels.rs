//! Channel adapters: the bridges (Taobao/Qianniu, WeChat, e-mail) that
//! bring customers' messages in and take agents' replies out. Each has an
//! id, its own secret and optionally a webhook URL for replies.
//!
//! One secret per adapter, shown once when it is made or rotated. The
//! platform keeps only its SHA-256 (to recognise the adapter on ingress
//! and delivery reports) and the webhook signing key derived from it,
//! HMAC-SHA256(secret, [`SIGNING_KEY_LABEL`]), which it needs in order to
//! sign (decision 0023). A copy of the database therefore cannot post
//! customer messages. Rotation replaces both at once: the old secret stops
//! working in the same transaction.

use hmac::{Hmac, Mac};
use homedesk_protocol::UnixMillis;
use sha2::Sha256;

use crate::auth::{random_token, token_hash};
use crate::error::ApiError;
use crate::storage::{AdapterRow, Storage, Tx};

/// The adapter that `serve --demo` makes for its demo traffic.
pub const DEMO_ADAPTER: &str = "demo";

/// What the adapter's secret is HMAC-ed with to get the webhook signing key.
pub const SIGNING_KEY_LABEL: &str = "homedesk webhook signing key";

/// Longest webhook URL.
pub const MAX_URL_CHARS: usize = 2048;

/// An adapter id: 1 to 32 of `a-z 0-9 -`, starting with a letter or digit.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if id == crate::webchat::ADAPTER_ID {
        return Err(format!(
            "{id:?} is the built-in web chat's adapter id; choose another"
        ));
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not an adapter id: use 1 to 32 of a-z, 0-9 and -, e.g. taobao"
        ))
    }
}

/// A webhook URL: `https://`, or `http://` to this machine only (replies
/// carry customers' conversations; they do not cross a network in clear).
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the webhook URL is longer than {MAX_URL_CHARS} characters"
        ));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no user name or password in the webhook URL; the signature authenticates the platform".to_owned());
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{url:?}: plain http is only allowed to this machine (127.0.0.1, ::1, localhost); use https"
        )),
        other => Err(format!(
            "{url:?}: the scheme {other:?} is neither https nor http"
        )),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The webhook signing key of a secret, as stored (hex).
pub fn signing_key(secret: &str) -> String {
    hex(&hmac_sha256(
        secret.as_bytes(),
        SIGNING_KEY_LABEL.as_bytes(),
    ))
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes lower- or upper-case hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A new adapter with a fresh secret, which is returned (and shown once).
pub fn add(
    tx: &mut dyn Tx,
    id: &str,
    webhook_url: Option<&str>,
    now: UnixMillis,
) -> anyhow::Result<Result<String, String>> {
    if let Err(e) = check_id(id) {
        return Ok(Err(e));
    }
    if let Some(url) = webhook_url
        && let Err(e) = check_webhook_url(url)
    {
        return Ok(Err(e));
    }
    if tx.adapter(id)?.is_some() {
        return Ok(Err(format!(
            "there is already an adapter {id:?}; `channel rotate {id}` gives it a new secret"
        )));
    }
    let secret = random_token(32);
    tx.insert_adapter(&AdapterRow {
        id: id.to_owned(),
        token_hash: token_hash(&secret),
        signing_key: signing_key(&secret),
        webhook_url: webhook_url.map(str::to_owned),
        created_at: now,
        rotated_at: None,
    })?;
    Ok(Ok(secret))
}

/// A new secret for `id`; the old one stops working when this commits.
pub fn rotate(
    tx: &mut dyn Tx,
    id: &str,
    now: UnixMillis,
) -> anyhow::Result<Result<String, String>> {
    if tx.adapter(id)?.is_none() {
        return Ok(Err(unknown(tx, id)?));
    }
    let secret = random_token(32);
    tx.rotate_adapter(id, &token_hash(&secret), &signing_key(&secret), now)?;
    Ok(Ok(secret))
}

/// Sets or clears (`None`) where `id`'s replies are pushed.
pub fn set_webhook(
    tx: &mut dyn Tx,
    id: &str,
    url: Option<&str>,
) -> anyhow::Result<Result<(), String>> {
    if tx.adapter(id)?.is_none() {
        return Ok(Err(unknown(tx, id)?));
    }
    if let Some(url) = url
        && let Err(e) = check_webhook_url(url)
    {
        return Ok(Err(e));
    }
    tx.set_adapter_webhook(id, url)?;
    Ok(Ok(()))
}

fn unknown(tx: &mut dyn Tx, id: &str) -> anyhow::Result<String> {
    let known: Vec<String> = tx.adapters()?.into_iter().map(|a| a.id).collect();
    Ok(if known.is_empty() {
        format!("there is no adapter {id:?}; there are none yet (`channel add ID`)")
    } else {
        format!(
            "there is no adapter {id:?}; there are: {}",
            known.join(", ")
        )
    })
}

/// The adapter presenting `secret` (`Authorization: Bearer <secret>`).
pub fn authenticate(tx: &mut dyn Tx, secret: &str) -> anyhow::Result<Result<AdapterRow, ApiError>> {
    Ok(tx.adapter_by_token_hash(&token_hash(secret))?.ok_or_else(|| {
        ApiError::unauthorized(
            "unknown channel adapter secret (was it rotated?); `homedesk-platform channel add` makes one",
        )
    }))
}

/// The demo adapter's secret, kept in `DATA_DIR/demo-adapter-secret` so
/// scripts and tests can post demo messages. Made (or, if the file was
/// lost, rotated) when missing. Only `serve --demo` calls this.
pub fn demo_secret(
    storage: &dyn Storage,
    data_dir: &std::path::Path,
    now: UnixMillis,
) -> anyhow::Result<String> {
    let path = data_dir.join(DEMO_SECRET_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let secret = text.trim().to_owned();
        let hash = token_hash(&secret);
        let known = storage.read_with(|tx| tx.adapter(DEMO_ADAPTER))?;
        if known.is_some_and(|a| a.token_hash == hash) {
            return Ok(secret);
        }
    }
    let secret = storage.write_with(|tx| {
        let made = if tx.adapter(DEMO_ADAPTER)?.is_some() {
            rotate(tx, DEMO_ADAPTER, now)?
        } else {
            add(tx, DEMO_ADAPTER, None, now)?
        };
        made.map_err(anyhow::Error::msg)
    })?;
    crate::owner_only::write(&path, format!("{secret}\n").as_bytes())?;
    Ok(secret)
}

/// File name of the demo adapter's secret in the data folder.
pub const DEMO_SECRET_FILE: &str = "demo-adapter-secret";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_ids_are_short_lowercase_words() {
        for good in ["taobao", "wechat-2", "a", "0mail"] {
            assert!(check_id(good).is_ok(), "{good} is a fine id");
        }
        for bad in ["", "-x", "Taobao", "淘宝", "a b", &"x".repeat(33), "a/b"] {
            assert!(check_id(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn webhooks_are_https_or_loopback_http() {
        for good in [
            "https://adapter.example/hook",
            "http://127.0.0.1:9000/hook",
            "http://[::1]:9000/",
            "http://localhost/x",
        ] {
            assert!(check_webhook_url(good).is_ok(), "{good} is allowed");
        }
        for bad in [
            "http://adapter.example/hook",
            "http://10.0.0.5/hook",
            "ftp://127.0.0.1/",
            "not a url",
            "https://user:pw@adapter.example/",
            "https://",
        ] {
            assert!(check_webhook_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn the_signing_key_is_the_secrets_hmac_of_the_label() {
        // RFC 4231 test case 2 pins the HMAC itself.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signing_key("s3cret"),
            hex(&hmac_sha256(b"s3cret", SIGNING_KEY_LABEL.as_bytes()))
        );
        assert_ne!(signing_key("s3cret"), signing_key("s3cret2"));
        assert_eq!(unhex(&signing_key("x")).map(|k| k.len()), Some(32));
        assert_eq!(unhex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
