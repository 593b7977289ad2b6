//! The keeper runtime (`Keeper`) against the deployed suite on a private anvil: an attestation
//! reorged out after inclusion (anvil's reorg RPC), and a keeper killed mid-submission and restarted
//! from its journal. Every request is one attestation (model with k = q = 1, one operator).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolCall;
use common::*;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::model::IntMlp;
use verinfer_keeper::registry::{ModelParams, VerificationMode};
use verinfer_keeper::store::{IntentKind, IntentStatus};
use verinfer_keeper::txmgr::TxManager;
use verinfer_sim::plan::{DeployParams, DeployPlan, TOKEN};

const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// The deployed suite with one operator (owner = key 1, hot key = key 2) serving the built-in model;
/// key 0 deployed everything and is the client.
struct Suite {
    p: RootProvider,
    url: String,
    admin: TxManager,
    operator: Address,
    hot: HotKey,
    registry: Address,
    model: IntMlp,
    requests: u64,
}

async fn call(t: &TxManager, key: &str, to: Address, data: Vec<u8>) {
    t.send(key, Some(to), Bytes::from(data)).await.unwrap();
}

impl Suite {
    async fn setup(anvil: &Anvil, dir: &tempfile::TempDir) -> Self {
        let p = anvil.provider();
        let admin = txm(p.clone(), KEY0, store_at(dir, "admin.redb"), fast_cfg());
        let owner = txm(p.clone(), KEY1, store_at(dir, "owner.redb"), fast_cfg());
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
        let model = IntMlp::default_model();
        let stake = U256::from(5_000u128 * TOKEN);
        let params = ModelParams {
            mode: VerificationMode::Deterministic as u8,
            k: 1,
            q: 1,
            challengeWindow: 600,
            minStake: U256::from(1_000u128 * TOKEN),
            challengeBond: U256::from(TOKEN),
            minFee: U256::from(TOKEN / 100),
        };
        let register_model = InferenceRegistry::registerModelCall {
            weightsHash: model.weights_hash(),
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
        let hot = HotKey::from_hex(KEY2, "test").unwrap();
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
            registry,
            model,
            requests: 0,
        }
    }

    /// Sends a request; returns its id (ids are sequential: key 0 is the only client).
    async fn request(&mut self) -> U256 {
        self.requests += 1;
        let input = format!("request {}", self.requests).into_bytes();
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
        let key = format!("request:{}", self.requests);
        call(&self.admin, &key, self.registry, request.abi_encode()).await;
        U256::from(self.requests)
    }

    async fn keeper(&self, data_dir: &Path, mode: SubmitMode, start_block: u64) -> Keeper {
        let cfg = KeeperConfig::from_raw(RawConfig {
            rpc_url: Some(self.url.clone()),
            registry: Some(format!("{:#x}", self.registry)),
            operator: Some(format!("{:#x}", self.operator)),
            data_dir: Some(data_dir.to_path_buf()),
            poll_interval_ms: Some(50),
            start_block: Some(start_block),
            submit: SubmitConfig {
                mode,
                receipt_poll_ms: 20,
                ..SubmitConfig::default()
            },
            ..RawConfig::default()
        })
        .unwrap();
        Keeper::new(cfg, self.hot.clone(), "test").await.unwrap()
    }

    async fn answered(&self, id: U256) -> bool {
        InferenceRegistry::new(self.registry, &self.p)
            .answerOf(id, self.operator)
            .call()
            .await
            .unwrap()
            .answered
    }

    async fn hot_txs(&self) -> u64 {
        self.p
            .get_transaction_count(self.hot.address())
            .await
            .unwrap()
    }
}

/// Ticks `k` until every id in `ids` is answered on chain, or 30 s.
async fn tick_until_answered(k: &mut Keeper, s: &Suite, ids: &[U256], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut all = true;
        for id in ids {
            all &= s.answered(*id).await;
        }
        if all {
            return;
        }
        assert!(Instant::now() < deadline, "keeper made no progress: {what}");
        k.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn attestation_reorged_out_after_inclusion_is_resubmitted_once() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let id = s.request().await;
    let mut k = s
        .keeper(&dir.path().join("keeper"), SubmitMode::Single, start_block)
        .await;
    tick_until_answered(&mut k, &s, &[id], "first answer").await;
    assert_eq!(s.hot_txs().await, 1);

    // The answer's block (the chain head) is replaced by an empty one: the answer is gone.
    raw(&s.p, "anvil_reorg", serde_json::json!([1, []])).await;
    assert!(!s.answered(id).await);
    assert_eq!(s.hot_txs().await, 0);
    // more blocks on top, as on a live chain
    raw(&s.p, "anvil_mine", serde_json::json!(["0x2"])).await;

    tick_until_answered(&mut k, &s, &[id], "answer again after the reorg").await;
    // a few more ticks must not send anything else
    for _ in 0..5 {
        k.tick().await.unwrap();
    }
    assert_eq!(
        s.hot_txs().await,
        1,
        "the reorged-out attestation is sent again exactly once"
    );
}

/// kill -9 mid-submission: the keeper task is dropped while it works through a backlog (some
/// attestations included, others journaled or in flight); a new keeper on the same journal answers
/// every request, each with exactly one transaction.
#[tokio::test]
async fn keeper_killed_mid_submission_restarts_without_duplicates_or_losses() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(s.request().await);
    }
    let data_dir = dir.path().join("keeper");
    let k = s.keeper(&data_dir, SubmitMode::Single, start_block).await;
    let store = k.store().clone();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    // kill once a few attestations are done and the rest are journaled
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = store
            .intents()
            .unwrap()
            .iter()
            .filter(|i| {
                i.kind == IntentKind::Attest && matches!(i.status, IntentStatus::Done { .. })
            })
            .count();
        if done >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "keeper made no progress before the kill"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    task.abort();
    let _ = task.await;
    drop(store);
    let before = s.hot_txs().await;
    assert!(
        (before as usize) < ids.len(),
        "killed before finishing ({before} of {} sent)",
        ids.len()
    );

    let mut k = s.keeper(&data_dir, SubmitMode::Single, start_block).await;
    k.reconcile().await.unwrap();
    tick_until_answered(&mut k, &s, &ids, "after restart").await;
    for _ in 0..5 {
        k.tick().await.unwrap();
    }
    assert_eq!(
        s.hot_txs().await,
        ids.len() as u64,
        "one transaction per request: nothing duplicated, nothing lost"
    );
}
