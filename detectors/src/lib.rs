//! ctrlgraph's detectors: who controls what, which accounts are linked by what evidence, and which
//! groups of accounts are suspected to be under one control.
//!
//! - [`resolution`]: person and company records of one real subject joined into one node.
//! - [`control`]: recursive majority control, look-through ownership, ultimate controllers.
//! - [`behaviour`]: synchronised trading, wash trades and matched trades from the trade tape.
//! - [`evidence`]: links between accounts, each signal coded by criterion C1–C8 and weighted.
//! - [`embed`]: FastRP relationship embeddings and similar-account search.
//! - [`cluster`]: community detection and embedding-aware splitting.
//! - [`components`]: connected components by union-find.
//! - [`groups`]: suspected groups from links and embeddings, scored, explained, with stable ids.
//! - [`flows`]: identical-amount fund-flow structures (cycles, fan-in, fan-out, chains).
//! - [`surveillance`]: group positions, opening, self-trades and cancellations against the limits,
//!   and overdue, partial and stale reports.
//! - [`analysis`]: one run of every stage, timed, converted to stored results.
//! - [`eval`]: pairwise and group metrics against a ground truth, and the naive baseline.
//!
//! Architecture invariant: detectors read a [`graph_core::PropertyGraph`] and plain inputs (trades,
//! reported groups) and return plain results; they never touch files, databases or HTTP.

pub mod analysis;
pub mod behaviour;
pub mod cluster;
pub mod components;
pub mod control;
pub mod embed;
pub mod eval;
pub mod evidence;
pub mod flows;
pub mod groups;
pub mod resolution;
pub mod results;
pub mod surveillance;
