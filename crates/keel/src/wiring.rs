//! The adapters that plug keel's libraries into the build engine's ports: keel-runtime runs
//! RUN steps ([`RuntimeExecutor`]); base images come from the store (`keel_build::LocalImages`).

use std::io::Read;

use keel_build::{Executor, Network, RunOutcome, RunRequest};
use keel_runtime::{ProcessSpec, Rootfs, RunSpec, Stdio};

/// The hostname RUN steps see, as under BuildKit.
const BUILD_HOSTNAME: &str = "buildkitsandbox";

/// Runs RUN steps in an overlay of the stage's layers with keel-runtime.
pub struct RuntimeExecutor;

impl Executor for RuntimeExecutor {
    fn run(&self, request: RunRequest<'_>) -> Result<RunOutcome, String> {
        let rootfs = Rootfs::Overlay {
            lowerdirs: request.rootfs.lowers.clone(),
            upperdir: request.rootfs.upper.clone(),
            workdir: request.rootfs.work.clone(),
        };
        let user =
            keel_runtime::resolve_user_in(&rootfs, &request.user).map_err(|e| e.to_string())?;
        let mut process = ProcessSpec::new(request.args.clone());
        process.env = request.env.clone();
        process.cwd = request.cwd.clone();
        process.user = user;
        process.hostname = BUILD_HOSTNAME.to_owned();
        let (mut reader, writer) =
            std::io::pipe().map_err(|e| format!("creating the output pipe: {e}"))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| format!("creating the output pipe: {e}"))?;
        let mut spec = RunSpec::new(process, rootfs);
        spec.network = match request.network {
            Network::Host => keel_runtime::Network::Host,
            Network::None => keel_runtime::Network::None,
        };
        spec.stdout = Stdio::Fd(writer.into());
        spec.stderr = Stdio::Fd(writer2.into());
        spec.scratch_dir = request.rootfs.upper.parent().map(|p| p.to_path_buf());
        let mut child = keel_runtime::spawn(&spec).map_err(|e| e.to_string())?;
        // Our copies of the write ends go with the spec, so the pipe ends when the process does.
        drop(spec);
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let _ = request.output.write_all(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading the step's output: {e}")),
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        Ok(RunOutcome {
            exit_code: status.code(),
        })
    }
}
