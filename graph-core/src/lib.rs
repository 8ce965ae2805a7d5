//! ctrlgraph's property-graph model and the graph algorithms that need nothing but the graph.
//!
//! - [`model`]: the records of the dataset contract as typed values.
//! - [`graph`]: the interned property graph, built with petgraph and frozen into CSR views.
//! - [`stats`]: counts, degree extremes and identifier hubs.
//!
//! Architecture invariant: this crate does no I/O, is not async, and knows nothing of CSV,
//! storage, GraphQL or Neo4j. Everything here is a pure function of its inputs.

pub mod graph;
pub mod model;
pub mod stats;

pub use graph::{
    Adjacent, Edge, EdgeData, EdgeId, EdgeKind, GraphBuilder, MemoryUse, NodeData, NodeId,
    NodeKind, PropertyGraph, SubjectKeys, Unresolved,
};
pub use stats::GraphStats;
