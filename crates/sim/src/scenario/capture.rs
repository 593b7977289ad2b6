//! End-of-run capture tests, each on a snapshot of the final state (undone afterwards):
//!
//! - **splitting**: a fresh person with the largest staker's stake tries every arrangement of its
//!   stake that the identity rules allow (everything under its identity, part or all of it spread
//!   over unattested accounts, several accounts under the one identity and, when the scenario's
//!   issuer is weak, several identities) and its voice is read from `QuadraticVotes`;
//! - **capture by the 10 largest stakers**: they propose, on the real `VerinferGovernor`, to send
//!   the Slasher's proceeds to the largest of them, and to veto a pending `WrongResult` slash; they
//!   vote for it, and everyone else votes against (all of them, then only a turnout sample).

use std::fmt;

use alloy::primitives::{aliases::U40, keccak256, Address, Bytes, U256};
use alloy::sol_types::SolCall;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use verinfer_bindings::types::{ProposalState, SlashStatus, VoteType};
use verinfer_bindings::{
    DisputeGovernor, InferenceRegistry, QuadraticVotes, Slasher, Staking, VerinferGovernor,
};

use verinfer_authority::coalition::{proposal_coalition, Ballot, Counting};
use verinfer_bindings::units::{tokens_f64, wei_f64};

use super::{
    agent,
    traffic::BLOCK_SECONDS,
    world::{voice_units, Measure, World, REQUEST_TTL},
    Scenario,
};
use crate::{decode_logs, SimError};

/// One arrangement of a person's stake and the voice it gets.
#[derive(Debug, Clone, Serialize)]
pub struct SplitTrial {
    /// The arrangement.
    pub strategy: String,
    /// The person's voice (sqrt-token units).
    pub voice: f64,
    /// Voice over what the quadratic rule entitles the whole stake to under one identity: the larger of
    /// its voice as the contracts count it and the square root of the stake (the per-issuer cap may cut
    /// the one identity below it). The split-gain goal judges this and `share_gain`.
    pub gain: f64,
    /// Share of total voice over the one-identity share, that identity counted at its entitlement.
    pub share_gain: f64,
    /// Voice over the one identity's voice as the contracts count it (equal to `gain` unless the cap
    /// cut that identity): how much of the cap's cut the arrangement takes back.
    pub counted_gain: f64,
}

/// What a split is measured against: one identity holding the whole stake, as the contracts count it
/// (`counted`) and as the quadratic rule entitles it (`entitled`), each as (voice, share of total voice).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SplitBase {
    counted: (f64, f64),
    entitled: (f64, f64),
}

impl SplitBase {
    /// The base for `stake` tokens whose one-identity arrangement measured `counted` = (voice, share).
    /// The entitlement is `sqrt(stake)` when the contracts count less (a per-issuer cap cut the
    /// identity), with the total voice raised by the difference; otherwise the measurement itself.
    pub(crate) fn new(counted: (f64, f64), stake: f64) -> Self {
        let (voice, share) = counted;
        let whole = stake.max(0.0).sqrt();
        let entitled = if whole > voice && voice > 0.0 && share > 0.0 {
            let total = voice / share;
            (whole, whole / (total - voice + whole))
        } else {
            counted
        };
        Self { counted, entitled }
    }
}

impl SplitTrial {
    /// The trial `strategy` that measured `(voice, share)`, with its gains against `base`.
    pub(crate) fn against(strategy: String, measured: (f64, f64), base: &SplitBase) -> Self {
        let (voice, share) = measured;
        let ratio = |x: f64, of: f64| if of > 0.0 { x / of } else { 1.0 };
        Self {
            strategy,
            voice,
            gain: ratio(voice, base.entitled.0),
            share_gain: ratio(share, base.entitled.1),
            counted_gain: ratio(voice, base.counted.0),
        }
    }

    /// The larger of the voice and share gains.
    pub(crate) fn best_gain(&self) -> f64 {
        self.gain.max(self.share_gain)
    }
}

/// One capture attempt on the governor.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalTrial {
    /// What the largest stakers proposed.
    pub action: String,
    /// Who opposed: everyone else, or a turnout sample of everyone else.
    pub opposition: String,
    /// The mean turnout of everyone else (the scenario's turnout model rescaled to it); 1 = all.
    pub turnout: f64,
    /// Accounts bribed to vote for (0 = the coalition alone).
    pub bribed: usize,
    /// Voice cast for (the 10 largest stakers, after the per-voter cap).
    pub for_votes: f64,
    /// Voice cast against.
    pub against_votes: f64,
    /// Voice for left without the governor's `residualK` largest voices (`residualForVotes`; the
    /// unattested pool counting as one voice); equal to `for_votes` when the rule is off.
    pub residual_for: f64,
    /// The quorum this proposal needs for for + abstain (twice the base for a governance target).
    pub quorum: f64,
    /// The base quorum (`quorum(snapshot)`), the one the residual for must reach.
    pub base_quorum: f64,
    /// Total voice at the snapshot.
    pub total_voice: f64,
    /// The exact deciding coalition, off chain from every `VoteCast`: the fewest voices of the
    /// winning side whose removal flips the outcome (voices as the rule counts them: unattested
    /// accounts are one); 0 when the proposal failed.
    pub deciding_coalition: usize,
    /// Final proposal state (`Defeated`, `Succeeded`, ...).
    pub state: String,
    /// Whether the proposal passed.
    pub passed: bool,
}

impl ProposalTrial {
    /// The tallies, the residual against the quorum, the state and the deciding coalition, in words.
    pub fn votes_line(&self) -> String {
        format!(
            "for {:.0} (residual {:.0}, base quorum {:.0}, quorum {:.0}) vs against {:.0} -> {} (deciding coalition {})",
            self.for_votes,
            self.residual_for,
            self.base_quorum,
            self.quorum,
            self.against_votes,
            self.state,
            self.deciding_coalition
        )
    }
}

/// The cost of corruption of one action at one turnout: the smallest bribe budget that, added to
/// the coalition of the largest stakers, passes it.
#[derive(Debug, Clone, Serialize)]
pub struct CorruptionCost {
    /// The action proposed.
    pub action: String,
    /// The mean turnout of everyone else.
    pub turnout: f64,
    /// Smallest budget in tokens (the stake of the accounts bought, cheapest voice per token first);
    /// 0 when the coalition passes alone, `None` when buying every other holder is not enough.
    pub tokens: Option<f64>,
    /// `tokens` as a share of total stake.
    pub share_of_stake: Option<f64>,
    /// Accounts bought.
    pub accounts: usize,
    /// Whether the proposal passed with that budget (measured on chain).
    pub passed_with_budget: bool,
    /// Whether it failed with one account less, i.e. the budget less the price of the last account
    /// bought (measured on chain; `true` when the budget is 0).
    pub failed_below: bool,
    /// Proposals voted during the search (each on a snapshot).
    pub trials: usize,
}

/// Results of the capture tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureReport {
    /// Size of the coalition of the largest stakers (`attack.top_n`).
    pub top_n: usize,
    /// Total stake at the end of the run, tokens.
    pub total_stake: f64,
    /// Cost of corruption per action and turnout (`attack.cost_of_corruption`).
    pub corruption: Vec<CorruptionCost>,
    /// Stake of the person used for the split search (the largest staker's), tokens.
    pub split_stake: f64,
    /// Every arrangement tried.
    pub splits: Vec<SplitTrial>,
    /// Best gain among them.
    pub best_split_gain: f64,
    /// Proposals by the 10 largest stakers.
    pub proposals: Vec<ProposalTrial>,
    /// Honest proposals: at each turnout, [`HONEST_DRAWS`] draws of everyone but the largest stakers
    /// (the scenario's turnout model rescaled to it), each voter for with probability
    /// [`HONEST_SUPPORT`], else against; the largest stakers stay home.
    pub honest: Vec<ProposalTrial>,
    /// Whether a pending slash existed to try a veto on.
    pub veto_exercised: bool,
    /// Whether that slash was planted by the capture test (no slash of the run was still inside
    /// its veto window): an optimistic request answered wrongly, challenged and voted down.
    pub planted_slash: bool,
    /// What a passed veto buys: the tokens the vetoed slash owes (`Slasher.slashAmounts(id).owed`),
    /// stake its operator keeps; `None` when no veto was tried.
    pub veto_owed: Option<f64>,
    /// What a passed `Slasher.setTreasury` buys, measured on the run it would redirect: the sink's
    /// share of every slash executed during the run (`totalToTreasury + totalBurned`), tokens.
    pub sink_proceeds: f64,
    /// [`sink_proceeds`](Self::sink_proceeds) per epoch of the run.
    pub sink_proceeds_per_epoch: f64,
}

impl CaptureReport {
    /// What a passed proposal of `action` buys, tokens: the vetoed slash's amount for a veto, the
    /// run's slash proceeds to the sink per epoch for a treasury change; `None` for other actions.
    pub fn bought_by(&self, action: &str) -> Option<f64> {
        if action.starts_with("Slasher.vetoSlash") {
            self.veto_owed
        } else if action.starts_with("Slasher.setTreasury") {
            Some(self.sink_proceeds_per_epoch)
        } else {
            None
        }
    }
}

impl fmt::Display for CaptureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "split search ({:.0} tokens, the largest staker's stake), voice gain against one identity \
             holding it (at its entitlement, the square root of the stake, where the cap cuts it):",
            self.split_stake
        )?;
        for t in &self.splits {
            writeln!(
                f,
                "  {:<58} {:>6.3}x (share {:.3}x; against as counted {:.3}x)",
                t.strategy, t.gain, t.share_gain, t.counted_gain
            )?;
        }
        for p in &self.proposals {
            writeln!(
                f,
                "top-{} proposal `{}` vs {}: {}",
                self.top_n,
                p.action,
                p.opposition,
                p.votes_line()
            )?;
        }
        for p in &self.honest {
            writeln!(
                f,
                "honest proposal, {}: for {:.0} (residual {:.0}, base quorum {:.0}, quorum {:.0}) / against {:.0} of {:.0} -> {} (deciding coalition {})",
                p.opposition,
                p.for_votes,
                p.residual_for,
                p.base_quorum,
                p.quorum,
                p.against_votes,
                p.total_voice,
                p.state,
                p.deciding_coalition
            )?;
        }
        for c in &self.corruption {
            match (c.tokens, c.share_of_stake) {
                (Some(t), Some(sh)) => writeln!(
                    f,
                    "cost of corruption `{}` at {:.0}% turnout: {:.0} tokens ({:.2}% of stake, {} accounts bought; passes with it: {}, fails with one less: {}; {} trials)",
                    c.action,
                    100.0 * c.turnout,
                    t,
                    100.0 * sh,
                    c.accounts,
                    c.passed_with_budget,
                    c.failed_below,
                    c.trials
                )?,
                _ => writeln!(
                    f,
                    "cost of corruption `{}` at {:.0}% turnout: not reachable by buying every other holder ({} trials)",
                    c.action,
                    100.0 * c.turnout,
                    c.trials
                )?,
            }
        }
        writeln!(
            f,
            "what a bribe buys: a treasury change redirects the slash proceeds to the sink, {:.0} tokens over the run ({:.0} per epoch); a veto keeps {} tokens of stake",
            self.sink_proceeds,
            self.sink_proceeds_per_epoch,
            self.veto_owed.map_or("(no veto tried)".to_owned(), |v| format!("{v:.0}"))
        )?;
        for c in &self.corruption {
            if let (Some(t), Some(b)) = (c.tokens, self.bought_by(&c.action)) {
                // nothing bought (no slash executed, so no proceeds): no ratio to print
                let ratio = if b > 0.0 {
                    format!("{:.2}", t / b)
                } else {
                    "n/a (it buys nothing in this run)".to_string()
                };
                writeln!(
                    f,
                    "  cost of corruption / what it buys, `{}` at {:.0}% turnout: {:.0} / {:.0} tokens = {ratio}",
                    c.action,
                    100.0 * c.turnout,
                    t,
                    b,
                )?;
            }
        }
        if !self.veto_exercised {
            writeln!(
                f,
                "no WrongResult slash could be made pending: veto not tried"
            )?;
        } else if self.planted_slash {
            writeln!(
                f,
                "(the vetoed slash was planted: no slash of the run was still in its veto window)"
            )?;
        }
        Ok(())
    }
}

/// Draws of the honest proposal per turnout.
pub const HONEST_DRAWS: usize = 4;
/// Probability that a voter of an honest proposal votes for it (else against).
pub const HONEST_SUPPORT: f64 = 0.75;

/// Runs the capture tests; the world's state is unchanged afterwards.
pub(crate) fn run(
    w: &mut World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    m: &Measure,
    pending: &[(U256, u64)],
) -> Result<CaptureReport, SimError> {
    let mut report = CaptureReport::default();
    let slasher = w.c.slasher;
    let to_sink = tokens_f64(U256::from(w.sim.view(
        w.watcher,
        slasher,
        Slasher::totalToTreasuryCall {},
    )?)) + tokens_f64(
        w.sim
            .view(w.watcher, slasher, Slasher::totalBurnedCall {})?,
    );
    report.sink_proceeds = to_sink;
    report.sink_proceeds_per_epoch = to_sink / scenario.epochs.max(1) as f64;
    let largest = m.stake.iter().copied().fold(0.0f64, f64::max);
    report.split_stake = largest.max(scenario.stakers.min_stake);
    split_search(w, scenario, &mut report)?;

    // The `attack.top_n` largest stakers (people) and their voice-holding accounts.
    let top_n = scenario.attack.top_n;
    report.top_n = top_n;
    report.total_stake = m.stake.iter().sum();
    let mut order: Vec<usize> = (0..m.stake.len()).collect();
    order.sort_by(|a, b| m.stake[*b].total_cmp(&m.stake[*a]));
    let top: Vec<usize> = order.into_iter().take(top_n).collect();
    let mut coalition: Vec<Address> = Vec::new();
    let mut others: Vec<Others> = Vec::new();
    let (staking, votes) = (w.c.staking, w.c.votes);
    let mut everyone: Vec<Others> = Vec::new();
    for (account, person) in &m.holders {
        let stake = tokens_f64(w.sim.view(
            *account,
            staking,
            Staking::stakeOfCall { account: *account },
        )?);
        let voice = voice_units(w.sim.view(
            *account,
            votes,
            QuadraticVotes::getVotesCall { account: *account },
        )?);
        let holder = Others {
            account: *account,
            person_stake: m.stake[*person],
            stake,
            voice,
        };
        if top.contains(person) {
            coalition.push(*account);
        } else {
            others.push(holder.clone());
        }
        everyone.push(holder);
    }
    // Cheapest voice first: the bribe buys the most voice per token (price = the account's stake).
    let cheapest_first = |a: &Others, b: &Others| {
        let per = |o: &Others| o.voice / o.stake.max(f64::MIN_POSITIVE);
        per(b).total_cmp(&per(a))
    };
    others.sort_by(cheapest_first);
    everyone.sort_by(cheapest_first);
    let Some(&proposer) = coalition.first() else {
        return Ok(report);
    };
    let model = scenario.turnout_model();
    let min_stake = scenario.stakers.min_stake;
    let person_stakes: Vec<f64> = others.iter().map(|o| o.person_stake).collect();
    // One opposition sample per turnout, shared by every trial at that turnout (so the bribe
    // search varies the budget only).
    let mut samples: Vec<(f64, Vec<bool>)> = vec![(1.0, vec![true; others.len()])];
    for t in &scenario.attack.turnouts {
        let scaled = model.scaled_to(*t, &person_stakes, min_stake);
        let sample = others
            .iter()
            .map(|o| rng.gen_bool(scaled.probability(o.person_stake, min_stake)))
            .collect();
        samples.push((*t, sample));
    }

    let treasury = Slasher::setTreasuryCall {
        treasury_: proposer,
    };
    let search = scenario.attack.cost_of_corruption;
    let mut trials = |w: &mut World, label: &str, data: Bytes| -> Result<(), SimError> {
        for (turnout, sample) in &samples {
            let ballots = Ballots {
                coalition: &coalition,
                others: &others,
                against: sample,
                turnout: *turnout,
            };
            let at = |w: &mut World, bribed: usize| -> Result<ProposalTrial, SimError> {
                let saved = w.sim.snapshot();
                let trial = propose_and_vote(
                    w,
                    (label, slasher, data.clone()),
                    proposer,
                    &ballots.list(bribed),
                    (ballots.opposition(), *turnout),
                    bribed,
                );
                w.sim.restore(saved);
                trial
            };
            let alone = at(w, 0)?;
            let passed_alone = alone.passed;
            report.proposals.push(alone);
            if !search || *turnout >= 1.0 {
                continue;
            }
            let prices: Vec<f64> = others.iter().map(|o| o.stake).collect();
            report.corruption.push(corruption_search(
                (label, *turnout),
                (&prices, report.total_stake),
                Some(passed_alone),
                |k| Ok(at(w, k)?.passed),
            )?);
        }
        Ok(())
    };
    trials(
        w,
        "Slasher.setTreasury(largest staker)",
        Bytes::from(treasury.abi_encode()),
    )?;
    let now = w.sim.timestamp();
    let saved = w.sim.snapshot();
    let mut planted = false;
    let mut pending = w.pending_slash(pending, now)?;
    if pending.is_none() {
        // No slash of the run is still vetoable: plant one through the real dispute path.
        pending = plant_wrong_result(w, m)?;
        planted = pending.is_some();
    }
    if let Some(id) = pending {
        let owed = w
            .sim
            .view(
                w.watcher,
                slasher,
                Slasher::slashAmountsCall { slashId: id },
            )?
            .owed;
        report.veto_owed = Some(tokens_f64(owed));
        let veto = Bytes::from(Slasher::vetoSlashCall { slashId: id }.abi_encode());
        let done = trials(w, &format!("Slasher.vetoSlash({id})"), veto);
        w.sim.restore(saved);
        done?;
        report.veto_exercised = true;
        report.planted_slash = planted;
    } else {
        w.sim.restore(saved);
    }
    // Honest proposals: the same call (the treasury to the watcher), supported by a majority of
    // everyone else who turns out, without the largest stakers.
    let honest_call = Bytes::from(
        Slasher::setTreasuryCall {
            treasury_: w.watcher,
        }
        .abi_encode(),
    );
    for t in &scenario.attack.turnouts {
        let scaled = model.scaled_to(*t, &person_stakes, min_stake);
        for _ in 0..HONEST_DRAWS {
            let mut list: Vec<(Address, VoteType)> = Vec::new();
            for o in &others {
                if !rng.gen_bool(scaled.probability(o.person_stake, min_stake)) {
                    continue;
                }
                let support = if rng.gen_bool(HONEST_SUPPORT) {
                    VoteType::For
                } else {
                    VoteType::Against
                };
                list.push((o.account, support));
            }
            let saved = w.sim.snapshot();
            let trial = propose_and_vote(
                w,
                (HONEST_ACTION, slasher, honest_call.clone()),
                proposer,
                &list,
                (
                    format!(
                        "{:.0}% turnout of everyone but the {top_n} largest",
                        100.0 * t
                    ),
                    *t,
                ),
                0,
            );
            w.sim.restore(saved);
            report.honest.push(trial?);
        }
    }

    if search {
        dispute_cost(w, scenario, rng, &everyone, &mut report)?;
    }
    Ok(report)
}

/// The cost of deciding a dispute wrongly: on a snapshot, an optimistic request answered wrongly and
/// challenged ([`plant_dispute`]); the holders the scenario's turnout model samples vote for the
/// correct output, the first `k` of `everyone` (cheapest voice per token; the accused operator,
/// whom the contract bars, excluded) are bribed to vote for the wrong one. Bisection over `k` finds
/// the smallest budget for which the ruling, with quorum, is the wrong output.
fn dispute_cost(
    w: &mut World,
    scenario: &Scenario,
    rng: &mut ChaCha8Rng,
    everyone: &[Others],
    report: &mut CaptureReport,
) -> Result<(), SimError> {
    let model = scenario.turnout_model();
    let min_stake = scenario.stakers.min_stake;
    let stakes: Vec<f64> = everyone.iter().map(|o| o.person_stake).collect();
    let turnout = model.mean(&stakes, min_stake);
    let saved = w.sim.snapshot();
    let planted = plant_dispute(w);
    w.sim.restore(saved);
    let Some(accused) = planted?.map(|p| p.accused) else {
        return Ok(());
    };
    let candidates: Vec<&Others> = everyone.iter().filter(|o| o.account != accused).collect();
    let honest: Vec<bool> = candidates
        .iter()
        .map(|o| rng.gen_bool(model.probability(o.person_stake, min_stake)))
        .collect();
    let prices: Vec<f64> = candidates.iter().map(|o| o.stake).collect();
    let cost = corruption_search(
        (DECIDE_DISPUTE, turnout),
        (&prices, report.total_stake),
        None,
        |k| {
            let saved = w.sim.snapshot();
            let decided = decide_planted(w, &candidates, &honest, k);
            w.sim.restore(saved);
            decided
        },
    )?;
    report.corruption.push(cost);
    Ok(())
}

/// The cost of corruption of `action` at `turnout`: bisection over how many of the candidates
/// (priced `prices`, cheapest voice first) are bought, `passes(k)` being one on-chain trial with
/// the first `k` bought; `alone` is the outcome with none bought when already measured. The found
/// budget is re-measured, and so is one account less.
fn corruption_search(
    (action, turnout): (&str, f64),
    (prices, total_stake): (&[f64], f64),
    alone: Option<bool>,
    mut passes: impl FnMut(usize) -> Result<bool, SimError>,
) -> Result<CorruptionCost, SimError> {
    let mut trials = usize::from(alone.is_some());
    let mut trial = |k: usize| {
        trials += 1;
        passes(k)
    };
    let alone = match alone {
        Some(a) => a,
        None => trial(0)?,
    };
    let cost = if alone {
        Some(0)
    } else {
        smallest_passing(prices.len(), &mut trial)?
    };
    let (passed_with_budget, failed_below) = match cost {
        Some(0) => (true, true),
        Some(k) => (trial(k)?, !trial(k - 1)?),
        None => (false, true),
    };
    // A fold from +0.0: an empty `sum` of floats is -0.0.
    let tokens = cost.map(|k| prices[..k].iter().fold(0.0, |a, p| a + p));
    Ok(CorruptionCost {
        action: action.to_owned(),
        turnout,
        tokens,
        share_of_stake: tokens.map(|t| t / total_stake.max(f64::MIN_POSITIVE)),
        accounts: cost.unwrap_or(0),
        passed_with_budget,
        failed_below,
        trials,
    })
}

/// The action name of the dispute-bribery search.
pub const DECIDE_DISPUTE: &str = "decide a dispute for the wrong output";

/// Plants a dispute and lets `candidates` vote: the first `bribed` for the wrong output, the rest
/// that `honest` marks for the correct one; whether the ruling reached quorum for the wrong output.
fn decide_planted(
    w: &mut World,
    candidates: &[&Others],
    honest: &[bool],
    bribed: usize,
) -> Result<bool, SimError> {
    let Some(p) = plant_dispute(w)? else {
        return Ok(false);
    };
    let disputes = w.c.disputes;
    for (i, (o, turns_out)) in candidates.iter().zip(honest).enumerate() {
        let option = if i < bribed {
            p.wrong
        } else if *turns_out {
            p.right
        } else {
            continue;
        };
        let call = DisputeGovernor::castVoteCall {
            disputeId: p.dispute,
            option,
        };
        match w.sim.transact(o.account, disputes, call) {
            Ok(_) | Err(SimError::Reverted { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    w.advance_past_dispute_vote();
    let r = w.sim.transact(
        w.watcher,
        disputes,
        DisputeGovernor::resolveCall {
            disputeId: p.dispute,
        },
    )?;
    Ok(decode_logs::<DisputeGovernor::DisputeRuled>(&r.logs)
        .first()
        .is_some_and(|ev| ev.stats.quorumReached && ev.option == p.wrong))
}

impl World {
    /// The last of `candidates` that is still a pending slash inside its veto window at `now`.
    fn pending_slash(
        &mut self,
        candidates: &[(U256, u64)],
        now: u64,
    ) -> Result<Option<U256>, SimError> {
        let slasher = self.c.slasher;
        for (id, _) in candidates.iter().rev() {
            let r = self.sim.view(
                self.watcher,
                slasher,
                Slasher::slashRequestCall { slashId: *id },
            )?;
            if SlashStatus::of(r.status) == Some(SlashStatus::Pending)
                && r.executableAt.saturating_to::<u64>() > now
            {
                return Ok(Some(*id));
            }
        }
        Ok(None)
    }
}

/// A dispute planted for a capture test: its id, the options of the correct and the wrong output,
/// and the accused operator.
struct Planted {
    dispute: U256,
    right: u8,
    wrong: u8,
    accused: Address,
}

/// An optimistic request whose executor answers wrongly and the watcher's challenge, one block
/// later: the dispute open for votes, or `None` if the request could not be served.
fn plant_dispute(w: &mut World) -> Result<Option<Planted>, SimError> {
    let (registry, disputes) = (w.c.registry, w.c.disputes);
    let input = keccak256(b"capture test: planted wrong result");
    let (right, wrong) = (keccak256(b"right"), keccak256(b"wrong"));
    let call = InferenceRegistry::requestInferenceCall {
        modelId: w.opt_model,
        inputHash: input,
        inputURI: String::new(),
        fee: w.min_fee,
        deadline: U40::from(w.sim.timestamp() + REQUEST_TTL),
    };
    let r = match w.sim.transact(w.client, registry, call) {
        Ok(r) => r,
        Err(SimError::Reverted { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(assigned) = decode_logs::<InferenceRegistry::OperatorAssigned>(&r.logs)
        .first()
        .and_then(|ev| w.ops.iter().position(|o| o.owner == ev.operator))
    else {
        return Ok(None);
    };
    let (att, signature) = w.attest(assigned, r.ret, w.opt_model, input, wrong)?;
    let owner = w.ops[assigned].owner;
    w.sim.transact(
        owner,
        registry,
        InferenceRegistry::submitAttestationCall { att, signature },
    )?;
    let dispute = w
        .sim
        .transact(
            w.watcher,
            registry,
            InferenceRegistry::challengeCall {
                requestId: r.ret,
                claimedOutput: right,
            },
        )?
        .ret;
    w.sim.advance(1, BLOCK_SECONDS);
    let options = w.sim.view(
        w.watcher,
        disputes,
        DisputeGovernor::optionsCall { disputeId: dispute },
    )?;
    let index = |h| options.iter().position(|o| *o == h).unwrap_or(0) as u8;
    Ok(Some(Planted {
        dispute,
        right: index(right),
        wrong: index(wrong),
        accused: owner,
    }))
}

/// A planted dispute ([`plant_dispute`]), a vote of every voice holder for the correct output, the
/// ruling and its application: returns the `WrongResult` slash it leaves pending (its veto window
/// open), or `None` if the request could not be served.
fn plant_wrong_result(w: &mut World, m: &Measure) -> Result<Option<U256>, SimError> {
    let Some(p) = plant_dispute(w)? else {
        return Ok(None);
    };
    let disputes = w.c.disputes;
    for (voter, _) in &m.holders {
        let call = DisputeGovernor::castVoteCall {
            disputeId: p.dispute,
            option: p.right,
        };
        match w.sim.transact(*voter, disputes, call) {
            Ok(_) | Err(SimError::Reverted { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    w.advance_past_dispute_vote();
    w.sim.transact(
        w.watcher,
        disputes,
        DisputeGovernor::resolveCall {
            disputeId: p.dispute,
        },
    )?;
    let delay = w.params.timelock_delay + 1;
    w.sim.advance(delay.div_ceil(BLOCK_SECONDS), delay);
    let r = w.sim.transact(
        w.watcher,
        disputes,
        DisputeGovernor::executeCall {
            disputeId: p.dispute,
        },
    )?;
    Ok(decode_logs::<Slasher::SlashRequested>(&r.logs)
        .first()
        .map(|ev| ev.slashId))
}

fn split_search(
    w: &mut World,
    scenario: &Scenario,
    report: &mut CaptureReport,
) -> Result<(), SimError> {
    let x = report.split_stake;
    let k = scenario.whales.split_into.max(2);
    let mut arrangements: Vec<(String, Vec<(f64, Identity)>)> = vec![(
        "all stake under one identity (baseline)".into(),
        vec![(x, Identity::Own)],
    )];
    arrangements.push((
        format!("{k} accounts under the one identity"),
        vec![(x / k as f64, Identity::Own); k],
    ));
    for f in [0.25, 0.5, 0.75] {
        for parts in [1, k] {
            let mut a = vec![((1.0 - f) * x, Identity::Own)];
            a.extend(vec![(f * x / parts as f64, Identity::None); parts]);
            arrangements.push((
                format!(
                    "{:.0}% under the identity, {:.0}% over {parts} unattested accounts",
                    100.0 * (1.0 - f),
                    100.0 * f
                ),
                a,
            ));
        }
    }
    arrangements.push((
        format!("all over {k} unattested accounts"),
        vec![(x / k as f64, Identity::None); k],
    ));
    if scenario.whales.split_attested {
        arrangements.push((
            format!("{k} identities (weak issuer: whales.split_attested)"),
            vec![(x / k as f64, Identity::Fresh); k],
        ));
    }
    let operator = w
        .operator_stakes()?
        .iter()
        .position(|s| *s > 0.0)
        .unwrap_or(0);
    let mut base = None;
    for (label, parts) in arrangements {
        let saved = w.sim.snapshot();
        let measured = arrange(w, operator, &parts);
        w.sim.restore(saved);
        let measured = measured?;
        let base = *base.get_or_insert_with(|| SplitBase::new(measured, x));
        let trial = SplitTrial::against(label, measured, &base);
        report.best_split_gain = report.best_split_gain.max(trial.best_gain());
        report.splits.push(trial);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Identity {
    /// Linked to the person's one identity.
    Own,
    /// A further identity (only a weak issuer hands these out).
    Fresh,
    /// Unattested: the shared pool.
    None,
}

/// Stakes `parts` for a fresh person behind `operator`; returns its voice and share of the total.
fn arrange(
    w: &mut World,
    operator: usize,
    parts: &[(f64, Identity)],
) -> Result<(f64, f64), SimError> {
    let (staking, votes) = (w.c.staking, w.c.votes);
    let op = w.ops[operator].owner;
    let mut own = None;
    let mut accounts = Vec::new();
    for (i, (stake, identity)) in parts.iter().enumerate() {
        let a = agent("capture-person", i);
        match identity {
            Identity::Own => match own {
                Some((id, member)) => w.link(a, id, Some(member))?,
                None => own = Some((w.new_identity(a)?, a)),
            },
            Identity::Fresh => {
                w.new_identity(a)?;
            }
            Identity::None => {}
        }
        let amount = wei_f64(*stake);
        w.fund(a, amount, staking)?;
        w.sim.transact(
            a,
            staking,
            Staking::delegateCall {
                operator: op,
                assets: amount,
            },
        )?;
        accounts.push(a);
    }
    w.sim.advance(1, BLOCK_SECONDS);
    let mut voice = 0.0;
    for a in &accounts {
        voice += voice_units(w.sim.view(
            *a,
            votes,
            QuadraticVotes::getVotesCall { account: *a },
        )?);
    }
    let total = voice_units(
        w.sim
            .view(w.watcher, votes, QuadraticVotes::totalVoiceCall {})?,
    );
    Ok((voice, if total > 0.0 { voice / total } else { 0.0 }))
}

/// A holder outside the coalition: a bribe candidate and a possible opponent.
#[derive(Clone)]
struct Others {
    account: Address,
    /// Stake of the account's person (drives its turnout).
    person_stake: f64,
    /// The account's own stake: the price of bribing it, tokens.
    stake: f64,
    /// Its voice on chain.
    voice: f64,
}

/// The action of the honest proposals.
pub const HONEST_ACTION: &str = "honest: Slasher.setTreasury(watcher)";

/// Who votes in one capture trial.
struct Ballots<'a> {
    coalition: &'a [Address],
    /// Cheapest voice per token first.
    others: &'a [Others],
    /// Whether each of `others` turns out (and votes against unless bribed).
    against: &'a [bool],
    turnout: f64,
}

impl Ballots<'_> {
    /// The ballots with the first `bribed` of `others` bought: the coalition and the bought for,
    /// the rest of `others` that turn out against.
    fn list(&self, bribed: usize) -> Vec<(Address, VoteType)> {
        self.coalition
            .iter()
            .map(|a| (*a, VoteType::For))
            .chain(self.others.iter().zip(self.against).enumerate().filter_map(
                |(i, (o, turns_out))| {
                    if i < bribed {
                        Some((o.account, VoteType::For))
                    } else {
                        turns_out.then_some((o.account, VoteType::Against))
                    }
                },
            ))
            .collect()
    }

    /// Who opposed, in words.
    fn opposition(&self) -> String {
        if self.turnout >= 1.0 {
            "everyone else".to_owned()
        } else {
            format!("{:.0}% turnout of everyone else", 100.0 * self.turnout)
        }
    }
}

/// The smallest `k` in `1..=n` for which `passes(k)` holds, by bisection, assuming `passes` is
/// monotone and `passes(0)` is false; `None` when `passes(n)` is false.
pub(crate) fn smallest_passing<E>(
    n: usize,
    mut passes: impl FnMut(usize) -> Result<bool, E>,
) -> Result<Option<usize>, E> {
    if n == 0 || !passes(n)? {
        return Ok(None);
    }
    let (mut lo, mut hi) = (0usize, n); // passes(lo) false, passes(hi) true
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if passes(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Some(hi))
}

/// `proposer` proposes `(label, target, data)` and `ballots` vote (a reverted ballot is skipped);
/// returns the outcome after the voting period, with the exact deciding coalition computed off chain
/// from the `VoteCast` events under the governor's rule (quorum, residual K, the unattested pool as
/// one voice).
fn propose_and_vote(
    w: &mut World,
    (label, target, data): (&str, Address, Bytes),
    proposer: Address,
    ballots: &[(Address, VoteType)],
    (opposition, turnout): (String, f64),
    bribed: usize,
) -> Result<ProposalTrial, SimError> {
    let (governor, votes) = (w.c.governor, w.c.votes);
    let id = w
        .sim
        .transact(
            proposer,
            governor,
            VerinferGovernor::proposeCall {
                targets: vec![target],
                values: vec![U256::ZERO],
                calldatas: vec![data],
                description: format!("capture test: {label}"),
            },
        )?
        .ret;
    let delay = w.params.voting_delay + 1;
    w.sim.advance(delay, delay * BLOCK_SECONDS);
    let snapshot = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::proposalSnapshotCall { proposalId: id },
    )?;
    let mut cast: Vec<(Ballot, U256)> = Vec::new();
    for (voter, support) in ballots {
        let call = VerinferGovernor::castVoteCall {
            proposalId: id,
            support: (*support).into(),
        };
        match w.sim.transact(*voter, governor, call) {
            Ok(r) => {
                // the residual rule's voice, as `GovernorResidualQuorum` reads it: the voter's
                // identity at the snapshot (its linked accounts are one voice; 0: the pool)
                let identity = w.sim.view(
                    *voter,
                    votes,
                    QuadraticVotes::getPastIdentityCall {
                        account: *voter,
                        timepoint: snapshot - U256::from(1),
                    },
                )?;
                for ev in decode_logs::<VerinferGovernor::VoteCast>(&r.logs) {
                    let ballot = Ballot {
                        option: usize::from(ev.support),
                        weight: ev.weight,
                    };
                    cast.push((ballot, identity));
                }
            }
            Err(SimError::Reverted { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let period = u64::from(w.params.voting_period) + 1;
    w.sim.advance(period, period * BLOCK_SECONDS);
    let tally = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::proposalVotesCall { proposalId: id },
    )?;
    let state = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::stateCall { proposalId: id },
    )?;
    let base = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::quorumCall {
            timepoint: snapshot,
        },
    )?;
    let guarded = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::isGovernanceProposalCall { proposalId: id },
    )?;
    let residual = w.sim.view(
        proposer,
        governor,
        VerinferGovernor::residualForVotesCall { proposalId: id },
    )?;
    let total_voice = w.sim.view(
        proposer,
        votes,
        QuadraticVotes::getPastTotalSupplyCall {
            timepoint: snapshot - U256::from(1),
        },
    )?;
    // the governor's rule from what the chain says of this proposal: the base quorum, its K and
    // its flag; the coalition model derives the rest (2x quorum and 2/3 for a governance target)
    let counting = Counting::ForAgainst {
        quorum: Some(base),
        residual_k: residual.k.saturating_to(),
        governance_target: guarded,
    };
    let quorum = counting.required_quorum().unwrap_or(base);
    let state = ProposalState::of(state);
    Ok(ProposalTrial {
        action: label.to_owned(),
        opposition,
        turnout,
        bribed,
        for_votes: voice_units(tally.forVotes),
        against_votes: voice_units(tally.againstVotes),
        residual_for: voice_units(residual.residual),
        quorum: voice_units(quorum),
        base_quorum: voice_units(base),
        total_voice: voice_units(total_voice),
        deciding_coalition: proposal_coalition(&counting, &cast).len(),
        state: state.map_or("Unknown", |s| s.name()).to_owned(),
        passed: matches!(
            state,
            Some(ProposalState::Succeeded | ProposalState::Queued | ProposalState::Executed)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::{smallest_passing, SplitBase, SplitTrial};

    #[test]
    fn an_uncut_identity_is_its_own_entitlement_so_split_gains_are_against_its_counted_voice() {
        // 10,000 tokens counted whole (voice 100) at a 10% share
        let base = SplitBase::new((100.0, 0.1), 10_000.0);
        let t = SplitTrial::against("pool".into(), (130.0, 0.12), &base);
        assert!((t.gain - 1.3).abs() < 1e-12);
        assert!((t.share_gain - 1.2).abs() < 1e-12);
        assert!((t.counted_gain - 1.3).abs() < 1e-12);
    }

    #[test]
    fn a_cut_identity_is_measured_against_the_square_root_of_its_stake_and_the_total_it_would_make()
    {
        // 10,000 tokens cut by an issuer cap to voice 40 of a total 400 (10%): uncut it would be 100 of
        // 460, so taking back 60 through the pool is no gain over one identity holding the stake
        let base = SplitBase::new((40.0, 0.1), 10_000.0);
        let t = SplitTrial::against("pool".into(), (100.0, 100.0 / 460.0), &base);
        assert!((t.gain - 1.0).abs() < 1e-12, "{t:?}");
        assert!((t.share_gain - 1.0).abs() < 1e-12, "{t:?}");
        assert!((t.counted_gain - 2.5).abs() < 1e-12, "{t:?}");
        // more than the uncut identity is a gain
        let t = SplitTrial::against("more".into(), (150.0, 150.0 / 510.0), &base);
        assert!((t.gain - 1.5).abs() < 1e-12, "{t:?}");
        assert!(t.share_gain > 1.3, "{t:?}");
    }

    #[test]
    fn bisection_finds_the_smallest_passing_prefix() {
        for threshold in 1..=50usize {
            let mut calls = 0;
            let found = smallest_passing::<()>(50, |k| {
                calls += 1;
                Ok(k >= threshold)
            })
            .unwrap();
            assert_eq!(found, Some(threshold));
            assert!(calls <= 8, "{calls} trials for 50 candidates");
        }
        assert_eq!(smallest_passing::<()>(50, |_| Ok(false)).unwrap(), None);
        assert_eq!(smallest_passing::<()>(0, |_| Ok(true)).unwrap(), None);
    }
}
