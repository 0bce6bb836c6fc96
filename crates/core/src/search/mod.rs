//! Knowledge-base and canned-reply search over SQLite FTS5, with a tokenizer
//! written in Rust that understands Chinese (overlapping bigrams and single
//! characters), English (folding and stemming) and pinyin (full spellings
//! and initials of titles, tags and shortcuts). See `docs/search.md`.
//!
//! The store owns the connection, the transactions and the articles' text
//! (`kb_articles`): the article index keeps no copy of it. The store must
//! call [`register`] on every connection before the FTS tables are touched,
//! run [`SCHEMA`] once as a migration, call [`rebuild_if_stale`] after its
//! migrations, and call the `index_*`/`remove_*` functions whenever it
//! writes or deletes an article or a canned reply (no triggers).

mod analyze;
mod fts5;
mod lexicon;
mod prepare;
mod query;
mod rank;
mod romanize;
mod snippet;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use homedesk_protocol::{CannedReply, KbArticle};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use analyze::{PINYIN_MARK, clean};
use prepare::{Tapes, Texts};
use query::{Columns, Expr, Loose, Plan};

/// Version of everything that decides which tokens a text gives (tokenizer
/// code, `synonyms.txt`, the pinyin and stemmer crates). Bump it when any of
/// them changes: FTS5 removes a row's old tokens by tokenizing its stored
/// text again, so an index built by another version must be rebuilt
/// ([`rebuild_if_stale`]) before rows are updated.
pub const TOKENIZER_VERSION: u32 = 4;

/// The article tables of [`SCHEMA`], also made again by
/// [`CONTENTLESS_ARTICLES_MIGRATION`].
macro_rules! article_tables {
    () => {
        "
CREATE TABLE search_kb_rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    locale TEXT NOT NULL DEFAULT '',
    length INTEGER NOT NULL DEFAULT 0,
    title_length INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE search_kb USING fts5(
    title, tags, body, pinyin,
    content = '', contentless_delete = 1,
    tokenize = 'homedesk'
);
CREATE VIRTUAL TABLE search_kb_titles USING fts5(
    title, tags, pinyin,
    content = '', contentless_delete = 1,
    tokenize = 'homedesk'
);
-- Pending tokens are kept in memory up to 16 MiB (1 MiB by default) before
-- FTS5 writes a segment: a large import writes fewer, larger segments and
-- merges less.
INSERT INTO search_kb(search_kb, rank) VALUES ('hashsize', 16777216);
INSERT INTO search_kb_titles(search_kb_titles, rank) VALUES ('hashsize', 16777216);
"
    };
}

/// Tables of the search index, run once by the store's migrations (after
/// [`register`] on that connection: creating an FTS5 table needs its
/// tokenizer).
///
/// - `search_kb`: one row per article, **contentless** (the text is in the
///   store's `kb_articles`, see [`TEXT_SCHEMA`]; rows are deleted by rowid).
///   Columns: title, tags (one per line), body (plain text of the
///   Markdown), pinyin (title and tags again, read by the tokenizer as
///   pinyin).
/// - `search_kb_titles`: the same rows with only title, tags and pinyin, so
///   that "every word in the title" is answered from short posting lists,
///   without walking the bodies' long ones.
/// - `search_kb_rows`: article id ↔ FTS rowid (the same in both), the
///   article's locale, folded, for the locale filter, and its length in
///   each FTS table (positions), for ranking without a lookup per match.
/// - `search_canned`, `search_canned_titles`, `search_canned_rows`: the
///   same for canned replies (title, shortcut, body, pinyin, locale), with
///   the folded shortcut for prefix lookups.
/// - `search_meta`: the [`TOKENIZER_VERSION`] the index was built with.
///
/// Results are ranked by our `homedesk_rank` function (see `rank.rs`),
/// registered by [`register`].
pub const SCHEMA: &str = concat!(
    "
CREATE TABLE search_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
",
    article_tables!(),
    "CREATE TABLE search_canned_rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    locale TEXT NOT NULL DEFAULT '',
    shortcut_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX search_canned_rows_shortcut ON search_canned_rows (shortcut_key);
CREATE VIRTUAL TABLE search_canned USING fts5(
    title, shortcut, body, pinyin, locale,
    tokenize = 'homedesk'
);
CREATE VIRTUAL TABLE search_canned_titles USING fts5(
    title, shortcut, pinyin, locale,
    tokenize = 'homedesk'
);
"
);

/// The store migration that replaced the article tables of version 2
/// (which kept a copy of the text) with contentless ones. The index is
/// filled again by [`rebuild_if_stale`] (the version it records is removed).
pub const CONTENTLESS_ARTICLES_MIGRATION: &str = concat!(
    "
DROP TABLE search_kb;
DROP TABLE search_kb_titles;
DROP TABLE search_kb_rows;
DELETE FROM search_meta WHERE key = 'tokenizer_version';
",
    article_tables!()
);

/// The store's article table, as far as search reads it: titles of results,
/// bodies for snippets, everything for a rebuild. A store has it (its first
/// migration); a database that is only a search index (tests, benches)
/// runs this before [`SCHEMA`] and writes each article there as well as
/// [`index_article`]ing it.
pub const TEXT_SCHEMA: &str = "
CREATE TABLE kb_articles (
    id         TEXT PRIMARY KEY,
    locale     TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    tags       TEXT NOT NULL,
    category   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
";

/// Results per search at most, whatever the caller asks.
pub const MAX_LIMIT: usize = 200;

/// Words of snippet around the best match (a Chinese character is a word).
const SNIPPET_TOKENS: usize = 32;

/// At most this many matches are ranked per pass: when more match (a
/// one-character query over a large knowledge base), only the most recently
/// added this many are. Ranking costs about 1.5 µs per matching row, so this
/// bounds a pass to a few milliseconds whatever the query and the size of
/// the knowledge base.
const RANK_CAP: i64 = 2_000;

/// Registers the `homedesk` FTS5 tokenizer and the `homedesk_rank` ranking
/// function on `conn`. Call it on every connection, before the search
/// tables are created or used.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    fts5::register(conn)
}

/// Rebuilds the index when it was built by another [`TOKENIZER_VERSION`]
/// (or before versions were recorded), and records the current version:
/// articles from the store's `kb_articles`, canned replies from the text
/// their index keeps. Returns whether it rebuilt. Call after the
/// migrations, in a transaction.
pub fn rebuild_if_stale(conn: &Connection) -> rusqlite::Result<bool> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM search_meta WHERE key = 'tokenizer_version'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let current = TOKENIZER_VERSION.to_string();
    if stored.as_deref() == Some(current.as_str()) {
        return Ok(false);
    }
    for fts in [&CANNED.main, &CANNED.titles] {
        conn.execute(
            &format!(
                "INSERT INTO {name}({name}) VALUES ('rebuild')",
                name = fts.name
            ),
            [],
        )?;
    }
    for fts in [&ARTICLES.main, &ARTICLES.titles] {
        conn.execute(
            &format!(
                "INSERT INTO {name}({name}) VALUES ('delete-all')",
                name = fts.name
            ),
            [],
        )?;
    }
    conn.execute(&format!("DELETE FROM {}", ARTICLES.rows), [])?;
    let articles: Vec<KbArticle> = conn
        .prepare("SELECT id, locale, title, body, tags FROM kb_articles ORDER BY rowid")?
        .query_map([], |row| {
            let tags: String = row.get(4)?;
            Ok(KbArticle {
                id: row.get(0)?,
                locale: row.get(1)?,
                title: row.get(2)?,
                body: row.get(3)?,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
                category: String::new(),
                updated_at: 0,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    with_prepared_articles(articles.iter().collect(), || {
        articles
            .iter()
            .try_for_each(|article| index_article(conn, article))
    })?;
    conn.execute(
        "INSERT INTO search_meta(key, value) VALUES ('tokenizer_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [current],
    )?;
    Ok(true)
}

/// What to search for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "SearchOptions.ts")]
pub struct SearchOptions {
    /// Results at most (capped at [`MAX_LIMIT`]).
    pub limit: usize,
    /// Only articles or replies in this locale (`zh-CN`, `en`; case does
    /// not matter); all locales when `None`.
    pub locale: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 20,
            locale: None,
        }
    }
}

/// One article found.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "SearchHit.ts")]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    /// A piece of the body around the best match, HTML-escaped, with the
    /// matched terms in `<mark>`…`</mark>` (the only markup in it).
    pub snippet: String,
    /// Higher is better. The integer part is the match tier (2: every part
    /// of the query is in the title, tags or their pinyin; 1: every part is
    /// somewhere; 0: some part is), the fraction bm25 relevance.
    pub score: f64,
}

/// One canned reply found.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "CannedHit.ts")]
pub struct CannedHit {
    pub id: String,
    pub title: String,
    pub shortcut: String,
    /// Higher is better. 3 and above: the query is the start of the
    /// shortcut (4: the whole shortcut); below, as in [`SearchHit::score`]
    /// (tier 2 there: title, shortcut or their pinyin).
    pub score: f64,
}

/// Adds or replaces an article in the index. Its text stays in the store's
/// `kb_articles` (written by the caller in the same transaction).
///
/// Inside [`with_prepared_articles`] the article's texts and tokens are
/// usually ready (made on another thread) and only written here.
pub fn index_article(conn: &Connection, article: &KbArticle) -> rusqlite::Result<()> {
    let (texts, tapes) =
        prepare::take(article).unwrap_or_else(|| (Texts::of(article), Tapes::default()));
    prepare::playing(tapes, || write_article(conn, article, &texts))
}

/// Runs `work`, which indexes `articles` in this order on this thread (the
/// articles of a pulled page, a rebuild), with a helper thread preparing
/// them ahead of it (`prepare.rs`): a large knowledge-base update is
/// indexed on two cores. The index is the same as without it.
pub fn with_prepared_articles<R>(articles: Vec<&KbArticle>, work: impl FnOnce() -> R) -> R {
    prepare::with_prepared(articles, work)
}

fn write_article(conn: &Connection, article: &KbArticle, texts: &Texts) -> rusqlite::Result<()> {
    let Texts {
        title,
        tags,
        body,
        pinyin,
    } = texts;
    let (rowid, existed) = row_of(conn, ARTICLES.rows, &article.id)?;
    if existed {
        delete_rows(conn, &ARTICLES, rowid)?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO search_kb (rowid, title, tags, body, pinyin) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let (inserted, length) =
        fts5::positions_of(|| insert.execute(params![rowid, title, tags, body, pinyin]));
    inserted?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO search_kb_titles (rowid, title, tags, pinyin) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let (inserted, title_length) =
        fts5::positions_of(|| insert.execute(params![rowid, title, tags, pinyin]));
    inserted?;
    conn.prepare_cached(
        "UPDATE search_kb_rows SET locale = ?2, length = ?3, title_length = ?4 WHERE rowid = ?1",
    )?
    .execute(params![
        rowid,
        fold_key(&article.locale),
        length,
        title_length
    ])?;
    Ok(())
}

/// For a database that is only a search index (tests, benches, with
/// [`TEXT_SCHEMA`]): writes the article's text to `kb_articles` as the
/// store does, then indexes it.
pub fn put_article(conn: &Connection, article: &KbArticle) -> rusqlite::Result<()> {
    let tags = serde_json::to_string(&article.tags)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO kb_articles (id, locale, title, body, tags, category, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        article.id,
        article.locale,
        article.title,
        article.body,
        tags,
        article.category,
        article.updated_at
    ])?;
    index_article(conn, article)
}

/// Removes an article from the index (nothing happens if it is not there).
pub fn remove_article(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    remove(conn, &ARTICLES, id)
}

/// Adds or replaces a canned reply in the index.
pub fn index_canned_reply(conn: &Connection, reply: &CannedReply) -> rusqlite::Result<()> {
    let title = clean(&reply.title);
    let shortcut = clean(&reply.shortcut);
    let body = clean(&reply.body);
    let pinyin = format!("{PINYIN_MARK}{title}\n{shortcut}");
    let rowid = row_for(conn, CANNED.rows, &reply.id)?;
    conn.prepare_cached(
        "UPDATE search_canned_rows SET locale = ?2, shortcut_key = ?3 WHERE rowid = ?1",
    )?
    .execute(params![
        rowid,
        fold_key(&reply.locale),
        shortcut_key(&reply.shortcut)
    ])?;
    delete_rows(conn, &CANNED, rowid)?;
    conn.prepare_cached(
        "INSERT INTO search_canned (rowid, title, shortcut, body, pinyin, locale)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![rowid, title, shortcut, body, pinyin, reply.locale])?;
    conn.prepare_cached(
        "INSERT INTO search_canned_titles (rowid, title, shortcut, pinyin, locale)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![rowid, title, shortcut, pinyin, reply.locale])?;
    Ok(())
}

/// Removes a canned reply from the index (nothing happens if it is not there).
pub fn remove_canned_reply(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    remove(conn, &CANNED, id)
}

/// The FTS rowid of `id`, created if new. `rows` is one of our table names.
fn row_for(conn: &Connection, rows: &str, id: &str) -> rusqlite::Result<i64> {
    row_of(conn, rows, id).map(|(rowid, _)| rowid)
}

/// The FTS rowid of `id`, created if new, and whether it was there before
/// (a new row has nothing to delete from the FTS tables).
fn row_of(conn: &Connection, rows: &str, id: &str) -> rusqlite::Result<(i64, bool)> {
    let existing: Option<i64> = conn
        .prepare_cached(&format!("SELECT rowid FROM {rows} WHERE id = ?1"))?
        .query_row([id], |row| row.get(0))
        .optional()?;
    if let Some(rowid) = existing {
        return Ok((rowid, true));
    }
    conn.prepare_cached(&format!("INSERT INTO {rows} (id) VALUES (?1)"))?
        .execute([id])?;
    Ok((conn.last_insert_rowid(), false))
}

/// Deletes `rowid` from both FTS tables of `table` (if it is there).
fn delete_rows(conn: &Connection, table: &Table, rowid: i64) -> rusqlite::Result<()> {
    for fts in [&table.main, &table.titles] {
        conn.prepare_cached(&format!("DELETE FROM {} WHERE rowid = ?1", fts.name))?
            .execute([rowid])?;
    }
    Ok(())
}

fn remove(conn: &Connection, table: &Table, id: &str) -> rusqlite::Result<()> {
    let rowid: Option<i64> = conn
        .prepare_cached(&format!("SELECT rowid FROM {} WHERE id = ?1", table.rows))?
        .query_row([id], |row| row.get(0))
        .optional()?;
    if let Some(rowid) = rowid {
        delete_rows(conn, table, rowid)?;
        conn.prepare_cached(&format!("DELETE FROM {} WHERE rowid = ?1", table.rows))?
            .execute([rowid])?;
    }
    Ok(())
}

/// Searches articles, best first: articles with every part of the query in
/// the title or tags (or their pinyin), then with every part anywhere, then,
/// while fewer than `opts.limit` were found, with any part of it (see
/// `docs/search.md`). Empty or punctuation-only queries find nothing; no
/// query text makes it fail.
pub fn search_articles(
    conn: &Connection,
    query: &str,
    opts: &SearchOptions,
) -> rusqlite::Result<Vec<SearchHit>> {
    search_articles_profiled(conn, query, opts).map(|(hits, _)| hits)
}

/// Where one search spent its time, for the search bench's profile. The
/// parts add up to about the whole; `statistics` is counted inside
/// `passes`' wall time only once (it is measured separately).
#[derive(Debug, Default, Clone, Copy)]
pub struct SearchProfile {
    /// Analysing the query and building its MATCH expressions (folding,
    /// bigrams, synonyms, pinyin syllables).
    pub plan: Duration,
    /// Document frequencies of the query's phrases (for idf and pruning).
    pub statistics: Duration,
    /// Matching and ranking, all passes (without `statistics`).
    pub ranking: Duration,
    /// Snippets and titles of the results shown.
    pub snippets: Duration,
    /// Passes that ran (1–3).
    pub passes: u32,
}

/// [`search_articles`], with where its time went.
pub fn search_articles_profiled(
    conn: &Connection,
    query: &str,
    opts: &SearchOptions,
) -> rusqlite::Result<(Vec<SearchHit>, SearchProfile)> {
    let mut profile = SearchProfile::default();
    let limit = opts.limit.min(MAX_LIMIT);
    if limit == 0 {
        return Ok((Vec::new(), profile));
    }
    let started = Instant::now();
    let plan = query::plan(query, &ARTICLES.columns);
    let locale = locale_of(opts).map(fold_key);
    profile.plan = started.elapsed();
    let mut stats = Stats::new(conn, &ARTICLES)?;
    let mut hits = Vec::new();
    let mut seen = HashSet::new();
    for (pass, tier) in passes(&plan) {
        if hits.len() >= limit {
            break;
        }
        profile.passes += 1;
        let started = Instant::now();
        let statistics_before = stats.spent;
        let (fts, expr) = pass_expr(conn, &ARTICLES, &pass, &mut stats, limit)?;
        // Snippets come from the body, so they are marked with a pass that
        // searches the body too.
        let marks = match pass {
            Pass::Titles(_) => plan.strict.as_ref().unwrap_or(&expr),
            _ => &expr,
        };
        let found = ranked(
            conn,
            &ARTICLES,
            fts,
            &expr,
            locale.as_deref(),
            &mut stats,
            limit,
        )?;
        profile.ranking += started.elapsed() - (stats.spent - statistics_before);
        let started = Instant::now();
        let phrases: Vec<Vec<&str>> = marks
            .text_phrases
            .iter()
            .map(|tokens| tokens.split(' ').collect())
            .collect();
        for (rowid, score) in found {
            if hits.len() >= limit || !seen.insert(rowid) {
                continue;
            }
            let mut stmt = conn.prepare_cached(
                "SELECT r.id, a.title, a.body
                 FROM search_kb_rows AS r JOIN kb_articles AS a ON a.id = r.id
                 WHERE r.rowid = ?1",
            )?;
            let row = stmt
                .query_row([rowid], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .optional()?;
            if let Some((id, title, body)) = row {
                let text = crate::markdown::plain_text(&body);
                hits.push(SearchHit {
                    id,
                    title,
                    snippet: snippet::snippet_html(&text, &phrases, SNIPPET_TOKENS),
                    score: tier + relevance(score),
                });
            }
        }
        profile.snippets += started.elapsed();
    }
    profile.statistics = stats.spent;
    Ok((hits, profile))
}

/// Runs `search` on `conn` unless `superseded()` says a newer search was
/// asked for, and interrupts it (SQLite stops between steps of its virtual
/// machine) as soon as it does: search as you type never queues behind a
/// keystroke already typed over. `Ok(None)` when superseded.
pub fn unless_superseded<T>(
    conn: &Connection,
    superseded: impl Fn() -> bool + Send + 'static,
    search: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    if superseded() {
        return Ok(None);
    }
    // Every 2 000 virtual machine steps: about every 20 µs.
    conn.progress_handler(2_000, Some(superseded));
    let result = search(conn);
    conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Ok(found) => Ok(Some(found)),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Searches canned replies: shortcuts starting with the query first (an
/// agent types `/tk`), then title, shortcut, pinyin and body matches as for
/// articles.
pub fn search_canned_replies(
    conn: &Connection,
    query: &str,
    opts: &SearchOptions,
) -> rusqlite::Result<Vec<CannedHit>> {
    let limit = opts.limit.min(MAX_LIMIT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut hits: Vec<CannedHit> = Vec::new();
    let mut seen = HashSet::new();
    let prefix = shortcut_key(query);
    if !prefix.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT r.rowid, r.id, f.title, f.shortcut, r.shortcut_key
             FROM search_canned_rows AS r JOIN search_canned_titles AS f ON f.rowid = r.rowid
             WHERE r.shortcut_key >= ?1 AND r.shortcut_key < ?1 || char(1114111)
               AND (?2 IS NULL OR r.locale = ?2)
             ORDER BY length(r.shortcut_key), r.shortcut_key
             LIMIT ?3",
        )?;
        let locale = locale_of(opts).map(fold_key);
        let prefix_chars = prefix.chars().count() as f64;
        let rows = stmt.query_map(params![prefix, locale, sql_limit(limit)], |row| {
            let key: String = row.get(4)?;
            let key_chars = key.chars().count().max(1) as f64;
            let hit = CannedHit {
                id: row.get(1)?,
                title: row.get(2)?,
                shortcut: row.get(3)?,
                score: 3.0 + prefix_chars / key_chars,
            };
            Ok((row.get::<_, i64>(0)?, hit))
        })?;
        for row in rows {
            let (rowid, hit) = row?;
            if seen.insert(rowid) {
                hits.push(hit);
            }
        }
    }
    let plan = query::plan(query, &CANNED.columns);
    let locale = locale_of(opts).map(fold_key);
    let mut stats = Stats::new(conn, &CANNED)?;
    for (pass, tier) in passes(&plan) {
        if hits.len() >= limit {
            break;
        }
        let (fts, expr) = pass_expr(conn, &CANNED, &pass, &mut stats, limit)?;
        for (rowid, score) in ranked(
            conn,
            &CANNED,
            fts,
            &expr,
            locale.as_deref(),
            &mut stats,
            limit,
        )? {
            if hits.len() >= limit || !seen.insert(rowid) {
                continue;
            }
            let mut stmt = conn.prepare_cached(
                "SELECT r.id, f.title, f.shortcut
                 FROM search_canned_titles AS f JOIN search_canned_rows AS r ON r.rowid = f.rowid
                 WHERE f.rowid = ?1",
            )?;
            let hit = stmt
                .query_row([rowid], |row| {
                    Ok(CannedHit {
                        id: row.get(0)?,
                        title: row.get(1)?,
                        shortcut: row.get(2)?,
                        score: tier + relevance(score),
                    })
                })
                .optional()?;
            hits.extend(hit);
        }
    }
    Ok(hits)
}

/// One FTS5 table of ours.
struct Fts {
    name: &'static str,
    /// Weight of each column in the score, in column order.
    weights: &'static [f64],
    /// The column of the rows table that holds each row's length in this
    /// table, if one does (else FTS5 looks it up per match).
    length: Option<&'static str>,
}

/// What is searched: articles or canned replies.
struct Table {
    /// Every column, body included.
    main: Fts,
    /// The title-side columns only (same rowids).
    titles: Fts,
    /// id ↔ rowid, and each row's folded locale.
    rows: &'static str,
    columns: Columns,
}

const ARTICLES: Table = Table {
    main: Fts {
        name: "search_kb",
        // title, tags, body, pinyin
        weights: &[1.0, 0.8, 0.25, 0.6],
        length: Some("length"),
    },
    titles: Fts {
        name: "search_kb_titles",
        // title, tags, pinyin
        weights: &[1.0, 0.8, 0.6],
        length: Some("title_length"),
    },
    rows: "search_kb_rows",
    columns: Columns {
        title: "{title tags}",
        text: "{title tags body}",
        pinyin: "pinyin",
    },
};

const CANNED: Table = Table {
    main: Fts {
        name: "search_canned",
        // title, shortcut, body, pinyin, locale
        weights: &[1.0, 1.0, 0.25, 0.6, 0.0],
        length: None,
    },
    titles: Fts {
        name: "search_canned_titles",
        // title, shortcut, pinyin, locale
        weights: &[1.0, 1.0, 0.6, 0.0],
        length: None,
    },
    rows: "search_canned_rows",
    columns: Columns {
        title: "{title shortcut}",
        text: "{title shortcut body}",
        pinyin: "pinyin",
    },
};

/// Document frequencies for one search, shared by its passes.
struct Stats {
    /// Largest rowid minus smallest plus one: about the number of rows.
    span: i64,
    /// (table, phrase tokens) → estimated number of rows containing it.
    doc_frequency: HashMap<(&'static str, String), f64>,
    /// Time spent counting (for [`SearchProfile::statistics`]).
    spent: Duration,
}

impl Stats {
    fn new(conn: &Connection, table: &Table) -> rusqlite::Result<Stats> {
        let started = Instant::now();
        let (min, max): (Option<i64>, Option<i64>) = conn
            // Two subqueries: SQLite answers a lone min() or max() from the
            // b-tree, but scans the table for both at once.
            .prepare_cached(&format!(
                "SELECT (SELECT min(rowid) FROM {rows}), (SELECT max(rowid) FROM {rows})",
                rows = table.rows
            ))?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let span = match (min, max) {
            (Some(min), Some(max)) => max - min + 1,
            _ => 0,
        };
        Ok(Stats {
            span,
            doc_frequency: HashMap::new(),
            spent: started.elapsed(),
        })
    }

    /// The (estimated) number of rows of `fts` containing the phrase `tokens`.
    fn doc_frequency(
        &mut self,
        conn: &Connection,
        fts: &Fts,
        tokens: &str,
    ) -> rusqlite::Result<f64> {
        let key = (fts.name, tokens.to_owned());
        if let Some(known) = self.doc_frequency.get(&key) {
            return Ok(*known);
        }
        let started = Instant::now();
        let phrase = format!("\"{}\"", tokens.replace('"', "\"\""));
        let (count, first, last): (i64, Option<i64>, Option<i64>) = conn
            .prepare_cached(&format!(
                "SELECT count(*), min(rowid), max(rowid)
                 FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH ?1 LIMIT ?2)",
                fts = fts.name
            ))?
            .query_row(params![phrase, rank::SAMPLE], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let estimate = rank::doc_frequency(count, first.unwrap_or(0), last.unwrap_or(0), self.span);
        self.doc_frequency.insert(key, estimate);
        self.spent += started.elapsed();
        Ok(estimate)
    }
}

/// The best `limit` matches of `expr` in `fts` (of `table`) as (rowid,
/// score), best first, ranking only the newest [`RANK_CAP`] matches in
/// `locale` (folded; any when `None`): one walk of the index from the
/// newest row, which stops there. The locale is looked up per match in the
/// rows table, not matched as a phrase: a phrase in most rows ANDed to the
/// query made FTS5 walk its whole posting list.
fn ranked(
    conn: &Connection,
    table: &Table,
    fts: &Fts,
    expr: &Expr,
    locale: Option<&str>,
    stats: &mut Stats,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, f64)>> {
    let mut doc_frequencies = Vec::with_capacity(expr.phrases.len());
    for phrase in &expr.phrases {
        doc_frequencies.push(match phrase {
            Some(tokens) => stats.doc_frequency(conn, fts, tokens)?,
            None => rank::NOT_RANKED,
        });
    }
    let params_blob = rank::encode(fts.weights, &doc_frequencies);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT f.rowid, homedesk_rank({name}, ?2{length})
         FROM {name} AS f JOIN {rows} AS r ON r.rowid = f.rowid
         WHERE {name} MATCH ?1 AND (?4 IS NULL OR r.locale = ?4)
         ORDER BY f.rowid DESC
         LIMIT ?3",
        name = fts.name,
        rows = table.rows,
        length = fts.length.map(|c| format!(", r.{c}")).unwrap_or_default()
    ))?;
    let rows = stmt.query_map(params![expr.fts, params_blob, RANK_CAP, locale], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, f64>(1)?))
    })?;
    let mut scored = rows.collect::<rusqlite::Result<Vec<(i64, f64)>>>()?;
    // Best score first; among equals, the newest (the walk's order).
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(limit);
    Ok(scored)
}

/// The passes to run in order, with the tier added to their scores.
fn passes(plan: &Plan) -> Vec<(Pass<'_>, f64)> {
    let mut out = Vec::new();
    if let Some(strict_title) = &plan.strict_title {
        out.push((Pass::Titles(strict_title), 2.0));
    }
    if let Some(strict) = &plan.strict {
        out.push((Pass::Strict(strict), 1.0));
    }
    if let Some(loose) = &plan.loose {
        out.push((Pass::Loose(loose), 0.0));
    }
    out
}

enum Pass<'a> {
    /// Every part of the query in the title-side columns.
    Titles(&'a Expr),
    /// Every part of the query anywhere.
    Strict(&'a Expr),
    /// Any part of the query.
    Loose(&'a Loose),
}

/// The table and expression of a pass. The tolerant pass leaves out
/// phrases found in more than half the rows (their idf is a tenth of a rare
/// term's, and they make ranking slow) when the other phrases match at
/// least `limit` rows.
fn pass_expr<'t>(
    conn: &Connection,
    table: &'t Table,
    pass: &Pass<'_>,
    stats: &mut Stats,
    limit: usize,
) -> rusqlite::Result<(&'t Fts, Expr)> {
    match pass {
        Pass::Titles(expr) => Ok((&table.titles, (*expr).clone())),
        Pass::Strict(expr) => Ok((&table.main, (*expr).clone())),
        Pass::Loose(loose) => {
            let mut common = Vec::new();
            let mut rarer_matches = 0.0;
            for tokens in loose.phrase_tokens() {
                let docs = stats.doc_frequency(conn, &table.main, &tokens)?;
                let is_common = docs * 2.0 > stats.span as f64;
                if !is_common {
                    rarer_matches += docs;
                }
                common.push(is_common);
            }
            // Common phrases stay when the others cannot fill the list.
            let expr = if rarer_matches >= limit as f64 {
                loose.expr(|i| !common.get(i).copied().unwrap_or(false))
            } else {
                loose.expr(|_| true)
            };
            Ok((&table.main, expr))
        }
    }
}

fn locale_of(opts: &SearchOptions) -> Option<&str> {
    opts.locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A `homedesk_rank` score (0 and up, higher is better), squashed to [0, 1).
fn relevance(score: f64) -> f64 {
    let score = score.max(0.0);
    score / (1.0 + score)
}

/// Case- and width-folded text, for exact comparisons.
fn fold_key(text: &str) -> String {
    analyze::fold(text.trim())
}

/// A shortcut as compared with what the agent types: folded, without the
/// leading `/` that opens the shortcut menu, without spaces.
fn shortcut_key(text: &str) -> String {
    let folded = fold_key(text);
    folded
        .trim_start_matches('/')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[cfg(test)]
mod tests;
