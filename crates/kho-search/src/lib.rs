//! Tìm kiếm — the open data portal's full-text index (tantivy), Vietnamese-aware:
//! `ha noi`, `Hà Nội` and `HÀ NỘI` find the same datasets (`đ` folds to `d`), the last
//! word of a query matches as a prefix (as-you-type), and a word in the title weighs
//! more than one in the keywords, which weighs more than one in the description.
//!
//! Text is folded with [`kho_vn::fold`] before it is indexed and before it is searched,
//! so tantivy's plain tokenizer sees ASCII words on both sides.

use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, STORED, STRING, TEXT};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Relevance weights: title > keywords > description.
const TITLE_BOOST: f32 = 3.0;
const KEYWORDS_BOOST: f32 = 2.0;
const DESCRIPTION_BOOST: f32 = 1.0;
/// Memory the index writer may use.
const WRITER_BYTES: usize = 20_000_000;

#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        Self(e.to_string())
    }
}

/// What the index holds of a dataset.
#[derive(Debug, Clone, Default)]
pub struct IndexedDataset {
    pub id: String,
    pub title: String,
    /// English title, also searchable with the title's weight.
    pub title_en: String,
    pub keywords: Vec<String>,
    pub description: String,
}

struct Fields {
    id: Field,
    title: Field,
    keywords: Field,
    description: Field,
}

/// The index of the open datasets, kept on disk (or in memory for tests).
///
/// A writer is taken for each change and let go after it, so that the server and the
/// command line can both change the index of one data directory; readers see a change
/// as soon as it is committed (in another process, shortly after).
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// Serialises this process's changes.
    writing: Mutex<()>,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", TEXT),
        keywords: b.add_text_field("keywords", TEXT),
        description: b.add_text_field("description", TEXT),
    };
    (b.build(), fields)
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let directory =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError(format!("{}: {e}", dir.display())))?;
        let index = Index::open_or_create(directory, schema)?;
        Self::from_index(index, fields)
    }

    /// An index in memory.
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(Self { index, reader, writing: Mutex::new(()), fields })
    }

    /// Runs `change` with a writer and commits it.
    fn change(
        &self,
        change: impl FnOnce(&mut IndexWriter, &Fields) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let _one_at_a_time = self.writing.lock().expect("the index lock");
        let mut writer: IndexWriter = self.index.writer_with_num_threads(1, WRITER_BYTES)?;
        change(&mut writer, &self.fields)?;
        writer.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    fn document(f: &Fields, d: &IndexedDataset) -> TantivyDocument {
        doc!(
            f.id => d.id.clone(),
            f.title => kho_vn::fold(&format!("{} {}", d.title, d.title_en)),
            f.keywords => kho_vn::fold(&d.keywords.join(" ")),
            f.description => kho_vn::fold(&d.description),
        )
    }

    /// Adds or replaces one dataset.
    pub fn upsert(&self, d: &IndexedDataset) -> Result<(), SearchError> {
        self.change(|w, f| {
            w.delete_term(Term::from_field_text(f.id, &d.id));
            w.add_document(Self::document(f, d))?;
            Ok(())
        })
    }

    /// Removes one dataset (retired, no longer open, deleted).
    pub fn remove(&self, id: &str) -> Result<(), SearchError> {
        self.change(|w, f| {
            w.delete_term(Term::from_field_text(f.id, id));
            Ok(())
        })
    }

    /// Replaces the whole index with `datasets`; returns how many were indexed.
    pub fn rebuild(&self, datasets: &[IndexedDataset]) -> Result<usize, SearchError> {
        self.change(|w, f| {
            w.delete_all_documents()?;
            for d in datasets {
                w.add_document(Self::document(f, d))?;
            }
            Ok(())
        })?;
        Ok(datasets.len())
    }

    /// How many datasets the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Datasets matching every word of `text` (the last one as a prefix), best first,
    /// as (id, relevance). An empty text matches nothing: callers list instead.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<(String, f32)>, SearchError> {
        let folded = kho_vn::fold(text);
        let words: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return Ok(vec![]);
        }
        let f = &self.fields;
        let weighted = [(f.title, TITLE_BOOST), (f.keywords, KEYWORDS_BOOST), (f.description, DESCRIPTION_BOOST)];
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let last = i + 1 == words.len();
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in weighted {
                let term = Term::from_field_text(field, word);
                let q: Box<dyn Query> = if last {
                    Box::new(FuzzyTermQuery::new_prefix(term, 0, false))
                } else {
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
                };
                any.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
            }
            must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        let query = BooleanQuery::new(must);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = d.get_first(f.id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(id: &str, title: &str, keywords: &[&str], description: &str) -> IndexedDataset {
        IndexedDataset {
            id: id.into(),
            title: title.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            description: description.into(),
            ..Default::default()
        }
    }

    fn ids(index: &SearchIndex, q: &str) -> Vec<String> {
        index.search(q, 10).unwrap().into_iter().map(|(id, _)| id).collect()
    }

    fn sample() -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        index
            .rebuild(&[
                dataset("a", "Danh sách trường học Hà Nội", &["giáo dục"], "Các trường ở thủ đô"),
                dataset("b", "Bảng giá đất", &["đất đai", "Hà Nội"], "Giá đất năm 2025"),
                dataset("c", "Điểm du lịch", &["du lịch"], "Di tích gần Hà Nội và Đông Hồ"),
            ])
            .unwrap();
        index
    }

    #[test]
    fn diacritics_and_case_do_not_matter() {
        let index = sample();
        for q in ["ha noi", "Hà Nội", "HÀ NỘI"] {
            let mut found = ids(&index, q);
            found.sort();
            assert_eq!(found, ["a", "b", "c"], "{q}");
        }
        assert_eq!(ids(&index, "dat dai"), ["b"], "đ folds to d");
        assert_eq!(ids(&index, "đông hồ"), ["c"]);
    }

    #[test]
    fn title_outranks_keywords_outranks_description() {
        assert_eq!(ids(&sample(), "ha noi"), ["a", "b", "c"]);
    }

    #[test]
    fn the_last_word_matches_as_a_prefix() {
        let index = sample();
        assert_eq!(ids(&index, "truo"), ["a"]);
        assert_eq!(ids(&index, "danh sach tru"), ["a"]);
        assert!(ids(&index, "tru sach").is_empty(), "only the last word is a prefix");
    }

    #[test]
    fn changes_take_effect_at_once() {
        let index = sample();
        index.remove("a").unwrap();
        assert!(!ids(&index, "truong").contains(&"a".to_string()));
        index.upsert(&dataset("b", "Bảng giá đất nông nghiệp", &[], "")).unwrap();
        assert_eq!(ids(&index, "nong nghiep"), ["b"]);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn the_index_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        SearchIndex::open(dir.path()).unwrap().rebuild(&[dataset("a", "Trường học", &[], "")]).unwrap();
        assert_eq!(ids(&SearchIndex::open(dir.path()).unwrap(), "truong"), ["a"]);
    }
}
