//! Any bytes: the whole front end must return a value or an error, never panic or hang.
#![no_main]

use keel_dockerfile::{check, dockerfile, syntax};
use keel_oci::Platform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ast) = syntax::parse(data) else { return };
    let _ = syntax::dump(&ast);
    let _ = check::check(&ast, &check::CheckOptions::default());
    let Ok(df) = dockerfile::from_ast(ast) else { return };
    let opts = dockerfile::ResolveOptions {
        build_args: Default::default(),
        target: None,
        target_platform: Platform::new("linux", "amd64", ""),
        build_platform: Platform::new("linux", "amd64", ""),
    };
    let _ = dockerfile::resolve(&df, &opts);
    let lexer = keel_dockerfile::shell::Lexer::new(df.directives.escape);
    let env = std::collections::BTreeMap::from([("A".to_owned(), "x y".to_owned())]);
    for stage in &df.stages {
        for cmd in &stage.commands {
            let _ = cmd.expand(&lexer, &env);
        }
    }
});
