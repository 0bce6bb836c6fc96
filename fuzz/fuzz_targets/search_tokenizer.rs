//! The `homedesk` FTS5 tokenizer, reached the way SQLite reaches it: any
//! bytes (not even UTF-8) indexed as an article and typed as a query.
//! Indexing must succeed; a query may find nothing or be refused by FTS5's
//! own syntax, but nothing may panic or crash.
#![no_main]

use homedesk_core::search::{self, SearchOptions};
use libfuzzer_sys::fuzz_target;
use rusqlite::{Connection, params};

fuzz_target!(|bytes: &[u8]| {
    let conn = Connection::open_in_memory().expect("in-memory database");
    search::register(&conn).expect("tokenizer registers");
    conn.execute_batch(search::TEXT_SCHEMA).expect("article table");
    conn.execute_batch(search::SCHEMA).expect("search schema");
    conn.execute(
        "INSERT INTO search_kb (title, tags, body, pinyin)
         VALUES (CAST(?1 AS TEXT), '', CAST(?1 AS TEXT), '')",
        params![bytes],
    )
    .expect("any bytes index");
    let _ = conn.query_row(
        "SELECT count(*) FROM search_kb WHERE search_kb MATCH CAST(?1 AS TEXT)",
        params![bytes],
        |row| row.get::<_, i64>(0),
    );
    let query = String::from_utf8_lossy(bytes);
    search::search_articles(&conn, &query, &SearchOptions::default())
        .expect("any typed query answers");
});
