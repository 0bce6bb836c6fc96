//! Text analysis of the knowledge-base search, in plain Rust: folding
//! (case, diacritics, full-width), splitting text into Chinese runs, words
//! and numbers, and the tokens the FTS5 tokenizer emits for them. The query
//! builder uses the same functions, so a query token is byte-for-byte the
//! token stored in the index.

use super::lexicon::{SYNONYMS, stem};
use super::romanize::readings;

/// First character of a column that holds pinyin: the tokenizer then emits
/// the pinyin of the Chinese text after it instead of the text itself.
/// (Private use; stripped from every text we index, see [`clean`].)
pub(crate) const PINYIN_MARK: char = '\u{E000}';
/// First character of an article body: the tokenizer then leaves out the
/// single characters colocated with each bigram (see [`document_tokens`]).
pub(crate) const BODY_MARK: char = '\u{E003}';
/// Marks once put around matched terms by FTS5's `snippet()` (private use);
/// still stripped from every indexed text so that no article can hold them.
pub(crate) const MATCH_OPEN: char = '\u{E001}';
pub(crate) const MATCH_CLOSE: char = '\u{E002}';

/// Longer runs of letters or digits are cut into pieces of this many.
const MAX_RUN_CHARS: usize = 64;

/// Characters written without spaces between words, indexed as overlapping
/// bigrams: Han ideographs (including extension blocks and compatibility
/// ideographs), `〇`, and kana and Hangul, which have the same problem.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3007
        | 0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF      // extension A
        | 0x4E00..=0x9FFF      // unified ideographs
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // compatibility ideographs
        | 0x20000..=0x323AF    // extensions B–H
    )
}

/// Removes the private-use characters this module gives a meaning to.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(*c, PINYIN_MARK | BODY_MARK | MATCH_OPEN | MATCH_CLOSE))
        .collect()
}

/// One CJK character and its byte range in the analysed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CjkChar {
    pub(crate) ch: char,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PieceKind {
    /// A run of CJK characters.
    Cjk(Vec<CjkChar>),
    /// A run of letters, folded (lower case, no diacritics, half-width).
    Word(String),
    /// A run of digits (half-width).
    Number(String),
}

/// A run of text of one kind, with its byte range in the analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) kind: PieceKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits `text` into pieces.
pub(crate) fn pieces(text: &str) -> Vec<Piece> {
    let mut splitter = Splitter::default();
    splitter.add(text, 0);
    splitter.finish()
}

/// Splits raw column bytes (UTF-8, possibly invalid: invalid bytes separate
/// pieces) into pieces whose ranges are offsets into `bytes`.
pub(crate) fn pieces_of_bytes(bytes: &[u8]) -> Vec<Piece> {
    let mut splitter = Splitter::default();
    let mut offset = 0;
    for chunk in bytes.utf8_chunks() {
        splitter.add(chunk.valid(), offset);
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            splitter.flush();
            offset += chunk.invalid().len();
        }
    }
    splitter.finish()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Letter,
    Digit,
    Other,
}

fn classify(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_ascii_digit() || (c.is_numeric() && !c.is_alphabetic()) {
        Class::Digit
    } else if c.is_alphabetic() {
        Class::Letter
    } else {
        Class::Other
    }
}

/// Folds one character into `out`: compatibility decomposition (full-width
/// `Ａ` → `A`, `ﬁ` → `fi`, `①` → `1`), without combining marks (`é` → `e`),
/// lower case. CJK ideographs are kept as they are.
fn fold_into(c: char, out: &mut Vec<char>) {
    out.clear();
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_cjk(c) && !matches!(c as u32, 0xF900..=0xFAFF) {
        out.push(c);
        return;
    }
    unicode_normalization::char::decompose_compatible(c, |d| {
        if unicode_normalization::char::is_combining_mark(d) {
            return;
        }
        for lower in d.to_lowercase() {
            if !unicode_normalization::char::is_combining_mark(lower) {
                out.push(lower);
            }
        }
    });
}

/// `text` folded character by character as the tokenizer folds it (case,
/// width, diacritics); characters of no piece (punctuation) are kept.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut folded = Vec::new();
    for c in text.chars() {
        fold_into(c, &mut folded);
        out.extend(folded.iter());
    }
    out
}

/// Builds pieces from a stream of (folded) characters.
#[derive(Default)]
struct Splitter {
    out: Vec<Piece>,
    /// The piece being built, if any.
    current: Option<Piece>,
    /// Characters in the current letter or digit piece.
    current_len: usize,
    folded: Vec<char>,
}

impl Splitter {
    fn add(&mut self, text: &str, base: usize) {
        let mut folded = std::mem::take(&mut self.folded);
        for (index, c) in text.char_indices() {
            let start = base + index;
            let end = start + c.len_utf8();
            fold_into(c, &mut folded);
            for &f in &folded {
                self.push(f, start, end);
            }
        }
        self.folded = folded;
    }

    fn push(&mut self, c: char, start: usize, end: usize) {
        let class = classify(c);
        if class == Class::Other {
            self.flush();
            return;
        }
        let same = match (&self.current, class) {
            (Some(piece), Class::Cjk) => matches!(piece.kind, PieceKind::Cjk(_)),
            (Some(piece), Class::Letter) => {
                matches!(piece.kind, PieceKind::Word(_)) && self.current_len < MAX_RUN_CHARS
            }
            (Some(piece), Class::Digit) => {
                matches!(piece.kind, PieceKind::Number(_)) && self.current_len < MAX_RUN_CHARS
            }
            _ => false,
        };
        if !same {
            self.flush();
            // Room for a typical run at once (growing a vector character by
            // character was a tenth of indexing time, in the allocator).
            let kind = match class {
                Class::Cjk => PieceKind::Cjk(Vec::with_capacity(32)),
                Class::Letter => PieceKind::Word(String::with_capacity(16)),
                _ => PieceKind::Number(String::with_capacity(8)),
            };
            self.current = Some(Piece { kind, start, end });
            self.current_len = 0;
        }
        if let Some(piece) = &mut self.current {
            piece.end = end;
            self.current_len += 1;
            match &mut piece.kind {
                PieceKind::Cjk(chars) => {
                    // A character folding into several CJK characters keeps
                    // one range; only the first is kept (it never happens
                    // for ideographs, whose folding is one character).
                    if chars.last().is_none_or(|last| last.start != start) {
                        chars.push(CjkChar { ch: c, start, end });
                    }
                }
                PieceKind::Word(text) | PieceKind::Number(text) => text.push(c),
            }
        }
    }

    fn flush(&mut self) {
        if let Some(piece) = self.current.take() {
            self.out.push(piece);
        }
    }

    fn finish(mut self) -> Vec<Piece> {
        self.flush();
        self.out
    }
}

/// Receives tokens: text, byte range, and whether it shares the position of
/// the previous token (FTS5_TOKEN_COLOCATED).
pub(crate) trait TokenSink {
    type Error;
    fn token(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        colocated: bool,
    ) -> Result<(), Self::Error>;

    /// Whether words must be stemmed: a sink that looks for no word says
    /// no, and receives each word as it is written (its position and range
    /// are the same), which saves the stemmer's time.
    fn wants_words(&self) -> bool {
        true
    }
}

/// Tokens of an ordinary column (title, tags, body, shortcut):
/// - a word: its English stem, plus the canonical form of its synonym group;
/// - a number: its digits;
/// - a CJK run: at each character, the bigram it starts (the last character:
///   the character alone), with the character alone and the canonical forms
///   of synonyms starting there at the same position. The bigram comes first
///   because FTS5 highlights the byte range of a position's first token.
///
/// Without `colocated`, only the first token of each position is emitted:
/// enough for `snippet()` and `highlight()`, which only read the offsets of
/// those (FTS5_TOKENIZE_AUX), and about half the work.
///
/// Without `singles`, no character is emitted alone, only bigrams (article
/// bodies, [`BODY_MARK`]): single characters of bodies were half of the
/// index and find little a bigram does not (a one-character query searches
/// titles and tags).
pub(crate) fn document_tokens<S: TokenSink>(
    pieces: &[Piece],
    colocated: bool,
    singles: bool,
    sink: &mut S,
) -> Result<(), S::Error> {
    let mut buf = String::new();
    for piece in pieces {
        match &piece.kind {
            PieceKind::Word(word) if !sink.wants_words() => {
                sink.token(word, piece.start, piece.end, false)?;
            }
            PieceKind::Word(word) => {
                let stemmed = stem(word);
                sink.token(&stemmed, piece.start, piece.end, false)?;
                if colocated
                    && let Some(canonical) = SYNONYMS.latin(&stemmed)
                    && canonical != stemmed
                {
                    sink.token(canonical, piece.start, piece.end, true)?;
                }
            }
            PieceKind::Number(digits) => sink.token(digits, piece.start, piece.end, false)?,
            PieceKind::Cjk(chars) => cjk_tokens(chars, colocated, singles, &mut buf, sink)?,
        }
    }
    Ok(())
}

fn cjk_tokens<S: TokenSink>(
    chars: &[CjkChar],
    colocated: bool,
    singles: bool,
    buf: &mut String,
    sink: &mut S,
) -> Result<(), S::Error> {
    for (i, c) in chars.iter().enumerate() {
        buf.clear();
        buf.push(c.ch);
        match chars.get(i + 1) {
            Some(next) => {
                buf.push(next.ch);
                sink.token(buf, c.start, next.end, false)?;
                if colocated && singles {
                    buf.pop();
                    sink.token(buf, c.start, c.end, true)?;
                }
            }
            // A run's last character alone: titles need it (a one-character
            // query); bodies do not, as no query phrase ends with a single
            // character (phrases are bigrams) and single characters are
            // searched in titles only.
            None if singles => sink.token(buf, c.start, c.end, false)?,
            None => {}
        }
        if colocated {
            synonym_tokens(chars, i, buf, sink)?;
        }
    }
    Ok(())
}

/// Canonical forms of the synonyms starting at `chars[i]`, colocated.
fn synonym_tokens<S: TokenSink>(
    chars: &[CjkChar],
    i: usize,
    buf: &mut String,
    sink: &mut S,
) -> Result<(), S::Error> {
    let longest = SYNONYMS
        .han_max_chars_from(chars[i].ch)
        .min(chars.len() - i);
    let mut emitted: Vec<&str> = Vec::new();
    for len in 2..=longest {
        buf.clear();
        buf.extend(chars[i..i + len].iter().map(|c| c.ch));
        let Some(canonical) = SYNONYMS.han(buf) else {
            continue;
        };
        // A two-character text that is its own canonical form is already
        // indexed as a bigram.
        if canonical == buf.as_str() && len == 2 {
            continue;
        }
        if emitted.contains(&canonical) {
            continue;
        }
        emitted.push(canonical);
        sink.token(canonical, chars[i].start, chars[i + len - 1].end, true)?;
    }
    Ok(())
}

/// Tokens of a pinyin column (the text after [`PINYIN_MARK`]): for every
/// Chinese character, at one position: its toneless readings (`tui`), their
/// initials (`t`), and with the next character the joined readings
/// (`tuikuan`) and joined initials (`tk`). Other text emits nothing.
pub(crate) fn pinyin_tokens<S: TokenSink>(
    pieces: &[Piece],
    colocated: bool,
    sink: &mut S,
) -> Result<(), S::Error> {
    for piece in pieces {
        let PieceKind::Cjk(chars) = &piece.kind else {
            continue;
        };
        let all: Vec<Vec<String>> = chars.iter().map(|c| readings(c.ch)).collect();
        for (i, c) in chars.iter().enumerate() {
            let here = &all[i];
            if here.is_empty() {
                continue;
            }
            let mut emitted: Vec<String> = Vec::new();
            let mut emit = |text: String, end: usize, sink: &mut S| -> Result<(), S::Error> {
                if emitted.contains(&text) {
                    return Ok(());
                }
                let colocated = !emitted.is_empty();
                sink.token(&text, c.start, end, colocated)?;
                emitted.push(text);
                Ok(())
            };
            if !colocated {
                sink.token(&here[0], c.start, c.end, false)?;
                continue;
            }
            for reading in here {
                emit(reading.clone(), c.end, sink)?;
            }
            for reading in here {
                emit(initial(reading), c.end, sink)?;
            }
            let next = all.get(i + 1).filter(|next| !next.is_empty());
            if let (Some(next), Some(next_char)) = (next, chars.get(i + 1)) {
                for a in here {
                    for b in next {
                        emit(format!("{a}{b}"), next_char.end, sink)?;
                    }
                }
                for a in here {
                    for b in next {
                        emit(format!("{}{}", initial(a), initial(b)), next_char.end, sink)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn initial(reading: &str) -> String {
    reading.chars().take(1).collect()
}

/// Tokens of a whole column value as FTS5 hands it to the tokenizer; see
/// [`document_tokens`] for `colocated`.
pub(crate) fn column_tokens<S: TokenSink>(
    bytes: &[u8],
    colocated: bool,
    sink: &mut S,
) -> Result<(), S::Error> {
    let mark = PINYIN_MARK.len_utf8();
    let mut encoded = [0_u8; 4];
    let mark_bytes = PINYIN_MARK.encode_utf8(&mut encoded).as_bytes();
    let mut body = [0_u8; 4];
    let body_bytes = BODY_MARK.encode_utf8(&mut body).as_bytes();
    if bytes.starts_with(mark_bytes) {
        let mut pieces = pieces_of_bytes(&bytes[mark..]);
        for piece in &mut pieces {
            shift(piece, mark);
        }
        pinyin_tokens(&pieces, colocated, sink)
    } else if bytes.starts_with(body_bytes) {
        let skip = BODY_MARK.len_utf8();
        let mut pieces = pieces_of_bytes(&bytes[skip..]);
        for piece in &mut pieces {
            shift(piece, skip);
        }
        document_tokens(&pieces, colocated, false, sink)
    } else {
        document_tokens(&pieces_of_bytes(bytes), colocated, true, sink)
    }
}

fn shift(piece: &mut Piece, by: usize) {
    piece.start += by;
    piece.end += by;
    if let PieceKind::Cjk(chars) = &mut piece.kind {
        for c in chars {
            c.start += by;
            c.end += by;
        }
    }
}

/// Tokens of a query string inside a MATCH expression. The expression is
/// built by `query.rs` from tokens this module produced, so each
/// space-separated part already is a token and is passed through unchanged.
pub(crate) fn query_tokens<S: TokenSink>(bytes: &[u8], sink: &mut S) -> Result<(), S::Error> {
    let mut start = None;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b' ' {
            if let Some(from) = start.take() {
                emit_bytes(bytes, from, index, sink)?;
            }
        } else if start.is_none() {
            start = Some(index);
        }
    }
    if let Some(from) = start {
        emit_bytes(bytes, from, bytes.len(), sink)?;
    }
    Ok(())
}

fn emit_bytes<S: TokenSink>(
    bytes: &[u8],
    start: usize,
    end: usize,
    sink: &mut S,
) -> Result<(), S::Error> {
    let text = String::from_utf8_lossy(&bytes[start..end]);
    sink.token(&text, start, end, false)
}

/// Collects tokens, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Collect {
    pub(crate) tokens: Vec<(String, usize, usize, bool)>,
}

#[cfg(test)]
impl TokenSink for Collect {
    type Error = std::convert::Infallible;
    fn token(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        colocated: bool,
    ) -> Result<(), Self::Error> {
        self.tokens.push((text.to_owned(), start, end, colocated));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(String, usize, usize, bool)> {
        let mut collect = Collect::default();
        let Ok(()) = column_tokens(text.as_bytes(), true, &mut collect);
        collect.tokens
    }

    fn texts(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn han_runs_give_bigrams_and_unigrams_with_offsets() {
        assert_eq!(
            tokens("退款a"),
            vec![
                ("退款".to_owned(), 0, 6, false),
                ("退".to_owned(), 0, 3, true),
                ("款".to_owned(), 3, 6, false),
                ("a".to_owned(), 6, 7, false),
            ]
        );
    }

    #[test]
    fn latin_is_folded_and_stemmed_and_digits_are_tokens() {
        assert_eq!(
            texts("Refunds ＡＢＣ Café 2024"),
            vec!["refund", "abc", "cafe", "2024"]
        );
        assert_eq!(texts("iPhone15"), vec!["iphon", "15"]);
        // Full-width digits and letters keep their original byte ranges.
        assert_eq!(tokens("１２"), vec![("12".to_owned(), 0, 6, false)]);
    }

    #[test]
    fn synonyms_are_colocated_canonical_forms() {
        let found = tokens("如何退钱");
        assert!(
            found.contains(&("怎么".to_owned(), 0, 6, true)),
            "{found:?}"
        );
        assert!(
            found.contains(&("退款".to_owned(), 6, 12, true)),
            "{found:?}"
        );
        let english = texts("Revoke");
        assert_eq!(english, vec!["revok", "cancel"]);
    }

    #[test]
    fn pinyin_column_gives_readings_initials_and_joined_pairs() {
        let text = format!("{PINYIN_MARK}退款 ok");
        let found = texts(&text);
        for expected in ["tui", "t", "tuikuan", "tk", "kuan", "k"] {
            assert!(
                found.contains(&expected.to_owned()),
                "{expected} in {found:?}"
            );
        }
        assert!(!found.contains(&"ok".to_owned()));
        // Offsets point into the column text, after the mark.
        let first = &tokens(&text)[0];
        assert_eq!((first.1, first.2), (3, 6));
    }

    #[test]
    fn a_body_gives_bigrams_and_words_but_no_single_characters() {
        let body = format!("{BODY_MARK}退款单，好 Refunds");
        let got: Vec<String> = tokens(&body).into_iter().map(|t| t.0).collect();
        assert_eq!(got, vec!["退款", "款单", "refund"]);
        // The same text in a title keeps every character alone too.
        let got: Vec<String> = tokens("退款单，好").into_iter().map(|t| t.0).collect();
        assert_eq!(got, vec!["退款", "退", "款单", "款", "单", "好"]);
    }

    #[test]
    fn without_colocated_tokens_positions_and_offsets_are_the_same() {
        for text in ["退款申请如何退钱 Revoke it", "\u{E000}退款 tk"] {
            let mut all = Collect::default();
            let Ok(()) = column_tokens(text.as_bytes(), true, &mut all);
            let mut first = Collect::default();
            let Ok(()) = column_tokens(text.as_bytes(), false, &mut first);
            let primary: Vec<_> = all.tokens.into_iter().filter(|t| !t.3).collect();
            assert_eq!(primary, first.tokens, "{text}");
        }
    }

    #[test]
    fn invalid_utf8_separates_pieces() {
        let mut collect = Collect::default();
        let Ok(()) = column_tokens(b"ab\xffcd", true, &mut collect);
        let found: Vec<_> = collect
            .tokens
            .iter()
            .map(|t| (t.0.as_str(), t.1, t.2))
            .collect();
        assert_eq!(found, vec![("ab", 0, 2), ("cd", 3, 5)]);
    }

    #[test]
    fn query_strings_pass_through() {
        let mut collect = Collect::default();
        let Ok(()) = query_tokens("退款 款申  tk".as_bytes(), &mut collect);
        let found: Vec<_> = collect.tokens.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(found, vec!["退款", "款申", "tk"]);
    }

    #[test]
    fn long_runs_are_cut() {
        let long = "a".repeat(200);
        assert_eq!(texts(&long).len(), 4);
    }
}
