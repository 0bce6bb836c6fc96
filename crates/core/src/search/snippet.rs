//! Snippets of search results: a window of an article's text around the
//! best match, HTML-escaped, with the matched words in `<mark>`.
//!
//! Made here, in Rust, rather than by FTS5's `snippet()`: the article index
//! keeps no copy of the text (it is contentless, see `docs/search.md`), and
//! `snippet()` cost two tokenizations of the body and a seek of every phrase
//! per result shown (about 70 % of a search's time before). Here the body is
//! analysed once with the tokenizer's own code and only tokens the query
//! asked for are kept, so a match is found exactly as FTS5 would find it.

use rustc_hash::FxHashMap as HashMap;

use super::analyze::{TokenSink, document_tokens, pieces};

/// Bodies longer than this are cut before they are analysed: a snippet is
/// looked for in the first 64 KiB of an article.
const MAX_SCANNED_BYTES: usize = 64 * 1024;

/// What is read first (about 170 Chinese characters), hoping for a match.
const FIRST_READ_BYTES: usize = 512;

/// `text` cut to a window of `window` positions (a Chinese character or a
/// word each) around where the most of `phrases` match, each phrase being
/// the tokens of consecutive positions (as in the MATCH expression). The
/// text from the start when nothing matches; `…` where it was cut.
pub(crate) fn snippet_html(text: &str, phrases: &[Vec<&str>], window: usize) -> String {
    let text = cut(text, MAX_SCANNED_BYTES);
    let mut wanted: HashMap<&str, usize> = HashMap::default();
    for token in phrases.iter().flatten() {
        let next = wanted.len();
        wanted.entry(token).or_insert(next);
    }
    // Most matches are near the start: read the first 512 bytes, and all of the
    // text only when nothing matched in it (a window there that shows some
    // of the words is good enough, and reading on cost most of a search).
    let first = cut(text, FIRST_READ_BYTES);
    let mut sink = read(first, &wanted, window);
    if sink.stopped_at.is_none() && first.len() < text.len() {
        if sink.found.is_empty() {
            sink = read(text, &wanted, window);
        } else {
            // Cut here: the text goes on after the window.
            sink.stopped_at = Some(first.len());
        }
    }
    let stopped_at = sink.stopped_at;
    let Positions { starts, found, .. } = sink;

    // Every match of every phrase: (phrase, first position, byte range).
    let mut matches: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (index, phrase) in phrases.iter().enumerate() {
        let ids: Vec<usize> = phrase
            .iter()
            .filter_map(|t| wanted.get(t).copied())
            .collect();
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
            continue;
        };
        if ids.len() != phrase.len() {
            continue;
        }
        for (&(position, id), &(start, _)) in &found {
            if id != first {
                continue;
            }
            let tail = position + ids.len() - 1;
            let whole = ids
                .iter()
                .enumerate()
                .all(|(k, id)| found.contains_key(&(position + k, *id)));
            if let (true, Some(&(_, end))) = (whole, found.get(&(tail, last))) {
                matches.push((index, position, start, end));
            }
        }
    }
    matches.sort_by_key(|m| (m.1, m.2));

    let window = window.max(1);
    let (from, to) = best_window(&matches, starts.len(), window);
    let start_byte = match from {
        0 => 0,
        _ => starts.get(from).copied().unwrap_or(text.len()),
    };
    let end_byte = starts.get(to).copied().or(stopped_at).unwrap_or(text.len());
    let mut marks: Vec<(usize, usize)> = matches
        .iter()
        .filter(|m| m.2 >= start_byte && m.3 <= end_byte)
        .map(|m| (m.2, m.3))
        .collect();
    merge(&mut marks);

    let mut out = String::with_capacity(end_byte - start_byte + 32);
    if from > 0 {
        out.push('…');
    }
    let mut at = start_byte;
    for (start, end) in marks {
        escape(&text[at..start], &mut out);
        out.push_str("<mark>");
        escape(&text[start..end], &mut out);
        out.push_str("</mark>");
        at = end;
    }
    escape(text[at..end_byte].trim_end(), &mut out);
    if to < starts.len() || stopped_at.is_some() {
        out.push('…');
    }
    out
}

/// The positions of `text` and where the wanted tokens are in it, read until
/// every wanted token was seen and a window past the last of them was read
/// (the best window is then behind), or to the end.
fn read<'a>(text: &str, wanted: &'a HashMap<&'a str, usize>, window: usize) -> Positions<'a> {
    let mut sink = Positions {
        wanted,
        starts: Vec::new(),
        found: HashMap::default(),
        seen: vec![false; wanted.len()],
        unseen: wanted.len(),
        // Nothing to look for: the first window.
        stop_at: if wanted.is_empty() {
            window
        } else {
            usize::MAX
        },
        stopped_at: None,
        window,
        words: wanted
            .keys()
            .any(|t| t.starts_with(|c: char| c.is_ascii_alphabetic())),
    };
    let _ = document_tokens(&pieces(text), true, true, &mut sink);
    sink
}

/// The window `[from, to)` of positions with the most different phrases
/// matched in it (then the most matches), starting a little before its
/// first match so that the match is read in context.
fn best_window(
    matches: &[(usize, usize, usize, usize)],
    positions: usize,
    window: usize,
) -> (usize, usize) {
    let lead = window / 4;
    let mut best = (0, 0, 0);
    for (i, m) in matches.iter().enumerate() {
        let from = m.1.saturating_sub(lead);
        let inside = matches[i..].iter().take_while(|n| n.1 < from + window);
        let mut phrases: Vec<usize> = inside.clone().map(|n| n.0).collect();
        phrases.sort_unstable();
        phrases.dedup();
        let score = (phrases.len(), inside.count());
        if (score.0, score.1) > (best.0, best.1) {
            best = (score.0, score.1, from);
        }
    }
    let from = best.2;
    // A window that would run past the end starts earlier instead.
    let from = from.min(positions.saturating_sub(window));
    (from, (from + window).min(positions))
}

/// Sorted, overlapping or touching ranges merged into one.
fn merge(ranges: &mut Vec<(usize, usize)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    *ranges = merged;
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Collects where each position starts, and where the tokens the query
/// asked for are: (position, token id) → byte range of the token. Stops
/// (with `Err(Stop)`) a window after every wanted token has been seen.
struct Positions<'a> {
    wanted: &'a HashMap<&'a str, usize>,
    starts: Vec<usize>,
    found: HashMap<(usize, usize), (usize, usize)>,
    /// Which wanted tokens were seen, and how many were not yet.
    seen: Vec<bool>,
    unseen: usize,
    /// The position at which to stop reading, and the byte it starts at
    /// once it was reached.
    stop_at: usize,
    stopped_at: Option<usize>,
    window: usize,
    /// Whether a word is wanted (else words are not stemmed).
    words: bool,
}

/// The text was read far enough.
struct Stop;

impl TokenSink for Positions<'_> {
    type Error = Stop;

    fn wants_words(&self) -> bool {
        self.words
    }

    fn token(&mut self, text: &str, start: usize, end: usize, colocated: bool) -> Result<(), Stop> {
        if !colocated || self.starts.is_empty() {
            if self.starts.len() >= self.stop_at {
                self.stopped_at = Some(start);
                return Err(Stop);
            }
            self.starts.push(start);
        }
        if let Some(&id) = self.wanted.get(text) {
            let position = self.starts.len() - 1;
            self.found.entry((position, id)).or_insert((start, end));
            if let Some(seen) = self.seen.get_mut(id)
                && !*seen
            {
                *seen = true;
                self.unseen -= 1;
                if self.unseen == 0 {
                    self.stop_at = position + self.window;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snip(text: &str, phrases: &[&[&str]], window: usize) -> String {
        let phrases: Vec<Vec<&str>> = phrases.iter().map(|p| p.to_vec()).collect();
        snippet_html(text, &phrases, window)
    }

    #[test]
    fn a_phrase_is_marked_whole_and_a_character_alone() {
        assert_eq!(
            snip("申请退款的步骤", &[&["退款"]], 32),
            "申请<mark>退款</mark>的步骤"
        );
        assert_eq!(
            snip("退款申请已提交", &[&["退款", "款申", "申请"]], 32),
            "<mark>退款申请</mark>已提交"
        );
        // A single character is its own token, colocated with the bigram.
        assert_eq!(snip("我要退货", &[&["退"]], 32), "我要<mark>退</mark>货");
    }

    #[test]
    fn the_window_goes_where_most_phrases_match() {
        let text = format!("{}发票和退款{}", "订单".repeat(30), "物流".repeat(30));
        let out = snip(&text, &[&["发票"], &["退款"]], 10);
        assert!(out.starts_with('…') && out.ends_with('…'), "{out}");
        assert!(
            out.contains("<mark>发票</mark>和<mark>退款</mark>"),
            "{out}"
        );
        assert_eq!(
            out.replace("<mark>", "")
                .replace("</mark>", "")
                .chars()
                .count(),
            12
        );
    }

    #[test]
    fn without_a_match_the_text_starts_the_snippet() {
        assert_eq!(
            snip("Refunds take 3 days.", &[&["invoic"]], 2),
            "Refunds take…"
        );
        assert_eq!(snip("", &[&["退款"]], 32), "");
        // A query only of pinyin marks nothing in the text.
        assert_eq!(snip("Refunds take 3 days.", &[], 2), "Refunds take…");
    }

    #[test]
    fn english_words_are_matched_by_their_stem_and_html_is_escaped() {
        assert_eq!(
            snip("<b>Refunds</b> & returns", &[&["refund"]], 32),
            "&lt;b&gt;<mark>Refunds</mark>&lt;/b&gt; &amp; returns"
        );
    }

    #[test]
    fn reading_stops_a_window_after_every_word_was_seen() {
        let text = format!("退款{}", "订单".repeat(500));
        let out = snip(&text, &[&["退款"]], 8);
        assert_eq!(out, "<mark>退款</mark>订单订单订单…");
    }

    #[test]
    fn a_match_near_the_start_is_shown_without_reading_on() {
        let text = format!("退款{}发票", "订单".repeat(400));
        let out = snip(&text, &[&["退款"], &["发票"]], 8);
        assert_eq!(out, "<mark>退款</mark>订单订单订单…");
        // Nothing in the first bytes: the rest is read.
        let text = format!("{}发票", "订单".repeat(400));
        let out = snip(&text, &[&["退款"], &["发票"]], 4);
        assert_eq!(out, "…订单<mark>发票</mark>");
    }

    #[test]
    fn overlapping_matches_are_one_mark() {
        assert_eq!(
            snip("退款申请", &[&["退款"], &["款申"]], 32),
            "<mark>退款申</mark>请"
        );
    }
}
