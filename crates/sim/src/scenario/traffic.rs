//! One epoch of request traffic, played on chain.
//!
//! Timeline of an epoch (block time 12 s):
//! 1. the client sends the epoch's requests; the registry assigns operators by stake; each
//!    assigned operator signs and submits its attestation according to its behaviour; the watcher
//!    reports every double signature it sees (`reportEquivocation`);
//! 2. the watcher re-executes every answered request and challenges each result that is wrong
//!    (with probability `traffic.challenge_rate`); the stakers vote on the `DisputeGovernor`;
//! 3. after the request deadline: missed assignments are reported, requests are finalized (or
//!    escalated to a dispute when the operators disagree and no quorum is possible), and those
//!    disputes are voted on;
//! 4. once voting ends (`dispute_voting_period` seconds after a dispute opened), rulings are resolved
//!    and, after the timelock delay, executed: the registry finalizes the request and, for a ruling
//!    decided with quorum, asks the Slasher for `WrongResult` slashes of the losers, which become
//!    executable after the veto window (handled by the epoch loop). A dispute that misses quorum
//!    decides nothing: the status quo stands and nobody is slashed.
//!
//! The watcher challenges with a concrete output (the correct one, never zero) and holds an identity
//! from the scenario's issuer, which the `DisputeGovernor` requires of every challenger.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{aliases::U40, keccak256, Address, Log, B256, U256};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::{
    inference_registry::IInferenceRegistry::Statement, DisputeGovernor, InferenceRegistry, Slasher,
};

use verinfer_bindings::units::tokens_f64;

use super::{
    world::{Measure, World, REQUEST_TTL},
    Behaviour, Scenario, SlashTally,
};
use crate::{decode_logs, SimError};

/// Seconds per block in the scenario's clock.
pub(crate) const BLOCK_SECONDS: u64 = 12;

/// Fault kinds as the Slasher numbers them.
pub(crate) const KIND_NAMES: [&str; 3] = ["equivocation", "wrong_result", "missed_assignment"];

/// One dispute and who decided it (from the `DisputeGovernor`'s `DisputeRuled` event).
#[derive(Debug, Clone, Serialize)]
pub struct DisputeRecord {
    /// Epoch it was opened in.
    pub epoch: u64,
    /// Dispute id.
    pub dispute: u64,
    /// Request id.
    pub request: u64,
    /// Opened by a challenge of a result (`true`) or by escalation of a disagreement (`false`).
    pub challenged: bool,
    /// Distinct voters.
    pub voters: u64,
    /// Largest single voter, bps of the votes cast.
    pub largest_voter_bps: u64,
    /// Smallest number of voters whose switch would have flipped the ruling (0 = no ruling to flip).
    pub flip_coalition: u64,
    /// Whether quorum was reached, i.e. the dispute was decided. Without quorum nothing is decided:
    /// the registry keeps the status quo (a challenged result stands, an escalated request ends with
    /// no valid result), the challenger's bond is forfeited and nobody is slashed.
    pub quorum_reached: bool,
    /// Whether the dispute was decided for the correct output.
    pub correct: bool,
}

/// Slash bookkeeping across epochs.
#[derive(Default)]
pub(crate) struct Ledger {
    pub slashes: BTreeMap<String, SlashTally>,
    kind_of: HashMap<U256, u8>,
    /// Slashes that have paid at least one installment (a slash the cap defers pays in several).
    executed: std::collections::HashSet<U256>,
    /// Requested `WrongResult` slashes waiting for their veto window: (id, executableAt).
    pub pending: Vec<(U256, u64)>,
}

impl Ledger {
    pub fn new() -> Self {
        Self {
            slashes: KIND_NAMES
                .iter()
                .map(|k| ((*k).to_owned(), SlashTally::default()))
                .collect(),
            ..Self::default()
        }
    }

    /// Records requested and executed slashes found in `logs`; returns the slashed operators.
    pub fn record(&mut self, logs: &[Log]) -> Vec<Address> {
        for ev in decode_logs::<Slasher::SlashRequested>(logs) {
            self.kind_of.insert(ev.slashId, ev.kind);
            if ev.kind == 1 {
                self.pending
                    .push((ev.slashId, ev.executableAt.saturating_to::<u64>()));
            }
        }
        let mut hit = Vec::new();
        for ev in decode_logs::<Slasher::SlashExecuted>(logs) {
            let kind = self.kind_of.get(&ev.slashId).copied().unwrap_or(0);
            let first = self.executed.insert(ev.slashId);
            if let Some(t) = self.slashes.get_mut(KIND_NAMES[usize::from(kind.min(2))]) {
                // one slash per id; every installment's tokens count
                t.count += u64::from(first);
                t.tokens += tokens_f64(ev.amount);
            }
            hit.push(ev.operator);
        }
        hit
    }

    /// Counts a slash the Slasher or the registry refused.
    pub fn refused(&mut self, kind: u8) {
        if let Some(t) = self.slashes.get_mut(KIND_NAMES[usize::from(kind.min(2))]) {
            t.refused += 1;
        }
    }
}

/// What one epoch of traffic produced.
pub(crate) struct EpochTraffic {
    pub requests: usize,
    pub correct: usize,
    /// Accepted attestations per operator index.
    pub accepted: Vec<f64>,
    pub disputes: Vec<DisputeRecord>,
    /// Operators slashed during the epoch (by owner address).
    pub slashed: Vec<Address>,
}

struct Req {
    id: U256,
    correct: B256,
    wrong: B256,
    /// (operator index, answer submitted)
    answers: Vec<(usize, Option<B256>)>,
}

struct Open {
    id: U256,
    request: usize,
    challenged: bool,
}

/// Plays one epoch of traffic; `m` is the start-of-epoch measurement (who holds voice).
pub(crate) fn play(
    w: &mut World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    epoch: u64,
    m: &Measure,
    ledger: &mut Ledger,
) -> Result<EpochTraffic, SimError> {
    let op_index: HashMap<Address, usize> = w
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| (o.owner, i))
        .collect();
    let mut out = EpochTraffic {
        requests: 0,
        correct: 0,
        accepted: vec![0.0; w.ops.len()],
        disputes: Vec::new(),
        slashed: Vec::new(),
    };
    let (registry, disputes) = (w.c.registry, w.c.disputes);

    // 1. Requests, answers, equivocation reports.
    let mut reqs = Vec::new();
    for r in 0..scenario.traffic.requests_per_epoch {
        let optimistic = rng.gen_bool(scenario.traffic.optimistic_share);
        let model = if optimistic { w.opt_model } else { w.det_model };
        let input = keccak256([epoch.to_be_bytes(), (r as u64).to_be_bytes()].concat());
        let correct = keccak256([input.as_slice(), b"correct"].concat());
        let wrong = keccak256([input.as_slice(), b"cartel"].concat());
        let deadline = U40::from(w.sim.timestamp() + REQUEST_TTL);
        let call = InferenceRegistry::requestInferenceCall {
            modelId: model,
            inputHash: input,
            inputURI: String::new(),
            fee: w.min_fee,
            deadline,
        };
        let receipt = match w.sim.transact(w.client, registry, call) {
            Ok(r) => r,
            // E.g. too few active operators left after jailing: the request is not served.
            Err(SimError::Reverted { .. }) => continue,
            Err(e) => return Err(e),
        };
        out.requests += 1;
        let id = receipt.ret;
        let mut answers = Vec::new();
        for ev in decode_logs::<InferenceRegistry::OperatorAssigned>(&receipt.logs) {
            let Some(&op) = op_index.get(&ev.operator) else {
                continue;
            };
            let oc = &scenario.operators;
            let answer = match w.ops[op].behaviour {
                Behaviour::Honest | Behaviour::Whale | Behaviour::Equivocating => Some(correct),
                Behaviour::Lazy => (!rng.gen_bool(oc.lazy_miss_rate)).then_some(correct),
                Behaviour::Cartel => Some(if rng.gen_bool(oc.cartel_wrong_rate) {
                    wrong
                } else {
                    correct
                }),
            };
            let Some(output) = answer else {
                answers.push((op, None));
                continue;
            };
            let (att, sig) = w.attest(op, id, model, input, output)?;
            let submitted = w.sim.transact(
                w.ops[op].owner,
                registry,
                InferenceRegistry::submitAttestationCall {
                    att: att.clone(),
                    signature: sig.clone(),
                },
            );
            match submitted {
                Ok(_) => answers.push((op, Some(output))),
                Err(SimError::Reverted { .. }) => answers.push((op, None)),
                Err(e) => return Err(e),
            }
            if w.ops[op].behaviour == Behaviour::Equivocating && rng.gen_bool(oc.equivocation_rate)
            {
                let other = keccak256([input.as_slice(), b"equivocation"].concat());
                let (att2, sig2) = w.attest(op, id, model, input, other)?;
                let report = InferenceRegistry::reportEquivocationCall {
                    a: Statement::signed(att, sig),
                    b: Statement::signed(att2, sig2),
                };
                match w.sim.transact(w.watcher, registry, report) {
                    Ok(r) => out.slashed.extend(ledger.record(&r.logs)),
                    Err(SimError::Reverted { .. }) => ledger.refused(0),
                    Err(e) => return Err(e),
                }
            }
        }
        reqs.push(Req {
            id,
            correct,
            wrong,
            answers,
        });
    }

    // 2. The watcher challenges wrong results inside the challenge window; stakers vote.
    let mut open = Vec::new();
    for (i, q) in reqs.iter().enumerate() {
        let view = w.sim.view(
            w.watcher,
            registry,
            InferenceRegistry::requestCall { requestId: q.id },
        )?;
        let quorum = view.status == u8::from(RequestStatus::Quorum);
        if quorum && view.output != q.correct && rng.gen_bool(scenario.traffic.challenge_rate) {
            let call = InferenceRegistry::challengeCall {
                requestId: q.id,
                claimedOutput: q.correct,
            };
            match w.sim.transact(w.watcher, registry, call) {
                Ok(r) => open.push(Open {
                    id: r.ret,
                    request: i,
                    challenged: true,
                }),
                Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    vote(w, scenario, rng, m, &reqs, &open)?;

    // 3. After the deadline: missed assignments, finalization, escalation of disagreements.
    w.sim
        .advance(REQUEST_TTL / BLOCK_SECONDS + 1, REQUEST_TTL + BLOCK_SECONDS);
    let first_escalated = open.len();
    for (i, q) in reqs.iter().enumerate() {
        for (op, answer) in &q.answers {
            if answer.is_some() {
                continue;
            }
            let call = InferenceRegistry::reportMissedCall {
                requestId: q.id,
                operator: w.ops[*op].owner,
            };
            match w.sim.transact(w.watcher, registry, call) {
                Ok(r) => out.slashed.extend(ledger.record(&r.logs)),
                Err(SimError::Reverted { .. }) => ledger.refused(2),
                Err(e) => return Err(e),
            }
        }
        let view = w.sim.view(
            w.watcher,
            registry,
            InferenceRegistry::requestCall { requestId: q.id },
        )?;
        let status = RequestStatus::of(view.status);
        if matches!(status, Some(RequestStatus::Open | RequestStatus::Quorum)) {
            let fin = InferenceRegistry::finalizeCall { requestId: q.id };
            match w.sim.transact(w.watcher, registry, fin) {
                Ok(_) => {}
                Err(SimError::Reverted { .. }) if status == Some(RequestStatus::Open) => {
                    let esc = InferenceRegistry::escalateCall { requestId: q.id };
                    match w.sim.transact(w.watcher, registry, esc) {
                        Ok(r) => open.push(Open {
                            id: r.ret,
                            request: i,
                            challenged: false,
                        }),
                        Err(SimError::Reverted { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    vote(w, scenario, rng, m, &reqs, &open[first_escalated..])?;

    // 4. Rulings (voting lasts `dispute_voting_period` seconds), then their application after the
    //    timelock delay.
    w.advance_past_dispute_vote();
    let mut ruled = Vec::new();
    for d in &open {
        let r = w.sim.transact(
            w.watcher,
            disputes,
            DisputeGovernor::resolveCall { disputeId: d.id },
        )?;
        if let Some(ev) = decode_logs::<DisputeGovernor::DisputeRuled>(&r.logs).first() {
            let q = &reqs[d.request];
            out.disputes.push(DisputeRecord {
                epoch,
                dispute: d.id.saturating_to(),
                request: q.id.saturating_to(),
                challenged: d.challenged,
                voters: ev.stats.voters.saturating_to(),
                largest_voter_bps: ev.stats.largestVoterBps.saturating_to(),
                flip_coalition: ev.stats.flipCoalition.saturating_to(),
                quorum_reached: ev.stats.quorumReached,
                correct: ev.stats.quorumReached && ev.outcome == q.correct,
            });
            ruled.push(d.id);
        }
    }
    let delay = w.params.timelock_delay + 1;
    w.sim.advance(delay.div_ceil(BLOCK_SECONDS), delay);
    for id in ruled {
        let r = w.sim.transact(
            w.watcher,
            disputes,
            DisputeGovernor::executeCall { disputeId: id },
        )?;
        out.slashed.extend(ledger.record(&r.logs));
        for _ in decode_logs::<InferenceRegistry::SlashRequestFailed>(&r.logs) {
            ledger.refused(1);
        }
    }

    // Accepted attestations: answers equal to the final result.
    for q in &reqs {
        let view = w.sim.view(
            w.watcher,
            registry,
            InferenceRegistry::requestCall { requestId: q.id },
        )?;
        if view.status != 4 || view.output == B256::ZERO {
            continue;
        }
        if view.output == q.correct {
            out.correct += 1;
        }
        for (op, answer) in &q.answers {
            if *answer == Some(view.output) {
                out.accepted[*op] += 1.0;
            }
        }
    }
    Ok(out)
}

/// Every voice holder may vote on each open dispute: cartel members (never involved ones, the
/// contract bars them) vote for the cartel's output, everyone else turns out with probability
/// `traffic.turnout` and votes for the correct output.
fn vote(
    w: &mut World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    m: &Measure,
    reqs: &[Req],
    open: &[Open],
) -> Result<(), SimError> {
    let disputes = w.c.disputes;
    for d in open {
        let q = &reqs[d.request];
        let options = w.sim.view(
            w.watcher,
            disputes,
            DisputeGovernor::optionsCall { disputeId: d.id },
        )?;
        let index = |h: B256| options.iter().position(|o| *o == h).map(|i| i as u8);
        let correct = index(q.correct).unwrap_or(0);
        let wrong = index(q.wrong);
        for (voter, person) in &m.holders {
            let option = if w.cartel_person.get(*person).copied().unwrap_or(false) {
                match wrong {
                    Some(o) => o,
                    None => continue,
                }
            } else if rng.gen_bool(scenario.traffic.turnout) {
                correct
            } else {
                continue;
            };
            let call = DisputeGovernor::castVoteCall {
                disputeId: d.id,
                option,
            };
            match w.sim.transact(*voter, disputes, call) {
                // Involved parties, accounts whose voice was delegated away: barred by the contract.
                Ok(_) | Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
