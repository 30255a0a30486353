//! Recording a conversion, whatever brought it (postback, CRM webhook): finding what it
//! repeats or updates, attributing it to its click or customer, and fixing its commission.
//! The database's unique indexes make it exactly-once under concurrent replays.

use std::time::Duration;

use rust_decimal::Decimal;
use worker::{D1Database, Delay};

use crate::domain::conversions::attribution::{check_refund, check_window};
use crate::domain::conversions::commission::{commission, refund_commission, Earning};
use crate::domain::conversions::promo_code::{self, code_wins, Attribution};
use crate::domain::conversions::{ConversionEvent, ConversionStatus, Postback};
use crate::domain::experiments::commission::{ExperimentRule, TREATMENT};
use crate::domain::ids::new_id;
use crate::domain::money::{from_cents, round_cents, to_cents};
use crate::domain::partners::Segment;
use crate::domain::time::month_bounds;
use crate::domain::Invalid;
use crate::storage::conversions::{self, ConversionRow};
use crate::storage::programs::ProgramRow;
use crate::storage::promo_codes::{self, PromoCodeRow};
use crate::storage::tracking::{self, ClickRow};
use crate::storage::{experiments, flags, partners, rules, StorageError};

/// `hold_reason` of a conversion held because its partner was flagged.
pub const HOLD_FLAGGED: &str = "flagged";

/// Why a conversion was not recorded: the sender's mistake (nothing changed; sending it
/// again will not help), or a storage failure (a retry is safe and will succeed).
#[derive(Debug)]
pub enum RecordError {
    Invalid(Invalid),
    Storage(StorageError),
}

impl From<Invalid> for RecordError {
    fn from(invalid: Invalid) -> Self {
        RecordError::Invalid(invalid)
    }
}

impl From<StorageError> for RecordError {
    fn from(error: StorageError) -> Self {
        RecordError::Storage(error)
    }
}

type Result<T, E = RecordError> = std::result::Result<T, E>;

/// A click may still be in the queue when its conversion arrives: look a few times.
const CLICK_LOOKUPS: usize = 5;
const CLICK_LOOKUP_PAUSE_MS: u64 = 400;

/// What recording did: `recorded`, `duplicate` (a replay, nothing changed) or `updated`
/// (a replay with a new status), and the conversion concerned.
pub struct Outcome {
    pub status: &'static str,
    pub row: ConversionRow,
}

/// Records `p` for `program`, or recognises it as a replay. `events` is the program's
/// event shard, where its click is.
pub async fn record(
    db: &D1Database,
    events: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    now: i64,
) -> Result<Outcome> {
    if let Some(currency) = &p.currency {
        if currency.as_str() != program.currency {
            return Err(Invalid::new(
                "currency",
                "currency_mismatch",
                format!(
                    "this program is in {}, not {}",
                    program.currency,
                    currency.as_str()
                ),
            )
            .into());
        }
    }
    if let Some(found) = existing(db, program, p).await? {
        return replay(db, found, p, now).await;
    }
    let mut row = match p.event {
        ConversionEvent::Refund => refund(db, program, p, now).await?,
        _ => conversion(db, events, program, p, now).await?,
    };
    if program.hold_flagged == 1 && row.status != ConversionStatus::Rejected.as_str() {
        hold_if_flagged(db, &mut row).await?;
    }
    if conversions::insert(db, &row).await? {
        return Ok(Outcome {
            status: "recorded",
            row,
        });
    }
    // A concurrent replay won the race: answer with the conversion it recorded.
    match existing(db, program, p).await? {
        Some(winner) => Ok(Outcome {
            status: "duplicate",
            row: winner,
        }),
        None => Err(RecordError::Storage(StorageError::Failed(
            "the conversion insert was ignored but no conversion was found".to_owned(),
        ))),
    }
}

/// Days back an open flag holds a flagged partner's new conversions.
const FLAG_HOLD_DAYS: i64 = 30;

/// With the program's `hold_flagged`: a new conversion of a partner with an open flag
/// of the last [`FLAG_HOLD_DAYS`] days waits as `pending` for a manager, whatever its
/// default or reported status (a rejection stays a rejection).
async fn hold_if_flagged(db: &D1Database, row: &mut ConversionRow) -> Result<()> {
    let since = crate::domain::time::utc_day(row.recorded_at - FLAG_HOLD_DAYS * 86_400_000);
    if flags::open_since(db, &row.program_id, &row.partner_id, &since).await? {
        row.status = ConversionStatus::Pending.as_str().to_owned();
        row.hold_reason = Some(HOLD_FLAGGED.to_owned());
    }
    Ok(())
}

/// The conversion this postback names again, if it exists: by order (or refund) id, or
/// for a lead without an order id, by its click.
async fn existing(
    db: &D1Database,
    program: &ProgramRow,
    p: &Postback,
) -> Result<Option<ConversionRow>> {
    let event = p.event.as_str();
    if let Some(key) = p.order_key() {
        if let Some(row) = conversions::by_order(db, &program.id, event, key).await? {
            return Ok(Some(row));
        }
    }
    if p.event.keyed_by_click() {
        if let Some(click_id) = &p.click_id {
            let row = conversions::by_click(db, click_id, event).await?;
            return Ok(row.filter(|r| r.program_id == program.id));
        }
    }
    Ok(None)
}

/// A replay changes nothing, unless it carries a new status: then the status changes.
async fn replay(
    db: &D1Database,
    mut row: ConversionRow,
    p: &Postback,
    now: i64,
) -> Result<Outcome> {
    match p.status {
        Some(status) if status.as_str() != row.status => {
            conversions::set_status(db, &row.id, row.ts, status.as_str(), now).await?;
            row.status = status.as_str().to_owned();
            Ok(Outcome {
                status: "updated",
                row,
            })
        }
        _ => Ok(Outcome {
            status: "duplicate",
            row,
        }),
    }
}

fn cents_of(amount: Decimal) -> Result<i64> {
    to_cents(amount)
        .ok_or_else(|| Invalid::new("amount", "invalid_amount", "amount is too large").into())
}

async fn refund(
    db: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    now: i64,
) -> Result<ConversionRow> {
    let order_id = p.order_id.as_deref().unwrap_or_default();
    let sale = conversions::by_order(db, &program.id, ConversionEvent::Sale.as_str(), order_id)
        .await?
        .ok_or_else(|| {
            Invalid::new(
                "order_id",
                "unknown_order",
                "no sale of this program has this order_id",
            )
        })?;
    let amount = round_cents(
        p.amount
            .ok_or_else(|| Invalid::new("amount", "missing_field", "amount is required"))?,
    );
    let sale_amount = from_cents(sale.amount_cents);
    let refunded = from_cents(conversions::refunded_cents(db, &sale.id).await?);
    check_refund(sale_amount, refunded, amount)?;
    let sale_commission = from_cents(sale.commission_cents);
    Ok(ConversionRow {
        id: new_id("cnv"),
        event: ConversionEvent::Refund.as_str().to_owned(),
        status: p
            .status
            .unwrap_or(ConversionEvent::Refund.default_status())
            .as_str()
            .to_owned(),
        order_id: Some(order_id.to_owned()),
        order_key: p.order_key().map(str::to_owned),
        sale_id: Some(sale.id.clone()),
        amount_cents: cents_of(amount)?,
        commission_cents: cents_of(refund_commission(sale_commission, sale_amount, amount))?,
        rule_id: None,
        monthly_sale_number: None,
        customer_id: p.customer_id.clone().or(sale.customer_id.clone()),
        ts: p.ts.unwrap_or(now),
        recorded_at: now,
        updated_at: now,
        hold_reason: None,
        ..sale
    })
}

/// Where a new conversion's partner, link and dimensions come from: its click (and the
/// promo code that came with it, if the program knows it), a promo code alone, or the
/// customer's first conversion.
enum Source {
    Click(ClickRow, Option<PromoCodeRow>),
    Code(PromoCodeRow),
    Customer(ConversionRow),
}

pub async fn find_click(db: &D1Database, click_id: &str) -> Result<Option<ClickRow>, StorageError> {
    find_click_in(std::slice::from_ref(db), click_id).await
}

/// The click with this id in whichever of `shards` holds it (a signed postback that
/// names no program: its click says which).
pub async fn find_click_in(
    shards: &[D1Database],
    click_id: &str,
) -> Result<Option<ClickRow>, StorageError> {
    for attempt in 1..=CLICK_LOOKUPS {
        for db in shards {
            if let Some(click) = tracking::click(db, click_id).await? {
                return Ok(Some(click));
            }
        }
        if attempt < CLICK_LOOKUPS {
            Delay::from(Duration::from_millis(CLICK_LOOKUP_PAUSE_MS)).await;
        }
    }
    Ok(None)
}

/// Who brought the conversion `p` stamped at `ts`: a click inside the attribution window
/// first, unless the program lets another partner's promo code win; else the code; else
/// (lifetime attribution) the customer's first partner.
async fn source(
    db: &D1Database,
    events: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    ts: i64,
) -> Result<Source> {
    let code = match p.coupon.as_deref() {
        Some(coupon) => promo_codes::live_by_key(db, &program.id, &promo_code::key(coupon)).await?,
        None => None,
    };
    if let Some(click_id) = &p.click_id {
        let click = find_click(events, click_id)
            .await?
            .filter(|click| click.program_id == program.id);
        return match (click, code) {
            (Some(click), Some(code))
                if code_wins(
                    &click.partner_id,
                    &code.partner_id,
                    program.attribution_priority,
                ) =>
            {
                Ok(Source::Code(code))
            }
            (Some(click), code) => {
                match (
                    check_window(click.ts, ts, program.attribution_window_days),
                    code,
                ) {
                    (Ok(()), code) => Ok(Source::Click(click, code)),
                    // A click out of its window still leaves the code it came with.
                    (Err(_), Some(code)) => Ok(Source::Code(code)),
                    (Err(invalid), None) => Err(invalid.into()),
                }
            }
            (None, Some(code)) => Ok(Source::Code(code)),
            (None, None) => Err(Invalid::new(
                "click_id",
                "unknown_click",
                "no click of this program has this click_id",
            )
            .into()),
        };
    }
    if let Some(code) = code {
        return Ok(Source::Code(code));
    }
    let customer = p
        .customer_id
        .as_deref()
        .filter(|_| p.event == ConversionEvent::Sale);
    if let (Some(customer), true) = (customer, program.lifetime_attribution == 1) {
        if let Some(first) = conversions::first_of_customer(db, &program.id, customer).await? {
            return Ok(Source::Customer(first));
        }
        return Err(Invalid::new(
            "customer_id",
            "unknown_customer",
            "no partner brought this customer; send the click_id",
        )
        .into());
    }
    if let Some(coupon) = &p.coupon {
        return Err(Invalid::new(
            "coupon",
            "unknown_promo_code",
            format!(
                "no live promo code of this program is '{coupon}', and no click_id came with it"
            ),
        )
        .into());
    }
    if p.order_id.is_some() && p.status.is_some() {
        return Err(Invalid::new(
            "order_id",
            "unknown_order",
            "no conversion of this program has this order_id",
        )
        .into());
    }
    Err(Invalid::new("click_id", "missing_field", "click_id is required").into())
}

async fn conversion(
    db: &D1Database,
    events: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    now: i64,
) -> Result<ConversionRow> {
    let ts = p.ts.unwrap_or(now);
    let base = match source(db, events, program, p, ts).await? {
        Source::Click(click, code) => ConversionRow {
            promo_code: code.map(|code| code.code),
            ..from_click(click)
        },
        Source::Code(code) => ConversionRow {
            program_id: code.program_id,
            partner_id: code.partner_id,
            // No link: reports show it under the source `promo_code`.
            link_id: String::new(),
            attribution: Attribution::PromoCode.as_str().to_owned(),
            promo_code: Some(code.code),
            ..ConversionRow::default()
        },
        Source::Customer(first) => ConversionRow {
            click_id: None,
            hold_reason: None,
            attribution: Attribution::Customer.as_str().to_owned(),
            ..first
        },
    };
    let partner = partners::get(db, &base.partner_id).await?;
    let segment = partner.map_or(Segment::Other, |partner| partner.segment);
    let amount = round_cents(p.amount.unwrap_or_default());
    let (month_start, _) = month_bounds(ts, &program.timezone);
    let monthly_sale_number = if p.event == ConversionEvent::Sale {
        conversions::sales_in_month_up_to(db, &base.partner_id, &program.id, month_start, ts)
            .await?
            + 1
    } else {
        0
    };
    let mut rules = rules::active_of_program(db, &program.id).await?;
    // A partner in a running commission experiment: the treatment earns by its rule, and
    // either arm's conversions carry the arm.
    let arm = experiments::arm_of(db, &program.id, &base.partner_id, ts).await?;
    if let Some(arm) = arm.as_ref().filter(|arm| arm.arm == TREATMENT) {
        let stored: ExperimentRule = serde_json::from_str(arm.rule.as_deref().unwrap_or(""))
            .map_err(|e| StorageError::corrupt("experiment's rule", e))?;
        let rule = stored
            .for_partner(&arm.experiment_id, &base.partner_id, arm.created_at)
            .map_err(|e| StorageError::corrupt("experiment's rule", e.message))?;
        rules.push(rule);
    }
    let earning = Earning {
        event: p.event,
        amount,
        partner_id: &base.partner_id,
        segment,
        monthly_sale_number: u32::try_from(monthly_sale_number.max(1)).unwrap_or(u32::MAX),
    };
    let (earned, rule) = commission(&rules, &earning);
    Ok(ConversionRow {
        id: new_id("cnv"),
        event: p.event.as_str().to_owned(),
        status: p
            .status
            .unwrap_or(p.event.default_status())
            .as_str()
            .to_owned(),
        order_id: p.order_id.clone(),
        order_key: p.order_key().map(str::to_owned),
        sale_id: None,
        amount_cents: cents_of(amount)?,
        currency: program.currency.clone(),
        commission_cents: cents_of(earned)?,
        rule_id: rule.map(|r| r.id.clone()),
        monthly_sale_number: (p.event == ConversionEvent::Sale).then_some(monthly_sale_number),
        customer_id: p.customer_id.clone(),
        ts,
        recorded_at: now,
        updated_at: now,
        variant: arm.map(|arm| arm.arm).or(base.variant.clone()),
        ..base
    })
}

fn from_click(click: ClickRow) -> ConversionRow {
    ConversionRow {
        program_id: click.program_id,
        partner_id: click.partner_id,
        link_id: click.link_id,
        click_id: Some(click.id),
        click_ts: Some(click.ts),
        country: click.country,
        region: click.region,
        city: click.city,
        device: Some(click.device),
        os: Some(click.os),
        browser: Some(click.browser),
        referrer_host: click.referrer_host,
        sub1: click.sub1,
        sub2: click.sub2,
        sub3: click.sub3,
        sub4: click.sub4,
        sub5: click.sub5,
        utm_source: click.utm_source,
        utm_medium: click.utm_medium,
        utm_campaign: click.utm_campaign,
        utm_term: click.utm_term,
        utm_content: click.utm_content,
        variant: click.variant,
        material_id: click.material_id,
        attribution: Attribution::Click.as_str().to_owned(),
        ..ConversionRow::default()
    }
}
