//! Agent-based scenarios (TOML files under `scenarios/`), deterministic per seed.
//!
//! A run deploys the whole suite into a fresh [`Sim`] and plays every protocol action on chain:
//!
//! - **population** ([`world`]): operators register in `Staking` with hot k256 signer keys and serve
//!   two models in the `InferenceRegistry` (`[models]`: deterministic k = 3 / q = 2 and optimistic
//!   k = 1 by default) on a deployment with the scenario's `[governance]` parameters; stakers get
//!   identities from an issuer in the `IdentityRegistry` (or stay unattested) and delegate; whales
//!   split their stake or gather delegations;
//! - **issuers and delegation** ([`issuers`]): several honest issuers and a captured one, their
//!   voice, unlink/relink, reuse after unbonding, unlinks before a snapshot, revocation; voice
//!   delegated to popular or operator-owned delegates and Sybil identities to one delegate;
//! - **traffic** ([`traffic`]): a client requests inference, the registry assigns operators by
//!   stake, operators sign EIP-712 attestations (honest, lazy, equivocating or cartel), a watcher
//!   reports equivocations and missed assignments and challenges wrong results, every staker with
//!   voice may vote on the `DisputeGovernor`, rulings apply after the timelock delay and the
//!   resulting `WrongResult` slashes execute after the Slasher's veto window;
//! - **capture tests** ([`capture`]): at the end, on a snapshot, the best splitting strategy is
//!   searched against the real `QuadraticVotes`, and the 10 largest stakers try to pass a proposal
//!   and to veto a pending slash on the real `VerinferGovernor` against everyone else.
//!
//! Voting power is always read from `QuadraticVotes`, stake from `Staking`; nothing about voice,
//! assignment or dispute outcomes is computed off chain.

mod authority;
mod capture;
mod cartel;
mod issuers;
mod jury;
mod referee;
mod run;
pub mod seeds;
mod traffic;
pub mod turnout;
mod world;

pub use capture::{CaptureReport, CorruptionCost, ProposalTrial, SplitTrial, DECIDE_DISPUTE};
pub use issuers::{
    CapturedVoice, DelegationReport, IssuerVoice, IssuersReport, PreSnapshotTrial, RelinkTrial,
    ReuseTrial, RevocationTrial,
};
pub use jury::{Jury, JuryRecord, JuryReport};
pub use referee::{GameEnd, GameRecord, FULL_GAME_MOVES};
pub use run::run;
pub use seeds::{run_seeds, seeds_for, GoalOverSeeds, SeedGoal, SeedsReport, DEFAULT_SEEDS};
pub use traffic::{DisputeOutcome, DisputePath, DisputeRecord, VoteRecord};
pub use turnout::{TurnoutError, TurnoutModel};

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::primitives::{keccak256, Address};
use serde::{Deserialize, Serialize};

use crate::{
    metrics::{EpochMetrics, GoalCheck},
    SimError,
};

/// Errors loading or running a scenario; they name the file and the field.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The scenario file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or a field has the wrong type/name.
    #[error("{path}: field `{field}`: {message}")]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// Dotted field path (best effort from the error span), e.g. `operators.count`.
        field: String,
        /// The parser's message.
        message: String,
    },
    /// A field has a value out of its bounds.
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        /// The scenario file.
        path: PathBuf,
        /// Dotted field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A simulated transaction failed unexpectedly.
    #[error("simulation failed: {0}")]
    Sim(#[from] SimError),
    /// The deterministic model (the built-in digits classifier) could not be loaded.
    #[error("deterministic model: {0}")]
    Model(#[from] verinfer_mlp::FormatError),
    /// The deterministic model's inputs (the digits test split) could not be read.
    #[error("deterministic model inputs: {0}")]
    Dataset(#[from] verinfer_mlp::dataset::DatasetError),
    /// The deterministic model refused an input.
    #[error("deterministic model input: {0}")]
    Input(#[from] verinfer_mlp::InputError),
    /// An execution trace could not be built or read.
    #[error("execution trace: {0}")]
    Trace(#[from] verinfer_mlp::trace::TraceError),
    /// A referee game reached a state its players cannot continue from.
    #[error("referee game {game}: {what}")]
    Game {
        /// The game id.
        game: alloy::primitives::U256,
        /// What happened.
        what: &'static str,
    },
}

/// Most stakers a scenario may have (see [`Scenario::load`]'s size check).
pub const MAX_STAKERS: usize = 500_000;
/// Most epochs a scenario may run.
pub const MAX_EPOCHS: u64 = 100_000;
/// Most seeds of one multi-seed run.
pub const MAX_SEEDS: usize = 1000;
/// Most requests per epoch.
pub const MAX_REQUESTS_PER_EPOCH: usize = 100_000;

/// How stake is distributed over stakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Pareto with shape `alpha` and scale `min_stake`.
    Pareto,
    /// Uniform in `[min_stake, 2 * min_stake]`.
    Uniform,
}

/// Staker population.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stakers {
    /// Number of stakers.
    pub count: usize,
    /// Stake distribution.
    pub distribution: Distribution,
    /// Pareto shape (≈1.16 is the 80/20 rule).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Smallest stake, in tokens.
    pub min_stake: f64,
    /// Largest stake, in tokens (caps the Pareto tail).
    #[serde(default = "default_max_stake")]
    pub max_stake: f64,
    /// Share of stakers with an attested identity (the rest is pooled under one square root).
    #[serde(default = "default_attested")]
    pub attested_share: f64,
    /// Share of stakers that follow yield: they leave operators that get slashed.
    #[serde(default)]
    pub yield_following: f64,
}

fn default_alpha() -> f64 {
    1.16
}
fn default_max_stake() -> f64 {
    1e8
}
fn default_attested() -> f64 {
    1.0
}

/// Operator population and behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operators {
    /// Number of operators.
    pub count: usize,
    /// Self-stake of each operator, in tokens.
    pub self_stake: f64,
    /// Share of lazy operators (offline part of the time).
    #[serde(default)]
    pub lazy: f64,
    /// Share of equivocating operators.
    #[serde(default)]
    pub equivocating: f64,
    /// Share of operators in the cartel returning wrong results.
    #[serde(default)]
    pub cartel: f64,
    /// Probability a lazy operator misses an assignment.
    #[serde(default = "default_half")]
    pub lazy_miss_rate: f64,
    /// Probability an equivocator double-signs an assignment.
    #[serde(default = "default_small")]
    pub equivocation_rate: f64,
    /// Probability a cartel operator returns a wrong result.
    #[serde(default = "default_half")]
    pub cartel_wrong_rate: f64,
    /// Probability that the cartel stops moving in a referee game (at a random move; it then loses
    /// by timeout). Otherwise it plays every move from its dishonest trace and loses the one-step
    /// check.
    #[serde(default)]
    pub cartel_abandon_rate: f64,
    /// Jailed operators call `Staking.unjail` once their jail period is over (topping their
    /// self-stake back up to the minimum first) and come back into assignment, the cartel included.
    /// `false` (the default): a jailed operator stays out for the rest of the run.
    #[serde(default)]
    pub unjail: bool,
}

fn default_half() -> f64 {
    0.5
}
fn default_small() -> f64 {
    0.05
}

/// What the largest stakers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhaleStrategy {
    /// Split stake over `split_into` identities (Sybil).
    Split,
    /// Register as operators and gather delegations.
    Gather,
    /// Nothing special.
    None,
}

/// Whale behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whales {
    /// The `count` largest stakers are whales.
    pub count: usize,
    /// Their strategy.
    pub strategy: WhaleStrategy,
    /// Identities per whale when splitting.
    #[serde(default = "default_split")]
    pub split_into: usize,
    /// Whether each split account gets its own attested identity. `false` (the default) is an
    /// honest issuer: one identity per person, so the whale's first account carries its identity and
    /// the others stay unattested. `true` models a weak or compromised issuer that hands one person
    /// several identities; the report then shows what that costs the quadratic rule.
    #[serde(default)]
    pub split_attested: bool,
    /// Share of ordinary stakers a gathering whale operator attracts.
    #[serde(default = "default_gather")]
    pub gather_share: f64,
}

fn default_split() -> usize {
    8
}
fn default_gather() -> f64 {
    0.3
}

/// Request traffic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Requests per epoch.
    pub requests_per_epoch: usize,
    /// Probability a wrong result is challenged (disputed).
    #[serde(default = "default_one")]
    pub challenge_rate: f64,
    /// Shorthand for a flat turnout: every eligible voter turns out with this probability
    /// ([`TurnoutModel::flat`]). A scenario gives either this or a `[turnout]` table; with neither,
    /// [`TurnoutModel::default`] (3–10% of holders) applies.
    #[serde(default)]
    pub turnout: Option<f64>,
    /// Share of requests sent to the optimistic model (one executor, answer stands unless
    /// challenged); the rest go to the deterministic model (3 operators, 2 must agree).
    #[serde(default = "default_half")]
    pub optimistic_share: f64,
}

fn default_one() -> f64 {
    1.0
}

/// What the attacker tries in the end-of-run capture trials (`[attack]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    /// The coalition of the largest stakers that proposes and votes for the capture.
    #[serde(default = "default_top_n")]
    pub top_n: usize,
    /// Mean turnouts of everyone else (the scenario's turnout model rescaled to each) at which the
    /// coalition tries to pass a proposal and veto a slash.
    #[serde(default = "default_capture_turnouts")]
    pub turnouts: Vec<f64>,
    /// Whether to search the cost of corruption: the smallest bribe budget that, added to the
    /// coalition, passes (bisection over the cheapest voice, each trial on a snapshot).
    #[serde(default = "default_true")]
    pub cost_of_corruption: bool,
    /// Share of total stake the attacker's operator cartel holds (0 = no attacker cartel beyond
    /// `operators.cartel`): further cartel operators are registered until the cartel holds it.
    #[serde(default)]
    pub cartel_stake_share: f64,
    /// Over how many operators the attacker spreads that stake.
    #[serde(default = "default_cartel_operators")]
    pub cartel_operators: usize,
}

fn default_cartel_operators() -> usize {
    10
}

fn default_top_n() -> usize {
    10
}
fn default_capture_turnouts() -> Vec<f64> {
    vec![0.03, 0.05, 0.10]
}
fn default_true() -> bool {
    true
}

impl Default for Attack {
    fn default() -> Self {
        Self {
            top_n: default_top_n(),
            turnouts: default_capture_turnouts(),
            cost_of_corruption: true,
            cartel_stake_share: 0.0,
            cartel_operators: default_cartel_operators(),
        }
    }
}

/// Identity issuers (`[issuers]`; absent = one honest issuer, as `whales.split_attested` says).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuers {
    /// Honest issuers (1 ..= 16). They cannot see each other's identities: a person may hold one
    /// identity at each. Attested persons get their identity from one of them at random.
    #[serde(default = "default_issuer_count")]
    pub count: usize,
    /// Share of attested persons that hold an identity at every honest issuer; their stake is split
    /// evenly over one account per issuer.
    #[serde(default)]
    pub multi_share: f64,
    /// A captured issuer minting identities for chosen holders (issuer number `count`). A whale that
    /// splits (`whales.strategy = "split"`) keeps its own accounts and identities from issuer 0; one
    /// that gathers keeps its operator account.
    #[serde(default)]
    pub captured: Option<CapturedIssuer>,
    /// Persons (one attested account each) that unlink and relink to a fresh identity of their
    /// issuer (on a snapshot right after issuance; the run is unchanged).
    #[serde(default)]
    pub relink: usize,
    /// Persons (one attested account each) that unbond all their stake and, after the unbonding
    /// delay, link a new account holding the re-staked tokens to the same identity (on a snapshot).
    #[serde(default)]
    pub reuse_after_unbond: usize,
    /// Unlinking one issuer's accounts in a proposal's block, before its snapshot (on a snapshot).
    #[serde(default)]
    pub pre_snapshot_unlink: Option<PreSnapshotUnlink>,
    /// The admin revokes the captured issuer (`IdentityRegistry.revokeIssuer`) and the voice its
    /// holders keep is measured (on a snapshot).
    #[serde(default)]
    pub revoke_captured: bool,
}

fn default_issuer_count() -> usize {
    1
}

/// A captured issuer: it mints `identities` identities for each of the `holders` largest stakers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturedIssuer {
    /// How many of the largest stakers get its identities (at most `stakers.count`).
    pub holders: usize,
    /// Identities per holder (1 ..= 64); the holder's stake is split evenly over one account each.
    pub identities: usize,
}

/// Who unlinks an issuer's accounts before a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unlinker {
    /// The issuer itself (the contract decides whether it may).
    Issuer,
    /// The registry's admin.
    Admin,
}

/// `[issuers.pre_snapshot_unlink]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreSnapshotUnlink {
    /// The issuer whose accounts are unlinked: `0 ..count` honest, `count` the captured one.
    pub issuer: usize,
    /// Who sends the unlinks.
    pub by: Unlinker,
}

/// Voice delegation (`[delegation]`; absent = nobody delegates).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// Share of stakers with voice (other than the delegates and the captured issuer's holders) that
    /// delegate all their accounts' voice.
    pub share: f64,
    /// Popular delegates: the stakers with the most voice (at least 1).
    #[serde(default = "default_delegates")]
    pub delegates: usize,
    /// Share of delegators that pick a random operator owner instead of a popular delegate.
    #[serde(default)]
    pub to_operators: f64,
    /// The captured issuer's identities all delegate to one delegate (the first account of its
    /// largest holder); the governor's per-delegate cap bounds what it counts.
    #[serde(default)]
    pub sybil_to_one: bool,
}

fn default_delegates() -> usize {
    5
}

/// A model's verification parameters (`[models.deterministic]`, `[models.optimistic]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Operators assigned per request (deterministic 1 ..= 8, optimistic exactly 1).
    pub k: u8,
    /// Matching answers needed: a strict majority of `k`.
    pub q: u8,
    /// Challenge window, seconds (600 ..= what the deployment's timing rules leave: 47 hours with
    /// the default governance delays). Requests
    /// are finalized one request TTL (1 hour) after they are answered: a longer window leaves them
    /// unfinalized.
    #[serde(default = "default_challenge_window")]
    pub challenge_window: u32,
}

fn default_challenge_window() -> u32 {
    600
}

/// The two models' parameters (defaults: deterministic k = 3, q = 2; optimistic k = q = 1; both
/// with a 10-minute challenge window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Models {
    /// The deterministic model (the digits classifier).
    #[serde(default = "default_deterministic")]
    pub deterministic: ModelConfig,
    /// The optimistic model.
    #[serde(default = "default_optimistic")]
    pub optimistic: ModelConfig,
}

fn default_deterministic() -> ModelConfig {
    ModelConfig {
        k: 3,
        q: 2,
        challenge_window: default_challenge_window(),
    }
}
fn default_optimistic() -> ModelConfig {
    ModelConfig {
        k: 1,
        q: 1,
        challenge_window: default_challenge_window(),
    }
}

impl Default for Models {
    fn default() -> Self {
        Self {
            deterministic: default_deterministic(),
            optimistic: default_optimistic(),
        }
    }
}

/// Governance parameters of the deployment (`[governance]`; defaults are the local deployment's,
/// `DeployParams::local`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Governance {
    /// Quorum, bps of total voice, both governors (100 ..= 5,000).
    pub quorum_bps: u16,
    /// Largest share of total voice one delegate may cast, bps (100 ..= 5,000).
    pub delegate_cap_bps: u16,
    /// `VerinferGovernor` residual quorum K (0 ..= 15, 0 = off): the for side must reach quorum
    /// and beat against without its K largest voices.
    pub residual_k: u8,
    /// `VerinferGovernor` voting delay, blocks (1 ..= 100,800).
    pub voting_delay: u64,
    /// `VerinferGovernor` voting period, blocks (5 ..= 201,600).
    pub voting_period: u32,
    /// `DisputeGovernor` voting period, seconds (600 ..= 1,209,600).
    pub dispute_voting_period: u32,
    /// Timelock delay, seconds (also the delay before a dispute ruling applies).
    pub timelock_delay: u64,
}

impl Default for Governance {
    fn default() -> Self {
        let p = verinfer_deploy::plan::DeployParams::local(Address::ZERO);
        Self {
            quorum_bps: p.quorum_bps,
            delegate_cap_bps: p.delegate_cap_bps,
            residual_k: p.residual_k,
            voting_delay: p.voting_delay,
            voting_period: p.voting_period,
            dispute_voting_period: p.dispute_voting_period,
            timelock_delay: p.timelock_delay,
        }
    }
}

impl Governance {
    /// These parameters applied to `params`.
    pub fn apply(&self, params: &mut verinfer_deploy::plan::DeployParams) {
        params.quorum_bps = self.quorum_bps;
        params.delegate_cap_bps = self.delegate_cap_bps;
        params.residual_k = self.residual_k;
        params.voting_delay = self.voting_delay;
        params.voting_period = self.voting_period;
        params.dispute_voting_period = self.dispute_voting_period;
        params.timelock_delay = self.timelock_delay;
    }
}

/// A scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name used in reports.
    pub name: String,
    /// RNG seed: same seed, same run.
    pub seed: u64,
    /// Number of epochs.
    pub epochs: u64,
    /// Seconds per epoch.
    #[serde(default = "default_epoch_seconds")]
    pub epoch_seconds: u64,
    /// Blocks per epoch.
    #[serde(default = "default_epoch_blocks")]
    pub blocks_per_epoch: u64,
    /// Stakers.
    pub stakers: Stakers,
    /// Operators.
    pub operators: Operators,
    /// Whales.
    pub whales: Whales,
    /// Traffic.
    pub traffic: Traffic,
    /// Turnout model (stake, apathy, interest); `traffic.turnout` is its flat shorthand.
    #[serde(default)]
    pub turnout: Option<TurnoutModel>,
    /// The attacker's capture trials.
    #[serde(default)]
    pub attack: Attack,
    /// Seeds for a multi-seed run (`verinfer sim run` judges every goal over all of them); without
    /// it, [`DEFAULT_SEEDS`] seeds from `seed` on.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// Identity issuers (absent: one honest issuer).
    #[serde(default)]
    pub issuers: Option<Issuers>,
    /// Voice delegation (absent: nobody delegates).
    #[serde(default)]
    pub delegation: Option<Delegation>,
    /// The models' k, q and challenge windows.
    #[serde(default)]
    pub models: Models,
    /// Governance parameters.
    #[serde(default)]
    pub governance: Governance,
    /// The drafted dispute jury (absent: no juror pool, every vote dispute goes to the stake-holders).
    #[serde(default)]
    pub jury: Option<Jury>,
}

fn default_epoch_seconds() -> u64 {
    86_400
}
fn default_epoch_blocks() -> u64 {
    7_200
}

impl Scenario {
    /// The turnout model: the `[turnout]` table, the flat `traffic.turnout` shorthand, or the
    /// default model.
    pub fn turnout_model(&self) -> TurnoutModel {
        match (self.turnout, self.traffic.turnout) {
            (Some(m), _) => m,
            (None, Some(p)) => TurnoutModel::flat(p),
            (None, None) => TurnoutModel::default(),
        }
    }

    /// Loads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates scenario TOML; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let s: Self = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_path_buf(),
            field: field_at(text, e.span()),
            message: e.message().trim().to_owned(),
        })?;
        s.validate(path)?;
        Ok(s)
    }

    fn validate(&self, path: &Path) -> Result<(), ScenarioError> {
        let bad = |field: &str, message: &str| {
            Err(ScenarioError::Invalid {
                path: path.to_path_buf(),
                field: field.to_owned(),
                message: message.to_owned(),
            })
        };
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.stakers.count == 0 {
            return bad("stakers.count", "must be at least 1");
        }
        // Every staker is an account with a delegation in revm's in-memory state: about 7 KB each
        // (40,000 stakers peaked at 288 MB). The cap keeps a run within a few GB, and refuses a typo
        // like 100,000,000 stakers at once instead of growing memory until the machine gives out.
        if self.stakers.count > MAX_STAKERS {
            return bad(
                "stakers.count",
                &format!(
                    "must be at most {MAX_STAKERS} (about 7 KB of simulated state each: {} would need ~{} GB)",
                    self.stakers.count,
                    self.stakers.count.saturating_mul(7) / 1_000_000
                ),
            );
        }
        if self.epochs > MAX_EPOCHS {
            return bad("epochs", &format!("must be at most {MAX_EPOCHS}"));
        }
        if self.traffic.requests_per_epoch > MAX_REQUESTS_PER_EPOCH {
            return bad(
                "traffic.requests_per_epoch",
                &format!("must be at most {MAX_REQUESTS_PER_EPOCH}"),
            );
        }
        if self.stakers.min_stake <= 0.0 || self.stakers.min_stake > self.stakers.max_stake {
            return bad(
                "stakers.min_stake",
                "must be positive and at most stakers.max_stake",
            );
        }
        if self.stakers.alpha <= 0.0 {
            return bad("stakers.alpha", "must be positive");
        }
        for (f, v) in [
            ("stakers.attested_share", self.stakers.attested_share),
            ("stakers.yield_following", self.stakers.yield_following),
            ("operators.lazy", self.operators.lazy),
            ("operators.equivocating", self.operators.equivocating),
            ("operators.cartel", self.operators.cartel),
            ("operators.lazy_miss_rate", self.operators.lazy_miss_rate),
            (
                "operators.equivocation_rate",
                self.operators.equivocation_rate,
            ),
            (
                "operators.cartel_wrong_rate",
                self.operators.cartel_wrong_rate,
            ),
            (
                "operators.cartel_abandon_rate",
                self.operators.cartel_abandon_rate,
            ),
            ("whales.gather_share", self.whales.gather_share),
            ("traffic.challenge_rate", self.traffic.challenge_rate),
            ("traffic.optimistic_share", self.traffic.optimistic_share),
        ] {
            if !unit(v) {
                return bad(f, "must be within [0, 1]");
            }
        }
        if let Some(t) = self.traffic.turnout {
            if !unit(t) {
                return bad("traffic.turnout", "must be within [0, 1]");
            }
            if self.turnout.is_some() {
                return bad(
                    "traffic.turnout",
                    "give either traffic.turnout (a flat turnout) or a [turnout] table, not both",
                );
            }
        }
        if let Some(m) = &self.turnout {
            if let Err(e) = m.validate() {
                return bad(&format!("turnout.{}", e.field), &e.message);
            }
        }
        if self.attack.top_n == 0 || self.attack.top_n > self.stakers.count {
            return bad("attack.top_n", "must be within [1, stakers.count]");
        }
        if self
            .attack
            .turnouts
            .iter()
            .any(|t| !(*t > 0.0 && *t <= 1.0))
        {
            return bad("attack.turnouts", "every turnout must be within (0, 1]");
        }
        if !(0.0..0.95).contains(&self.attack.cartel_stake_share) {
            return bad("attack.cartel_stake_share", "must be within [0, 0.95)");
        }
        if self.attack.cartel_operators == 0
            || self.operators.count + self.attack.cartel_operators > 1000
        {
            return bad(
                "attack.cartel_operators",
                "must be at least 1, and operators.count + attack.cartel_operators at most 1000",
            );
        }
        if let Some(seeds) = &self.seeds {
            if seeds.is_empty() || seeds.len() > MAX_SEEDS {
                return bad("seeds", &format!("must list 1 to {MAX_SEEDS} seeds"));
            }
        }
        if self.operators.lazy + self.operators.equivocating + self.operators.cartel > 1.0 {
            return bad(
                "operators",
                "lazy + equivocating + cartel must not exceed 1",
            );
        }
        if self.operators.count == 0 {
            return bad("operators.count", "must be at least 1");
        }
        if self.operators.self_stake < 1000.0 {
            return bad(
                "operators.self_stake",
                "must be at least the minimum operator stake (1000 tokens)",
            );
        }
        if self.whales.count > self.stakers.count {
            return bad("whales.count", "must not exceed stakers.count");
        }
        if self.whales.split_into == 0 || self.whales.split_into > 64 {
            return bad("whales.split_into", "must be within [1, 64]");
        }
        if self.operators.count > 1000 {
            return bad(
                "operators.count",
                "must be at most 1000 (operators per model in the registry's sum tree)",
            );
        }
        if self.epoch_seconds == 0 || self.blocks_per_epoch == 0 {
            return bad(
                "epoch_seconds",
                "epoch_seconds and blocks_per_epoch must be positive",
            );
        }
        self.validate_issuers(path)?;
        self.validate_jury(path)?;
        self.validate_parameters(path)
    }

    fn validate_jury(&self, path: &Path) -> Result<(), ScenarioError> {
        let Some(j) = &self.jury else {
            return Ok(());
        };
        let bad = |field: &str, message: &str| Err(invalid(path, field, message.to_owned()));
        if !(0.0..=1.0).contains(&j.share) {
            return bad("jury.share", "must be within [0, 1]");
        }
        if !(j.bond_share > 0.0 && j.bond_share <= 1.0) {
            return bad("jury.bond_share", "must be within (0, 1]");
        }
        if !(0.0..=1.0).contains(&j.vote_probability) {
            return bad("jury.vote_probability", "must be within [0, 1]");
        }
        if !(0.0..=1.0).contains(&j.reveal_probability) {
            return bad("jury.reveal_probability", "must be within [0, 1]");
        }
        // jury_size, min_pool_size and appeal_rounds are the contract's parameters: their bounds
        // are `DisputeGovernor.setJuryParameters`' alone, checked when the run sets them
        // (`SimError::OutOfBounds` names the field).
        Ok(())
    }

    fn validate_issuers(&self, path: &Path) -> Result<(), ScenarioError> {
        let bad = |field: &str, message: String| Err(invalid(path, field, message));
        if let Some(i) = &self.issuers {
            if !(1..=16).contains(&i.count) {
                return bad("issuers.count", "must be within [1, 16]".into());
            }
            if !(0.0..=1.0).contains(&i.multi_share) {
                return bad("issuers.multi_share", "must be within [0, 1]".into());
            }
            if let Some(c) = &i.captured {
                if c.holders == 0 || c.holders > self.stakers.count {
                    return bad(
                        "issuers.captured.holders",
                        "must be within [1, stakers.count]".into(),
                    );
                }
                if !(1..=64).contains(&c.identities) {
                    return bad(
                        "issuers.captured.identities",
                        "must be within [1, 64]".into(),
                    );
                }
            }
            for (f, n) in [
                ("issuers.relink", i.relink),
                ("issuers.reuse_after_unbond", i.reuse_after_unbond),
            ] {
                if n > self.stakers.count {
                    return bad(f, "must not exceed stakers.count".into());
                }
            }
            let issuers = i.count + usize::from(i.captured.is_some());
            if let Some(p) = &i.pre_snapshot_unlink {
                if p.issuer >= issuers {
                    return bad(
                        "issuers.pre_snapshot_unlink.issuer",
                        format!(
                            "must name an issuer: 0 ..= {} (honest issuers 0 ..= {}{})",
                            issuers - 1,
                            i.count - 1,
                            if i.captured.is_some() {
                                format!(", the captured one {}", i.count)
                            } else {
                                String::new()
                            }
                        ),
                    );
                }
            }
            if i.revoke_captured && i.captured.is_none() {
                return bad(
                    "issuers.revoke_captured",
                    "needs an [issuers.captured] issuer to revoke".into(),
                );
            }
        }
        if let Some(d) = &self.delegation {
            if !(0.0..=1.0).contains(&d.share) {
                return bad("delegation.share", "must be within [0, 1]".into());
            }
            if !(0.0..=1.0).contains(&d.to_operators) {
                return bad("delegation.to_operators", "must be within [0, 1]".into());
            }
            if d.delegates == 0 || d.delegates > self.stakers.count {
                return bad(
                    "delegation.delegates",
                    "must be within [1, stakers.count]".into(),
                );
            }
            let captured = self.issuers.as_ref().and_then(|i| i.captured.as_ref());
            if d.sybil_to_one && captured.is_none() {
                return bad(
                    "delegation.sybil_to_one",
                    "needs an [issuers.captured] issuer whose identities delegate".into(),
                );
            }
        }
        Ok(())
    }

    fn validate_parameters(&self, path: &Path) -> Result<(), ScenarioError> {
        let bad = |field: &str, message: String| Err(invalid(path, field, message));
        let g = &self.governance;
        for (f, v, lo, hi) in [
            ("governance.quorum_bps", u64::from(g.quorum_bps), 100, 5_000),
            (
                "governance.delegate_cap_bps",
                u64::from(g.delegate_cap_bps),
                100,
                5_000,
            ),
            ("governance.residual_k", u64::from(g.residual_k), 0, 15),
            ("governance.voting_delay", g.voting_delay, 1, 100_800),
            (
                "governance.voting_period",
                u64::from(g.voting_period),
                5,
                201_600,
            ),
            (
                "governance.dispute_voting_period",
                u64::from(g.dispute_voting_period),
                600,
                1_209_600,
            ),
            (
                "governance.timelock_delay",
                g.timelock_delay,
                0,
                30 * 86_400,
            ),
        ] {
            if v < lo || v > hi {
                return bad(f, format!("must be within [{lo}, {hi}]"));
            }
        }
        // The deployment's timing rules (`DeployParams::check_timing`, `Slasher.checkTiming` on chain)
        // bound the challenge windows by what the ruling delay leaves of the unbonding delay.
        let params = self.deploy_params(Address::ZERO);
        let max_window = params.max_challenge_window().min(7 * 86_400);
        if max_window < 600 {
            return bad(
                "governance",
                format!(
                    "dispute_voting_period + timelock_delay leave no room for a 10-minute challenge \
                     window before the {}-second unbonding delay",
                    params.unbonding_delay
                ),
            );
        }
        let m = &self.models;
        for (name, c, max_k) in [
            ("deterministic", &m.deterministic, 8u8),
            ("optimistic", &m.optimistic, 1u8),
        ] {
            if c.k == 0 || c.k > max_k {
                return bad(
                    &format!("models.{name}.k"),
                    format!("must be within [1, {max_k}]"),
                );
            }
            if c.q <= c.k / 2 || c.q > c.k {
                return bad(
                    &format!("models.{name}.q"),
                    format!(
                        "must be a strict majority of k = {} (within [{}, {}])",
                        c.k,
                        c.k / 2 + 1,
                        c.k
                    ),
                );
            }
            if c.challenge_window < 600 || u64::from(c.challenge_window) > max_window {
                return bad(
                    &format!("models.{name}.challenge_window"),
                    format!(
                        "must be within [600, {max_window}] seconds with these governance delays"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The deployment parameters of this scenario: the local deployment with its `[governance]`
    /// and the longest of its models' challenge windows.
    pub fn deploy_params(&self, deployer: Address) -> verinfer_deploy::plan::DeployParams {
        let mut params = verinfer_deploy::plan::DeployParams::local(deployer);
        self.governance.apply(&mut params);
        params
    }
}

/// The error for `field` of the scenario at `path` holding a bad value.
fn invalid(path: &Path, field: &str, message: String) -> ScenarioError {
    ScenarioError::Invalid {
        path: path.to_path_buf(),
        field: field.to_owned(),
        message,
    }
}

/// Best-effort dotted field name at a TOML error span: `[table]` header above plus the key on the line.
fn field_at(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else { return "$".into() };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| {
            l.trim()
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .map(str::trim)
        })
        .map(str::to_owned);
    let trimmed = line.trim();
    if let Some(t) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        return t.trim().to_owned();
    }
    let key = trimmed.split_once('=').map(|(k, _)| k.trim().to_owned());
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "$".into(),
    }
}

/// Behaviour of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Behaviour {
    /// Always answers correctly.
    Honest,
    /// Sometimes offline.
    Lazy,
    /// Sometimes double-signs.
    Equivocating,
    /// Cartel member returning wrong results.
    Cartel,
    /// A whale that registered to gather delegations (honest).
    Whale,
}

/// Slashes of one cause.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SlashTally {
    /// Executed slashes.
    pub count: u64,
    /// Tokens slashed.
    pub tokens: f64,
    /// Requests refused by the Slasher (cap reached, already slashed, rounds to zero).
    pub refused: u64,
}

/// The disputes of one path (computation or vote) and their outcomes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathTally {
    /// Disputes settled by this path.
    pub disputes: usize,
    /// Their share of all the run's disputes (0 when there were none).
    pub share: f64,
    /// Decided for the correct output.
    pub correct: usize,
    /// Decided for a wrong output.
    pub wrong: usize,
    /// Not decided (a vote without quorum, a game nobody committed to): the status quo stood.
    pub no_decision: usize,
}

impl PathTally {
    fn add(&mut self, outcome: DisputeOutcome) {
        self.disputes += 1;
        match outcome {
            DisputeOutcome::Correct => self.correct += 1,
            DisputeOutcome::Wrong => self.wrong += 1,
            DisputeOutcome::NoDecision => self.no_decision += 1,
        }
    }
}

impl std::fmt::Display for PathTally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:.1}%): {} correct, {} wrong, {} no decision",
            self.disputes,
            100.0 * self.share,
            self.correct,
            self.wrong,
            self.no_decision
        )
    }
}

/// The referee games of a run: how they ended and their gas.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GameTally {
    /// Games played.
    pub games: usize,
    /// Ended by the one-step check.
    pub ended_by_step: usize,
    /// Ended by a timeout (the cartel stopped moving).
    pub ended_by_timeout: usize,
    /// Transactions of all games (both sides).
    pub moves: u64,
    /// Their gas (each transaction's total, intrinsic gas included).
    pub gas: u64,
    /// The largest gas of one game.
    pub max_game_gas: u64,
    /// The largest gas of one transaction of a game.
    pub max_move_gas: u64,
    /// The largest gas of one game played to the one-step check.
    pub max_full_game_gas: u64,
}

/// The run's disputes split by the path that settled them: computation (the `Referee`) or vote
/// (the `DisputeGovernor`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DisputeSplit {
    /// Settled by computation.
    pub computation: PathTally,
    /// Settled by vote.
    pub vote: PathTally,
    /// Disputes over the deterministic model (either path).
    pub deterministic: usize,
    /// Of those, the ones settled by vote (the registry sends a deterministic integer MLP's
    /// two-output disputes to the referee; three or more outputs would go to the vote).
    pub deterministic_by_vote: usize,
    /// Of those, the ones decided correctly.
    pub deterministic_correct: usize,
    /// The games.
    pub games: GameTally,
}

impl DisputeSplit {
    /// Tallies `disputes`.
    pub fn of(disputes: &[DisputeRecord]) -> Self {
        let mut s = Self::default();
        for d in disputes {
            match d.path {
                DisputePath::Computation => s.computation.add(d.outcome),
                DisputePath::Vote | DisputePath::Jury => s.vote.add(d.outcome),
            }
            if d.deterministic {
                s.deterministic += 1;
                s.deterministic_by_vote += usize::from(d.path != DisputePath::Computation);
                s.deterministic_correct += usize::from(d.correct());
            }
            if let Some(g) = &d.game {
                let t = &mut s.games;
                t.games += 1;
                t.moves += g.moves;
                t.gas += g.gas;
                t.max_game_gas = t.max_game_gas.max(g.gas);
                t.max_move_gas = t.max_move_gas.max(g.max_move_gas);
                match g.ended_by {
                    GameEnd::Step => {
                        t.ended_by_step += 1;
                        t.max_full_game_gas = t.max_full_game_gas.max(g.gas);
                    }
                    GameEnd::Timeout => t.ended_by_timeout += 1,
                }
            }
        }
        let total = disputes.len().max(1) as f64;
        s.computation.share = s.computation.disputes as f64 / total;
        s.vote.share = s.vote.disputes as f64 / total;
        s
    }

    /// The goal "deterministic disputes are decided correctly whatever the turnout": there was at
    /// least one, every one was settled by computation, and every one correctly.
    pub fn deterministic_goal(&self, turnout: f64) -> GoalCheck {
        GoalCheck {
            goal: "disputes over the deterministic model are decided correctly by computation, \
                   whatever the turnout"
                .into(),
            pass: self.deterministic > 0
                && self.deterministic_by_vote == 0
                && self.deterministic_correct == self.deterministic,
            detail: if self.deterministic == 0 {
                "not exercised (no dispute over the deterministic model in the run)".into()
            } else {
                format!(
                    "{} of {} correct, {} by vote, at {:.0}% turnout (vote disputes: {})",
                    self.deterministic_correct,
                    self.deterministic,
                    self.deterministic_by_vote,
                    100.0 * turnout,
                    self.vote
                )
            },
            measure: (self.deterministic > 0)
                .then(|| self.deterministic_correct as f64 / self.deterministic as f64),
        }
    }
}

/// A model's parameters as the registry holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelReport {
    /// `deterministic` or `optimistic`.
    pub model: String,
    /// Operators assigned per request.
    pub k: u8,
    /// Matching answers needed.
    pub q: u8,
    /// Challenge window, seconds.
    pub challenge_window: u32,
}

/// Operators that called `Staking.unjail` after their jail period (`operators.unjail`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnjailTally {
    /// `Staking.unjail` calls that succeeded.
    pub unjailed: u64,
    /// Of those, cartel members.
    pub cartel_unjailed: u64,
    /// Distinct operators that were assigned and answered again in a later epoch after an unjail.
    pub returned_to_work: u64,
    /// Self-stake top-ups (tokens) the operators paid to reach the minimum before unjailing.
    pub top_up_tokens: f64,
}

/// The outcome of a scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Stakers (people, before splitting).
    pub stakers: usize,
    /// Staking accounts (after splitting).
    pub accounts: usize,
    /// Operators.
    pub operators: usize,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochMetrics>,
    /// Slashes by fault kind.
    pub slashes: BTreeMap<String, SlashTally>,
    /// Every dispute: the path that settled it, its outcome, the vote (from `DisputeRuled`) or the
    /// game.
    pub disputes: Vec<DisputeRecord>,
    /// The disputes split by path (computation or vote), with outcomes and the games' gas.
    pub dispute_split: DisputeSplit,
    /// Best Sybil strategy's gain in voice (best voice / voice as one identity), over the
    /// strategies searched on chain and the whales' actual splits.
    pub best_split_gain: f64,
    /// Voice share of the 10 largest stakers (people) at the end.
    pub top10_voice_share: f64,
    /// Stake share of the 10 largest stakers (people) at the end.
    pub top10_stake_share: f64,
    /// The end-of-run capture tests on the real governance contracts.
    pub capture: CaptureReport,
    /// The models as registered, read back from `InferenceRegistry.model`.
    pub models: Vec<ModelReport>,
    /// Jailed operators that came back (`operators.unjail`).
    pub unjail: UnjailTally,
    /// Identity issuers: voice per issuer, the captured issuer's gain, the issuer events
    /// (`[issuers]`; absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuers: Option<IssuersReport>,
    /// Voice delegation and its concentration (`[delegation]`; absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationReport>,
    /// The juror pool (`[jury]`; absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jury: Option<JuryReport>,
    /// Legitimacy goals.
    pub goals: Vec<GoalCheck>,
    /// Modelling choices worth knowing when reading the numbers.
    pub notes: Vec<String>,
    /// Committed transactions.
    pub transactions: u64,
    /// Gas of committed transactions.
    pub gas: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Expected dispute turnout over the final voice holders, from the turnout model.
    pub mean_turnout: f64,
    /// Nakamoto coefficient of the people who decided dispute votes (winning ballots' weight over
    /// the run); `None` without a decided vote.
    pub nakamoto_deciders: Option<usize>,
    /// The cartel operators' share of operator stake at the start of the run.
    pub cartel_stake_share: f64,
    /// The authority ledger: every decision of the run (before the capture trials), how and by
    /// whom it was decided, with its summary.
    pub ledger: verinfer_authority::AuthorityLedger,
    /// Final stake per person (tokens), for plots.
    #[serde(skip)]
    pub final_stake: Vec<f64>,
    /// Final voice per person, for plots.
    #[serde(skip)]
    pub final_voice: Vec<f64>,
}

impl RunReport {
    /// The goals that do not hold (a run with any is a failed run: `verinfer sim run` exits
    /// non-zero).
    pub fn failed_goals(&self) -> Vec<&GoalCheck> {
        self.goals.iter().filter(|g| !g.pass).collect()
    }

    /// The median exact flip coalition over the run's decided dispute votes.
    pub fn median_flip_coalition(&self) -> Option<u64> {
        let mut c: Vec<u64> = self
            .disputes
            .iter()
            .filter_map(|d| d.vote.as_ref())
            .filter(|v| v.exact_flip_coalition > 0)
            .map(|v| v.exact_flip_coalition)
            .collect();
        c.sort_unstable();
        c.get(c.len() / 2).copied()
    }

    /// A plain-text summary with the PASS/FAIL goal lines.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {} (seed {}): {} stakers on {} accounts, {} operators, {} epochs",
            self.scenario,
            self.seed,
            self.stakers,
            self.accounts,
            self.operators,
            self.epochs.len()
        );
        if let Some(last) = self.epochs.last() {
            let _ = writeln!(
                s,
                "final: Nakamoto stake {} / voice {} / operator stake {} / accepted attestations {}; \
                 Gini stake {:.3} / voice {:.3} / accepted attestations {:.3}; accepted {:.1}%",
                last.nakamoto_stake,
                last.nakamoto_voice,
                last.nakamoto_operator_stake,
                last.nakamoto_accepted,
                last.gini_stake,
                last.gini_voice,
                last.gini_accepted,
                100.0 * last.accepted_share
            );
        }
        let min_coalition = self
            .epochs
            .iter()
            .filter_map(|e| e.min_deciding_coalition)
            .min();
        let split = &self.dispute_split;
        let g = &split.games;
        let _ = writeln!(
            s,
            "disputes: {} ruled; by computation (Referee) {}; by vote (DisputeGovernor) {} \
             (no decision = no quorum: status quo kept, nobody slashed); smallest deciding coalition {}",
            self.disputes.len(),
            split.computation,
            split.vote,
            min_coalition.map_or("-".to_owned(), |c| c.to_string())
        );
        let _ = writeln!(
            s,
            "referee games: {} ({} by the one-step check, {} by timeout), {} moves, {} gas \
             (largest game {}, largest full game {}, largest move {})",
            g.games,
            g.ended_by_step,
            g.ended_by_timeout,
            g.moves,
            g.gas,
            g.max_game_gas,
            g.max_full_game_gas,
            g.max_move_gas
        );
        let _ = writeln!(
            s,
            "concentration: Nakamoto of dispute-vote deciders {} vs stake {} (exact flip coalition: smallest {}, median {})",
            self.nakamoto_deciders
                .map_or("- (no decided vote)".to_owned(), |n| n.to_string()),
            self.epochs.last().map_or(0, |e| e.nakamoto_stake),
            min_coalition.map_or("-".to_owned(), |c| c.to_string()),
            self.median_flip_coalition()
                .map_or("-".to_owned(), |c| c.to_string())
        );
        let _ = write!(s, "{}", self.capture);
        for (kind, t) in &self.slashes {
            let _ = writeln!(
                s,
                "slashes {kind}: {} executed, {:.1} tokens, {} refused",
                t.count, t.tokens, t.refused
            );
        }
        let _ = writeln!(
            s,
            "top-10 stakers: {:.1}% of stake, {:.1}% of voice; best split gain {:.2}x",
            100.0 * self.top10_stake_share,
            100.0 * self.top10_voice_share,
            self.best_split_gain
        );
        let models: Vec<String> = self
            .models
            .iter()
            .map(|m| {
                format!(
                    "{} k={} q={} window {}s",
                    m.model, m.k, m.q, m.challenge_window
                )
            })
            .collect();
        let _ = writeln!(s, "models: {}", models.join("; "));
        if self.unjail.unjailed > 0 {
            let u = &self.unjail;
            let _ = writeln!(
                s,
                "unjailed: {} operators ({} cartel), {} back at work, {:.1} tokens of top-up",
                u.unjailed, u.cartel_unjailed, u.returned_to_work, u.top_up_tokens
            );
        }
        if let Some(i) = &self.issuers {
            let _ = write!(s, "{i}");
        }
        if let Some(d) = &self.delegation {
            let _ = write!(s, "{d}");
        }
        if let Some(j) = &self.jury {
            let drafted: Vec<&DisputeRecord> = self
                .disputes
                .iter()
                .filter(|d| d.path == DisputePath::Jury)
                .collect();
            let count = |o: DisputeOutcome| drafted.iter().filter(|d| d.outcome == o).count();
            let (seats, cartel_seats) = drafted
                .iter()
                .filter_map(|d| d.jury.as_ref())
                .fold((0, 0), |(a, b), r| (a + r.seats, b + r.cartel_seats));
            let _ = writeln!(
                s,
                "jury: {} jurors ({} of the cartel, {} joins refused), jury size {}, drafted from {} \
                 jurors; the cartel holds {:.1}% of draw weight for {:.1}% of operator stake; {} \
                 drafted disputes: {} correct, {} wrong, {} no decision; {} seats, {} of them cartel",
                j.jurors,
                j.cartel_jurors,
                j.refused,
                j.jury_size,
                j.min_pool_size,
                100.0 * j.cartel_draw_weight_share,
                100.0 * self.cartel_stake_share,
                drafted.len(),
                count(DisputeOutcome::Correct),
                count(DisputeOutcome::Wrong),
                count(DisputeOutcome::NoDecision),
                seats,
                cartel_seats
            );
        }
        let _ = writeln!(
            s,
            "authority ledger: {} decisions\n{}",
            self.ledger.summary.decisions,
            self.ledger.summary.table()
        );
        let _ = writeln!(
            s,
            "{} transactions, {} gas, {:.1}s",
            self.transactions, self.gas, self.seconds
        );
        for g in &self.goals {
            let _ = writeln!(s, "{g}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

/// Deterministic address for agent `kind` number `i`.
pub(crate) fn agent(kind: &str, i: usize) -> Address {
    let mut buf = kind.as_bytes().to_vec();
    buf.extend_from_slice(&(i as u64).to_be_bytes());
    Address::from_word(keccak256(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_scenario_names_file_and_field() {
        let p = Path::new("scenarios/bad.toml");
        let text = "name = \"x\"\nseed = 1\nepochs = 2\n[stakers]\ncount = \"many\"\n";
        let err = Scenario::parse(text, p).unwrap_err().to_string();
        assert!(
            err.contains("scenarios/bad.toml") && err.contains("stakers.count"),
            "{err}"
        );
        let text = "name = \"x\"\nseed = 1\nepochs = 2\nbogus = 3\n";
        let err = Scenario::parse(text, p).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn oversized_scenarios_are_refused_before_anything_is_allocated() {
        let p = Path::new("scenarios/huge.toml");
        let base = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/small.toml"),
        )
        .unwrap();
        Scenario::parse(&base, p).expect("the shipped scenario is within bounds");
        let huge = base.replacen("count = 200", "count = 100000000", 1);
        let err = Scenario::parse(&huge, p).unwrap_err().to_string();
        assert!(
            err.contains("stakers.count")
                && err.contains("at most 500000")
                && err.contains("~700 GB"),
            "{err}"
        );
    }
}
