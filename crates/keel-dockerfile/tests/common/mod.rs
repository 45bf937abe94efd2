//! Shared helpers for the vector tests: where BuildKit's test vectors live.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/vectors/buildkit` beside the checkout (or `$KEEL_VECTORS/buildkit`), or `None` with
/// a message on stderr when it is absent (a user's machine): the caller then skips.
pub fn buildkit_vectors() -> Option<PathBuf> {
    let base = match std::env::var_os("KEEL_VECTORS") {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    let dir = base.join("buildkit");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: BuildKit test vectors not found at {} (set KEEL_VECTORS)",
            dir.display()
        );
        None
    }
}

/// Read a vector file as text.
pub fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Read a `.json` vector file.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Read a `.jsonl` vector file: one JSON value per non-empty line.
pub fn read_jsonl(path: &std::path::Path) -> Vec<serde_json::Value> {
    read(path)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}
