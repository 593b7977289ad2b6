//! The deploy command's sender (a `TxManager` over a scratch journal). Transitional: the devnet and
//! the keeper bench now deploy and send through `verinfer-devnet` on `verinfer_client::Client`, and
//! `verinfer deploy` is to move to `verinfer_deploy::deploy_over_rpc` the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::keccak256;
use alloy::providers::{Provider, RootProvider};
use anyhow::{bail, Context, Result};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};

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
