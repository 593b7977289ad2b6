//! Who turns out to vote: a turnout model by stake size, apathy and interest in the outcome.
//!
//! A holder with stake `s` votes with probability
//!
//! ```text
//! p(s) = min(max, base + per_decade * log10(s / min_stake))      (s >= min_stake; base below it)
//! ```
//!
//! `base` is the apathy of the smallest holders, `per_decade` how much more likely a holder ten
//! times larger is to vote, `max` the ceiling. Interest in the outcome is separate: the cartel
//! always votes for its own output, and a delegator of an accused operator (one whose answer is
//! disputed) votes **with the accused** with probability `accused_delegators` (its delegation is
//! what a slash would cut), otherwise it behaves like anyone else.
//!
//! Calibration of the defaults (`base` 3%, `per_decade` 2%, `max` 50%): issue #17 asks for the 3–10%
//! holder turnout of token-holder DAOs, where "most onchain voting is currently performed by a few
//! dozen delegate voters despite hundreds of thousands of token holders" (Coinbase Institutional,
//! monthly outlook, November 2024). For a Pareto population with shape α the mean of
//! `log10(s / min_stake)` is `1 / (α ln 10)` (0.374 decades at α = 1.16), so the default model's
//! expected turnout over holders is 3% + 2% × 0.374 ≈ 3.7% of holders, and higher by stake (a
//! holder 1,000× the minimum votes with 9%). [`TurnoutModel::scaled_to`] rescales a model to a given
//! mean turnout (the capture goals' 3%, 5% and 10%).
//!
//! `traffic.turnout = t` is the shorthand for a flat model (`base = t`, `per_decade = 0`,
//! `max = 1`, `accused_delegators = 0`), the simulator's earlier coin flip; a scenario gives either
//! it or a `[turnout]` table, not both. With neither, the default model above applies.

use serde::{Deserialize, Serialize};

/// The probability that a holder votes, by stake, apathy and interest (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnoutModel {
    /// Probability that a holder of the smallest stake (`stakers.min_stake`) votes: the apathy.
    #[serde(default = "default_base")]
    pub base: f64,
    /// Added to the probability per tenfold of stake above `stakers.min_stake`.
    #[serde(default = "default_per_decade")]
    pub per_decade: f64,
    /// Ceiling of the probability, whatever the stake.
    #[serde(default = "default_max")]
    pub max: f64,
    /// Probability that a delegator of an accused operator turns out and votes with it.
    #[serde(default = "default_accused_delegators")]
    pub accused_delegators: f64,
}

fn default_base() -> f64 {
    0.03
}
fn default_per_decade() -> f64 {
    0.02
}
fn default_max() -> f64 {
    0.5
}
fn default_accused_delegators() -> f64 {
    0.5
}

impl Default for TurnoutModel {
    fn default() -> Self {
        Self {
            base: default_base(),
            per_decade: default_per_decade(),
            max: default_max(),
            accused_delegators: default_accused_delegators(),
        }
    }
}

/// A turnout model field out of bounds: the field (within `[turnout]`) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `turnout.{field}`: {message}")]
pub struct TurnoutError {
    /// The field, e.g. `base`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl TurnoutModel {
    /// The flat model of the `traffic.turnout` shorthand: every holder votes with probability `p`.
    pub fn flat(p: f64) -> Self {
        Self {
            base: p,
            per_decade: 0.0,
            max: 1.0,
            accused_delegators: 0.0,
        }
    }

    /// Checks the bounds: probabilities within `[0, 1]`, `per_decade` within `[0, 1]`, and
    /// `base <= max`.
    pub fn validate(&self) -> Result<(), TurnoutError> {
        for (field, v) in [
            ("base", self.base),
            ("per_decade", self.per_decade),
            ("max", self.max),
            ("accused_delegators", self.accused_delegators),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(TurnoutError {
                    field,
                    message: format!("must be within [0, 1] (got {v})"),
                });
            }
        }
        if self.base > self.max {
            return Err(TurnoutError {
                field: "base",
                message: format!("must not exceed turnout.max ({} > {})", self.base, self.max),
            });
        }
        Ok(())
    }

    /// The probability that a holder of `stake` tokens votes (`min_stake` is the population's
    /// smallest stake): within `[0, max]`, non-decreasing in `stake`.
    pub fn probability(&self, stake: f64, min_stake: f64) -> f64 {
        let decades = if stake > min_stake && min_stake > 0.0 {
            (stake / min_stake).log10()
        } else {
            0.0
        };
        (self.base + self.per_decade * decades).clamp(0.0, self.max)
    }

    /// The expected share of `stakes` (one entry per holder) that turns out.
    pub fn mean(&self, stakes: &[f64], min_stake: f64) -> f64 {
        if stakes.is_empty() {
            return 0.0;
        }
        stakes
            .iter()
            .map(|s| self.probability(*s, min_stake))
            .sum::<f64>()
            / stakes.len() as f64
    }

    /// This model with `base` and `per_decade` multiplied by one factor so that the expected
    /// turnout over `stakes` is `target` (the shape by stake is kept; `max` is raised to 1 when the
    /// target needs it). `target` is clamped to `[0, 1]`.
    pub fn scaled_to(&self, target: f64, stakes: &[f64], min_stake: f64) -> Self {
        let target = target.clamp(0.0, 1.0);
        let at = |c: f64| Self {
            base: (self.base * c).min(1.0),
            per_decade: (self.per_decade * c).min(1.0),
            max: if c > 1.0 { 1.0 } else { self.max },
            accused_delegators: self.accused_delegators,
        };
        if self.base + self.per_decade <= 0.0 {
            return Self {
                base: target,
                ..Self::flat(target)
            };
        }
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while at(hi).mean(stakes, min_stake) < target && hi < 1e6 {
            hi *= 2.0;
        }
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if at(mid).mean(stakes, min_stake) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        at(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_stays_within_bounds_and_grows_with_stake() {
        let m = TurnoutModel::default();
        let mut last = 0.0;
        for s in [1.0, 100.0, 150.0, 1_000.0, 1e4, 1e5, 1e6, 1e9, 1e30] {
            let p = m.probability(s, 100.0);
            assert!((0.0..=m.max).contains(&p), "{s}: {p}");
            assert!(p >= last, "turnout fell from {last} to {p} at stake {s}");
            last = p;
        }
        assert_eq!(m.probability(100.0, 100.0), m.base);
        assert!((m.probability(1_000.0, 100.0) - 0.05).abs() < 1e-12);
        assert_eq!(m.probability(1e30, 100.0), m.max);
    }

    #[test]
    fn default_model_gives_three_to_ten_percent_of_a_pareto_population() {
        // Pareto α = 1.16 by inverse transform on an even grid of quantiles.
        let n = 10_000;
        let stakes: Vec<f64> = (0..n)
            .map(|i| 100.0 * ((i as f64 + 0.5) / n as f64).powf(-1.0 / 1.16))
            .collect();
        let mean = TurnoutModel::default().mean(&stakes, 100.0);
        assert!((0.03..=0.10).contains(&mean), "{mean}");
    }

    #[test]
    fn scaling_hits_the_target_mean_and_keeps_the_order_by_stake() {
        let stakes: Vec<f64> = (1..=1000).map(|i| 100.0 * f64::from(i)).collect();
        let m = TurnoutModel::default();
        for target in [0.03, 0.05, 0.10, 0.6] {
            let s = m.scaled_to(target, &stakes, 100.0);
            assert!((s.mean(&stakes, 100.0) - target).abs() < 1e-6, "{target}");
            assert!(s.probability(1e5, 100.0) > s.probability(100.0, 100.0));
            s.validate().unwrap();
        }
        let flat = TurnoutModel::flat(0.0).scaled_to(0.05, &stakes, 100.0);
        assert!((flat.mean(&stakes, 100.0) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn out_of_bounds_fields_are_named() {
        let bad = TurnoutModel {
            base: 1.5,
            ..TurnoutModel::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "base");
        let bad = TurnoutModel {
            base: 0.6,
            max: 0.5,
            ..TurnoutModel::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("turnout.base") && e.contains("turnout.max"),
            "{e}"
        );
        let bad = TurnoutModel {
            accused_delegators: -0.1,
            ..TurnoutModel::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "accused_delegators");
    }
}
