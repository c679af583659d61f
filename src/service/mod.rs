//! Stage 6: the gRPC service — the product's front door.
//!
//! [`auth`] checks bearer tokens, [`connection`] closes connections without resetting peers, [`limits`] checks requests against the configured limits, [`state`] holds the current model
//! (swapped atomically on reload) and turns predictions into protobuf responses, [`grpc`]
//! implements `stance.v1.StanceClassifier`, and [`server`] wires it up with health, reflection,
//! signals and graceful shutdown.

pub mod auth;
pub mod connection;
pub mod grpc;
pub mod limits;
pub mod server;
pub mod state;

pub use auth::BearerToken;
pub use limits::Limits;
pub use server::{ServeConfig, TlsFiles, serve};
pub use state::ModelState;
