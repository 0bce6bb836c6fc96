//! Checks every content format makes the same way, so problems read alike
//! whichever file they are in: unique ids (a duplicate names both places),
//! required text that is not blank, list entries that are not blank, and
//! supported locales.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::toml_doc::Located;
use crate::{LOCALES, Problems};

/// The first place each id was seen, so a duplicate is reported with both
/// locations.
pub(crate) struct IdRegistry {
    /// What the ids name, for messages: "article", "reply", "step", ...
    kind: &'static str,
    /// What the unique value is called: "id", or e.g. "name", "number".
    noun: &'static str,
    first_seen: HashMap<String, (PathBuf, Option<usize>)>,
}

impl IdRegistry {
    pub(crate) fn new(kind: &'static str) -> Self {
        Self::with_noun(kind, "id")
    }

    /// For unique values that are not called ids: `with_noun("play",
    /// "name")` reports "play name "x" is already used …".
    pub(crate) fn with_noun(kind: &'static str, noun: &'static str) -> Self {
        IdRegistry {
            kind,
            noun,
            first_seen: HashMap::new(),
        }
    }

    pub(crate) fn claim(&mut self, path: &Path, id: &Located<String>, problems: &mut Problems) {
        // An empty id is reported on its own; it is no duplicate of another.
        if id.value.trim().is_empty() {
            return;
        }
        match self.first_seen.get(&id.value) {
            Some((first_path, first_line)) => problems.add(
                path,
                id.line,
                format!(
                    "{} {} \"{}\" is already used at {}; {}s must be unique",
                    self.kind,
                    self.noun,
                    id.value,
                    describe_location(first_path, *first_line),
                    self.noun
                ),
            ),
            None => {
                self.first_seen
                    .insert(id.value.clone(), (path.to_path_buf(), id.line));
            }
        }
    }
}

pub(crate) fn describe_location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// `context` names the record for the message, e.g. `reply "greet"`.
pub(crate) fn require_text(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    key: &str,
    field: &Located<String>,
) {
    if field.value.trim().is_empty() {
        problems.add(path, field.line, format!("{context}: \"{key}\" is empty"));
    }
}

/// `require_text` for each `(key, field)` of one record, in order.
pub(crate) fn require_texts(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    fields: &[(&str, &Located<String>)],
) {
    for (key, field) in fields {
        require_text(problems, path, context, key, field);
    }
}

pub(crate) fn require_no_empty_entries(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    key: &str,
    field: &Located<Vec<String>>,
) {
    if field.value.iter().any(|item| item.trim().is_empty()) {
        problems.add(
            path,
            field.line,
            format!("{context}: \"{key}\" contains an empty entry"),
        );
    }
}

pub(crate) fn require_locale(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    field: &Located<String>,
) {
    if !LOCALES.contains(&field.value.as_str()) {
        problems.add(
            path,
            field.line,
            format!(
                "{context}: locale \"{}\" is not supported; use \"zh-CN\" or \"en\"",
                field.value
            ),
        );
    }
}

/// `snake_case`: a lowercase ASCII letter, then lowercase letters, digits or `_`.
pub(crate) fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
