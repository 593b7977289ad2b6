//! One epoch of request traffic, played on chain.
//!
//! Timeline of an epoch (block time 12 s):
//! 1. the client sends the epoch's requests; the registry assigns operators by stake; each
//!    assigned operator signs and submits its attestation according to its behaviour; the watcher
//!    reports every double signature it sees (`reportEquivocation`);
//! 2. the watcher re-executes every answered request and challenges each result that is wrong
//!    (with probability `traffic.challenge_rate`); the registry sends the dispute to the vote or,
//!    for the deterministic model (a real integer MLP), to the `Referee`; the stakers vote on the
//!    `DisputeGovernor`, and both sides play the referee's games to the end ([`super::referee`]);
//! 3. after the request deadline: missed assignments are reported, requests are finalized (or
//!    escalated to a dispute when the operators disagree and no quorum is possible), and those
//!    disputes are voted on or played;
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
use verinfer_bindings::types::{GameOutcome, RequestStatus};
use verinfer_bindings::{
    inference_registry::IInferenceRegistry::Statement, DisputeGovernor, InferenceRegistry, Referee,
    Slasher,
};
use verinfer_mlp::trace::{Trace, GAME_DEPTH};

use verinfer_authority::coalition::{flip_coalition, Ballot};
use verinfer_bindings::units::tokens_f64;

use super::{
    jury::{self, JuryRecord},
    referee::{self, lie, GameRecord, GameRun, Inference, Player},
    world::{Measure, World, REQUEST_TTL},
    Behaviour, Scenario, ScenarioError, SlashTally,
};
use crate::{decode_logs, SimError};

/// Seconds per block in the scenario's clock.
pub(crate) const BLOCK_SECONDS: u64 = 12;

/// Fault kinds as the Slasher numbers them.
pub(crate) const KIND_NAMES: [&str; 3] = ["equivocation", "wrong_result", "missed_assignment"];

/// How a dispute was settled: the path the registry chose from the model, never from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DisputePath {
    /// By computation: the `Referee`'s bisection game and one-step check (two outputs of a
    /// deterministic integer MLP).
    Computation,
    /// By vote: the `DisputeGovernor` (optimistic models, and whatever the referee cannot check).
    Vote,
    /// By a drafted jury of the `DisputeGovernor` (`[jury]`, the pool large enough).
    Jury,
}

/// What a dispute decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// The request finalized with the correct output.
    Correct,
    /// The ruling chose a wrong output.
    Wrong,
    /// Nothing was decided (a vote without quorum, a game nobody committed to): the status quo
    /// stands (a challenged result stays final, an escalated request ends without a result) and
    /// nobody is slashed.
    NoDecision,
}

/// Who voted on a dispute and who decided it (from the `DisputeGovernor`'s `DisputeRuled` event).
#[derive(Debug, Clone, Serialize)]
pub struct VoteRecord {
    /// Distinct voters.
    pub voters: u64,
    /// Largest single voter, bps of the votes cast.
    pub largest_voter_bps: u64,
    /// The contract's `flipCoalition` (0 = no ruling to flip): a lower bound once an option has more
    /// than `TOP_N` = 16 voters (it then says 17).
    pub flip_coalition: u64,
    /// The exact smallest number of voters whose switch to one other option would have flipped the
    /// ruling, from every `DisputeVoteCast` ([`super::flip`]; 0 = not decided): the contract's
    /// `flip_coalition` without its cap.
    pub exact_flip_coalition: u64,
    /// Voters of the winning option (person, weight) of a decided vote: the deciders.
    #[serde(skip)]
    pub deciders: Vec<(usize, f64)>,
    /// Whether quorum was reached, i.e. the dispute was decided. Without quorum nothing is decided:
    /// the registry keeps the status quo (a challenged result stands, an escalated request ends with
    /// no valid result), the challenger's bond is forfeited and nobody is slashed.
    pub quorum_reached: bool,
}

/// One dispute: the path that settled it, its outcome, and the vote or the game.
#[derive(Debug, Clone, Serialize)]
pub struct DisputeRecord {
    /// Epoch it was opened in.
    pub epoch: u64,
    /// The registry's dispute id (a vote's id, or a game id ≥ 2^255).
    pub dispute: U256,
    /// Request id.
    pub request: u64,
    /// Opened by a challenge of a result (`true`) or by escalation of a disagreement (`false`).
    pub challenged: bool,
    /// Whether the request was for the deterministic model (the integer MLP).
    pub deterministic: bool,
    /// Computation (the referee) or vote.
    pub path: DisputePath,
    /// Correct, wrong or no decision.
    pub outcome: DisputeOutcome,
    /// The vote (path = vote).
    pub vote: Option<VoteRecord>,
    /// The game (path = computation).
    pub game: Option<GameRecord>,
    /// The drafted jury (path = jury; its ballots are in `vote`, one seat one vote).
    pub jury: Option<JuryRecord>,
}

impl DisputeRecord {
    /// Whether the dispute was decided for the correct output.
    pub fn correct(&self) -> bool {
        self.outcome == DisputeOutcome::Correct
    }
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
    /// The cartel's wrong output, once a cartel operator gave it.
    wrong: Option<B256>,
    /// (operator index, answer submitted)
    answers: Vec<(usize, Option<B256>)>,
    /// The deterministic model's traces (`None` for an optimistic request).
    det: Option<Inference>,
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
) -> Result<EpochTraffic, ScenarioError> {
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
        // The optimistic model's outputs are not reproducible: hashes stand for them. The
        // deterministic model is the digits classifier: a real input, its real output.
        let (input, correct, mut det) = if optimistic {
            let input = keccak256([epoch.to_be_bytes(), (r as u64).to_be_bytes()].concat());
            (
                input,
                keccak256([input.as_slice(), b"correct"].concat()),
                None,
            )
        } else {
            let n = epoch * scenario.traffic.requests_per_epoch as u64 + r as u64;
            let bytes = w.det.input(n).to_vec();
            let honest = Trace::new(&w.det.mlp, &bytes)?;
            let correct = keccak256(honest.output());
            (
                keccak256(&bytes),
                correct,
                Some(Inference { honest, lie: None }),
            )
        };
        let mut wrong = optimistic.then(|| keccak256([input.as_slice(), b"cartel"].concat()));
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
            Err(e) => return Err(e.into()),
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
                Behaviour::Cartel if rng.gen_bool(oc.cartel_wrong_rate) => {
                    if let (None, Some(d)) = (wrong, det.as_mut()) {
                        let l = lie(&w.det.mlp, &d.honest, rng)?;
                        wrong = Some(keccak256(l.trace.output()));
                        d.lie = Some(l);
                    }
                    wrong
                }
                Behaviour::Cartel => Some(correct),
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
                Err(e) => return Err(e.into()),
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
                    Err(e) => return Err(e.into()),
                }
            }
        }
        reqs.push(Req {
            id,
            correct,
            wrong,
            answers,
            det,
        });
    }

    // 2. The watcher challenges wrong results inside the challenge window. The registry sends a
    //    dispute over the deterministic model to the referee (a game), any other to the vote.
    let mut open = Vec::new();
    let mut games = Vec::new();
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
                Ok(r) => opened(
                    w, scenario, rng, &r.logs, r.ret, i, q, true, &mut open, &mut games,
                ),
                Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    let mut cast = vote(w, scenario, rng, m, &reqs, &open)?;
    referee::play_games(w, &mut games, ledger, &mut out.slashed)?;

    // 3. After the deadline: missed assignments, finalization, escalation of disagreements.
    w.sim
        .advance(REQUEST_TTL / BLOCK_SECONDS + 1, REQUEST_TTL + BLOCK_SECONDS);
    let first_escalated = open.len();
    let first_escalated_game = games.len();
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
                Err(e) => return Err(e.into()),
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
                        Ok(r) => opened(
                            w, scenario, rng, &r.logs, r.ret, i, q, false, &mut open, &mut games,
                        ),
                        Err(SimError::Reverted { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    cast.extend(vote(w, scenario, rng, m, &reqs, &open[first_escalated..])?);
    referee::play_games(
        w,
        &mut games[first_escalated_game..],
        ledger,
        &mut out.slashed,
    )?;
    for g in &games {
        let q = &reqs[g.request];
        let Some((outcome, ruling, _)) = g.ended else {
            continue;
        };
        out.disputes.push(DisputeRecord {
            epoch,
            dispute: g.id,
            request: q.id.saturating_to(),
            challenged: g.challenged,
            deterministic: q.det.is_some(),
            path: DisputePath::Computation,
            outcome: if outcome == GameOutcome::NoCommitment {
                DisputeOutcome::NoDecision
            } else if ruling == q.correct {
                DisputeOutcome::Correct
            } else {
                DisputeOutcome::Wrong
            },
            vote: None,
            game: g.record(),
            jury: None,
        });
    }

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
            let decided = ev.stats.quorumReached;
            let ballots = cast.remove(&d.id).unwrap_or(Cast {
                options: 0,
                ballots: Vec::new(),
                jury: None,
            });
            let only: Vec<Ballot> = ballots.ballots.iter().map(|(_, b)| *b).collect();
            let exact = if decided {
                flip_coalition(&only, ballots.options).unwrap_or(0)
            } else {
                0
            };
            let deciders = if decided {
                ballots
                    .ballots
                    .iter()
                    .filter(|(_, b)| b.option == usize::from(ev.option))
                    .map(|(p, b)| (*p, b.weight.saturating_to::<u128>() as f64))
                    .collect()
            } else {
                Vec::new()
            };
            out.disputes.push(DisputeRecord {
                epoch,
                dispute: d.id,
                request: q.id.saturating_to(),
                challenged: d.challenged,
                deterministic: q.det.is_some(),
                path: if ballots.jury.is_some() {
                    DisputePath::Jury
                } else {
                    DisputePath::Vote
                },
                outcome: if !decided {
                    DisputeOutcome::NoDecision
                } else if ev.outcome == q.correct {
                    DisputeOutcome::Correct
                } else {
                    DisputeOutcome::Wrong
                },
                vote: Some(VoteRecord {
                    voters: ev.stats.voters.saturating_to(),
                    largest_voter_bps: ev.stats.largestVoterBps.saturating_to(),
                    flip_coalition: ev.stats.flipCoalition.saturating_to(),
                    exact_flip_coalition: exact as u64,
                    quorum_reached: decided,
                    deciders,
                }),
                game: None,
                jury: ballots.jury.clone(),
            });
            ruled.push((d.id, ballots.jury.is_some()));
        }
    }
    if let Some(cfg) = &scenario.jury {
        appeal_rulings(w, cfg, rng, &mut out.disputes)?;
    }
    let delay = w.params.timelock_delay + 1;
    w.sim.advance(delay.div_ceil(BLOCK_SECONDS), delay);
    for (id, drafted) in ruled {
        let r = w.sim.transact(
            w.watcher,
            disputes,
            DisputeGovernor::executeCall { disputeId: id },
        )?;
        if drafted {
            jury::settle(w, id)?;
        }
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

/// Books a dispute the registry just opened (`logs` of the challenge or escalation, `id` its
/// return value): a game when the referee's `GameOpened` is among the logs (the honest side plays
/// from the honest trace, the cartel from its lie and perhaps stops), else a vote.
#[allow(clippy::too_many_arguments)]
fn opened(
    w: &World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    logs: &[Log],
    id: U256,
    request: usize,
    q: &Req,
    challenged: bool,
    open: &mut Vec<Open>,
    games: &mut Vec<GameRun>,
) {
    let Some(ev) = decode_logs::<Referee::GameOpened>(logs).into_iter().next() else {
        open.push(Open {
            id,
            request,
            challenged,
        });
        return;
    };
    let outputs = [ev.defenderOutput, ev.challengerOutput];
    let players = [0usize, 1].map(|side| {
        let output = outputs[side];
        let address = if side == 1 && ev.challenger != Address::ZERO {
            ev.challenger
        } else {
            let (op, _) = q.answers.iter().find(|(_, a)| *a == Some(output))?;
            w.ops[*op].owner
        };
        let det = q.det.as_ref()?;
        let (trace, honest) = if output == q.correct {
            (det.honest.clone(), true)
        } else {
            (
                det.lie
                    .as_ref()
                    .filter(|_| Some(output) == q.wrong)?
                    .trace
                    .clone(),
                false,
            )
        };
        Some(Player {
            address,
            trace,
            honest,
        })
    });
    let stop = rng
        .gen_bool(scenario.operators.cartel_abandon_rate)
        .then(|| rng.gen_range(0..=GAME_DEPTH as u32));
    let lie_at = q
        .det
        .as_ref()
        .and_then(|d| d.lie.as_ref())
        .map(|l| (l.layer, l.element));
    games.push(GameRun::new(id, request, challenged, players, stop, lie_at));
}

/// The honest side appeals every wrong jury ruling of `records` while rounds remain, and, with
/// `cartel_appeals`, the cartel appeals every correct ruling of a dispute it has an output in
/// (paying the deposit from its first operator's owner): appeal, draw and commit the new round from
/// the next block, reveal after its commit period, resolve once its voting is over; the record then
/// holds the final ruling (outcome, the final round's ballots and deciders) and every round's seats.
fn appeal_rulings(
    w: &mut World,
    cfg: &jury::Jury,
    rng: &mut ChaCha8Rng,
    records: &mut [DisputeRecord],
) -> Result<(), SimError> {
    let disputes = w.c.disputes;
    let person_of: HashMap<Address, usize> = w
        .accounts
        .iter()
        .map(|a| (a.address, a.entity))
        .chain(w.ops.iter().map(|o| (o.owner, o.entity)))
        .collect();
    let cartel_appellant = w
        .ops
        .iter()
        .find(|o| o.behaviour == Behaviour::Cartel)
        .map(|o| o.owner);
    loop {
        let mut appealed = Vec::new();
        for (i, d) in records.iter().enumerate() {
            if d.path != DisputePath::Jury || !jury::appealable(w, d.dispute)? {
                continue;
            }
            let cartel_output = d.jury.as_ref().is_some_and(|j| j.options.1.is_some());
            let by = match (d.outcome, cartel_appellant) {
                (DisputeOutcome::Wrong, _) => w.watcher,
                (DisputeOutcome::Correct, Some(c)) if cfg.cartel_appeals && cartel_output => c,
                _ => continue,
            };
            appealed.push((i, by));
        }
        if appealed.is_empty() {
            let deposit = jury::appeal_deposit_tokens(w)?;
            for d in records.iter_mut() {
                let correct = d.outcome == DisputeOutcome::Correct;
                if let Some(j) = d.jury.as_mut() {
                    if correct {
                        j.cartel_forfeited_tokens = j.cartel_appeals as f64 * deposit;
                    }
                }
            }
            return Ok(());
        }
        let appealed: Vec<usize> = appealed
            .into_iter()
            .map(|(i, by)| {
                jury::appeal(w, records[i].dispute, by)?;
                if by != w.watcher {
                    if let Some(j) = records[i].jury.as_mut() {
                        j.cartel_appeals += 1;
                    }
                }
                Ok(i)
            })
            .collect::<Result<_, SimError>>()?;
        w.sim.advance(1, BLOCK_SECONDS);
        let mut commits = Vec::new();
        for &i in &appealed {
            let d = &mut records[i];
            if let Some(record) = d.jury.as_mut() {
                commits.extend(jury::draw_and_commit(w, cfg, rng, d.dispute, record)?);
            }
        }
        let mut revealed = {
            let mut by_id: HashMap<U256, &mut JuryRecord> = records
                .iter_mut()
                .filter_map(|d| {
                    let id = d.dispute;
                    d.jury.as_mut().map(|j| (id, j))
                })
                .collect();
            jury::reveal(w, &commits, &mut by_id)?
        };
        let mut ballots = HashMap::new();
        for &i in &appealed {
            ballots.insert(i, revealed.remove(&records[i].dispute).unwrap_or_default());
        }
        w.advance_past_dispute_vote();
        for &i in &appealed {
            let id = records[i].dispute;
            let r = w.sim.transact(
                w.watcher,
                disputes,
                DisputeGovernor::resolveCall { disputeId: id },
            )?;
            let Some(ev) = decode_logs::<DisputeGovernor::DisputeRuled>(&r.logs)
                .first()
                .cloned()
            else {
                continue;
            };
            let options = w
                .sim
                .view(
                    w.watcher,
                    disputes,
                    DisputeGovernor::optionsCall { disputeId: id },
                )?
                .len();
            let d = &mut records[i];
            let round: Vec<(Address, u8)> = ballots.remove(&i).unwrap_or_default();
            let decided = ev.stats.quorumReached;
            let correct = d.jury.as_ref().map_or(0, |j| j.options.0);
            d.outcome = if !decided {
                DisputeOutcome::NoDecision
            } else if ev.option == correct {
                DisputeOutcome::Correct
            } else {
                DisputeOutcome::Wrong
            };
            if let Some(v) = d.vote.as_mut() {
                let only: Vec<Ballot> = round
                    .iter()
                    .map(|(_, o)| Ballot {
                        option: usize::from(*o),
                        weight: U256::from(1),
                    })
                    .collect();
                v.voters = ev.stats.voters.saturating_to();
                v.largest_voter_bps = ev.stats.largestVoterBps.saturating_to();
                v.flip_coalition = ev.stats.flipCoalition.saturating_to();
                v.quorum_reached = decided;
                v.exact_flip_coalition = if decided {
                    flip_coalition(&only, options).unwrap_or(0) as u64
                } else {
                    0
                };
                v.deciders = if decided {
                    round
                        .iter()
                        .filter(|(_, o)| *o == ev.option)
                        .map(|(a, _)| (person_of.get(a).copied().unwrap_or(usize::MAX), 1.0))
                        .collect()
                } else {
                    Vec::new()
                };
            }
        }
    }
}

/// The ballots of one dispute vote, from its `DisputeVoteCast` events.
pub(crate) struct Cast {
    /// Number of options of the dispute.
    options: usize,
    /// (voter's person, ballot) of every counted vote.
    ballots: Vec<(usize, Ballot)>,
    /// The drafted jury, when one decides the dispute.
    jury: Option<JuryRecord>,
}

/// Every voice holder may vote on each open dispute ([`super::turnout`]): cartel members (never
/// involved ones, the contract bars them) vote for the cartel's output; a delegator of an accused
/// operator (one that gave the disputed wrong output) votes with it with probability
/// `accused_delegators`; everyone else turns out with the model's probability for its stake and
/// votes for the correct output. Returns the ballots per dispute, read from `DisputeVoteCast`.
fn vote(
    w: &mut World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    m: &Measure,
    reqs: &[Req],
    open: &[Open],
) -> Result<HashMap<U256, Cast>, SimError> {
    let disputes = w.c.disputes;
    let model = scenario.turnout_model();
    let min_stake = scenario.stakers.min_stake;
    let delegated_to: HashMap<Address, usize> = w
        .accounts
        .iter()
        .filter_map(|a| a.operator.map(|o| (a.address, o)))
        .collect();
    let mut cast = HashMap::new();
    let mut commits = Vec::new();
    // A drafted jury is drawn from the block after the dispute's opening.
    let person_of: HashMap<Address, usize> = if scenario.jury.is_some() {
        w.sim.advance(1, BLOCK_SECONDS);
        w.accounts
            .iter()
            .map(|a| (a.address, a.entity))
            .chain(w.ops.iter().map(|o| (o.owner, o.entity)))
            .collect()
    } else {
        HashMap::new()
    };
    for d in open {
        let q = &reqs[d.request];
        let options = w.sim.view(
            w.watcher,
            disputes,
            DisputeGovernor::optionsCall { disputeId: d.id },
        )?;
        let index = |h: B256| options.iter().position(|o| *o == h).map(|i| i as u8);
        let correct = index(q.correct).unwrap_or(0);
        let wrong = q.wrong.and_then(index);
        let accused: Vec<usize> = q
            .answers
            .iter()
            .filter(|(_, a)| a.is_some() && *a == q.wrong)
            .map(|(op, _)| *op)
            .collect();
        if let Some(cfg) = &scenario.jury {
            if jury::drafted(w, d.id)? {
                let mut record = JuryRecord {
                    options: (correct, wrong),
                    ..JuryRecord::default()
                };
                commits.extend(jury::draw_and_commit(w, cfg, rng, d.id, &mut record)?);
                // the ballots are the reveals, after the commit period (below)
                cast.insert(
                    d.id,
                    Cast {
                        options: options.len(),
                        ballots: Vec::new(),
                        jury: Some(record),
                    },
                );
                continue;
            }
        }
        let mut ballots = Vec::new();
        for (voter, person) in &m.holders {
            let interested = delegated_to
                .get(voter)
                .is_some_and(|op| accused.contains(op));
            let option = if w.cartel_person.get(*person).copied().unwrap_or(false) {
                match wrong {
                    Some(o) => o,
                    None => continue,
                }
            } else if interested
                && wrong.is_some()
                && model.accused_delegators > 0.0
                && rng.gen_bool(model.accused_delegators)
            {
                wrong.unwrap_or(correct)
            } else if rng.gen_bool(model.probability(m.stake[*person], min_stake)) {
                correct
            } else {
                continue;
            };
            let call = DisputeGovernor::castVoteCall {
                disputeId: d.id,
                option,
            };
            match w.sim.transact(*voter, disputes, call) {
                Ok(r) => {
                    for ev in decode_logs::<DisputeGovernor::DisputeVoteCast>(&r.logs) {
                        ballots.push((
                            *person,
                            Ballot {
                                option: usize::from(ev.option),
                                weight: ev.weight,
                            },
                        ));
                    }
                }
                // Involved parties, accounts whose voice was delegated away: barred by the contract.
                Err(SimError::Reverted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        cast.insert(
            d.id,
            Cast {
                options: options.len(),
                ballots,
                jury: None,
            },
        );
    }
    let revealed = {
        let mut by_id: HashMap<U256, &mut JuryRecord> = cast
            .iter_mut()
            .filter_map(|(id, c)| c.jury.as_mut().map(|j| (*id, j)))
            .collect();
        jury::reveal(w, &commits, &mut by_id)?
    };
    for (id, cast_by) in revealed {
        if let Some(c) = cast.get_mut(&id) {
            c.ballots = cast_by
                .into_iter()
                .map(|(juror, option)| {
                    let person = person_of.get(&juror).copied().unwrap_or(usize::MAX);
                    (
                        person,
                        Ballot {
                            option: usize::from(option),
                            weight: U256::from(1),
                        },
                    )
                })
                .collect();
        }
    }
    Ok(cast)
}
