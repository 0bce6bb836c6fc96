//! The knowledge base: articles as Markdown files with TOML front matter
//! (`kb/**/*.md`) or as one JSON-lines export, checked and turned into
//! [`KbArticle`]s. Owns the article id rule (`kb-…`), which practice content
//! also uses to check references to articles.

use std::ffi::OsStr;
use std::ops::Range;
use std::path::Path;

use homedesk_protocol::{KbArticle, UnixMillis};
use serde::Deserialize;
use toml::Spanned;

use crate::toml_doc::{Located, TomlDoc, line_at};
use crate::validate::{IdRegistry, require_locale, require_no_empty_entries, require_text};
use crate::{ContentError, Problems, files_with_extension, read_text};

/// KB from a directory of Markdown files (searched recursively) or from one
/// `.jsonl` file; `now` becomes every article's `updated_at`.
pub fn load_kb(source: &Path, now: UnixMillis) -> Result<Vec<KbArticle>, Vec<ContentError>> {
    let mut problems = Problems::default();
    let mut ids = IdRegistry::new("article");
    let articles = if source.is_dir() {
        read_markdown_kb(source, now, &mut ids, &mut problems)
    } else if source.is_file() && source.extension() == Some(OsStr::new("jsonl")) {
        read_jsonl_kb(source, now, &mut ids, &mut problems)
    } else if source.exists() {
        problems.add(
            source,
            None,
            "a KB source must be a directory of Markdown (.md) files or one .jsonl file",
        );
        Vec::new()
    } else {
        problems.add(source, None, "no such file or directory");
        Vec::new()
    };
    // Importing nothing from a source the user named is almost surely a wrong path.
    if articles.is_empty() && problems.is_empty() {
        problems.add(source, None, "no KB articles found here");
    }
    problems.into_result(articles)
}

/// An article as read from Markdown or JSON lines, before validation.
struct KbDraft {
    id: Located<String>,
    locale: Located<String>,
    title: Located<String>,
    category: Located<String>,
    tags: Located<Vec<String>>,
    body: Located<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFrontMatter {
    id: Spanned<String>,
    locale: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    tags: Option<Spanned<Vec<String>>>,
    category: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbJsonLine {
    id: String,
    locale: String,
    title: String,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    /// Optional in JSON lines (exports from other help desks rarely have one).
    #[serde(default = "uncategorised")]
    category: String,
}

fn uncategorised() -> String {
    "general".to_owned()
}

pub(crate) fn read_markdown_kb(
    dir: &Path,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Vec<KbArticle> {
    let mut articles = Vec::new();
    for path in files_with_extension(dir, "md", true, problems) {
        let Some(text) = read_text(&path, problems) else {
            continue;
        };
        if let Some(draft) = parse_markdown_article(&path, &text, problems) {
            articles.push(check_kb_draft(&path, draft, now, ids, problems));
        }
    }
    articles
}

fn read_jsonl_kb(
    path: &Path,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Vec<KbArticle> {
    let Some(text) = read_text(path, problems) else {
        return Vec::new();
    };
    let mut articles = Vec::new();
    for (index, line_text) in text.lines().enumerate() {
        let line = Some(index + 1);
        if line_text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<KbJsonLine>(line_text) {
            Ok(record) => {
                let at_line = |value| Located { value, line };
                let draft = KbDraft {
                    id: at_line(record.id),
                    locale: at_line(record.locale),
                    title: at_line(record.title),
                    category: at_line(record.category),
                    tags: Located {
                        value: record.tags,
                        line,
                    },
                    body: at_line(record.body),
                };
                articles.push(check_kb_draft(path, draft, now, ids, problems));
            }
            Err(err) => problems.add(path, line, json_error_message(&err)),
        }
    }
    articles
}

/// serde_json appends "at line 1 column N" to its messages; each JSON-lines
/// record is parsed alone, so the line would always read 1. Keep the column.
fn json_error_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match full.strip_suffix(&position) {
        Some(message) => format!("{message} (column {})", err.column()),
        None => full,
    }
}

/// Where the front matter and the body of a Markdown article are.
struct FrontMatterSplit {
    toml: Range<usize>,
    body: Range<usize>,
}

const FRONT_MATTER_FENCE: &str = "+++";

/// Finds the TOML front matter between a first line `+++` and the next line
/// `+++`; the error message explains what is wrong.
fn split_front_matter(text: &str) -> Result<FrontMatterSplit, String> {
    let mut lines = text.split_inclusive('\n');
    let opens = lines
        .next()
        .is_some_and(|first| first.trim_end() == FRONT_MATTER_FENCE);
    if !opens {
        return Err(
            "missing front matter: the file must start with a line \"+++\", then the \
             TOML keys (id, locale, title, category, optional tags), then a closing \
             \"+++\" line"
                .to_owned(),
        );
    }
    let toml_start = text.find('\n').map_or(text.len(), |newline| newline + 1);
    let mut offset = toml_start;
    for line in lines {
        let next_offset = offset + line.len();
        if line.trim_end() == FRONT_MATTER_FENCE {
            return Ok(FrontMatterSplit {
                toml: toml_start..offset,
                body: next_offset..text.len(),
            });
        }
        offset = next_offset;
    }
    Err(
        "the front matter opened by \"+++\" on line 1 is never closed: add a line \"+++\" \
         after the last key"
            .to_owned(),
    )
}

fn parse_markdown_article(path: &Path, text: &str, problems: &mut Problems) -> Option<KbDraft> {
    let split = match split_front_matter(text) {
        Ok(split) => split,
        Err(message) => {
            problems.add(path, Some(1), message);
            return None;
        }
    };
    let doc = TomlDoc::part_of_file(path, text, split.toml);
    let front: KbFrontMatter = doc.parse(problems)?;

    let raw_body = &text[split.body.clone()];
    let body = raw_body.trim();
    let leading_blank = raw_body.len() - raw_body.trim_start().len();
    // An empty body is reported on the closing fence's line.
    let body_line = if body.is_empty() {
        line_at(text, split.body.start.saturating_sub(1))
    } else {
        line_at(text, split.body.start + leading_blank)
    };
    let tags = match front.tags {
        Some(tags) => doc.locate(tags),
        None => Located {
            value: Vec::new(),
            line: None,
        },
    };
    Some(KbDraft {
        id: doc.locate(front.id),
        locale: doc.locate(front.locale),
        title: doc.locate(front.title),
        category: doc.locate(front.category),
        tags,
        body: Located {
            value: body.to_owned(),
            line: Some(body_line),
        },
    })
}

/// KB ids are `kb-` followed by lowercase ASCII letters, digits and `-`.
pub(crate) fn is_kb_id(id: &str) -> bool {
    id.strip_prefix("kb-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

fn check_kb_draft(
    path: &Path,
    draft: KbDraft,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> KbArticle {
    let context = format!("article \"{}\"", draft.id.value);
    if !is_kb_id(&draft.id.value) {
        problems.add(
            path,
            draft.id.line,
            format!(
                "article id \"{}\" must be \"kb-\" followed by lowercase letters, digits and \"-\"",
                draft.id.value
            ),
        );
    }
    ids.claim(path, &draft.id, problems);
    require_locale(problems, path, &context, &draft.locale);
    require_text(problems, path, &context, "title", &draft.title);
    require_text(problems, path, &context, "category", &draft.category);
    require_no_empty_entries(problems, path, &context, "tags", &draft.tags);
    if draft.body.value.trim().is_empty() {
        problems.add(
            path,
            draft.body.line,
            format!("{context}: the body is empty; write the article text after the front matter"),
        );
    }
    KbArticle {
        id: draft.id.value,
        locale: draft.locale.value,
        title: draft.title.value,
        body: draft.body.value.trim().to_owned(),
        tags: draft.tags.value,
        category: draft.category.value,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use tempfile::TempDir;

    use super::*;
    use crate::test_support::{
        ARTICLE_EN, ARTICLE_ZH, NOW, assert_error, assert_single_error, write,
    };

    #[test]
    fn markdown_kb_is_read_recursively_in_path_order() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "zh-CN/refund.md", ARTICLE_ZH);
        write(dir.path(), "en/refund.md", ARTICLE_EN);
        write(dir.path(), "en/notes.txt", "not an article");

        let articles = load_kb(dir.path(), NOW).expect("valid KB");
        assert_eq!(articles.len(), 2);
        let en = &articles[0];
        assert_eq!(en.id, "kb-en-refund");
        assert!(en.tags.is_empty());
        assert_eq!(en.updated_at, NOW);
        let zh = &articles[1];
        assert_eq!(zh.locale, "zh-CN");
        assert_eq!(zh.tags, vec!["退款".to_owned()]);
        assert_eq!(zh.body, "原路退回，一般 1-3 个工作日到账。");
    }

    #[test]
    fn jsonl_kb_skips_blank_lines() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "kb.jsonl",
            "{\"id\":\"kb-a\",\"locale\":\"en\",\"title\":\"A\",\"body\":\" Body A \",\"category\":\"c\"}\n\
             \n\
             {\"id\":\"kb-b\",\"locale\":\"zh-CN\",\"title\":\"B\",\"body\":\"正文\",\"tags\":[\"t\"],\"category\":\"c\"}\n",
        );
        let articles = load_kb(&file, NOW).expect("valid KB");
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[0].body, "Body A");
        assert_eq!(articles[1].tags, vec!["t".to_owned()]);
    }

    #[test]
    fn jsonl_bad_line_reports_its_line() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "kb.jsonl",
            "{\"id\":\"kb-a\",\"locale\":\"en\",\"title\":\"A\",\"body\":\"B\",\"category\":\"c\"}\n\
             \n\
             {\"id\":\"kb-b\",\"locale\":\"en\",\"title\":\"B\",\"body\":\"B\",\"category\":\"c\",\"author\":\"x\"}\n\
             {not json\n",
        );
        let errors = load_kb(&file, NOW).expect_err("bad lines");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "kb.jsonl", Some(3), &["author"]);
        assert_error(&errors[1], "kb.jsonl", Some(4), &["column"]);
        assert!(!errors[1].message.contains("line 1"), "{}", errors[1]);
    }

    #[test]
    fn missing_front_matter() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "plain.md", "# Just a title\n\nText.\n");
        let errors = load_kb(dir.path(), NOW).expect_err("no front matter");
        assert_single_error(&errors, "plain.md", Some(1), &["missing front matter"]);
    }

    #[test]
    fn unclosed_front_matter() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "open.md",
            "+++\nid = \"kb-open\"\nlocale = \"en\"\n\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("unclosed");
        assert_single_error(&errors, "open.md", Some(1), &["never closed"]);
    }

    #[test]
    fn bad_toml_in_front_matter_reports_the_markdown_line() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "bad.md",
            "+++\nid = \"kb-bad\"\nlocale = \"en\"\ntitle = \"unterminated\ncategory = \"c\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("bad TOML");
        assert_single_error(&errors, "bad.md", Some(4), &[]);
        assert!(
            errors[0]
                .to_string()
                .starts_with(&format!("{}:4: ", dir.path().join("bad.md").display()))
        );
    }

    #[test]
    fn unknown_front_matter_key_is_named() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "extra.md",
            "+++\nid = \"kb-extra\"\nlocale = \"en\"\ntitle = \"T\"\ncategory = \"c\"\nauthor = \"me\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("unknown key");
        assert_single_error(&errors, "extra.md", Some(6), &["author"]);
    }

    #[test]
    fn duplicate_id_across_two_files_names_both() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "a.md", ARTICLE_EN);
        write(dir.path(), "b.md", ARTICLE_EN);
        let errors = load_kb(dir.path(), NOW).expect_err("duplicate");
        assert_single_error(&errors, "b.md", Some(2), &["kb-en-refund", "a.md:2"]);
    }

    #[test]
    fn bad_locale_and_bad_id() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "x.md",
            "+++\nid = \"KB_Upper\"\nlocale = \"zh-cn\"\ntitle = \"T\"\ncategory = \"c\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("bad locale");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "x.md", Some(2), &["\"KB_Upper\"", "kb-"]);
        assert_error(&errors[1], "x.md", Some(3), &["\"zh-cn\"", "zh-CN"]);
    }

    #[test]
    fn empty_body_and_empty_title() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "empty.md",
            "+++\nid = \"kb-empty\"\nlocale = \"en\"\ntitle = \"  \"\ncategory = \"c\"\n+++\n\n  \n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("empty body");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "empty.md", Some(4), &["\"title\" is empty"]);
        assert_error(&errors[1], "empty.md", Some(6), &["body is empty"]);
    }

    #[test]
    fn non_utf8_file_is_an_error() {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("gbk.md");
        let mut bytes = b"+++\nid = \"kb-gbk\"\ntitle = \"".to_vec();
        bytes.extend_from_slice(&[0xcd, 0xcb, 0xbf, 0xee]); // "退款" in GBK
        bytes.extend_from_slice(b"\"\n+++\n");
        fs::write(&path, bytes).expect("write");
        let errors = load_kb(dir.path(), NOW).expect_err("not UTF-8");
        assert_single_error(&errors, "gbk.md", Some(3), &["UTF-8"]);
    }

    #[test]
    fn problems_in_every_file_are_collected() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "a.md", "no front matter");
        write(dir.path(), "b.md", ARTICLE_EN);
        write(dir.path(), "c.md", "+++\nid = 1\n");
        let errors = load_kb(dir.path(), NOW).expect_err("two bad files");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].file.ends_with("a.md"));
        assert!(errors[1].file.ends_with("c.md"));
    }

    #[test]
    fn kb_source_that_is_missing_or_empty() {
        let dir = TempDir::new().expect("temp dir");
        let missing = dir.path().join("nowhere");
        let errors = load_kb(&missing, NOW).expect_err("missing");
        assert_single_error(&errors, "nowhere", None, &["no such file"]);
        assert_eq!(
            errors[0].to_string(),
            format!("{}: no such file or directory", missing.display())
        );
        let errors = load_kb(dir.path(), NOW).expect_err("empty");
        assert_single_error(&errors, "", None, &["no KB articles"]);
    }
}
