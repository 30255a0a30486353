-- The partner journey: status changes over time and each partner's stage per UTC day.

-- Every status a partner has had, from its creation on. Partners created before this
-- migration start with their current status at their creation time, except suspended
-- ones changed since their creation: they are taken to have been approved until then
-- (a partner is suspended after having worked), so their journey is not lost.
CREATE TABLE partner_status_changes (
    partner_id TEXT NOT NULL REFERENCES partners (id),
    at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'suspended')),
    PRIMARY KEY (partner_id, at, status)
) WITHOUT ROWID;
INSERT INTO partner_status_changes (partner_id, at, status)
    SELECT id, created_at,
        CASE WHEN status = 'suspended' AND updated_at > created_at THEN 'approved' ELSE status END
    FROM partners;
INSERT INTO partner_status_changes (partner_id, at, status)
    SELECT id, updated_at, 'suspended' FROM partners
    WHERE status = 'suspended' AND updated_at > created_at;

-- One row per partner and UTC day (days since the epoch) from the partner's first day:
-- the stage (kpis.md), why it is at risk, and the counters the next day's walk starts from.
CREATE TABLE partner_stage_days (
    partner_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('applied', 'approved', 'first_click',
        'first_conversion', 'active', 'at_risk', 'churned')),
    risk TEXT CHECK (risk IN ('activity_drop', 'inactive')),
    conversion_days INTEGER NOT NULL,
    clicked INTEGER NOT NULL CHECK (clicked IN (0, 1)),
    last_active_day INTEGER,
    last_14 INTEGER NOT NULL,
    prev_14 INTEGER NOT NULL,
    PRIMARY KEY (partner_id, day)
) WITHOUT ROWID;
CREATE INDEX partner_stage_days_by_day ON partner_stage_days (day);

-- The first UTC day the next journey run recomputes (NULL: from the beginning), and a
-- counter of marks so a run that raced a mark leaves the mark in place.
CREATE TABLE journey_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_day INTEGER,
    marks INTEGER NOT NULL
);
INSERT INTO journey_progress (id, next_day, marks) VALUES (1, NULL, 0);
