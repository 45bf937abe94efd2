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

/// Serve `body` once per connection on a loopback port (HTTP/1.1, 200, or 404 for other paths).
fn serve(body: Vec<u8>, connections: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let found = request.starts_with("GET /rootfs.tar ");
            let (status, body): (&str, &[u8]) = if found {
                ("200 OK", &body)
            } else {
                ("404 Not Found", b"")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_url_is_downloaded_and_named_in_the_history() {
    let busybox = busybox_or_skip!();
    let plain = std::fs::read(busybox).expect("fixture");
    let base = serve(plain.clone(), 2);
    let k = Keel::new();
    let url = format!("{base}/rootfs.tar");
    let out = k.run(&["import", &url, "web:1"]);
    assert_success(&out, &["import", &url]);
    assert_eq!(rootfs_of(&k, "web:1"), rootfs_json(&plain));
    assert_eq!(
        k.ok(&["history", "--format", "{{.Comment}}", "web:1"]),
        format!("Imported from {url}\n")
    );
    let missing = format!("{base}/nope.tar");
    let out = k.run(&["import", &missing, "web:2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
}
