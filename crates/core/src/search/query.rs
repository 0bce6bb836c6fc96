//! Turns what an agent typed into FTS5 MATCH expressions. User text never
//! reaches FTS5 as query syntax: it is analysed like an article (see
//! `analyze.rs`) and every resulting token is written as a quoted string, so
//! `"`, `*`, `(`, `NEAR`, `-` and `:` are just characters (mostly dropped as
//! punctuation).
//!
//! Three expressions come out, run in this order until enough is found:
//! 1. strict, in titles: every part of the query (each Chinese run as an
//!    exact phrase, words stemmed, or their pinyin reading) in the title-side
//!    columns (title, tags, pinyin; shortcut for canned replies);
//! 2. strict, anywhere: the same in any column, body included;
//! 3. tolerant: any token (bigrams, single characters but not stop
//!    characters, synonyms, words, numbers, pinyin), ranked by bm25.

use super::analyze::{CjkChar, Piece, PieceKind, pieces};
use super::lexicon::{STOP_WORDS, SYNONYMS, stem};
use super::romanize::{is_initial, split_syllables};

/// Only the start of a very long query is used.
pub(crate) const MAX_QUERY_CHARS: usize = 200;
/// At most this many parts are required by the strict expression.
const MAX_STRICT_TERMS: usize = 16;
/// At most this many alternatives are OR-ed by the tolerant expression.
const MAX_LOOSE_PHRASES: usize = 48;
/// Letters read as pinyin initials ("tk" for 退款) at most.
const MAX_INITIALS: usize = 6;

/// Column sets of one FTS5 table, in FTS5 column-filter syntax.
pub(crate) struct Columns {
    /// Title-side columns searched for Chinese and English text.
    pub(crate) title: &'static str,
    /// All columns searched for Chinese and English text.
    pub(crate) text: &'static str,
    /// The pinyin column.
    pub(crate) pinyin: &'static str,
}

/// The MATCH expressions for one query; `None` when there is nothing to search.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Every part of the query, in the title-side columns.
    pub(crate) strict_title: Option<Expr>,
    /// Every part of the query, in any column.
    pub(crate) strict: Option<Expr>,
    /// Any part of the query; `None` when it would find the same as `strict`.
    pub(crate) loose: Option<Loose>,
}

/// The tolerant pass: phrases OR-ed, so that the search can leave out
/// phrases too common to matter before running it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Loose {
    phrases: Vec<Phrase>,
}

impl Loose {
    /// The tokens of each phrase, space-separated.
    pub(crate) fn phrase_tokens(&self) -> Vec<String> {
        self.phrases.iter().map(|p| p.tokens.join(" ")).collect()
    }

    /// The expression with only the phrases for which `keep(index)` is true
    /// (all of them if that would leave none).
    pub(crate) fn expr(&self, keep: impl Fn(usize) -> bool) -> Expr {
        let kept: Vec<Phrase> = (0..self.phrases.len())
            .filter(|i| keep(*i))
            .filter_map(|i| self.phrases.get(i).cloned())
            .collect();
        if kept.is_empty() {
            loose_expr(&self.phrases)
        } else {
            loose_expr(&kept)
        }
    }
}

/// A MATCH expression, and its phrases in the order FTS5 numbers them (the
/// order they are written in), for ranking.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Expr {
    pub(crate) fts: String,
    /// The tokens of each phrase, space-separated (what to count for its
    /// document frequency); `None` for a phrase that filters but is not
    /// ranked (none is made now; `homedesk_rank` still allows it).
    pub(crate) phrases: Vec<Option<String>>,
    /// The tokens of each phrase that can match an article's own text (not
    /// the pinyin column), space-separated: what a snippet marks.
    pub(crate) text_phrases: Vec<String>,
}

impl Expr {
    fn text(&mut self, text: &str) {
        self.fts.push_str(text);
    }

    fn phrase(&mut self, phrase: &Phrase) {
        self.fts.push_str(&phrase.to_fts());
        self.phrases.push(Some(phrase.tokens.join(" ")));
        if !phrase.pinyin {
            self.text_phrases.push(phrase.tokens.join(" "));
        }
    }

    /// One alternative, or several in parentheses.
    fn term(&mut self, term: &Term) {
        if let [only] = term.as_slice() {
            self.phrase(only);
            return;
        }
        self.text("(");
        for (i, phrase) in term.iter().enumerate() {
            if i > 0 {
                self.text(" OR ");
            }
            self.phrase(phrase);
        }
        self.text(")");
    }
}

/// A phrase (tokens at consecutive positions) in a set of columns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Phrase {
    columns: &'static str,
    tokens: Vec<String>,
    /// In the pinyin column (matches no text a reader sees).
    pinyin: bool,
}

impl Phrase {
    fn new(columns: &'static str, tokens: Vec<String>) -> Option<Phrase> {
        if tokens.is_empty() || tokens.iter().any(String::is_empty) {
            return None;
        }
        Some(Phrase {
            columns,
            tokens,
            pinyin: false,
        })
    }

    fn pinyin(column: &'static str, tokens: Vec<String>) -> Option<Phrase> {
        Phrase::new(column, tokens).map(|phrase| Phrase {
            pinyin: true,
            ..phrase
        })
    }

    fn one(columns: &'static str, token: &str) -> Option<Phrase> {
        Phrase::new(columns, vec![token.to_owned()])
    }

    fn to_fts(&self) -> String {
        let joined = self.tokens.join(" ").replace('"', "\"\"");
        format!("{} : \"{joined}\"", self.columns)
    }
}

/// Alternatives (OR) for one part of the query.
type Term = Vec<Phrase>;

fn push_unique(list: &mut Vec<Phrase>, phrase: Option<Phrase>) {
    if let Some(phrase) = phrase
        && !list.contains(&phrase)
    {
        list.push(phrase);
    }
}

/// Builds the expressions for `query` (the locale filter is applied by the
/// search, outside the expressions).
pub(crate) fn plan(query: &str, columns: &Columns) -> Plan {
    let text: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let pieces = pieces(&text);
    if pieces.is_empty() {
        return Plan::default();
    }
    let strict = strict_terms(&pieces, columns.text, columns);
    let loose_phrases = loose_phrases(&pieces, columns);
    // A one-part query whose alternatives are all the tolerant query would
    // try: no second pass.
    let same = match &strict {
        Some((terms, false)) => match terms.as_slice() {
            [only] => {
                only.len() == loose_phrases.len()
                    && loose_phrases.iter().all(|phrase| only.contains(phrase))
            }
            _ => false,
        },
        _ => false,
    };
    let loose = if same || loose_phrases.is_empty() {
        None
    } else {
        Some(Loose {
            phrases: loose_phrases,
        })
    };
    let strict_title = strict_terms(&pieces, columns.title, columns)
        .map(|(terms, _)| strict_expr(&terms, &pieces, columns));
    let strict = strict.map(|(terms, _)| strict_expr(&terms, &pieces, columns));
    Plan {
        strict_title,
        strict,
        loose,
    }
}

/// `term AND term …`, or, when the words together read as pinyin,
/// `(term AND term …) OR pinyin`.
fn strict_expr(terms: &[Term], pieces: &[Piece], columns: &Columns) -> Expr {
    let joined = match terms.len() {
        0 | 1 => Vec::new(),
        _ => joined_letters(pieces)
            .map(|joined| pinyin_phrases(&joined, columns))
            .unwrap_or_default(),
    };
    let mut expr = Expr::default();
    if !joined.is_empty() {
        expr.text("(");
    }
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            expr.text(" AND ");
        }
        expr.term(term);
    }
    if !joined.is_empty() {
        expr.text(")");
        for phrase in &joined {
            expr.text(" OR ");
            expr.phrase(phrase);
        }
    }
    expr
}

/// `phrase OR phrase …`.
fn loose_expr(phrases: &[Phrase]) -> Expr {
    let mut expr = Expr::default();
    for (i, phrase) in phrases.iter().enumerate() {
        if i > 0 {
            expr.text(" OR ");
        }
        expr.phrase(phrase);
    }
    expr
}

/// Every part must match in `text` columns (or as pinyin): each CJK run as a
/// phrase, each group of words and numbers written together as a phrase (or
/// its pinyin reading). The flag says whether the words together are read as
/// pinyin too ("tui kuan").
fn strict_terms(
    pieces: &[Piece],
    text: &'static str,
    columns: &Columns,
) -> Option<(Vec<Term>, bool)> {
    let mut terms: Vec<Term> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if let PieceKind::Cjk(chars) = &pieces[i].kind {
            // Bodies do not index single characters: one alone is looked
            // for in the title-side columns.
            let columns_here = if chars.len() == 1 {
                columns.title
            } else {
                text
            };
            terms.push(cjk_term(chars, columns_here));
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < pieces.len()
            && !matches!(pieces[j].kind, PieceKind::Cjk(_))
            && pieces[j].start == pieces[j - 1].end
        {
            j += 1;
        }
        terms.push(latin_term(&pieces[i..j], text, columns));
        i = j;
    }
    terms.retain(|term| !term.is_empty());
    terms.truncate(MAX_STRICT_TERMS);
    if terms.is_empty() {
        return None;
    }
    let joined_pinyin = terms.len() > 1
        && joined_letters(pieces)
            .is_some_and(|joined| !pinyin_phrases(&joined, columns).is_empty());
    Some((terms, joined_pinyin))
}

/// A CJK run: the exact phrase, or the canonical form when the whole run is
/// a synonym.
fn cjk_term(chars: &[CjkChar], text_columns: &'static str) -> Term {
    let text: String = chars.iter().map(|c| c.ch).collect();
    let mut term = Vec::new();
    push_unique(&mut term, Phrase::new(text_columns, cjk_phrase(chars)));
    if let Some(canonical) = SYNONYMS.han(&text) {
        push_unique(&mut term, Phrase::one(text_columns, canonical));
    }
    term
}

/// The tokens at consecutive positions for a CJK run: its bigrams, or the
/// character alone.
fn cjk_phrase(chars: &[CjkChar]) -> Vec<String> {
    if let [only] = chars {
        return vec![only.ch.to_string()];
    }
    chars
        .windows(2)
        .map(|pair| [pair[0].ch, pair[1].ch].iter().collect())
        .collect()
}

/// Words and numbers written together ("iPhone15"): their phrase; a single
/// word also as its synonym and as pinyin.
fn latin_term(group: &[Piece], text_columns: &'static str, columns: &Columns) -> Term {
    let tokens: Vec<String> = group.iter().filter_map(latin_token).collect();
    let mut term = Vec::new();
    push_unique(&mut term, Phrase::new(text_columns, tokens.clone()));
    if let [piece] = group
        && let PieceKind::Word(word) = &piece.kind
    {
        if let Some(stemmed) = tokens.first()
            && let Some(canonical) = SYNONYMS.latin(stemmed)
        {
            push_unique(&mut term, Phrase::one(text_columns, canonical));
        }
        for phrase in pinyin_phrases(word, columns) {
            push_unique(&mut term, Some(phrase));
        }
    }
    term
}

fn latin_token(piece: &Piece) -> Option<String> {
    match &piece.kind {
        PieceKind::Word(word) => Some(stem(word)),
        PieceKind::Number(digits) => Some(digits.clone()),
        PieceKind::Cjk(_) => None,
    }
}

/// `word` read as pinyin: full syllables ("tuikuan" → the phrase of joined
/// pairs `tuikuan`) and initials ("tk"), as phrases in the pinyin column.
fn pinyin_phrases(word: &str, columns: &Columns) -> Vec<Phrase> {
    let mut out = Vec::new();
    if !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return out;
    }
    if let Some(syllables) = split_syllables(word) {
        push_unique(&mut out, Phrase::pinyin(columns.pinyin, pairs(&syllables)));
    }
    if word.len() <= MAX_INITIALS && word.chars().all(is_initial) {
        let letters: Vec<String> = word.chars().map(String::from).collect();
        push_unique(&mut out, Phrase::pinyin(columns.pinyin, pairs(&letters)));
    }
    out
}

/// `[a, b, c]` → `[ab, bc]`; `[a]` → `[a]`: the pinyin column indexes joined
/// pairs at each position.
fn pairs(parts: &[String]) -> Vec<String> {
    if let [only] = parts {
        return vec![only.clone()];
    }
    parts
        .windows(2)
        .map(|pair| format!("{}{}", pair[0], pair[1]))
        .collect()
}

/// The letters of a query made only of words ("tui kuan" → "tuikuan").
fn joined_letters(pieces: &[Piece]) -> Option<String> {
    let mut joined = String::new();
    for piece in pieces {
        let PieceKind::Word(word) = &piece.kind else {
            return None;
        };
        joined.push_str(word);
    }
    Some(joined)
}

/// Any token may match: bigrams, single characters (but not stop
/// characters), synonyms, words (but not stop words), numbers, pinyin.
fn loose_phrases(pieces: &[Piece], columns: &Columns) -> Vec<Phrase> {
    let only_stop_words = pieces.iter().all(|piece| match &piece.kind {
        PieceKind::Cjk(chars) => chars.iter().all(|c| STOP_WORDS.is_han_stop(c.ch)),
        PieceKind::Word(word) => STOP_WORDS.is_latin_stop(&stem(word)),
        PieceKind::Number(_) => false,
    });
    let mut phrases: Vec<Phrase> = Vec::new();
    for piece in pieces {
        match &piece.kind {
            PieceKind::Cjk(chars) => {
                cjk_alternatives(chars, only_stop_words, columns, &mut phrases)
            }
            PieceKind::Word(word) => {
                let stemmed = stem(word);
                if only_stop_words || !STOP_WORDS.is_latin_stop(&stemmed) {
                    push_unique(&mut phrases, Phrase::one(columns.text, &stemmed));
                }
                if let Some(canonical) = SYNONYMS.latin(&stemmed) {
                    push_unique(&mut phrases, Phrase::one(columns.text, canonical));
                }
                for phrase in pinyin_phrases(word, columns) {
                    push_unique(&mut phrases, Some(phrase));
                }
            }
            PieceKind::Number(digits) => {
                push_unique(&mut phrases, Phrase::one(columns.text, digits))
            }
        }
    }
    if pieces.len() > 1
        && let Some(joined) = joined_letters(pieces)
    {
        for phrase in pinyin_phrases(&joined, columns) {
            push_unique(&mut phrases, Some(phrase));
        }
    }
    phrases.truncate(MAX_LOOSE_PHRASES);
    phrases
}

fn cjk_alternatives(chars: &[CjkChar], keep_stop: bool, columns: &Columns, out: &mut Vec<Phrase>) {
    let stop = |c: &CjkChar| !keep_stop && STOP_WORDS.is_han_stop(c.ch);
    for (i, c) in chars.iter().enumerate() {
        if let Some(next) = chars.get(i + 1)
            && !(stop(c) && stop(next))
        {
            let bigram: String = [c.ch, next.ch].iter().collect();
            push_unique(out, Phrase::one(columns.text, &bigram));
        }
        if !stop(c) {
            push_unique(out, Phrase::one(columns.title, &c.ch.to_string()));
        }
        let longest = SYNONYMS.han_max_chars_from(c.ch).min(chars.len() - i);
        for len in 2..=longest {
            let member: String = chars[i..i + len].iter().map(|c| c.ch).collect();
            if let Some(canonical) = SYNONYMS.han(&member) {
                push_unique(out, Phrase::one(columns.text, canonical));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts(expr: &Option<Expr>) -> Option<&str> {
        expr.as_ref().map(|e| e.fts.as_str())
    }

    #[test]
    fn phrases_are_listed_in_written_order() {
        let p = plan("tui kuan", &COLUMNS);
        let strict = p.strict.unwrap_or_default();
        assert_eq!(
            strict.fts,
            "(({title body} : \"tui\" OR pinyin : \"tui\") AND ({title body} : \"kuan\" OR pinyin : \"kuan\")) OR pinyin : \"tuikuan\""
        );
        let phrases: Vec<Option<&str>> = strict.phrases.iter().map(|p| p.as_deref()).collect();
        assert_eq!(
            phrases,
            vec![
                Some("tui"),
                Some("tui"),
                Some("kuan"),
                Some("kuan"),
                Some("tuikuan"),
            ]
        );
    }

    const COLUMNS: Columns = Columns {
        title: "title",
        text: "{title body}",
        pinyin: "pinyin",
    };

    #[test]
    fn chinese_query_is_a_phrase_of_bigrams() {
        let p = plan("退款申请", &COLUMNS);
        assert_eq!(fts(&p.strict), Some("{title body} : \"退款 款申 申请\""));
        let loose = p.loose.map(|l| l.expr(|_| true).fts).unwrap_or_default();
        // Bodies index no single characters: those are for titles.
        assert!(loose.contains("title : \"退\""), "{loose}");
        assert!(loose.contains("{title body} : \"款申\""), "{loose}");
    }

    #[test]
    fn pinyin_alternatives() {
        let p = plan("tk", &COLUMNS);
        assert_eq!(
            fts(&p.strict),
            Some("({title body} : \"tk\" OR pinyin : \"tk\")")
        );
        assert_eq!(p.loose, None);
        let p = plan("tui kuan", &COLUMNS);
        let strict = p.strict.map(|e| e.fts).unwrap_or_default();
        assert!(strict.ends_with("OR pinyin : \"tuikuan\""), "{strict}");
    }

    #[test]
    fn syntax_characters_are_just_text() {
        for hostile in ["\"", "*", "NEAR(", "-", ":", "(", "\"unbalanced", "a\"b"] {
            let p = plan(hostile, &COLUMNS);
            let loose = p.loose.map(|l| l.expr(|_| true));
            for expr in [p.strict, loose].into_iter().flatten().map(|e| e.fts) {
                // Every quote opens or closes a token string.
                assert_eq!(expr.matches('"').count() % 2, 0, "{expr}");
            }
        }
        assert_eq!(plan("  ？！。 ", &COLUMNS), Plan::default());
    }

    #[test]
    fn stop_characters_are_left_out_of_the_tolerant_query() {
        let p = plan("我的订单", &COLUMNS);
        let loose = p.loose.map(|l| l.expr(|_| true).fts).unwrap_or_default();
        assert!(!loose.contains("\"的\""), "{loose}");
        assert!(!loose.contains("\"我的\""), "{loose}");
        assert!(loose.contains("\"订单\""), "{loose}");
        // Only stop characters: searched as typed.
        let p = plan("的", &COLUMNS);
        assert_eq!(fts(&p.strict), Some("title : \"的\""));
    }
}
