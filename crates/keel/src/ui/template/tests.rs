//! Expected outputs were printed by docker 28.2.2 (`docker images --format ...`) against a stub
//! daemon serving the same rows, unless a comment says otherwise.

use serde_json::{json, Value};

use super::*;

const IMAGE_CONTEXT: &str = "*formatter.imageContext";

fn rows() -> Vec<Value> {
    vec![
        json!({"Containers": "N/A", "CreatedAt": "2026-11-22 20:39:44 +0000 UTC", "CreatedSince": "2 hours ago",
               "Digest": "<none>", "ID": "aaaaaaaaaaaa", "Repository": "busybox", "SharedSize": "N/A",
               "Size": "4.26MB", "Tag": "latest", "UniqueSize": "N/A", "VirtualSize": "4.262MB"}),
        json!({"Containers": "N/A", "CreatedAt": "2026-11-19 22:44:44 +0000 UTC", "CreatedSince": "3 days ago",
               "Digest": "<none>", "ID": "bbbbbbbbbbbb", "Repository": "<none>", "SharedSize": "N/A",
               "Size": "1e+03kB", "Tag": "<none>", "UniqueSize": "N/A", "VirtualSize": "1000kB"}),
    ]
}

fn headers() -> Value {
    json!({"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
           "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"})
}

/// Render as `docker images --format FORMAT` does.
fn images(format: &str) -> Result<String, String> {
    let f = Format::parse(format).map_err(|e| e.message)?;
    f.render(&rows(), &headers(), &Options::context(IMAGE_CONTEXT))
        .map_err(|e| e.message)
}

fn first_row(format: &str) -> String {
    images(format)
        .unwrap()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn default_images_table() {
    let format = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}";
    assert_eq!(
        images(format).unwrap(),
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
         busybox      latest    aaaaaaaaaaaa   2 hours ago   4.26MB\n\
         <none>       <none>    bbbbbbbbbbbb   3 days ago    1e+03kB\n"
    );
    let empty = Format::parse(format)
        .unwrap()
        .render(&[], &headers(), &Options::context(IMAGE_CONTEXT))
        .unwrap();
    assert_eq!(empty, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
}

#[test]
fn custom_table_and_plain_formats() {
    assert_eq!(
        images("table {{.Repository}}\\t{{.Tag}}").unwrap(),
        "REPOSITORY   TAG\nbusybox      latest\n<none>       <none>\n"
    );
    assert_eq!(
        images("{{.Repository}}:{{.Tag}}").unwrap(),
        "busybox:latest\n<none>:<none>\n"
    );
    // Header functions leave the column title alone.
    assert_eq!(
        images("table {{upper .Tag}}|{{json .ID}}")
            .unwrap()
            .lines()
            .next(),
        Some("TAG|IMAGE ID")
    );
}

#[test]
fn json_of_the_context_escapes_html_and_sorts_keys() {
    assert_eq!(
        first_row("json"),
        r#"{"Containers":"N/A","CreatedAt":"2026-11-22 20:39:44 +0000 UTC","CreatedSince":"2 hours ago","Digest":"\u003cnone\u003e","ID":"aaaaaaaaaaaa","Repository":"busybox","SharedSize":"N/A","Size":"4.26MB","Tag":"latest","UniqueSize":"N/A","VirtualSize":"4.262MB"}"#
    );
    assert_eq!(
        images("{{.Tag | json}}").unwrap(),
        "\"latest\"\n\"<none>\"\n"
    );
}

#[test]
fn functions_like_docker() {
    assert_eq!(
        first_row("{{.Tag | printf \"%s-%d\" 3}}"),
        "%!s(int=3)-%!d(string=latest)"
    );
    assert_eq!(
        images("a {{ \"x\\ty\" }}\\t{{ printf \"%q|%v|%5s|%-4d|%x\" .Tag .Size .Tag 42 255 }}")
            .unwrap(),
        "a x\ty\t\"latest\"|4.26MB|latest|42  |ff\na x\ty\t\"<none>\"|1e+03kB|<none>|42  |ff\n"
    );
    assert_eq!(
        first_row("{{range split .Repository \".\"}}[{{.}}]{{end}}"),
        "[busybox]"
    );
    assert_eq!(images("{{index .Tag 0}}").unwrap(), "108\n60\n");
    assert_eq!(first_row("{{len .Tag}}"), "6");
    assert_eq!(
        images(
            "{{pad .Tag 2 1}}|{{truncate .Repository 3}}|{{title \"hello world\"}}|{{upper .Tag}}"
        )
        .unwrap(),
        "  latest |bus|Hello World|LATEST\n  <none> |<no|Hello World|<NONE>\n"
    );
    assert_eq!(
        first_row("{{- .Tag -}}  {{/* c */}}  {{ .ID }}"),
        "latest  aaaaaaaaaaaa"
    );
    assert_eq!(
        images("{{println .Tag .ID}}").unwrap(),
        "latest aaaaaaaaaaaa\n\n<none> bbbbbbbbbbbb\n\n"
    );
    assert_eq!(
        first_row("{{join (split .Repository \"/\") \",\"}}"),
        "busybox"
    );
    assert_eq!(
        first_row("{{with $x := .Tag}}{{$x}}{{$.ID}}{{end}}"),
        "latestaaaaaaaaaaaa"
    );
    assert_eq!(first_row("{{print 1 2 \"a\" \"b\" 3}}"), "1 2ab3");
}

#[test]
fn errors_like_docker() {
    let cases = [
        ("{{.Foo}}", "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.imageContext"),
        ("{{.Repository", "template: :1: unclosed action"),
        ("{{foo .X}}", "template: :1: function \"foo\" not defined"),
        ("{{json}}", "template: :1:2: executing \"\" at <json>: wrong number of args for json: want 1 got 0"),
        ("{{if .Tag}}x", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{.Size.X}}", "template: :1:7: executing \"\" at <.Size.X>: can't evaluate field X in type string"),
    ];
    for (format, want) in cases {
        assert_eq!(
            images(format).unwrap_err(),
            format!("template parsing error: {want}"),
            "{format}"
        );
    }
}

fn doc(template: &str, data: &Value) -> String {
    let lenient = Options {
        missing_key_error: false,
        ..Options::document()
    };
    match Template::parse(template).and_then(|t| t.execute(data, &lenient)) {
        Ok(s) => s,
        Err(e) => e.message,
    }
}

// Go's own printing rules (fmt %v of maps and slices, text/template's missing keys).
#[test]
fn go_value_printing() {
    let data = json!({
        "Config": {"Env": ["PATH=/bin", "A=1"], "Labels": {"b": "2", "a": "1"}, "Cmd": null, "Tty": false},
        "Size": 4261550, "Ratio": 0.5, "Big": 1e6, "Html": "<a&b>",
        "RootFS": {"Type": "layers", "Layers": ["sha256:1", "sha256:2"]},
    });
    assert_eq!(doc("{{.Config.Env}}", &data), "[PATH=/bin A=1]");
    assert_eq!(doc("{{.Config.Labels}}", &data), "map[a:1 b:2]");
    assert_eq!(doc("{{.Config.Cmd}}", &data), "<nil>");
    assert_eq!(doc("{{.Config.Missing}}", &data), "<no value>");
    assert_eq!(doc("{{.Nothing.Below}}", &data), "<no value>");
    assert_eq!(
        doc("{{.Size}} {{.Ratio}} {{.Big}}", &data),
        "4261550 0.5 1e+06"
    );
    assert_eq!(
        doc("{{json .Config.Labels}}", &data),
        r#"{"a":"1","b":"2"}"#
    );
    assert_eq!(doc("{{json .Html}}", &data), r#""<a&b>""#);
    assert_eq!(doc("{{json .Missing}}", &data), "null");
    assert_eq!(
        doc(
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
            &data
        ),
        "a=1;b=2;"
    );
    assert_eq!(
        doc(
            "{{range $i, $e := .RootFS.Layers}}{{$i}}:{{$e}} {{end}}",
            &data
        ),
        "0:sha256:1 1:sha256:2 "
    );
    assert_eq!(
        doc("{{range .Config.Cmd}}x{{else}}none{{end}}", &data),
        "none"
    );
    assert_eq!(
        doc(
            "{{if .Config.Tty}}tty{{else if .Config.Env}}env{{else}}no{{end}}",
            &data
        ),
        "env"
    );
    assert_eq!(doc("{{with .Config}}{{len .Env}}{{end}}", &data), "2");
    assert_eq!(
        doc(
            "{{index .Config.Labels \"a\"}} {{index .RootFS.Layers 1}}",
            &data
        ),
        "1 sha256:2"
    );
    assert_eq!(
        doc("{{if eq .RootFS.Type \"layers\" \"x\"}}yes{{end}}", &data),
        "yes"
    );
    assert_eq!(
        doc(
            "{{if and (gt .Size 100) (not .Config.Tty)}}big{{end}}",
            &data
        ),
        "big"
    );
    assert_eq!(
        doc(
            "{{$n := 0}}{{range .RootFS.Layers}}{{$n = .}}{{end}}{{$n}}",
            &data
        ),
        "sha256:2"
    );
    assert_eq!(
        doc(
            "{{printf \"%.2f|%5.1f|%e|%x|%08.3f\" .Ratio 1.23456 1234.5 \"hi\" -3.5}}",
            &data
        ),
        "0.50|  1.2|1.234500e+03|6869|-003.500"
    );
    assert_eq!(
        doc("{{printf \"%s %d\" \"a\"}}|{{printf \"%d\" 1 2}}", &data),
        "a %!d(MISSING)|1%!(EXTRA int=2)"
    );
    assert_eq!(
        doc(
            "line1\n{{.Nope.X | printf \"%v\"}}{{printf \"%s\" .Nope}}",
            &data
        ),
        "line1\n<nil>%!s(<nil>)"
    );
    assert_eq!(doc("{{`raw\\n`}}{{\"\\u00e9\\x41\"}}", &data), "raw\\néA");
}

// Go's `%q` escapes what `unicode.IsPrint` rejects, not only control characters.
#[test]
fn printf_q_quotes_like_strconv() {
    let data = json!({"S": "a\u{7}\u{a0}\u{200b}\u{feff}é\"", "L": ["x y", "\t"]});
    assert_eq!(
        doc("{{printf \"%q\" .S}}", &data),
        r#""a\a\u00a0\u200b\ufeffé\"""#
    );
    assert_eq!(doc("{{printf \"%q\" .L}}", &data), r#"["x y" "\t"]"#);
}

#[test]
fn parse_errors_name_the_line() {
    let data = json!({});
    assert_eq!(
        doc("a\n{{.X}\n", &data),
        "template: :2: bad character U+007D '}'"
    );
    assert_eq!(
        doc("{{range .X}}{{else}}{{else}}{{end}}", &data),
        "template: :1: expected end; found {{else}}"
    );
    assert_eq!(
        doc("{{$x}}", &data),
        "template: :1:2: executing \"\" at <$x>: undefined variable: $x"
    );
    assert_eq!(
        doc("{{}}", &data),
        "template: :1: missing value for command"
    );
    assert_eq!(doc("{{/* open", &data), "template: :1: unclosed comment");
    assert_eq!(
        doc("x\n\n  {{.A.B | len}}", &json!({"A": {"B": 3}})),
        "template: :3:11: executing \"\" at <len>: error calling len: len of type int"
    );
}

// docker inspect executes on the JSON document with Go's missingkey=error.
#[test]
fn inspect_missing_keys_are_errors() {
    let data = json!({"Config": {"Labels": {"a": "1<&>"}, "Healthcheck": null}});
    let inspect =
        |t: &str| match Template::parse(t).and_then(|t| t.execute(&data, &Options::document())) {
            Ok(s) => s,
            Err(e) => e.message,
        };
    assert_eq!(
        inspect("{{.Nope}}"),
        "template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""
    );
    assert_eq!(
        inspect("{{.Config.Healthcheck.Test}}"),
        "template: :1:9: executing \"\" at <.Config.Healthcheck.Test>: nil data; no entry for key \"Test\""
    );
    assert_eq!(inspect("{{json .Config.Labels}}"), r#"{"a":"1<&>"}"#);
    assert_eq!(inspect("{{.Config.Labels}}"), "map[a:1<&>]");
}

#[test]
fn trim_markers() {
    let data = json!({"A": "a", "B": "b"});
    assert_eq!(doc("{{.A}}  \n  {{- .B}}", &data), "ab");
    assert_eq!(doc("{{.A -}}\n\t {{.B}}", &data), "ab");
    // `{{-3}}` is the number -3, not a trim marker (Go needs the space).
    assert_eq!(doc("x {{-3}}", &data), "x -3");
}

// Every prefix and suffix of a busy template parses or fails cleanly, never panics.
#[test]
fn truncated_templates_never_panic() {
    let source = "a {{- .A.B | printf \"%5.2f|%q\" $.X -}} {{range $i, $e := (split .S \"é\")}}{{if eq $i 0}}{{$e}}\
                  {{else if gt (len $e) 2}}{{index $e 1}}{{else}}{{/* c */}}{{end}}{{end}}{{with .M}}{{json .}}{{end}}{{`r`}} {{-3}}";
    let data = json!({"A": {"B": 1.5}, "S": "xéyéz", "M": {"k": [1, null]}});
    for (i, _) in source.char_indices() {
        for part in [&source[..i], &source[i..]] {
            if let Ok(t) = Template::parse(part) {
                let _ = t.execute(&data, &Options::document());
                let _ = t.execute(&data, &Options::context("T"));
            }
        }
    }
    let lenient = Options {
        missing_key_error: false,
        ..Options::document()
    };
    let full = Template::parse(source)
        .unwrap()
        .execute(&data, &lenient)
        .unwrap();
    assert_eq!(full, "a%!f(<nil>)|%!q(float64=1.5)x{\"k\":[1,null]}r -3");
}

// `keel images` must list 1,000 images in under 50 ms; formatting is a small part of that.
#[test]
fn thousand_row_table_is_fast() {
    let format = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}";
    let rows: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"Repository": format!("registry.example.com/team/app{i}"), "Tag": "v1.2.3",
                        "ID": format!("{i:012x}"), "CreatedSince": "2 hours ago", "Size": "4.26MB"})
        })
        .collect();
    let f = Format::parse(format).unwrap();
    let start = std::time::Instant::now();
    let out = f
        .render(&rows, &headers(), &Options::context(IMAGE_CONTEXT))
        .unwrap();
    let elapsed = start.elapsed();
    println!("1000-row images table: {elapsed:?}");
    assert_eq!(out.lines().count(), 1001);
    assert!(elapsed.as_millis() < 2000, "{elapsed:?}");
}
