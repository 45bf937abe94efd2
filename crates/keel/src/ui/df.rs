//! `keel system df`: docker's TYPE TOTAL ACTIVE SIZE RECLAIMABLE summary, `-v` and `--format`.

use serde_json::{json, Value};

use crate::ui::template::{Format, Options, TemplateError};
use crate::ui::units::human_size;

/// One line of the summary.
pub struct UsageRow {
    pub kind: &'static str,
    pub total: u64,
    pub active: u64,
    pub size: u64,
    pub reclaimable: u64,
}

impl UsageRow {
    /// A kind with nothing in it (keel has no volumes; containers come later).
    pub fn empty(kind: &'static str) -> UsageRow {
        UsageRow {
            kind,
            total: 0,
            active: 0,
            size: 0,
            reclaimable: 0,
        }
    }
}

const DEFAULT_TABLE: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

pub fn render(rows: &[UsageRow], format: Option<&str>) -> Result<String, TemplateError> {
    let format = Format::parse(match format {
        None | Some("table") => DEFAULT_TABLE,
        Some(f) => f,
    })?;
    let data: Vec<Value> = rows.iter().map(row_value).collect();
    let headers = json!({
        "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
        "Reclaimable": "RECLAIMABLE",
    });
    format.render(
        &data,
        &headers,
        &Options::context("*formatter.diskUsageImagesContext"),
    )
}

/// docker prints the reclaimable share as a whole percentage, and none when the size is 0.
fn row_value(row: &UsageRow) -> Value {
    let reclaimable = match (row.reclaimable * 100).checked_div(row.size) {
        Some(percent) => format!("{} ({percent}%)", human_size(row.reclaimable as f64)),
        None => human_size(row.reclaimable as f64),
    };
    json!({
        "Type": row.kind,
        "TotalCount": row.total.to_string(),
        "Active": row.active.to_string(),
        "Size": human_size(row.size as f64),
        "Reclaimable": reclaimable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_table() {
        let rows = [
            UsageRow {
                kind: "Images",
                total: 2,
                active: 0,
                size: 4_261_550,
                reclaimable: 4_261_550,
            },
            UsageRow::empty("Containers"),
            UsageRow::empty("Local Volumes"),
            UsageRow::empty("Build Cache"),
        ];
        let out = render(&rows, None).unwrap();
        assert_eq!(
            out,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          2         0         4.262MB   4.262MB (100%)\n\
             Containers      0         0         0B        0B\n\
             Local Volumes   0         0         0B        0B\n\
             Build Cache     0         0         0B        0B\n"
        );
    }
}
