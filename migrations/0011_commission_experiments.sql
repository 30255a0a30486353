-- Commission experiments: a new rule for a random, revenue-stratified share of a program's
-- partners (the treatment) for a fixed period; the rest of its partners are the control.
-- The rule is stored with the experiment (JSON: event, kind, value, from_monthly_sale);
-- conversions it set carry the experiment's id as their rule_id and their arm as variant.
ALTER TABLE experiments ADD COLUMN rule TEXT;
ALTER TABLE experiments ADD COLUMN treatment_share REAL;
ALTER TABLE experiments ADD COLUMN ends_at INTEGER;
-- One running commission experiment per program.
CREATE UNIQUE INDEX experiments_running_on_program ON experiments (program_id)
    WHERE status = 'running' AND kind = 'commission';

-- Each partner's arm, fixed at the start, with the prior revenue it was stratified by.
CREATE TABLE experiment_partners (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    arm TEXT NOT NULL CHECK (arm IN ('control', 'treatment')),
    stratum INTEGER NOT NULL,
    prior_revenue_cents INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, partner_id)
);
CREATE INDEX experiment_partners_by_partner ON experiment_partners (partner_id);
