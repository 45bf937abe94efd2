//! Heredocs (`<<EOF`): finding them on an instruction line, and their names and options.
//!
//! BuildKit finds heredocs by running its shell lexer over the whole line (with quotes, escapes
//! and unset variables kept as written) and matching each word against `^(\d*)<<(-?)([^<]*)$`.
//! We do the same with our copy of that lexer, [`crate::shell::Lexer`]: one lexer, so that a
//! heredoc line splits into words exactly as the rest of the Dockerfile does.

use super::node::Heredoc;
use crate::error::Error;
use crate::shell::{Lexer, NoEnv};

/// BuildKit's `ParseHeredoc`: the heredoc a single word opens, if any.
///
/// `Ok(None)` when the word is no heredoc (`EOF`, `<<`, `<<EOF sh`); an error when its name has
/// an unterminated quote (`<<'EOF`).
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, Error> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match after.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, after),
    };
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    // The lexer's message already reads as BuildKit's (`failed to process "'EOF": ...`); only
    // the kind is ours: a heredoc that cannot be read is a syntax error.
    let fail = |e: Error| Error::syntax(e.message, None);
    let words = word_lexer(false, false)
        .process_words(rest, &NoEnv)
        .map_err(fail)?;
    if words.len() != 1 {
        return Ok(None);
    }
    let raw = word_lexer(true, false)
        .process_words(rest, &NoEnv)
        .map_err(fail)?;
    if raw.len() != words.len() {
        return Err(Error::syntax(
            format!("internal lexing of heredoc produced inconsistent results: {rest}"),
            None,
        ));
    }
    // A quote that the lexer removed shows as a difference in the number of quote characters;
    // escaped quotes stay in both and cancel out.
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    let expand = quotes(&words[0]) == quotes(&raw[0]);
    // Go parses the digits as an unsigned integer and ignores overflow errors.
    let file_descriptor =
        word[..digits]
            .parse::<u32>()
            .unwrap_or(if digits == 0 { 0 } else { u32::MAX });
    Ok(Some(Heredoc {
        name: words.into_iter().next().unwrap_or_default(),
        file_descriptor,
        expand,
        chomp,
        content: String::new(),
    }))
}

/// BuildKit's `heredocsFromLine`: the heredocs opened on an instruction line, in order (bodies
/// empty). A line the lexer cannot split (an unterminated quote) opens none.
pub fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, Error> {
    let words = word_lexer(true, true)
        .process_words(line, &NoEnv)
        .unwrap_or_default();
    let mut docs = Vec::new();
    for word in &words {
        if let Some(doc) = parse_heredoc(word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// BuildKit's `ChompHeredocContent`: leading tabs removed from every line (for `<<-`).
pub fn chomp_heredoc_content(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for piece in src.split_inclusive('\n') {
        out.push_str(piece.trim_start_matches('\t'));
    }
    out
}

/// The lexer BuildKit uses to split heredoc words: always `\` as escape (whatever the file's
/// escape directive says), variables left as written.
fn word_lexer(raw_quotes: bool, raw_escapes: bool) -> Lexer {
    Lexer {
        raw_quotes,
        raw_escapes,
        skip_unset_env: true,
        ..Lexer::new('\\')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredocs_from_line(line)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    fn lex_words(src: &str, raw_quotes: bool, raw_escapes: bool) -> Result<Vec<String>, Error> {
        word_lexer(raw_quotes, raw_escapes).process_words(src, &NoEnv)
    }

    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(
            lex_words(r#"a 'b c' "d\"e""#, true, true).unwrap(),
            vec!["a", "'b c'", r#""d\"e""#]
        );
        assert_eq!(
            lex_words(r#"a 'b c' "d\"e""#, false, false).unwrap(),
            vec!["a", "b c", "d\"e"]
        );
        assert_eq!(
            lex_words("$A ${B:-x y}", true, true).unwrap(),
            vec!["$A", "${B:-x", "y}"]
        );
        assert!(lex_words("'abc", true, true).is_err());
        // The escape is `\` even where the file's escape directive says otherwise.
        assert_eq!(lex_words("a\\ b", true, true).unwrap(), vec!["a\\ b"]);
    }

    #[test]
    fn unreadable_name_is_a_syntax_error_in_go_quoting() {
        let e = parse_heredoc("<<'EOF").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Syntax);
        assert_eq!(
            e.message,
            "failed to process \"'EOF\": unexpected end of statement while looking for matching single-quote"
        );
    }

    #[test]
    fn lines() {
        assert_eq!(names("RUN <<  EOF  > foo"), vec!["EOF"]);
        assert_eq!(names("RUN cat <<EOF >/x && cat <<-'E2'"), vec!["EOF", "E2"]);
        assert_eq!(names("RUN echo 'unterminated <<EOF"), Vec::<String>::new());
        assert_eq!(names("RUN 3<<EOF"), vec!["EOF"]);
        assert_eq!(names("RUN <<<EOF"), Vec::<String>::new());
        let h = parse_heredoc("12<<-\"A\"B").unwrap().unwrap();
        assert_eq!(
            (h.name.as_str(), h.file_descriptor, h.chomp, h.expand),
            ("AB", 12, true, false)
        );
    }
}
