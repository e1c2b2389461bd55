//! Files sent ahead of a command (a drive-by file over HTTP): streamed to a spool file in
//! `<database folder>/spool/` (0700), known by a random id that only the uploading user can
//! use, read by `import_start` and deleted after. The Tauri window sends `content` instead.

use crate::ApiError;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The largest file one upload may hold.
pub const MAX_UPLOAD_BYTES: u64 = 2 << 30;
/// The longest file name an upload may carry.
pub const MAX_NAME_CHARS: usize = 255;
/// Spool files older than this (an upload never imported, a server stopped mid-way) are
/// deleted when the next upload begins.
const STALE_SECS: u64 = 24 * 3600;

/// A finished upload waiting for its command.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub owner: i64,
    pub path: PathBuf,
    pub lines: u64,
}

pub(crate) struct Uploads {
    dir: PathBuf,
    done: Mutex<HashMap<String, Upload>>,
}

impl Uploads {
    /// Uploads spooled beside the database `db`.
    pub fn beside(db: &Path) -> Uploads {
        let dir = db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("spool");
        Uploads { dir, done: Mutex::new(HashMap::new()) }
    }

    /// Take the upload `id` of the user `owner` (it can be used once); another user's or an
    /// unknown id is not found.
    pub fn take(&self, owner: i64, id: &str) -> Result<Upload, ApiError> {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        match done.get(id) {
            Some(u) if u.owner == owner => Ok(done.remove(id).expect("present")),
            _ => Err(ApiError::new("not_found", format!("no upload {id}"))),
        }
    }

    fn begin(&self, owner: i64, name: &str) -> Result<UploadWriter<'_>, ApiError> {
        if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS || name.contains('\0') {
            return Err(ApiError::bad_input("name", format!("a file name of 1 to {MAX_NAME_CHARS} characters")));
        }
        self.create_dir()?;
        self.remove_stale();
        let id = crate::random_hex(16);
        let path = self.dir.join(&id);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|e| io_error(&path, &e))?;
        Ok(UploadWriter { uploads: self, file: Some(file), id, owner, path, bytes: 0, lines: 0, last: b'\n' })
    }

    fn create_dir(&self) -> Result<(), ApiError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(|e| io_error(&self.dir, &e))
    }

    fn remove_stale(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > STALE_SECS);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> ApiError {
    ApiError::new("io", format!("cannot write {}: {e}", path.display()))
}

/// An upload being written; dropped before [`UploadWriter::finish`], its file is deleted.
pub struct UploadWriter<'a> {
    uploads: &'a Uploads,
    file: Option<std::fs::File>,
    id: String,
    owner: i64,
    path: PathBuf,
    bytes: u64,
    lines: u64,
    last: u8,
}

impl UploadWriter<'_> {
    /// Append `chunk`; past [`MAX_UPLOAD_BYTES`] a `too_large` error (and the file goes).
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.bytes += chunk.len() as u64;
        if self.bytes > MAX_UPLOAD_BYTES {
            return Err(too_large(MAX_UPLOAD_BYTES));
        }
        self.lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(b) = chunk.last() {
            self.last = *b;
        }
        let file = self.file.as_mut().ok_or_else(|| ApiError::new("internal", "upload already finished"))?;
        file.write_all(chunk).map_err(|e| io_error(&self.path, &e))
    }

    /// The upload complete: `{upload, bytes}`, its id usable by its user's next command.
    pub fn finish(mut self) -> Result<serde_json::Value, ApiError> {
        let file = self.file.take().ok_or_else(|| ApiError::new("internal", "upload already finished"))?;
        file.sync_all().map_err(|e| io_error(&self.path, &e))?;
        let lines = self.lines + u64::from(self.last != b'\n');
        let upload = Upload { owner: self.owner, path: self.path.clone(), lines };
        self.uploads.done.lock().unwrap_or_else(|p| p.into_inner()).insert(self.id.clone(), upload);
        let answer = serde_json::json!({ "upload": self.id, "bytes": self.bytes });
        self.path = PathBuf::new();
        Ok(answer)
    }
}

impl Drop for UploadWriter<'_> {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A body or file over `limit` bytes.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::new("too_large", format!("more than {limit} bytes")).with_params(serde_json::json!({ "limit": limit }))
}

impl crate::Ctx {
    /// Begin an upload of the file `name` (for `import_start`) for the session `token`: the
    /// session and its import permission are checked first.
    pub fn upload(&self, token: Option<&str>, name: &str) -> Result<UploadWriter<'_>, ApiError> {
        let session = self.session(token)?;
        session.permit(releve_core::access::Permission::Import)?;
        self.uploads.begin(session.user_id, name)
    }
}
