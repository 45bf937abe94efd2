//! Finding and reading the Dockerfile the way the docker CLI does.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::{CliError, CliResult, DockerfileFailure};

/// A Dockerfile's bytes and the name to show in messages (`Dockerfile`, `build/app.Dockerfile`).
pub struct DockerfileSource {
    pub name: String,
    pub bytes: Vec<u8>,
    /// The file it was read from (`None` for stdin).
    pub path: Option<PathBuf>,
    /// `keel build - < context.tar[.gz]`: the context arrived as a tar on stdin (the Dockerfile
    /// was read from inside it).
    pub context_tar: Option<Vec<u8>>,
}

impl DockerfileSource {
    /// Turn a front-end error into a CLI error that shows this file's source line.
    pub fn error(&self, error: keel_dockerfile::Error) -> CliError {
        CliError::Dockerfile(Box::new(DockerfileFailure {
            file: self.name.clone(),
            source: self.bytes.clone(),
            error,
        }))
    }
}

/// Read stdin to the end.
pub fn read_stdin() -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading the Dockerfile from stdin")?;
    Ok(bytes)
}

/// Read a named file, or stdin for `-`.
pub fn read_file(file: &str) -> CliResult<DockerfileSource> {
    if file == "-" {
        return Ok(DockerfileSource {
            name: "Dockerfile".into(),
            bytes: read_stdin()?,
            path: None,
            context_tar: None,
        });
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading Dockerfile {file}"))?;
    Ok(DockerfileSource {
        name: display_name(Path::new(file)),
        bytes,
        path: Some(PathBuf::from(file)),
        context_tar: None,
    })
}

/// The Dockerfile for `keel build [-f FILE] CONTEXT`, as docker resolves it: `-f` is relative to
/// the current directory (`-` is stdin); without `-f`, `CONTEXT/Dockerfile`, falling back to
/// `CONTEXT/dockerfile`; with CONTEXT `-`, the Dockerfile is read from stdin.
pub fn for_build(file: Option<&str>, context: &str) -> CliResult<DockerfileSource> {
    if context == "-" {
        // docker's rule: stdin is either a tar of the whole context (plain or compressed),
        // with the Dockerfile inside it, or a Dockerfile alone with an empty context.
        let bytes = read_stdin()?;
        if looks_like_tar(&bytes) {
            let name = file.unwrap_or("Dockerfile");
            let dockerfile = file_in_tar(&bytes, name)?.ok_or_else(|| {
                anyhow::anyhow!("the build context on stdin has no {name} (name it with -f)")
            })?;
            return Ok(DockerfileSource {
                name: name.to_owned(),
                bytes: dockerfile,
                path: None,
                context_tar: Some(bytes),
            });
        }
        if file.is_some_and(|f| f != "-") {
            return Err(CliError::usage(
                "a Dockerfile path (-f) cannot be used when the Dockerfile is read from stdin",
            ));
        }
        return Ok(DockerfileSource {
            name: "Dockerfile".into(),
            bytes,
            path: None,
            context_tar: None,
        });
    }
    if let Some(file) = file {
        return read_file(file);
    }
    let dir = PathBuf::from(context);
    if !dir.is_dir() {
        return Err(anyhow::anyhow!(
            "unable to prepare context: path {context:?} not found or not a directory"
        )
        .into());
    }
    let upper = dir.join("Dockerfile");
    let lower = dir.join("dockerfile");
    let path = if !upper.exists() && lower.exists() {
        lower
    } else {
        upper
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("failed to read Dockerfile {}: {e}", path.display()))?;
    Ok(DockerfileSource {
        name: display_name(&path),
        bytes,
        path: Some(path),
        context_tar: None,
    })
}

/// Paths are shown as typed, without a leading `./`.
fn display_name(path: &Path) -> String {
    let shown = path.display().to_string();
    shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown)
}

/// A tar stream, plain (the `ustar` magic) or compressed.
fn looks_like_tar(bytes: &[u8]) -> bool {
    let compressed = keel_archive::Compression::detect(bytes) != keel_archive::Compression::None;
    compressed || bytes.get(257..262) == Some(b"ustar".as_slice())
}

/// The content of `name` in the tar `bytes` (after decompression).
fn file_in_tar(bytes: &[u8], name: &str) -> CliResult<Option<Vec<u8>>> {
    let (_, plain) =
        keel_archive::decompress(bytes).context("reading the build context from stdin")?;
    let mut archive = tar::Archive::new(plain);
    let wanted = name.trim_start_matches("./");
    for entry in archive
        .entries()
        .context("reading the build context from stdin")?
    {
        let mut entry = entry.context("reading the build context from stdin")?;
        let path = entry
            .path()
            .context("reading the build context from stdin")?;
        if path.to_string_lossy().trim_start_matches("./") == wanted {
            let mut content = Vec::new();
            entry
                .read_to_end(&mut content)
                .context("reading the build context from stdin")?;
            return Ok(Some(content));
        }
    }
    Ok(None)
}
