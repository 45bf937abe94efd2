//! Who owns the files and directories a step creates: `COPY --chown` specs and the stage's
//! `USER`, resolved against the stage's own `/etc/passwd` and `/etc/group` (never the host's).

use crate::view::MergedView;

/// A uid and gid.
pub type Owner = (u32, u32);

/// `--chown=user[:group]`: names looked up in the destination's /etc/passwd and /etc/group; a
/// name that is not there is an error. A user alone gets the user's primary group (a number
/// alone is used for both).
pub fn chown_owner(view: &MergedView<'_>, spec: &str) -> Result<Owner, String> {
    let (user, group) = split(spec);
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (n, n),
        Err(_) => passwd_entry(view, user).ok_or_else(|| {
            format!("unable to find user {user}: no matching entries in passwd file")
        })?,
    };
    let gid = match group {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_id(view, g).ok_or_else(|| {
                format!("unable to find group {g}: no matching entries in group file")
            })?,
        },
        None => primary,
    };
    Ok((uid, gid))
}

/// The owner of the directories `WORKDIR` creates: the stage's `USER` (BuildKit's
/// `dispatchWorkdir` makes them with `llb.WithUser(USER)`; buildah does the same). BuildKit
/// resolves it leniently (`solver/llbsolver/file/user_linux.go`, `readUser`): a name missing
/// from /etc/passwd, or a group missing from /etc/group, leaves 0 in its place rather than
/// failing; the RUN that follows reports an unknown user anyway.
pub fn workdir_owner(view: &MergedView<'_>, user: &str) -> Owner {
    if user.is_empty() {
        return (0, 0);
    }
    let (user, group) = split(user);
    let (uid, mut gid) = match user.parse::<u32>() {
        Ok(n) => (n, n),
        Err(_) => passwd_entry(view, user).unwrap_or((0, 0)),
    };
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_id(view, g).unwrap_or(gid),
        };
    }
    (uid, gid)
}

fn split(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    }
}

/// uid and primary gid of `name` in the merged tree's /etc/passwd.
fn passwd_entry(view: &MergedView<'_>, name: &str) -> Option<Owner> {
    let uid = field(view, "/etc/passwd", name, 2)?;
    let gid = field(view, "/etc/passwd", name, 3).unwrap_or(uid);
    Some((uid, gid))
}

fn group_id(view: &MergedView<'_>, name: &str) -> Option<u32> {
    field(view, "/etc/group", name, 2)
}

/// Numeric column `index` of the line of `file` whose first column is `name`.
fn field(view: &MergedView<'_>, file: &str, name: &str, index: usize) -> Option<u32> {
    let text = String::from_utf8(view.read(file)?).ok()?;
    text.lines().find_map(|line| {
        let cols: Vec<&str> = line.split(':').collect();
        (cols.first() == Some(&name))
            .then(|| cols.get(index)?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        fs_err::create_dir(dir.path().join("etc")).expect("mkdir");
        fs_err::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n",
        )
        .expect("write");
        fs_err::write(
            dir.path().join("etc/group"),
            "root:x:0:\napp:x:1001:\nstaff:x:50:\n",
        )
        .expect("write");
        dir
    }

    #[test]
    fn workdir_owner_follows_buildkit_read_user() {
        let dir = layer();
        let lowers = [dir.path().to_path_buf()];
        let view = MergedView { lowers: &lowers };
        assert_eq!(workdir_owner(&view, ""), (0, 0));
        assert_eq!(workdir_owner(&view, "app"), (1000, 1001), "primary group");
        assert_eq!(
            workdir_owner(&view, "1234"),
            (1234, 1234),
            "a number is both"
        );
        assert_eq!(workdir_owner(&view, "app:staff"), (1000, 50));
        assert_eq!(workdir_owner(&view, "app:7"), (1000, 7));
        assert_eq!(
            workdir_owner(&view, "ghost"),
            (0, 0),
            "unknown name: lenient"
        );
        assert_eq!(workdir_owner(&view, "app:ghosts"), (1000, 1001));
    }

    #[test]
    fn chown_owner_refuses_unknown_names() {
        let dir = layer();
        let lowers = [dir.path().to_path_buf()];
        let view = MergedView { lowers: &lowers };
        assert_eq!(chown_owner(&view, "app"), Ok((1000, 1001)));
        assert_eq!(chown_owner(&view, "app:staff"), Ok((1000, 50)));
        assert_eq!(chown_owner(&view, "42"), Ok((42, 42)));
        assert!(chown_owner(&view, "ghost")
            .unwrap_err()
            .contains("unable to find user ghost"));
        assert!(chown_owner(&view, "app:ghosts")
            .unwrap_err()
            .contains("unable to find group ghosts"));
    }
}
