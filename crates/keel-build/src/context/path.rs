//! Slash-separated path helpers with Go's `path.Clean` semantics, which Docker applies to
//! `.dockerignore` patterns and COPY sources (so `a//b/../c/` and `a/c` are the same).

/// Go's `path.Clean`: the shortest lexically equivalent path. Empty becomes `.`; `..` at the
/// root of a rooted path is dropped; a trailing slash is removed (except for `/` itself).
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `..` cannot climb above the root; a relative path keeps it.
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// A COPY source as a path relative to the context root, the way BuildKit normalises it: joined
/// to `/` and cleaned, so `../x`, `/x` and `./x` all mean `x`, and `.` means the root (`""`).
pub(crate) fn context_relative(source: &str) -> String {
    let cleaned = clean(&format!("/{source}"));
    cleaned[1..].to_owned()
}

/// `dir/name`, where an empty `dir` is the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        let mut s = String::with_capacity(dir.len() + 1 + name.len());
        s.push_str(dir);
        s.push('/');
        s.push_str(name);
        s
    }
}

/// The last component of a cleaned relative path (the path itself when it has no `/`).
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        // Cases from Go's path.Clean documentation and tests.
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("a/b/c/", "a/b/c"),
            ("./", "."),
            ("../", ".."),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn sources_are_relative_to_the_context_root() {
        assert_eq!(context_relative("."), "");
        assert_eq!(context_relative("./"), "");
        assert_eq!(context_relative("../x"), "x");
        assert_eq!(context_relative("/abs/y/"), "abs/y");
        assert_eq!(context_relative("a/../../b"), "b");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
        assert_eq!(base_name("a/b/c"), "c");
        assert_eq!(base_name("c"), "c");
    }
}
