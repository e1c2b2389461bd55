//! Meter keys at rest: each AES key is sealed with AES-256-GCM (a random 96-bit nonce per
//! key, the key's identity — serial and manufacturer — as associated data, so a sealed key
//! cannot be moved to another meter's row) under a master key kept outside the database:
//! the file `<database>.key` beside it (created 0600 at first use, 32 random bytes as hex),
//! read by `releve serve`, the CLI and the desktop window alike. The database file copied
//! elsewhere reveals no key.
//!
//! The master key is read once per process, when a key is first sealed or opened; a store
//! that never holds a key never creates the file.

use crate::error::{Error, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Length of a sealed key: nonce (12) + encrypted key (16) + tag (16).
pub const SEALED_LEN: usize = 12 + 16 + 16;

/// Where the master key lives, and the cipher once read.
pub struct Vault {
    file: PathBuf,
    cipher: OnceLock<Aes256Gcm>,
}

impl Vault {
    /// The vault of the database at `db`: its master key in `<db>.key`.
    pub fn beside(db: &Path) -> Vault {
        let mut file = db.as_os_str().to_owned();
        file.push(".key");
        Vault { file: PathBuf::from(file), cipher: OnceLock::new() }
    }

    /// The master key file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Seal `key` (the AES key of meter `serial` of `manufacturer`; `""`: any manufacturer),
    /// creating the master key file if there is none yet.
    pub fn seal(&self, serial: &str, manufacturer: &str, key: &[u8; 16]) -> Result<Vec<u8>> {
        let cipher = self.cipher(true)?;
        let nonce: [u8; 12] = rand::random();
        let aad = identity(serial, manufacturer);
        let sealed = cipher
            .encrypt(&nonce.into(), Payload { msg: key, aad: &aad })
            .map_err(|_| Error::bad_input("key", "the key cannot be sealed"))?;
        let mut out = Vec::with_capacity(SEALED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Open a key sealed by [`Vault::seal`] for the same identity.
    pub fn open(&self, serial: &str, manufacturer: &str, sealed: &[u8]) -> Result<[u8; 16]> {
        let cipher = self.cipher(false)?;
        let unreadable = || Error::Keys {
            problem: "sealed_key_unreadable",
            file: self.file.display().to_string(),
            reason: format!(
                "the stored key of meter {serial}{} does not open with the master key {}: the database and the key file do not belong together",
                if manufacturer.is_empty() { String::new() } else { format!(" ({manufacturer})") },
                self.file.display()
            ),
        };
        if sealed.len() != SEALED_LEN {
            return Err(unreadable());
        }
        let nonce: [u8; 12] = sealed[..12].try_into().map_err(|_| unreadable())?;
        let aad = identity(serial, manufacturer);
        let clear = cipher.decrypt(&nonce.into(), Payload { msg: &sealed[12..], aad: &aad }).map_err(|_| unreadable())?;
        <[u8; 16]>::try_from(clear.as_slice()).map_err(|_| unreadable())
    }

    fn cipher(&self, create: bool) -> Result<&Aes256Gcm> {
        if let Some(c) = self.cipher.get() {
            return Ok(c);
        }
        let master = match read_master(&self.file)? {
            Some(m) => m,
            None if create => create_master(&self.file)?,
            None => {
                return Err(Error::Keys {
                    problem: "master_key_missing",
                    file: self.file.display().to_string(),
                    reason: format!(
                        "the master key file {} is missing: the AES keys stored in the database cannot be read (put the key file back beside the database, or import the keys again)",
                        self.file.display()
                    ),
                })
            }
        };
        let cipher = Aes256Gcm::new(&master.into());
        Ok(self.cipher.get_or_init(|| cipher))
    }
}

/// What a sealed key is bound to.
fn identity(serial: &str, manufacturer: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(serial.len() + manufacturer.len() + 1);
    aad.extend_from_slice(serial.as_bytes());
    aad.push(0);
    aad.extend_from_slice(manufacturer.as_bytes());
    aad
}

/// The master key of `file`, if the file exists. A file others may read is refused.
fn read_master(file: &Path) -> Result<Option<[u8; 32]>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(file, e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).map_err(|e| Error::io(file, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::Keys {
                problem: "master_key_open",
                file: file.display().to_string(),
                reason: format!(
                    "the master key file {} may be read by other users (mode {:o}): make it readable by the service user only (chmod 600)",
                    file.display(),
                    mode & 0o777
                ),
            });
        }
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    let bad = || Error::Keys {
        problem: "master_key_unreadable",
        file: file.display().to_string(),
        reason: format!("the master key file {} does not hold a key (64 hexadecimal digits)", file.display()),
    };
    let bytes = hex::decode(line).map_err(|_| bad())?;
    Ok(Some(<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())?))
}

/// Make a new master key file, readable by its owner only. Two processes doing it at once
/// agree on one key: the file is written under a temporary name and linked into place only
/// if no file is there yet.
fn create_master(file: &Path) -> Result<[u8; 32]> {
    let master: [u8; 32] = rand::random();
    let text = format!(
        "# Relevé master key: the AES keys of the database beside this file are sealed with it.\n# Keep it readable by the service user only, and back it up apart from the database.\n{}\n",
        hex::encode(master)
    );
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
    }
    let linked = std::fs::hard_link(&tmp, file);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(master),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_master(file)?.ok_or_else(|| Error::io(file, std::io::Error::from(std::io::ErrorKind::NotFound)))
        }
        Err(e) => Err(Error::io(file, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_sealed_opens_only_for_its_meter() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::beside(&dir.path().join("r.db"));
        let key = [7u8; 16];
        let sealed = vault.seal("12345678", "KAM", &key).expect("seal");
        assert_eq!(sealed.len(), SEALED_LEN);
        assert!(!sealed.windows(16).any(|w| w == key), "the key is not in the sealed bytes");
        assert_eq!(vault.open("12345678", "KAM", &sealed).expect("open"), key);
        assert!(vault.open("12345679", "KAM", &sealed).is_err(), "bound to its serial");
        assert!(vault.open("12345678", "", &sealed).is_err(), "and to its manufacturer");
        // A second process reads the same file.
        let again = Vault::beside(&dir.path().join("r.db"));
        assert_eq!(again.open("12345678", "KAM", &sealed).expect("open"), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(vault.file()).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Another master key: refused in words.
        let other = tempfile::tempdir().expect("dir");
        let stranger = Vault::beside(&other.path().join("r.db"));
        stranger.seal("1", "", &key).expect("its own key");
        let e = stranger.open("12345678", "KAM", &sealed).expect_err("wrong master");
        assert_eq!(e.code(), "sealed_key_unreadable");
    }
}
