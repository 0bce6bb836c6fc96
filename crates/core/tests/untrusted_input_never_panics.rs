//! The workstation's readers of untrusted text never panic, whatever bytes
//! they are given: the `homedesk` FTS5 tokenizer (articles and canned
//! replies come from the platform, queries from the keyboard) and the
//! decoder of a page of changes. A panic in the tokenizer would unwind into
//! SQLite's C code; `fts5.rs` catches it, and these tests make sure there is
//! nothing to catch. `make fuzz` runs the same code under libFuzzer.

use homedesk_core::search::{self, SearchOptions};
use proptest::prelude::*;
use rusqlite::{Connection, params};

/// An in-memory database with the search schema, as a store has it.
fn index() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    search::register(&conn).expect("tokenizer registers");
    conn.execute_batch(search::TEXT_SCHEMA)
        .expect("article table");
    conn.execute_batch(search::SCHEMA).expect("search schema");
    conn
}

/// Text that mixes what shop articles hold: Chinese, pinyin with and without
/// tone marks, English, digits, punctuation of both widths, emoji, combining
/// marks, control characters and private-use characters the tokenizer uses
/// as its own marks.
fn shop_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "退货",
        "发货",
        "快递",
        "七天无理由",
        "亲",
        "您好",
        "tuihuo",
        "fā huò",
        "Lǚ",
        "refund",
        "order",
        "123",
        "１２３",
        "，",
        "。",
        "!",
        "?",
        "-",
        "_",
        "*",
        "\"",
        "'",
        "(",
        ")",
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "^",
        ":",
        "😀",
        "e\u{301}",
        "\u{0}",
        "\u{7}",
        "\u{E000}",
        "\u{E001}",
        "\u{E002}",
        "\u{FEFF}",
        " ",
        "\t",
        "\n",
        "ﬁ",
        "Ⅻ",
        "ß",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Raw bytes, not even UTF-8, reach the tokenizer through SQL's CAST.
    #[test]
    fn tokenizer_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let conn = index();
        conn.execute(
            "INSERT INTO search_kb (title, tags, body, pinyin)
             VALUES (CAST(?1 AS TEXT), '', CAST(?1 AS TEXT), '')",
            params![bytes],
        ).expect("indexing any bytes succeeds");
        // And as a query: the tokenizer sees the same bytes in query mode.
        let _ = conn.query_row(
            "SELECT count(*) FROM search_kb WHERE search_kb MATCH CAST(?1 AS TEXT)",
            params![bytes],
            |row| row.get::<_, i64>(0),
        );
    }

    /// Any article text indexes, and any typed query answers without an error.
    #[test]
    fn any_article_and_query_search_cleanly(body in shop_text(), query in shop_text()) {
        let conn = index();
        let article = homedesk_protocol::KbArticle {
            id: "kb-1".into(),
            locale: "zh-CN".into(),
            title: body.chars().take(20).collect(),
            body: body.clone(),
            tags: vec![query.chars().take(4).collect()],
            category: "售后".into(),
            updated_at: 0,
        };
        search::put_article(&conn, &article).expect("indexes");
        let hits = search::search_articles(&conn, &query, &SearchOptions::default());
        prop_assert!(hits.is_ok(), "query {query:?} failed: {hits:?}");
    }

    #[test]
    fn a_page_of_changes_decodes_or_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = homedesk_core::sync::http::decode_page(&bytes, bytes.len() as u64);
    }
}
