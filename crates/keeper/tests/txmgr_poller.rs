//! Chain-facing tests of the keeper's transaction manager and log poller, each against its own anvil.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::*;
use verinfer_bindings::VerinferToken;
use verinfer_keeper::poller::{LogPoller, PollOutcome};
use verinfer_keeper::store::{IntentStatus, Store};
use verinfer_keeper::txmgr::TxError;

/// Own nonce allocation resyncs when another sender used the same account behind our back.
#[tokio::test]
async fn nonce_resyncs_after_external_use() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let a = manager(&anvil, 0, &dir, "a.redb");
    let b = manager(&anvil, 0, &dir, "b.redb");
    let token = deploy_token(&a).await;
    a.send("t1", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    // b consumes the nonce a believes is next
    b.send("x1", Some(token), transfer(Address::repeat_byte(2), 1))
        .await
        .unwrap();
    let r = a
        .send("t2", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    assert!(r.gas_used > 0);
    let nonce = anvil
        .provider()
        .get_transaction_count(a.from())
        .await
        .unwrap();
    assert_eq!(nonce, 4);
}

/// Regression (issue 16): a hot key without ETH used to bump fees until killed (40 s); the manager
/// now stops at the first refused broadcast with the address, its balance and the gas it needs, and
/// leaves the intent pending (nothing stays journaled as sent).
#[tokio::test]
async fn unfunded_key_fails_fast_with_its_balance_and_the_need() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let t0 = manager(&anvil, 0, &dir, "a.redb");
    let token = deploy_token(&t0).await;
    let key =
        verinfer_keeper::attest::HotKey::new(alloy::signers::local::PrivateKeySigner::random());
    let address = key.address();
    let store = store_at(&dir, "b.redb");
    let mut cfg = fast_cfg();
    // A wait-and-bump path would spend at least one receipt wait (30 s) before giving up.
    cfg.receipt_timeout = Duration::from_secs(30);
    cfg.max_bumps = 5;
    let t = txm(anvil.provider(), key, store.clone(), cfg);
    let approve = VerinferToken::approveCall {
        spender: Address::repeat_byte(2),
        value: U256::from(1),
    }
    .abi_encode();
    let err = t
        .send("unfunded", Some(token), approve.into())
        .await
        .unwrap_err();
    match &err {
        TxError::InsufficientFunds {
            address: a,
            balance,
            needed,
            ..
        } => {
            assert_eq!(*a, address);
            assert_eq!(*balance, U256::ZERO);
            assert!(*needed > U256::ZERO);
        }
        other => panic!("expected InsufficientFunds, got {other}"),
    }
    assert!(err.to_string().contains(&address.to_string()), "{err}");
    // The refusal is final at the first broadcast: the wait-and-bump path would have ended in
    // `Stuck` after its receipt waits, and the intent is back to pending with nothing sent.
    assert!(matches!(
        store.intent("unfunded").unwrap().unwrap().status,
        IntentStatus::Pending
    ));
}

/// A call that would revert is abandoned at estimation, with the node's reason, and never sent.
#[tokio::test]
async fn reverting_call_is_abandoned_not_sent() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let a = txm(anvil.provider(), anvil.key(1), store.clone(), fast_cfg());
    let t0 = manager(&anvil, 0, &dir, "b.redb");
    let token = deploy_token(&t0).await;
    // account 1 holds no tokens: transfer reverts
    let err = a
        .send("bad", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap_err();
    assert!(matches!(err, TxError::Reverted { .. }), "{err}");
    // The custom error is named, decoded from the revert data the node returned.
    assert!(
        err.to_string()
            .contains("VerinferToken::ERC20InsufficientBalance"),
        "{err}"
    );
    assert!(matches!(
        store.intent("bad").unwrap().unwrap().status,
        IntentStatus::Abandoned { .. }
    ));
    assert_eq!(
        anvil
            .provider()
            .get_transaction_count(a.from())
            .await
            .unwrap(),
        0
    );
}

/// Slow chain: with mining paused the receipt deadline passes, the fee is bumped (+>=12.5 %) and
/// the transaction replaced at the same nonce; exactly one of them is mined.
#[tokio::test]
async fn stuck_transaction_is_replaced_with_fee_bump() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let mut cfg = fast_cfg();
    cfg.receipt_timeout = Duration::from_millis(700);
    let a = Arc::new(txm(p.clone(), anvil.key(0), store.clone(), cfg));
    let token = deploy_token(&a).await;
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let a2 = a.clone();
    let h = tokio::spawn(async move {
        a2.send("slow", Some(token), transfer(Address::repeat_byte(1), 5))
            .await
    });
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    let done = h.await.unwrap().unwrap();
    let intent = store.intent("slow").unwrap().unwrap();
    let IntentStatus::Done {
        tx_hash: Some(h), ..
    } = intent.status
    else {
        panic!("{:?}", intent.status)
    };
    assert_eq!(h, done.tx_hash);
    assert_eq!(
        p.get_transaction_count(a.from()).await.unwrap(),
        2,
        "one deploy + one transfer, no duplicate"
    );
    let tx = p
        .get_transaction_by_hash(done.tx_hash)
        .await
        .unwrap()
        .unwrap();
    use alloy::consensus::Transaction;
    assert!(
        tx.inner.max_fee_per_gas() > 2_000_000_000,
        "replacement carries a bumped fee"
    );
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
}

/// Crash mid-submission: the task is killed after the signed transaction was journaled and
/// broadcast but before the receipt; a fresh manager on the same journal finds and finishes the same
/// transaction instead of sending a second one.
#[tokio::test]
async fn crash_after_broadcast_resumes_without_duplicate() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.redb");
    let token;
    let first_hash;
    {
        let store = Arc::new(Store::open(&path).unwrap());
        let a = Arc::new(txm(p.clone(), anvil.key(0), store.clone(), fast_cfg()));
        token = deploy_token(&a).await;
        raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
        let a2 = a.clone();
        let h = tokio::spawn(async move {
            a2.send("att", Some(token), transfer(Address::repeat_byte(1), 5))
                .await
        });
        // wait until journaled as sent, then "kill -9"
        loop {
            if let Some(i) = store.intent("att").unwrap() {
                if let IntentStatus::Sent { tx_hash, .. } = i.status {
                    first_hash = tx_hash;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        h.abort();
        let _ = h.await;
    }
    // restart: new manager, same journal, chain mines again
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    let store = Arc::new(Store::open(&path).unwrap());
    let a = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let done = a
        .send("att", Some(token), transfer(Address::repeat_byte(1), 5))
        .await
        .unwrap();
    assert_eq!(done.tx_hash, first_hash);
    assert_eq!(
        p.get_transaction_count(a.from()).await.unwrap(),
        2,
        "no duplicate submission"
    );
}

/// Re-running a finished key returns the recorded outcome and sends nothing.
#[tokio::test]
async fn done_key_is_idempotent() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "k.redb");
    let a = txm(p.clone(), anvil.key(0), store, fast_cfg());
    let token = deploy_token(&a).await;
    let r = a
        .send("x", Some(token), transfer(Address::repeat_byte(3), 1))
        .await
        .unwrap();
    let again = a
        .send("x", Some(token), transfer(Address::repeat_byte(3), 1))
        .await
        .unwrap();
    assert_eq!(
        r.tx_hash, again.tx_hash,
        "re-running a done key is idempotent"
    );
    assert_eq!(p.get_transaction_count(a.from()).await.unwrap(), 2);
}

/// RPC errors: an unreachable node yields a typed RPC error after bounded retries, not a hang.
#[tokio::test]
async fn unreachable_rpc_is_a_typed_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = verinfer_client::rpc::http_provider(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        fast_retry(),
    );
    let dir = tempfile::tempdir().unwrap();
    let a = txm(
        p,
        verinfer_keeper::attest::HotKey::new(alloy::signers::local::PrivateKeySigner::random()),
        store_at(&dir, "a.redb"),
        fast_cfg(),
    );
    let t = std::time::Instant::now();
    let err = a
        .send("x", Some(Address::repeat_byte(1)), Bytes::new())
        .await
        .unwrap_err();
    assert!(matches!(err, TxError::Rpc { .. }), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
}

async fn drain(p: &LogPoller) -> usize {
    let mut n = 0;
    loop {
        match p.poll().await.unwrap() {
            PollOutcome::Logs { logs, to, hash, .. } => {
                n += logs.len();
                p.commit(to, hash).unwrap();
            }
            PollOutcome::Idle { .. } => return n,
            PollOutcome::Reorg { .. } => {}
        }
    }
}

/// Reorg: logs polled, then the chain is reverted (anvil snapshot/revert) and rebuilt differently;
/// the poller notices the changed block hash, rewinds and re-reads the new logs.
#[tokio::test]
async fn poller_detects_reorg_and_rereads() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "k.redb");
    let a = manager(&anvil, 0, &dir, "t.redb");
    let token = deploy_token(&a).await;
    let poller = LogPoller::new(p.clone(), token, store.clone());
    let base = drain(&poller).await; // mint event(s)
    let snap = raw(&p, "evm_snapshot", serde_json::json!([])).await;
    a.send("t1", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    assert_eq!(drain(&poller).await, 1);
    raw(&p, "evm_revert", serde_json::json!([snap])).await;
    a.resync_nonce().await;
    a.send("t2", Some(token), transfer(Address::repeat_byte(2), 2))
        .await
        .unwrap();
    a.send("t3", Some(token), transfer(Address::repeat_byte(3), 3))
        .await
        .unwrap();
    match poller.poll().await.unwrap() {
        PollOutcome::Reorg { .. } => {}
        other => panic!("expected a reorg, got {other:?}"),
    }
    assert_eq!(
        drain(&poller).await,
        2,
        "both transfers of the new branch are read"
    );
    assert!(base >= 1);
}

/// Confirmation depth: logs are only handed out once `confirmations` blocks sit on top.
#[tokio::test]
async fn poller_respects_confirmations() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let a = manager(&anvil, 0, &dir, "t.redb");
    let token = deploy_token(&a).await;
    let mut poller = LogPoller::new(p.clone(), token, store_at(&dir, "k.redb"));
    poller.confirmations = 3;
    assert_eq!(drain(&poller).await, 0);
    raw(&p, "anvil_mine", serde_json::json!(["0x3"])).await;
    assert!(drain(&poller).await >= 1);
}

/// Anvil restart: while the node is down polls fail with typed errors; after it is back (fresh
/// chain) the poller sees the hash mismatch and rewinds instead of skipping blocks. Blocks the new
/// chain has not reached yet are no evidence either way (a lagging node answers the same), so the
/// mismatch shows once the new chain is as long as the blocks the poller recorded.
#[tokio::test]
async fn survives_anvil_restart() {
    let mut anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let a = manager(&anvil, 0, &dir, "t.redb");
    let token = deploy_token(&a).await;
    a.send("t1", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    let poller = LogPoller::new(p.clone(), token, store_at(&dir, "k.redb"));
    assert!(drain(&poller).await >= 2);
    anvil.stop();
    assert!(poller.poll().await.is_err());
    anvil.spawn();
    a.resync_nonce().await;
    let token2 = deploy_token_as(&a, "deploy-token-again").await;
    assert_eq!(token, token2, "same deployer nonce, same address");
    raw(&p, "anvil_mine", serde_json::json!(["0x3"])).await;
    let mut saw_reorg = false;
    for _ in 0..5 {
        if let PollOutcome::Reorg { .. } = poller.poll().await.unwrap() {
            saw_reorg = true;
            break;
        }
    }
    assert!(saw_reorg, "restarted chain has different block hashes");
}

/// Slow chain with interval mining (`--block-time 2`): anvil mines every 2 s while the receipt deadline is 1 s, so receipts arrive after the
/// deadline and the manager replaces transactions at the same nonce with bumped fees. Every send
/// still confirms, each intent records the hash that was actually mined, and exactly one
/// transaction per intent lands (no double transfer, no lost one).
#[tokio::test]
async fn slow_chain_late_receipts_confirm_once_per_intent() {
    let anvil = Anvil::start(&["--block-time", "2"]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let mut cfg = fast_cfg();
    cfg.receipt_timeout = Duration::from_millis(1_000);
    cfg.max_bumps = 8;
    let a = Arc::new(txm(p.clone(), anvil.key(0), store.clone(), cfg));
    let token = deploy_token(&a).await;
    let to = Address::repeat_byte(7);
    let mut replaced = 0;
    for (i, amount) in [3u64, 5, 11].into_iter().enumerate() {
        let key = format!("slow-{i}");
        let (a2, k2) = (a.clone(), key.clone());
        let h = tokio::spawn(async move { a2.send(&k2, Some(token), transfer(to, amount)).await });
        // the first transaction signed for this intent
        let first = loop {
            if let Some(IntentStatus::Sent { tx_hash, .. }) =
                store.intent(&key).unwrap().map(|i| i.status)
            {
                break tx_hash;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let done = h.await.unwrap().unwrap();
        let mined = done.tx_hash;
        let receipt = a.receipt_of(done.tx_hash).await.unwrap().unwrap();
        assert!(receipt.status(), "{key} mined successfully");
        match store.intent(&key).unwrap().unwrap().status {
            IntentStatus::Done {
                tx_hash: Some(h), ..
            } => assert_eq!(h, mined, "{key} records the mined hash"),
            other => panic!("{key}: {other:?}"),
        }
        if mined != first {
            replaced += 1;
        }
    }
    assert_eq!(
        p.get_transaction_count(a.from()).await.unwrap(),
        4,
        "one deploy + three transfers, no duplicate"
    );
    let bal = VerinferToken::new(token, &p)
        .balanceOf(to)
        .call()
        .await
        .unwrap();
    assert_eq!(
        bal,
        U256::from(3 + 5 + 11),
        "each transfer landed exactly once"
    );
    // Late receipts must actually have exercised the deadline (replacement) path.
    assert!(
        replaced >= 1,
        "no transaction outlived its receipt deadline"
    );
}

/// Reorg through anvil's own reorg RPC (`anvil_reorg`): the last two blocks are replaced by blocks
/// with different content; the poller notices the changed hashes, rewinds, and hands out the logs of
/// the new branch only (the reorged-out transfer is gone, the new one is read once).
#[tokio::test]
async fn poller_follows_anvil_reorg_rpc() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let a = manager(&anvil, 0, &dir, "t.redb");
    let token = deploy_token(&a).await;
    let poller = LogPoller::new(p.clone(), token, store_at(&dir, "k.redb"));
    assert!(drain(&poller).await >= 1);
    a.send("t1", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    raw(&p, "evm_mine", serde_json::json!([])).await;
    assert_eq!(drain(&poller).await, 1);
    // replace the last 2 blocks; the new branch carries a different transfer in its first block
    let replacement = serde_json::json!({
        "from": a.from(),
        "to": token,
        "data": transfer(Address::repeat_byte(2), 2),
    });
    raw(
        &p,
        "anvil_reorg",
        serde_json::json!([2, [[replacement, 0]]]),
    )
    .await;
    a.resync_nonce().await;
    let mut saw_reorg = false;
    let mut logs = Vec::new();
    for _ in 0..5 {
        match poller.poll().await.unwrap() {
            PollOutcome::Reorg { .. } => saw_reorg = true,
            PollOutcome::Logs {
                logs: l, to, hash, ..
            } => {
                logs.extend(l);
                poller.commit(to, hash).unwrap();
            }
            PollOutcome::Idle { .. } => break,
        }
    }
    assert!(saw_reorg, "anvil_reorg must be detected");
    let to_topic = |l: &alloy::rpc::types::Log| l.topics().get(2).copied();
    let new_to = Address::repeat_byte(2).into_word();
    let old_to = Address::repeat_byte(1).into_word();
    assert_eq!(
        logs.iter().filter(|l| to_topic(l) == Some(new_to)).count(),
        1,
        "the new branch's transfer is read once"
    );
    assert!(
        logs.iter().all(|l| to_topic(l) != Some(old_to)),
        "the reorged-out transfer is not handed out again"
    );
}

/// Nonce gap after a reorg (issue #15, D2): transfers `a` and `b` are mined, `c` waits in the pool,
/// then a reorg drops `b`'s block. `c` now waits behind a nonce nobody holds: the manager reports
/// the gap after one receipt deadline instead of bumping fees on it, and the repair re-plans `b`
/// (its transaction vanished), rebroadcasts `c` and hands `b` the gap, so both land, once each.
#[tokio::test]
async fn reorged_out_transaction_leaves_a_gap_that_repair_refills_without_duplicates() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "t.redb");
    let mut cfg = fast_cfg();
    cfg.receipt_timeout = Duration::from_millis(1_500);
    let t = Arc::new(txm(p.clone(), anvil.key(0), store.clone(), cfg));
    let token = deploy_token(&t).await;
    let (ra, rb, rc) = (
        Address::repeat_byte(0xa),
        Address::repeat_byte(0xb),
        Address::repeat_byte(0xc),
    );
    t.send("a", Some(token), transfer(ra, 1)).await.unwrap();
    t.send("b", Some(token), transfer(rb, 1)).await.unwrap();
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let t2 = t.clone();
    let pending_c = tokio::spawn(async move { t2.send("c", Some(token), transfer(rc, 1)).await });
    while !matches!(
        store.intent("c").unwrap().map(|i| i.status),
        Some(IntentStatus::Sent { .. })
    ) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // `b`'s block (the head) is replaced by an empty one; `c` (nonce 3) now sits behind nonce 2.
    raw(&p, "anvil_reorg", serde_json::json!([1, []])).await;
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 2);
    match pending_c.await.unwrap() {
        Err(TxError::NonceGap { key, nonce, mined }) => {
            assert_eq!((key.as_str(), nonce, mined), ("c", 3, 2))
        }
        other => panic!("expected a nonce gap, got {other:?}"),
    }
    let repair = t.repair_nonces().await.unwrap();
    assert_eq!(repair.mined, 2);
    assert_eq!(repair.gaps, vec![2]);
    assert_eq!(repair.replanned, vec!["b".to_string()]);
    assert_eq!(repair.rebroadcast, 1, "c is rebroadcast, not re-signed");
    t.execute("b").await.unwrap();
    t.execute("c").await.unwrap();
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 4);
    let token_view = VerinferToken::new(token, &p);
    for who in [ra, rb, rc] {
        assert_eq!(
            token_view.balanceOf(who).call().await.unwrap(),
            U256::from(1),
            "each transfer landed exactly once"
        );
    }
    assert!(t.gaps().await.is_empty());
}

/// A gap nobody re-plans (the intent at that nonce was abandoned) is filled with a no-op so the
/// transaction above it can be mined.
#[tokio::test]
async fn a_gap_without_work_to_refill_it_is_filled_with_a_no_op() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "t.redb");
    let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let token = deploy_token(&t).await;
    t.send("b", Some(token), transfer(Address::repeat_byte(0xb), 1))
        .await
        .unwrap();
    raw(&p, "anvil_reorg", serde_json::json!([1, []])).await;
    let repair = t.repair_nonces().await.unwrap();
    assert_eq!(repair.gaps, vec![1]);
    // the re-planned intent is given up instead of sent again: nothing takes nonce 1
    let mut b = store.intent("b").unwrap().unwrap();
    b.status = IntentStatus::Abandoned {
        reason: "test".into(),
    };
    store.put_intent(&b).unwrap();
    assert_eq!(t.fill_gaps().await.unwrap(), 1);
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 2);
    let after = t
        .send("next", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    assert!(after.gas_used > 0);
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 3);
}

/// Runtime code whose gas depends on its state: the first call only marks slot 0 (about 45k gas);
/// every later call writes the caller into slots 1 to 4 (four fresh `SSTORE`s, about 110k gas). A
/// call estimated before someone else's first call and mined after it runs out of gas, exactly as
/// the second of two keepers committing to one referee game does (the second commit opens the
/// bisection).
const STATEFUL_GAS_RUNTIME: &str = "600054600c576001600055005b3360015533600255336003553360045500";

/// Deploys the runtime code `runtime_hex` (under 256 bytes) with `a`; returns its address.
async fn deploy_runtime(a: &verinfer_keeper::txmgr::TxManager, runtime_hex: &str) -> Address {
    let deployed = a
        .send("deploy", None, init_code_of(runtime_hex))
        .await
        .unwrap();
    a.provider()
        .get_transaction_receipt(deployed.tx_hash)
        .await
        .unwrap()
        .unwrap()
        .contract_address
        .unwrap()
}

/// Init code deploying the runtime code `runtime_hex` (under 256 bytes).
fn init_code_of(runtime_hex: &str) -> Bytes {
    let runtime = alloy::hex::decode(runtime_hex).unwrap();
    let mut code = alloy::hex::decode("60").unwrap();
    code.push(runtime.len() as u8);
    // DUP1 PUSH1 <offset 11> PUSH1 0 CODECOPY PUSH1 0 RETURN
    code.extend(alloy::hex::decode("80600b6000396000f3").unwrap());
    code.extend(runtime);
    Bytes::from(code)
}

/// Regression (the referee game that stalled on a current-thread runtime, 3 of 9 runs): a keeper's
/// move estimated at one state and mined after another party's transaction changed that state ran
/// out of gas, and the out-of-gas revert was booked as "action no longer possible" and abandoned,
/// so the keeper never made the move. Now a transaction that used its whole gas limit is re-planned:
/// the intent is pending again, estimated afresh at the new state, and succeeds.
#[tokio::test]
async fn an_out_of_gas_failure_on_a_stale_estimate_is_replanned_and_succeeds_not_abandoned() {
    use verinfer_keeper::store::{Intent, IntentKind};
    use verinfer_keeper::txmgr::Dispatch;

    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let a = txm(p.clone(), anvil.key(1), store.clone(), fast_cfg());
    let target = deploy_runtime(&a, STATEFUL_GAS_RUNTIME).await;

    // Our move, estimated while the contract is fresh (the cheap path), left in the pool.
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    store
        .put_intent(&Intent {
            key: "referee_move:1:commit:1:0xop".into(),
            kind: IntentKind::RefereeMove,
            subject: Some(U256::from(1)),
            to: Some(target),
            calldata: Bytes::from(vec![1]),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        })
        .unwrap();
    let Dispatch::InFlight(ours) = a.dispatch("referee_move:1:commit:1:0xop").await.unwrap() else {
        panic!("our move was not sent");
    };
    // Another party's call with a higher tip: mined first in the same block, it makes ours the
    // expensive second call.
    let other = anvil.key(2).address();
    raw(
        &p,
        "eth_sendTransaction",
        serde_json::json!([{
            "from": other, "to": target, "data": "0x02", "gas": "0x30000",
            "maxFeePerGas": "0xe8d4a51000", "maxPriorityFeePerGas": "0x174876e800"
        }]),
    )
    .await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;

    let err = a.settle(ours).await.unwrap_err();
    let TxError::Replan { tx_hash, .. } = err else {
        panic!("an out-of-gas failure was not re-planned: {err}");
    };
    let failed = p.get_transaction_receipt(tx_hash).await.unwrap().unwrap();
    let sent = p.get_transaction_by_hash(tx_hash).await.unwrap().unwrap();
    use alloy::consensus::Transaction;
    assert!(!failed.status(), "our first transaction failed on chain");
    assert_eq!(
        failed.gas_used,
        sent.inner.gas_limit(),
        "it ran out of gas (used its whole limit)"
    );
    assert_eq!(
        store
            .intent("referee_move:1:commit:1:0xop")
            .unwrap()
            .unwrap()
            .status,
        IntentStatus::Pending,
        "pending again, not abandoned"
    );

    let done = a.execute("referee_move:1:commit:1:0xop").await.unwrap();
    assert!(p
        .get_transaction_receipt(done.tx_hash)
        .await
        .unwrap()
        .unwrap()
        .status());
    let slot1 = p.get_storage_at(target, U256::from(1)).await.unwrap();
    assert_eq!(
        Address::from_word(slot1.into()),
        a.from(),
        "the re-planned move ran the expensive path as its sender"
    );
}

/// Runtime of a contract that closes: a call whose first calldata byte is `0x02` closes it (sets
/// slot 0), and any other call reverts once it is closed (and does nothing before). A call
/// estimated while it is open and mined after someone else closed it reverts on chain with gas to
/// spare: the action is no longer possible, as for a batch whose request another party finalized.
const CLOSABLE_RUNTIME: &str = "60003560f81c600214601357600054601a57005b6001600055005b600080fd";

/// The members of the batch [`closable_batch`] journals: carried, done elsewhere, carried by
/// another batch, carried.
const MEMBERS: [&str; 4] = [
    "attest:1:0xop",
    "attest:2:0xop",
    "attest:3:0xop",
    "attest:4:0xop",
];

/// The members of [`MEMBERS`] that `batch:1` does not carry, with their statuses: its end must
/// leave them as they are.
fn not_carried() -> [(&'static str, IntentStatus); 2] {
    [
        (MEMBERS[1], done_elsewhere()),
        (
            MEMBERS[2],
            IntentStatus::Batched {
                batch: "batch:2".into(),
            },
        ),
    ]
}

/// Deploys [`CLOSABLE_RUNTIME`] with `a` and journals `batch:1`, a call to it listing
/// [`MEMBERS`] and carrying the first and last ([`not_carried`]: the others). Calldata of one byte has no
/// selector: no call shape, so the batch is neither bounded by a member nor sent on a cached
/// limit, but estimated itself (a revert is then final). Returns the contract.
async fn closable_batch(a: &verinfer_keeper::txmgr::TxManager, store: &Store) -> Address {
    use verinfer_keeper::store::{Intent, IntentKind};

    let target = deploy_runtime(a, CLOSABLE_RUNTIME).await;
    let intent = |key: &str, status: IntentStatus, members: Vec<String>| Intent {
        key: key.into(),
        kind: IntentKind::Attest,
        subject: None,
        to: Some(target),
        calldata: Bytes::from(vec![1]),
        status,
        members,
        single_only: false,
    };
    let carried = IntentStatus::Batched {
        batch: "batch:1".into(),
    };
    store
        .put_intents(&[
            intent(MEMBERS[0], carried.clone(), vec![]),
            intent(not_carried()[0].0, not_carried()[0].1.clone(), vec![]),
            intent(not_carried()[1].0, not_carried()[1].1.clone(), vec![]),
            intent(MEMBERS[3], carried, vec![]),
            intent(
                "batch:1",
                IntentStatus::Pending,
                MEMBERS.map(String::from).to_vec(),
            ),
        ])
        .unwrap();
    target
}

/// The status of [`MEMBERS`]`[1]`: done by a transaction of its own.
fn done_elsewhere() -> IntentStatus {
    IntentStatus::Done {
        tx_hash: Some(alloy::primitives::TxHash::repeat_byte(7)),
        gas_used: None,
    }
}

/// A batch that lands books the members it carried done by its transaction in its own outcome
/// write: one deferred write for the batch and its members (before, the keeper booked the members
/// in a second write after it, and a crash between the two left members pointing at a batch that
/// had landed). A member it no longer carried (done elsewhere, carried by another batch) keeps
/// its record.
#[tokio::test]
async fn a_landed_batch_books_its_members_done_in_its_own_outcome_write() {
    use verinfer_keeper::txmgr::Dispatch;

    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let a = txm(anvil.provider(), anvil.key(1), store.clone(), fast_cfg());
    closable_batch(&a, &store).await;
    let Dispatch::InFlight(ours) = a.dispatch("batch:1").await.unwrap() else {
        panic!("the batch was not sent");
    };
    let (writes, durable) = (store.write_transactions(), store.durable_writes());
    let landed = a.settle(ours).await.unwrap();
    assert_eq!(
        store.write_transactions() - writes,
        1,
        "the outcome and the members in one write"
    );
    assert_eq!(store.durable_writes() - durable, 0, "a deferred write");
    let done_by_batch = IntentStatus::Done {
        tx_hash: Some(landed.tx_hash),
        gas_used: None,
    };
    for key in [MEMBERS[0], MEMBERS[3]] {
        assert_eq!(
            store.intent(key).unwrap().unwrap().status,
            done_by_batch,
            "{key}"
        );
    }
    for (key, status) in not_carried() {
        assert_eq!(store.intent(key).unwrap().unwrap().status, status, "{key}");
    }
}

/// A batch estimated as a whole (not bounded by its members) and reverted on chain is given up
/// for good; the durable write that abandons it hands back the members it still carries, each
/// pending to be sent alone, and records where it was mined. A member the batch no longer carries
/// (done elsewhere, carried by another batch) is left as it is. Before, only the estimate-revert path was tested; a crash
/// between the batch's end and its members' return would lose their attestations.
#[tokio::test]
async fn a_batch_reverted_on_chain_hands_its_members_back_in_the_write_that_abandons_it() {
    use verinfer_keeper::txmgr::Dispatch;

    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "a.redb");
    let a = txm(p.clone(), anvil.key(1), store.clone(), fast_cfg());
    let target = closable_batch(&a, &store).await;

    // Estimated while open, left in the pool; another party closes the contract with a higher
    // tip, mined first in the same block.
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let Dispatch::InFlight(ours) = a.dispatch("batch:1").await.unwrap() else {
        panic!("the batch was not sent");
    };
    raw(
        &p,
        "eth_sendTransaction",
        serde_json::json!([{
            "from": anvil.key(2).address(), "to": target, "data": "0x02", "gas": "0x30000",
            "maxFeePerGas": "0xe8d4a51000", "maxPriorityFeePerGas": "0x174876e800"
        }]),
    )
    .await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;

    let err = a.settle(ours).await.unwrap_err();
    assert!(matches!(err, TxError::Reverted { .. }), "{err}");
    let batch = store.intent("batch:1").unwrap().unwrap();
    assert!(
        matches!(&batch.status, IntentStatus::Abandoned { reason } if reason.starts_with("reverted on chain")),
        "{:?}",
        batch.status
    );
    for key in [MEMBERS[0], MEMBERS[3]] {
        let m = store.intent(key).unwrap().unwrap();
        assert_eq!(m.status, IntentStatus::Pending, "{key} handed back");
        assert!(m.single_only, "{key} is sent alone from now on");
    }
    for (key, status) in not_carried() {
        assert_eq!(
            store.intent(key).unwrap().unwrap().status,
            status,
            "{key}: a member the batch no longer carried is left as it is"
        );
    }
    // Where the failed transaction was mined is recorded at its nonce, in the same write.
    let included = store.inclusions_from(0).unwrap();
    let failed = p
        .get_transaction_receipt(included.last().unwrap().1.tx_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !failed.status(),
        "the recorded inclusion is the reverted batch"
    );
    assert_eq!(included.last().unwrap().0, 1, "at the batch's nonce");
}
