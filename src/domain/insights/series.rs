//! The input: one value per calendar day, without gaps.

use chrono::{Days, NaiveDate};

use super::{ForecastError, MIN_HISTORY_DAYS};

/// At most this many of the most recent days are used (three years). Older history
/// says little about next month that the last three years do not, and the cap bounds
/// the nightly job's work per series.
pub const MAX_HISTORY_DAYS: usize = 3 * 365;

/// A daily series: `values[i]` is the total of day `start + i` (UTC calendar days).
///
/// The models assume equally spaced observations, so a day without activity must be
/// present as `0.0`, not missing: [`DailySeries::from_sparse`] fills such days in.
/// Start the series at the first day the program or partner could have had activity
/// (its creation), not before: leading zeros from before it existed would look like a
/// real quiet period and bend the trend.
#[derive(Debug, Clone, PartialEq)]
pub struct DailySeries {
    pub start: NaiveDate,
    pub values: Vec<f64>,
}

impl DailySeries {
    pub fn new(start: NaiveDate, values: Vec<f64>) -> Self {
        Self { start, values }
    }

    /// The days `first..=last` from `(day, value)` rows as a database returns them
    /// (for instance a `GROUP BY day` over a rollup table): a day with no row is 0, a
    /// day with several rows gets their sum, rows outside the range are ignored.
    pub fn from_sparse(
        first: NaiveDate,
        last: NaiveDate,
        rows: impl IntoIterator<Item = (NaiveDate, f64)>,
    ) -> Self {
        let len = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
        let mut values = vec![0.0; len];
        for (day, value) in rows {
            let Ok(i) = usize::try_from((day - first).num_days()) else {
                continue;
            };
            if let Some(slot) = values.get_mut(i) {
                *slot += value;
            }
        }
        Self::new(first, values)
    }

    /// The day of `values[i]`.
    pub fn day(&self, i: usize) -> NaiveDate {
        self.start
            .checked_add_days(Days::new(i as u64))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The last day with a value (the day before `start` for an empty series).
    pub fn last_day(&self) -> NaiveDate {
        match self.values.len() {
            0 => self.start.pred_opt().unwrap_or(NaiveDate::MIN),
            n => self.day(n - 1),
        }
    }

    /// The values the models see: the last [`MAX_HISTORY_DAYS`] at most, after
    /// checking there are enough of them and that each is a finite number.
    pub(crate) fn checked_history(&self) -> Result<&[f64], ForecastError> {
        let n = self.values.len();
        if n < MIN_HISTORY_DAYS {
            return Err(ForecastError::NotEnoughHistory {
                days: n,
                needed: MIN_HISTORY_DAYS,
            });
        }
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(ForecastError::NonFinite { day: self.day(i) });
        }
        Ok(&self.values[n.saturating_sub(MAX_HISTORY_DAYS)..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn sparse_rows_fill_missing_days_with_zero_and_sum_duplicates() {
        let s = DailySeries::from_sparse(
            date("2026-01-01"),
            date("2026-01-04"),
            [
                (date("2026-01-02"), 3.0),
                (date("2026-01-02"), 1.5),
                (date("2026-01-04"), 2.0),
                (date("2025-12-31"), 9.0),
                (date("2026-01-05"), 9.0),
            ],
        );
        assert_eq!(s.values, vec![0.0, 4.5, 0.0, 2.0]);
        assert_eq!(s.last_day(), date("2026-01-04"));
        assert_eq!(s.day(1), date("2026-01-02"));
    }

    #[test]
    fn history_is_checked_and_capped() {
        let short = DailySeries::new(date("2026-01-01"), vec![1.0; MIN_HISTORY_DAYS - 1]);
        assert_eq!(
            short.checked_history(),
            Err(ForecastError::NotEnoughHistory {
                days: MIN_HISTORY_DAYS - 1,
                needed: MIN_HISTORY_DAYS
            })
        );
        let mut values = vec![1.0; 40];
        values[3] = f64::NAN;
        let nan = DailySeries::new(date("2026-01-01"), values);
        assert_eq!(
            nan.checked_history(),
            Err(ForecastError::NonFinite {
                day: date("2026-01-04")
            })
        );
        let long = DailySeries::new(date("2020-01-01"), vec![1.0; MAX_HISTORY_DAYS + 10]);
        assert_eq!(long.checked_history().unwrap().len(), MAX_HISTORY_DAYS);
    }
}
