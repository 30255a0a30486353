//! A payout's transfer: a payout run fixes a statement (its partner, amount and
//! conversions, which never change); the manager then records the money sent, when and
//! under which reference (a bank transfer's or a payment service's id).

use crate::domain::text::{optional_label, string_enum};
use crate::domain::Invalid;

string_enum!(
    /// Whether a payout's money has gone out.
    PayoutStatus, "status" { Pending = "pending", Paid = "paid" }
);

/// A payout's transfer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub status: PayoutStatus,
    /// Milliseconds since the epoch; set exactly when `status` is `paid`.
    pub paid_at: Option<i64>,
    pub reference: Option<String>,
}

/// What a `PATCH` asks to change, unvalidated (`paid_at` as RFC 3339 text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferChanges {
    pub status: Option<String>,
    pub paid_at: Option<String>,
    pub reference: Option<String>,
}

fn instant(raw: &str) -> Result<i64, Invalid> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            Invalid::new(
                "paid_at",
                "invalid_timestamp",
                format!(
                    "paid_at must be RFC 3339 with a time zone (2026-11-22T10:00:00Z), got '{raw}'"
                ),
            )
        })
}

impl Transfer {
    /// This transfer with `changes` applied, for a payout created at `created_at`, now
    /// `now`. Marking a payout paid records `paid_at` (now unless given; neither before the
    /// payout nor in the future); marking it paid again keeps the first time unless a new
    /// one is given; back to pending clears it. An empty `reference` clears it.
    pub fn changed(
        &self,
        changes: TransferChanges,
        created_at: i64,
        now: i64,
    ) -> Result<Self, Invalid> {
        let status = match changes.status.as_deref() {
            Some(raw) => PayoutStatus::parse(raw)?,
            None => self.status,
        };
        let given = changes.paid_at.as_deref().map(instant).transpose()?;
        let paid_at = match (status, given) {
            (PayoutStatus::Pending, Some(_)) => {
                return Err(Invalid::new(
                    "paid_at",
                    "not_paid",
                    "paid_at is set only on a paid payout (status 'paid')",
                ))
            }
            (PayoutStatus::Pending, None) => None,
            (PayoutStatus::Paid, Some(at)) if at > now => {
                return Err(Invalid::new(
                    "paid_at",
                    "in_future",
                    "paid_at cannot be in the future",
                ))
            }
            (PayoutStatus::Paid, Some(at)) if at < created_at => {
                return Err(Invalid::new(
                    "paid_at",
                    "before_payout",
                    "paid_at cannot be before the payout was created",
                ))
            }
            (PayoutStatus::Paid, Some(at)) => Some(at),
            (PayoutStatus::Paid, None) => Some(self.paid_at.unwrap_or(now)),
        };
        let reference = match changes.reference {
            Some(raw) => optional_label("reference", Some(&raw), 200)?,
            None => self.reference.clone(),
        };
        Ok(Self {
            status,
            paid_at,
            reference,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::time::rfc3339;

    /// 2026-11-01T00:00:00Z and a day later.
    const CREATED: i64 = 1_793_491_200_000;
    const NOW: i64 = CREATED + 86_400_000;
    const BETWEEN: i64 = CREATED + 3_600_000;

    fn pending() -> Transfer {
        Transfer {
            status: PayoutStatus::Pending,
            paid_at: None,
            reference: None,
        }
    }

    fn change(
        status: Option<&str>,
        paid_at: Option<i64>,
        reference: Option<&str>,
    ) -> TransferChanges {
        TransferChanges {
            status: status.map(str::to_owned),
            paid_at: paid_at.map(rfc3339),
            reference: reference.map(str::to_owned),
        }
    }

    #[test]
    fn marking_paid_records_when_and_keeps_the_first_time() {
        let paid = pending()
            .changed(change(Some("paid"), None, Some(" SEPA-42 ")), CREATED, NOW)
            .unwrap();
        assert_eq!(paid.status, PayoutStatus::Paid);
        assert_eq!(paid.paid_at, Some(NOW));
        assert_eq!(paid.reference.as_deref(), Some("SEPA-42"));
        let again = paid
            .changed(change(Some("paid"), None, None), CREATED, NOW + 10)
            .unwrap();
        assert_eq!(
            again.paid_at,
            Some(NOW),
            "a repeated PATCH keeps the first time"
        );
        assert_eq!(again.reference.as_deref(), Some("SEPA-42"));
        let back = again
            .changed(change(Some("pending"), None, Some("")), CREATED, NOW)
            .unwrap();
        assert_eq!(back, pending());
    }

    #[test]
    fn a_given_paid_at_lies_between_the_payout_and_now() {
        let earlier = pending()
            .changed(change(Some("paid"), Some(BETWEEN), None), CREATED, NOW)
            .unwrap();
        assert_eq!(earlier.paid_at, Some(BETWEEN));
        let code = |status, at| {
            pending()
                .changed(change(status, Some(at), None), CREATED, NOW)
                .unwrap_err()
                .code
        };
        assert_eq!(code(Some("paid"), NOW + 1), "in_future");
        assert_eq!(code(Some("paid"), CREATED - 1), "before_payout");
        assert_eq!(code(None, BETWEEN), "not_paid");
        assert_eq!(code(Some("pending"), BETWEEN), "not_paid");
        let bad = TransferChanges {
            status: Some("paid".into()),
            paid_at: Some("yesterday".into()),
            reference: None,
        };
        let err = pending().changed(bad, CREATED, NOW).unwrap_err();
        assert_eq!((err.field, err.code), ("paid_at", "invalid_timestamp"));
        let offset = TransferChanges {
            status: Some("paid".into()),
            paid_at: Some("2026-11-01T02:00:00+01:00".into()),
            reference: None,
        };
        assert_eq!(
            pending().changed(offset, CREATED, NOW).unwrap().paid_at,
            Some(BETWEEN)
        );
    }

    #[test]
    fn only_known_statuses_and_bounded_references() {
        let err = pending()
            .changed(change(Some("sent"), None, None), CREATED, NOW)
            .unwrap_err();
        assert_eq!(err.field, "status");
        let long = "x".repeat(201);
        let err = pending()
            .changed(change(None, None, Some(&long)), CREATED, NOW)
            .unwrap_err();
        assert_eq!(err.field, "reference");
        let unchanged = pending()
            .changed(TransferChanges::default(), CREATED, NOW)
            .unwrap();
        assert_eq!(unchanged, pending());
    }
}
