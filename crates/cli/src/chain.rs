//! The devnet's and the keeper bench's senders (a `TxManager` per account). Transitional: these move
//! to `crates/devnet` on `verinfer_client::Client`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context, Result};
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_deploy::manifest::Manifest;
use verinfer_deploy::plan::{DeployParams, DeployPlan};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{Executed, TxConfig, TxManager};

use crate::args::ChainArgs;

/// A connected sender.
pub struct Session {
    /// Provider.
    pub provider: RootProvider,
    /// Transaction manager of the sender.
    pub tx: TxManager,
    /// Sender key.
    pub key: HotKey,
    /// Chain id.
    pub chain_id: u64,
    _dir: TempDir,
}

/// A scratch directory for the one-shot journal, removed on drop.
pub struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads the sender key from a keystore or an env var.
pub fn load_key(c: &ChainArgs) -> Result<HotKey> {
    c.key.load()
}

/// Connects with `key`.
pub async fn session_with(rpc_url: &str, key: HotKey) -> Result<Session> {
    let url = rpc_url
        .parse()
        .with_context(|| format!("invalid --rpc-url `{rpc_url}`"))?;
    let provider = RootProvider::new_http(url);
    let chain_id = provider
        .get_chain_id()
        .await
        .with_context(|| format!("cannot reach {rpc_url}"))?;
    let dir = std::env::temp_dir().join(format!(
        "verinfer-cli-{}-{}",
        std::process::id(),
        keccak256(key.address())
            .to_string()
            .get(2..10)
            .unwrap_or("x")
    ));
    let store = Arc::new(Store::open(&dir.join("cli.redb"))?);
    let cfg = TxConfig {
        receipt_timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(100),
        ..TxConfig::default()
    };
    let tx = TxManager::new(provider.clone(), &key, chain_id, store, cfg);
    Ok(Session {
        provider,
        tx,
        key,
        chain_id,
        _dir: TempDir(dir),
    })
}

/// Connects using the chain arguments.
pub async fn session(c: &ChainArgs) -> Result<Session> {
    let key = load_key(c)?;
    session_with(&c.rpc.rpc_url, key).await
}

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Session {
    /// Sends a call and waits for inclusion (journaled, nonce-managed, fee-bumped).
    pub async fn call(&self, label: &str, to: Address, data: Vec<u8>) -> Result<Executed> {
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("call:{n}:{label}");
        self.tx
            .send(&key, Some(to), Bytes::from(data))
            .await
            .with_context(|| format!("{label} failed"))
    }

    /// Approves `spender` for `value` of the ERC-20 `token` and waits for inclusion.
    pub async fn approve(&self, token: Address, spender: Address, value: U256) -> Result<Executed> {
        self.call(
            "approve",
            token,
            VerinferToken::approveCall { spender, value }.abi_encode(),
        )
        .await
    }

    /// Deploys the suite from this sender.
    pub async fn deploy(&self, params: &DeployParams) -> Result<(Manifest, Vec<(String, u64)>)> {
        let nonce = self
            .provider
            .get_transaction_count(self.key.address())
            .pending()
            .await?;
        let plan = DeployPlan::new(params, nonce);
        let mut gas = Vec::new();
        let mut first_block = None;
        for (i, step) in plan.steps.iter().enumerate() {
            let (to, data) = step.tx();
            let key = format!("deploy:{nonce}:{i}:{}", step.label);
            let done = self
                .tx
                .send(&key, to, data.clone())
                .await
                .with_context(|| format!("deployment step {} failed", step.label))?;
            if first_block.is_none() {
                first_block = self
                    .tx
                    .receipt_of(done.tx_hash)
                    .await?
                    .and_then(|r| r.block_number);
            }
            gas.push((step.label.clone(), done.gas_used));
        }
        for (name, addr) in &plan.addresses {
            let code = self.provider.get_code_at(*addr).await?;
            if code.is_empty() {
                bail!("deployment of {name} at {addr} produced no code (nonce drift?)");
            }
        }
        let manifest = Manifest {
            chain_id: self.chain_id,
            block: first_block.unwrap_or_default(),
            contracts: plan.addresses.clone(),
        };
        Ok((manifest, gas))
    }
}

/// A delegation whose recorded stake (what governance voice is computed from) differs from its
/// current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleStake {
    /// The delegator (or the operator's own account).
    pub account: Address,
    /// `Staking.recordedStake(account, operator)`.
    pub recorded: U256,
    /// The value of its shares now (`previewAssets(sharesOf)`).
    pub current: U256,
}

/// Finds every account that delegated to `operator` since `from_block` (plus the operator itself)
/// whose recorded stake is stale, and unless `dry_run` re-records each with `Staking.syncStake`.
/// Returns the accounts checked and the stale ones.
pub async fn sync_delegators(
    s: &Session,
    staking: Address,
    operator: Address,
    from_block: u64,
    dry_run: bool,
) -> Result<(Vec<Address>, Vec<StaleStake>)> {
    let head = s.provider.get_block_number().await?;
    let mut accounts =
        verinfer_client::logs::delegators_of(&s.provider, staking, operator, from_block, head)
            .await
            .with_context(|| format!("reading Delegated events of {operator}"))?;
    if !accounts.contains(&operator) {
        accounts.push(operator);
    }
    let st = Staking::new(staking, &s.provider);
    let mut stale = Vec::new();
    for account in &accounts {
        let shares = st.sharesOf(operator, *account).call().await?;
        let current = st.previewAssets(operator, shares).call().await?;
        let recorded = st.recordedStake(*account, operator).call().await?;
        if current == recorded {
            continue;
        }
        stale.push(StaleStake {
            account: *account,
            recorded,
            current,
        });
        if !dry_run {
            s.call(
                "syncStake",
                staking,
                Staking::syncStakeCall {
                    account: *account,
                    operator,
                }
                .abi_encode(),
            )
            .await?;
        }
    }
    Ok((accounts, stale))
}

/// The timestamp of the latest block.
pub async fn chain_time<P: Provider>(provider: &P) -> Result<u64> {
    Ok(provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .map(|b| b.header.timestamp)
        .unwrap_or_default())
}

/// Submits a request from `s`; returns the request id.
pub async fn submit_request(
    s: &Session,
    token: Address,
    registry: Address,
    model: B256,
    input: &[u8],
    fee: U256,
    deadline_secs: u64,
) -> Result<(U256, Executed)> {
    s.approve(token, registry, fee).await?;
    let now = chain_time(&s.provider).await?;
    let call = InferenceRegistry::requestInferenceCall {
        modelId: model,
        inputHash: keccak256(input),
        inputURI: verinfer_keeper::keeper::inline_uri(input),
        fee,
        deadline: alloy::primitives::Uint::from(now + deadline_secs),
    };
    let r = s
        .call("requestInference", registry, call.abi_encode())
        .await?;
    let receipt =
        s.tx.receipt_of(r.tx_hash)
            .await?
            .ok_or_else(|| anyhow!("receipt vanished"))?;
    let id = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| {
            InferenceRegistry::RequestCreated::decode_log_data(l.data())
                .ok()
                .map(|e| e.requestId)
        })
        .ok_or_else(|| anyhow!("no RequestCreated event in {}", r.tx_hash))?;
    Ok((id, r))
}
