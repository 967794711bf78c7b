//! Buckets and objects: an in-memory catalog over one of two [`Backend`]s, memory (the
//! default) or a directory (`--data-dir`), so that S3 handlers never know which one they use.
//!
//! The catalog (bucket and object metadata, ordered by key for listing) always lives in memory
//! behind one mutex; backends only keep bytes. The directory backend writes every object as
//! one file, a JSON metadata line followed by the bytes, so an object and its metadata are
//! replaced together by one `rename`.
//!
//! Invariants of the directory backend:
//! - **No path is built from a key or an untrusted name.** A bucket's folder is the hex of its
//!   name; an object's file is the hex SHA-256 of its key (keys reach 1024 bytes, past file-name
//!   limits) and the key itself lives inside the file. Whatever bytes a key holds (`../`, NUL,
//!   `/`), the file stays `buckets/<hex>/objects/<64 hex>.obj`.
//! - **Writes are atomic**: a temporary `.tmp-*` file in the same folder, written, `fsync`ed,
//!   renamed over the target, then the folder `fsync`ed. A crash leaves either the old object
//!   or the new one, plus perhaps a temporary file, which [`Store::open_dir`] deletes and
//!   never lists.
//! - A bucket exists exactly when its `bucket.json` does; a folder without one (a create or a
//!   delete cut short) is removed on start.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::checksum::Checksum;
use crate::timestamp;

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BucketMeta {
    /// Its name.
    pub name: String,
    /// The account that created it; only that account may use it.
    pub owner_account: String,
    /// The region of the request that created it (`x-amz-bucket-region`).
    pub region: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Whether ACLs are enabled: created with `x-amz-object-ownership` `ObjectWriter` or
    /// `BucketOwnerPreferred`. S3's default since April 2023, `BucketOwnerEnforced`, refuses
    /// requests that grant ACLs. (Absent in files written before the field: enforced.)
    #[serde(default)]
    pub acls_enabled: bool,
}

impl BucketMeta {
    /// Creation time.
    pub(crate) fn created(&self) -> SystemTime {
        timestamp::from_unix_millis(self.created_ms)
    }
}

/// An object's metadata: everything but its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The ETag, with its quotes.
    pub etag: String,
    /// Last-modified time, Unix milliseconds (whole seconds, as S3 keeps them).
    pub last_modified_ms: u64,
    /// `Content-Type` as uploaded, if any.
    pub content_type: Option<String>,
    /// The other content headers as uploaded (`cache-control`, `content-disposition`,
    /// `content-encoding`, `content-language`, `expires`), names lower-case.
    pub headers: Vec<(String, String)>,
    /// User metadata (`x-amz-meta-NAME`), names lower-case without the prefix.
    pub metadata: Vec<(String, String)>,
    /// The stored checksum.
    pub checksum: Option<Checksum>,
    /// Number of parts, for objects from multipart uploads.
    pub parts_count: Option<u32>,
}

impl ObjectMeta {
    /// Last-modified time.
    pub(crate) fn last_modified(&self) -> SystemTime {
        timestamp::from_unix_millis(self.last_modified_ms)
    }
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The bucket does not exist.
    #[error("no such bucket")]
    NoSuchBucket,
    /// The key does not exist.
    #[error("no such key")]
    NoSuchKey,
    /// The bucket exists already (the value is its owner's account).
    #[error("bucket exists, owned by {0}")]
    BucketExists(String),
    /// `DeleteBucket` on a bucket that still has objects.
    #[error("bucket not empty")]
    BucketNotEmpty,
    /// The data directory failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, and where.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A stored file does not parse.
    #[error("corrupt store file {0}")]
    Corrupt(String),
}

fn io_error(context: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io {
        context: context(),
        source,
    }
}

/// Where an object's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Blob {
    /// In memory, shared.
    Memory(Bytes),
    /// In the object's file; read on demand.
    Disk,
}

/// Where bytes are kept. Called with the catalog locked, so calls for one store never overlap.
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// Persists a new bucket.
    ///
    /// # Errors
    /// I/O failures.
    fn save_bucket(&self, bucket: &BucketMeta) -> Result<(), StoreError>;
    /// Forgets an (empty) bucket.
    ///
    /// # Errors
    /// I/O failures.
    fn remove_bucket(&self, name: &str) -> Result<(), StoreError>;
    /// Stores an object, replacing any with the same key, and says where its bytes are.
    ///
    /// # Errors
    /// I/O failures.
    fn save_object(
        &self,
        bucket: &str,
        meta: &ObjectMeta,
        data: &Bytes,
    ) -> Result<Blob, StoreError>;
    /// Reads back an object stored as [`Blob::Disk`], with the metadata stored beside it.
    ///
    /// # Errors
    /// `NoSuchKey` when it is gone, I/O failures.
    fn load_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, Bytes), StoreError>;
    /// Deletes an object (absent is fine).
    ///
    /// # Errors
    /// I/O failures.
    fn remove_object(&self, bucket: &str, key: &str) -> Result<(), StoreError>;
    /// Everything stored so far, for the catalog at start.
    ///
    /// # Errors
    /// I/O failures.
    fn load(&self) -> Result<Vec<(BucketMeta, Vec<ObjectMeta>)>, StoreError>;
}

/// Keeps bytes in memory: nothing to persist.
#[derive(Debug, Default)]
pub(crate) struct MemoryBackend;

impl Backend for MemoryBackend {
    fn save_bucket(&self, _: &BucketMeta) -> Result<(), StoreError> {
        Ok(())
    }
    fn remove_bucket(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn save_object(&self, _: &str, _: &ObjectMeta, data: &Bytes) -> Result<Blob, StoreError> {
        Ok(Blob::Memory(data.clone()))
    }
    fn load_object(&self, _: &str, _: &str) -> Result<(ObjectMeta, Bytes), StoreError> {
        // Memory blobs never ask (the catalog holds their bytes).
        Err(StoreError::NoSuchKey)
    }
    fn remove_object(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn load(&self) -> Result<Vec<(BucketMeta, Vec<ObjectMeta>)>, StoreError> {
        Ok(Vec::new())
    }
}

/// Keeps buckets and objects under a directory (module docs for the layout and invariants).
#[derive(Debug)]
pub(crate) struct DirBackend {
    root: PathBuf,
}

/// Prefix of temporary files; final names never start with a dot.
const TMP_PREFIX: &str = ".tmp-";
const BUCKET_FILE: &str = "bucket.json";
const OBJECT_SUFFIX: &str = ".obj";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DirBackend {
    /// Opens (creating) `root`, deleting leftovers of interrupted writes.
    ///
    /// # Errors
    /// When the directory cannot be created or read.
    pub(crate) fn open(root: &Path) -> Result<DirBackend, StoreError> {
        let buckets = root.join("buckets");
        fs::create_dir_all(&buckets)
            .map_err(io_error(|| format!("cannot create {}", buckets.display())))?;
        let backend = DirBackend {
            root: root.to_path_buf(),
        };
        backend.clean()?;
        Ok(backend)
    }

    fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    fn bucket_dir(&self, name: &str) -> PathBuf {
        self.buckets_dir().join(hex::encode(name.as_bytes()))
    }

    fn objects_dir(&self, bucket: &str) -> PathBuf {
        self.bucket_dir(bucket).join("objects")
    }

    /// The file name of a key: never the key itself.
    fn object_file(key: &str) -> String {
        format!(
            "{}{OBJECT_SUFFIX}",
            crate::sigv4::hex_sha256(key.as_bytes())
        )
    }

    /// Removes temporary files and bucket folders without `bucket.json`.
    fn clean(&self) -> Result<(), StoreError> {
        let buckets = self.buckets_dir();
        for entry in read_dir(&buckets)? {
            let path = entry.path();
            if is_tmp(&path) {
                remove_file(&path)?;
                continue;
            }
            if !path.is_dir() {
                continue;
            }
            if !path.join(BUCKET_FILE).exists() {
                tracing::warn!(dir = %path.display(), "removing a bucket folder without bucket.json");
                fs::remove_dir_all(&path)
                    .map_err(io_error(|| format!("cannot remove {}", path.display())))?;
                continue;
            }
            for dir in [path.clone(), path.join("objects")] {
                if !dir.is_dir() {
                    continue;
                }
                for file in read_dir(&dir)? {
                    if is_tmp(&file.path()) {
                        tracing::info!(file = %file.path().display(), "removing an interrupted write");
                        remove_file(&file.path())?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_tmp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(TMP_PREFIX))
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, StoreError> {
    let entries =
        fs::read_dir(dir).map_err(io_error(|| format!("cannot read {}", dir.display())))?;
    entries
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_error(|| format!("cannot read {}", dir.display())))
}

fn remove_file(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(|| format!("cannot remove {}", path.display()))(e)),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `pieces` to `dir/name` atomically: temporary file, fsync, rename, fsync the folder.
fn write_atomic(dir: &Path, name: &str, pieces: &[&[u8]]) -> Result<(), StoreError> {
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let write = || -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        for piece in pieces {
            file.write_all(piece)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dir.join(name))?;
        sync_dir(dir)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(|| format!("cannot write {}", dir.join(name).display()))(e)
    })
}

/// Splits an object file into its metadata line and bytes.
fn parse_object_file(path: &Path, contents: Vec<u8>) -> Result<(ObjectMeta, Bytes), StoreError> {
    let corrupt = || StoreError::Corrupt(path.display().to_string());
    let newline = contents
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(corrupt)?;
    let meta: ObjectMeta = serde_json::from_slice(&contents[..newline]).map_err(|_| corrupt())?;
    let data = Bytes::from(contents).slice(newline + 1..);
    if data.len() as u64 != meta.size {
        return Err(corrupt());
    }
    Ok((meta, data))
}

impl Backend for DirBackend {
    fn save_bucket(&self, bucket: &BucketMeta) -> Result<(), StoreError> {
        let dir = self.bucket_dir(&bucket.name);
        let objects = dir.join("objects");
        fs::create_dir_all(&objects)
            .map_err(io_error(|| format!("cannot create {}", objects.display())))?;
        let json = serde_json::to_vec(bucket).map_err(|e| StoreError::Io {
            context: "cannot encode bucket".to_owned(),
            source: io::Error::other(e),
        })?;
        write_atomic(&dir, BUCKET_FILE, &[&json])?;
        sync_dir(&self.buckets_dir()).map_err(io_error(|| {
            format!("cannot sync {}", self.buckets_dir().display())
        }))
    }

    fn remove_bucket(&self, name: &str) -> Result<(), StoreError> {
        let dir = self.bucket_dir(name);
        // The marker goes first: a crash after it leaves a folder that start-up removes.
        remove_file(&dir.join(BUCKET_FILE))?;
        sync_dir(&dir).map_err(io_error(|| format!("cannot sync {}", dir.display())))?;
        fs::remove_dir_all(&dir).map_err(io_error(|| format!("cannot remove {}", dir.display())))
    }

    fn save_object(
        &self,
        bucket: &str,
        meta: &ObjectMeta,
        data: &Bytes,
    ) -> Result<Blob, StoreError> {
        let mut line = serde_json::to_vec(meta).map_err(|e| StoreError::Io {
            context: "cannot encode object metadata".to_owned(),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        write_atomic(
            &self.objects_dir(bucket),
            &Self::object_file(&meta.key),
            &[&line, data],
        )?;
        Ok(Blob::Disk)
    }

    fn load_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, Bytes), StoreError> {
        let path = self.objects_dir(bucket).join(Self::object_file(key));
        let mut contents = Vec::new();
        match File::open(&path) {
            Ok(mut file) => file
                .read_to_end(&mut contents)
                .map_err(io_error(|| format!("cannot read {}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchKey),
            Err(e) => return Err(io_error(|| format!("cannot open {}", path.display()))(e)),
        };
        let (meta, data) = parse_object_file(&path, contents)?;
        if meta.key != key {
            return Err(StoreError::NoSuchKey);
        }
        Ok((meta, data))
    }

    fn remove_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let dir = self.objects_dir(bucket);
        remove_file(&dir.join(Self::object_file(key)))?;
        sync_dir(&dir).map_err(io_error(|| format!("cannot sync {}", dir.display())))
    }

    fn load(&self) -> Result<Vec<(BucketMeta, Vec<ObjectMeta>)>, StoreError> {
        let mut out = Vec::new();
        for entry in read_dir(&self.buckets_dir())? {
            let dir = entry.path();
            let marker = dir.join(BUCKET_FILE);
            if !dir.is_dir() || !marker.exists() {
                continue;
            }
            let json = fs::read(&marker)
                .map_err(io_error(|| format!("cannot read {}", marker.display())))?;
            let bucket: BucketMeta = serde_json::from_slice(&json)
                .map_err(|_| StoreError::Corrupt(marker.display().to_string()))?;
            let mut objects = Vec::new();
            let objects_dir = dir.join("objects");
            if objects_dir.is_dir() {
                for file in read_dir(&objects_dir)? {
                    let path = file.path();
                    let is_object = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(OBJECT_SUFFIX) && !n.starts_with('.'));
                    if !is_object {
                        continue;
                    }
                    match read_meta_line(&path) {
                        Ok(meta)
                            if Self::object_file(&meta.key)
                                == file.file_name().to_string_lossy() =>
                        {
                            objects.push(meta);
                        }
                        Ok(_) | Err(_) => {
                            tracing::warn!(file = %path.display(), "skipping an unreadable object file");
                        }
                    }
                }
            }
            out.push((bucket, objects));
        }
        Ok(out)
    }
}

/// Reads only the metadata line of an object file (start-up does not read object bytes).
fn read_meta_line(path: &Path) -> Result<ObjectMeta, StoreError> {
    let file = File::open(path).map_err(io_error(|| format!("cannot open {}", path.display())))?;
    let mut line = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut line)
        .map_err(io_error(|| format!("cannot read {}", path.display())))?;
    serde_json::from_slice(&line).map_err(|_| StoreError::Corrupt(path.display().to_string()))
}

#[derive(Debug)]
struct ObjectEntry {
    meta: ObjectMeta,
    blob: Blob,
}

#[derive(Debug)]
struct BucketEntry {
    meta: BucketMeta,
    objects: BTreeMap<String, ObjectEntry>,
}

/// The buckets and objects of one mock: a catalog in memory over a [`Backend`].
#[derive(Debug)]
pub(crate) struct Store {
    catalog: Mutex<BTreeMap<String, BucketEntry>>,
    backend: Box<dyn Backend>,
}

impl Default for Store {
    fn default() -> Self {
        Store::memory()
    }
}

impl Store {
    /// Everything in memory.
    pub(crate) fn memory() -> Store {
        Store {
            catalog: Mutex::new(BTreeMap::new()),
            backend: Box::new(MemoryBackend),
        }
    }

    /// Buckets and objects kept under `root`, loading what is already there.
    ///
    /// # Errors
    /// When the directory cannot be created, cleaned or read.
    pub(crate) fn open_dir(root: &Path) -> Result<Store, StoreError> {
        let backend = DirBackend::open(root)?;
        let mut catalog = BTreeMap::new();
        for (bucket, objects) in backend.load()? {
            let objects = objects
                .into_iter()
                .map(|meta| {
                    (
                        meta.key.clone(),
                        ObjectEntry {
                            meta,
                            blob: Blob::Disk,
                        },
                    )
                })
                .collect();
            catalog.insert(
                bucket.name.clone(),
                BucketEntry {
                    meta: bucket,
                    objects,
                },
            );
        }
        Ok(Store {
            catalog: Mutex::new(catalog),
            backend: Box::new(backend),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, BucketEntry>> {
        self.catalog.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a bucket.
    ///
    /// # Errors
    /// `BucketExists` with the owner when the name is taken; I/O failures.
    pub(crate) fn create_bucket(&self, meta: BucketMeta) -> Result<(), StoreError> {
        let mut catalog = self.lock();
        if let Some(existing) = catalog.get(&meta.name) {
            return Err(StoreError::BucketExists(
                existing.meta.owner_account.clone(),
            ));
        }
        self.backend.save_bucket(&meta)?;
        catalog.insert(
            meta.name.clone(),
            BucketEntry {
                meta,
                objects: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// A bucket's metadata.
    pub(crate) fn bucket(&self, name: &str) -> Option<BucketMeta> {
        self.lock().get(name).map(|b| b.meta.clone())
    }

    /// Every bucket, by name.
    pub(crate) fn buckets(&self) -> Vec<BucketMeta> {
        self.lock().values().map(|b| b.meta.clone()).collect()
    }

    /// Deletes an empty bucket.
    ///
    /// # Errors
    /// `NoSuchBucket`, `BucketNotEmpty`, I/O failures.
    pub(crate) fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        let mut catalog = self.lock();
        let bucket = catalog.get(name).ok_or(StoreError::NoSuchBucket)?;
        if !bucket.objects.is_empty() {
            return Err(StoreError::BucketNotEmpty);
        }
        self.backend.remove_bucket(name)?;
        catalog.remove(name);
        Ok(())
    }

    #[cfg(test)]
    /// Stores an object, replacing any with the same key.
    ///
    /// # Errors
    /// `NoSuchBucket`, I/O failures (then nothing changed).
    pub(crate) fn put_object(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        data: Bytes,
    ) -> Result<(), StoreError> {
        self.put_object_if(bucket, meta, data, |_| {
            Ok::<(), std::convert::Infallible>(())
        })?
        .unwrap_or_else(|never| match never {});
        Ok(())
    }

    /// Stores an object if `check`, given the object it would replace, passes; the check and
    /// the write happen under one lock, so conditional writes cannot race.
    ///
    /// # Errors
    /// `NoSuchBucket`, I/O failures (then nothing changed); the check's own error inside.
    pub(crate) fn put_object_if<E>(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        data: Bytes,
        check: impl FnOnce(Option<&ObjectMeta>) -> Result<(), E>,
    ) -> Result<Result<(), E>, StoreError> {
        let mut catalog = self.lock();
        let entry = catalog.get_mut(bucket).ok_or(StoreError::NoSuchBucket)?;
        if let Err(e) = check(entry.objects.get(&meta.key).map(|o| &o.meta)) {
            return Ok(Err(e));
        }
        let blob = self.backend.save_object(bucket, &meta, &data)?;
        entry
            .objects
            .insert(meta.key.clone(), ObjectEntry { meta, blob });
        Ok(Ok(()))
    }

    /// An object's metadata.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`.
    pub(crate) fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let catalog = self.lock();
        let entry = catalog.get(bucket).ok_or(StoreError::NoSuchBucket)?;
        entry
            .objects
            .get(key)
            .map(|o| o.meta.clone())
            .ok_or(StoreError::NoSuchKey)
    }

    /// An object's metadata and bytes. Disk reads happen outside the lock; the file carries
    /// its own metadata, so a concurrent replacement is seen whole or not at all.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, I/O failures.
    pub(crate) fn get_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectMeta, Bytes), StoreError> {
        let found = {
            let catalog = self.lock();
            let entry = catalog.get(bucket).ok_or(StoreError::NoSuchBucket)?;
            let object = entry.objects.get(key).ok_or(StoreError::NoSuchKey)?;
            match &object.blob {
                Blob::Memory(data) => Ok((object.meta.clone(), data.clone())),
                Blob::Disk => Err(()),
            }
        };
        match found {
            Ok(found) => Ok(found),
            Err(()) => self.backend.load_object(bucket, key),
        }
    }

    /// Deletes an object; absent keys are fine, as in S3.
    ///
    /// # Errors
    /// `NoSuchBucket`, I/O failures.
    pub(crate) fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let mut catalog = self.lock();
        let entry = catalog.get_mut(bucket).ok_or(StoreError::NoSuchBucket)?;
        if entry.objects.contains_key(key) {
            self.backend.remove_object(bucket, key)?;
            entry.objects.remove(key);
        }
        Ok(())
    }

    /// Visits, in key order, the objects whose key starts with `prefix` and sorts after
    /// `after`, until `visit` returns `false`.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub(crate) fn scan(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        mut visit: impl FnMut(&ObjectMeta) -> bool,
    ) -> Result<(), StoreError> {
        let catalog = self.lock();
        let entry = catalog.get(bucket).ok_or(StoreError::NoSuchBucket)?;
        let lower = match after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        for (key, object) in entry.objects.range::<str, _>((lower, Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                break;
            }
            if !visit(&object.meta) {
                break;
            }
        }
        Ok(())
    }
}

/// A time floored to whole seconds, as S3 keeps `LastModified`.
pub(crate) fn whole_seconds_ms(t: SystemTime) -> u64 {
    let ms = timestamp::unix_millis(t);
    ms - ms % 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.to_owned(),
            size,
            etag: "\"e\"".into(),
            last_modified_ms: 1_767_225_600_000,
            content_type: None,
            headers: vec![],
            metadata: vec![("a".into(), "b".into())],
            checksum: None,
            parts_count: None,
        }
    }

    fn bucket(name: &str) -> BucketMeta {
        BucketMeta {
            name: name.into(),
            owner_account: "123456789012".into(),
            region: "us-east-1".into(),
            created_ms: 0,
            acls_enabled: false,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "mock-sts-store-{name}-{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn all_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(all_files(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn hostile_keys_stay_inside_the_directory_and_survive_reopening() {
        let dir = temp_dir("hostile");
        let store = Store::open_dir(&dir).unwrap();
        store.create_bucket(bucket("b")).unwrap();
        let keys = [
            "../../escape",
            "a\0b",
            "/abs/path",
            "..",
            "x/../../y",
            &"k".repeat(1024),
        ];
        for key in keys {
            store
                .put_object("b", meta(key, 3), Bytes::from_static(b"abc"))
                .unwrap();
        }
        drop(store);
        let store = Store::open_dir(&dir).unwrap();
        for key in keys {
            let (m, data) = store.get_object("b", key).unwrap();
            assert_eq!(m.key, key);
            assert_eq!(&data[..], b"abc");
        }
        let root = fs::canonicalize(&dir).unwrap();
        for file in all_files(&dir) {
            assert!(fs::canonicalize(&file).unwrap().starts_with(&root));
        }
        assert!(!dir.parent().unwrap().join("escape").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn leftovers_of_interrupted_writes_are_removed_and_never_listed() {
        let dir = temp_dir("torn");
        let store = Store::open_dir(&dir).unwrap();
        store.create_bucket(bucket("b")).unwrap();
        store
            .put_object("b", meta("kept", 1), Bytes::from_static(b"k"))
            .unwrap();
        drop(store);
        let objects = dir.join("buckets").join(hex::encode("b")).join("objects");
        fs::write(objects.join(".tmp-1-1"), b"{\"partial").unwrap();
        // A bucket whose create was cut short before its marker.
        fs::create_dir_all(dir.join("buckets").join(hex::encode("half"))).unwrap();
        let store = Store::open_dir(&dir).unwrap();
        let mut keys = Vec::new();
        store
            .scan("b", "", None, |m| {
                keys.push(m.key.clone());
                true
            })
            .unwrap();
        assert_eq!(keys, ["kept"]);
        assert!(!objects.join(".tmp-1-1").exists());
        assert_eq!(store.buckets().len(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn scan_respects_prefix_and_after() {
        let store = Store::memory();
        store.create_bucket(bucket("b")).unwrap();
        for key in ["a/1", "a/2", "b/1", "c"] {
            store.put_object("b", meta(key, 0), Bytes::new()).unwrap();
        }
        let mut keys = Vec::new();
        store
            .scan("b", "a/", Some("a/1"), |m| {
                keys.push(m.key.clone());
                true
            })
            .unwrap();
        assert_eq!(keys, ["a/2"]);
        keys.clear();
        store
            .scan("b", "", Some("a/2"), |m| {
                keys.push(m.key.clone());
                keys.is_empty()
            })
            .unwrap();
        assert_eq!(keys, ["b/1"]);
    }

    #[test]
    fn bucket_rules() {
        let store = Store::memory();
        store.create_bucket(bucket("b")).unwrap();
        assert!(matches!(
            store.create_bucket(bucket("b")),
            Err(StoreError::BucketExists(_))
        ));
        store.put_object("b", meta("k", 0), Bytes::new()).unwrap();
        assert!(matches!(
            store.delete_bucket("b"),
            Err(StoreError::BucketNotEmpty)
        ));
        store.delete_object("b", "k").unwrap();
        store.delete_object("b", "k").unwrap();
        store.delete_bucket("b").unwrap();
        assert!(matches!(
            store.delete_bucket("b"),
            Err(StoreError::NoSuchBucket)
        ));
    }
}
