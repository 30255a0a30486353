-- Insights: forecasts fitted by the nightly job (one model row per series with its
-- backtest, one row per forecast day), flags with their evidence, and SMART goals.
-- A series is a program's metric, or one partner's in it (`partner_id` '' = the program).
CREATE TABLE forecast_models (
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT NOT NULL DEFAULT '',
    metric TEXT NOT NULL,
    model TEXT NOT NULL,
    -- The last day of history the model saw (YYYY-MM-DD, the program's time zone).
    trained_through TEXT NOT NULL,
    fitted_at INTEGER NOT NULL,
    -- JSON: the backtest per horizon and each candidate's score.
    accuracy TEXT NOT NULL,
    PRIMARY KEY (program_id, partner_id, metric)
);

CREATE TABLE forecast_days (
    program_id TEXT NOT NULL,
    partner_id TEXT NOT NULL DEFAULT '',
    metric TEXT NOT NULL,
    day TEXT NOT NULL,
    value REAL NOT NULL,
    lower_80 REAL NOT NULL,
    upper_80 REAL NOT NULL,
    lower_95 REAL NOT NULL,
    upper_95 REAL NOT NULL,
    PRIMARY KEY (program_id, partner_id, metric, day)
);

CREATE TABLE flags (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fast_conversions', 'click_flooding', 'bot_share',
        'conversion_rate_outlier', 'spike', 'drop', 'repeat_orders')),
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    p_value REAL NOT NULL,
    q_value REAL NOT NULL,
    evidence TEXT NOT NULL,
    acknowledged_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (program_id, partner_id, day, kind)
);
CREATE INDEX flags_by_day ON flags (program_id, day);

CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    partner_id TEXT REFERENCES partners (id),
    segment TEXT,
    metric TEXT NOT NULL,
    -- Decimal strings: an absolute target, or a change in percent against the baseline.
    target TEXT,
    target_change_percent TEXT,
    baseline_from TEXT,
    baseline_to TEXT,
    start TEXT NOT NULL,
    deadline TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX goals_by_program ON goals (program_id, created_at);

-- Hold new conversions of a partner with an open (unacknowledged) flag as `pending`
-- instead of approving them automatically; `hold_reason` marks those held, which the
-- hold period does not approve (a manager decides).
ALTER TABLE programs ADD COLUMN hold_flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversions ADD COLUMN hold_reason TEXT;

-- The last local day the nightly insights job has evaluated for the program, and when
-- the cron last queued the program's job (so it is queued once, and again if it was lost).
ALTER TABLE programs ADD COLUMN insights_through TEXT;
ALTER TABLE programs ADD COLUMN insights_queued_at INTEGER;
