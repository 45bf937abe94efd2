//! Reading a layer tar without writing anything: its diffID, size and entry count, with every entry
//! checked as `apply_layer` would check it (names, link targets, whiteouts, entry types,
//! truncation). Used to verify `docker load` / import input before it reaches the store.

use std::io::{self, Read};

use keel_oci::Digest;

use crate::error::{Error, Result};
use crate::name;
use crate::stream::{self, CopyError};

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStats {
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub size: u64,
    /// Entries (extension headers not counted).
    pub entries: u64,
}

/// Scan the uncompressed layer tar read from `reader` (wrap blobs with [`crate::decompress`]).
pub fn scan_layer<R: Read>(reader: R) -> Result<ScanStats> {
    let mut buf = vec![0u8; 256 * 1024];
    let totals = stream::for_each_entry(reader, |meta, data, state| {
        name::role(&meta.name).map_err(|reason| Error::InvalidEntry {
            entry: meta.display(),
            reason,
        })?;
        // Read the data here rather than letting tar skip it, so a short entry is reported as
        // truncated with its name.
        match stream::copy_data(&meta, data, &mut io::sink(), &mut buf, state) {
            Ok(_) => Ok(()),
            Err(CopyError::Stream(e)) => Err(e),
            Err(CopyError::Write(_)) => unreachable!("io::sink never fails"),
        }
    })?;
    Ok(ScanStats {
        diff_id: totals.diff_id,
        size: totals.size,
        entries: totals.entries,
    })
}
