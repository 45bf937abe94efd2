//! The OCI image-spec JSON schemas (Debian's `golang-github-opencontainers-image-spec-dev`, or
//! `KEEL_OCI_SCHEMA_DIR`) and a validator (`schema_validate.py` under python3-jsonschema),
//! shared by keel-oci's schema tests and the CLI's checks of `keel save` output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DEBIAN_SCHEMA_DIR: &str = "/usr/share/gocode/src/github.com/opencontainers/image-spec/schema";
const PYTHON: &str = "/usr/bin/python3";

/// The schema directory and a python that can validate, or why not.
pub fn validator() -> Result<PathBuf, String> {
    let dir = std::env::var_os("KEEL_OCI_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEBIAN_SCHEMA_DIR));
    if !dir.join("config-schema.json").is_file() {
        return Err(format!(
            "no OCI schemas in {} (apt-get install golang-github-opencontainers-image-spec-dev)",
            dir.display()
        ));
    }
    let probe = Command::new(PYTHON)
        .args(["-c", "import jsonschema"])
        .output();
    match probe {
        Ok(out) if out.status.success() => Ok(dir),
        _ => Err(format!(
            "{PYTHON} cannot import jsonschema (apt-get install python3-jsonschema)"
        )),
    }
}

/// Validate `doc` against `schema`: `Ok(())`, or the validator's list of errors.
pub fn validate(dir: &Path, schema: &str, doc: &[u8]) -> Result<(), String> {
    // Both users of this module live in crates/<crate>/tests.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keel-oci/tests/schema_validate.py");
    let mut child = Command::new(PYTHON)
        .arg(&script)
        .arg(dir)
        .arg(schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(doc)
        .expect("python reads the document");
    let out = child.wait_with_output().expect("python finishes");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(text),
        _ => panic!("validator failed to run on {schema}: {text}"),
    }
}
