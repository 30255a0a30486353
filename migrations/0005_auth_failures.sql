-- Failed postback and webhook credentials per source and minute, for rate limiting.
-- The source is a keyed SHA-256 of the client address: no IP address is stored.
CREATE TABLE auth_failures (
    source TEXT NOT NULL,
    minute INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (source, minute)
) WITHOUT ROWID;
