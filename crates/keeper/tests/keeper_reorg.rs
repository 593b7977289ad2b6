//! The keeper runtime against a reorg through anvil's reorg RPC: an attestation that was mined and
//! journaled as done is reorged out; the keeper notices and submits it again, exactly once.

mod common;

use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::*;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::model::IntMlp;
use verinfer_keeper::registry::{ModelParams, VerificationMode};
use verinfer_keeper::txmgr::TxManager;
use verinfer_sim::plan::{DeployParams, DeployPlan, TOKEN};

const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

async fn call(t: &TxManager, key: &str, to: Address, data: Vec<u8>) {
    t.send(key, Some(to), Bytes::from(data)).await.unwrap();
}

/// Ticks `k` until `done()` or 30 s.
async fn tick_until<F, Fut>(k: &mut Keeper, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "keeper made no progress: {what}");
        k.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn attestation_reorged_out_after_inclusion_is_resubmitted_once() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    // deployer = key 0 (also the client), operator owner = key 1, hot key = key 2
    let admin = txm(p.clone(), KEY0, store_at(&dir, "admin.redb"), fast_cfg());
    let owner = txm(p.clone(), KEY1, store_at(&dir, "owner.redb"), fast_cfg());
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
    call(
        &admin,
        "model",
        registry,
        InferenceRegistry::registerModelCall {
            weightsHash: model.weights_hash(),
            runtimeSpecHash: IntMlp::runtime_spec_hash(),
            params,
        }
        .abi_encode(),
    )
    .await;
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

    let start_block = p.get_block_number().await.unwrap();
    let input = b"reorg me".to_vec();
    let now = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let request = InferenceRegistry::requestInferenceCall {
        modelId: model.model_id(),
        inputHash: keccak256(&input),
        inputURI: inline_uri(&input),
        fee: U256::from(TOKEN / 100),
        deadline: alloy::primitives::Uint::from(now + 3_600),
    };
    call(&admin, "request", registry, request.abi_encode()).await;
    let id = U256::from(1);

    let cfg = KeeperConfig::from_raw(RawConfig {
        rpc_url: Some(anvil.url.clone()),
        registry: Some(format!("{registry:#x}")),
        operator: Some(format!("{:#x}", owner.from())),
        data_dir: Some(dir.path().join("keeper")),
        start_block: Some(start_block),
        submit: SubmitConfig {
            mode: SubmitMode::Single,
            ..SubmitConfig::default()
        },
        ..RawConfig::default()
    })
    .unwrap();
    let mut k = Keeper::new(cfg, hot.clone(), "reorg").await.unwrap();
    let reg = InferenceRegistry::new(registry, &p);
    let answered = || async {
        reg.answerOf(id, owner.from())
            .call()
            .await
            .unwrap()
            .answered
    };
    tick_until(&mut k, "first answer", answered).await;
    assert_eq!(p.get_transaction_count(hot.address()).await.unwrap(), 1);

    // The answer's block (the chain head) is replaced by an empty one: the answer is gone.
    raw(&p, "anvil_reorg", serde_json::json!([1, []])).await;
    assert!(
        !reg.answerOf(id, owner.from())
            .call()
            .await
            .unwrap()
            .answered
    );
    assert_eq!(p.get_transaction_count(hot.address()).await.unwrap(), 0);
    // more blocks on top, as on a live chain
    raw(&p, "anvil_mine", serde_json::json!(["0x2"])).await;

    tick_until(&mut k, "answer again after the reorg", answered).await;
    // a few more ticks must not send anything else
    for _ in 0..5 {
        k.tick().await.unwrap();
    }
    assert_eq!(
        p.get_transaction_count(hot.address()).await.unwrap(),
        1,
        "the reorged-out attestation is sent again exactly once"
    );
}
