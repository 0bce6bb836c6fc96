//! Links in knowledge-base articles, and what may navigate the app's window
//! (docs/decisions/0034-links-open-outside-the-app.md).
//!
//! Two rules, both here so the shell only wires them:
//!
//! - [`external_link`]: the only addresses the app hands to the system
//!   browser are absolute `http` and `https` URLs (after the agent confirmed
//!   the full address in the app). `mailto:`, `file:`, `javascript:` and every
//!   other scheme are refused: an article is written by people and arrives
//!   through sync, and the family PC's other programs are not ours to start.
//! - [`stays_in_app`]: the window never navigates away from the app's own
//!   pages, whatever a link or a script asks; the shell's navigation guard
//!   asks this for every navigation and refuses the rest.

use url::Url;

use crate::Error;

/// The longest address the app opens (longer is not an article link but
/// something smuggled in).
pub const MAX_LINK_LEN: usize = 2_048;

/// The address `address` as the system browser should open it: an absolute
/// `http`/`https` URL with a host and no user name or password in it.
/// Anything else is refused with [`Error::InvalidAction`] and nothing is
/// opened.
pub fn external_link(address: &str) -> Result<Url, Error> {
    let refuse = |why: &str| {
        Err(Error::InvalidAction(format!(
            "this link is not opened: {why}"
        )))
    };
    if address.len() > MAX_LINK_LEN {
        return refuse("the address is too long");
    }
    let Ok(url) = Url::parse(address.trim()) else {
        return refuse("it is not a complete web address");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse("only web addresses (http, https) open in the browser");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse("the address has no site");
    }
    // `https://bank.example@evil.example/` shows one site and opens another.
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("the address hides a user name");
    }
    Ok(url)
}

/// True when the window may load `url`: one of the app's own pages, which
/// Tauri serves from `tauri://localhost` (Linux, macOS) or
/// `http(s)://tauri.localhost` (Windows). Every other address — a web site,
/// a file, `about:blank`, `data:` — would replace the app, so it is refused.
pub fn stays_in_app(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => {
            url.host_str() == Some("tauri.localhost")
                && url.port().is_none()
                && url.username().is_empty()
                && url.password().is_none()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("a test URL")
    }

    #[test]
    fn the_apps_own_pages_may_load() {
        for own in [
            "tauri://localhost",
            "tauri://localhost/",
            "tauri://localhost/index.html#desk",
            "http://tauri.localhost/",
            "https://tauri.localhost/assets/index.js",
        ] {
            assert!(stays_in_app(&url(own)), "{own} is the app itself");
        }
    }

    #[test]
    fn nothing_else_may_replace_the_app() {
        for foreign in [
            "https://www.12315.cn/",
            "http://localhost:1420/",
            "https://tauri.localhost.evil.example/",
            "https://evil.example/tauri.localhost",
            "https://tauri.localhost:8443/",
            "https://user@tauri.localhost/",
            "tauri://evil.example/",
            "file:///etc/passwd",
            "about:blank",
            "data:text/html,<h1>hi</h1>",
            "javascript:alert(1)",
            "homedesk-media://localhost/photo",
            "mailto:help@example.com",
        ] {
            assert!(
                !stays_in_app(&url(foreign)),
                "{foreign} must not load in the window"
            );
        }
    }

    #[test]
    fn web_addresses_open_in_the_browser() {
        let opened = external_link("https://www.12315.cn/").expect("https opens");
        assert_eq!(opened.as_str(), "https://www.12315.cn/");
        let plain = external_link(" http://example.com/a?b=c#d ").expect("http opens");
        assert_eq!(plain.as_str(), "http://example.com/a?b=c#d");
    }

    #[test]
    fn other_schemes_and_tricks_are_refused() {
        for refused in [
            "mailto:help@example.com",
            "file:///home/agent/.ssh/id_rsa",
            "javascript:alert(1)",
            "tauri://localhost/",
            "ftp://example.com/",
            "smb://nas/share",
            "/relative/path",
            "www.example.com",
            "",
            "https://bank.example@evil.example/",
            "https://:secret@evil.example/",
        ] {
            let err = external_link(refused).expect_err(refused);
            assert_eq!(
                err.code(),
                crate::ErrorCode::InvalidInput,
                "{refused}: a clear refusal, not a failure"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_LINK_LEN));
        assert!(
            external_link(&long).is_err(),
            "an oversize address is refused"
        );
    }
}
