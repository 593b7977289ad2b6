//! One-shot chain commands: deploy, operator management, requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context, Result};
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_deploy::manifest::Manifest;
use verinfer_deploy::plan::{DeployParams, DeployPlan};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::registry::RequestStatus;
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

/// The manifest for the connected chain.
pub fn manifest(c: &ChainArgs, chain_id: u64) -> Result<(Manifest, PathBuf)> {
    let path = c
        .rpc
        .deployment
        .clone()
        .unwrap_or_else(|| Manifest::default_path(Path::new("."), chain_id));
    let m = Manifest::load(&path).with_context(|| format!("no deployment manifest for chain {chain_id}; run `verinfer deploy` or pass --deployment"))?;
    if m.chain_id != chain_id {
        bail!(
            "{} is for chain {}, connected to chain {chain_id}",
            path.display(),
            m.chain_id
        );
    }
    Ok((m, path))
}

/// The address of `name` in the manifest `m` (error names the manifest field).
pub fn addr(m: &(Manifest, PathBuf), name: &str) -> Result<Address> {
    Ok(m.0.address(name, &m.1)?)
}

fn parse_addr(what: &str, s: &str) -> Result<Address> {
    s.parse()
        .map_err(|_| anyhow!("--{what}: `{s}` is not an address"))
}

/// `verinfer operator register`.
pub async fn register(c: &ChainArgs, signer: &str, stake: u64) -> Result<()> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let signer = parse_addr("signer", signer)?;
    let staking = addr(&m, "Staking")?;
    let amount = U256::from(stake) * U256::from(TOKEN);
    s.approve(addr(&m, "VerinferToken")?, staking, amount)
        .await?;
    let r = s
        .call(
            "registerOperator",
            staking,
            Staking::registerOperatorCall {
                signer,
                selfStake: amount,
            }
            .abi_encode(),
        )
        .await?;
    println!(
        "registered operator {} with signer {signer} and {stake} tokens (tx {}, gas {})",
        s.key.address(),
        r.tx_hash,
        r.gas_used
    );
    Ok(())
}

/// `verinfer operator stake`.
pub async fn stake(c: &ChainArgs, operator: &str, amount: u64) -> Result<()> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let operator = parse_addr("operator", operator)?;
    let staking = addr(&m, "Staking")?;
    let assets = U256::from(amount) * U256::from(TOKEN);
    s.approve(addr(&m, "VerinferToken")?, staking, assets)
        .await?;
    let r = s
        .call(
            "delegate",
            staking,
            Staking::delegateCall { operator, assets }.abi_encode(),
        )
        .await?;
    println!("delegated {amount} tokens to {operator} (tx {})", r.tx_hash);
    Ok(())
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

/// `verinfer operator sync`.
pub async fn sync(c: &ChainArgs, operator: &str, dry_run: bool) -> Result<Vec<StaleStake>> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let operator = parse_addr("operator", operator)?;
    let staking = addr(&m, "Staking")?;
    let (checked, stale) = sync_delegators(&s, staking, operator, m.0.block, dry_run).await?;
    for x in &stale {
        println!(
            "{} recorded {} -> current {} tokens{}",
            x.account,
            crate::devnet::tokens(x.recorded),
            crate::devnet::tokens(x.current),
            if dry_run { " (not sent)" } else { "" }
        );
    }
    println!(
        "{} accounts of {operator} checked, {} stale{}",
        checked.len(),
        stale.len(),
        if dry_run { "" } else { ", re-recorded" }
    );
    Ok(stale)
}

/// `verinfer operator unstake`.
pub async fn unstake(c: &ChainArgs, operator: &str, shares: &str) -> Result<()> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let operator = parse_addr("operator", operator)?;
    let shares: U256 = shares
        .parse()
        .map_err(|_| anyhow!("--shares: `{shares}` is not an integer"))?;
    let r = s
        .call(
            "requestUnstake",
            addr(&m, "Staking")?,
            Staking::requestUnstakeCall { operator, shares }.abi_encode(),
        )
        .await?;
    println!(
        "unstake queued (tx {}); complete it after the unbonding delay",
        r.tx_hash
    );
    Ok(())
}

/// `verinfer operator rotate-key`.
pub async fn rotate(c: &ChainArgs, new_signer: &str) -> Result<()> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let new_signer = parse_addr("new-signer", new_signer)?;
    let r = s
        .call(
            "rotateSigner",
            addr(&m, "Staking")?,
            Staking::rotateSignerCall {
                newSigner: new_signer,
            }
            .abi_encode(),
        )
        .await?;
    println!(
        "signer rotation to {new_signer} requested (tx {}); it activates after the rotation delay",
        r.tx_hash
    );
    Ok(())
}

/// Resolves `builtin` or a hex model id.
pub fn model_id(model: &str) -> Result<B256> {
    if model == "builtin" {
        return Ok(verinfer_keeper::mlp::IntMlp::default_model().model_id());
    }
    model
        .parse()
        .map_err(|_| anyhow!("--model: `{model}` is neither `builtin` nor a bytes32 model id"))
}

/// `verinfer operator serve`.
pub async fn serve(c: &ChainArgs, model: &str) -> Result<()> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let id = model_id(model)?;
    let r = s
        .call(
            "serveModel",
            addr(&m, "InferenceRegistry")?,
            InferenceRegistry::serveModelCall { modelId: id }.abi_encode(),
        )
        .await?;
    println!("now serving {id} (tx {})", r.tx_hash);
    Ok(())
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

/// `verinfer request`.
pub async fn request(
    c: &ChainArgs,
    model: &str,
    input: &[u8],
    fee: u64,
    deadline_secs: u64,
    wait_secs: u64,
) -> Result<U256> {
    let s = session(c).await?;
    let m = manifest(c, s.chain_id)?;
    let registry = addr(&m, "InferenceRegistry")?;
    let id_model = model_id(model)?;
    let (id, r) = submit_request(
        &s,
        addr(&m, "VerinferToken")?,
        registry,
        id_model,
        input,
        U256::from(fee) * U256::from(TOKEN),
        deadline_secs,
    )
    .await?;
    println!(
        "request {id} submitted (tx {}, gas {})",
        r.tx_hash, r.gas_used
    );
    if model == "builtin" {
        let out = verinfer_keeper::mlp::IntMlp::default_model().infer(input);
        println!(
            "expected (local built-in run) output hash {}",
            keccak256(&out)
        );
    }
    if wait_secs == 0 {
        return Ok(id);
    }
    let reg = InferenceRegistry::new(registry, &s.provider);
    let deadline = Instant::now() + Duration::from_secs(wait_secs);
    loop {
        let v = reg.request(id).call().await?;
        use RequestStatus as S;
        match RequestStatus::of(v.status) {
            Some(S::Quorum | S::Finalized) => {
                println!(
                    "result: output hash {} (status {:?}, window ends at {})",
                    v.output, v.status, v.windowEnd
                );
                return Ok(id);
            }
            Some(S::Disputed) => {
                println!("request {id} is disputed (dispute {})", v.disputeId);
                return Ok(id);
            }
            Some(S::Expired) => bail!("request {id} expired without a result"),
            _ => {}
        }
        if Instant::now() > deadline {
            bail!(
                "no result for request {id} within {wait_secs}s (status {})",
                v.status
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
