//! Object storage for dataset files: a local directory (`file://`) by default, or
//! S3-compatible storage (`s3://bucket/prefix`, credentials from the usual `AWS_*`
//! environment variables).

use object_store::path::Path;
use object_store::ObjectStore;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    #[error("invalid object store url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot create the object directory {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
}

/// An opened object store and the prefix inside it that belongs to Kho.
#[derive(Debug, Clone)]
pub struct Objects {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: Path,
    pub url: String,
}

pub fn open(url: &str) -> Result<Objects, ObjectStoreError> {
    let invalid = |reason: String| ObjectStoreError::InvalidUrl { url: url.to_string(), reason };
    let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    match parsed.scheme() {
        "file" => {
            let dir = parsed.to_file_path().map_err(|_| invalid("not an absolute file path".into()))?;
            std::fs::create_dir_all(&dir)
                .map_err(|source| ObjectStoreError::CreateDir { path: dir.display().to_string(), source })?;
        }
        "s3" => {}
        other => return Err(invalid(format!("unsupported scheme {other:?}; use file:// or s3://"))),
    }
    let options = std::env::vars().filter(|(k, _)| k.starts_with("AWS_")).map(|(k, v)| (k.to_ascii_lowercase(), v));
    let (store, prefix) = object_store::parse_url_opts(&parsed, options).map_err(|e| invalid(e.to_string()))?;
    Ok(Objects { store: Arc::from(store), prefix, url: url.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::{ObjectStoreExt, PutPayload};

    #[tokio::test]
    async fn local_directories_are_created_and_usable() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}/objects", dir.path().display());
        let objects = open(&url).unwrap();
        let path = objects.prefix.clone().join("hello.txt");
        objects.store.put(&path, PutPayload::from_static(b"xin chao")).await.unwrap();
        let got = objects.store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"xin chao");
        assert!(open("ftp://x/y").unwrap_err().to_string().contains("use file:// or s3://"));
    }
}
