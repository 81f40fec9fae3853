//! CSV for spreadsheets, made safe to open: a cell a spreadsheet would run as a formula is
//! defused, so exported visitor data cannot run code on an admin's machine.

use crate::error::Result;

/// A cell starting like a formula (`=`, `+`, `-`, `@`, tab, return) gets a `'` in front.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// A CSV document: the header, then each row with every cell defused.
pub fn csv<R, C>(header: &[&str], rows: R) -> Result<Vec<u8>>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row.into_iter().map(|cell| defuse(&cell)))?;
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

    #[test]
    fn every_cell_is_defused_and_quoted_as_needed() {
        let body = csv(
            &["name", "note"],
            [vec!["=1+1".to_owned(), "a, b".to_owned()]],
        )
        .expect("csv");
        assert_eq!(
            String::from_utf8(body).expect("utf8"),
            "name,note\n'=1+1,\"a, b\"\n"
        );
    }
}
