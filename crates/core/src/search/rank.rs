//! Ranking of search results: bm25 with column weights, computed by our own
//! FTS5 function `homedesk_rank` (glue in `fts5.rs`) from document
//! frequencies the search code estimates cheaply and passes in.
//!
//! FTS5's built-in `bm25()` counts, for every query, how many rows contain
//! each phrase by walking the phrase's whole posting list: about 8 ms per
//! common character over 100 000 articles, per pass, before ranking a single
//! row. Here that count is exact up to [`SAMPLE`] rows and extrapolated from
//! the density of the first [`SAMPLE`] matches beyond, which is plenty for
//! the logarithm it goes into.

/// bm25 parameters (the usual values, as FTS5's own bm25).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Matches counted exactly per phrase before extrapolating.
pub(crate) const SAMPLE: i64 = 256;

/// Document frequency of a phrase: exact when it has fewer than [`SAMPLE`]
/// matches; otherwise extrapolated from the rowids of the first [`SAMPLE`]
/// (`first`..=`last`) to the table's rowid span (`span`, its largest rowid
/// minus its smallest plus one). `score` caps it at the row count.
pub(crate) fn doc_frequency(count: i64, first: i64, last: i64, span: i64) -> f64 {
    if count < SAMPLE {
        return count as f64;
    }
    let sampled_span = (last - first + 1).max(1) as f64;
    count as f64 * span.max(count) as f64 / sampled_span
}

/// Marks a phrase that filters but is not ranked (the locale).
pub(crate) const NOT_RANKED: f64 = -1.0;

/// Inverse document frequency, always positive (so that very common terms
/// still count a little, unlike FTS5's bm25, which drops terms in more than
/// half the rows).
pub(crate) fn idf(rows: f64, docs: f64) -> f64 {
    (1.0 + (rows - docs + 0.5) / (docs + 0.5)).ln().max(0.0)
}

/// What `homedesk_rank` receives: one weight per column, then the document
/// frequency of each phrase of the MATCH expression, in order ([`NOT_RANKED`]
/// for a filter), as little-endian `f64`s in one blob.
pub(crate) fn encode(column_weights: &[f64], doc_frequencies: &[f64]) -> Vec<u8> {
    let mut blob = Vec::with_capacity((column_weights.len() + doc_frequencies.len()) * 8);
    for value in column_weights.iter().chain(doc_frequencies) {
        blob.extend_from_slice(&value.to_le_bytes());
    }
    blob
}

/// The `f64`s of a blob made by [`encode`] (trailing bytes ignored).
pub(crate) fn decode(blob: &[u8]) -> Vec<f64> {
    blob.chunks_exact(8)
        .map(|chunk| {
            let mut bytes = [0_u8; 8];
            bytes.copy_from_slice(chunk);
            f64::from_le_bytes(bytes)
        })
        .collect()
}

/// The statistics of one matching row.
pub(crate) struct Row<'a> {
    /// Rows in the table, and tokens in all of them (for the average length).
    pub(crate) table_rows: i64,
    pub(crate) table_tokens: i64,
    /// Tokens in this row (all columns).
    pub(crate) tokens: i64,
    /// Each match in this row: (phrase number, column number).
    pub(crate) hits: &'a [(usize, usize)],
}

/// bm25 of a row: for each phrase, its idf times its saturated frequency,
/// where each match counts the weight of its column; higher is better.
/// `params` is [`decode`]d: `columns` weights, then the document frequencies.
pub(crate) fn score(row: &Row<'_>, columns: usize, params: &[f64]) -> f64 {
    let (weights, doc_frequencies) = params.split_at(columns.min(params.len()));
    let rows = row.table_rows.max(1) as f64;
    let mut frequency = vec![0.0_f64; doc_frequencies.len()];
    for &(phrase, column) in row.hits {
        if let (Some(slot), Some(weight)) = (frequency.get_mut(phrase), weights.get(column)) {
            *slot += weight;
        }
    }
    let average = row.table_tokens.max(1) as f64 / row.table_rows.max(1) as f64;
    let norm = K1 * (1.0 - B + B * row.tokens as f64 / average);
    frequency
        .iter()
        .zip(doc_frequencies)
        .filter(|(f, docs)| **f > 0.0 && **docs >= 0.0)
        .map(|(f, docs)| idf(rows, docs.min(rows)) * f * (K1 + 1.0) / (f + norm))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trip() {
        let blob = encode(&[1.0, 0.25], &[3.5, 0.0]);
        assert_eq!(decode(&blob), vec![1.0, 0.25, 3.5, 0.0]);
        assert!(decode(&[1, 2, 3]).is_empty());
    }

    #[test]
    fn doc_frequency_is_exact_then_extrapolated() {
        assert_eq!(doc_frequency(10, 5, 900, 1000), 10.0);
        // The first SAMPLE matches span a quarter of the table.
        let estimate = doc_frequency(SAMPLE, 1, 250, 1000);
        assert!((estimate - SAMPLE as f64 * 4.0).abs() < 1.0, "{estimate}");
    }

    #[test]
    fn rarer_terms_and_title_matches_score_higher() {
        assert!(idf(1000.0, 10.0) > idf(1000.0, 500.0));
        assert!(idf(1000.0, 1000.0) > 0.0);
        let params = [1.0, 0.25, 10.0];
        let title = Row {
            table_rows: 1000,
            table_tokens: 20_000,
            tokens: 20,
            hits: &[(0, 0)],
        };
        let body = Row {
            table_rows: 1000,
            table_tokens: 20_000,
            tokens: 20,
            hits: &[(0, 1)],
        };
        assert!(score(&title, 2, &params) > score(&body, 2, &params));
        let none = Row {
            table_rows: 1000,
            table_tokens: 20_000,
            tokens: 20,
            hits: &[],
        };
        assert_eq!(score(&none, 2, &params), 0.0);
        let filter = [1.0, 0.25, NOT_RANKED];
        assert_eq!(score(&title, 2, &filter), 0.0);
        // Out-of-range phrase or column numbers are ignored, not a panic.
        let odd = Row {
            table_rows: 0,
            table_tokens: 0,
            tokens: 0,
            hits: &[(7, 9)],
        };
        assert_eq!(score(&odd, 2, &params), 0.0);
    }
}
