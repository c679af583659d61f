//! Stage 4: model heads — one multinomial logistic model per labelled field.
//!
//! [`fit`] trains a head, either with linfa-logistic on a dense copy of the training rows or with
//! the same objective and optimiser evaluated on the sparse rows; [`Head`]
//! keeps only the fitted weights and scores new paragraphs from their sparse vectors.

pub mod fit;
mod score;
mod sparse;

pub use fit::{FitError, FitParams, FittedHead, HeadSpec, fit_head};
pub use score::{Contribution, Head};
