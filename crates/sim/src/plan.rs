//! The deployment plan: an ordered, pure list of create and call steps that deploys and wires the
//! verinfer suite. The simulator executes it in memory ([`crate::Sim::deploy`]); the keeper/CLI can
//! send the very same steps over JSON-RPC (each step is just `to`/`data` from the deployer).
//!
//! Contract addresses are derived from the deployer's nonce (`CREATE`), so the plan knows every
//! address before anything is sent and can pass later contracts' addresses to earlier ones' wiring.
//!
//! Order (see the common architecture notes): token -> Staking -> Slasher -> (InferenceRegistry ->
//! QuadraticVotes/Identity -> Timelock + Governor -> DisputeGovernor, once those contracts land) ->
//! wiring calls. Only contracts present in the bindings are planned.
//!
//! ```
//! use alloy::primitives::address;
//! use verinfer_sim::plan::{DeployParams, DeployPlan};
//!
//! let params = DeployParams::local(address!("00000000000000000000000000000000000000d0"));
//! let plan = DeployPlan::new(&params, 0);
//! assert_eq!(plan.address("Staking"), Some(params.deployer.create(1)));
//! assert!(plan.steps.len() >= 4);
//! ```

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, Bytes, U256},
    sol_types::{SolCall, SolConstructor},
};
use serde::{Deserialize, Serialize};
use verinfer_bindings::{Slasher, Staking, VerinferToken};

/// One wei-denominated token unit (18 decimals).
pub const TOKEN: u128 = 1_000_000_000_000_000_000;

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
    /// `Staking.signerRotationDelay` in seconds (1 hour ..= 30 days).
    pub signer_rotation_delay: u64,
    /// Slasher sink (zero = burn).
    pub treasury: Address,
    /// Account allowed to request slashes as "the registry" until `InferenceRegistry` is deployed
    /// (the simulator uses the deployer).
    pub registry_stand_in: Address,
    /// Governance executor of the Slasher (requests and vetoes subjective slashes).
    pub governance: Address,
}

impl DeployParams {
    /// Local/test defaults: the deployer is admin, governance and registry stand-in; 1e9 tokens.
    pub fn local(deployer: Address) -> Self {
        Self {
            deployer,
            admin: deployer,
            initial_supply: U256::from(1_000_000_000u128 * TOKEN),
            min_operator_stake: U256::from(1_000u128 * TOKEN),
            unbonding_delay: 7 * 86_400,
            signer_rotation_delay: 3_600,
            treasury: Address::ZERO,
            registry_stand_in: deployer,
            governance: deployer,
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
        // Wiring (admin-only one-time setters; the deployer is the admin in local deployments).
        b.call(
            "Staking",
            "Staking.wire",
            staking,
            Staking::wireCall {
                slasher_: slasher,
                accountObserver_: Address::ZERO,
                operatorObserver_: Address::ZERO,
            }
            .abi_encode(),
        );
        b.call(
            "Slasher",
            "Slasher.wire",
            slasher,
            Slasher::wireCall {
                registry_: params.registry_stand_in,
                governance_: params.governance,
            }
            .abi_encode(),
        );
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
