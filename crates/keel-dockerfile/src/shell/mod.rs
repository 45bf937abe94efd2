//! BuildKit's shell-word lexer: quotes, escapes, `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`,
//! `${V+w}`, `${V:?msg}`, `${V?msg}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`,
//! `${V//p/r}`, and word splitting. It never runs a shell: it only rewrites words.
//!
//! It is also how the parser splits a heredoc line into words (`<<` followed by blanks stays one
//! word with the name after it), as BuildKit uses one lexer for both.

mod lexer;
mod pattern;

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

/// No variables at all (BuildKit's `emptyEnvs`): with [`Lexer::skip_unset_env`] every reference
/// stays as written, which is how heredoc words are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn lookup(&self, _name: &str) -> Option<&str> {
        None
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

/// The variables words referenced, set and unset, gathered over one or more words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct References {
    pub matched: BTreeSet<String>,
    pub unmatched: BTreeSet<String>,
}

/// The lexer, configured as BuildKit's `shell.Lex`.
#[derive(Debug, Clone)]
pub struct Lexer {
    /// The escape character: `\` by default, a backtick after an `escape` directive.
    pub escape: char,
    /// Keep quotes in the output (BuildKit `RawQuotes`).
    pub raw_quotes: bool,
    /// Keep escape characters in the output (BuildKit `RawEscapes`).
    pub raw_escapes: bool,
    /// Leave `$V` of unset variables as written (BuildKit `SkipUnsetEnv`).
    pub skip_unset_env: bool,
}

impl Lexer {
    /// A lexer in BuildKit's default mode (quotes and escapes removed, unset variables empty).
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
        }
    }

    /// One word: quotes removed, variables expanded, no field splitting (`ProcessWord`).
    pub fn process_word(&self, word: &str, env: &dyn Env) -> Result<String, Error> {
        Ok(self.run(word, env, false, None)?.value)
    }

    /// Words: like the shell, unquoted expansions split on blanks (`ProcessWords`).
    pub fn process_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, Error> {
        Ok(self.run(word, env, true, None)?.words)
    }

    /// [`Lexer::process_word`] that also reports referenced variables (`ProcessWordWithMatches`).
    pub fn process_word_with_matches(
        &self,
        word: &str,
        env: &dyn Env,
    ) -> Result<Expanded<String>, Error> {
        let mut refs = References::default();
        let value = self.process_word_into(word, env, &mut refs)?;
        Ok(Expanded {
            value,
            matched: refs.matched,
            unmatched: refs.unmatched,
        })
    }

    /// [`Lexer::process_word_with_matches`] for many words: the referenced variables are added
    /// to `refs` (which may hold some already) rather than returned in sets of their own.
    pub(crate) fn process_word_into(
        &self,
        word: &str,
        env: &dyn Env,
        refs: &mut References,
    ) -> Result<String, Error> {
        Ok(self.run(word, env, false, Some(refs))?.value)
    }

    /// [`Lexer::process_words`] that also reports referenced variables.
    pub fn process_words_with_matches(
        &self,
        word: &str,
        env: &dyn Env,
    ) -> Result<Expanded<Vec<String>>, Error> {
        let mut refs = References::default();
        let out = self.run(word, env, true, Some(&mut refs))?;
        Ok(Expanded {
            value: out.words,
            matched: refs.matched,
            unmatched: refs.unmatched,
        })
    }

    fn run(
        &self,
        word: &str,
        env: &dyn Env,
        words: bool,
        refs: Option<&mut References>,
    ) -> Result<lexer::Output, Error> {
        lexer::run(self, word, env, words, refs).map_err(|message| {
            // BuildKit's own wrapping, so users see the same text as with `docker build`.
            Error::expansion(
                format!(
                    "failed to process {}: {message}",
                    crate::goquote::quote(word)
                ),
                None,
            )
        })
    }
}

#[cfg(test)]
mod tests;
