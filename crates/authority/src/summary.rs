//! The ledger's summary: the share of decisions by path, the concentration of deciders, its drift
//! across epochs, and what the defaults decided.
//!
//! Concentration counts authority, not headcount: every decision with deciders is one unit of
//! authority, split among its deciders and summed per person. **By persons** the unit is split
//! equally among the decision's distinct persons; **by capital** in proportion to the deciders'
//! capital at the decision (equally when they hold none). The Nakamoto coefficient is then the
//! fewest persons holding more than half of all authority, the Gini that of the persons who decided
//! anything. Decisions nobody decided (arithmetic, defaults) carry no authority.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use verinfer_bindings::concentration::{gini, nakamoto};

use crate::record::{Decision, DecisionKind, Path, Person, Rule};

/// Decisions of one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathCount {
    /// The path.
    pub path: Path,
    /// Decisions taken by it.
    pub decisions: usize,
    /// Their share of all decisions (0 when there were none).
    pub share: f64,
}

/// Concentration of the deciders of a set of decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Concentration {
    /// Decisions that somebody decided (not arithmetic or a default).
    pub decided_by_someone: usize,
    /// Distinct persons among their deciders.
    pub persons: usize,
    /// Fewest persons holding more than half of the authority, each decision split equally among
    /// its persons.
    pub nakamoto_persons: usize,
    /// Gini of that authority over the persons who decided anything.
    pub gini_persons: f64,
    /// Fewest persons holding more than half of the authority, each decision split by capital.
    pub nakamoto_capital: usize,
    /// Gini of that authority.
    pub gini_capital: f64,
}

impl Concentration {
    /// The concentration of `decisions`' deciders.
    pub fn of<'a>(decisions: impl IntoIterator<Item = &'a Decision>) -> Self {
        let mut by_person: BTreeMap<Person, f64> = BTreeMap::new();
        let mut by_capital: BTreeMap<Person, f64> = BTreeMap::new();
        let mut decided = 0;
        for d in decisions {
            if d.deciders.is_empty() {
                continue;
            }
            decided += 1;
            let mut persons: Vec<&Person> = d.deciders.iter().map(|x| &x.person).collect();
            persons.sort();
            persons.dedup();
            for p in &persons {
                *by_person.entry((*p).clone()).or_default() += 1.0 / persons.len() as f64;
            }
            let capital: f64 = d.deciders.iter().map(|x| x.capital.max(0.0)).sum();
            for x in &d.deciders {
                let share = if capital > 0.0 {
                    x.capital.max(0.0) / capital
                } else {
                    1.0 / d.deciders.len() as f64
                };
                *by_capital.entry(x.person.clone()).or_default() += share;
            }
        }
        let p: Vec<f64> = by_person.values().copied().collect();
        let c: Vec<f64> = by_capital.values().copied().collect();
        Self {
            decided_by_someone: decided,
            persons: by_person.len(),
            nakamoto_persons: nakamoto(&p),
            gini_persons: gini(&p),
            nakamoto_capital: nakamoto(&c),
            gini_capital: gini(&c),
        }
    }
}

/// One epoch of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochLedger {
    /// The epoch.
    pub epoch: u64,
    /// Decisions in it.
    pub decisions: usize,
    /// By path.
    pub by_path: Vec<PathCount>,
    /// Concentration of its deciders.
    pub concentration: Concentration,
}

/// What one default rule decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultTally {
    /// The default.
    pub rule: Rule,
    /// Decisions it took, all kinds (a ruling and what carries it out count each).
    pub decisions: usize,
    /// By kind.
    pub by_kind: BTreeMap<DecisionKind, usize>,
}

/// The summary of a ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LedgerSummary {
    /// Decisions in all.
    pub decisions: usize,
    /// By path, every path listed.
    pub by_path: Vec<PathCount>,
    /// By kind, then path (only non-zero counts).
    pub by_kind: BTreeMap<DecisionKind, BTreeMap<Path, usize>>,
    /// Concentration of the deciders over all decisions.
    pub concentration: Concentration,
    /// The same per epoch (epochs with decisions only).
    pub epochs: Vec<EpochLedger>,
    /// The defaults that decided anything, and how often.
    pub defaults: Vec<DefaultTally>,
}

fn by_path<'a>(decisions: impl IntoIterator<Item = &'a Decision>) -> Vec<PathCount> {
    let mut n: BTreeMap<Path, usize> = BTreeMap::new();
    let mut total = 0;
    for d in decisions {
        *n.entry(d.path).or_default() += 1;
        total += 1;
    }
    Path::ALL
        .iter()
        .map(|p| {
            let decisions = n.get(p).copied().unwrap_or(0);
            PathCount {
                path: *p,
                decisions,
                share: if total == 0 {
                    0.0
                } else {
                    decisions as f64 / total as f64
                },
            }
        })
        .collect()
}

impl LedgerSummary {
    /// The summary of `records`.
    pub fn of(records: &[Decision]) -> Self {
        let mut by_kind: BTreeMap<DecisionKind, BTreeMap<Path, usize>> = BTreeMap::new();
        let mut defaults: BTreeMap<Rule, DefaultTally> = BTreeMap::new();
        let mut epochs: BTreeMap<u64, Vec<&Decision>> = BTreeMap::new();
        for d in records {
            *by_kind
                .entry(d.kind)
                .or_default()
                .entry(d.path)
                .or_default() += 1;
            epochs.entry(d.epoch).or_default().push(d);
            if d.path == Path::Default {
                let t = defaults.entry(d.rule).or_insert_with(|| DefaultTally {
                    rule: d.rule,
                    decisions: 0,
                    by_kind: BTreeMap::new(),
                });
                t.decisions += 1;
                *t.by_kind.entry(d.kind).or_default() += 1;
            }
        }
        Self {
            decisions: records.len(),
            by_path: by_path(records),
            by_kind,
            concentration: Concentration::of(records),
            epochs: epochs
                .into_iter()
                .map(|(epoch, ds)| EpochLedger {
                    epoch,
                    decisions: ds.len(),
                    by_path: by_path(ds.iter().copied()),
                    concentration: Concentration::of(ds.iter().copied()),
                })
                .collect(),
            defaults: defaults.into_values().collect(),
        }
    }

    /// The summary as Markdown tables: decisions by kind and path, concentration, defaults.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = write!(s, "| decision |");
        for p in Path::ALL {
            let _ = write!(s, " {} |", p.name());
        }
        let _ = writeln!(s, " total |");
        let _ = writeln!(s, "|---|{}---|", "---|".repeat(Path::ALL.len()));
        for k in DecisionKind::ALL {
            let Some(row) = self.by_kind.get(&k) else {
                continue;
            };
            let _ = write!(s, "| {} |", k.name());
            for p in Path::ALL {
                let _ = write!(s, " {} |", row.get(&p).copied().unwrap_or(0));
            }
            let _ = writeln!(s, " {} |", row.values().sum::<usize>());
        }
        let _ = write!(s, "| **all (share)** |");
        for p in &self.by_path {
            let _ = write!(s, " {} ({:.1}%) |", p.decisions, 100.0 * p.share);
        }
        let _ = writeln!(s, " {} |", self.decisions);
        let c = &self.concentration;
        let _ = writeln!(
            s,
            "\ndeciders: {} decisions decided by someone, {} persons; Nakamoto {} by persons, {} by \
             capital; Gini {:.3} by persons, {:.3} by capital",
            c.decided_by_someone,
            c.persons,
            c.nakamoto_persons,
            c.nakamoto_capital,
            c.gini_persons,
            c.gini_capital
        );
        if self.epochs.len() > 1 {
            let drift: Vec<String> = self
                .epochs
                .iter()
                .map(|e| {
                    let c = &e.concentration;
                    format!(
                        "{}: {} decisions, {}/{}",
                        e.epoch, e.decisions, c.nakamoto_persons, c.nakamoto_capital
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "drift (epoch: decisions, deciders' Nakamoto by persons/capital): {}",
                drift.join("; ")
            );
        }
        if self.defaults.is_empty() {
            let _ = writeln!(s, "defaults: none decided anything");
        }
        for d in &self.defaults {
            let kinds: Vec<String> = d
                .by_kind
                .iter()
                .map(|(k, n)| format!("{n} {}", k.name()))
                .collect();
            let _ = writeln!(
                s,
                "default {}: {} decisions ({})",
                d.rule.name(),
                d.decisions,
                kinds.join(", ")
            );
        }
        s
    }
}
