//! Stage 4: model heads — one multinomial logistic model per labelled field.
//!
//! [`fit`] trains a head with linfa-logistic on a dense copy of the training rows; [`Head`]
//! keeps only the fitted weights and scores new paragraphs from their sparse vectors.

pub mod fit;
mod score;

pub use fit::{FitError, FitParams, FittedHead, HeadSpec, fit_head};
pub use score::{Contribution, Head};
