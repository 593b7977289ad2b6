//! Test support: a private anvil per test on a free port, and small chain helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolConstructor;
use verinfer_devnet::anvil::{self, AnvilOptions};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};

pub mod suite;

/// A private anvil (through `verinfer_devnet::anvil`, the one way anvil is started) that can be
/// stopped and started again on the same port.
pub struct Anvil {
    node: Option<AnvilInstance>,
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

    pub fn provider(&self) -> RootProvider {
        RootProvider::new_http(self.url.parse().unwrap())
    }
}

pub fn fast_cfg() -> TxConfig {
    TxConfig {
        receipt_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        rpc_retries: 2,
        backoff: Duration::from_millis(50),
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
