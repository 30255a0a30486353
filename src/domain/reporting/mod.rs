//! The report engine's pure core: the vocabulary of reports (`Dimension`, `Metric`),
//! a parsed `ReportQuery`, and the step from facts (rollup sums, first sales, costs,
//! partners) to typed rows (`Cell`s) that every surface renders: the JSON and CSV
//! reports, the OData feed, and later the dashboard, scheduled reports and insights.
//!
//! Loading the facts from D1 is the service's job (`crate::reporting`); nothing here
//! knows about Workers, so all of it is unit-tested natively.
//!
//! Adding a KPI: a variant in `Metric` (with its name), then the compiler lists the
//! `match`es it must join: its kind, what it needs, and its value from the bases.
//! Adding a dimension: a variant in `Dimension`, then its kind, columns, filter, cells
//! and SQL columns (in `storage::reports`).

mod bases;
mod cell;
mod dimension;
mod metric;
mod network;
mod page;
mod partners;
mod period;
mod query;
mod rows;
pub mod xlsx;

pub use bases::Bases;
pub use cell::Cell;
pub use dimension::{Dimension, DimensionKind, Dims, Filter};
pub use metric::{parse_metrics, Metric, MetricKind, Needs};
pub use network::PartnerFacts;
pub use page::{Format, Paging, Table, DEFAULT_LIMIT, MAX_LIMIT};
pub use partners::{partner_table, JourneyStage, PartnerListing};
pub use period::{
    day_of_index, index_of_day, local_day, local_midnight, median_hours, month_of, offset_spans,
    week_of, OffsetSpan, MAX_DAYS,
};
pub use query::ReportQuery;
pub use rows::{build, Activity, Fact, ReportInputs, Row};

#[cfg(test)]
pub(crate) use query::parse_query;

/// Declares a closed vocabulary: the enum, every member in display order (`ALL`), and
/// each member's name as the API spells it.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every member, in the order reports show them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name the API, CSV headers and OData use.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|member| member.name() == raw)
            }
        }
    };
}
pub(crate) use vocabulary;
