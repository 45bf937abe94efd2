//! Base images from keel's store (the `ImageSource` for local images). Pulling from a registry
//! comes with the registry issue, behind the same trait.

use keel_oci::{ImageConfig, Platform};
use keel_store::Store;

use crate::ports::{BaseImage, ImageSource};

/// Resolves `FROM` references against the images in the store.
pub struct LocalImages {
    store: Store,
}

impl LocalImages {
    pub fn new(store: Store) -> LocalImages {
        LocalImages { store }
    }
}

impl ImageSource for LocalImages {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<BaseImage, String> {
        let meta = self.store.meta().map_err(|e| e.to_string())?;
        let resolved = keel_image::resolve(&meta, reference).map_err(|e| {
            format!(
                "{e}: base image {reference} is not in keel's store (pulling arrives with registry support); \
                 add it with `keel import` or `keel load`"
            )
        })?;
        let record = meta
            .images
            .get(&resolved.id)
            .ok_or_else(|| format!("No such image: {reference}"))?;
        let bytes = self
            .store
            .read_blob(&record.config)
            .map_err(|e| e.to_string())?;
        let config = ImageConfig::from_slice(&bytes).map_err(|e| e.to_string())?;
        let have = config.platform();
        if !have.os.is_empty() && !have.matches(platform) {
            tracing::warn!(%reference, image = %have, wanted = %platform, "base image platform differs");
        }
        Ok(BaseImage {
            reference: reference.to_owned(),
            id: record.id.clone(),
            config,
            layers: record.layers.clone(),
        })
    }
}
