//! Concentration of a distribution (stake, voice): the Gini coefficient and the Nakamoto
//! coefficient. Pure functions on amounts as `f64` (see [`crate::units::tokens_f64`]), shared by the
//! simulator's legitimacy metrics and the devnet report.

/// The smallest number of holders whose combined share exceeds half of the total (Nakamoto
/// coefficient at the 50% threshold). Zero for an empty or all-zero distribution.
///
/// ```
/// use verinfer_bindings::concentration::nakamoto;
/// assert_eq!(nakamoto(&[10.0, 10.0, 10.0, 10.0]), 3);
/// assert_eq!(nakamoto(&[60.0, 20.0, 20.0]), 1);
/// ```
pub fn nakamoto(values: &[f64]) -> usize {
    nakamoto_at(values, 0.5)
}

/// The smallest number of holders whose combined share strictly exceeds `threshold` of the total.
pub fn nakamoto_at(values: &[f64], threshold: f64) -> usize {
    let total: f64 = values.iter().filter(|v| **v > 0.0).sum();
    if total <= 0.0 {
        return 0;
    }
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut acc = 0.0;
    for (i, v) in sorted.iter().enumerate() {
        acc += v;
        if acc > threshold * total {
            return i + 1;
        }
    }
    sorted.len()
}

/// Gini coefficient in `[0, 1)` (0 = perfect equality).
///
/// ```
/// use verinfer_bindings::concentration::gini;
/// assert!(gini(&[1.0, 1.0, 1.0]).abs() < 1e-12);
/// assert!(gini(&[0.0, 0.0, 0.0, 1.0]) > 0.7);
/// ```
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * x)
        .sum();
    let n = n as f64;
    (2.0 * weighted) / (n * total) - (n + 1.0) / n
}
