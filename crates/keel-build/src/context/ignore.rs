//! `.dockerignore`: which file is read, how its lines become patterns (BuildKit's
//! `dockerignore.ReadAll`), and the [`Matcher`] that applies the patterns to context paths
//! (moby/patternmatcher).
//!
//! Rules, in order:
//! - The file: `<Dockerfile name>.dockerignore` beside the Dockerfile wins over
//!   `<context>/.dockerignore` (BuildKit; Dockerfile reference, ".dockerignore file").
//! - Lines: a UTF-8 BOM is dropped; a line whose first character is `#` is a comment; the rest is
//!   trimmed; blank lines are skipped; `!` marks an exception (spaces after it are trimmed too);
//!   the pattern is cleaned like Go's `filepath.Clean` and one leading `/` is removed.
//! - Matching: patterns apply in order and the last one that matches decides. A pattern matches
//!   a path or any of its parent directories, so `docs` hides `docs/a/b`; `!docs/README.md`
//!   brings one file back, and the walk still enters `docs` to find it.
//!
//! Matching follows the walk, as BuildKit's context transfer does (`MatchesUsingParentResults`):
//! a directory's per-pattern results are handed to its children. [`Matcher::matches`] folds the
//! same computation from the root, so a single path and a walk always agree.

use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::glob;
use super::path::clean;
use super::pattern::Pattern;

/// The name of the context-wide ignore file.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// Compiled ignore patterns (also used for `COPY --exclude` and the `--parents` selection,
/// which speak the same language).
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Rule>,
    has_exceptions: bool,
    /// Every non-exception pattern is a literal path, maybe ending in `/*` or `/**`.
    literal_only: bool,
    /// Every exception is a literal path, maybe ending in `/*` or `/**`.
    literal_exceptions: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    /// `!pattern`: an exception that brings paths back.
    exception: bool,
}

/// The per-pattern results of a directory, handed to its children during a walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchState(Vec<bool>);

impl Matcher {
    /// Compiles patterns as moby/patternmatcher's `New` does: each is trimmed, empty ones are
    /// skipped, the rest cleaned; a lone `!` and malformed patterns are errors. `origin` names
    /// where the patterns come from, for the error message.
    pub fn new<S: AsRef<str>>(patterns: &[S], origin: &str) -> Result<Matcher> {
        let mut rules = Vec::with_capacity(patterns.len());
        for raw in patterns {
            let raw = raw.as_ref();
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            let invalid = |reason: &str| Error::InvalidPattern {
                pattern: raw.to_owned(),
                origin: origin.to_owned(),
                reason: reason.to_owned(),
            };
            let cleaned = clean(trimmed);
            let (exception, text) = match cleaned.strip_prefix('!') {
                Some("") => return Err(invalid("illegal exclusion pattern: \"!\"")),
                Some(rest) => (true, rest.to_owned()),
                None => (false, cleaned),
            };
            glob::validate(&text).map_err(|_| invalid("syntax error in pattern"))?;
            let pattern = Pattern::compile(&text).map_err(|reason| invalid(&reason))?;
            rules.push(Rule { pattern, exception });
        }
        let has_exceptions = rules.iter().any(|r| r.exception);
        let literal = |exception: bool| {
            rules
                .iter()
                .filter(|r| r.exception == exception)
                .all(|r| !literal_prefix(r.pattern.text()).contains(GLOB_CHARS))
        };
        let (literal_only, literal_exceptions) = (literal(false), literal(true));
        Ok(Matcher {
            patterns: rules,
            has_exceptions,
            literal_only,
            literal_exceptions,
        })
    }

    /// Reads `.dockerignore` text (BuildKit's `ReadAll`) and compiles it.
    pub fn from_dockerignore(text: &str, origin: &str) -> Result<Matcher> {
        Matcher::new(&parse_dockerignore(text), origin)
    }

    /// No patterns at all: nothing is ever matched.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Some pattern starts with `!`, so an excluded directory may hold included paths.
    pub fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether `path` (relative, `/`-separated, cleaned) is matched, with its parent directories
    /// taken into account exactly as a walk from the root would. The root (`""` or `.`) never is.
    pub fn matches(&self, path: &str) -> bool {
        if self.patterns.is_empty() || path.is_empty() || path == "." {
            return false;
        }
        let mut state: Option<MatchState> = None;
        for (end, _) in path.match_indices('/') {
            let mut next = MatchState::default();
            self.decide(&path[..end], state.as_ref(), Some(&mut next));
            state = Some(next);
        }
        self.decide(path, state.as_ref(), None)
    }

    /// The state of directory `dir` for walking below it (`None` for the root).
    pub fn state_of(&self, dir: &str) -> Option<MatchState> {
        if self.patterns.is_empty() || dir.is_empty() || dir == "." {
            return None;
        }
        let mut state: Option<MatchState> = None;
        for (end, _) in dir.match_indices('/').chain([(dir.len(), "")]) {
            let mut next = MatchState::default();
            self.decide(&dir[..end], state.as_ref(), Some(&mut next));
            state = Some(next);
        }
        state
    }

    /// One step of a walk: whether `path` is matched given its parent directory's state (`None`
    /// for a path at the root). When `state_out` is given (for a directory), it receives the
    /// state to hand to the directory's children. This is patternmatcher's
    /// `MatchesUsingParentResults`, including its quirk: a pattern skipped for the parent (an
    /// exception while nothing was matched yet) is then tried on the child's own path only.
    pub fn decide(
        &self,
        path: &str,
        parent: Option<&MatchState>,
        state_out: Option<&mut MatchState>,
    ) -> bool {
        let mut matched = false;
        let mut state = state_out;
        if let Some(s) = state.as_deref_mut() {
            s.0.clear();
            s.0.resize(self.patterns.len(), false);
        }
        for (i, rule) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p.0.get(i).copied().unwrap_or(false));
            if !hit {
                // An exception only matters once something matched, a pattern only before.
                if rule.exception != matched {
                    continue;
                }
                hit = rule.pattern.matches(path);
                if !hit && parent.is_none() {
                    hit = parent_dirs(path).any(|dir| rule.pattern.matches(dir));
                }
            }
            if let Some(s) = state.as_deref_mut() {
                s.0[i] = hit;
            }
            if hit {
                matched = !rule.exception;
            }
        }
        matched
    }

    /// patternmatcher's `MatchesExact`: the path itself, no parent directories.
    pub fn matches_exact(&self, path: &str) -> bool {
        let mut matched = false;
        for rule in &self.patterns {
            if rule.exception != matched {
                continue;
            }
            if rule.pattern.matches(path) {
                matched = !rule.exception;
            }
        }
        matched
    }

    /// patternmatcher's `MatchesOrParentMatches`: each pattern is tried on the path and then on
    /// each of its parent directories. Differs from [`Matcher::matches`] only for an exception
    /// that precedes the pattern it should undo; kept for comparison with Docker's tests.
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        let mut matched = false;
        for rule in &self.patterns {
            if rule.exception != matched {
                continue;
            }
            if rule.pattern.matches(path) || parent_dirs(path).any(|d| rule.pattern.matches(d)) {
                matched = !rule.exception;
            }
        }
        matched
    }

    /// Whether some path strictly below directory `dir` could be matched by a non-exception
    /// pattern. Conservative: `true` unless every pattern is a literal path (fsutil's
    /// `onlyPrefixIncludes` shortcut), which lets a `--parents` selection skip whole subtrees.
    pub fn may_match_below(&self, dir: &str) -> bool {
        !self.literal_only || self.literal_below(dir, false)
    }

    /// Whether an exception could bring back something in or below the matched directory
    /// `dir`, so that the walk must enter it. Conservative like [`Matcher::may_match_below`]:
    /// with literal exceptions only (`!node_modules/pkg/package.json`), a matched directory
    /// that no exception names or contains is skipped whole (fsutil's
    /// `onlyPrefixExcludeExceptions` shortcut).
    pub fn exception_may_match_in(&self, dir: &str) -> bool {
        self.has_exceptions && (!self.literal_exceptions || self.literal_below(dir, true))
    }

    /// Some literal pattern of the kind (exception or not) names a path below `dir`, or `dir`
    /// itself when `or_equal`.
    fn literal_below(&self, dir: &str, exception: bool) -> bool {
        self.patterns
            .iter()
            .filter(|r| r.exception == exception)
            .any(|r| {
                let literal = literal_prefix(r.pattern.text());
                literal.starts_with(dir)
                    && match literal.as_bytes().get(dir.len()) {
                        None => exception,
                        Some(&b) => b == b'/',
                    }
            })
    }
}

/// Characters that make a pattern more than a literal path (fsutil's `patternChars`).
const GLOB_CHARS: [char; 6] = ['*', '?', '[', ']', '\\', '^'];

/// A pattern without a trailing `/**` or `/*` (fsutil's `patternWithoutTrailingGlob`).
fn literal_prefix(text: &str) -> &str {
    text.strip_suffix("/**")
        .or_else(|| text.strip_suffix("/*"))
        .unwrap_or(text)
}

/// `a`, `a/b` for `a/b/c`: every parent directory, shortest first.
fn parent_dirs(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(end, _)| &path[..end])
}

/// The lines of a `.dockerignore` as patterns (BuildKit's `dockerignore.ReadAll`): BOM dropped,
/// `#` comments (only at the very start of a line) skipped, lines trimmed, blank lines
/// skipped, `!` kept in front of the cleaned pattern, one leading `/` removed.
pub fn parse_dockerignore(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut patterns = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let exception = pattern.starts_with('!');
        if exception {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        patterns.push(if exception {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    patterns
}

/// Which ignore file applies (BuildKit): `<dockerfile>.dockerignore` beside the Dockerfile if
/// it exists, else `<context>/.dockerignore` if it exists, else none.
pub fn find_ignore_file(context: &Path, dockerfile: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(dockerfile) = dockerfile {
        if let Some(name) = dockerfile.file_name() {
            let mut specific = name.to_os_string();
            specific.push(DOCKERIGNORE);
            let candidate = dockerfile.with_file_name(specific);
            if exists(&candidate)? {
                return Ok(Some(candidate));
            }
        }
    }
    let candidate = context.join(DOCKERIGNORE);
    Ok(exists(&candidate)?.then_some(candidate))
}

/// Reads the ignore file that applies ([`find_ignore_file`]); no file means no patterns.
pub fn load_ignore(context: &Path, dockerfile: Option<&Path>) -> Result<Matcher> {
    let Some(path) = find_ignore_file(context, dockerfile)? else {
        return Ok(Matcher::default());
    };
    let bytes = fs_err::read(&path)?;
    let matcher = Matcher::from_dockerignore(
        &String::from_utf8_lossy(&bytes),
        &path.display().to_string(),
    )?;
    tracing::debug!(path = %path.display(), patterns = matcher.patterns.len(), "read ignore file");
    Ok(matcher)
}

fn exists(path: &Path) -> Result<bool> {
    match fs_err::metadata(path) {
        Ok(meta) => Ok(meta.is_file()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;
