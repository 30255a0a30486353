//! A split test's results from its visitors and their conversions: each variant's numbers,
//! each treatment against the control (the first variant), the sample-ratio check, the
//! sample size the minimum detectable effect needs, and a verdict that names a winner only
//! once that size is reached. With several treatments the significance level is split
//! between them (Bonferroni), so the chance of any false winner stays `alpha`.

use serde::Serialize;

use super::split::Variant;
use super::stats::{
    compare_rates, mann_whitney, sample_ratio_p_value, sample_size_per_arm, verdict, welch,
    Summary, Verdict, SRM_ALPHA,
};
use crate::domain::money::{format_money, from_cents};

/// The power the sample size is planned for.
pub const POWER: f64 = 0.8;

/// A variant's traffic: its human clicks, and its visitors — the unit the split randomises
/// and the tests count (a visitor on a UTC day: its clicks that day are one unit, so a
/// visitor who comes back twice does not count twice and the tests stay calibrated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    pub variant: String,
    pub clicks: u64,
    pub visitors: u64,
}

/// One visitor that converted: its variant, sales, and money in cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertedVisitor {
    pub variant: String,
    pub sales: u64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateDifference {
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub test: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoneyDifference {
    /// Money per unit (per click in a split test, per partner in a commission
    /// experiment), treatment minus control, in the program's currency.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Welch's t-test.
    pub p_value: f64,
    /// The Mann–Whitney rank test beside it (robust to the long tail of order values).
    pub rank_p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub conversion_rate: Option<RateDifference>,
    pub revenue_per_visitor: Option<MoneyDifference>,
    pub verdict: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    pub name: String,
    pub weight: u32,
    pub destination: String,
    /// Human clicks while the test ran.
    pub clicks: u64,
    /// Visitors (one per visitor and UTC day): the units the tests count.
    pub visitors: u64,
    /// Visitors with at least one counted sale.
    pub conversions: u64,
    pub sales: u64,
    /// Converting visitors / visitors.
    pub conversion_rate: Option<f64>,
    pub revenue: String,
    pub revenue_per_click: Option<String>,
    pub revenue_per_visitor: Option<String>,
    pub commission: String,
    /// Revenue minus commission.
    pub profit: String,
    /// Against the control; `None` for the control itself.
    pub vs_control: Option<Comparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRatio {
    pub p_value: Option<f64>,
    pub mismatch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSize {
    /// Clicks each variant needs (from the control's conversion rate so far); `None`
    /// until the control has converted at least once.
    pub needed_per_variant: Option<u64>,
    pub smallest_variant: u64,
    pub reached: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub variants: Vec<VariantResult>,
    pub sample_ratio: SampleRatio,
    pub sample_size: SampleSize,
    /// The significance level each treatment is tested at (`alpha` / treatments).
    pub alpha_per_comparison: f64,
    /// `collecting_data`, `sample_ratio_mismatch`, `no_difference`, `treatment_better`
    /// or `control_better`, over all treatments.
    pub verdict: &'static str,
    /// The variant the results name, only once the verdict allows it.
    pub winner: Option<String>,
}

fn money(cents: i64) -> String {
    format_money(from_cents(cents))
}

/// The results of a split test with `variants` (the control first), the `traffic` of each
/// variant, and the visitors that converted.
pub fn compute(
    variants: &[Variant],
    traffic: &[Traffic],
    converted: &[ConvertedVisitor],
    alpha: f64,
    minimum_detectable_effect: f64,
) -> Results {
    let of = |name: &str, f: fn(&Traffic) -> u64| {
        traffic
            .iter()
            .filter(|t| t.variant == name)
            .map(f)
            .sum::<u64>()
    };
    let clicks_of = |name: &str| of(name, |t| t.visitors);
    let raw_clicks = |name: &str| of(name, |t| t.clicks);
    let per_variant: Vec<(u64, Vec<&ConvertedVisitor>)> = variants
        .iter()
        .map(|v| {
            let mine: Vec<&ConvertedVisitor> =
                converted.iter().filter(|c| c.variant == v.name).collect();
            (clicks_of(&v.name).max(mine.len() as u64), mine)
        })
        .collect();
    let treatments = variants.len().saturating_sub(1).max(1);
    let alpha_each = alpha / treatments as f64;

    // Revenue of every visitor (zero for the ones that did not convert).
    let values = |n: u64, mine: &[&ConvertedVisitor]| -> Vec<f64> {
        let mut values: Vec<f64> = mine
            .iter()
            .map(|c| c.revenue_cents as f64 / 100.0)
            .collect();
        values.resize(n as usize, 0.0);
        values
    };
    let (control_clicks, control_converted) = &per_variant[0];
    let control_conversions = control_converted.iter().filter(|c| c.sales > 0).count() as u64;
    let control_values = values(*control_clicks, control_converted);
    let control_summary = Summary::of(&control_values);

    let base_rate =
        (*control_clicks > 0).then(|| control_conversions as f64 / *control_clicks as f64);
    let needed = base_rate
        .and_then(|rate| sample_size_per_arm(rate, minimum_detectable_effect, alpha_each, POWER));
    let smallest = per_variant.iter().map(|(n, _)| *n).min().unwrap_or(0);
    let observed: Vec<u64> = per_variant.iter().map(|(n, _)| *n).collect();
    let weights: Vec<f64> = variants.iter().map(|v| f64::from(v.weight)).collect();
    let srm_p = sample_ratio_p_value(&observed, &weights);
    let mismatch = srm_p.is_some_and(|p| p < SRM_ALPHA);

    let mut verdicts = Vec::new();
    let results = variants
        .iter()
        .zip(&per_variant)
        .enumerate()
        .map(|(i, (variant, (n, mine)))| {
            let conversions = mine.iter().filter(|c| c.sales > 0).count() as u64;
            let revenue: i64 = mine.iter().map(|c| c.revenue_cents).sum();
            let commission: i64 = mine.iter().map(|c| c.commission_cents).sum();
            let vs_control = (i > 0).then(|| {
                let rates = compare_rates(
                    control_conversions,
                    *control_clicks,
                    conversions,
                    *n,
                    alpha_each,
                );
                let mine_values = values(*n, mine);
                let money = welch(&control_summary, &Summary::of(&mine_values), alpha_each)
                    .zip(mann_whitney(&control_values, &mine_values))
                    .map(|(w, r)| MoneyDifference {
                        difference: w.difference,
                        ci_low: w.ci_low,
                        ci_high: w.ci_high,
                        p_value: w.p_value,
                        rank_p_value: r.p_value,
                    });
                let judged = match (&rates, needed) {
                    (Some(r), Some(needed)) => {
                        verdict(r, smallest, needed, srm_p.unwrap_or(1.0), alpha_each)
                    }
                    _ if mismatch => Verdict::SampleRatioMismatch,
                    _ => Verdict::CollectingData,
                };
                verdicts.push((
                    variant.name.clone(),
                    judged,
                    rates.as_ref().map(|r| r.difference),
                ));
                Comparison {
                    conversion_rate: rates.map(|r| RateDifference {
                        difference: r.difference,
                        ci_low: r.ci_low,
                        ci_high: r.ci_high,
                        p_value: r.p_value,
                        test: r.test.as_str(),
                    }),
                    revenue_per_visitor: money,
                    verdict: judged.as_str(),
                }
            });
            VariantResult {
                name: variant.name.clone(),
                weight: variant.weight,
                destination: variant.destination.clone(),
                clicks: raw_clicks(&variant.name).max(*n),
                visitors: *n,
                conversions,
                sales: mine.iter().map(|c| c.sales).sum(),
                conversion_rate: (*n > 0).then(|| conversions as f64 / *n as f64),
                revenue: money(revenue),
                revenue_per_click: {
                    let clicks = raw_clicks(&variant.name).max(*n);
                    (clicks > 0).then(|| {
                        format_money(from_cents(revenue) / rust_decimal::Decimal::from(clicks))
                    })
                },
                revenue_per_visitor: (*n > 0)
                    .then(|| format_money(from_cents(revenue) / rust_decimal::Decimal::from(*n))),
                commission: money(commission),
                profit: money(revenue - commission),
                vs_control,
            }
        })
        .collect();

    let (overall, winner) = overall(&verdicts, variants, mismatch);
    Results {
        variants: results,
        sample_ratio: SampleRatio {
            p_value: srm_p,
            mismatch,
        },
        sample_size: SampleSize {
            needed_per_variant: needed,
            smallest_variant: smallest,
            reached: needed.is_some_and(|needed| smallest >= needed),
        },
        alpha_per_comparison: alpha_each,
        verdict: overall.as_str(),
        winner,
    }
}

/// The verdict over all treatments, and the winner it allows: the treatment that beat the
/// control by the most, or the control when every treatment lost to it.
fn overall(
    verdicts: &[(String, Verdict, Option<f64>)],
    variants: &[Variant],
    mismatch: bool,
) -> (Verdict, Option<String>) {
    if mismatch {
        return (Verdict::SampleRatioMismatch, None);
    }
    if verdicts
        .iter()
        .any(|(_, v, _)| *v == Verdict::CollectingData)
    {
        return (Verdict::CollectingData, None);
    }
    let best = verdicts
        .iter()
        .filter(|(_, v, _)| *v == Verdict::TreatmentBetter)
        .max_by(|a, b| a.2.unwrap_or(0.0).total_cmp(&b.2.unwrap_or(0.0)));
    if let Some((name, _, _)) = best {
        return (Verdict::TreatmentBetter, Some(name.clone()));
    }
    if !verdicts.is_empty()
        && verdicts
            .iter()
            .all(|(_, v, _)| *v == Verdict::ControlBetter)
    {
        return (
            Verdict::ControlBetter,
            variants.first().map(|v| v.name.clone()),
        );
    }
    (Verdict::NoDifference, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(names: &[&str]) -> Vec<Variant> {
        names
            .iter()
            .map(|n| Variant {
                name: (*n).into(),
                destination: format!("https://shop.example/{n}"),
                weight: 1,
            })
            .collect()
    }

    fn converted(variant: &str, count: usize, cents: i64) -> Vec<ConvertedVisitor> {
        (0..count)
            .map(|_| ConvertedVisitor {
                variant: variant.into(),
                sales: 1,
                revenue_cents: cents,
                commission_cents: cents / 10,
            })
            .collect()
    }

    fn traffic(pairs: &[(&str, u64)]) -> Vec<Traffic> {
        pairs
            .iter()
            .map(|(v, n)| Traffic {
                variant: (*v).into(),
                clicks: *n,
                visitors: *n,
            })
            .collect()
    }

    #[test]
    fn returning_visitors_are_one_unit_and_clicks_stay_reported() {
        let v = variants(&["control", "b"]);
        // 100 visitors a side who each clicked twice: 200 clicks, 100 units.
        let t = vec![
            Traffic {
                variant: "control".into(),
                clicks: 200,
                visitors: 100,
            },
            Traffic {
                variant: "b".into(),
                clicks: 200,
                visitors: 100,
            },
        ];
        let r = compute(&v, &t, &converted("control", 10, 1_000), 0.05, 0.2);
        let c = &r.variants[0];
        assert_eq!((c.clicks, c.visitors, c.conversions), (200, 100, 10));
        assert_eq!(c.conversion_rate, Some(0.1));
        assert_eq!(c.revenue_per_click.as_deref(), Some("0.50"));
        assert_eq!(c.revenue_per_visitor.as_deref(), Some("1.00"));
        assert_eq!(r.sample_size.smallest_variant, 100);
    }

    #[test]
    fn variants_add_up_to_the_cent_and_no_winner_shows_early() {
        let v = variants(&["control", "b"]);
        let mut sales = converted("control", 3, 10_000);
        sales.extend(converted("b", 5, 4_999));
        let r = compute(
            &v,
            &traffic(&[("control", 100), ("b", 98)]),
            &sales,
            0.05,
            0.2,
        );
        let [control, b] = &r.variants[..] else {
            panic!()
        };
        assert_eq!(
            (control.clicks, control.conversions, control.sales),
            (100, 3, 3)
        );
        assert_eq!(
            (
                control.revenue.as_str(),
                control.commission.as_str(),
                control.profit.as_str()
            ),
            ("300.00", "30.00", "270.00")
        );
        assert_eq!(control.revenue_per_click.as_deref(), Some("3.00"));
        assert_eq!(
            (b.revenue.as_str(), b.commission.as_str(), b.profit.as_str()),
            ("249.95", "24.95", "225.00")
        );
        assert_eq!(b.revenue_per_click.as_deref(), Some("2.55"));
        assert!(control.vs_control.is_none());
        let versus = b.vs_control.as_ref().unwrap();
        let rate = versus.conversion_rate.as_ref().unwrap();
        assert!((rate.difference - (5.0 / 98.0 - 0.03)).abs() < 1e-12);
        assert_eq!(rate.test, "fisher_exact");
        assert_eq!(versus.verdict, "collecting_data");
        assert_eq!((r.verdict, r.winner.as_deref()), ("collecting_data", None));
        let needed = r.sample_size.needed_per_variant.unwrap();
        assert!(needed > 10_000 && !r.sample_size.reached, "{needed}");
        assert!(!r.sample_ratio.mismatch);
    }

    #[test]
    fn a_winner_is_named_once_the_sample_is_reached() {
        let v = variants(&["control", "b"]);
        let mut sales = converted("control", 300, 5_000);
        sales.extend(converted("b", 420, 5_000));
        let r = compute(
            &v,
            &traffic(&[("control", 10_000), ("b", 10_000)]),
            &sales,
            0.05,
            0.5,
        );
        assert!(r.sample_size.reached, "{:?}", r.sample_size);
        assert_eq!(
            (r.verdict, r.winner.as_deref()),
            ("treatment_better", Some("b"))
        );
        let money = r.variants[1]
            .vs_control
            .as_ref()
            .unwrap()
            .revenue_per_visitor
            .as_ref()
            .unwrap();
        assert!(
            (money.difference - 0.6).abs() < 1e-9,
            "{}",
            money.difference
        );
        assert!(money.p_value < 0.05 && money.rank_p_value < 0.05);
    }

    #[test]
    fn a_broken_split_names_no_winner() {
        let v = variants(&["control", "b"]);
        let mut sales = converted("control", 300, 5_000);
        sales.extend(converted("b", 500, 5_000));
        let r = compute(
            &v,
            &traffic(&[("control", 10_000), ("b", 12_000)]),
            &sales,
            0.05,
            0.5,
        );
        assert!(r.sample_ratio.mismatch);
        assert_eq!((r.verdict, r.winner), ("sample_ratio_mismatch", None));
    }

    #[test]
    fn several_treatments_share_alpha_and_empty_arms_are_not_compared() {
        let v = variants(&["control", "b", "c"]);
        let r = compute(&v, &[], &[], 0.05, 0.2);
        assert!((r.alpha_per_comparison - 0.025).abs() < 1e-12);
        assert_eq!(r.variants[1].conversion_rate, None);
        assert_eq!(
            r.variants[1].vs_control.as_ref().unwrap().conversion_rate,
            None
        );
        assert_eq!(
            (r.verdict, r.sample_size.needed_per_variant),
            ("collecting_data", None)
        );
    }
}
