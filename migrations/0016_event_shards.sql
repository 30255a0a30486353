-- Programs' raw events (clicks, impressions, and their archive's counts) live in one of
-- several D1 databases, the event shards (`EVENT_SHARDS` in wrangler.toml); this is the
-- directory. Programs made before have theirs in the main database, `DB`.
ALTER TABLE programs ADD COLUMN events_shard TEXT NOT NULL DEFAULT 'DB';
