//! Test support: a private anvil per test on a free loopback port, and small chain helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolConstructor;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};

pub const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

pub fn anvil_bin() -> PathBuf {
    if let Ok(root) = std::env::var("VERINFER_ROOT") {
        let p = PathBuf::from(root).join(".toolchain/anvil");
        if p.exists() {
            return p;
        }
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.toolchain/anvil");
    assert!(
        p.exists(),
        "pinned anvil not found at {} (run script/setup.sh)",
        p.display()
    );
    p
}

pub struct Anvil {
    pub child: Option<std::process::Child>,
    pub port: u16,
    pub url: String,
    extra: Vec<String>,
}

impl Anvil {
    pub fn start(extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut a = Self {
            child: None,
            port,
            url: format!("http://127.0.0.1:{port}"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        a.spawn();
        a
    }

    pub fn spawn(&mut self) {
        let child = std::process::Command::new(anvil_bin())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--silent",
            ])
            .args(&self.extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn anvil");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "anvil did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn provider(&self) -> RootProvider {
        RootProvider::new_http(self.url.parse().unwrap())
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.stop();
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

pub fn txm(provider: RootProvider, key: &str, store: Arc<Store>, cfg: TxConfig) -> TxManager {
    TxManager::new(
        provider,
        &HotKey::from_hex(key, "test").unwrap(),
        31337,
        store,
        cfg,
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
