//! Building the ledger from a run's logs.
//!
//! Per transaction, rulings first (a `DisputeRuled`, a referee `GameEnded`), then the transaction's
//! other events in log order, so that what a ruling carries out in the same transaction (the
//! registry's finalization, the `WrongResult` slashes) follows it whatever the emission order.
//!
//! | event | kind | rule |
//! | --- | --- | --- |
//! | `RequestFinalized` after `QuorumReached` | finalization | operator quorum (the operators whose answer is the output) |
//! | `RequestFinalized` with `DisputeResolved` | finalization | the ruling's rule and deciders |
//! | `RequestFinalized` with `OutputUnavailable` | finalization | output unavailable (default) |
//! | `RequestExpired` | finalization | request expired (default) |
//! | `DisputeRuled` | dispute ruling | dispute vote (deciding coalition) or no quorum (default) |
//! | `DisputeRuled` of a drafted dispute (a `JuryDrawn` for it) | dispute ruling | drafted jury (the coherent jurors of the round it closes, the last drawn before it: its voters for the ruling's option) or, undecided, no quorum (default) |
//! | `GameEnded` | dispute ruling | one-step check (a `StepChecked` in the game), else referee timeout or no commitment (defaults) |
//! | `SlashRequested` | slash | equivocation proof, missed deadline, or the ruling's rule (wrong result) |
//! | `SlashVetoed` | veto | admin or timelock |
//! | `ParameterChanged`, the Slasher's, registry's, governor's and timelock's parameter events | parameter change | admin or timelock |
//! | `ModelRegistered` | model registration | admin or timelock |
//! | `RoleGranted` / `RoleRevoked` of `ISSUER_ROLE` | issuer approval / revocation | admin or timelock |
//!
//! Admin or timelock: a transaction with a timelock `CallExecuted`, or sent by the timelock, is the
//! timelock's; its deciders are the deciding coalition of the `ProposalExecuted` proposal in the
//! same transaction (or the timelock itself when no proposal is found). Otherwise it is the
//! admin's: the sender when known, else the holders of the emitting contract's admin role.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol_types::SolEvent;
use serde::Serialize;
use verinfer_bindings::{
    DisputeGovernor, IdentityRegistry, InferenceRegistry, Referee, Slasher, Staking,
    TimelockController, VerinferGovernor,
};

use crate::coalition::{deciding_coalition, proposal_coalition, Ballot, Counting};
use crate::record::{ChainLog, Decider, Decision, DecisionKind, Person, Role, Rule, Subject};
use crate::resolve::Resolver;
use crate::summary::LedgerSummary;

/// What the logs do not say: the epoch clock, the caller's persons, vote quorums, the timelock.
#[derive(Debug, Clone, Default)]
pub struct LedgerContext {
    /// First block of each epoch after epoch 0, ascending (empty = one epoch for the whole run;
    /// blocks before the first start are epoch 0).
    pub epoch_starts: Vec<u64>,
    /// The caller's own account → person map (e.g. a simulated staker's accounts); accounts not in
    /// it resolve through their identity links.
    pub persons: BTreeMap<Address, Person>,
    /// Quorum (weight units) of a vote, by (contract, dispute or proposal id), when the caller read
    /// it (`DisputeGovernor.dispute(id)`; for a proposal the BASE quorum,
    /// `VerinferGovernor.quorum(proposalSnapshot(id))`: the ledger doubles it for a governance
    /// target itself, from `GovernanceProposalFlagged`); without it only plurality flips (a
    /// proposal: only for against against) count in the deciding coalition.
    pub quorums: BTreeMap<(Address, U256), U256>,
    /// K of the residual rule of a proposal, by (governor, proposal id), as the chain applied it:
    /// `VerinferGovernor.residualForVotes(id).k`, read per proposal (never from a configuration:
    /// the governor fixes K per proposal). Without it the residual rule is not applied to that
    /// proposal's deciding coalition. [`proposals_to_read`] lists the proposals that need it.
    pub residual_ks: BTreeMap<(Address, U256), usize>,
    /// The timelock, when known (else recognised by its `CallExecuted` events).
    pub timelock: Option<Address>,
}

impl LedgerContext {
    /// The epoch of `block`.
    pub fn epoch_of(&self, block: u64) -> u64 {
        self.epoch_starts.partition_point(|s| *s <= block) as u64
    }
}

/// The ledger of a run: every decision, and the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthorityLedger {
    /// Every decision, in chain order.
    pub records: Vec<Decision>,
    /// Shares by path, concentration of deciders, drift across epochs, defaults.
    pub summary: LedgerSummary,
}

/// `ISSUER_ROLE` of the `IdentityRegistry`.
fn issuer_role() -> B256 {
    keccak256("ISSUER_ROLE")
}

/// The events that decide by the admin or the timelock (the decision is theirs, not the chain's).
fn governed(topic: B256) -> bool {
    let issuer_role_events = [
        IdentityRegistry::RoleGranted::SIGNATURE_HASH,
        IdentityRegistry::RoleRevoked::SIGNATURE_HASH,
    ];
    parameter_events().contains(&topic)
        || issuer_role_events.contains(&topic)
        || topic == InferenceRegistry::ModelRegistered::SIGNATURE_HASH
        || topic == Slasher::SlashVetoed::SIGNATURE_HASH
        || topic == Slasher::SlashRequested::SIGNATURE_HASH
}

fn parameter_events() -> [B256; 13] {
    [
        DisputeGovernor::ParameterChanged::SIGNATURE_HASH,
        Slasher::FaultParamsChanged::SIGNATURE_HASH,
        Slasher::CapBpsChanged::SIGNATURE_HASH,
        Slasher::CapWindowChanged::SIGNATURE_HASH,
        Slasher::SinkChanged::SIGNATURE_HASH,
        InferenceRegistry::TreasuryChanged::SIGNATURE_HASH,
        InferenceRegistry::BatchWindowChanged::SIGNATURE_HASH,
        InferenceRegistry::DeliveryParamsChanged::SIGNATURE_HASH,
        VerinferGovernor::VotingDelaySet::SIGNATURE_HASH,
        VerinferGovernor::VotingPeriodSet::SIGNATURE_HASH,
        VerinferGovernor::ProposalThresholdSet::SIGNATURE_HASH,
        VerinferGovernor::LateQuorumVoteExtensionSet::SIGNATURE_HASH,
        TimelockController::MinDelayChange::SIGNATURE_HASH,
    ]
}

/// Every event signature the ledger reads (decisions, votes, answers, and the person/capital
/// history): a log source may keep only these.
pub fn relevant_topics() -> BTreeSet<B256> {
    let mut t: BTreeSet<B256> = parameter_events().into_iter().collect();
    t.extend([
        InferenceRegistry::AnswerRecorded::SIGNATURE_HASH,
        InferenceRegistry::RequestFinalized::SIGNATURE_HASH,
        InferenceRegistry::RequestExpired::SIGNATURE_HASH,
        InferenceRegistry::DisputeResolved::SIGNATURE_HASH,
        InferenceRegistry::OutputUnavailable::SIGNATURE_HASH,
        InferenceRegistry::ModelRegistered::SIGNATURE_HASH,
        InferenceRegistry::OperatorServing::SIGNATURE_HASH,
        InferenceRegistry::OperatorWeightUpdated::SIGNATURE_HASH,
        DisputeGovernor::DisputeOpened::SIGNATURE_HASH,
        DisputeGovernor::DisputeVoteCast::SIGNATURE_HASH,
        DisputeGovernor::DisputeRuled::SIGNATURE_HASH,
        DisputeGovernor::JuryDrawn::SIGNATURE_HASH,
        Referee::GameEnded::SIGNATURE_HASH,
        Referee::StepChecked::SIGNATURE_HASH,
        Slasher::SlashRequested::SIGNATURE_HASH,
        Slasher::SlashExecuted::SIGNATURE_HASH,
        Slasher::SlashVetoed::SIGNATURE_HASH,
        IdentityRegistry::RoleGranted::SIGNATURE_HASH,
        IdentityRegistry::RoleRevoked::SIGNATURE_HASH,
        IdentityRegistry::AccountLinked::SIGNATURE_HASH,
        IdentityRegistry::AccountUnlinked::SIGNATURE_HASH,
        verinfer_bindings::QuadraticVotes::StakeObserved::SIGNATURE_HASH,
        VerinferGovernor::VoteCast::SIGNATURE_HASH,
        VerinferGovernor::VoteCastWithParams::SIGNATURE_HASH,
        VerinferGovernor::OverrideVoteCast::SIGNATURE_HASH,
        VerinferGovernor::VoteReduced::SIGNATURE_HASH,
        VerinferGovernor::ProposalExecuted::SIGNATURE_HASH,
        VerinferGovernor::ProposalCreated::SIGNATURE_HASH,
        VerinferGovernor::GovernanceProposalFlagged::SIGNATURE_HASH,
        verinfer_bindings::QuadraticVotes::IdentityObserved::SIGNATURE_HASH,
        TimelockController::CallExecuted::SIGNATURE_HASH,
    ]);
    t
}

/// The executed proposals among `logs`, by (governor, proposal id): those whose deciding coalition
/// the ledger computes, for which a caller reads the base quorum and K from the chain
/// ([`LedgerContext::quorums`], [`LedgerContext::residual_ks`]).
pub fn proposals_to_read(logs: &[ChainLog]) -> BTreeSet<(Address, U256)> {
    logs.iter()
        .filter_map(|l| {
            VerinferGovernor::ProposalExecuted::decode_log(&l.log)
                .ok()
                .map(|e| (l.log.address, e.proposalId))
        })
        .collect()
}

/// The transactions among `logs` whose admin-or-timelock decisions would be better attributed with
/// their sender (a JSON-RPC source can fetch those few and fill [`ChainLog::sender`]).
pub fn txs_needing_sender(logs: &[ChainLog]) -> BTreeSet<B256> {
    logs.iter()
        .filter(|l| l.sender.is_none())
        .filter(|l| l.log.topics().first().is_some_and(|t| governed(*t)))
        .map(|l| l.tx)
        .collect()
}

/// A vote's ballots, by voter, with the position of its first ballot.
#[derive(Default)]
struct Votes {
    ballots: Vec<(Address, Ballot, usize)>,
}

impl Votes {
    fn cast(&mut self, voter: Address, option: usize, weight: U256, pos: usize) {
        self.ballots.push((voter, Ballot { option, weight }, pos));
    }
    fn reduce(&mut self, voter: Address, weight: U256) {
        if let Some((_, b, _)) = self.ballots.iter_mut().find(|(v, _, _)| *v == voter) {
            b.weight = b.weight.saturating_sub(weight);
        }
    }
}

/// What the first pass collects: votes, answers, games checked by a step, option counts.
#[derive(Default)]
struct Facts {
    dispute_votes: HashMap<(Address, U256), Votes>,
    dispute_options: HashMap<(Address, U256), usize>,
    proposal_votes: HashMap<(Address, U256), Votes>,
    answers: HashMap<U256, Vec<(Address, B256, usize)>>,
    stepped: BTreeSet<U256>,
    /// Drafted disputes: the log positions of their `JuryDrawn` events (one per round, in order).
    jury_draws: HashMap<(Address, U256), Vec<usize>>,
    /// Proposals' snapshots (`ProposalCreated.voteStart`, the governor's `proposalSnapshot`).
    snapshots: HashMap<(Address, U256), u64>,
    /// Proposals flagged as governance targets (`GovernanceProposalFlagged`).
    governance: BTreeSet<(Address, U256)>,
    /// `QuadraticVotes`' identity of each account over time (`IdentityObserved`): (block, new id)
    /// in chain order, the checkpoints `getPastIdentity` reads.
    identities: HashMap<Address, Vec<(u64, U256)>>,
}

impl Facts {
    /// The voice `voter` counts in for proposal `key`: its `QuadraticVotes` identity one block
    /// before the snapshot (`getPastIdentity(voter, proposalSnapshot - 1)`, as
    /// `GovernorResidualQuorum` reads it; all accounts of one identity are one voice), 0 for the
    /// unattested pool (one voice). Without the proposal's `ProposalCreated`, the identity before
    /// the block of `voter`'s ballot.
    fn voice_identity(&self, key: (Address, U256), voter: Address, ballot_block: u64) -> U256 {
        let before = self.snapshots.get(&key).copied().unwrap_or(ballot_block);
        self.identities
            .get(&voter)
            .and_then(|h| h.iter().rev().find(|(b, _)| *b < before))
            .map_or(U256::ZERO, |(_, id)| *id)
    }

    fn read(logs: &[ChainLog]) -> Self {
        let mut f = Self::default();
        for (pos, l) in logs.iter().enumerate() {
            let (Some(topic), a, log) = (l.log.topics().first(), l.log.address, &l.log) else {
                continue;
            };
            match *topic {
                DisputeGovernor::DisputeOpened::SIGNATURE_HASH => {
                    if let Ok(e) = DisputeGovernor::DisputeOpened::decode_log(log) {
                        f.dispute_options
                            .insert((a, e.disputeId), e.candidates.len() + 1);
                    }
                }
                DisputeGovernor::DisputeVoteCast::SIGNATURE_HASH => {
                    if let Ok(e) = DisputeGovernor::DisputeVoteCast::decode_log(log) {
                        f.dispute_votes.entry((a, e.disputeId)).or_default().cast(
                            e.voter,
                            usize::from(e.option),
                            e.weight,
                            pos,
                        );
                    }
                }
                DisputeGovernor::JuryDrawn::SIGNATURE_HASH => {
                    if let Ok(e) = DisputeGovernor::JuryDrawn::decode_log(log) {
                        f.jury_draws.entry((a, e.disputeId)).or_default().push(pos);
                    }
                }
                VerinferGovernor::VoteCast::SIGNATURE_HASH
                | VerinferGovernor::VoteCastWithParams::SIGNATURE_HASH
                | VerinferGovernor::OverrideVoteCast::SIGNATURE_HASH => {
                    if let Some((voter, proposal, support, weight)) = proposal_vote(log) {
                        f.proposal_votes.entry((a, proposal)).or_default().cast(
                            voter,
                            usize::from(support),
                            weight,
                            pos,
                        );
                    }
                }
                VerinferGovernor::ProposalCreated::SIGNATURE_HASH => {
                    if let Ok(e) = VerinferGovernor::ProposalCreated::decode_log(log) {
                        f.snapshots
                            .insert((a, e.proposalId), e.voteStart.saturating_to());
                    }
                }
                VerinferGovernor::GovernanceProposalFlagged::SIGNATURE_HASH => {
                    if let Ok(e) = VerinferGovernor::GovernanceProposalFlagged::decode_log(log) {
                        f.governance.insert((a, e.proposalId));
                    }
                }
                verinfer_bindings::QuadraticVotes::IdentityObserved::SIGNATURE_HASH => {
                    if let Ok(e) =
                        verinfer_bindings::QuadraticVotes::IdentityObserved::decode_log(log)
                    {
                        f.identities
                            .entry(e.account)
                            .or_default()
                            .push((l.block, e.newId));
                    }
                }
                VerinferGovernor::VoteReduced::SIGNATURE_HASH => {
                    if let Ok(e) = VerinferGovernor::VoteReduced::decode_log(log) {
                        f.proposal_votes
                            .entry((a, e.proposalId))
                            .or_default()
                            .reduce(e.delegatee, e.weight);
                    }
                }
                InferenceRegistry::AnswerRecorded::SIGNATURE_HASH => {
                    if let Ok(e) = InferenceRegistry::AnswerRecorded::decode_log(log) {
                        f.answers.entry(e.requestId).or_default().push((
                            e.operator,
                            e.outputHash,
                            pos,
                        ));
                    }
                }
                Referee::StepChecked::SIGNATURE_HASH => {
                    if let Ok(e) = Referee::StepChecked::decode_log(log) {
                        f.stepped.insert(e.gameId);
                    }
                }
                _ => {}
            }
        }
        f
    }
}

/// A proposal vote (`VoteCast`, `VoteCastWithParams`, `OverrideVoteCast`): voter, proposal,
/// support, weight.
fn proposal_vote(log: &alloy::primitives::Log) -> Option<(Address, U256, u8, U256)> {
    if let Ok(e) = VerinferGovernor::VoteCast::decode_log(log) {
        return Some((e.voter, e.proposalId, e.support, e.weight));
    }
    if let Ok(e) = VerinferGovernor::VoteCastWithParams::decode_log(log) {
        return Some((e.voter, e.proposalId, e.support, e.weight));
    }
    let e = VerinferGovernor::OverrideVoteCast::decode_log(log).ok()?;
    Some((e.voter, e.proposalId, e.support, e.weight))
}

/// A ruling's rule and deciders, which what it carries out inherits.
#[derive(Clone)]
struct Ruling {
    index: usize,
    rule: Rule,
    deciders: Vec<Decider>,
}

struct Builder<'a> {
    ctx: &'a LedgerContext,
    logs: &'a [ChainLog],
    facts: Facts,
    resolver: Resolver,
    records: Vec<Decision>,
    rulings: HashMap<U256, Ruling>,
    slashes: HashMap<(Address, U256), usize>,
    admins: HashMap<Address, BTreeSet<Address>>,
    timelocks: BTreeSet<Address>,
}

impl AuthorityLedger {
    /// Builds the ledger of `logs` (in chain order: block, then position in the block).
    pub fn build(logs: &[ChainLog], ctx: &LedgerContext) -> Self {
        let mut b = Builder {
            ctx,
            logs,
            facts: Facts::read(logs),
            resolver: Resolver::new(logs, ctx.persons.clone()),
            records: Vec::new(),
            rulings: HashMap::new(),
            slashes: HashMap::new(),
            admins: HashMap::new(),
            timelocks: ctx.timelock.into_iter().collect(),
        };
        b.timelocks.extend(
            logs.iter()
                .filter(|l| {
                    l.log.topics().first()
                        == Some(&TimelockController::CallExecuted::SIGNATURE_HASH)
                })
                .map(|l| l.log.address),
        );
        let mut start = 0;
        while start < logs.len() {
            let tx = logs[start].tx;
            let end = logs[start..]
                .iter()
                .position(|l| l.tx != tx)
                .map_or(logs.len(), |n| start + n);
            b.transaction(start..end);
            start = end;
        }
        let summary = LedgerSummary::of(&b.records);
        Self {
            records: b.records,
            summary,
        }
    }

    /// The records of `kind`.
    pub fn of_kind(&self, kind: DecisionKind) -> impl Iterator<Item = &Decision> {
        self.records.iter().filter(move |d| d.kind == kind)
    }
}

fn topic_of(l: &ChainLog) -> B256 {
    l.log.topics().first().copied().unwrap_or_default()
}

fn bytes32_text(b: B256) -> String {
    let trimmed: Vec<u8> = b.iter().copied().take_while(|c| *c != 0).collect();
    match String::from_utf8(trimmed) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()) => s,
        _ => b.to_string(),
    }
}

impl Builder<'_> {
    fn transaction(&mut self, range: std::ops::Range<usize>) {
        let is_ruling = |l: &ChainLog| {
            let t = topic_of(l);
            t == DisputeGovernor::DisputeRuled::SIGNATURE_HASH
                || t == Referee::GameEnded::SIGNATURE_HASH
        };
        let order: Vec<usize> = range
            .clone()
            .filter(|p| is_ruling(&self.logs[*p]))
            .chain(range.clone().filter(|p| !is_ruling(&self.logs[*p])))
            .collect();
        // The ruling the registry applied in this transaction, by request.
        let mut applied: HashMap<U256, Ruling> = HashMap::new();
        let mut unavailable: BTreeSet<U256> = BTreeSet::new();
        for p in range.clone() {
            let log = &self.logs[p].log;
            if let Ok(e) = InferenceRegistry::DisputeResolved::decode_log(log) {
                // A ruling executed in an earlier transaction (the vote's), or in this one (a game).
                if let Some(r) = self.rulings.get(&e.disputeId) {
                    applied.insert(e.requestId, r.clone());
                }
            }
            if let Ok(e) = InferenceRegistry::OutputUnavailable::decode_log(log) {
                unavailable.insert(e.requestId);
            }
        }
        let mut authority = None;
        for p in order {
            let l = &self.logs[p];
            let (topic, a) = (topic_of(l), l.log.address);
            match topic {
                DisputeGovernor::DisputeRuled::SIGNATURE_HASH => {
                    let Ok(e) = DisputeGovernor::DisputeRuled::decode_log(&l.log) else {
                        continue;
                    };
                    let key = (a, e.disputeId);
                    // The round this ruling closes: the last draw before it.
                    let drawn = self
                        .facts
                        .jury_draws
                        .get(&key)
                        .and_then(|d| d.iter().rev().find(|pos| **pos < p).copied());
                    let (rule, deciders) = if let Some(drawn) = drawn {
                        if e.stats.quorumReached {
                            (
                                Rule::DraftedJury,
                                self.jurors(key, drawn, e.option, l.block, p),
                            )
                        } else {
                            (Rule::NoQuorum, Vec::new())
                        }
                    } else if e.stats.quorumReached {
                        let options = self
                            .facts
                            .dispute_options
                            .get(&(a, e.disputeId))
                            .copied()
                            .unwrap_or(usize::from(e.option) + 1);
                        let counting = Counting::Plurality {
                            options,
                            quorum: self.ctx.quorums.get(&(a, e.disputeId)).copied(),
                        };
                        let voters = self.coalition(true, (a, e.disputeId), counting, l.block, p);
                        (Rule::DisputeVote, voters)
                    } else {
                        (Rule::NoQuorum, Vec::new())
                    };
                    let subject = Subject::Dispute {
                        dispute: e.disputeId,
                        outcome: e.outcome,
                    };
                    let index = self.push(
                        p,
                        DecisionKind::DisputeRuling,
                        rule,
                        subject,
                        deciders.clone(),
                        None,
                    );
                    self.rulings.insert(
                        e.disputeId,
                        Ruling {
                            index,
                            rule,
                            deciders,
                        },
                    );
                }
                Referee::GameEnded::SIGNATURE_HASH => {
                    let Ok(e) = Referee::GameEnded::decode_log(&l.log) else {
                        continue;
                    };
                    let rule = if e.outcome == 3 {
                        Rule::NoCommitment
                    } else if self.facts.stepped.contains(&e.gameId) {
                        Rule::OneStepCheck
                    } else {
                        Rule::RefereeTimeout
                    };
                    let subject = Subject::Dispute {
                        dispute: e.gameId,
                        outcome: e.output,
                    };
                    let index = self.push(
                        p,
                        DecisionKind::DisputeRuling,
                        rule,
                        subject,
                        Vec::new(),
                        None,
                    );
                    let ruling = Ruling {
                        index,
                        rule,
                        deciders: Vec::new(),
                    };
                    self.rulings.insert(e.gameId, ruling);
                    // The registry applies a game's ruling in the same transaction.
                    for q in range.clone() {
                        if let Ok(r) =
                            InferenceRegistry::DisputeResolved::decode_log(&self.logs[q].log)
                        {
                            if let Some(r2) = self.rulings.get(&r.disputeId) {
                                applied.insert(r.requestId, r2.clone());
                            }
                        }
                    }
                }
                InferenceRegistry::RequestFinalized::SIGNATURE_HASH => {
                    let Ok(e) = InferenceRegistry::RequestFinalized::decode_log(&l.log) else {
                        continue;
                    };
                    let subject = Subject::Request {
                        request: e.requestId,
                        output: Some(e.outputHash),
                    };
                    if let Some(r) = applied.get(&e.requestId).cloned() {
                        self.push(
                            p,
                            DecisionKind::Finalization,
                            r.rule,
                            subject,
                            r.deciders,
                            Some(r.index),
                        );
                    } else if e.outputHash.is_zero() && unavailable.contains(&e.requestId) {
                        self.push(
                            p,
                            DecisionKind::Finalization,
                            Rule::OutputUnavailable,
                            subject,
                            Vec::new(),
                            None,
                        );
                    } else {
                        let ops: Vec<Decider> = self
                            .facts
                            .answers
                            .get(&e.requestId)
                            .into_iter()
                            .flatten()
                            .filter(|(_, out, at)| *out == e.outputHash && *at < p)
                            .map(|(op, _, _)| self.decider(*op, Role::Operator, None, l.block, p))
                            .collect();
                        self.push(
                            p,
                            DecisionKind::Finalization,
                            Rule::OperatorQuorum,
                            subject,
                            ops,
                            None,
                        );
                    }
                }
                InferenceRegistry::RequestExpired::SIGNATURE_HASH => {
                    if let Ok(e) = InferenceRegistry::RequestExpired::decode_log(&l.log) {
                        let subject = Subject::Request {
                            request: e.requestId,
                            output: None,
                        };
                        self.push(
                            p,
                            DecisionKind::Finalization,
                            Rule::RequestExpired,
                            subject,
                            Vec::new(),
                            None,
                        );
                    }
                }
                Slasher::SlashRequested::SIGNATURE_HASH => {
                    let Ok(e) = Slasher::SlashRequested::decode_log(&l.log) else {
                        continue;
                    };
                    let subject = Subject::Slash {
                        slash: e.slashId,
                        operator: e.operator,
                        fault: e.kind,
                        executed: false,
                        vetoed: false,
                    };
                    let request = U256::from_be_bytes(e.r#ref.0);
                    let (rule, deciders, follows) = match (e.kind, applied.get(&request)) {
                        (0, _) => (Rule::EquivocationProof, Vec::new(), None),
                        (2, _) => (Rule::MissedDeadline, Vec::new(), None),
                        (_, Some(r)) => (r.rule, r.deciders.clone(), Some(r.index)),
                        _ => {
                            let (rule, d) = self.authority(range.clone(), p, &mut authority);
                            (rule, d, None)
                        }
                    };
                    let index = self.push(p, DecisionKind::Slash, rule, subject, deciders, follows);
                    self.slashes.insert((a, e.slashId), index);
                }
                Slasher::SlashExecuted::SIGNATURE_HASH => {
                    if let Ok(e) = Slasher::SlashExecuted::decode_log(&l.log) {
                        self.mark_slash(a, e.slashId, true);
                    }
                }
                Slasher::SlashVetoed::SIGNATURE_HASH => {
                    let Ok(e) = Slasher::SlashVetoed::decode_log(&l.log) else {
                        continue;
                    };
                    let follows = self.mark_slash(a, e.slashId, false);
                    let (rule, deciders) = self.authority(range.clone(), p, &mut authority);
                    let subject = match follows.map(|i| &self.records[i].subject) {
                        Some(s) => s.clone(),
                        None => Subject::Slash {
                            slash: e.slashId,
                            operator: Address::ZERO,
                            fault: 1,
                            executed: false,
                            vetoed: true,
                        },
                    };
                    self.push(p, DecisionKind::Veto, rule, subject, deciders, follows);
                }
                InferenceRegistry::ModelRegistered::SIGNATURE_HASH => {
                    if let Ok(e) = InferenceRegistry::ModelRegistered::decode_log(&l.log) {
                        let (rule, deciders) = self.authority(range.clone(), p, &mut authority);
                        let subject = Subject::Model { model: e.modelId };
                        self.push(
                            p,
                            DecisionKind::ModelRegistration,
                            rule,
                            subject,
                            deciders,
                            None,
                        );
                    }
                }
                IdentityRegistry::RoleGranted::SIGNATURE_HASH
                | IdentityRegistry::RoleRevoked::SIGNATURE_HASH => {
                    self.role_change(range.clone(), p, &mut authority);
                }
                t if parameter_events().contains(&t) => {
                    if let Some((name, value)) = parameter(l) {
                        let (rule, deciders) = self.authority(range.clone(), p, &mut authority);
                        let subject = Subject::Parameter { name, value };
                        self.push(
                            p,
                            DecisionKind::ParameterChange,
                            rule,
                            subject,
                            deciders,
                            None,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn role_change(
        &mut self,
        range: std::ops::Range<usize>,
        p: usize,
        authority: &mut Option<(Rule, Vec<Decider>)>,
    ) {
        let l = &self.logs[p];
        let a = l.log.address;
        let (granted, role, account) =
            if let Ok(e) = IdentityRegistry::RoleGranted::decode_log(&l.log) {
                (true, e.role, e.account)
            } else if let Ok(e) = IdentityRegistry::RoleRevoked::decode_log(&l.log) {
                (false, e.role, e.account)
            } else {
                return;
            };
        if role.is_zero() {
            let admins = self.admins.entry(a).or_default();
            if granted {
                admins.insert(account);
            } else {
                admins.remove(&account);
            }
            return;
        }
        if role != issuer_role() {
            return;
        }
        let (rule, deciders) = self.authority(range, p, authority);
        let kind = if granted {
            DecisionKind::IssuerApproval
        } else {
            DecisionKind::IssuerRevocation
        };
        self.push(
            p,
            kind,
            rule,
            Subject::Issuer { issuer: account },
            deciders,
            None,
        );
    }

    /// Admin or timelock, and who, for a governed event at `p` (computed once per transaction).
    fn authority(
        &mut self,
        range: std::ops::Range<usize>,
        p: usize,
        cached: &mut Option<(Rule, Vec<Decider>)>,
    ) -> (Rule, Vec<Decider>) {
        if let Some(c) = cached {
            return c.clone();
        }
        let l = &self.logs[p];
        let executed_by_timelock = range.clone().any(|q| {
            let x = &self.logs[q];
            topic_of(x) == TimelockController::CallExecuted::SIGNATURE_HASH
                && self.timelocks.contains(&x.log.address)
        });
        let sent_by_timelock = l.sender.is_some_and(|s| self.timelocks.contains(&s));
        let out = if executed_by_timelock || sent_by_timelock {
            let proposal = range.clone().find_map(|q| {
                VerinferGovernor::ProposalExecuted::decode_log(&self.logs[q].log)
                    .ok()
                    .map(|e| (self.logs[q].log.address, e.proposalId))
            });
            let deciders = match proposal {
                Some(key) => {
                    // The governor's whole rule: its base quorum and K as the chain applied them
                    // (from the context), the governance flag from the logs.
                    let counting = Counting::ForAgainst {
                        quorum: self.ctx.quorums.get(&key).copied(),
                        residual_k: self.ctx.residual_ks.get(&key).copied().unwrap_or(0),
                        governance_target: self.facts.governance.contains(&key),
                    };
                    self.coalition(false, key, counting, l.block, p)
                }
                None => {
                    let timelock = l
                        .sender
                        .filter(|s| self.timelocks.contains(s))
                        .or_else(|| self.timelocks.iter().next().copied())
                        .unwrap_or_default();
                    vec![self.decider(timelock, Role::Timelock, None, l.block, p)]
                }
            };
            (Rule::TimelockCall, deciders)
        } else {
            let admins: Vec<Address> = match l.sender {
                Some(s) => vec![s],
                None => self
                    .admins
                    .get(&l.log.address)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default(),
            };
            let deciders = admins
                .into_iter()
                .map(|a| self.decider(a, Role::Admin, None, l.block, p))
                .collect();
            (Rule::AdminCall, deciders)
        };
        *cached = Some(out.clone());
        out
    }

    /// The deciding coalition of a dispute vote (`dispute`) or a proposal, as deciders.
    fn coalition(
        &self,
        dispute: bool,
        key: (Address, U256),
        counting: Counting,
        block: u64,
        p: usize,
    ) -> Vec<Decider> {
        let votes = if dispute {
            self.facts.dispute_votes.get(&key)
        } else {
            self.facts.proposal_votes.get(&key)
        };
        let Some(votes) = votes else {
            return Vec::new();
        };
        let indices: Vec<usize> = if dispute {
            let ballots: Vec<Ballot> = votes.ballots.iter().map(|(_, b, _)| *b).collect();
            deciding_coalition(&counting, &ballots)
        } else {
            // Voices as the governor counts them (as the simulator's capture trials do): the
            // accounts of one identity at the snapshot are one voice, and every account unattested
            // at the snapshot is in one pooled voice; each names all its accounts.
            let cast: Vec<(Ballot, U256)> = votes
                .ballots
                .iter()
                .map(|(voter, b, pos)| {
                    let block = self.logs[*pos].block;
                    (*b, self.facts.voice_identity(key, *voter, block))
                })
                .collect();
            proposal_coalition(&counting, &cast)
                .into_iter()
                .flatten()
                .collect()
        };
        indices
            .into_iter()
            .map(|i| {
                let (voter, ballot, _) = votes.ballots[i];
                self.decider(voter, Role::Voter, Some(ballot.weight), block, p)
            })
            .collect()
    }

    /// The coherent jurors of the drafted round a ruling at log position `p` closes: its voters
    /// (ballots between the round's draw at log position `drawn` and the ruling) for `option`, one
    /// seat one vote. For the final ruling these are the final round's coherent jurors.
    fn jurors(
        &self,
        key: (Address, U256),
        drawn: usize,
        option: u8,
        block: u64,
        p: usize,
    ) -> Vec<Decider> {
        let Some(votes) = self.facts.dispute_votes.get(&key) else {
            return Vec::new();
        };
        votes
            .ballots
            .iter()
            .filter(|(_, b, pos)| *pos > drawn && *pos < p && b.option == usize::from(option))
            .map(|(voter, b, _)| self.decider(*voter, Role::Voter, Some(b.weight), block, p))
            .collect()
    }

    fn decider(
        &self,
        account: Address,
        role: Role,
        weight: Option<U256>,
        block: u64,
        p: usize,
    ) -> Decider {
        Decider {
            account,
            role,
            person: self.resolver.person(account, block, p),
            capital: self.resolver.capital(account, role, block, p),
            weight,
        }
    }

    /// Marks slash `id` of Slasher `a` executed (or vetoed); returns its record.
    fn mark_slash(&mut self, a: Address, id: U256, executed: bool) -> Option<usize> {
        let i = *self.slashes.get(&(a, id))?;
        if let Subject::Slash {
            executed: e,
            vetoed: v,
            ..
        } = &mut self.records[i].subject
        {
            if executed {
                *e = true;
            } else {
                *v = true;
            }
        }
        Some(i)
    }

    fn push(
        &mut self,
        p: usize,
        kind: DecisionKind,
        rule: Rule,
        subject: Subject,
        deciders: Vec<Decider>,
        follows: Option<usize>,
    ) -> usize {
        let l = &self.logs[p];
        let index = self.records.len();
        self.records.push(Decision {
            index,
            kind,
            rule,
            path: rule.path(),
            block: l.block,
            epoch: self.ctx.epoch_of(l.block),
            tx: l.tx,
            contract: l.log.address,
            subject,
            deciders,
            follows,
        });
        index
    }
}

/// A parameter event's name and new value.
fn parameter(l: &ChainLog) -> Option<(String, String)> {
    let log = &l.log;
    let t = topic_of(l);
    Some(match t {
        DisputeGovernor::ParameterChanged::SIGNATURE_HASH => {
            let e = Staking::ParameterChanged::decode_log(log).ok()?;
            (bytes32_text(e.name), e.newValue.to_string())
        }
        Slasher::FaultParamsChanged::SIGNATURE_HASH => {
            let e = Slasher::FaultParamsChanged::decode_log(log).ok()?;
            let p = &e.params;
            (
                format!("faultParams[{}]", e.kind),
                format!(
                    "slashBps {} reporterBps {} vetoWindow {} jailDuration {}",
                    p.slashBps, p.reporterBps, p.vetoWindow, p.jailDuration
                ),
            )
        }
        Slasher::CapBpsChanged::SIGNATURE_HASH => {
            let e = Slasher::CapBpsChanged::decode_log(log).ok()?;
            ("capBps".into(), e.newCapBps.to_string())
        }
        Slasher::CapWindowChanged::SIGNATURE_HASH => {
            let e = Slasher::CapWindowChanged::decode_log(log).ok()?;
            ("capWindow".into(), e.newCapWindow.to_string())
        }
        Slasher::SinkChanged::SIGNATURE_HASH => {
            let e = Slasher::SinkChanged::decode_log(log).ok()?;
            ("slashSink".into(), e.treasury.to_string())
        }
        InferenceRegistry::TreasuryChanged::SIGNATURE_HASH => {
            let e = InferenceRegistry::TreasuryChanged::decode_log(log).ok()?;
            ("treasury".into(), e.treasury.to_string())
        }
        InferenceRegistry::BatchWindowChanged::SIGNATURE_HASH => {
            let e = InferenceRegistry::BatchWindowChanged::decode_log(log).ok()?;
            ("batchWindow".into(), e.batchWindow.to_string())
        }
        InferenceRegistry::DeliveryParamsChanged::SIGNATURE_HASH => {
            let e = InferenceRegistry::DeliveryParamsChanged::decode_log(log).ok()?;
            (
                "deliveryParams".into(),
                format!(
                    "maxOutputBytes {} callbackGasPrice {}",
                    e.maxOutputBytes, e.callbackGasPrice
                ),
            )
        }
        VerinferGovernor::VotingDelaySet::SIGNATURE_HASH => {
            let e = VerinferGovernor::VotingDelaySet::decode_log(log).ok()?;
            ("votingDelay".into(), e.newVotingDelay.to_string())
        }
        VerinferGovernor::VotingPeriodSet::SIGNATURE_HASH => {
            let e = VerinferGovernor::VotingPeriodSet::decode_log(log).ok()?;
            ("votingPeriod".into(), e.newVotingPeriod.to_string())
        }
        VerinferGovernor::ProposalThresholdSet::SIGNATURE_HASH => {
            let e = VerinferGovernor::ProposalThresholdSet::decode_log(log).ok()?;
            (
                "proposalThreshold".into(),
                e.newProposalThreshold.to_string(),
            )
        }
        VerinferGovernor::LateQuorumVoteExtensionSet::SIGNATURE_HASH => {
            let e = VerinferGovernor::LateQuorumVoteExtensionSet::decode_log(log).ok()?;
            (
                "lateQuorumVoteExtension".into(),
                e.newVoteExtension.to_string(),
            )
        }
        TimelockController::MinDelayChange::SIGNATURE_HASH => {
            let e = TimelockController::MinDelayChange::decode_log(log).ok()?;
            ("timelockMinDelay".into(), e.newDuration.to_string())
        }
        _ => return None,
    })
}
