//! What a partner's portal reads and does beyond the reports: the programs the partner
//! is in, with the terms that apply to it, and links it creates itself to destinations
//! its program allows. A partner token is narrowed to its own partner (the route guard
//! sets `partner_id`); the admin key names the partner with `?partner_id=`.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::links::insert_new;
use super::Call;
use crate::domain::conversions::commission::Rule;
use crate::domain::money::format_money;
use crate::domain::program::allows_host;
use crate::domain::tracking::link::Destination;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::partners::PartnerRow;
use crate::storage::programs::{self, ProgramRow};
use crate::storage::{links, partners, promo_codes, rules};

#[derive(Serialize)]
struct RuleTerms {
    event: &'static str,
    kind: &'static str,
    value: String,
    from_monthly_sale: Option<u32>,
    /// Whom the rule is for: `you`, `your segment (blogger)` or `everyone`.
    applies_to: String,
}

#[derive(Serialize)]
struct ProgramTerms {
    id: String,
    name: String,
    currency: String,
    model: &'static str,
    timezone: String,
    attribution_window_days: i64,
    hold_days: i64,
    min_payout: String,
    click_id_param: String,
    partner_link_domains: Vec<String>,
    rules: Vec<RuleTerms>,
    /// The partner's live promo codes in this program.
    promo_codes: Vec<String>,
}

/// The partner the call is about (the token's own, or `?partner_id=` for the admin).
async fn partner(call: &Call<'_>) -> ApiResult<PartnerRow> {
    let id = call.param("partner_id").ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "partner_id is required")
            .with_field("partner_id")
    })?;
    partners::get(&call.store.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))
}

/// Whom `rule` pays among a program's partners, if it pays `partner` at all.
fn applies_to(rule: &Rule, partner: &PartnerRow) -> Option<String> {
    match (&rule.partner_id, rule.segment) {
        (Some(id), _) if *id == partner.id => Some("you".to_owned()),
        (Some(_), _) => None,
        (None, Some(segment)) if segment == partner.segment => {
            Some(format!("your segment ({})", segment.as_str()))
        }
        (None, Some(_)) => None,
        (None, None) => Some("everyone".to_owned()),
    }
}

fn terms(
    program: ProgramRow,
    rules: &[Rule],
    partner: &PartnerRow,
    promo_codes: Vec<String>,
) -> ProgramTerms {
    let rules = rules
        .iter()
        .filter_map(|rule| {
            Some(RuleTerms {
                applies_to: applies_to(rule, partner)?,
                event: rule.event.as_str(),
                kind: rule.kind.as_str(),
                value: rule.value.to_string(),
                from_monthly_sale: rule.from_monthly_sale,
            })
        })
        .collect();
    ProgramTerms {
        id: program.id,
        name: program.name,
        currency: program.currency,
        model: program.model.as_str(),
        timezone: program.timezone,
        attribution_window_days: program.attribution_window_days,
        hold_days: program.hold_days,
        min_payout: format_money(program.min_payout),
        click_id_param: program.click_id_param,
        partner_link_domains: program.partner_link_domains,
        rules,
        promo_codes,
    }
}

/// `GET /api/v1/partner-programs?partner_id=`: the programs the partner has links or
/// promo codes in, with their terms, the commission rules that pay this partner and its
/// codes.
pub async fn programs(call: &Call<'_>) -> ApiResult<Response> {
    let partner = partner(call).await?;
    let db = &call.store.db;
    let mut data = Vec::new();
    for id in links::programs_of_partner(db, &partner.id).await? {
        if let Some(program) = programs::get(db, &id).await? {
            let rules = rules::active_of_program(db, &program.id).await?;
            let codes = promo_codes::live_of_partner(db, &partner.id, &program.id)
                .await?
                .into_iter()
                .map(|code| code.code)
                .collect();
            data.push(terms(program, &rules, &partner, codes));
        }
    }
    Ok(respond::json(200, &serde_json::json!({ "data": data })))
}

/// `POST /api/v1/partner-links?partner_id=` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerLinkBody {
    program_id: String,
    destination: String,
}

/// `POST /api/v1/partner-links?partner_id=`: a link the partner creates itself, in a
/// program it is in, to a destination on one of the program's partner link domains.
pub async fn create_link(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<PartnerLinkBody>(call.req).await?;
    let partner = partner(call).await?;
    let db = &call.store.db;
    let enrolled = links::programs_of_partner(db, &partner.id).await?;
    let program = match programs::get(db, &body.program_id).await? {
        Some(program) if enrolled.contains(&program.id) => program,
        _ => {
            return Err(Invalid::new(
                "program_id",
                "unknown_reference",
                "this partner has no link in a program with this id",
            )
            .into())
        }
    };
    let destination = Destination::parse(&body.destination)?;
    if !allows_host(&program.partner_link_domains, destination.host()) {
        let allowed = if program.partner_link_domains.is_empty() {
            "this program does not let partners create links".to_owned()
        } else {
            format!(
                "partners of this program link to {} only",
                program.partner_link_domains.join(", ")
            )
        };
        return Err(Invalid::new("destination", "domain_not_allowed", allowed).into());
    }
    insert_new(call, program.id, partner.id, &destination, None).await
}
