//! AmoCRM's lead webhooks: form-encoded `leads[status][0][id]=…` payloads, read into
//! [`AmoLead`]s, and a program's mapping from pipeline statuses to conversion events.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::conversions::{ConversionEvent, ConversionStatus, Postback};
use crate::domain::money::parse_amount;
use crate::domain::Invalid;

/// One lead of a webhook, from `leads[add]`, `leads[update]` or `leads[status]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AmoLead {
    pub id: String,
    pub status_id: Option<String>,
    pub pipeline_id: Option<String>,
    pub price: Option<String>,
    /// Custom field id → its first value.
    pub custom_fields: BTreeMap<String, String>,
}

/// `leads[status][0][custom_fields][1][values][0][value]` → `["leads","status","0",…]`.
fn path(key: &str) -> Option<Vec<&str>> {
    let (head, rest) = key.split_once('[')?;
    let mut parts = vec![head];
    for part in rest.split('[') {
        parts.push(part.strip_suffix(']')?);
    }
    Some(parts)
}

/// Reads every lead of a webhook body. Parameters that are not about leads are ignored.
pub fn parse_leads(pairs: &[(String, String)]) -> Vec<AmoLead> {
    let mut leads: BTreeMap<(String, u32), AmoLead> = BTreeMap::new();
    let mut field_ids: BTreeMap<(String, u32, u32), String> = BTreeMap::new();
    let mut field_values: BTreeMap<(String, u32, u32), String> = BTreeMap::new();
    for (key, value) in pairs {
        let Some(parts) = path(key) else { continue };
        let ["leads", kind, index, rest @ ..] = parts.as_slice() else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let lead = leads.entry(((*kind).to_owned(), index)).or_default();
        match rest {
            ["id"] => lead.id = value.clone(),
            ["status_id"] => lead.status_id = Some(value.clone()),
            ["pipeline_id"] => lead.pipeline_id = Some(value.clone()),
            ["price"] => lead.price = Some(value.clone()),
            ["custom_fields", field, "id"] => {
                if let Ok(field) = field.parse::<u32>() {
                    field_ids.insert(((*kind).to_owned(), index, field), value.clone());
                }
            }
            ["custom_fields", field, "values", "0", "value"] => {
                if let Ok(field) = field.parse::<u32>() {
                    field_values.insert(((*kind).to_owned(), index, field), value.clone());
                }
            }
            _ => {}
        }
    }
    for ((kind, index, field), id) in field_ids {
        if let Some(value) = field_values.get(&(kind.clone(), index, field)) {
            if let Some(lead) = leads.get_mut(&(kind, index)) {
                lead.custom_fields.insert(id, value.clone());
            }
        }
    }
    leads
        .into_values()
        .filter(|lead| !lead.id.is_empty())
        .collect()
}

/// What a pipeline status means for partnerlens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapped {
    Lead,
    Qualified,
    Sale,
    Rejected,
}

/// A program's AmoCRM mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmoMapping {
    /// Only leads of this pipeline count, when set.
    #[serde(default)]
    pub pipeline_id: Option<String>,
    /// The id of the lead custom field that holds partnerlens's click id.
    pub click_id_field_id: String,
    /// Pipeline status id → `lead`, `qualified`, `sale` or `rejected`.
    pub statuses: BTreeMap<String, Mapped>,
}

impl AmoMapping {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.click_id_field_id.trim().is_empty() {
            return Err(Invalid::new(
                "click_id_field_id",
                "empty",
                "click_id_field_id must name a custom field id",
            ));
        }
        if self.statuses.is_empty() {
            return Err(Invalid::new(
                "statuses",
                "empty",
                "map at least one pipeline status id",
            ));
        }
        Ok(())
    }

    /// The postbacks a lead stands for: nothing for an unmapped status or another
    /// pipeline; for `rejected`, a status update of each event the lead may have produced.
    pub fn postbacks(&self, lead: &AmoLead) -> Result<Vec<Postback>, Invalid> {
        if self.pipeline_id.is_some() && lead.pipeline_id != self.pipeline_id {
            return Ok(Vec::new());
        }
        let Some(mapped) = lead
            .status_id
            .as_ref()
            .and_then(|status| self.statuses.get(status))
        else {
            return Ok(Vec::new());
        };
        let base = Postback {
            click_id: lead.custom_fields.get(&self.click_id_field_id).cloned(),
            event: ConversionEvent::Lead,
            order_id: Some(lead.id.clone()),
            amount: None,
            currency: None,
            status: None,
            customer_id: None,
            ts: None,
            refund_id: None,
            token: None,
            coupon: None,
        };
        let price = |lead: &AmoLead| -> Result<Decimal, Invalid> {
            parse_amount("price", lead.price.as_deref().unwrap_or("0"), 2)
        };
        Ok(match mapped {
            Mapped::Lead => vec![base],
            Mapped::Qualified => vec![Postback {
                event: ConversionEvent::Qualified,
                ..base
            }],
            Mapped::Sale => vec![Postback {
                event: ConversionEvent::Sale,
                amount: Some(price(lead)?),
                ..base
            }],
            Mapped::Rejected => [
                ConversionEvent::Lead,
                ConversionEvent::Qualified,
                ConversionEvent::Sale,
            ]
            .into_iter()
            .map(|event| Postback {
                event,
                status: Some(ConversionStatus::Rejected),
                click_id: None,
                ..base.clone()
            })
            .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        "leads%5Bstatus%5D%5B0%5D%5Bid%5D=25399013&leads%5Bstatus%5D%5B0%5D%5Bstatus_id%5D=142\
&leads%5Bstatus%5D%5B0%5D%5Bpipeline_id%5D=3157453&leads%5Bstatus%5D%5B0%5D%5Bprice%5D=15000\
&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bid%5D=581225\
&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bname%5D=click_id\
&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bvalues%5D%5B0%5D%5Bvalue%5D=CLICK123\
&account%5Bid%5D=29085955&account%5Bsubdomain%5D=shop";

    fn pairs(body: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    fn mapping() -> AmoMapping {
        serde_json::from_str(
            r#"{"pipeline_id":"3157453","click_id_field_id":"581225",
                "statuses":{"142":"sale","143":"rejected","201":"lead","202":"qualified"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_sample_webhook_is_read() {
        let leads = parse_leads(&pairs(SAMPLE));
        assert_eq!(leads.len(), 1);
        let lead = &leads[0];
        assert_eq!(lead.id, "25399013");
        assert_eq!(lead.status_id.as_deref(), Some("142"));
        assert_eq!(lead.price.as_deref(), Some("15000"));
        assert_eq!(
            lead.custom_fields.get("581225").map(String::as_str),
            Some("CLICK123")
        );
    }

    #[test]
    fn a_won_lead_is_a_sale_of_its_price() {
        let lead = &parse_leads(&pairs(SAMPLE))[0];
        let postbacks = mapping().postbacks(lead).unwrap();
        assert_eq!(postbacks.len(), 1);
        assert_eq!(postbacks[0].event, ConversionEvent::Sale);
        assert_eq!(postbacks[0].amount.unwrap().to_string(), "15000");
        assert_eq!(postbacks[0].click_id.as_deref(), Some("CLICK123"));
        assert_eq!(postbacks[0].order_id.as_deref(), Some("25399013"));
    }

    #[test]
    fn unmapped_statuses_and_other_pipelines_are_ignored() {
        let mut lead = parse_leads(&pairs(SAMPLE))[0].clone();
        lead.status_id = Some("999".into());
        assert!(mapping().postbacks(&lead).unwrap().is_empty());
        lead.status_id = Some("142".into());
        lead.pipeline_id = Some("1".into());
        assert!(mapping().postbacks(&lead).unwrap().is_empty());
    }

    #[test]
    fn a_lost_lead_rejects_whatever_it_produced() {
        let mut lead = parse_leads(&pairs(SAMPLE))[0].clone();
        lead.status_id = Some("143".into());
        let postbacks = mapping().postbacks(&lead).unwrap();
        assert_eq!(postbacks.len(), 3);
        assert!(postbacks
            .iter()
            .all(|p| p.status == Some(ConversionStatus::Rejected)));
    }
}
