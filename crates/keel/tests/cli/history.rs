//! `keel history`: docker's table, `-H=false`, `--no-trunc`, `-q` and `--format`, on an image
//! with two layers and three history steps (one of them an empty layer).

use serde_json::json;

use crate::support::{assert_fails_with, config_for, docker_archive, layer, now, Keel};

const LONG_RUN: &str =
    "RUN /bin/sh -c echo a command long enough for the table to cut it short # buildkit";

/// The store holding the image (tagged `built:1`), its ID, and the history's three times.
fn built() -> (Keel, String, [i64; 3]) {
    let k = Keel::new();
    let t = now();
    // Docker rounds to the nearest hour: these read "5 hours", "3 hours", "About an hour".
    let times = [t - 5 * 3600 - 600, t - 3 * 3600 - 600, t - 70 * 60];
    let rfc3339 = |secs: i64| keel_oci::time::format_rfc3339(secs, 0);
    let layers = vec![
        layer(&[("etc/base", "base\n")]),
        layer(&[("srv/app", "app\n")]),
    ];
    let config = config_for(
        &layers,
        json!([
            {"created": rfc3339(times[0]), "created_by": "/bin/sh -c #(nop) ADD file:0123abcd in / "},
            {"created": rfc3339(times[1]), "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true},
            {"created": rfc3339(times[2]), "created_by": LONG_RUN, "comment": "buildkit.dockerfile.v0"},
        ]),
    );
    let (archive, id) = docker_archive(
        &serde_json::to_vec(&config).expect("json"),
        &layers,
        &["built:1"],
    );
    let out = k.run_stdin(&["load"], &archive);
    crate::support::assert_success(&out, &["load"]);
    (k, id, times)
}

#[test]
fn default_table() {
    let (k, id, _) = built();
    // Each layer tar is two 512-byte headers, one data block and the 1024-byte end: 2.56kB.
    let want = format!(
        "IMAGE          CREATED             CREATED BY                                      SIZE      COMMENT\n\
         {}   About an hour ago   RUN /bin/sh -c echo a command long enough fo…   2.56kB    buildkit.dockerfile.v0\n\
         <missing>      3 hours ago         /bin/sh -c #(nop)  CMD [\"sh\"]                   0B        \n\
         <missing>      5 hours ago         /bin/sh -c #(nop) ADD file:0123abcd in /        2.56kB    \n",
        &id[7..19]
    );
    assert_eq!(k.ok(&["history", "built:1"]), want);
    assert_eq!(k.ok(&["image", "history", &id]), want);
}

#[test]
fn not_human_prints_timestamps_and_bytes() {
    let (k, id, times) = built();
    let at = |i: usize| keel_oci::time::format_rfc3339(times[i], 0);
    let want = format!(
        "IMAGE          CREATED AT             CREATED BY                                      SIZE      COMMENT\n\
         {}   {}   RUN /bin/sh -c echo a command long enough fo…   2560      buildkit.dockerfile.v0\n\
         <missing>      {}   /bin/sh -c #(nop)  CMD [\"sh\"]                   0         \n\
         <missing>      {}   /bin/sh -c #(nop) ADD file:0123abcd in /        2560      \n",
        &id[7..19],
        at(2),
        at(1),
        at(0)
    );
    assert_eq!(k.ok(&["history", "-H=false", "built:1"]), want);
    assert_eq!(k.ok(&["history", "--human=false", "built:1"]), want);
}

#[test]
fn no_trunc_shows_whole_ids_and_commands() {
    let (k, id, _) = built();
    let out = k.ok(&["history", "--no-trunc", "built:1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let id_column = " ".repeat(71 + 3 - "IMAGE".len());
    assert!(
        lines[0].starts_with(&format!("IMAGE{id_column}CREATED")),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("{id}   About an hour ago   {LONG_RUN}   2.56kB")),
        "{out}"
    );
}

#[test]
fn quiet_and_format() {
    let (k, id, _) = built();
    assert_eq!(
        k.ok(&["history", "-q", "built:1"]),
        format!("{}\n<missing>\n<missing>\n", &id[7..19])
    );
    assert_eq!(
        k.ok(&["history", "-q", "--no-trunc", "built:1"]),
        format!("{id}\n<missing>\n<missing>\n")
    );
    assert_eq!(
        k.ok(&["history", "--format", "{{.Size}}|{{.Comment}}", "built:1"]),
        "2.56kB|buildkit.dockerfile.v0\n0B|\n2.56kB|\n"
    );
    assert_eq!(
        k.ok(&["history", "--format", "table {{.ID}}\t{{.Size}}", "built:1"]),
        format!(
            "IMAGE          SIZE\n{}   2.56kB\n<missing>      0B\n<missing>      2.56kB\n",
            &id[7..19]
        )
    );
    let json = k.ok(&["history", "--format", "json", "built:1"]);
    let first: serde_json::Value =
        serde_json::from_str(json.lines().next().expect("a line")).expect("json");
    assert_eq!(first["Comment"], "buildkit.dockerfile.v0");
    assert_eq!(first["CreatedSince"], "About an hour ago");
}

#[test]
fn history_of_a_missing_image_fails() {
    let k = Keel::new();
    assert_fails_with(
        &k.run(&["history", "nosuch"]),
        "No such image: nosuch:latest",
    );
}
