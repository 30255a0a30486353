-- Browser sessions of the dashboard and the partner portal. The cookie holds a random
-- token; only its SHA-256 is kept. A partner's session remembers the token it signed in
-- with (`key_id`): revoking that token ends the session too.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('admin', 'partner')),
    partner_id TEXT REFERENCES partners (id),
    key_id TEXT REFERENCES bi_keys (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- The destination domains a program's partners may point their own links to (a JSON
-- array of host names; a host also allows its subdomains). Empty: partners cannot create
-- links themselves.
ALTER TABLE programs ADD COLUMN partner_link_domains TEXT NOT NULL DEFAULT '[]';
