//! The `created_by` text BuildKit writes into an image's history for each instruction, so that
//! `keel history` reads like `docker history` of a BuildKit image.

use keel_dockerfile::instruction::{CommandLine, Instruction};

/// Comment BuildKit puts on every history entry of a Dockerfile build.
pub const COMMENT: &str = "buildkit.dockerfile.v0";

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| keel_dockerfile::goquote::quote(s))
        .collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// `created_by` for a metadata instruction (after expansion), or `None` for those that make
/// layers (their text is built by the step itself).
pub fn metadata_created_by(instruction: &Instruction, args: &[String]) -> Option<String> {
    Some(match instruction {
        Instruction::Env(kvs) => format!(
            "ENV {}",
            kvs.iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Instruction::Label(kvs) => format!(
            "LABEL {}",
            kvs.iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Instruction::Cmd(c) => format!("CMD {}", go_quoted_list(&command_args(c, args))),
        Instruction::Entrypoint(c) => {
            format!("ENTRYPOINT {}", go_quoted_list(&command_args(c, args)))
        }
        // BuildKit prints the map `nat.ParsePortSpecs` returns with `%v`: one key per port
        // (a range is expanded), each once, sorted as strings.
        Instruction::Expose(ports) => {
            let mut p: Vec<String> = ports
                .iter()
                .flat_map(|spec| {
                    keel_image::expose_ports(spec).unwrap_or_else(|_| vec![spec.clone()])
                })
                .map(|p| format!("{p}:{{}}"))
                .collect();
            p.sort();
            p.dedup();
            format!("EXPOSE map[{}]", p.join(" "))
        }
        Instruction::Volume(v) => format!("VOLUME {}", go_list(v)),
        Instruction::User(u) => format!("USER {u}"),
        Instruction::Stopsignal(s) => format!("STOPSIGNAL {s}"),
        Instruction::Shell(s) => format!("SHELL {}", go_list(s)),
        Instruction::Onbuild(o) => format!("ONBUILD {}", o.expression),
        Instruction::Maintainer(m) => format!("MAINTAINER {m}"),
        Instruction::Healthcheck(h) => format!("HEALTHCHECK {}", go_quoted_list(&h.test)),
        Instruction::Arg(defs) => format!(
            "ARG {}",
            defs.iter()
                .map(|d| match &d.value {
                    Some(v) => format!("{}={v}", d.key),
                    None => d.key.clone(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        ),
        _ => return None,
    })
}

/// CMD/ENTRYPOINT as stored: exec form as written, shell form wrapped in the shell.
fn command_args(c: &CommandLine, shell: &[String]) -> Vec<String> {
    if c.prepend_shell {
        let mut v = shell.to_vec();
        v.push(c.cmd_line.join(" "));
        v
    } else {
        c.cmd_line.clone()
    }
}

/// `RUN |2 A=1 B=2 /bin/sh -c make # buildkit`: the build args the command saw, then the
/// command as run.
pub fn run_created_by(build_args: &[(String, String)], args: &[String]) -> String {
    let mut out = String::from("RUN ");
    if !build_args.is_empty() {
        out.push_str(&format!("|{} ", build_args.len()));
        for (k, v) in build_args {
            out.push_str(&format!("{k}={v} "));
        }
    }
    out.push_str(&args.join(" "));
    out.push_str(" # buildkit");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_history_lists_each_port_once_with_ranges_expanded() {
        let expose = Instruction::Expose(vec![
            "80/tcp".to_owned(),
            "443".to_owned(),
            "80".to_owned(),
            "7000-7002/UDP".to_owned(),
        ]);
        assert_eq!(
            metadata_created_by(&expose, &[]).as_deref(),
            Some("EXPOSE map[443/tcp:{} 7000/udp:{} 7001/udp:{} 7002/udp:{} 80/tcp:{}]")
        );
    }
}
