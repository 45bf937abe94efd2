//! Any word and environment through every lexer mode: a value or an error, never a panic.
#![no_main]

use std::collections::BTreeMap;

use keel_dockerfile::shell::Lexer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str, Vec<(String, String)>)| {
    let (mode, word, vars) = input;
    let env: BTreeMap<String, String> = vars.into_iter().collect();
    let mut lexer = Lexer::new(if mode & 1 == 0 { '\\' } else { '`' });
    lexer.raw_quotes = mode & 2 != 0;
    lexer.raw_escapes = mode & 4 != 0;
    lexer.skip_unset_env = mode & 8 != 0;
    let _ = lexer.process_word(word, &env);
    let _ = lexer.process_words(word, &env);
    let _ = lexer.process_word_with_matches(word, &env);
});
