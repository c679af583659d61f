//! Evaluation metrics: accuracy, macro-F1, per-class precision / recall / F1 / support, and the
//! confusion matrix, with aligned text tables for people and serde for manifests.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Precision, recall, F1 and support of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The label.
    pub label: String,
    /// Of the rows predicted as this label, the share that is right.
    pub precision: f64,
    /// Of the rows with this label, the share found.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows with this label.
    pub support: usize,
}

/// Metrics of one head on one labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMetrics {
    /// Rows evaluated.
    pub rows: usize,
    /// Share of rows predicted right.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1.
    pub macro_f1: f64,
    /// One entry per label, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` row counts, in label order.
    pub confusion: Vec<Vec<usize>>,
}

impl HeadMetrics {
    /// Computes the metrics from true and predicted label indices into `labels`.
    pub fn compute(labels: &[String], truth: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(truth.len(), predicted.len(), "one prediction per row");
        let n = labels.len();
        let mut confusion = vec![vec![0usize; n]; n];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let correct: usize = (0..n).map(|i| confusion[i][i]).sum();
        let per_class: Vec<ClassMetrics> = (0..n)
            .map(|i| {
                let support: usize = confusion[i].iter().sum();
                let predicted_as: usize = confusion.iter().map(|row| row[i]).sum();
                let hit = confusion[i][i] as f64;
                let precision = ratio(hit, predicted_as as f64);
                let recall = ratio(hit, support as f64);
                ClassMetrics {
                    label: labels[i].clone(),
                    precision,
                    recall,
                    f1: ratio(2.0 * precision * recall, precision + recall),
                    support,
                }
            })
            .collect();
        let macro_f1 = per_class.iter().map(|c| c.f1).sum::<f64>() / n.max(1) as f64;
        Self {
            rows: truth.len(),
            accuracy: ratio(correct as f64, truth.len() as f64),
            macro_f1,
            per_class,
            confusion,
        }
    }

    /// The per-class table and the confusion matrix, aligned for a terminal.
    pub fn render(&self, head: &str) -> String {
        let width = self
            .per_class
            .iter()
            .map(|c| display_width(&c.label))
            .max()
            .unwrap_or(5)
            .max(9);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{head}: accuracy {:.4}  macro-F1 {:.4}  ({} rows)",
            self.accuracy, self.macro_f1, self.rows
        );
        let _ = writeln!(
            out,
            "  {}  precision  recall      f1  support",
            pad("label", width)
        );
        for c in &self.per_class {
            let _ = writeln!(
                out,
                "  {}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
                pad(&c.label, width),
                c.precision,
                c.recall,
                c.f1,
                c.support
            );
        }
        let cell = self
            .per_class
            .iter()
            .map(|c| display_width(&c.label))
            .chain(std::iter::once(5))
            .max()
            .unwrap_or(5);
        let _ = write!(
            out,
            "  confusion (rows = true, columns = predicted)\n  {}",
            pad("", width)
        );
        for c in &self.per_class {
            let _ = write!(out, "  {:>cell$}", c.label);
        }
        out.push('\n');
        for (c, row) in self.per_class.iter().zip(&self.confusion) {
            let _ = write!(out, "  {}", pad(&c.label, width));
            for count in row {
                let _ = write!(out, "  {count:>cell$}");
            }
            out.push('\n');
        }
        out
    }
}

/// Mean and standard deviation of a head's metrics over cross-validation folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// Accuracy of each fold.
    pub accuracy: Vec<f64>,
    /// Macro-F1 of each fold.
    pub macro_f1: Vec<f64>,
}

impl CrossValidation {
    /// Mean and sample standard deviation of `values`.
    pub fn mean_std(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        (mean, var.sqrt())
    }

    /// One line: `stance: 5-fold accuracy 0.8123 ± 0.0101, macro-F1 0.8000 ± 0.0120`.
    pub fn render(&self, head: &str) -> String {
        let (acc, acc_sd) = Self::mean_std(&self.accuracy);
        let (f1, f1_sd) = Self::mean_std(&self.macro_f1);
        format!(
            "{head}: {}-fold accuracy {acc:.4} ± {acc_sd:.4}, macro-F1 {f1:.4} ± {f1_sd:.4}",
            self.folds
        )
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// Terminal width of `s`: CJK characters take two columns.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if c as u32 >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_count() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let truth = [0, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 2, 2];
        let m = HeadMetrics::compute(&labels, &truth, &predicted);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
        assert!((m.per_class[0].precision - 1.0).abs() < 1e-12);
        assert!((m.per_class[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[1].f1 - 0.5).abs() < 1e-12);
        let f1_c = 2.0 * 0.5 * 1.0 / 1.5;
        let macro_f1 = (0.8 + 0.5 + f1_c) / 3.0;
        assert!((m.macro_f1 - macro_f1).abs() < 1e-12);
        let table = m.render("stance");
        assert!(
            table.contains("stance: accuracy 0.6667  macro-F1"),
            "{table}"
        );
    }

    #[test]
    fn cross_validation_summary() {
        let cv = CrossValidation {
            folds: 2,
            accuracy: vec![0.8, 0.9],
            macro_f1: vec![0.7, 0.7],
        };
        assert_eq!(
            cv.render("topic"),
            "topic: 2-fold accuracy 0.8500 ± 0.0707, macro-F1 0.7000 ± 0.0000"
        );
    }
}
