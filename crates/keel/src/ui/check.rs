//! Check findings as `docker build --check` prints them (text), or as BuildKit's lint result
//! JSON (`--call=check,format=json`).

use std::fmt::Write;

use keel_dockerfile::check::Finding;
use serde_json::json;

use crate::ui::snippet;

/// Each finding: `WARNING: Rule - url`, the detail, `FILE:LINE`, the framed excerpt; then the
/// summary line docker prints.
pub fn text(file: &str, source: &[u8], findings: &[Finding]) -> String {
    let src = String::from_utf8_lossy(source);
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(out, "WARNING: {} - {}", f.rule, f.url);
        let _ = writeln!(out, "{}", f.message);
        if f.span.end_line > f.span.line {
            let _ = writeln!(out, "{file}:{}-{}", f.span.line, f.span.end_line);
        } else {
            let _ = writeln!(out, "{file}:{}", f.span.line);
        }
        out.push_str(&snippet::framed(&src, &f.span));
        out.push('\n');
    }
    match findings.len() {
        0 => out.push_str("Check complete, no warnings found.\n"),
        1 => out.push_str("Check complete, 1 warning has been found!\n"),
        n => {
            let _ = writeln!(out, "Check complete, {n} warnings have been found!");
        }
    }
    out
}

/// BuildKit's `LintResults` shape: `{"warnings": [{ruleName, description, url, detail,
/// location}], "sources": [{fileName, language}]}`.
pub fn json(file: &str, findings: &[Finding]) -> anyhow::Result<String> {
    let warnings: Vec<_> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleName": f.rule,
                "description": f.description,
                "url": f.url,
                "detail": f.message,
                "location": {
                    "sourceIndex": 0,
                    "ranges": [{
                        "start": {"line": f.span.line, "character": f.span.col},
                        "end": {"line": f.span.end_line.max(f.span.line), "character": f.span.end_col},
                    }],
                },
            })
        })
        .collect();
    let doc = json!({
        "warnings": warnings,
        "sources": [{"fileName": file, "language": "Dockerfile"}],
    });
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}
