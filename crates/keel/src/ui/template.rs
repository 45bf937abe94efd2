//! The part of Go's `text/template` that docker's `--format` uses, over `serde_json::Value`
//! data with docker's field names, and docker's `formatter.Context` around it (`table`
//! prefix, `json`, `\t`/`\n` escapes, header row, tabwriter).
//!
//! Supported: text, `{{.Field}}`, `{{.A.B}}`, `{{.}}`, `$`/`$var`, `{{$x := ...}}`, pipelines
//! (`{{.Tag | json}}`), parentheses, `if`/`else if`/`else`/`range`/`with`/`end`, comments,
//! `{{-`/`-}}` trim markers, string/number/bool/nil literals, and the functions docker
//! registers (`json split join title lower upper pad truncate`) plus Go's `print printf
//! println index len and or not eq ne lt le gt ge`. Not supported: `define`/`template`/`block`,
//! `break`/`continue`, method calls.
//!
//! Go values stand behind the JSON: an object prints as a map (`map[a:1 b:2]`), an array as a
//! slice (`[a b]`), `null` as a nil pointer (`<nil>`), a missing key as `<no value>` (or an
//! error, see [`Options`]). Docker's
//! typed structs print differently in two places this cannot see: a nil slice prints `[]` and
//! a struct `{a b}`; callers who need those should shape the data.

mod exec;
mod parse;
mod print;

use std::fmt;

use serde_json::Value;

use crate::ui::tabwriter::docker_table;

/// A template that failed to parse or execute. The message is Go's, e.g.
/// `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// How the data stands for docker's Go values.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The root is a Go struct of this type: a missing field is an error naming it, as docker's
    /// formatter contexts (`*formatter.imageContext`) report.
    pub strict_root_type: Option<String>,
    /// `{{json .}}` of the root escapes `<>&` as `\u003c`..., because docker's contexts marshal
    /// themselves with `json.Marshal`. Other values are encoded without HTML escapes, as
    /// docker's `json` function does.
    pub escape_html_root: bool,
    /// A missing map key is an error (`map has no entry for key "X"`), Go's `missingkey=error`,
    /// which docker inspect uses; otherwise it prints `<no value>`.
    pub missing_key_error: bool,
    /// `json` leaves out object members that are `null`, as Go's `encoding/json` leaves out
    /// empty fields tagged `omitempty`. For documents whose objects all stand for such structs
    /// (docker's image inspect), where a `null` member is only there so that `{{.Config.OnBuild}}`
    /// finds the field as Go would.
    pub json_omit_null: bool,
    /// Rendering a table header: the text functions return their argument unchanged.
    header: bool,
}

impl Options {
    /// A docker formatter context (`images`, `history`, `ps`): strict fields, escaped root JSON.
    pub fn context(type_name: &str) -> Self {
        Options {
            strict_root_type: Some(type_name.to_owned()),
            escape_html_root: true,
            ..Options::default()
        }
    }

    /// A JSON document as `docker inspect --format` sees it: a missing key is an error.
    pub fn document() -> Self {
        Options {
            missing_key_error: true,
            ..Options::default()
        }
    }
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    tree: parse::Tree,
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        Ok(Template {
            tree: parse::parse(source)?,
        })
    }

    pub fn execute(&self, data: &Value, options: &Options) -> Result<String, TemplateError> {
        exec::execute(&self.tree, data, options)
    }
}

/// docker's `formatter.Context`: a `--format` value as docker reads it.
#[derive(Debug, Clone)]
pub struct Format {
    table: bool,
    template: Template,
}

impl Format {
    /// docker's `preFormat`: `table ...` marks a table and is dropped, `json` means
    /// `{{json .}}`; spaces at either end are trimmed; the two-character sequences `\t` and `\n`
    /// become a tab and a newline. Errors carry docker's `template parsing error: ` prefix.
    pub fn parse(format: &str) -> Result<Self, TemplateError> {
        let table = format.starts_with("table");
        let text = if table {
            &format["table".len()..]
        } else if format == "json" {
            "{{json .}}"
        } else {
            format
        };
        let text = text
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        let template = Template::parse(&text).map_err(docker_error)?;
        Ok(Format { table, template })
    }

    /// Render `rows` as docker does: each row's output then a newline; for a table, first the
    /// header (the template executed on `headers`, an object from field name to column title,
    /// e.g. `{"ID": "IMAGE ID"}`), then everything aligned by the tabwriter.
    pub fn render(
        &self,
        rows: &[Value],
        headers: &Value,
        options: &Options,
    ) -> Result<String, TemplateError> {
        let mut body = String::new();
        for row in rows {
            body.push_str(&self.template.execute(row, options).map_err(docker_error)?);
            body.push('\n');
        }
        if !self.table {
            return Ok(body);
        }
        // docker ignores errors while rendering the header; keep what it would have printed.
        let header_options = Options {
            header: true,
            ..Options::default()
        };
        let header = self
            .template
            .execute(headers, &header_options)
            .unwrap_or_default();
        Ok(docker_table(&format!("{header}\n{body}")))
    }
}

fn docker_error(e: TemplateError) -> TemplateError {
    TemplateError {
        message: format!("template parsing error: {}", e.message),
    }
}

#[cfg(test)]
mod tests;
