//! Go's printing of template values: `fmt`'s `%v` (`map[k:v]`, `[a b]`, `<nil>`), `Sprint`,
//! `Sprintln`, `Sprintf` for the verbs docker users write, and `encoding/json` output.
//!
//! Values are JSON values standing for Go values: an integer number is a Go int, any other
//! number a float64, an object a map (keys sorted, as `fmt` prints maps).

use serde_json::Value;

use crate::ui::units::{format_float, format_g};

/// `%v` of a value; `None` is Go's invalid value (a missing map key): `<no value>`.
pub fn print_value(v: Option<&Value>) -> String {
    match v {
        None => "<no value>".to_owned(),
        Some(v) => {
            let mut out = String::new();
            write_v(&mut out, v);
            out
        }
    }
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, &map[k]);
            }
            out.push(']');
        }
    }
}

fn number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        format_g(n.as_f64().unwrap_or(0.0), None)
    } else {
        n.to_string()
    }
}

/// Go's type name for a value, as `%!d(string=x)` shows it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `fmt.Sprint`: a space between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string() && !args[i - 1].is_string() {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands and a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(|a| print_value(Some(a))).collect();
    format!("{}\n", parts.join(" "))
}

/// `fmt.Sprintf` for `%v %s %q %d %x %X %o %b %f %e %g %t %c %%` with flags `-+0 #`, width
/// and precision; mismatches print as Go does (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`).
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                '#' => spec.sharp = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = digits(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            // Go prints a mismatched verb without width or padding.
            Some(arg) => match format_one(verb, arg, &spec) {
                Ok(text) => out.push_str(&spec.pad(&text)),
                Err(bad) => out.push_str(&bad),
            },
        }
        next += 1;
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", type_name(a), print_value(Some(a))))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

impl Spec {
    fn pad(&self, s: &str) -> String {
        let len = s.chars().count();
        let Some(width) = self.width.filter(|w| *w > len) else {
            return s.to_owned();
        };
        let fill = width - len;
        if self.minus {
            format!("{s}{}", " ".repeat(fill))
        } else if self.zero && s.starts_with(['-', '+']) {
            format!("{}{}{}", &s[..1], "0".repeat(fill), &s[1..])
        } else if self.zero {
            format!("{}{s}", "0".repeat(fill))
        } else {
            format!("{}{s}", " ".repeat(fill))
        }
    }

    fn sign(&self, negative: bool) -> &'static str {
        match (negative, self.plus, self.space) {
            (true, _, _) => "-",
            (false, true, _) => "+",
            (false, false, true) => " ",
            _ => "",
        }
    }
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        chars.next();
    }
    n
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Null => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", type_name(arg), print_value(Some(arg))),
    }
}

/// One operand; `Err` holds Go's `%!verb(type=value)` for a verb that does not fit it.
fn format_one(verb: char, arg: &Value, spec: &Spec) -> Result<String, String> {
    Ok(match (verb, arg) {
        ('v', _) => print_value(Some(arg)),
        ('s', Value::String(s)) => match spec.precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        // Go's `%q` of a string is `strconv.Quote`, which the Dockerfile front end implements.
        ('q', Value::String(s)) => keel_dockerfile::goquote::quote(s),
        ('x' | 'X', Value::String(s)) => {
            let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
            if verb == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        ('t', Value::Bool(b)) => b.to_string(),
        ('s' | 'q' | 'd' | 'x' | 'X', Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| format_one(verb, i, spec).unwrap_or_else(|bad| bad))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        (_, Value::Number(n)) if !n.is_f64() => {
            let v = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .unwrap_or(0);
            let abs = v.unsigned_abs();
            let body = match verb {
                'd' => abs.to_string(),
                'x' => format!("{}{abs:x}", if spec.sharp { "0x" } else { "" }),
                'X' => format!("{}{abs:X}", if spec.sharp { "0X" } else { "" }),
                'o' => format!("{}{abs:o}", if spec.sharp { "0" } else { "" }),
                'b' => format!("{abs:b}"),
                'c' | 'q' => {
                    let c = u32::try_from(v)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}');
                    return Ok(if verb == 'q' {
                        format!("'{c}'")
                    } else {
                        c.to_string()
                    });
                }
                _ => return Err(bad_verb(verb, arg)),
            };
            format!("{}{body}", spec.sign(v < 0))
        }
        ('e' | 'f' | 'g' | 'E' | 'F' | 'G', Value::Number(n)) => {
            let f = n.as_f64().unwrap_or(0.0);
            let body = match verb.to_ascii_lowercase() {
                'e' => format_float(f.abs(), 'e', Some(spec.precision.unwrap_or(6))),
                'f' => format_float(f.abs(), 'f', Some(spec.precision.unwrap_or(6))),
                _ => format_g(f.abs(), spec.precision),
            };
            let body = if verb.is_ascii_uppercase() {
                body.to_uppercase()
            } else {
                body
            };
            format!("{}{body}", spec.sign(f.is_sign_negative() && f != 0.0))
        }
        _ => return Err(bad_verb(verb, arg)),
    })
}

/// `encoding/json` output of a value: compact, object keys in map order (sorted), Go's string
/// escapes (`\u003c`-style HTML escapes only when `escape_html`, as `json.Marshal` does and
/// docker's `json` template function does not), U+2028/U+2029 always escaped, floats as Go
/// prints them (`1e+21`, `1e-7`).
pub fn to_json(v: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, v, escape_html);
    out
}

fn write_json(out: &mut String, v: &Value, html: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_f64() => out.push_str(&json_float(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(out, s, html),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, html);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k, html);
                out.push(':');
                write_json(out, item, html);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// encoding/json's float64: shortest digits, fixed notation unless below 1e-6 or from 1e21,
/// with a one-digit negative exponent written `e-7`, not `e-07`.
fn json_float(f: f64) -> String {
    let abs = f.abs();
    let sign = if f.is_sign_negative() && f != 0.0 {
        "-"
    } else {
        ""
    };
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format_float(abs, 'e', None);
        let e = match e.rsplit_once("e-0") {
            Some((m, d)) if d.len() == 1 => format!("{m}e-{d}"),
            _ => e,
        };
        format!("{sign}{e}")
    } else {
        format!("{sign}{}", format_float(abs, 'f', None))
    }
}
