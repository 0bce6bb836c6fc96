//! Files only the platform's own OS user may read: the data folder (0700),
//! the database with its `-wal`/`-shm`, private keys, secrets and the config
//! file (0600). Created that way from the start, so there is no moment when
//! another user could open them; a database made by an older version is
//! tightened when it is opened.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Creates `dir` (and missing parents) readable by the owner only. A folder
/// that exists already is left as the administrator made it.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating the folder {}", dir.display()))
}

/// Writes `contents` to `path` (replacing it), readable by the owner only,
/// and syncs it to disk.
pub fn write(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // An existing file keeps its mode through `open`: tighten it.
    restrict(path)?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// Makes an existing file readable by its owner only (nothing when absent).
pub fn restrict(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("making {} readable by its owner only", path.display())
                });
            }
        }
    }
    Ok(())
}

/// Creates an empty file at `path` readable by the owner only, unless it
/// exists (then it is tightened): SQLite gives the `-wal` and `-shm` files
/// the mode of the database file.
pub fn touch(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    restrict(path)
}
