//! [`Sim`]: the verinfer suite running inside revm, with typed helpers to act as any account.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, Bytes, Log, U256},
    sol_types::{SolCall, SolEvent},
};
use revm::{
    context::{
        result::{ExecutionResult, Output},
        BlockEnv, CfgEnv, TxEnv,
    },
    database::{CacheDB, EmptyDB},
    database_interface::DatabaseRef,
    handler::{MainnetContext, MainnetEvm},
    primitives::{hardfork::SpecId, TxKind},
    state::{AccountInfo, EvmState},
    Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
};

use verinfer_deploy::plan::{DeployPlan, StepKind};

/// The revm instance type the simulator drives: mainnet rules over a [`CacheDB`].
pub type SimEvm<DB> = MainnetEvm<MainnetContext<CacheDB<DB>>>;

/// Gas limit given to every simulated transaction.
pub const TX_GAS_LIMIT: u64 = 30_000_000;

/// Chain id of the in-memory chain (same as anvil's default).
pub const SIM_CHAIN_ID: u64 = 31_337;

/// Errors from simulated transactions; `label` names the call (`Staking.delegate(address,uint256)`).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The call reverted; `reason` is the decoded custom error (e.g. `Staking::InsufficientShares(..)`).
    #[error("{label} from {from} reverted: {reason}")]
    Reverted {
        /// What was called.
        label: String,
        /// The sender.
        from: Address,
        /// Decoded revert reason (raw hex when no binding matches).
        reason: String,
        /// Raw revert data.
        data: Bytes,
    },
    /// The call halted (out of gas, invalid opcode, ...).
    #[error("{label} from {from} halted: {reason}")]
    Halted {
        /// What was called.
        label: String,
        /// The sender.
        from: Address,
        /// The halt reason.
        reason: String,
    },
    /// revm rejected the transaction or the database failed (e.g. a fork RPC error).
    #[error("{label}: evm error: {message}")]
    Evm {
        /// What was called.
        label: String,
        /// The error.
        message: String,
    },
    /// The return data did not decode as the call's return type.
    #[error("{label}: cannot decode return data: {message}")]
    Decode {
        /// What was called.
        label: String,
        /// The decoder's message.
        message: String,
    },
    /// A deployment step produced something other than planned.
    #[error("deployment step `{step}`: {message}")]
    Deploy {
        /// The plan step label.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// The suite has no contract of this name (not deployed / not in the manifest).
    #[error("contract `{0}` is not part of this suite")]
    MissingContract(String),
    /// A scenario value the contracts refused when the run set it (the contract's own bounds,
    /// e.g. `DisputeGovernor.setJuryParameters`).
    #[error("{0}")]
    OutOfBounds(Box<OutOfBounds>),
}

/// A scenario value a contract refused as out of its bounds (`ParameterOutOfBounds`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value} refused by {contract}: must be within [{min}, {max}]")]
pub struct OutOfBounds {
    /// The scenario field (`jury.jury_size`).
    pub field: String,
    /// Its value.
    pub value: U256,
    /// The contract function that refused it.
    pub contract: String,
    /// The contract's lower bound.
    pub min: U256,
    /// The contract's upper bound.
    pub max: U256,
}

/// Result of a successful transaction.
#[derive(Debug, Clone)]
pub struct Receipt<T> {
    /// Decoded return value.
    pub ret: T,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// Gas used.
    pub gas_used: u64,
}

/// Raw outcome of a transaction (success only; failures are [`SimError`]).
#[derive(Debug, Clone)]
pub struct RawOutcome {
    /// Return data (empty for creates).
    pub output: Bytes,
    /// Address created, for creates.
    pub created: Option<Address>,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// Gas used.
    pub gas_used: u64,
    /// Touched state, when the transaction was not committed (what-if).
    pub state: Option<EvmState>,
}

/// Addresses of the deployed suite, by contract name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suite {
    /// Contract name to address (e.g. `Staking`).
    pub contracts: BTreeMap<String, Address>,
}

impl Suite {
    /// The address of `name`.
    pub fn get(&self, name: &str) -> Result<Address, SimError> {
        self.contracts
            .get(name)
            .copied()
            .ok_or_else(|| SimError::MissingContract(name.to_owned()))
    }
    /// The staking token.
    pub fn token(&self) -> Result<Address, SimError> {
        self.get("VerinferToken")
    }
    /// The Staking contract.
    pub fn staking(&self) -> Result<Address, SimError> {
        self.get("Staking")
    }
    /// The Slasher contract.
    pub fn slasher(&self) -> Result<Address, SimError> {
        self.get("Slasher")
    }
}

/// The verinfer suite inside revm. `Sim<EmptyDB>` is a fresh in-memory chain; fork mode uses a
/// remote database (see [`crate::fork`]).
///
/// ```
/// use alloy::primitives::{address, U256};
/// use verinfer_bindings::VerinferToken;
/// use verinfer_bindings::units::TOKEN;
/// use verinfer_deploy::plan::DeployParams;
/// use verinfer_sim::Sim;
///
/// let deployer = address!("00000000000000000000000000000000000000d0");
/// let mut sim = Sim::new();
/// sim.deploy_local(&DeployParams::local(deployer))?;
/// let token = sim.suite.token()?;
/// let bal = sim.view(deployer, token, VerinferToken::balanceOfCall { account: deployer })?;
/// assert_eq!(bal, U256::from(1_000_000_000u128 * TOKEN));
/// # Ok::<_, verinfer_sim::SimError>(())
/// ```
pub struct Sim<DB: DatabaseRef = EmptyDB> {
    evm: SimEvm<DB>,
    /// Addresses of the deployed suite.
    pub suite: Suite,
    /// Number of committed transactions.
    pub tx_count: u64,
    /// Total gas of committed transactions.
    pub gas_total: u64,
    /// Logs of committed transactions kept for the authority ledger ([`Sim::record_logs`]).
    journal: Option<LogJournal>,
}

/// The committed logs a [`Sim`] keeps: those whose first topic is in `topics`.
#[derive(Debug, Clone, Default)]
struct LogJournal {
    topics: std::collections::BTreeSet<alloy::primitives::B256>,
    logs: Vec<verinfer_authority::ChainLog>,
}

impl Default for Sim<EmptyDB> {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim<EmptyDB> {
    /// A fresh chain at block 1, timestamp 1_700_000_000, Cancun rules, chain id 31337.
    pub fn new() -> Self {
        Self::with_db(EmptyDB::default(), 1, 1_700_000_000, SIM_CHAIN_ID)
    }
}

impl<DB: DatabaseRef> Sim<DB>
where
    DB::Error: std::fmt::Display,
{
    /// A simulator over `db` (wrapped in a [`CacheDB`]) at the given block number and timestamp.
    pub fn with_db(db: DB, block: u64, timestamp: u64, chain_id: u64) -> Self {
        let evm = Context::mainnet()
            .with_db(CacheDB::new(db))
            .modify_cfg_chained(|c: &mut CfgEnv| {
                c.spec = SpecId::CANCUN;
                c.chain_id = chain_id;
                c.disable_nonce_check = true;
                // Lets the simulator act as a contract (e.g. the registry requesting a slash, the
                // timelock executing governance), as `vm.prank` does in Foundry.
                c.disable_eip3607 = true;
            })
            .modify_block_chained(|b: &mut BlockEnv| {
                b.number = U256::from(block);
                b.timestamp = U256::from(timestamp);
                b.gas_limit = TX_GAS_LIMIT;
                b.basefee = 0;
            })
            .build_mainnet();
        Self {
            evm,
            suite: Suite::default(),
            tx_count: 0,
            gas_total: 0,
            journal: None,
        }
    }

    /// From now on keeps the logs of committed transactions whose first topic is in `topics`
    /// (e.g. [`verinfer_authority::build::relevant_topics`]), with block, a transaction id (the
    /// transaction's number) and sender, for [`Sim::take_logs`].
    pub fn record_logs(&mut self, topics: std::collections::BTreeSet<alloy::primitives::B256>) {
        self.journal = Some(LogJournal {
            topics,
            logs: Vec::new(),
        });
    }

    /// The logs kept since [`Sim::record_logs`], in chain order; stops keeping them.
    pub fn take_logs(&mut self) -> Vec<verinfer_authority::ChainLog> {
        self.journal.take().map(|j| j.logs).unwrap_or_default()
    }

    /// The current block number.
    pub fn block_number(&self) -> u64 {
        self.evm.ctx.block.number.saturating_to()
    }

    /// The current block timestamp.
    pub fn timestamp(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// Moves the chain forward by `blocks` blocks and `seconds` seconds.
    pub fn advance(&mut self, blocks: u64, seconds: u64) {
        let b = &mut self.evm.ctx.block;
        b.number += U256::from(blocks);
        b.timestamp += U256::from(seconds);
    }

    /// Mutable access to the state database (e.g. to seed balances or inspect storage).
    pub fn db_mut(&mut self) -> &mut CacheDB<DB> {
        &mut self.evm.ctx.journaled_state.database
    }

    /// Sets `account`'s ether balance (keeps nonce and code).
    pub fn set_balance(&mut self, account: Address, wei: U256) -> Result<(), SimError> {
        let db = self.db_mut();
        let info = db
            .basic_ref(account)
            .map_err(|e| SimError::Evm {
                label: "set_balance".into(),
                message: e.to_string(),
            })?
            .unwrap_or_default();
        db.insert_account_info(
            account,
            AccountInfo {
                balance: wei,
                ..info
            },
        );
        Ok(())
    }

    /// Runs a raw transaction from `from`; `to = None` creates. With `commit = false` nothing is
    /// written and the touched state is returned in [`RawOutcome::state`].
    pub fn exec(
        &mut self,
        label: &str,
        from: Address,
        to: Option<Address>,
        data: Bytes,
        value: U256,
        commit: bool,
    ) -> Result<RawOutcome, SimError> {
        let tx = TxEnv::builder()
            .caller(from)
            .kind(to.map_or(TxKind::Create, TxKind::Call))
            .data(data)
            .value(value)
            .gas_limit(TX_GAS_LIMIT)
            .gas_price(0)
            .chain_id(Some(self.evm.ctx.cfg.chain_id))
            .build()
            .map_err(|e| SimError::Evm {
                label: label.to_owned(),
                message: format!("{e:?}"),
            })?;
        let evm_err = |e: &dyn std::fmt::Display| SimError::Evm {
            label: label.to_owned(),
            message: e.to_string(),
        };
        let (result, state) = if commit {
            let r = self.evm.transact_commit(tx).map_err(|e| evm_err(&e))?;
            (r, None)
        } else {
            let r = self.evm.transact(tx).map_err(|e| evm_err(&e))?;
            (r.result, Some(r.state))
        };
        match result {
            ExecutionResult::Success {
                logs, output, gas, ..
            } => {
                if commit {
                    self.tx_count += 1;
                    self.gas_total += gas.tx_gas_used();
                    let block = self.block_number();
                    if let Some(j) = &mut self.journal {
                        let tx = alloy::primitives::B256::from(U256::from(self.tx_count));
                        j.logs.extend(
                            logs.iter()
                                .filter(|l| {
                                    l.topics().first().is_some_and(|t| j.topics.contains(t))
                                })
                                .map(|l| verinfer_authority::ChainLog {
                                    log: l.clone(),
                                    block,
                                    tx,
                                    sender: Some(from),
                                }),
                        );
                    }
                }
                let (output, created) = match output {
                    Output::Call(b) => (b, None),
                    Output::Create(b, a) => (b, a),
                };
                Ok(RawOutcome {
                    output,
                    created,
                    logs,
                    gas_used: gas.tx_gas_used(),
                    state,
                })
            }
            ExecutionResult::Revert { output, .. } => Err(SimError::Reverted {
                label: label.to_owned(),
                from,
                reason: verinfer_bindings::decode::decode_revert(&output).to_string(),
                data: output,
            }),
            ExecutionResult::Halt { reason, .. } => Err(SimError::Halted {
                label: label.to_owned(),
                from,
                reason: format!("{reason:?}"),
            }),
        }
    }

    /// Sends `call` to `to` from `from` and commits it; decodes the return value.
    pub fn transact<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: C,
    ) -> Result<Receipt<C::Return>, SimError> {
        self.send(from, to, call, U256::ZERO, true)
    }

    /// Executes `call` without committing (a what-if or a view) and decodes the return value.
    pub fn view<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: C,
    ) -> Result<C::Return, SimError> {
        Ok(self.send(from, to, call, U256::ZERO, false)?.ret)
    }

    fn send<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: C,
        value: U256,
        commit: bool,
    ) -> Result<Receipt<C::Return>, SimError> {
        let label = C::SIGNATURE;
        let out = self.exec(
            label,
            from,
            Some(to),
            call.abi_encode().into(),
            value,
            commit,
        )?;
        let ret = C::abi_decode_returns(&out.output).map_err(|e| SimError::Decode {
            label: label.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Receipt {
            ret,
            logs: out.logs,
            gas_used: out.gas_used,
        })
    }

    /// Executes a [`DeployPlan`] from its deployer, checking every created address against the plan,
    /// and records the suite's addresses.
    pub fn deploy(&mut self, plan: &DeployPlan) -> Result<&Suite, SimError> {
        self.set_balance(plan.deployer, U256::from(10u128.pow(24)))?;
        for step in &plan.steps {
            let (to, data) = step.tx();
            let out = self.exec(
                &step.label,
                plan.deployer,
                to,
                data.clone(),
                U256::ZERO,
                true,
            )?;
            if let StepKind::Create { address, .. } = &step.kind {
                if out.created != Some(*address) {
                    return Err(SimError::Deploy {
                        step: step.label.clone(),
                        message: format!("created {:?}, planned {address}", out.created),
                    });
                }
            }
        }
        self.suite.contracts.extend(plan.addresses.clone());
        Ok(&self.suite)
    }

    /// Plans a local deployment (the deployer's nonce is 0 on a fresh chain) and executes it.
    pub fn deploy_local(
        &mut self,
        params: &verinfer_deploy::plan::DeployParams,
    ) -> Result<DeployPlan, SimError> {
        let nonce = self
            .db_mut()
            .basic_ref(params.deployer)
            .map_err(|e| SimError::Evm {
                label: "deploy".into(),
                message: e.to_string(),
            })?
            .map_or(0, |a| a.nonce);
        let plan = DeployPlan::new(params, nonce);
        self.deploy(&plan)?;
        Ok(plan)
    }
}

/// A saved copy of a [`Sim`]'s state, block and counters ([`Sim::snapshot`] / [`Sim::restore`]).
#[derive(Debug, Clone)]
pub struct Snapshot<DB: DatabaseRef + Clone> {
    db: CacheDB<DB>,
    block: BlockEnv,
    tx_count: u64,
    gas_total: u64,
    journal_len: usize,
}

impl<DB: DatabaseRef + Clone> Sim<DB>
where
    DB::Error: std::fmt::Display,
{
    /// Saves the whole state so a what-if can run and be undone with [`Sim::restore`].
    ///
    /// ```
    /// use alloy::primitives::{address, U256};
    /// use verinfer_sim::Sim;
    ///
    /// let mut sim = Sim::new();
    /// let who = address!("00000000000000000000000000000000000000aa");
    /// let saved = sim.snapshot();
    /// sim.set_balance(who, U256::from(5))?;
    /// sim.advance(10, 120);
    /// sim.restore(saved);
    /// assert_eq!(sim.block_number(), 1);
    /// # Ok::<_, verinfer_sim::SimError>(())
    /// ```
    pub fn snapshot(&mut self) -> Snapshot<DB> {
        Snapshot {
            db: self.db_mut().clone(),
            block: self.evm.ctx.block.clone(),
            tx_count: self.tx_count,
            gas_total: self.gas_total,
            journal_len: self.journal.as_ref().map_or(0, |j| j.logs.len()),
        }
    }

    /// Puts back a state saved by [`Sim::snapshot`] (state, block number and time, counters).
    pub fn restore(&mut self, snapshot: Snapshot<DB>) {
        *self.db_mut() = snapshot.db;
        self.evm.ctx.block = snapshot.block;
        self.tx_count = snapshot.tx_count;
        self.gas_total = snapshot.gas_total;
        if let Some(j) = &mut self.journal {
            j.logs.truncate(snapshot.journal_len);
        }
    }
}

/// Decodes every log of type `E` among `logs` (others are skipped).
///
/// ```
/// use verinfer_bindings::Staking;
/// let events = verinfer_sim::decode_logs::<Staking::Delegated>(&[]);
/// assert!(events.is_empty());
/// ```
pub fn decode_logs<E: SolEvent>(logs: &[Log]) -> Vec<E> {
    logs.iter()
        .filter_map(|l| E::decode_log(l).ok().map(|d| d.data))
        .collect()
}
