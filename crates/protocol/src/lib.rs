//! Wire types of the sync protocol between the Homedesk workstation and the
//! central platform.
//!
//! This crate owns what crosses the network and nothing else: serde types and
//! the rules for reading them. It does no I/O and knows nothing of storage or
//! HTTP clients, so the workstation, the platform and the CLI share one
//! definition of every message.
//!
//! Invariant: a message from a peer that speaks another *major* protocol
//! version is refused with a clear error, never half-understood.

pub mod version;

pub use version::{PROTOCOL_HEADER, PROTOCOL_VERSION, ProtocolVersion, VersionError};
