//! Leaf OCI types shared by every keel crate. No I/O.
//!
//! Now: [`Platform`]. Digests, descriptors and image references join as the store and registry
//! arrive.

mod platform;

pub use platform::{Platform, PlatformError};
