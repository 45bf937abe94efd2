//! Network::None (loopback only) and Network::Host.

use std::io::{Read, Write};
use std::net::TcpListener;

use keel_runtime::{Network, Rootfs};

use crate::common::{busybox, capture, require_root, sh, stdout_of};

#[test]
fn no_network_sees_only_lo_and_it_is_up() {
    if !require_root("no_network_sees_only_lo_and_it_is_up") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // /proc/net/dev: two header lines, then one line per interface.
    let out = stdout_of(
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
         ls /sys/class/net; ip -o -4 addr show lo | grep -o '127.0.0.1/8'",
        Rootfs::Dir(root),
        |spec| spec.network = Network::None,
    );
    assert_eq!(out, "lo\nlo\n127.0.0.1/8\n");
}

#[test]
fn loopback_works_inside_a_new_network_namespace() {
    if !require_root("loopback_works_inside_a_new_network_namespace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = stdout_of(
        // Retry until the listener is up: a fixed sleep raced it on a loaded CI machine.
        "nc -l -p 8080 > /tmp/got & for i in $(seq 100); do echo hello | nc 127.0.0.1 8080 && break; sleep 0.05; done; wait; cat /tmp/got",
        Rootfs::Dir(root),
        |spec| spec.network = Network::None,
    );
    assert_eq!(out, "hello\n");
}

/// A listener on the host's loopback that answers one connection with `reply`.
fn listener(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap();
        conn.write_all(reply).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    (port, handle)
}

#[test]
fn host_network_reaches_a_listener_on_the_hosts_loopback() {
    if !require_root("host_network_reaches_a_listener_on_the_hosts_loopback") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let (port, server) = listener(b"pong\n");
    let out = stdout_of(
        &format!("echo ping | nc 127.0.0.1 {port}"),
        Rootfs::Dir(root),
        |spec| spec.network = Network::Host,
    );
    assert_eq!(out, "pong\n");
    assert_eq!(server.join().unwrap(), "ping\n");
}

#[test]
fn no_network_cannot_reach_the_hosts_loopback() {
    if !require_root("no_network_cannot_reach_the_hosts_loopback") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = capture(
        sh(&format!("echo ping | nc 127.0.0.1 {port}")),
        Rootfs::Dir(root),
        |spec| spec.network = Network::None,
    )
    .unwrap();
    assert!(!out.status.success());
    assert!(out.stderr.contains("Connection refused"), "{}", out.stderr);
}

#[test]
fn host_network_resolves_like_the_host() {
    if !require_root("host_network_resolves_like_the_host") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = stdout_of(
        "cat /etc/resolv.conf; echo ---; cat /etc/hosts",
        Rootfs::Dir(root),
        |spec| spec.network = Network::Host,
    );
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let (resolv, hosts) = out.split_once("---\n").unwrap();
    assert_eq!(resolv, host_resolv);
    assert!(hosts.starts_with(&host_hosts), "{hosts}");
    assert!(
        hosts.contains("keel"),
        "the default hostname resolves: {hosts}"
    );
}
