-- Alerts: rules on a program's KPIs (for each finished local day) or on its new flags,
-- checked by the cron after each rollup; each condition fires at most once per period
-- (the unique key of an event), and an alert stays quiet for `quiet_hours` after it has
-- sent. Deliveries go through notification_deliveries, as a report run's do.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    name TEXT NOT NULL,
    -- The rule (kind, metric, operator, threshold, reference, minimum severity, quiet
    -- period) as JSON.
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
    -- Recipients as the API shows them, and sealed (as report_schedules keeps them).
    recipients TEXT NOT NULL,
    recipients_sealed TEXT NOT NULL,
    base_url TEXT NOT NULL,
    -- When it last sent (the quiet period runs from there), and the creation time of the
    -- newest flag a `new_flag` alert has reported.
    last_sent_at INTEGER,
    flags_through INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX alerts_by_program ON alerts (program_id, created_at);

CREATE TABLE alert_events (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    -- The condition and its period: `kpi:<local day>`, `flags:<newest flag's creation>`.
    condition_key TEXT NOT NULL,
    -- `suppressed`: the condition held during the quiet period; nothing was sent.
    status TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'partly_delivered', 'failed', 'suppressed')),
    -- The message as sent (JSON).
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (alert_id, condition_key)
);
CREATE INDEX alert_events_by_time ON alert_events (created_at);
