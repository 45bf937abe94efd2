//! `keel images`: docker's image table, `-q`, `--digests`, `--no-trunc` and `--format`.

use serde_json::{json, Value};

use crate::ui::template::{Format, Options, TemplateError};
use crate::ui::time::{created_since, Timestamp, GO_ZERO};
use crate::ui::truncate;
use crate::ui::units::human_size_with_precision;

/// One row of the listing: an image under one of its names (or `<none>`).
pub struct ImageRow {
    /// `busybox`, `localhost:5000/app`, or `<none>`.
    pub repository: String,
    /// `latest`, or `<none>`.
    pub tag: String,
    /// `sha256:...` of the repository's manifest, or `<none>`.
    pub digest: String,
    /// `sha256:<hex>` image ID.
    pub id: String,
    /// Go's zero time when the image has no `created`.
    pub created: Timestamp,
    /// Bytes of the uncompressed layers.
    pub size: u64,
}

/// How the rows are printed.
pub struct ImagesView {
    pub quiet: bool,
    pub digests: bool,
    pub no_trunc: bool,
    pub format: Option<String>,
}

/// docker's defaults (`cli/command/formatter/image.go`).
const DEFAULT_TABLE: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const DIGEST_TABLE: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const QUIET: &str = "{{.ID}}";

/// The template docker would use: `-q` applies to the default `table` format only; a custom
/// `--format` wins over it.
fn template_text(view: &ImagesView) -> String {
    match view.format.as_deref() {
        None | Some("table") if view.quiet => QUIET.to_owned(),
        None | Some("table") if view.digests => DIGEST_TABLE.to_owned(),
        None | Some("table") => DEFAULT_TABLE.to_owned(),
        Some(custom) => custom.to_owned(),
    }
}

pub fn render(
    rows: &[ImageRow],
    view: &ImagesView,
    now: Timestamp,
) -> Result<String, TemplateError> {
    let format = Format::parse(&template_text(view))?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| row_value(r, view.no_trunc, now))
        .collect();
    format.render(
        &data,
        &headers(),
        &Options::context("*formatter.imageContext"),
    )
}

fn row_value(row: &ImageRow, no_trunc: bool, now: Timestamp) -> Value {
    let size = human_size_with_precision(row.size as f64, 3);
    let since = created_since(row.created, now);
    json!({
        "Containers": "N/A",
        "CreatedAt": if row.created == GO_ZERO { String::new() } else { row.created.go_string() },
        "CreatedSince": if since.is_empty() { "N/A".to_owned() } else { since },
        "Digest": row.digest,
        "ID": truncate::image_id(&row.id, no_trunc),
        "Repository": row.repository,
        "SharedSize": "N/A",
        "Size": size,
        "Tag": row.tag,
        "UniqueSize": "N/A",
        "VirtualSize": size,
    })
}

fn headers() -> Value {
    json!({
        "Containers": "CONTAINERS",
        "CreatedAt": "CREATED AT",
        "CreatedSince": "CREATED",
        "Digest": "DIGEST",
        "ID": "IMAGE ID",
        "Repository": "REPOSITORY",
        "SharedSize": "SHARED SIZE",
        "Size": "SIZE",
        "Tag": "TAG",
        "UniqueSize": "UNIQUE SIZE",
        "VirtualSize": "VIRTUAL SIZE",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(repo: &str, tag: &str, id_hex: char, created: i64, size: u64) -> ImageRow {
        ImageRow {
            repository: repo.into(),
            tag: tag.into(),
            digest: "<none>".into(),
            id: format!("sha256:{}", id_hex.to_string().repeat(64)),
            created: Timestamp::from_unix(created),
            size,
        }
    }

    fn view() -> ImagesView {
        ImagesView {
            quiet: false,
            digests: false,
            no_trunc: false,
            format: None,
        }
    }

    #[test]
    fn default_table_is_docker_layout() {
        let now = Timestamp::from_unix(1_700_000_000);
        let rows = [
            row(
                "busybox",
                "latest",
                'a',
                1_700_000_000 - 2 * 7 * 86_400,
                4_261_550,
            ),
            row("<none>", "<none>", 'b', 1_700_000_000 - 3600, 0),
        ];
        let out = render(&rows, &view(), now).unwrap();
        let expected = "REPOSITORY   TAG       IMAGE ID       CREATED             SIZE\n\
                        busybox      latest    aaaaaaaaaaaa   2 weeks ago         4.26MB\n\
                        <none>       <none>    bbbbbbbbbbbb   About an hour ago   0B\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn quiet_prints_ids_and_custom_format_wins() {
        let now = Timestamp::from_unix(1_700_000_000);
        let rows = [row("busybox", "latest", 'a', 1_600_000_000, 1)];
        let mut v = view();
        v.quiet = true;
        assert_eq!(render(&rows, &v, now).unwrap(), "aaaaaaaaaaaa\n");
        v.no_trunc = true;
        assert_eq!(
            render(&rows, &v, now).unwrap(),
            format!("sha256:{}\n", "a".repeat(64))
        );
        v.format = Some("{{.Repository}}:{{.Tag}}".into());
        assert_eq!(render(&rows, &v, now).unwrap(), "busybox:latest\n");
    }

    #[test]
    fn json_format_has_docker_fields() {
        let now = Timestamp::from_unix(1_700_000_000);
        let rows = [row("busybox", "latest", 'a', 1_700_000_000, 1000)];
        let mut v = view();
        v.format = Some("json".into());
        let out = render(&rows, &v, now).unwrap();
        let parsed: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(parsed["Digest"], "<none>");
        assert!(
            out.contains("\\u003cnone\\u003e"),
            "root JSON escapes <> as docker: {out}"
        );
        assert_eq!(parsed["Size"], "1kB");
        assert_eq!(parsed["CreatedAt"], "2023-11-14 22:13:20 +0000 UTC");
    }

    #[test]
    fn digests_column() {
        let now = Timestamp::from_unix(1_700_000_000);
        let mut r = row("busybox", "latest", 'a', 1_700_000_000, 1);
        r.digest = format!("sha256:{}", "c".repeat(64));
        let mut v = view();
        v.digests = true;
        let out = render(&[r], &v, now).unwrap();
        assert!(out.starts_with("REPOSITORY   TAG       DIGEST"), "{out}");
        assert!(out.contains(&"c".repeat(64)));
    }
}
