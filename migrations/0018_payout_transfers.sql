-- A payout's transfer: a run fixes the statement (partner, amount, conversions); the
-- manager then records the money sent (`PATCH /api/v1/payouts/{id}`): `status` `paid`
-- with the time it went out and the transfer's reference. Existing payouts are pending.
ALTER TABLE payouts ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'paid'));
ALTER TABLE payouts ADD COLUMN paid_at INTEGER;
ALTER TABLE payouts ADD COLUMN reference TEXT;
