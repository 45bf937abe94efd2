//! The input as bytes and, as far as it is valid UTF-8, as text: validated once for the whole
//! input, so that lines and pieces of lines are borrowed as `&str` instead of being converted
//! (and copied) one at a time.

use std::borrow::Cow;

pub(crate) struct Source<'a> {
    bytes: &'a [u8],
    /// The longest valid UTF-8 prefix of `bytes` (all of it, for any sane Dockerfile).
    text: &'a str,
}

impl<'a> Source<'a> {
    pub fn new(bytes: &'a [u8]) -> Source<'a> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            // Only the valid prefix is checked twice, and only for input that is not UTF-8.
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        Source { bytes, text }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// `piece` (a sub-slice of the input) as text, borrowed, when it lies in the valid part and
    /// on character boundaries.
    pub fn borrow(&self, piece: &[u8]) -> Option<&'a str> {
        let start = piece
            .as_ptr()
            .addr()
            .checked_sub(self.bytes.as_ptr().addr())?;
        self.text.get(start..start.checked_add(piece.len())?)
    }

    /// `piece` as text; where it is not valid UTF-8, each invalid sequence becomes U+FFFD (the
    /// same as converting the piece on its own).
    pub fn text(&self, piece: &'a [u8]) -> Cow<'a, str> {
        match self.borrow(piece) {
            Some(s) => Cow::Borrowed(s),
            None => String::from_utf8_lossy(piece),
        }
    }

    /// The pieces joined, as text: the same as converting their concatenation, so a character
    /// split over two pieces is kept whole.
    pub fn join(&self, pieces: &[&'a [u8]]) -> Cow<'a, str> {
        match pieces {
            [] => Cow::Borrowed(""),
            [one] => self.text(one),
            _ => {
                let mut out = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
                for piece in pieces {
                    match self.borrow(piece) {
                        Some(s) => out.push_str(s),
                        None => {
                            return Cow::Owned(
                                String::from_utf8_lossy(&pieces.concat()).into_owned(),
                            )
                        }
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// The number of characters in `piece` (an invalid sequence counts as the one U+FFFD it
    /// becomes).
    pub fn char_count(&self, piece: &'a [u8]) -> usize {
        if piece.is_empty() {
            return 0;
        }
        self.text(piece).chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_valid_pieces_and_replaces_invalid_ones() {
        let input = "aé\nb".as_bytes();
        let src = Source::new(input);
        assert!(matches!(src.text(&input[..3]), Cow::Borrowed("aé")));
        // Half a character is not on a boundary: converted, as before.
        assert_eq!(src.text(&input[..2]), "a\u{fffd}");
        assert_eq!(src.char_count(&input[..3]), 2);

        let bad = b"ok\n\xff\xfe x\n";
        let src = Source::new(bad);
        assert!(matches!(src.text(&bad[..2]), Cow::Borrowed("ok")));
        assert_eq!(src.text(&bad[3..]), "\u{fffd}\u{fffd} x\n");
        // Not a piece of the input at all.
        assert_eq!(src.borrow(b"ok"), None);
    }

    #[test]
    fn joins_a_character_split_over_pieces() {
        let input = "x\u{20ac}y".as_bytes();
        let src = Source::new(input);
        let (a, b) = input.split_at(2);
        assert_eq!(src.join(&[a, b]), "x\u{20ac}y");
        assert_eq!(src.join(&[&input[..1], &input[4..]]), "xy");
    }
}
