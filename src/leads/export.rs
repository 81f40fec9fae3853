//! Leads as CSV for spreadsheets.

use super::model::Lead;
use crate::error::Result;

const COLUMNS: &[&str] = &[
    "reference",
    "kind",
    "status",
    "created_at",
    "name",
    "email",
    "phone",
    "company",
    "services",
    "project_type",
    "budget_range",
    "timeline",
    "source_page",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "message",
];

pub fn to_csv(leads: &[Lead]) -> Result<Vec<u8>> {
    crate::spreadsheet::csv(COLUMNS, leads.iter().map(row))
}

fn row(lead: &Lead) -> Vec<String> {
    {
        let utm = |key: &str| {
            lead.utm
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let record: [String; 17] = [
            lead.reference.clone(),
            lead.kind.as_str().to_owned(),
            lead.status.as_str().to_owned(),
            lead.created_at.to_rfc3339(),
            lead.name.clone(),
            lead.email.clone(),
            lead.phone.clone().unwrap_or_default(),
            lead.company.clone().unwrap_or_default(),
            lead.services.join(" "),
            lead.project_type.clone().unwrap_or_default(),
            lead.budget_range.clone().unwrap_or_default(),
            lead.timeline.clone().unwrap_or_default(),
            lead.source_page.clone().unwrap_or_default(),
            utm("source"),
            utm("medium"),
            utm("campaign"),
            lead.message.clone(),
        ];
        record.into()
    }
}
