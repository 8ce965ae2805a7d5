//! ctrlgraph's detectors: who controls what, which accounts are linked by what evidence, and which
//! groups of accounts are suspected to be under one control.
//!
//! Architecture invariant: detectors read a [`graph_core::PropertyGraph`] and plain inputs (trades,
//! reported groups) and return plain results; they never touch files, databases or HTTP.

pub mod behaviour;
pub mod cluster;
pub mod control;
pub mod embed;
