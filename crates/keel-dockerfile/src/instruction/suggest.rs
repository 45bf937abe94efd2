//! "Did you mean ...?" suggestions by edit distance, as BuildKit's `util/suggest`.

/// The closest of `options` to `value`, when one is within an edit distance of 2 and none is
/// an exact match (an exact match means the error is about something else).
///
/// Case-insensitive matching returns the option in the case `value` was written in (all lower,
/// all upper, or the option as listed).
pub fn closest(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let folded = if case_sensitive {
        value.to_owned()
    } else {
        value.to_lowercase()
    };
    let mut best: Option<&str> = None;
    // BuildKit (like HCL) suggests only below a Levenshtein distance of 3. It breaks ties by map
    // order (at random); we break them by counting a swap of neighbours as one edit, so `RNU`
    // suggests RUN rather than ENV.
    let mut best_distance = (3, usize::MAX);
    for option in options {
        let candidate = if case_sensitive {
            (*option).to_owned()
        } else {
            option.to_lowercase()
        };
        if candidate == folded {
            return None;
        }
        let distance = (
            levenshtein(&folded, &candidate, false),
            levenshtein(&folded, &candidate, true),
        );
        if distance.0 < 3 && distance < best_distance {
            best_distance = distance;
            best = Some(option);
        }
    }
    let best = best?;
    if case_sensitive {
        return Some(best.to_owned());
    }
    Some(if value == value.to_lowercase() {
        best.to_lowercase()
    } else if value == value.to_uppercase() {
        best.to_uppercase()
    } else {
        best.to_owned()
    })
}

/// `message (did you mean X?)` when a close option exists, else `message`.
pub fn with_suggestion(
    message: String,
    value: &str,
    options: &[&str],
    case_sensitive: bool,
) -> String {
    match closest(value, options, case_sensitive) {
        Some(m) => format!("{message} (did you mean {m}?)"),
        None => message,
    }
}

/// Edit distance over characters (insert, delete, substitute all cost 1; with `swaps`, so does
/// exchanging two neighbours: the optimal-string-alignment distance).
fn levenshtein(a: &str, b: &str, swaps: bool) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if swaps && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting", false), 3);
        assert_eq!(levenshtein("", "abc", false), 3);
        assert_eq!(levenshtein("run", "run", false), 0);
        assert_eq!(levenshtein("rnu", "run", false), 2);
        assert_eq!(levenshtein("rnu", "run", true), 1);
    }

    #[test]
    fn suggests_in_case_written() {
        let opts = ["RUN", "COPY", "FROM"];
        assert_eq!(closest("RNU", &opts, false).as_deref(), Some("RUN"));
        assert_eq!(closest("rnu", &opts, false).as_deref(), Some("run"));
        assert_eq!(closest("foo", &["from"], true).as_deref(), Some("from"));
        assert_eq!(closest("xyzzy", &opts, false), None);
        assert_eq!(closest("run", &opts, false), None);
    }
}
