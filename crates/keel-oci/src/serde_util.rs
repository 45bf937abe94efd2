//! Small serde helpers for reading JSON written by Go programs.

use serde::{Deserialize, Deserializer};

/// Read `null` as the type's empty value. Go writes a nil slice or map without `omitempty` as
/// `null` (docker's `"Cmd": null`, `"RepoTags": null`), where keel's types use empty
/// collections.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// For `skip_serializing_if`: Go's `omitempty` on an integer.
pub(crate) fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// For `skip_serializing_if`: Go's `omitempty` on a bool.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
