//! The sparse solver fits the model linfa-logistic fits on the same (densified) matrix.

use stance::fixture::fixture_corpus;
use stance::heads::fit::Solver;
use stance::heads::{FitParams, HeadSpec, fit_head};
use stance::predict::Analyzer;

#[test]
fn sparse_and_dense_solvers_fit_the_same_model_on_the_fixture() {
    let corpus = fixture_corpus(&Analyzer::new());
    let featurizer = stance::features::FeatureParams::default()
        .fit(&corpus.tokens)
        .unwrap();
    let vectors: Vec<_> = corpus
        .tokens
        .iter()
        .map(|t| featurizer.transform(t))
        .collect();
    let rows: Vec<_> = vectors.iter().collect();

    for (h, spec) in corpus.heads.iter().enumerate() {
        let targets: Vec<usize> = corpus.targets.iter().map(|t| t[h].unwrap()).collect();
        let spec = HeadSpec { ..spec.clone() };
        let fit = |solver| {
            let params = FitParams {
                solver,
                ..FitParams::default()
            };
            fit_head(
                &spec,
                &rows,
                &targets,
                featurizer.dimension(),
                &params,
                |_| {},
            )
            .unwrap()
        };
        let dense = fit(Solver::Dense);
        let sparse = fit(Solver::Sparse);
        let mut worst = 0f32;
        for row in &vectors {
            let d = dense.head.probabilities(row);
            let s = sparse.head.probabilities(row);
            worst = d
                .iter()
                .zip(&s)
                .map(|(a, b)| (a - b).abs())
                .fold(worst, f32::max);
        }
        assert!(
            worst < 1e-3,
            "head {}: probabilities differ by up to {worst}",
            spec.name
        );
    }
}
