//! Just enough of image references and platform strings for the FROM rules: whether a name
//! would be accepted as an image reference (distribution's `ParseNormalizedNamed`), and the
//! OS/architecture of a `--platform` value (containerd's `platforms.Parse`).

/// Whether `s` parses as a normalized image reference (`alpine`, `ghcr.io/a/b:1@sha256:…`).
pub(crate) fn is_valid_reference(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    // A bare 64-hex string is an image id, which a reference may not be.
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        if !is_digest(d) {
            return false;
        }
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return false;
        }
    }
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let (domain, remote) = match name.split_once('/') {
        Some((first, r))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (Some(first), r)
        }
        _ => (None, name),
    };
    if let Some(d) = domain {
        if !is_domain(d) {
            return false;
        }
    }
    remote.split('/').all(is_path_component)
}

fn is_path_component(c: &str) -> bool {
    // [a-z0-9]+ separated by `.`, `_`, `__` or runs of `-`.
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        // [IPv6]:port
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("x", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
    })
}

fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn is_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let algo_ok = algo
        .split(['+', '.', '_', '-'])
        .all(|p| !p.is_empty() && p.bytes().all(is_alnum_lower));
    algo_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

fn normalize_arch(arch: &str) -> String {
    match arch {
        "i386" => "386",
        "x86_64" | "x86-64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armhf" | "armel" | "arm" => "arm",
        other => other,
    }
    .to_string()
}

/// The `(os, architecture)` of a platform string, or `None` when containerd would refuse it.
/// A lone OS gets the build host's architecture, which keel takes to be `amd64`.
pub(crate) fn parse_platform(s: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = s.split('/').collect();
    let valid = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if parts.len() > 3 || !parts.iter().all(|p| valid(p)) {
        return None;
    }
    let first = parts[0].to_lowercase();
    if parts.len() == 1 {
        if KNOWN_OS.contains(&first.as_str()) {
            return Some((first, "amd64".to_string()));
        }
        let arch = normalize_arch(&first);
        if KNOWN_ARCH.contains(&arch.as_str()) {
            return Some(("linux".to_string(), arch));
        }
        return None;
    }
    let os = if first == "macos" {
        "darwin".to_string()
    } else {
        first
    };
    Some((os, normalize_arch(&parts[1].to_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in [
            "alpine",
            "alpine:3.20",
            "library/alpine",
            "ghcr.io/a/b:1",
            "localhost:5000/x",
            "build_stage",
            "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_valid_reference(ok), "{ok}");
        }
        for bad in ["", "alpine:", "Alpine", "a b", ":tag", "alpine:-x", "a//b"] {
            assert!(!is_valid_reference(bad), "{bad}");
        }
    }

    #[test]
    fn platforms() {
        assert_eq!(
            parse_platform("linux/amd64"),
            Some(("linux".into(), "amd64".into()))
        );
        assert_eq!(
            parse_platform("linux/aarch64/v8"),
            Some(("linux".into(), "arm64".into()))
        );
        assert_eq!(
            parse_platform("arm64"),
            Some(("linux".into(), "arm64".into()))
        );
        assert_eq!(parse_platform("nonsense"), None);
    }
}
