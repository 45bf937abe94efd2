//! Unit tests for the lexer beyond BuildKit's vector files: the backtick escape, the raw and
//! skip-unset modes, exact error texts, and the quirks kept for fidelity.

use std::collections::BTreeMap;

use super::Lexer;
use crate::ErrorKind;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn word(lexer: &Lexer, input: &str, pairs: &[(&str, &str)]) -> String {
    lexer
        .process_word(input, &env(pairs))
        .unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn error(lexer: &Lexer, input: &str, pairs: &[(&str, &str)]) -> String {
    let e = lexer
        .process_word(input, &env(pairs))
        .expect_err("should fail");
    assert_eq!(e.kind, ErrorKind::Expansion);
    assert_eq!(e.span, None);
    e.message
}

fn words(lexer: &Lexer, input: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    lexer
        .process_words(input, &env(pairs))
        .unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

#[test]
fn backtick_escape() {
    let l = Lexer::new('`');
    let x = [("X", "v"), ("S", "*a")];
    assert_eq!(word(&l, "a`$X", &x), "a$X");
    assert_eq!(word(&l, "a\\b$X", &x), "a\\bv");
    assert_eq!(word(&l, "\"a`\"b\"", &x), "a\"b");
    assert_eq!(word(&l, "\"a\\\"", &x), "a\\");
    assert_eq!(word(&l, "\"``\"", &x), "`");
    assert_eq!(word(&l, "\"`x\"", &x), "`x");
    assert_eq!(word(&l, "ab`", &x), "ab");
    assert_eq!(word(&l, "a` b", &x), "a b");
    // The pattern escape is always `\`, whatever the escape character.
    assert_eq!(word(&l, "${S#\\*}", &x), "a");
    assert_eq!(word(&l, "${S#`*}", &[("S", "`*ab")]), "*ab");
    assert_eq!(words(&l, "a` b c", &x), ["a b", "c"]);
}

#[test]
fn error_messages_are_buildkits() {
    let l = Lexer::new('\\');
    assert_eq!(
        error(&l, "${X:?}", &[]),
        "failed to process \"${X:?}\": X: is not allowed to be unset"
    );
    assert_eq!(
        error(&l, "${X:?}", &[("X", "")]),
        "failed to process \"${X:?}\": X: is not allowed to be empty"
    );
    assert_eq!(
        error(&l, "${X?oops $Y}", &[("Y", "y")]),
        "failed to process \"${X?oops $Y}\": X: oops y"
    );
    let tail = |input: &str, pairs: &[(&str, &str)]| {
        let m = error(&l, input, pairs);
        m.split_once(": ").expect("wrapped").1.to_string()
    };
    assert_eq!(tail("${}", &[]), "syntax error: bad substitution");
    assert_eq!(tail("${:x}", &[]), "syntax error: bad substitution");
    assert_eq!(tail("${", &[]), "syntax error: missing '}'");
    assert_eq!(tail("${X:-a", &[]), "syntax error: missing '}'");
    assert_eq!(
        tail("${X", &[]),
        "unsupported modifier (\u{FFFD}) in substitution"
    );
    assert_eq!(
        tail("${.}", &[]),
        "unsupported modifier (.) in substitution"
    );
    assert_eq!(
        tail("${X:=w}", &[]),
        "unsupported modifier (:=) in substitution"
    );
    assert_eq!(
        tail("${X=w}", &[]),
        "unsupported modifier (=) in substitution"
    );
    assert_eq!(
        tail("${X:#a}", &[]),
        "unsupported modifier (:#) in substitution"
    );
    assert_eq!(tail("${X/a", &[]), "syntax error: missing '/' in ${}");
    assert_eq!(tail("${X/a/b", &[]), "syntax error: missing '}'");
    assert_eq!(
        tail("'abc", &[]),
        "unexpected end of statement while looking for matching single-quote"
    );
    assert_eq!(
        tail("\"abc\\", &[]),
        "unexpected end of statement while looking for matching double-quote"
    );
    assert_eq!(
        tail("${X#\\x}", &[("X", "v")]),
        "invalid pattern (\\x) in substitution: invalid escape '\\x'"
    );
    // Suffix patterns are reversed first, and BuildKit quotes the reversed one.
    assert_eq!(
        tail("${X%$P}", &[("X", "v"), ("P", "ab\\")]),
        "invalid pattern (\\ba) in substitution: invalid escape '\\b'"
    );
}

#[test]
fn plain_expansions() {
    let l = Lexer::new('\\');
    let e = [("X", "v"), ("K", "한국어"), ("E", "")];
    assert_eq!(word(&l, "$", &e), "$");
    assert_eq!(word(&l, "a$", &e), "a$");
    assert_eq!(word(&l, "$.$X", &e), "$.v");
    assert_eq!(word(&l, "$1$@$*$#$?$-$$$!$0${999}|", &e), "|");
    assert_eq!(word(&l, "${X:-'}'}${Y:-'}'}", &e), "v}");
    assert_eq!(word(&l, "${Y:-${Z:-$X}}", &e), "v");
    assert_eq!(word(&l, "${E-d}${E:-d}${E+p}${E:+p}", &e), "dp");
    assert_eq!(word(&l, "${K%어}${K#?}", &e), "한국국어");
    assert_eq!(word(&l, "${K/?/Z}", &e), "Z국어");
    // A byte-order mark at the very start is dropped by Go's scanner.
    assert_eq!(word(&l, "\u{FEFF}$X\u{FEFF}", &e), "v\u{FEFF}");
}

#[test]
fn patterns_stop_at_newlines() {
    let l = Lexer::new('\\');
    let e = [("X", "ab\ncd")];
    assert_eq!(word(&l, "${X##*}", &e), "\ncd");
    assert_eq!(word(&l, "${X%%*}", &e), "ab\n");
    assert_eq!(word(&l, "${X//?/.}", &e), "..\n..");
}

#[test]
fn replace_all_expands_go_templates() {
    let l = Lexer::new('\\');
    let e = [("X", "banana")];
    assert_eq!(word(&l, "${X//a/'<$0>'}", &e), "b<a>n<a>n<a>");
    assert_eq!(word(&l, "${X/a/'<$0>'}", &e), "b<$0>nana");
    assert_eq!(word(&l, "${X//a/\\$0}", &e), "b\\an\\an\\a");
    assert_eq!(word(&l, "${X//n/'$$'}", &e), "ba$a$a");
    assert_eq!(word(&l, "${X//*/-}", &e), "-");
    assert_eq!(word(&l, "${X///-}", &e), "-b-a-n-a-n-a-");
}

#[test]
fn words_split_unquoted_expansions_only() {
    let l = Lexer::new('\\');
    let e = [("X", "1 2")];
    assert_eq!(words(&l, "a $X c", &e), ["a", "1", "2", "c"]);
    assert_eq!(words(&l, "a${X}c", &e), ["a1", "2c"]);
    assert_eq!(words(&l, "a\"$X\"c", &e), ["a1 2c"]);
    assert_eq!(words(&l, "a \"\" ''  b", &e), ["a", "b"]);
    assert!(words(&l, "  ", &e).is_empty());
}

#[test]
fn words_lose_the_field_before_a_nested_word() {
    // BuildKit's shared field buffer: see `Scanner::until`.
    let l = Lexer::new('\\');
    let e = [("X", "1 2")];
    assert_eq!(words(&l, "a${Y:-b}c", &e), ["bc"]);
    assert_eq!(words(&l, "x a${X/1/3}c", &e), ["x", "3", "2c"]);
    assert_eq!(words(&l, "a${X}c", &e), ["a1", "2c"]);
    // The single word is unaffected.
    assert_eq!(word(&l, "a${Y:-b}c", &e), "abc");
}

#[test]
fn raw_modes() {
    let mut l = Lexer::new('\\');
    l.raw_quotes = true;
    let e = [("X", "v")];
    assert_eq!(word(&l, "'a $X'\"b $X\"", &e), "'a $X'\"b v\"");
    assert_eq!(words(&l, "hello \"a b\"", &e), ["hello", "\"a b\""]);

    let mut l = Lexer::new('\\');
    l.raw_escapes = true;
    assert_eq!(word(&l, "a\\ b\\$X", &e), "a\\ b\\$X");
    assert_eq!(words(&l, "a\\ b c", &e), ["a\\ b", "c"]);
    assert_eq!(word(&l, "\"\\$X\"", &e), "\\$X");
    // BuildKit writes a lone escape twice inside double quotes in this mode.
    assert_eq!(word(&l, "\"\\a\"", &e), "\\\\a");
    assert_eq!(word(&l, "ab\\", &e), "ab\\");
}

#[test]
fn skip_unset_env_keeps_references() {
    let mut l = Lexer::new('\\');
    l.skip_unset_env = true;
    let e = [("X", "v")];
    assert_eq!(
        word(&l, "$U ${U} ${U:-d} ${U/a/b} ${U//a/b} $X ${X:-d}", &e),
        "$U ${U} ${U:-d} ${U/a/b} ${U/a/b} v v"
    );
    assert_eq!(word(&l, "${U:-$X}", &e), "${U:-v}");
    // Even an unsupported modifier passes when the variable is unset.
    assert_eq!(word(&l, "${U:=w}", &e), "${U:=w}");
    assert!(l.process_word("${X:=w}", &env(&e)).is_err());
}

#[test]
fn matches_include_nested_references() {
    let l = Lexer::new('\\');
    let got = l
        .process_word_with_matches("${X:-$Y}$1$@${Z#$X}", &env(&[("Z", "zz")]))
        .unwrap();
    assert_eq!(got.value, "zz");
    assert_eq!(got.matched.into_iter().collect::<Vec<_>>(), ["Z"]);
    assert_eq!(
        got.unmatched.into_iter().collect::<Vec<_>>(),
        ["1", "@", "X", "Y"]
    );
    let got = l
        .process_words_with_matches("$A b", &env(&[("A", "a a")]))
        .unwrap();
    assert_eq!(got.value, ["a", "a", "b"]);
    assert!(got.matched.contains("A"));
}

#[test]
fn many_stars_stay_fast() {
    let l = Lexer::new('\\');
    let long = "a".repeat(5000);
    let e = [("X", long.as_str())];
    let pattern = format!("${{X#{}b}}", "*a".repeat(50));
    assert_eq!(word(&l, &pattern, &e), long);
    assert_eq!(word(&l, "${X//a/}", &e), "");
}

#[test]
fn heredoc_opener_keeps_its_blanks_in_the_field() {
    // BuildKit's lexer reads `<<` (and `<<-`) with the blanks after it as one piece, so that
    // `<<  EOF` is one word; the text itself is unchanged.
    let l = Lexer::new('\\');
    assert_eq!(words(&l, "cat <<  EOF >x", &[]), ["cat", "<<  EOF", ">x"]);
    assert_eq!(words(&l, "cat <<-\tEOF", &[]), ["cat", "<<-\tEOF"]);
    assert_eq!(words(&l, "a < b <<<c", &[]), ["a", "<", "b", "<<<c"]);
    assert_eq!(word(&l, "cat <<  EOF", &[]), "cat <<  EOF");
}
