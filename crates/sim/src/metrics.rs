//! Legitimacy metrics: concentration of stake and voice, and who decides.

use serde::Serialize;

pub use verinfer_bindings::concentration::{gini, nakamoto, nakamoto_at};

/// Lorenz curve points `(population share, value share)` from the poorest up, starting at (0,0).
pub fn lorenz(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    let n = v.len().max(1) as f64;
    let mut out = vec![(0.0, 0.0)];
    let mut acc = 0.0;
    let step = (v.len() / 200).max(1);
    for (i, x) in v.iter().enumerate() {
        acc += x;
        if (i + 1) % step == 0 || i + 1 == v.len() {
            out.push((
                (i + 1) as f64 / n,
                if total > 0.0 { acc / total } else { 0.0 },
            ));
        }
    }
    out
}

/// Quadratic voice of a set of accounts under the QuadraticVotes rule: each attested identity gets
/// `sqrt(stake)`; all unattested stake is pooled under one `sqrt`, shared pro rata.
///
/// `stakes[i]` is paired with `attested[i]`. Returns each account's voice.
pub fn quadratic_voice(stakes: &[f64], attested: &[bool]) -> Vec<f64> {
    let pool: f64 = stakes
        .iter()
        .zip(attested)
        .filter(|(_, a)| !**a)
        .map(|(s, _)| *s)
        .sum();
    let pool_voice = pool.sqrt();
    stakes
        .iter()
        .zip(attested)
        .map(|(s, a)| {
            if *a {
                s.max(0.0).sqrt()
            } else if pool > 0.0 {
                pool_voice * s / pool
            } else {
                0.0
            }
        })
        .collect()
}

/// Metrics of one epoch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EpochMetrics {
    /// Epoch index (0-based).
    pub epoch: u64,
    /// Block number at measurement.
    pub block: u64,
    /// Nakamoto coefficient of stake by account (`Staking.stakeOf`).
    pub nakamoto_stake: usize,
    /// Nakamoto coefficient of stake by operator (`Staking.operatorStake`).
    pub nakamoto_operator_stake: usize,
    /// Nakamoto coefficient of voting power by controlling entity.
    pub nakamoto_voice: usize,
    /// Gini of stake by account.
    pub gini_stake: f64,
    /// Gini of voting power.
    pub gini_voice: f64,
    /// Nakamoto coefficient of accepted attestations by operator (answers equal to the final result).
    pub nakamoto_accepted: usize,
    /// Gini of accepted attestations by operator.
    pub gini_accepted: f64,
    /// Share of the epoch's requests that finalized with the correct output.
    pub accepted_share: f64,
    /// Requests created this epoch.
    pub requests: usize,
    /// Disputes ruled this epoch, by computation or by vote, decided or not.
    pub disputes: usize,
    /// Disputes decided for the correct output (by either path).
    pub disputes_correct: usize,
    /// Disputes settled by computation (referee games) this epoch.
    pub disputes_by_computation: usize,
    /// Of those, the ones decided for the correct output.
    pub disputes_by_computation_correct: usize,
    /// Smallest deciding coalition over this epoch's disputes, as the fewest voters whose switch
    /// would have flipped the ruling: the exact flip coalition from every `DisputeVoteCast`
    /// (`verinfer_authority::coalition::flip_coalition`; not the contract's `RulingStats.flipCoalition`, capped at 17), if any
    /// dispute was decided by vote.
    pub min_deciding_coalition: Option<usize>,
    /// Median (exact flip) coalition over this epoch's disputes.
    pub median_deciding_coalition: Option<usize>,
    /// Vote disputes that missed quorum: nothing was decided, the status quo stood (a challenged result
    /// stays final, an escalated request ends without a result), the challenger's bond was forfeited
    /// and nobody was slashed.
    pub disputes_without_quorum: usize,
    /// Total active stake (tokens).
    pub total_stake: f64,
    /// Voice gain of the splitting whales' actual arrangement this epoch: the largest ratio of a
    /// whale's voice to `sqrt(its stake)` (the voice of the same stake under one identity); 1.0 when
    /// no whale splits. The end-of-run search over all arrangements is in the run's capture report.
    pub whale_split_gain: f64,
}

/// Result of the legitimacy goal check.
#[derive(Debug, Clone, Serialize)]
pub struct GoalCheck {
    /// Goal description.
    pub goal: String,
    /// Whether it holds.
    pub pass: bool,
    /// Measured value(s).
    pub detail: String,
    /// The goal's headline number, for its spread over seeds (e.g. the cost of corruption as a share
    /// of stake); `None` when the goal has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<f64>,
}

impl std::fmt::Display for GoalCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} — {}",
            if self.pass { "PASS" } else { "FAIL" },
            self.goal,
            self.detail
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_splitting_gain_is_sqrt_k_for_attested_and_none_for_unattested() {
        let one = quadratic_voice(&[100.0], &[true])[0];
        let split: f64 = quadratic_voice(&[25.0; 4], &[true; 4]).iter().sum();
        assert!((split / one - 2.0).abs() < 1e-9);
        let pooled: f64 = quadratic_voice(&[25.0; 4], &[false; 4]).iter().sum();
        assert!((pooled / one - 1.0).abs() < 1e-9);
    }

    #[test]
    fn lorenz_ends_at_one() {
        let l = lorenz(&[1.0, 2.0, 3.0]);
        assert_eq!(l.first(), Some(&(0.0, 0.0)));
        let last = l.last().copied().unwrap();
        assert!((last.0 - 1.0).abs() < 1e-12 && (last.1 - 1.0).abs() < 1e-12);
    }
}
