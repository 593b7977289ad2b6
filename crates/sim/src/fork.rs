//! Fork mode: load a deployed suite from a live chain (through its manifest) into revm and ask
//! what-if questions without sending anything.
//!
//! [`ForkSim`] owns a multi-thread tokio runtime that serves revm's remote database; call it from
//! synchronous code (inside an async context, use `tokio::task::spawn_blocking`). A fork is a
//! scratch pad: what-ifs are applied to its local cache (so a proposal's calls see each other's
//! effects); make a new `ForkSim` for an independent question.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::{
    eips::BlockId,
    network::Ethereum,
    primitives::{Address, Bytes, Log, B256, U256},
    providers::{Provider, RootProvider},
};
use revm::{
    database::AlloyDB,
    database_interface::{DatabaseCommit, WrapDatabaseAsync},
};
use serde::Serialize;
use verinfer_bindings::{Slasher, Staking};

use verinfer_deploy::manifest::Manifest;

use crate::{Sim, SimError};

/// The remote database type of a fork.
pub type ForkDb = WrapDatabaseAsync<AlloyDB<Ethereum, RootProvider<Ethereum>>>;

/// Errors setting up a fork; they name the URL, the block, or the manifest file and field.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// The RPC URL does not parse.
    #[error("invalid RPC URL `{url}`: {message}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Parser message.
        message: String,
    },
    /// The RPC endpoint did not answer.
    #[error("RPC endpoint {url} is unreachable: {message}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Transport error.
        message: String,
    },
    /// The requested fork block does not exist.
    #[error("fork block {block} does not exist on {url} (chain head is {head})")]
    NoSuchBlock {
        /// The endpoint.
        url: String,
        /// Requested block.
        block: u64,
        /// Current head.
        head: u64,
    },
    /// The manifest could not be loaded.
    #[error(transparent)]
    Manifest(#[from] verinfer_deploy::manifest::ManifestError),
    /// The manifest does not describe this chain.
    #[error("{path}: field `{field}` does not match the chain at {url}: {message}")]
    Mismatch {
        /// The manifest file.
        path: PathBuf,
        /// The manifest field (e.g. `chainId`, `contracts.Staking`).
        field: String,
        /// The endpoint.
        url: String,
        /// What differs.
        message: String,
    },
    /// The runtime could not be created.
    #[error("cannot start the fork runtime: {0}")]
    Runtime(std::io::Error),
    /// A simulated call failed.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// A storage slot a what-if changes.
#[derive(Debug, Clone, Serialize)]
pub struct SlotChange {
    /// Contract (by manifest name when known, else the address).
    pub contract: String,
    /// Slot.
    pub slot: U256,
    /// Value before.
    pub before: U256,
    /// Value after.
    pub after: U256,
}

/// The effect of one or more simulated transactions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WhatIf {
    /// Storage slots changed, in order of contracts.
    pub storage: Vec<SlotChange>,
    /// Logs emitted (raw; decode with [`crate::decode_logs`]).
    #[serde(skip)]
    pub logs: Vec<Log>,
    /// Number of logs emitted.
    pub log_count: usize,
    /// Gas used in total.
    pub gas: u64,
}

/// What slashing an operator does to one delegator.
#[derive(Debug, Clone, Serialize)]
pub struct DelegatorImpact {
    /// The delegator.
    pub account: Address,
    /// Asset value of its active shares before.
    pub before: U256,
    /// After.
    pub after: U256,
}

/// A fork of a live chain with the verinfer suite loaded from its manifest.
pub struct ForkSim {
    /// The simulator over the remote state.
    pub sim: Sim<ForkDb>,
    /// The manifest the suite was loaded from.
    pub manifest: Manifest,
    provider: RootProvider<Ethereum>,
    block: u64,
    names: BTreeMap<Address, String>,
    // Dropped last: serves the remote database.
    runtime: tokio::runtime::Runtime,
}

impl ForkSim {
    /// Forks `rpc_url` at `block` and loads the suite from `manifest_path`, checking that the
    /// manifest's chain id matches and that code exists at every listed address.
    pub fn new(rpc_url: &str, block: u64, manifest_path: &Path) -> Result<Self, ForkError> {
        let manifest = Manifest::load(manifest_path)?;
        let url = alloy::transports::http::reqwest::Url::parse(rpc_url).map_err(|e| {
            ForkError::BadUrl {
                url: rpc_url.into(),
                message: e.to_string(),
            }
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(ForkError::Runtime)?;
        let provider = RootProvider::<Ethereum>::new_http(url);
        let unreachable = |e: &dyn std::fmt::Display| ForkError::Unreachable {
            url: rpc_url.into(),
            message: e.to_string(),
        };
        let (chain_id, head, header) = runtime.block_on(async {
            let chain_id = provider.get_chain_id().await.map_err(|e| unreachable(&e))?;
            let head = provider
                .get_block_number()
                .await
                .map_err(|e| unreachable(&e))?;
            let header = provider
                .get_block_by_number(block.into())
                .await
                .map_err(|e| unreachable(&e))?;
            Ok::<_, ForkError>((chain_id, head, header))
        })?;
        let Some(header) = header else {
            return Err(ForkError::NoSuchBlock {
                url: rpc_url.into(),
                block,
                head,
            });
        };
        if chain_id != manifest.chain_id {
            return Err(ForkError::Mismatch {
                path: manifest_path.to_path_buf(),
                field: "chainId".into(),
                url: rpc_url.into(),
                message: format!("manifest says {}, chain says {chain_id}", manifest.chain_id),
            });
        }
        if block < manifest.block {
            return Err(ForkError::Mismatch {
                path: manifest_path.to_path_buf(),
                field: "block".into(),
                url: rpc_url.into(),
                message: format!(
                    "the suite was deployed at block {}, after the fork block {block}",
                    manifest.block
                ),
            });
        }
        for (name, address) in &manifest.contracts {
            let code = runtime
                .block_on(async {
                    provider
                        .get_code_at(*address)
                        .block_id(BlockId::number(block))
                        .await
                })
                .map_err(|e| unreachable(&e))?;
            if code.is_empty() {
                return Err(ForkError::Mismatch {
                    path: manifest_path.to_path_buf(),
                    field: format!("contracts.{name}"),
                    url: rpc_url.into(),
                    message: format!("no code at {address} at block {block}"),
                });
            }
        }
        let db = WrapDatabaseAsync::with_handle(
            AlloyDB::new(provider.clone(), BlockId::number(block)),
            runtime.handle().clone(),
        );
        // What-ifs run in the block after the fork block.
        let mut sim = Sim::with_db(db, block + 1, header.header.timestamp + 12, chain_id);
        sim.suite.contracts = manifest.contracts.clone();
        let names = manifest
            .contracts
            .iter()
            .map(|(n, a)| (*a, n.clone()))
            .collect();
        Ok(Self {
            sim,
            manifest,
            provider,
            block,
            names,
            runtime,
        })
    }

    /// Executes `(to, data)` calls from `from` in order, applying each to the fork's local cache, and
    /// returns the combined storage diff, logs and gas. Nothing is sent to the chain.
    pub fn what_if(
        &mut self,
        from: Address,
        calls: &[(Address, Bytes)],
    ) -> Result<WhatIf, ForkError> {
        let mut out = WhatIf::default();
        for (to, data) in calls {
            let r = self
                .sim
                .exec("what-if", from, Some(*to), data.clone(), U256::ZERO, false)?;
            out.gas += r.gas_used;
            out.logs.extend(r.logs);
            if let Some(state) = r.state {
                for (addr, acct) in &state {
                    for (slot, v) in &acct.storage {
                        if v.is_changed() {
                            out.storage.push(SlotChange {
                                contract: self
                                    .names
                                    .get(addr)
                                    .cloned()
                                    .unwrap_or_else(|| addr.to_string()),
                                slot: *slot,
                                before: v.original_value,
                                after: v.present_value,
                            });
                        }
                    }
                }
                self.sim.db_mut().commit(state);
            }
        }
        out.log_count = out.logs.len();
        Ok(out)
    }

    /// What a governance proposal changes if it executes: its calls run from the timelock
    /// (`TimelockController` in the manifest, or `executor` when given).
    pub fn what_if_proposal(
        &mut self,
        executor: Option<Address>,
        calls: &[(Address, Bytes)],
    ) -> Result<WhatIf, ForkError> {
        let from = match executor {
            Some(a) => a,
            None => self.sim.suite.get("TimelockController")?,
        };
        self.what_if(from, calls)
    }

    /// What slashing `operator` for fault `kind`
    /// does to its delegators: requested by the Slasher's governance and, for vetoable kinds, executed
    /// after the veto window. Delegators are found from `Delegated` events up to the fork block.
    pub fn what_if_slash(
        &mut self,
        operator: Address,
        kind: verinfer_bindings::types::FaultKind,
    ) -> Result<(WhatIf, Vec<DelegatorImpact>), ForkError> {
        let kind = u8::from(kind);
        let staking = self.sim.suite.staking()?;
        let slasher = self.sim.suite.slasher()?;
        let governance = self
            .sim
            .view(Address::ZERO, slasher, Slasher::governanceCall {})?;
        let delegators = self
            .runtime
            .block_on(verinfer_client::logs::delegators_of(
                &self.provider,
                staking,
                operator,
                self.manifest.block,
                self.block,
            ))
            .map_err(|e| ForkError::Unreachable {
                url: "fork provider".into(),
                message: e.to_string(),
            })?;
        let value = |sim: &mut Sim<ForkDb>, a: Address| -> Result<U256, SimError> {
            let shares = sim.view(
                a,
                staking,
                Staking::sharesOfCall {
                    operator,
                    account: a,
                },
            )?;
            sim.view(a, staking, Staking::previewAssetsCall { operator, shares })
        };
        let mut before = Vec::with_capacity(delegators.len());
        for a in &delegators {
            before.push(value(&mut self.sim, *a)?);
        }
        let reference = B256::from(U256::from(u64::MAX - u64::from(kind)));
        let request = Slasher::requestSlashCall {
            kind,
            operator,
            r#ref: reference,
            reporter: Address::ZERO,
        };
        use alloy::sol_types::SolCall as _;
        let mut effect = self.what_if(governance, &[(slasher, request.abi_encode().into())])?;
        if let Some(ev) = crate::decode_logs::<Slasher::SlashRequested>(&effect.logs).first() {
            let at: u64 = ev.executableAt.to();
            if at > self.sim.timestamp() {
                self.sim.advance(1, at - self.sim.timestamp());
                let exec = Slasher::executeSlashCall {
                    slashId: ev.slashId,
                }
                .abi_encode();
                let more = self.what_if(governance, &[(slasher, exec.into())])?;
                effect.storage.extend(more.storage);
                effect.logs.extend(more.logs);
                effect.gas += more.gas;
                effect.log_count = effect.logs.len();
            }
        }
        let mut impacts = Vec::with_capacity(delegators.len());
        for (a, b) in delegators.iter().zip(before) {
            impacts.push(DelegatorImpact {
                account: *a,
                before: b,
                after: value(&mut self.sim, *a)?,
            });
        }
        Ok((effect, impacts))
    }

    /// The gas a batch of calls from `from` would cost, in order (applied to the local cache).
    pub fn batch_cost(
        &mut self,
        from: Address,
        calls: &[(Address, Bytes)],
    ) -> Result<u64, ForkError> {
        Ok(self.what_if(from, calls)?.gas)
    }
}
