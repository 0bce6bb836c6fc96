//! What kind of package a file is: a Debian package (`.deb`, an `ar`
//! archive whose first member is `debian-binary`) or an RPM (the 96-byte
//! lead, then headers whose `ARCH` tag names the machine), and for which
//! processor. The updater installs a `.deb` with `dpkg -i` and an `.rpm`
//! with `rpm -U`, so anything else published as a release would break every
//! workstation that took it; this is checked from the bytes, never trusted
//! from the name alone.
//!
//! A `.deb` keeps its architecture inside a compressed control archive;
//! rather than unpack it, the architecture is read from the file name
//! (`homedesk_1.2.0_amd64.deb`, as `tauri build` and `dpkg-deb` name it),
//! and `release publish --target` overrides it.

/// The two package kinds the updater installs on Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Deb,
    Rpm,
}

impl Bundle {
    /// The updater's name for it (`{{bundle_type}}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Bundle::Deb => "deb",
            Bundle::Rpm => "rpm",
        }
    }

    pub fn parse(s: &str) -> Option<Bundle> {
        match s {
            "deb" => Some(Bundle::Deb),
            "rpm" => Some(Bundle::Rpm),
            _ => None,
        }
    }
}

/// A package as read from its bytes (and, for a `.deb`, its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub bundle: Bundle,
    /// The updater's name of the processor (`x86_64`, `aarch64`, ...);
    /// `None` when the package does not say (a `.deb` named without one,
    /// an RPM built `noarch`).
    pub arch: Option<&'static str>,
}

/// The updater's processor names (`{{arch}}`).
pub const ARCHES: [&str; 5] = ["x86_64", "aarch64", "i686", "armv7", "riscv64"];

/// Reads what `bytes` (named `file_name`) is; an error says why it is
/// neither a Debian package nor an RPM.
pub fn inspect(bytes: &[u8], file_name: &str) -> Result<Package, String> {
    let lower = file_name.to_ascii_lowercase();
    if bytes.starts_with(AR_MAGIC) {
        check_deb(bytes)?;
        if !lower.ends_with(".deb") {
            return Err(format!(
                "{file_name} is a Debian package but is not named .deb"
            ));
        }
        let stem = &lower[..lower.len() - ".deb".len()];
        let arch = stem
            .rsplit_once('_')
            .and_then(|(_, suffix)| deb_arch(suffix));
        return Ok(Package {
            bundle: Bundle::Deb,
            arch,
        });
    }
    if bytes.starts_with(&RPM_MAGIC) {
        let arch = rpm_arch(bytes)?;
        if !lower.ends_with(".rpm") {
            return Err(format!(
                "{file_name} is an RPM package but is not named .rpm"
            ));
        }
        return Ok(Package {
            bundle: Bundle::Rpm,
            arch: updater_arch_of_rpm(&arch),
        });
    }
    Err(format!(
        "{file_name} is neither a Debian package (.deb) nor an RPM (.rpm) by its first bytes; \
         publish the package `make dist` or `tauri build` made"
    ))
}

const AR_MAGIC: &[u8] = b"!<arch>\n";
const AR_HEADER: usize = 60;

/// One `ar` member's name and contents, at `offset`.
fn ar_member(bytes: &[u8], offset: usize) -> Option<(&str, &[u8])> {
    let header = bytes.get(offset..offset + AR_HEADER)?;
    if &header[58..60] != b"`\n" {
        return None;
    }
    let name = std::str::from_utf8(&header[..16]).ok()?.trim_end();
    let name = name.strip_suffix('/').unwrap_or(name);
    let size: usize = std::str::from_utf8(&header[48..58])
        .ok()?
        .trim_end()
        .parse()
        .ok()?;
    let start = offset + AR_HEADER;
    let body = bytes.get(start..start.checked_add(size)?)?;
    Some((name, body))
}

/// A Debian package: `debian-binary` (format 2.x), then `control.tar*`,
/// then `data.tar*`, as dpkg requires.
fn check_deb(bytes: &[u8]) -> Result<(), String> {
    let not_deb = |why: &str| format!("an ar archive, but not a Debian package: {why}");
    let Some((name, body)) = ar_member(bytes, AR_MAGIC.len()) else {
        return Err(not_deb("its first member is unreadable (truncated?)"));
    };
    if name != "debian-binary" || !body.starts_with(b"2.") {
        return Err(not_deb("it does not start with debian-binary 2.x"));
    }
    let mut offset = AR_MAGIC.len() + AR_HEADER + body.len();
    offset += offset % 2;
    let Some((control, body)) = ar_member(bytes, offset) else {
        return Err(not_deb("its control archive is missing or truncated"));
    };
    if !control.starts_with("control.tar") {
        return Err(not_deb("its second member is not control.tar"));
    }
    let mut offset = offset + AR_HEADER + body.len();
    offset += offset % 2;
    match ar_member(bytes, offset) {
        Some((data, _)) if data.starts_with("data.tar") => Ok(()),
        _ => Err(not_deb("its data archive is missing or truncated")),
    }
}

/// Debian's architecture names, as `tauri build` writes them into the file name.
fn deb_arch(name: &str) -> Option<&'static str> {
    match name {
        "amd64" => Some("x86_64"),
        "arm64" => Some("aarch64"),
        "i386" => Some("i686"),
        "armhf" => Some("armv7"),
        "riscv64" => Some("riscv64"),
        _ => None,
    }
}

const RPM_MAGIC: [u8; 4] = [0xED, 0xAB, 0xEE, 0xDB];
const RPM_LEAD: usize = 96;
const RPM_HEADER_MAGIC: [u8; 3] = [0x8E, 0xAD, 0xE8];
const RPMTAG_ARCH: u32 = 1022;
const RPM_STRING: u32 = 6;

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// One RPM header structure at `offset`: its index entries and its data
/// store, and where it ends.
struct RpmHeader<'a> {
    entries: &'a [u8],
    data: &'a [u8],
    end: usize,
}

fn rpm_header(bytes: &[u8], offset: usize) -> Option<RpmHeader<'_>> {
    if bytes.get(offset..offset + 3)? != RPM_HEADER_MAGIC {
        return None;
    }
    let count = usize::try_from(be32(bytes, offset + 8)?).ok()?;
    let size = usize::try_from(be32(bytes, offset + 12)?).ok()?;
    let entries_at = offset + 16;
    let data_at = entries_at.checked_add(count.checked_mul(16)?)?;
    let end = data_at.checked_add(size)?;
    Some(RpmHeader {
        entries: bytes.get(entries_at..data_at)?,
        data: bytes.get(data_at..end)?,
        end,
    })
}

/// The `ARCH` tag of a binary RPM's main header (after the lead and the
/// signature header, which is padded to 8 bytes).
fn rpm_arch(bytes: &[u8]) -> Result<String, String> {
    let not_rpm = |why: &str| format!("an RPM lead, but not a readable RPM package: {why}");
    // Lead: magic, major, minor, then the type (0 binary, 1 source).
    if bytes.get(6..8) != Some(&[0, 0]) {
        return Err(not_rpm("it is a source package, not a binary one"));
    }
    let signature =
        rpm_header(bytes, RPM_LEAD).ok_or_else(|| not_rpm("its signature header is unreadable"))?;
    let main_at = signature.end.next_multiple_of(8);
    let main = rpm_header(bytes, main_at).ok_or_else(|| not_rpm("its header is unreadable"))?;
    for entry in main.entries.chunks_exact(16) {
        let (Some(tag), Some(kind), Some(offset)) =
            (be32(entry, 0), be32(entry, 4), be32(entry, 8))
        else {
            continue;
        };
        if tag == RPMTAG_ARCH && kind == RPM_STRING {
            let rest = usize::try_from(offset)
                .ok()
                .and_then(|at| main.data.get(at..))
                .ok_or_else(|| not_rpm("its ARCH tag points outside the header"))?;
            let end = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| not_rpm("its ARCH tag is not terminated"))?;
            return std::str::from_utf8(&rest[..end])
                .map(str::to_owned)
                .map_err(|_| not_rpm("its ARCH tag is not text"));
        }
    }
    Err(not_rpm("its header names no architecture"))
}

fn updater_arch_of_rpm(arch: &str) -> Option<&'static str> {
    match arch {
        "x86_64" | "amd64" => Some("x86_64"),
        "aarch64" | "arm64" => Some("aarch64"),
        "i386" | "i486" | "i586" | "i686" => Some("i686"),
        "armv7hl" | "armv7l" | "armv7hnl" | "armhfp" => Some("armv7"),
        "riscv64" => Some("riscv64"),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ar_entry(out: &mut Vec<u8>, name: &str, body: &[u8]) {
        out.extend_from_slice(
            format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                0,
                0,
                0,
                100_644,
                body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(b'\n');
        }
    }

    /// A Debian package's container (the members' contents are not read).
    pub(crate) fn deb_bytes() -> Vec<u8> {
        let mut out = AR_MAGIC.to_vec();
        ar_entry(&mut out, "debian-binary", b"2.0\n");
        ar_entry(&mut out, "control.tar.gz", b"x");
        ar_entry(&mut out, "data.tar.gz", b"yz");
        out
    }

    fn header(tags: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut entries = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, value) in tags {
            for field in [*tag, *kind, data.len() as u32, 1] {
                entries.extend_from_slice(&field.to_be_bytes());
            }
            data.extend_from_slice(value);
        }
        let mut out = vec![0x8E, 0xAD, 0xE8, 0x01, 0, 0, 0, 0];
        out.extend_from_slice(&(tags.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(entries);
        out.extend(data);
        out
    }

    /// A binary RPM's lead and headers for `arch` (no payload).
    pub(crate) fn rpm_bytes(arch: &str) -> Vec<u8> {
        let mut out = vec![0u8; RPM_LEAD];
        out[..4].copy_from_slice(&RPM_MAGIC);
        out[4] = 3;
        // A signature header of 5 data bytes, so the padding is exercised.
        out.extend(header(&[(1000, 7, b"12345")]));
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let arch = format!("{arch}\0");
        out.extend(header(&[
            (1000, RPM_STRING, b"homedesk\0"),
            (RPMTAG_ARCH, RPM_STRING, arch.as_bytes()),
        ]));
        out
    }

    #[test]
    fn a_deb_is_known_by_its_members_and_its_arch_by_its_name() {
        let deb = deb_bytes();
        assert_eq!(
            inspect(&deb, "homedesk_1.2.0_amd64.deb"),
            Ok(Package {
                bundle: Bundle::Deb,
                arch: Some("x86_64")
            })
        );
        assert_eq!(inspect(&deb, "homedesk.deb").map(|p| p.arch), Ok(None));
        assert!(
            inspect(&deb, "homedesk_1.2.0_amd64.rpm").is_err(),
            "a .deb named .rpm"
        );
        let mut truncated = deb.clone();
        truncated.truncate(deb.len() - 4);
        assert!(
            inspect(&truncated, "a_amd64.deb").is_err(),
            "a truncated .deb"
        );
        let mut other_ar = AR_MAGIC.to_vec();
        ar_entry(&mut other_ar, "libfoo.o", b"\x7fELF");
        assert!(
            inspect(&other_ar, "a_amd64.deb").is_err(),
            "a static library is no .deb"
        );
    }

    #[test]
    fn an_rpm_is_known_by_its_lead_and_its_arch_by_its_header() {
        assert_eq!(
            inspect(&rpm_bytes("x86_64"), "homedesk-1.2.0-1.x86_64.rpm"),
            Ok(Package {
                bundle: Bundle::Rpm,
                arch: Some("x86_64")
            })
        );
        assert_eq!(
            inspect(&rpm_bytes("aarch64"), "h.rpm").map(|p| p.arch),
            Ok(Some("aarch64"))
        );
        assert_eq!(
            inspect(&rpm_bytes("noarch"), "h.rpm").map(|p| p.arch),
            Ok(None)
        );
        let mut source = rpm_bytes("x86_64");
        source[7] = 1;
        assert!(inspect(&source, "h.src.rpm").is_err(), "a source RPM");
        let rpm = rpm_bytes("x86_64");
        assert!(
            inspect(&rpm[..rpm.len() - 3], "h.rpm").is_err(),
            "a truncated header"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bytes in [
            &b""[..],
            b"PK\x03\x04zip",
            b"#!/bin/sh\necho hi\n",
            b"\x7fELF\x02\x01",
        ] {
            let err = inspect(bytes, "homedesk_1.2.0_amd64.deb").expect_err("not a package");
            assert!(err.contains("neither a Debian package"), "{err}");
        }
    }
}
