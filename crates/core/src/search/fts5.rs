//! FFI glue: registers the `homedesk` tokenizer and the `homedesk_rank`
//! ranking function with SQLite's FTS5 on one connection. All the analysis
//! and the arithmetic are safe Rust in `analyze.rs` and `rank.rs`; this
//! module only converts between C pointers and Rust values, and makes sure no
//! panic unwinds into SQLite.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use rusqlite::{Connection, ffi};

use super::analyze::{TokenSink, column_tokens, query_tokens};
use super::prepare::play;
use super::rank::{self, Row};

/// The tokenizer's name in `CREATE VIRTUAL TABLE … USING fts5(…, tokenize = 'homedesk')`.
pub(crate) const TOKENIZER_NAME: &CStr = c"homedesk";

/// The ranking function's name: `homedesk_rank(table, params)`, see `rank.rs`.
pub(crate) const RANK_FUNCTION: &CStr = c"homedesk_rank";

/// FTS5 calls back for every token; a non-OK code stops tokenizing.
type TokenCallback =
    unsafe extern "C" fn(*mut c_void, c_int, *const c_char, c_int, c_int, c_int) -> c_int;

/// Registers the tokenizer and the ranking function on `conn` (once per
/// connection, before any FTS5 table using them is created or opened).
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let api = fts5_api(conn)?;
    let mut tokenizer = ffi::fts5_tokenizer {
        xCreate: Some(create),
        xDelete: Some(delete),
        xTokenize: Some(tokenize),
    };
    // SAFETY: `api` is the non-null fts5_api of this open connection (checked
    // by `fts5_api`, version >= 2 so xCreateTokenizer exists); FTS5 copies
    // the tokenizer struct, so a stack value is fine; the name is a static
    // NUL-terminated string; no user data, so no destructor.
    let rc = unsafe {
        match (*api).xCreateTokenizer {
            Some(create_tokenizer) => create_tokenizer(
                api,
                TOKENIZER_NAME.as_ptr(),
                ptr::null_mut(),
                &mut tokenizer,
                None,
            ),
            None => ffi::SQLITE_MISUSE,
        }
    };
    check(rc, "xCreateTokenizer")?;
    // SAFETY: as above; the function has no user data and no destructor.
    let rc = unsafe {
        match (*api).xCreateFunction {
            Some(create_function) => create_function(
                api,
                RANK_FUNCTION.as_ptr(),
                ptr::null_mut(),
                Some(rank_function),
                None,
            ),
            None => ffi::SQLITE_MISUSE,
        }
    };
    check(rc, "xCreateFunction")
}

fn check(rc: c_int, what: &str) -> rusqlite::Result<()> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(rc),
            Some(format!(
                "registering the FTS5 tokenizer and rank function: {what} failed"
            )),
        ))
    }
}

/// Gets the FTS5 API pointer with `SELECT fts5(?1)`, binding a pointer to
/// our pointer under the type name "fts5_api_ptr" (the documented way).
fn fts5_api(conn: &Connection) -> rusqlite::Result<*mut ffi::fts5_api> {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: the handle is the open connection `conn` borrows, used on this
    // thread only while `conn` is borrowed; the statement is finalized on
    // every path below; `api` outlives the statement's single step, which is
    // when FTS5 writes through the bound pointer.
    let rc = unsafe {
        let db = conn.handle();
        let mut rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc == ffi::SQLITE_OK {
            rc = ffi::sqlite3_bind_pointer(
                stmt,
                1,
                (&raw mut api).cast::<c_void>(),
                c"fts5_api_ptr".as_ptr(),
                None,
            );
        }
        if rc == ffi::SQLITE_OK {
            rc = ffi::sqlite3_step(stmt);
            if rc == ffi::SQLITE_ROW || rc == ffi::SQLITE_DONE {
                rc = ffi::SQLITE_OK;
            }
        }
        let finalized = ffi::sqlite3_finalize(stmt);
        if rc == ffi::SQLITE_OK { finalized } else { rc }
    };
    check(rc, "SELECT fts5(?1)")?;
    // SAFETY: when non-null, `api` points to FTS5's global API struct, which
    // lives as long as the connection.
    if api.is_null() || unsafe { (*api).iVersion } < 2 {
        return Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_ERROR),
            Some("this SQLite has no FTS5 (or a version older than 2)".to_owned()),
        ));
    }
    Ok(api)
}

/// The tokenizer has no configuration; FTS5 still needs a non-null instance
/// pointer, which `delete` frees.
struct Instance;

unsafe extern "C" fn create(
    _user_data: *mut c_void,
    _args: *mut *const c_char,
    _n_args: c_int,
    out: *mut *mut ffi::Fts5Tokenizer,
) -> c_int {
    let instance = Box::into_raw(Box::new(Instance)).cast::<ffi::Fts5Tokenizer>();
    // SAFETY: FTS5 passes a valid out-pointer.
    unsafe { *out = instance };
    ffi::SQLITE_OK
}

unsafe extern "C" fn delete(instance: *mut ffi::Fts5Tokenizer) {
    if !instance.is_null() {
        // SAFETY: `instance` came from `Box::into_raw` in `create` and FTS5
        // deletes each instance once.
        drop(unsafe { Box::from_raw(instance.cast::<Instance>()) });
    }
}

/// Forwards tokens to FTS5's callback; remembers the first error code.
struct Forward {
    ctx: *mut c_void,
    callback: TokenCallback,
    /// Positions emitted (tokens that are not colocated).
    positions: i64,
}

thread_local! {
    /// Positions the tokenizer emitted for documents on this thread, for
    /// [`positions_of`]. SQLite calls the tokenizer on the thread running
    /// the statement, during the statement.
    static POSITIONS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Runs `insert` (a statement that writes one row to an FTS5 table of ours)
/// and returns its result with the number of positions the tokenizer
/// emitted for it: the row's length as FTS5 counts it, which the search
/// keeps beside the row so that ranking need not look it up per match.
pub(crate) fn positions_of<T>(insert: impl FnOnce() -> T) -> (T, i64) {
    POSITIONS.with(|count| count.set(0));
    let result = insert();
    (result, POSITIONS.with(std::cell::Cell::get))
}

impl TokenSink for Forward {
    type Error = c_int;

    fn token(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        colocated: bool,
    ) -> Result<(), c_int> {
        let (Ok(len), Ok(start), Ok(end)) = (
            c_int::try_from(text.len()),
            c_int::try_from(start),
            c_int::try_from(end),
        ) else {
            return Err(ffi::SQLITE_TOOBIG);
        };
        let flags = if colocated {
            ffi::FTS5_TOKEN_COLOCATED
        } else {
            0
        };
        // SAFETY: `callback` and `ctx` are the ones FTS5 passed to this
        // xTokenize call, which is still running; the token bytes are valid
        // for the duration of the call (FTS5 copies them).
        if !colocated {
            self.positions += 1;
        }
        let rc = unsafe { (self.callback)(self.ctx, flags, text.as_ptr().cast(), len, start, end) };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rc)
        }
    }
}

unsafe extern "C" fn tokenize(
    _instance: *mut ffi::Fts5Tokenizer,
    ctx: *mut c_void,
    flags: c_int,
    text: *const c_char,
    n_text: c_int,
    callback: Option<TokenCallback>,
) -> c_int {
    let Some(callback) = callback else {
        return ffi::SQLITE_MISUSE;
    };
    let bytes: &[u8] = match usize::try_from(n_text) {
        Ok(len) if len > 0 && !text.is_null() => {
            // SAFETY: FTS5 passes `n_text` readable bytes at `text`, valid
            // until this call returns; the slice does not escape it.
            unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) }
        }
        _ => &[],
    };
    let mut sink = Forward {
        ctx,
        callback,
        positions: 0,
    };
    let query = flags & ffi::FTS5_TOKENIZE_QUERY != 0;
    // snippet() and highlight() only need the first token of each position.
    let colocated = flags & ffi::FTS5_TOKENIZE_AUX == 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        if query {
            query_tokens(bytes, &mut sink)
        } else if let Some(played) = colocated.then(|| play(bytes, &mut sink)).flatten() {
            // Analysed ahead on another thread (`prepare.rs`).
            played
        } else {
            column_tokens(bytes, colocated, &mut sink)
        }
    }));
    if !query && colocated {
        POSITIONS.with(|count| count.set(count.get() + sink.positions));
    }
    match result {
        Ok(Ok(())) => ffi::SQLITE_OK,
        Ok(Err(rc)) => rc,
        Err(_) => ffi::SQLITE_ERROR,
    }
}

/// `homedesk_rank(table, params)`: the row's score (higher is better), see
/// `rank::score`. Errors and panics become SQL errors.
unsafe extern "C" fn rank_function(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_values: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: FTS5 passes its API, the context of the current row and
        // `n_values` argument values, all valid during this call.
        unsafe { rank_row(api, fts, n_values, values) }
    }));
    // SAFETY: `ctx` is the function context of this call; the message is a
    // static NUL-terminated string (-1: read up to the NUL).
    unsafe {
        match result {
            Ok(Ok(score)) => ffi::sqlite3_result_double(ctx, score),
            Ok(Err(rc)) => ffi::sqlite3_result_error_code(ctx, rc),
            Err(_) => ffi::sqlite3_result_error(ctx, c"homedesk_rank panicked".as_ptr(), -1),
        }
    }
}

/// Gathers the current row's statistics through the FTS5 API and scores it.
///
/// # Safety
/// The arguments must be those FTS5 passed to an auxiliary function call
/// that is still running.
unsafe fn rank_row(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_values: c_int,
    values: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    // SAFETY: `api` is FTS5's API table, valid for the call (or null).
    let api = unsafe { api.as_ref() }.ok_or(ffi::SQLITE_MISUSE)?;
    let missing = ffi::SQLITE_MISUSE;
    let column_count = api.xColumnCount.ok_or(missing)?;
    let row_count = api.xRowCount.ok_or(missing)?;
    let total_size = api.xColumnTotalSize.ok_or(missing)?;
    let column_size = api.xColumnSize.ok_or(missing)?;
    let inst_count = api.xInstCount.ok_or(missing)?;
    let inst = api.xInst.ok_or(missing)?;

    let params = if n_values >= 1 && !values.is_null() {
        // SAFETY: `values` holds `n_values` >= 1 valid value pointers; the
        // blob stays valid until the value is changed, which nothing does
        // before `decode` copies it (sqlite3_value_bytes is called after
        // sqlite3_value_blob, as SQLite requires).
        unsafe {
            let value = *values;
            let data = ffi::sqlite3_value_blob(value);
            let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
            if data.is_null() || len == 0 {
                Vec::new()
            } else {
                rank::decode(std::slice::from_raw_parts(data.cast::<u8>(), len))
            }
        }
    } else {
        Vec::new()
    };

    // The row's length, when the query passes it (the article tables keep
    // it in their rows table); otherwise FTS5 looks it up.
    let known_length = if n_values >= 2 && !values.is_null() {
        // SAFETY: `values` holds `n_values` >= 2 valid value pointers.
        unsafe {
            let value = *values.add(1);
            (ffi::sqlite3_value_type(value) == ffi::SQLITE_INTEGER)
                .then(|| ffi::sqlite3_value_int64(value))
        }
    } else {
        None
    };

    let (mut table_rows, mut table_tokens, mut tokens, mut count) =
        (0_i64, 0_i64, c_int::default(), c_int::default());
    // SAFETY: `fts` is the context of the current row; every out-pointer
    // points to a local of the type FTS5 writes.
    let columns = unsafe {
        check_rc(row_count(fts, &mut table_rows))?;
        check_rc(total_size(fts, -1, &mut table_tokens))?;
        if known_length.is_none() {
            check_rc(column_size(fts, -1, &mut tokens))?;
        }
        check_rc(inst_count(fts, &mut count))?;
        column_count(fts)
    };
    let mut hits = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for index in 0..count {
        let (mut phrase, mut column, mut offset) =
            (c_int::default(), c_int::default(), c_int::default());
        // SAFETY: `index` < the instance count FTS5 just returned; the
        // out-pointers point to locals.
        check_rc(unsafe { inst(fts, index, &mut phrase, &mut column, &mut offset) })?;
        if let (Ok(phrase), Ok(column)) = (usize::try_from(phrase), usize::try_from(column)) {
            hits.push((phrase, column));
        }
    }
    let row = Row {
        table_rows,
        table_tokens,
        tokens: known_length.unwrap_or(i64::from(tokens)),
        hits: &hits,
    };
    Ok(rank::score(
        &row,
        usize::try_from(columns).unwrap_or(0),
        &params,
    ))
}

fn check_rc(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}
