-- A read key may belong to one partner: a partner token, which reads that partner's own
-- reports, conversions and clicks and nothing else. NULL: a BI key, as before.
ALTER TABLE bi_keys ADD COLUMN partner_id TEXT REFERENCES partners (id);
