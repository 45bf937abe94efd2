//! The engine with a fake executor: cache hits and misses, explanations, multi-stage builds
//! and reproducible digests, without root.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use keel_archive::{CompressOptions, LAYER_GZIP_LEVEL};
use keel_build::{
    build, BuildEvent, BuildOptions, Executor, LayerOptions, LocalImages, Network, Ports, Reporter,
    RunOutcome, RunRequest,
};
use keel_dockerfile::dockerfile::{parse, ResolveOptions};
use keel_oci::{ImageConfig, Platform};
use keel_store::Store;

/// Writes one file per RUN into the upper directory: `/ran` with the command line; exits with
/// the number after `exit ` in the command, if any.
#[derive(Default)]
struct FakeExecutor {
    runs: AtomicUsize,
}

impl Executor for FakeExecutor {
    fn run(&self, request: RunRequest<'_>) -> Result<RunOutcome, String> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let line = request.args.last().cloned().unwrap_or_default();
        let env: Vec<&String> = request
            .env
            .iter()
            .filter(|e| !e.starts_with("PATH="))
            .collect();
        writeln!(request.output, "running {line}").unwrap();
        if let Some(code) = line.strip_prefix("exit ") {
            return Ok(RunOutcome {
                exit_code: code.trim().parse().unwrap(),
            });
        }
        let name = line
            .split_whitespace()
            .last()
            .unwrap_or("ran")
            .replace('/', "_");
        std::fs::write(request.rootfs.upper.join(name), format!("{line} {env:?}\n")).unwrap();
        Ok(RunOutcome { exit_code: 0 })
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<BuildEvent>>);

impl Reporter for Events {
    fn event(&self, event: BuildEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    fn misses(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                BuildEvent::Miss { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }
    fn cached(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, BuildEvent::Cached { .. }))
            .count()
    }
}

fn options(context: &Path, dockerfile: &str, build_args: &[(&str, &str)]) -> BuildOptions {
    BuildOptions {
        dockerfile: parse(dockerfile.as_bytes()).unwrap(),
        dockerfile_name: "Dockerfile".into(),
        context: context.to_path_buf(),
        dockerfile_path: None,
        resolve: ResolveOptions {
            build_args: build_args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            target: None,
            target_platform: Platform::new("linux", "amd64", ""),
            build_platform: Platform::new("linux", "amd64", ""),
        },
        tags: Vec::new(),
        labels: BTreeMap::new(),
        no_cache: false,
        network: Network::Host,
        source_date_epoch: Some(0),
        layer: LayerOptions::default(),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    context: std::path::PathBuf,
    executor: FakeExecutor,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let context = dir.path().join("ctx");
    std::fs::create_dir_all(context.join("src")).unwrap();
    std::fs::write(context.join("go.mod"), "module x\n").unwrap();
    std::fs::write(context.join("src/main.go"), "package main\n").unwrap();
    std::fs::write(context.join("README"), "not copied\n").unwrap();
    Fixture {
        _dir: dir,
        store,
        context,
        executor: FakeExecutor::default(),
    }
}

impl Fixture {
    fn build(&self, dockerfile: &str, args: &[(&str, &str)]) -> (keel_store::ImageRecord, Events) {
        self.build_with(options(&self.context, dockerfile, args))
    }
    fn build_with(&self, options: BuildOptions) -> (keel_store::ImageRecord, Events) {
        let events = Events::default();
        let images = LocalImages::new(self.store.clone());
        let ports = Ports {
            executor: &self.executor,
            images: &images,
        };
        let record = build(&self.store, &options, &ports, &events).unwrap();
        (record, events)
    }
    fn runs(&self) -> usize {
        self.executor.runs.load(Ordering::SeqCst)
    }
    fn config(&self, record: &keel_store::ImageRecord) -> ImageConfig {
        ImageConfig::from_slice(&self.store.read_blob(&record.config).unwrap()).unwrap()
    }
}

const GO_LIKE: &str = "FROM scratch AS builder
WORKDIR /src
ARG VERSION=1
COPY go.mod ./
RUN download
COPY src/ ./
RUN build $VERSION
FROM scratch
WORKDIR /app
COPY --from=builder /src/ ./
EXPOSE 8081
CMD [\"/app/server\"]
";

#[test]
fn first_build_then_noop_rebuild_is_all_cached() {
    let f = fixture();
    let (first, events) = f.build(GO_LIKE, &[]);
    assert_eq!(f.runs(), 2);
    assert!(
        events.misses().iter().all(|m| m == "not built before"),
        "{:?}",
        events.misses()
    );
    let config = f.config(&first);
    assert_eq!(config.config.cmd, ["/app/server"]);
    assert_eq!(config.config.working_dir, "/app");
    assert!(config.config.exposed_ports.contains_key("8081/tcp"));
    let created_by: Vec<&str> = config
        .history
        .iter()
        .map(|h| h.created_by.as_str())
        .collect();
    assert_eq!(
        created_by,
        [
            "WORKDIR /app",
            "COPY /src/ ./ # buildkit",
            "EXPOSE map[8081/tcp:{}]",
            "CMD [\"/app/server\"]"
        ]
    );

    let (second, events) = f.build(GO_LIKE, &[]);
    assert_eq!(f.runs(), 2, "nothing runs again");
    assert_eq!(events.cached(), 7);
    assert_eq!(second.id, first.id, "same inputs, same image");
}

#[test]
fn a_change_invalidates_that_step_and_later_ones_and_says_why() {
    let f = fixture();
    f.build(GO_LIKE, &[]);
    // A file no COPY selects: still a full hit.
    std::fs::write(f.context.join("README"), "changed\n").unwrap();
    let (_, events) = f.build(GO_LIKE, &[]);
    assert!(events.misses().is_empty(), "{:?}", events.misses());

    std::fs::write(f.context.join("src/main.go"), "package main // v2\n").unwrap();
    let (_, events) = f.build(GO_LIKE, &[]);
    assert_eq!(f.runs(), 3, "only the build RUN runs again");
    let misses = events.misses();
    assert_eq!(misses[0], "1 file changed: main.go (content)");
    assert_eq!(misses[1], "an earlier step changed");

    let (_, events) = f.build(GO_LIKE, &[("VERSION", "2")]);
    assert_eq!(events.misses()[0], "build arg VERSION changed");
}

#[test]
fn failing_run_reports_exit_code_and_output() {
    let f = fixture();
    let events = Events::default();
    let images = LocalImages::new(f.store.clone());
    let ports = Ports {
        executor: &f.executor,
        images: &images,
    };
    let err = build(
        &f.store,
        &options(&f.context, "FROM scratch\nRUN exit 3\n", &[]),
        &ports,
        &events,
    )
    .unwrap_err();
    match err {
        keel_build::Error::RunFailed {
            exit_code, tail, ..
        } => {
            assert_eq!(exit_code, 3);
            assert_eq!(tail, ["running exit 3"]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn same_inputs_on_two_stores_give_the_same_digest() {
    let a = fixture();
    let b = fixture();
    let (ia, _) = a.build(GO_LIKE, &[]);
    let (ib, _) = b.build(GO_LIKE, &[]);
    assert_eq!(ia.id, ib.id);
    assert_eq!(ia.manifest, ib.manifest);
}

/// Issue 4: layers are compressed on every core, and the digests must not depend on how many
/// there are. The copied file spans several of the compressor's 1 MiB blocks.
#[test]
fn layer_digests_do_not_depend_on_compression_threads() {
    let digests: Vec<_> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let f = fixture();
            // Six random bits per byte: compresses a little, never to nothing.
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let big: Vec<u8> = (0..3_500_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x as u8 & 0x3f) | 0x20
                })
                .collect();
            std::fs::write(f.context.join("src/big.bin"), big).unwrap();
            let mut opts = options(&f.context, "FROM scratch\nCOPY src/ /src/\n", &[]);
            opts.layer.compression = CompressOptions::ParallelGzip {
                level: LAYER_GZIP_LEVEL,
                threads,
            };
            let (record, _) = f.build_with(opts);
            let manifest: serde_json::Value =
                serde_json::from_slice(&f.store.read_blob(&record.manifest).unwrap()).unwrap();
            let layer = &manifest["layers"][0];
            assert_eq!(
                layer["mediaType"],
                "application/vnd.oci.image.layer.v1.tar+gzip"
            );
            assert!(layer["size"].as_u64().unwrap() > 2 << 20, "{layer}");
            (record.id, record.manifest)
        })
        .collect();
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[0], digests[2]);
}

#[test]
fn target_builds_only_what_it_needs() {
    let f = fixture();
    let mut opts = options(&f.context, GO_LIKE, &[]);
    opts.resolve.target = Some("builder".into());
    let images = LocalImages::new(f.store.clone());
    let ports = Ports {
        executor: &f.executor,
        images: &images,
    };
    let events = Events::default();
    let record = build(&f.store, &opts, &ports, &events).unwrap();
    let config = f.config(&record);
    assert_eq!(config.config.working_dir, "/src");
    assert!(config.config.cmd.is_empty());
}

#[test]
fn missing_base_image_says_what_to_do() {
    let f = fixture();
    let images = LocalImages::new(f.store.clone());
    let ports = Ports {
        executor: &f.executor,
        images: &images,
    };
    let err = build(
        &f.store,
        &options(&f.context, "FROM golang:1.22\n", &[]),
        &ports,
        &keel_build::NoReporter,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("keel import"), "{err}");
}

/// Two RUNs that each wait (up to 5 s) for the other to start: they meet only if their stages
/// run at the same time.
#[derive(Default)]
struct MeetingExecutor {
    arrived: Mutex<usize>,
    cond: std::sync::Condvar,
    met: AtomicUsize,
}

impl Executor for MeetingExecutor {
    fn run(&self, request: RunRequest<'_>) -> Result<RunOutcome, String> {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.cond.notify_all();
        let (arrived, timeout) = self
            .cond
            .wait_timeout_while(arrived, std::time::Duration::from_secs(5), |n| *n < 2)
            .unwrap();
        if !timeout.timed_out() {
            self.met.fetch_add(1, Ordering::SeqCst);
        }
        drop(arrived);
        let name = request.args.last().cloned().unwrap_or_default();
        std::fs::write(request.rootfs.upper.join(name), "x").unwrap();
        Ok(RunOutcome { exit_code: 0 })
    }
}

#[test]
fn independent_stages_build_in_parallel() {
    let f = fixture();
    let dockerfile = "FROM scratch AS a\nRUN a\nFROM scratch AS b\nRUN b\nFROM scratch\nCOPY --from=a /a /\nCOPY --from=b /b /\n";
    let executor = MeetingExecutor::default();
    let images = LocalImages::new(f.store.clone());
    let ports = Ports {
        executor: &executor,
        images: &images,
    };
    build(
        &f.store,
        &options(&f.context, dockerfile, &[]),
        &ports,
        &keel_build::NoReporter,
    )
    .unwrap();
    assert_eq!(
        executor.met.load(Ordering::SeqCst),
        2,
        "both RUNs were running at once"
    );
}
