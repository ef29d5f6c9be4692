//! Where a file goes, or comes from, when it is not a log file: a local path or an `s3://`
//! URL. The shard plan, the shards' partials and the outputs of `--out s3://` all pass
//! here, with the same credentials chain as the trail's objects (source::s3).
//!
//! Every write is whole or absent under its final name:
//! - local: written beside the file, synced, renamed over it;
//! - S3: one PutObject up to [`MULTIPART_THRESHOLD`], which S3 stores whole or not at all
//!   ("Amazon S3 never adds partial objects; if you receive a success response, Amazon S3
//!   added the entire object", S3 API Reference, PutObject); above it a multipart upload,
//!   whose object appears only when CompleteMultipartUpload succeeds, and which is aborted
//!   on any failure so that no parts are left behind (S3 User Guide, "Uploading and copying
//!   objects using multipart upload").
//!
//! A second write of the same name replaces the first: a shard a scheduler retried simply
//! writes its partial again, and the last write wins.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::source::s3::{S3Options, S3Session, S3Url, error_detail};

/// Objects above this size go up in parts (S3 allows 5 GiB in one PutObject; parts keep a
/// failed upload cheap to redo and let several parts travel at once).
pub const MULTIPART_THRESHOLD: usize = 64 << 20;
/// Size of each part but the last (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 16 << 20;

/// A file's place: local, or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl Place {
    pub fn parse(text: &str) -> Result<Place> {
        match S3Url::parse(text) {
            Some(url) => {
                let url = url?;
                Ok(Place::S3 {
                    bucket: url.bucket,
                    key: url.prefix,
                })
            }
            None => Ok(Place::Local(PathBuf::from(text))),
        }
    }

    /// `name` inside this place taken as a folder (a local directory, or an S3 prefix that
    /// ends in `/` once joined).
    pub fn join(&self, name: &str) -> Place {
        match self {
            Place::Local(dir) => Place::Local(dir.join(name)),
            Place::S3 { bucket, key } => Place::S3 {
                bucket: bucket.clone(),
                key: join_key(key, name),
            },
        }
    }

    pub fn is_s3(&self) -> bool {
        matches!(self, Place::S3 { .. })
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Local(p) => write!(f, "{}", p.display()),
            Place::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// `prefix/name`, with one slash between them whatever the prefix ends with.
pub fn join_key(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Reads and writes places, connecting to S3 at the first `s3://` one.
pub struct Store {
    options: S3Options,
    session: Option<S3Session>,
}

impl Store {
    pub fn new(options: S3Options) -> Store {
        Store {
            options,
            session: None,
        }
    }

    /// A store that goes on with an S3 session already made (the listing's).
    pub fn with_session(options: S3Options, session: Option<S3Session>) -> Store {
        Store { options, session }
    }

    pub fn session(&mut self) -> Result<&S3Session> {
        if self.session.is_none() {
            self.session = Some(S3Session::connect(&self.options)?);
        }
        self.session
            .as_ref()
            .ok_or_else(|| anyhow!("no S3 session"))
    }

    pub fn into_session(self) -> Option<S3Session> {
        self.session
    }

    pub fn read(&mut self, place: &Place) -> Result<Vec<u8>> {
        match place {
            Place::Local(path) => {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
            }
            Place::S3 { bucket, key } => self
                .get(bucket, key, None)
                .with_context(|| format!("cannot read s3://{bucket}/{key}")),
        }
    }

    /// One object's body; with `if_match`, only while its ETag is that one (GetObject
    /// `If-Match`: S3 answers 412 Precondition Failed otherwise).
    pub fn get(&mut self, bucket: &str, key: &str, if_match: Option<&str>) -> Result<Vec<u8>> {
        let s3 = self.session()?;
        s3.runtime.block_on(async {
            let response = s3
                .client
                .get_object()
                .bucket(bucket)
                .key(key)
                .set_if_match(if_match.map(str::to_owned))
                .send()
                .await
                .map_err(|e| anyhow!("{}", error_detail(&e)))?;
            let body = response
                .body
                .collect()
                .await
                .map_err(|e| anyhow!("body cut off: {e}"))?;
            Ok(body.into_bytes().to_vec())
        })
    }

    /// Writes `bytes` to `place` whole or not at all (the module comment).
    pub fn write(&mut self, place: &Place, bytes: Vec<u8>) -> Result<()> {
        match place {
            Place::Local(path) => write_local_atomically(path, &bytes),
            Place::S3 { bucket, key } => {
                let s3 = self.session()?;
                s3.runtime
                    .block_on(put(s3, bucket, key, bytes))
                    .with_context(|| format!("cannot write s3://{bucket}/{key}"))
            }
        }
    }

    /// Proves, before a long run, that `prefix` (an S3 folder) takes writes, leaving nothing:
    /// a multipart upload is started and aborted. Starting one needs `s3:PutObject`, the
    /// permission every later write needs (S3 User Guide, "Multipart upload API and
    /// permissions"), and its abort needs `s3:AbortMultipartUpload`, which a failed upload
    /// needs too; no object is created, and no `s3:DeleteObject` is asked for.
    pub fn probe_write(&mut self, prefix: &Place) -> Result<()> {
        let Place::S3 { bucket, key } =
            prefix.join(&format!(".trailsift-write-check-{}", std::process::id()))
        else {
            return Ok(());
        };
        let s3 = self.session()?;
        s3.runtime.block_on(async {
            let upload = s3
                .client
                .create_multipart_upload()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    anyhow!(
                        "cannot write under {prefix} (nothing was read; check the bucket and \
                         s3:PutObject on the prefix): {}",
                        error_detail(&e)
                    )
                })?;
            if let Some(id) = upload.upload_id() {
                s3.client
                    .abort_multipart_upload()
                    .bucket(&bucket)
                    .key(&key)
                    .upload_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "cannot abort a multipart upload under {prefix} (a failed upload \
                             would leave its parts billed; allow s3:AbortMultipartUpload): {}",
                            error_detail(&e)
                        )
                    })?;
            }
            Ok(())
        })
    }

    /// Every file directly named, or found under a local directory or an S3 prefix, whose
    /// name ends with `suffix`, sorted.
    pub fn list(&mut self, place: &Place, suffix: &str) -> Result<Vec<Place>> {
        match place {
            Place::Local(path) if path.is_dir() => {
                let mut found = Vec::new();
                for entry in std::fs::read_dir(path)
                    .with_context(|| format!("cannot list {}", path.display()))?
                {
                    let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.ends_with(suffix) {
                        found.push(Place::Local(entry.path()));
                    }
                }
                found.sort_by_key(|p| p.to_string());
                Ok(found)
            }
            Place::Local(_) => Ok(vec![place.clone()]),
            Place::S3 { bucket, key } if key.ends_with(suffix) => Ok(vec![Place::S3 {
                bucket: bucket.clone(),
                key: key.clone(),
            }]),
            Place::S3 { bucket, key } => {
                let prefix = if key.is_empty() || key.ends_with('/') {
                    key.clone()
                } else {
                    format!("{key}/")
                };
                let s3 = self.session()?;
                let keys = s3.runtime.block_on(async {
                    let mut keys = Vec::new();
                    let mut pages = s3
                        .client
                        .list_objects_v2()
                        .bucket(bucket)
                        .prefix(&prefix)
                        .into_paginator()
                        .send();
                    while let Some(page) = pages.next().await {
                        let page = page.map_err(|e| {
                            anyhow!("cannot list s3://{bucket}/{prefix}: {}", error_detail(&e))
                        })?;
                        for object in page.contents() {
                            if let Some(k) = object.key().filter(|k| k.ends_with(suffix)) {
                                keys.push(k.to_owned());
                            }
                        }
                    }
                    Ok::<_, anyhow::Error>(keys)
                })?;
                let mut found: Vec<Place> = keys
                    .into_iter()
                    .map(|key| Place::S3 {
                        bucket: bucket.clone(),
                        key,
                    })
                    .collect();
                found.sort_by_key(|p| p.to_string());
                Ok(found)
            }
        }
    }
}

/// One PutObject, or a multipart upload aborted on failure.
async fn put(s3: &S3Session, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()> {
    if bytes.len() <= MULTIPART_THRESHOLD {
        s3.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| anyhow!("PutObject failed: {}", error_detail(&e)))?;
        return Ok(());
    }
    let upload = s3
        .client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!("CreateMultipartUpload failed: {}", error_detail(&e)))?;
    let Some(upload_id) = upload.upload_id() else {
        bail!("CreateMultipartUpload returned no upload id");
    };
    match upload_parts(s3, bucket, key, upload_id, &bytes).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // Parts of an upload never completed are billed until aborted, and never show
            // under the key: abort, and report the first failure.
            let _ = s3
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await;
            Err(e)
        }
    }
}

async fn upload_parts(
    s3: &S3Session,
    bucket: &str,
    key: &str,
    upload_id: &str,
    bytes: &[u8],
) -> Result<()> {
    let mut parts = Vec::new();
    for (i, chunk) in bytes.chunks(PART_SIZE).enumerate() {
        let number = i32::try_from(i + 1).context("too many parts")?;
        let part = s3
            .client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| anyhow!("UploadPart {number} failed: {}", error_detail(&e)))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build(),
        );
    }
    s3.client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map_err(|e| anyhow!("CompleteMultipartUpload failed: {}", error_detail(&e)))?;
    Ok(())
}

/// Replaces `path` with `bytes` whole or not at all: written beside it, synced, renamed.
pub fn write_local_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("cannot write {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_join_names_with_one_slash() {
        let p = Place::parse("s3://results/runs/1/").expect("url");
        assert_eq!(
            p.join("summary.json").to_string(),
            "s3://results/runs/1/summary.json"
        );
        let p = Place::parse("s3://results").expect("url");
        assert_eq!(p.join("a.partial").to_string(), "s3://results/a.partial");
        assert!(Place::parse("s3:///x").is_err());
        assert_eq!(
            Place::parse("out/dir").expect("path").join("x"),
            Place::Local(PathBuf::from("out/dir/x"))
        );
    }

    #[test]
    fn a_local_write_replaces_the_file_whole_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/shard-0000-of-0002.partial");
        write_local_atomically(&path, b"first").expect("written");
        write_local_atomically(&path, b"second, longer").expect("written again");
        assert_eq!(std::fs::read(&path).expect("read"), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
