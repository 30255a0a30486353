//! Commission experiments: a new commission rule for a random share of a program's
//! partners (the treatment) for a fixed period, the rest as the control. Partners are
//! assigned within strata of similar prior revenue, so a few big partners cannot all land
//! in one arm by chance. The partner is the unit that was randomised, so the results
//! compare money per partner (Welch's t-test with a rank test beside it), never per click.

use serde::{Deserialize, Serialize};

use super::results::{MoneyDifference, SampleRatio, SampleSize, POWER};
use super::stats::{
    mann_whitney, sample_ratio_p_value, sample_size_for_means, welch, Summary, Verdict, SRM_ALPHA,
};
use crate::domain::conversions::commission::{NewRule, Rule};
use crate::domain::money::{format_money, from_cents};
use crate::domain::Invalid;

pub const CONTROL: &str = "control";
pub const TREATMENT: &str = "treatment";
/// Partners per stratum (neighbours by prior revenue).
pub const STRATUM_SIZE: usize = 10;
/// Each arm needs at least this many partners for a test to exist at all.
pub const MIN_PARTNERS_PER_ARM: usize = 2;

/// The rule the treatment gets, as stored with the experiment. It applies to the
/// treatment's partners as if it were their own partner rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentRule {
    pub event: String,
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_monthly_sale: Option<u32>,
}

impl ExperimentRule {
    /// Checks the rule as a commission rule (the same limits) and answers it normalised.
    pub fn parse(raw: Self) -> Result<(Self, NewRule), Invalid> {
        let rule = NewRule::parse(
            &raw.event,
            &raw.kind,
            &raw.value,
            false,
            None,
            raw.from_monthly_sale,
        )
        .map_err(|e| Invalid::new("rule", e.code, format!("rule.{}: {}", e.field, e.message)))?;
        let normal = Self {
            event: rule.event.as_str().to_owned(),
            kind: rule.kind.as_str().to_owned(),
            value: rule.value.normalize().to_string(),
            from_monthly_sale: rule.from_monthly_sale,
        };
        Ok((normal, rule))
    }

    /// The rule as the commission engine takes it for a treatment partner: a partner rule
    /// (the most specific level), known by the experiment's id.
    pub fn for_partner(
        &self,
        experiment_id: &str,
        partner_id: &str,
        created_at: i64,
    ) -> Result<Rule, Invalid> {
        let (_, rule) = Self::parse(self.clone())?;
        Ok(Rule {
            id: experiment_id.to_owned(),
            event: rule.event,
            kind: rule.kind,
            value: rule.value,
            partner_id: Some(partner_id.to_owned()),
            segment: None,
            from_monthly_sale: rule.from_monthly_sale,
            created_at,
        })
    }
}

/// A partner who may take part, and what it sold in the period before the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub partner_id: String,
    pub prior_revenue_cents: i64,
}

/// A partner's arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub partner_id: String,
    pub arm: String,
    /// 0 for the partners with the most prior revenue, then 1, …
    pub stratum: u32,
    pub prior_revenue_cents: i64,
}

/// SplitMix64: a small, well-mixed generator; seeded from the platform's CSPRNG by the
/// caller, so no one can predict (or steer) which partners get the new rule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Assigns `candidates` to the arms: sorted by prior revenue (most first), cut into strata
/// of [`STRATUM_SIZE`], and within each stratum a random `treatment_share` of it (the
/// rounding carried from stratum to stratum, so the treatment is `round(n × share)` in
/// all) gets the treatment.
pub fn assign(mut candidates: Vec<Candidate>, treatment_share: f64, seed: u64) -> Vec<Member> {
    candidates.sort_by(|a, b| {
        b.prior_revenue_cents
            .cmp(&a.prior_revenue_cents)
            .then_with(|| a.partner_id.cmp(&b.partner_id))
    });
    let mut rng = SplitMix64(seed);
    let target = |end: usize| (end as f64 * treatment_share).round() as usize;
    let mut members = Vec::with_capacity(candidates.len());
    for (stratum, chunk) in candidates.chunks(STRATUM_SIZE).enumerate() {
        let start = stratum * STRATUM_SIZE;
        let treated = target(start + chunk.len()).saturating_sub(target(start));
        // A partial Fisher–Yates shuffle picks `treated` of the stratum.
        let mut order: Vec<usize> = (0..chunk.len()).collect();
        for i in 0..treated.min(chunk.len()) {
            let j = i + rng.below((chunk.len() - i) as u64) as usize;
            order.swap(i, j);
        }
        let mut arms = vec![CONTROL; chunk.len()];
        for &i in &order[..treated.min(chunk.len())] {
            arms[i] = TREATMENT;
        }
        members.extend(chunk.iter().zip(arms).map(|(c, arm)| Member {
            partner_id: c.partner_id.clone(),
            arm: arm.to_owned(),
            stratum: stratum as u32,
            prior_revenue_cents: c.prior_revenue_cents,
        }));
    }
    members
}

/// What a member did while the experiment ran.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub partner_id: String,
    pub clicks: u64,
    pub sales: u64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmResult {
    pub name: String,
    pub partners: u64,
    pub clicks: u64,
    pub sales: u64,
    /// Sales per click of the arm's partners.
    pub conversion_rate: Option<f64>,
    pub revenue: String,
    pub commission: String,
    /// Revenue minus commission.
    pub profit: String,
    /// The balance check: what the arm's partners sold per partner before the start.
    pub prior_revenue_per_partner: Option<String>,
    pub revenue_per_partner: Option<String>,
    pub commission_per_partner: Option<String>,
    pub profit_per_partner: Option<String>,
    /// Against the control; `None` for the control itself.
    pub vs_control: Option<PartnerComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerComparison {
    /// The primary measure: profit per partner (what the program keeps).
    pub profit_per_partner: Option<MoneyDifference>,
    pub revenue_per_partner: Option<MoneyDifference>,
    pub commission_per_partner: Option<MoneyDifference>,
    pub verdict: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommissionResults {
    pub variants: Vec<ArmResult>,
    pub sample_ratio: SampleRatio,
    /// In partners: from the spread of partners' prior revenue (its coefficient of
    /// variation) and the minimum detectable effect.
    pub sample_size: SampleSize,
    pub period_over: bool,
    pub alpha_per_comparison: f64,
    /// `collecting_data` until the period is over; then `sample_ratio_mismatch`,
    /// `underpowered` (too few partners for the minimum detectable effect),
    /// `no_difference`, `treatment_better` or `control_better` on profit per partner.
    pub verdict: &'static str,
    pub winner: Option<String>,
}

fn money(cents: i64) -> String {
    format_money(from_cents(cents))
}

fn per_partner(cents: i64, partners: u64) -> Option<String> {
    (partners > 0).then(|| format_money(from_cents(cents) / rust_decimal::Decimal::from(partners)))
}

fn compare(
    control: &[f64],
    treatment: &[f64],
    alpha: f64,
) -> Option<(MoneyDifference, super::stats::MeanComparison)> {
    let w = welch(&Summary::of(control), &Summary::of(treatment), alpha)?;
    let r = mann_whitney(control, treatment)?;
    Some((
        MoneyDifference {
            difference: w.difference,
            ci_low: w.ci_low,
            ci_high: w.ci_high,
            p_value: w.p_value,
            rank_p_value: r.p_value,
        },
        w,
    ))
}

/// The results of a commission experiment: `members` as assigned, `outcomes` of those who
/// did anything while it ran (the rest did nothing, and count as zeros), whether its
/// period is over, at `alpha` with the relative `minimum_detectable_effect` and the
/// planned `treatment_share`.
pub fn compute(
    members: &[Member],
    outcomes: &[Outcome],
    treatment_share: f64,
    period_over: bool,
    alpha: f64,
    minimum_detectable_effect: f64,
) -> CommissionResults {
    let outcome_of = |id: &str| outcomes.iter().find(|o| o.partner_id == id);
    let arm = |name: &str| -> Vec<(&Member, Outcome)> {
        members
            .iter()
            .filter(|m| m.arm == name)
            .map(|m| (m, outcome_of(&m.partner_id).cloned().unwrap_or_default()))
            .collect()
    };
    let (control, treatment) = (arm(CONTROL), arm(TREATMENT));
    let measure = |rows: &[(&Member, Outcome)], f: fn(&Outcome) -> i64| -> Vec<f64> {
        rows.iter().map(|(_, o)| f(o) as f64 / 100.0).collect()
    };
    let profit = |o: &Outcome| o.revenue_cents - o.commission_cents;
    let revenue = |o: &Outcome| o.revenue_cents;
    let commission = |o: &Outcome| o.commission_cents;

    let primary = compare(
        &measure(&control, profit),
        &measure(&treatment, profit),
        alpha,
    );
    let observed = [control.len() as u64, treatment.len() as u64];
    let srm_p = sample_ratio_p_value(&observed, &[1.0 - treatment_share, treatment_share]);
    let mismatch = srm_p.is_some_and(|p| p < SRM_ALPHA);
    let prior: Vec<f64> = members
        .iter()
        .map(|m| m.prior_revenue_cents as f64 / 100.0)
        .collect();
    let prior = Summary::of(&prior);
    let needed = sample_size_for_means(
        prior.mean,
        prior.variance.sqrt(),
        minimum_detectable_effect,
        alpha,
        POWER,
    )
    .map(|n| n.max(MIN_PARTNERS_PER_ARM as u64));
    let smallest = observed.iter().copied().min().unwrap_or(0);
    let reached = needed.is_some_and(|n| smallest >= n);
    let overall = if mismatch {
        Verdict::SampleRatioMismatch
    } else if !period_over {
        Verdict::CollectingData
    } else if !reached {
        Verdict::Underpowered
    } else {
        match &primary {
            None => Verdict::Underpowered,
            Some((_, w)) if w.p_value >= alpha => Verdict::NoDifference,
            Some((_, w)) if w.difference > 0.0 => Verdict::TreatmentBetter,
            Some(_) => Verdict::ControlBetter,
        }
    };
    let comparison_verdict = overall.as_str();
    let winner = match overall {
        Verdict::TreatmentBetter => Some(TREATMENT.to_owned()),
        Verdict::ControlBetter => Some(CONTROL.to_owned()),
        _ => None,
    };

    let summarise = |name: &str, rows: &[(&Member, Outcome)], vs: Option<PartnerComparison>| {
        let n = rows.len() as u64;
        let sum = |f: fn(&Outcome) -> i64| rows.iter().map(|(_, o)| f(o)).sum::<i64>();
        let (rev, com) = (sum(revenue), sum(commission));
        let clicks: u64 = rows.iter().map(|(_, o)| o.clicks).sum();
        let sales: u64 = rows.iter().map(|(_, o)| o.sales).sum();
        let prior: i64 = rows.iter().map(|(m, _)| m.prior_revenue_cents).sum();
        ArmResult {
            name: name.to_owned(),
            partners: n,
            clicks,
            sales,
            conversion_rate: (clicks > 0).then(|| sales as f64 / clicks as f64),
            revenue: money(rev),
            commission: money(com),
            profit: money(rev - com),
            prior_revenue_per_partner: per_partner(prior, n),
            revenue_per_partner: per_partner(rev, n),
            commission_per_partner: per_partner(com, n),
            profit_per_partner: per_partner(rev - com, n),
            vs_control: vs,
        }
    };
    let vs = PartnerComparison {
        profit_per_partner: primary.map(|(d, _)| d),
        revenue_per_partner: compare(
            &measure(&control, revenue),
            &measure(&treatment, revenue),
            alpha,
        )
        .map(|(d, _)| d),
        commission_per_partner: compare(
            &measure(&control, commission),
            &measure(&treatment, commission),
            alpha,
        )
        .map(|(d, _)| d),
        verdict: comparison_verdict,
    };
    CommissionResults {
        variants: vec![
            summarise(CONTROL, &control, None),
            summarise(TREATMENT, &treatment, Some(vs)),
        ],
        sample_ratio: SampleRatio {
            p_value: srm_p,
            mismatch,
        },
        sample_size: SampleSize {
            needed_per_variant: needed,
            smallest_variant: smallest,
            reached,
        },
        period_over,
        alpha_per_comparison: alpha,
        verdict: overall.as_str(),
        winner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                partner_id: format!("prt_{i:04}"),
                // A long tail: a few partners sell most.
                prior_revenue_cents: (1_000_000 / (i as i64 + 1)) * 100,
            })
            .collect()
    }

    fn treated(members: &[Member]) -> Vec<&Member> {
        members.iter().filter(|m| m.arm == TREATMENT).collect()
    }

    #[test]
    fn assignment_is_stratified_by_prior_revenue_and_keeps_the_share() {
        let members = assign(candidates(95), 0.3, 42);
        assert_eq!(members.len(), 95);
        // round(95 × 0.3) = 29 in all, and each stratum of 10 gets its 3 (the rounding
        // carried over: 3, 3, …, and 2 of the last 5 since round(95 × 0.3) − round(90 × 0.3) = 2).
        assert_eq!(treated(&members).len(), 29);
        for stratum in 0..9 {
            let in_stratum = members.iter().filter(|m| m.stratum == stratum);
            assert_eq!(in_stratum.filter(|m| m.arm == TREATMENT).count(), 3);
        }
        // The strata are neighbours by revenue: stratum 0 holds the top ten sellers.
        let top: Vec<&str> = members
            .iter()
            .filter(|m| m.stratum == 0)
            .map(|m| m.partner_id.as_str())
            .collect();
        assert_eq!(top.len(), 10);
        assert!(top.contains(&"prt_0000") && top.contains(&"prt_0009"));
    }

    #[test]
    fn assignment_is_random_but_reproducible_from_its_seed() {
        let a = assign(candidates(40), 0.5, 1);
        let b = assign(candidates(40), 0.5, 1);
        let c = assign(candidates(40), 0.5, 2);
        assert_eq!(a, b);
        assert_ne!(treated(&a), treated(&c));
    }

    #[test]
    fn stratification_balances_prior_revenue_better_than_chance() {
        // Over many seeds, the treatment's share of prior revenue stays near the share of
        // partners; with no strata one seller of 1/3 of all revenue would swing it wildly.
        let pool = candidates(60);
        let total: i64 = pool.iter().map(|c| c.prior_revenue_cents).sum();
        let mut worst: f64 = 0.0;
        for seed in 0..200 {
            let members = assign(pool.clone(), 0.5, seed);
            let t: i64 = treated(&members)
                .iter()
                .map(|m| m.prior_revenue_cents)
                .sum();
            worst = worst.max((t as f64 / total as f64 - 0.5).abs());
        }
        // The top stratum holds partners 1..10 (1, 1/2, … of the top seller); the worst
        // split of that stratum moves the share by less than this.
        assert!(worst < 0.36, "{worst}");
        let members = assign(pool, 0.5, 7);
        assert_eq!(treated(&members).len(), 30);
    }

    #[test]
    fn rules_are_validated_like_commission_rules() {
        let raw = ExperimentRule {
            event: "sale".into(),
            kind: "percent".into(),
            value: "12.50".into(),
            from_monthly_sale: None,
        };
        let (rule, _) = ExperimentRule::parse(raw.clone()).unwrap();
        assert_eq!(rule.value, "12.5");
        let bad = ExperimentRule {
            value: "101".into(),
            ..raw.clone()
        };
        let error = ExperimentRule::parse(bad).unwrap_err();
        assert_eq!((error.field, error.code), ("rule", "out_of_range"));
        let refund = ExperimentRule {
            event: "refund".into(),
            ..raw
        };
        assert!(ExperimentRule::parse(refund).is_err());
    }

    fn members(arm: &str, n: usize, prior: i64) -> Vec<Member> {
        (0..n)
            .map(|i| Member {
                partner_id: format!("{arm}_{i}"),
                arm: arm.into(),
                stratum: 0,
                prior_revenue_cents: prior,
            })
            .collect()
    }

    fn sold(id: &str, sales: u64, revenue: i64, commission: i64) -> Outcome {
        Outcome {
            partner_id: id.into(),
            clicks: sales * 10,
            sales,
            revenue_cents: revenue,
            commission_cents: commission,
        }
    }

    #[test]
    fn arms_add_up_to_the_cent_and_partners_without_sales_count_as_zero() {
        let mut all = members(CONTROL, 3, 10_000);
        all.extend(members(TREATMENT, 3, 10_000));
        let outcomes = [
            sold("control_0", 1, 10_000, 1_000),
            sold("control_1", 2, 20_001, 2_000),
            sold("treatment_0", 3, 30_000, 4_500),
        ];
        let r = compute(&all, &outcomes, 0.5, false, 0.05, 0.2);
        let [c, t] = &r.variants[..] else { panic!() };
        assert_eq!((c.partners, c.sales, c.clicks), (3, 3, 30));
        assert_eq!(
            (c.revenue.as_str(), c.commission.as_str(), c.profit.as_str()),
            ("300.01", "30.00", "270.01")
        );
        // 300.01 / 3 = 100.0033… → 100.00; 270.01 / 3 → 90.00.
        assert_eq!(c.revenue_per_partner.as_deref(), Some("100.00"));
        assert_eq!(c.profit_per_partner.as_deref(), Some("90.00"));
        assert_eq!(t.profit.as_str(), "255.00");
        assert_eq!(t.profit_per_partner.as_deref(), Some("85.00"));
        assert_eq!(c.prior_revenue_per_partner.as_deref(), Some("100.00"));
        // The period runs: no verdict, no winner, whatever the numbers.
        assert_eq!((r.verdict, r.winner.as_deref()), ("collecting_data", None));
        let d = t.vs_control.as_ref().unwrap();
        let profit = d.profit_per_partner.as_ref().unwrap();
        assert!((profit.difference - (85.0 - 90.003_333)).abs() < 0.001);
    }

    #[test]
    fn a_winner_needs_the_period_over_and_enough_partners() {
        // Every control partner keeps 90.00, every treatment partner 120.00 to 122.00.
        let mut all = members(CONTROL, 6, 10_000);
        all.extend(members(TREATMENT, 6, 10_000));
        let mut outcomes: Vec<Outcome> = (0..6)
            .map(|i| sold(&format!("control_{i}"), 1, 10_000 + i, 1_000 + i))
            .collect();
        outcomes.extend((0..6).map(|i| sold(&format!("treatment_{i}"), 2, 15_000 + 40 * i, 3_000)));
        let open = compute(&all, &outcomes, 0.5, false, 0.05, 0.2);
        assert_eq!(open.verdict, "collecting_data");
        let over = compute(&all, &outcomes, 0.5, true, 0.05, 0.2);
        // Equal prior revenue: no spread, so the minimum (2 a side) is enough.
        assert_eq!(over.sample_size.needed_per_variant, Some(2));
        assert_eq!(
            (over.verdict, over.winner.as_deref()),
            ("treatment_better", Some(TREATMENT))
        );
        // Spread-out prior revenue needs more partners than six a side.
        let mut spread = all.clone();
        for (i, m) in spread.iter_mut().enumerate() {
            m.prior_revenue_cents = if i % 2 == 0 { 100 } else { 100_000 };
        }
        let under = compute(&spread, &outcomes, 0.5, true, 0.05, 0.2);
        assert!(under.sample_size.needed_per_variant.unwrap() > 6);
        assert_eq!((under.verdict, under.winner), ("underpowered", None));
    }
}
