-- Partner materials: banners and text snippets of a program. Each partner places them with
-- its own link (`/r/{code}?m={material id}`) and impression pixel (`/i/{code}?m=…`), so
-- clicks, impressions and the conversions of those clicks carry the material, and CTR and
-- eCPM are reported per material.
CREATE TABLE materials (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    -- A material made for one link (its partner's only); NULL: every partner of the program.
    link_id TEXT REFERENCES links (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('banner', 'text')),
    -- A banner's image (https) and its size in pixels.
    image_url TEXT,
    width INTEGER,
    height INTEGER,
    -- A text material's words (plain text; the snippet escapes it).
    body TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE INDEX materials_by_program ON materials (program_id, created_at);

ALTER TABLE clicks ADD COLUMN material_id TEXT;
ALTER TABLE impressions ADD COLUMN material_id TEXT;
ALTER TABLE conversions ADD COLUMN material_id TEXT;

-- The rollups gain the material ('' without one) in their key.
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
    material_id TEXT NOT NULL DEFAULT '',
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
    PRIMARY KEY (hour, program_id, partner_id, link_id, country, device, source, attribution,
        variant, material_id)
);
INSERT INTO rollup_hourly_new SELECT hour, program_id, partner_id, link_id, country, device,
    source, attribution, variant, '', clicks, unique_clicks, bot_clicks, impressions, leads,
    qualified_leads, sales, refunds, revenue_cents, commission_cents FROM rollup_hourly;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_new RENAME TO rollup_hourly;
CREATE INDEX rollup_by_program_hour ON rollup_hourly (program_id, hour);
CREATE INDEX rollup_by_partner_hour ON rollup_hourly (partner_id, hour);
