//! Reading a delimited text file as records, whatever the office saved it as:
//! UTF-8 with or without BOM, UTF-16 (by its BOM), or Windows-1258 (the legacy
//! Vietnamese code page, assumed when the bytes are not valid UTF-8); the delimiter
//! (`,` `;` tab `|`) is detected from the first lines. The raw bytes are hashed as
//! they stream past.

use crate::LakeError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counts and hashes the bytes read from the file.
pub struct Tap<R> {
    inner: R,
    pub bytes: Arc<AtomicU64>,
    hasher: Arc<Mutex<Sha256>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.hasher.lock().unwrap_or_else(|e| e.into_inner()).update(&buf[..n]);
        Ok(n)
    }
}

/// What was found out about the file before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static str,
    pub delimiter: u8,
}

/// An open delimited file: its records stream from `records`.
pub struct DelimitedSource {
    pub detected: Detected,
    pub reader: csv::Reader<Box<dyn Read + Send>>,
    pub bytes_read: Arc<AtomicU64>,
    pub total_bytes: u64,
    hasher: Arc<Mutex<Sha256>>,
}

impl DelimitedSource {
    pub fn open(path: &Path, delimiter: Option<u8>) -> Result<Self, LakeError> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| LakeError::Source { file: name.clone(), message: e.to_string() };
        let mut head = vec![0u8; 64 * 1024];
        let n = File::open(path).and_then(|mut f| f.read(&mut head)).map_err(io)?;
        head.truncate(n);
        let encoding = detect_encoding(&head);
        let text = decode_head(&head, encoding);
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&text));

        let file = File::open(path).map_err(io)?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bytes_read = Arc::new(AtomicU64::new(0));
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let tap =
            Tap { inner: BufReader::with_capacity(1 << 20, file), bytes: bytes_read.clone(), hasher: hasher.clone() };
        let decoded: Box<dyn Read + Send> = Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .bom_override(true)
                .strip_bom(true)
                .build(tap),
        );
        let reader =
            csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(false).from_reader(decoded);
        Ok(Self {
            detected: Detected { encoding: encoding.name(), delimiter },
            reader,
            bytes_read,
            total_bytes,
            hasher,
        })
    }

    /// SHA-256 of the bytes read so far (of the whole file once it is read through).
    pub fn sha256(&self) -> String {
        hex::encode(self.hasher.lock().unwrap_or_else(|e| e.into_inner()).clone().finalize())
    }
}

fn detect_encoding(head: &[u8]) -> &'static encoding_rs::Encoding {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(head) {
        return enc;
    }
    // A cut in the middle of a multi-byte character at the end of the sample is fine.
    match std::str::from_utf8(head) {
        Ok(_) => encoding_rs::UTF_8,
        Err(e) if e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::WINDOWS_1258,
    }
}

fn decode_head(head: &[u8], encoding: &'static encoding_rs::Encoding) -> String {
    encoding.decode_with_bom_removal(head).0.into_owned()
}

/// Picks the delimiter that splits the first lines into the same number (> 1) of
/// fields most often; quotes are respected. Defaults to a comma.
pub fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| fields_in(l, d)).collect();
        let Some(&first) = counts.first() else { continue };
        if first < 2 {
            continue;
        }
        let agreeing = counts.iter().filter(|&&c| c == first).count();
        let score = agreeing * 1000 + first;
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

fn fields_in(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut n = 1;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b if b == delimiter && !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("Họ tên;Số tiền\nAn;1.234,5\nBình;2,5\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter("\"Bắc Ninh, Việt Nam\"|x\n\"a,b\"|y\n"), b'|');
        assert_eq!(detect_delimiter("one column\nvalue\n"), b',');
    }

    #[test]
    fn encodings_are_recognised() {
        assert_eq!(detect_encoding("Hà Nội".as_bytes()).name(), "UTF-8");
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFabc").name(), "UTF-8");
        assert_eq!(detect_encoding(b"\xFF\xFEa\x00").name(), "UTF-16LE");
        // "Hà Nội" in Windows-1258: H, a + combining grave (0xCC), space, N, ô (0xF4), i + dot below (0xF2).
        assert_eq!(detect_encoding(b"Ha\xCC N\xF4i\xF2").name(), "windows-1258");
    }
}
