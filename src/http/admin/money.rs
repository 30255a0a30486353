//! `/api/v1/payouts`, `/api/v1/balances` and `/api/v1/costs`: the money side of a program.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::money::cost::NewCost;
use crate::domain::money::payout::{PayoutStatus, Transfer, TransferChanges};
use crate::domain::money::{format_money, from_cents, to_cents};
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::costs::{self, CostRow};
use crate::storage::payouts::{self, PayoutRow};
use crate::storage::programs::{self, ProgramRow};

#[derive(Serialize)]
struct PayoutView {
    id: String,
    program_id: String,
    partner_id: String,
    amount: String,
    currency: String,
    conversions: i64,
    created_at: String,
    statement_url: String,
    /// `pending` until the manager records the transfer, then `paid`.
    status: String,
    paid_at: Option<String>,
    reference: Option<String>,
}

fn payout_view(origin: &str, row: PayoutRow) -> PayoutView {
    PayoutView {
        statement_url: format!("{origin}/api/v1/payouts/{}/statement.csv", row.id),
        id: row.id,
        program_id: row.program_id,
        partner_id: row.partner_id,
        amount: format_money(from_cents(row.amount_cents)),
        currency: row.currency,
        conversions: row.conversions,
        created_at: rfc3339(row.created_at),
        status: row.status,
        paid_at: row.paid_at.map(rfc3339),
        reference: row.reference,
    }
}

async fn program(call: &Call<'_>, field: &'static str, id: &str) -> ApiResult<ProgramRow> {
    programs::get(&call.store.db, id)
        .await?
        .ok_or_else(|| Invalid::new(field, "unknown_reference", "no program has this id").into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutRun {
    program_id: String,
}

#[derive(Serialize)]
struct RunView {
    data: Vec<PayoutView>,
}

/// Pays every partner of the program whose approved, unpaid commissions reach the
/// program's minimum payout. Calling it again pays nothing twice.
pub async fn run(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<PayoutRun>(call.req).await?;
    let program = program(call, "program_id", &body.program_id).await?;
    let min = program.min_payout;
    let min_cents = to_cents(min).unwrap_or(i64::MAX);
    let created = payouts::run(
        &call.store.db,
        &program.id,
        &program.currency,
        min_cents,
        call.now,
        || new_id("pay"),
    )
    .await?;
    let data = created
        .into_iter()
        .map(|row| payout_view(&call.origin, row))
        .collect();
    Ok(respond::json(201, &RunView { data }))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let partner_id = call.param("partner_id");
    let page = payouts::list(
        &call.store.db,
        program_id.as_deref(),
        partner_id.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let key = |row: &PayoutRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, |row| {
        payout_view(&call.origin, row)
    }))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<PayoutRow> {
    payouts::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payout"))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(
        200,
        &payout_view(&call.origin, find(call, id).await?),
    ))
}

/// `PATCH /api/v1/payouts/{id}` as it arrives: the transfer only; a payout's partner,
/// amount and conversions are fixed by its run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    paid_at: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

/// Records a payout's transfer: `{"status": "paid", "reference": "…"}` marks it paid now
/// (or at `paid_at`); `{"status": "pending"}` undoes that.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<TransferBody>(call.req).await?;
    let row = find(call, id).await?;
    let current = Transfer {
        status: PayoutStatus::parse(&row.status)?,
        paid_at: row.paid_at,
        reference: row.reference.clone(),
    };
    let changes = TransferChanges {
        status: body.status,
        paid_at: body.paid_at,
        reference: body.reference,
    };
    let transfer = current.changed(changes, row.created_at, call.now)?;
    if transfer != current {
        payouts::set_transfer(&call.store.db, id, &transfer).await?;
    }
    get(call, id).await
}

/// Quotes a CSV field when it needs it.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The statement of one payout as CSV: one line per conversion it pays.
pub async fn statement(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let payout = find(call, id).await?;
    let mut csv = String::from(
        "payout_id,partner_id,conversion_id,event,order_id,ts,amount,commission,currency\n",
    );
    for line in payouts::lines(&call.store.db, id).await? {
        let fields = [
            payout.id.clone(),
            payout.partner_id.clone(),
            line.id,
            line.event,
            line.order_id.unwrap_or_default(),
            rfc3339(line.ts),
            format_money(from_cents(line.amount_cents)),
            format_money(from_cents(line.commission_cents)),
            payout.currency.clone(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let disposition = format!("attachment; filename=\"{id}.csv\"");
    Ok(respond::with_headers(
        200,
        csv.into_bytes(),
        &[
            ("content-type", "text/csv; charset=utf-8"),
            ("content-disposition", &disposition),
        ],
    ))
}

#[derive(Serialize)]
struct BalanceView {
    partner_id: String,
    currency: String,
    /// Approved and not yet paid: what the next payout would pay.
    balance: String,
    pending: String,
    paid: String,
}

#[derive(Serialize)]
struct Balances {
    data: Vec<BalanceView>,
    min_payout: String,
}

/// `GET /api/v1/balances?program_id=`: per partner, approved unpaid, pending and paid.
pub async fn balances(call: &Call<'_>) -> ApiResult<Response> {
    let program_id = call.param("program_id").ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "program_id is required")
            .with_field("program_id")
    })?;
    let program = program(call, "program_id", &program_id).await?;
    let partner_id = call.param("partner_id");
    let data = payouts::balances(&call.store.db, &program.id)
        .await?
        .into_iter()
        .filter(|b| partner_id.as_deref().is_none_or(|id| id == b.partner_id))
        .map(|b| BalanceView {
            partner_id: b.partner_id,
            currency: program.currency.clone(),
            balance: format_money(from_cents(b.approved_cents)),
            pending: format_money(from_cents(b.pending_cents)),
            paid: format_money(from_cents(b.paid_cents)),
        })
        .collect();
    Ok(respond::json(
        200,
        &Balances {
            data,
            min_payout: format_money(program.min_payout),
        },
    ))
}

#[derive(Serialize)]
struct CostView {
    id: String,
    program_id: String,
    date: String,
    category: String,
    amount: String,
    created_at: String,
}

fn cost_view(row: CostRow) -> CostView {
    CostView {
        id: row.id,
        program_id: row.program_id,
        date: row.date,
        category: row.category,
        amount: format_money(from_cents(row.amount_cents)),
        created_at: rfc3339(row.created_at),
    }
}

/// `POST /api/v1/costs` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostBody {
    program_id: String,
    date: String,
    category: String,
    amount: String,
}

pub async fn create_cost(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<CostBody>(call.req).await?;
    let cost = NewCost::parse(&body.date, &body.category, &body.amount)?;
    program(call, "program_id", &body.program_id).await?;
    let row = CostRow {
        id: new_id("cst"),
        program_id: body.program_id,
        date: cost.date,
        category: cost.category.as_str().to_owned(),
        amount_cents: to_cents(cost.amount)
            .ok_or_else(|| Invalid::new("amount", "invalid_amount", "amount is too large"))?,
        created_at: call.now,
    };
    costs::insert(&call.store.db, &row).await?;
    Ok(respond::json(201, &cost_view(row)))
}

async fn find_cost(call: &Call<'_>, id: &str) -> ApiResult<CostRow> {
    costs::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("cost"))
}

/// `GET /api/v1/costs/{id}`.
pub async fn get_cost(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &cost_view(find_cost(call, id).await?)))
}

/// `PATCH /api/v1/costs/{id}` as it arrives: any of the three; a cost stays with its
/// program.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostPatch {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    amount: Option<String>,
}

/// `PATCH /api/v1/costs/{id}`: corrects a cost's date, category or amount. Reports read
/// costs as they are when asked (no rollup holds them), so ROI, CPA and CAC follow at once.
pub async fn update_cost(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<CostPatch>(call.req).await?;
    let row = find_cost(call, id).await?;
    let amount = format_money(from_cents(row.amount_cents));
    let cost = NewCost::parse(
        patch.date.as_deref().unwrap_or(&row.date),
        patch.category.as_deref().unwrap_or(&row.category),
        patch.amount.as_deref().unwrap_or(&amount),
    )?;
    let updated = CostRow {
        date: cost.date,
        category: cost.category.as_str().to_owned(),
        amount_cents: to_cents(cost.amount)
            .ok_or_else(|| Invalid::new("amount", "invalid_amount", "amount is too large"))?,
        ..row
    };
    costs::update(&call.store.db, &updated).await?;
    Ok(respond::json(200, &cost_view(updated)))
}

/// `DELETE /api/v1/costs/{id}`: a cost entered by mistake; answers the cost deleted.
pub async fn delete_cost(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find_cost(call, id).await?;
    costs::delete(&call.store.db, id).await?;
    Ok(respond::json(200, &cost_view(row)))
}

pub async fn list_costs(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let page = costs::list(&call.store.db, program_id.as_deref(), after.as_ref(), limit).await?;
    let key = |row: &CostRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, cost_view))
}
