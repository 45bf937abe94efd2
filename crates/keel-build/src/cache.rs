//! The layer cache: a key per step computed from everything the step's result depends on, the
//! step's layer stored under that key, and the key's inputs kept beside it so that a miss can
//! say what changed.
//!
//! `key = sha256(canonical JSON of CacheKeyInput)`. The input names the parent step's key (so a
//! change invalidates that step and every later one), the instruction after expansion, the
//! environment, build args, working directory, user and shell the step sees, the network, the
//! platform, and the digest of exactly the files a COPY/ADD selects. Nothing display-only goes
//! in. Change `SCHEMA` whenever the meaning of any field changes: old records then never match.

use std::collections::BTreeMap;

use keel_oci::Digest;
use keel_store::{LayerRecord, Store};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ports::Network;

/// Version of the key format.
pub const SCHEMA: u32 = 1;

/// What a step's result depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDef {
    /// The instruction after expansion, as history shows it (`RUN /bin/sh -c make`).
    pub instruction: String,
    pub env: Vec<String>,
    /// Build args the step sees (declared by ARG in the stage, or proxy args).
    pub args: BTreeMap<String, String>,
    pub workdir: String,
    pub user: String,
    pub shell: Vec<String>,
    pub network: Option<Network>,
    pub platform: String,
    /// The image or stage result a `COPY --from` reads.
    pub from: Option<Digest>,
}

/// The whole input of a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKeyInput {
    pub schema: u32,
    /// The previous step's key; for a stage's first step, the base's identity instead.
    pub parent: Option<Digest>,
    /// `image sha256:…`, `scratch`, or `stage <key>`: what the stage starts from.
    pub base: String,
    pub step: StepDef,
    /// Digest of the files a COPY/ADD selects.
    pub content: Option<Digest>,
}

impl CacheKeyInput {
    pub fn key(&self) -> Digest {
        let bytes =
            keel_oci::canonical_json::to_vec(self).expect("cache key inputs have string keys only");
        Digest::sha256_of(&bytes)
    }
}

/// What the cache keeps for a step that made a layer (or made none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedStep {
    pub input: CacheKeyInput,
    /// `None`: the step changed no file.
    pub layer: Option<LayerRecord>,
}

/// Look up a step's result. A record whose layer blob or snapshot has gone (pruned) is a miss.
pub fn lookup(store: &Store, key: &Digest) -> Result<Option<CachedStep>> {
    let Some(record) = store.get_cache_record(key)? else {
        return Ok(None);
    };
    let Ok(step) = serde_json::from_value::<CachedStep>(record.value) else {
        return Ok(None);
    };
    if let Some(layer) = &step.layer {
        if !store.has_blob(&layer.digest)? || !store.snapshot_exists(&layer.diff_id)? {
            return Ok(None);
        }
    }
    Ok(Some(step))
}

/// Record a step's result under its key.
pub fn save(store: &Store, key: &Digest, step: &CachedStep) -> Result<()> {
    let (refs, snapshots) = match &step.layer {
        Some(l) => (vec![l.digest.clone()], vec![l.diff_id.clone()]),
        None => (Vec::new(), Vec::new()),
    };
    let value = serde_json::to_value(step).expect("a cached step serializes");
    store.put_cache_record(key, value, &refs, &snapshots)?;
    Ok(())
}

/// The last build of a step, for explaining the next miss: the key input it had and, for a
/// COPY/ADD, the digest of each file it selected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBuild {
    pub input: Option<CacheKeyInput>,
    #[serde(default)]
    pub files: BTreeMap<String, crate::context::EntryDigest>,
}

/// Where the last build of a step is kept: keyed by the step's place (context, Dockerfile,
/// stage, position), not by its content, so that the next build finds it after a change.
pub fn place_key(place: &str) -> Digest {
    Digest::sha256_of(format!("keel-build last-build v{SCHEMA}\0{place}").as_bytes())
}

pub fn last_build(store: &Store, place: &str) -> Result<LastBuild> {
    let Some(record) = store.get_cache_record(&place_key(place))? else {
        return Ok(LastBuild::default());
    };
    let last = match record.value {
        serde_json::Value::String(text) => serde_json::from_str(&text).ok(),
        // Written as a JSON object by earlier versions.
        value => serde_json::from_value(value).ok(),
    };
    Ok(last.unwrap_or_default())
}

/// Kept as one JSON string inside the record: as a `serde_json::Value` tree, the digests of a
/// 20,000-file `COPY . .` took 13 MB (a map per file), the peak of the whole build
/// (docs/benchmarks.md, "Build").
pub fn save_last_build(store: &Store, place: &str, last: &LastBuild) -> Result<()> {
    let text = serde_json::to_string(last).expect("a last-build record serializes");
    store.put_cache_record(&place_key(place), serde_json::Value::String(text), &[], &[])?;
    Ok(())
}
