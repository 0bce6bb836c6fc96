//! Reading the records the platform sends for the desk to look things up
//! in: customers, queues, colleagues (agent profiles), call scripts and
//! canned replies. Only [`super::records`] writes these tables (from the
//! change log); the desk reads them through the functions here, so no SQL
//! lives outside the store.

use homedesk_protocol::{AgentProfile, CannedReply, Customer, Queue, Script};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_json};

/// One customer, as the platform last sent them.
pub fn customer(conn: &Connection, id: &str) -> Result<Option<Customer>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT data FROM customers WHERE id = ?1",
            params![id],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|json| from_json("customers", &json)).transpose()
}

/// A customer's name (empty when unknown), without reading the whole record.
pub fn customer_name(conn: &Connection, id: &str) -> Result<String, StoreError> {
    Ok(conn
        .query_row(
            "SELECT json_extract(data, '$.name') FROM customers WHERE id = ?1",
            params![id],
            |row| row.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .unwrap_or_default())
}

/// Every queue, by id.
pub fn queues(conn: &Connection) -> Result<Vec<Queue>, StoreError> {
    all(conn, "SELECT data FROM queues ORDER BY id", "queues")
}

/// Every agent the platform told this desk about (colleagues and the agent
/// themself), by code.
pub fn agent_profiles(conn: &Connection) -> Result<Vec<AgentProfile>, StoreError> {
    all(
        conn,
        "SELECT data FROM agent_profiles ORDER BY id",
        "agent_profiles",
    )
}

/// One agent's profile as the platform last sent it.
pub fn agent_profile(conn: &Connection, code: &str) -> Result<Option<AgentProfile>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT data FROM agent_profiles WHERE id = ?1",
            params![code],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|json| from_json("agent_profiles", &json))
        .transpose()
}

/// Every guided call script, by id.
pub fn scripts(conn: &Connection) -> Result<Vec<Script>, StoreError> {
    all(conn, "SELECT data FROM scripts ORDER BY id", "scripts")
}

/// One canned reply with its typed placeholders and its photo, if any.
pub fn canned_reply(conn: &Connection, id: &str) -> Result<Option<CannedReply>, StoreError> {
    conn.query_row(
        "SELECT id, locale, title, shortcut, category, body, placeholders, attachment
         FROM canned_replies WHERE id = ?1",
        params![id],
        |row| {
            Ok((
                CannedReply {
                    id: row.get(0)?,
                    locale: row.get(1)?,
                    title: row.get(2)?,
                    shortcut: row.get(3)?,
                    category: row.get(4)?,
                    body: row.get(5)?,
                    placeholders: Vec::new(),
                    attachment: None,
                },
                row.get::<_, String>(6)?,
                row.get::<_, Option<String>>(7)?,
            ))
        },
    )
    .optional()?
    .map(|(mut reply, placeholders, attachment)| {
        reply.placeholders = from_json("canned_replies", &placeholders)?;
        reply.attachment = attachment
            .map(|json| from_json("canned_replies", &json))
            .transpose()?;
        Ok(reply)
    })
    .transpose()
}

fn all<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    table: &str,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|json| from_json(table, &json?)).collect()
}
