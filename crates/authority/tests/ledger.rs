//! The ledger on hand-built logs: one test per decision kind and path.

use std::collections::BTreeMap;

use alloy::primitives::{aliases::U48, keccak256, Address, Log, B256, U256};
use alloy::sol_types::SolEvent;
use verinfer_authority::{
    AuthorityLedger, ChainLog, Decision, DecisionKind, LedgerContext, Path, Person, Role, Rule,
    Subject,
};
use verinfer_bindings::inference_registry::IInferenceRegistry::ModelParams;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{
    DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Referee, Slasher,
    Staking, TimelockController, VerinferGovernor,
};

const REGISTRY: Address = Address::repeat_byte(0x11);
const DISPUTES: Address = Address::repeat_byte(0x22);
const REFEREE: Address = Address::repeat_byte(0x33);
const SLASHER: Address = Address::repeat_byte(0x44);
const IDENTITY: Address = Address::repeat_byte(0x55);
const VOTES: Address = Address::repeat_byte(0x66);
const TIMELOCK: Address = Address::repeat_byte(0x77);
const GOVERNOR: Address = Address::repeat_byte(0x88);
const STAKING: Address = Address::repeat_byte(0x99);
const ADMIN: Address = Address::repeat_byte(0xad);

fn who(i: u8) -> Address {
    Address::with_last_byte(i)
}

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

/// Builds a chain of logs: `tx(block)` opens a transaction, `emit` appends to it.
#[derive(Default)]
struct Chain {
    logs: Vec<ChainLog>,
    tx: u64,
    block: u64,
    sender: Option<Address>,
}

impl Chain {
    fn tx(&mut self, block: u64, sender: Option<Address>) -> &mut Self {
        self.tx += 1;
        self.block = block;
        self.sender = sender;
        self
    }
    fn emit<E: SolEvent>(&mut self, address: Address, e: E) -> &mut Self {
        self.logs.push(ChainLog {
            log: Log {
                address,
                data: e.encode_log_data(),
            },
            block: self.block,
            tx: B256::from(U256::from(self.tx)),
            sender: self.sender,
        });
        self
    }
    fn ledger(&self) -> AuthorityLedger {
        AuthorityLedger::build(
            &self.logs,
            &LedgerContext {
                epoch_starts: vec![100],
                ..LedgerContext::default()
            },
        )
    }
}

fn out(i: u8) -> B256 {
    B256::repeat_byte(i)
}

fn answer(c: &mut Chain, request: u64, op: Address, output: B256) {
    c.emit(
        REGISTRY,
        InferenceRegistry::AnswerRecorded {
            requestId: U256::from(request),
            operator: op,
            outputHash: output,
        },
    );
}

fn finalized(c: &mut Chain, request: u64, output: B256) {
    c.emit(
        REGISTRY,
        InferenceRegistry::RequestFinalized {
            requestId: U256::from(request),
            outputHash: output,
        },
    );
}

fn vote(c: &mut Chain, dispute: u64, voter: Address, option: u8, weight: u64) {
    c.emit(
        DISPUTES,
        DisputeGovernor::DisputeVoteCast {
            disputeId: U256::from(dispute),
            voter,
            option,
            weight: U256::from(weight),
        },
    );
}

fn ruled(c: &mut Chain, dispute: u64, outcome: B256, option: u8, quorum: bool) {
    c.emit(
        DISPUTES,
        DisputeGovernor::DisputeRuled {
            disputeId: U256::from(dispute),
            outcome,
            option,
            totalCast: U256::ZERO,
            executableAt: U48::ZERO,
            stats: DisputeGovernor::RulingStats {
                voters: U256::ZERO,
                largestVoterBps: U256::ZERO,
                flipCoalition: U256::ZERO,
                saturated: false,
                quorumReached: quorum,
            },
        },
    );
}

fn opened(c: &mut Chain, dispute: u64, request: u64, candidates: usize) {
    c.emit(
        DISPUTES,
        DisputeGovernor::DisputeOpened {
            disputeId: U256::from(dispute),
            requestId: U256::from(request),
            candidates: (1..=candidates as u8).map(out).collect(),
            snapshot: U48::ZERO,
            voteEnd: U48::ZERO,
        },
    );
}

fn resolved(c: &mut Chain, dispute: U256, request: u64, output: B256) {
    c.emit(
        REGISTRY,
        InferenceRegistry::DisputeResolved {
            disputeId: dispute,
            requestId: U256::from(request),
            outputHash: output,
        },
    );
    finalized(c, request, output);
}

fn slash_requested(c: &mut Chain, slash: u64, operator: Address, kind: u8, request: u64) {
    c.emit(
        SLASHER,
        Slasher::SlashRequested {
            slashId: U256::from(slash),
            operator,
            kind,
            r#ref: B256::from(U256::from(request)),
            executableAt: U48::ZERO,
        },
    );
}

fn slash_executed(c: &mut Chain, slash: u64, operator: Address) {
    c.emit(
        SLASHER,
        Slasher::SlashExecuted {
            slashId: U256::from(slash),
            operator,
            amount: tokens(1),
            toReporter: U256::ZERO,
            toSink: tokens(1),
        },
    );
}

fn only(l: &AuthorityLedger, kind: DecisionKind) -> Vec<&Decision> {
    l.of_kind(kind).collect()
}

fn accounts(d: &Decision) -> Vec<Address> {
    d.deciders.iter().map(|x| x.account).collect()
}

#[test]
fn a_quorum_finalization_is_decided_by_the_operators_whose_answer_is_the_output() {
    let mut c = Chain::default();
    c.tx(1, None).emit(
        REGISTRY,
        InferenceRegistry::OperatorWeightUpdated {
            modelId: B256::ZERO,
            operator: who(1),
            weight: tokens(3000),
        },
    );
    c.tx(2, None);
    answer(&mut c, 7, who(1), out(1));
    c.tx(2, None);
    answer(&mut c, 7, who(2), out(9));
    c.tx(2, None);
    answer(&mut c, 7, who(3), out(1));
    c.tx(3, None);
    finalized(&mut c, 7, out(1));
    let l = c.ledger();
    let f = only(&l, DecisionKind::Finalization);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].rule, f[0].path), (Rule::OperatorQuorum, Path::Quorum));
    assert_eq!(accounts(f[0]), vec![who(1), who(3)]);
    assert!(f[0].deciders.iter().all(|d| d.role == Role::Operator));
    assert_eq!(f[0].deciders[0].capital, 3000.0);
    assert_eq!(f[0].deciders[1].person, Person::Account(who(3)));
}

#[test]
fn an_expired_request_and_an_unavailable_output_are_defaults_decided_by_nobody() {
    let mut c = Chain::default();
    c.tx(5, None).emit(
        REGISTRY,
        InferenceRegistry::RequestExpired {
            requestId: U256::from(1),
        },
    );
    c.tx(6, None).emit(
        REGISTRY,
        InferenceRegistry::OutputUnavailable {
            requestId: U256::from(2),
            challenger: who(9),
        },
    );
    finalized(&mut c, 2, B256::ZERO);
    let l = c.ledger();
    let rules: Vec<Rule> = l.records.iter().map(|d| d.rule).collect();
    assert_eq!(rules, vec![Rule::RequestExpired, Rule::OutputUnavailable]);
    assert!(l
        .records
        .iter()
        .all(|d| d.path == Path::Default && d.deciders.is_empty()));
    assert_eq!(l.summary.defaults.len(), 2);
}

#[test]
fn a_vote_ruling_is_decided_by_its_exact_deciding_coalition_and_what_it_carries_out_inherits_it() {
    let mut c = Chain::default();
    // two accounts of one identity; stake recorded for capital
    c.tx(1, None)
        .emit(
            IDENTITY,
            IdentityRegistry::AccountLinked {
                account: who(1),
                identityId: U256::from(5),
            },
        )
        .emit(
            IDENTITY,
            IdentityRegistry::AccountLinked {
                account: who(2),
                identityId: U256::from(5),
            },
        )
        .emit(
            VOTES,
            QuadraticVotes::StakeObserved {
                account: who(1),
                oldStake: U256::ZERO,
                newStake: tokens(400),
            },
        );
    c.tx(2, None);
    opened(&mut c, 1, 7, 2);
    // option 1: 10 + 6 + 3 = 19; option 2: 12. Removing 10 alone leaves 9 < 12: coalition {who(1)}.
    for (v, o, w) in [(1u8, 1u8, 10u64), (2, 1, 6), (3, 1, 3), (4, 2, 12)] {
        c.tx(3, None);
        vote(&mut c, 1, who(v), o, w);
    }
    c.tx(4, None);
    ruled(&mut c, 1, out(1), 1, true);
    c.tx(5, None);
    resolved(&mut c, U256::from(1), 7, out(1));
    slash_requested(&mut c, 3, who(20), 1, 7);
    let l = c.ledger();
    let r = only(&l, DecisionKind::DisputeRuling);
    assert_eq!((r[0].rule, r[0].path), (Rule::DisputeVote, Path::Vote));
    assert_eq!(accounts(r[0]), vec![who(1)]);
    assert_eq!(r[0].deciders[0].person, Person::Identity(U256::from(5)));
    assert_eq!(r[0].deciders[0].capital, 400.0);
    assert_eq!(r[0].deciders[0].weight, Some(U256::from(10)));
    let f = only(&l, DecisionKind::Finalization);
    let s = only(&l, DecisionKind::Slash);
    assert_eq!(f[0].follows, Some(r[0].index));
    assert_eq!(s[0].follows, Some(r[0].index));
    assert_eq!((f[0].path, s[0].path), (Path::Vote, Path::Vote));
    assert_eq!(accounts(s[0]), vec![who(1)]);
}

#[test]
fn the_deciding_coalition_needs_two_voters_when_the_largest_alone_cannot_flip() {
    let mut c = Chain::default();
    c.tx(2, None);
    opened(&mut c, 4, 8, 2);
    // option 1: 8 + 7 + 5 = 20; option 2: 9. Removing 8 leaves 12 > 9; removing 8 and 7 leaves 5.
    for (v, o, w) in [(1u8, 1u8, 8u64), (2, 1, 7), (3, 1, 5), (4, 2, 9)] {
        c.tx(3, None);
        vote(&mut c, 4, who(v), o, w);
    }
    c.tx(4, None);
    ruled(&mut c, 4, out(1), 1, true);
    let l = c.ledger();
    assert_eq!(accounts(&l.records[0]), vec![who(1), who(2)]);
}

#[test]
fn a_ruling_without_quorum_is_a_default_and_its_status_quo_finalization_too() {
    let mut c = Chain::default();
    c.tx(2, None);
    opened(&mut c, 2, 9, 1);
    c.tx(3, None);
    vote(&mut c, 2, who(1), 1, 3);
    c.tx(4, None);
    ruled(&mut c, 2, B256::ZERO, 0, false);
    c.tx(5, None);
    resolved(&mut c, U256::from(2), 9, out(4));
    let l = c.ledger();
    let r = only(&l, DecisionKind::DisputeRuling);
    assert_eq!((r[0].rule, r[0].path), (Rule::NoQuorum, Path::Default));
    assert!(r[0].deciders.is_empty());
    let f = only(&l, DecisionKind::Finalization);
    assert_eq!(
        (f[0].rule, f[0].follows),
        (Rule::NoQuorum, Some(r[0].index))
    );
    let d = &l.summary.defaults;
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].rule, d[0].decisions), (Rule::NoQuorum, 2));
}

fn game_id(i: u64) -> U256 {
    (U256::from(1) << 255) + U256::from(i)
}

#[test]
fn a_referee_game_ended_by_the_one_step_check_is_arithmetic_and_its_slash_follows_it() {
    let mut c = Chain::default();
    c.tx(3, None).emit(
        REFEREE,
        Referee::StepChecked {
            gameId: game_id(1),
            layer: U256::ZERO,
            element: U256::from(3),
            truth: 1,
            defenderValue: 2,
            challengerValue: 1,
        },
    );
    // the registry's effects come first in the log order; the ruling is still recorded first
    c.tx(4, None);
    resolved(&mut c, game_id(1), 11, out(2));
    slash_requested(&mut c, 1, who(30), 1, 11);
    c.emit(
        REFEREE,
        Referee::GameEnded {
            gameId: game_id(1),
            outcome: 2,
            output: out(2),
        },
    );
    let l = c.ledger();
    let kinds: Vec<(DecisionKind, Rule)> = l.records.iter().map(|d| (d.kind, d.rule)).collect();
    assert_eq!(
        kinds,
        vec![
            (DecisionKind::DisputeRuling, Rule::OneStepCheck),
            (DecisionKind::Finalization, Rule::OneStepCheck),
            (DecisionKind::Slash, Rule::OneStepCheck),
        ]
    );
    assert!(l
        .records
        .iter()
        .all(|d| d.path == Path::Arithmetic && d.deciders.is_empty()));
    assert_eq!(l.records[2].follows, Some(0));
}

#[test]
fn a_referee_game_ended_by_timeout_is_a_default() {
    let mut c = Chain::default();
    c.tx(4, None).emit(
        REFEREE,
        Referee::GameEnded {
            gameId: game_id(2),
            outcome: 1,
            output: out(1),
        },
    );
    resolved(&mut c, game_id(2), 12, out(1));
    c.tx(5, None).emit(
        REFEREE,
        Referee::GameEnded {
            gameId: game_id(3),
            outcome: 3,
            output: B256::ZERO,
        },
    );
    let l = c.ledger();
    let r = only(&l, DecisionKind::DisputeRuling);
    assert_eq!(
        (r[0].rule, r[0].path),
        (Rule::RefereeTimeout, Path::Default)
    );
    assert_eq!(r[1].rule, Rule::NoCommitment);
    assert_eq!(
        only(&l, DecisionKind::Finalization)[0].rule,
        Rule::RefereeTimeout
    );
}

#[test]
fn equivocation_and_missed_deadline_slashes_are_arithmetic_and_their_execution_is_recorded() {
    let mut c = Chain::default();
    c.tx(2, Some(who(9)));
    slash_requested(&mut c, 1, who(1), 0, 5);
    slash_executed(&mut c, 1, who(1));
    c.tx(3, Some(who(9)));
    slash_requested(&mut c, 2, who(2), 2, 6);
    let l = c.ledger();
    let s = only(&l, DecisionKind::Slash);
    assert_eq!(
        s.iter().map(|d| (d.rule, d.path)).collect::<Vec<_>>(),
        vec![
            (Rule::EquivocationProof, Path::Arithmetic),
            (Rule::MissedDeadline, Path::Arithmetic)
        ]
    );
    assert!(matches!(
        s[0].subject,
        Subject::Slash { executed: true, .. }
    ));
    assert!(matches!(
        s[1].subject,
        Subject::Slash {
            executed: false,
            ..
        }
    ));
    assert!(s.iter().all(|d| d.deciders.is_empty()));
}

fn governor_vote(c: &mut Chain, proposal: u64, voter: Address, support: u8, weight: u64) {
    c.emit(
        GOVERNOR,
        VerinferGovernor::VoteCast {
            voter,
            proposalId: U256::from(proposal),
            support,
            weight: U256::from(weight),
            reason: String::new(),
        },
    );
}

#[test]
fn a_veto_executed_by_the_timelock_is_decided_by_the_proposals_deciding_voters() {
    let mut c = Chain::default();
    c.tx(2, None);
    slash_requested(&mut c, 4, who(40), 1, 3);
    // the voters hold identities (unattested ones would be one pooled voice)
    for v in 1u8..=4 {
        c.emit(
            VOTES,
            QuadraticVotes::IdentityObserved {
                account: who(v),
                oldId: U256::ZERO,
                newId: U256::from(v),
            },
        );
    }
    // for: 5 + 4 + 1 = 10, against 6: removing 5 leaves 5 <= 6
    for (v, s, w) in [(1u8, 1u8, 5u64), (2, 1, 4), (3, 1, 1), (4, 0, 6)] {
        c.tx(3, None);
        governor_vote(&mut c, 77, who(v), s, w);
    }
    c.tx(9, None)
        .emit(
            SLASHER,
            Slasher::SlashVetoed {
                slashId: U256::from(4),
            },
        )
        .emit(
            TIMELOCK,
            TimelockController::CallExecuted {
                id: B256::ZERO,
                index: U256::ZERO,
                target: SLASHER,
                value: U256::ZERO,
                data: Default::default(),
            },
        )
        .emit(
            GOVERNOR,
            VerinferGovernor::ProposalExecuted {
                proposalId: U256::from(77),
            },
        );
    let l = c.ledger();
    let v = only(&l, DecisionKind::Veto);
    assert_eq!((v[0].rule, v[0].path), (Rule::TimelockCall, Path::Timelock));
    assert_eq!(accounts(v[0]), vec![who(1)]);
    assert_eq!(v[0].follows, Some(0));
    assert!(matches!(
        l.records[0].subject,
        Subject::Slash { vetoed: true, .. }
    ));
}

/// A proposal `id` with snapshot block 10 (`ProposalCreated`, flagged as a governance target when
/// `flagged`), `ballots` (voter, support, weight) at block 11, and a veto the timelock executes
/// for it at block 20; `attested` accounts get a `QuadraticVotes` identity of their own at block
/// 5, and `late` ones at block 12, after the snapshot. Returns the veto's deciders with the
/// proposal's `base_quorum` and `k` as a caller reads them from the chain.
fn executed_proposal_deciders(
    flagged: bool,
    ballots: &[(u8, u8, u64)],
    attested: &[u8],
    late: &[u8],
    base_quorum: u64,
    k: usize,
) -> Vec<Address> {
    let own = |accounts: &[u8], first: u64| -> Vec<(u8, u64)> {
        (first..).zip(accounts).map(|(id, a)| (*a, id)).collect()
    };
    executed_proposal_deciders_linked(
        flagged,
        ballots,
        &own(attested, 1000),
        &own(late, 2000),
        base_quorum,
        k,
    )
}

/// [`executed_proposal_deciders`] with the identities given: `(account, identity)` linked at block
/// 5 (`attested`) or 12 (`late`), so that one identity can link several accounts.
fn executed_proposal_deciders_linked(
    flagged: bool,
    ballots: &[(u8, u8, u64)],
    attested: &[(u8, u64)],
    late: &[(u8, u64)],
    base_quorum: u64,
    k: usize,
) -> Vec<Address> {
    let id = U256::from(91);
    let mut c = Chain::default();
    for (block, accounts) in [(5, attested), (12, late)] {
        for (a, identity) in accounts {
            c.tx(block, None).emit(
                VOTES,
                QuadraticVotes::IdentityObserved {
                    account: who(*a),
                    oldId: U256::ZERO,
                    newId: U256::from(*identity),
                },
            );
        }
    }
    c.tx(8, None).emit(
        GOVERNOR,
        VerinferGovernor::ProposalCreated {
            proposalId: id,
            proposer: who(1),
            targets: vec![SLASHER],
            values: vec![U256::ZERO],
            signatures: vec![String::new()],
            calldatas: vec![Default::default()],
            voteStart: U256::from(10),
            voteEnd: U256::from(15),
            description: "veto".into(),
        },
    );
    if flagged {
        c.emit(
            GOVERNOR,
            VerinferGovernor::GovernanceProposalFlagged { proposalId: id },
        );
    }
    for (v, support, w) in ballots {
        c.tx(11, None);
        governor_vote(&mut c, 91, who(*v), *support, *w);
    }
    c.tx(20, None)
        .emit(
            SLASHER,
            Slasher::SlashVetoed {
                slashId: U256::from(4),
            },
        )
        .emit(
            TIMELOCK,
            TimelockController::CallExecuted {
                id: B256::ZERO,
                index: U256::ZERO,
                target: SLASHER,
                value: U256::ZERO,
                data: Default::default(),
            },
        )
        .emit(
            GOVERNOR,
            VerinferGovernor::ProposalExecuted { proposalId: id },
        );
    assert_eq!(
        verinfer_authority::build::proposals_to_read(&c.logs),
        [(GOVERNOR, id)].into_iter().collect()
    );
    let ctx = LedgerContext {
        quorums: [((GOVERNOR, id), U256::from(base_quorum))].into(),
        residual_ks: [((GOVERNOR, id), k)].into(),
        ..LedgerContext::default()
    };
    let l = AuthorityLedger::build(&c.logs, &ctx);
    let v = only(&l, DecisionKind::Veto);
    assert_eq!(v[0].rule, Rule::TimelockCall);
    accounts(v[0])
}

#[test]
fn an_executed_proposals_deciders_follow_the_k_the_chain_applied() {
    // for 50, 30, 20, 10 (attested) and two unattested accounts of 6 (one pooled voice of 12);
    // against 5; base quorum 15. K = 0: removing the voices 50, 30, 20 and the pool's 12 leaves
    // 10 < 15. K = 2: the residual is 122 - 80 = 42; without 50 it is 72 - (30 + 20) = 22 >= 15,
    // without 30 as well 42 - (20 + 12) = 10 < 15: 2 voters decide.
    let ballots = [
        (1, 1, 50),
        (2, 1, 30),
        (3, 1, 20),
        (4, 1, 10),
        (5, 1, 6),
        (6, 1, 6),
        (7, 0, 5),
    ];
    let attested = [1, 2, 3, 4, 7];
    let base = executed_proposal_deciders(false, &ballots, &attested, &[], 15, 0);
    assert_eq!(base, vec![who(1), who(2), who(3), who(5), who(6)]);
    let k2 = executed_proposal_deciders(false, &ballots, &attested, &[], 15, 2);
    assert_eq!(k2, vec![who(1), who(2)]);
}

#[test]
fn the_unattested_pool_at_the_snapshot_decides_as_one_voice_naming_all_its_accounts() {
    // for 40 and 20 (attested before the snapshot), 25 and 25 from accounts without an identity at
    // the snapshot (6 gets one after it: still pooled, as `getPastIdentity(snapshot - 1)` reads);
    // against 5, base quorum 15, K = 1. Voices 50 (the pool), 40, 20: residual 110 - 50 = 60;
    // without the pool 60 - 40 = 20, without the 40 too 0: the pool and the 40 decide.
    let ballots = [(1, 1, 40), (2, 1, 20), (5, 1, 25), (6, 1, 25), (7, 0, 5)];
    let d = executed_proposal_deciders(false, &ballots, &[1, 2, 7], &[6], 15, 1);
    assert_eq!(d, vec![who(5), who(6), who(1)]);
    // had 6 been attested before the snapshot, the voices are 40, 25, 20 and the pool of 25 (5
    // alone): residual 70; without 40 and 6's 25 it is 45 - 25 = 20; without the pool too 0
    let d = executed_proposal_deciders(false, &ballots, &[1, 2, 6, 7], &[], 15, 1);
    assert_eq!(d, vec![who(1), who(6), who(5)]);
}

#[test]
fn the_linked_accounts_of_one_identity_decide_as_one_voice_naming_all_of_them() {
    // identity 500 votes 30 for through accounts 1, 2, 3 (10 each); identities of their own vote
    // 25 (4), 20 (5), 12 (6), 12 (7); against 5 (8); base quorum 25, K = 1. Voices 30, 25, 20, 12,
    // 12: residual 99 - 30 = 69; without the identity 69 - 25 = 44, without the 25 too 44 - 20 =
    // 24 < 25: the identity (all three accounts) and the 25 decide.
    let ballots = [
        (1, 1, 10),
        (2, 1, 10),
        (3, 1, 10),
        (4, 1, 25),
        (5, 1, 20),
        (6, 1, 12),
        (7, 1, 12),
        (8, 0, 5),
    ];
    let linked = [
        (1, 500),
        (2, 500),
        (3, 500),
        (4, 501),
        (5, 502),
        (6, 503),
        (7, 504),
        (8, 505),
    ];
    let d = executed_proposal_deciders_linked(false, &ballots, &linked, &[], 25, 1);
    assert_eq!(d, vec![who(1), who(2), who(3), who(4)]);
    // keyed by account (each with an identity of its own) the three 10s are three small voices:
    // residual 99 - 25 = 74; without 25, 20, 12, 12 it is 30 - 10 = 20 < 25, and they decide
    let d = executed_proposal_deciders(false, &ballots, &[1, 2, 3, 4, 5, 6, 7, 8], &[], 25, 1);
    assert_eq!(d, vec![who(4), who(5), who(6), who(7)]);
}

#[test]
fn a_governance_target_proposals_deciders_follow_its_two_thirds_bar() {
    // for 50, 30, 20 vs against 40: a simple majority survives the loss of the 50 (50 > 40), the
    // 2/3 bar of a flagged proposal does not (50 * 3 < 90 * 2)
    let ballots = [(1, 1, 50), (2, 1, 30), (3, 1, 20), (4, 0, 40)];
    let all = [1, 2, 3, 4];
    let plain = executed_proposal_deciders(false, &ballots, &all, &[], 10, 0);
    assert_eq!(plain, vec![who(1), who(2)]);
    let flagged = executed_proposal_deciders(true, &ballots, &all, &[], 10, 0);
    assert_eq!(flagged, vec![who(1)]);
}

#[test]
fn parameter_changes_model_registrations_and_issuer_decisions_name_the_admin() {
    let mut c = Chain::default();
    // sender unknown: the admin is the holder of the contract's admin role
    c.tx(1, None)
        .emit(
            IDENTITY,
            IdentityRegistry::RoleGranted {
                role: B256::ZERO,
                account: ADMIN,
                sender: ADMIN,
            },
        )
        .emit(
            IDENTITY,
            IdentityRegistry::RoleGranted {
                role: keccak256("ISSUER_ROLE"),
                account: who(7),
                sender: ADMIN,
            },
        );
    c.tx(2, Some(ADMIN)).emit(
        STAKING,
        Staking::ParameterChanged {
            name: B256::right_padding_from(b"unbondingDelay"),
            oldValue: U256::from(1),
            newValue: U256::from(2),
        },
    );
    c.tx(3, Some(ADMIN)).emit(
        REGISTRY,
        InferenceRegistry::ModelRegistered {
            modelId: out(3),
            weightsHash: B256::ZERO,
            runtimeSpecHash: B256::ZERO,
            params: ModelParams {
                mode: 0,
                k: 3,
                q: 2,
                challengeWindow: 600,
                minStake: tokens(1000),
                challengeBond: U256::ZERO,
                minFee: U256::ZERO,
            },
        },
    );
    c.tx(4, Some(TIMELOCK)).emit(
        IDENTITY,
        IdentityRegistry::RoleRevoked {
            role: keccak256("ISSUER_ROLE"),
            account: who(7),
            sender: TIMELOCK,
        },
    );
    let l = AuthorityLedger::build(
        &c.logs,
        &LedgerContext {
            timelock: Some(TIMELOCK),
            ..LedgerContext::default()
        },
    );
    let got: Vec<(DecisionKind, Rule, Vec<Address>)> = l
        .records
        .iter()
        .map(|d| (d.kind, d.rule, accounts(d)))
        .collect();
    assert_eq!(
        got,
        vec![
            (DecisionKind::IssuerApproval, Rule::AdminCall, vec![ADMIN]),
            (DecisionKind::ParameterChange, Rule::AdminCall, vec![ADMIN]),
            (
                DecisionKind::ModelRegistration,
                Rule::AdminCall,
                vec![ADMIN]
            ),
            (
                DecisionKind::IssuerRevocation,
                Rule::TimelockCall,
                vec![TIMELOCK]
            ),
        ]
    );
    assert_eq!(
        l.records[1].subject,
        Subject::Parameter {
            name: "unbondingDelay".into(),
            value: "2".into()
        }
    );
    assert_eq!(l.records[3].deciders[0].role, Role::Timelock);
}

#[test]
fn the_summary_splits_paths_and_measures_deciders_by_person_and_capital_per_epoch() {
    let mut c = Chain::default();
    let persons: BTreeMap<Address, Person> = [
        (who(1), Person::Named("whale".into())),
        (who(2), Person::Named("whale".into())),
    ]
    .into();
    // epoch 0: request 1 by operators 1 and 2 (one person), request 2 by operator 3
    for (req, ops) in [(1u64, vec![1u8, 2]), (2, vec![3])] {
        c.tx(1, None);
        for op in &ops {
            answer(&mut c, req, who(*op), out(1));
        }
        c.tx(2, None);
        finalized(&mut c, req, out(1));
    }
    // epoch 1: an equivocation slash (arithmetic)
    c.tx(150, None);
    slash_requested(&mut c, 1, who(3), 0, 2);
    let l = AuthorityLedger::build(
        &c.logs,
        &LedgerContext {
            epoch_starts: vec![100],
            persons,
            ..LedgerContext::default()
        },
    );
    let s = &l.summary;
    assert_eq!(s.decisions, 3);
    let share = |p: Path| s.by_path.iter().find(|x| x.path == p).map(|x| x.share);
    assert_eq!(share(Path::Quorum), Some(2.0 / 3.0));
    assert_eq!(share(Path::Arithmetic), Some(1.0 / 3.0));
    // authority: whale 1.0, operator 3 1.0: two persons are needed to pass one half
    assert_eq!(s.concentration.persons, 2);
    assert_eq!(s.concentration.nakamoto_persons, 2);
    assert!(s.concentration.gini_persons.abs() < 1e-12);
    assert_eq!(s.epochs.len(), 2);
    assert_eq!(s.epochs[1].concentration.decided_by_someone, 0);
    assert!(
        s.table().contains("| finalization | 0 | 2 |"),
        "{}",
        s.table()
    );
}

#[test]
fn an_account_that_left_its_identity_is_its_own_person_again() {
    let mut c = Chain::default();
    c.tx(1, None).emit(
        IDENTITY,
        IdentityRegistry::AccountLinked {
            account: who(1),
            identityId: U256::from(3),
        },
    );
    c.tx(2, None);
    opened(&mut c, 1, 1, 1);
    vote(&mut c, 1, who(1), 1, 5);
    c.tx(3, None);
    ruled(&mut c, 1, out(1), 1, true);
    c.tx(4, None).emit(
        IDENTITY,
        IdentityRegistry::AccountUnlinked {
            account: who(1),
            identityId: U256::from(3),
            by: who(1),
        },
    );
    c.tx(5, None);
    opened(&mut c, 2, 2, 1);
    vote(&mut c, 2, who(1), 1, 5);
    c.tx(6, None);
    ruled(&mut c, 2, out(1), 1, true);
    let l = c.ledger();
    let persons: Vec<&Person> = l.records.iter().map(|d| &d.deciders[0].person).collect();
    assert_eq!(
        persons,
        vec![&Person::Identity(U256::from(3)), &Person::Account(who(1))]
    );
}

fn drawn(c: &mut Chain, dispute: u64, round: u64, jurors: &[Address]) {
    c.emit(
        DISPUTES,
        DisputeGovernor::JuryDrawn {
            disputeId: U256::from(dispute),
            round: U256::from(round),
            seedBlock: U256::ZERO,
            jurors: jurors.to_vec(),
            seats: U256::from(jurors.len()),
        },
    );
}

#[test]
fn a_jury_ruling_is_decided_by_the_coherent_jurors_of_the_round_it_closes() {
    let mut c = Chain::default();
    c.tx(2, None);
    opened(&mut c, 1, 7, 2);
    // Round 0: who(1), who(6) for option 1, who(2) for option 2, ruled option 1; appealed; round 1:
    // who(3), who(4) for option 2, who(5) for option 1. The final ruling is option 2.
    c.tx(3, None);
    drawn(&mut c, 1, 0, &[who(1), who(2), who(6)]);
    for (v, o) in [(1u8, 1u8), (2, 2), (6, 1)] {
        c.tx(4, None);
        vote(&mut c, 1, who(v), o, 1);
    }
    c.tx(5, None);
    ruled(&mut c, 1, out(1), 1, true);
    c.tx(6, None);
    drawn(&mut c, 1, 1, &[who(3), who(4), who(5)]);
    for (v, o) in [(3u8, 2u8), (4, 2), (5, 1)] {
        c.tx(7, None);
        vote(&mut c, 1, who(v), o, 1);
    }
    c.tx(8, None);
    ruled(&mut c, 1, out(2), 2, true);
    let l = c.ledger();
    let r = only(&l, DecisionKind::DisputeRuling);
    // The appealed ruling is its round's: who(1) and who(6); the final one the last round's.
    assert_eq!((r[0].rule, r[0].path), (Rule::DraftedJury, Path::Vote));
    assert_eq!(accounts(r[0]), vec![who(1), who(6)]);
    assert_eq!((r[1].rule, r[1].path), (Rule::DraftedJury, Path::Vote));
    assert_eq!(accounts(r[1]), vec![who(3), who(4)]);
    // An undecided jury ruling is a default decided by nobody.
    let mut c = Chain::default();
    c.tx(2, None);
    opened(&mut c, 2, 8, 2);
    c.tx(3, None);
    drawn(&mut c, 2, 0, &[who(1), who(2), who(3)]);
    c.tx(4, None);
    vote(&mut c, 2, who(1), 1, 1);
    c.tx(5, None);
    ruled(&mut c, 2, out(1), 1, false);
    let l = c.ledger();
    let r = only(&l, DecisionKind::DisputeRuling);
    assert_eq!((r[0].rule, r[0].path), (Rule::NoQuorum, Path::Default));
    assert!(r[0].deciders.is_empty());
}
