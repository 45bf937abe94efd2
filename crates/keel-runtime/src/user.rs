//! Docker's `USER` rules: `name`, `uid`, `name:group`, `uid:gid` (and the empty string for
//! root), looked up in the rootfs's `/etc/passwd` and `/etc/group` the way runc's
//! `user.GetExecUser` does it (libcontainer/user/user.go):
//! - a user given by name must exist; a numeric uid needs no entry (then it has gid 0, home `/`
//!   and no supplementary groups);
//! - a user found in passwd takes its gid and home from there, and when no group is given its
//!   supplementary groups are the groups of `/etc/group` that list its name as a member;
//! - an explicit group (name, or a gid that needs no entry) replaces the primary gid and adds
//!   no supplementary groups.

use std::path::Path;

use crate::error::{Error, Result};
use crate::spec::{Rootfs, UserSpec};
use crate::view::RootView;

/// Linux's largest uid/gid as Docker accepts it (`user.maxId`).
const MAX_ID: i64 = i32::MAX as i64;

/// Resolve a Dockerfile/`docker run` user string against the rootfs in directory `rootfs_dir`.
pub fn resolve_user(rootfs_dir: &Path, user: &str) -> Result<UserSpec> {
    resolve_user_in(&Rootfs::Dir(rootfs_dir.to_path_buf()), user)
}

/// Resolve a user string against any [`Rootfs`], reading `/etc/passwd` and `/etc/group` through
/// the overlay layers without mounting them.
pub fn resolve_user_in(rootfs: &Rootfs, user: &str) -> Result<UserSpec> {
    let view = RootView::new(rootfs);
    let passwd = read_text(&view, "/etc/passwd")?;
    let group = read_text(&view, "/etc/group")?;
    resolve(user, passwd.as_deref(), group.as_deref())
}

/// The home directory of `uid` in the rootfs's `/etc/passwd`, `/` when it has no entry (runc's
/// default for `HOME`).
pub(crate) fn home_of(view: &RootView, uid: u32) -> Result<String> {
    let passwd = read_text(view, "/etc/passwd")?;
    Ok(parse_passwd(passwd.as_deref().unwrap_or(""))
        .into_iter()
        .find(|entry| entry.uid == i64::from(uid))
        .map(|entry| entry.home)
        .filter(|home| !home.is_empty())
        .unwrap_or_else(|| "/".to_owned()))
}

fn read_text(view: &RootView, path: &str) -> Result<Option<String>> {
    Ok(view
        .read_file(path)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

#[derive(Debug, PartialEq, Eq)]
struct PasswdEntry {
    name: String,
    uid: i64,
    gid: i64,
    home: String,
}

#[derive(Debug, PartialEq, Eq)]
struct GroupEntry {
    name: String,
    gid: i64,
    members: Vec<String>,
}

/// `name:password:uid:gid:gecos:home:shell` lines. Like runc, a field that is not a number
/// reads as 0 and missing fields are empty; blank lines and `#` comments are skipped.
fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    lines(text)
        .map(|fields| PasswdEntry {
            name: field(&fields, 0).to_owned(),
            uid: number(field(&fields, 2)),
            gid: number(field(&fields, 3)),
            home: field(&fields, 5).to_owned(),
        })
        .collect()
}

/// `name:password:gid:member,member` lines.
fn parse_group(text: &str) -> Vec<GroupEntry> {
    lines(text)
        .map(|fields| GroupEntry {
            name: field(&fields, 0).to_owned(),
            gid: number(field(&fields, 2)),
            members: field(&fields, 3)
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split(':').collect())
}

fn field<'a>(fields: &[&'a str], i: usize) -> &'a str {
    fields.get(i).copied().unwrap_or("")
}

fn number(text: &str) -> i64 {
    text.trim().parse().unwrap_or(0)
}

/// A uid or gid given as a number: `Some(Ok(id))`, `Some(Err)` when out of range, `None` when
/// it is a name.
fn numeric_id(text: &str) -> Option<Result<u32>> {
    let value: i64 = text.parse().ok()?;
    Some(if (0..=MAX_ID).contains(&value) {
        Ok(value as u32)
    } else {
        Err(Error::IdOutOfRange {
            value: text.to_owned(),
        })
    })
}

fn checked(id: i64) -> Result<u32> {
    if (0..=MAX_ID).contains(&id) {
        Ok(id as u32)
    } else {
        Err(Error::IdOutOfRange {
            value: id.to_string(),
        })
    }
}

/// The rules, on file contents (`None` for a missing file).
fn resolve(user: &str, passwd: Option<&str>, group: Option<&str>) -> Result<UserSpec> {
    let (user_arg, group_arg) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let group_arg = group_arg.filter(|g| !g.is_empty());
    let users = parse_passwd(passwd.unwrap_or(""));
    let numeric_uid = numeric_id(user_arg).transpose()?;

    let matched = users
        .into_iter()
        .find(|entry| match (user_arg, numeric_uid) {
            ("", _) => entry.uid == 0,
            (_, Some(uid)) => entry.uid == i64::from(uid),
            (name, None) => entry.name == name,
        });
    let mut spec = UserSpec::default();
    let name = match matched {
        Some(entry) => {
            spec.uid = checked(entry.uid)?;
            spec.gid = checked(entry.gid)?;
            Some(entry.name)
        }
        None if !user_arg.is_empty() && numeric_uid.is_none() => {
            return Err(Error::UserNotFound {
                name: user_arg.to_owned(),
            })
        }
        None => {
            spec.uid = numeric_uid.unwrap_or(0);
            None
        }
    };

    let groups = parse_group(group.unwrap_or(""));
    match group_arg {
        Some(group_arg) => {
            let numeric_gid = numeric_id(group_arg).transpose()?;
            let found = groups.iter().find(|g| match numeric_gid {
                Some(gid) => g.gid == i64::from(gid),
                None => g.name == group_arg,
            });
            spec.gid = match (found, numeric_gid) {
                (Some(g), _) => checked(g.gid)?,
                (None, Some(gid)) => gid,
                (None, None) => {
                    return Err(Error::GroupNotFound {
                        name: group_arg.to_owned(),
                    })
                }
            };
        }
        None => {
            if let Some(name) = name {
                for g in groups.iter().filter(|g| g.members.contains(&name)) {
                    let gid = checked(g.gid)?;
                    if !spec.additional_gids.contains(&gid) {
                        spec.additional_gids.push(gid);
                    }
                }
            }
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        app:x:1000:1000:app:/home/app:/bin/sh\n\
        # a comment\n\
        \n\
        nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    const GROUP: &str = "root:x:0:\n\
        wheel:x:10:root,app\n\
        app:x:1000:\n\
        staff:x:50:app\n\
        nogroup:x:65534:\n";

    fn spec(uid: u32, gid: u32, extra: &[u32]) -> UserSpec {
        UserSpec {
            uid,
            gid,
            additional_gids: extra.to_vec(),
        }
    }

    fn r(user: &str) -> Result<UserSpec> {
        resolve(user, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn names_take_ids_and_memberships_from_the_files() {
        assert_eq!(r("app").unwrap(), spec(1000, 1000, &[10, 50]));
        assert_eq!(r("root").unwrap(), spec(0, 0, &[10]));
        assert_eq!(r("").unwrap(), spec(0, 0, &[10]));
        assert_eq!(r("nobody").unwrap(), spec(65534, 65534, &[]));
    }

    #[test]
    fn numeric_uids_need_no_entry() {
        assert_eq!(r("1000").unwrap(), spec(1000, 1000, &[10, 50]));
        assert_eq!(r("4242").unwrap(), spec(4242, 0, &[]));
        assert_eq!(r("4242:77").unwrap(), spec(4242, 77, &[]));
        assert_eq!(resolve("5", None, None).unwrap(), spec(5, 0, &[]));
    }

    #[test]
    fn an_explicit_group_replaces_the_primary_and_drops_memberships() {
        assert_eq!(r("app:staff").unwrap(), spec(1000, 50, &[]));
        assert_eq!(r("app:65534").unwrap(), spec(1000, 65534, &[]));
        assert_eq!(r("app:9999").unwrap(), spec(1000, 9999, &[]));
        // An empty group part is no group.
        assert_eq!(r("app:").unwrap(), spec(1000, 1000, &[10, 50]));
    }

    #[test]
    fn missing_names_are_errors_with_dockers_messages() {
        let err = r("ghost").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to find user ghost: no matching entries in passwd file"
        );
        let err = resolve("app", None, None).unwrap_err();
        assert!(matches!(err, Error::UserNotFound { .. }), "{err}");
        let err = r("app:ghosts").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to find group ghosts: no matching entries in group file"
        );
    }

    #[test]
    fn ids_out_of_range_are_refused() {
        assert!(matches!(r("-1"), Err(Error::IdOutOfRange { .. })));
        assert!(matches!(r("2147483648"), Err(Error::IdOutOfRange { .. })));
        assert!(matches!(r("app:-5"), Err(Error::IdOutOfRange { .. })));
        assert_eq!(r("2147483647").unwrap().uid, 2147483647);
    }

    #[test]
    fn resolve_user_reads_the_rootfs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("etc")).unwrap();
        std::fs::write(tmp.path().join("etc/passwd"), PASSWD).unwrap();
        std::fs::write(tmp.path().join("etc/group"), GROUP).unwrap();
        assert_eq!(
            resolve_user(tmp.path(), "app").unwrap(),
            spec(1000, 1000, &[10, 50])
        );
        let view = RootView::new(&Rootfs::Dir(tmp.path().to_path_buf()));
        assert_eq!(home_of(&view, 1000).unwrap(), "/home/app");
        assert_eq!(home_of(&view, 7).unwrap(), "/");
    }
}
