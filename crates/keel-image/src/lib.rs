//! Image operations over keel's store, the layer between the store (blobs, records, tags) and the
//! commands users type: resolving what a user names (`busybox`, `a416a98b`, `app@sha256:…`),
//! committing a new image (config + manifest + record), `import` of a root filesystem tar,
//! `save`/`load` of docker and OCI archives, `rmi`/`prune` semantics, and the Dockerfile
//! instructions that change a config (`import --change`, later the build's metadata steps).
//!
//! Does not print, mount, or use the network: readers and writers come from the caller, and
//! results come back as values ([`LoadedImage`], [`RemoveEvent`]...).
//!
//! Everything that writes holds a store lease from the first blob to the image record, so a
//! concurrent `gc` never takes half-written content, and a killed process leaves only
//! unreferenced blobs that the next `gc` removes.

mod change;
mod commit;
mod error;
mod import;
mod load;
mod name;
mod remove;
mod save;

pub use change::{
    apply_change, apply_changes, apply_instruction, expose_ports, join_workdir, ApplyState,
    CHANGE_INSTRUCTIONS,
};
pub use commit::{commit_image, layer_record, NewImage};
pub use error::{Error, Result};
pub use import::{import, ImportOptions};
pub use load::{load, LoadOptions, LoadedImage};
pub use name::{resolve, Lookup, Resolved};
pub use remove::{prune, remove, RemoveEvent, RemoveOptions};
pub use save::{save, SaveOptions};
