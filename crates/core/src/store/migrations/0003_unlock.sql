-- The screen lock opens offline with the agent's password: an Argon2
-- verifier of it (never the password) is kept from the last sign-in.
ALTER TABLE sync_state ADD COLUMN unlock_verifier TEXT;
