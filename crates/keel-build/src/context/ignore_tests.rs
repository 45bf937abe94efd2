//! Cases ported from moby/patternmatcher `patternmatcher_test.go` (TestMatches, TestMatch,
//! TestClean*, TestSingleExclamationError), moby/patternmatcher `ignorefile_test.go` and
//! BuildKit's `dockerignore_test.go`: the facts, written anew.

use super::*;

fn matcher(patterns: &[&str]) -> Matcher {
    Matcher::new(patterns, "test").expect("valid patterns")
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Want {
    Fail,
    Exact,
    Inexact,
}
use Want::*;

/// TestMatches: single patterns.
const MATCHES: &[(&str, &str, Want)] = &[
    ("**", "file", Exact),
    ("**", "file/", Exact),
    ("**/", "file", Exact),
    ("**/", "file/", Exact),
    ("**", "/", Exact),
    ("**/", "/", Exact),
    ("**", "dir/file", Exact),
    ("**/", "dir/file", Exact),
    ("**", "dir/file/", Exact),
    ("**/", "dir/file/", Exact),
    ("**/**", "dir/file", Exact),
    ("**/**", "dir/file/", Exact),
    ("dir/**", "dir/file", Exact),
    ("dir/**", "dir/file/", Exact),
    ("dir/**", "dir/dir2/file", Exact),
    ("dir/**", "dir/dir2/file/", Exact),
    ("**/dir", "dir", Exact),
    ("**/dir", "dir/file", Inexact),
    ("**/dir2/*", "dir/dir2/file", Exact),
    ("**/dir2/*", "dir/dir2/file/", Inexact),
    ("**/dir2/**", "dir/dir2/dir3/file", Exact),
    ("**/dir2/**", "dir/dir2/dir3/file/", Exact),
    ("**file", "file", Exact),
    ("**file", "dir/file", Exact),
    ("**/file", "dir/file", Exact),
    ("**file", "dir/dir/file", Exact),
    ("**/file", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file.txt", Exact),
    ("**/file*txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt*", "dir/dir/file.txt", Exact),
    ("**/**/*.txt", "dir/dir/file.txt", Exact),
    ("**/**/*.txt2", "dir/dir/file.txt", Fail),
    ("**/*.txt", "file.txt", Exact),
    ("**/**/*.txt", "file.txt", Exact),
    ("a**/*.txt", "a/file.txt", Exact),
    ("a**/*.txt", "a/dir/file.txt", Exact),
    ("a**/*.txt", "a/dir/dir/file.txt", Exact),
    ("a/*.txt", "a/dir/file.txt", Fail),
    ("a/*.txt", "a/file.txt", Exact),
    ("a/*.txt**", "a/file.txt", Exact),
    ("a[b-d]e", "ae", Fail),
    ("a[b-d]e", "ace", Exact),
    ("a[b-d]e", "aae", Fail),
    ("a[^b-d]e", "aze", Exact),
    (".*", ".foo", Exact),
    (".*", "foo", Fail),
    ("abc.def", "abcdef", Fail),
    ("abc.def", "abc.def", Exact),
    ("abc.def", "abcZdef", Fail),
    ("abc?def", "abcZdef", Exact),
    ("abc?def", "abcdef", Fail),
    ("**/foo/bar", "foo/bar", Exact),
    ("**/foo/bar", "dir/foo/bar", Exact),
    ("**/foo/bar", "dir/dir2/foo/bar", Exact),
    ("abc/**", "abc", Fail),
    ("abc/**", "abc/def", Exact),
    ("abc/**", "abc/def/ghi", Exact),
    ("**/.foo", ".foo", Exact),
    ("**/.foo", "bar.foo", Fail),
    ("a(b)c/def", "a(b)c/def", Exact),
    ("a(b)c/def", "a(b)c/xyz", Fail),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", Exact),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    // Unix-only rows.
    ("a\\\\", "a\\", Exact),
    ("a\\*b", "a*b", Exact),
];

/// TestMatches: several patterns, last match wins.
const MULTI: &[(&[&str], &str, Want)] = &[
    (&["**", "!util/docker/web"], "util/docker/web/foo", Fail),
    (
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo",
        Exact,
    ),
    (
        &[
            "**",
            "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        ],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Fail,
    ),
    (
        &["**", "!dist/*.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Fail,
    ),
];

#[test]
fn matches_exact_table() {
    for &(pattern, text, want) in MATCHES {
        let m = matcher(&[pattern]);
        assert_eq!(m.matches_exact(text), want == Exact, "{pattern:?} {text:?}");
    }
}

#[test]
fn matches_or_parent_matches_table() {
    for &(pattern, text, want) in MATCHES {
        let m = matcher(&[pattern]);
        assert_eq!(
            m.matches_or_parent_matches(text),
            want != Fail,
            "{pattern:?} {text:?}"
        );
    }
    for &(patterns, text, want) in MULTI {
        let m = matcher(patterns);
        assert_eq!(
            m.matches_or_parent_matches(text),
            want != Fail,
            "{patterns:?} {text:?}"
        );
    }
}

#[test]
fn walk_order_matching_table() {
    // MatchesUsingParentResults, with the parents fed in from the root (what `matches` does)
    // and with no parent information at all.
    for &(pattern, text, want) in MATCHES {
        let m = matcher(&[pattern]);
        assert_eq!(m.matches(text), want != Fail, "{pattern:?} {text:?}");
        assert_eq!(
            m.decide(text, None, None),
            want != Fail,
            "no context: {pattern:?} {text:?}"
        );
    }
    for &(patterns, text, want) in MULTI {
        let m = matcher(patterns);
        assert_eq!(m.matches(text), want != Fail, "{patterns:?} {text:?}");
        assert_eq!(
            m.decide(text, None, None),
            want != Fail,
            "no context: {patterns:?}"
        );
    }
}

/// TestMatch: Go's filepath.Match table run through the ignore matcher (`Matches(s, [p])`).
#[test]
fn filepath_match_table_through_the_matcher() {
    let cases: &[(&str, &str, Option<bool>)] = &[
        ("abc", "abc", Some(true)),
        ("*", "abc", Some(true)),
        ("*c", "abc", Some(true)),
        ("a*", "a", Some(true)),
        ("a*", "abc", Some(true)),
        ("a*", "ab/c", Some(true)),
        ("a*/b", "abc/b", Some(true)),
        ("a*/b", "a/c/b", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Some(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Some(false)),
        ("ab[c]", "abc", Some(true)),
        ("ab[b-d]", "abc", Some(true)),
        ("ab[e-g]", "abc", Some(false)),
        ("ab[^c]", "abc", Some(false)),
        ("ab[^b-d]", "abc", Some(false)),
        ("ab[^e-g]", "abc", Some(true)),
        ("a\\*b", "a*b", Some(true)),
        ("a\\*b", "ab", Some(false)),
        ("a?b", "a☺b", Some(true)),
        ("a[^a]b", "a☺b", Some(true)),
        ("a???b", "a☺b", Some(false)),
        ("a[^a][^a][^a]b", "a☺b", Some(false)),
        ("[a-ζ]*", "α", Some(true)),
        ("*[a-ζ]", "A", Some(false)),
        ("a?b", "a/b", Some(false)),
        ("a*b", "a/b", Some(false)),
        ("[\\]a]", "]", Some(true)),
        ("[\\-]", "-", Some(true)),
        ("[x\\-]", "x", Some(true)),
        ("[x\\-]", "-", Some(true)),
        ("[x\\-]", "z", Some(false)),
        ("[\\-x]", "x", Some(true)),
        ("[\\-x]", "-", Some(true)),
        ("[\\-x]", "a", Some(false)),
        ("[]a]", "]", None),
        ("[-]", "-", None),
        ("[x-]", "x", None),
        ("[x-]", "-", None),
        ("[x-]", "z", None),
        ("[-x]", "x", None),
        ("[-x]", "-", None),
        ("[-x]", "a", None),
        ("\\", "a", None),
        ("[a-b-c]", "a", None),
        ("[", "a", None),
        ("[^", "a", None),
        ("[^bc", "a", None),
        ("a[", "a", None),
        ("a[", "ab", None),
        ("*x", "xxx", Some(true)),
    ];
    for &(pattern, text, want) in cases {
        match (Matcher::new(&[pattern], "test"), want) {
            (Ok(m), Some(want)) => assert_eq!(m.matches(text), want, "{pattern:?} {text:?}"),
            (Err(_), None) => {}
            (got, want) => panic!("{pattern:?} {text:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn simple_cases() {
    // TestWildcardMatches, TestPatternMatches, TestExclusionPattern*, TestPatternMatchesFolder*.
    assert!(matcher(&["*"]).matches("fileutils.go"));
    assert!(matcher(&["*.go"]).matches("fileutils.go"));
    assert!(matcher(&["!fileutils.go", "*.go"]).matches("fileutils.go"));
    assert!(!matcher(&["docs", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!matcher(&["docs/", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!matcher(&["docs/*", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!matcher(&["*.go", "!fileutils.go"]).matches("fileutils.go"));
    // The root is never excluded ("don't let them exclude everything").
    assert!(!matcher(&["*.go"]).matches("."));
    assert!(!matcher(&["**"]).matches(""));
    // No patterns: nothing matches.
    assert!(!matcher(&[]).matches("/any/path/there"));
}

#[test]
fn pattern_list_cleaning() {
    // TestCleanPatterns*: empty patterns dropped, spaces trimmed around `!`.
    let m = matcher(&["docs", "config", ""]);
    assert_eq!(m.patterns.len(), 2);
    assert!(matcher(&["docs", "!docs/README.md"]).has_exceptions());
    assert!(matcher(&["docs", "  !docs/README.md"]).has_exceptions());
    assert!(matcher(&["docs", "!docs/README.md  "]).has_exceptions());
    assert!(!matcher(&["docs"]).has_exceptions());
}

#[test]
fn lone_exclamation_and_malformed_patterns_are_errors() {
    // TestSingleExclamationError, TestMatchesWithMalformedPatterns.
    let err = Matcher::new(&["!"], "x").expect_err("lone !");
    assert!(
        err.to_string().contains("illegal exclusion pattern"),
        "{err}"
    );
    assert!(Matcher::new(&["["], "x").is_err());
    // moby/moby#52203: passes the syntax check, fails as a regular expression; Docker reports
    // it on first use, keel when the file is read.
    assert!(Matcher::new(&["[Local-Only]/"], "x").is_err());
}

#[test]
fn an_exception_before_its_pattern_is_tried_on_the_path_only() {
    // BuildKit's walk (MatchesUsingParentResults) keeps `d/f` excluded here, because `!d` was
    // skipped for `d` (nothing matched yet) and does not match `d/f` itself;
    // MatchesOrParentMatches would include it. keel follows the walk.
    let m = matcher(&["d/f", "!d"]);
    assert!(m.matches("d/f"));
    assert!(!m.matches_or_parent_matches("d/f"));
}

#[test]
fn state_of_a_directory_feeds_its_children() {
    let m = matcher(&["build", "!build/keep", "*.log"]);
    let build = m.state_of("build");
    assert!(m.decide("build/x", build.as_ref(), None));
    assert!(!m.decide("build/keep", build.as_ref(), None));
    let keep = m.state_of("build/keep");
    assert!(!m.decide("build/keep/a", keep.as_ref(), None));
    assert!(m.decide("a.log", None, None));
    assert_eq!(m.state_of(""), None);
}

#[test]
fn literal_patterns_allow_skipping_subtrees() {
    let m = matcher(&["x/y/a.txt", "z/**"]);
    assert!(m.may_match_below("x"));
    assert!(m.may_match_below("x/y"));
    assert!(!m.may_match_below("x/y/a.txt"));
    assert!(!m.may_match_below("w"));
    assert!(!m.may_match_below("xx"));
    assert!(matcher(&["*/a"]).may_match_below("anything"));
}

#[test]
fn read_all_rules() {
    // BuildKit dockerignore_test.go / patternmatcher ignorefile_test.go.
    let text = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n";
    assert_eq!(
        parse_dockerignore(text),
        vec![
            "test1",
            "test2",
            "a/file/here",
            "lastfile",
            "!inverted/abs/path",
            "!",
            "!"
        ]
    );
    assert!(parse_dockerignore("").is_empty());
}

#[test]
fn read_all_details() {
    // A BOM is dropped; `#` only starts a comment in the first column; CRLF is fine;
    // patterns are cleaned; `/` alone stays.
    assert_eq!(
        parse_dockerignore("\u{feff}# c\r\n  # not a comment\r\na/../b/./c/\r\n/\r\n"),
        vec!["# not a comment", "b/c", "/"]
    );
    // A file with `!` alone fails when compiled, as docker build does.
    assert!(Matcher::from_dockerignore("!\n", "x").is_err());
}

#[test]
fn which_ignore_file_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = dir.path();
    fs_err::create_dir_all(ctx.join("build")).expect("mkdir");
    let dockerfile = ctx.join("build/app.Dockerfile");
    fs_err::write(&dockerfile, "FROM scratch\n").expect("write");
    assert_eq!(
        find_ignore_file(ctx, Some(&dockerfile)).expect("find"),
        None
    );
    assert!(load_ignore(ctx, Some(&dockerfile))
        .expect("load")
        .is_empty());

    fs_err::write(ctx.join(".dockerignore"), "*.log\n").expect("write");
    assert_eq!(
        find_ignore_file(ctx, Some(&dockerfile)).expect("find"),
        Some(ctx.join(".dockerignore"))
    );
    let specific = ctx.join("build/app.Dockerfile.dockerignore");
    fs_err::write(&specific, "*.tmp\n").expect("write");
    assert_eq!(
        find_ignore_file(ctx, Some(&dockerfile)).expect("find"),
        Some(specific)
    );
    let m = load_ignore(ctx, Some(&dockerfile)).expect("load");
    assert!(m.matches("a.tmp"));
    assert!(
        !m.matches("a.log"),
        "the Dockerfile's own ignore file replaces the context's"
    );
    assert!(load_ignore(ctx, None).expect("load").matches("a.log"));
}

#[test]
fn literal_exceptions_let_the_walk_skip_matched_directories() {
    let m = matcher(&[
        "node_modules",
        "!node_modules/pkg/package.json",
        "!README.md",
    ]);
    assert!(m.exception_may_match_in("node_modules"));
    assert!(m.exception_may_match_in("node_modules/pkg"));
    assert!(!m.exception_may_match_in("node_modules/other"));
    assert!(!m.exception_may_match_in("node_modulesx"));
    // An exception naming the directory itself counts.
    assert!(matcher(&["a/*", "!a/b/**"]).exception_may_match_in("a/b"));
    // Any wildcard in an exception: always enter.
    assert!(matcher(&["a", "!**/keep"]).exception_may_match_in("a/x/y"));
    assert!(!matcher(&["a"]).exception_may_match_in("a"));
}
