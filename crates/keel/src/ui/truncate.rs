//! Shortening values for tables as docker does: image IDs (`stringid.TruncateID`), the
//! `CREATED BY` column of `docker history` (`formatter.Ellipsis`, 45 columns), and the display
//! width of text (wide East Asian characters take two columns).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Length of a short ID (docker's `stringid.shortLen`).
pub const SHORT_ID_LEN: usize = 12;

/// Width of the `CREATED BY` column in `docker history` without `--no-trunc`.
pub const CREATED_BY_WIDTH: usize = 45;

/// `stringid.TruncateID`: drop everything up to the first `:` (the algorithm, `sha256:`), then
/// keep 12 characters. `<missing>` and other short values pass unchanged.
pub fn truncate_id(id: &str) -> &str {
    let hex = id.split_once(':').map_or(id, |(_, rest)| rest);
    match hex.char_indices().nth(SHORT_ID_LEN) {
        Some((end, _)) => &hex[..end],
        None => hex,
    }
}

/// The `IMAGE ID` column: short without `--no-trunc`, else the full `sha256:<hex>`.
pub fn image_id(id: &str, no_trunc: bool) -> &str {
    if no_trunc {
        id
    } else {
        truncate_id(id)
    }
}

/// The `CREATED BY` column: tabs become spaces; cut to 45 columns with `…` unless `--no-trunc`.
pub fn created_by(created_by: &str, no_trunc: bool) -> String {
    let text = created_by.replace('\t', " ");
    if no_trunc {
        text
    } else {
        ellipsis(&text, CREATED_BY_WIDTH)
    }
}

/// docker's `formatter.Ellipsis`: cut `s` to `max_width` display columns, the last being `…`.
/// A width of 1 keeps the first character whatever its width; 0 gives an empty string.
pub fn ellipsis(s: &str, max_width: usize) -> String {
    let Some(first) = s.chars().next() else {
        return String::new();
    };
    match max_width {
        0 => return String::new(),
        1 => return first.to_string(),
        _ => {}
    }
    // Widths as golang.org/x/text/width: wide and fullwidth are 2, everything else 1.
    let widths: Vec<(usize, usize)> = s
        .char_indices()
        .map(|(i, c)| (i, if c.width() == Some(2) { 2 } else { 1 }))
        .collect();
    let total: usize = widths.iter().map(|&(_, w)| w).sum();
    if total <= max_width {
        return s.to_owned();
    }
    // Keep the longest prefix that fits in max_width - 1 columns, then the ellipsis.
    let mut used = 0;
    let mut end = 0;
    for &(i, w) in &widths {
        if used + w > max_width - 1 {
            end = i;
            break;
        }
        used += w;
    }
    if end == 0 {
        // Not even the first character fits beside the ellipsis: docker returns `s` whole.
        return s.to_owned();
    }
    format!("{}…", &s[..end])
}

/// Display columns of `s` in a terminal, as go-runewidth's `StringWidth` counts for docker's
/// tabwriter: East Asian wide and fullwidth characters are 2, combining marks and control
/// characters 0.
pub fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        // Fast path for the common case: control characters count 0, as go-runewidth.
        return s.bytes().filter(|b| !b.is_ascii_control()).count();
    }
    s.width()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(truncate_id(id), "0123456789ab");
        assert_eq!(truncate_id("0123456789abcdef"), "0123456789ab");
        assert_eq!(truncate_id("<missing>"), "<missing>");
        assert_eq!(truncate_id("sha256:abc"), "abc");
        assert_eq!(image_id(id, true), id);
        assert_eq!(image_id(id, false), "0123456789ab");
    }

    #[test]
    fn ellipsis_like_docker() {
        // Cases of docker/cli's displayutils_test.go, written from its table.
        assert_eq!(ellipsis("t🐳ststring", 0), "");
        assert_eq!(ellipsis("t🐳ststring", 1), "t");
        assert_eq!(ellipsis("t🐳ststring", 2), "t…");
        assert_eq!(ellipsis("t🐳ststring", 6), "t🐳st…");
        assert_eq!(ellipsis("t🐳ststring", 20), "t🐳ststring");
        assert_eq!(ellipsis("你好世界teststring", 0), "");
        assert_eq!(ellipsis("你好世界teststring", 1), "你");
        assert_eq!(ellipsis("你好世界teststring", 3), "你…");
        assert_eq!(ellipsis("你好世界teststring", 6), "你好…");
        assert_eq!(ellipsis("你好世界teststring", 20), "你好世界teststring");
        assert_eq!(ellipsis("abcde", 4), "abc…");
        assert_eq!(ellipsis("abcde", 5), "abcde");
        assert_eq!(ellipsis("", 5), "");
        assert_eq!(ellipsis("你", 2), "你");
    }

    // Checked against docker 28.2.2 `docker history` output.
    #[test]
    fn created_by_column() {
        let add = "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ";
        assert_eq!(
            created_by(add, false),
            "/bin/sh -c #(nop) ADD file:7e9002edaafd4e457…"
        );
        assert_eq!(created_by(add, true), add);
        let run = "RUN /bin/sh -c apt-get update &&\tapt-get install -y curl # buildkit";
        assert_eq!(
            created_by(run, false),
            "RUN /bin/sh -c apt-get update && apt-get ins…"
        );
        let wide = format!("RUN {}", "日本語".repeat(10));
        assert_eq!(
            created_by(&wide, false),
            format!("RUN {}日本…", "日本語".repeat(6))
        );
        assert_eq!(
            created_by("/bin/sh -c #(nop)  CMD [\"sh\"]", false),
            "/bin/sh -c #(nop)  CMD [\"sh\"]"
        );
    }

    #[test]
    fn widths() {
        assert_eq!(display_width("busybox"), 7);
        assert_eq!(display_width("日本語"), 6);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("…"), 1);
    }
}
