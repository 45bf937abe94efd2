//! Lint rules (to be written).
