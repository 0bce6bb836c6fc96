-- The built-in web chat's customers: who holds which customer token.
-- Only the SHA-256 of a token is stored (a copy of the database does not
-- let anyone read a customer's conversation). `customer_id` is the id of
-- the customer record the web chat's messages are stored under.
CREATE TABLE webchat_customers (
    token_hash   TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT;

-- A customer's page lists the messages of all their conversations.
CREATE INDEX records_conversation_customer
    ON records (json_extract(data, '$.customer_id'))
    WHERE kind = 'conversation';
