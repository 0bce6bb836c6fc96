//! The platform's settings: the config file (`platform.toml`, TOML), the
//! `serve` flags over it, and the defaults under both.
//!
//! A setting is looked up in this order: the command-line flag, the config
//! file, the default here ([`ServeConfig::resolve`]). The file and the flags
//! share one shape ([`ServeConfig`]), so a setting cannot exist in one and
//! be forgotten in the other, and a key the file does not know is an error
//! with its line rather than a setting silently ignored. `init` writes the
//! file from [`template`], every setting commented out at its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::Settings;
use crate::auth::AuthConfig;
use crate::egress::EgressConfig;
use crate::sign_in_limits::SignInLimits;
use crate::webchat::ChatLimits;

/// The file `serve` reads from the data folder when no `--config` is given.
pub const FILE_NAME: &str = "platform.toml";

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// Days a resolved conversation stays on agents' PCs unless configured.
pub const DEFAULT_CONVERSATION_DAYS: u64 = 90;

/// Settings from the config file or the flags; `None` means "not said here".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// A `postgres://` URL: the platform keeps its data there, shared by
    /// several instances (docs/deployment.md). Without it, SQLite in the
    /// data folder.
    pub database: Option<String>,
    pub listen: Option<SocketAddr>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Seconds an agent has to accept an offer (a queue may set its own).
    pub offer_timeout: Option<u64>,
    /// Seconds an access token lives.
    pub access_ttl: Option<u64>,
    /// Seconds a refresh token may be presented again after use.
    pub refresh_grace: Option<u64>,
    /// Bearer token `GET /metrics` requires; without it, the token in
    /// `DATA_DIR/metrics-token` (made at first start, owner-only).
    pub metrics_token: Option<String>,
    #[serde(default)]
    pub retention: Retention,
    #[serde(default)]
    pub sync: Sync,
    #[serde(default)]
    pub egress: Egress,
    #[serde(default)]
    pub webchat: Webchat,
    #[serde(default)]
    pub sign_in: SignIn,
}

/// Sign-in throttling (`[sign_in]`; docs/platform.md, "Sign-in throttling").
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub free_failures: Option<u32>,
    pub lockout_after: Option<u32>,
    pub ip_free_failures: Option<u32>,
    pub ip_lockout_after: Option<u32>,
    pub first_delay_ms: Option<u64>,
    /// Seconds.
    pub max_delay: Option<u64>,
    /// Seconds.
    pub lockout: Option<u64>,
    pub hashing: Option<usize>,
    pub hashing_queue: Option<usize>,
    pub trusted_proxy_header: Option<String>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
}

impl SignIn {
    fn over(self, file: SignIn) -> SignIn {
        SignIn {
            free_failures: self.free_failures.or(file.free_failures),
            lockout_after: self.lockout_after.or(file.lockout_after),
            ip_free_failures: self.ip_free_failures.or(file.ip_free_failures),
            ip_lockout_after: self.ip_lockout_after.or(file.ip_lockout_after),
            first_delay_ms: self.first_delay_ms.or(file.first_delay_ms),
            max_delay: self.max_delay.or(file.max_delay),
            lockout: self.lockout.or(file.lockout),
            hashing: self.hashing.or(file.hashing),
            hashing_queue: self.hashing_queue.or(file.hashing_queue),
            trusted_proxy_header: self.trusted_proxy_header.or(file.trusted_proxy_header),
            trusted_proxies: self.trusted_proxies.or(file.trusted_proxies),
        }
    }

    /// Every setting decided and checked.
    fn resolve(self) -> anyhow::Result<SignInLimits> {
        let d = SignInLimits::default();
        let limits = SignInLimits {
            free_failures: self.free_failures.unwrap_or(d.free_failures),
            lockout_after: self.lockout_after.unwrap_or(d.lockout_after),
            ip_free_failures: self.ip_free_failures.unwrap_or(d.ip_free_failures),
            ip_lockout_after: self.ip_lockout_after.unwrap_or(d.ip_lockout_after),
            first_delay_ms: self
                .first_delay_ms
                .map_or(Ok(d.first_delay_ms), i64::try_from)?,
            max_delay_ms: self.max_delay.map_or(Ok(d.max_delay_ms), |s| {
                i64::try_from(s.saturating_mul(1000))
            })?,
            lockout_ms: self
                .lockout
                .map_or(Ok(d.lockout_ms), |s| i64::try_from(s.saturating_mul(1000)))?,
            hashing: self.hashing.unwrap_or(d.hashing),
            hashing_queue: self.hashing_queue.unwrap_or(d.hashing_queue),
            max_entries: d.max_entries,
            trusted_proxy_header: self.trusted_proxy_header.filter(|h| !h.trim().is_empty()),
            trusted_proxies: self.trusted_proxies.unwrap_or(d.trusted_proxies),
        };
        anyhow::ensure!(
            limits.lockout_after > limits.free_failures
                && limits.ip_lockout_after > limits.ip_free_failures,
            "sign_in: lockout_after must be above free_failures (and ip_lockout_after above \
             ip_free_failures)"
        );
        anyhow::ensure!(
            limits.first_delay_ms > 0
                && limits.max_delay_ms >= limits.first_delay_ms
                && limits.lockout_ms > 0,
            "sign_in: first_delay_ms and lockout must be above 0, max_delay at least first_delay_ms"
        );
        anyhow::ensure!(
            (1..=64).contains(&limits.hashing),
            "sign_in.hashing: give 1 to 64 password checks at once"
        );
        if let Some(header) = &limits.trusted_proxy_header {
            anyhow::ensure!(
                axum::http::HeaderName::from_bytes(header.as_bytes()).is_ok(),
                "sign_in.trusted_proxy_header: {header:?} is not a header name"
            );
        }
        Ok(limits)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days a sign-in lasts without the agent signing in again.
    pub sign_in_days: Option<u64>,
    /// Days the verdict of an action is remembered (at least the protocol's 30).
    pub idempotency_days: Option<u64>,
    /// Days after its resolution a conversation stays on agents' PCs (PIPL);
    /// the platform keeps it for supervisors (`--retention-days`).
    pub conversation_days: Option<u64>,
}

/// The sync scope (`[sync]`; docs/decisions/0035-sync-scope.md).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    /// Days an agent's own resolved conversations stay on their PC
    /// (`--sync-resolved-days`); older history is fetched when opened.
    pub resolved_days: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    pub retry_base_ms: Option<u64>,
    pub retry_cap_ms: Option<u64>,
    pub give_up_after: Option<u64>,
    pub timeout: Option<u64>,
    pub poll_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webchat {
    pub customer_rate: Option<u32>,
    pub ip_rate: Option<u32>,
}

/// Everything `serve` needs besides the data folder, each setting decided.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// PostgreSQL's URL, checked; `None`: SQLite in the data folder.
    pub database: Option<String>,
    pub listen: SocketAddr,
    /// Certificate chain and key; `None`: the development CA in the data folder.
    pub cert_key: Option<(PathBuf, PathBuf)>,
    pub settings: Settings,
}

impl ServeConfig {
    /// Reads a config file. An unknown key, a wrong type or bad TOML is an
    /// error naming the file and the line. Relative `cert` and `key` paths
    /// are taken from the file's folder.
    pub fn load(file: &Path) -> anyhow::Result<ServeConfig> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading the config file {}", file.display()))?;
        let mut config: ServeConfig = toml::from_str(&text).map_err(|err| {
            let line = err.span().map_or(String::new(), |span| {
                let line = 1 + text.as_bytes()[..span.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                format!(":{line}")
            });
            anyhow::anyhow!(
                "{}{line}: {}",
                file.display(),
                err.message().trim().replace('\n', " ")
            )
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        for path in [&mut config.cert, &mut config.key].into_iter().flatten() {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        Ok(config)
    }

    /// `self` (the flags) over `file`: each setting the flags give wins.
    pub fn over(self, file: ServeConfig) -> ServeConfig {
        ServeConfig {
            database: self.database.or(file.database),
            listen: self.listen.or(file.listen),
            cert: self.cert.or(file.cert),
            key: self.key.or(file.key),
            offer_timeout: self.offer_timeout.or(file.offer_timeout),
            access_ttl: self.access_ttl.or(file.access_ttl),
            refresh_grace: self.refresh_grace.or(file.refresh_grace),
            metrics_token: self.metrics_token.or(file.metrics_token),
            retention: Retention {
                sign_in_days: self.retention.sign_in_days.or(file.retention.sign_in_days),
                idempotency_days: self
                    .retention
                    .idempotency_days
                    .or(file.retention.idempotency_days),
                conversation_days: self
                    .retention
                    .conversation_days
                    .or(file.retention.conversation_days),
            },
            sync: Sync {
                resolved_days: self.sync.resolved_days.or(file.sync.resolved_days),
            },
            egress: Egress {
                retry_base_ms: self.egress.retry_base_ms.or(file.egress.retry_base_ms),
                retry_cap_ms: self.egress.retry_cap_ms.or(file.egress.retry_cap_ms),
                give_up_after: self.egress.give_up_after.or(file.egress.give_up_after),
                timeout: self.egress.timeout.or(file.egress.timeout),
                poll_ms: self.egress.poll_ms.or(file.egress.poll_ms),
            },
            webchat: Webchat {
                customer_rate: self.webchat.customer_rate.or(file.webchat.customer_rate),
                ip_rate: self.webchat.ip_rate.or(file.webchat.ip_rate),
            },
            sign_in: self.sign_in.over(file.sign_in),
        }
    }

    /// Every setting decided (the defaults fill what neither gave) and
    /// checked; the message names the setting and what it accepts.
    pub fn resolve(self, demo: bool) -> anyhow::Result<Resolved> {
        let listen = match self.listen {
            Some(listen) => listen,
            None => DEFAULT_LISTEN.parse()?,
        };
        let cert_key = match (self.cert, self.key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!(
                "cert and key go together: give both, or neither for the development CA"
            ),
        };
        let offer_timeout = self.offer_timeout.unwrap_or(30);
        let access_ttl = self.access_ttl.unwrap_or(900);
        anyhow::ensure!(
            offer_timeout > 0 && access_ttl > 0,
            "offer_timeout and access_ttl must be at least 1 second"
        );
        let sign_in_days = self.retention.sign_in_days.unwrap_or(30);
        let idempotency_days = self
            .retention
            .idempotency_days
            .unwrap_or(u64::from(homedesk_protocol::IDEMPOTENCY_RETENTION_DAYS));
        anyhow::ensure!(
            (1..=3650).contains(&sign_in_days),
            "retention.sign_in_days: give 1 to 3650 days"
        );
        anyhow::ensure!(
            (u64::from(homedesk_protocol::IDEMPOTENCY_RETENTION_DAYS)..=3650)
                .contains(&idempotency_days),
            "retention.idempotency_days: give {} to 3650 days (workstations count on {} days; \
             see docs/protocol.md)",
            homedesk_protocol::IDEMPOTENCY_RETENTION_DAYS,
            homedesk_protocol::IDEMPOTENCY_RETENTION_DAYS
        );
        let conversation_days = self
            .retention
            .conversation_days
            .unwrap_or(DEFAULT_CONVERSATION_DAYS);
        anyhow::ensure!(
            (1..=3650).contains(&conversation_days),
            "retention.conversation_days (--retention-days): give 1 to 3650 days"
        );
        let resolved_days = self
            .sync
            .resolved_days
            .unwrap_or(u64::from(homedesk_protocol::scope::DEFAULT_RESOLVED_DAYS));
        anyhow::ensure!(
            (1..=3650).contains(&resolved_days),
            "sync.resolved_days (--sync-resolved-days): give 1 to 3650 days"
        );
        if let Some(token) = &self.metrics_token {
            anyhow::ensure!(
                token.len() >= 16 && token.bytes().all(|b| b.is_ascii_graphic()),
                "metrics_token (--metrics-token): at least 16 printable characters, no spaces"
            );
        }
        let egress = &self.egress;
        let (base, cap, give_up, timeout, poll) = (
            egress.retry_base_ms.unwrap_or(1000),
            egress.retry_cap_ms.unwrap_or(300_000),
            egress.give_up_after.unwrap_or(86_400),
            egress.timeout.unwrap_or(10),
            egress.poll_ms.unwrap_or(2000),
        );
        anyhow::ensure!(
            base > 0 && cap >= base && give_up > 0 && timeout > 0 && poll > 0,
            "egress (--egress-*): every setting must be above 0, and the retry cap at least the \
             retry base"
        );
        let day_ms = |days: u64| i64::try_from(days * 24 * 3600 * 1000);
        let secs_ms = |secs: u64| i64::try_from(secs).map(|s| s.saturating_mul(1000));
        let settings = Settings {
            auth: AuthConfig {
                access_ttl_ms: secs_ms(access_ttl)?,
                refresh_ttl_ms: day_ms(sign_in_days)?,
                refresh_grace_ms: secs_ms(self.refresh_grace.unwrap_or(30))?,
                demo,
            },
            offer_timeout_ms: secs_ms(offer_timeout)?,
            idempotency_retention_ms: day_ms(idempotency_days)?,
            conversation_retention_ms: day_ms(conversation_days)?,
            sync_resolved_days: u32::try_from(resolved_days)?,
            metrics_token: self.metrics_token.clone(),
            webchat: ChatLimits {
                customer_per_minute: self.webchat.customer_rate.unwrap_or(20),
                ip_per_minute: self.webchat.ip_rate.unwrap_or(120),
            },
            egress: EgressConfig {
                backoff_base_ms: i64::try_from(base)?,
                backoff_cap_ms: i64::try_from(cap)?,
                give_up_after_ms: secs_ms(give_up)?,
                attempt_timeout_ms: timeout.saturating_mul(1000),
                poll_ms: poll,
            },
            sign_in: self.sign_in.resolve()?,
            session_check_ms: 1000,
        };
        let database = match self.database {
            Some(url) => Some(crate::storage::check_database_url(&url)?),
            None => None,
        };
        Ok(Resolved {
            database,
            listen,
            cert_key,
            settings,
        })
    }
}

/// The config file `init` writes: what it was told, and every other
/// setting commented out at its default, with what it means.
pub fn template(
    listen: SocketAddr,
    cert_key: Option<(&Path, &Path)>,
    database: Option<&str>,
) -> String {
    let database = match database {
        Some(url) => format!("database = {url:?}\n"),
        None => {
            "# database = \"postgres://homedesk:PASSWORD@db.example:5432/homedesk\"\n".to_owned()
        }
    };
    let tls = match cert_key {
        Some((cert, key)) => format!(
            "cert = {:?}\nkey = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
        None => "# cert = \"/etc/homedesk-platform/server.pem\"\n\
                 # key = \"/etc/homedesk-platform/server-key.pem\"\n"
            .to_owned(),
    };
    format!(
        r#"# Homedesk platform settings, read by `homedesk-platform serve` (docs/platform.md,
# "The config file"). A flag on the command line wins over this file; a key this
# file does not know is an error. Durations are in seconds unless the name says.

# Where the platform keeps its data. Without this line: SQLite in this folder
# (platform.db), right for one machine. A PostgreSQL URL lets several instances
# behind a load balancer share the work (docs/deployment.md).
{database}
# Address and port to listen on. 0.0.0.0:8443 serves the whole network; the
# workstations must then reach a name or address the certificate names.
listen = "{listen}"

# Your certificate chain and its private key (PEM). Without them the platform uses
# its own development CA in tls/ (workstations trust tls/ca.pem); that
# certificate names only localhost and 127.0.0.1.
{tls}
# Seconds an agent has to accept an offered contact (a queue may set its own).
# offer_timeout = 30
# Seconds an access token lives; workstations refresh it on their own.
# access_ttl = 900
# Seconds a used refresh token may be presented again (a retry after a lost answer).
# refresh_grace = 30
# Token Prometheus sends to read /metrics (Authorization: Bearer TOKEN). Without it
# the platform makes one at first start in metrics-token in the data folder.
# metrics_token = "a long random string"

[retention]
# Days an agent stays signed in on a workstation without signing in again.
# sign_in_days = 30
# Days the platform remembers each action's verdict (at least 30: a workstation
# may come back after that long offline and send its actions again).
# idempotency_days = 30
# Days after its resolution a conversation stays on agents' PCs (personal data,
# PIPL): then the platform tells every workstation to delete it, its messages and
# photos. The platform keeps it; supervisors read it with GET /v1/conversations/ID.
# conversation_days = 90

[sync]
# Days an agent's own resolved conversations stay on their PC. A PC keeps the
# agent's own conversations and the queue's waiting ones; older history (and
# colleagues' conversations) is fetched from the platform when opened.
# resolved_days = 14

[egress]
# Replies to channel adapters' webhooks: the first retry waits 1/2 to 1 times
# retry_base_ms, each further one doubles up to retry_cap_ms; a reply no adapter
# accepted for give_up_after seconds fails; one attempt may take timeout seconds.
# retry_base_ms = 1000
# retry_cap_ms = 300000
# give_up_after = 86400
# timeout = 10
# poll_ms = 2000

[webchat]
# Messages and photos one web chat customer may send a minute.
# customer_rate = 20
# Requests one IP address may make a minute (a whole village may share one).
# ip_rate = 120

[sign_in]
# Failed sign-ins for one agent code before waits begin; the first wait is
# first_delay_ms, each further failure doubles it up to max_delay seconds, and at
# lockout_after failures the code is locked for lockout seconds. While waiting,
# the platform answers 429 too_many_attempts without checking the password.
# free_failures = 5
# lockout_after = 10
# first_delay_ms = 1000
# max_delay = 60
# lockout = 900
# The same for one client address (a whole village may share one).
# ip_free_failures = 20
# ip_lockout_after = 100
# Password checks (Argon2) at once, and how many more may wait (then 503).
# hashing = 4
# hashing_queue = 32
# Behind a reverse proxy: the header carrying the client's address, read only on
# connections from trusted_proxies (the last address in it is used).
# trusted_proxy_header = "X-Forwarded-For"
# trusted_proxies = ["127.0.0.1", "::1"]
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, text).expect("write");
        (dir, file)
    }

    #[test]
    fn the_template_reads_back_as_what_init_was_told() {
        let listen: SocketAddr = "0.0.0.0:9443".parse().expect("addr");
        let (_dir, file) = write(&template(listen, None, None));
        let config = ServeConfig::load(&file).expect("the template is valid");
        assert_eq!(
            config,
            ServeConfig {
                listen: Some(listen),
                ..ServeConfig::default()
            },
            "everything else is left at its default"
        );
        let (_dir, file) = write(&template(
            listen,
            Some((Path::new("/etc/x/server.pem"), Path::new("/etc/x/key.pem"))),
            Some("postgres://homedesk:s3cret@db:5432/homedesk"),
        ));
        let config = ServeConfig::load(&file).expect("valid");
        assert_eq!(
            config.database.as_deref(),
            Some("postgres://homedesk:s3cret@db:5432/homedesk")
        );
        assert_eq!(config.cert.as_deref(), Some(Path::new("/etc/x/server.pem")));
        assert_eq!(config.key.as_deref(), Some(Path::new("/etc/x/key.pem")));
    }

    #[test]
    fn a_database_must_be_a_postgres_url() {
        for bad in [
            "mysql://x@db/homedesk",
            "platform.db",
            "postgres://db:notaport/x",
        ] {
            let config = ServeConfig {
                database: Some(bad.into()),
                ..ServeConfig::default()
            };
            let err = config.resolve(false).expect_err(bad).to_string();
            assert!(err.starts_with("database:"), "{bad}: {err}");
        }
        let config = ServeConfig {
            database: Some("postgresql://homedesk:pw@10.0.0.5:5432/homedesk".into()),
            ..ServeConfig::default()
        };
        let resolved = config.resolve(false).expect("a PostgreSQL URL is fine");
        assert_eq!(
            resolved.database.as_deref(),
            Some("postgresql://homedesk:pw@10.0.0.5:5432/homedesk")
        );
        assert_eq!(
            crate::storage::postgres::redact("postgres://homedesk:pw@db:5432/homedesk"),
            "postgres://homedesk:***@db:5432/homedesk",
            "messages never show the password"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused_with_their_line() {
        let (_dir, file) = write("listen = \"127.0.0.1:1\"\n\n[egress]\nretry_base = 5\n");
        let err = format!("{:#}", ServeConfig::load(&file).expect_err("unknown key"));
        assert!(
            err.contains(&format!("{}:4:", file.display())) && err.contains("retry_base"),
            "{err}"
        );
        let (_dir, file) = write("offer_timeout = \"soon\"\n");
        let err = format!("{:#}", ServeConfig::load(&file).expect_err("wrong type"));
        assert!(err.contains(":1:"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let (_dir, file) = write(
            "listen = \"127.0.0.1:9000\"\noffer_timeout = 45\ncert = \"c.pem\"\nkey = \"k.pem\"\n\
             [webchat]\nip_rate = 7\n",
        );
        let from_file = ServeConfig::load(&file).expect("valid");
        assert_eq!(
            from_file.cert.as_deref(),
            Some(file.with_file_name("c.pem").as_path()),
            "relative paths are from the file's folder"
        );
        let flags = ServeConfig {
            offer_timeout: Some(5),
            ..ServeConfig::default()
        };
        let resolved = flags.over(from_file).resolve(false).expect("valid");
        assert_eq!(resolved.listen.port(), 9000, "from the file");
        assert_eq!(resolved.settings.offer_timeout_ms, 5000, "the flag wins");
        assert_eq!(resolved.settings.webchat.ip_per_minute, 7);
        assert_eq!(resolved.settings.webchat.customer_per_minute, 20, "default");
        assert_eq!(resolved.settings.auth.access_ttl_ms, 900_000, "default");
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let bad = [
            ServeConfig {
                offer_timeout: Some(0),
                ..ServeConfig::default()
            },
            ServeConfig {
                retention: Retention {
                    idempotency_days: Some(7),
                    ..Retention::default()
                },
                ..ServeConfig::default()
            },
            ServeConfig {
                sync: Sync {
                    resolved_days: Some(0),
                },
                ..ServeConfig::default()
            },
            ServeConfig {
                cert: Some("c.pem".into()),
                ..ServeConfig::default()
            },
            ServeConfig {
                sign_in: SignIn {
                    free_failures: Some(10),
                    lockout_after: Some(10),
                    ..SignIn::default()
                },
                ..ServeConfig::default()
            },
            ServeConfig {
                sign_in: SignIn {
                    trusted_proxy_header: Some("X Forwarded".into()),
                    ..SignIn::default()
                },
                ..ServeConfig::default()
            },
        ];
        for config in bad {
            assert!(config.clone().resolve(false).is_err(), "{config:?}");
        }
    }
}
