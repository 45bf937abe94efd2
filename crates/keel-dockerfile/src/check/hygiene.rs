//! keel's layer-hygiene rules, which no other tool has: ChownAfterCopy, AptUpdateWithoutInstall
//! and AddLocalFile. They read RUN scripts with a small word splitter ([`super::script`]); they
//! never run anything.

use crate::syntax::Node;

use super::dispatch::join_path;
use super::rules::{self, Report};
use super::script::{simple_commands, Command};
use super::util::{has_flag, keyword_as_written, words};

/// What the stage's COPY and ADD instructions wrote so far.
#[derive(Default)]
pub(crate) struct Hygiene {
    /// (absolute destination, instruction keyword as written, line).
    copied: Vec<(String, String, usize)>,
}

impl Hygiene {
    /// Remember a COPY/ADD destination (already resolved against the working directory).
    pub fn copied(&mut self, node: &Node, dest: &str) {
        if dest.contains('$') {
            return;
        }
        let kw = keyword_as_written(node).to_string();
        self.copied.push((dest.to_string(), kw, node.span.line));
    }

    /// ChownAfterCopy and AptUpdateWithoutInstall for one RUN.
    pub fn run(&mut self, node: &Node, workdir: &str, report: &mut Report<'_>) {
        let commands = simple_commands(&script(node));
        self.chown_after_copy(node, workdir, &commands, report);
        apt_update(node, &commands, report);
    }

    fn chown_after_copy(
        &self,
        node: &Node,
        workdir: &str,
        commands: &[Command],
        report: &mut Report<'_>,
    ) {
        let mut dir = workdir.to_string();
        for cmd in commands {
            let Some((name, args)) = cmd.program() else {
                continue;
            };
            if name == "cd" {
                if let Some(to) = args.first().filter(|a| !a.contains('$')) {
                    dir = join_path(&dir, to);
                }
                continue;
            }
            if !matches!(name, "chown" | "chmod" | "chgrp") {
                continue;
            }
            let recursive = args.iter().any(|a| {
                a == "--recursive"
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('R'))
            });
            if !recursive {
                continue;
            }
            let operands: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
            // The first operand is the owner or mode, unless --reference gave it.
            let skip = usize::from(!args.iter().any(|a| a.starts_with("--reference")));
            for target in operands.into_iter().skip(skip) {
                let Some(target) = literal_prefix(target) else {
                    continue;
                };
                let target = join_path(&dir, &target);
                if let Some((dest, kw, line)) =
                    self.copied.iter().find(|(d, _, _)| overlaps(&target, d))
                {
                    let flag = if name == "chmod" {
                        "--chmod"
                    } else {
                        "--chown"
                    };
                    let msg = format!(
                        "'{name} -R {target}' rewrites files that {kw} on line {line} wrote to '{dest}', so they are stored twice; use {kw} {flag}= instead"
                    );
                    report.add(&rules::CHOWN_AFTER_COPY, msg, node.span);
                    return;
                }
            }
        }
    }

    /// AddLocalFile: ADD whose every source is a plain local file or directory.
    pub fn add(&self, node: &Node, report: &mut Report<'_>) {
        if ["checksum", "keep-git-dir", "unpack"]
            .iter()
            .any(|f| has_flag(node, f))
        {
            return;
        }
        let args = words(node);
        let Some((_, sources)) = args.split_last() else {
            return;
        };
        if sources.is_empty() || !sources.iter().all(|s| is_plain_local(s)) {
            return;
        }
        let kw = keyword_as_written(node);
        let copy = if kw == kw.to_lowercase() {
            "copy"
        } else {
            "COPY"
        };
        let msg = format!(
            "{kw} of local files only copies them; use {copy}, and keep {kw} for URLs, git sources and local archives to extract"
        );
        report.add(&rules::ADD_LOCAL_FILE, msg, node.span);
    }
}

/// The RUN's script: the shell-form text (or exec-form words) and any heredoc bodies.
fn script(node: &Node) -> String {
    let mut text = words(node).join(" ");
    for doc in &node.heredocs {
        text.push('\n');
        text.push_str(&doc.content);
    }
    text
}

/// The part of a path before any glob or variable (`/app/*` → `/app`); `None` when nothing
/// literal is left.
fn literal_prefix(path: &str) -> Option<String> {
    let mut kept = Vec::new();
    for part in path.split('/') {
        if part.contains(['*', '?', '[', '$', '`']) {
            break;
        }
        kept.push(part);
    }
    let s = kept.join("/");
    (!s.is_empty()).then_some(s)
}

/// Whether changing `target` recursively touches what was written at `dest`: the same path, one
/// inside the other. A copy into `/` only counts for a target of `/` itself, since it wrote a few
/// entries there, not the whole tree.
fn overlaps(target: &str, dest: &str) -> bool {
    if dest == "/" {
        return target == "/";
    }
    let under =
        |a: &str, b: &str| b == "/" || a.strip_prefix(b).is_some_and(|r| r.starts_with('/'));
    target == dest || under(dest, target) || under(target, dest)
}

fn apt_update(node: &Node, commands: &[Command], report: &mut Report<'_>) {
    let mut update = None;
    let mut install = false;
    for cmd in commands {
        let Some((name, args)) = cmd.program() else {
            continue;
        };
        if !matches!(name, "apt-get" | "apt") {
            continue;
        }
        match apt_subcommand(args) {
            Some("update") => {
                update.get_or_insert(name);
            }
            Some("install" | "upgrade" | "dist-upgrade" | "full-upgrade") => install = true,
            _ => {}
        }
    }
    if let (Some(tool), false) = (update, install) {
        let msg = format!(
            "'{tool} update' without '{tool} install' in the same RUN stores a package index that goes stale; update and install in one RUN"
        );
        report.add(&rules::APT_UPDATE_WITHOUT_INSTALL, msg, node.span);
    }
}

/// The first non-option word of an apt command line (`-o X=Y`, `-c file`, `-t rel` take values).
fn apt_subcommand(args: &[String]) -> Option<&str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if matches!(
            a.as_str(),
            "-o" | "-c" | "-t" | "--option" | "--config-file" | "--target-release"
        ) {
            it.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

/// Tar archives ADD would extract, by name.
const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst",
];

fn is_plain_local(src: &str) -> bool {
    let lower = src.to_lowercase();
    let remote =
        lower.contains("://") || lower.starts_with("git@") || lower.starts_with("github.com/");
    // A variable or glob may stand for anything, an archive or a URL included.
    let unknown = src.contains(['$', '*', '?', '[']);
    let archive = ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s));
    !remote && !unknown && !archive
}
