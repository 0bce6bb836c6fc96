//! TOML documents and where things are in them: parsing a document into a
//! format's types, and turning the parser's byte spans into the 1-based
//! lines every problem names.
//!
//! Lines come from the `toml` parser alone. A format whose private document
//! types hold `Spanned<…>` fields gets each field's place from serde; the
//! scenario formats, whose public types carry no spans, look a value's place
//! up in the parser's span tree ([`SpanTree`]) by the keys that lead to it.
//! Either way no second copy of a schema says where a value was written.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Problems;

/// A value read from a file and the line it was written on, so checks made
/// after parsing can still point the author at it.
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) line: Option<usize>,
}

/// 1-based line of a byte offset in `text`.
pub(crate) fn line_at(text: &str, byte_offset: usize) -> usize {
    let end = byte_offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// A TOML document inside a file: the whole file, or the front matter of a
/// Markdown file. Spans reported by the `toml` crate are relative to the
/// document; this turns them into lines of the file.
#[derive(Clone, Copy)]
pub(crate) struct TomlDoc<'a> {
    pub(crate) path: &'a Path,
    file_text: &'a str,
    /// Byte offset of the document in `file_text`.
    start: usize,
    /// Byte offset just past the document in `file_text`.
    end: usize,
}

impl<'a> TomlDoc<'a> {
    pub(crate) fn whole_file(path: &'a Path, file_text: &'a str) -> Self {
        TomlDoc {
            path,
            file_text,
            start: 0,
            end: file_text.len(),
        }
    }

    /// The document that `document` (a byte range of `file_text`) holds.
    pub(crate) fn part_of_file(path: &'a Path, file_text: &'a str, document: Range<usize>) -> Self {
        TomlDoc {
            path,
            file_text,
            start: document.start,
            end: document.end,
        }
    }

    fn text(&self) -> &'a str {
        &self.file_text[self.start..self.end]
    }

    pub(crate) fn line_at(&self, doc_offset: usize) -> usize {
        line_at(self.file_text, self.start + doc_offset)
    }

    /// The document as `T`, or `None` with the parser's problem added.
    pub(crate) fn parse<T: DeserializeOwned>(&self, problems: &mut Problems) -> Option<T> {
        match toml::from_str(self.text()) {
            Ok(value) => Some(value),
            Err(err) => {
                self.report(&err, problems);
                None
            }
        }
    }

    /// The document as `T` together with the parser's span tree of it, from
    /// one parse; `None` with the parser's problem added. The problems are
    /// the same, word for word and line for line, as those of
    /// [`TomlDoc::parse`]: `toml::from_str` is this same parse followed by
    /// the same deserialisation.
    pub(crate) fn parse_with_spans<T: DeserializeOwned>(
        &self,
        problems: &mut Problems,
    ) -> Option<(T, SpanTree<'a>)> {
        let root = match DeTable::parse(self.text()) {
            Ok(root) => root,
            Err(err) => {
                self.report(&err, problems);
                return None;
            }
        };
        match T::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(value) => {
                let span = root.span();
                let root = Spanned::new(span, DeValue::Table(root.into_inner()));
                Some((value, SpanTree { doc: *self, root }))
            }
            Err(err) => {
                self.report(&err, problems);
                None
            }
        }
    }

    fn report(&self, err: &toml::de::Error, problems: &mut Problems) {
        let line = err.span().map(|span| self.line_at(span.start));
        problems.add(self.path, line, plain_toml_message(err.message().trim()));
    }

    pub(crate) fn locate<T>(&self, spanned: Spanned<T>) -> Located<T> {
        let line = Some(self.line_at(spanned.span().start));
        Located {
            value: spanned.into_inner(),
            line,
        }
    }

    /// Line of the first `needle` inside the document span `within` (e.g. a
    /// `{name}` inside a reply body), or of the start of `within`.
    pub(crate) fn line_of_text(&self, within: &Range<usize>, needle: &str) -> usize {
        let region = self
            .text()
            .get(within.clone())
            .and_then(|region| region.find(needle));
        match region {
            Some(found) => self.line_at(within.start + found),
            None => self.line_at(within.start),
        }
    }
}

/// The `toml` crate's words for a table that must hold exactly one key (a
/// scenario trigger or rubric check) are serde's internals; say it the way an
/// author writes the file.
fn plain_toml_message(message: &str) -> String {
    match message {
        "wanted exactly 1 element, more than 1 element" => {
            "this table must hold exactly one key (one kind of trigger or check), but it has \
             several; split it into separate reactions or rubric items"
                .to_owned()
        }
        "wanted exactly 1 element, found 0 elements" => {
            "this table is empty; it must hold exactly one key (one kind of trigger or check, \
             e.g. keywords = [\"退款\"])"
                .to_owned()
        }
        "invalid type: unit variant, expected newtype variant" => {
            "write this as a table with exactly one key and its value, e.g. \
             { keywords = [\"退款\"] } or { no_escalation = true }, not a bare name"
                .to_owned()
        }
        other => other.to_owned(),
    }
}

/// The parser's tree of one document: every table, array and value with
/// the byte span it was written at.
pub(crate) struct SpanTree<'a> {
    doc: TomlDoc<'a>,
    root: Spanned<DeValue<'a>>,
}

impl<'a> SpanTree<'a> {
    /// The whole document, to walk down from with [`Place::key`] and
    /// [`Place::item`].
    pub(crate) fn root(&self) -> Place<'_, 'a> {
        Place {
            doc: self.doc,
            value: Some(&self.root),
        }
    }
}

/// One value of a [`SpanTree`], reached by the keys and array positions
/// that lead to it, e.g. `root.key("turn").item(0).key("id")`. A path that
/// leads nowhere (a key the file does not have) has no line.
#[derive(Clone, Copy)]
pub(crate) struct Place<'t, 'a> {
    doc: TomlDoc<'a>,
    value: Option<&'t Spanned<DeValue<'a>>>,
}

impl<'t, 'a> Place<'t, 'a> {
    /// The file the document is in.
    pub(crate) fn path(&self) -> &'a Path {
        self.doc.path
    }

    /// The value under `name`, when this is a table.
    pub(crate) fn key(self, name: &str) -> Self {
        Place {
            doc: self.doc,
            value: self.value.and_then(|value| value.get_ref().get(name)),
        }
    }

    /// The `index`-th element (0-based), when this is an array or an array
    /// of tables (`[[turn]]`).
    pub(crate) fn item(self, index: usize) -> Self {
        Place {
            doc: self.doc,
            value: self.value.and_then(|value| value.get_ref().get(index)),
        }
    }

    /// The line the value starts on.
    pub(crate) fn line(self) -> Option<usize> {
        self.value.map(|value| self.doc.line_at(value.span().start))
    }

    /// `value` (read from this place by serde) with the line it starts on.
    pub(crate) fn locate<T: Clone>(self, value: &T) -> Located<T> {
        Located {
            value: value.clone(),
            line: self.line(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        title: String,
        #[serde(default)]
        turn: Vec<BTreeMap<String, toml::Value>>,
    }

    const TEXT: &str = "title = \"t\"\n\
        \n\
        [[turn]]\n\
        id = \"a\"\n\
        when = { keywords = [\"x\",\n  \"y\"] }\n\
        \n\
        [[turn]]\n\
        id = \"b\"\n";

    #[test]
    fn places_give_the_line_each_value_starts_on() {
        let path = Path::new("doc.toml");
        let mut problems = Problems::default();
        let (doc, spans) = TomlDoc::whole_file(path, TEXT)
            .parse_with_spans::<Doc>(&mut problems)
            .expect("parses");
        assert_eq!((doc.title.as_str(), doc.turn.len()), ("t", 2));
        let root = spans.root();
        assert_eq!(root.key("title").line(), Some(1));
        assert_eq!(root.key("turn").item(0).key("id").line(), Some(4));
        let keywords = root.key("turn").item(0).key("when").key("keywords");
        assert_eq!(keywords.line(), Some(5));
        assert_eq!(
            keywords.item(1).line(),
            Some(6),
            "an array element's own line"
        );
        assert_eq!(root.key("turn").item(1).key("id").line(), Some(9));
        // Paths the file does not have lead nowhere.
        assert_eq!(root.key("turn").item(2).key("id").line(), None);
        assert_eq!(root.key("title").key("id").line(), None);
        assert_eq!(root.key("turn").key("id").line(), None);
        assert_eq!(
            root.key("title").locate(&"t".to_owned()).line,
            Some(1),
            "locate keeps the line"
        );
    }

    #[test]
    fn places_in_front_matter_are_lines_of_the_whole_file() {
        let file = "+++\nid = \"kb-a\"\ntitle = \"t\"\n+++\nBody\n";
        let document = 4..file.find("+++\nBody").expect("closing fence");
        let mut problems = Problems::default();
        let (_, spans) = TomlDoc::part_of_file(Path::new("a.md"), file, document)
            .parse_with_spans::<BTreeMap<String, String>>(&mut problems)
            .expect("parses");
        assert_eq!(spans.root().key("title").line(), Some(3));
    }

    /// The span tree costs the author nothing: a file that does not parse
    /// gets the very problem `parse` reports.
    #[test]
    fn parse_with_spans_reports_exactly_what_parse_reports() {
        let path = Path::new("doc.toml");
        for text in [
            "title = \"t\"\nauthor = \"me\"\n",
            "title = 3\n",
            "title = \"unterminated\n[[turn]]\n",
            "[[turn]]\nid = \"a\"\n",
        ] {
            let doc = TomlDoc::whole_file(path, text);
            let mut plain = Problems::default();
            assert!(
                doc.parse::<Doc>(&mut plain).is_none(),
                "{text:?} is refused"
            );
            let mut spanned = Problems::default();
            assert!(
                doc.parse_with_spans::<Doc>(&mut spanned).is_none(),
                "{text:?} is refused"
            );
            assert_eq!(plain.0.len(), 1, "{text:?}: {:?}", plain.0);
            assert_eq!(spanned.0, plain.0, "{text:?}");
            assert!(plain.0[0].line.is_some(), "{text:?} names a line");
        }
    }
}
