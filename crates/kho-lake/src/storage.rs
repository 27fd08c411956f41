//! Where the lake's files live: a local directory (`file://…`) or S3-compatible object
//! storage (`s3://bucket/prefix`: AWS S3, MinIO, Ceph, …). S3 is configured from the
//! usual variables — `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT` for a store other than AWS, `AWS_ALLOW_HTTP=true` for one spoken to
//! over plain HTTP. A Delta commit on S3 is a conditional write (`If-None-Match: *`), so
//! two writers can never both write the same version; the store must support it (AWS S3
//! and MinIO do).

use crate::LakeError;
use deltalake::logstore::object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use deltalake::logstore::object_store::local::LocalFileSystem;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::ObjectStore;
use deltalake::logstore::{
    default_logstore, logstore_factories, object_store_factories, LogStore, LogStoreFactory, ObjectStoreFactory,
    ObjectStoreRef, StorageConfig,
};
use deltalake::{DeltaResult, DeltaTableError};
use std::sync::Arc;
use url::Url;

/// The store that holds `url` (rooted at the bucket, or at `/` for a directory) and the
/// path of `url` in it.
pub(crate) fn store_for(url: &Url) -> Result<(Arc<dyn ObjectStore>, Path), LakeError> {
    let invalid = |e: &dyn std::fmt::Display| LakeError::Invalid(format!("object store url {url}: {e}"));
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|_| invalid(&"not a local path"))?;
            let path = Path::from_absolute_path(&path).map_err(|e| invalid(&e))?;
            Ok((Arc::new(LocalFileSystem::new()), path))
        }
        "s3" => {
            let store = s3_builder(url, &Default::default()).build().map_err(|e| invalid(&e))?;
            Ok((Arc::new(store), Path::from_url_path(url.path()).map_err(|e| invalid(&e))?))
        }
        other => Err(invalid(&format!("unsupported scheme {other:?}; use file:// or s3://"))),
    }
}

/// An S3 client for `url`'s bucket from the environment, then `options`.
fn s3_builder(url: &Url, options: &std::collections::HashMap<String, String>) -> AmazonS3Builder {
    let mut builder = AmazonS3Builder::from_env().with_url(url.as_str());
    for (key, value) in options {
        if let Ok(key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(key, value);
        }
    }
    builder
}

/// Lets Delta tables live under `s3://`: object stores made by [`s3_builder`], commits
/// by Delta's default log store (conditional writes).
struct S3;

impl ObjectStoreFactory for S3 {
    fn parse_url_opts(&self, url: &Url, config: &StorageConfig) -> DeltaResult<(ObjectStoreRef, Path)> {
        let store = s3_builder(url, &config.raw).build().map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        let path = Path::from_url_path(url.path()).map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        Ok((Arc::new(store), path))
    }
}

impl LogStoreFactory for S3 {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(prefixed_store, root_store, location, options))
    }
}

/// Registers the `s3://` scheme with Delta (once).
pub(crate) fn register_s3() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let scheme = Url::parse("s3://").expect("a scheme URL");
        object_store_factories().insert(scheme.clone(), Arc::new(S3));
        logstore_factories().insert(scheme, Arc::new(S3));
    });
}
