//! `keel import`: compressions, stdin, `--change`, `-m`, reproducible IDs, bad `--change`.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::{assert_success, busybox_or_skip, have, sha256, stderr, Keel};

/// `{"Type":"layers","Layers":[diffID]}` for a one-layer image whose uncompressed tar is `tar`.
fn rootfs_json(tar: &[u8]) -> Value {
    json!({"Type": "layers", "Layers": [sha256(tar)]})
}

/// `keel inspect -f '{{json .RootFS}}' NAME`, parsed (keys compared regardless of order).
fn rootfs_of(k: &Keel, name: &str) -> Value {
    serde_json::from_str(&k.inspect("{{json .RootFS}}", name)).expect("json")
}

#[test]
fn every_compression_gives_the_diff_id_of_the_plain_tar() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let plain = std::fs::read(busybox).expect("fixture");
    let want = rootfs_json(&plain);
    k.import(busybox, Some("plain"), 0, &[]);
    assert_eq!(rootfs_of(&k, "plain"), want);

    for (program, args, ext) in [
        ("gzip", &["-c", "-n"][..], "gz"),
        ("xz", &["-c"][..], "xz"),
        ("zstd", &["-c", "-q"][..], "zst"),
        ("bzip2", &["-c"][..], "bz2"),
    ] {
        if !have(program) {
            continue;
        }
        let out = Command::new(program)
            .args(args)
            .arg(busybox)
            .output()
            .expect("compressor runs");
        assert!(out.status.success(), "{program} failed");
        assert_ne!(out.stdout, plain, "{program} changed nothing");
        let file = k.file(&format!("rootfs.tar.{ext}"), &out.stdout);
        k.import(&file, Some(program), 0, &[]);
        assert_eq!(rootfs_of(&k, program), want, "{program} input");
    }
}

#[test]
fn dash_reads_the_tar_from_stdin() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let plain = std::fs::read(busybox).expect("fixture");
    let out = k.run_stdin(&["import", "-", "piped:v1"], &plain);
    assert_success(&out, &["import", "-"]);
    assert_eq!(rootfs_of(&k, "piped:v1"), rootfs_json(&plain));
    // docker's comment names the source.
    assert_eq!(
        k.ok(&["history", "--format", "{{.Comment}}", "piped:v1"]),
        "Imported from -\n"
    );
}

#[test]
fn changes_show_in_the_config() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    k.import(
        busybox,
        Some("changed"),
        0,
        &["--change", r#"CMD ["sh"]"#, "--change", "ENV A=b"],
    );
    let config: Value =
        serde_json::from_str(&k.inspect("{{json .Config}}", "changed")).expect("json");
    assert_eq!(config, json!({"Cmd": ["sh"], "Env": ["A=b"]}));
    assert_eq!(k.inspect("{{json .Config.Cmd}}", "changed"), r#"["sh"]"#);
    assert_eq!(k.inspect("{{index .Config.Env 0}}", "changed"), "A=b");
}

#[test]
fn message_becomes_the_history_comment() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    k.import(busybox, Some("msg"), 0, &["-m", "first import"]);
    assert_eq!(
        k.ok(&["history", "--format", "{{.Comment}}", "msg"]),
        "first import\n"
    );
    assert_eq!(k.inspect("{{.Comment}}", "msg"), "first import");
}

#[test]
fn source_date_epoch_makes_the_image_id_reproducible() {
    let busybox = busybox_or_skip!();
    let (a, b) = (Keel::new(), Keel::new());
    let id_a = a.import(busybox, None, 0, &[]);
    let id_b = b.import(busybox, None, 0, &[]);
    assert_eq!(id_a, id_b);
    assert_eq!(a.inspect("{{.Created}}", &id_a), "1970-01-01T00:00:00Z");
    // A different time is a different config, hence a different ID.
    let id_c = b.import(busybox, None, 1_700_000_000, &[]);
    assert_ne!(id_a, id_c);
    assert_eq!(b.inspect("{{.Created}}", &id_c), "2023-11-14T22:13:20Z");
}

#[test]
fn a_bad_change_fails_before_anything_is_stored() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let path = busybox.to_str().expect("utf-8 path");
    for change in ["FROM busybox", "RUN echo hi", "NOSUCH x", "EXPOSE 80/bogus"] {
        let out = k.run(&[
            "import",
            "--change",
            r#"CMD ["sh"]"#,
            "--change",
            change,
            path,
        ]);
        assert_eq!(out.status.code(), Some(1), "{change}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(&format!("error: invalid --change {change:?}: ")),
            "{change}: {}",
            stderr(&out)
        );
        k.assert_empty_and_consistent(change);
    }
}
