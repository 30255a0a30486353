//! The partner journey of `kpis.md`: `applied → approved → first_click → first_conversion
//! → active → at_risk → churned`, one stage per partner and UTC day, walked forward from a
//! carried state so a day's stage depends only on the days up to it.
//!
//! Activity is non-bot clicks plus counted conversions (any event not rejected). A
//! partner is `applied` until its status first becomes `approved`; after that its stage
//! follows its activity whatever its later status (a suspension shows in its status, not
//! by rewriting its journey). `at_risk` and `churned` apply once a partner has converted
//! on two distinct days, i.e. after having been active.

use std::collections::HashMap;

use crate::domain::partners::PartnerStatus;
use crate::domain::text::string_enum;

pub const DAY_MS: i64 = 86_400_000;
/// How many days before a walk's first day its activity windows look back.
pub const LOOKBACK_DAYS: i64 = 27;

string_enum!(
    /// Where a partner stands on a day.
    Stage, "stage" {
        Applied = "applied",
        Approved = "approved",
        FirstClick = "first_click",
        FirstConversion = "first_conversion",
        Active = "active",
        AtRisk = "at_risk",
        Churned = "churned",
    }
);

/// Every stage, in journey order.
pub const STAGES: [Stage; 7] = [
    Stage::Applied,
    Stage::Approved,
    Stage::FirstClick,
    Stage::FirstConversion,
    Stage::Active,
    Stage::AtRisk,
    Stage::Churned,
];

string_enum!(
    /// Why a partner is at risk or churned.
    Risk, "risk" { ActivityDrop = "activity_drop", Inactive = "inactive" }
);

/// A partner's counters at the end of a day: all a walk needs from the days before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carry {
    /// Distinct days with a counted conversion, up to and including the day.
    pub conversion_days: i64,
    pub clicked: bool,
    pub last_active_day: Option<i64>,
}

/// One partner's stage on one UTC day (days since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayStage {
    pub day: i64,
    pub stage: Stage,
    pub risk: Option<Risk>,
    pub carry: Carry,
    /// Clicks + conversions of the 14 days ending with `day`, and of the 14 before those.
    pub last_14: i64,
    pub prev_14: i64,
}

/// A partner's status changes, oldest first. Before the first recorded change the
/// partner is taken to have had its first recorded status (history imported from another
/// tracker predates the partner's creation here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusHistory(pub Vec<(i64, PartnerStatus)>);

impl StatusHistory {
    /// The status in force at instant `ms`.
    pub fn at(&self, ms: i64) -> Option<PartnerStatus> {
        let first = self.0.first()?;
        Some(
            self.0
                .iter()
                .take_while(|(at, _)| *at <= ms)
                .last()
                .unwrap_or(first)
                .1,
        )
    }

    /// Whether the partner had been approved by the end of UTC day `day`.
    pub fn approved_by(&self, day: i64) -> bool {
        let end = (day + 1) * DAY_MS;
        let mut changes = self.0.iter();
        match changes.next() {
            None => false,
            Some((_, PartnerStatus::Approved)) => true,
            Some(_) => changes.any(|(at, s)| *s == PartnerStatus::Approved && *at < end),
        }
    }
}

/// The stage on a day from the counters up to it and its activity windows.
fn stage_of(
    approved: bool,
    day: i64,
    carry: &Carry,
    last_14: i64,
    prev_14: i64,
) -> (Stage, Option<Risk>) {
    if !approved {
        return (Stage::Applied, None);
    }
    match carry.conversion_days {
        0 if carry.clicked => return (Stage::FirstClick, None),
        0 => return (Stage::Approved, None),
        1 => return (Stage::FirstConversion, None),
        _ => {}
    }
    let idle = carry.last_active_day.map_or(i64::MAX, |last| day - last);
    if idle >= 30 {
        (Stage::Churned, Some(Risk::Inactive))
    } else if idle >= 14 {
        (Stage::AtRisk, Some(Risk::Inactive))
    } else if prev_14 > 0 && 2 * last_14 <= prev_14 {
        (Stage::AtRisk, Some(Risk::ActivityDrop))
    } else {
        (Stage::Active, None)
    }
}

/// Daily activity of one partner: day → (clicks, conversions).
pub type Activity = HashMap<i64, (i64, i64)>;

/// Walks one partner's days `[first, end)` from `carry` (its counters at the end of
/// `first - 1`). `activity` must hold the days from `first - LOOKBACK_DAYS` on.
pub fn walk(
    first: i64,
    end: i64,
    mut carry: Carry,
    activity: &Activity,
    status: &StatusHistory,
) -> Vec<DayStage> {
    let total = |day: i64| activity.get(&day).map_or(0, |(c, v)| c + v);
    let window = |last: i64| (last - 13..=last).map(total).sum::<i64>();
    let mut days = Vec::with_capacity(usize::try_from(end - first).unwrap_or(0));
    for day in first..end {
        let (clicks, conversions) = activity.get(&day).copied().unwrap_or_default();
        carry.clicked |= clicks > 0;
        if conversions > 0 {
            carry.conversion_days += 1;
        }
        if clicks + conversions > 0 {
            carry.last_active_day = Some(day);
        }
        let (last_14, prev_14) = (window(day), window(day - 14));
        let (stage, risk) = stage_of(status.approved_by(day), day, &carry, last_14, prev_14);
        days.push(DayStage {
            day,
            stage,
            risk,
            carry,
            last_14,
            prev_14,
        });
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn approved() -> StatusHistory {
        StatusHistory(vec![(0, PartnerStatus::Approved)])
    }

    fn stages(activity: &[(i64, i64, i64)], days: i64, status: &StatusHistory) -> Vec<Stage> {
        let activity: Activity = activity.iter().map(|(d, c, v)| (*d, (*c, *v))).collect();
        walk(0, days, Carry::default(), &activity, status)
            .iter()
            .map(|d| d.stage)
            .collect()
    }

    #[test]
    fn a_partner_walks_the_whole_journey() {
        let s = stages(&[(2, 5, 0), (4, 3, 1), (6, 4, 1)], 60, &approved());
        assert_eq!(s[0], Stage::Approved);
        assert_eq!(s[2], Stage::FirstClick);
        assert_eq!(s[4], Stage::FirstConversion);
        assert_eq!(s[6], Stage::Active);
        assert_eq!(s[19], Stage::Active, "13 idle days");
        assert_eq!(s[20], Stage::AtRisk, "14 idle days");
        assert_eq!(s[35], Stage::AtRisk, "29 idle days");
        assert_eq!(s[36], Stage::Churned, "30 idle days");
        assert_eq!(s[59], Stage::Churned);
    }

    #[test]
    fn a_drop_of_half_is_a_risk_and_less_is_not() {
        // 20 events a day for 14 days, then 10 a day: exactly half → at risk.
        let mut a: Vec<_> = (0..14).map(|d| (d, 20, i64::from(d % 7 == 0))).collect();
        a.extend((14..28).map(|d| (d, 10, 0)));
        let days = walk(
            0,
            28,
            Carry::default(),
            &a.iter().map(|(d, c, v)| (*d, (*c, *v))).collect(),
            &approved(),
        );
        let last = days.last().unwrap();
        assert_eq!((last.last_14, last.prev_14), (140, 282));
        assert_eq!(
            (last.stage, last.risk),
            (Stage::AtRisk, Some(Risk::ActivityDrop))
        );
        // 11 a day in the second half is a 45 % drop: still active.
        let mut a: Vec<_> = (0..14).map(|d| (d, 20, i64::from(d % 7 == 0))).collect();
        a.extend((14..28).map(|d| (d, 11, 0)));
        assert_eq!(*stages(&a, 28, &approved()).last().unwrap(), Stage::Active);
    }

    #[test]
    fn applied_until_approved_and_never_back_after_a_suspension() {
        let history = StatusHistory(vec![
            (0, PartnerStatus::Applied),
            (3 * DAY_MS + 5, PartnerStatus::Approved),
            (5 * DAY_MS, PartnerStatus::Suspended),
        ]);
        let s = stages(&[(1, 2, 0)], 7, &history);
        assert_eq!(&s[..3], &[Stage::Applied; 3]);
        assert_eq!(s[3], Stage::FirstClick, "clicks before approval count");
        assert_eq!(s[6], Stage::FirstClick);
        assert_eq!(history.at(DAY_MS), Some(PartnerStatus::Applied));
        assert_eq!(history.at(4 * DAY_MS), Some(PartnerStatus::Approved));
        assert_eq!(history.at(9 * DAY_MS), Some(PartnerStatus::Suspended));
        // Before the first record, the first recorded status holds.
        let created_later = StatusHistory(vec![(50 * DAY_MS, PartnerStatus::Approved)]);
        assert!(created_later.approved_by(2));
        assert_eq!(created_later.at(0), Some(PartnerStatus::Approved));
    }

    proptest! {
        /// Walking a range in two pieces, the second from the first's last carry, gives
        /// exactly the stages of walking it at once (what the daily cron relies on).
        #[test]
        fn walking_in_pieces_equals_walking_at_once(
            events in proptest::collection::vec((0i64..120, 0i64..4, 0i64..2), 0..60),
            split in 1i64..119,
        ) {
            let activity: Activity = events.iter().map(|(d, c, v)| (*d, (*c, *v))).collect();
            let status = approved();
            let whole = walk(0, 120, Carry::default(), &activity, &status);
            let mut pieces = walk(0, split, Carry::default(), &activity, &status);
            let carry = pieces.last().unwrap().carry;
            pieces.extend(walk(split, 120, carry, &activity, &status));
            prop_assert_eq!(whole, pieces);
        }
    }
}
