//! The key file beside an agent's store (`<code>.key.json`): the data key
//! sealed with the password (Argon2id → ChaCha20-Poly1305) and with the
//! device secret, what the lock screen shows, and the unlock throttle.
//!
//! Written atomically (a 0600 temporary file in the same folder, flushed,
//! renamed), so a power cut leaves the old or the new file, never half.
//! The agent code is bound into every seal (associated data), so a key file
//! copied beside another agent's store does not open it.

use std::io::Write;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use homedesk_protocol::UnixMillis;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::StoreKey;
use crate::Error;

/// The only version of the key file so far.
pub const KEY_FILE_VERSION: u32 = 1;

/// Argon2id cost of deriving the password's sealing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (decision 0033 has the time it takes).
    fn default() -> Self {
        KdfParams {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }
}

impl KdfParams {
    /// Cheap parameters for tests only (the file records them, so a store
    /// sealed with them still opens); never used by the app.
    #[doc(hidden)]
    pub fn cheap_for_tests() -> KdfParams {
        KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        }
    }
}

/// The key derivation recorded in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always `argon2id`.
    pub alg: String,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    /// 16 random bytes, base64url.
    pub salt: String,
}

/// A sealed data key: ChaCha20-Poly1305, base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    pub nonce: String,
    pub ciphertext: String,
}

/// The file; see the module comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub version: u32,
    pub agent: String,
    pub name: String,
    pub queues: Vec<String>,
    pub saved_session: bool,
    pub kdf: Kdf,
    pub by_password: Sealed,
    pub by_device: Option<Sealed>,
    /// Wrong passwords in a row.
    pub failures: u32,
    /// No try is checked before this time (0: none).
    pub wait_until_ms: UnixMillis,
}

impl KeyFile {
    /// A new file for `key`, sealed with `password` (new salt) and, if
    /// given, the device secret.
    pub fn seal(
        key: &StoreKey,
        agent: &str,
        (name, queues): (&str, &[String]),
        password: &str,
        device_secret: Option<&[u8]>,
        params: &KdfParams,
    ) -> Result<KeyFile, Error> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let kdf = Kdf {
            alg: "argon2id".into(),
            m_kib: params.m_kib,
            t: params.t,
            p: params.p,
            salt: URL_SAFE_NO_PAD.encode(salt),
        };
        let by_password = seal(&*password_key(&kdf, password)?, agent, key)?;
        let by_device = device_secret
            .map(|s| seal(&device_key(s), agent, key))
            .transpose()?;
        Ok(KeyFile {
            version: KEY_FILE_VERSION,
            agent: agent.to_owned(),
            name: name.to_owned(),
            queues: queues.to_vec(),
            saved_session: false,
            kdf,
            by_password,
            by_device,
            failures: 0,
            wait_until_ms: 0,
        })
    }

    /// The data key, if `password` opens it.
    pub fn open_by_password(&self, password: &str) -> Option<StoreKey> {
        let wrapping = password_key(&self.kdf, password).ok()?;
        open(&wrapping, &self.agent, &self.by_password)
    }

    /// The data key, if the device secret opens it.
    pub fn open_by_device(&self, secret: &[u8]) -> Option<StoreKey> {
        open(&device_key(secret), &self.agent, self.by_device.as_ref()?)
    }
}

/// Reads the key file at `path`; `None` when there is none.
pub fn read(path: &Path) -> Result<Option<KeyFile>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Store(format!("cannot read {}: {e}", path.display()))),
    };
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Store(format!(
            "the key file {} cannot be read ({e}); nothing was changed",
            path.display()
        ))
    })?;
    if file.version != KEY_FILE_VERSION || file.kdf.alg != "argon2id" {
        return Err(Error::Store(format!(
            "the key file {} was made by another Homedesk version; update Homedesk",
            path.display()
        )));
    }
    Ok(Some(file))
}

/// Writes `file` to `path` atomically, owner-only.
pub fn write(path: &Path, file: &KeyFile) -> Result<(), Error> {
    let folder = path.parent().unwrap_or(Path::new("."));
    crate::store::owner_only_dir(folder).map_err(|source| Error::DataDir {
        path: folder.to_owned(),
        source,
    })?;
    let failed = |e: std::io::Error| Error::Store(format!("cannot write {}: {e}", path.display()));
    let json = serde_json::to_vec_pretty(file).map_err(|e| Error::Store(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut out = crate::store::create_owner_only(&tmp, true).map_err(failed)?;
        out.write_all(&json).map_err(failed)?;
        out.sync_all().map_err(failed)?;
    }
    std::fs::rename(&tmp, path).map_err(failed)?;
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn password_key(kdf: &Kdf, password: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
    let salt = URL_SAFE_NO_PAD
        .decode(&kdf.salt)
        .map_err(|e| Error::Store(format!("key file salt: {e}")))?;
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| Error::Store(format!("key file parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), &salt, out.as_mut())
        .map_err(|e| Error::Store(format!("key derivation: {e}")))?;
    Ok(out)
}

fn device_key(secret: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut hash = Sha256::new();
    hash.update(b"homedesk store key by device secret v1\0");
    hash.update(secret);
    Zeroizing::new(hash.finalize().into())
}

fn aad(agent: &str) -> Vec<u8> {
    format!("homedesk store key v1\0{agent}").into_bytes()
}

fn seal(wrapping: &[u8; 32], agent: &str, key: &StoreKey) -> Result<Sealed, Error> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(wrapping));
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let aad = aad(agent);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: key.bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| Error::Store("cannot seal the store key".into()))?;
    Ok(Sealed {
        nonce: URL_SAFE_NO_PAD.encode(nonce),
        ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
    })
}

fn open(wrapping: &[u8; 32], agent: &str, sealed: &Sealed) -> Option<StoreKey> {
    let nonce = URL_SAFE_NO_PAD.decode(&sealed.nonce).ok()?;
    let ciphertext = URL_SAFE_NO_PAD.decode(&sealed.ciphertext).ok()?;
    if nonce.len() != 12 {
        return None;
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(wrapping));
    let aad = aad(agent);
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .ok()?,
    );
    let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
    Some(StoreKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(password: &str, secret: Option<&[u8]>) -> (StoreKey, KeyFile) {
        let key = StoreKey::random();
        let file = KeyFile::seal(
            &key,
            "a1001",
            ("陈建国", &["aftersales".to_owned()]),
            password,
            secret,
            &KdfParams::cheap_for_tests(),
        )
        .expect("seals");
        (key, file)
    }

    #[test]
    fn the_password_opens_the_key_and_a_wrong_one_does_not() {
        let (key, file) = file("s3cret-密码", None);
        let opened = file.open_by_password("s3cret-密码").expect("opens");
        assert_eq!(opened.bytes(), key.bytes());
        assert!(file.open_by_password("s3cret-密").is_none());
        assert!(file.open_by_device(&[7; 32]).is_none(), "no device seal");
        let json = serde_json::to_string(&file).expect("json");
        assert!(!json.contains(&hex(key.bytes())), "the key is never stored");
    }

    #[test]
    fn the_device_secret_opens_the_key_and_another_secret_does_not() {
        let (key, file) = file("old", Some(&[9; 32]));
        assert_eq!(
            file.open_by_device(&[9; 32]).expect("opens").bytes(),
            key.bytes()
        );
        assert!(file.open_by_device(&[8; 32]).is_none());
    }

    #[test]
    fn a_seal_is_bound_to_its_agent() {
        let (_, mut file) = file("pw", None);
        file.agent = "a1002".into();
        assert!(
            file.open_by_password("pw").is_none(),
            "a key file renamed for another agent must not open"
        );
    }

    #[test]
    fn the_file_is_written_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agents").join("a1001.key.json");
        let (_, file) = file("pw", None);
        write(&path, &file).expect("writes");
        assert_eq!(read(&path).expect("reads"), Some(file));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key file owner-only");
            let mode = std::fs::metadata(path.parent().expect("dir"))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "folder owner-only");
        }
    }

    #[test]
    fn a_damaged_key_file_is_a_clear_error_and_is_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a1001.key.json");
        std::fs::write(&path, b"{not json").expect("write");
        let err = read(&path).expect_err("refused");
        assert!(err.to_string().contains("a1001.key.json"), "{err}");
        assert_eq!(std::fs::read(&path).expect("kept"), b"{not json");
    }

    /// `cargo test … --lib -- --ignored default_derivation_time --nocapture`:
    /// what the default parameters cost on this PC (argon2 and blake2 are
    /// built at opt-level 3 in every profile, so this is release speed).
    #[test]
    #[ignore = "a measurement for decision 0033, not a check"]
    fn default_derivation_time() {
        let kdf = Kdf {
            alg: "argon2id".into(),
            m_kib: KdfParams::default().m_kib,
            t: KdfParams::default().t,
            p: KdfParams::default().p,
            salt: URL_SAFE_NO_PAD.encode([1u8; 16]),
        };
        let mut times: Vec<u128> = (0..5)
            .map(|_| {
                let started = std::time::Instant::now();
                password_key(&kdf, "homedesk-demo").expect("derives");
                started.elapsed().as_millis()
            })
            .collect();
        times.sort_unstable();
        println!(
            "argon2id m=64 MiB t=3 p=1: median {} ms of {times:?}",
            times[2]
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
