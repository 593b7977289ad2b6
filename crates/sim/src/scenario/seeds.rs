//! A scenario over several seeds: each goal judged in every run, with its spread.
//!
//! One seed is one draw of the population (with another seed the 10 largest stakers can hold 18%
//! instead of 48% of stake), so a verdict from one seed proves little. [`run_seeds`] runs the
//! scenario once per seed; a goal passes only if it holds in every seed, and its measure is reported
//! per seed with min / median / max.

use serde::Serialize;

use super::{run, RunReport, Scenario, ScenarioError};
use crate::metrics::GoalCheck;

/// Seeds of a multi-seed run when neither the command line nor the scenario says: `seed`,
/// `seed + 1`, ...
pub const DEFAULT_SEEDS: usize = 5;

/// One goal in one seed.
#[derive(Debug, Clone, Serialize)]
pub struct SeedGoal {
    /// The seed.
    pub seed: u64,
    /// Whether the goal held.
    pub pass: bool,
    /// Its measure, if it has one.
    pub measure: Option<f64>,
    /// The run's detail line.
    pub detail: String,
}

/// One goal over all seeds.
#[derive(Debug, Clone, Serialize)]
pub struct GoalOverSeeds {
    /// The goal.
    pub goal: String,
    /// Whether it held in every seed.
    pub pass: bool,
    /// Seeds in which it failed.
    pub failed_seeds: Vec<u64>,
    /// Smallest, median and largest measure over the seeds that have one.
    pub min: Option<f64>,
    /// Median measure.
    pub median: Option<f64>,
    /// Largest measure.
    pub max: Option<f64>,
    /// Per seed.
    pub per_seed: Vec<SeedGoal>,
}

impl std::fmt::Display for GoalOverSeeds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} — {} of {} seeds",
            if self.pass { "PASS" } else { "FAIL" },
            self.goal,
            self.per_seed.len() - self.failed_seeds.len(),
            self.per_seed.len()
        )?;
        if let (Some(lo), Some(med), Some(hi)) = (self.min, self.median, self.max) {
            write!(f, "; measure min {lo:.4} / median {med:.4} / max {hi:.4}")?;
        }
        if !self.failed_seeds.is_empty() {
            write!(f, "; failed in seeds {:?}", self.failed_seeds)?;
        }
        Ok(())
    }
}

/// The runs of one scenario over several seeds and the goals judged over all of them.
#[derive(Debug, Clone, Serialize)]
pub struct SeedsReport {
    /// Scenario name.
    pub scenario: String,
    /// The seeds, in run order.
    pub seeds: Vec<u64>,
    /// Each goal over the seeds (in the order of the first run's goals).
    pub goals: Vec<GoalOverSeeds>,
    /// The runs, one per seed.
    pub runs: Vec<RunReport>,
}

impl SeedsReport {
    /// Judges the goals of `runs` (one per seed) together: a goal passes only if it passed in
    /// every run; a goal missing from a run counts as failed there.
    pub fn of(scenario: &str, runs: Vec<RunReport>) -> Self {
        let goals = judge(
            &runs
                .iter()
                .map(|r| (r.seed, r.goals.as_slice()))
                .collect::<Vec<_>>(),
        );
        Self {
            scenario: scenario.to_owned(),
            seeds: runs.iter().map(|r| r.seed).collect(),
            goals,
            runs,
        }
    }

    /// The goals that failed in at least one seed.
    pub fn failed_goals(&self) -> Vec<&GoalOverSeeds> {
        self.goals.iter().filter(|g| !g.pass).collect()
    }

    /// Summary: per seed the goal lines, then each goal over the seeds with its spread.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for r in &self.runs {
            let _ = writeln!(
                s,
                "seed {}: top-10 {:.1}% of stake; {} transactions, {:.1}s",
                r.seed,
                100.0 * r.top10_stake_share,
                r.transactions,
                r.seconds
            );
            for g in &r.goals {
                let _ = writeln!(s, "  {g}");
            }
        }
        let _ = writeln!(
            s,
            "scenario {} over {} seeds {:?} (a goal passes only if it holds in every seed):",
            self.scenario,
            self.seeds.len(),
            self.seeds
        );
        for g in &self.goals {
            let _ = writeln!(s, "{g}");
        }
        s
    }
}

/// Each goal of `runs` ((seed, goals) per run) over all of them: it passes only if it passed in
/// every run; a goal missing from a run counts as failed there.
pub fn judge(runs: &[(u64, &[GoalCheck])]) -> Vec<GoalOverSeeds> {
    let mut names: Vec<String> = Vec::new();
    for (_, goals) in runs {
        for g in *goals {
            if !names.contains(&g.goal) {
                names.push(g.goal.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|goal| {
            let per_seed: Vec<SeedGoal> = runs
                .iter()
                .map(
                    |(seed, goals)| match goals.iter().find(|g| g.goal == goal) {
                        Some(g) => SeedGoal {
                            seed: *seed,
                            pass: g.pass,
                            measure: g.measure,
                            detail: g.detail.clone(),
                        },
                        None => SeedGoal {
                            seed: *seed,
                            pass: false,
                            measure: None,
                            detail: "not judged in this seed".into(),
                        },
                    },
                )
                .collect();
            let mut m: Vec<f64> = per_seed.iter().filter_map(|s| s.measure).collect();
            m.sort_by(f64::total_cmp);
            let failed_seeds: Vec<u64> = per_seed
                .iter()
                .filter(|s| !s.pass)
                .map(|s| s.seed)
                .collect();
            GoalOverSeeds {
                goal,
                pass: failed_seeds.is_empty(),
                failed_seeds,
                min: m.first().copied(),
                median: m.get(m.len() / 2).copied(),
                max: m.last().copied(),
                per_seed,
            }
        })
        .collect()
}

/// The seeds to run: `count` seeds from `scenario.seed` on when given, else the scenario's `seeds`
/// list, else [`DEFAULT_SEEDS`] from `scenario.seed` on.
pub fn seeds_for(scenario: &Scenario, count: Option<usize>) -> Vec<u64> {
    match (count, &scenario.seeds) {
        (Some(n), _) => (0..n as u64)
            .map(|i| scenario.seed.wrapping_add(i))
            .collect(),
        (None, Some(list)) => list.clone(),
        (None, None) => (0..DEFAULT_SEEDS as u64)
            .map(|i| scenario.seed.wrapping_add(i))
            .collect(),
    }
}

/// Runs `scenario` once per seed of `seeds` and judges the goals over all of them.
pub fn run_seeds(
    scenario: &Scenario,
    seeds: &[u64],
    progress: bool,
) -> Result<SeedsReport, ScenarioError> {
    let mut runs = Vec::with_capacity(seeds.len());
    for seed in seeds {
        let mut s = scenario.clone();
        s.seed = *seed;
        runs.push(run(&s, progress)?);
    }
    Ok(SeedsReport::of(&scenario.name, runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(name: &str, pass: bool, measure: f64) -> GoalCheck {
        GoalCheck {
            goal: name.into(),
            pass,
            detail: String::new(),
            measure: Some(measure),
        }
    }

    #[test]
    fn a_goal_fails_if_one_seed_fails_and_reports_its_spread() {
        let a = [goal("g", true, 0.3), goal("h", true, 1.0)];
        let b = [goal("g", false, 0.1), goal("h", true, 2.0)];
        let c = [goal("g", true, 0.2)];
        let judged = judge(&[(1, &a[..]), (2, &b[..]), (3, &c[..])]);
        let g = &judged[0];
        assert!(!g.pass);
        assert_eq!(g.failed_seeds, vec![2]);
        assert_eq!((g.min, g.median, g.max), (Some(0.1), Some(0.2), Some(0.3)));
        assert!(g.to_string().starts_with("FAIL g — 2 of 3 seeds"), "{g}");
        // "h" is missing from seed 3: not judged there counts as failed.
        let h = &judged[1];
        assert!(!h.pass);
        assert_eq!(h.failed_seeds, vec![3]);
        let all = judge(&[(1, &a[..1]), (2, &c[..])]);
        assert!(all[0].pass, "{}", all[0]);
    }
}
