//! Identity issuers and voice delegation, played on the real `IdentityRegistry` and
//! `QuadraticVotes` (scenario sections `[issuers]` and `[delegation]`).
//!
//! - **issuance** ([`IssuerPlan`]): several honest issuers that cannot see each other's identities
//!   (a share of persons holds one identity at each, its stake split over one account per issuer),
//!   and a captured issuer that mints `identities` identities for each of the `holders` largest
//!   stakers (their stake split over that many accounts). Voice is read from `QuadraticVotes`;
//!   whatever the contracts do to an issuer's identities (a cap, a revocation) shows in the numbers.
//! - **events** ([`events`]), each on a snapshot of the state right after issuance (the run itself
//!   is unchanged): persons unlink and relink to a fresh identity; persons unbond and link a new
//!   account, holding the re-staked tokens, to the same identity; an issuer (or the admin) unlinks
//!   the issuer's accounts in the block of a proposal, before its snapshot; the admin revokes the
//!   captured issuer.
//! - **delegation** ([`delegate`]), live for the whole run: a share of holders delegate to popular
//!   delegates (the stakers with the most voice) or to operator owners, and the captured issuer's
//!   identities may all delegate to one delegate, whose counted voice the governor caps.

use alloy::{
    primitives::{Address, Bytes, U256},
    sol_types::SolCall,
};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use verinfer_bindings::{
    units::tokens_f64, IdentityRegistry, QuadraticVotes, Slasher, Staking, VerinferGovernor,
    VerinferToken,
};

use super::{
    agent,
    capture::{SplitBase, SplitTrial},
    traffic::BLOCK_SECONDS,
    world::{voice_units, World},
    Behaviour, Issuers, Scenario, Unlinker,
};
use crate::{
    metrics::{gini, nakamoto},
    SimError,
};

/// Salt of the issuers' own random stream (so that adding `[issuers]` or `[delegation]` never
/// shifts the draws of the rest of the scenario).
const ISSUER_STREAM: u64 = 0x1d_e471_7e55;
/// Salt of the delegation's random stream.
const DELEGATION_STREAM: u64 = 0xde1e_6a7e;

/// Which issuer attests each account of each person: `None` = unattested.
pub(crate) struct IssuerPlan {
    /// Per person (stakers only, largest first), one entry per account.
    pub persons: Vec<Vec<Option<usize>>>,
}

impl IssuerPlan {
    /// Draws the plan for `scenario`'s stakers. Issuers `0..count` are honest; the captured issuer,
    /// when there is one, is number `count`.
    pub fn draw(cfg: &Issuers, scenario: &Scenario) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed ^ ISSUER_STREAM);
        let captured = cfg.captured.as_ref();
        let persons = (0..scenario.stakers.count)
            .map(|i| match captured {
                Some(c) if i < c.holders => vec![Some(cfg.count); c.identities],
                _ if !rng.gen_bool(scenario.stakers.attested_share) => vec![None],
                _ if cfg.count > 1 && rng.gen_bool(cfg.multi_share) => {
                    (0..cfg.count).map(Some).collect()
                }
                _ => vec![Some(rng.gen_range(0..cfg.count))],
            })
            .collect();
        Self { persons }
    }
}

/// Voice of one issuer's identities, right after issuance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssuerVoice {
    /// `honest-N` or `captured`.
    pub issuer: String,
    /// Identities it created (one per account it attested).
    pub identities: usize,
    /// Distinct persons holding them.
    pub persons: usize,
    /// Their voice (`QuadraticVotes.getVotes`, sqrt-token units).
    pub voice: f64,
    /// Their share of `QuadraticVotes.totalVoice`.
    pub voice_share: f64,
    /// The stake of their accounts, share of all staked tokens.
    pub stake_share: f64,
}

/// What the captured issuer's identities bought their holders.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CapturedVoice {
    /// Holders (the largest stakers).
    pub holders: usize,
    /// Identities per holder.
    pub identities_each: usize,
    /// The holders' voice, read from `QuadraticVotes`.
    pub voice: f64,
    /// The voice they would have with one identity each (sum of sqrt of their on-chain stake).
    pub voice_one_identity_each: f64,
    /// `voice / voice_one_identity_each`.
    pub gain: f64,
    /// The largest one holder's gain (voice / sqrt(stake)): the best split gain in the captured case.
    pub best_split_gain: f64,
    /// The bound on the share of total voice one issuer's identities can hold:
    /// `max(issuerCapBps, 1 / issuers with voice)` (docs/governance.md, "Per-issuer cap").
    pub cap_share: f64,
    /// The holders' share of total voice.
    pub voice_share: f64,
    /// The holders' share of staked tokens.
    pub stake_share: f64,
    /// The largest holder's routes out of its capped identities ([`route_search`]), each measured against
    /// its voice as issued (the first trial), or the square root of its stake where the cap cut it below;
    /// empty until the issuer events ran.
    pub routes: Vec<SplitTrial>,
    /// Best gain (voice or share) over the routes that use the captured identities, the unattested pool,
    /// delegation and one identity at one honest issuer; it counts in the run's split-gain goal.
    pub best_route_gain: f64,
    /// Best gain over the routes that also spread the stake over one identity at every honest issuer
    /// (issuers cannot see each other's identities: a limit no per-issuer rule can close, reported apart).
    pub multi_issuer_route_gain: f64,
}

/// Unlink then relink to a fresh identity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelinkTrial {
    /// Persons that did it.
    pub persons: usize,
    /// Their voice before.
    pub voice_before: f64,
    /// After unlinking (their stake joins the unattested pool).
    pub voice_unlinked: f64,
    /// After linking to a fresh identity of the same issuer, once the link cooldown has passed.
    pub voice_relinked: f64,
    /// Links accepted right after unlinking, inside the cooldown (0 when the cooldown holds).
    pub linked_in_cooldown: usize,
    /// The registry's link cooldown (blocks), rolled before relinking.
    pub cooldown_blocks: u64,
    /// Links refused by the contracts after the cooldown.
    pub refused: usize,
}

/// Unbond, then link a new account holding the re-staked tokens to the same identity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReuseTrial {
    /// Persons that did it.
    pub persons: usize,
    /// Their voice before.
    pub voice_before: f64,
    /// Right after requesting the unbonding of all their shares.
    pub voice_unbonding: f64,
    /// After the unbonding delay, the new account's link and its new stake.
    pub voice_relinked: f64,
    /// Steps refused by the contracts (link or re-stake).
    pub refused: usize,
}

/// An issuer's accounts unlinked in a proposal's block, before its snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PreSnapshotTrial {
    /// The issuer whose accounts were targeted.
    pub issuer: String,
    /// Who sent the unlinks (`issuer` or `admin`).
    pub by: String,
    /// Accounts targeted.
    pub accounts: usize,
    /// Unlinks the contracts executed.
    pub unlinked: usize,
    /// Unlinks the contracts refused.
    pub refused: usize,
    /// The accounts' voice in the block before.
    pub voice_before: f64,
    /// Their voice at the proposal's snapshot as the governor reads it (`getPastVotes` at
    /// `snapshot - 1`).
    pub voice_at_snapshot: f64,
    /// Total voice in the block before.
    pub total_before: f64,
    /// Total voice at `snapshot - 1`.
    pub total_at_snapshot: f64,
}

/// The admin revokes the captured issuer (`IdentityRegistry.revokeIssuer`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RevocationTrial {
    /// The captured holders' voice before.
    pub voice_before: f64,
    /// After the revocation, one block later.
    pub voice_after: f64,
    /// Their share of total voice after.
    pub voice_share_after: f64,
}

/// The `issuers` section of the run report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssuersReport {
    /// Each issuer's identities and voice right after issuance.
    pub issuers: Vec<IssuerVoice>,
    /// Persons holding an identity at more than one honest issuer.
    pub multi_identity_persons: usize,
    /// The captured issuer's effect, when there is one.
    pub captured: Option<CapturedVoice>,
    /// Unlink and relink.
    pub relink: Option<RelinkTrial>,
    /// Identity reuse after unbonding.
    pub reuse_after_unbond: Option<ReuseTrial>,
    /// Unlinks just before a proposal's snapshot.
    pub pre_snapshot_unlink: Option<PreSnapshotTrial>,
    /// Revocation of the captured issuer.
    pub revocation: Option<RevocationTrial>,
}

/// The `delegation` section of the run report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DelegationReport {
    /// Persons that delegated.
    pub delegators: usize,
    /// `QuadraticVotes.delegate` transactions.
    pub delegations: usize,
    /// Voice that moved to another account, share of total voice.
    pub delegated_voice_share: f64,
    /// Popular delegates (the stakers with the most voice) and operator owners that received voice.
    pub delegates: usize,
    /// The largest voice one account holds after delegation, share of total voice.
    pub largest_delegate_share: f64,
    /// The governor's per-delegate cap, share of total voice.
    pub delegate_cap_share: f64,
    /// Nakamoto coefficient of voice by holder (account) before delegation.
    pub nakamoto_before: usize,
    /// And after.
    pub nakamoto_after: usize,
    /// Gini coefficient of voice by holder (account) before delegation.
    pub gini_before: f64,
    /// And after.
    pub gini_after: f64,
    /// The captured issuer's identities delegated to one delegate: its voice share.
    pub sybil_delegate_share: Option<f64>,
    /// What the governor counts of that delegate's voice (`VerinferGovernor.getVotes`, capped),
    /// share of total voice.
    pub sybil_delegate_counted_share: Option<f64>,
}

/// Issuer labels: `honest-N`, or `captured` for the last one when the scenario has one.
fn label(cfg: &Issuers, issuer: usize) -> String {
    if cfg.captured.is_some() && issuer == cfg.count {
        "captured".into()
    } else {
        format!("honest-{issuer}")
    }
}

fn votes(w: &mut World, account: Address) -> Result<f64, SimError> {
    let v = w
        .sim
        .view(account, w.c.votes, QuadraticVotes::getVotesCall { account })?;
    Ok(voice_units(v))
}

fn total_voice(w: &mut World) -> Result<f64, SimError> {
    let v = w
        .sim
        .view(w.watcher, w.c.votes, QuadraticVotes::totalVoiceCall {})?;
    Ok(voice_units(v))
}

fn stake(w: &mut World, account: Address) -> Result<f64, SimError> {
    let s = w
        .sim
        .view(account, w.c.staking, Staking::stakeOfCall { account })?;
    Ok(tokens_f64(s))
}

/// Measures each issuer's voice right after issuance (before any delegation).
pub(crate) fn measure_issuance(w: &mut World, cfg: &Issuers) -> Result<IssuersReport, SimError> {
    let total = total_voice(w)?.max(f64::MIN_POSITIVE);
    let addresses: Vec<(Address, usize, Option<usize>)> = w
        .accounts
        .iter()
        .map(|a| (a.address, a.entity, a.issuer))
        .collect();
    let mut all_stake = 0.0;
    let mut per_account = Vec::with_capacity(addresses.len());
    for (a, e, issuer) in &addresses {
        let (v, s) = (votes(w, *a)?, stake(w, *a)?);
        all_stake += s;
        per_account.push((*e, *issuer, v, s));
    }
    let all_stake = all_stake.max(f64::MIN_POSITIVE);
    let n_issuers = w.issuers.len();
    let mut report = IssuersReport::default();
    for j in 0..n_issuers {
        let mine: Vec<&(usize, Option<usize>, f64, f64)> = per_account
            .iter()
            .filter(|(_, i, _, _)| *i == Some(j))
            .collect();
        let mut persons: Vec<usize> = mine.iter().map(|(e, ..)| *e).collect();
        persons.dedup();
        let voice: f64 = mine.iter().map(|(_, _, v, _)| v).sum();
        report.issuers.push(IssuerVoice {
            issuer: label(cfg, j),
            identities: mine.len(),
            persons: persons.len(),
            voice,
            voice_share: voice / total,
            stake_share: mine.iter().map(|(.., s)| s).sum::<f64>() / all_stake,
        });
    }
    let mut honest_issuers_of: std::collections::BTreeMap<usize, usize> = Default::default();
    for (e, issuer, ..) in &per_account {
        if issuer.is_some_and(|i| i < cfg.count) {
            *honest_issuers_of.entry(*e).or_default() += 1;
        }
    }
    report.multi_identity_persons = honest_issuers_of.values().filter(|n| **n > 1).count();
    if let Some(c) = &cfg.captured {
        // (voice, stake) of each holder, summed over its accounts.
        let mut per_holder = vec![(0.0f64, 0.0f64); c.holders];
        for (e, _, v, st) in &per_account {
            if let Some(h) = per_holder.get_mut(*e) {
                h.0 += v;
                h.1 += st;
            }
        }
        let (mut voice, mut one, mut best, mut held) = (0.0, 0.0, 1.0f64, 0.0);
        for (v, s) in per_holder {
            voice += v;
            one += s.sqrt();
            held += s;
            if s > 0.0 {
                best = best.max(v / s.sqrt());
            }
        }
        let cap_bps = w
            .sim
            .view(w.watcher, w.c.votes, QuadraticVotes::issuerCapBpsCall {})?;
        let live = report
            .issuers
            .iter()
            .filter(|i| i.voice > 0.0)
            .count()
            .max(1);
        let cap_share = (cap_bps.saturating_to::<u64>() as f64 / 10_000.0).max(1.0 / live as f64);
        report.captured = Some(CapturedVoice {
            holders: c.holders,
            identities_each: c.identities,
            voice,
            voice_one_identity_each: one,
            gain: voice / one.max(f64::MIN_POSITIVE),
            best_split_gain: best,
            cap_share,
            voice_share: voice / total,
            stake_share: held / all_stake,
            routes: Vec::new(),
            best_route_gain: 1.0,
            multi_issuer_route_gain: 1.0,
        });
    }
    Ok(report)
}

/// Plays the issuer events of `cfg`, each on a snapshot restored afterwards.
pub(crate) fn events(
    w: &mut World,
    cfg: &Issuers,
    seed: u64,
    report: &mut IssuersReport,
) -> Result<(), SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ISSUER_STREAM ^ 1);
    // Persons with exactly one account, attested by an honest issuer: (account index, issuer).
    let by_person = accounts_by_person(w);
    let mut singles: Vec<(usize, usize)> = Vec::new();
    for (ai, a) in w.accounts.iter().enumerate() {
        let alone = by_person.get(&a.entity).is_some_and(|v| v.len() == 1);
        if let Some(j) = a.issuer.filter(|j| *j < cfg.count && alone) {
            singles.push((ai, j));
        }
    }
    singles.shuffle(&mut rng);
    if cfg.relink > 0 {
        let chosen: Vec<(usize, usize)> = singles.iter().copied().take(cfg.relink).collect();
        let saved = w.sim.snapshot();
        let trial = relink(w, &chosen);
        w.sim.restore(saved);
        report.relink = Some(trial?);
    }
    if cfg.reuse_after_unbond > 0 {
        let chosen: Vec<(usize, usize)> = singles
            .iter()
            .copied()
            .skip(cfg.relink)
            .take(cfg.reuse_after_unbond)
            .collect();
        let saved = w.sim.snapshot();
        let trial = reuse_after_unbond(w, &chosen);
        w.sim.restore(saved);
        report.reuse_after_unbond = Some(trial?);
    }
    if let Some(p) = &cfg.pre_snapshot_unlink {
        let saved = w.sim.snapshot();
        let trial = pre_snapshot_unlink(w, cfg, p.issuer, p.by);
        w.sim.restore(saved);
        report.pre_snapshot_unlink = Some(trial?);
    }
    if cfg.captured.is_some() {
        route_search(w, cfg, report)?;
    }
    if cfg.revoke_captured {
        if let Some(c) = &cfg.captured {
            let saved = w.sim.snapshot();
            let trial = revoke_captured(w, cfg.count, c.holders);
            w.sim.restore(saved);
            report.revocation = Some(trial?);
        }
    }
    Ok(())
}

/// Where a route puts the largest captured holder's accounts.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// The first `unlinked` of its captured accounts leave their identities (their stake joins the
    /// unattested pool); with `delegate_all`, every account then delegates to the first one.
    Pool { unlinked: usize, delegate_all: bool },
    /// The first `unlinked` accounts leave; after the link cooldown, the first `relinked` of them join one
    /// fresh identity at each of the first `issuers` honest issuers (split evenly).
    Honest {
        unlinked: usize,
        relinked: usize,
        issuers: usize,
    },
}

/// The largest captured holder tries every route out of its capped identities that the contracts leave
/// it (each on a snapshot): part or all of its accounts unlinked into the unattested pool, with and
/// without delegating everything to one account, and after the link cooldown one identity at one honest
/// issuer, or one at every honest issuer. Gains are against its voice as issued, raised to the square
/// root of its stake when the cap cut it below (what one identity holding the stake is entitled to:
/// [`SplitBase`]), in voice and in share.
fn route_search(w: &mut World, cfg: &Issuers, report: &mut IssuersReport) -> Result<(), SimError> {
    let captured = cfg.count;
    let theirs: Vec<Address> = w
        .accounts
        .iter()
        .filter(|a| a.entity == 0 && a.issuer == Some(captured))
        .map(|a| a.address)
        .collect();
    let Some(c) = report.captured.as_mut() else {
        return Ok(());
    };
    let k = theirs.len();
    if k == 0 {
        return Ok(());
    }
    let mut routes: Vec<(String, Route)> = vec![(
        format!("as issued: {k} captured identities (baseline)"),
        Route::Pool {
            unlinked: 0,
            delegate_all: false,
        },
    )];
    for unlinked in [k / 4, k / 2, 3 * k / 4, k] {
        if unlinked == 0 {
            continue;
        }
        routes.push((
            format!("{unlinked} of {k} accounts unlinked into the unattested pool"),
            Route::Pool {
                unlinked,
                delegate_all: false,
            },
        ));
        routes.push((
            format!("{unlinked} of {k} unlinked, every account delegating to one"),
            Route::Pool {
                unlinked,
                delegate_all: true,
            },
        ));
    }
    for (unlinked, relinked) in [(k / 2, k / 2), (k, k / 2), (k, k)] {
        if relinked == 0 {
            continue;
        }
        routes.push((
            format!("{unlinked} of {k} unlinked, {relinked} relinked to one honest identity"),
            Route::Honest {
                unlinked,
                relinked,
                issuers: 1,
            },
        ));
    }
    let honest = cfg.count;
    if honest > 1 {
        routes.push((
            format!("{k} of {k} unlinked, {k} relinked over one identity at each of {honest} honest issuers"),
            Route::Honest {
                unlinked: k,
                relinked: k,
                issuers: honest,
            },
        ));
        routes.push((
            format!("{k} of {k} unlinked, half relinked over one identity at each of {honest} honest issuers"),
            Route::Honest {
                unlinked: k,
                relinked: k / 2,
                issuers: honest,
            },
        ));
    }
    let mut held = 0.0;
    for &a in &theirs {
        held += stake(w, a)?;
    }
    let mut base = None;
    c.routes.clear();
    c.best_route_gain = 1.0;
    c.multi_issuer_route_gain = 1.0;
    for (label, route) in routes {
        let saved = w.sim.snapshot();
        let measured = take_route(w, &theirs, route);
        w.sim.restore(saved);
        let measured = measured?;
        let base = *base.get_or_insert_with(|| SplitBase::new(measured, held));
        let trial = SplitTrial::against(label, measured, &base);
        match route {
            Route::Honest { issuers, .. } if issuers > 1 => {
                c.multi_issuer_route_gain = c.multi_issuer_route_gain.max(trial.best_gain());
            }
            _ => c.best_route_gain = c.best_route_gain.max(trial.best_gain()),
        }
        c.routes.push(trial);
    }
    Ok(())
}

/// Plays `route` with the holder's accounts `theirs`; returns their voice (summed over the accounts) and
/// its share of the total.
fn take_route(w: &mut World, theirs: &[Address], route: Route) -> Result<(f64, f64), SimError> {
    let (identity, votes_c) = (w.c.identity, w.c.votes);
    let (unlinked, delegate_all) = match route {
        Route::Pool {
            unlinked,
            delegate_all,
        } => (unlinked, delegate_all),
        Route::Honest { unlinked, .. } => (unlinked, false),
    };
    for &a in &theirs[..unlinked] {
        w.sim
            .transact(a, identity, IdentityRegistry::unlinkCall { account: a })?;
    }
    if let Route::Honest {
        relinked, issuers, ..
    } = route
    {
        let cooldown = w
            .sim
            .view(w.watcher, identity, IdentityRegistry::linkCooldownCall {})?
            .saturating_to::<u64>()
            + 1;
        w.sim.advance(cooldown, cooldown * BLOCK_SECONDS);
        // One fresh identity per honest issuer, the relinked accounts dealt over them in turn.
        let mut ids: Vec<Option<(U256, Address)>> = vec![None; issuers];
        for (n, &a) in theirs[..relinked].iter().enumerate() {
            let j = n % issuers;
            let issuer = w.issuers[j];
            match ids[j] {
                None => ids[j] = Some((w.new_identity_by(issuer, a)?, a)),
                Some((id, member)) => w.link_by(issuer, a, id, Some(member))?,
            }
        }
    }
    if delegate_all {
        let to = theirs[0];
        for &a in &theirs[1..] {
            w.sim
                .transact(a, votes_c, QuadraticVotes::delegateCall { delegatee: to })?;
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    let mut voice = 0.0;
    for &a in theirs {
        voice += votes(w, a)?;
    }
    let total = total_voice(w)?;
    Ok((voice, if total > 0.0 { voice / total } else { 0.0 }))
}

/// Raises the run's split-gain goal to the captured holder's best route ([`route_search`]), so the goal
/// judges the pool route of a capped holder too.
pub(crate) fn fold_route_gain(r: &mut super::RunReport) {
    let Some(c) = r.issuers.as_ref().and_then(|i| i.captured.as_ref()) else {
        return;
    };
    let gain = c.best_route_gain;
    if gain <= r.best_split_gain {
        return;
    }
    r.best_split_gain = gain;
    if let Some(g) = r
        .goals
        .iter_mut()
        .find(|g| g.goal == "best split gain <= 1.5x")
    {
        g.pass = gain <= 1.5;
        g.measure = Some(gain);
        g.detail = format!(
            "{gain:.3}x (the largest captured holder's routes out of its capped identities)"
        );
    }
}

/// The accounts of each person, in account order.
fn accounts_by_person(w: &World) -> std::collections::HashMap<usize, Vec<Address>> {
    let mut out: std::collections::HashMap<usize, Vec<Address>> = Default::default();
    for a in &w.accounts {
        out.entry(a.entity).or_default().push(a.address);
    }
    out
}

/// Runs `call` and counts a revert as refused (`Ok(false)`).
fn attempt<C: SolCall>(
    w: &mut World,
    from: Address,
    to: Address,
    call: C,
) -> Result<bool, SimError> {
    match w.sim.transact(from, to, call) {
        Ok(_) => Ok(true),
        Err(SimError::Reverted { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

fn relink(w: &mut World, chosen: &[(usize, usize)]) -> Result<RelinkTrial, SimError> {
    let mut t = RelinkTrial {
        persons: chosen.len(),
        ..RelinkTrial::default()
    };
    let identity = w.c.identity;
    for &(ai, _) in chosen {
        let a = w.accounts[ai].address;
        t.voice_before += votes(w, a)?;
    }
    for &(ai, _) in chosen {
        let a = w.accounts[ai].address;
        if !attempt(w, a, identity, IdentityRegistry::unlinkCall { account: a })? {
            t.refused += 1;
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    for &(ai, _) in chosen {
        t.voice_unlinked += votes(w, w.accounts[ai].address)?;
    }
    // Each issuer creates a fresh identity and offers it; accepting it at once must wait out the
    // link cooldown.
    let mut offered = Vec::with_capacity(chosen.len());
    for &(ai, j) in chosen {
        let (a, issuer) = (w.accounts[ai].address, w.issuers[j]);
        let id = w
            .sim
            .transact(issuer, identity, IdentityRegistry::createIdentityCall {})?
            .ret;
        w.sim.transact(
            issuer,
            identity,
            IdentityRegistry::offerLinkCall {
                account: a,
                identityId: id,
            },
        )?;
        if attempt(
            w,
            a,
            identity,
            IdentityRegistry::acceptLinkCall { identityId: id },
        )? {
            t.linked_in_cooldown += 1;
        } else {
            offered.push((a, id));
        }
    }
    t.cooldown_blocks = w
        .sim
        .view(w.watcher, identity, IdentityRegistry::linkCooldownCall {})?
        .saturating_to::<u64>();
    let mut ready = 0u64;
    for &(a, _) in &offered {
        let at = w.sim.view(
            a,
            identity,
            IdentityRegistry::linkReadyAtCall { account: a },
        )?;
        ready = ready.max(at.saturating_to::<u64>());
    }
    let now = w.sim.block_number();
    if ready > now {
        let blocks = ready - now;
        w.sim.advance(blocks, blocks * BLOCK_SECONDS);
    }
    for (a, id) in offered {
        if !attempt(
            w,
            a,
            identity,
            IdentityRegistry::acceptLinkCall { identityId: id },
        )? {
            t.refused += 1;
        }
    }
    w.sim.advance(1, BLOCK_SECONDS);
    for &(ai, _) in chosen {
        t.voice_relinked += votes(w, w.accounts[ai].address)?;
    }
    Ok(t)
}

fn reuse_after_unbond(w: &mut World, chosen: &[(usize, usize)]) -> Result<ReuseTrial, SimError> {
    let mut t = ReuseTrial {
        persons: chosen.len(),
        ..ReuseTrial::default()
    };
    let (staking, identity, token) = (w.c.staking, w.c.identity, w.c.token);
    let mut pending = Vec::new();
    for &(ai, j) in chosen {
        let a = w.accounts[ai].address;
        t.voice_before += votes(w, a)?;
        let Some(opi) = w.accounts[ai].operator else {
            continue;
        };
        let operator = w.ops[opi].owner;
        let shares = w.sim.view(
            a,
            staking,
            Staking::sharesOfCall {
                operator,
                account: a,
            },
        )?;
        let id = w
            .sim
            .transact(a, staking, Staking::requestUnstakeCall { operator, shares })?
            .ret;
        pending.push((ai, j, id));
    }
    w.sim.advance(1, BLOCK_SECONDS);
    for &(ai, _) in chosen {
        t.voice_unbonding += votes(w, w.accounts[ai].address)?;
    }
    let delay = w.params.unbonding_delay + 1;
    w.sim.advance(delay.div_ceil(BLOCK_SECONDS), delay);
    // The operator the new stake goes to: the active one with the fewest slashes.
    let target = (0..w.ops.len())
        .filter(|i| w.ops[*i].behaviour != Behaviour::Whale)
        .min_by_key(|i| (w.ops[*i].slashes, *i))
        .map(|i| w.ops[i].owner);
    for (n, (ai, j, wid)) in pending.into_iter().enumerate() {
        let a = w.accounts[ai].address;
        let assets = w
            .sim
            .transact(
                a,
                staking,
                Staking::completeUnstakeCall { withdrawalId: wid },
            )?
            .ret;
        let fresh = agent("reused-identity", n);
        let id = w
            .sim
            .view(a, identity, IdentityRegistry::identityOfCall { account: a })?;
        let linked = match w.link_by(w.issuers[j], fresh, id, Some(a)) {
            Ok(()) => true,
            Err(SimError::Reverted { .. }) => false,
            Err(e) => return Err(e),
        };
        let Some(operator) = target else {
            t.refused += 1;
            continue;
        };
        let moved = attempt(
            w,
            a,
            token,
            VerinferToken::transferCall {
                to: fresh,
                value: assets,
            },
        )? && attempt(
            w,
            fresh,
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: assets,
            },
        )? && attempt(
            w,
            fresh,
            staking,
            Staking::delegateCall { operator, assets },
        )?;
        t.refused += usize::from(!linked) + usize::from(!moved);
    }
    w.sim.advance(1, BLOCK_SECONDS);
    for &(ai, _) in chosen {
        // The identity's voice sits with its delegatee, the first account (which kept its link).
        t.voice_relinked += votes(w, w.accounts[ai].address)?;
    }
    for n in 0..chosen.len() {
        t.voice_relinked += votes(w, agent("reused-identity", n))?;
    }
    Ok(t)
}

fn pre_snapshot_unlink(
    w: &mut World,
    cfg: &Issuers,
    issuer: usize,
    by: Unlinker,
) -> Result<PreSnapshotTrial, SimError> {
    let accounts: Vec<Address> = w
        .accounts
        .iter()
        .filter(|a| a.issuer == Some(issuer))
        .map(|a| a.address)
        .collect();
    let sender = match by {
        Unlinker::Issuer => w.issuers[issuer],
        Unlinker::Admin => w.deployer,
    };
    let mut t = PreSnapshotTrial {
        issuer: label(cfg, issuer),
        by: match by {
            Unlinker::Issuer => "issuer",
            Unlinker::Admin => "admin",
        }
        .into(),
        accounts: accounts.len(),
        ..PreSnapshotTrial::default()
    };
    for a in &accounts {
        t.voice_before += votes(w, *a)?;
    }
    t.total_before = total_voice(w)?;
    w.sim.advance(1, BLOCK_SECONDS);
    let identity = w.c.identity;
    for a in &accounts {
        if attempt(
            w,
            sender,
            identity,
            IdentityRegistry::unlinkCall { account: *a },
        )? {
            t.unlinked += 1;
        } else {
            t.refused += 1;
        }
    }
    // The proposal lands in the same block, after the unlinks: its snapshot is later.
    let proposer = w.watcher;
    let call = Slasher::setTreasuryCall {
        treasury_: proposer,
    };
    let id = w
        .sim
        .transact(
            proposer,
            w.c.governor,
            VerinferGovernor::proposeCall {
                targets: vec![w.c.slasher],
                values: vec![U256::ZERO],
                calldatas: vec![Bytes::from(call.abi_encode())],
                description: "issuer unlinks before the snapshot".into(),
            },
        )?
        .ret;
    let snapshot = w.sim.view(
        proposer,
        w.c.governor,
        VerinferGovernor::proposalSnapshotCall { proposalId: id },
    )?;
    let delay = w.params.voting_delay + 1;
    w.sim.advance(delay, delay * BLOCK_SECONDS);
    let at = snapshot.saturating_sub(U256::from(1));
    for a in &accounts {
        let v = w.sim.view(
            *a,
            w.c.votes,
            QuadraticVotes::getPastVotesCall {
                account: *a,
                timepoint: at,
            },
        )?;
        t.voice_at_snapshot += voice_units(v);
    }
    let total = w.sim.view(
        proposer,
        w.c.votes,
        QuadraticVotes::getPastTotalSupplyCall { timepoint: at },
    )?;
    t.total_at_snapshot = voice_units(total);
    Ok(t)
}

fn revoke_captured(
    w: &mut World,
    captured: usize,
    holders: usize,
) -> Result<RevocationTrial, SimError> {
    let theirs: Vec<Address> = w
        .accounts
        .iter()
        .filter(|a| a.entity < holders)
        .map(|a| a.address)
        .collect();
    let mut t = RevocationTrial::default();
    for a in &theirs {
        t.voice_before += votes(w, *a)?;
    }
    let issuer = w.issuers[captured];
    w.sim.transact(
        w.deployer,
        w.c.identity,
        IdentityRegistry::revokeIssuerCall { issuer },
    )?;
    w.sim.advance(1, BLOCK_SECONDS);
    for a in &theirs {
        t.voice_after += votes(w, *a)?;
    }
    t.voice_share_after = t.voice_after / total_voice(w)?.max(f64::MIN_POSITIVE);
    Ok(t)
}

/// Delegates voice as `scenario.delegation` says (live: the rest of the run votes with it).
pub(crate) fn delegate(
    w: &mut World,
    scenario: &Scenario,
) -> Result<Option<DelegationReport>, SimError> {
    let Some(cfg) = &scenario.delegation else {
        return Ok(None);
    };
    let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed ^ DELEGATION_STREAM);
    let captured_holders = scenario
        .issuers
        .as_ref()
        .and_then(|i| i.captured.as_ref())
        .map_or(0, |c| c.holders);
    let before = w.measure()?;
    let holder_voice = |m: &super::world::Measure, w: &mut World| -> Result<Vec<f64>, SimError> {
        let mut v = Vec::with_capacity(m.holders.len());
        for (a, _) in &m.holders {
            v.push(votes(w, *a)?);
        }
        Ok(v)
    };
    let voice_before = holder_voice(&before, w)?;
    let total = total_voice(w)?.max(f64::MIN_POSITIVE);
    // Popular delegates: the first account of each of the stakers with the most voice.
    let mut by_voice: Vec<usize> = (captured_holders..scenario.stakers.count).collect();
    by_voice.sort_by(|a, b| before.voice[*b].total_cmp(&before.voice[*a]));
    let popular: Vec<usize> = by_voice.into_iter().take(cfg.delegates).collect();
    let by_person = accounts_by_person(w);
    let popular_accounts: Vec<Address> = popular
        .iter()
        .filter_map(|e| by_person.get(e).and_then(|v| v.first().copied()))
        .collect();
    let operator_owners: Vec<Address> = w
        .ops
        .iter()
        .filter(|o| o.behaviour != Behaviour::Whale)
        .map(|o| o.owner)
        .collect();
    let mut report = DelegationReport {
        delegate_cap_share: f64::from(w.params.delegate_cap_bps) / 10_000.0,
        nakamoto_before: nakamoto(&voice_before),
        gini_before: gini(&voice_before),
        ..DelegationReport::default()
    };
    let votes_c = w.c.votes;
    let mut receivers = std::collections::BTreeSet::new();
    let mut moved = 0.0;
    for e in captured_holders..scenario.stakers.count {
        if popular.contains(&e) || before.voice[e] <= 0.0 || !rng.gen_bool(cfg.share) {
            continue;
        }
        let to_operator = !operator_owners.is_empty() && rng.gen_bool(cfg.to_operators);
        let target = if to_operator {
            operator_owners[rng.gen_range(0..operator_owners.len())]
        } else if let Some(t) = popular_accounts.choose(&mut rng) {
            *t
        } else {
            continue;
        };
        for &a in by_person.get(&e).map_or(&[][..], Vec::as_slice) {
            moved += votes(w, a)?;
            w.sim.transact(
                a,
                votes_c,
                QuadraticVotes::delegateCall { delegatee: target },
            )?;
            report.delegations += 1;
        }
        receivers.insert(target);
        report.delegators += 1;
    }
    let mut sybil_delegate = None;
    if cfg.sybil_to_one && captured_holders > 0 {
        let theirs: Vec<Address> = w
            .accounts
            .iter()
            .filter(|a| a.entity < captured_holders)
            .map(|a| a.address)
            .collect();
        if let Some(&target) = theirs.first() {
            for a in theirs.iter().skip(1) {
                moved += votes(w, *a)?;
                w.sim.transact(
                    *a,
                    votes_c,
                    QuadraticVotes::delegateCall { delegatee: target },
                )?;
                report.delegations += 1;
            }
            report.delegators += captured_holders;
            receivers.insert(target);
            sybil_delegate = Some(target);
        }
    }
    report.delegates = receivers.len();
    report.delegated_voice_share = moved / total;
    w.sim.advance(1, BLOCK_SECONDS);
    let after = w.measure()?;
    let voice_after = holder_voice(&after, w)?;
    report.nakamoto_after = nakamoto(&voice_after);
    report.gini_after = gini(&voice_after);
    report.largest_delegate_share = voice_after.iter().copied().fold(0.0, f64::max) / total;
    if let Some(d) = sybil_delegate {
        report.sybil_delegate_share = Some(votes(w, d)? / total);
        let now = U256::from(w.sim.block_number());
        let counted = w.sim.view(
            d,
            w.c.governor,
            VerinferGovernor::getVotesCall {
                account: d,
                timepoint: now,
            },
        )?;
        report.sybil_delegate_counted_share = Some(voice_units(counted) / total);
    }
    Ok(Some(report))
}

impl std::fmt::Display for IssuersReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for i in &self.issuers {
            writeln!(
                f,
                "issuer {}: {} identities of {} persons, {:.1}% of voice for {:.1}% of stake",
                i.issuer,
                i.identities,
                i.persons,
                100.0 * i.voice_share,
                100.0 * i.stake_share
            )?;
        }
        if self.multi_identity_persons > 0 {
            writeln!(
                f,
                "{} persons hold an identity at several honest issuers",
                self.multi_identity_persons
            )?;
        }
        if let Some(c) = &self.captured {
            writeln!(
                f,
                "captured issuer: {} holders x {} identities hold {:.1}% of voice for {:.1}% of \
                 stake (bound {:.1}%): {:.2}x their voice with one identity each; best split gain \
                 {:.2}x",
                c.holders,
                c.identities_each,
                100.0 * c.voice_share,
                100.0 * c.stake_share,
                100.0 * c.cap_share,
                c.gain,
                c.best_split_gain
            )?;
            if !c.routes.is_empty() {
                writeln!(
                    f,
                    "the largest captured holder's routes out of its capped identities (gain against its \
                     voice as issued, or the square root of its stake where the cap cut it below; then \
                     against as issued):"
                )?;
                for t in &c.routes {
                    writeln!(
                        f,
                        "  {:<78} {:>6.3}x (share {:.3}x; as issued {:.3}x)",
                        t.strategy, t.gain, t.share_gain, t.counted_gain
                    )?;
                }
                writeln!(
                    f,
                    "best route gain {:.3}x (identities, pool, delegation, one honest identity); with one \
                     identity at every honest issuer {:.3}x",
                    c.best_route_gain, c.multi_issuer_route_gain
                )?;
            }
        }
        if let Some(r) = &self.relink {
            writeln!(
                f,
                "relink: {} persons, voice {:.1} -> unlinked {:.1} -> relinked {:.1} after a {}-block \
                 cooldown ({} linked inside it, {} refused after it)",
                r.persons,
                r.voice_before,
                r.voice_unlinked,
                r.voice_relinked,
                r.cooldown_blocks,
                r.linked_in_cooldown,
                r.refused
            )?;
        }
        if let Some(r) = &self.reuse_after_unbond {
            writeln!(
                f,
                "identity reuse after unbonding: {} persons, voice {:.1} -> unbonding {:.1} -> \
                 new account relinked {:.1} ({} refused)",
                r.persons, r.voice_before, r.voice_unbonding, r.voice_relinked, r.refused
            )?;
        }
        if let Some(p) = &self.pre_snapshot_unlink {
            writeln!(
                f,
                "unlink before a snapshot by the {} ({} accounts of issuer {}): {} unlinked, {} \
                 refused; their voice {:.1} -> {:.1} at the snapshot (total {:.1} -> {:.1})",
                p.by,
                p.accounts,
                p.issuer,
                p.unlinked,
                p.refused,
                p.voice_before,
                p.voice_at_snapshot,
                p.total_before,
                p.total_at_snapshot
            )?;
        }
        if let Some(r) = &self.revocation {
            writeln!(
                f,
                "revoking the captured issuer: its holders' voice {:.1} -> {:.1} ({:.1}% of voice)",
                r.voice_before,
                r.voice_after,
                100.0 * r.voice_share_after
            )?;
        }
        Ok(())
    }
}

impl std::fmt::Display for DelegationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "delegation: {} persons delegated {:.1}% of voice to {} delegates; largest holder \
             {:.1}% of voice (cap {:.1}%); Nakamoto of voice {} -> {}, Gini {:.3} -> {:.3}",
            self.delegators,
            100.0 * self.delegated_voice_share,
            self.delegates,
            100.0 * self.largest_delegate_share,
            100.0 * self.delegate_cap_share,
            self.nakamoto_before,
            self.nakamoto_after,
            self.gini_before,
            self.gini_after
        )?;
        if let (Some(raw), Some(counted)) =
            (self.sybil_delegate_share, self.sybil_delegate_counted_share)
        {
            write!(
                f,
                "; the captured identities' delegate holds {:.1}%, the governor counts {:.1}%",
                100.0 * raw,
                100.0 * counted
            )?;
        }
        writeln!(f)
    }
}
