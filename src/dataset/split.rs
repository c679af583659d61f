//! Seeded, stratified splits: a hold-out set and k folds for cross-validation.
//!
//! Rows are grouped by stratum (e.g. the joined labels of all heads), each group is shuffled
//! with a ChaCha8 generator from the seed, and rows are dealt out so every stratum is spread
//! in proportion. The same strata and seed always give the same split.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Row indices grouped by stratum, each group shuffled.
fn shuffled_groups(strata: &[String], seed: u64) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, stratum) in strata.iter().enumerate() {
        groups.entry(stratum).or_default().push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    groups
        .into_values()
        .map(|mut rows| {
            rows.shuffle(&mut rng);
            rows
        })
        .collect()
}

/// Splits rows into `(train, test)` with about `fraction` of every stratum in `test`
/// (rounded, and at least one row of any stratum with two or more rows). Indices are sorted.
pub fn stratified_holdout(strata: &[String], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for rows in shuffled_groups(strata, seed) {
        let mut n_test = (rows.len() as f64 * fraction).round() as usize;
        if n_test == 0 && rows.len() >= 2 && fraction > 0.0 {
            n_test = 1;
        }
        n_test = n_test.min(rows.len().saturating_sub(1));
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Deals rows into `k` folds, every stratum spread round-robin. Each fold's indices are sorted.
pub fn stratified_folds(strata: &[String], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for rows in shuffled_groups(strata, seed) {
        for row in rows {
            folds[next % k].push(row);
            next += 1;
        }
    }
    folds.iter_mut().for_each(|fold| fold.sort_unstable());
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strata() -> Vec<String> {
        (0..100)
            .map(|i| if i < 80 { "a" } else { "b" }.to_string())
            .collect()
    }

    #[test]
    fn holdout_keeps_proportions_and_is_reproducible() {
        let (train, test) = stratified_holdout(&strata(), 0.2, 7);
        assert_eq!(test.len(), 20);
        assert_eq!(train.len(), 80);
        assert_eq!(test.iter().filter(|&&i| i >= 80).count(), 4);
        assert_eq!(
            stratified_holdout(&strata(), 0.2, 7),
            (train.clone(), test.clone())
        );
        assert_ne!(stratified_holdout(&strata(), 0.2, 8).1, test);
    }

    #[test]
    fn folds_partition_the_rows_evenly() {
        let folds = stratified_folds(&strata(), 5, 1);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for fold in &folds {
            assert_eq!(fold.len(), 20);
            assert_eq!(fold.iter().filter(|&&i| i >= 80).count(), 4);
        }
    }
}
