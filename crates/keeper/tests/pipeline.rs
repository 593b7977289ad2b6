//! The pipelined transaction path (issue #15): several transactions of one hot key in flight at
//! once (`TxManager::dispatch` then concurrent `TxManager::settle`), each against its own anvil.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::Provider;
use common::*;
use verinfer_bindings::VerinferToken;
use verinfer_keeper::store::{Intent, IntentKind, IntentStatus, Store};
use verinfer_keeper::txmgr::{Dispatch, InFlight, TxManager};

/// Recipient `i` of the test's transfers.
fn recipient(i: usize) -> Address {
    Address::with_last_byte(0x10 + i as u8)
}

/// Journals a transfer of `i + 1` token units to `recipient(i)` under key `t<i>`.
fn journal_transfer(store: &Store, token: Address, i: usize) -> String {
    let key = format!("t{i}");
    store
        .put_intent(&Intent {
            key: key.clone(),
            kind: IntentKind::Call,
            subject: None,
            to: Some(token),
            calldata: transfer(recipient(i), i as u64 + 1),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        })
        .unwrap();
    key
}

async fn dispatch(t: &TxManager, key: &str) -> Box<InFlight> {
    match t.dispatch(key).await.unwrap() {
        Dispatch::InFlight(f) => f,
        Dispatch::Done(d) => panic!("{key} was already mined: {d:?}"),
    }
}

fn sent_hash(store: &Store, key: &str) -> (u64, TxHash) {
    match store.intent(key).unwrap().unwrap().status {
        IntentStatus::Sent { nonce, tx_hash, .. } => (nonce, tx_hash),
        s => panic!("{key} not journaled as sent: {s:?}"),
    }
}

fn done_hash(store: &Store, key: &str) -> TxHash {
    match store.intent(key).unwrap().unwrap().status {
        IntentStatus::Done {
            tx_hash: Some(h), ..
        } => h,
        s => panic!("{key} not done: {s:?}"),
    }
}

async fn balance(p: &alloy::providers::RootProvider, token: Address, who: Address) -> U256 {
    VerinferToken::new(token, p)
        .balanceOf(who)
        .call()
        .await
        .unwrap()
}

/// Six transactions are dispatched without waiting for any receipt: they are journaled as sent
/// with consecutive nonces and all sit in the node's pool at once; one block then mines them all
/// and the concurrent settles each record their own hash.
#[tokio::test]
async fn a_window_of_transactions_is_in_flight_at_once_with_consecutive_nonces() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "w.redb");
    let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let token = deploy_token(&t).await;
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let mut window = Vec::new();
    for i in 0..6 {
        let key = journal_transfer(&store, token, i);
        window.push(dispatch(&t, &key).await);
    }
    assert_eq!(t.in_flight(), 6);
    let nonces: Vec<u64> = window.iter().map(|f| f.nonce()).collect();
    assert_eq!(nonces, (1..=6).collect::<Vec<u64>>());
    for (i, f) in window.iter().enumerate() {
        assert_eq!(sent_hash(&store, f.key()).0, i as u64 + 1);
    }
    let pending = p.get_transaction_count(t.from()).pending().await.unwrap();
    assert_eq!(pending, 7, "every transaction of the window is in the pool");
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 1);
    raw(&p, "evm_mine", serde_json::json!([])).await;
    let results = futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await;
    for (i, r) in results.into_iter().enumerate() {
        let done = r.unwrap();
        assert_eq!(done_hash(&store, &format!("t{i}")), done.tx_hash);
        assert_eq!(balance(&p, token, recipient(i)).await, U256::from(i + 1));
    }
    assert_eq!(t.in_flight(), 0);
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 7);
}

/// A crash with a full window: four transactions are dispatched, the process dies and the node
/// loses its pool. A fresh manager on the same journal rebroadcasts the same signed bytes at the
/// same nonces: every intent lands under its original hash, none twice, none lost.
#[tokio::test]
async fn a_crash_with_a_full_window_resends_the_same_bytes_at_the_same_nonces() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let (token, journaled) = {
        let store = Arc::new(Store::open(&path).unwrap());
        let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
        let token = deploy_token(&t).await;
        raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
        let mut window = Vec::new();
        for i in 0..4 {
            let key = journal_transfer(&store, token, i);
            window.push(dispatch(&t, &key).await);
        }
        let journaled: Vec<(u64, TxHash)> = (0..4)
            .map(|i| sent_hash(&store, &format!("t{i}")))
            .collect();
        drop(window);
        assert_eq!(t.in_flight(), 0, "a dropped window gives its slots back");
        (token, journaled)
    };
    raw(&p, "anvil_dropAllTransactions", serde_json::json!([])).await;
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
    let store = Arc::new(Store::open(&path).unwrap());
    let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let mut window = Vec::new();
    for i in 0..4 {
        match t.dispatch(&format!("t{i}")).await.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(_) => {}
        }
    }
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    for (i, (nonce, hash)) in journaled.iter().enumerate() {
        assert_eq!(*nonce, i as u64 + 1);
        assert_eq!(
            &done_hash(&store, &format!("t{i}")),
            hash,
            "t{i} landed as signed"
        );
        assert_eq!(
            balance(&p, token, recipient(i)).await,
            U256::from(i + 1),
            "t{i} landed once"
        );
    }
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 5);
}

/// A transaction dropped from the middle of the window: the one above it waits behind our own
/// in-flight nonce (not a gap: no error, no fee bump on it) while the dropped one's settle
/// rebroadcasts and bumps it; once blocks are mined both land, each once.
#[tokio::test]
async fn a_transaction_dropped_inside_the_window_is_resent_and_the_window_lands() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "g.redb");
    let mut cfg = fast_cfg();
    cfg.receipt_timeout = Duration::from_millis(600);
    let t = Arc::new(txm(p.clone(), anvil.key(0), store.clone(), cfg));
    let token = deploy_token(&t).await;
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let low_key = journal_transfer(&store, token, 0);
    let high_key = journal_transfer(&store, token, 1);
    let low = dispatch(&t, &low_key).await;
    let high = dispatch(&t, &high_key).await;
    let (_, low_hash) = sent_hash(&store, &low_key);
    let (_, high_hash) = sent_hash(&store, &high_key);
    raw(&p, "anvil_dropTransaction", serde_json::json!([low_hash])).await;
    let (t1, t2) = (t.clone(), t.clone());
    let settle_low = tokio::spawn(async move { t1.settle(low).await });
    let settle_high = tokio::spawn(async move { t2.settle(high).await });
    // Several receipt deadlines pass with nothing mined: the high one must keep waiting.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert!(
        !settle_high.is_finished(),
        "the high nonce gave up behind our own window"
    );
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    settle_low.await.unwrap().unwrap();
    let high_done = settle_high.await.unwrap().unwrap();
    assert_eq!(
        high_done.tx_hash, high_hash,
        "the high transaction was never replaced"
    );
    assert_eq!(balance(&p, token, recipient(0)).await, U256::from(1u64));
    assert_eq!(balance(&p, token, recipient(1)).await, U256::from(2u64));
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), 3);
}
