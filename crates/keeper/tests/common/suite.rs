//! The deployed suite on a private anvil, shared by the keeper's runtime and failover tests: one
//! operator (owner = key 1, hot key = key 2) serving the built-in model with k = q = 1.

use std::path::Path;

use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolCall;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_deploy::plan::{DeployParams, DeployPlan};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::registry::{ModelParams, VerificationMode};
use verinfer_keeper::txmgr::TxManager;
use verinfer_mlp::dataset::TestSplit;
use verinfer_mlp::IntMlp;

use super::{fast_cfg, store_at, txm, Anvil};

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
        let plan = DeployPlan::new(&DeployParams::local(admin.from()), 0);
        for (i, step) in plan.steps.iter().enumerate() {
            let (to, data) = step.tx();
            admin
                .send(&format!("deploy:{i}"), to, data.clone())
                .await
                .unwrap();
        }
        let token = plan.addresses["VerinferToken"];
        let staking = plan.addresses["Staking"];
        let registry = plan.addresses["InferenceRegistry"];
        let model = IntMlp::builtin().unwrap();
        let stake = U256::from(5_000u128 * TOKEN);
        let params = ModelParams {
            mode: u8::from(mode),
            k: 1,
            q: 1,
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
        call(&admin, "model", registry, register_model.abi_encode()).await;
        let transfer = VerinferToken::transferCall {
            to: owner.from(),
            value: stake,
        };
        call(&admin, "fund", token, transfer.abi_encode()).await;
        let approve = VerinferToken::approveCall {
            spender: staking,
            value: stake,
        };
        call(&owner, "approve", token, approve.abi_encode()).await;
        let hot = anvil.key(2);
        let register = Staking::registerOperatorCall {
            signer: hot.address(),
            selfStake: stake,
        };
        call(&owner, "register", staking, register.abi_encode()).await;
        let serve = InferenceRegistry::serveModelCall {
            modelId: model.model_id(),
        };
        call(&owner, "serve", registry, serve.abi_encode()).await;
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
            inputHash: keccak256(&input),
            inputURI: inline_uri(&input),
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
        let raw = RawConfig {
            submit: SubmitConfig {
                mode,
                receipt_poll_ms: 20,
                max_in_flight,
                ..SubmitConfig::default()
            },
            ..self.raw_config(data_dir, self.operator, start_block)
        };
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

    pub async fn answered(&self, id: U256) -> bool {
        InferenceRegistry::new(self.registry, &self.p)
            .answerOf(id, self.operator)
            .call()
            .await
            .unwrap()
            .answered
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

    pub async fn hot_txs(&self) -> u64 {
        self.p
            .get_transaction_count(self.hot.address())
            .await
            .unwrap()
    }
}
