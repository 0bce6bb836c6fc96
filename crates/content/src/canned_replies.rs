//! Canned replies (`canned-replies/<locale>.toml`): the texts an agent
//! inserts with `/shortcut`, with their `{placeholders}`. Owns the rules
//! that make a reply usable in the composer: one file per locale, shortcuts
//! short and unique per locale, every placeholder in the body declared and
//! every declared one used, and an `image` (a photo sent with the reply,
//! e.g. a size chart) a readable JPEG, PNG or WebP file inside the folder,
//! no larger than a photo may be. The platform stores that file as a photo
//! when it imports the reply (decision 0025).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use homedesk_protocol::{CannedReply, MAX_ATTACHMENT_BYTES, Placeholder, PlaceholderKind};
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
    /// A photo sent with the reply: a path inside the canned-replies folder.
    #[serde(default)]
    image: Option<Spanned<String>>,
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

/// The canned replies of a folder, and the image file of each reply that
/// has one (by reply id).
pub(crate) fn read_canned_replies(
    dir: &Path,
    problems: &mut Problems,
) -> (Vec<CannedReply>, BTreeMap<String, PathBuf>) {
    let mut replies = Vec::new();
    let mut images = BTreeMap::new();
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
            let image = reply_doc
                .image
                .clone()
                .and_then(|image| check_image(dir, doc, &reply_doc.id, image, problems));
            let reply = check_canned_reply(doc, &file_locale, reply_doc, &mut ids, problems);
            claim_shortcut(&path, &reply, &mut shortcuts, problems);
            if let Some(image) = image {
                images.insert(reply.value.id.clone(), image);
            }
            replies.push(reply.value);
        }
    }
    (replies, images)
}

/// Checks a reply's `image`: a relative path inside `dir` (no `..`), a
/// file that can be read, not empty, no larger than a photo may be, and a
/// JPEG, PNG or WebP by its first bytes. The file, or `None` with a problem.
fn check_image(
    dir: &Path,
    doc: TomlDoc<'_>,
    id: &Spanned<String>,
    image: Spanned<String>,
    problems: &mut Problems,
) -> Option<PathBuf> {
    let path = doc.path;
    let context = format!("reply \"{}\"", id.get_ref());
    let image = doc.locate(image);
    let relative = Path::new(&image.value);
    let inside = !image.value.is_empty()
        && relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)));
    if !inside {
        problems.add(
            path,
            image.line,
            format!(
                "{context}: image \"{}\" must be a file inside the canned-replies folder \
                 (a relative path without \"..\")",
                image.value
            ),
        );
        return None;
    }
    let file = dir.join(relative);
    let problem = match std::fs::read(&file) {
        Err(err) => Some(format!("cannot read it: {err}")),
        Ok(bytes) if bytes.is_empty() => Some("the file is empty".to_owned()),
        Ok(bytes) if bytes.len() > MAX_ATTACHMENT_BYTES => Some(format!(
            "{} bytes; a photo may be at most {MAX_ATTACHMENT_BYTES} (5 MB)",
            bytes.len()
        )),
        Ok(bytes) if !is_photo(&bytes) => {
            Some("it is not a JPEG, PNG or WebP image (by its first bytes)".to_owned())
        }
        Ok(_) => None,
    };
    match problem {
        Some(problem) => {
            problems.add(
                path,
                image.line,
                format!("{context}: image \"{}\": {problem}", image.value),
            );
            None
        }
        None => Some(file),
    }
}

/// JPEG, PNG or WebP by the magic bytes (the platform checks the rest).
fn is_photo(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || (bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
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
            // The platform's record of the image, filled in at import.
            attachment: None,
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

    fn with_image(line: &str) -> String {
        format!(
            "[[reply]]\nid = \"cr-en-chart\"\ntitle = \"Sizes\"\nshortcut = \"sz\"\ncategory = \"c\"\nbody = \"See the chart.\"\n{line}\n"
        )
    }

    #[test]
    fn a_reply_names_its_image_file_inside_the_folder() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            &with_image("image = \"images/chart.png\""),
        );
        let png = write(dir.path(), "canned-replies/images/chart.png", "");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n (the platform checks the rest)").expect("png");
        let set = load_content_dir(dir.path(), NOW).expect("valid reply with an image");
        assert_eq!(
            set.canned_images.get("cr-en-chart"),
            Some(&dir.path().join("canned-replies/images/chart.png"))
        );
        assert_eq!(
            set.canned_replies[0].attachment, None,
            "filled in at import"
        );
    }

    #[test]
    fn a_missing_outside_or_non_image_file_is_refused_with_its_line() {
        for (image, file, says) in [
            ("images/none.png", None, "cannot read it"),
            ("../secret.png", None, "inside the canned-replies folder"),
            ("/etc/passwd", None, "inside the canned-replies folder"),
            (
                "notes.txt",
                Some("MZ this is not an image"),
                "not a JPEG, PNG or WebP",
            ),
            ("empty.jpg", Some(""), "empty"),
        ] {
            let dir = TempDir::new().expect("temp dir");
            write(
                dir.path(),
                "canned-replies/en.toml",
                &with_image(&format!("image = \"{image}\"")),
            );
            if let Some(content) = file {
                write(dir.path(), &format!("canned-replies/{image}"), content);
            }
            let errors = load_content_dir(dir.path(), NOW).expect_err(image);
            assert_single_error(&errors, "en.toml", Some(7), &["cr-en-chart", says]);
        }
    }

    #[test]
    fn placeholder_references_only_snake_case_identifiers() {
        assert_eq!(
            placeholder_references("{a} {b_2} {a} {Not} {} {x y} {{c}} {9d}"),
            vec!["a", "b_2", "c"]
        );
    }
}
