//! A small RDF graph and its three writers (Turtle, RDF/XML, JSON-LD in expanded
//! form) — enough for the DCAT export, whose triples are all built by Kho, with
//! predicates from the namespaces listed in [`PREFIXES`].

use serde_json::{json, Map, Value};
use std::fmt::Write;

/// The namespaces the export uses, with their usual prefixes.
pub const PREFIXES: &[(&str, &str)] = &[
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
    ("kho", "urn:kho:vocab:"),
];

/// `dct:title` → the full IRI.
pub fn iri(prefixed: &str) -> String {
    let (prefix, local) = prefixed.split_once(':').expect("a prefixed name");
    let ns = PREFIXES.iter().find(|(p, _)| *p == prefix).unwrap_or_else(|| panic!("unknown prefix {prefix}")).1;
    format!("{ns}{local}")
}

/// A subject or object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Iri(String),
    Blank(u32),
    /// A plain literal with an optional language tag.
    Text(String, Option<&'static str>),
    /// A literal with a datatype IRI.
    Typed(String, String),
}

impl Term {
    pub fn iri(s: impl Into<String>) -> Self {
        Self::Iri(s.into())
    }
    pub fn vi(s: impl Into<String>) -> Self {
        Self::Text(s.into(), Some("vi"))
    }
    pub fn en(s: impl Into<String>) -> Self {
        Self::Text(s.into(), Some("en"))
    }
    pub fn plain(s: impl Into<String>) -> Self {
        Self::Text(s.into(), None)
    }
    pub fn typed(s: impl Into<String>, datatype: &str) -> Self {
        Self::Typed(s.into(), iri(datatype))
    }
}

/// Triples, kept in the order they were added, grouped by subject when written.
#[derive(Debug, Default)]
pub struct Graph {
    triples: Vec<(Term, String, Term)>,
    blanks: u32,
}

impl Graph {
    /// A new blank node.
    pub fn blank(&mut self) -> Term {
        self.blanks += 1;
        Term::Blank(self.blanks)
    }

    /// Adds `subject predicate object`; the predicate is a prefixed name.
    pub fn add(&mut self, subject: &Term, predicate: &str, object: Term) {
        self.triples.push((subject.clone(), iri(predicate), object));
    }

    pub fn len(&self) -> usize {
        self.triples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.triples.is_empty()
    }

    /// Subjects in first-seen order, each with its (predicate, object) pairs.
    fn by_subject(&self) -> Vec<(&Term, Vec<(&str, &Term)>)> {
        let mut out: Vec<(&Term, Vec<(&str, &Term)>)> = Vec::new();
        for (s, p, o) in &self.triples {
            match out.iter_mut().find(|(subject, _)| *subject == s) {
                Some((_, pairs)) => pairs.push((p, o)),
                None => out.push((s, vec![(p, o)])),
            }
        }
        out
    }

    pub fn to_turtle(&self) -> String {
        let mut out = String::new();
        for (prefix, ns) in PREFIXES {
            let _ = writeln!(out, "@prefix {prefix}: <{ns}> .");
        }
        for (subject, pairs) in self.by_subject() {
            let _ = write!(out, "\n{}", turtle_term(subject));
            for (i, (p, o)) in pairs.iter().enumerate() {
                let sep = if i == 0 { " " } else { " ;\n    " };
                let _ = write!(out, "{sep}{} {}", turtle_predicate(p), turtle_term(o));
            }
            out.push_str(" .\n");
        }
        out
    }

    pub fn to_rdf_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
        for (prefix, ns) in PREFIXES {
            let _ = write!(out, "\n    xmlns:{prefix}=\"{}\"", xml_escape(ns));
        }
        out.push_str(">\n");
        for (subject, pairs) in self.by_subject() {
            let about = match subject {
                Term::Blank(n) => format!("rdf:nodeID=\"b{n}\""),
                Term::Iri(i) => format!("rdf:about=\"{}\"", xml_escape(i)),
                _ => continue,
            };
            let _ = writeln!(out, "  <rdf:Description {about}>");
            for (p, o) in pairs {
                let name = prefixed(p).expect("predicates come from the known namespaces");
                let element = match o {
                    Term::Iri(i) => format!("<{name} rdf:resource=\"{}\"/>", xml_escape(i)),
                    Term::Blank(n) => format!("<{name} rdf:nodeID=\"b{n}\"/>"),
                    Term::Text(t, Some(lang)) => format!("<{name} xml:lang=\"{lang}\">{}</{name}>", xml_escape(t)),
                    Term::Text(t, None) => format!("<{name}>{}</{name}>", xml_escape(t)),
                    Term::Typed(t, dt) => {
                        format!("<{name} rdf:datatype=\"{}\">{}</{name}>", xml_escape(dt), xml_escape(t))
                    }
                };
                let _ = writeln!(out, "    {element}");
            }
            out.push_str("  </rdf:Description>\n");
        }
        out.push_str("</rdf:RDF>\n");
        out
    }

    /// JSON-LD in expanded form: no context needed to read it.
    pub fn to_json_ld(&self) -> Value {
        let nodes: Vec<Value> = self
            .by_subject()
            .into_iter()
            .map(|(subject, pairs)| {
                let mut node = Map::new();
                node.insert("@id".into(), Value::String(json_id(subject)));
                for (p, o) in pairs {
                    let value = match o {
                        Term::Iri(_) | Term::Blank(_) => json!({"@id": json_id(o)}),
                        Term::Text(t, Some(lang)) => json!({"@value": t, "@language": lang}),
                        Term::Text(t, None) => json!({"@value": t}),
                        Term::Typed(t, dt) => json!({"@value": t, "@type": dt}),
                    };
                    match node.entry(p.to_string()).or_insert_with(|| Value::Array(vec![])) {
                        Value::Array(list) => list.push(value),
                        _ => unreachable!("every predicate holds a list"),
                    }
                }
                Value::Object(node)
            })
            .collect();
        Value::Array(nodes)
    }
}

fn json_id(t: &Term) -> String {
    match t {
        Term::Iri(i) => i.clone(),
        Term::Blank(n) => format!("_:b{n}"),
        _ => unreachable!("only IRIs and blank nodes are nodes"),
    }
}

/// `http://purl.org/dc/terms/title` → `dct:title`, when the local part is a plain name.
fn prefixed(full: &str) -> Option<String> {
    PREFIXES.iter().find_map(|(prefix, ns)| {
        let local = full.strip_prefix(ns)?;
        let plain = !local.is_empty()
            && local.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        plain.then(|| format!("{prefix}:{local}"))
    })
}

fn turtle_predicate(p: &str) -> String {
    if p == iri("rdf:type") {
        return "a".into();
    }
    prefixed(p).unwrap_or_else(|| format!("<{p}>"))
}

fn turtle_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn turtle_iri(i: &str) -> String {
    // Characters Turtle forbids inside <…> are percent-encoded.
    let mut out = String::from("<");
    for c in i.chars() {
        match c {
            '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\' | ' ' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

fn turtle_term(t: &Term) -> String {
    match t {
        Term::Iri(i) => prefixed(i).unwrap_or_else(|| turtle_iri(i)),
        Term::Blank(n) => format!("_:b{n}"),
        Term::Text(s, Some(lang)) => format!("{}@{lang}", turtle_string(s)),
        Term::Text(s, None) => turtle_string(s),
        Term::Typed(s, dt) => format!("{}^^{}", turtle_string(s), prefixed(dt).unwrap_or_else(|| turtle_iri(dt))),
    }
}

/// Text safe inside XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        let mut g = Graph::default();
        let d = Term::iri("http://x/dataset/1");
        g.add(&d, "rdf:type", Term::iri(iri("dcat:Dataset")));
        g.add(&d, "dct:title", Term::vi("Giá đất \"2025\"\nBắc Ninh & <xã>"));
        let period = g.blank();
        g.add(&d, "dct:temporal", period.clone());
        g.add(&period, "dcat:startDate", Term::typed("2025-01-01", "xsd:date"));
        g
    }

    #[test]
    fn turtle_escapes_and_groups_by_subject() {
        let t = sample().to_turtle();
        assert!(
            t.contains(
                "<http://x/dataset/1> a dcat:Dataset ;\n    dct:title \"Giá đất \\\"2025\\\"\\nBắc Ninh & <xã>\"@vi ;"
            ),
            "{t}"
        );
        assert!(t.contains("_:b1 dcat:startDate \"2025-01-01\"^^xsd:date .\n"), "{t}");
    }

    #[test]
    fn rdf_xml_and_json_ld_carry_the_same_triples() {
        let g = sample();
        let x = g.to_rdf_xml();
        assert!(
            x.contains("<dct:title xml:lang=\"vi\">Giá đất &quot;2025&quot;\nBắc Ninh &amp; &lt;xã&gt;</dct:title>"),
            "{x}"
        );
        assert!(x.contains("<dct:temporal rdf:nodeID=\"b1\"/>"), "{x}");
        let j = g.to_json_ld();
        assert_eq!(j[0]["@id"], "http://x/dataset/1");
        assert_eq!(j[0][iri("dct:temporal")][0]["@id"], "_:b1");
        assert_eq!(j[1][iri("dcat:startDate")][0]["@type"], iri("xsd:date"));
    }
}
