//! Archives keel writes, read by other tools (skopeo, umoci), and archives they write, loaded by
//! keel. Skipped with a message when the tools are not on PATH (CI installs them).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{assert_success, busybox_or_skip, have, sha256, stderr, stdout, Keel};

fn run_tool(program: &str, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("the tool prints JSON")
}

/// A store with busybox imported and saved to `busybox.tar`; the image ID and diffIDs.
fn saved_busybox(busybox: &Path) -> (Keel, String, Value) {
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox"), 0, &["--change", r#"CMD ["sh"]"#]);
    k.ok(&["save", "-o", "busybox.tar", "busybox"]);
    let layers: Value =
        serde_json::from_str(&k.inspect("{{json .RootFS.Layers}}", "busybox")).expect("json");
    (k, id, layers)
}

#[test]
fn skopeo_reads_keel_archives_as_docker_and_oci() {
    let busybox = busybox_or_skip!();
    if !have("skopeo") {
        return;
    }
    let (k, id, diff_ids) = saved_busybox(busybox);
    for transport in [
        "docker-archive:busybox.tar:busybox:latest",
        "oci-archive:busybox.tar:latest",
    ] {
        let config = run_tool(
            "skopeo",
            &["inspect", "--config", "--raw", transport],
            k.dir(),
        );
        assert_eq!(sha256(&config.stdout), id, "{transport}: config digest");
        let config: Value = serde_json::from_slice(&config.stdout).expect("config JSON");
        assert_eq!(config["rootfs"]["diff_ids"], diff_ids, "{transport}");
        assert_eq!(config["config"]["Cmd"][0], "sh", "{transport}");

        let raw = json(&run_tool(
            "skopeo",
            &["inspect", "--raw", transport],
            k.dir(),
        ));
        assert_eq!(
            raw["config"]["digest"],
            id.as_str(),
            "{transport}: manifest"
        );
        // The archive's layers are uncompressed: their digests are the diffIDs.
        let digests: Vec<&Value> = raw["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| &l["digest"])
            .collect();
        assert_eq!(
            Value::Array(digests.into_iter().cloned().collect()),
            diff_ids,
            "{transport}"
        );
    }
}

#[test]
fn umoci_unpacks_a_keel_archive() {
    let busybox = busybox_or_skip!();
    if !have("umoci") {
        return;
    }
    let (k, _, _) = saved_busybox(busybox);
    std::fs::create_dir(k.dir().join("layout")).expect("mkdir");
    let out = Command::new("tar")
        .args(["-xf", "busybox.tar", "-C", "layout"])
        .current_dir(k.dir())
        .output()
        .expect("tar runs");
    assert!(out.status.success(), "{}", stderr(&out));
    run_tool(
        "umoci",
        &["unpack", "--rootless", "--image", "layout:latest", "bundle"],
        k.dir(),
    );
    let busybox_bin = k.dir().join("bundle/rootfs/bin/busybox");
    assert!(
        busybox_bin.is_file(),
        "no bin/busybox in the unpacked rootfs"
    );
    assert!(k.dir().join("bundle/config.json").is_file());
    let sh = std::fs::read_link(k.dir().join("bundle/rootfs/bin/sh")).expect("bin/sh link");
    assert_eq!(sh, Path::new("busybox"));
}

#[test]
fn keel_loads_what_skopeo_writes() {
    let busybox = busybox_or_skip!();
    if !have("skopeo") {
        return;
    }
    let (k, id, _) = saved_busybox(busybox);
    for (dest, inspect) in [
        (
            "docker-archive:copy-docker.tar:busybox:latest",
            "docker-archive:copy-docker.tar",
        ),
        (
            "oci-archive:copy-oci.tar:latest",
            "oci-archive:copy-oci.tar:latest",
        ),
    ] {
        run_tool(
            "skopeo",
            &[
                "--insecure-policy",
                "copy",
                "-q",
                "docker-archive:busybox.tar:busybox:latest",
                dest,
            ],
            k.dir(),
        );
        let manifest = json(&run_tool("skopeo", &["inspect", "--raw", inspect], k.dir()));
        let config_digest = manifest["config"]["digest"]
            .as_str()
            .expect("config digest")
            .to_owned();
        if dest.starts_with("docker-archive") {
            // Docker to docker: skopeo keeps the config bytes, so it is the same image.
            assert_eq!(config_digest, id, "{dest}");
        }
        // Docker to OCI, skopeo re-encodes the config (Go's field order) and gzips the layer:
        // another image ID, which keel must take from the archive as it is.

        let file = dest.split(':').nth(1).expect("file name");
        let fresh = Keel::new();
        let out = fresh.run(&["load", "-i", k.dir().join(file).to_str().expect("utf-8")]);
        assert_success(&out, &["load", file]);
        let loaded = stdout(&out);
        let listed = fresh.ok(&["images", "-q", "--no-trunc"]);
        assert_eq!(listed, format!("{config_digest}\n"), "{dest}: {loaded}");
        if dest.starts_with("docker-archive") {
            assert_eq!(loaded, "Loaded image: busybox:latest\n");
        } else {
            // An OCI archive names its image `latest` only: no repository to tag.
            assert_eq!(loaded, format!("Loaded image ID: {config_digest}\n"));
        }
        let check = fresh.run(&["system", "check"]);
        assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    }
}
