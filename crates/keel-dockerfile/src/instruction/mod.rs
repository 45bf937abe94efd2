//! Nodes → typed [`Instruction`]s (to be written).
