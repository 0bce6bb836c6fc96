//! Word lists of the knowledge-base search: synonym groups and query stop
//! words (both plain-text files next to this module, compiled in), and the
//! English stemmer. Parsed once, on first use.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::analyze::is_cjk;

const SYNONYMS_TXT: &str = include_str!("synonyms.txt");
const STOPWORDS_TXT: &str = include_str!("stopwords.txt");

/// The longest English word we stem; longer runs of letters are kept as they
/// are (they are not words, and stemming is linear in their length anyway).
const MAX_STEM_CHARS: usize = 40;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words whose stems are remembered per thread at most (then the memory
/// starts again): a knowledge base uses a few thousand words over and over,
/// and the stemmer was a tenth of indexing time.
const MAX_REMEMBERED_STEMS: usize = 20_000;

thread_local! {
    static STEMS: std::cell::RefCell<HashMap<Box<str>, Box<str>>> =
        std::cell::RefCell::new(HashMap::default());
}

/// Stems one folded (lower-case, accent-free) English word.
pub(crate) fn stem(word: &str) -> String {
    if word.chars().count() > MAX_STEM_CHARS {
        return word.to_owned();
    }
    STEMS.with(|stems| {
        let mut stems = stems.borrow_mut();
        if let Some(known) = stems.get(word) {
            return known.to_string();
        }
        let stemmed = STEMMER.stem(word).into_owned();
        if stems.len() >= MAX_REMEMBERED_STEMS {
            stems.clear();
        }
        stems.insert(word.into(), stemmed.as_str().into());
        stemmed
    })
}

/// Synonym groups: each member maps to its group's canonical form.
pub(crate) struct Synonyms {
    /// Chinese member → canonical form.
    han: HashMap<String, String>,
    /// Longest Chinese member, in characters.
    han_max_chars: usize,
    /// First characters of the Chinese members.
    han_first: HashSet<char>,
    /// Stemmed English member → stemmed canonical form.
    latin: HashMap<String, String>,
}

impl Synonyms {
    /// The canonical form of a Chinese member, if `text` is one.
    pub(crate) fn han(&self, text: &str) -> Option<&str> {
        self.han.get(text).map(String::as_str)
    }

    /// The longest Chinese member starting with `c`, in characters, as far
    /// as worth looking: 0 when no member starts with `c`.
    pub(crate) fn han_max_chars_from(&self, c: char) -> usize {
        if self.han_first.contains(&c) {
            self.han_max_chars
        } else {
            0
        }
    }

    /// The canonical (stemmed) form of a stemmed English word, if it is a member.
    pub(crate) fn latin(&self, stem: &str) -> Option<&str> {
        self.latin.get(stem).map(String::as_str)
    }
}

/// Problems found in `synonyms.txt` (tested to be empty).
#[cfg(test)]
pub(crate) fn synonym_file_problems() -> Vec<String> {
    parse_synonyms(SYNONYMS_TXT).1
}

pub(crate) static SYNONYMS: LazyLock<Synonyms> = LazyLock::new(|| parse_synonyms(SYNONYMS_TXT).0);

/// Parses the synonym file; the second value lists the problems found
/// (members in two groups, one-character Chinese members, mixed groups),
/// which are skipped rather than fatal: search must never fail to start.
fn parse_synonyms(text: &str) -> (Synonyms, Vec<String>) {
    let mut han = HashMap::default();
    let mut latin = HashMap::default();
    let mut problems = Vec::new();
    let mut han_max_chars = 0;
    let mut han_first = HashSet::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let members: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = members.first() else {
            continue;
        };
        if members.len() < 2 {
            problems.push(format!("group with one member: {line}"));
            continue;
        }
        let chinese = first.chars().all(is_cjk);
        if chinese {
            for member in &members {
                let chars = member.chars().count();
                if !member.chars().all(is_cjk) || chars < 2 {
                    problems.push(format!("bad Chinese member {member:?} in: {line}"));
                    continue;
                }
                if han.contains_key(*member) {
                    problems.push(format!("{member:?} is in two groups"));
                    continue;
                }
                han_max_chars = han_max_chars.max(chars);
                han_first.extend(member.chars().next());
                han.insert((*member).to_owned(), (*first).to_owned());
            }
        } else {
            let canonical = stem(&first.to_lowercase());
            for member in &members {
                if !member.chars().all(|c| c.is_ascii_alphabetic()) {
                    problems.push(format!("bad English member {member:?} in: {line}"));
                    continue;
                }
                let stemmed = stem(&member.to_lowercase());
                if latin.contains_key(&stemmed) {
                    problems.push(format!("{member:?} is in two groups"));
                    continue;
                }
                latin.insert(stemmed, canonical.clone());
            }
        }
    }
    let synonyms = Synonyms {
        han,
        han_max_chars,
        han_first,
        latin,
    };
    (synonyms, problems)
}

/// Query stop words: single Chinese characters and English words (stemmed).
pub(crate) struct StopWords {
    han: HashSet<char>,
    latin: HashSet<String>,
}

impl StopWords {
    pub(crate) fn is_han_stop(&self, c: char) -> bool {
        self.han.contains(&c)
    }

    /// `stemmed` is a stemmed English word.
    pub(crate) fn is_latin_stop(&self, stemmed: &str) -> bool {
        self.latin.contains(stemmed)
    }
}

pub(crate) static STOP_WORDS: LazyLock<StopWords> = LazyLock::new(|| {
    let mut han = HashSet::default();
    let mut latin = HashSet::default();
    for line in STOPWORDS_TXT.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if is_cjk(c) => {
                han.insert(c);
            }
            _ => {
                latin.insert(stem(&line.to_lowercase()));
            }
        }
    }
    StopWords { han, latin }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonym_file_is_consistent() {
        assert_eq!(synonym_file_problems(), Vec::<String>::new());
        assert_eq!(SYNONYMS.han("退钱"), Some("退款"));
        assert_eq!(SYNONYMS.han("退款"), Some("退款"));
        assert_eq!(SYNONYMS.han("如何"), Some("怎么"));
        assert_eq!(SYNONYMS.latin(&stem("revoked")), Some("cancel"));
        assert!(SYNONYMS.han_max_chars_from('什') >= 4);
        assert_eq!(SYNONYMS.han_max_chars_from('的'), 0);
    }

    /// The file's own rule: shop vocabulary, not a payments help desk's
    /// (the recall test set comes from one; see docs/search.md).
    #[test]
    fn synonyms_are_shop_words_not_payment_desk_words() {
        for word in [
            "收款",
            "收钱",
            "还款",
            "还钱",
            "扣款",
            "扣费",
            "余额",
            "零钱",
            "手续费",
            "入账",
            "开通",
            "激活",
            "绑定",
            "解绑",
            "注销",
            "动态码",
            "申诉",
            "返款",
        ] {
            assert_eq!(SYNONYMS.han(word), None, "{word} is in a synonym group");
        }
        // Shop words stay: a buyer's refund, payment, parcel and delivery.
        assert_eq!(SYNONYMS.han("退费"), Some("退款"));
        assert_eq!(SYNONYMS.han("付钱"), Some("付款"));
        assert_eq!(SYNONYMS.han("到帐"), Some("到账"));
        assert_eq!(SYNONYMS.han("包裹"), Some("快递"));
        assert_eq!(SYNONYMS.han("签收"), Some("收货"));
    }

    #[test]
    fn stop_words_are_loaded() {
        assert!(STOP_WORDS.is_han_stop('的'));
        assert!(!STOP_WORDS.is_han_stop('款'));
        assert!(STOP_WORDS.is_latin_stop("the"));
        assert!(!STOP_WORDS.is_latin_stop("refund"));
    }
}
