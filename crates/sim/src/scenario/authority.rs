//! The run's authority ledger ([`verinfer_authority`]) from the logs the simulator kept: the
//! scenario's own persons (a staker's accounts and operator are one person), each dispute vote's
//! quorum read from the `DisputeGovernor`, each executed proposal's base quorum and residual K read
//! from the `VerinferGovernor`, and the epochs' boundaries.

use std::collections::BTreeMap;

use alloy::primitives::U256;
use verinfer_authority::build::proposals_to_read;
use verinfer_authority::{AuthorityLedger, LedgerContext, Person};
use verinfer_bindings::{DisputeGovernor, VerinferGovernor};

use super::{world::World, DisputePath, DisputeRecord};
use crate::{metrics::EpochMetrics, SimError};

/// Builds the ledger of everything the run committed so far (the capture trials come later, on a
/// snapshot, and decide nothing); stops the simulator keeping logs.
pub(crate) fn ledger(
    w: &mut World,
    epochs: &[EpochMetrics],
    disputes: &[DisputeRecord],
) -> Result<AuthorityLedger, SimError> {
    let person = |entity: usize| Person::Named(format!("person {entity}"));
    let mut persons: BTreeMap<_, _> = w
        .accounts
        .iter()
        .map(|a| (a.address, person(a.entity)))
        .collect();
    persons.extend(w.ops.iter().map(|o| (o.owner, person(o.entity))));
    let gov = w.c.disputes;
    let quorum_bps = w
        .sim
        .view(w.watcher, gov, DisputeGovernor::quorumBpsCall {})?;
    let mut quorums = BTreeMap::new();
    for d in disputes.iter().filter(|d| d.path == DisputePath::Vote) {
        let total = w
            .sim
            .view(
                w.watcher,
                gov,
                DisputeGovernor::disputeCall {
                    disputeId: d.dispute,
                },
            )?
            .totalVoice;
        // `resolve`'s rule: quorum = mulDiv(totalVoice, quorumBps, 10_000)
        let q = U256::from(total) * U256::from(quorum_bps) / U256::from(10_000u64);
        quorums.insert((gov, d.dispute), q);
    }
    let logs = w.sim.take_logs();
    // Executed proposals: the base quorum and the K the governor applied, read per proposal.
    let mut residual_ks = BTreeMap::new();
    for (governor, id) in proposals_to_read(&logs) {
        let snapshot = w.sim.view(
            w.watcher,
            governor,
            VerinferGovernor::proposalSnapshotCall { proposalId: id },
        )?;
        let base = w.sim.view(
            w.watcher,
            governor,
            VerinferGovernor::quorumCall {
                timepoint: snapshot,
            },
        )?;
        let k = w
            .sim
            .view(
                w.watcher,
                governor,
                VerinferGovernor::residualForVotesCall { proposalId: id },
            )?
            .k;
        quorums.insert((governor, id), base);
        residual_ks.insert((governor, id), k.saturating_to());
    }
    let ctx = LedgerContext {
        epoch_starts: epochs
            .iter()
            .take(epochs.len().saturating_sub(1))
            .map(|e| e.block)
            .collect(),
        persons,
        quorums,
        residual_ks,
        timelock: w.sim.suite.contracts.get("TimelockController").copied(),
    };
    Ok(AuthorityLedger::build(&logs, &ctx))
}
