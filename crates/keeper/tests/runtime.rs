//! The keeper runtime (`Keeper`) against the deployed suite on a private anvil: an attestation
//! reorged out after inclusion (anvil's reorg RPC), and a keeper killed mid-submission and restarted
//! from its journal. Every request is one attestation (model with k = q = 1, one operator).

mod common;

use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::suite::{call, digit, Suite};
use common::*;
use verinfer_bindings::{IdentityRegistry, InferenceRegistry};
use verinfer_devnet::rpc_fault::{Fault, FaultyRpc};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::backend::BackendError;
use verinfer_keeper::config::BackendConfig;
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::Keeper;
use verinfer_keeper::keeper::KeeperError;
use verinfer_keeper::registry::{RequestStatus, VerificationMode};
use verinfer_keeper::store::{DiskFault, IntentKind, IntentStatus, StoreError};
use verinfer_mlp::IntMlp;

/// A few more ticks once the work is done: whatever they send is a duplicate the tests count.
async fn settle(k: &mut Keeper) {
    for _ in 0..5 {
        k.tick().await.unwrap();
    }
}

/// Ticks `k` until every id in `ids` is answered on chain, or 30 s.
async fn tick_until_answered(k: &mut Keeper, s: &Suite, ids: &[U256], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if s.all_answered(ids).await {
            return;
        }
        assert!(Instant::now() < deadline, "keeper made no progress: {what}");
        k.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A request whose input the model refuses (5 bytes for the 64-pixel classifier) is never attested:
/// the keeper sends nothing for it, does not stall on it, and answers the valid request after it.
#[tokio::test]
async fn wrong_size_input_is_never_attested_and_does_not_stall_the_keeper() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let bad = s.request_with(b"hello".to_vec()).await;
    let good = s.request().await;
    let mut k = s
        .keeper(&dir.path().join("keeper"), SubmitMode::Single, start_block)
        .await;
    tick_until_answered(&mut k, &s, &[good], "the valid request after a bad one").await;
    settle(&mut k).await;
    assert!(!s.answered(bad).await, "a refused input was attested");
    assert_eq!(s.hot_txs().await, 1, "only the valid request was answered");
    assert_eq!(k.metrics().inputs_refused.get(), 1);
}

/// A keeper configured to serve a model file under an id the file does not have refuses to start.
#[tokio::test]
async fn keeper_refuses_a_model_file_whose_id_differs_from_its_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits.vimlp");
    std::fs::write(&path, verinfer_mlp::BUILTIN_MODEL_FILE).unwrap();
    let wrong = format!("0x{}", "11".repeat(32));
    let cfg = KeeperConfig::from_raw(RawConfig {
        rpc_url: Some("http://127.0.0.1:1".into()),
        registry: Some(format!("{:#x}", Address::repeat_byte(1))),
        operator: Some(format!("{:#x}", Address::repeat_byte(2))),
        data_dir: Some(dir.path().join("keeper")),
        backend: vec![BackendConfig::ModelFile {
            path,
            model_id: wrong,
        }],
        ..RawConfig::default()
    })
    .unwrap();
    let hot = HotKey::from_hex(&format!("0x{}", "01".repeat(32)), "test").unwrap();
    match Keeper::new(cfg, hot, "test").await {
        Err(KeeperError::Backend(BackendError::IdMismatch { computed, .. })) => {
            assert_eq!(computed, IntMlp::builtin().unwrap().model_id())
        }
        Err(e) => panic!("expected an id mismatch, got {e}"),
        Ok(_) => panic!("the keeper started with the wrong model"),
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
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        1,
        "the reorged-out attestation is sent again exactly once"
    );
}

/// Issue #15, D1: request ids are a counter, so when a reorg removes a request (and the answer to
/// it) the client's next request reuses the id. The keeper answers the new request (its journal is
/// keyed by the request's digest, not the id) and never re-sends the old attestation, which would
/// revert with `AttestationMismatch`; the old answer's nonce is taken by the new one (no gap, no
/// no-op). Fails on the keeper keyed by `attest:<id>:<operator>`: the new request goes unanswered.
#[tokio::test]
async fn request_reorged_out_and_its_id_reused_is_answered_and_the_old_attestation_never_resent() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let id = s.request_with(digit(1)).await;
    let mut k = s
        .keeper(&dir.path().join("keeper"), SubmitMode::Single, start_block)
        .await;
    tick_until_answered(&mut k, &s, &[id], "first answer").await;

    // The request's block and the answer's block are replaced by empty ones.
    raw(&s.p, "anvil_reorg", serde_json::json!([2, []])).await;
    assert_eq!(s.hot_txs().await, 0);
    s.requests -= 1;
    s.admin.resync_nonce().await;
    let again = s.request_with(digit(7)).await;
    assert_eq!(again, id, "the counter hands out the same id");
    let view = InferenceRegistry::new(s.registry, &s.p)
        .request(id)
        .call()
        .await
        .unwrap();
    assert_eq!(
        view.inputHash,
        keccak256(digit(7)),
        "id {id} now names the new request"
    );

    tick_until_answered(&mut k, &s, &[id], "the request that reuses the id").await;
    settle(&mut k).await;
    let ans = InferenceRegistry::new(s.registry, &s.p)
        .answerOf(id, s.operator)
        .call()
        .await
        .unwrap();
    assert_eq!(
        ans.outputHash,
        keccak256(s.model.infer(&digit(7)).unwrap()),
        "the answer is to the new request's input"
    );
    assert_eq!(
        s.hot_txs().await,
        1,
        "one transaction: the new answer (the old attestation was not re-sent, no no-op)"
    );
    let attests: Vec<_> = k
        .store()
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::Attest)
        .collect();
    assert_eq!(attests.len(), 2, "{attests:?}");
    assert!(
        attests.iter().any(|i| matches!(&i.status,
            IntentStatus::Abandoned { reason } if reason.contains("reorged out or replaced"))),
        "the old attestation is set aside: {attests:?}"
    );
}

/// Issue #15, D3: SIGTERM while a transaction is stuck (mining paused, a 60 s receipt deadline with
/// five bumps ahead) stops the keeper within its shutdown grace, and the signed transaction stays
/// journaled for the restart. Fails on the single-loop keeper, which checked shutdown only between
/// ticks and sat in the receipt wait.
#[tokio::test]
async fn shutdown_is_prompt_while_a_transaction_is_stuck() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    s.request().await;
    raw(&s.p, "evm_setAutomine", serde_json::json!([false])).await;
    let cfg = KeeperConfig::from_raw(RawConfig {
        submit: SubmitConfig {
            mode: SubmitMode::Single,
            receipt_timeout_secs: 60,
            ..SubmitConfig::default()
        },
        ..s.raw_config(&dir.path().join("keeper"), s.operator, start_block)
    })
    .unwrap();
    let k = Keeper::new(cfg, s.hot.clone(), "stuck").await.unwrap();
    let store = k.store().clone();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !store
        .intents()
        .unwrap()
        .iter()
        .any(|i| matches!(i.status, IntentStatus::Sent { .. }))
    {
        assert!(Instant::now() < deadline, "the keeper never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    // Generous next to the 2 s grace, far below the 60 s receipt deadline the old loop sat in.
    let stopped = tokio::time::timeout(Duration::from_secs(20), task).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "the keeper did not stop while its transaction was stuck: {stopped:?}"
    );
    assert!(
        store
            .intents()
            .unwrap()
            .iter()
            .any(|i| matches!(i.status, IntentStatus::Sent { .. })),
        "the stuck transaction stays journaled for the restart"
    );
    raw(&s.p, "evm_setAutomine", serde_json::json!([true])).await;
}

/// Issue #15, D4: `/health` compares the cursor with the chain head the node reports now, not with
/// the keeper's own last poll: a keeper that stopped polling while the chain moved on 30 blocks is
/// unhealthy, and says by how much.
#[tokio::test]
async fn health_reports_a_keeper_behind_the_real_chain_head() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let p = anvil.provider();
    let cfg = KeeperConfig::from_raw(RawConfig {
        rpc_url: Some(anvil.url.clone()),
        registry: Some(format!("{:#x}", Address::repeat_byte(1))),
        operator: Some(format!("{:#x}", Address::repeat_byte(2))),
        data_dir: Some(dir.path().join("keeper")),
        ..RawConfig::default()
    })
    .unwrap();
    let mut k = Keeper::new(cfg, anvil.key(2), "health").await.unwrap();
    raw(&p, "anvil_mine", serde_json::json!(["0x5"])).await;
    k.tick().await.unwrap();
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let addr = verinfer_keeper::api::serve(
        "127.0.0.1:0".parse().unwrap(),
        verinfer_keeper::api::operations_router(k.health()),
        rx,
    )
    .await
    .unwrap();
    let (status, body) = http_get(addr, "/health").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status} {body}");
    raw(&p, "anvil_mine", serde_json::json!(["0x1e"])).await;
    let (status, body) = http_get(addr, "/health").await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status} {body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["lag"], 30, "{body}");
    assert_eq!(report["status"], "unhealthy");
    k.tick().await.unwrap();
    let (status, body) = http_get(addr, "/health").await;
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "caught up: {status} {body}"
    );
}

/// A bare HTTP/1.1 GET: the response head (status line first, then the headers) and body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

/// A batch reorged out after inclusion: the execute stage finds its nonce empty, dissolves the
/// batch and sends its members again in one new batch (issue #15, D2: batch intents used to be
/// skipped after a reorg).
#[tokio::test]
async fn batch_reorged_out_after_inclusion_is_resent_once_per_member() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = [s.request().await, s.request().await, s.request().await];
    let mut k = s
        .keeper(&dir.path().join("keeper"), SubmitMode::Batch, start_block)
        .await;
    tick_until_answered(&mut k, &s, &ids, "the batch").await;
    assert_eq!(s.hot_txs().await, 1, "one batch transaction");
    raw(&s.p, "anvil_reorg", serde_json::json!([1, []])).await;
    assert_eq!(s.hot_txs().await, 0);
    raw(&s.p, "anvil_mine", serde_json::json!(["0x2"])).await;
    tick_until_answered(&mut k, &s, &ids, "after the batch was reorged out").await;
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        1,
        "the reorged-out batch is replaced by exactly one new batch"
    );
    let members_done = k
        .store()
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::Attest && i.members.is_empty())
        .filter(|i| matches!(i.status, IntentStatus::Done { .. }))
        .count();
    assert_eq!(members_done, ids.len());
}

/// A reorged-out batch whose dissolution fails part way (the node refuses the re-check of its
/// second member, after the first member's was read): nothing of the dissolution is written, so no
/// member is handed back while the batch still carries the others (the nonce repair's write left
/// the re-planned batch carrying every member); a later round sends the members again, and each
/// lands once. A dissolution written member by member would leave the first one pending beside a
/// batch that still carries it.
#[tokio::test]
async fn a_batch_whose_dissolution_fails_part_way_keeps_every_member_and_each_lands_once() {
    let (_anvil, dir, mut s, proxy, start_block) = proxied_suite().await;
    let ids = [s.request().await, s.request().await, s.request().await];
    let mut k = keeper_via(&s, &proxy, &dir, SubmitMode::Batch, start_block).await;
    tick_until_answered(&mut k, &s, &ids, "the batch").await;
    assert_eq!(s.hot_txs().await, 1, "one batch transaction");
    let batch = k
        .store()
        .intents()
        .unwrap()
        .into_iter()
        .find(|i| i.members.len() == ids.len())
        .expect("the batch of the three answers");
    raw(&s.p, "anvil_reorg", serde_json::json!([1, []])).await;
    assert_eq!(s.hot_txs().await, 0);
    raw(&s.p, "anvil_mine", serde_json::json!(["0x2"])).await;

    // The first member's re-check (its request, its answer) goes through; the second's is refused.
    proxy.set(
        "eth_call",
        Fault::Reject {
            skip: 2,
            times: 1,
            message: "refused for the test".into(),
        },
    );
    let calls = proxy.count("eth_call");
    let err = k
        .tick()
        .await
        .expect_err("the dissolution's failed read ends the round");
    assert!(err.to_string().contains("refused for the test"), "{err}");
    assert_eq!(
        proxy.count("eth_call") - calls,
        3,
        "the first member's two reads, then the second's refused one: part way"
    );
    let store = k.store().clone();
    let after = store.intent(&batch.key).unwrap().unwrap();
    assert_eq!(
        after.status,
        IntentStatus::Pending,
        "re-planned, not dissolved"
    );
    for m in &batch.members {
        let mi = store.intent(m).unwrap().unwrap();
        assert!(
            mi.carried_by(&batch.key),
            "{m} is still carried by the batch, not handed back on its own: {:?}",
            mi.status
        );
    }

    proxy.clear("eth_call");
    tick_until_answered(&mut k, &s, &ids, "after the failed dissolution").await;
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        1,
        "the reorged-out batch is replaced by exactly one transaction"
    );
    for m in &batch.members {
        assert!(
            matches!(
                store.intent(m).unwrap().unwrap().status,
                IntentStatus::Done { .. }
            ),
            "{m} landed"
        );
    }
}

/// Pipelined dispatch (issue #15): a transaction of a launched group that the node refuses for its
/// nonce ("nonce too low": taken, as far as the node says) is signed anew in the same round, once
/// its group has landed, at the nonce the node reports, and lands once. A round that dropped the
/// refusal would leave the answer pending for a later round: this round would execute nothing.
#[tokio::test]
async fn a_transaction_refused_for_its_nonce_is_signed_anew_in_the_same_round_and_lands_once() {
    let (_anvil, dir, mut s, proxy, start_block) = proxied_suite().await;
    let id = s.request().await;
    let mut k = keeper_via(&s, &proxy, &dir, SubmitMode::Single, start_block).await;
    let before = s.hot_txs().await;
    proxy.set(
        "eth_sendRawTransaction",
        Fault::reject_next("nonce too low"),
    );
    let t = k.tick().await.unwrap();
    assert_eq!(
        t.executed, 1,
        "the refused transaction was signed anew and landed in the same round"
    );
    assert_eq!(
        proxy.count("eth_sendRawTransaction"),
        2,
        "the refused broadcast and the one signed anew"
    );
    assert!(s.all_answered(&[id]).await);
    settle(&mut k).await;
    assert_eq!(s.hot_txs().await - before, 1, "exactly one transaction");
}

/// Pipelined dispatch, a refusal while an earlier group is landing: the first answer's broadcast is
/// held on its way to the node (2 s), the second answer is launched meanwhile as a group of its own
/// and refused for its nonce. The refused answer is signed anew above the nonce still landing, never
/// at it (the node's pending count is below it until the held broadcast arrives), and both answers
/// land, each in exactly one transaction. Two rules see to it, and the test fails only without both:
/// the round redispatches a refusal once every earlier group has landed, and a resync starts above
/// the nonces in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_while_an_earlier_group_is_landing_is_signed_anew_above_it_and_both_land_once() {
    let (_anvil, dir, mut s, proxy, start_block) = proxied_suite().await;
    let k = keeper_via(&s, &proxy, &dir, SubmitMode::Single, start_block).await;
    let before = s.hot_txs().await;
    proxy.set(
        "eth_sendRawTransaction",
        Fault::Hold(Duration::from_secs(2)),
    );
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    let first = s.request().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.count("eth_sendRawTransaction") == 0 {
        assert!(
            Instant::now() < deadline,
            "the first answer was never broadcast"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.set(
        "eth_sendRawTransaction",
        Fault::reject_next("nonce too low"),
    );
    let second = s.request().await;
    s.answered_within(&[first, second], 60, "both answers")
        .await;
    stop.send(true).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(20), task).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    // Signed anew at the nonce still landing, the second answer would take it first, and the
    // held broadcast would then be refused in turn and signed anew as well: four broadcasts.
    assert_eq!(
        proxy.count("eth_sendRawTransaction"),
        3,
        "the held broadcast, the refused one and the one signed anew"
    );
    assert_eq!(
        s.hot_txs().await - before,
        2,
        "exactly one transaction each"
    );
}

/// A suite on a fresh anvil, a fault-injecting proxy in front of the node, and the block a keeper
/// starts from.
async fn proxied_suite() -> (Anvil, tempfile::TempDir, Suite, FaultyRpc, u64) {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let s = Suite::setup(&anvil, &dir).await;
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let start_block = s.p.get_block_number().await.unwrap();
    (anvil, dir, s, proxy, start_block)
}

/// A keeper in `mode` from `start_block`, journal in `dir`/keeper, talking to the node through `proxy`.
async fn keeper_via(
    s: &Suite,
    proxy: &FaultyRpc,
    dir: &tempfile::TempDir,
    mode: SubmitMode,
    start_block: u64,
) -> Keeper {
    let url = proxy.url().to_string();
    s.keeper_tuned(&dir.path().join("keeper"), mode, start_block, |raw| {
        raw.rpc_url = Some(url)
    })
    .await
}

/// kill -9 mid-submission: the keeper task (one transaction in flight at a time) is dropped while
/// it works through a backlog (some attestations included, others journaled or in flight); a new
/// keeper on the same journal answers every request, each with exactly one transaction.
#[tokio::test]
async fn keeper_killed_mid_submission_restarts_without_duplicates_or_losses() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(12).await;
    let data_dir = dir.path().join("keeper");
    let k = s
        .keeper_in_flight(&data_dir, SubmitMode::Single, 1, start_block)
        .await;
    let store = k.store().clone();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    // kill once a few attestations are done and the rest are journaled
    let deadline = Instant::now() + Duration::from_secs(120);
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
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        ids.len() as u64,
        "one transaction per request: nothing duplicated, nothing lost"
    );
}

/// A full disk while the keeper works through a backlog (issue 15, "Bad input and faults"): the
/// first journal write the disk refuses stops the keeper with the typed `StoreError::DiskFull`
/// (not a retry loop, not a panic), and nothing journaled is lost: once space returns, a restarted
/// keeper answers every request, those before and those after the disk filled, with exactly one
/// transaction each.
#[tokio::test]
async fn keeper_stops_on_a_full_disk_and_after_restart_loses_and_duplicates_nothing() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let mut ids = s.requests(6).await;
    let data_dir = dir.path().join("keeper");
    let cfg = KeeperConfig::from_raw(s.raw_config(&data_dir, s.operator, start_block)).unwrap();
    let fault = DiskFault::default();
    let k = Keeper::new_with_disk_fault(cfg, s.hot.clone(), "test", fault.clone())
        .await
        .unwrap();
    let store = k.store().clone();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !s.all_answered(&ids[..2]).await {
        assert!(
            Instant::now() < deadline,
            "no progress before the disk filled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fault.set_full(true);
    // New work needs new journal entries: the disk refuses them.
    ids.extend(s.requests(3).await);
    let stopped = tokio::time::timeout(Duration::from_secs(120), task)
        .await
        .expect("the keeper stops on a full disk instead of retrying")
        .unwrap();
    match stopped {
        Err(KeeperError::Store(StoreError::DiskFull(msg))) => {
            assert!(msg.to_lowercase().contains("space"), "{msg}")
        }
        other => panic!("expected the typed disk-full error, got {other:?}"),
    }
    drop(store);

    fault.set_full(false);
    let mut k = s.keeper(&data_dir, SubmitMode::Single, start_block).await;
    k.reconcile().await.unwrap();
    tick_until_answered(&mut k, &s, &ids, "after space returned").await;
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        ids.len() as u64,
        "one transaction per request: nothing duplicated, nothing lost"
    );
}

/// kill -9 with a full window: with mining paused the pipelined keeper dispatches every
/// attestation (journaled as sent, all in the node's pool at once, consecutive nonces) and is then
/// killed, and the node loses its pool. A new keeper on the same journal sends the same signed
/// transactions again: every request is answered by the transaction first journaled for it, with
/// exactly one transaction each.
#[tokio::test]
async fn keeper_killed_with_a_full_window_resends_the_journaled_transactions() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(8).await;
    let mined_before = s.hot_txs().await;
    raw(&s.p, "evm_setAutomine", serde_json::json!([false])).await;
    let data_dir = dir.path().join("keeper");
    let k = s.keeper(&data_dir, SubmitMode::Single, start_block).await;
    let store = k.store().clone();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    let sent =
        |store: &verinfer_keeper::store::Store| -> Vec<(String, u64, alloy::primitives::TxHash)> {
            store
                .intents()
                .unwrap()
                .into_iter()
                .filter(|i| i.kind == IntentKind::Attest)
                .filter_map(|i| match i.status {
                    IntentStatus::Sent { nonce, tx_hash, .. } => Some((i.key, nonce, tx_hash)),
                    _ => None,
                })
                .collect()
        };
    let deadline = Instant::now() + Duration::from_secs(120);
    while sent(&store).len() < ids.len() {
        assert!(
            Instant::now() < deadline,
            "the keeper did not put its whole window in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    let journaled = sent(&store);
    drop(store);
    let mut nonces: Vec<u64> = journaled.iter().map(|(_, n, _)| *n).collect();
    nonces.sort_unstable();
    assert_eq!(
        nonces,
        (mined_before..mined_before + ids.len() as u64).collect::<Vec<_>>(),
        "the window holds consecutive nonces"
    );
    assert_eq!(
        s.hot_txs().await,
        mined_before,
        "nothing was mined before the kill"
    );
    raw(&s.p, "anvil_dropAllTransactions", serde_json::json!([])).await;
    raw(&s.p, "evm_setAutomine", serde_json::json!([true])).await;

    let mut k = s.keeper(&data_dir, SubmitMode::Single, start_block).await;
    k.reconcile().await.unwrap();
    tick_until_answered(&mut k, &s, &ids, "after restart").await;
    settle(&mut k).await;
    assert_eq!(
        s.hot_txs().await,
        mined_before + ids.len() as u64,
        "one transaction per request: nothing duplicated, nothing lost"
    );
    for (key, _, hash) in journaled {
        match k.store().intent(&key).unwrap().unwrap().status {
            IntentStatus::Done {
                tx_hash: Some(h), ..
            } => assert_eq!(h, hash, "{key} landed as first signed"),
            other => panic!("{key} is {other:?}"),
        }
    }
}

/// A backlog longer than half the window is sent in groups and none of it stalls: with a window of
/// 4, the execute stage holds a queue of 2 or more until half its window is free. Twelve requests
/// are queued before a running keeper (single mode) and twelve more arrive while it drains them, so
/// wake-ups from the collect stage come in while the round holds. Every request is answered by
/// exactly one transaction.
#[tokio::test]
async fn a_backlog_longer_than_half_the_window_is_answered_once_each_without_stalling() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let mut ids = s.requests(12).await;
    let mined_before = s.hot_txs().await;
    let k = s
        .keeper_in_flight(
            &dir.path().join("keeper"),
            SubmitMode::Single,
            4,
            start_block,
        )
        .await;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    ids.extend(s.requests(12).await);
    s.answered_within(&ids, 120, "the backlog, while the round holds")
        .await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        s.hot_txs().await,
        mined_before + ids.len() as u64,
        "one transaction per request"
    );
}

/// Issue #15, a drained backlog's quorums: the collect stage writes the schedule changes of a whole
/// polled range in one journal write, and the finalizer journals every finalization due in one
/// durable write. A finalizing keeper (no operator) reads the quorums of 24 answered requests in one
/// range and schedules all 24 with 5 write transactions for the whole tick (before: one per
/// `QuorumReached` instead of one for all, 28); once their windows and deadlines have passed, one
/// collect stage journals the 24 finalizations with 3 (before: 5, the finalizations' intents, their
/// schedule and the deadlines' schedule in three writes; earlier, three per request), and its
/// keeper finalizes them.
#[tokio::test]
async fn a_ranges_quorums_are_scheduled_in_one_write_and_their_finalizations_journaled_in_one() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(24).await;
    let mut op = s
        .keeper(&dir.path().join("operator"), SubmitMode::Batch, start_block)
        .await;
    tick_until_answered(&mut op, &s, &ids, "the operator answers").await;
    let mut f = s
        .finalizer(
            anvil.key(3),
            &dir.path().join("finalizer"),
            start_block,
            None,
        )
        .await;
    let store = f.store().clone();
    let before = store.write_transactions();
    let t = f.tick().await.unwrap();
    assert!(t.logs >= 4 * ids.len(), "one range: {} logs", t.logs);
    assert_eq!(store.finalizations().unwrap().len(), ids.len());
    // The range's requests, its schedule changes, the cursor, the pruning of old block hashes, and
    // the execute round's pruning of old nonces.
    assert_eq!(
        store.write_transactions() - before,
        5,
        "write transactions for one range"
    );

    raw(&s.p, "evm_increaseTime", serde_json::json!([30 * 86_400])).await;
    raw(&s.p, "evm_mine", serde_json::json!([])).await;
    let before = store.write_transactions();
    f.collect_and_decide().await.unwrap();
    // The cursor and its block hashes, then one write for the finalizations' intents, their
    // schedule and the passed deadlines' schedule (nothing missed: no report or expiry to
    // journal). Before: three writes for those (two pairs: intents, then schedules).
    assert_eq!(
        store.write_transactions() - before,
        3,
        "write transactions to journal the finalizations"
    );
    assert!(store.finalizations().unwrap().is_empty());
    let journaled = store
        .open_intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::Finalize)
        .count();
    assert_eq!(journaled, ids.len());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let finalized = s.finalized(&ids).await;
        if finalized == ids.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{finalized} of {} finalized",
            ids.len()
        );
        f.tick().await.unwrap();
    }
}

/// A backlog answered fast is journaled in chunks that grow: with a poll interval far longer than any
/// chunk takes, a keeper draining 192 assignments in one range journals them as a chunk of 64 and
/// one of 128 (before: three of 64), so the execute stage gets fewer, larger groups to send. Every
/// one is answered on chain.
#[tokio::test]
async fn a_backlog_answered_within_the_poll_interval_is_journaled_in_growing_chunks() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(192).await;
    // The budget of a chunk: an hour, so every chunk here is answered within half of it.
    let mut op = s
        .keeper_tuned(
            &dir.path().join("operator"),
            SubmitMode::Batch,
            start_block,
            |raw| raw.poll_interval_ms = Some(3_600_000),
        )
        .await;
    let store = op.store().clone();
    let before = store.write_transactions();
    let t = op.collect_and_decide().await.unwrap();
    assert!(t.logs >= 2 * ids.len(), "one range: {} logs", t.logs);
    assert_eq!(
        store.open_count().unwrap(),
        ids.len() as u64,
        "every answer journaled"
    );
    // The range's requests, the two chunks' answers (64, then 128), the cursor, the pruning of old
    // block hashes. With chunks of 64 only: 6.
    assert_eq!(
        store.write_transactions() - before,
        5,
        "write transactions for one range of 192 assignments"
    );
    tick_until_answered(&mut op, &s, &ids, "the backlog is answered").await;
}

/// A keeper behind the chain (a restart after an outage, a node that caps `eth_getLogs` ranges)
/// reads range after range without waiting out its poll interval in between: with ranges of 2
/// blocks and a 30 s poll interval, a running keeper answers a backlog of 12 requests (over 12
/// blocks or more) within 20 s. A collect stage over the first range reports that more is waiting.
/// Before, it slept a poll interval after each range: more than 5 minutes for this backlog.
#[tokio::test]
async fn a_keeper_behind_the_chain_reads_range_after_range_without_waiting() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(12).await;
    let keeper = |name: &str| {
        let raw = RawConfig {
            max_block_range: Some(2),
            poll_interval_ms: Some(30_000),
            ..s.raw_config(&dir.path().join(name), s.operator, start_block)
        };
        KeeperConfig::from_raw(raw).unwrap()
    };
    let mut ticked = Keeper::new(keeper("ticked"), s.hot.clone(), "ticked")
        .await
        .unwrap();
    let first = ticked.collect_and_decide().await.unwrap();
    assert!(first.behind, "the first of many ranges");
    drop(ticked);
    let k = Keeper::new(keeper("running"), s.hot.clone(), "running")
        .await
        .unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(k.run(stop_rx));
    s.answered_within(&ids, 20, "the backlog, range after range")
        .await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

/// A watching keeper re-executes a result that reached quorum and challenges it with its own,
/// concrete output. The DisputeGovernor takes a challenge only from an account linked to an identity
/// before the challenge's block: while the watcher's hot key is unattested its challenge is abandoned
/// with the decoded `ChallengerNotAttested`; once an issuer linked it, the next wrong result is
/// disputed. (The model is registered Optimistic, so its disputes go to the vote.)
#[tokio::test]
async fn watcher_challenges_a_wrong_result_once_its_hot_key_is_attested() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup_with_mode(&anvil, &dir, VerificationMode::Optimistic).await;
    let start_block = s.p.get_block_number().await.unwrap();
    // The operator's keeper returns wrong results (k = q = 1: each reaches quorum at once).
    let mut operator = s.wrong_operator(&dir, start_block).await;
    // The watcher: dev account 3 as hot key, holding tokens for the bond; assigned nothing.
    let (watcher, mut watch) = s.watcher(&anvil, &dir, start_block).await;
    let provider = s.p.clone();
    let registry = InferenceRegistry::new(s.registry, &provider);

    // Unattested: the challenge is journaled, then abandoned at estimation with the decoded reason.
    let first = s.request().await;
    tick_until_answered(&mut operator, &s, &[first], "wrong answer").await;
    let challenges = |k: &Keeper| {
        k.store()
            .intents()
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == IntentKind::Challenge)
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let abandoned = loop {
        watch.tick().await.unwrap();
        if let Some(IntentStatus::Abandoned { reason }) =
            challenges(&watch).first().map(|i| i.status.clone())
        {
            break reason;
        }
        assert!(Instant::now() < deadline, "the watcher never challenged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(abandoned.contains("ChallengerNotAttested"), "{abandoned}");
    assert_eq!(registry.request(first).call().await.unwrap().status, 2);

    // An issuer (the admin approves itself) links the watcher's hot key to an identity.
    let approve_issuer = IdentityRegistry::approveIssuerCall {
        issuer: s.admin.from(),
    };
    call(&s.admin, "issuer", s.identity, approve_issuer.abi_encode()).await;
    let create = IdentityRegistry::createIdentityCall {};
    call(&s.admin, "identity", s.identity, create.abi_encode()).await;
    let offer = IdentityRegistry::offerLinkCall {
        account: watcher.from(),
        identityId: U256::from(1),
    };
    call(&s.admin, "offer", s.identity, offer.abi_encode()).await;
    let accept = IdentityRegistry::acceptLinkCall {
        identityId: U256::from(1),
    };
    call(&watcher, "accept", s.identity, accept.abi_encode()).await;

    // Attested: the next wrong result is challenged with the watcher's own output and disputed.
    let second = s.request().await;
    tick_until_answered(&mut operator, &s, &[second], "second wrong answer").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let view = loop {
        watch.tick().await.unwrap();
        let view = registry.request(second).call().await.unwrap();
        if view.status == u8::from(RequestStatus::Disputed) {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the second result was not disputed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!view.disputeId.is_zero());
    let input = digit(s.requests);
    let ours = keccak256(s.model.infer(&input).unwrap());
    assert_ne!(view.output, ours, "the operator's result was wrong");
    let claimed = InferenceRegistry::challengeCall::abi_decode(
        &challenges(&watch)
            .iter()
            .find(|i| i.subject == Some(second))
            .unwrap()
            .calldata,
    )
    .unwrap()
    .claimedOutput;
    assert_eq!(
        claimed, ours,
        "the challenge claims the watcher's own output"
    );
}

/// A dispute over a Deterministic integer MLP is a referee game (docs/referee.md), which the keeper
/// plays. A watcher that re-executes a wrong result on such a model (and confirms its recomputation
/// with a second run) challenges it, then plays side 1 against the wrong operator's keeper, which
/// defends its lie move by move; the watcher wins and the request finalizes with the right output.
/// (Before the keeper played, the watcher refused to open a game it would lose by timeout.)
#[tokio::test]
async fn watcher_opens_a_referee_game_and_wins_it() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let mut operator = s.wrong_operator(&dir, start_block).await;
    let (_, mut watch) = s.watcher(&anvil, &dir, start_block).await;
    let id = s.request().await;
    let right = keccak256(s.model.infer(&digit(s.requests)).unwrap());
    tick_until_answered(&mut operator, &s, &[id], "wrong answer").await;
    let provider = s.p.clone();
    let registry = InferenceRegistry::new(s.registry, &provider);
    let deadline = Instant::now() + Duration::from_secs(60);
    while registry.request(id).call().await.unwrap().status != u8::from(RequestStatus::Finalized) {
        assert!(Instant::now() < deadline, "the game did not end");
        watch.tick().await.unwrap();
        operator.tick().await.unwrap();
    }
    let view = registry.request(id).call().await.unwrap();
    assert_eq!(
        view.output, right,
        "finalized with the watcher's (right) output"
    );
    assert!(
        view.disputeId >= verinfer_keeper::keeper::GAME_ID_BASE,
        "the dispute was a referee game"
    );
    let kinds = |k: &Keeper, kind: IntentKind| {
        k.store()
            .intents()
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == kind && matches!(i.status, IntentStatus::Done { .. }))
            .count()
    };
    assert_eq!(
        kinds(&watch, IntentKind::Challenge),
        1,
        "the watcher opened it"
    );
    assert!(kinds(&watch, IntentKind::RefereeMove) >= 2, "and played it");
    assert!(
        kinds(&operator, IntentKind::RefereeMove) >= 1,
        "the wrong operator defended (and lost)"
    );
    assert!(
        watch.metrics().inferences.get() >= 1,
        "the watcher did re-execute the result"
    );
}

/// A keeper never opens a game it cannot play: a watcher that serves the refereed digits model through
/// an external command (no in-process integer MLP, so no trace to play and no second run to confirm its
/// output) sees the wrong result, disagrees, and still journals no challenge.
#[tokio::test]
async fn watcher_without_an_in_process_model_does_not_open_a_referee_game() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let mut operator = s.wrong_operator(&dir, start_block).await;
    let key = anvil.key(3);
    let cfg = KeeperConfig::from_raw(RawConfig {
        watch: Some(true),
        finalize: Some(false),
        backend: vec![BackendConfig::Command {
            argv: vec!["printf".into(), "not the digits output".into()],
            model_id: format!("{:#x}", s.model.model_id()),
            timeout_secs: 60,
        }],
        ..s.raw_config(&dir.path().join("watcher"), key.address(), start_block)
    })
    .unwrap();
    let mut watch = Keeper::new(cfg, key, "watcher").await.unwrap();
    let id = s.request().await;
    tick_until_answered(&mut operator, &s, &[id], "wrong answer").await;
    // Until the watcher has re-executed the result, then a few rounds more (a challenge would be
    // journaled in the round that re-executes it).
    let deadline = Instant::now() + Duration::from_secs(120);
    while watch.metrics().inferences.get() == 0 {
        assert!(
            Instant::now() < deadline,
            "the watcher never re-executed the result"
        );
        watch.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    settle(&mut watch).await;
    let challenges = watch
        .store()
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::Challenge)
        .count();
    assert_eq!(challenges, 0, "no game opened that the keeper cannot play");
    let provider = s.p.clone();
    let registry = InferenceRegistry::new(s.registry, &provider);
    assert_eq!(
        registry.request(id).call().await.unwrap().status,
        u8::from(RequestStatus::Quorum),
        "still at quorum, undisputed"
    );
}

/// A running keeper whose `metrics_addr` is the explicit all-interfaces `0.0.0.0` serves `/metrics`
/// (reached on loopback) in the OpenMetrics format with its Content-Type: every series labelled with
/// its operator, every name the docs list, the inference histogram per model with cumulative
/// buckets (one observation per inference), and one submission and one request-to-inclusion
/// observation per answered request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_keeper_serves_labelled_metrics_and_latency_histograms_on_0_0_0_0() {
    use verinfer_keeper::metrics::{parse_samples, CONTENT_TYPE, INFERENCE_BUCKETS};
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = [s.request().await, s.request().await];
    let cfg = KeeperConfig::from_raw(RawConfig {
        metrics_addr: Some("0.0.0.0:0".into()),
        ..s.raw_config(&dir.path().join("keeper"), s.operator, start_block)
    })
    .unwrap();
    let bind = cfg.metrics_addr.expect("metrics on");
    assert!(bind.ip().is_unspecified(), "{bind}");
    let mut k = Keeper::new(cfg, s.hot.clone(), "metrics").await.unwrap();
    k.metrics().set_build_info("9.9.9", "cafe");
    let (stop, rx) = tokio::sync::watch::channel(false);
    let bound = verinfer_keeper::api::serve(
        bind,
        verinfer_keeper::api::operations_router(k.health()),
        rx,
    )
    .await
    .unwrap();
    tick_until_answered(&mut k, &s, &ids, "two requests").await;
    settle(&mut k).await;

    let local = std::net::SocketAddr::from(([127, 0, 0, 1], bound.port()));
    let (head, body) = http_get(local, "/metrics").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .expect("a Content-Type");
    assert_eq!(content_type, CONTENT_TYPE);
    assert!(body.ends_with("# EOF\n"), "{body}");

    let samples = parse_samples(&body);
    let op = format!("{:#x}", s.operator);
    assert!(
        samples
            .iter()
            .all(|x| x.labels.get("operator") == Some(&op)),
        "every series carries the operator"
    );
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples
            .iter()
            .find(|x| x.name == name && x.has(labels))
            .map(|x| x.value)
    };
    // The names docs/keeper.md lists (kept from the hand-written exporter).
    for name in [
        "assignments_seen_total",
        "inferences_total",
        "answers_adopted_total",
        "claim_lookups_total",
        "inputs_refused_total",
        "attestations_submitted_total",
        "txs_included_total",
        "txs_failed_total",
        "fee_bumps_total",
        "tx_groups_total",
        "reorgs_total",
        "rpc_errors_total",
        "challenges_total",
        "equivocation_reports_total",
        "finalized_total",
        "missed_reported_total",
        "gas_used_total",
        "cursor_block",
        "head_block",
        "open_intents",
        "oldest_inflight_seconds",
        "build_info",
        "model_inferences_total",
        "model_inference_seconds_count",
        "submission_seconds_count",
        "request_to_inclusion_seconds_count",
    ] {
        assert!(
            value(&format!("verinfer_keeper_{name}"), &[]).is_some(),
            "verinfer_keeper_{name} missing in\n{body}"
        );
    }
    assert_eq!(
        value("verinfer_keeper_assignments_seen_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        value("verinfer_keeper_attestations_submitted_total", &[]),
        Some(2.0)
    );
    assert!(value("verinfer_keeper_gas_used_total", &[]).unwrap() > 0.0);
    assert_eq!(
        value(
            "verinfer_keeper_build_info",
            &[("version", "9.9.9"), ("git_rev", "cafe")]
        ),
        Some(1.0)
    );

    // The inference histogram of the built-in model: one bucket per bound plus +Inf, cumulative,
    // +Inf equal to the count (two inferences).
    let model = format!("{:#x}", s.model.model_id());
    let buckets: Vec<(String, f64)> = samples
        .iter()
        .filter(|x| {
            x.name == "verinfer_keeper_model_inference_seconds_bucket"
                && x.has(&[("model", &model)])
        })
        .map(|x| (x.labels["le"].clone(), x.value))
        .collect();
    let les: Vec<String> = INFERENCE_BUCKETS
        .iter()
        .map(|b| format!("{b:?}"))
        .chain(["+Inf".to_owned()])
        .collect();
    assert_eq!(
        buckets.iter().map(|(le, _)| le.clone()).collect::<Vec<_>>(),
        les
    );
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {buckets:?}"
    );
    let count = value(
        "verinfer_keeper_model_inference_seconds_count",
        &[("model", &model)],
    );
    assert_eq!(buckets.last().map(|b| b.1), count);
    // Each request is inferred to answer it and again to check the quorum's result (watch).
    assert_eq!(count, value("verinfer_keeper_inferences_total", &[]));
    assert!(count.unwrap() >= 2.0, "{count:?}");

    // Single submission: one attestation transaction and one request-to-inclusion per request.
    assert_eq!(
        value(
            "verinfer_keeper_submission_seconds_count",
            &[("kind", "attest"), ("mode", "single")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "verinfer_keeper_request_to_inclusion_seconds_count",
            &[("mode", "single")]
        ),
        Some(2.0)
    );
    assert!(
        value(
            "verinfer_keeper_request_to_inclusion_seconds_sum",
            &[("mode", "single")]
        )
        .unwrap()
            > 0.0
    );
    let _ = stop.send(true);
}

/// Issue #15, equivocation evidence across processes: the operator's keeper equivocates (it signs
/// two different outputs for one request and publishes both on its outputs API; only one goes on
/// chain). A separate watcher keeper, which shares nothing with it but HTTP, reads the endpoint the
/// operator registered on chain (`setEndpoint`), fetches the published attestations after the
/// `AnswerRecorded`, and reports the equivocation: `EquivocationReported` names the request, the
/// operator and the watcher's hot key as reporter. Deterministic: k = q = 1, so the equivocator is
/// always assigned (the devnet's fixture test depends on the draw).
#[tokio::test]
async fn watcher_finds_an_equivocation_over_http_alone_and_reports_it_on_chain() {
    use alloy::sol_types::SolEvent;
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = KeeperConfig {
        misbehave: verinfer_keeper::config::Misbehaviour::Equivocate,
        ..KeeperConfig::from_raw(RawConfig {
            watch: Some(false),
            outputs_addr: Some(format!("127.0.0.1:{port}")),
            ..s.raw_config(&dir.path().join("equivocator"), s.operator, start_block)
        })
        .unwrap()
    };
    let equivocator = Keeper::new(cfg, s.hot.clone(), "equivocator")
        .await
        .unwrap();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(equivocator.run(rx));
    let owner = txm(
        s.p.clone(),
        anvil.key(1),
        store_at(&dir, "endpoint.redb"),
        fast_cfg(),
    );
    let endpoint = InferenceRegistry::setEndpointCall {
        url: format!("http://127.0.0.1:{port}"),
    };
    call(&owner, "endpoint", s.registry, endpoint.abi_encode()).await;
    let (watcher, mut watch) = s.watcher(&anvil, &dir, start_block).await;

    let id = s.request().await;
    let reported = alloy::rpc::types::Filter::new()
        .address(s.registry)
        .event_signature(InferenceRegistry::EquivocationReported::SIGNATURE_HASH)
        .from_block(start_block);
    let deadline = Instant::now() + Duration::from_secs(120);
    let event = loop {
        watch.tick().await.unwrap();
        let logs = s.p.get_logs(&reported).await.unwrap();
        if let Some(l) = logs.first() {
            break InferenceRegistry::EquivocationReported::decode_log_data(l.data()).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the watcher never reported the equivocation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(event.requestId, id);
    assert_eq!(event.operator, s.operator);
    assert_eq!(event.reporter, watcher.from());
    stop.send(true).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(20), task).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}
