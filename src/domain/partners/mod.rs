//! Partners: the bloggers, webmasters, agencies and experts who bring customers.

pub mod journey;

use crate::domain::text::{name, optional_label, string_enum};
use crate::domain::Invalid;

string_enum!(
    /// The kind of partner, for segment reports and segment commission rules.
    Segment, "segment" {
        Blogger = "blogger",
        Webmaster = "webmaster",
        Agency = "agency",
        Expert = "expert",
        Other = "other",
    }
);

string_enum!(
    /// Where a partner stands with the program owner.
    PartnerStatus, "status" { Applied = "applied", Approved = "approved", Suspended = "suspended" }
);

/// What a caller asks to set on a partner, unvalidated: every field optional (a new
/// partner needs a name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFields {
    pub name: String,
    pub email: Option<String>,
    pub segment: Segment,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub status: PartnerStatus,
}

impl PartnerFields {
    /// A new partner: `name` is required, `segment` defaults to `other` and `status` to
    /// `approved`.
    pub fn create(body: PartnerChanges) -> Result<Self, Invalid> {
        let raw_name = body
            .name
            .as_deref()
            .ok_or_else(|| Invalid::new("name", "missing_field", "name is required"))?;
        let base = Self {
            name: name("name", raw_name, 200)?,
            email: None,
            segment: Segment::Other,
            tier: None,
            region: None,
            status: PartnerStatus::Approved,
        };
        base.patched(PartnerChanges { name: None, ..body })
    }

    /// These fields with whatever `body` names replaced and validated.
    pub fn patched(&self, body: PartnerChanges) -> Result<Self, Invalid> {
        Ok(Self {
            name: match body.name {
                Some(raw) => name("name", &raw, 200)?,
                None => self.name.clone(),
            },
            email: match body.email {
                Some(raw) => email(&raw)?,
                None => self.email.clone(),
            },
            segment: match body.segment {
                Some(raw) => Segment::parse(&raw)?,
                None => self.segment,
            },
            tier: match body.tier {
                Some(raw) => optional_label("tier", Some(&raw), 64)?,
                None => self.tier.clone(),
            },
            region: match body.region {
                Some(raw) => optional_label("region", Some(&raw), 64)?,
                None => self.region.clone(),
            },
            status: match body.status {
                Some(raw) => PartnerStatus::parse(&raw)?,
                None => self.status,
            },
        })
    }
}

/// An e-mail address, checked for shape only (one `@`, a dotted domain); empty clears it.
fn email(raw: &str) -> Result<Option<String>, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let shaped = trimmed.len() <= 254
        && !trimmed.contains(char::is_whitespace)
        && matches!(trimmed.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if shaped {
        Ok(Some(trimmed.to_owned()))
    } else {
        Err(Invalid::new(
            "email",
            "invalid_email",
            format!("'{raw}' is not an e-mail address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> PartnerChanges {
        PartnerChanges {
            name: Some(name.into()),
            ..PartnerChanges::default()
        }
    }

    fn create(changes: PartnerChanges) -> Result<PartnerFields, Invalid> {
        PartnerFields::create(changes)
    }

    #[test]
    fn a_partner_defaults_to_approved_other() {
        let partner = create(named("Anna")).unwrap();
        assert_eq!(partner.status, PartnerStatus::Approved);
        assert_eq!(partner.segment, Segment::Other);
        assert_eq!(partner.email, None);
    }

    #[test]
    fn fields_are_validated_and_named() {
        assert_eq!(create(PartnerChanges::default()).unwrap_err().field, "name");
        let with = |change: fn(&mut PartnerChanges)| {
            let mut changes = named("A");
            change(&mut changes);
            create(changes)
        };
        assert_eq!(
            with(|c| c.segment = Some("vip".into())).unwrap_err().field,
            "segment"
        );
        assert_eq!(
            with(|c| c.status = Some("gone".into())).unwrap_err().field,
            "status"
        );
        for bad in ["anna", "a@b", "a b@c.de", "@c.de", "a@b@c.de"] {
            let changes = PartnerChanges {
                email: Some(bad.into()),
                ..named("A")
            };
            assert_eq!(create(changes).unwrap_err().field, "email", "{bad}");
        }
        let ok = create(PartnerChanges {
            email: Some("anna@blog.example".into()),
            segment: Some("blogger".into()),
            tier: Some("gold".into()),
            ..named("A")
        })
        .unwrap();
        assert_eq!(ok.segment, Segment::Blogger);
        assert_eq!(ok.tier.as_deref(), Some("gold"));
    }

    #[test]
    fn a_patch_keeps_unnamed_fields() {
        let partner = create(PartnerChanges {
            segment: Some("expert".into()),
            ..named("Anna")
        })
        .unwrap();
        let patched = partner
            .patched(PartnerChanges {
                status: Some("suspended".into()),
                ..PartnerChanges::default()
            })
            .unwrap();
        assert_eq!(patched.status, PartnerStatus::Suspended);
        assert_eq!(patched.segment, Segment::Expert);
        assert_eq!(patched.name, "Anna");
    }
}
