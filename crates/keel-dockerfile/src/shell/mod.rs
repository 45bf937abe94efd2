//! BuildKit's shell-word lexer: quotes, escapes, `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`,
//! `${V+w}`, `${V:?msg}`, `${V?msg}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`,
//! `${V//p/r}`, and word splitting. It never runs a shell: it only rewrites words.

use std::collections::BTreeSet;

use crate::error::Error;

/// Where the lexer looks variables up.
pub trait Env {
    /// The value of `name`, `None` when it is unset (set-but-empty is `Some("")`).
    fn lookup(&self, name: &str) -> Option<&str>;
}

impl Env for std::collections::BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// What a word expanded to, and which variables it referenced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded<T> {
    pub value: T,
    /// Referenced variables that were set.
    pub matched: BTreeSet<String>,
    /// Referenced variables that were not set.
    pub unmatched: BTreeSet<String>,
}

/// The lexer, configured as BuildKit's `shell.Lex`.
#[derive(Debug, Clone)]
pub struct Lexer {
    pub escape: char,
    /// Keep quotes in the output (BuildKit `RawQuotes`).
    pub raw_quotes: bool,
    /// Keep escape characters in the output (BuildKit `RawEscapes`).
    pub raw_escapes: bool,
    /// Leave `$V` of unset variables as written (BuildKit `SkipUnsetEnv`).
    pub skip_unset_env: bool,
}

impl Lexer {
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
        }
    }

    /// One word: quotes removed, variables expanded, no field splitting (`ProcessWord`).
    pub fn process_word(&self, _word: &str, _env: &dyn Env) -> Result<String, Error> {
        todo!("shell::process_word")
    }

    /// Words: like the shell, unquoted expansions split on blanks (`ProcessWords`).
    pub fn process_words(&self, _word: &str, _env: &dyn Env) -> Result<Vec<String>, Error> {
        todo!("shell::process_words")
    }

    /// [`Lexer::process_word`] that also reports referenced variables (`ProcessWordWithMatches`).
    pub fn process_word_with_matches(
        &self,
        _word: &str,
        _env: &dyn Env,
    ) -> Result<Expanded<String>, Error> {
        todo!("shell::process_word_with_matches")
    }
}
