//! The deployment plan: an ordered, pure list of create and call steps that deploys and wires the
//! verinfer suite. The simulator executes it in memory (`verinfer_sim::Sim::deploy`); the keeper/CLI can
//! send the very same steps over JSON-RPC (each step is just `to`/`data` from the deployer).
//!
//! Contract addresses are derived from the deployer's nonce (`CREATE`), so the plan knows every
//! address before anything is sent and can pass later contracts' addresses to earlier ones' wiring.
//!
//! Order (canonical, names as in `script/DeploySuite.sol`): VerinferToken -> Staking -> Slasher ->
//! InferenceRegistry -> IdentityRegistry -> QuadraticVotes -> TimelockController -> VerinferGovernor
//! -> DisputeGovernor, then the one-time wiring calls:
//! `Staking.wire(slasher, quadraticVotes, registry)`, `Slasher.wire(registry, timelock)`,
//! `InferenceRegistry.wire(disputeGovernor)`, `IdentityRegistry.wire(quadraticVotes)`,
//! `DisputeGovernor.wire(registry)`. The governor gets the timelock's proposer and canceller roles
//! through the timelock constructor (its address is known in advance); anyone may execute.
//!
//! The Slasher's governance is the **timelock**, not the DisputeGovernor: a `WrongResult` slash is
//! requested by the registry once a dispute ruling is applied, and the only way to stop it is
//! `Slasher.vetoSlash` by governance before its veto window (2 days by default) ends. The timelock
//! executes VerinferGovernor proposals, so a veto needs `votingDelay + votingPeriod` blocks plus the
//! timelock delay, which the local parameters keep well inside the window. The DisputeGovernor has no
//! veto path at all (it only rules on disputes), so it could never stop a slash in time.
//!
//! **Admin hand-over.** With [`DeployParams::local`] the deployer stays admin of everything (the
//! simulator, the devnet and tests register models and tune parameters directly). With
//! [`DeployParams::production`] (`handover = true`) the plan ends exactly like
//! `script/DeploySuite.sol`'s `_handOver`: for Staking, Slasher, InferenceRegistry, IdentityRegistry
//! and DisputeGovernor, `grantRole(DEFAULT_ADMIN_ROLE, timelock)` then
//! `renounceRole(DEFAULT_ADMIN_ROLE, deployer)`; `VerinferToken.transferOwnership(timelock)`; and
//! finally `TimelockController.renounceRole(DEFAULT_ADMIN_ROLE, deployer)` — 12 more transactions.
//! Afterwards every admin setter is reachable only through a VerinferGovernor proposal executed by
//! the timelock, and the deployer holds no role.
//!
//! ```
//! use alloy::primitives::address;
//! use verinfer_deploy::plan::{DeployParams, DeployPlan};
//!
//! let params = DeployParams::local(address!("00000000000000000000000000000000000000d0"));
//! let plan = DeployPlan::new(&params, 0);
//! assert_eq!(plan.address("Staking"), Some(params.deployer.create(1)));
//! assert_eq!(plan.address("DisputeGovernor"), Some(params.deployer.create(8)));
//! assert_eq!(plan.steps.len(), 14);
//!
//! let production = DeployParams::production(params.deployer);
//! let handed_over = DeployPlan::new(&production, 0);
//! assert_eq!(handed_over.steps.len(), 14 + 12);
//! assert_eq!(handed_over.steps.last().unwrap().label, "TimelockController.renounceRole(admin)");
//! ```

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, Bytes, B256, U256},
    sol_types::{SolCall, SolConstructor},
};
use serde::{Deserialize, Serialize};
use verinfer_bindings::{
    units::TOKEN, DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Slasher,
    Staking, TimelockController, VerinferGovernor, VerinferToken,
};

/// OpenZeppelin `AccessControl.DEFAULT_ADMIN_ROLE` (`0x00`), the role handed to the timelock.
pub const DEFAULT_ADMIN_ROLE: B256 = B256::ZERO;

/// `InferenceRegistry.MAX_TTL`: the longest time-to-live of a request, seconds.
pub const MAX_REQUEST_TTL: u64 = 86_400;

/// The registry's batch window at deployment (`InferenceRegistry.batchWindow`), seconds.
pub const BATCH_WINDOW: u64 = 3_600;

/// The Slasher's default `WrongResult` veto window at deployment, seconds.
pub const WRONG_RESULT_VETO_WINDOW: u64 = 2 * 86_400;

/// A cross-contract timing invariant does not hold for a set of [`DeployParams`]: the deployed
/// contracts would revert with `TimingInvariantViolated(rule, lhs, rhs)` (`Slasher.checkTiming`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timing invariant `{rule}` does not hold: {lhs} s against {rhs} s")]
pub struct TimingError {
    /// The rule, named as the contracts name it (`fault+ruling+veto<unbonding`,
    /// `faultWindow<=signerRotation`).
    pub rule: &'static str,
    /// Its left-hand side, seconds.
    pub lhs: u64,
    /// Its right-hand side, seconds.
    pub rhs: u64,
}

/// Parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployParams {
    /// The account that sends every step (its nonce decides the addresses).
    pub deployer: Address,
    /// Holder of the admin roles (the timelock in production; the deployer in tests and the simulator).
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
    /// Slasher sink (zero = burn) and registry treasury (zero = the timelock).
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
    /// Append the hand-over steps of `script/DeploySuite.sol`: every admin role (and the token's
    /// ownership) goes to the timelock and the deployer renounces its own. Needs `admin == deployer`
    /// (the deployer sends the grants and renounces). Absent in older serialized params = `false`.
    #[serde(default)]
    pub handover: bool,
    /// `VerinferGovernor` proposal threshold in voice units (proposals to the suite need twice it).
    /// `DeploySuite` uses the voice of one minimum operator stake (`sqrt(minOperatorStake)`); local
    /// deployments use 0. Absent in older serialized params = 0.
    #[serde(default)]
    pub proposal_threshold: U256,
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
            handover: false,
            proposal_threshold: U256::ZERO,
        }
    }

    /// The registry's fault window F for models whose challenge windows are at most
    /// `max_challenge_window` seconds: request TTL + challenge window + batch window
    /// (`InferenceRegistry.faultWindow()` at the deployment's batch window).
    pub fn fault_window(max_challenge_window: u32) -> u64 {
        MAX_REQUEST_TTL + u64::from(max_challenge_window) + BATCH_WINDOW
    }

    /// R: the longest time from a dispute's opening until its ruling can be applied, the dispute
    /// voting period plus the timelock delay (`DisputeGovernor.maxRulingDelay()`).
    pub fn ruling_delay(&self) -> u64 {
        u64::from(self.dispute_voting_period) + self.timelock_delay
    }

    /// Checks the rules `Slasher.checkTiming` enforces (docs/slashing.md, "Timing invariants") once a
    /// model with challenge window `max_challenge_window` is registered, with the deployment's batch
    /// window and `WrongResult` veto window V: F + R + V < unbonding delay, and F <= signer rotation
    /// delay. `registerModel` reverts exactly when this fails.
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
            ..local
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StepKind {
    /// `CREATE` of `contract` with `init_code` (creation bytecode ++ constructor args).
    Create {
        /// Contract name in the bindings.
        contract: String,
        /// Creation code with the ABI-encoded constructor arguments appended.
        init_code: Bytes,
        /// Address the create will produce (from the deployer's nonce).
        address: Address,
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
    /// `to` (None for a create) and calldata, as sent by the deployer.
    pub fn tx(&self) -> (Option<Address>, &Bytes) {
        match &self.kind {
            StepKind::Create { init_code, .. } => (None, init_code),
            StepKind::Call { to, data, .. } => (Some(*to), data),
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
}

impl DeployPlan {
    /// Plans a deployment from `params.deployer` whose next nonce is `start_nonce`.
    pub fn new(params: &DeployParams, start_nonce: u64) -> Self {
        let mut b = Builder {
            deployer: params.deployer,
            nonce: start_nonce,
            steps: Vec::new(),
            addresses: BTreeMap::new(),
        };

        let token = b.create(
            "VerinferToken",
            &VerinferToken::BYTECODE,
            VerinferToken::constructorCall {
                name_: "Verinfer".into(),
                symbol_: "VFR".into(),
                admin: params.admin,
                initialSupply: params.initial_supply,
            }
            .abi_encode(),
        );
        let staking = b.create(
            "Staking",
            &Staking::BYTECODE,
            Staking::constructorCall {
                token_: token,
                admin: params.admin,
                minOperatorStake_: params.min_operator_stake,
                unbondingDelay_: alloy::primitives::aliases::U48::from(params.unbonding_delay),
                signerRotationDelay_: alloy::primitives::aliases::U48::from(
                    params.signer_rotation_delay,
                ),
            }
            .abi_encode(),
        );
        let slasher = b.create(
            "Slasher",
            &Slasher::BYTECODE,
            Slasher::constructorCall {
                staking_: staking,
                admin: params.admin,
                treasury_: params.treasury,
            }
            .abi_encode(),
        );
        // Addresses of the contracts still to come (CREATE from the deployer's next nonces).
        let registry_addr = b.next_address(0);
        let votes_addr = b.next_address(2);
        let timelock_addr = b.next_address(3);
        let governor_addr = b.next_address(4);
        let registry_treasury = if params.treasury.is_zero() {
            timelock_addr
        } else {
            params.treasury
        };
        let registry = b.create(
            "InferenceRegistry",
            &InferenceRegistry::BYTECODE,
            InferenceRegistry::constructorCall {
                staking_: staking,
                slasher_: slasher,
                treasury_: registry_treasury,
                admin: params.admin,
            }
            .abi_encode(),
        );
        let identity = b.create(
            "IdentityRegistry",
            &IdentityRegistry::BYTECODE,
            IdentityRegistry::constructorCall {
                admin: params.admin,
            }
            .abi_encode(),
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
        // The governor proposes and cancels; anyone executes; the admin keeps the timelock admin role
        // locally (production hands every admin role to the timelock itself).
        let timelock = b.create(
            "TimelockController",
            &TimelockController::BYTECODE,
            TimelockController::constructorCall {
                minDelay: U256::from(params.timelock_delay),
                proposers: vec![governor_addr],
                executors: vec![Address::ZERO],
                admin: params.admin,
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
                    votingDelay: alloy::primitives::aliases::U48::from(params.voting_delay),
                    votingPeriod: params.voting_period,
                    proposalThreshold: params.proposal_threshold,
                    lateQuorumExtension: alloy::primitives::aliases::U48::ZERO,
                    quorumBps: params.quorum_bps,
                    delegateCapBps: params.delegate_cap_bps,
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
                admin: params.admin,
                votingPeriod_: params.dispute_voting_period,
                quorumBps_: params.quorum_bps,
                delegateCapBps_: params.delegate_cap_bps,
            }
            .abi_encode(),
        );
        debug_assert_eq!(
            (registry, votes, timelock, governor),
            (registry_addr, votes_addr, timelock_addr, governor_addr)
        );

        // Wiring (admin-only one-time setters; the deployer is the admin in local deployments). Staking is
        // wired last, as in `DeploySuite`: no voice exists before every link the governor follows to find
        // its governance targets is in place.
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
        if params.handover {
            b.hand_over(
                params.deployer,
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
            deployer: params.deployer,
            start_nonce,
            steps: b.steps,
            addresses: b.addresses,
        }
    }

    /// The planned address of `contract`.
    pub fn address(&self, contract: &str) -> Option<Address> {
        self.addresses.get(contract).copied()
    }
}

struct Builder {
    deployer: Address,
    nonce: u64,
    steps: Vec<Step>,
    addresses: BTreeMap<String, Address>,
}

impl Builder {
    /// The address the `n`-th next step (0 = the next one) would create.
    fn next_address(&self, n: u64) -> Address {
        self.deployer.create(self.nonce + n)
    }

    fn create(&mut self, contract: &str, code: &Bytes, args: Vec<u8>) -> Address {
        let address = self.deployer.create(self.nonce);
        self.nonce += 1;
        let mut init = code.to_vec();
        init.extend_from_slice(&args);
        self.steps.push(Step {
            label: format!("create {contract}"),
            kind: StepKind::Create {
                contract: contract.to_owned(),
                init_code: init.into(),
                address,
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
    fn local_plan_keeps_the_deployer_as_admin_and_has_no_handover_steps() {
        let plan = DeployPlan::new(&DeployParams::local(DEPLOYER), 0);
        assert_eq!(plan.steps.len(), 14);
        assert!(plan
            .steps
            .iter()
            .all(|s| !s.label.contains("grantRole") && !s.label.contains("renounceRole")));
    }

    #[test]
    fn production_plan_hands_every_admin_role_to_the_timelock_like_deploy_suite() {
        let params = DeployParams::production(DEPLOYER);
        assert!(params.handover);
        let plan = DeployPlan::new(&params, 7);
        assert_eq!(plan.steps.len(), 26);
        // The first 14 steps are the same plan without the hand-over (same addresses: it only appends).
        let local = DeployPlan::new(
            &DeployParams {
                handover: false,
                ..params.clone()
            },
            7,
        );
        assert_eq!(plan.steps[..14], local.steps[..]);
        assert_eq!(plan.addresses, local.addresses);
        let timelock = plan.address("TimelockController").unwrap();
        let handover = &plan.steps[14..];
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
        assert_eq!(err.lhs, 90_600 + 4_200 + 172_800);
    }

    #[test]
    fn serialized_params_without_handover_default_to_local() {
        let mut v = serde_json::to_value(DeployParams::production(DEPLOYER)).unwrap();
        v.as_object_mut().unwrap().remove("handover");
        let back: DeployParams = serde_json::from_value(v).unwrap();
        assert!(!back.handover);
    }
}
