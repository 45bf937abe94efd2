//! `keel save` and `keel load`: round trips between stores, reproducible archives, `-o` without
//! leftovers, docker's load messages.

use std::process::Command;

use serde_json::json;

use crate::support::{
    assert_fails_with, assert_success, busybox_or_skip, config_for, have, layer, sha256, stderr,
    stdout, Keel, TarWriter,
};

/// `ID name:tag` for every row of `keel images`, sorted.
fn listing(k: &Keel) -> Vec<String> {
    let out = k.ok(&[
        "images",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Repository}}:{{.Tag}} {{.CreatedAt}} {{.Size}}",
    ]);
    let mut rows: Vec<String> = out.lines().map(str::to_owned).collect();
    rows.sort();
    rows
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines
}

#[test]
fn round_trip_keeps_ids_tags_and_metadata() {
    let busybox = busybox_or_skip!();
    let a = Keel::new();
    let base = a.import(busybox, Some("busybox"), 0, &["-m", "base"]);
    a.ok(&["tag", "busybox", "busybox:2"]);
    let app = a.import(
        busybox,
        Some("example.com/team/app:v1"),
        1_700_000_000,
        &["--change", "ENV A=b", "--change", "LABEL x=y"],
    );
    let loose = a.import(busybox, None, 1_600_000_000, &[]);
    a.ok(&[
        "save",
        "-o",
        "all.tar",
        "busybox",
        "busybox:2",
        "example.com/team/app:v1",
        &loose[7..19],
    ]);

    let b = Keel::new();
    let archive = a.dir().join("all.tar");
    let out = b.ok(&["load", "-i", archive.to_str().expect("utf-8")]);
    assert_eq!(
        sorted_lines(&out),
        [
            "Loaded image ID: ".to_owned() + &loose,
            "Loaded image: busybox:2".to_owned(),
            "Loaded image: busybox:latest".to_owned(),
            "Loaded image: example.com/team/app:v1".to_owned(),
        ]
    );
    assert_eq!(listing(&b), listing(&a));
    for id in [&base, &app, &loose] {
        let doc = |k: &Keel| {
            let out = k.ok(&["image", "inspect", id]);
            // Only the tag time may differ between the stores.
            let mut v: serde_json::Value = serde_json::from_str(&out).expect("json");
            v[0]["Metadata"] = serde_json::Value::Null;
            v
        };
        assert_eq!(doc(&b), doc(&a), "{id}");
        assert_eq!(
            b.ok(&["history", "--no-trunc", "-H=false", id]),
            a.ok(&["history", "--no-trunc", "-H=false", id])
        );
    }
    let check = b.run(&["system", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // Loading the same archive again changes nothing. `-q` hides progress only: docker's
    // daemon still reports what it loaded.
    let again = b.ok(&["load", "-q", "-i", archive.to_str().expect("utf-8")]);
    assert_eq!(sorted_lines(&again), sorted_lines(&out));
    assert_eq!(listing(&b), listing(&a));
}

#[test]
fn save_is_reproducible_and_leaves_no_temporary_file() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    k.import(busybox, Some("busybox"), 0, &[]);
    k.ok(&["save", "-o", "one.tar", "busybox"]);
    k.ok(&["image", "save", "--output", "two.tar", "busybox"]);
    let piped = k.run(&["save", "busybox"]);
    assert_success(&piped, &["save", "busybox"]);

    let one = std::fs::read(k.dir().join("one.tar")).expect("one.tar");
    let two = std::fs::read(k.dir().join("two.tar")).expect("two.tar");
    assert!(one == two, "two saves differ");
    assert!(one == piped.stdout, "save to stdout differs from save -o");

    let mut names: Vec<String> = std::fs::read_dir(k.dir())
        .expect("scratch dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["one.tar", "root", "two.tar"]);

    // A failed save leaves neither the file nor its temporary.
    let out = k.run(&["save", "-o", "bad.tar", "busybox", "nosuch"]);
    assert_fails_with(&out, "No such image: nosuch:latest");
    assert!(!k.dir().join("bad.tar").exists());
    let count = std::fs::read_dir(k.dir()).expect("scratch dir").count();
    assert_eq!(count, 3, "a temporary file was left behind");
    let out = k.run(&["save", "-o", "no/such/dir/x.tar", "busybox"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn load_names_what_it_loaded() {
    let busybox = busybox_or_skip!();
    let a = Keel::new();
    let id = a.import(busybox, Some("busybox"), 0, &[]);
    let tagged = a.run(&["save", "busybox"]).stdout;
    let by_id = a.run(&["save", &id]).stdout;

    let b = Keel::new();
    let out = b.run_stdin(&["load"], &tagged);
    assert_success(&out, &["load"]);
    assert_eq!(stdout(&out), "Loaded image: busybox:latest\n");
    assert_eq!(stderr(&out), "");

    let c = Keel::new();
    let out = c.run_stdin(&["image", "load"], &by_id);
    assert_success(&out, &["image", "load"]);
    assert_eq!(stdout(&out), format!("Loaded image ID: {id}\n"));
    assert_eq!(c.ok(&["images", "-q", "--no-trunc"]), format!("{id}\n"));
}

#[test]
fn load_over_an_existing_tag_renames_the_old_image() {
    let busybox = busybox_or_skip!();
    let a = Keel::new();
    let new = a.import(busybox, Some("busybox"), 1_700_000_000, &[]);
    let archive = a.run(&["save", "busybox"]).stdout;

    let b = Keel::new();
    let old = b.import(busybox, Some("busybox"), 0, &[]);
    let out = b.run_stdin(&["load"], &archive);
    assert_success(&out, &["load"]);
    assert_eq!(
        stdout(&out),
        format!(
            "The image busybox:latest already exists, renaming the old one with ID {old} to empty string\nLoaded image: busybox:latest\n"
        )
    );
    assert_eq!(b.inspect("{{.Id}}", "busybox"), new);
    assert_eq!(
        b.ok(&["images", "-f", "dangling=true", "-q", "--no-trunc"]),
        format!("{old}\n")
    );
    // The same again: the tag already names this image, nothing is renamed.
    let out = b.run_stdin(&["load"], &archive);
    assert_eq!(stdout(&out), "Loaded image: busybox:latest\n");
}

#[test]
fn load_reads_compressed_archives() {
    let busybox = busybox_or_skip!();
    let a = Keel::new();
    let id = a.import(busybox, Some("busybox"), 0, &[]);
    a.ok(&["save", "-o", "plain.tar", "busybox"]);
    for (program, file) in [("gzip", "plain.tar.gz"), ("zstd", "plain.tar.zst")] {
        if !have(program) {
            continue;
        }
        let status = Command::new(program)
            .args(["-q", "-k", "plain.tar"])
            .current_dir(a.dir())
            .status()
            .expect("compressor runs");
        assert!(status.success(), "{program}");
        let b = Keel::new();
        let path = a.dir().join(file);
        let out = b.ok(&["load", "-i", path.to_str().expect("utf-8")]);
        assert_eq!(out, "Loaded image: busybox:latest\n", "{program}");
        assert_eq!(b.inspect("{{.Id}}", "busybox"), id, "{program}");
    }
}

#[test]
fn save_of_nothing_known_fails() {
    let k = Keel::new();
    let out = k.run(&["save", "-o", "x.tar", "nosuch"]);
    assert_fails_with(&out, "No such image: nosuch:latest");
    assert!(!k.dir().join("x.tar").exists());
    let out = k.run(&["load", "-i", "missing.tar"]);
    assert_fails_with(&out, "missing.tar");
}

#[test]
fn save_to_a_terminal_is_refused() {
    let busybox = busybox_or_skip!();
    // util-linux `script` gives the command a pseudo-terminal as stdout.
    if !have("script") {
        return;
    }
    let k = Keel::new();
    k.import(busybox, Some("busybox"), 0, &[]);
    let command = format!(
        "{} --root {} save busybox",
        env!("CARGO_BIN_EXE_keel"),
        k.root().display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("cowardly refusing to save to a terminal"),
        "{shown}"
    );
    assert!(shown.len() < 200, "the archive went to the terminal");
}

#[test]
fn load_reads_the_docker_1_10_layout_with_linked_layers() {
    // docker save before 25: `<id>/layer.tar`, the config as `<hex>.json`, a `repositories`
    // file, and a layer that repeats an earlier one stored as a relative symlink to it.
    let base = layer(&[("etc/base", "base\n")]);
    let layers = vec![base.clone(), base];
    let config = serde_json::to_vec(&config_for(&layers, json!([]))).expect("json");
    let id = sha256(&config);
    let hex = &id[7..];
    let manifest = json!([{
        "Config": format!("{hex}.json"),
        "RepoTags": ["old:1"],
        "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"],
    }]);
    let archive = TarWriter::new()
        .dir("aaaa/")
        .file("aaaa/VERSION", b"1.0")
        .file("aaaa/layer.tar", &layers[0])
        .dir("bbbb/")
        .link("bbbb/layer.tar", "../aaaa/layer.tar", false)
        .file(&format!("{hex}.json"), &config)
        .file(
            "manifest.json",
            &serde_json::to_vec(&manifest).expect("json"),
        )
        .file("repositories", br#"{"old":{"1":"aaaa"}}"#)
        .finish();
    let k = Keel::new();
    let out = k.run_stdin(&["load"], &archive);
    assert_success(&out, &["load"]);
    assert_eq!(stdout(&out), "Loaded image: old:1\n");
    assert_eq!(k.inspect("{{.Id}}", "old:1"), id);
    assert_eq!(
        k.inspect("{{len .RootFS.Layers}}", "old:1"),
        "2",
        "both layers, the linked one included"
    );
    let check = k.run(&["system", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}
