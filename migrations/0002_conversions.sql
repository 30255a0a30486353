-- Conversions, commission rules, payouts, program costs, and the postback secret lookup.

CREATE INDEX programs_by_postback_secret ON programs (postback_secret_hash);
-- Postback secrets are derived from POSTBACK_SECRET_KEY, the program id and this version;
-- rotating a secret bumps the version.
ALTER TABLE programs ADD COLUMN postback_secret_version INTEGER NOT NULL DEFAULT 1;

-- Repeat sales by a known customer_id without a click id go to the partner who brought
-- the customer (lifetime attribution); on by default, per program.
ALTER TABLE programs ADD COLUMN lifetime_attribution INTEGER NOT NULL DEFAULT 1;

CREATE TABLE commission_rules (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    event TEXT NOT NULL CHECK (event IN ('lead', 'qualified', 'sale')),
    kind TEXT NOT NULL CHECK (kind IN ('fixed', 'percent')),
    -- Money for fixed rules, a percentage for percent rules: a decimal string.
    value TEXT NOT NULL,
    partner_id TEXT REFERENCES partners (id),
    segment TEXT CHECK (segment IN ('blogger', 'webmaster', 'agency', 'expert', 'other')),
    from_monthly_sale INTEGER CHECK (from_monthly_sale >= 1),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX commission_rules_by_creation ON commission_rules (created_at, id);
CREATE INDEX commission_rules_by_program ON commission_rules (program_id, status);

-- One row per conversion. Program, partner, link and the click's dimensions are copied
-- from the click, so reports group conversions like clicks without joins.
CREATE TABLE conversions (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    click_id TEXT,
    event TEXT NOT NULL CHECK (event IN ('lead', 'qualified', 'sale', 'refund')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    -- The advertiser's order id (for a refund: the refunded sale's).
    order_id TEXT,
    -- Idempotency key within (program, event): the order id, or the refund id of a refund.
    order_key TEXT,
    -- For a refund: the sale conversion it reverses.
    sale_id TEXT REFERENCES conversions (id),
    -- Money in hundredths of the currency unit (exact, and summed exactly by SQL);
    -- a refund's commission is negative.
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    commission_cents INTEGER NOT NULL,
    rule_id TEXT,
    monthly_sale_number INTEGER,
    customer_id TEXT,
    -- Event time and recording time, UTC milliseconds.
    ts INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    click_ts INTEGER,
    -- The payout statement that paid this commission, once paid.
    payout_id TEXT,
    country TEXT,
    region TEXT,
    city TEXT,
    device TEXT,
    os TEXT,
    browser TEXT,
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
    utm_content TEXT
);
-- Replays of a (program, event, order) are one conversion; NULL keys never collide.
CREATE UNIQUE INDEX conversions_by_order ON conversions (program_id, event, order_key);
-- One lead and one qualified lead per click.
CREATE UNIQUE INDEX conversions_by_click_lead ON conversions (click_id, event)
    WHERE event IN ('lead', 'qualified');
CREATE INDEX conversions_by_recording ON conversions (recorded_at, id);
CREATE INDEX conversions_by_program_time ON conversions (program_id, ts);
CREATE INDEX conversions_by_partner_time ON conversions (partner_id, program_id, event, ts);
CREATE INDEX conversions_by_customer ON conversions (program_id, customer_id, ts);
CREATE INDEX conversions_by_sale ON conversions (sale_id);
-- The cron approves pending sales and refunds whose hold period is over.
CREATE INDEX conversions_pending ON conversions (ts) WHERE status = 'pending';
CREATE INDEX conversions_unpaid ON conversions (program_id, partner_id)
    WHERE status = 'approved' AND payout_id IS NULL;
CREATE INDEX conversions_by_payout ON conversions (payout_id, ts);

-- One statement per partner and payout run: the approved, unpaid commissions it covers.
CREATE TABLE payouts (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    conversions INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX payouts_by_creation ON payouts (created_at, id);
CREATE INDEX payouts_by_program ON payouts (program_id, created_at, id);

-- Program costs beside commissions, for ROI, CPA and CAC.
CREATE TABLE costs (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    date TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('marketing', 'training', 'support', 'other')),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    created_at INTEGER NOT NULL
);
CREATE INDEX costs_by_creation ON costs (created_at, id);
CREATE INDEX costs_by_program_date ON costs (program_id, date);

-- Per program: how AmoCRM pipeline statuses and a lead custom field map to conversions
-- (JSON: pipeline_id, click_id_field_id, statuses).
CREATE TABLE amocrm_mappings (
    program_id TEXT PRIMARY KEY REFERENCES programs (id),
    mapping TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Outbound postbacks: where a partner wants to hear about approved conversions.
CREATE TABLE partner_postbacks (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    -- NULL: every program of the partner.
    program_id TEXT REFERENCES programs (id),
    url_template TEXT NOT NULL,
    -- Comma list of conversion events.
    events TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX partner_postbacks_by_creation ON partner_postbacks (created_at, id);
CREATE INDEX partner_postbacks_by_partner ON partner_postbacks (partner_id);
CREATE INDEX conversions_by_update ON conversions (updated_at);

-- One delivery per (conversion, endpoint): its attempts and outcome.
CREATE TABLE postback_deliveries (
    id TEXT PRIMARY KEY,
    conversion_id TEXT NOT NULL REFERENCES conversions (id),
    endpoint_id TEXT NOT NULL REFERENCES partner_postbacks (id),
    partner_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
    url TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    enqueued_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX postback_deliveries_once ON postback_deliveries (conversion_id, endpoint_id);
CREATE INDEX postback_deliveries_by_creation ON postback_deliveries (created_at, id);
CREATE INDEX postback_deliveries_unqueued ON postback_deliveries (state) WHERE enqueued_at IS NULL;
