//! Dockerfile instructions that change an image's run configuration without touching its files:
//! `keel import --change 'CMD ["sh"]'` now, the build's metadata steps later. The meaning of
//! each instruction follows BuildKit's dispatchers (`dispatchCmd`, `dispatchEnv`...).

use std::collections::BTreeMap;

use keel_dockerfile::instruction::{parse_instruction, CommandLine, Instruction};
use keel_dockerfile::shell::Lexer;
use keel_oci::{ContainerConfig, EmptyObject, Healthcheck};

use crate::error::{Error, Result};

/// The instructions docker accepts in `--change` (moby `validCommitCommands`).
pub const CHANGE_INSTRUCTIONS: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The shell a shell-form CMD/ENTRYPOINT runs under when the image sets none (Linux).
const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// Apply `--change` values in order. Variables expand against the config's environment as
/// it is at each step, as the daemon does.
pub fn apply_changes(config: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    let mut state = ApplyState::default();
    for change in changes {
        apply_change(config, change, &mut state)?;
    }
    Ok(())
}

/// What one instruction's effect depends on beyond the config itself.
#[derive(Debug, Clone, Default)]
pub struct ApplyState {
    /// A CMD was set earlier (in this stage, or by an earlier `--change`): an ENTRYPOINT keeps
    /// it instead of clearing the inherited one.
    pub cmd_set: bool,
    /// Mark CMD/ENTRYPOINT `ArgsEscaped`, as BuildKit does for every image it builds. The
    /// daemon's `--change` (the classic builder) does not on Linux.
    pub buildkit: bool,
}

/// Apply one `--change` value.
pub fn apply_change(
    config: &mut ContainerConfig,
    change: &str,
    state: &mut ApplyState,
) -> Result<()> {
    let fail = |reason: String| Error::Change {
        change: change.to_owned(),
        reason,
    };
    let ast = keel_dockerfile::syntax::parse(change.as_bytes()).map_err(|e| fail(e.message))?;
    let node = match ast.children.as_slice() {
        [node] => node,
        [] => return Err(fail("no instruction".to_owned())),
        _ => return Err(fail("one instruction per --change".to_owned())),
    };
    let keyword = node.keyword.to_ascii_uppercase();
    if !CHANGE_INSTRUCTIONS.contains(&keyword.as_str()) {
        return Err(fail(format!(
            "{keyword} cannot be used with --change (allowed: {})",
            CHANGE_INSTRUCTIONS.join(", ")
        )));
    }
    let command = parse_instruction(node).map_err(|e| fail(e.message))?;
    let env = env_map(&config.env);
    let expanded = command
        .expand(&Lexer::new('\\'), &env)
        .map_err(|e| fail(e.message))?
        .value;
    apply_instruction(config, &expanded.instruction, state).map_err(fail)
}

/// Apply a metadata instruction (already expanded) to `config`. Instructions that make
/// layers or belong to the build (RUN, COPY, ADD, FROM, ARG) are refused.
pub fn apply_instruction(
    config: &mut ContainerConfig,
    instruction: &Instruction,
    state: &mut ApplyState,
) -> std::result::Result<(), String> {
    match instruction {
        Instruction::Cmd(line) => {
            config.cmd = command_line(config, line);
            config.args_escaped = state.buildkit;
            state.cmd_set = true;
        }
        Instruction::Entrypoint(line) => {
            config.entrypoint = command_line(config, line);
            config.args_escaped = state.buildkit;
            if !state.cmd_set {
                config.cmd.clear();
            }
        }
        Instruction::Env(pairs) => {
            for kv in pairs {
                set_env(&mut config.env, &kv.key, &kv.value);
            }
        }
        Instruction::Label(pairs) => {
            for kv in pairs {
                config.labels.insert(kv.key.clone(), kv.value.clone());
            }
        }
        Instruction::Expose(ports) => {
            for spec in ports {
                for port in expose_ports(spec)? {
                    config.exposed_ports.insert(port, EmptyObject::default());
                }
            }
        }
        Instruction::User(user) => config.user.clone_from(user),
        Instruction::Volume(paths) => {
            for path in paths {
                if path.trim().is_empty() {
                    return Err("VOLUME specified can not be an empty string".to_owned());
                }
                config.volumes.insert(path.clone(), EmptyObject::default());
            }
        }
        Instruction::Workdir(dir) => config.working_dir = join_workdir(&config.working_dir, dir),
        Instruction::Stopsignal(signal) => config.stop_signal.clone_from(signal),
        Instruction::Onbuild(onbuild) => config.on_build.push(onbuild.expression.clone()),
        Instruction::Shell(shell) => config.shell.clone_from(shell),
        Instruction::Healthcheck(h) => config.healthcheck = Some(healthcheck(h)),
        other => {
            return Err(format!(
                "{} does not change the image config",
                other.keyword()
            ))
        }
    }
    Ok(())
}

/// Exec form as written; shell form wrapped in the image's shell (BuildKit's `withShell`).
fn command_line(config: &ContainerConfig, line: &CommandLine) -> Vec<String> {
    if !line.prepend_shell {
        return line.cmd_line.clone();
    }
    let mut args: Vec<String> = if config.shell.is_empty() {
        DEFAULT_SHELL.iter().map(|s| (*s).to_owned()).collect()
    } else {
        config.shell.clone()
    };
    args.push(line.cmd_line.join(" "));
    args
}

fn env_map(env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.clone(), String::new()),
        })
        .collect()
}

/// Replace `key`'s entry in place, or append it (the order of `Env` is kept as docker keeps it).
pub(crate) fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
    {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

/// `80`, `80/udp`, `8000-8002/tcp` → `80/tcp`..., as go-connections `nat.ParsePortSpecs`.
pub fn expose_ports(spec: &str) -> std::result::Result<Vec<String>, String> {
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto)) if !proto.is_empty() => (p, proto.to_ascii_lowercase()),
        Some((p, _)) => (p, "tcp".to_owned()),
        None => (spec, "tcp".to_owned()),
    };
    // go-connections `validateProto`: the daemon refuses any other protocol.
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let invalid = || format!("invalid containerPort: {ports}");
    let parse = |s: &str| s.parse::<u16>().map_err(|_| invalid());
    let (start, end) = match ports.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(ports)?;
            (p, p)
        }
    };
    if end < start {
        return Err(format!(
            "invalid range specified for container port: {ports}"
        ));
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

/// WORKDIR: an absolute path replaces, a relative one is joined to the current directory;
/// the result is cleaned (`/a/../b` → `/b`), as BuildKit's `system.NormalizeWorkdir`.
pub fn join_workdir(current: &str, dir: &str) -> String {
    let joined = if dir.starts_with('/') {
        dir.to_owned()
    } else {
        format!("{}/{dir}", if current.is_empty() { "/" } else { current })
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn healthcheck(h: &keel_dockerfile::instruction::Healthcheck) -> Healthcheck {
    let nanos = |d: Option<std::time::Duration>| {
        d.map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    };
    Healthcheck {
        test: h.test.clone(),
        interval: nanos(h.interval),
        timeout: nanos(h.timeout),
        start_period: nanos(h.start_period),
        start_interval: nanos(h.start_interval),
        retries: h.retries.map_or(0, i64::from),
        ..Healthcheck::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<ContainerConfig> {
        let mut c = ContainerConfig::default();
        let changes: Vec<String> = changes.iter().map(|s| (*s).to_owned()).collect();
        apply_changes(&mut c, &changes)?;
        Ok(c)
    }

    #[test]
    fn cmd_entrypoint_env_expose() {
        let c = apply(&[
            "ENV PATH=/bin GREETING=hi",
            r#"CMD ["sh"]"#,
            "ENTRYPOINT echo $GREETING",
            "EXPOSE 80 8000-8001/UDP",
            "WORKDIR /srv",
            "WORKDIR app/../www",
            "LABEL a=b",
            "USER app",
            "VOLUME /data",
            "STOPSIGNAL SIGTERM",
            "ONBUILD RUN echo hi",
        ])
        .unwrap();
        assert_eq!(c.env, ["PATH=/bin", "GREETING=hi"]);
        assert_eq!(
            c.cmd,
            ["sh"],
            "CMD set by an earlier change survives ENTRYPOINT"
        );
        assert_eq!(
            c.entrypoint,
            ["/bin/sh", "-c", "echo $GREETING"],
            "shell form is not expanded"
        );
        assert!(
            !c.args_escaped,
            "the daemon's --change leaves ArgsEscaped unset"
        );
        let ports: Vec<&String> = c.exposed_ports.keys().collect();
        assert_eq!(ports, ["80/tcp", "8000/udp", "8001/udp"]);
        assert_eq!(c.working_dir, "/srv/www");
        assert_eq!(c.labels["a"], "b");
        assert_eq!(c.user, "app");
        assert!(c.volumes.contains_key("/data"));
        assert_eq!(c.stop_signal, "SIGTERM");
        assert_eq!(c.on_build, ["RUN echo hi"]);
    }

    #[test]
    fn entrypoint_clears_inherited_cmd() {
        let mut c = ContainerConfig {
            cmd: vec!["sh".into()],
            ..ContainerConfig::default()
        };
        apply_changes(&mut c, &[r#"ENTRYPOINT ["top"]"#.to_owned()]).unwrap();
        assert!(c.cmd.is_empty());
    }

    #[test]
    fn env_replaces_in_place() {
        let c = apply(&["ENV A=1 B=2", "ENV A=3"]).unwrap();
        assert_eq!(c.env, ["A=3", "B=2"]);
    }

    #[test]
    fn refuses_build_instructions_and_bad_input() {
        let e = apply(&["RUN echo"]).unwrap_err().to_string();
        assert!(e.contains("RUN cannot be used with --change"), "{e}");
        assert!(apply(&["EXPOSE abc"]).is_err());
        let e = apply(&["EXPOSE 80/bogus"]).unwrap_err().to_string();
        assert!(e.contains("invalid proto: bogus"), "{e}");
        assert!(apply(&["EXPOSE 80/SCTP"]).is_ok());
        assert!(apply(&["ENV"]).is_err());
    }

    #[test]
    fn healthcheck_durations_in_nanoseconds() {
        let c = apply(&["HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost"]).unwrap();
        let h = c.healthcheck.unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "wget -q localhost"]);
        assert_eq!(h.interval, 5_000_000_000);
        assert_eq!(h.retries, 3);
    }
}
