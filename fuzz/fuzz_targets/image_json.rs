//! Any bytes: configs, manifests and indexes are read or rejected without panicking, and once
//! read their canonical bytes are a fixed point (read back, written again, same bytes).
#![no_main]

use keel_oci::{ImageConfig, ImageIndex, ImageManifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = ImageConfig::from_slice(data) {
        let bytes = c.to_canonical_bytes();
        let again = ImageConfig::from_slice(&bytes).expect("canonical config reads back");
        assert_eq!(again.to_canonical_bytes(), bytes);
    }
    if let Ok(m) = ImageManifest::from_slice(data) {
        let bytes = m.to_canonical_bytes();
        let again = ImageManifest::from_slice(&bytes).expect("canonical manifest reads back");
        assert_eq!(again.to_canonical_bytes(), bytes);
    }
    if let Ok(i) = ImageIndex::from_slice(data) {
        let bytes = i.to_canonical_bytes();
        let again = ImageIndex::from_slice(&bytes).expect("canonical index reads back");
        assert_eq!(again.to_canonical_bytes(), bytes);
    }
});
