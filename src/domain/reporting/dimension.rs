//! What a report can be grouped and filtered by: each dimension's name, kind, output
//! columns, filter parameter and cell values. (Its SQL columns live with the report
//! queries in `storage::reports`.)

use chrono::NaiveDate;

use super::period::{month_start, week_of};
use super::{vocabulary, Cell};

vocabulary!(
    /// A `group_by` member, in the order report columns appear.
    Dimension {
        Day = "day",
        Week = "week",
        Month = "month",
        Program = "program",
        Partner = "partner",
        Link = "link",
        Material = "material",
        Country = "country",
        Device = "device",
        Source = "source",
        Attribution = "attribution",
        Variant = "variant",
        Segment = "segment",
        Model = "model",
    }
);

/// How a dimension shows in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    /// A stretch of local days: one date column.
    Period,
    /// Something with an id and a name beside it: two columns.
    Entity,
    /// A plain value: one column.
    Attribute,
}

/// The non-period dimension values of a fact, with the names shown beside ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(default)]
pub struct Dims {
    pub program_id: Option<String>,
    pub program_name: Option<String>,
    pub partner_id: Option<String>,
    pub partner_name: Option<String>,
    pub link_id: Option<String>,
    pub link_code: Option<String>,
    /// The partner material of clicks, impressions and their conversions (`''` without).
    pub material_id: Option<String>,
    pub material_name: Option<String>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub source: Option<String>,
    /// How conversions found their partner: `click`, `promo_code` or `customer`.
    pub attribution: Option<String>,
    /// The split-test variant of clicks and their conversions (`''` outside tests).
    pub variant: Option<String>,
    pub segment: Option<String>,
    pub model: Option<String>,
}

impl Dimension {
    pub fn kind(self) -> DimensionKind {
        use Dimension::*;
        match self {
            Day | Week | Month => DimensionKind::Period,
            Program | Partner | Link | Material => DimensionKind::Entity,
            Country | Device | Source | Attribution | Variant | Segment | Model => {
                DimensionKind::Attribute
            }
        }
    }

    pub fn is_period(self) -> bool {
        self.kind() == DimensionKind::Period
    }

    /// The columns this dimension adds to a row.
    pub fn columns(self) -> &'static [&'static str] {
        use Dimension::*;
        match self {
            Day => &["day"],
            Week => &["week"],
            Month => &["month"],
            Program => &["program_id", "program_name"],
            Partner => &["partner_id", "partner_name"],
            Link => &["link_id", "link_code"],
            Material => &["material_id", "material_name"],
            Country => &["country"],
            Device => &["device"],
            Source => &["source"],
            Attribution => &["attribution"],
            Variant => &["variant"],
            Segment => &["segment"],
            Model => &["model"],
        }
    }

    /// The query parameter that filters on this dimension, if any.
    pub fn filter_parameter(self) -> Option<&'static str> {
        use Dimension::*;
        match self {
            Day | Week | Month | Source => None,
            Program => Some("program_id"),
            Partner => Some("partner_id"),
            Link => Some("link_id"),
            Material => Some("material_id"),
            Country => Some("country"),
            Device => Some("device"),
            Attribution => Some("attribution"),
            Variant => Some("variant"),
            Segment => Some("segment"),
            Model => Some("model"),
        }
    }

    /// Whether program costs (which belong to a program and a day only) still belong in
    /// rows split by, or filtered on, this dimension (`kpis.md`).
    pub fn keeps_costs(self) -> bool {
        use Dimension::*;
        match self {
            Day | Week | Month | Program | Model => true,
            Partner | Link | Material | Country | Device | Source | Attribution | Variant
            | Segment => false,
        }
    }

    /// The value that identifies a fact's member of this dimension (its id, or the
    /// attribute), `None` for periods.
    pub fn key(self, dims: &Dims) -> Option<&str> {
        use Dimension::*;
        match self {
            Day | Week | Month => None,
            Program => dims.program_id.as_deref(),
            Partner => dims.partner_id.as_deref(),
            // Promo-code conversions have no link (an empty one).
            Link => dims.link_id.as_deref().filter(|l| !l.is_empty()),
            // Events without a material are stored with an empty one.
            Material => dims.material_id.as_deref().filter(|m| !m.is_empty()),
            // Clicks without a known country are stored with an empty one.
            Country => dims.country.as_deref().filter(|c| !c.is_empty()),
            Device => dims.device.as_deref(),
            Source => dims.source.as_deref(),
            Attribution => dims.attribution.as_deref(),
            // Outside split tests the variant is stored empty.
            Variant => dims.variant.as_deref().filter(|v| !v.is_empty()),
            Segment => dims.segment.as_deref(),
            Model => dims.model.as_deref(),
        }
    }

    /// The name shown beside an entity's id.
    fn label(self, dims: &Dims) -> Option<&str> {
        match self {
            Dimension::Program => dims.program_name.as_deref(),
            Dimension::Partner => dims.partner_name.as_deref(),
            Dimension::Link => dims.link_code.as_deref(),
            Dimension::Material => dims.material_name.as_deref(),
            _ => None,
        }
    }

    /// Appends this dimension's cells for a fact of local day `day` with `dims`.
    pub fn push_cells(self, day: NaiveDate, dims: &Dims, cells: &mut Vec<Cell>) {
        match self {
            Dimension::Day => cells.push(Cell::Date(day)),
            Dimension::Week => cells.push(Cell::Date(week_of(day))),
            Dimension::Month => cells.push(Cell::Month(month_start(day))),
            _ => {
                cells.push(Cell::text(self.key(dims)));
                if self.kind() == DimensionKind::Entity {
                    cells.push(Cell::text(self.label(dims)));
                }
            }
        }
    }
}

/// `dimension = value`: a report filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dimension: Dimension,
    pub value: String,
}

impl Filter {
    /// Every filter parameter present, in dimension order.
    pub fn from_parameters(param: impl Fn(&str) -> Option<String>) -> Vec<Filter> {
        Dimension::ALL
            .iter()
            .filter_map(|d| {
                let value = param(d.filter_parameter()?)?;
                Some(Filter {
                    dimension: *d,
                    value,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_show_their_names_beside_their_ids() {
        let dims = Dims {
            partner_id: Some("ptn_1".into()),
            partner_name: Some("Ann".into()),
            country: Some(String::new()),
            ..Dims::default()
        };
        let day: NaiveDate = "2026-11-05".parse().unwrap();
        let mut cells = Vec::new();
        for d in [Dimension::Week, Dimension::Partner, Dimension::Country] {
            d.push_cells(day, &dims, &mut cells);
        }
        assert_eq!(
            cells,
            vec![
                Cell::Date("2026-11-02".parse().unwrap()),
                Cell::Text("ptn_1".into()),
                Cell::Text("Ann".into()),
                Cell::Null,
            ]
        );
    }

    #[test]
    fn every_dimension_has_as_many_cells_as_columns() {
        let day: NaiveDate = "2026-11-05".parse().unwrap();
        for d in Dimension::ALL {
            let mut cells = Vec::new();
            d.push_cells(day, &Dims::default(), &mut cells);
            assert_eq!(cells.len(), d.columns().len(), "{d:?}");
            assert_eq!(Dimension::parse(d.name()), Some(*d));
        }
    }

    #[test]
    fn filters_are_read_in_dimension_order() {
        let filters = Filter::from_parameters(|name| match name {
            "model" => Some("sales".into()),
            "program_id" => Some("prg_1".into()),
            _ => None,
        });
        let got: Vec<_> = filters
            .iter()
            .map(|f| (f.dimension, f.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(Dimension::Program, "prg_1"), (Dimension::Model, "sales")]
        );
    }
}
