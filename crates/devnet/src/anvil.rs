//! Phase 1, start the chain: the one way verinfer starts anvil (the devnet, the benches and every test),
//! through alloy's [`alloy::node_bindings::Anvil`], with the repository's pinned binary.
//!
//! Each node keeps the states it moves out of memory in its own temporary directory (anvil's
//! `--cache-path`), removed when the [`AnvilNode`] is dropped. Left to itself, anvil keeps them in
//! `~/.foundry/anvil/tmp` and removes them only on a graceful exit; alloy stops a node with SIGKILL, so
//! every long run used to leave its states behind there (40 GB after a day of test runs here).

use std::ops::Deref;
use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::signers::local::PrivateKeySigner;

/// Anvil could not be found or started.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// No anvil binary at any of the searched places.
    #[error("no anvil binary found (searched: {searched}); run script/setup.sh or pass --anvil")]
    NotFound {
        /// The places searched, in order.
        searched: String,
    },
    /// The node has no development account `index` (anvil was started with fewer accounts).
    #[error("anvil has no development account {index} (it has {available})")]
    NoDevKey {
        /// The account asked for.
        index: usize,
        /// How many it has.
        available: usize,
    },
    /// The node's state cache directory could not be created.
    #[error("cannot create anvil's state cache directory: {0}")]
    Cache(#[source] std::io::Error),
    /// The binary exists but the node did not come up.
    #[error("cannot start anvil at {path}: {source}")]
    Start {
        /// The binary.
        path: PathBuf,
        /// alloy's error.
        source: alloy::node_bindings::NodeError,
    },
}

/// How to start anvil.
#[derive(Debug, Clone, Default)]
pub struct AnvilOptions {
    /// The binary; default [`find`].
    pub bin: Option<PathBuf>,
    /// The port; default a free one.
    pub port: Option<u16>,
    /// Seconds between blocks; default automine (a block per transaction).
    pub block_time: Option<u64>,
    /// Further command-line arguments, passed as given.
    pub args: Vec<String>,
}

impl AnvilOptions {
    /// Automine on a free port with the pinned binary.
    pub fn new() -> Self {
        Self::default()
    }

    /// With blocks every `secs` seconds instead of automine.
    pub fn block_time(mut self, secs: u64) -> Self {
        self.block_time = Some(secs);
        self
    }

    /// On `port`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// With extra arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// The anvil binary: `explicit` if given, else `$VERINFER_ROOT/.toolchain/anvil`, the repository's
/// `.toolchain/anvil` (as installed by `script/setup.sh`), then `anvil` on `PATH`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, AnvilError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(AnvilError::NotFound {
                searched: p.display().to_string(),
            })
        };
    }
    let mut candidates = Vec::new();
    if let Ok(root) = std::env::var("VERINFER_ROOT") {
        candidates.push(PathBuf::from(root).join(".toolchain/anvil"));
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.toolchain/anvil"));
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(".toolchain/anvil"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|p| p.join("anvil")));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| AnvilError::NotFound {
            searched: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A running anvil ([`AnvilInstance`], through `Deref`) and the directory holding the states it
/// moved out of memory. Dropping it stops the node, then removes the directory.
#[derive(Debug)]
pub struct AnvilNode {
    // Field order is drop order: the node is killed before its cache directory is removed.
    instance: AnvilInstance,
    _cache: tempfile::TempDir,
}

impl AnvilNode {
    /// The directory where this node keeps the states it moved out of memory.
    pub fn cache_path(&self) -> &Path {
        self._cache.path()
    }
}

impl Deref for AnvilNode {
    type Target = AnvilInstance;

    fn deref(&self) -> &AnvilInstance {
        &self.instance
    }
}

/// The block gas limit of an automining node (unless its arguments set `--gas-limit`).
///
/// Automine mines one block when a transaction arrives, with as many pending transactions as fit
/// under the block gas limit, and leaves the rest pending until another transaction arrives. A
/// sender with several transactions in flight (the keeper's window, `forge script` without
/// `--slow`) then waits for a receipt that only its own next transaction, or its fee bump after a
/// timeout, would bring. On a chain with a block time the rest go into the next block, so a
/// limit high enough never to be reached (33× mainnet's 30M) makes automine behave like that.
pub const AUTOMINE_GAS_LIMIT: u64 = 1_000_000_000;

/// Starts anvil on the loopback interface (its ten default dev accounts, chain id 31337). The node
/// stops, and its state cache is removed, when the returned [`AnvilNode`] is dropped. alloy reads
/// the accounts and the port from anvil's banner, so anvil must not be started `--silent`. An
/// automining node gets [`AUTOMINE_GAS_LIMIT`] unless `opts.args` sets `--gas-limit`.
pub fn spawn(opts: &AnvilOptions) -> Result<AnvilNode, AnvilError> {
    let bin = find(opts.bin.as_deref())?;
    let cache = tempfile::Builder::new()
        .prefix("verinfer-anvil-states-")
        .tempdir()
        .map_err(AnvilError::Cache)?;
    let mut anvil = Anvil::new()
        .path(&bin)
        .host("127.0.0.1")
        .arg("--cache-path")
        .arg(cache.path().display().to_string());
    if let Some(port) = opts.port {
        anvil = anvil.port(port);
    }
    if let Some(secs) = opts.block_time {
        anvil = anvil.block_time(secs);
    } else if !opts.args.iter().any(|a| a == "--gas-limit") {
        anvil = anvil.arg("--gas-limit").arg(AUTOMINE_GAS_LIMIT.to_string());
    }
    let instance = anvil
        .args(opts.args.iter().cloned())
        .try_spawn()
        .map_err(|source| AnvilError::Start { path: bin, source })?;
    Ok(AnvilNode {
        instance,
        _cache: cache,
    })
}

/// The private key of development account `index` of `anvil` (the keys anvil derived from its
/// mnemonic, as read from its banner): the one place verinfer takes anvil's dev keys from.
pub fn dev_signer(anvil: &AnvilInstance, index: usize) -> Result<PrivateKeySigner, AnvilError> {
    anvil
        .nth_key(index)
        .map(|k| PrivateKeySigner::from(k.clone()))
        .ok_or(AnvilError::NoDevKey {
            index,
            available: anvil.keys().len(),
        })
}

/// [`dev_signer`] as `0x`-prefixed hex, for what takes a key from the environment (the CLI's
/// `VERINFER_PRIVATE_KEY`, a keeper's `key_env`).
pub fn dev_key_hex(anvil: &AnvilInstance, index: usize) -> Result<String, AnvilError> {
    Ok(format!(
        "0x{}",
        alloy::primitives::hex::encode(dev_signer(anvil, index)?.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// anvil's first dev account is the well-known one of the test mnemonic, and asking for an
    /// account it does not have is an error, not a panic.
    #[test]
    fn dev_keys_come_from_the_node() {
        let anvil = spawn(&AnvilOptions::new()).expect("the pinned anvil starts");
        let key = dev_key_hex(&anvil, 0).expect("account 0");
        assert_eq!(
            key,
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        );
        assert_eq!(
            dev_signer(&anvil, 9).expect("account 9").address(),
            anvil.addresses()[9]
        );
        assert!(matches!(
            dev_signer(&anvil, 10),
            Err(AnvilError::NoDevKey {
                index: 10,
                available: 10
            })
        ));
        assert!(anvil.endpoint().starts_with("http://127.0.0.1:"));
    }

    /// A restart on the port of a stopped node (what the keeper's restart tests need).
    #[test]
    fn restarts_on_the_same_port() {
        let first = spawn(&AnvilOptions::new()).expect("anvil starts");
        let port = first.port();
        drop(first);
        let second = spawn(&AnvilOptions::new().port(port)).expect("anvil restarts");
        assert_eq!(second.port(), port);
    }

    /// States anvil moves out of memory (past its in-memory history) go to the node's own
    /// directory, which is removed when the node is dropped (before, alloy's SIGKILL left them in
    /// `~/.foundry/anvil/tmp` for good).
    #[tokio::test]
    async fn the_state_cache_is_the_nodes_own_and_goes_with_it() {
        use alloy::providers::ext::AnvilApi;
        let node = spawn(&AnvilOptions::new()).expect("anvil starts");
        let cache = node.cache_path().to_path_buf();
        let provider = alloy::providers::ProviderBuilder::new().connect_http(node.endpoint_url());
        provider
            .anvil_mine(Some(768), None)
            .await
            .expect("anvil mines 768 blocks");
        let written = walk(&cache);
        assert!(
            written > 0,
            "anvil moved states to {} after 768 blocks",
            cache.display()
        );
        drop(node);
        assert!(
            !cache.exists(),
            "{} is removed with the node",
            cache.display()
        );
    }

    /// Files under `dir`, recursively.
    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }

    /// Transactions sent together whose gas limits add up to more than mainnet's 30M block are
    /// all mined by automine without a further transaction (with anvil's default 30M limit the
    /// third stayed pending for good, which hung a CI run's `forge script`).
    #[tokio::test]
    async fn concurrent_transactions_beyond_one_mainnet_block_are_all_mined() {
        use alloy::{
            network::{EthereumWallet, TransactionBuilder},
            primitives::{Address, U256},
            providers::{Provider, ProviderBuilder},
            rpc::types::TransactionRequest,
        };
        let node = spawn(&AnvilOptions::new()).expect("anvil starts");
        let signer = dev_signer(&node, 0).expect("account 0");
        let from = signer.address();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(node.endpoint_url());
        let mut hashes = Vec::new();
        for nonce in 0..3u64 {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(Address::repeat_byte(0x11))
                .with_value(U256::from(1))
                .with_nonce(nonce)
                .with_gas_limit(12_000_000)
                .with_max_fee_per_gas(10_000_000_000)
                .with_max_priority_fee_per_gas(1);
            let pending = provider.send_transaction(tx).await.expect("sent");
            hashes.push(*pending.tx_hash());
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        for h in hashes {
            loop {
                if provider
                    .get_transaction_receipt(h)
                    .await
                    .expect("receipt query")
                    .is_some()
                {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{h} is still pending: automine left it for a transaction that never comes"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }

    #[test]
    fn a_missing_binary_is_named() {
        let err = find(Some(Path::new("/nonexistent/anvil"))).expect_err("no such file");
        assert!(err.to_string().contains("/nonexistent/anvil"), "{err}");
    }
}
