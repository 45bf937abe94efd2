//! An instruction line → keyword, `--flags` and the rest (BuildKit's `splitCommand` and
//! `extractBuilderFlags`).

use std::borrow::Cow;

/// BuildKit's `tokenWhitespace` / `reWhitespace` class: `[\t\v\f\r ]`.
pub(crate) fn is_token_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Go's `unicode.IsSpace` applied to a single byte taken as a rune, as BuildKit's byte-wise
/// loops do: besides the ASCII blanks, the bytes 0x85 and 0xA0 count as blanks.
pub(crate) fn is_space_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

/// Go's `strings.ToLower`, one character at a time (no context rules).
pub(crate) fn go_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// The keyword (lower-cased), the flags and the rest of the line, trimmed (borrowed from `line`
/// unless BuildKit's byte-wise flag reading split a character).
pub(crate) fn split_command(line: &str) -> (String, Vec<String>, Cow<'_, str>) {
    let trimmed = line.trim();
    match trimmed.find(is_token_space) {
        None => (go_lower(trimmed), Vec::new(), Cow::Borrowed("")),
        Some(i) => {
            let cmd = go_lower(&trimmed[..i]);
            let after = trimmed[i..].trim_start_matches(is_token_space);
            let (rest, flags) = extract_builder_flags(after);
            let rest = match rest {
                Cow::Borrowed(r) => Cow::Borrowed(r.trim()),
                Cow::Owned(r) => Cow::Owned(r.trim().to_owned()),
            };
            (cmd, flags, rest)
        }
    }
}

/// BuildKit's `extractBuilderFlags`: leading words that start with `--`, quotes removed and
/// `\` escapes applied; `--` alone ends them and is dropped.
///
/// BuildKit walks this part byte by byte and stores each byte as a character, so a non-ASCII
/// flag value comes out re-encoded (`é` → `Ã©`), and the bytes 0x85 and 0xA0 inside a
/// character split words. Kept as is: the same Dockerfile must mean the same thing.
pub(crate) fn extract_builder_flags(line: &str) -> (Cow<'_, str>, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let b = line.as_bytes();
    // The rest starts where a flag ended, which is a character boundary unless a 0x85 or 0xA0
    // byte inside a character ended the flag.
    let rest_at = |pos: usize| match line.get(pos..) {
        Some(rest) => Cow::Borrowed(rest),
        None => String::from_utf8_lossy(&b[pos..]),
    };
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= b.len() {
        let at_end = pos == b.len();
        let ch = if at_end { 0 } else { b[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if is_space_byte(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || b.get(pos + 1) != Some(&b'-') {
                return (rest_at(pos), words);
            }
            phase = Phase::Word;
            // Room for the flag up to the next blank, so it is not regrown byte by byte.
            let len = b[pos..].iter().position(|&c| is_space_byte(c));
            word.reserve(len.unwrap_or(b.len() - pos));
        }
        if at_end {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if is_space_byte(ch) {
                phase = Phase::Spaces;
                if word == "--" {
                    return (rest_at(pos), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
        } else if ch == quote {
            // The closing quote.
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        // In or out of quotes, `\` takes the next byte as it is; at the very end it is dropped
        // (and the word ends there, quoted or not).
        let mut c = ch;
        if c == b'\\' {
            pos += 1;
            let Some(&next) = b.get(pos) else {
                continue;
            };
            c = next;
        }
        word.push(char::from(c));
        pos += 1;
    }
    (Cow::Borrowed(""), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let (rest, f) = extract_builder_flags("--a=1 --b=\"x y\" --c='' -- --d foo");
        assert_eq!(f, vec!["--a=1", "--b=x y", "--c="]);
        assert_eq!(rest, " --d foo");
        let (rest, f) = extract_builder_flags("--x=a\\ b foo");
        assert_eq!((rest.as_ref(), f), ("foo", vec!["--x=a b".to_string()]));
        let (rest, f) = extract_builder_flags("--only");
        assert_eq!((rest.as_ref(), f), ("", vec!["--only".to_string()]));
        let (rest, f) = extract_builder_flags("-x foo");
        assert_eq!((rest.as_ref(), f.len()), ("-x foo", 0));
        // The 0xA0 byte inside U+0800 (E0 A0 80) ends the flag mid-character: the rest is
        // converted, its stray 0x80 replaced.
        let (rest, f) = extract_builder_flags("--a=\u{800}b c");
        assert_eq!(
            (rest.as_ref(), f),
            ("\u{fffd}b c", vec!["--a=\u{e0}".to_string()])
        );
        // BuildKit's byte-wise reading re-encodes non-ASCII flag values.
        let (_, f) = extract_builder_flags("--chown=é x");
        assert_eq!(f, vec!["--chown=Ã©"]);
    }

    #[test]
    fn command() {
        let (cmd, flags, rest) = split_command("  RuN\t--mount=type=cache  echo hi  ");
        assert_eq!(
            (cmd.as_str(), flags.len(), rest.as_ref()),
            ("run", 1, "echo hi")
        );
        assert_eq!(split_command("FROM").0, "from");
    }
}
