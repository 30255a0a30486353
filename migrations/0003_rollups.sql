-- Hourly KPI rollups, the days that need rolling up again, and BI keys.

-- One row per UTC hour (hours since the epoch), link and click dimension. Local days of
-- any time zone with whole-hour offsets are sums of these hours, across DST changes.
CREATE TABLE rollup_hourly (
    hour INTEGER NOT NULL,
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL,
    device TEXT NOT NULL,
    source TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    unique_clicks INTEGER NOT NULL,
    bot_clicks INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    qualified_leads INTEGER NOT NULL,
    sales INTEGER NOT NULL,
    refunds INTEGER NOT NULL,
    -- Hundredths: counted sales minus counted refunds, and every counted commission.
    revenue_cents INTEGER NOT NULL,
    commission_cents INTEGER NOT NULL,
    PRIMARY KEY (hour, link_id, country, device, source)
);
CREATE INDEX rollup_by_program_hour ON rollup_hourly (program_id, hour);
CREATE INDEX rollup_by_partner_hour ON rollup_hourly (partner_id, hour);

-- UTC days (days since the epoch) whose raw events changed since they were rolled up.
-- A rollup of a day removes its mark only if nobody marked it again meanwhile.
CREATE TABLE rollup_dirty_days (
    day INTEGER PRIMARY KEY,
    marked_at INTEGER NOT NULL
);

-- Read-only keys for BI tools, stored only as SHA-256 hashes.
CREATE TABLE bi_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX bi_keys_by_creation ON bi_keys (created_at, id);

-- Salts of imported history's visitor hashes, one per UTC day. Kept (unlike the live
-- daily salts) so that a day imported in several requests hashes its visitors alike.
CREATE TABLE import_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
