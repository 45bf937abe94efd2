//! Leaf OCI types shared by every keel crate. No I/O.
//!
//! Now: [`Digest`] (validated, path-safe), [`Platform`]. Descriptors, media types, image
//! references and the image config/manifest/index model join with the image store.

mod digest;
mod platform;

pub use digest::{hex, Digest, DigestError, Sha256Writer};
pub use platform::{Platform, PlatformError};
