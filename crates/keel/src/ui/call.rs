//! Results of `keel build --call=targets|outline`, laid out as buildx prints them, or as
//! BuildKit's subrequest JSON (`,format=json`).

use serde_json::json;

use crate::ui::tabwriter;

/// One stage, as `--call=targets` lists it.
pub struct Target {
    pub name: String,
    pub default: bool,
    pub description: String,
    pub base: String,
    pub platform: String,
    pub line: usize,
}

/// One build argument of the outline.
pub struct OutlineArg {
    pub name: String,
    pub value: String,
    pub description: String,
    pub line: usize,
}

/// What `--call=outline` reports.
#[derive(Default)]
pub struct Outline {
    pub name: String,
    pub description: String,
    pub args: Vec<OutlineArg>,
    /// (id, required)
    pub secrets: Vec<(String, bool)>,
    /// (id, required)
    pub ssh: Vec<(String, bool)>,
}

/// Rows of cells aligned as Go's tabwriter with minwidth 0 and `padding` (what buildx uses).
fn align(rows: &[Vec<String>], padding: usize) -> String {
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.join("\t"));
        text.push('\n');
    }
    tabwriter::align(&text, 0, padding)
}

pub fn targets_text(targets: &[Target]) -> String {
    let mut rows = vec![vec!["TARGET".to_owned(), "DESCRIPTION".to_owned()]];
    for t in targets {
        let name = match (t.name.is_empty(), t.default) {
            (true, true) => "(default)".to_owned(),
            (false, true) => format!("{} (default)", t.name),
            _ => t.name.clone(),
        };
        rows.push(vec![name, t.description.clone()]);
    }
    align(&rows, 1)
}

pub fn targets_json(file: &str, targets: &[Target]) -> anyhow::Result<String> {
    let list: Vec<_> = targets
        .iter()
        .map(|t| {
            let mut v = json!({ "name": t.name, "description": t.description, "base": t.base,
                "platform": t.platform, "Location": location(t.line) });
            if t.default {
                v["default"] = json!(true);
            }
            strip_empty(&mut v);
            v
        })
        .collect();
    pretty(&json!({ "Targets": list, "Sources": [file] }))
}

pub fn outline_text(o: &Outline) -> String {
    let mut out = String::new();
    if !o.name.is_empty() || !o.description.is_empty() {
        let mut rows = Vec::new();
        if !o.name.is_empty() {
            rows.push(vec!["TARGET:".to_owned(), o.name.clone()]);
        }
        if !o.description.is_empty() {
            rows.push(vec!["DESCRIPTION:".to_owned(), o.description.clone()]);
        }
        out.push_str(&align(&rows, 1));
        out.push('\n');
    }
    if !o.args.is_empty() {
        let mut rows = vec![vec![
            "BUILD ARG".into(),
            "VALUE".into(),
            "DESCRIPTION".into(),
        ]];
        for a in &o.args {
            let value = if a.value.is_empty() {
                "<nil>".to_owned()
            } else {
                a.value.clone()
            };
            rows.push(vec![a.name.clone(), value, a.description.clone()]);
        }
        out.push_str(&align(&rows, 3));
        out.push('\n');
    }
    for (title, items) in [("SECRET", &o.secrets), ("SSH", &o.ssh)] {
        if items.is_empty() {
            continue;
        }
        let mut rows = vec![vec![title.to_owned(), "REQUIRED".to_owned()]];
        for (id, required) in items {
            rows.push(vec![
                id.clone(),
                if *required {
                    "true".into()
                } else {
                    String::new()
                },
            ]);
        }
        out.push_str(&align(&rows, 3));
        out.push('\n');
    }
    out
}

pub fn outline_json(file: &str, o: &Outline) -> anyhow::Result<String> {
    let args: Vec<_> = o
        .args
        .iter()
        .map(|a| {
            json!({ "Name": a.name, "Description": a.description, "Value": a.value,
            "Location": location(a.line) })
        })
        .collect();
    let secrets: Vec<_> = o
        .secrets
        .iter()
        .map(|(n, r)| json!({ "Name": n, "Required": r }))
        .collect();
    let ssh: Vec<_> = o
        .ssh
        .iter()
        .map(|(n, r)| json!({ "Name": n, "Required": r }))
        .collect();
    let mut v = json!({ "name": o.name, "description": o.description, "args": args,
        "secrets": secrets, "ssh": ssh, "sources": [file] });
    strip_empty(&mut v);
    pretty(&v)
}

fn location(line: usize) -> serde_json::Value {
    json!({ "ranges": [{ "start": { "line": line }, "end": { "line": line } }] })
}

/// Drop empty strings and arrays, as Go's `omitempty` does.
fn strip_empty(v: &mut serde_json::Value) {
    if let Some(map) = v.as_object_mut() {
        map.retain(|_, x| !(x.as_str() == Some("") || x.as_array().is_some_and(Vec::is_empty)));
    }
}

fn pretty(v: &serde_json::Value) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(v)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_table_marks_the_default() {
        let t = |name: &str, default, description: &str| Target {
            name: name.into(),
            default,
            description: description.into(),
            base: String::new(),
            platform: String::new(),
            line: 1,
        };
        let out = targets_text(&[t("build", false, "compiles the app"), t("", true, "")]);
        assert_eq!(
            out,
            "TARGET    DESCRIPTION\nbuild     compiles the app\n(default) \n"
        );
    }

    #[test]
    fn outline_sections() {
        let o = Outline {
            name: "serve".into(),
            description: "the final image".into(),
            args: vec![OutlineArg {
                name: "VERSION".into(),
                value: "1.0".into(),
                description: "written into the page".into(),
                line: 3,
            }],
            secrets: vec![("token".into(), true)],
            ssh: vec![],
        };
        let text = outline_text(&o);
        assert_eq!(
            text,
            "TARGET:      serve\nDESCRIPTION: the final image\n\n\
             BUILD ARG   VALUE   DESCRIPTION\nVERSION     1.0     written into the page\n\n\
             SECRET   REQUIRED\ntoken    true\n\n"
        );
    }
}
