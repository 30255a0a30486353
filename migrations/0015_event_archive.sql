-- Raw clicks and impressions leave D1 for R2 once no attribution, uniqueness check,
-- fraud window or experiment needs them (docs/operations.md, "The event archive").

-- One row per program, kind and UTC day that has been (or is being) archived.
CREATE TABLE event_archives (
    -- `<program_id>.<kind>.<YYYY-MM-DD>`
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('clicks', 'impressions')),
    day TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('archiving', 'archived', 'failed', 'restoring', 'restored')),
    -- Events in the archive's parts, and their bytes.
    events INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    parts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    -- Whoever holds the lease until then works on the day; nobody else does.
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    archived_at INTEGER,
    restored_at INTEGER
);
CREATE INDEX event_archives_by_program ON event_archives (program_id, kind, day);

-- The R2 objects of a day: written (confirmed in R2), then moved (their rows deleted
-- from D1, their counts kept in archived_event_hours).
CREATE TABLE event_archive_parts (
    archive_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    object_key TEXT NOT NULL,
    events INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('written', 'moved')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (archive_id, part)
) WITHOUT ROWID;

-- What the archived events counted, per hour and rollup dimension: the rollups read it
-- beside the raw tables, so a day rebuilt after its events left D1 keeps its clicks and
-- impressions. A move adds to it and deletes the rows in one transaction.
CREATE TABLE archived_event_hours (
    hour INTEGER NOT NULL,
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL,
    device TEXT NOT NULL,
    source TEXT NOT NULL,
    variant TEXT NOT NULL,
    material_id TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    unique_clicks INTEGER NOT NULL,
    bot_clicks INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    PRIMARY KEY (hour, program_id, partner_id, link_id, country, device, source, variant,
        material_id)
) WITHOUT ROWID;
