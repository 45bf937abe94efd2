//! Go's `path.Match`: the glob docker's `reference=` filter uses. `*` matches any run of
//! characters except `/`, `?` one such character, `[...]` a class (`^` negates, ranges `a-z`),
//! and `\` escapes. A malformed pattern (an unclosed class) matches nothing, as Go returns
//! `ErrBadPattern` and docker skips the pattern.

/// Whether `name` matches `pattern` entirely.
pub fn path_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n).unwrap_or(false)
}

/// `None` for a bad pattern.
fn matches(p: &[char], n: &[char]) -> Option<bool> {
    let (mut pi, mut ni) = (0, 0);
    // Backtracking point for the last `*`: (pattern index after the star, name index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi + 1, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => {
                    let (matched, next) = class(p, pi + 1, n[ni])?;
                    if matched && n[ni] != '/' {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let c = *p.get(pi + 1)?;
                    if ni < n.len() && n[ni] == c {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && c != '[' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    // Validate the class even at the end of the name.
                    class(p, pi + 1, '\0')?;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Some(true);
        }
        // Mismatch: let the last star swallow one more character (never a `/`).
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp;
                ni = sn + 1;
            }
            _ => return Some(false),
        }
    }
}

/// Match `c` against the class starting after `[` at `start`; returns (matched, index after `]`).
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&c| c != ']') {
            let (hi, next) = class_char(p, i + 1)?;
            i = next;
            hi
        } else {
            lo
        };
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

fn class_char(p: &[char], i: usize) -> Option<(char, usize)> {
    match *p.get(i)? {
        '\\' => Some((*p.get(i + 1)?, i + 2)),
        '-' | ']' if i > 0 && p[i - 1] != '[' && p[i - 1] != '^' => None,
        c => Some((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::path_match;

    #[test]
    fn go_path_match_cases() {
        // Cases from Go's path.Match documentation and behaviour.
        let cases = [
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[", "a", false),
            ("*x", "xxx", true),
            ("busybox*", "busybox:latest", true),
            ("*/app", "localhost:5000/app", true),
            ("*/*/app", "localhost:5000/team/app", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(path_match(pattern, name), want, "{pattern} vs {name}");
        }
    }
}
