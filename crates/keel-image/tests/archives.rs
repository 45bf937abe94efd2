//! Archives keel did not write: docker 20.10's legacy `docker save` layout and a multi-platform
//! OCI layout, built here byte by byte as those tools lay them out.
// Test helpers: a failure here is a broken fixture.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use keel_image::{load, LoadOptions};
use keel_oci::{Digest, Platform};
use keel_store::Store;

fn layer_tar(file: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path(file).unwrap();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, content).unwrap();
    b.into_inner().unwrap()
}

fn config_json(diff_id: &Digest, arch: &str) -> Vec<u8> {
    format!(
        r#"{{"architecture":"{arch}","config":{{"Cmd":["sh"]}},"created":"2020-01-01T00:00:00Z","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#
    )
    .into_bytes()
}

struct Archive(tar::Builder<Vec<u8>>);

impl Archive {
    fn new() -> Archive {
        Archive(tar::Builder::new(Vec::new()))
    }
    fn file(&mut self, path: &str, bytes: &[u8]) -> &mut Archive {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).unwrap();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        self.0.append(&h, bytes).unwrap();
        self
    }
    fn symlink(&mut self, path: &str, target: &str) -> &mut Archive {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).unwrap();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_link_name(target).unwrap();
        h.set_size(0);
        h.set_cksum();
        self.0.append(&h, std::io::empty()).unwrap();
        self
    }
    fn blob(&mut self, bytes: &[u8]) -> Digest {
        let d = Digest::sha256_of(bytes);
        self.file(&format!("blobs/sha256/{}", d.hex()), bytes);
        d
    }
    fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

#[test]
fn docker_20_10_legacy_archive_loads_with_the_config_digest_as_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let layer = layer_tar("hello.txt", b"hi\n");
    let diff_id = Digest::sha256_of(&layer);
    let config = config_json(&diff_id, "amd64");
    let id = Digest::sha256_of(&config);
    let v1 = "a".repeat(64);
    let v1_dup = "b".repeat(64);
    let mut a = Archive::new();
    a.file(&format!("{v1}/VERSION"), b"1.0")
        .file(&format!("{v1}/json"), b"{}")
        .file(&format!("{v1}/layer.tar"), &layer)
        // Old docker deduplicated identical layers with relative symlinks.
        .symlink(&format!("{v1_dup}/layer.tar"), &format!("../{v1}/layer.tar"))
        .file(&format!("{}.json", id.hex()), &config)
        .file(
            "manifest.json",
            format!(
                r#"[{{"Config":"{}.json","RepoTags":["busybox:legacy"],"Layers":["{v1_dup}/layer.tar"]}}]"#,
                id.hex()
            )
            .as_bytes(),
        )
        .file("repositories", format!(r#"{{"busybox":{{"legacy":"{v1}"}}}}"#).as_bytes());
    let loaded = load(&store, a.bytes().as_slice(), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].tags[0].to_string(),
        "docker.io/library/busybox:legacy"
    );
    let record = store.image(&id).unwrap().unwrap();
    assert_eq!(record.layers[0].diff_id, diff_id);
    assert_eq!(record.size, layer.len() as u64);
    assert!(store.check().unwrap().is_clean());
}

#[test]
fn multi_platform_oci_layout_loads_the_requested_platform() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut a = Archive::new();
    let mut manifests = Vec::new();
    let mut ids = Vec::new();
    for arch in ["amd64", "arm64"] {
        let layer = layer_tar("arch.txt", arch.as_bytes());
        let layer_digest = a.blob(&layer);
        let config = config_json(&Digest::sha256_of(&layer), arch);
        let config_digest = a.blob(&config);
        ids.push(config_digest.clone());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        let manifest_digest = a.blob(manifest.as_bytes());
        manifests.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"platform":{{"architecture":"{arch}","os":"linux"}}}}"#,
            manifest.len()
        ));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        manifests.join(",")
    );
    let index_digest = a.blob(index.as_bytes());
    a.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#).file(
        "index.json",
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{index_digest}","size":{},"annotations":{{"io.containerd.image.name":"docker.io/library/multi:1","org.opencontainers.image.ref.name":"1"}}}}]}}"#,
            index.len()
        )
        .as_bytes(),
    );
    let bytes = a.bytes();
    let arm = LoadOptions {
        platform: Some(Platform::new("linux", "arm64", "")),
    };
    let loaded = load(&store, bytes.as_slice(), &arm).unwrap();
    assert_eq!(loaded[0].id, ids[1]);
    assert_eq!(loaded[0].tags[0].to_string(), "docker.io/library/multi:1");
    let s390 = LoadOptions {
        platform: Some(Platform::new("linux", "s390x", "")),
    };
    let err = load(&store, bytes.as_slice(), &s390).unwrap_err();
    assert!(
        err.to_string()
            .contains("no image in the archive matches platform"),
        "{err}"
    );
}

#[test]
fn gzip_compressed_archive_loads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let layer = layer_tar("f", b"x");
    let diff_id = Digest::sha256_of(&layer);
    let config = config_json(&diff_id, "amd64");
    let mut a = Archive::new();
    let layer_digest = a.blob(&layer);
    let config_digest = a.blob(&config);
    a.file(
        "manifest.json",
        format!(
            r#"[{{"Config":"blobs/sha256/{}","RepoTags":null,"Layers":["blobs/sha256/{}"]}}]"#,
            config_digest.hex(),
            layer_digest.hex()
        )
        .as_bytes(),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&a.bytes()).unwrap();
    let loaded = load(
        &store,
        gz.finish().unwrap().as_slice(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded[0].id, config_digest);
    assert!(loaded[0].tags.is_empty());
}
