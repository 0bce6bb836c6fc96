//! Knowledge-base and canned-reply search over SQLite FTS5, with a tokenizer
//! written in Rust that understands Chinese (overlapping bigrams and single
//! characters), English (folding and stemming) and pinyin (full spellings
//! and initials of titles, tags and shortcuts). See `docs/search.md`.
//!
//! The store owns the connection and the transactions. It must call
//! [`register`] on every connection before the FTS tables are touched, run
//! [`SCHEMA`] once as a migration, call [`rebuild_if_stale`] after its
//! migrations, and call the `index_*`/`remove_*` functions whenever it
//! writes or deletes an article or a canned reply (no triggers).

mod analyze;
mod fts5;
mod lexicon;
mod query;
mod romanize;

use std::collections::HashSet;

use homedesk_protocol::{CannedReply, KbArticle};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use analyze::{MATCH_CLOSE, MATCH_OPEN, PINYIN_MARK, clean};
use query::{Columns, Plan};

/// Version of everything that decides which tokens a text gives (tokenizer
/// code, `synonyms.txt`, the pinyin and stemmer crates). Bump it when any of
/// them changes: FTS5 removes a row's old tokens by tokenizing its stored
/// text again, so an index built by another version must be rebuilt
/// ([`rebuild_if_stale`]) before rows are updated.
pub const TOKENIZER_VERSION: u32 = 1;

/// Tables of the search index, run once by the store's migrations (after
/// [`register`] on that connection: creating an FTS5 table needs its
/// tokenizer).
///
/// - `search_kb`: one row per article. Columns: title, tags (one per line),
///   body (plain text of the Markdown), pinyin (title and tags again, read
///   by the tokenizer as pinyin), locale. `rank` is bm25 weighted 10 title,
///   4 tags, 1 body, 6 pinyin, 0 locale.
/// - `search_kb_rows`: article id ↔ FTS rowid.
/// - `search_canned`, `search_canned_rows`: the same for canned replies
///   (title, shortcut, body, pinyin, locale), with the folded shortcut for
///   prefix lookups.
/// - `search_meta`: the [`TOKENIZER_VERSION`] the index was built with.
pub const SCHEMA: &str = "
CREATE TABLE search_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE search_kb_rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE search_kb USING fts5(
    title, tags, body, pinyin, locale,
    tokenize = 'homedesk'
);
INSERT INTO search_kb(search_kb, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0, 6.0, 0.0)');
CREATE TABLE search_canned_rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    locale TEXT NOT NULL,
    shortcut_key TEXT NOT NULL
);
CREATE INDEX search_canned_rows_shortcut ON search_canned_rows (shortcut_key);
CREATE VIRTUAL TABLE search_canned USING fts5(
    title, shortcut, body, pinyin, locale,
    tokenize = 'homedesk'
);
INSERT INTO search_canned(search_canned, rank) VALUES ('rank', 'bm25(10.0, 10.0, 1.0, 6.0, 0.0)');
";

const ARTICLE_COLUMNS: Columns = Columns {
    text: "{title tags body}",
    pinyin: "pinyin",
    locale: "locale",
};

const CANNED_COLUMNS: Columns = Columns {
    text: "{title shortcut body}",
    pinyin: "pinyin",
    locale: "locale",
};

/// Results per search at most, whatever the caller asks.
pub const MAX_LIMIT: usize = 200;

/// Words of snippet around the best match (a Chinese character is a word).
const SNIPPET_TOKENS: i64 = 32;

/// Registers the `homedesk` FTS5 tokenizer on `conn`. Call it on every
/// connection, before the search tables are created or used.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    fts5::register(conn)
}

/// Rebuilds the index when it was built by another [`TOKENIZER_VERSION`]
/// (or before versions were recorded), and records the current version.
/// Returns whether it rebuilt. Call after the migrations, in a transaction.
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
    conn.execute("INSERT INTO search_kb(search_kb) VALUES ('rebuild')", [])?;
    conn.execute(
        "INSERT INTO search_canned(search_canned) VALUES ('rebuild')",
        [],
    )?;
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
    /// Higher is better. The integer part is the match tier (1: every part
    /// of the query matched; 0: some did), the fraction bm25 relevance.
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
    /// Higher is better. 2 and above: the query is the start of the
    /// shortcut (3: the whole shortcut); below, as in [`SearchHit::score`].
    pub score: f64,
}

/// Adds or replaces an article in the index.
pub fn index_article(conn: &Connection, article: &KbArticle) -> rusqlite::Result<()> {
    let title = clean(&article.title);
    let tags = clean(&article.tags.join("\n"));
    let body = clean(&crate::markdown::plain_text(&article.body));
    let pinyin = format!("{PINYIN_MARK}{title}\n{tags}");
    let rowid = row_for(conn, "search_kb_rows", &article.id)?;
    conn.prepare_cached("DELETE FROM search_kb WHERE rowid = ?1")?
        .execute([rowid])?;
    conn.prepare_cached(
        "INSERT INTO search_kb (rowid, title, tags, body, pinyin, locale)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![rowid, title, tags, body, pinyin, article.locale])?;
    Ok(())
}

/// Removes an article from the index (nothing happens if it is not there).
pub fn remove_article(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    remove(conn, "search_kb", "search_kb_rows", id)
}

/// Adds or replaces a canned reply in the index.
pub fn index_canned_reply(conn: &Connection, reply: &CannedReply) -> rusqlite::Result<()> {
    let title = clean(&reply.title);
    let shortcut = clean(&reply.shortcut);
    let body = clean(&reply.body);
    let pinyin = format!("{PINYIN_MARK}{title}\n{shortcut}");
    let rowid = row_for(conn, "search_canned_rows", &reply.id)?;
    conn.prepare_cached(
        "UPDATE search_canned_rows SET locale = ?2, shortcut_key = ?3 WHERE rowid = ?1",
    )?
    .execute(params![
        rowid,
        fold_key(&reply.locale),
        shortcut_key(&reply.shortcut)
    ])?;
    conn.prepare_cached("DELETE FROM search_canned WHERE rowid = ?1")?
        .execute([rowid])?;
    conn.prepare_cached(
        "INSERT INTO search_canned (rowid, title, shortcut, body, pinyin, locale)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![rowid, title, shortcut, body, pinyin, reply.locale])?;
    Ok(())
}

/// Removes a canned reply from the index (nothing happens if it is not there).
pub fn remove_canned_reply(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    remove(conn, "search_canned", "search_canned_rows", id)
}

/// The FTS rowid of `id`, created if new. `rows` is one of our table names.
fn row_for(conn: &Connection, rows: &str, id: &str) -> rusqlite::Result<i64> {
    let existing: Option<i64> = conn
        .prepare_cached(&format!("SELECT rowid FROM {rows} WHERE id = ?1"))?
        .query_row([id], |row| row.get(0))
        .optional()?;
    if let Some(rowid) = existing {
        return Ok(rowid);
    }
    // The canned table's other columns are filled in right after.
    let insert = if rows == "search_canned_rows" {
        "INSERT INTO search_canned_rows (id, locale, shortcut_key) VALUES (?1, '', '')"
    } else {
        "INSERT INTO search_kb_rows (id) VALUES (?1)"
    };
    conn.prepare_cached(insert)?.execute([id])?;
    Ok(conn.last_insert_rowid())
}

fn remove(conn: &Connection, fts: &str, rows: &str, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "DELETE FROM {fts} WHERE rowid = (SELECT rowid FROM {rows} WHERE id = ?1)"
    ))?
    .execute([id])?;
    conn.prepare_cached(&format!("DELETE FROM {rows} WHERE id = ?1"))?
        .execute([id])?;
    Ok(())
}

/// Searches articles: first for every part of the query, then, if that
/// found fewer than `opts.limit`, for any part of it (see `docs/search.md`).
/// Empty or punctuation-only queries find nothing; no query errors.
pub fn search_articles(
    conn: &Connection,
    query: &str,
    opts: &SearchOptions,
) -> rusqlite::Result<Vec<SearchHit>> {
    let limit = opts.limit.min(MAX_LIMIT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let plan = query::plan(query, &ARTICLE_COLUMNS, locale_of(opts));
    let mut hits = Vec::new();
    let mut seen = HashSet::new();
    for (expr, tier) in tiers(&plan) {
        if hits.len() >= limit {
            break;
        }
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, f.title, snippet(search_kb, 2, ?3, ?4, '…', ?5), f.rank
             FROM search_kb AS f JOIN search_kb_rows AS r ON r.rowid = f.rowid
             WHERE search_kb MATCH ?1
             ORDER BY f.rank
             LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![
                expr,
                sql_limit(limit),
                MATCH_OPEN.to_string(),
                MATCH_CLOSE.to_string(),
                SNIPPET_TOKENS
            ],
            |row| {
                Ok(SearchHit {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    snippet: snippet_html(&row.get::<_, String>(2)?),
                    score: tier + relevance(row.get(3)?),
                })
            },
        )?;
        for hit in rows {
            let hit = hit?;
            if hits.len() < limit && seen.insert(hit.id.clone()) {
                hits.push(hit);
            }
        }
    }
    Ok(hits)
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
            "SELECT r.id, f.title, f.shortcut, r.shortcut_key
             FROM search_canned_rows AS r JOIN search_canned AS f ON f.rowid = r.rowid
             WHERE r.shortcut_key >= ?1 AND r.shortcut_key < ?1 || char(1114111)
               AND (?2 IS NULL OR r.locale = ?2)
             ORDER BY length(r.shortcut_key), r.shortcut_key
             LIMIT ?3",
        )?;
        let locale = locale_of(opts).map(fold_key);
        let rows = stmt.query_map(params![prefix, locale, sql_limit(limit)], |row| {
            let key: String = row.get(3)?;
            let prefix_chars = prefix.chars().count() as f64;
            let key_chars = key.chars().count().max(1) as f64;
            Ok(CannedHit {
                id: row.get(0)?,
                title: row.get(1)?,
                shortcut: row.get(2)?,
                score: 2.0 + prefix_chars / key_chars,
            })
        })?;
        for hit in rows {
            let hit = hit?;
            if seen.insert(hit.id.clone()) {
                hits.push(hit);
            }
        }
    }
    let plan = query::plan(query, &CANNED_COLUMNS, locale_of(opts));
    for (expr, tier) in tiers(&plan) {
        if hits.len() >= limit {
            break;
        }
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, f.title, f.shortcut, f.rank
             FROM search_canned AS f JOIN search_canned_rows AS r ON r.rowid = f.rowid
             WHERE search_canned MATCH ?1
             ORDER BY f.rank
             LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![expr, sql_limit(limit)], |row| {
            Ok(CannedHit {
                id: row.get(0)?,
                title: row.get(1)?,
                shortcut: row.get(2)?,
                score: tier + relevance(row.get(3)?),
            })
        })?;
        for hit in rows {
            let hit = hit?;
            if hits.len() < limit && seen.insert(hit.id.clone()) {
                hits.push(hit);
            }
        }
    }
    Ok(hits)
}

/// The expressions to run in order, with the tier added to their scores.
fn tiers(plan: &Plan) -> Vec<(&str, f64)> {
    let mut out = Vec::new();
    if let Some(strict) = &plan.strict {
        out.push((strict.as_str(), 1.0));
    }
    if let Some(loose) = &plan.loose {
        out.push((loose.as_str(), 0.0));
    }
    out
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

/// bm25 from FTS5 is negative, more negative is better: squashed to [0, 1).
fn relevance(rank: f64) -> f64 {
    let r = (-rank).max(0.0);
    r / (1.0 + r)
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

/// Escapes a snippet for HTML and turns our match marks into `<mark>`.
fn snippet_html(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            MATCH_OPEN => out.push_str("<mark>"),
            MATCH_CLOSE => out.push_str("</mark>"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
