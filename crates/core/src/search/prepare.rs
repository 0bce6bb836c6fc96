//! Indexing many articles on two cores: while SQLite writes one article's
//! postings on the calling thread, a helper thread turns the next articles
//! into the texts the index takes (Markdown to plain text, cleaning) and
//! runs the tokenizer over them, keeping the tokens on a tape. When FTS5
//! then asks our tokenizer for a text the tape holds, it is played back
//! instead of being analysed again (`fts5::tokenize`).
//!
//! [`with_prepared`] wraps the work that indexes a batch of articles (a
//! pulled page, a rebuild); [`index_article`](super::index_article) takes
//! each article's preparation by id ([`take`]). Anything indexed outside a
//! batch, or an article the helper has not reached or prepared from
//! other text, is analysed on the spot as before: the tape only ever saves
//! time, it never decides what is indexed (a tape is used only for the
//! very bytes it was made from).
//!
//! Why not a crate: the work is one bounded channel and one scoped thread
//! (std), and the part that matters, playing tokens back inside FTS5's
//! callback, is ours anyway.

use std::cell::RefCell;
use std::sync::mpsc::{Receiver, sync_channel};

use homedesk_protocol::KbArticle;

use super::analyze::{BODY_MARK, PINYIN_MARK, TokenSink, clean, column_tokens};

/// Articles the helper may run ahead of the writer (bounds the memory: a
/// prepared article holds its texts and tokens, about 10 times its text).
const AHEAD: usize = 64;

/// Below this many articles a helper thread is not worth starting.
const AT_LEAST: usize = 8;

/// The four texts an article gives the index, as `index_article` writes
/// them to the FTS tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Texts {
    pub title: String,
    pub tags: String,
    pub body: String,
    pub pinyin: String,
}

impl Texts {
    pub fn of(article: &KbArticle) -> Texts {
        let title = clean(&article.title);
        let tags = clean(&article.tags.join("\n"));
        let body = format!(
            "{BODY_MARK}{}",
            clean(&crate::markdown::plain_text(&article.body))
        );
        let pinyin = format!("{PINYIN_MARK}{title}\n{tags}");
        Texts {
            title,
            tags,
            body,
            pinyin,
        }
    }
}

/// The tokens one text gives when a document is indexed, in order.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// Every token's text, one after the other.
    text: String,
    /// (end of the token's text in `text`, start, end, colocated).
    tokens: Vec<(usize, usize, usize, bool)>,
}

impl TokenSink for Tape {
    type Error = std::convert::Infallible;

    fn token(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        colocated: bool,
    ) -> Result<(), Self::Error> {
        self.text.push_str(text);
        self.tokens.push((self.text.len(), start, end, colocated));
        Ok(())
    }
}

impl Tape {
    fn record(text: &str) -> Tape {
        let mut tape = Tape::default();
        match column_tokens(text.as_bytes(), true, &mut tape) {
            Ok(()) => tape,
            Err(never) => match never {},
        }
    }

    /// Plays the tokens into `sink` as `column_tokens` would have.
    pub fn play<S: TokenSink>(&self, sink: &mut S) -> Result<(), S::Error> {
        let mut from = 0;
        for &(to, start, end, colocated) in &self.tokens {
            sink.token(&self.text[from..to], start, end, colocated)?;
            from = to;
        }
        Ok(())
    }
}

/// The tokens of each distinct text of one article (title, tags, body,
/// pinyin).
#[derive(Debug, Default)]
pub(crate) struct Tapes(Vec<(String, Tape)>);

/// One article ready for the index: its texts and their tokens.
#[derive(Debug)]
struct Prepared {
    /// Its place in the batch.
    index: usize,
    id: String,
    /// What it was made from, to check that it is the article indexed.
    title: String,
    body: String,
    tags: Vec<String>,
    texts: Texts,
    tapes: Tapes,
}

impl Prepared {
    fn of(index: usize, article: &KbArticle) -> Prepared {
        let texts = Texts::of(article);
        let mut tapes: Vec<(String, Tape)> = Vec::with_capacity(4);
        for text in [&texts.title, &texts.tags, &texts.body, &texts.pinyin] {
            if !tapes.iter().any(|(t, _)| t == text) {
                tapes.push((text.clone(), Tape::record(text)));
            }
        }
        Prepared {
            index,
            id: article.id.clone(),
            title: article.title.clone(),
            body: article.body.clone(),
            tags: article.tags.clone(),
            texts,
            tapes: Tapes(tapes),
        }
    }

    fn is_of(&self, article: &KbArticle) -> bool {
        self.id == article.id
            && self.title == article.title
            && self.body == article.body
            && self.tags == article.tags
    }
}

/// The writer's side of a batch.
struct Ahead {
    /// The helper's output, in the batch's order.
    receive: Receiver<Prepared>,
    /// The batch's article ids, in order.
    ids: Vec<String>,
    /// Where in the batch the writer is: the next article it may take.
    next: usize,
}

thread_local! {
    /// The batch being written, while [`with_prepared`] runs on this thread.
    static AHEAD_OF_US: RefCell<Option<Ahead>> = const { RefCell::new(None) };
    /// The tapes of the article being written now ([`playing`]).
    static PLAYING: RefCell<Option<Tapes>> = const { RefCell::new(None) };
}

/// Runs `work` (which indexes `articles`, in this order, on this thread)
/// with a helper thread preparing them ahead of it.
pub fn with_prepared<R>(articles: Vec<&KbArticle>, work: impl FnOnce() -> R) -> R {
    let nested = AHEAD_OF_US.with(|a| a.borrow().is_some());
    if articles.len() < AT_LEAST || nested {
        return work();
    }
    std::thread::scope(|scope| {
        let (send, receive) = sync_channel(AHEAD);
        let ids = articles.iter().map(|a| a.id.clone()).collect();
        scope.spawn(move || {
            for (index, article) in articles.into_iter().enumerate() {
                // The writer stopped early (an error, or done): so do we.
                if send.send(Prepared::of(index, article)).is_err() {
                    break;
                }
            }
        });
        // Dropped however `work` ends (a panic too), so the helper's next
        // send fails and the scope can join it.
        struct Installed;
        impl Drop for Installed {
            fn drop(&mut self) {
                AHEAD_OF_US.with(|a| a.borrow_mut().take());
                PLAYING.with(|p| p.borrow_mut().take());
            }
        }
        AHEAD_OF_US.with(|a| {
            *a.borrow_mut() = Some(Ahead {
                receive,
                ids,
                next: 0,
            });
        });
        let _installed = Installed;
        work()
    })
}

/// The texts and tapes of `article` if the helper prepared it: the next
/// article of the batch with its id, articles before it (the writer
/// skipped them) dropped. `None` outside [`with_prepared`], for an id the
/// rest of the batch does not hold (nothing is dropped then), or when it
/// was prepared from other text.
pub(crate) fn take(article: &KbArticle) -> Option<(Texts, Tapes)> {
    AHEAD_OF_US.with(|ahead| {
        let mut ahead = ahead.borrow_mut();
        let ahead = ahead.as_mut()?;
        let at = ahead.next
            + ahead.ids[ahead.next..]
                .iter()
                .position(|id| *id == article.id)?;
        ahead.next = at + 1;
        loop {
            // Ends: the helper sends every article of the batch in order.
            let prepared = ahead.receive.recv().ok()?;
            if prepared.index == at {
                return prepared
                    .is_of(article)
                    .then_some((prepared.texts, prepared.tapes));
            }
        }
    })
}

/// Runs `insert` with `tapes` at hand for the tokenizer ([`play`]).
pub(crate) fn playing<T>(tapes: Tapes, insert: impl FnOnce() -> T) -> T {
    struct Installed;
    impl Drop for Installed {
        fn drop(&mut self) {
            PLAYING.with(|p| p.borrow_mut().take());
        }
    }
    PLAYING.with(|p| *p.borrow_mut() = Some(tapes));
    let _installed = Installed;
    insert()
}

/// Plays the recorded tokens of `bytes` into `sink` when the article being
/// written has a tape of exactly these bytes; `None` when it has none.
pub(crate) fn play<S: TokenSink>(bytes: &[u8], sink: &mut S) -> Option<Result<(), S::Error>> {
    PLAYING.with(|p| {
        let playing = p.borrow();
        let (_, tape) = playing
            .as_ref()?
            .0
            .iter()
            .find(|(text, _)| text.as_bytes() == bytes)?;
        #[cfg(test)]
        PLAYED.with(|n| n.set(n.get() + 1));
        Some(tape.play(sink))
    })
}

#[cfg(test)]
thread_local! {
    /// Texts played from a tape on this thread (tests check the helper is
    /// used at all, not only that the index comes out the same).
    static PLAYED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Texts played from a tape on this thread so far.
#[cfg(test)]
pub(crate) fn played() -> usize {
    PLAYED.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tape plays back exactly the tokens the tokenizer gives.
    #[derive(Default)]
    struct Collect(Vec<(String, usize, usize, bool)>);

    impl TokenSink for Collect {
        type Error = std::convert::Infallible;
        fn token(&mut self, t: &str, s: usize, e: usize, c: bool) -> Result<(), Self::Error> {
            self.0.push((t.to_owned(), s, e, c));
            Ok(())
        }
    }

    #[test]
    fn a_tape_plays_what_the_tokenizer_gives() {
        let article = KbArticle {
            id: "a1".into(),
            locale: "zh-CN".into(),
            title: "退款多久到账 Refund time".into(),
            body: "# 说明\n\n申请**退款**后 3 天内到账。Refunds arrive in 3 days.".into(),
            tags: vec!["售后".into(), "refund".into()],
            category: String::new(),
            updated_at: 0,
        };
        let prepared = Prepared::of(0, &article);
        assert!(prepared.is_of(&article));
        let texts = Texts::of(&article);
        assert_eq!(prepared.texts, texts);
        for text in [&texts.title, &texts.tags, &texts.body, &texts.pinyin] {
            let mut direct = Collect::default();
            column_tokens(text.as_bytes(), true, &mut direct).unwrap();
            let (_, tape) = prepared.tapes.0.iter().find(|(t, _)| t == text).unwrap();
            let mut played = Collect::default();
            tape.play(&mut played).unwrap();
            assert!(!direct.0.is_empty(), "{text}");
            assert_eq!(played.0, direct.0, "{text}");
        }
        let mut changed = article.clone();
        changed.body.push('!');
        assert!(!prepared.is_of(&changed), "made from other text");
    }
}
