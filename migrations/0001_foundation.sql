-- partnerlens foundation: programs, partners, links, clicks, impressions, daily salts.
-- Timestamps are UTC milliseconds. Money is TEXT holding a decimal string, never REAL.

CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    model TEXT NOT NULL CHECK (model IN ('referral', 'sales', 'services')),
    attribution_window_days INTEGER NOT NULL CHECK (attribution_window_days BETWEEN 1 AND 365),
    click_id_param TEXT NOT NULL,
    hold_days INTEGER NOT NULL DEFAULT 0,
    min_payout TEXT NOT NULL DEFAULT '0.00',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    -- sha256 of the postback secret; the secret itself is shown once and never stored.
    postback_secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX programs_by_creation ON programs (created_at, id);

CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    segment TEXT NOT NULL CHECK (segment IN ('blogger', 'webmaster', 'agency', 'expert', 'other')),
    tier TEXT,
    region TEXT,
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'suspended')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX partners_by_creation ON partners (created_at, id);

CREATE TABLE links (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    destination TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX links_by_creation ON links (created_at, id);
CREATE INDEX links_by_program ON links (program_id, created_at, id);
CREATE INDEX links_by_partner ON links (partner_id, created_at, id);

-- One row per click, keyed by its click id so a redelivered queue message adds nothing.
-- Program, partner and link are copied from the link at click time.
CREATE TABLE clicks (
    id TEXT PRIMARY KEY,
    ts INTEGER NOT NULL,
    link_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    country TEXT,
    region TEXT,
    city TEXT,
    colo TEXT,
    device TEXT NOT NULL,
    os TEXT NOT NULL,
    browser TEXT NOT NULL,
    referrer_host TEXT,
    sub1 TEXT,
    sub2 TEXT,
    sub3 TEXT,
    sub4 TEXT,
    sub5 TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    -- sha256(daily salt || ip || user agent); the raw IP is never stored.
    visitor_hash TEXT NOT NULL,
    is_bot INTEGER NOT NULL CHECK (is_bot IN (0, 1)),
    is_unique INTEGER NOT NULL CHECK (is_unique IN (0, 1))
);
CREATE INDEX clicks_by_time ON clicks (ts);
CREATE INDEX clicks_by_program_time ON clicks (program_id, ts);
CREATE INDEX clicks_by_visitor ON clicks (link_id, visitor_hash, ts);

CREATE TABLE impressions (
    id TEXT PRIMARY KEY,
    ts INTEGER NOT NULL,
    link_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    country TEXT,
    region TEXT,
    city TEXT,
    colo TEXT,
    device TEXT NOT NULL,
    os TEXT NOT NULL,
    browser TEXT NOT NULL,
    referrer_host TEXT,
    visitor_hash TEXT NOT NULL,
    is_bot INTEGER NOT NULL CHECK (is_bot IN (0, 1))
);
CREATE INDEX impressions_by_time ON impressions (ts);
CREATE INDEX impressions_by_program_time ON impressions (program_id, ts);

-- The secret salt of each UTC day's visitor hashes; deleted by the cron once the day is over.
CREATE TABLE daily_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
