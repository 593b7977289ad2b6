//! The one executor of a [`DeployPlan`] over JSON-RPC (anvil, a testnet): checks the plan, sends every
//! step in order with explicit nonces, polls each receipt with a deadline (never alloy's unbounded
//! `get_receipt()`), waits for the configured confirmations, journals progress for resume, and
//! produces the [`Manifest`] with verification metadata.
//!
//! The provider must be able to send from `plan.deployer`: a wallet-filled provider (alloy's filler
//! stack), or a node with the account unlocked (anvil's dev accounts).
//!
//! **Resume.** With [`DeployOptions::root`] set, progress goes to `deployments/<chainId>.partial.json`
//! ([`Journal`]). A run that finds a journal continues it: it refuses a journal for another plan
//! (other parameters, start nonce or bytecode) or chain, verifies on chain that every journaled step
//! landed (successful receipt, code at the created address), waits for a journaled transaction that is
//! still pending, re-sends one the node dropped, and sends the rest. Build the plan with the journal's
//! start nonce ([`resume_nonce`]).
//!
//! **Dry run.** [`estimate`] executes the whole plan with `eth_simulateV1` (one simulated block per
//! step, state carried over, nothing sent) and prices the gas at the node's current fees.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::{Address, Bytes, B256, U256},
    providers::Provider,
    rpc::types::{
        simulate::{SimBlock, SimulatePayload},
        state::{AccountOverride, StateOverride},
        TransactionReceipt, TransactionRequest,
    },
    sol_types::SolCall,
    transports::TransportError,
};
use verinfer_bindings::Slasher;

use crate::{
    journal::{Journal, JournalEntry, JournalError},
    manifest::{Deployment, Manifest, ManifestError},
    plan::{DeployPlan, PlanError, StepKind, CREATE2_FACTORY},
    verification::{self, CompilerSettings, SettingsError},
};

/// A deployment could not be (or was not completely) executed. Every variant that follows a sent
/// transaction leaves the journal in place, so running again resumes.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The plan's parameters fail a deployment check; nothing was sent.
    #[error("the plan is refused before sending anything: {0}")]
    Plan(#[from] PlanError),
    /// The node refused or failed a request.
    #[error("deployment step `{step}`: RPC error: {source}")]
    Rpc {
        /// Plan step label (or the request, e.g. `chainId`).
        step: String,
        /// The transport or node error.
        #[source]
        source: TransportError,
    },
    /// The transaction was mined but reverted.
    #[error("deployment step `{step}` reverted in transaction {tx}")]
    Reverted {
        /// Plan step label.
        step: String,
        /// The transaction.
        tx: B256,
    },
    /// The creation produced another address than planned, or no code.
    #[error("deployment step `{step}`: planned {planned}, but {found}")]
    WrongAddress {
        /// Plan step label.
        step: String,
        /// The planned address.
        planned: Address,
        /// What the chain shows instead.
        found: String,
    },
    /// The deployer's nonce is not the one the plan was made for (and no journal explains it).
    #[error("deployer {deployer} has nonce {actual}, the plan starts at {planned}: re-plan with the current nonce")]
    Nonce {
        /// The deployer.
        deployer: Address,
        /// Its nonce on chain.
        actual: u64,
        /// The plan's start nonce.
        planned: u64,
    },
    /// A `CREATE2` plan on a chain without the deterministic-deployment proxy.
    #[error("no code at the CREATE2 factory {factory} on this chain: deploy without --salt, or deploy the proxy first (https://github.com/Arachnid/deterministic-deployment-proxy)")]
    NoFactory {
        /// The proxy address.
        factory: Address,
    },
    /// A planned `CREATE2` address already holds code that is not the journaled deployment's.
    #[error("deployment step `{step}`: {address} already holds code (this salt was used before: pick another --salt, or check it with `verinfer deploy verify`)")]
    AlreadyDeployed {
        /// Plan step label.
        step: String,
        /// The occupied address.
        address: Address,
    },
    /// No receipt (or not enough confirmations) before the deadline; the transaction may still land.
    #[error("deployment step `{step}`: transaction {tx} not confirmed within {waited:?}; run again to resume")]
    Timeout {
        /// Plan step label.
        step: String,
        /// The transaction.
        tx: B256,
        /// How long we waited.
        waited: Duration,
    },
    /// The node no longer knows the transaction and its nonce is still free (evicted from the
    /// mempool, e.g. underpriced). Running again re-sends it.
    #[error("deployment step `{step}`: transaction {tx} (nonce {nonce}) was dropped by the node; run again to re-send it")]
    Dropped {
        /// Plan step label.
        step: String,
        /// The transaction.
        tx: B256,
        /// Its nonce.
        nonce: u64,
    },
    /// Another transaction from the deployer took the step's nonce: the plan cannot continue as
    /// planned (later `CREATE` addresses would differ).
    #[error("deployment step `{step}`: nonce {nonce} was used by another transaction than {tx} (sent from the same key elsewhere?); this plan cannot continue: remove the journal and deploy again")]
    Replaced {
        /// Plan step label.
        step: String,
        /// Our transaction.
        tx: B256,
        /// The nonce.
        nonce: u64,
    },
    /// The journal belongs to another plan.
    #[error("{path} is for plan {journal} (another parameter set, start nonce or bytecode) but this run plans {plan}; refusing to resume a different plan: deploy with the journal's settings, or remove it to start over")]
    PlanMismatch {
        /// The journal.
        path: PathBuf,
        /// Its plan hash.
        journal: B256,
        /// This run's plan hash.
        plan: B256,
    },
    /// The journal belongs to another chain.
    #[error("{path} is for chain {journal}, connected to chain {chain}")]
    ChainMismatch {
        /// The journal.
        path: PathBuf,
        /// The journal's chain.
        journal: u64,
        /// The connected chain.
        chain: u64,
    },
    /// A journaled step did not land on this chain (a restarted devnet, another node).
    #[error("journaled step `{step}` ({tx}) is not on this chain: {reason}; remove the journal to start over")]
    NotOnChain {
        /// Plan step label.
        step: String,
        /// The journaled transaction.
        tx: B256,
        /// What is missing.
        reason: String,
    },
    /// The deployer's nonce moved past the journal: a step was sent but not journaled (killed between
    /// send and write), or the key was used elsewhere.
    #[error("deployer nonce is {actual} but the journal accounts for {journaled}: a transaction was sent without being journaled; inspect the deployer's transactions, then remove the journal to start over")]
    Unjournaled {
        /// Nonce on chain.
        actual: u64,
        /// Nonce the journal accounts for.
        journaled: u64,
    },
    /// After the last step, `Slasher.checkTiming()` reverts on the deployed suite.
    #[error("the deployed suite fails Slasher.checkTiming(): {source}")]
    TimingRejected {
        /// The call's error (the revert).
        #[source]
        source: TransportError,
    },
    /// `eth_simulateV1` (dry run) reported a failed step.
    #[error("dry run: step `{step}` would fail: {message}")]
    WouldFail {
        /// Plan step label.
        step: String,
        /// The node's description of the failure.
        message: String,
    },
    /// Reading or writing the journal.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Writing the manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Reading the compiler settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl DeployError {
    /// Whether the node refused a creation for exceeding the EIP-170 code size limit (anvil:
    /// `CreateContractSizeLimit`; start it with `--disable-code-size-limit` to deploy anyway).
    pub fn exceeds_code_size_limit(&self) -> bool {
        match self {
            DeployError::Rpc { source, .. } => {
                source.to_string().contains("CreateContractSizeLimit")
            }
            DeployError::WouldFail { message, .. } => message.contains("CreateContractSizeLimit"),
            _ => false,
        }
    }
}

/// The error type of [`deploy_over_rpc`] (kept for its callers).
pub type RpcDeployError = DeployError;

/// How to wait and where to journal.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// Confirmations to wait for (1 = included in a block; 0 is treated as 1).
    pub confirmations: u64,
    /// Wait for the confirmations after every step (`true`) or only after the last one (`false`;
    /// every step still waits for its inclusion, since the next one depends on it).
    pub confirm_each_step: bool,
    /// Interval between receipt polls.
    pub poll_interval: Duration,
    /// Deadline per step, from sending until its confirmations.
    pub step_timeout: Duration,
    /// How long the node may not know a sent transaction (whose nonce is still free) before it is
    /// declared dropped: load-balanced RPCs briefly miss fresh transactions, and a transaction
    /// replaced in the mempool looks dropped until its replacement is mined.
    pub dropped_after: Duration,
    /// Repository root: journal to `deployments/<chainId>.partial.json` and write the manifest to
    /// `deployments/<chainId>.json` (then remove the journal). `None`: no journal, no file.
    pub root: Option<PathBuf>,
}

impl Default for DeployOptions {
    fn default() -> Self {
        Self {
            confirmations: 1,
            confirm_each_step: true,
            poll_interval: Duration::from_millis(200),
            step_timeout: Duration::from_secs(120),
            dropped_after: Duration::from_secs(10),
            root: None,
        }
    }
}

/// One executed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// Plan step label.
    pub label: String,
    /// The transaction.
    pub tx_hash: B256,
    /// Its block.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Price paid per gas, wei.
    pub effective_gas_price: u128,
    /// Whether a previous (journaled) run sent it.
    pub resumed: bool,
}

/// A completed deployment.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The manifest (with its `deployment` record).
    pub manifest: Manifest,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
    /// Where the manifest was written, if [`DeployOptions::root`] was set.
    pub manifest_path: Option<PathBuf>,
}

/// The start nonce of the deployment journaled under `root` for `chain_id`, if one is in progress: a
/// resumed plan must be built with it.
pub fn resume_nonce(root: &std::path::Path, chain_id: u64) -> Result<Option<u64>, JournalError> {
    Ok(Journal::load(&Journal::path(root, chain_id))?.map(|j| j.start_nonce))
}

/// Sends every step of `plan` in order with the default options (1 confirmation, no journal) and
/// returns the manifest.
pub async fn deploy_over_rpc<P: Provider<Ethereum>>(
    provider: &P,
    plan: &DeployPlan,
) -> Result<Manifest, DeployError> {
    Ok(Executor::new(provider, DeployOptions::default())
        .deploy(plan)
        .await?
        .manifest)
}

fn rpc(step: &str) -> impl FnOnce(TransportError) -> DeployError + '_ {
    move |source| DeployError::Rpc {
        step: step.to_owned(),
        source,
    }
}

/// The executor: a provider and its options.
#[derive(Debug)]
pub struct Executor<'a, P> {
    provider: &'a P,
    opts: DeployOptions,
}

impl<'a, P: Provider<Ethereum>> Executor<'a, P> {
    /// An executor over `provider`.
    pub fn new(provider: &'a P, opts: DeployOptions) -> Self {
        Self { provider, opts }
    }

    /// Checks, sends (or resumes) and confirms `plan`; see the module documentation.
    pub async fn deploy(&self, plan: &DeployPlan) -> Result<Deployed, DeployError> {
        plan.check()?;
        let compiler = CompilerSettings::of_this_build()?;
        let p = self.provider;
        let chain_id = p.get_chain_id().await.map_err(rpc("chainId"))?;
        let journal_path = self.opts.root.as_ref().map(|r| Journal::path(r, chain_id));
        let plan_hash = plan.hash();
        let existing = match &journal_path {
            Some(path) => Journal::load(path)?,
            None => None,
        };
        if let (Some(j), Some(path)) = (&existing, &journal_path) {
            if j.chain_id != chain_id {
                return Err(DeployError::ChainMismatch {
                    path: path.clone(),
                    journal: j.chain_id,
                    chain: chain_id,
                });
            }
            if j.plan_hash != plan_hash {
                return Err(DeployError::PlanMismatch {
                    path: path.clone(),
                    journal: j.plan_hash,
                    plan: plan_hash,
                });
            }
        }
        if plan.params.salt.is_some()
            && p.get_code_at(CREATE2_FACTORY)
                .await
                .map_err(rpc("factory code"))?
                .is_empty()
        {
            return Err(DeployError::NoFactory {
                factory: CREATE2_FACTORY,
            });
        }
        let latest = p
            .get_transaction_count(plan.deployer)
            .await
            .map_err(rpc("nonce"))?;
        let mut journal = match existing {
            Some(j) => j,
            None => {
                if latest != plan.start_nonce {
                    return Err(DeployError::Nonce {
                        deployer: plan.deployer,
                        actual: latest,
                        planned: plan.start_nonce,
                    });
                }
                Journal {
                    chain_id,
                    plan_hash,
                    start_nonce: plan.start_nonce,
                    params: plan.params.clone(),
                    steps: Vec::new(),
                }
            }
        };
        let save = |j: &Journal| -> Result<(), DeployError> {
            if let Some(path) = &journal_path {
                j.save(path)?;
            }
            Ok(())
        };
        save(&journal)?;

        // Journaled steps: verify the landed ones, wait for pending ones, drop the dropped ones.
        let mut reports: Vec<StepReport> = Vec::new();
        let journaled = std::mem::take(&mut journal.steps);
        for entry in journaled {
            let step = &plan.steps[entry.index];
            let nonce = plan.start_nonce + entry.index as u64;
            let receipt = p
                .get_transaction_receipt(entry.tx_hash)
                .await
                .map_err(rpc(&step.label))?;
            let receipt = match receipt {
                Some(r) => r,
                None => {
                    let known = p
                        .get_transaction_by_hash(entry.tx_hash)
                        .await
                        .map_err(rpc(&step.label))?;
                    if entry.block.is_some() {
                        return Err(DeployError::NotOnChain {
                            step: step.label.clone(),
                            tx: entry.tx_hash,
                            reason: format!(
                                "it was journaled as mined in block {}, but this chain has no receipt for it",
                                entry.block.unwrap_or_default()
                            ),
                        });
                    }
                    if known.is_none() {
                        if latest > nonce {
                            return Err(DeployError::NotOnChain {
                                step: step.label.clone(),
                                tx: entry.tx_hash,
                                reason: format!(
                                    "no receipt and the node does not know it, yet nonce {nonce} is used"
                                ),
                            });
                        }
                        // Dropped before inclusion: re-sent below.
                        break;
                    }
                    journal.steps.push(JournalEntry {
                        block: None,
                        ..entry.clone()
                    });
                    save(&journal)?;
                    self.wait(
                        plan,
                        entry.index,
                        entry.tx_hash,
                        self.confirmations_for(plan, entry.index),
                    )
                    .await?
                }
            };
            let report = self.accept(plan, entry.index, &receipt, true).await?;
            journal.steps.retain(|e| e.index != entry.index);
            journal.steps.push(JournalEntry {
                block: Some(report.block),
                ..entry
            });
            reports.push(report);
        }
        save(&journal)?;
        let next = reports.len();
        let nonce_now = p
            .get_transaction_count(plan.deployer)
            .await
            .map_err(rpc("nonce"))?;
        if nonce_now > plan.start_nonce + next as u64 {
            return Err(DeployError::Unjournaled {
                actual: nonce_now,
                journaled: plan.start_nonce + next as u64,
            });
        }

        for i in next..plan.steps.len() {
            let step = &plan.steps[i];
            if let StepKind::Create {
                address,
                salt: Some(_),
                ..
            } = &step.kind
            {
                let code = p.get_code_at(*address).await.map_err(rpc(&step.label))?;
                if !code.is_empty() {
                    return Err(DeployError::AlreadyDeployed {
                        step: step.label.clone(),
                        address: *address,
                    });
                }
            }
            let (to, data) = step.tx();
            let mut tx = TransactionRequest::default()
                .with_from(plan.deployer)
                .with_input(data)
                .with_nonce(plan.start_nonce + i as u64);
            tx = match to {
                Some(to) => tx.with_to(to),
                None => tx.into_create(),
            };
            let hash = *p
                .send_transaction(tx)
                .await
                .map_err(rpc(&step.label))?
                .tx_hash();
            journal.steps.push(JournalEntry {
                index: i,
                label: step.label.clone(),
                tx_hash: hash,
                block: None,
            });
            save(&journal)?;
            let receipt = self
                .wait(plan, i, hash, self.confirmations_for(plan, i))
                .await?;
            let report = self.accept(plan, i, &receipt, false).await?;
            if let Some(last) = journal.steps.last_mut() {
                last.block = Some(report.block);
            }
            save(&journal)?;
            reports.push(report);
        }

        // The wired suite must satisfy the on-chain timing rules too.
        if let Some(slasher) = plan.address("Slasher") {
            let call = TransactionRequest::default()
                .with_to(slasher)
                .with_input(Slasher::checkTimingCall {}.abi_encode());
            p.call(call)
                .await
                .map_err(|source| DeployError::TimingRejected { source })?;
        }

        let mut verification = verification::of_plan(plan);
        for (step, report) in plan.steps.iter().zip(&reports) {
            if let Some((name, _)) = step.created() {
                if let Some(v) = verification.get_mut(name) {
                    v.tx_hash = Some(report.tx_hash);
                }
            }
        }
        let first = reports.first().map_or(0, |r| r.block);
        let last = reports.last().map_or(0, |r| r.block);
        let manifest = Manifest {
            chain_id,
            block: first,
            contracts: plan.addresses.clone(),
            deployment: Some(Deployment {
                deployer: plan.deployer,
                params: plan.params.clone(),
                start_nonce: plan.start_nonce,
                plan_hash,
                last_block: last,
                compiler,
                verification,
            }),
        };
        let manifest_path = match (&self.opts.root, &journal_path) {
            (Some(root), Some(jpath)) => {
                let path = Manifest::default_path(root, chain_id);
                manifest.save(&path)?;
                Journal::remove(jpath)?;
                Some(path)
            }
            _ => None,
        };
        Ok(Deployed {
            manifest,
            steps: reports,
            manifest_path,
        })
    }

    fn confirmations_for(&self, plan: &DeployPlan, index: usize) -> u64 {
        let n = self.opts.confirmations.max(1);
        if self.opts.confirm_each_step || index + 1 == plan.steps.len() {
            n
        } else {
            1
        }
    }

    /// Checks a landed step: success, and for a creation the planned address holds code.
    async fn accept(
        &self,
        plan: &DeployPlan,
        index: usize,
        receipt: &TransactionReceipt,
        resumed: bool,
    ) -> Result<StepReport, DeployError> {
        let step = &plan.steps[index];
        if !receipt.status() {
            return Err(DeployError::Reverted {
                step: step.label.clone(),
                tx: receipt.transaction_hash,
            });
        }
        if let StepKind::Create { address, salt, .. } = &step.kind {
            if salt.is_none() && receipt.contract_address != Some(*address) {
                return Err(DeployError::WrongAddress {
                    step: step.label.clone(),
                    planned: *address,
                    found: format!("the transaction created {:?}", receipt.contract_address),
                });
            }
            let code = self
                .provider
                .get_code_at(*address)
                .await
                .map_err(rpc(&step.label))?;
            if code.is_empty() {
                return Err(if resumed {
                    DeployError::NotOnChain {
                        step: step.label.clone(),
                        tx: receipt.transaction_hash,
                        reason: format!("no code at {address}"),
                    }
                } else {
                    DeployError::WrongAddress {
                        step: step.label.clone(),
                        planned: *address,
                        found: "there is no code there".into(),
                    }
                });
            }
        }
        Ok(StepReport {
            label: step.label.clone(),
            tx_hash: receipt.transaction_hash,
            block: receipt.block_number.unwrap_or_default(),
            gas_used: receipt.gas_used,
            effective_gas_price: receipt.effective_gas_price,
            resumed,
        })
    }

    /// Polls the receipt of step `index` (`hash`) until it has `confirmations` confirmations and is
    /// still canonical, telling a dropped transaction from one whose nonce another took.
    async fn wait(
        &self,
        plan: &DeployPlan,
        index: usize,
        hash: B256,
        confirmations: u64,
    ) -> Result<TransactionReceipt, DeployError> {
        let p = self.provider;
        let label = &plan.steps[index].label;
        let nonce = plan.start_nonce + index as u64;
        let started = Instant::now();
        let deadline = started + self.opts.step_timeout;
        let mut unknown_since: Option<Instant> = None;
        loop {
            match p.get_transaction_receipt(hash).await.map_err(rpc(label))? {
                Some(r) => {
                    let block = r.block_number.unwrap_or_default();
                    let head = p.get_block_number().await.map_err(rpc(label))?;
                    if head + 1 >= block + confirmations {
                        // Still the same inclusion (no reorg meanwhile)?
                        match p.get_transaction_receipt(hash).await.map_err(rpc(label))? {
                            Some(again) if again.block_hash == r.block_hash => return Ok(again),
                            _ => {}
                        }
                    }
                }
                None => {
                    let known = p.get_transaction_by_hash(hash).await.map_err(rpc(label))?;
                    if known.is_some() {
                        unknown_since = None;
                    } else if p
                        .get_transaction_receipt(hash)
                        .await
                        .map_err(rpc(label))?
                        .is_none()
                    {
                        let used = p
                            .get_transaction_count(plan.deployer)
                            .await
                            .map_err(rpc(label))?;
                        if used > nonce {
                            return Err(DeployError::Replaced {
                                step: label.clone(),
                                tx: hash,
                                nonce,
                            });
                        }
                        let since = *unknown_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= self.opts.dropped_after {
                            return Err(DeployError::Dropped {
                                step: label.clone(),
                                tx: hash,
                                nonce,
                            });
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(DeployError::Timeout {
                    step: label.clone(),
                    tx: hash,
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }
}

/// The account that calls the creation helper in a dry run (no key; never sends anything).
const SIMULATION_SENDER: Address = Address::repeat_byte(0x5e);

/// `calldatacopy(0, 0, calldatasize); a := create(0, 0, calldatasize); if iszero(extcodesize(a))
/// { revert(0, 0) }`: creates the calldata's init code from the account it runs at.
const CREATE_FROM_CALLDATA: [u8; 18] = [
    0x36, 0x5f, 0x5f, 0x37, 0x36, 0x5f, 0x5f, 0xf0, 0x3b, 0x15, 0x60, 0x0e, 0x57, 0x00, 0x5b, 0x5f,
    0x5f, 0xfd,
];

/// Gas the helper spends beyond what a `CREATE` transaction of the same init code spends: its
/// opcodes (131, the created account being warm), copying the calldata (3 per word) and the memory
/// it expands (3 per word + words^2 / 512). The transaction's intrinsic cost, the creation and the
/// init code's word cost are the same either way.
fn helper_gas(init_code_len: usize) -> u64 {
    let w = init_code_len.div_ceil(32) as u64;
    131 + 3 * w + 3 * w + w * w / 512
}

/// One step of a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepEstimate {
    /// Plan step label.
    pub label: String,
    /// Gas the step uses when executed after the previous ones.
    pub gas: u64,
}

/// What a plan would cost, without sending anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Per step, in order.
    pub steps: Vec<StepEstimate>,
    /// Sum of the steps' gas.
    pub total_gas: u64,
    /// The node's current base fee, wei per gas.
    pub base_fee: u128,
    /// The node's suggested max fee per gas (EIP-1559), wei.
    pub max_fee_per_gas: u128,
    /// The node's suggested priority fee, wei.
    pub max_priority_fee_per_gas: u128,
    /// The deployer's balance, wei.
    pub balance: U256,
}

impl Estimate {
    /// Expected cost at the current base fee plus the priority fee, wei.
    pub fn expected_cost(&self) -> U256 {
        U256::from(self.total_gas) * U256::from(self.base_fee + self.max_priority_fee_per_gas)
    }

    /// Cost if every step paid the suggested max fee (the balance to hold), wei.
    pub fn max_cost(&self) -> U256 {
        U256::from(self.total_gas) * U256::from(self.max_fee_per_gas)
    }
}

/// Dry run: checks the plan, executes it with `eth_simulateV1` on top of the latest block (one
/// simulated block per step, so every step sees the previous ones; creations through a helper at
/// the deployer's address, called from another account), and prices it at the node's current
/// fees. Sends nothing.
pub async fn estimate<P: Provider<Ethereum>>(
    provider: &P,
    plan: &DeployPlan,
) -> Result<Estimate, DeployError> {
    plan.check()?;
    if plan.params.salt.is_some()
        && provider
            .get_code_at(CREATE2_FACTORY)
            .await
            .map_err(rpc("factory code"))?
            .is_empty()
    {
        return Err(DeployError::NoFactory {
            factory: CREATE2_FACTORY,
        });
    }
    // Creations run through a helper placed (by state override) at the deployer's own address and
    // called from another account: its CREATE then uses the deployer's nonce, so every contract lands
    // at its planned address, as the real `CREATE` transaction would put it (some nodes, anvil 1.x
    // among them, cannot simulate a transaction without `to`). The helper's own gas is subtracted.
    let blocks = plan
        .steps
        .iter()
        .map(|step| {
            let (to, data) = step.tx();
            let (tx, deployer_code) = match to {
                None => (
                    TransactionRequest::default()
                        .with_from(SIMULATION_SENDER)
                        .with_to(plan.deployer)
                        .with_input(data),
                    Bytes::from_static(&CREATE_FROM_CALLDATA),
                ),
                Some(to) => (
                    TransactionRequest::default()
                        .with_from(plan.deployer)
                        .with_to(to)
                        .with_input(data),
                    Bytes::new(),
                ),
            };
            let mut overrides = StateOverride::default();
            overrides.insert(
                plan.deployer,
                AccountOverride {
                    code: Some(deployer_code),
                    ..Default::default()
                },
            );
            SimBlock {
                calls: vec![tx.with_gas_price(0)],
                state_overrides: Some(overrides),
                ..Default::default()
            }
        })
        .collect();
    let payload = SimulatePayload {
        block_state_calls: blocks,
        ..Default::default()
    };
    let simulated = provider
        .simulate(&payload)
        .await
        .map_err(rpc("eth_simulateV1"))?;
    let mut steps = Vec::with_capacity(plan.steps.len());
    for (step, block) in plan.steps.iter().zip(simulated) {
        let Some(call) = block.calls.first() else {
            return Err(DeployError::WouldFail {
                step: step.label.clone(),
                message: "the node returned no result".into(),
            });
        };
        if !call.status {
            return Err(DeployError::WouldFail {
                step: step.label.clone(),
                message: call.error.as_ref().map_or_else(
                    || format!("reverted ({})", call.return_data),
                    |e| e.message.clone(),
                ),
            });
        }
        let (to, data) = step.tx();
        let gas = match to {
            None => call.gas_used.saturating_sub(helper_gas(data.len())),
            Some(_) => call.gas_used,
        };
        steps.push(StepEstimate {
            label: step.label.clone(),
            gas,
        });
    }
    let fees = provider
        .estimate_eip1559_fees()
        .await
        .map_err(rpc("fees"))?;
    let base_fee = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(rpc("latest block"))?
        .and_then(|b| b.header.base_fee_per_gas)
        .map_or(0, u128::from);
    let balance = provider
        .get_balance(plan.deployer)
        .await
        .map_err(rpc("balance"))?;
    Ok(Estimate {
        total_gas: steps.iter().map(|s| s.gas).sum(),
        steps,
        base_fee,
        max_fee_per_gas: fees.max_fee_per_gas,
        max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
        balance,
    })
}

/// Plans `params` from the deployer's pending nonce and deploys it with `opts` (no resume: for a
/// resumable deployment, build the plan with [`resume_nonce`] and use [`Executor`]).
pub async fn plan_and_deploy<P: Provider<Ethereum>>(
    provider: &P,
    params: &crate::plan::DeployParams,
    opts: DeployOptions,
) -> Result<Deployed, DeployError> {
    let nonce = provider
        .get_transaction_count(params.deployer)
        .pending()
        .await
        .map_err(rpc("nonce"))?;
    Executor::new(provider, opts)
        .deploy(&DeployPlan::new(params, nonce))
        .await
}
