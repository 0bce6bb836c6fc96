//! One page of the change log for one agent: what `GET /v1/changes`
//! answers, and also what rides on a `changes` event of a stream opened with
//! `?changes=inline` and on the answer to `POST /v1/actions?cursor=…`
//! (protocol.md §6–7, docs/decisions/0038-changes-where-they-are-due.md).
//! All three read the same page, so a workstation applies it the same way
//! whichever way it came.
//!
//! A cursor is `INSTANCE.SEQ`, or `INSTANCE.SEQ.FIRST_UNTIL` during a first
//! sync; the agent's sync scope (`scope`) decides which entries an agent's
//! page keeps.

use homedesk_protocol::scope::SyncScope;
use homedesk_protocol::{ChangesPage, Deferred, EntityKind, Record};

use crate::now_ms;
use crate::scope::{InDatabase, ScopeFilter};
use crate::storage::{KindFilter, Tx, Viewer};
use crate::visibility::viewers_of;

/// Most log entries one page reads for an agent whose scope leaves most of
/// them out (a first sync of a busy queue): enough to fill pages quickly,
/// few enough that one request stays short.
const MAX_SCANNED_PER_PAGE: usize = 20_000;

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// No cursor: a first sync, judging everything up to the log's end now
    /// as the PC's first look.
    First,
    /// After `seq`; `first_until` is the end of a first sync still under
    /// way, or 0.
    After { seq: u64, first_until: u64 },
}

/// Reads `cursor` against this database: `Ok(Err(why))` when it is not one
/// of its cursors (the workstation must sync again from the start).
pub fn parse_cursor(
    tx: &mut dyn Tx,
    cursor: &str,
) -> anyhow::Result<Result<Position, &'static str>> {
    let instance = tx.instance_id()?;
    let latest = tx.latest_seq()?;
    Ok(parse_cursor_of(cursor, &instance, latest))
}

fn parse_cursor_of(cursor: &str, instance: &str, latest: u64) -> Result<Position, &'static str> {
    let Some((of, position)) = cursor.split_once('.') else {
        return Err("the cursor is malformed");
    };
    if of != instance {
        return Err("the cursor belongs to another platform database (was it reset?)");
    }
    let (seq, first_until) = match position.split_once('.') {
        None => (position, None),
        Some((seq, until)) => (seq, Some(until)),
    };
    let beyond = "the cursor is beyond the change log";
    let seq = match seq.parse::<u64>() {
        Ok(seq) if seq <= latest => seq,
        _ => return Err(beyond),
    };
    let first_until = match first_until.map(str::parse::<u64>) {
        None => 0,
        Some(Ok(until)) if until <= latest => until,
        Some(_) => return Err(beyond),
    };
    Ok(Position::After { seq, first_until })
}

/// The page `agent` is due from `position`: at most `limit` entries of
/// `kinds` that the agent may see and its scope keeps. `None` when the
/// agent no longer exists.
pub fn page_for(
    tx: &mut dyn Tx,
    agent: &str,
    resolved_days: u32,
    position: Position,
    kinds: &KindFilter,
    limit: usize,
) -> anyhow::Result<Option<ChangesPage>> {
    let instance = tx.instance_id()?;
    let latest = tx.latest_seq()?;
    let (after, first_until) = match position {
        Position::First => (0, latest),
        Position::After { seq, first_until } => (seq, first_until),
    };
    let Some(Record::AgentProfile(profile)) = tx.get(EntityKind::AgentProfile, agent)? else {
        return Ok(None);
    };
    let viewers = viewers_of(&profile);
    let server_time = now_ms();
    let scope = SyncScope::of(&profile, server_time, resolved_days);
    let (changes, has_more, last_read) = match scope {
        None => {
            let mut changes = tx.changes_after(after, &viewers, kinds, limit + 1)?;
            let has_more = changes.len() > limit;
            changes.truncate(limit);
            let last = changes.last().map_or(after, |c| c.seq);
            (changes, has_more, last)
        }
        Some(scope) => {
            let mut filter = ScopeFilter::new(scope, first_until);
            scoped_page(tx, &mut filter, after, &viewers, kinds, limit)?
        }
    };
    let next = if has_more { last_read } else { latest };
    let next_cursor = if has_more && next < first_until {
        format!("{instance}.{next}.{first_until}")
    } else {
        format!("{instance}.{next}")
    };
    let deferred = if kinds.except.is_empty() {
        None
    } else {
        let (changes, bytes) = tx.count_changes(after, next, &viewers, &kinds.left_out())?;
        Some(Deferred { changes, bytes })
    };
    Ok(Some(ChangesPage {
        changes,
        next_cursor,
        has_more,
        server_time,
        deferred,
        resolved_days: scope.map(|_| resolved_days),
    }))
}

/// One page for an agent: entries after `after` that the scope admits,
/// reading on past the ones it leaves out until `limit` are kept or
/// [`MAX_SCANNED_PER_PAGE`] were read. Returns the page, whether more may
/// follow, and the last entry read (the next cursor when more follow).
fn scoped_page(
    tx: &mut dyn Tx,
    filter: &mut ScopeFilter<'_>,
    after: u64,
    viewers: &[Viewer],
    kinds: &KindFilter,
    limit: usize,
) -> anyhow::Result<(Vec<homedesk_protocol::Change>, bool, u64)> {
    let mut kept = Vec::new();
    let mut position = after;
    let mut scanned = 0;
    loop {
        let batch = tx.changes_after(position, viewers, kinds, limit + 1)?;
        let more_in_log = batch.len() > limit;
        let read = batch.len().min(limit);
        for (i, change) in batch.into_iter().take(limit).enumerate() {
            position = change.seq;
            scanned += 1;
            if let Some(change) = filter.admit(&mut InDatabase(&mut *tx), change)? {
                kept.push(change);
                if kept.len() == limit {
                    return Ok((kept, more_in_log || i + 1 < read, position));
                }
            }
        }
        if !more_in_log {
            return Ok((kept, false, position));
        }
        if scanned >= MAX_SCANNED_PER_PAGE {
            return Ok((kept, true, position));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_of_another_database_or_beyond_the_log_are_refused() {
        assert_eq!(
            parse_cursor_of("abc.5", "abc", 9),
            Ok(Position::After {
                seq: 5,
                first_until: 0
            })
        );
        assert_eq!(
            parse_cursor_of("abc.5.9", "abc", 9),
            Ok(Position::After {
                seq: 5,
                first_until: 9
            })
        );
        assert!(parse_cursor_of("xyz.5", "abc", 9).is_err());
        assert!(parse_cursor_of("abc.10", "abc", 9).is_err());
        assert!(parse_cursor_of("abc.5.10", "abc", 9).is_err());
        assert!(parse_cursor_of("abc", "abc", 9).is_err());
        assert!(parse_cursor_of("abc.-1", "abc", 9).is_err());
    }
}
