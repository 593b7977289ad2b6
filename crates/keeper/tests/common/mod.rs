//! Test support: a private anvil per test on a free port, and small chain helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::{SolCall, SolConstructor};
use verinfer_client::rpc::{http_provider, RetryConfig};
use verinfer_devnet::anvil::{self, AnvilNode, AnvilOptions};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};

pub mod suite;

/// A private anvil (through `verinfer_devnet::anvil`, the one way anvil is started) that can be
/// stopped and started again on the same port.
pub struct Anvil {
    node: Option<AnvilNode>,
    opts: AnvilOptions,
    pub port: u16,
    pub url: String,
}

impl Anvil {
    pub fn start(extra: &[&str]) -> Self {
        let opts = AnvilOptions::new().args(extra.iter().copied());
        let node = anvil::spawn(&opts).expect("the pinned anvil starts (run script/setup.sh)");
        let port = node.port();
        Self {
            url: node.endpoint(),
            opts: opts.port(port),
            port,
            node: Some(node),
        }
    }

    /// Starts the node again (a fresh chain) on its port.
    pub fn spawn(&mut self) {
        self.node = Some(anvil::spawn(&self.opts).expect("anvil restarts on its port"));
    }

    /// Stops the node (the instance's drop kills and reaps it).
    pub fn stop(&mut self) {
        self.node = None;
    }

    /// The key of development account `i`, as the node reports it.
    pub fn key(&self, i: usize) -> HotKey {
        let node = self.node.as_ref().expect("the node is running");
        HotKey::new(anvil::dev_signer(node, i).expect("a standard dev account"))
    }

    /// A provider as the keeper builds it (`verinfer_client::rpc`), retrying transient failures
    /// briefly.
    pub fn provider(&self) -> RootProvider {
        http_provider(self.url.parse().unwrap(), fast_retry())
    }
}

/// Retries of a test's provider: 4, 50 ms apart.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        retries: 4,
        backoff: Duration::from_millis(50),
        ..RetryConfig::default()
    }
}

pub fn fast_cfg() -> TxConfig {
    TxConfig {
        receipt_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        rpc_retries: 2,
        ..TxConfig::default()
    }
}

/// A journal `name` inside the test's temporary directory.
pub fn store_at(dir: &tempfile::TempDir, name: &str) -> Arc<Store> {
    Arc::new(Store::open(&dir.path().join(name)).unwrap())
}

pub fn txm(provider: RootProvider, key: HotKey, store: Arc<Store>, cfg: TxConfig) -> TxManager {
    TxManager::new(provider, &key, 31337, store, cfg)
}

/// The usual manager of a test: dev account `key` on `anvil`, journal `name` in `dir`, fast timings.
pub fn manager(anvil: &Anvil, key: usize, dir: &tempfile::TempDir, name: &str) -> TxManager {
    txm(
        anvil.provider(),
        anvil.key(key),
        store_at(dir, name),
        fast_cfg(),
    )
}

pub async fn raw(
    p: &RootProvider,
    method: &'static str,
    params: serde_json::Value,
) -> serde_json::Value {
    p.raw_request::<_, serde_json::Value>(method.into(), params)
        .await
        .unwrap()
}

pub fn token_init_code(admin: Address) -> Bytes {
    use verinfer_bindings::VerinferToken;
    let mut code = VerinferToken::BYTECODE.to_vec();
    code.extend(
        VerinferToken::constructorCall {
            name_: "T".into(),
            symbol_: "T".into(),
            admin,
            initialSupply: U256::from(10u128.pow(27)),
        }
        .abi_encode(),
    );
    code.into()
}

/// Deploys the whole suite (`DeployPlan`, local parameters) from `admin`; the plan names the addresses.
pub async fn deploy_suite(admin: &TxManager) -> verinfer_deploy::plan::DeployPlan {
    use verinfer_deploy::plan::{DeployParams, DeployPlan};
    let plan = DeployPlan::new(&DeployParams::local(admin.from()), 0);
    for (i, step) in plan.steps.iter().enumerate() {
        let (to, data) = step.tx();
        admin
            .send(&format!("deploy:{i}"), to, data.clone())
            .await
            .unwrap();
    }
    plan
}

/// `admin` funds `owner` with `stake`, which registers an operator signing with `hot`, stakes it and
/// serves `model`; `tag` keeps the journal keys apart.
pub async fn add_operator(
    admin: &TxManager,
    owner: &TxManager,
    hot: Address,
    plan: &verinfer_deploy::plan::DeployPlan,
    model: alloy::primitives::B256,
    stake: U256,
    tag: &str,
) {
    use alloy::sol_types::SolCall;
    use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
    let token = plan.addresses["VerinferToken"];
    let staking = plan.addresses["Staking"];
    let registry = plan.addresses["InferenceRegistry"];
    async fn send(t: &TxManager, key: String, to: Address, data: Vec<u8>) {
        t.send(&key, Some(to), Bytes::from(data)).await.unwrap();
    }
    let transfer = VerinferToken::transferCall {
        to: owner.from(),
        value: stake,
    };
    send(admin, format!("fund{tag}"), token, transfer.abi_encode()).await;
    let approve = VerinferToken::approveCall {
        spender: staking,
        value: stake,
    };
    send(owner, "approve".into(), token, approve.abi_encode()).await;
    let register = Staking::registerOperatorCall {
        signer: hot,
        selfStake: stake,
    };
    send(owner, "register".into(), staking, register.abi_encode()).await;
    let serve = InferenceRegistry::serveModelCall { modelId: model };
    send(owner, "serve".into(), registry, serve.abi_encode()).await;
}

/// `admin` gives `watcher` 10 tokens for a challenge bond, which `watcher` lets the registry take.
pub async fn fund_bond(admin: &TxManager, watcher: &TxManager, token: Address, registry: Address) {
    use alloy::sol_types::SolCall;
    use verinfer_bindings::units::TOKEN;
    use verinfer_bindings::VerinferToken;
    let bond = VerinferToken::transferCall {
        to: watcher.from(),
        value: U256::from(10 * TOKEN),
    };
    admin
        .send(
            &format!("bond:{:#x}", watcher.from()),
            Some(token),
            Bytes::from(bond.abi_encode()),
        )
        .await
        .unwrap();
    let approve = VerinferToken::approveCall {
        spender: registry,
        value: U256::MAX,
    };
    watcher
        .send("approve", Some(token), Bytes::from(approve.abi_encode()))
        .await
        .unwrap();
}

/// Registers the built-in digits classifier with the integer-MLP spec in `mode`, `k` operators per
/// request and quorum `q` (600 s window, 1,000 tokens minimum stake, 1-token bond, 0.01-token fee).
pub async fn register_builtin(admin: &TxManager, registry: Address, mode: u8, k: u8, q: u8) {
    use alloy::sol_types::SolCall;
    use verinfer_bindings::units::TOKEN;
    use verinfer_bindings::InferenceRegistry;
    use verinfer_keeper::registry::ModelParams;
    use verinfer_mlp::IntMlp;
    let model = IntMlp::builtin().unwrap();
    let params = ModelParams {
        mode,
        k,
        q,
        challengeWindow: 600,
        minStake: U256::from(1_000u128 * TOKEN),
        challengeBond: U256::from(TOKEN),
        minFee: U256::from(TOKEN / 100),
    };
    let register_model = InferenceRegistry::registerModelCall {
        weightsHash: model.weights_root(),
        runtimeSpecHash: IntMlp::runtime_spec_hash(),
        params,
    };
    admin
        .send(
            "model",
            Some(registry),
            Bytes::from(register_model.abi_encode()),
        )
        .await
        .unwrap();
}

/// Calldata of a token transfer of `n` units to `to`.
pub fn transfer(to: Address, n: u64) -> Bytes {
    verinfer_bindings::VerinferToken::transferCall {
        to,
        value: U256::from(n),
    }
    .abi_encode()
    .into()
}

/// Deploys a test token from `t` (journal key `deploy-token`); returns its address.
pub async fn deploy_token(t: &TxManager) -> Address {
    deploy_token_as(t, "deploy-token").await
}

/// Deploys a test token from `t` under journal key `key`; returns its address.
pub async fn deploy_token_as(t: &TxManager, key: &str) -> Address {
    let admin = t.from();
    let done = t.send(key, None, token_init_code(admin)).await.unwrap();
    let r = t.receipt_of(done.tx_hash).await.unwrap().unwrap();
    r.contract_address.unwrap()
}
