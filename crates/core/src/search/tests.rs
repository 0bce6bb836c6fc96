//! Tests of the search API against in-memory databases.

use homedesk_protocol::{CannedReply, KbArticle};
use rusqlite::Connection;

use super::*;

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    register(&conn).unwrap();
    conn.execute_batch(TEXT_SCHEMA).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    assert!(rebuild_if_stale(&conn).unwrap());
    conn
}

fn article(id: &str, title: &str, body: &str) -> KbArticle {
    KbArticle {
        id: id.to_owned(),
        locale: "zh-CN".to_owned(),
        title: title.to_owned(),
        body: body.to_owned(),
        tags: Vec::new(),
        category: "test".to_owned(),
        updated_at: 0,
    }
}

fn reply(id: &str, title: &str, shortcut: &str, body: &str) -> CannedReply {
    CannedReply {
        id: id.to_owned(),
        locale: "zh-CN".to_owned(),
        title: title.to_owned(),
        shortcut: shortcut.to_owned(),
        category: "test".to_owned(),
        body: body.to_owned(),
        placeholders: Vec::new(),
        attachment: None,
    }
}

fn opts(limit: usize) -> SearchOptions {
    SearchOptions {
        limit,
        locale: None,
    }
}

fn ids(conn: &Connection, query: &str) -> Vec<String> {
    search_articles(conn, query, &opts(10))
        .unwrap()
        .into_iter()
        .map(|hit| hit.id)
        .collect()
}

/// A small knowledge base shared by several tests.
fn sample() -> Connection {
    let conn = db();
    for a in [
        article(
            "refund",
            "退款流程",
            "## 步骤\n\n客户申请**退款**后，核对订单号，在后台提交。",
        ),
        article("ship", "发货时间", "一般 48 小时内发货，节假日顺延。"),
        article("address", "修改收货地址", "未发货的订单可以直接修改地址。"),
        article(
            "en-refund",
            "Refund policy",
            "A refund is issued within 7 days. Visit the ＡＢＣ portal.",
        ),
    ] {
        put_article(&conn, &a).unwrap();
    }
    conn
}

#[test]
fn refund_is_found_by_chinese_pinyin_and_initials() {
    let conn = sample();
    for query in ["退款", "tk", "tuikuan", "tui kuan", "TuiKuan", "ＴＫ"] {
        let found = ids(&conn, query);
        assert_eq!(
            found.first().map(String::as_str),
            Some("refund"),
            "{query}: {found:?}"
        );
    }
}

#[test]
fn one_character_queries_work() {
    let conn = sample();
    assert_eq!(ids(&conn, "退"), vec!["refund"]);
    // 址 is the last character of its run: indexed alone, not as a bigram start.
    assert_eq!(ids(&conn, "址"), vec!["address"]);
}

#[test]
fn english_is_stemmed_and_folded() {
    let conn = sample();
    assert_eq!(ids(&conn, "refunds"), vec!["en-refund"]);
    assert_eq!(ids(&conn, "REFUNDED"), vec!["en-refund"]);
    assert_eq!(ids(&conn, "abc"), vec!["en-refund"]);
    assert_eq!(ids(&conn, "ＡＢＣ"), vec!["en-refund"]);
    assert_eq!(ids(&conn, "Àbç"), vec!["en-refund"]);
    // Digits are tokens.
    assert_eq!(ids(&conn, "48"), vec!["ship"]);
}

#[test]
fn title_matches_rank_above_body_matches() {
    let conn = db();
    let long_body = "退款说明。".repeat(20);
    put_article(&conn, &article("body", "售后须知", &long_body)).unwrap();
    put_article(&conn, &article("title", "退款", "请看说明。")).unwrap();
    let hits = search_articles(&conn, "退款", &opts(10)).unwrap();
    let order: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(order, vec!["title", "body"]);
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn falls_back_to_partial_matches() {
    let conn = sample();
    // No article has all of it; the refund article has most of it.
    let hits = search_articles(&conn, "退款要多久能到账呢", &opts(10)).unwrap();
    assert_eq!(
        hits.first().map(|h| h.id.as_str()),
        Some("refund"),
        "{hits:?}"
    );
    assert!(hits[0].score < 1.0, "a partial match is tier 0: {hits:?}");
    // A strict match comes first and scores higher.
    let hits = search_articles(&conn, "修改 地址", &opts(10)).unwrap();
    assert_eq!(hits[0].id, "address");
    assert!(hits[0].score >= 1.0);
}

#[test]
fn common_words_still_fill_the_list_when_the_rest_finds_nothing() {
    let conn = db();
    for i in 0..10 {
        let title = if i < 8 {
            "退款说明"
        } else {
            "发货说明"
        };
        put_article(&conn, &article(&format!("a{i}"), title, "")).unwrap();
    }
    // 退款 is in most articles, zzz in none: partial matches on 退款 come back.
    let hits = search_articles(&conn, "退款zzz", &opts(5)).unwrap();
    assert_eq!(hits.len(), 5, "{hits:?}");
}

#[test]
fn synonyms_find_each_other() {
    let conn = sample();
    // 退钱 is not in any article; 退款 is.
    assert_eq!(
        ids(&conn, "退钱").first().map(String::as_str),
        Some("refund")
    );
    assert_eq!(
        ids(&conn, "快递什么时候发").first().map(String::as_str),
        Some("ship")
    );
}

#[test]
fn hostile_queries_do_not_error() {
    let conn = sample();
    let long = "退款\"*(".repeat(2500);
    let hostile = [
        "",
        "   ",
        "？！。，",
        "\"",
        "\"\"",
        "*",
        "退款*",
        "NEAR(",
        "NEAR(退款 发货, 2)",
        "-",
        "-退款",
        ":",
        "title:退款",
        "{title}: x",
        "\"unbalanced 退款",
        "AND OR NOT",
        "^退款",
        "\u{E000}\u{E001}",
        long.as_str(),
    ];
    for query in hostile {
        search_articles(&conn, query, &opts(10)).unwrap();
        search_canned_replies(&conn, query, &opts(10)).unwrap();
    }
    assert!(ids(&conn, "").is_empty());
    assert!(ids(&conn, "？！。，").is_empty());
    assert_eq!(
        ids(&conn, "\"unbalanced 退款").first().map(String::as_str),
        Some("refund")
    );
}

#[test]
fn snippets_escape_html_and_mark_matches() {
    let conn = db();
    put_article(
        &conn,
        &article(
            "x",
            "安全",
            "点击前请确认 `<script>alert('退款')</script>` 与 a & b 的退款规则。<img src=x onerror=alert(1)>",
        ),
    )
    .unwrap();
    let hits = search_articles(&conn, "退款", &opts(10)).unwrap();
    let snippet = &hits[0].snippet;
    assert!(
        snippet.contains("&lt;script&gt;alert(&#39;<mark>退款</mark>&#39;)&lt;/script&gt;"),
        "{snippet}"
    );
    // Raw HTML in the Markdown is markup, not text: it is not indexed.
    assert!(!snippet.contains("onerror"), "{snippet}");
    assert!(!snippet.contains("<script"), "{snippet}");
    assert!(snippet.contains("&amp;"), "{snippet}");
    assert!(snippet.contains("<mark>退款</mark>"), "{snippet}");
    let without_marks = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(!without_marks.contains('<'), "{snippet}");
}

#[test]
fn articles_are_updated_and_removed() {
    let conn = sample();
    let mut changed = article("ship", "物流查询", "在订单详情查看物流。");
    put_article(&conn, &changed).unwrap();
    assert!(!ids(&conn, "发货时间").contains(&"ship".to_owned()));
    assert_eq!(
        ids(&conn, "物流查询").first().map(String::as_str),
        Some("ship")
    );
    changed.title = "发货时间".to_owned();
    put_article(&conn, &changed).unwrap();
    assert_eq!(
        ids(&conn, "发货时间").first().map(String::as_str),
        Some("ship")
    );
    remove_article(&conn, "ship").unwrap();
    assert!(!ids(&conn, "发货时间").contains(&"ship".to_owned()));
    remove_article(&conn, "ship").unwrap();
    remove_article(&conn, "never-existed").unwrap();
    // The index is still consistent after the updates.
    conn.execute(
        "INSERT INTO search_kb(search_kb) VALUES ('integrity-check')",
        [],
    )
    .unwrap();
}

#[test]
fn locale_filter() {
    let conn = sample();
    let zh = SearchOptions {
        limit: 10,
        locale: Some("zh-cn".to_owned()),
    };
    let en = SearchOptions {
        limit: 10,
        locale: Some("en".to_owned()),
    };
    let mut english = article("en-2", "Refund to card", "");
    english.locale = "en".to_owned();
    put_article(&conn, &english).unwrap();
    let found: Vec<String> = search_articles(&conn, "refund", &en)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(found, vec!["en-2"]);
    // "en-refund" was indexed as zh-CN by the sample.
    let found: Vec<String> = search_articles(&conn, "refund", &zh)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(found, vec!["en-refund"]);
    // A query that is the locale's own word does not match the locale column.
    assert!(search_articles(&conn, "en", &en).unwrap().is_empty());
}

#[test]
fn a_very_common_query_returns_at_most_limit() {
    let conn = db();
    for i in 0..300 {
        put_article(&conn, &article(&format!("a{i}"), "常见的问题", "的的的的")).unwrap();
    }
    for query in ["的", "的的", "常见问题", "的 问题"] {
        let hits = search_articles(&conn, query, &opts(7)).unwrap();
        assert_eq!(hits.len(), 7, "{query}");
    }
    let hits = search_articles(&conn, "的", &opts(100_000)).unwrap();
    assert_eq!(hits.len(), MAX_LIMIT);
    assert!(search_articles(&conn, "的", &opts(0)).unwrap().is_empty());
}

#[test]
fn one_character_is_looked_for_in_titles_and_tags_not_bodies() {
    let conn = db();
    put_article(&conn, &article("body", "发货时间", "申请退款后三天到账。")).unwrap();
    let mut tagged = article("tag", "售后须知", "");
    tagged.tags = vec!["退货".to_owned()];
    put_article(&conn, &tagged).unwrap();
    put_article(&conn, &article("title", "退款流程", "")).unwrap();
    assert_eq!(ids(&conn, "退"), vec!["title", "tag"]);
    // Two characters find the body too.
    assert!(ids(&conn, "退款").contains(&"body".to_owned()));
}

#[test]
fn only_the_newest_matches_are_ranked_when_very_many_match() {
    let mut conn = db();
    let tx = conn.transaction().unwrap();
    let total = RANK_CAP + 100;
    for i in 0..total {
        put_article(&tx, &article(&format!("a{i:05}"), "常见问题", "")).unwrap();
    }
    tx.commit().unwrap();
    let hits = search_articles(&conn, "常见", &opts(50)).unwrap();
    assert_eq!(hits.len(), 50);
    // Ranked among the newest RANK_CAP: the first 100 added are not.
    for hit in &hits {
        assert!(hit.id.as_str() >= "a00100", "{hit:?}");
    }
}

#[test]
fn tags_are_searched_in_chinese_and_pinyin() {
    let conn = db();
    let mut a = article("t", "售后说明", "");
    a.tags = vec!["拦截".to_owned(), "转寄".to_owned()];
    put_article(&conn, &a).unwrap();
    assert_eq!(ids(&conn, "拦截"), vec!["t"]);
    assert_eq!(ids(&conn, "zhuanji"), vec!["t"]);
    assert_eq!(ids(&conn, "lj"), vec!["t"]);
}

#[test]
fn canned_replies_by_shortcut_pinyin_and_text() {
    let conn = db();
    for r in [
        reply("r1", "退款已受理", "tk", "您的退款已受理，预计 3 天到账。"),
        reply("r2", "催发货", "fh", "已为您催促仓库尽快发货。"),
        reply("r3", "退货地址", "thdz", "请寄回以下地址。"),
        reply("r4", "物流查询", "物流", "您可以在订单详情查看物流。"),
    ] {
        index_canned_reply(&conn, &r).unwrap();
    }
    let find = |query: &str| -> Vec<String> {
        search_canned_replies(&conn, query, &opts(10))
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    // Exact shortcut first, with or without the slash.
    assert_eq!(find("/tk").first().map(String::as_str), Some("r1"));
    assert_eq!(find("TK").first().map(String::as_str), Some("r1"));
    // Shortcut prefix.
    assert_eq!(find("th").first().map(String::as_str), Some("r3"));
    // Pinyin initials and full pinyin of the title.
    assert_eq!(find("cfh").first().map(String::as_str), Some("r2"));
    assert_eq!(find("cuifahuo").first().map(String::as_str), Some("r2"));
    // Chinese shortcut, and its pinyin.
    assert_eq!(find("物流").first().map(String::as_str), Some("r4"));
    assert_eq!(find("wl").first().map(String::as_str), Some("r4"));
    // Body text.
    assert_eq!(find("仓库").first().map(String::as_str), Some("r2"));
    let hits = search_canned_replies(&conn, "tk", &opts(10)).unwrap();
    assert_eq!(hits[0].shortcut, "tk");
    assert!(hits[0].score >= 4.0);
    // Update and remove.
    index_canned_reply(&conn, &reply("r1", "退款已受理", "tkok", "")).unwrap();
    assert_eq!(find("tkok"), vec!["r1"]);
    remove_canned_reply(&conn, "r1").unwrap();
    assert!(find("tkok").is_empty());
}

#[test]
fn the_length_kept_beside_each_article_is_the_one_fts5_counts() {
    let conn = sample();
    for (fts, column) in [
        ("search_kb", "length"),
        ("search_kb_titles", "title_length"),
    ] {
        let weights = rank::encode(&[1.0, 1.0, 1.0, 1.0], &[10.0]);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.{column}, homedesk_rank({fts}, ?1, r.{column}), homedesk_rank({fts}, ?1)
                 FROM {fts} AS f JOIN search_kb_rows AS r ON r.rowid = f.rowid
                 WHERE {fts} MATCH 'refund OR 退款 OR 发货 OR 地址'"
            ))
            .unwrap();
        let rows: Vec<(i64, f64, f64)> = stmt
            .query_map([&weights], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(rows.len() >= 3, "{fts}: {rows:?}");
        for (length, given, looked_up) in rows {
            assert!(length > 0, "{fts}");
            assert_eq!(given, looked_up, "{fts}: length {length}");
        }
    }
}

#[test]
fn stale_index_is_rebuilt() {
    let conn = sample();
    assert!(!rebuild_if_stale(&conn).unwrap());
    conn.execute("UPDATE search_meta SET value = '0'", [])
        .unwrap();
    assert!(rebuild_if_stale(&conn).unwrap());
    assert_eq!(
        ids(&conn, "退款").first().map(String::as_str),
        Some("refund")
    );
}

#[test]
fn unregistered_connection_fails_cleanly() {
    let file = tempfile::NamedTempFile::new().unwrap();
    {
        let conn = Connection::open(file.path()).unwrap();
        register(&conn).unwrap();
        conn.execute_batch(TEXT_SCHEMA).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        put_article(&conn, &article("a", "退款", "")).unwrap();
    }
    let conn = Connection::open(file.path()).unwrap();
    assert!(search_articles(&conn, "退款", &opts(5)).is_err());
    register(&conn).unwrap();
    assert_eq!(ids(&conn, "退款"), vec!["a"]);
}

#[test]
fn a_search_superseded_before_it_starts_does_not_run() {
    let conn = sample();
    let ran = std::cell::Cell::new(false);
    let out = unless_superseded(
        &conn,
        || true,
        |c| {
            ran.set(true);
            search_articles(c, "退款", &opts(5))
        },
    )
    .unwrap();
    assert!(out.is_none());
    assert!(!ran.get());
}

#[test]
fn a_search_superseded_while_it_runs_is_interrupted_and_the_next_one_answers() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let conn = db();
    for i in 0..400 {
        put_article(
            &conn,
            &article(&format!("a{i}"), "常见问题", "退款退货的常见问题。"),
        )
        .unwrap();
    }
    // The first check (before the search starts) passes; the next, made by
    // SQLite while the query runs, finds that a newer search was asked for.
    let checks = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&checks);
    let out = unless_superseded(
        &conn,
        move || counted.fetch_add(1, Ordering::SeqCst) >= 1,
        |c| search_articles(c, "常见问题 退款", &opts(20)),
    )
    .unwrap();
    assert!(out.is_none());
    assert!(checks.load(Ordering::SeqCst) >= 2);
    // The connection is left without the interrupting check.
    let out = unless_superseded(&conn, || false, |c| search_articles(c, "退款", &opts(20)))
        .unwrap()
        .unwrap();
    assert_eq!(out.len(), 20);
    assert_eq!(search_articles(&conn, "退款", &opts(20)).unwrap().len(), 20);
}

/// Every table of the article index, row by row (FTS5's segments too), to
/// compare two indexes.
fn index_dump(conn: &Connection) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND (name LIKE 'search_kb%') ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut dump = Vec::new();
    for table in tables {
        if conn
            .prepare(&format!("SELECT * FROM {table} LIMIT 0"))
            .is_err()
        {
            continue;
        }
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                let mut line = table.clone();
                for i in 0..columns {
                    line.push_str(&format!(" | {:?}", row.get_ref(i)?));
                }
                Ok(line)
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        dump.extend(rows);
    }
    dump
}

/// Indexing a batch with the helper thread (`prepare.rs`) writes exactly
/// the index that indexing one article after another writes, also when the
/// writer skips articles of the batch, writes one the batch does not hold,
/// writes one twice, or writes one whose text differs from the batch's.
#[test]
fn an_index_prepared_on_another_thread_is_the_same_index() {
    let mut batch = Vec::new();
    for i in 0..40 {
        let mut a = article(
            &format!("a{i}"),
            &format!("退款问题 {i} 号 Refund question"),
            &format!(
                "## 第{i}步\n\n客户申请**退款**后，核对订单号 {i}，在后台提交。Ship within {i} days."
            ),
        );
        a.tags = vec!["售后".into(), format!("tag{i}")];
        batch.push(a);
    }
    // What the writer writes: not quite the batch.
    let mut written: Vec<KbArticle> = Vec::new();
    for (i, a) in batch.iter().enumerate() {
        match i {
            3 | 17 => continue, // skipped
            5 => {
                let mut changed = a.clone();
                changed.body.push_str(" 另有说明。");
                written.push(changed); // other text than prepared
            }
            9 => {
                written.push(a.clone());
                written.push(a.clone()); // twice
            }
            12 => {
                written.push(article(
                    "outside",
                    "发票怎么开",
                    "电子发票在订单详情里下载。",
                ));
                written.push(a.clone());
            }
            _ => written.push(a.clone()),
        }
    }
    let plain = db();
    for a in &written {
        put_article(&plain, a).unwrap();
    }
    let prepared = db();
    let played_before = prepare::played();
    with_prepared_articles(batch.iter().collect(), || {
        written.iter().try_for_each(|a| put_article(&prepared, a))
    })
    .unwrap();
    // Every article of the batch written as prepared (all but the two
    // skipped and a5) has its 7 texts played from tapes.
    assert_eq!(prepare::played() - played_before, 37 * 7);
    let (plain_dump, prepared_dump) = (index_dump(&plain), index_dump(&prepared));
    assert!(plain_dump.len() > 40, "{plain_dump:?}");
    assert_eq!(plain_dump, prepared_dump);
    for query in ["退款", "tuikuan", "发票", "refund", "ship", "tag7"] {
        assert_eq!(ids(&plain, query), ids(&prepared, query), "{query}");
    }
}

/// The helper thread stops when the writer fails part-way, and the error
/// comes back as it is.
#[test]
fn a_batch_whose_writer_fails_stops_the_helper_and_gives_the_error() {
    let batch: Vec<KbArticle> = (0..200)
        .map(|i| article(&format!("b{i}"), "退款流程", "客户申请退款后核对订单号。"))
        .collect();
    let conn = db();
    let result: rusqlite::Result<()> = with_prepared_articles(batch.iter().collect(), || {
        put_article(&conn, &batch[0])?;
        Err(rusqlite::Error::InvalidQuery)
    });
    assert!(matches!(result, Err(rusqlite::Error::InvalidQuery)));
    assert_eq!(ids(&conn, "退款"), vec!["b0"]);
}
