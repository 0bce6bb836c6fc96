//! Recall of knowledge-base search on real help-desk questions.
//!
//! `cargo bench -p homedesk-core --bench recall` indexes every distinct `doc`
//! of the AFQMC tuning file (real payment help-desk questions, see
//! `/work/shared/data/README.md`) as an article title, searches each `query`
//! whose pair is `same: true`, and prints how often the pair's doc is among
//! the first 1, 5 and 10 results: for Homedesk search and, in the same run,
//! for two plain FTS5 baselines, each with the query's tokens OR-ed under
//! bm25: FTS5's own `trigram` tokenizer, and overlapping CJK bigrams (the
//! stronger baseline: most Chinese words are two characters, which trigrams
//! cannot match) written out space-separated for the `unicode61` tokenizer.
//!
//! The file is `$HOMEDESK_AFQMC`, or `../shared/data/afqmc-tune.jsonl` next
//! to the workspace; without it the bench prints a skip line and succeeds.
//! Run without `--bench` (`cargo test --benches`), only the first 100
//! queries are searched, to check that the bench works.
//!
//! Each search is timed over `RUNS` runs (rotating which goes first) and
//! the median time per query is printed; recall is the same in every run
//! (checked). The last rows divide Homedesk's figures by each baseline's
//! from the same run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use homedesk_core::search::{self, SearchOptions};
use homedesk_protocol::KbArticle;
use rusqlite::Connection;
use serde::Deserialize;

#[derive(Deserialize)]
struct Pair {
    query: String,
    doc: String,
    same: bool,
}

const KS: [usize; 3] = [1, 5, 10];

/// Timed runs of each search with `--bench` (one without).
const RUNS: usize = 5;

fn data_file() -> PathBuf {
    match std::env::var_os("HOMEDESK_AFQMC") {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/afqmc-tune.jsonl")
        }
    }
}

/// Recall@k for each k, and the mean time per query of one run.
#[derive(Clone, Copy)]
struct Outcome {
    found_at: [usize; 3],
    queries: usize,
    millis_per_query: f64,
}

impl Outcome {
    fn recall(&self, i: usize) -> f64 {
        self.found_at[i] as f64 / self.queries.max(1) as f64
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.2} ms |",
            self.recall(0),
            self.recall(1),
            self.recall(2),
            self.millis_per_query
        )
    }
}

/// One outcome from several runs: recall must not differ between runs (the
/// search is deterministic); the time is the median of the runs' means.
fn median_outcome(runs: &[Outcome]) -> Outcome {
    let first = runs[0];
    for run in runs {
        assert_eq!(run.found_at, first.found_at, "recall differs between runs");
    }
    let mut times: Vec<f64> = runs.iter().map(|r| r.millis_per_query).collect();
    times.sort_by(f64::total_cmp);
    Outcome {
        millis_per_query: times[times.len() / 2],
        ..first
    }
}

fn measure(queries: &[(String, String)], mut search: impl FnMut(&str) -> Vec<String>) -> Outcome {
    let mut found_at = [0; 3];
    let started = Instant::now();
    for (query, doc_id) in queries {
        let ids = search(query);
        if let Some(position) = ids.iter().position(|id| id == doc_id) {
            for (i, k) in KS.iter().enumerate() {
                if position < *k {
                    found_at[i] += 1;
                }
            }
        }
    }
    Outcome {
        found_at,
        queries: queries.len(),
        millis_per_query: started.elapsed().as_secs_f64() * 1000.0 / queries.len().max(1) as f64,
    }
}

/// The baseline: FTS5's own trigram tokenizer, every trigram of the query
/// OR-ed, ranked by bm25.
fn trigram_expression(query: &str) -> Option<String> {
    let chars: Vec<char> = query.chars().collect();
    let mut parts: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let trigram: String = window.iter().collect();
        let quoted = format!("\"{}\"", trigram.replace('"', "\"\""));
        if !parts.contains(&quoted) {
            parts.push(quoted);
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" OR "))
    }
}

/// Whether `c` is a CJK ideograph (the unified blocks, extensions A–F and
/// the compatibility blocks): these are written without spaces, so the
/// bigram baseline splits their runs into overlapping pairs.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// The bigram baseline's tokens of `text`: every overlapping pair of
/// characters in each run of CJK ideographs (a run of one character is kept
/// as itself, or it could never be found), and every run of other letters
/// and digits as one lower-cased word. Punctuation and spaces separate.
fn bigram_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, tokens: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => tokens.push(run[0].to_string()),
            _ => tokens.extend(run.windows(2).map(|pair| pair.iter().collect::<String>())),
        }
        run.clear();
    };
    let flush_word = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut tokens);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut tokens);
            word.extend(c.to_lowercase());
        } else {
            flush_run(&mut run, &mut tokens);
            flush_word(&mut word, &mut tokens);
        }
    }
    flush_run(&mut run, &mut tokens);
    flush_word(&mut word, &mut tokens);
    tokens
}

/// The stronger baseline's query: the query's distinct bigram tokens
/// ([`bigram_tokens`]), each quoted, OR-ed, ranked by bm25.
fn bigram_expression(query: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for token in bigram_tokens(query) {
        let quoted = format!("\"{}\"", token.replace('"', "\"\""));
        if !parts.contains(&quoted) {
            parts.push(quoted);
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" OR "))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let full = std::env::args().any(|arg| arg == "--bench");
    let path = data_file();
    let path = path.canonicalize().unwrap_or(path);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!(
            "recall: skipped, {} not found (set HOMEDESK_AFQMC to the AFQMC tuning file)",
            path.display()
        );
        return Ok(());
    };
    let mut pairs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        pairs.push(serde_json::from_str::<Pair>(line)?);
    }
    // Distinct docs, ids in a stable order.
    let mut docs: BTreeMap<String, String> = BTreeMap::new();
    for pair in &pairs {
        let next = format!("d{}", docs.len());
        docs.entry(pair.doc.clone()).or_insert(next);
    }
    let mut queries: Vec<(String, String)> = pairs
        .iter()
        .filter(|p| p.same)
        .filter_map(|p| docs.get(&p.doc).map(|id| (p.query.clone(), id.clone())))
        .collect();
    if !full {
        queries.truncate(100);
    }

    let mut conn = Connection::open_in_memory()?;
    search::register(&conn)?;
    conn.execute_batch(search::TEXT_SCHEMA)?;
    conn.execute_batch(search::SCHEMA)?;
    conn.execute_batch(
        "CREATE VIRTUAL TABLE trigram USING fts5(doc_id UNINDEXED, title, tokenize = 'trigram');
         CREATE VIRTUAL TABLE bigram USING fts5(doc_id UNINDEXED, title, tokenize = 'unicode61');",
    )?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    for (title, id) in &docs {
        let article = KbArticle {
            id: id.clone(),
            locale: "zh-CN".to_owned(),
            title: title.clone(),
            body: String::new(),
            tags: Vec::new(),
            category: "afqmc".to_owned(),
            updated_at: 0,
        };
        search::put_article(&tx, &article)?;
        tx.execute(
            "INSERT INTO trigram (doc_id, title) VALUES (?1, ?2)",
            [id, title],
        )?;
        tx.execute(
            "INSERT INTO bigram (doc_id, title) VALUES (?1, ?2)",
            [id, &bigram_tokens(title).join(" ")],
        )?;
    }
    tx.commit()?;
    let indexed = started.elapsed();

    let opts = SearchOptions {
        limit: 10,
        locale: None,
    };
    let mut stmt =
        conn.prepare("SELECT doc_id FROM trigram WHERE trigram MATCH ?1 ORDER BY rank LIMIT 10")?;
    let mut bigram_stmt =
        conn.prepare("SELECT doc_id FROM bigram WHERE bigram MATCH ?1 ORDER BY rank LIMIT 10")?;
    let mut homedesk_search = |query: &str| -> Vec<String> {
        match search::search_articles(&conn, query, &opts) {
            Ok(hits) => hits.into_iter().map(|hit| hit.id).collect(),
            Err(error) => panic!("search failed for {query:?}: {error}"),
        }
    };
    let mut trigram_search = |query: &str| -> Vec<String> {
        let Some(expr) = trigram_expression(query) else {
            return Vec::new();
        };
        match stmt.query_map([expr], |row| row.get::<_, String>(0)) {
            Ok(rows) => rows.filter_map(Result::ok).collect(),
            Err(error) => panic!("trigram search failed for {query:?}: {error}"),
        }
    };
    let mut bigram_search = |query: &str| -> Vec<String> {
        let Some(expr) = bigram_expression(query) else {
            return Vec::new();
        };
        match bigram_stmt.query_map([expr], |row| row.get::<_, String>(0)) {
            Ok(rows) => rows.filter_map(Result::ok).collect(),
            Err(error) => panic!("bigram search failed for {query:?}: {error}"),
        }
    };
    let runs = if full { RUNS } else { 1 };
    let mut homedesk_runs = Vec::new();
    let mut trigram_runs = Vec::new();
    let mut bigram_runs = Vec::new();
    for run in 0..runs {
        // Rotate which search goes first, so none always runs on a colder cache.
        for turn in 0..3 {
            match (run + turn) % 3 {
                0 => homedesk_runs.push(measure(&queries, &mut homedesk_search)),
                1 => trigram_runs.push(measure(&queries, &mut trigram_search)),
                _ => bigram_runs.push(measure(&queries, &mut bigram_search)),
            }
        }
    }
    let homedesk = median_outcome(&homedesk_runs);
    let trigram = median_outcome(&trigram_runs);
    let bigram = median_outcome(&bigram_runs);

    println!(
        "recall on {} ({} docs, {} same-meaning queries{}; the three indexes built in {:.2} s; \
         time per query: median of {runs} run(s))",
        path.display(),
        docs.len(),
        queries.len(),
        if full {
            ""
        } else {
            ", test mode: first 100 only"
        },
        indexed.as_secs_f64()
    );
    println!("| search | recall@1 | recall@5 | recall@10 | time per query |");
    println!("|---|---|---|---|---|");
    println!("{}", homedesk.row("Homedesk (`homedesk` tokenizer)"));
    println!(
        "{}",
        trigram.row("FTS5 `trigram`, trigrams OR-ed (baseline)")
    );
    println!(
        "{}",
        bigram
            .row("FTS5 `unicode61` over CJK bigrams and words, bigrams OR-ed (stronger baseline)")
    );
    for (name, baseline) in [("trigram", &trigram), ("bigram", &bigram)] {
        let ratio = |i: usize| homedesk.recall(i) / baseline.recall(i);
        println!(
            "| ratio Homedesk / {name} baseline | {:.2} | {:.2} | {:.2} | {:.1} |",
            ratio(0),
            ratio(1),
            ratio(2),
            homedesk.millis_per_query / baseline.millis_per_query
        );
    }
    Ok(())
}
