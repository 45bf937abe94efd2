//! Disk usage for `keel system df`: blobs by category (as the image records classify them),
//! snapshots and build cache records.

use std::collections::BTreeMap;

use keel_oci::Digest;

use crate::error::Result;
use crate::fsutil::list_dir;
use crate::store::Store;

/// A count of objects and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub count: u64,
    pub bytes: u64,
}

impl Usage {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes;
    }
}

/// What the store occupies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Number of image records.
    pub images: u64,
    /// Layer blobs of image records.
    pub layers: Usage,
    /// Config blobs of image records.
    pub configs: Usage,
    /// Manifest blobs of image records.
    pub manifests: Usage,
    /// Blobs no image record names (indexes, build cache content, garbage).
    pub other_blobs: Usage,
    /// Unpacked layers (apparent size).
    pub snapshots: Usage,
    /// Build cache record files.
    pub cache_records: Usage,
}

impl DiskUsage {
    /// Every byte counted above.
    pub fn total_bytes(&self) -> u64 {
        [
            self.layers,
            self.configs,
            self.manifests,
            self.other_blobs,
            self.snapshots,
            self.cache_records,
        ]
        .iter()
        .map(|u| u.bytes)
        .sum()
    }
}

#[derive(Clone, Copy)]
enum Category {
    Layer,
    Config,
    Manifest,
}

impl Store {
    /// Measure the store. Reads metadata and stats files; hashes nothing.
    pub fn df(&self) -> Result<DiskUsage> {
        let meta = self.meta()?;
        let mut category: BTreeMap<&Digest, Category> = BTreeMap::new();
        // Layer wins over config wins over manifest if one blob plays two parts.
        for record in meta.images.values() {
            category
                .entry(&record.manifest)
                .or_insert(Category::Manifest);
        }
        for record in meta.images.values() {
            category.insert(&record.config, Category::Config);
        }
        for record in meta.images.values() {
            for layer in &record.layers {
                category.insert(&layer.digest, Category::Layer);
            }
        }
        let mut usage = DiskUsage {
            images: meta.images.len() as u64,
            ..DiskUsage::default()
        };
        for digest in self.blobs()? {
            let Ok(size) = self.blob_size(&digest) else {
                continue; // removed meanwhile
            };
            match category.get(&digest) {
                Some(Category::Layer) => usage.layers.add(size),
                Some(Category::Config) => usage.configs.add(size),
                Some(Category::Manifest) => usage.manifests.add(size),
                None => usage.other_blobs.add(size),
            }
        }
        for snapshot in self.snapshots()? {
            usage.snapshots.add(snapshot.size);
        }
        for name in list_dir(&self.cache_dir())? {
            if let Ok(m) = fs_err::metadata(self.cache_dir().join(name)) {
                usage.cache_records.add(m.len());
            }
        }
        Ok(usage)
    }
}
