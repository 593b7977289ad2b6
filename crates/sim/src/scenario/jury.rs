//! The drafted dispute jury in the simulator (scenario section `[jury]`, docs/governance.md §3
//! "Drafted jury"). Before the first epoch the admin sets the jury parameters with
//! `DisputeGovernor.setJuryParameters`, a share of the attested stakers and every cartel operator join the
//! `JurorPool` with a bond (a share of their stake, within the pool's bond bounds; joins are scheduled
//! before any traffic because the pool is frozen while a draw is pending). A vote dispute opened while the
//! pool holds at least `min_pool_size` jurors is drafted: the sim draws it from the next block, reads the
//! seats (`JurorPool.draftedJurors`, `seatOf`), and each seated juror commits a hidden vote with
//! probability `vote_probability` (honest jurors for the correct output, cartel jurors for the
//! cartel's; `DisputeGovernor.commitVote` of `JurorPool.voteCommitment`). After the commit period the
//! committed jurors reveal (`revealVote`): honest ones with probability `reveal_probability`, the
//! cartel's always; an unrevealed commitment is a non-vote (the contract penalises it as one). While
//! `appeal_rounds` remain, the honest side appeals a wrong ruling (2n + 1 seats, drawn and voted the
//! same way).

use std::collections::HashMap;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use verinfer_bindings::{units::tokens_f64, DisputeGovernor, JurorPool, Staking};

use super::world::World;
use super::Behaviour;
use crate::{OutOfBounds, SimError};

/// Random stream of the pool's joins.
const JURY_STREAM: u64 = 0x6a75_7279_706f_6f6c;

/// Seat state of `JurorPool.seatOf`: drafted and not excused.
const SEAT_DRAFTED: u8 = 1;

/// The `[jury]` section: who joins the pool, with what bond, and how drafted jurors vote.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jury {
    /// Share of the attested stakers (persons) who join the pool, in [0, 1]; the cartel's operators
    /// always join.
    pub share: f64,
    /// Bond as a share of the joiner's stake, in (0, 1], clamped to the pool's bond bounds.
    pub bond_share: f64,
    /// Probability that a drafted honest juror votes (penalised non-voters vote: high), in [0, 1];
    /// cartel jurors always vote for the cartel's output.
    #[serde(default = "default_vote_probability")]
    pub vote_probability: f64,
    /// Seats of a jury (`jurySize`; its bounds are `setJuryParameters`', checked when the run sets
    /// it).
    #[serde(default = "default_jury_size")]
    pub jury_size: u8,
    /// Pool size from which disputes are drafted (`minPoolSize`; bounds as `jury_size`).
    #[serde(default = "default_min_pool_size")]
    pub min_pool_size: u16,
    /// Appeals per dispute (`appealRounds`; bounds as `jury_size`): the honest side appeals a wrong
    /// ruling while rounds remain, each round with 2n + 1 seats.
    #[serde(default)]
    pub appeal_rounds: u8,
    /// Probability that an honest juror who committed also reveals, in [0, 1]; an unrevealed
    /// commitment is a non-vote. The cartel's jurors always reveal.
    #[serde(default = "default_reveal_probability")]
    pub reveal_probability: f64,
    /// Whether the cartel appeals every correct ruling of a dispute it has an output in while rounds
    /// remain, paying the appeal deposit (forfeited to the coherent jurors when the final ruling is
    /// the one it appealed).
    #[serde(default)]
    pub cartel_appeals: bool,
}

fn default_reveal_probability() -> f64 {
    0.98
}

fn default_vote_probability() -> f64 {
    0.95
}
fn default_jury_size() -> u8 {
    5
}
fn default_min_pool_size() -> u16 {
    31
}

/// The pool as it stood before the first epoch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JuryReport {
    /// Jurors that joined.
    pub jurors: usize,
    /// Of which the cartel's operators.
    pub cartel_jurors: usize,
    /// Joins the contracts refused (no identity, identity already seated, bond bounds).
    pub refused: usize,
    /// The cartel's share of the pool's draw weight (`JurorPool.drawWeight` over `pool().weight`).
    pub cartel_draw_weight_share: f64,
    /// Seats of a jury.
    pub jury_size: u8,
    /// Pool size from which disputes are drafted.
    pub min_pool_size: u16,
    /// Appeals per dispute.
    pub appeal_rounds: u8,
}

/// One drafted dispute (path `jury`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct JuryRecord {
    /// Rounds played (1 + appeals).
    pub rounds: usize,
    /// Seats drawn and not excused.
    pub seats: usize,
    /// Of which held by the cartel.
    pub cartel_seats: usize,
    /// Jurors excused (involved, or delegators of an involved operator).
    pub excused: usize,
    /// Votes committed (hidden).
    pub commits: usize,
    /// Votes revealed (counted).
    pub votes: usize,
    /// Appeals the cartel filed against correct rulings (each paid `appealDeposit`).
    pub cartel_appeals: usize,
    /// Tokens of the cartel's appeal deposits forfeited to the coherent jurors: every deposit of a
    /// dispute whose final ruling is the correct one it appealed (0 when the cartel's output won).
    pub cartel_forfeited_tokens: f64,
    /// The options the sim's jurors vote for: (correct, the cartel's).
    #[serde(skip)]
    pub options: (u8, Option<u8>),
}

/// Sets the jury parameters and fills the pool (before the first epoch).
pub(crate) fn setup(w: &mut World, cfg: &Jury, seed: u64) -> Result<JuryReport, SimError> {
    // Its own random stream: adding a jury never shifts who joins against the rest of the run.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ JURY_STREAM);
    let gov = w.c.disputes;
    let mut params = w
        .sim
        .view(w.watcher, gov, DisputeGovernor::juryParametersCall {})?;
    params.jurySize = cfg.jury_size;
    params.minPoolSize = cfg.min_pool_size;
    params.appealRounds = cfg.appeal_rounds;
    // The bounds of these fields are the contract's: `setJuryParameters` checks them, and a value
    // it refuses is reported under the scenario's field name.
    w.sim
        .transact(
            w.deployer,
            gov,
            DisputeGovernor::setJuryParametersCall { p: params.clone() },
        )
        .map_err(out_of_bounds)?;
    let pool = w
        .sim
        .view(w.watcher, gov, DisputeGovernor::jurorPoolCall {})?;
    let (lo, hi) = (params.minJurorBond, params.maxJurorBond);
    let mut report = JuryReport {
        jury_size: cfg.jury_size,
        min_pool_size: cfg.min_pool_size,
        appeal_rounds: cfg.appeal_rounds,
        ..JuryReport::default()
    };
    // Honest candidates: the first attested account of each person, with probability `share`.
    let mut seen = std::collections::HashSet::new();
    let mut candidates: Vec<(Address, bool)> = Vec::new();
    for a in &w.accounts {
        if a.issuer.is_some() && seen.insert(a.entity) && rng.gen_bool(cfg.share) {
            candidates.push((a.address, false));
        }
    }
    for op in w.ops.iter().filter(|o| o.behaviour == Behaviour::Cartel) {
        candidates.push((op.owner, true));
    }
    let mut cartel_jurors = Vec::new();
    for (who, cartel) in candidates {
        let stake = w
            .sim
            .view(who, w.c.staking, Staking::stakeOfCall { account: who })?;
        let want = U256::from(f64_to_wei(cfg.bond_share * tokens_f64(stake)));
        let bond = want.clamp(U256::from(lo), U256::from(hi));
        w.fund(who, bond, pool)?;
        match w.sim.transact(who, pool, JurorPool::joinJuryCall { bond }) {
            Ok(_) => {
                report.jurors += 1;
                if cartel {
                    report.cartel_jurors += 1;
                    cartel_jurors.push(who);
                }
            }
            Err(SimError::Reverted { .. }) => report.refused += 1,
            Err(e) => return Err(e),
        }
    }
    let total = w.sim.view(w.watcher, pool, JurorPool::poolCall {})?.weight;
    let mut cartel_weight = 0.0;
    for who in cartel_jurors {
        let v = w
            .sim
            .view(who, pool, JurorPool::drawWeightCall { account: who })?;
        cartel_weight += u256_f64(v);
    }
    report.cartel_draw_weight_share = cartel_weight / u256_f64(total).max(f64::MIN_POSITIVE);
    Ok(report)
}

/// The scenario field of each `JuryParameters` field the `[jury]` section sets.
const JURY_FIELDS: [(&str, &str); 3] = [
    ("jurySize", "jury.jury_size"),
    ("minPoolSize", "jury.min_pool_size"),
    ("appealRounds", "jury.appeal_rounds"),
];

/// A `ParameterOutOfBounds` revert of `setJuryParameters` as [`SimError::OutOfBounds`], named by
/// the scenario's field when the `[jury]` section sets it (by the contract's name otherwise);
/// any other error as it is.
fn out_of_bounds(e: SimError) -> SimError {
    let SimError::Reverted { data, .. } = &e else {
        return e;
    };
    let Ok(b) = <DisputeGovernor::ParameterOutOfBounds as SolError>::abi_decode(data) else {
        return e;
    };
    let name = verinfer_bindings::decode::bytes32_name(b.name.as_slice())
        .unwrap_or_else(|| b.name.to_string());
    let field = JURY_FIELDS
        .iter()
        .find(|(contract, _)| *contract == name)
        .map_or(name, |(_, field)| (*field).to_owned());
    SimError::OutOfBounds(Box::new(OutOfBounds {
        field,
        value: b.value,
        contract: "DisputeGovernor.setJuryParameters".into(),
        min: b.min,
        max: b.max,
    }))
}

fn f64_to_wei(tokens: f64) -> u128 {
    (tokens.max(0.0) * 1e18) as u128
}

fn u256_f64(v: U256) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(0.0)
}

/// The jury state of `dispute` (`DisputeGovernor.juryCase`).
fn case(
    w: &mut World,
    dispute: U256,
) -> Result<verinfer_bindings::dispute_governor::DisputeJury::JuryCase, SimError> {
    w.sim.view(
        w.watcher,
        w.c.disputes,
        DisputeGovernor::juryCaseCall { disputeId: dispute },
    )
}

/// Whether `dispute` is decided by a drafted jury.
pub(crate) fn drafted(w: &mut World, dispute: U256) -> Result<bool, SimError> {
    Ok(case(w, dispute)?.drafted)
}

/// A committed, not yet revealed vote of a drafted juror.
#[derive(Debug, Clone)]
pub(crate) struct Commit {
    /// The dispute.
    pub dispute: U256,
    /// The juror.
    pub juror: Address,
    /// The option committed.
    pub option: u8,
    /// The salt committed.
    pub salt: B256,
    /// Whether the juror will reveal (an unrevealed commitment is a non-vote).
    pub reveals: bool,
}

/// Draws the current round of `dispute` (the caller has advanced past the opening or appeal block)
/// and has its seated jurors commit: `record.options.0` (correct) for honest ones with probability
/// `cfg.vote_probability`, `record.options.1` for the cartel's. Adds the round's seats and commits
/// to `record`; returns the commitments, to be opened by [`reveal`] after the commit period.
pub(crate) fn draw_and_commit(
    w: &mut World,
    cfg: &Jury,
    rng: &mut ChaCha8Rng,
    dispute: U256,
    record: &mut JuryRecord,
) -> Result<Vec<Commit>, SimError> {
    let gov = w.c.disputes;
    let round = U256::from(case(w, dispute)?.round);
    w.sim.transact(
        w.watcher,
        gov,
        DisputeGovernor::drawCall { disputeId: dispute },
    )?;
    let pool = w
        .sim
        .view(w.watcher, gov, DisputeGovernor::jurorPoolCall {})?;
    let drafted = w.sim.view(
        w.watcher,
        pool,
        JurorPool::draftedJurorsCall {
            disputeId: dispute,
            round,
        },
    )?;
    let cartel: HashMap<Address, bool> = w
        .ops
        .iter()
        .map(|o| (o.owner, o.behaviour == Behaviour::Cartel))
        .collect();
    let (correct, wrong) = record.options;
    record.rounds += 1;
    let mut commits = Vec::new();
    for juror in drafted {
        let seat = w.sim.view(
            juror,
            pool,
            JurorPool::seatOfCall {
                disputeId: dispute,
                round,
                account: juror,
            },
        )?;
        if seat != SEAT_DRAFTED {
            record.excused += 1;
            continue;
        }
        record.seats += 1;
        let is_cartel = cartel.get(&juror).copied().unwrap_or(false);
        record.cartel_seats += usize::from(is_cartel);
        let option = if is_cartel {
            match wrong {
                Some(o) => o,
                None => continue,
            }
        } else if rng.gen_bool(cfg.vote_probability) {
            correct
        } else {
            continue;
        };
        let salt = B256::from(rng.gen::<[u8; 32]>());
        let commitment = w.sim.view(
            juror,
            pool,
            JurorPool::voteCommitmentCall {
                option,
                salt,
                account: juror,
                disputeId: dispute,
                round,
            },
        )?;
        w.sim.transact(
            juror,
            gov,
            DisputeGovernor::commitVoteCall {
                disputeId: dispute,
                commitment,
            },
        )?;
        record.commits += 1;
        let reveals = is_cartel || rng.gen_bool(cfg.reveal_probability);
        commits.push(Commit {
            dispute,
            juror,
            option,
            salt,
            reveals,
        });
    }
    Ok(commits)
}

/// Moves the clock past the commit period of the current rounds of `commits` (drawn in the same
/// block, so one `commitEnd`) and reveals those that reveal; returns the revealed (juror, option)
/// ballots per dispute, in commit order. The seconds advanced are recorded in
/// `World::dispute_vote_elapsed`, so that `advance_past_dispute_vote` stops at the round's end.
pub(crate) fn reveal(
    w: &mut World,
    commits: &[Commit],
    records: &mut HashMap<U256, &mut JuryRecord>,
) -> Result<HashMap<U256, Vec<(Address, u8)>>, SimError> {
    let mut out: HashMap<U256, Vec<(Address, u8)>> = HashMap::new();
    let Some(first) = commits.first() else {
        return Ok(out);
    };
    let gov = w.c.disputes;
    let c = case(w, first.dispute)?;
    let rd = w.sim.view(
        w.watcher,
        gov,
        DisputeGovernor::juryRoundCall {
            disputeId: first.dispute,
            round: U256::from(c.round),
        },
    )?;
    let now = w.sim.timestamp();
    let commit_end = rd.commitEnd.to::<u64>();
    if now <= commit_end {
        let secs = commit_end + 1 - now;
        w.sim
            .advance(secs.div_ceil(super::traffic::BLOCK_SECONDS), secs);
        w.dispute_vote_elapsed += secs;
    }
    for k in commits.iter().filter(|k| k.reveals) {
        w.sim.transact(
            k.juror,
            gov,
            DisputeGovernor::revealVoteCall {
                disputeId: k.dispute,
                option: k.option,
                salt: k.salt,
            },
        )?;
        if let Some(r) = records.get_mut(&k.dispute) {
            r.votes += 1;
        }
        out.entry(k.dispute).or_default().push((k.juror, k.option));
    }
    Ok(out)
}

/// Whether the current ruling of `dispute` can still be appealed (rounds remain).
pub(crate) fn appealable(w: &mut World, dispute: U256) -> Result<bool, SimError> {
    let c = case(w, dispute)?;
    Ok(c.drafted && c.round < c.lastRound)
}

/// `appellant` (funded with the deposit: the watcher for the honest side, a cartel owner for the
/// cartel) appeals `dispute`.
pub(crate) fn appeal(w: &mut World, dispute: U256, appellant: Address) -> Result<(), SimError> {
    let gov = w.c.disputes;
    let deposit = w
        .sim
        .view(w.watcher, gov, DisputeGovernor::juryParametersCall {})?
        .appealDeposit;
    w.fund(appellant, U256::from(deposit), gov)?;
    w.sim.transact(
        appellant,
        gov,
        DisputeGovernor::appealCall { disputeId: dispute },
    )?;
    Ok(())
}

/// The appeal deposit in force, in tokens.
pub(crate) fn appeal_deposit_tokens(w: &mut World) -> Result<f64, SimError> {
    let p = w.sim.view(
        w.watcher,
        w.c.disputes,
        DisputeGovernor::juryParametersCall {},
    )?;
    Ok(tokens_f64(U256::from(p.appealDeposit)))
}

/// Settles the jury of an executed drafted dispute (penalties and rewards).
pub(crate) fn settle(w: &mut World, dispute: U256) -> Result<(), SimError> {
    w.sim.transact(
        w.watcher,
        w.c.disputes,
        DisputeGovernor::settleJuryCall { disputeId: dispute },
    )?;
    Ok(())
}
