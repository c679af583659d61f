//! Stance and topic classification of Chinese-language news paragraphs.
//!
//! The modules follow the data flow, one stage each:
//!
//! text → [`normalize`] → [`tokenize`] → [`features`] → [`heads`] → [`predict`] → [`service`]
//!
//! Around that flow: [`dataset`] reads labelled training files, [`train`] fits a whole model,
//! [`evaluate`] measures it, and [`bundle`] writes and loads it as a directory on disk.

pub mod bundle;
pub mod cli;
pub mod dataset;
pub mod document;
pub mod evaluate;
pub mod features;
#[doc(hidden)]
pub mod fixture;
#[doc(hidden)]
pub mod fuzz;
pub mod heads;
pub mod normalize;
pub mod predict;
pub mod service;
pub mod tokenize;
pub mod train;

/// The gRPC types and service traits generated from `proto/stance/v1/stance.proto`.
pub mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("stance.v1");

    /// Encoded file descriptor set, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("stance_descriptor");
}
