-- Promo codes: a partner's code, unique per program whatever its case; a sale that
-- brings a code and no click is attributed to the code's partner.
CREATE TABLE promo_codes (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    -- As the partner shows it; `code_key` is its lower case, what is matched.
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- A retired code keeps its past sales but attributes no new one.
    retired_at INTEGER
);
CREATE UNIQUE INDEX promo_codes_live ON promo_codes (program_id, code_key) WHERE retired_at IS NULL;
CREATE INDEX promo_codes_by_partner ON promo_codes (partner_id, created_at);

-- Which wins when a conversion brings both a click id and a promo code of another
-- partner: 'click' (the default) or 'promo_code'.
ALTER TABLE programs ADD COLUMN attribution_priority TEXT NOT NULL DEFAULT 'click'
    CHECK (attribution_priority IN ('click', 'promo_code'));

-- How each conversion found its partner: its click, a promo code, or the customer's
-- first conversion (lifetime attribution); a refund inherits its sale's.
ALTER TABLE conversions ADD COLUMN attribution TEXT NOT NULL DEFAULT 'click'
    CHECK (attribution IN ('click', 'promo_code', 'customer'));
-- The promo code that came with the conversion, as registered, when it was a known one.
ALTER TABLE conversions ADD COLUMN promo_code TEXT;
UPDATE conversions SET attribution = 'customer' WHERE click_id IS NULL AND event != 'refund';
UPDATE conversions SET attribution = coalesce(
    (SELECT s.attribution FROM conversions s WHERE s.id = conversions.sale_id), 'click')
    WHERE event = 'refund';

-- The rollups gain the attribution, and the partner in their key (a promo-code sale has
-- no link to tell its partner by). Rebuilt from the old table: every old row is a
-- click's; days holding customer-attributed conversions are rolled up again.
CREATE TABLE rollup_hourly_new (
    hour INTEGER NOT NULL,
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL,
    device TEXT NOT NULL,
    source TEXT NOT NULL,
    attribution TEXT NOT NULL DEFAULT 'click',
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
    PRIMARY KEY (hour, program_id, partner_id, link_id, country, device, source, attribution)
);
INSERT INTO rollup_hourly_new SELECT hour, program_id, partner_id, link_id, country, device,
    source, 'click', clicks, unique_clicks, bot_clicks, impressions, leads, qualified_leads,
    sales, refunds, revenue_cents, commission_cents FROM rollup_hourly;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_new RENAME TO rollup_hourly;
CREATE INDEX rollup_by_program_hour ON rollup_hourly (program_id, hour);
CREATE INDEX rollup_by_partner_hour ON rollup_hourly (partner_id, hour);
INSERT INTO rollup_dirty_days (day, marked_at)
    SELECT DISTINCT ts / 86400000, 0 FROM conversions WHERE attribution != 'click'
    ON CONFLICT (day) DO NOTHING;
