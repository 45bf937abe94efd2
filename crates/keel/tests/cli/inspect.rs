//! `keel inspect` / `keel image inspect`: docker's document (keys, order, indent), `-f`, and
//! missing names.

use serde_json::Value;

use crate::support::{busybox_or_skip, stderr, stdout, Keel};

/// The top-level keys of the first object of an inspect document, in the order printed.
fn top_level_keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let key = line.strip_prefix("        \"")?;
            if key.starts_with(' ') {
                return None;
            }
            Some(key.split('"').next()?.to_owned())
        })
        .collect()
}

#[test]
fn document_has_dockers_keys_order_and_indent() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(
        busybox,
        Some("busybox"),
        0,
        &[
            "-m",
            "from a tar",
            "--change",
            r#"CMD ["sh"]"#,
            "--change",
            "ENV A=b",
        ],
    );
    let text = k.ok(&["inspect", "busybox"]);
    assert_eq!(
        top_level_keys(&text),
        [
            "Id",
            "RepoTags",
            "RepoDigests",
            "Parent",
            "Comment",
            "Created",
            "DockerVersion",
            "Author",
            "Config",
            "Architecture",
            "Os",
            "Size",
            "GraphDriver",
            "RootFS",
            "Metadata"
        ]
    );
    let v: Value = serde_json::from_str(&text).expect("inspect prints JSON");
    let tag_time = v[0]["Metadata"]["LastTagTime"]
        .as_str()
        .expect("LastTagTime is a string");
    let arch = keel_oci::Platform::host().architecture;
    let diff_id = crate::support::sha256(&std::fs::read(busybox).expect("fixture"));
    // The whole document, as `docker image inspect` of docker 28 prints it: json.MarshalIndent
    // with four spaces, `[]` for an empty list, the run config with the OCI field order.
    let want = format!(
        r#"[
    {{
        "Id": "{id}",
        "RepoTags": [
            "busybox:latest"
        ],
        "RepoDigests": [],
        "Parent": "",
        "Comment": "from a tar",
        "Created": "1970-01-01T00:00:00Z",
        "DockerVersion": "",
        "Author": "",
        "Config": {{
            "Env": [
                "A=b"
            ],
            "Cmd": [
                "sh"
            ]
        }},
        "Architecture": "{arch}",
        "Os": "linux",
        "Size": 2140160,
        "GraphDriver": {{
            "Data": null,
            "Name": "overlayfs"
        }},
        "RootFS": {{
            "Type": "layers",
            "Layers": [
                "{diff_id}"
            ]
        }},
        "Metadata": {{
            "LastTagTime": "{tag_time}"
        }}
    }}
]
"#
    );
    assert_eq!(text, want);
    assert_eq!(k.ok(&["image", "inspect", &id]), want);
    assert_eq!(k.ok(&["inspect", "--type", "image", &id[7..19]]), want);
}

#[test]
fn format_runs_a_template_per_image() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let a = k.import(busybox, Some("a"), 0, &[]);
    let b = k.import(busybox, Some("b"), 1, &["--change", "LABEL x=y"]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.Id}}", "a", "b"]),
        format!("{a}\n{b}\n")
    );
    assert_eq!(
        k.ok(&[
            "image",
            "inspect",
            "--format",
            "{{.Os}} {{.Size}} {{.Config.Labels.x}}",
            "b"
        ]),
        "linux 2140160 y\n"
    );
    assert_eq!(
        k.ok(&["inspect", "-f", "{{json .RepoTags}}", "a"]),
        "[\"a:latest\"]\n"
    );
    let out = k.run(&["inspect", "-f", "{{.Id", "a"]);
    assert_eq!(out.status.code(), Some(1), "a broken template is an error");
    assert!(
        stderr(&out).contains("template parsing error"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_names_print_what_was_found_then_fail() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let out = k.run(&["inspect", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "[]\n");
    assert_eq!(stderr(&out), "error: No such object: nosuch\n");

    let out = k.run(&["image", "inspect", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "[]\n");
    assert_eq!(stderr(&out), "error: No such image: nosuch:latest\n");

    let id = k.import(busybox, Some("here"), 0, &[]);
    let out = k.run(&["inspect", "-f", "{{.Id}}", "gone", "here", "gone:2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), format!("{id}\n"));
    assert_eq!(
        stderr(&out),
        "error: No such object: gone\nerror: No such object: gone:2\n"
    );
    let out = k.run(&["image", "inspect", "here", "gone"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
}

#[test]
fn only_images_are_known() {
    let k = Keel::new();
    let out = k.run(&["inspect", "--type", "container", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
