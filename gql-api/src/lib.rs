//! ctrlgraph's GraphQL API and its HTTP server.
//!
//! [`schema`] defines the API with async-graphql: subjects and their profiles (investor,
//! member, institution, market), suspected control groups as a Relay connection, traversal
//! detectors (ultimate controllers, ownership paths, linked accounts, the best explained
//! connection, neighbourhoods, similar accounts, wash trades) and reviews. [`server`] serves it
//! on axum with bearer-token roles, masking for viewers, depth, complexity, size and time
//! limits, and an audit log. Everything a request reads comes from one in-memory
//! [`snapshot::Snapshot`] of the analysed store.

pub mod audit;
pub mod auth;
pub mod error;
pub mod files;
pub mod limit;
pub mod mask;
pub mod schema;
pub mod server;
pub mod shape;
pub mod snapshot;
pub mod state;

pub use auth::{Role, Tokens};
pub use schema::{ApiSchema, Limits, sdl};
pub use server::{ServerConfig, serve};
pub use state::Shared;
