//! keel's build engine: a parsed Dockerfile and a context directory become an image in the
//! store, one layer per filesystem-changing step, with a content-addressed layer cache whose
//! misses explain themselves.
//!
//! Does not print, need root, or touch the network: processes run through the [`Executor`]
//! port and base images come through the [`ImageSource`] port; the binary wires keel-runtime
//! and the store (later a registry) into them. Entry point: [`build`].
//!
//! Flow: `keel_dockerfile::resolve` (stages the target needs, in order) → per stage
//! ([`stage`]): the base, then each instruction: metadata instructions change the config;
//! RUN, COPY, ADD and WORKDIR are steps with a cache key ([`cache`]); a hit reuses the layer,
//! a miss says why ([`explain`]) and runs the step into a new overlay upper directory that
//! becomes the layer and its snapshot ([`layer`]). The target stage is committed as an image.

pub mod base;
pub mod build;
pub mod cache;
pub mod context;
pub mod copy_step;
pub mod error;
pub mod explain;
pub mod history;
pub mod layer;
pub mod owner;
pub mod ports;
pub mod reporter;
pub mod run_step;
pub mod stage;
pub mod view;

pub use base::LocalImages;
pub use build::{build, BuildOptions, Ports};
pub use error::{Error, Result};
pub use layer::LayerOptions;
pub use ports::{BaseImage, Executor, ImageSource, Network, Rootfs, RunOutcome, RunRequest};
pub use reporter::{BuildEvent, NoReporter, Reporter};
