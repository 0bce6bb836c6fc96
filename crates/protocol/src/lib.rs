//! Wire types of the sync protocol between the Homedesk workstation and the
//! central platform.
//!
//! This crate owns what crosses the network and nothing else: serde types,
//! the rules for reading them, and what an agent action does to a
//! conversation ([`rules`], a pure function the platform, the workstation's
//! local view and the practice simulator all call). It does no I/O and knows
//! nothing of storage or HTTP clients, so the workstation, the platform and
//! the CLI share one definition of every message and every action rule. `docs/protocol.md` explains the model and
//! `docs/openapi.yaml` lists the endpoints.
//!
//! Invariants: a message from a peer that speaks another *major* protocol
//! version is refused with a clear error, never half-understood; unknown
//! fields and wrong types are errors that name the field.

pub mod actions;
pub mod changes;
pub mod coding;
pub mod console;
pub mod contact_records;
pub mod decode;
pub mod entities;
pub mod error;
pub mod events;
pub mod hours;
pub mod ingress;
pub mod rules;
pub mod scope;
pub mod session;
pub mod training;
pub mod updates;
pub mod version;

pub use actions::*;
pub use changes::*;
pub use console::*;
pub use contact_records::*;
pub use decode::{DecodeError, decode};
pub use entities::*;
pub use error::{ErrorBody, ErrorCode, Health};
pub use events::*;
pub use hours::{BusinessHours, LocalDate, Weekday, Weekdays};
pub use ingress::*;
pub use session::*;
pub use training::*;
pub use updates::{NOTES_LANGUAGES, UpdateManifest, UpdatePackage};
pub use version::{
    PROTOCOL_HEADER, PROTOCOL_HEADER_PATTERN, PROTOCOL_VERSION, ProtocolVersion, VersionError,
};
