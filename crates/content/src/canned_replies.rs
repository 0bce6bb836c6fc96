//! Canned replies (`canned-replies/<locale>.toml`): the texts an agent
//! inserts with `/shortcut`, with their `{placeholders}`. Owns the rules
//! that make a reply usable in the composer: one file per locale, shortcuts
//! short and unique per locale, every placeholder in the body declared and
//! every declared one used.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use homedesk_protocol::{CannedReply, Placeholder, PlaceholderKind};
use serde::Deserialize;
use toml::Spanned;

use crate::toml_doc::{Located, TomlDoc};
use crate::validate::{IdRegistry, describe_location, is_snake_case, require_texts};
use crate::{LOCALES, Problems, files_with_extension, read_text};

/// Longest canned-reply shortcut: it is typed after `/` in the composer.
const MAX_SHORTCUT_CHARS: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedRepliesFile {
    #[serde(default)]
    reply: Vec<CannedReplyDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedReplyDoc {
    id: Spanned<String>,
    /// Optional: the file name already says the locale.
    #[serde(default)]
    locale: Option<Spanned<String>>,
    title: Spanned<String>,
    shortcut: Spanned<String>,
    category: Spanned<String>,
    body: Spanned<String>,
    #[serde(default)]
    placeholders: Vec<PlaceholderDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceholderDoc {
    name: Spanned<String>,
    kind: PlaceholderKind,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    fallback: Option<String>,
}

/// Where a shortcut was first used, to report a clash with both replies.
struct ShortcutOwner {
    reply_id: String,
    path: PathBuf,
    line: Option<usize>,
}

pub(crate) fn read_canned_replies(dir: &Path, problems: &mut Problems) -> Vec<CannedReply> {
    let mut replies = Vec::new();
    let mut ids = IdRegistry::new("reply");
    // Keyed by (locale, shortcut): agents of one locale share one composer.
    let mut shortcuts: HashMap<(String, String), ShortcutOwner> = HashMap::new();
    for path in files_with_extension(dir, "toml", false, problems) {
        let file_locale = path
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or_default()
            .to_owned();
        if !LOCALES.contains(&file_locale.as_str()) {
            problems.add(
                &path,
                None,
                format!(
                    "canned-reply files are named after their locale (zh-CN.toml or en.toml); \
                     \"{file_locale}\" is not a supported locale"
                ),
            );
        }
        let Some(text) = read_text(&path, problems) else {
            continue;
        };
        let doc = TomlDoc::whole_file(&path, &text);
        let Some(file) = doc.parse::<CannedRepliesFile>(problems) else {
            continue;
        };
        if file.reply.is_empty() {
            problems.add(&path, None, "no replies here: add [[reply]] tables");
        }
        for reply_doc in file.reply {
            let reply = check_canned_reply(doc, &file_locale, reply_doc, &mut ids, problems);
            claim_shortcut(&path, &reply, &mut shortcuts, problems);
            replies.push(reply.value);
        }
    }
    replies
}

fn claim_shortcut(
    path: &Path,
    reply: &Located<CannedReply>,
    shortcuts: &mut HashMap<(String, String), ShortcutOwner>,
    problems: &mut Problems,
) {
    let key = (reply.value.locale.clone(), reply.value.shortcut.clone());
    match shortcuts.get(&key) {
        Some(owner) => problems.add(
            path,
            reply.line,
            format!(
                "reply \"{}\": shortcut \"{}\" is already used by reply \"{}\" at {}; \
                 shortcuts must be unique per locale",
                reply.value.id,
                reply.value.shortcut,
                owner.reply_id,
                describe_location(&owner.path, owner.line)
            ),
        ),
        None => {
            shortcuts.insert(
                key,
                ShortcutOwner {
                    reply_id: reply.value.id.clone(),
                    path: path.to_path_buf(),
                    line: reply.line,
                },
            );
        }
    }
}

/// Checks one reply; the returned line is that of its shortcut, for clashes.
fn check_canned_reply(
    doc: TomlDoc<'_>,
    file_locale: &str,
    reply: CannedReplyDoc,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Located<CannedReply> {
    let path = doc.path;
    let body_span = reply.body.span();
    let id = doc.locate(reply.id);
    let title = doc.locate(reply.title);
    let shortcut = doc.locate(reply.shortcut);
    let category = doc.locate(reply.category);
    let body = doc.locate(reply.body);
    let context = format!("reply \"{}\"", id.value);

    ids.claim(path, &id, problems);
    let fields = [
        ("id", &id),
        ("title", &title),
        ("category", &category),
        ("body", &body),
    ];
    require_texts(problems, path, &context, &fields);
    if let Some(locale) = reply.locale.map(|locale| doc.locate(locale))
        && locale.value != file_locale
    {
        problems.add(
            path,
            locale.line,
            format!(
                "{context}: locale \"{}\" does not match the file, which holds \"{file_locale}\" replies",
                locale.value
            ),
        );
    }
    let shortcut_is_valid = (1..=MAX_SHORTCUT_CHARS).contains(&shortcut.value.len())
        && shortcut
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !shortcut_is_valid {
        problems.add(
            path,
            shortcut.line,
            format!(
                "{context}: shortcut \"{}\" must be 1 to {MAX_SHORTCUT_CHARS} lowercase letters or digits",
                shortcut.value
            ),
        );
    }

    let mut placeholders = Vec::new();
    let mut declared: HashMap<String, Option<usize>> = HashMap::new();
    for placeholder in reply.placeholders {
        let name = doc.locate(placeholder.name);
        if !is_snake_case(&name.value) {
            problems.add(
                path,
                name.line,
                format!(
                    "{context}: placeholder name \"{}\" must be snake_case (lowercase letters, \
                     digits and \"_\", starting with a letter)",
                    name.value
                ),
            );
        }
        if declared.insert(name.value.clone(), name.line).is_some() {
            problems.add(
                path,
                name.line,
                format!(
                    "{context}: placeholder \"{}\" is declared twice",
                    name.value
                ),
            );
        }
        placeholders.push(Placeholder {
            name: name.value,
            kind: placeholder.kind,
            required: placeholder.required,
            fallback: placeholder.fallback,
        });
    }

    let used = placeholder_references(&body.value);
    for name in &used {
        if !declared.contains_key(*name) {
            let line = doc.line_of_text(&body_span, &format!("{{{name}}}"));
            problems.add(
                path,
                Some(line),
                format!(
                    "{context}: the body uses {{{name}}} but no placeholder \"{name}\" is \
                     declared; add a [[reply.placeholders]] table with name = \"{name}\""
                ),
            );
        }
    }
    for placeholder in &placeholders {
        if !used.contains(&placeholder.name.as_str()) {
            let line = declared.get(&placeholder.name).copied().flatten();
            problems.add(
                path,
                line,
                format!(
                    "{context}: placeholder \"{0}\" is declared but the body never uses it; \
                     write {{{0}}} in the body or remove the placeholder",
                    placeholder.name
                ),
            );
        }
    }

    Located {
        line: shortcut.line,
        value: CannedReply {
            id: id.value,
            locale: file_locale.to_owned(),
            title: title.value,
            shortcut: shortcut.value,
            category: category.value,
            // Trailing newlines of a TOML multi-line string would end up in
            // the composer.
            body: body.value.trim().to_owned(),
            placeholders,
        },
    }
}

/// The distinct `{name}` placeholders a body uses, in order of first use.
/// Braces around anything but a snake_case identifier are ordinary text.
fn placeholder_references(body: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut open: Option<usize> = None;
    for (index, c) in body.char_indices() {
        match c {
            '{' => open = Some(index),
            '}' => {
                if let Some(start) = open.take() {
                    let name = &body[start + 1..index];
                    if is_snake_case(name) && !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use super::*;
    use crate::load_content_dir;
    use crate::test_support::{NOW, REPLIES_ZH, assert_error, assert_single_error, write};

    #[test]
    fn canned_replies_happy_path() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "canned-replies/zh-CN.toml", REPLIES_ZH);
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-hi\"\ntitle = \"Hi\"\nshortcut = \"hi\"\ncategory = \"general\"\nbody = \"Hello!\"\n",
        );
        let set = load_content_dir(dir.path(), NOW).expect("valid replies");
        assert_eq!(set.canned_replies.len(), 3);
        let en = &set.canned_replies[0];
        assert_eq!((en.id.as_str(), en.locale.as_str()), ("cr-en-hi", "en"));
        let refund = &set.canned_replies[1];
        assert_eq!(refund.locale, "zh-CN");
        assert!(!refund.body.ends_with('\n'));
        assert_eq!(refund.placeholders.len(), 2);
        assert_eq!(refund.placeholders[0].kind, PlaceholderKind::OrderNo);
        assert!(refund.placeholders[0].required);
        assert_eq!(
            refund.placeholders[1].fallback.as_deref(),
            Some("3 个工作日")
        );
        assert!(set.kb.is_empty() && set.scripts.is_empty() && set.scenarios.is_empty());
    }

    #[test]
    fn undeclared_placeholder() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-ship\"\ntitle = \"Shipped\"\nshortcut = \"ship\"\ncategory = \"delivery\"\nbody = \"\"\"\nHello,\nyour order {order_no} has shipped.\n\"\"\"\n",
        );
        let errors = load_content_dir(dir.path(), NOW).expect_err("undeclared");
        assert_single_error(&errors, "en.toml", Some(8), &["{order_no}", "cr-en-ship"]);
    }

    #[test]
    fn unused_placeholder() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-hi\"\ntitle = \"Hi\"\nshortcut = \"hi\"\ncategory = \"general\"\nbody = \"Hello!\"\n\n[[reply.placeholders]]\nname = \"customer_name\"\nkind = \"text\"\n",
        );
        let errors = load_content_dir(dir.path(), NOW).expect_err("unused");
        assert_single_error(
            &errors,
            "en.toml",
            Some(9),
            &["\"customer_name\"", "never uses"],
        );
    }

    #[test]
    fn reply_rules_shortcut_locale_and_file_name() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-1\"\ntitle = \"A\"\nshortcut = \"hi\"\ncategory = \"c\"\nbody = \"A\"\n\n\
             [[reply]]\nid = \"cr-2\"\nlocale = \"zh-CN\"\ntitle = \"B\"\nshortcut = \"hi\"\ncategory = \"c\"\nbody = \"B\"\n\n\
             [[reply]]\nid = \"cr-3\"\ntitle = \"C\"\nshortcut = \"Bad-Cut\"\ncategory = \"c\"\nbody = \"C\"\n",
        );
        write(dir.path(), "canned-replies/fr.toml", "");
        let errors = load_content_dir(dir.path(), NOW).expect_err("bad replies");
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert_error(
            &errors[0],
            "en.toml",
            Some(10),
            &["\"zh-CN\"", "does not match"],
        );
        assert_error(
            &errors[1],
            "en.toml",
            Some(12),
            &["\"hi\"", "cr-1", "en.toml:4"],
        );
        assert_error(&errors[2], "en.toml", Some(19), &["\"Bad-Cut\""]);
        assert_error(&errors[3], "fr.toml", None, &["\"fr\""]);
        assert_error(&errors[4], "fr.toml", None, &["[[reply]]"]);
    }

    #[test]
    fn placeholder_references_only_snake_case_identifiers() {
        assert_eq!(
            placeholder_references("{a} {b_2} {a} {Not} {} {x y} {{c}} {9d}"),
            vec!["a", "b_2", "c"]
        );
    }
}
