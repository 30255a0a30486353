-- Experiments: a destination split test on a link (its variants with weights; the variant
-- is chosen per visitor at the redirect, stored on the click and copied to its
-- conversions), judged by docs/experiments.md's statistics.
CREATE TABLE experiments (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('link_split', 'commission')),
    name TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs (id),
    link_id TEXT REFERENCES links (id),
    -- JSON: [{"name", "destination", "weight"}], the control first.
    variants TEXT NOT NULL,
    alpha REAL NOT NULL,
    -- Relative change of the control's conversion rate the test must be able to detect.
    minimum_detectable_effect REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'stopped')),
    winner TEXT,
    created_at INTEGER NOT NULL,
    stopped_at INTEGER
);
-- One running split test per link.
CREATE UNIQUE INDEX experiments_running_on_link ON experiments (link_id)
    WHERE status = 'running' AND link_id IS NOT NULL;
CREATE INDEX experiments_by_program ON experiments (program_id, created_at);

ALTER TABLE clicks ADD COLUMN variant TEXT;
ALTER TABLE conversions ADD COLUMN variant TEXT;

-- The rollups gain the variant ('' outside experiments) in their key.
CREATE TABLE rollup_hourly_new (
    hour INTEGER NOT NULL,
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL,
    device TEXT NOT NULL,
    source TEXT NOT NULL,
    attribution TEXT NOT NULL DEFAULT 'click',
    variant TEXT NOT NULL DEFAULT '',
    clicks INTEGER NOT NULL,
    unique_clicks INTEGER NOT NULL,
    bot_clicks INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    qualified_leads INTEGER NOT NULL,
    sales INTEGER NOT NULL,
    refunds INTEGER NOT NULL,
    revenue_cents INTEGER NOT NULL,
    commission_cents INTEGER NOT NULL,
    PRIMARY KEY (hour, program_id, partner_id, link_id, country, device, source, attribution, variant)
);
INSERT INTO rollup_hourly_new SELECT hour, program_id, partner_id, link_id, country, device,
    source, attribution, '', clicks, unique_clicks, bot_clicks, impressions, leads,
    qualified_leads, sales, refunds, revenue_cents, commission_cents FROM rollup_hourly;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_new RENAME TO rollup_hourly;
CREATE INDEX rollup_by_program_hour ON rollup_hourly (program_id, hour);
CREATE INDEX rollup_by_partner_hour ON rollup_hourly (partner_id, hour);
