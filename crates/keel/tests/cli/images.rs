//! `keel images`: docker's table, `-q`, `--no-trunc`, `--digests`, `--format`, filters and the
//! positional REPOSITORY[:TAG].

use serde_json::Value;

use crate::support::{assert_fails_with, busybox_or_skip, now, stderr, Keel};

/// Three images, created 5 hours, 3 hours and 70 minutes ago (docker rounds to the nearest
/// hour, so the CREATED column reads the same for the whole test run):
/// `old` tagged busybox:latest and busybox:1.36, `mid` tagged app:v1 with a label, and an
/// untagged (dangling) `new`.
struct Listing {
    k: Keel,
    old: String,
    mid: String,
    new: String,
}

fn listing() -> Option<Listing> {
    let busybox = crate::support::busybox_tar()?;
    let k = Keel::new();
    let t = now();
    let old = k.import(busybox, Some("busybox"), t - 5 * 3600 - 600, &[]);
    k.ok(&["tag", "busybox", "busybox:1.36"]);
    let mid = k.import(
        busybox,
        Some("app:v1"),
        t - 3 * 3600 - 600,
        &["--change", "LABEL stage=prod"],
    );
    let new = k.import(busybox, None, t - 70 * 60, &[]);
    Some(Listing { k, old, mid, new })
}

/// The 12-character ID docker shows.
fn short(id: &str) -> &str {
    &id["sha256:".len().."sha256:".len() + 12]
}

/// `keel images --format '{{.Repository}}:{{.Tag}}' ARGS`, one row per line.
fn names(k: &Keel, args: &[&str]) -> String {
    let mut all = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
    all.extend_from_slice(args);
    k.ok(&all)
}

#[test]
fn table_layout_is_dockers() {
    let Some(l) = listing() else { return };
    // Go's tabwriter as docker sets it up: each column is its widest cell plus 3 spaces, at
    // least 10; the last column is not padded.
    let want = format!(
        "REPOSITORY   TAG       IMAGE ID       CREATED             SIZE\n\
         <none>       <none>    {}   About an hour ago   2.14MB\n\
         app          v1        {}   3 hours ago         2.14MB\n\
         busybox      1.36      {}   5 hours ago         2.14MB\n\
         busybox      latest    {}   5 hours ago         2.14MB\n",
        short(&l.new),
        short(&l.mid),
        short(&l.old),
        short(&l.old),
    );
    assert_eq!(l.k.ok(&["images"]), want);
    assert_eq!(l.k.ok(&["image", "ls"]), want);
}

#[test]
fn quiet_prints_one_id_per_row() {
    let Some(l) = listing() else { return };
    let want = format!(
        "{}\n{}\n{}\n{}\n",
        short(&l.new),
        short(&l.mid),
        short(&l.old),
        short(&l.old)
    );
    assert_eq!(l.k.ok(&["images", "-q"]), want);
    let full = format!("{}\n{}\n{}\n{}\n", l.new, l.mid, l.old, l.old);
    assert_eq!(l.k.ok(&["images", "-q", "--no-trunc"]), full);
}

#[test]
fn no_trunc_shows_full_ids() {
    let Some(l) = listing() else { return };
    let pad = " ".repeat(71 + 3 - "IMAGE ID".len());
    let want = format!(
        "REPOSITORY   TAG       IMAGE ID{pad}CREATED             SIZE\n\
         <none>       <none>    {}   About an hour ago   2.14MB\n\
         app          v1        {}   3 hours ago         2.14MB\n\
         busybox      1.36      {}   5 hours ago         2.14MB\n\
         busybox      latest    {}   5 hours ago         2.14MB\n",
        l.new, l.mid, l.old, l.old,
    );
    assert_eq!(l.k.ok(&["images", "--no-trunc"]), want);
}

#[test]
fn digests_adds_a_column() {
    let Some(l) = listing() else { return };
    // Imported images were never pushed or pulled: no repository digest.
    let want = format!(
        "REPOSITORY   TAG       DIGEST    IMAGE ID       CREATED             SIZE\n\
         <none>       <none>    <none>    {}   About an hour ago   2.14MB\n\
         app          v1        <none>    {}   3 hours ago         2.14MB\n\
         busybox      1.36      <none>    {}   5 hours ago         2.14MB\n\
         busybox      latest    <none>    {}   5 hours ago         2.14MB\n",
        short(&l.new),
        short(&l.mid),
        short(&l.old),
        short(&l.old),
    );
    assert_eq!(l.k.ok(&["images", "--digests"]), want);
}

#[test]
fn format_templates_and_json() {
    let Some(l) = listing() else { return };
    assert_eq!(
        names(&l.k, &[]),
        "<none>:<none>\napp:v1\nbusybox:1.36\nbusybox:latest\n"
    );
    // `table` keeps the headers of the chosen columns.
    assert_eq!(
        l.k.ok(&[
            "images",
            "--format",
            "table {{.Repository}}\t{{.Size}}",
            "app"
        ]),
        "REPOSITORY   SIZE\napp          2.14MB\n"
    );
    let json = l.k.ok(&["images", "--format", "json"]);
    let rows: Vec<Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 4);
    let app = &rows[1];
    assert_eq!(app["Repository"], "app");
    assert_eq!(app["Tag"], "v1");
    assert_eq!(app["ID"], short(&l.mid));
    assert_eq!(app["Digest"], "<none>");
    assert_eq!(app["Size"], "2.14MB");
    assert_eq!(app["CreatedSince"], "3 hours ago");
    let mut keys: Vec<&String> = app.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Containers",
            "CreatedAt",
            "CreatedSince",
            "Digest",
            "ID",
            "Repository",
            "SharedSize",
            "Size",
            "Tag",
            "UniqueSize",
            "VirtualSize"
        ]
    );
    // docker's JSON escapes HTML characters.
    assert!(
        json.contains(r#""Repository":"\u003cnone\u003e""#),
        "{json}"
    );
}

#[test]
fn dangling_filter() {
    let Some(l) = listing() else { return };
    assert_eq!(
        l.k.ok(&["images", "-f", "dangling=true"]),
        format!(
            "REPOSITORY   TAG       IMAGE ID       CREATED             SIZE\n\
             <none>       <none>    {}   About an hour ago   2.14MB\n",
            short(&l.new)
        )
    );
    assert_eq!(
        names(&l.k, &["--filter", "dangling=false"]),
        "app:v1\nbusybox:1.36\nbusybox:latest\n"
    );
    let out = l.k.run(&["images", "-f", "dangling=maybe"]);
    assert_fails_with(&out, "invalid filter 'dangling=maybe'");
}

#[test]
fn reference_filter_and_positional_name() {
    let Some(l) = listing() else { return };
    assert_eq!(
        names(&l.k, &["-f", "reference=busybox"]),
        "busybox:1.36\nbusybox:latest\n"
    );
    assert_eq!(names(&l.k, &["-f", "reference=bus*:1.*"]), "busybox:1.36\n");
    assert_eq!(
        names(&l.k, &["-f", "reference=*:v1"]),
        "app:v1\n",
        "a glob over name:tag"
    );
    // Several references are alternatives.
    assert_eq!(
        names(
            &l.k,
            &["-f", "reference=app", "-f", "reference=busybox:latest"]
        ),
        "app:v1\nbusybox:latest\n"
    );
    assert_eq!(names(&l.k, &["-f", "reference=nothing*"]), "");
    assert_eq!(names(&l.k, &["busybox"]), "busybox:1.36\nbusybox:latest\n");
    assert_eq!(names(&l.k, &["busybox:latest"]), "busybox:latest\n");
    assert_eq!(names(&l.k, &["docker.io/library/busybox:1.36"]), "");
    assert_eq!(
        l.k.ok(&["images", "nothing"]),
        "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n",
        "no match still prints the header"
    );
}

#[test]
fn label_filter() {
    let Some(l) = listing() else { return };
    assert_eq!(names(&l.k, &["-f", "label=stage"]), "app:v1\n");
    assert_eq!(names(&l.k, &["-f", "label=stage=prod"]), "app:v1\n");
    assert_eq!(names(&l.k, &["-f", "label=stage=dev"]), "");
    assert_eq!(names(&l.k, &["-f", "label=other"]), "");
}

#[test]
fn before_and_since_filters() {
    let Some(l) = listing() else { return };
    assert_eq!(
        names(&l.k, &["-f", "before=app:v1"]),
        "busybox:1.36\nbusybox:latest\n"
    );
    assert_eq!(
        names(&l.k, &["-f", "since=busybox"]),
        "<none>:<none>\napp:v1\n"
    );
    // An ID prefix names the image as well as a tag does.
    assert_eq!(
        names(&l.k, &["-f", &format!("since={}", short(&l.mid))]),
        "<none>:<none>\n"
    );
    let out = l.k.run(&["images", "-f", "since=nosuch"]);
    assert_fails_with(&out, "No such image: nosuch");
    let out = l.k.run(&["images", "-f", "color=red"]);
    assert_fails_with(&out, "invalid filter 'color'");
}

#[test]
fn empty_store_prints_only_the_header() {
    let k = Keel::new();
    assert_eq!(
        k.ok(&["images"]),
        "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    );
    assert_eq!(k.ok(&["images", "-q"]), "");
}

#[test]
fn dangling_row_after_the_last_tag_moves() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let first = k.import(busybox, Some("x"), 0, &[]);
    // Importing again under the same name takes the tag away from the first image.
    let second = k.import(busybox, Some("x"), 1, &[]);
    assert_ne!(first, second);
    let out = k.ok(&["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]);
    assert_eq!(
        out,
        format!(
            "x latest {}\n<none> <none> {}\n",
            short(&second),
            short(&first)
        ),
        "{}",
        stderr(&k.run(&["images"]))
    );
}

#[test]
fn created_at_is_whole_seconds() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    // Without SOURCE_DATE_EPOCH the config's `created` has nanoseconds; docker's list does not.
    let out = k.run(&["import", busybox.to_str().expect("utf-8"), "now"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let created = k.inspect("{{.Created}}", "now");
    assert!(created.contains('.'), "import keeps nanoseconds: {created}");
    let at = k.ok(&["images", "--format", "{{.CreatedAt}}"]);
    let want = format!("{} +0000 UTC\n", created[..19].replace('T', " "));
    assert_eq!(at, want);
}
