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

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, return) is
/// prefixed with `'`, so an exported lead cannot run code on an admin's machine.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

pub fn to_csv(leads: &[Lead]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for lead in leads {
        let utm = |key: &str| {
            lead.utm
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let record = [
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
        writer.write_record(record.iter().map(|cell| defuse(cell)))?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(
            defuse("=HYPERLINK(\"http://evil\")"),
            "'=HYPERLINK(\"http://evil\")"
        );
        assert_eq!(defuse("-1+1"), "'-1+1");
        assert_eq!(defuse("Ada"), "Ada");
    }
}
