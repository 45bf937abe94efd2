//! Physical lines: splitting, the 65,535-byte limit, line endings, comments and the escape
//! character at the end of a line. Works on bytes, so text that is not UTF-8 cannot break it.

/// Go's `bufio.MaxScanTokenSize - 1`: the longest line BuildKit accepts (line ending excluded).
pub const MAX_LINE_LEN: usize = 65_535;

/// The physical lines of a Dockerfile, each with its line ending, as BuildKit's scanner yields
/// them. Stops for good at the first line longer than [`MAX_LINE_LEN`].
pub(crate) struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    read: usize,
    /// Set to the 1-based number of the first line that was too long.
    pub too_long: Option<usize>,
}

impl Lines<'_> {
    /// Where the next line starts, as a byte offset into the input.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Lines<'a> {
    pub fn new(src: &'a [u8]) -> Lines<'a> {
        Lines {
            src,
            pos: 0,
            read: 0,
            too_long: None,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.too_long.is_some() || self.pos >= self.src.len() {
            return None;
        }
        let rest = &self.src[self.pos..];
        let (line, content_len) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..=i], i),
            None => (rest, rest.len()),
        };
        if content_len > MAX_LINE_LEN {
            self.too_long = Some(self.read + 1);
            return None;
        }
        self.pos += line.len();
        self.read += 1;
        Some(line)
    }
}

/// The first character of `b` and its length in bytes, if `b` starts with valid UTF-8.
fn first_char(b: &[u8]) -> Option<(char, usize)> {
    let n = match *b.first()? {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(..n)?).ok()?;
    s.chars().next().map(|c| (c, n))
}

/// Go's `bytes.TrimLeftFunc(b, unicode.IsSpace)`.
pub(crate) fn trim_left_space(mut b: &[u8]) -> &[u8] {
    loop {
        match b.first() {
            // ASCII needs no decoding: Go's and Rust's blanks agree there (`\t \n \v \f \r` and
            // space), and lines mostly start with a keyword.
            Some(&c) if c.is_ascii() => {
                if !matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ') {
                    return b;
                }
                b = &b[1..];
            }
            Some(_) => match first_char(b) {
                Some((c, n)) if c.is_whitespace() => b = &b[n..],
                _ => return b,
            },
            None => return b,
        }
    }
}

/// Go's `bytes.TrimRight(b, "\r\n")`: every trailing CR and LF.
pub(crate) fn trim_newline(b: &[u8]) -> &[u8] {
    let end = b.len()
        - b.iter()
            .rev()
            .take_while(|&&c| c == b'\r' || c == b'\n')
            .count();
    &b[..end]
}

/// BuildKit's `isComment`: the first non-blank character is `#`.
pub(crate) fn is_comment(b: &[u8]) -> bool {
    trim_left_space(b).first() == Some(&b'#')
}

/// A continuation line with nothing on it (BuildKit warns about these).
pub(crate) fn is_blank(b: &[u8]) -> bool {
    trim_left_space(trim_newline(b)).is_empty()
}

/// BuildKit's `trimContinuationCharacter`: the line without a trailing escape character (and the
/// blanks after it), and whether the instruction ends here.
///
/// An escape character that is itself escaped (`\\` at the end) does not continue the line.
pub(crate) fn trim_continuation(line: &[u8], escape: u8) -> (&[u8], bool) {
    let end = line.len()
        - line
            .iter()
            .rev()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
    if end == 0 || line[end - 1] != escape {
        return (line, true);
    }
    let at = end - 1;
    if at > 0 && line[at - 1] == escape {
        return (line, true);
    }
    (&line[..at], false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation() {
        assert_eq!(trim_continuation(b"a \\", b'\\'), (&b"a "[..], false));
        assert_eq!(trim_continuation(b"a\\ \t", b'\\'), (&b"a"[..], false));
        assert_eq!(trim_continuation(b"\\  ", b'\\'), (&b""[..], false));
        assert_eq!(trim_continuation(b"a\\\\", b'\\'), (&b"a\\\\"[..], true));
        assert_eq!(trim_continuation(b"a`", b'`'), (&b"a"[..], false));
        assert_eq!(trim_continuation(b"a\\", b'`'), (&b"a\\"[..], true));
    }

    #[test]
    fn lines_and_limit() {
        let v: Vec<_> = Lines::new(b"a\r\nb\nc").collect();
        assert_eq!(v, vec![&b"a\r\n"[..], b"b\n", b"c"]);
        let long = vec![b'a'; MAX_LINE_LEN];
        assert_eq!(Lines::new(&long).count(), 1);
        let mut too = vec![b'a'; MAX_LINE_LEN + 1];
        too.push(b'\n');
        let mut it = Lines::new(&too);
        assert!(it.next().is_none());
        assert_eq!(it.too_long, Some(1));
    }

    #[test]
    fn spaces() {
        assert_eq!(trim_left_space("\u{a0} \t#x".as_bytes()), b"#x");
        assert_eq!(trim_left_space(b"\xff x"), b"\xff x");
        assert!(is_comment(b"  # c\n"));
        assert!(is_blank(b" \t\r\n"));
    }
}
