//! The JSON bytes keel writes for blobs that get hashed: compact, in the field order the types
//! declare, with strings escaped exactly as Go's `encoding/json` escapes them.
//!
//! Why Go's escaping: BuildKit, containerd and docker write configs, manifests and indexes with
//! `json.Marshal`, which escapes `<`, `>`, `&`, U+2028 and U+2029 (`\u003c`...). With the same
//! escaping, a blob keel writes for the same values has the same bytes, hence the same digest,
//! as the one docker would write, which the conformance tests rely on. Everything else already
//! matches serde_json's compact output: no whitespace, `\n`/`\r`/`\t`/`\b`/`\f` short escapes
//! (Go 1.22+), other control characters as lower-case `\u00XX`, map keys in byte order
//! (Go sorts map keys; keel uses `BTreeMap`).

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// Serialize `value` as compact, Go-escaped JSON.
///
/// Fails only for values JSON cannot hold (a map whose keys are not strings) or a `Serialize`
/// impl that reports an error; keel's own image types do neither.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// serde_json's compact formatter (the trait's defaults) plus Go's HTML-safe escapes.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json has already split out `"`, `\` and control characters; only the characters
        // Go additionally escapes (encoding/json `appendString` with escapeHTML) remain here.
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn escapes_like_go_encoding_json() {
        // Expected bytes are what Go's json.Marshal prints for the same strings.
        let cases = [
            ("a && b", r#""a \u0026\u0026 b""#),
            ("<script>", r#""\u003cscript\u003e""#),
            ("line\u{2028}sep\u{2029}", r#""line\u2028sep\u2029""#),
            ("tab\tnl\ncr\r", r#""tab\tnl\ncr\r""#),
            ("\u{1b}[0m\u{7f}", "\"\\u001b[0m\u{7f}\""),
            ("quote\" back\\", r#""quote\" back\\""#),
            ("héllo ✓", "\"héllo ✓\""),
        ];
        for (input, want) in cases {
            let got = to_vec(input).expect("serializes");
            assert_eq!(String::from_utf8(got).expect("utf-8"), want, "{input:?}");
        }
    }

    #[test]
    fn compact_with_sorted_map_keys_escaped_too() {
        let mut m = BTreeMap::new();
        m.insert("b&", vec![1, 2]);
        m.insert("a", vec![]);
        let got = to_vec(&m).expect("serializes");
        assert_eq!(got, br#"{"a":[],"b\u0026":[1,2]}"#);
    }

    #[test]
    fn non_string_map_keys_are_an_error() {
        let mut m = BTreeMap::new();
        m.insert(vec![1u8], 1);
        assert!(to_vec(&m).is_err());
    }
}
