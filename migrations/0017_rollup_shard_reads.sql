-- Overlapping rollups of one day (the cron and a report's refresh, in different isolates)
-- each read another event shard's facts before writing the day in the main database; the
-- build from the later read must win. Each database numbers the fact reads made of it
-- (`rollup_reads`, one row), and the main database keeps, per day and shard, the number of
-- the read the day was last built from (`rollup_shard_builds`): a build from an older read
-- is refused inside its transaction and leaves the day as the newer build wrote it.
CREATE TABLE rollup_reads (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);

CREATE TABLE rollup_shard_builds (
    day INTEGER NOT NULL,
    shard TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (day, shard)
) WITHOUT ROWID;
