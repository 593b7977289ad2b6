//! Shared harness of the CLI integration tests: an anvil the test starts itself (through
//! `verinfer_devnet::anvil`; the pinned one's absence fails the test), the `verinfer` binary run as any dev account against
//! it, and a few raw RPC helpers.

#![allow(dead_code)]

pub mod docs;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use alloy::network::{Ethereum, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionRequest;
use verinfer_devnet::anvil::{self, AnvilNode, AnvilOptions};

#[allow(unused_imports)]
pub use verinfer_bindings::units::TOKEN;

/// The pinned anvil is part of the toolchain: its absence fails the test.
pub fn spawn_anvil() -> AnvilNode {
    spawn_anvil_with(&[])
}

/// [`spawn_anvil`] with extra anvil arguments (e.g. `--block-time 1`).
pub fn spawn_anvil_with(args: &[&str]) -> AnvilNode {
    anvil::spawn(&AnvilOptions::new().args(args.iter().copied()))
        .expect("the pinned anvil starts (run script/setup.sh)")
}

/// A chain under test and a scratch directory (manifest, keeper databases).
pub struct Chain {
    pub anvil: AnvilNode,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
    pub provider: RootProvider<Ethereum>,
}

impl Chain {
    /// A fresh anvil (instant mining).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A fresh anvil started with extra arguments.
    pub fn start_with(args: &[&str]) -> Self {
        let anvil = spawn_anvil_with(args);
        let url = anvil.endpoint_url().to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let provider = RootProvider::<Ethereum>::new_http(url.parse().unwrap());
        Self {
            anvil,
            url,
            dir: tempfile::tempdir().unwrap(),
            rt,
            provider,
        }
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.path().join("deployments/31337.json")
    }

    /// The private key of dev account `i`, hex.
    pub fn key(&self, i: usize) -> String {
        anvil::dev_key_hex(&self.anvil, i).expect("a dev account")
    }

    pub fn addr(&self, i: usize) -> Address {
        self.anvil.addresses()[i]
    }

    /// Runs the binary as account `key` against this chain and manifest.
    pub fn run(&self, key: usize, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verinfer"));
        c.args(args)
            .env("VERINFER_RPC_URL", &self.url)
            .env("VERINFER_PRIVATE_KEY", self.key(key))
            .env("VERINFER_DEPLOYMENT", self.manifest())
            .env_remove("VERINFER_KEYSTORE");
        c.output().expect("run verinfer")
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, key: usize, args: &[&str]) -> String {
        let o = self.run(key, args);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "verinfer {args:?} failed:\n{out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    }

    /// Runs and requires failure; returns stderr.
    pub fn fails(&self, key: usize, args: &[&str]) -> String {
        let o = self.run(key, args);
        assert!(
            !o.status.success(),
            "verinfer {args:?} should fail:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stderr).to_string()
    }

    pub fn rpc(&self, method: &'static str, params: serde_json::Value) {
        self.rt
            .block_on(
                self.provider
                    .raw_request::<_, serde_json::Value>(method.into(), params),
            )
            .unwrap_or_else(|e| panic!("{method}: {e}"));
    }

    pub fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", serde_json::json!([format!("{blocks:#x}")]));
    }

    pub fn contract(&self, name: &str) -> Address {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.manifest()).unwrap()).unwrap();
        m["contracts"][name].as_str().unwrap().parse().unwrap()
    }

    /// `eth_call` from `from`: the return data, or the node's error text.
    pub fn call(&self, from: Address, to: Address, data: Vec<u8>) -> Result<Bytes, String> {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(Bytes::from(data));
        self.rt
            .block_on(async { self.provider.call(tx).await })
            .map_err(|e| e.to_string())
    }

    /// Sends from an unlocked anvil account and waits (with a deadline) for a successful receipt.
    pub fn send(&self, from: Address, to: Address, data: Vec<u8>) {
        self.rt.block_on(async {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(to)
                .with_input(Bytes::from(data));
            let pending = self.provider.send_transaction(tx).await.unwrap();
            let hash = *pending.tx_hash();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(r) = self.provider.get_transaction_receipt(hash).await.unwrap() {
                    assert!(r.status(), "tx {hash} to {to} reverted");
                    return;
                }
                assert!(Instant::now() < deadline, "no receipt for {hash}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
}
