//! The build engine: plan, cache, execution behind ports; no root, no network in this crate.
//!
//! Must not: print (only `tracing`), mount, spawn processes, use the network, or depend on
//! keel-runtime or keel-registry (those are adapters behind ports, wired in the `keel` binary).
//!
//! Entry points: [`context`]: the build context of `keel build`: which files the
//! `.dockerignore` hides ([`context::Matcher`]), what a COPY/ADD source list selects
//! ([`context::BuildContext::select`]), the content digest of a selection
//! ([`context::hash_selection`]) with a persistent [`context::StatCache`], and the text that
//! explains a cache miss ([`context::diff`]).

pub mod context;
