//! Layer tars for keel: apply a layer to a directory safely, scan one without writing, and write a
//! directory as a deterministic layer; plus the compressions layers come in.
//!
//! Must not: follow a symlink out of the root it writes in, print, touch the network, or know about
//! images and stores (callers pass readers, writers and directories; digests come back).
//!
//! Entry points:
//! - [`apply_layer`] with [`ApplyOptions`] ([`WhiteoutMode::Flatten`] to build a merged rootfs,
//!   [`WhiteoutMode::Overlay`] for overlay lower directories): returns [`ApplyStats`] with the
//!   diffID computed while reading.
//! - [`scan_layer`]: diffID, size and entry count of a tar, every name validated (import, load).
//! - [`write_layer`] with [`WriteOptions`]: a reproducible PAX tar of a directory.
//! - [`decompress`] (detects gzip, zstd, xz, bzip2 by magic bytes) and [`compress`]
//!   (deterministic gzip, single-threaded or parallel, and multithreaded zstd).

mod apply;
mod compression;
mod error;
mod name;
mod parallel_gzip;
mod resolve;
mod scan;
mod stream;
mod write;

pub use apply::{apply_layer, ApplyOptions, ApplyStats, Warning, WhiteoutMode};
pub use compression::{
    compress, decompress, decompress_as, CompressOptions, CompressWriter, Compression,
    DecompressReader, LAYER_GZIP_LEVEL, MAGIC_LEN,
};
pub use error::{Error, Result};
pub use name::{OPAQUE_MARKER, WHITEOUT_PREFIX};
pub use scan::{scan_layer, ScanStats};
pub use stream::without_raw_bytes;
pub use write::{write_layer, WriteOptions, WriteStats};
