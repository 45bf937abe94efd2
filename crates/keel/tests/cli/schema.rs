//! The index, manifests, configs and oci-layout in `keel save` output, checked against the OCI
//! image-spec JSON schemas with crates/keel-oci/tests/schema_validate.py. Skipped with a message
//! without the schemas or python3-jsonschema (see crates/keel-oci/tests/schema.rs).

use std::path::Path;

use serde_json::{json, Value};

use crate::support::{busybox_or_skip, config_for, docker_archive, layer, tar_files, Keel};

#[path = "../../../keel-oci/tests/oci_schema/mod.rs"]
mod oci_schema;

/// Validate `doc` against `schema`; panics with the validator's errors.
fn validate(dir: &Path, schema: &str, doc: &[u8], what: &str) {
    if let Err(errors) = oci_schema::validate(dir, schema, doc) {
        panic!(
            "{what} does not match {schema}:\n{errors}\n{}",
            String::from_utf8_lossy(doc)
        );
    }
}

fn validate_archive(dir: &Path, archive: &[u8]) -> usize {
    let files = tar_files(archive);
    let file = |name: &str| -> &[u8] {
        &files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is not in the archive"))
            .1
    };
    let blob = |digest: &Value| {
        file(&format!(
            "blobs/sha256/{}",
            &digest.as_str().expect("digest")[7..]
        ))
    };
    validate(
        dir,
        "image-layout-schema.json",
        file("oci-layout"),
        "oci-layout",
    );
    validate(
        dir,
        "image-index-schema.json",
        file("index.json"),
        "index.json",
    );
    let index: Value = serde_json::from_slice(file("index.json")).expect("index.json");
    let manifests = index["manifests"].as_array().expect("manifests");
    for d in manifests {
        validate(
            dir,
            "content-descriptor.json",
            &serde_json::to_vec(d).expect("json"),
            "index entry",
        );
        let manifest_bytes = blob(&d["digest"]);
        validate(
            dir,
            "image-manifest-schema.json",
            manifest_bytes,
            "manifest",
        );
        let manifest: Value = serde_json::from_slice(manifest_bytes).expect("manifest");
        validate(
            dir,
            "config-schema.json",
            blob(&manifest["config"]["digest"]),
            "config",
        );
    }
    manifests.len()
}

macro_rules! schemas_or_skip {
    () => {
        match oci_schema::validator() {
            Ok(dir) => dir,
            // CI installs the schemas and the validator: there, a skip would hide a broken setup.
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("no OCI schema check in CI: {why}")
            }
            Err(why) => {
                eprintln!("skipping schema test: {why}");
                return;
            }
        }
    };
}

#[test]
fn saved_imports_match_the_oci_schemas() {
    let dir = schemas_or_skip!();
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    k.import(busybox, Some("plain"), 0, &[]);
    k.import(
        busybox,
        Some("configured:1"),
        1_700_000_000,
        &[
            "-m",
            "every --change",
            "--change",
            "ENV PATH=/usr/bin:/bin A=<b&c>",
            "--change",
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
            "--change",
            "CMD echo hi",
            "--change",
            "EXPOSE 80 53/udp",
            "--change",
            "VOLUME /data",
            "--change",
            "LABEL org.opencontainers.image.title=app",
            "--change",
            "USER 1000:1000",
            "--change",
            "WORKDIR /srv",
            "--change",
            "STOPSIGNAL SIGQUIT",
            "--change",
            "HEALTHCHECK --interval=30s CMD wget -q localhost",
            "--change",
            "ONBUILD RUN make",
        ],
    );
    let out = k.run(&["save", "plain", "configured:1"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(validate_archive(&dir, &out.stdout), 2);
}

#[test]
fn a_loaded_docker_archive_saves_as_valid_oci() {
    // keel writes its own manifest for an image loaded from a docker archive (which has none).
    let dir = schemas_or_skip!();
    let layers = vec![layer(&[("etc/a", "a\n")]), layer(&[("etc/b", "b\n")])];
    let config = config_for(
        &layers,
        json!([
            {"created": "2024-01-02T03:04:05Z", "created_by": "ADD a"},
            {"created": "2024-01-02T03:04:06Z", "created_by": "CMD sh", "empty_layer": true},
            {"created": "2024-01-02T03:04:07Z", "created_by": "ADD b"},
        ]),
    );
    let (archive, _) = docker_archive(
        &serde_json::to_vec(&config).expect("json"),
        &layers,
        &["two:1"],
    );
    let k = Keel::new();
    let out = k.run_stdin(&["load"], &archive);
    assert_eq!(out.status.code(), Some(0));
    let out = k.run(&["save", "two:1"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(validate_archive(&dir, &out.stdout), 1);
}
