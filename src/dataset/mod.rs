//! Labelled training data: reading files ([`reader`]) and splitting rows ([`split`]).

pub mod reader;
pub mod split;

pub use reader::{
    DataFormat, DatasetError, Example, ReadOptions, ReadReport, RowError, read_labelled,
    read_labelled_from,
};
pub use split::{stratified_folds, stratified_holdout};
