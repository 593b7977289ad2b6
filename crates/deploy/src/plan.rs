//! The deployment plan: an ordered, pure list of create and call steps that deploys and wires the
//! verinfer suite exactly as `script/DeploySuite.sol` does. The simulator executes it in memory
//! (`verinfer_sim::Sim::deploy`); [`crate::executor`] sends the very same steps over JSON-RPC (each
//! step is just `to`/`data` from the deployer).
//!
//! **Addresses.** By default contracts are created with `CREATE` from the deployer, so the plan knows
//! every address from the deployer's nonce before anything is sent. With a salt
//! ([`DeployParams::salt`]) every contract is created with `CREATE2` through the canonical
//! deterministic-deployment proxy [`CREATE2_FACTORY`], so its address depends only on the salt and
//! its init code (bytecode and constructor arguments), never on the nonce or the chain: the same
//! deployer and salt give the same suite at the same addresses on every chain. No constructor reads
//! `msg.sender` (the proxy, under CREATE2), and no constructor takes the address of a contract created
//! after it, so the init codes form no cycle.
//!
//! **Order** (step for step `DeploySuite.deploySuite`): VerinferToken -> Staking -> Slasher (sink
//! unset) -> TimelockController (no proposer yet, anyone executes, the deployer is its temporary admin)
//! -> InferenceRegistry -> IdentityRegistry -> QuadraticVotes -> VerinferGovernor -> DisputeGovernor
//! -> Referee;
//! then the one-time wiring: `Slasher.setTreasury(treasury)`, `Slasher.wire(registry, timelock)`,
//! `InferenceRegistry.wire(disputeGovernor)`, `InferenceRegistry.wireReferee(referee)`,
//! `IdentityRegistry.wire(quadraticVotes)`,
//! `DisputeGovernor.wire(registry)`, `Staking.wire(slasher, quadraticVotes, registry)` (last: no voice
//! exists before every link the governor follows is in place), and the timelock grants the governor its
//! `PROPOSER_ROLE` and `CANCELLER_ROLE` (19 transactions).
//!
//! **Sinks.** The treasury is [`DeployParams::treasury`], or the timelock when that is zero, for both
//! the Slasher (where slashed stake goes) and the registry, as in `DeploySuite`.
//!
//! The Slasher's governance is the **timelock**, not the DisputeGovernor: a `WrongResult` slash is
//! requested by the registry once a dispute ruling is applied, and the only way to stop it is
//! `Slasher.vetoSlash` by governance before its veto window (2 days by default) ends.
//!
//! **Admin hand-over.** With [`DeployParams::local`] the deployer stays admin of everything (the
//! simulator, the devnet and tests register models and tune parameters directly). With
//! [`DeployParams::production`] (`handover = true`) the plan ends exactly like `DeploySuite._handOver`:
//! for Staking, Slasher, InferenceRegistry, IdentityRegistry and DisputeGovernor,
//! `grantRole(DEFAULT_ADMIN_ROLE, timelock)` then `renounceRole(DEFAULT_ADMIN_ROLE, deployer)`;
//! `VerinferToken.transferOwnership(timelock)`; and finally
//! `TimelockController.renounceRole(DEFAULT_ADMIN_ROLE, deployer)`: 12 more transactions.
//!
//! **Checks.** [`DeployPlan::check`] runs `DeploySuite.checkTiming` off chain
//! ([`DeployParams::check_deploy_timing`]); the RPC executor refuses a plan that fails it before sending
//! anything. The in-process simulator executes unchecked plans on purpose, so tests can show the
//! contracts' own refusals.
//!
//! ```
//! use alloy::primitives::address;
//! use verinfer_deploy::plan::{DeployParams, DeployPlan};
//!
//! let params = DeployParams::local(address!("00000000000000000000000000000000000000d0"));
//! let plan = DeployPlan::new(&params, 0);
//! assert_eq!(plan.address("Staking"), Some(params.deployer.create(1)));
//! assert_eq!(plan.address("DisputeGovernor"), Some(params.deployer.create(8)));
//! assert_eq!(plan.steps.len(), 19);
//! assert!(plan.check().is_ok());
//!
//! let production = DeployParams::production(params.deployer);
//! let handed_over = DeployPlan::new(&production, 0);
//! assert_eq!(handed_over.steps.len(), 19 + 12);
//! assert_eq!(handed_over.steps.last().unwrap().label, "TimelockController.renounceRole(admin)");
//! ```

use std::collections::BTreeMap;

use alloy::{
    primitives::{address, aliases::U48, keccak256, Address, Bytes, B256, U256},
    sol_types::{SolCall, SolConstructor},
};
use serde::{Deserialize, Serialize};
use verinfer_bindings::{
    units::TOKEN, DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Referee,
    Slasher, Staking, TimelockController, VerinferGovernor, VerinferToken,
};

/// OpenZeppelin `AccessControl.DEFAULT_ADMIN_ROLE` (`0x00`), the role handed to the timelock.
pub const DEFAULT_ADMIN_ROLE: B256 = B256::ZERO;

/// `TimelockController.PROPOSER_ROLE` (`keccak256("PROPOSER_ROLE")`).
pub fn proposer_role() -> B256 {
    keccak256("PROPOSER_ROLE")
}

/// `TimelockController.CANCELLER_ROLE` (`keccak256("CANCELLER_ROLE")`).
pub fn canceller_role() -> B256 {
    keccak256("CANCELLER_ROLE")
}

/// `TimelockController.EXECUTOR_ROLE` (`keccak256("EXECUTOR_ROLE")`).
pub fn executor_role() -> B256 {
    keccak256("EXECUTOR_ROLE")
}

/// The canonical deterministic-deployment proxy (Arachnid's; anvil predeploys it, and it exists on
/// Sepolia, Base Sepolia and most EVM chains). Calldata `salt ++ initCode` creates with `CREATE2` and
/// returns the new address.
pub const CREATE2_FACTORY: Address = address!("4e59b44847b379578588920ca78fbf26c0b4956c");

/// `InferenceRegistry.MAX_TTL`: the longest time-to-live of a request, seconds.
pub const MAX_REQUEST_TTL: u64 = 86_400;

/// The registry's batch window at deployment (`InferenceRegistry.batchWindow`), seconds.
pub const BATCH_WINDOW: u64 = 3_600;

/// The Slasher's default `WrongResult` veto window at deployment, seconds.
pub const WRONG_RESULT_VETO_WINDOW: u64 = 2 * 86_400;

/// The contracts of the suite, in creation order (names as in the bindings and the manifest).
pub const CONTRACTS: [&str; 10] = [
    "VerinferToken",
    "Staking",
    "Slasher",
    "TimelockController",
    "InferenceRegistry",
    "IdentityRegistry",
    "QuadraticVotes",
    "VerinferGovernor",
    "DisputeGovernor",
    "Referee",
];

/// A cross-contract timing invariant does not hold for a set of [`DeployParams`]: the deployed
/// contracts (or `DeploySuite`) would revert with `TimingInvariantViolated(rule, lhs, rhs)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timing invariant `{rule}` does not hold: {lhs} s against {rhs} s")]
pub struct TimingError {
    /// The rule, named as the contracts and `DeploySuite` name it (`fault+ruling+veto<unbonding`,
    /// `fault+ruling+veto+margin<unbond`, `vetoLatency<vetoWindow`, `faultWindow<=signerRotation`).
    pub rule: &'static str,
    /// Its left-hand side, seconds.
    pub lhs: u64,
    /// Its right-hand side, seconds.
    pub rhs: u64,
}

/// A plan that must not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The deployment-time timing invariants of `DeploySuite.checkTiming` do not hold.
    #[error(transparent)]
    Timing(#[from] TimingError),
    /// The deployer sends the admin-only wiring calls, so it must be the admin the constructors get.
    #[error("the admin ({admin}) must be the deployer ({deployer}): the deployer sends the admin-only wiring and hand-over calls")]
    AdminNotDeployer {
        /// The configured admin.
        admin: Address,
        /// The deployer.
        deployer: Address,
    },
}

fn default_max_challenge_window() -> u32 {
    86_400
}
fn default_execution_margin() -> u32 {
    86_400
}
fn default_block_time() -> u32 {
    12
}
fn default_referee_move_window() -> u32 {
    3_600
}

/// Deadlines in the longest referee game (`Referee.MAX_MOVES`: the commit, two moves per level of
/// the depth-17 trace tree, the one-step check).
pub const REFEREE_MAX_MOVES: u64 = 36;

/// Parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployParams {
    /// The account that sends every step (its nonce decides the `CREATE` addresses).
    pub deployer: Address,
    /// The admin the constructors get; must be the deployer ([`PlanError::AdminNotDeployer`]), which
    /// keeps the roles ([`DeployParams::local`]) or hands them to the timelock at the end
    /// ([`DeployParams::production`]).
    pub admin: Address,
    /// Token supply minted to the admin at deployment.
    pub initial_supply: U256,
    /// `Staking.minOperatorStake`.
    pub min_operator_stake: U256,
    /// `Staking.unbondingDelay` in seconds (1 day ..= 90 days).
    pub unbonding_delay: u64,
    /// `Staking.signerRotationDelay` in seconds (1 hour ..= 30 days). The contracts require it to be
    /// at least the registry's fault window F (see [`DeployParams::check_timing`]), so it bounds the
    /// challenge window of every model registered later.
    pub signer_rotation_delay: u64,
    /// Slasher sink and registry treasury; zero = the timelock (as `DeploySuite`).
    pub treasury: Address,
    /// `TimelockController` minimum delay in seconds (also the delay before a dispute ruling applies).
    pub timelock_delay: u64,
    /// `VerinferGovernor` voting delay in blocks (1 ..= 100,800).
    pub voting_delay: u64,
    /// `VerinferGovernor` voting period in blocks (5 ..= 201,600).
    pub voting_period: u32,
    /// `DisputeGovernor` voting period in **seconds** (600 ..= 1,209,600): a dispute vote closes when
    /// `block.timestamp` passes its `voteEnd`, so ending one early takes time travel, not mined blocks.
    pub dispute_voting_period: u32,
    /// Quorum in bps of total voice, for both governors (100 ..= 5,000).
    pub quorum_bps: u16,
    /// Largest share of total voice one voter may cast, bps (100 ..= 5,000).
    pub delegate_cap_bps: u16,
    /// `VerinferGovernor` residual quorum (0 ..= 15, 0 = off): a proposal passes only if its for side
    /// still reaches quorum and beats against without its K largest voices (the unattested pool
    /// counting as one). A proposal applies min(K, voices at its snapshot / 3). Absent in older
    /// serialized params = 0.
    #[serde(default)]
    pub residual_k: u8,
    /// Append the hand-over steps of `script/DeploySuite.sol`: every admin role (and the token's
    /// ownership) goes to the timelock and the deployer renounces its own. Absent in older serialized
    /// params = `false`.
    #[serde(default)]
    pub handover: bool,
    /// `VerinferGovernor` proposal threshold in voice units (proposals to the suite need twice it).
    /// `DeploySuite` uses the voice of one minimum operator stake (`sqrt(minOperatorStake)`); local
    /// deployments use 0. Absent in older serialized params = 0.
    #[serde(default)]
    pub proposal_threshold: U256,
    /// The longest challenge window models are meant to use, seconds (`DeploySuite`
    /// `Config.maxChallengeWindow`, env `MAX_CHALLENGE_WINDOW`): the deployment-time timing check
    /// bounds it. Default 1 day.
    #[serde(default = "default_max_challenge_window")]
    pub max_challenge_window: u32,
    /// Keeper latency kept between the latest slash execution and the unbonding delay, seconds
    /// (`Config.executionMargin`, env `EXECUTION_MARGIN`). Default 1 day.
    #[serde(default = "default_execution_margin")]
    pub execution_margin: u32,
    /// Expected seconds per block, to convert the governor's block-counted voting periods
    /// (`Config.blockTime`, env `BLOCK_TIME`). Default 12.
    #[serde(default = "default_block_time")]
    pub block_time: u32,
    /// `CREATE2` salt: create every contract through [`CREATE2_FACTORY`] with this salt, for the same
    /// addresses on every chain. `None` (the default) creates from the deployer's nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<B256>,
    /// Seconds each move of a referee game may take (`Referee.moveWindow`, 300 ..= 86,400;
    /// `Config.refereeMoveWindow`, env `REFEREE_MOVE_WINDOW`). Default 1 hour.
    #[serde(default = "default_referee_move_window")]
    pub referee_move_window: u32,
}

impl DeployParams {
    /// Local/test defaults: the deployer is admin of everything; 1e9 tokens; short governance delays
    /// (timelock 1 hour, votes of 50 blocks, dispute votes of 10 minutes) so a veto of a `WrongResult`
    /// slash fits its 2-day window at any block time up to ~10 minutes. Unbonding takes 7 days and a
    /// signer rotation 3 days, so the on-chain timing invariants (`Slasher.checkTiming`) hold for every
    /// model whose challenge window is at most 47 hours ([`DeployParams::max_challenge_window`]).
    pub fn local(deployer: Address) -> Self {
        Self {
            deployer,
            admin: deployer,
            initial_supply: U256::from(1_000_000_000u128 * TOKEN),
            min_operator_stake: U256::from(1_000u128 * TOKEN),
            unbonding_delay: 7 * 86_400,
            signer_rotation_delay: 3 * 86_400,
            treasury: Address::ZERO,
            timelock_delay: 3_600,
            voting_delay: 1,
            voting_period: 50,
            dispute_voting_period: 600,
            quorum_bps: 400,
            delegate_cap_bps: 1_000,
            // off: the local and test deployments pass proposals with a handful of voters
            residual_k: 0,
            handover: false,
            proposal_threshold: U256::ZERO,
            max_challenge_window: default_max_challenge_window(),
            execution_margin: default_execution_margin(),
            block_time: default_block_time(),
            salt: None,
            referee_move_window: default_referee_move_window(),
        }
    }

    /// The [`local`](Self::local) parameters with the admin hand-over of `script/DeploySuite.sol`:
    /// once wired, the timelock (driven by VerinferGovernor proposals) is the only admin and the
    /// deployer keeps no role. Used by `verinfer deploy` unless `--keep-admin` is given.
    pub fn production(deployer: Address) -> Self {
        let local = Self::local(deployer);
        Self {
            handover: true,
            // As `DeploySuite`: the voice of one minimum operator stake in one identity, so a stakeless
            // account cannot front-run and cancel a proposal (docs/security.md, finding 8).
            proposal_threshold: local.min_operator_stake.root(2),
            // As `Deploy.s.sol`: the 10 largest voices for cannot pass a proposal on their own
            // (docs/governance.md, "Residual quorum").
            residual_k: 10,
            // As `Deploy.s.sol`: 1% of voice, with the residual rule above carrying the breadth;
            // chosen from the measurements in docs/governance.md, "The quorum, from measurements".
            quorum_bps: 100,
            ..local
        }
    }

    /// The same parameters, deployed with `CREATE2` through [`CREATE2_FACTORY`] under `salt`.
    pub fn with_salt(self, salt: B256) -> Self {
        Self {
            salt: Some(salt),
            ..self
        }
    }

    /// The registry's fault window F for models whose challenge windows are at most
    /// `max_challenge_window` seconds: request TTL + challenge window + batch window
    /// (`InferenceRegistry.faultWindow()` at the deployment's batch window).
    pub fn fault_window(max_challenge_window: u32) -> u64 {
        MAX_REQUEST_TTL + u64::from(max_challenge_window) + BATCH_WINDOW
    }

    /// R: the longest time from a dispute's opening until its ruling can be applied, the larger of
    /// the dispute voting period plus the timelock delay (`DisputeGovernor.maxRulingDelay()`) and
    /// the longest referee game (`Referee.maxRulingDelay()`, [`REFEREE_MAX_MOVES`] move windows + 1 s).
    pub fn ruling_delay(&self) -> u64 {
        self.vote_ruling_delay().max(self.referee_ruling_delay())
    }

    /// The vote's ruling delay: dispute voting period plus timelock delay
    /// (`DisputeGovernor.maxRulingDelay()`).
    pub fn vote_ruling_delay(&self) -> u64 {
        u64::from(self.dispute_voting_period) + self.timelock_delay
    }

    /// The longest referee game: [`REFEREE_MAX_MOVES`] move windows + 1 s
    /// (`Referee.maxRulingDelay()`).
    pub fn referee_ruling_delay(&self) -> u64 {
        REFEREE_MAX_MOVES * u64::from(self.referee_move_window) + 1
    }

    /// The longest time governance needs to veto a slash: (voting delay + voting period) blocks at
    /// [`block_time`](Self::block_time) seconds each, plus the timelock delay
    /// (`DeploySuite.vetoLatency`).
    pub fn veto_latency(&self) -> u64 {
        (self.voting_delay + u64::from(self.voting_period)) * u64::from(self.block_time)
            + self.timelock_delay
    }

    /// Checks the rules `Slasher.checkTiming` enforces on chain (docs/slashing.md, "Timing
    /// invariants") once a model with challenge window `max_challenge_window` is registered, with the
    /// deployment's batch window and `WrongResult` veto window V: F + R + V < unbonding delay, and
    /// F <= signer rotation delay. `registerModel` reverts exactly when this fails.
    pub fn check_timing(&self, max_challenge_window: u32) -> Result<(), TimingError> {
        let f = Self::fault_window(max_challenge_window);
        let latest = f + self.ruling_delay() + WRONG_RESULT_VETO_WINDOW;
        if latest >= self.unbonding_delay {
            return Err(TimingError {
                rule: "fault+ruling+veto<unbonding",
                lhs: latest,
                rhs: self.unbonding_delay,
            });
        }
        if f > self.signer_rotation_delay {
            return Err(TimingError {
                rule: "faultWindow<=signerRotation",
                lhs: f,
                rhs: self.signer_rotation_delay,
            });
        }
        Ok(())
    }

    /// `DeploySuite.checkTiming(cfg, V)`, rule for rule and with its rule names: with
    /// F = [`fault_window`](Self::fault_window)`(max_challenge_window)`,
    /// (1) F + R + V + execution margin < unbonding delay, (2) [`veto_latency`](Self::veto_latency)
    /// < V, (3) F <= signer rotation delay. A plan whose parameters fail it is never sent.
    pub fn check_deploy_timing(&self) -> Result<(), TimingError> {
        let u = self.unbonding_delay;
        let f = Self::fault_window(self.max_challenge_window);
        let latest =
            f + self.ruling_delay() + WRONG_RESULT_VETO_WINDOW + u64::from(self.execution_margin);
        if latest >= u {
            return Err(TimingError {
                rule: "fault+ruling+veto+margin<unbond",
                lhs: latest,
                rhs: u,
            });
        }
        let veto = self.veto_latency();
        if veto >= WRONG_RESULT_VETO_WINDOW {
            return Err(TimingError {
                rule: "vetoLatency<vetoWindow",
                lhs: veto,
                rhs: WRONG_RESULT_VETO_WINDOW,
            });
        }
        if f > self.signer_rotation_delay {
            return Err(TimingError {
                rule: "faultWindow<=signerRotation",
                lhs: f,
                rhs: self.signer_rotation_delay,
            });
        }
        Ok(())
    }

    /// Everything a plan needs before it may be sent: the admin is the deployer and
    /// [`check_deploy_timing`](Self::check_deploy_timing) holds.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.admin != self.deployer {
            return Err(PlanError::AdminNotDeployer {
                admin: self.admin,
                deployer: self.deployer,
            });
        }
        self.check_deploy_timing()?;
        Ok(())
    }

    /// The longest model challenge window (seconds) [`check_timing`](Self::check_timing) accepts with
    /// these parameters (saturating at 0).
    pub fn max_challenge_window(&self) -> u64 {
        let fixed = MAX_REQUEST_TTL + BATCH_WINDOW;
        let by_rotation = self.signer_rotation_delay.saturating_sub(fixed);
        let by_unbonding = self
            .unbonding_delay
            .saturating_sub(fixed + self.ruling_delay() + WRONG_RESULT_VETO_WINDOW + 1);
        by_rotation.min(by_unbonding)
    }

    /// The environment `script/Deploy.s.sol` reads to deploy the same suite with `DeploySuite`
    /// (`forge script script/Deploy.s.sol --broadcast` with these variables set). `DeploySuite`
    /// always hands over, so this matches [`DeployParams::production`]-style parameters.
    pub fn forge_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STAKING_TOKEN", Address::ZERO.to_string()),
            ("TOKEN_SUPPLY", self.initial_supply.to_string()),
            ("TREASURY", self.treasury.to_string()),
            ("MIN_OPERATOR_STAKE", self.min_operator_stake.to_string()),
            ("UNBONDING_DELAY", self.unbonding_delay.to_string()),
            (
                "SIGNER_ROTATION_DELAY",
                self.signer_rotation_delay.to_string(),
            ),
            ("TIMELOCK_DELAY", self.timelock_delay.to_string()),
            (
                "MAX_CHALLENGE_WINDOW",
                self.max_challenge_window.to_string(),
            ),
            ("EXECUTION_MARGIN", self.execution_margin.to_string()),
            ("BLOCK_TIME", self.block_time.to_string()),
            ("VOTING_DELAY", self.voting_delay.to_string()),
            ("VOTING_PERIOD", self.voting_period.to_string()),
            (
                "DISPUTE_VOTING_PERIOD",
                self.dispute_voting_period.to_string(),
            ),
            ("QUORUM_BPS", self.quorum_bps.to_string()),
            ("DELEGATE_CAP_BPS", self.delegate_cap_bps.to_string()),
            ("RESIDUAL_K", self.residual_k.to_string()),
            ("PROPOSAL_THRESHOLD", self.proposal_threshold.to_string()),
            ("REFEREE_MOVE_WINDOW", self.referee_move_window.to_string()),
        ]
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StepKind {
    /// Creation of `contract` with `init_code` (creation bytecode ++ constructor args): a `CREATE`
    /// transaction from the deployer, or with `salt` a call to [`CREATE2_FACTORY`] (`CREATE2`).
    Create {
        /// Contract name in the bindings.
        contract: String,
        /// Creation code with the ABI-encoded constructor arguments appended.
        init_code: Bytes,
        /// Address the creation will produce.
        address: Address,
        /// The ABI-encoded constructor arguments (the tail of `init_code`), as block explorers take
        /// them. Absent in older serialized plans.
        #[serde(default)]
        constructor_args: Bytes,
        /// `CREATE2` salt; `None` = `CREATE` from the deployer's nonce.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        salt: Option<B256>,
    },
    /// A call to an already planned contract.
    Call {
        /// Contract name of the target.
        contract: String,
        /// Target address.
        to: Address,
        /// ABI-encoded calldata.
        data: Bytes,
    },
}

/// One transaction of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Human-readable label, e.g. `Staking.wire`.
    pub label: String,
    /// The transaction.
    pub kind: StepKind,
}

impl Step {
    /// `to` (None for a `CREATE`) and calldata, as sent by the deployer. A `CREATE2` step is a call
    /// to [`CREATE2_FACTORY`] with `salt ++ init_code`.
    pub fn tx(&self) -> (Option<Address>, Bytes) {
        match &self.kind {
            StepKind::Create {
                init_code,
                salt: None,
                ..
            } => (None, init_code.clone()),
            StepKind::Create {
                init_code,
                salt: Some(salt),
                ..
            } => {
                let mut data = salt.to_vec();
                data.extend_from_slice(init_code);
                (Some(CREATE2_FACTORY), data.into())
            }
            StepKind::Call { to, data, .. } => (Some(*to), data.clone()),
        }
    }

    /// The contract this step creates and its address, if it is a creation.
    pub fn created(&self) -> Option<(&str, Address)> {
        match &self.kind {
            StepKind::Create {
                contract, address, ..
            } => Some((contract.as_str(), *address)),
            StepKind::Call { .. } => None,
        }
    }
}

/// The ordered deployment steps and the resulting addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployPlan {
    /// The sender of every step.
    pub deployer: Address,
    /// The deployer's nonce before the first step.
    pub start_nonce: u64,
    /// Steps in order; step `i` is sent with nonce `start_nonce + i`.
    pub steps: Vec<Step>,
    /// Contract name to address.
    pub addresses: BTreeMap<String, Address>,
    /// The parameters the plan was made from.
    pub params: DeployParams,
}

impl DeployPlan {
    /// Plans a deployment from `params.deployer` whose next nonce is `start_nonce`. The plan is not
    /// checked here (the simulator runs unchecked plans to show the contracts' own refusals): see
    /// [`DeployPlan::check`], which the RPC executor runs before sending anything.
    pub fn new(params: &DeployParams, start_nonce: u64) -> Self {
        let deployer = params.deployer;
        let admin = params.admin;
        let mut b = Builder {
            deployer,
            salt: params.salt,
            nonce: start_nonce,
            steps: Vec::new(),
            addresses: BTreeMap::new(),
        };

        // 1. token
        let token = b.create(
            "VerinferToken",
            &VerinferToken::BYTECODE,
            VerinferToken::constructorCall {
                name_: "Verinfer".into(),
                symbol_: verinfer_bindings::units::SYMBOL.into(),
                admin,
                initialSupply: params.initial_supply,
            }
            .abi_encode(),
        );
        // 2. Staking -> Slasher (sink unset until the treasury exists)
        let staking = b.create(
            "Staking",
            &Staking::BYTECODE,
            Staking::constructorCall {
                token_: token,
                admin,
                minOperatorStake_: params.min_operator_stake,
                unbondingDelay_: U48::from(params.unbonding_delay),
                signerRotationDelay_: U48::from(params.signer_rotation_delay),
            }
            .abi_encode(),
        );
        let slasher = b.create(
            "Slasher",
            &Slasher::BYTECODE,
            Slasher::constructorCall {
                staking_: staking,
                admin,
                treasury_: Address::ZERO,
            }
            .abi_encode(),
        );
        // 3. TimelockController: no proposer yet (the governor does not exist), anyone executes, the
        // deployer is its temporary admin.
        let timelock = b.create(
            "TimelockController",
            &TimelockController::BYTECODE,
            TimelockController::constructorCall {
                minDelay: U256::from(params.timelock_delay),
                proposers: vec![],
                executors: vec![Address::ZERO],
                admin,
            }
            .abi_encode(),
        );
        let treasury = if params.treasury.is_zero() {
            timelock
        } else {
            params.treasury
        };
        // 4. registry, identities, voice, governors
        let registry = b.create(
            "InferenceRegistry",
            &InferenceRegistry::BYTECODE,
            InferenceRegistry::constructorCall {
                staking_: staking,
                slasher_: slasher,
                treasury_: treasury,
                admin,
            }
            .abi_encode(),
        );
        let identity = b.create(
            "IdentityRegistry",
            &IdentityRegistry::BYTECODE,
            IdentityRegistry::constructorCall { admin }.abi_encode(),
        );
        let votes = b.create(
            "QuadraticVotes",
            &QuadraticVotes::BYTECODE,
            QuadraticVotes::constructorCall {
                staking_: staking,
                identityRegistry_: identity,
            }
            .abi_encode(),
        );
        let governor = b.create(
            "VerinferGovernor",
            &VerinferGovernor::BYTECODE,
            VerinferGovernor::constructorCall {
                votes_: votes,
                timelock_: timelock,
                identityRegistry_: identity,
                cfg: VerinferGovernor::Config {
                    votingDelay: U48::from(params.voting_delay),
                    votingPeriod: params.voting_period,
                    proposalThreshold: params.proposal_threshold,
                    lateQuorumExtension: U48::ZERO,
                    quorumBps: params.quorum_bps,
                    delegateCapBps: params.delegate_cap_bps,
                    residualK: params.residual_k,
                },
            }
            .abi_encode(),
        );
        let disputes = b.create(
            "DisputeGovernor",
            &DisputeGovernor::BYTECODE,
            DisputeGovernor::constructorCall {
                votes_: votes,
                staking_: staking,
                timelock_: timelock,
                admin,
                votingPeriod_: params.dispute_voting_period,
                quorumBps_: params.quorum_bps,
                delegateCapBps_: params.delegate_cap_bps,
            }
            .abi_encode(),
        );
        let referee = b.create(
            "Referee",
            &Referee::BYTECODE,
            Referee::constructorCall {
                registry_: registry,
                staking_: staking,
                identities_: identity,
                moveWindow_: U256::from(params.referee_move_window),
            }
            .abi_encode(),
        );

        // 5. wiring (each one-time, admin-only; the deployer is the admin until the hand-over).
        b.call(
            "Slasher",
            "Slasher.setTreasury",
            slasher,
            Slasher::setTreasuryCall {
                treasury_: treasury,
            }
            .abi_encode(),
        );
        b.call(
            "Slasher",
            "Slasher.wire",
            slasher,
            Slasher::wireCall {
                registry_: registry,
                governance_: timelock,
            }
            .abi_encode(),
        );
        b.call(
            "InferenceRegistry",
            "InferenceRegistry.wire",
            registry,
            InferenceRegistry::wireCall {
                resolver_: disputes,
            }
            .abi_encode(),
        );
        b.call(
            "InferenceRegistry",
            "InferenceRegistry.wireReferee",
            registry,
            InferenceRegistry::wireRefereeCall { referee_: referee }.abi_encode(),
        );
        b.call(
            "IdentityRegistry",
            "IdentityRegistry.wire",
            identity,
            IdentityRegistry::wireCall { observer_: votes }.abi_encode(),
        );
        b.call(
            "DisputeGovernor",
            "DisputeGovernor.wire",
            disputes,
            DisputeGovernor::wireCall {
                registry_: registry,
            }
            .abi_encode(),
        );
        b.call(
            "Staking",
            "Staking.wire",
            staking,
            Staking::wireCall {
                slasher_: slasher,
                accountObserver_: votes,
                operatorObserver_: registry,
            }
            .abi_encode(),
        );
        for (label, role) in [
            (
                "TimelockController.grantRole(proposer, governor)",
                proposer_role(),
            ),
            (
                "TimelockController.grantRole(canceller, governor)",
                canceller_role(),
            ),
        ] {
            b.call(
                "TimelockController",
                label,
                timelock,
                TimelockController::grantRoleCall {
                    role,
                    account: governor,
                }
                .abi_encode(),
            );
        }
        if params.handover {
            b.hand_over(
                deployer,
                timelock,
                token,
                &[
                    ("Staking", staking),
                    ("Slasher", slasher),
                    ("InferenceRegistry", registry),
                    ("IdentityRegistry", identity),
                    ("DisputeGovernor", disputes),
                ],
            );
        }
        Self {
            deployer,
            start_nonce,
            steps: b.steps,
            addresses: b.addresses,
            params: params.clone(),
        }
    }

    /// The checks the RPC executor runs before sending anything ([`DeployParams::validate`]).
    pub fn check(&self) -> Result<(), PlanError> {
        self.params.validate()
    }

    /// The planned address of `contract`.
    pub fn address(&self, contract: &str) -> Option<Address> {
        self.addresses.get(contract).copied()
    }

    /// A digest of everything that is sent: deployer, start nonce and every step's `to` and
    /// calldata. Two plans with the same hash send the same transactions; the resume journal
    /// refuses to continue a plan with another hash.
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::new();
        buf.extend_from_slice(self.deployer.as_slice());
        buf.extend_from_slice(&self.start_nonce.to_be_bytes());
        for step in &self.steps {
            let (to, data) = step.tx();
            buf.extend_from_slice(to.unwrap_or_default().as_slice());
            buf.push(u8::from(to.is_some()));
            buf.extend_from_slice(keccak256(&data).as_slice());
        }
        keccak256(buf)
    }
}

struct Builder {
    deployer: Address,
    salt: Option<B256>,
    nonce: u64,
    steps: Vec<Step>,
    addresses: BTreeMap<String, Address>,
}

impl Builder {
    fn create(&mut self, contract: &str, code: &Bytes, args: Vec<u8>) -> Address {
        let mut init = code.to_vec();
        init.extend_from_slice(&args);
        let address = match self.salt {
            Some(salt) => CREATE2_FACTORY.create2(salt, keccak256(&init)),
            None => self.deployer.create(self.nonce),
        };
        self.nonce += 1;
        self.steps.push(Step {
            label: format!("create {contract}"),
            kind: StepKind::Create {
                contract: contract.to_owned(),
                init_code: init.into(),
                address,
                constructor_args: args.into(),
                salt: self.salt,
            },
        });
        self.addresses.insert(contract.to_owned(), address);
        address
    }

    /// `DeploySuite._handOver`: each AccessControl contract grants `DEFAULT_ADMIN_ROLE` to the
    /// timelock and the deployer renounces it; the token's ownership moves to the timelock; the
    /// deployer renounces the timelock's own admin role last.
    fn hand_over(
        &mut self,
        deployer: Address,
        timelock: Address,
        token: Address,
        contracts: &[(&str, Address)],
    ) {
        // OpenZeppelin AccessControl (and the registry's compatible copy) share these selectors.
        for (name, to) in contracts {
            self.call(
                name,
                &format!("{name}.grantRole(admin, timelock)"),
                *to,
                Staking::grantRoleCall {
                    role: DEFAULT_ADMIN_ROLE,
                    account: timelock,
                }
                .abi_encode(),
            );
            self.call(
                name,
                &format!("{name}.renounceRole(admin)"),
                *to,
                Staking::renounceRoleCall {
                    role: DEFAULT_ADMIN_ROLE,
                    callerConfirmation: deployer,
                }
                .abi_encode(),
            );
        }
        self.call(
            "VerinferToken",
            "VerinferToken.transferOwnership(timelock)",
            token,
            VerinferToken::transferOwnershipCall { newOwner: timelock }.abi_encode(),
        );
        self.call(
            "TimelockController",
            "TimelockController.renounceRole(admin)",
            timelock,
            TimelockController::renounceRoleCall {
                role: DEFAULT_ADMIN_ROLE,
                callerConfirmation: deployer,
            }
            .abi_encode(),
        );
    }

    fn call(&mut self, contract: &str, label: &str, to: Address, data: Vec<u8>) {
        self.nonce += 1;
        self.steps.push(Step {
            label: label.to_owned(),
            kind: StepKind::Call {
                contract: contract.to_owned(),
                to,
                data: data.into(),
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolCall;

    const DEPLOYER: Address = Address::repeat_byte(0xd0);

    fn call_data(step: &Step) -> (&str, Address, &Bytes) {
        match &step.kind {
            StepKind::Call { contract, to, data } => (contract.as_str(), *to, data),
            StepKind::Create { .. } => panic!("{} is a create", step.label),
        }
    }

    #[test]
    fn local_plan_creates_in_deploy_suite_order_and_keeps_the_deployer_as_admin() {
        let plan = DeployPlan::new(&DeployParams::local(DEPLOYER), 0);
        assert_eq!(plan.steps.len(), 19);
        let created: Vec<&str> = plan
            .steps
            .iter()
            .filter_map(|s| s.created())
            .map(|c| c.0)
            .collect();
        assert_eq!(created, CONTRACTS);
        for (i, name) in CONTRACTS.iter().enumerate() {
            assert_eq!(plan.address(name), Some(DEPLOYER.create(i as u64)));
        }
        assert!(plan
            .steps
            .iter()
            .all(|s| !s.label.contains("renounceRole") && !s.label.contains("admin, timelock")));
    }

    #[test]
    fn slasher_sink_and_registry_treasury_are_the_timelock_unless_a_treasury_is_given() {
        let plan = DeployPlan::new(&DeployParams::local(DEPLOYER), 0);
        let timelock = plan.address("TimelockController").unwrap();
        let set = plan
            .steps
            .iter()
            .find(|s| s.label == "Slasher.setTreasury")
            .unwrap();
        let (_, to, data) = call_data(set);
        assert_eq!(to, plan.address("Slasher").unwrap());
        assert_eq!(
            Slasher::setTreasuryCall::abi_decode(data)
                .unwrap()
                .treasury_,
            timelock
        );
        // InferenceRegistry(staking, slasher, treasury, admin): the third word is the treasury.
        let registry_treasury = match &plan.steps[4].kind {
            StepKind::Create {
                constructor_args, ..
            } => Address::from_slice(&constructor_args[2 * 32 + 12..3 * 32]),
            StepKind::Call { .. } => panic!("step 4 is the registry's creation"),
        };
        assert_eq!(registry_treasury, timelock);

        let own = Address::repeat_byte(0x77);
        let plan = DeployPlan::new(
            &DeployParams {
                treasury: own,
                ..DeployParams::local(DEPLOYER)
            },
            0,
        );
        let set = plan
            .steps
            .iter()
            .find(|s| s.label == "Slasher.setTreasury")
            .unwrap();
        assert_eq!(
            Slasher::setTreasuryCall::abi_decode(call_data(set).2)
                .unwrap()
                .treasury_,
            own
        );
    }

    #[test]
    fn production_plan_hands_every_admin_role_to_the_timelock_like_deploy_suite() {
        let params = DeployParams::production(DEPLOYER);
        assert!(params.handover);
        let plan = DeployPlan::new(&params, 7);
        assert_eq!(plan.steps.len(), 31);
        // The first 19 steps are the same plan without the hand-over (same addresses: it only appends).
        let local = DeployPlan::new(
            &DeployParams {
                handover: false,
                ..params.clone()
            },
            7,
        );
        assert_eq!(plan.steps[..19], local.steps[..]);
        assert_eq!(plan.addresses, local.addresses);
        let timelock = plan.address("TimelockController").unwrap();
        let handover = &plan.steps[19..];
        for (i, name) in [
            "Staking",
            "Slasher",
            "InferenceRegistry",
            "IdentityRegistry",
            "DisputeGovernor",
        ]
        .iter()
        .enumerate()
        {
            let (contract, to, data) = call_data(&handover[2 * i]);
            assert_eq!((contract, to), (*name, plan.address(name).unwrap()));
            let grant = Staking::grantRoleCall::abi_decode(data).unwrap();
            assert_eq!((grant.role, grant.account), (DEFAULT_ADMIN_ROLE, timelock));
            let (contract, to, data) = call_data(&handover[2 * i + 1]);
            assert_eq!((contract, to), (*name, plan.address(name).unwrap()));
            let renounce = Staking::renounceRoleCall::abi_decode(data).unwrap();
            assert_eq!(
                (renounce.role, renounce.callerConfirmation),
                (DEFAULT_ADMIN_ROLE, DEPLOYER)
            );
        }
        let (_, to, data) = call_data(&handover[10]);
        assert_eq!(to, plan.address("VerinferToken").unwrap());
        assert_eq!(
            VerinferToken::transferOwnershipCall::abi_decode(data)
                .unwrap()
                .newOwner,
            timelock
        );
        // The timelock's own admin role is renounced last, after everything else is handed over.
        let (_, to, data) = call_data(&handover[11]);
        assert_eq!(to, timelock);
        let renounce = TimelockController::renounceRoleCall::abi_decode(data).unwrap();
        assert_eq!(renounce.callerConfirmation, DEPLOYER);
    }

    #[test]
    fn create2_addresses_depend_on_salt_and_deployer_but_not_on_the_nonce() {
        let salt = B256::repeat_byte(0x5a);
        let params = DeployParams::production(DEPLOYER).with_salt(salt);
        let a = DeployPlan::new(&params, 0);
        let b = DeployPlan::new(&params, 1_234);
        assert_eq!(a.addresses, b.addresses);
        assert_ne!(
            a.hash(),
            b.hash(),
            "the nonce still decides which transactions are sent"
        );
        for step in &a.steps {
            if let StepKind::Create {
                init_code, address, ..
            } = &step.kind
            {
                assert_eq!(
                    *address,
                    CREATE2_FACTORY.create2(salt, keccak256(init_code))
                );
                let (to, data) = step.tx();
                assert_eq!(to, Some(CREATE2_FACTORY));
                assert_eq!(&data[..32], salt.as_slice());
                assert_eq!(&data[32..], &init_code[..]);
            }
        }
        let other_salt =
            DeployPlan::new(&DeployParams::production(DEPLOYER).with_salt(B256::ZERO), 0);
        assert!(a
            .addresses
            .values()
            .zip(other_salt.addresses.values())
            .all(|(x, y)| x != y));
        let other_deployer = DeployPlan::new(
            &DeployParams::production(Address::repeat_byte(0xd1)).with_salt(salt),
            0,
        );
        assert_ne!(a.address("Staking"), other_deployer.address("Staking"));
    }

    #[test]
    fn plan_hash_changes_with_any_sent_byte() {
        let p = DeployParams::production(DEPLOYER);
        let base = DeployPlan::new(&p, 0).hash();
        assert_eq!(base, DeployPlan::new(&p, 0).hash());
        assert_ne!(
            base,
            DeployPlan::new(&DeployParams::local(DEPLOYER), 0).hash()
        );
        assert_ne!(
            base,
            DeployPlan::new(
                &DeployParams {
                    timelock_delay: 3_601,
                    ..p.clone()
                },
                0
            )
            .hash()
        );
    }

    #[test]
    fn local_timing_admits_challenge_windows_up_to_47_hours() {
        let params = DeployParams::local(DEPLOYER);
        let max = u32::try_from(params.max_challenge_window()).unwrap();
        assert_eq!(max, 47 * 3_600);
        assert_eq!(params.check_timing(max), Ok(()));
        let err = params.check_timing(max + 1).unwrap_err();
        assert_eq!(
            err,
            TimingError {
                rule: "faultWindow<=signerRotation",
                lhs: 3 * 86_400 + 1,
                rhs: 3 * 86_400
            }
        );
    }

    #[test]
    fn unbonding_shorter_than_fault_ruling_and_veto_is_refused() {
        let params = DeployParams {
            unbonding_delay: 3 * 86_400,
            ..DeployParams::local(DEPLOYER)
        };
        let err = params.check_timing(600).unwrap_err();
        assert_eq!(err.rule, "fault+ruling+veto<unbonding");
        // R is the longest referee game (36 moves of 1 hour + 1 s), longer than the vote (4,200 s).
        assert_eq!(err.lhs, 90_600 + 129_601 + 172_800);
    }

    #[test]
    fn deploy_timing_check_applies_each_deploy_suite_rule() {
        let ok = DeployParams::production(DEPLOYER);
        assert_eq!(DeployPlan::new(&ok, 0).check(), Ok(()));
        // Rule 1 counts the keeper margin: 7 days of unbonding leave room for at most ~1.4 days of
        // margin with the defaults (R is the longest referee game, 36 hours + 1 s).
        let margin = DeployParams {
            execution_margin: 3 * 86_400,
            ..ok.clone()
        };
        let e = margin.check_deploy_timing().unwrap_err();
        assert_eq!(e.rule, "fault+ruling+veto+margin<unbond");
        assert_eq!(e.lhs, 176_400 + 129_601 + 172_800 + 259_200);
        // Rule 2: 51 blocks of 1 hour plus the timelock delay exceed the 2-day veto window.
        let slow = DeployParams {
            block_time: 3_600,
            ..ok.clone()
        };
        let e = slow.check_deploy_timing().unwrap_err();
        assert_eq!(
            (e.rule, e.lhs, e.rhs),
            ("vetoLatency<vetoWindow", 51 * 3_600 + 3_600, 172_800)
        );
        // Rule 3: a declared window of 2 days makes F = 3 days 1 hour > the 3-day rotation delay
        // (with unbonding long enough for rule 1).
        let wide = DeployParams {
            max_challenge_window: 2 * 86_400,
            unbonding_delay: 14 * 86_400,
            ..ok.clone()
        };
        let e = wide.check_deploy_timing().unwrap_err();
        assert_eq!((e.rule, e.lhs), ("faultWindow<=signerRotation", 262_800));
        assert_eq!(DeployPlan::new(&wide, 0).check(), Err(PlanError::Timing(e)));
        let foreign_admin = DeployParams {
            admin: Address::repeat_byte(1),
            ..ok
        };
        assert!(matches!(
            DeployPlan::new(&foreign_admin, 0).check(),
            Err(PlanError::AdminNotDeployer { .. })
        ));
    }

    #[test]
    fn serialized_params_without_new_fields_default_to_local_and_deploy_suite_defaults() {
        let mut v = serde_json::to_value(DeployParams::production(DEPLOYER)).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in [
            "handover",
            "max_challenge_window",
            "execution_margin",
            "block_time",
            "salt",
        ] {
            o.remove(k);
        }
        let back: DeployParams = serde_json::from_value(v).unwrap();
        assert!(!back.handover);
        assert_eq!(
            (
                back.max_challenge_window,
                back.execution_margin,
                back.block_time,
                back.salt
            ),
            (86_400, 86_400, 12, None)
        );
    }
}
