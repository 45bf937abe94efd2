//! keel's local image store: verified content-addressed blobs, image records and tags, leases,
//! unpacked-layer snapshots, build cache records, garbage collection and check/repair.
//!
//! It must be as trustworthy as a database: content is verified before it becomes visible, every
//! change is atomic and durable, concurrent keel processes coordinate through file locks, and a
//! SIGKILL at any instant leaves a consistent store (at worst some stale files, removed later).
//!
//! This crate is synchronous. It never mounts (it returns [`Mount`] plans), never prints (only
//! `tracing`), never touches the network, and does not interpret image formats beyond finding
//! descriptors in JSON blobs for gc.
//!
//! # On-disk layout
//!
//! ```text
//! <root>/                     mode 0700
//!   store.lock                flock: SHARED by every operation that adds data or references it;
//!                             EXCLUSIVE by gc, check and repair
//!   meta.lock                 flock: EXCLUSIVE around each read-modify-write of meta/images.json
//!   version                   layout version: "1"
//!   blobs/sha256/<hex>        immutable content (manifests, configs, layers), mode 0444,
//!                             verified before it gets its name
//!   ingest/<id>               partial blob writes, each flocked by its writer
//!   meta/images.json          image records and tags, replaced atomically
//!   leases/<id>.json          gc roots of work in progress, flocked by their owner
//!   snapshots/<diffid-hex>/   unpacked layers: fs/ and snapshot.json (written last)
//!   snapshots/.partial-<id>/  a snapshot being created; .del-<id>/ one being deleted
//!   cache/<key-hex>.json      build cache records (opaque value + the digests they need)
//!   containers/<id>/          reserved for containers; roots.json pins blobs and snapshots
//!   tmp/                      scratch for atomic writes and per-snapshot locks
//!   work/<id>/ + <id>.lock    build and container working dirs (overlay uppers), live while locked
//!   context-cache/            keel build's stat caches of build contexts (rebuilt when lost)
//! ```
//!
//! # Locks
//!
//! Lock order: `store.lock`, then `meta.lock` or a per-snapshot lock. Writers (ingest, put_bytes,
//! put_image, tag changes, lease creation and additions, snapshot creation, cache records) hold
//! `store.lock` SHARED for the duration of the write; gc, check and repair hold it EXCLUSIVE, so
//! they never observe a half-done write, and every file in `ingest/`, `tmp/` or a `.partial-`
//! directory they see is a leftover of a killed process. Readers of blobs and of
//! `images.json` take no lock (blobs are immutable, `images.json` is renamed into place).
//!
//! # gc roots
//!
//! Image records (their manifest, config, layer blobs and the snapshots of their diff IDs),
//! live leases, build cache records (unless dropped) and `containers/*/roots.json`; references
//! inside manifests and indexes are followed. See [`Store::gc`].
//!
//! # Entry points
//!
//! [`Store::open`] (or [`default_root`]); content: [`Store::ingest`], [`Store::put_bytes`],
//! [`Store::read_blob`]; images: [`Store::put_image`], [`Store::set_tag`], [`Store::images`],
//! [`Store::update_meta`]; [`Store::lease`]; snapshots: [`Store::create_snapshot`],
//! [`Store::mounts_for`]; [`Store::put_cache_record`]; [`Store::gc`]; [`Store::check`] and
//! [`Store::repair`]; [`Store::df`]. docs/store.md explains why each write order is crash-safe.

mod cache;
mod check;
mod content;
mod df;
mod error;
mod fsutil;
mod gc;
mod image;
mod lease;
mod lock;
mod meta;
mod mount;
mod snapshot;
mod stale;
mod store;
mod workspace;

pub use cache::CacheRecord;
pub use check::{CheckReport, Problem, RepairReport};
pub use content::{BlobInfo, BlobWriter};
pub use df::{DiskUsage, Usage};
pub use error::{Error, Result};
pub use gc::{GcOptions, GcReport};
pub use lease::{Lease, LeaseRecord};
pub use meta::{ImageRecord, LayerRecord, Meta, RemovedImage};
pub use mount::{Mount, UpperDir};
pub use snapshot::SnapshotInfo;
pub use stale::{StaleFile, StaleKind};
pub use store::{default_root, Store, LAYOUT_VERSION};
pub use workspace::Workspace;
