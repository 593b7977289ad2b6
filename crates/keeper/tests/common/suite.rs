//! The deployed suite on a private anvil, shared by the keeper's runtime and failover tests: one
//! operator (owner = key 1, hot key = key 2) serving the built-in model with k = q = 1.

use std::path::Path;

use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolCall;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{InferenceRegistry, VerinferToken};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::registry::{RequestStatus, VerificationMode};
use verinfer_keeper::txmgr::TxManager;
use verinfer_mlp::dataset::TestSplit;
use verinfer_mlp::IntMlp;

use super::{
    add_operator, deploy_suite, fast_cfg, fund_bond, register_builtin, store_at, txm, Anvil,
};

/// The deployed suite with one operator (owner = key 1, hot key = key 2) serving the built-in model;
/// key 0 deployed everything and is the client.
pub struct Suite {
    pub p: RootProvider,
    pub url: String,
    pub admin: TxManager,
    pub operator: Address,
    pub hot: HotKey,
    pub token: Address,
    pub registry: Address,
    pub identity: Address,
    pub model: IntMlp,
    /// The id the last request got (ids are sequential: key 0 is the only client).
    pub requests: u64,
    /// Request transactions sent (their journal keys; never reused, unlike ids after a reorg).
    pub sent: u64,
}

/// Image `n` of the digits test split (cycling): a valid input of the built-in model.
pub fn digit(n: u64) -> Vec<u8> {
    let split = TestSplit::digits().unwrap();
    split.cycle(n as usize).input.clone()
}

pub async fn call(t: &TxManager, key: &str, to: Address, data: Vec<u8>) {
    t.send(key, Some(to), Bytes::from(data)).await.unwrap();
}

impl Suite {
    pub async fn setup(anvil: &Anvil, dir: &tempfile::TempDir) -> Self {
        Self::setup_with_mode(anvil, dir, VerificationMode::Deterministic).await
    }

    /// The suite with the built-in model registered in `mode` (Deterministic: its two-way disputes go
    /// to the referee; Optimistic: to the vote).
    pub async fn setup_with_mode(
        anvil: &Anvil,
        dir: &tempfile::TempDir,
        mode: VerificationMode,
    ) -> Self {
        let p = anvil.provider();
        let admin = txm(
            p.clone(),
            anvil.key(0),
            store_at(dir, "admin.redb"),
            fast_cfg(),
        );
        let owner = txm(
            p.clone(),
            anvil.key(1),
            store_at(dir, "owner.redb"),
            fast_cfg(),
        );
        let plan = deploy_suite(&admin).await;
        let token = plan.addresses["VerinferToken"];
        let registry = plan.addresses["InferenceRegistry"];
        let model = IntMlp::builtin().unwrap();
        let stake = U256::from(5_000u128 * TOKEN);
        register_builtin(&admin, registry, u8::from(mode), 1, 1).await;
        let hot = anvil.key(2);
        add_operator(
            &admin,
            &owner,
            hot.address(),
            &plan,
            model.model_id(),
            stake,
            "",
        )
        .await;
        let fees = VerinferToken::approveCall {
            spender: registry,
            value: U256::MAX,
        };
        call(&admin, "fees", token, fees.abi_encode()).await;
        Self {
            p,
            url: anvil.url.clone(),
            admin,
            operator: owner.from(),
            hot,
            token,
            registry,
            identity: plan.addresses["IdentityRegistry"],
            model,
            requests: 0,
            sent: 0,
        }
    }

    /// Sends a request for the next digit of the test split; returns its id.
    pub async fn request(&mut self) -> U256 {
        self.request_with(digit(self.requests + 1)).await
    }

    /// Sends a request with `input`; returns its id (ids are sequential: key 0 is the only client).
    pub async fn request_with(&mut self, input: Vec<u8>) -> U256 {
        self.request_at(keccak256(&input), inline_uri(&input)).await
    }

    /// Sends a request whose input hashes to `input_hash` and is fetched from `uri`; returns its id.
    pub async fn request_at(&mut self, input_hash: alloy::primitives::B256, uri: String) -> U256 {
        self.requests += 1;
        self.sent += 1;
        let now = self
            .p
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp;
        let request = InferenceRegistry::requestInferenceCall {
            modelId: self.model.model_id(),
            inputHash: input_hash,
            inputURI: uri,
            fee: U256::from(TOKEN / 100),
            deadline: alloy::primitives::Uint::from(now + 3_600),
        };
        let key = format!("request:{}", self.sent);
        call(&self.admin, &key, self.registry, request.abi_encode()).await;
        U256::from(self.requests)
    }

    pub async fn keeper(&self, data_dir: &Path, mode: SubmitMode, start_block: u64) -> Keeper {
        self.keeper_in_flight(
            data_dir,
            mode,
            SubmitConfig::default().max_in_flight,
            start_block,
        )
        .await
    }

    /// A keeper of the suite's operator with `max_in_flight` transactions in flight.
    pub async fn keeper_in_flight(
        &self,
        data_dir: &Path,
        mode: SubmitMode,
        max_in_flight: usize,
        start_block: u64,
    ) -> Keeper {
        self.keeper_tuned(data_dir, mode, start_block, |raw| {
            raw.submit.max_in_flight = max_in_flight
        })
        .await
    }

    /// A keeper of the suite's operator in `mode`, its configuration changed by `tune` first.
    pub async fn keeper_tuned(
        &self,
        data_dir: &Path,
        mode: SubmitMode,
        start_block: u64,
        tune: impl FnOnce(&mut RawConfig),
    ) -> Keeper {
        let mut raw = RawConfig {
            submit: SubmitConfig {
                mode,
                receipt_poll_ms: 20,
                ..SubmitConfig::default()
            },
            ..self.raw_config(data_dir, self.operator, start_block)
        };
        tune(&mut raw);
        let cfg = KeeperConfig::from_raw(raw).unwrap();
        Keeper::new(cfg, self.hot.clone(), "test").await.unwrap()
    }

    /// The keeper configuration of `operator` on this suite, journal in `data_dir`.
    pub fn raw_config(&self, data_dir: &Path, operator: Address, start_block: u64) -> RawConfig {
        RawConfig {
            rpc_url: Some(self.url.clone()),
            registry: Some(format!("{:#x}", self.registry)),
            operator: Some(format!("{operator:#x}")),
            data_dir: Some(data_dir.to_path_buf()),
            poll_interval_ms: Some(50),
            start_block: Some(start_block),
            submit: SubmitConfig {
                mode: SubmitMode::Single,
                receipt_poll_ms: 20,
                ..SubmitConfig::default()
            },
            ..RawConfig::default()
        }
    }

    /// How many of `ids` are finalized on chain.
    pub async fn finalized(&self, ids: &[U256]) -> usize {
        let mut n = 0;
        for id in ids {
            let r = InferenceRegistry::new(self.registry, &self.p)
                .request(*id)
                .call()
                .await
                .unwrap();
            n += usize::from(RequestStatus::of(r.status) == Some(RequestStatus::Finalized));
        }
        n
    }

    /// A finalizing keeper that is no operator and does not watch: `key` as hot key, journal in
    /// `data_dir`, talking to the node at `rpc_url` (the suite's node when `None`).
    pub async fn finalizer(
        &self,
        key: HotKey,
        data_dir: &Path,
        start_block: u64,
        rpc_url: Option<&str>,
    ) -> Keeper {
        let mut raw = RawConfig {
            watch: Some(false),
            finalize: Some(true),
            ..self.raw_config(data_dir, key.address(), start_block)
        };
        if let Some(url) = rpc_url {
            raw.rpc_url = Some(url.to_string());
        }
        let cfg = KeeperConfig::from_raw(raw).unwrap();
        Keeper::new(cfg, key, "finalizer").await.unwrap()
    }

    pub async fn answered(&self, id: U256) -> bool {
        InferenceRegistry::new(self.registry, &self.p)
            .answerOf(id, self.operator)
            .call()
            .await
            .unwrap()
            .answered
    }

    /// The operator's keeper, returning wrong results and not watching (journal `operator` in `dir`).
    pub async fn wrong_operator(&self, dir: &tempfile::TempDir, start_block: u64) -> Keeper {
        let cfg = KeeperConfig {
            misbehave: Misbehaviour::WrongResult,
            ..KeeperConfig::from_raw(RawConfig {
                watch: Some(false),
                ..self.raw_config(&dir.path().join("operator"), self.operator, start_block)
            })
            .unwrap()
        };
        Keeper::new(cfg, self.hot.clone(), "operator")
            .await
            .unwrap()
    }

    /// A watching keeper that is no operator: dev account 3 as hot key, holding tokens for a challenge
    /// bond the registry may take; assigned nothing. Returns its sender and the keeper.
    pub async fn watcher(
        &self,
        anvil: &Anvil,
        dir: &tempfile::TempDir,
        start_block: u64,
    ) -> (TxManager, Keeper) {
        let key = anvil.key(3);
        let watcher = txm(
            self.p.clone(),
            key.clone(),
            store_at(dir, "w.redb"),
            fast_cfg(),
        );
        fund_bond(&self.admin, &watcher, self.token, self.registry).await;
        let cfg = KeeperConfig::from_raw(RawConfig {
            watch: Some(true),
            finalize: Some(false),
            ..self.raw_config(&dir.path().join("watcher"), watcher.from(), start_block)
        })
        .unwrap();
        let keeper = Keeper::new(cfg, key, "watcher").await.unwrap();
        (watcher, keeper)
    }

    /// Whether every request in `ids` is answered on chain by the operator.
    pub async fn all_answered(&self, ids: &[U256]) -> bool {
        for id in ids {
            if !self.answered(*id).await {
                return false;
            }
        }
        true
    }

    /// Sends `n` requests, one after another; their ids in order.
    pub async fn requests(&mut self, n: usize) -> Vec<U256> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(self.request().await);
        }
        ids
    }

    /// Waits until every id in `ids` is answered on chain; fails after `secs`.
    pub async fn answered_within(&self, ids: &[U256], secs: u64, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !self.all_answered(ids).await {
            assert!(
                std::time::Instant::now() < deadline,
                "not answered within {secs} s: {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn hot_txs(&self) -> u64 {
        self.p
            .get_transaction_count(self.hot.address())
            .await
            .unwrap()
    }
}
