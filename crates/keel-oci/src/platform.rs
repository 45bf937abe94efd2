//! `os/arch[/variant]` platforms, normalised as containerd's `platforms` package does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A target platform such as `linux/amd64` or `linux/arm/v7`.
///
/// Serializes as the OCI `platform` object of index entries (image-spec `image-index.md`), with
/// the fields in the order of the Go type (`architecture`, `os`, `os.version`, `os.features`,
/// `variant`) so that keel's index JSON matches docker's byte for byte. Empty optional fields are
/// left out. Fields the spec reserves but does not define (`features`) are not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    /// `os.version`: set by Windows images (`10.0.17763.1879`).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    /// `os.features`: set by Windows images (`win32k`).
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

/// A platform string that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {input:?}: {reason}")]
pub struct PlatformError {
    pub input: String,
    pub reason: &'static str,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: &str) -> Platform {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant: variant.to_owned(),
            ..Platform::default()
        }
    }

    /// The platform this binary runs on (Linux only: keel runs Linux containers).
    pub fn host() -> Platform {
        let (arch, variant) = normalize_arch(std::env::consts::ARCH, "");
        Platform::new("linux", &arch, &variant)
    }

    /// Same os, architecture and variant (`os.version` and `os.features` ignored): the exact
    /// match an index lookup or a `--platform` check wants.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && self.variant == other.variant
    }
}

/// Map Rust and uname spellings onto the OCI/Go names (`x86_64` → `amd64`, `aarch64` → `arm64`).
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    match arch.as_str() {
        "x86_64" | "x86-64" | "amd64" => (
            "amd64".into(),
            if variant == "v1" {
                String::new()
            } else {
                variant
            },
        ),
        "i386" | "i686" | "x86" | "386" => ("386".into(), String::new()),
        "aarch64" | "arm64" => (
            "arm64".into(),
            if variant == "v8" || variant == "8" {
                String::new()
            } else {
                variant
            },
        ),
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".to_owned(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        let err = |reason| PlatformError {
            input: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(err("empty component"));
        }
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, ""),
            [os, arch, variant] => (*os, *arch, *variant),
            [one]
                if matches!(
                    one.to_ascii_lowercase().as_str(),
                    "linux" | "windows" | "darwin" | "freebsd"
                ) =>
            {
                let host = Platform::host();
                return Ok(Platform::new(
                    &one.to_ascii_lowercase(),
                    &host.architecture,
                    &host.variant,
                ));
            }
            [arch] => ("linux", *arch, ""),
            _ => return Err(err("expected os/arch[/variant]")),
        };
        let (arch, variant) = normalize_arch(arch, variant);
        Ok(Platform::new(&os.to_ascii_lowercase(), &arch, &variant))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let p: Platform = "linux/x86_64".parse().expect("valid");
        assert_eq!(p.to_string(), "linux/amd64");
        let p: Platform = "linux/arm".parse().expect("valid");
        assert_eq!(p.to_string(), "linux/arm/v7");
        let p: Platform = "linux/arm64/v8".parse().expect("valid");
        assert_eq!(p.to_string(), "linux/arm64");
        assert!("linux//amd64".parse::<Platform>().is_err());
        assert!("a/b/c/d".parse::<Platform>().is_err());
    }

    #[test]
    fn serializes_as_the_oci_platform_object() {
        let p: Platform = "linux/arm/v7".parse().expect("valid");
        assert_eq!(
            serde_json::to_string(&p).expect("serializes"),
            r#"{"architecture":"arm","os":"linux","variant":"v7"}"#
        );
        let windows = r#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1879","os.features":["win32k"]}"#;
        let p: Platform = serde_json::from_str(windows).expect("valid");
        assert_eq!(p.os_version, "10.0.17763.1879");
        assert_eq!(p.os_features, ["win32k"]);
        assert_eq!(serde_json::to_string(&p).expect("serializes"), windows);
    }

    #[test]
    fn host_is_linux() {
        assert_eq!(Platform::host().os, "linux");
    }
}
