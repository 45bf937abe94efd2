//! The contents of the `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` the process gets.
//! They are written to the per-run directory and bind-mounted read-only over the image's files,
//! so the image (and a build's layer) never changes.

use crate::spec::Network;

/// `/etc/hosts`. With the host network, the host's file (so the names the host resolves
/// locally resolve in a `RUN` too); without a network, only the loopback names. Either way the
/// hostname resolves to loopback, as Docker and BuildKit make it.
pub(crate) fn hosts(network: Network, host_hosts: Option<&str>, hostname: &str) -> String {
    let mut out = match (network, host_hosts) {
        (Network::Host, Some(text)) => text.to_owned(),
        _ => "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n".to_owned(),
    };
    let named = out.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("");
        line.split_whitespace().skip(1).any(|name| name == hostname)
    });
    if !named {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("127.0.0.1\t{hostname}\n"));
    }
    out
}

/// `/etc/resolv.conf`: the host's file with the host network (a loopback resolver such as
/// systemd-resolved's 127.0.0.53 is reachable there); empty without a network, where no name
/// server could be reached anyway.
pub(crate) fn resolv_conf(network: Network, host_resolv: Option<&str>) -> String {
    match (network, host_resolv) {
        (Network::Host, Some(text)) => text.to_owned(),
        _ => String::new(),
    }
}

/// `/etc/hostname`.
pub(crate) fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_network_keeps_the_hosts_file_and_adds_the_hostname() {
        let host = "127.0.0.1 localhost\n10.1.2.3 db # comment\n";
        let out = hosts(Network::Host, Some(host), "box");
        assert_eq!(out, format!("{host}127.0.0.1\tbox\n"));
        // Already there (not only inside a comment): unchanged.
        let host = "127.0.0.1 localhost box\n";
        assert_eq!(hosts(Network::Host, Some(host), "box"), host);
        let host = "127.0.0.1 localhost # box";
        assert_eq!(
            hosts(Network::Host, Some(host), "box"),
            format!("{host}\n127.0.0.1\tbox\n")
        );
    }

    #[test]
    fn no_network_gets_loopback_names_only() {
        let out = hosts(Network::None, Some("10.0.0.1 db\n"), "box");
        assert!(!out.contains("db"));
        assert!(out.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(out.ends_with("127.0.0.1\tbox\n"));
        assert_eq!(resolv_conf(Network::None, Some("nameserver 1.1.1.1\n")), "");
        assert_eq!(
            resolv_conf(Network::Host, Some("nameserver 127.0.0.53\n")),
            "nameserver 127.0.0.53\n"
        );
        assert_eq!(hostname_file("box"), "box\n");
    }
}
