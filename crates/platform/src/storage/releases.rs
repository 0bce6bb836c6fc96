//! Storage of published desktop releases (migration 0007): a release's
//! record and its package bytes in fixed-size chunks, read back one chunk at
//! a time. Kept beside [`super::Tx`] as its own trait, like
//! [`super::ChannelTx`], so the SQL for this concern lives in one file
//! (`sqlite/releases.rs`).

use homedesk_protocol::UnixMillis;

/// Bytes per stored chunk of a package: a download holds one chunk in
/// memory at a time.
pub const RELEASE_CHUNK_BYTES: usize = 1024 * 1024;

/// A published release, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRow {
    /// Hex SHA-256 of the package.
    pub id: String,
    /// The updater's key, e.g. `linux-x86_64-deb`.
    pub target: String,
    pub version: String,
    /// The package's file name when it was published.
    pub file_name: String,
    pub size: u64,
    /// Base64 of the minisign signature text.
    pub signature: String,
    pub notes_zh: Option<String>,
    pub notes_en: Option<String>,
    pub published_at: UnixMillis,
}

pub trait ReleaseTx {
    /// Stores a release and its bytes (in [`RELEASE_CHUNK_BYTES`] chunks).
    fn insert_release(&mut self, row: &ReleaseRow, package: &[u8]) -> anyhow::Result<()>;
    fn release(&mut self, id: &str) -> anyhow::Result<Option<ReleaseRow>>;
    /// Every release, of one target when `target` is given, in the order
    /// they were published.
    fn releases(&mut self, target: Option<&str>) -> anyhow::Result<Vec<ReleaseRow>>;
    /// Chunk `n` (from 0) of a release's package; `None` past its end.
    fn release_chunk(&mut self, id: &str, n: u64) -> anyhow::Result<Option<Vec<u8>>>;
}
