-- Scheduled reports: a report definition, a cadence at a local hour, a file format and
-- recipients; every run (one per schedule and period, however often the cron fires)
-- with its file in R2; and every delivery of a run to a recipient, with its attempts.
CREATE TABLE report_schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- The definition (report parameters, relative range, cadence, hour, time zone,
    -- format) as JSON; no credentials.
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
    -- The recipients as the API shows them (addresses, hints of webhook URLs and secrets).
    recipients TEXT NOT NULL,
    -- The recipients with their webhook URLs and signing secrets, sealed
    -- (ChaCha20-Poly1305 under a key derived from POSTBACK_SECRET_KEY, bound to this id).
    recipients_sealed TEXT NOT NULL,
    -- The origin the schedule was made on: the base of the download links its messages
    -- carry (PUBLIC_BASE_URL, when set, takes precedence).
    base_url TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX report_schedules_by_status ON report_schedules (status, created_at);

CREATE TABLE report_runs (
    id TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL REFERENCES report_schedules (id),
    -- The local day the run was due on: one run per schedule and day at most.
    period_key TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    -- The report's local days [range_from, range_to).
    range_from TEXT NOT NULL,
    range_to TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'delivered', 'partly_delivered', 'failed')),
    -- The generated file: its R2 key, name, type, size and rows.
    file_key TEXT,
    file_name TEXT,
    content_type TEXT,
    file_bytes INTEGER,
    row_count INTEGER,
    -- The summary the messages were made from (JSON), kept for the run's page.
    summary TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    generated_at INTEGER,
    finished_at INTEGER,
    UNIQUE (schedule_id, period_key)
);
CREATE INDEX report_runs_by_time ON report_runs (created_at);
CREATE INDEX report_runs_by_schedule ON report_runs (schedule_id, created_at);

-- One row per message of a run (or, later, of an alert) to one recipient.
CREATE TABLE notification_deliveries (
    subject_id TEXT NOT NULL,
    -- The recipient's position in its schedule's list when the run was made.
    recipient INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'slack', 'teams', 'webhook')),
    -- Who, as the API shows it (an address, or a hint of a webhook URL).
    target TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    next_attempt_at INTEGER,
    delivered_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, recipient)
);
