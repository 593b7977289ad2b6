//! Agent-based scenarios (TOML files under `scenarios/`), deterministic per seed.
//!
//! A run deploys the suite in a fresh [`Sim`], registers operators (honest, lazy, equivocating,
//! cartel), lets stakers delegate (Pareto or uniform stake; whales split into Sybil identities or
//! gather delegations as operators), then plays epochs of request traffic: lazy operators miss
//! assignments, equivocators double-sign, the cartel returns wrong results that are disputed and
//! decided by quadratic vote; slashes go through the real Slasher and Staking contracts, and
//! yield-following delegators leave slashed operators through the real unbonding queue. Every epoch
//! the stake is read back from the chain and the legitimacy metrics are computed.
//!
//! Contracts not yet in the bindings are modelled off-chain and listed in [`RunReport::notes`].

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use alloy::primitives::{keccak256, Address, B256, U256};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use verinfer_bindings::{Slasher, Staking, VerinferToken};

use crate::{
    decode_logs,
    metrics::{gini, nakamoto, quadratic_voice, EpochMetrics, GoalCheck},
    plan::{DeployParams, TOKEN},
    Sim, SimError,
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
}

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
    /// Whether the split identities are attested (a Sybil-resistant registry would refuse them).
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
    /// Share of eligible voice that turns out to vote on a dispute.
    #[serde(default = "default_turnout")]
    pub turnout: f64,
}

fn default_one() -> f64 {
    1.0
}
fn default_turnout() -> f64 {
    0.6
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
}

fn default_epoch_seconds() -> u64 {
    86_400
}
fn default_epoch_blocks() -> u64 {
    7_200
}

impl Scenario {
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
            ("whales.gather_share", self.whales.gather_share),
            ("traffic.challenge_rate", self.traffic.challenge_rate),
            ("traffic.turnout", self.traffic.turnout),
        ] {
            if !unit(v) {
                return bad(f, "must be within [0, 1]");
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
        if self.whales.split_into == 0 {
            return bad("whales.split_into", "must be at least 1");
        }
        if self.epoch_seconds == 0 || self.blocks_per_epoch == 0 {
            return bad(
                "epoch_seconds",
                "epoch_seconds and blocks_per_epoch must be positive",
            );
        }
        Ok(())
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

/// The outcome of a scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Stakers (accounts, before splitting).
    pub stakers: usize,
    /// Operators.
    pub operators: usize,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochMetrics>,
    /// Slashes by fault kind.
    pub slashes: BTreeMap<String, SlashTally>,
    /// Best Sybil strategy's gain in voice (voice after splitting / voice as one identity).
    pub best_split_gain: f64,
    /// Voice share of the 10 largest stakers (entities) at the end.
    pub top10_voice_share: f64,
    /// Stake share of the 10 largest stakers (entities) at the end.
    pub top10_stake_share: f64,
    /// Legitimacy goals.
    pub goals: Vec<GoalCheck>,
    /// What is modelled off-chain because the contract is not there yet.
    pub notes: Vec<String>,
    /// Committed transactions.
    pub transactions: u64,
    /// Gas of committed transactions.
    pub gas: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Final stake per entity (tokens), for plots.
    #[serde(skip)]
    pub final_stake: Vec<f64>,
    /// Final voice per entity, for plots.
    #[serde(skip)]
    pub final_voice: Vec<f64>,
}

impl RunReport {
    /// A plain-text summary with the PASS/FAIL goal lines.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {} (seed {}): {} stakers, {} operators, {} epochs",
            self.scenario,
            self.seed,
            self.stakers,
            self.operators,
            self.epochs.len()
        );
        if let Some(last) = self.epochs.last() {
            let _ = writeln!(
                s,
                "final: Nakamoto stake {} / voice {} / operator stake {}; Gini stake {:.3} / voice {:.3}; accepted {:.1}%",
                last.nakamoto_stake,
                last.nakamoto_voice,
                last.nakamoto_operator_stake,
                last.gini_stake,
                last.gini_voice,
                100.0 * last.accepted_share
            );
        }
        let disputes: usize = self.epochs.iter().map(|e| e.disputes).sum();
        let correct: usize = self.epochs.iter().map(|e| e.disputes_correct).sum();
        let min_coalition = self
            .epochs
            .iter()
            .filter_map(|e| e.min_deciding_coalition)
            .min();
        let _ = writeln!(
            s,
            "disputes: {disputes} decided, {correct} correctly; smallest deciding coalition {}",
            min_coalition.map_or("-".to_owned(), |c| c.to_string())
        );
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
fn agent(kind: &str, i: usize) -> Address {
    let mut buf = kind.as_bytes().to_vec();
    buf.extend_from_slice(&(i as u64).to_be_bytes());
    Address::from_word(keccak256(&buf))
}

/// Tokens (f64) to wei.
pub fn wei(tokens: f64) -> U256 {
    let micro = (tokens.max(0.0) * 1e6).round() as u128;
    U256::from(micro) * U256::from(TOKEN / 1_000_000)
}

/// Wei to tokens (f64).
pub fn tokens(wei: U256) -> f64 {
    let micro: u128 = (wei / U256::from(TOKEN / 1_000_000)).saturating_to();
    micro as f64 / 1e6
}

struct Account {
    address: Address,
    entity: usize,
    attested: bool,
    yield_following: bool,
    /// Operator index currently delegated to.
    operator: usize,
}

struct Op {
    address: Address,
    behaviour: Behaviour,
    entity: usize,
    slashed_this_epoch: bool,
    slashes: u64,
}

struct PendingWithdrawal {
    account: usize,
    id: U256,
    unlock_at: u64,
}

/// Fault kinds as the Slasher numbers them.
const KIND_NAMES: [&str; 3] = ["equivocation", "wrong_result", "missed_assignment"];

/// Runs a scenario; `progress` shows a progress bar on stderr when it is a terminal.
pub fn run(scenario: &Scenario, progress: bool) -> Result<RunReport, ScenarioError> {
    let started = std::time::Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed);
    let deployer = agent("deployer", 0);
    let reporter = agent("reporter", 0);
    let mut sim = Sim::new();
    let params = DeployParams::local(deployer);
    sim.deploy_local(&params)?;
    let token = sim.suite.token()?;
    let staking = sim.suite.staking()?;
    let slasher = sim.suite.slasher()?;
    // Faults are reported to the Slasher by the deployed InferenceRegistry; the simulator acts as it.
    let registry = sim.suite.get("InferenceRegistry")?;

    let mut notes = vec![
        "InferenceRegistry is deployed and wired, but assignment, attestations and disputes are modelled in Rust; \
         slashes are requested by the simulator acting as the registry (the Slasher's wired reporter)"
            .to_owned(),
        "QuadraticVotes is deployed (Staking's account observer) but the scenario computes voice off-chain: \
         sqrt(stake) per attested identity, unattested stake pooled under one sqrt (the documented rule), \
         from Staking.stakeOf read on chain"
            .to_owned(),
        "VerinferGovernor/DisputeGovernor are deployed but dispute votes and slash vetoes are tallied \
         off-chain with that voice"
            .to_owned(),
    ];

    // ---------------------------------------------------------------- population
    let sc = &scenario.stakers;
    let mut stakes: Vec<f64> = (0..sc.count)
        .map(|_| match sc.distribution {
            Distribution::Pareto => {
                let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                (sc.min_stake * u.powf(-1.0 / sc.alpha)).min(sc.max_stake)
            }
            Distribution::Uniform => rng.gen_range(sc.min_stake..=2.0 * sc.min_stake),
        })
        .collect();
    stakes.sort_by(|a, b| b.total_cmp(a)); // whales first

    let oc = &scenario.operators;
    let n_lazy = (oc.lazy * oc.count as f64).round() as usize;
    let n_equiv = (oc.equivocating * oc.count as f64).round() as usize;
    let n_cartel = (oc.cartel * oc.count as f64).round() as usize;
    let mut behaviours: Vec<Behaviour> = (0..oc.count)
        .map(|i| {
            if i < n_lazy {
                Behaviour::Lazy
            } else if i < n_lazy + n_equiv {
                Behaviour::Equivocating
            } else if i < n_lazy + n_equiv + n_cartel {
                Behaviour::Cartel
            } else {
                Behaviour::Honest
            }
        })
        .collect();
    behaviours.shuffle(&mut rng);

    // Entities: 0..stakers are stakers (whales included), then one per operator.
    let mut ops: Vec<Op> = behaviours
        .iter()
        .enumerate()
        .map(|(i, b)| Op {
            address: agent("operator", i),
            behaviour: *b,
            entity: sc.count + i,
            slashed_this_epoch: false,
            slashes: 0,
        })
        .collect();

    let wc = &scenario.whales;
    let mut whale_ops = Vec::new();
    if wc.strategy == WhaleStrategy::Gather {
        for w in 0..wc.count {
            whale_ops.push(ops.len());
            ops.push(Op {
                address: agent("staker", w),
                behaviour: Behaviour::Whale,
                entity: w,
                slashed_this_epoch: false,
                slashes: 0,
            });
        }
    }

    let mint_and_approve = |sim: &mut Sim, who: Address, amount: U256| -> Result<(), SimError> {
        sim.transact(deployer, token, VerinferToken::mintCall { to: who, amount })?;
        sim.transact(
            who,
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: amount,
            },
        )?;
        Ok(())
    };

    let bar = progress_bar(
        progress,
        (sc.count + ops.len()) as u64 + scenario.epochs,
        &scenario.name,
    );
    for (i, op) in ops.iter().enumerate() {
        let self_stake = if op.behaviour == Behaviour::Whale {
            stakes[op.entity]
        } else {
            oc.self_stake
        };
        let amount = wei(self_stake);
        mint_and_approve(&mut sim, op.address, amount)?;
        sim.transact(
            op.address,
            staking,
            Staking::registerOperatorCall {
                signer: agent("signer", i),
                selfStake: amount,
            },
        )?;
        bar.inc(1);
    }

    let mut accounts: Vec<Account> = Vec::new();
    for (i, stake) in stakes.iter().enumerate() {
        let is_whale = i < wc.count;
        if is_whale && wc.strategy == WhaleStrategy::Gather {
            // Self-stake already placed as an operator.
            accounts.push(Account {
                address: agent("staker", i),
                entity: i,
                attested: true,
                yield_following: false,
                operator: whale_ops[i],
            });
            bar.inc(1);
            continue;
        }
        let parts = if is_whale && wc.strategy == WhaleStrategy::Split {
            wc.split_into
        } else {
            1
        };
        let attested_base = rng.gen_bool(sc.attested_share);
        let yield_following = rng.gen_bool(sc.yield_following);
        for p in 0..parts {
            let address = if p == 0 {
                agent("staker", i)
            } else {
                agent(&format!("sybil{i}-"), p)
            };
            let operator = if !whale_ops.is_empty() && rng.gen_bool(wc.gather_share) {
                whale_ops[rng.gen_range(0..whale_ops.len())]
            } else {
                rng.gen_range(0..oc.count)
            };
            let attested = if parts > 1 {
                p == 0 || wc.split_attested
            } else {
                attested_base
            };
            let amount = wei(stake / parts as f64);
            mint_and_approve(&mut sim, address, amount)?;
            sim.transact(
                address,
                staking,
                Staking::delegateCall {
                    operator: ops[operator].address,
                    assets: amount,
                },
            )?;
            accounts.push(Account {
                address,
                entity: i,
                attested,
                yield_following,
                operator,
            });
        }
        bar.inc(1);
    }

    // ---------------------------------------------------------------- epochs
    let mut epochs = Vec::new();
    let mut slashes: BTreeMap<String, SlashTally> = KIND_NAMES
        .iter()
        .map(|k| ((*k).to_owned(), SlashTally::default()))
        .collect();
    let mut pending_slashes: Vec<(U256, u64)> = Vec::new(); // (slashId, executableAt)
    let mut slash_kind: HashMap<U256, usize> = HashMap::new();
    let mut withdrawals: Vec<PendingWithdrawal> = Vec::new();
    let mut request_id: u64 = 0;
    let n_entities = sc.count + oc.count;
    let mut is_cartel = vec![false; n_entities];
    for op in &ops {
        if op.behaviour == Behaviour::Cartel {
            is_cartel[op.entity] = true;
        }
    }

    for epoch in 0..scenario.epochs {
        for op in &mut ops {
            op.slashed_this_epoch = false;
        }
        // Read operator weights from chain.
        let mut weights = Vec::with_capacity(ops.len());
        for op in &ops {
            let active = sim.view(
                deployer,
                staking,
                Staking::isActiveOperatorCall {
                    operator: op.address,
                },
            )?;
            let stake = sim.view(
                deployer,
                staking,
                Staking::operatorStakeCall {
                    operator: op.address,
                },
            )?;
            weights.push(if active { tokens(stake) } else { 0.0 });
        }
        let total_weight: f64 = weights.iter().sum();
        let (stake_by_entity, voice_by_entity) =
            measure(&mut sim, &accounts, &ops, n_entities, deployer, staking)?;

        let mut accepted = 0usize;
        let mut disputes = 0usize;
        let mut disputes_correct = 0usize;
        let mut min_coalition: Option<usize> = None;
        for _ in 0..scenario.traffic.requests_per_epoch {
            request_id += 1;
            if total_weight <= 0.0 {
                break;
            }
            let mut x = rng.gen_range(0.0..total_weight);
            let mut chosen = 0;
            for (i, w) in weights.iter().enumerate() {
                if x < *w {
                    chosen = i;
                    break;
                }
                x -= w;
            }
            let reference = B256::from(U256::from(request_id));
            let fault = match ops[chosen].behaviour {
                Behaviour::Honest | Behaviour::Whale => None,
                Behaviour::Lazy => rng.gen_bool(oc.lazy_miss_rate).then_some(2u8),
                Behaviour::Equivocating => rng.gen_bool(oc.equivocation_rate).then_some(0u8),
                Behaviour::Cartel => {
                    if rng.gen_bool(oc.cartel_wrong_rate) {
                        if rng.gen_bool(scenario.traffic.challenge_rate) {
                            // Dispute decided by quadratic vote; the cartel and the operator may not vote.
                            disputes += 1;
                            let (correct_wins, coalition) = dispute_vote(
                                &voice_by_entity,
                                &is_cartel,
                                ops[chosen].entity,
                                scenario.traffic.turnout,
                                &mut rng,
                            );
                            min_coalition =
                                Some(min_coalition.map_or(coalition, |m: usize| m.min(coalition)));
                            if correct_wins {
                                disputes_correct += 1;
                                Some(1u8)
                            } else {
                                None // the wrong result stands
                            }
                        } else {
                            None
                        }
                    } else {
                        accepted += 1;
                        continue;
                    }
                }
            };
            match fault {
                None => {
                    if !matches!(ops[chosen].behaviour, Behaviour::Cartel) {
                        accepted += 1;
                    }
                }
                Some(kind) => {
                    let call = Slasher::requestSlashCall {
                        kind,
                        operator: ops[chosen].address,
                        r#ref: reference,
                        reporter,
                    };
                    match sim.transact(registry, slasher, call) {
                        Ok(r) => {
                            for ev in decode_logs::<Slasher::SlashRequested>(&r.logs) {
                                slash_kind.insert(ev.slashId, usize::from(kind));
                                if kind == 1 {
                                    pending_slashes.push((ev.slashId, ev.executableAt.to::<u64>()));
                                }
                            }
                            record_executions(&r.logs, &slash_kind, &mut slashes);
                            if kind != 1 {
                                ops[chosen].slashed_this_epoch = true;
                                ops[chosen].slashes += 1;
                            }
                        }
                        Err(SimError::Reverted { .. }) => {
                            if let Some(t) = slashes.get_mut(KIND_NAMES[usize::from(kind)]) {
                                t.refused += 1;
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }

        // Time passes.
        sim.advance(scenario.blocks_per_epoch, scenario.epoch_seconds);
        let now = sim.timestamp();

        // Execute subjective slashes whose veto window is over (no veto: governance is off-chain).
        let mut still = Vec::new();
        for (id, at) in pending_slashes.drain(..) {
            if at > now {
                still.push((id, at));
                continue;
            }
            match sim.transact(reporter, slasher, Slasher::executeSlashCall { slashId: id }) {
                Ok(r) => {
                    record_executions(&r.logs, &slash_kind, &mut slashes);
                    if let Some(ev) = decode_logs::<Slasher::SlashExecuted>(&r.logs).first() {
                        if let Some(op) = ops.iter_mut().find(|o| o.address == ev.operator) {
                            op.slashed_this_epoch = true;
                            op.slashes += 1;
                        }
                    }
                }
                Err(SimError::Reverted { .. }) => {
                    if let Some(t) = slashes.get_mut(KIND_NAMES[1]) {
                        t.refused += 1;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        pending_slashes = still;

        // Yield followers leave slashed operators; matured withdrawals are re-delegated to the operator
        // with the fewest slashes.
        for (ai, acc) in accounts.iter().enumerate() {
            if acc.yield_following && ops[acc.operator].slashed_this_epoch {
                let op = ops[acc.operator].address;
                let shares = sim.view(
                    acc.address,
                    staking,
                    Staking::sharesOfCall {
                        operator: op,
                        account: acc.address,
                    },
                )?;
                if shares.is_zero() {
                    continue;
                }
                let r = sim.transact(
                    acc.address,
                    staking,
                    Staking::requestUnstakeCall {
                        operator: op,
                        shares,
                    },
                )?;
                withdrawals.push(PendingWithdrawal {
                    account: ai,
                    id: r.ret,
                    unlock_at: now + params.unbonding_delay,
                });
            }
        }
        let mut waiting = Vec::new();
        for w in withdrawals.drain(..) {
            if w.unlock_at > now {
                waiting.push(w);
                continue;
            }
            let who = accounts[w.account].address;
            let assets = sim
                .transact(
                    who,
                    staking,
                    Staking::completeUnstakeCall { withdrawalId: w.id },
                )?
                .ret;
            if assets.is_zero() {
                continue;
            }
            let best = (0..oc.count)
                .filter(|i| ops[*i].behaviour != Behaviour::Cartel || ops[*i].slashes == 0)
                .min_by_key(|i| (ops[*i].slashes, *i))
                .unwrap_or(0);
            sim.transact(
                who,
                token,
                VerinferToken::approveCall {
                    spender: staking,
                    value: assets,
                },
            )?;
            match sim.transact(
                who,
                staking,
                Staking::delegateCall {
                    operator: ops[best].address,
                    assets,
                },
            ) {
                Ok(_) => accounts[w.account].operator = best,
                Err(SimError::Reverted { .. }) => {} // jailed meanwhile: keep the tokens
                Err(e) => return Err(e.into()),
            }
        }
        withdrawals = waiting;

        let op_stakes: Vec<f64> = weights.clone();
        epochs.push(EpochMetrics {
            epoch,
            block: sim.block_number(),
            nakamoto_stake: nakamoto(&stake_by_entity),
            nakamoto_operator_stake: nakamoto(&op_stakes),
            nakamoto_voice: nakamoto(&voice_by_entity),
            gini_stake: gini(&stake_by_entity),
            gini_voice: gini(&voice_by_entity),
            accepted_share: if scenario.traffic.requests_per_epoch == 0 {
                1.0
            } else {
                accepted as f64 / scenario.traffic.requests_per_epoch as f64
            },
            disputes,
            disputes_correct,
            min_deciding_coalition: min_coalition,
            total_stake: stake_by_entity.iter().sum(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    // ---------------------------------------------------------------- final measurements and goals
    let (stake_by_entity, voice_by_entity) =
        measure(&mut sim, &accounts, &ops, n_entities, deployer, staking)?;
    let mut order: Vec<usize> = (0..n_entities).collect();
    order.sort_by(|a, b| stake_by_entity[*b].total_cmp(&stake_by_entity[*a]));
    let total_stake: f64 = stake_by_entity.iter().sum();
    let total_voice: f64 = voice_by_entity.iter().sum();
    let top10: Vec<usize> = order.iter().copied().take(10).collect();
    let top10_stake_share =
        top10.iter().map(|e| stake_by_entity[*e]).sum::<f64>() / total_stake.max(f64::MIN_POSITIVE);
    let top10_voice_share =
        top10.iter().map(|e| voice_by_entity[*e]).sum::<f64>() / total_voice.max(f64::MIN_POSITIVE);

    // Best Sybil gain: measured for split whales, and the strategy's theoretical gain for the largest staker.
    let mut best_split_gain = 1.0f64;
    for e in 0..sc.count.min(wc.count.max(1)) {
        let alone = stake_by_entity[e].sqrt();
        if alone > 0.0 {
            best_split_gain = best_split_gain.max(voice_by_entity[e] / alone);
        }
    }
    let attested_split_possible = wc.split_attested || sc.attested_share > 0.0;
    let theoretical = if attested_split_possible {
        (wc.split_into as f64).sqrt()
    } else {
        1.0
    };
    best_split_gain = best_split_gain.max(theoretical);
    if attested_split_possible {
        notes.push(format!(
            "identities are free in this model (no IdentityRegistry in the bindings): splitting into {} attested \
             identities multiplies voice by sqrt({}) = {:.2}",
            wc.split_into, wc.split_into, theoretical
        ));
    }

    let last = epochs.last().cloned().unwrap_or_default();
    let goals = vec![
        GoalCheck {
            goal: "Nakamoto(voting power) >= 10 x Nakamoto(stake)".into(),
            pass: last.nakamoto_voice >= 10 * last.nakamoto_stake.max(1),
            detail: format!(
                "voice {} vs stake {} (ratio {:.1})",
                last.nakamoto_voice,
                last.nakamoto_stake,
                last.nakamoto_voice as f64 / last.nakamoto_stake.max(1) as f64
            ),
        },
        GoalCheck {
            goal: "best split gain <= 1.5x".into(),
            pass: best_split_gain <= 1.5,
            detail: format!("{best_split_gain:.2}x"),
        },
        GoalCheck {
            goal: "10 largest stakers cannot pass a proposal alone (voice <= 50%)".into(),
            pass: top10_voice_share <= 0.5,
            detail: format!("{:.1}% of voice", 100.0 * top10_voice_share),
        },
        GoalCheck {
            goal: "10 largest stakers cannot veto a slash alone (voice <= 50%)".into(),
            pass: top10_voice_share <= 0.5,
            detail: format!(
                "{:.1}% of voice (a veto is a governance proposal)",
                100.0 * top10_voice_share
            ),
        },
    ];

    Ok(RunReport {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        stakers: sc.count,
        operators: ops.len(),
        epochs,
        slashes,
        best_split_gain,
        top10_voice_share,
        top10_stake_share,
        goals,
        notes,
        transactions: sim.tx_count,
        gas: sim.gas_total,
        seconds: started.elapsed().as_secs_f64(),
        final_stake: stake_by_entity,
        final_voice: voice_by_entity,
    })
}

/// Stake and voice per entity, read from `Staking.stakeOf` on chain.
fn measure(
    sim: &mut Sim,
    accounts: &[Account],
    ops: &[Op],
    n_entities: usize,
    reader: Address,
    staking: Address,
) -> Result<(Vec<f64>, Vec<f64>), SimError> {
    let mut addrs: Vec<(Address, usize, bool)> = accounts
        .iter()
        .map(|a| (a.address, a.entity, a.attested))
        .collect();
    for op in ops {
        if op.behaviour != Behaviour::Whale {
            addrs.push((op.address, op.entity, true));
        }
    }
    let mut stakes = Vec::with_capacity(addrs.len());
    for (a, _, _) in &addrs {
        stakes.push(tokens(sim.view(
            reader,
            staking,
            Staking::stakeOfCall { account: *a },
        )?));
    }
    let attested: Vec<bool> = addrs.iter().map(|(_, _, t)| *t).collect();
    let voice = quadratic_voice(&stakes, &attested);
    let mut s = vec![0.0; n_entities];
    let mut v = vec![0.0; n_entities];
    for (i, (_, e, _)) in addrs.iter().enumerate() {
        s[*e] += stakes[i];
        v[*e] += voice[i];
    }
    Ok((s, v))
}

/// Tallies a dispute: each eligible entity turns out with probability `turnout`; the cartel votes for
/// its wrong output, everyone else for the correct one. Returns (correct wins, smallest deciding
/// coalition = fewest largest voters of the winning side whose voice exceeds half the cast voice).
fn dispute_vote(
    voice: &[f64],
    cartel: &[bool],
    involved: usize,
    turnout: f64,
    rng: &mut ChaCha8Rng,
) -> (bool, usize) {
    let mut correct = Vec::new();
    let mut wrong = 0.0;
    for (e, v) in voice.iter().enumerate() {
        if *v <= 0.0 || e == involved {
            continue;
        }
        if cartel.get(e).copied().unwrap_or(false) {
            // Cartel members not involved in this dispute always turn out for the wrong output.
            wrong += v;
            continue;
        }
        if rng.gen_bool(turnout) {
            correct.push(*v);
        }
    }
    let correct_total: f64 = correct.iter().sum();
    let cast = correct_total + wrong;
    if correct_total > wrong {
        correct.sort_by(|a, b| b.total_cmp(a));
        let mut acc = 0.0;
        for (i, v) in correct.iter().enumerate() {
            acc += v;
            if acc > cast / 2.0 {
                return (true, i + 1);
            }
        }
        (true, correct.len())
    } else {
        (false, 1)
    }
}

fn record_executions(
    logs: &[alloy::primitives::Log],
    kinds: &HashMap<U256, usize>,
    tally: &mut BTreeMap<String, SlashTally>,
) {
    for ev in decode_logs::<Slasher::SlashExecuted>(logs) {
        let kind = kinds.get(&ev.slashId).copied().unwrap_or(0);
        if let Some(t) = tally.get_mut(KIND_NAMES[kind]) {
            t.count += 1;
            t.tokens += tokens(ev.amount);
        }
    }
}

fn progress_bar(enabled: bool, len: u64, name: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !enabled || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(name.to_owned());
    bar
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
    fn wei_roundtrip() {
        assert_eq!(tokens(wei(1234.5)), 1234.5);
    }
}
