//! `keel history`: docker's IMAGE CREATED CREATED BY SIZE COMMENT table, `-H`, `-q`,
//! `--no-trunc` and `--format`.

use serde_json::{json, Value};

use crate::ui::template::{Format, Options, TemplateError};
use crate::ui::time::{history_created_since, Timestamp};
use crate::ui::truncate;
use crate::ui::units::human_size_with_precision;

/// One history entry, newest first; `id` is the image ID on the top row and `<missing>` below,
/// as docker shows images whose intermediate layers are not images of their own.
pub struct HistoryRow {
    pub id: String,
    /// Whole seconds, as the daemon reports them.
    pub created: Timestamp,
    pub created_by: String,
    /// Uncompressed bytes of the layer this step made; 0 for an `empty_layer` step.
    pub size: u64,
    pub comment: String,
}

pub struct HistoryView {
    pub human: bool,
    pub no_trunc: bool,
    pub quiet: bool,
    pub format: Option<String>,
}

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
/// `-H=false` swaps the column, so the header says `CREATED AT` (docker/cli
/// `nonHumanHistoryTableFormat`).
const NON_HUMAN_TABLE: &str =
    "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

pub fn render(
    rows: &[HistoryRow],
    view: &HistoryView,
    now: Timestamp,
) -> Result<String, TemplateError> {
    let text = match view.format.as_deref() {
        None | Some("table") if view.quiet => "{{.ID}}",
        None | Some("table") if !view.human => NON_HUMAN_TABLE,
        None | Some("table") => DEFAULT_TABLE,
        Some(custom) => custom,
    };
    let format = Format::parse(text)?;
    let data: Vec<Value> = rows.iter().map(|r| row_value(r, view, now)).collect();
    format.render(
        &data,
        &headers(),
        &Options::context("*formatter.historyContext"),
    )
}

fn row_value(row: &HistoryRow, view: &HistoryView, now: Timestamp) -> Value {
    let created_at = row.created.to_rfc3339();
    let (since, size) = if view.human {
        (
            history_created_since(row.created, now),
            human_size_with_precision(row.size as f64, 3),
        )
    } else {
        (created_at.clone(), row.size.to_string())
    };
    json!({
        "Comment": row.comment,
        "CreatedAt": created_at,
        "CreatedBy": truncate::created_by(&row.created_by, view.no_trunc),
        "CreatedSince": since,
        "ID": truncate::image_id(&row.id, view.no_trunc),
        "Size": size,
    })
}

fn headers() -> Value {
    json!({
        "Comment": "COMMENT",
        "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY",
        "CreatedSince": "CREATED",
        "ID": "IMAGE",
        "Size": "SIZE",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<HistoryRow> {
        vec![
            HistoryRow {
                id: format!("sha256:{}", "a".repeat(64)),
                created: Timestamp::from_unix(1_700_000_000 - 7200),
                created_by: "CMD [\"httpd\" \"-f\" \"-p\" \"8080\" \"-h\" \"/www\" \"-v\" \"-v\"]"
                    .into(),
                size: 0,
                comment: "buildkit.dockerfile.v0".into(),
            },
            HistoryRow {
                id: "<missing>".into(),
                created: Timestamp::from_unix(0),
                created_by: String::new(),
                size: 2_150_000,
                comment: "Imported from -".into(),
            },
        ]
    }

    fn view() -> HistoryView {
        HistoryView {
            human: true,
            no_trunc: false,
            quiet: false,
            format: None,
        }
    }

    #[test]
    fn default_table() {
        let out = render(&rows(), &view(), Timestamp::from_unix(1_700_000_000)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT"
        );
        assert_eq!(
            lines[1],
            "aaaaaaaaaaaa   2 hours ago   CMD [\"httpd\" \"-f\" \"-p\" \"8080\" \"-h\" \"/www\" \"-…   0B        buildkit.dockerfile.v0"
        );
        assert_eq!(
            lines[2],
            "<missing>      N/A                                                           2.15MB    Imported from -"
        );
    }

    #[test]
    fn not_human_prints_rfc3339_and_bytes() {
        let mut v = view();
        v.human = false;
        let out = render(&rows(), &v, Timestamp::from_unix(1_700_000_000)).unwrap();
        assert!(
            out.starts_with("IMAGE          CREATED AT             CREATED BY"),
            "{out}"
        );
        assert!(out.contains("2023-11-14T20:13:20Z"), "{out}");
        assert!(out.contains("2150000"), "{out}");
    }

    #[test]
    fn quiet_lists_ids() {
        let mut v = view();
        v.quiet = true;
        let out = render(&rows(), &v, Timestamp::from_unix(1_700_000_000)).unwrap();
        assert_eq!(out, "aaaaaaaaaaaa\n<missing>\n");
    }
}
