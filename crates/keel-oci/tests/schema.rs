//! keel's image JSON checked against the OCI image-spec JSON schemas.
//!
//! Needs the schemas and a Python with `jsonschema`; on Debian:
//! `apt-get install golang-github-opencontainers-image-spec-dev python3-jsonschema`
//! (`python3-rfc3987` as well to check the `uri` format of descriptor URLs). Without them the
//! tests say so on stderr and pass. `KEEL_OCI_SCHEMA_DIR` points at another schema directory.
#![allow(clippy::print_stderr)]

use keel_oci::{
    media_type, ContainerConfig, Descriptor, Digest, Healthcheck, History, ImageConfig, ImageIndex,
    ImageManifest, OciLayout, Platform, RootFs,
};

mod oci_schema;

use oci_schema::{validate, validator};

macro_rules! require_validator {
    () => {
        match validator() {
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

fn sample_config() -> ImageConfig {
    let mut c = ImageConfig::new(&Platform::new("linux", "arm", "v7"));
    c.created = Some("2024-05-06T07:08:09.123456789Z".into());
    c.author = "keel <keel@example.com>".into();
    c.config = ContainerConfig {
        user: "1000:1000".into(),
        env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
        entrypoint: vec!["/bin/app".into()],
        cmd: vec!["--serve".into()],
        working_dir: "/srv".into(),
        stop_signal: "SIGQUIT".into(),
        args_escaped: true,
        healthcheck: Some(Healthcheck {
            test: vec!["CMD", "/bin/app", "--check"]
                .into_iter()
                .map(String::from)
                .collect(),
            interval: 30_000_000_000,
            retries: 3,
            ..Healthcheck::default()
        }),
        on_build: vec!["RUN make".into()],
        shell: vec!["/bin/sh".into(), "-c".into()],
        ..ContainerConfig::default()
    };
    c.config
        .exposed_ports
        .insert("8080/tcp".into(), Default::default());
    c.config.volumes.insert("/data".into(), Default::default());
    c.config
        .labels
        .insert("org.opencontainers.image.title".into(), "app".into());
    c.rootfs = RootFs::layers(vec![
        Digest::sha256_of(b"layer 1"),
        Digest::sha256_of(b"layer 2"),
    ]);
    c.history = vec![
        History {
            created: c.created.clone(),
            created_by: "COPY app /bin/app # buildkit".into(),
            comment: "buildkit.dockerfile.v0".into(),
            ..History::default()
        },
        History {
            created: c.created.clone(),
            created_by: "CMD [\"--serve\"]".into(),
            empty_layer: true,
            ..History::default()
        },
    ];
    c
}

fn sample_manifest(config: &[u8]) -> ImageManifest {
    let mut layer = Descriptor::new(
        media_type::OCI_LAYER_TAR_GZIP,
        Digest::sha256_of(b"layer 1 gz"),
        1234,
    );
    layer
        .annotations
        .insert("org.example.note".into(), "a & b".into());
    let foreign = Descriptor {
        urls: vec!["https://example.com/layer.tar.gz".into()],
        ..Descriptor::new(
            media_type::OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
            Digest::sha256_of(b"layer 2 gz"),
            99,
        )
    };
    let mut m = ImageManifest::oci(
        Descriptor::of_bytes(media_type::OCI_CONFIG, config),
        vec![layer, foreign],
    );
    m.annotations.insert(
        "org.opencontainers.image.created".into(),
        "2024-05-06T07:08:09Z".into(),
    );
    m
}

fn sample_index(manifest: &[u8]) -> ImageIndex {
    let arm = Descriptor::of_bytes(media_type::OCI_MANIFEST, manifest)
        .with_platform(Platform::new("linux", "arm", "v7"));
    let mut windows = Platform::new("windows", "amd64", "");
    windows.os_version = "10.0.17763.1879".into();
    windows.os_features = vec!["win32k".into()];
    let win = Descriptor::of_bytes(media_type::OCI_MANIFEST, b"{}").with_platform(windows);
    let mut i = ImageIndex::oci(vec![arm, win]);
    i.annotations
        .insert("org.opencontainers.image.ref.name".into(), "1.0".into());
    i
}

#[test]
fn image_config_matches_the_config_schema() {
    let dir = require_validator!();
    let bytes = sample_config().to_canonical_bytes();
    validate(&dir, "config-schema.json", &bytes).unwrap_or_else(|e| panic!("{e}"));
    // A config with no layers still writes `diff_ids` as an array, which the schema requires.
    let empty = ImageConfig::new(&Platform::new("linux", "amd64", "")).to_canonical_bytes();
    validate(&dir, "config-schema.json", &empty).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn image_manifest_matches_the_manifest_schema() {
    let dir = require_validator!();
    let config = sample_config().to_canonical_bytes();
    let bytes = sample_manifest(&config).to_canonical_bytes();
    validate(&dir, "image-manifest-schema.json", &bytes).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn image_index_matches_the_index_schema() {
    let dir = require_validator!();
    let config = sample_config().to_canonical_bytes();
    let manifest = sample_manifest(&config).to_canonical_bytes();
    let bytes = sample_index(&manifest).to_canonical_bytes();
    validate(&dir, "image-index-schema.json", &bytes).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn descriptor_and_layout_match_their_schemas() {
    let dir = require_validator!();
    let d = Descriptor::of_bytes(media_type::OCI_LAYER_TAR_ZSTD, b"x");
    let bytes = keel_oci::canonical_json::to_vec(&d).expect("serializes");
    validate(&dir, "content-descriptor.json", &bytes).unwrap_or_else(|e| panic!("{e}"));
    let layout = OciLayout::default().to_canonical_bytes();
    validate(&dir, "image-layout-schema.json", &layout).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_validator_rejects_broken_documents() {
    // Guards the guard: if $ref resolution or format checks silently did nothing, the tests
    // above would pass for any input.
    let dir = require_validator!();
    let cases: [(&str, &[u8]); 5] = [
        ("config-schema.json", br#"{"architecture":"amd64","os":"linux"}"#),
        (
            "config-schema.json",
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"created":"yesterday"}"#,
        ),
        (
            "config-schema.json",
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"a":1}}}"#,
        ),
        (
            "image-manifest-schema.json",
            br#"{"schemaVersion":2,"config":{"mediaType":"x/y","digest":"sha256:not hex","size":1},"layers":[{"mediaType":"x/y","digest":"sha256:00","size":1}]}"#,
        ),
        ("image-index-schema.json", br#"{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"sha256:00","size":1,"platform":{"os":"linux"}}]}"#),
    ];
    for (schema, doc) in cases {
        assert!(
            validate(&dir, schema, doc).is_err(),
            "{schema} accepted {}",
            String::from_utf8_lossy(doc)
        );
    }
}
