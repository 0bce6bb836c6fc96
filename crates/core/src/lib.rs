//! The Homedesk workstation, without a window.
//!
//! Everything an agent reads and does is decided here: settings, and (as the
//! product grows) the local store, knowledge-base search, scripts, the outbox
//! and the sync engine. The desktop shell (`src-tauri`) and `homedesk-cli` are
//! thin adapters over the use-cases exposed by [`Workstation`].
//!
//! House rule: this crate never depends on `tauri` and never reads global
//! state such as environment variables; callers pass in what it needs (a data
//! folder, a transport, a [`clock::Clock`]), so every use-case runs in a
//! plain `cargo test`. What the shell runs in the background for a desk is
//! decided in [`host`]; the shell only implements its adapters.

pub mod app_info;
pub mod clock;
pub mod connection;
pub mod data_usage;
pub mod desk;
pub mod error;
pub mod host;
pub mod links;
pub mod locale;
pub mod markdown;
pub mod notice;
pub mod paths;
pub mod photos;
pub mod practice;
pub mod scripts;
pub mod search;
pub mod settings;
pub mod store;
pub mod sync;
pub mod updates;
pub mod vault;
mod workstation;

pub use app_info::AppInfo;
pub use connection::{ConnectionState, ConnectionStatus};
pub use error::{Error, ErrorBody, ErrorCode};
pub use locale::Locale;
pub use vault::KnownAgent;
pub use workstation::{SignInDefaults, SignedInAgent, UnlockAnswer, Workstation};
