//! The protocol version carried in the `Homedesk-Protocol` header.
//!
//! Every request and response carries `Homedesk-Protocol: <major>` (optionally
//! `<major>.<minor>`), each part a whole number of 1 to 9 digits written
//! without leading zeros — exactly [`PROTOCOL_HEADER_PATTERN`] for the version
//! this build speaks. Messages refuse unknown fields, so any change to a
//! message's shape is a new *major* version; a minor version only changes
//! documented behaviour, and peers with the same major version always
//! understand each other. A different major version is refused before any
//! body is read.

use std::fmt;
use std::str::FromStr;

/// Name of the HTTP header that carries the protocol version.
pub const PROTOCOL_HEADER: &str = "Homedesk-Protocol";

/// The version this build speaks.
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion { major: 1, minor: 0 };

/// The header values a peer of [`PROTOCOL_VERSION`] accepts, as the regular
/// expression `docs/openapi.yaml` states (the platform's tests check the two
/// agree): major version 1, any minor version.
pub const PROTOCOL_HEADER_PATTERN: &str = "^1(\\.(0|[1-9][0-9]{0,8}))?$";

/// Most digits in one part of a version: any such number fits a `u32`.
const MAX_DIGITS: usize = 9;

/// A protocol version as sent in [`PROTOCOL_HEADER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolVersion {
    pub major: u32,
    pub minor: u32,
}

/// Why a peer's protocol version cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "the {PROTOCOL_HEADER} header is malformed: {0:?} (expected a number such as \"1\" or \"1.2\", without leading zeros)"
    )]
    Malformed(String),
    #[error(
        "peer speaks protocol version {theirs}, this build speaks {ours}; update the older side"
    )]
    UnsupportedMajor { theirs: u32, ours: u32 },
}

impl ProtocolVersion {
    /// Accepts `other` if it shares our major version.
    pub fn check_compatible(self, other: ProtocolVersion) -> Result<(), VersionError> {
        if other.major == self.major {
            Ok(())
        } else {
            Err(VersionError::UnsupportedMajor {
                theirs: other.major,
                ours: self.major,
            })
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ProtocolVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || VersionError::Malformed(s.to_owned());
        let trimmed = s.trim();
        let (major, minor) = match trimmed.split_once('.') {
            Some((major, minor)) => (major, minor),
            None => (trimmed, "0"),
        };
        let parse = |part: &str| {
            let canonical = !part.is_empty()
                && part.len() <= MAX_DIGITS
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            if !canonical {
                return Err(malformed());
            }
            part.parse::<u32>().map_err(|_| malformed())
        };
        Ok(ProtocolVersion {
            major: parse(major)?,
            minor: parse(minor)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_major_only_and_major_minor() {
        assert_eq!("1".parse(), Ok(ProtocolVersion { major: 1, minor: 0 }));
        assert_eq!(" 1.3 ".parse(), Ok(ProtocolVersion { major: 1, minor: 3 }));
    }

    #[test]
    fn the_longest_and_shortest_canonical_parts_are_read() {
        assert_eq!(
            "1.999999999".parse(),
            Ok(ProtocolVersion {
                major: 1,
                minor: 999_999_999
            })
        );
        assert_eq!("1.0".parse(), Ok(ProtocolVersion { major: 1, minor: 0 }));
        assert_eq!("0".parse(), Ok(ProtocolVersion { major: 0, minor: 0 }));
    }

    #[test]
    fn same_major_is_compatible_whatever_the_minor() {
        let newer_minor = ProtocolVersion {
            major: PROTOCOL_VERSION.major,
            minor: 9,
        };
        assert_eq!(PROTOCOL_VERSION.check_compatible(newer_minor), Ok(()));
    }

    #[test]
    fn other_major_is_refused_with_both_versions_named() {
        let err = PROTOCOL_VERSION
            .check_compatible("2".parse().expect("valid header"))
            .expect_err("a different major version must be refused");
        assert_eq!(err, VersionError::UnsupportedMajor { theirs: 2, ours: 1 });
        let text = err.to_string();
        assert!(
            text.contains('2') && text.contains('1'),
            "message should name both versions: {text}"
        );
    }

    #[test]
    fn garbage_headers_are_malformed_not_panics() {
        for bad in [
            "",
            "v1",
            "1.",
            ".1",
            "1.2.3",
            "-1",
            "+1",
            "99999999999",
            "一",
            // Leading zeros and numbers of ten digits or more: one spelling per
            // version, so the pattern in docs/openapi.yaml is exact.
            "01",
            "00.00",
            "1.01",
            "1.1234567890",
            "1.0000000000",
        ] {
            assert!(
                matches!(
                    bad.parse::<ProtocolVersion>(),
                    Err(VersionError::Malformed(_))
                ),
                "{bad:?} should be refused as malformed"
            );
        }
    }
}
