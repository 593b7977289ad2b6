//! The pipelined transaction path (issue #15): several transactions of one hot key in flight at
//! once (`TxManager::dispatch` then concurrent `TxManager::settle`), each against its own anvil.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::Provider;
use common::*;
use verinfer_bindings::VerinferToken;
use verinfer_devnet::rpc_fault::{Fault, FaultyRpc};
use verinfer_keeper::store::{Intent, IntentKind, IntentStatus, Store};
use verinfer_keeper::txmgr::{
    Dispatch, Executed, InFlight, Landed, Round, TxConfig, TxError, TxManager,
};

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

/// A transaction manager of dev key 0 on a journal `name` in `dir`, talking to `anvil` through a
/// counting (fault-injecting) proxy, with the proxy and the journal.
async fn counted_txm(
    anvil: &Anvil,
    dir: &tempfile::TempDir,
    name: &str,
    cfg: TxConfig,
) -> (FaultyRpc, Arc<Store>, TxManager) {
    let rpc = FaultyRpc::start(&anvil.url).await.unwrap();
    let store = store_at(dir, name);
    let counted = alloy::providers::RootProvider::new_http(rpc.url().parse().unwrap());
    let t = txm(counted, anvil.key(0), store.clone(), cfg);
    (rpc, store, t)
}

/// Dispatches `keys` as one group; every one must be in flight (none mined yet).
async fn dispatched(t: &TxManager, keys: &[String]) -> Vec<Box<InFlight>> {
    let mut window = Vec::new();
    for r in t.dispatch_group(keys, &Round::default()).await.unwrap() {
        match r.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(d) => panic!("mined before it was expected: {d:?}"),
        }
    }
    window
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

/// Asserts that each of the transfers `0..n` ([`journal_transfer`]) landed, and once.
async fn assert_transfers_landed(p: &alloy::providers::RootProvider, token: Address, n: usize) {
    for i in 0..n {
        assert_eq!(balance(p, token, recipient(i)).await, U256::from(i + 1));
    }
}

/// Eight transfers of a fresh token dispatched as one group ([`counted_txm`], automine off: none
/// is mined yet), with what a test needs to watch and settle them.
struct GroupInFlight {
    rpc: FaultyRpc,
    store: Arc<Store>,
    t: TxManager,
    token: Address,
    keys: Vec<String>,
    // As `dispatched` returns them: `settle` takes each box.
    #[allow(clippy::vec_box)]
    window: Vec<Box<InFlight>>,
}

async fn group_in_flight(
    anvil: &Anvil,
    dir: &tempfile::TempDir,
    name: &str,
    cfg: TxConfig,
) -> GroupInFlight {
    let (rpc, store, t) = counted_txm(anvil, dir, name, cfg).await;
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..8).map(|i| journal_transfer(&store, token, i)).collect();
    raw(
        &anvil.provider(),
        "evm_setAutomine",
        serde_json::json!([false]),
    )
    .await;
    let window = dispatched(&t, &keys).await;
    GroupInFlight {
        rpc,
        store,
        t,
        token,
        keys,
        window,
    }
}

/// A group of eight transfers ([`group_in_flight`]) mined in one block, then settled together with
/// `block_receipts` (if any) as the node's answer to `eth_getBlockReceipts`; every transfer must
/// land once. Returns the settles' `eth_getTransactionReceipt` calls and `eth_getBlockReceipts`
/// requests.
async fn mined_group_settled(name: &str, block_receipts: Option<Fault>) -> (usize, usize) {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let GroupInFlight {
        rpc,
        t,
        token,
        window,
        ..
    } = group_in_flight(&anvil, &dir, name, fast_cfg()).await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    if let Some(fault) = block_receipts {
        rpc.set("eth_getBlockReceipts", fault);
    }
    rpc.reset();
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    assert_transfers_landed(&p, token, 8).await;
    (
        rpc.count("eth_getTransactionReceipt"),
        rpc.requests_with("eth_getBlockReceipts"),
    )
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

/// The signed bytes, nonce and hash journaled for `key`.
fn sent_raw(store: &Store, key: &str) -> (u64, TxHash, alloy::primitives::Bytes) {
    match store.intent(key).unwrap().unwrap().status {
        IntentStatus::Sent {
            nonce,
            tx_hash,
            raw,
            ..
        } => (nonce, tx_hash, raw),
        s => panic!("{key} not journaled as sent: {s:?}"),
    }
}

/// Regression (issue #15, one journal write per group): a crash between a group's single durable
/// journal write and its broadcasts. Five transfers are dispatched as one group by a manager whose
/// node never answers a broadcast (a [`FaultyRpc`] in front of anvil hangs every
/// `eth_sendRawTransaction` and forwards nothing); once the first broadcast reaches it, the task is
/// dropped, as a `kill -9` would end the process, with nothing broadcast. No hook in the manager:
/// the crash point is the network. A fresh manager on the reopened journal rebroadcasts
/// the very same signed bytes at the same consecutive nonces: every transfer lands under its
/// journaled hash with its journaled bytes, none twice, none lost.
#[tokio::test]
async fn a_crash_between_the_group_journal_write_and_the_broadcasts_resends_the_same_bytes() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.redb");
    let keys: Vec<String> = (0..5).map(|i| format!("t{i}")).collect();
    let (token, from, first, journaled) = {
        let store = Arc::new(Store::open(&path).unwrap());
        let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
        let faulty =
            verinfer_client::rpc::http_provider(proxy.url().parse().unwrap(), fast_retry());
        let t = Arc::new(txm(faulty, anvil.key(0), store.clone(), fast_cfg()));
        let token = deploy_token(&t).await;
        for i in 0..5 {
            journal_transfer(&store, token, i);
        }
        let first = p.get_transaction_count(t.from()).await.unwrap();
        let sends = proxy.count("eth_sendRawTransaction");
        proxy.set("eth_sendRawTransaction", Fault::Hang);
        let task = {
            let (t, keys) = (t.clone(), keys.clone());
            tokio::spawn(async move { t.dispatch_group(&keys, &Round::default()).await.is_ok() })
        };
        assert!(
            proxy
                .called_more_than("eth_sendRawTransaction", sends, Duration::from_secs(60))
                .await,
            "the group reached its broadcasts"
        );
        task.abort();
        assert!(
            task.await.is_err(),
            "the dispatch was cut off, not finished"
        );
        let journaled: Vec<_> = keys.iter().map(|k| sent_raw(&store, k)).collect();
        let nonces: Vec<u64> = journaled.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(
            nonces,
            (first..first + 5).collect::<Vec<u64>>(),
            "the whole group is journaled with consecutive nonces"
        );
        assert_eq!(
            p.get_transaction_count(t.from()).pending().await.unwrap(),
            first,
            "nothing was broadcast before the crash"
        );
        (token, t.from(), first, journaled)
    };
    let store = Arc::new(Store::open(&path).unwrap());
    let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let results = t.dispatch_group(&keys, &Round::default()).await.unwrap();
    let mut window = Vec::new();
    for r in results {
        match r.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(d) => panic!("mined before any broadcast: {d:?}"),
        }
    }
    let done = futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await;
    for (i, (r, (nonce, hash, raw_bytes))) in done.into_iter().zip(&journaled).enumerate() {
        let r = r.unwrap();
        assert_eq!(&r.tx_hash, hash, "t{i} landed under its journaled hash");
        let on_chain = p.get_raw_transaction_by_hash(*hash).await.unwrap();
        assert_eq!(
            on_chain.as_ref(),
            Some(raw_bytes),
            "t{i}: identical signed bytes"
        );
        assert_eq!(*nonce, first + i as u64);
        assert_eq!(done_hash(&store, &keys[i]), *hash);
        assert_eq!(
            balance(&p, token, recipient(i)).await,
            U256::from(i + 1),
            "t{i} landed once"
        );
    }
    assert_eq!(
        p.get_transaction_count(from).await.unwrap(),
        first + 5,
        "no duplicate: exactly the group's five transactions"
    );
}

/// A group dispatched in one go is journaled in one write and broadcast at once, in one JSON-RPC
/// batch (one HTTP request for its eight transactions; before, eight concurrent requests that could
/// reach the node out of nonce order): every transaction of it sits in the pool together with
/// consecutive nonces, and each lands once when mined.
#[tokio::test]
async fn a_group_is_journaled_and_broadcast_together_in_one_request_with_consecutive_nonces() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, store, t) = counted_txm(&anvil, &dir, "gg.redb", fast_cfg()).await;
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..8).map(|i| journal_transfer(&store, token, i)).collect();
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let first = p.get_transaction_count(t.from()).await.unwrap();
    rpc.reset();
    let window = dispatched(&t, &keys).await;
    assert_eq!(
        rpc.count("eth_sendRawTransaction"),
        8,
        "every transaction sent once"
    );
    assert_eq!(
        rpc.requests_with("eth_sendRawTransaction"),
        1,
        "the group's broadcasts in one request"
    );
    let nonces: Vec<u64> = window.iter().map(|f| f.nonce()).collect();
    assert_eq!(nonces, (first..first + 8).collect::<Vec<u64>>());
    assert_eq!(
        p.get_transaction_count(t.from()).pending().await.unwrap(),
        first + 8,
        "the whole group is in the pool"
    );
    raw(&p, "evm_mine", serde_json::json!([])).await;
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    assert_transfers_landed(&p, token, 8).await;
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), first + 8);
}

/// Pipelined dispatch (issue #15): a launched group is journaled as sent before `launch_group`
/// returns, and its broadcast runs on while the next group is signed, journaled and broadcast. The
/// node here answers each broadcast 2 s after taking it (as an automining anvil answers only once it
/// has mined): the second group's broadcast is at the node while the first's is unanswered, the
/// nonces follow launch order, and both groups land in flight and settle. A launch that waited for
/// its broadcast's answer would put one group's broadcast at the node at a time.
#[tokio::test]
async fn a_launched_groups_broadcast_overlaps_the_next_groups_and_both_land_in_nonce_order() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, store, t) = counted_txm(&anvil, &dir, "lg.redb", fast_cfg()).await;
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..4).map(|i| journal_transfer(&store, token, i)).collect();
    let first = p.get_transaction_count(t.from()).await.unwrap();
    rpc.reset();
    rpc.set(
        "eth_sendRawTransaction",
        Fault::Delay(Duration::from_secs(2)),
    );
    let round = Round::default();
    let a = t.launch_group(&keys[..2], &round).await.unwrap();
    for k in &keys[..2] {
        sent_hash(&store, k); // journaled before its broadcast is answered
    }
    let b = t.launch_group(&keys[2..], &round).await.unwrap();
    assert_eq!((a.in_flight(), b.in_flight()), (2, 2));
    assert_eq!(
        t.in_flight(),
        4,
        "both groups hold their places before they land"
    );
    let (la, lb) = tokio::join!(t.land_group(a), t.land_group(b));
    assert_eq!(
        rpc.most_in_flight("eth_sendRawTransaction"),
        4,
        "both groups' broadcasts at the node at once"
    );
    assert_eq!(
        rpc.requests_with("eth_sendRawTransaction"),
        2,
        "one request per group"
    );
    rpc.clear("eth_sendRawTransaction");
    let mut window = Vec::new();
    for l in la.unwrap().into_iter().chain(lb.unwrap()) {
        match l {
            Landed::Settled(Ok(Dispatch::InFlight(f))) => window.push(f),
            other => panic!("every transaction lands in flight: {other:?}"),
        }
    }
    let nonces: Vec<u64> = window.iter().map(|f| f.nonce()).collect();
    assert_eq!(nonces, (first..first + 4).collect::<Vec<u64>>());
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    assert_transfers_landed(&p, token, 4).await;
}

/// A launched transaction the node refuses for its nonce lands as `NonceRejected`, pending again
/// (nothing of it journaled as sent), and `redispatch` signs it anew at the nonce the node reports;
/// it lands once.
#[tokio::test]
async fn a_launched_transaction_refused_for_its_nonce_is_pending_again_and_redispatched() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, store, t) = counted_txm(&anvil, &dir, "lr.redb", fast_cfg()).await;
    let token = deploy_token(&t).await;
    let key = journal_transfer(&store, token, 0);
    let first = p.get_transaction_count(t.from()).await.unwrap();
    rpc.set(
        "eth_sendRawTransaction",
        Fault::reject_next("nonce too low"),
    );
    let round = Round::default();
    let launched = t
        .launch_group(std::slice::from_ref(&key), &round)
        .await
        .unwrap();
    let landed = t.land_group(launched).await.unwrap();
    assert!(
        matches!(landed.as_slice(), [Landed::NonceRejected]),
        "{landed:?}"
    );
    assert_eq!(
        store.intent(&key).unwrap().unwrap().status,
        IntentStatus::Pending
    );
    let mut again = t
        .redispatch(std::slice::from_ref(&key), &round)
        .await
        .unwrap();
    let Some(Ok(Dispatch::InFlight(f))) = again.pop() else {
        panic!("signed anew and in flight");
    };
    assert_eq!(f.nonce(), first, "at the nonce the node reports");
    t.settle(f).await.unwrap();
    assert_transfers_landed(&p, token, 1).await;
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), first + 1);
}

/// A transaction whose broadcast failed on the way is journaled and in flight at its nonce, though
/// the node does not have it. A later transaction refused for its nonce is signed anew above it,
/// not at it: the node's pending count is below that nonce, and a resync that started from it
/// alone handed the same nonce to a second transaction (found in review of the pipelined path).
#[tokio::test]
async fn a_resync_never_hands_out_the_nonce_of_a_transaction_in_flight_that_the_node_lacks() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, store, t) = counted_txm(&anvil, &dir, "rf.redb", fast_cfg()).await;
    let token = deploy_token(&t).await;
    let (a, b) = (
        journal_transfer(&store, token, 0),
        journal_transfer(&store, token, 1),
    );
    let first = p.get_transaction_count(t.from()).await.unwrap();
    let round = Round::default();
    rpc.set(
        "eth_sendRawTransaction",
        Fault::reject_next("txpool is full"),
    );
    let Some(Ok(Dispatch::InFlight(fa))) = t.dispatch_group(&[a], &round).await.unwrap().pop()
    else {
        panic!("journaled and in flight, to be rebroadcast");
    };
    assert_eq!(fa.nonce(), first);
    assert_eq!(
        p.get_transaction_count(t.from()).pending().await.unwrap(),
        first,
        "the node does not have it"
    );
    rpc.set(
        "eth_sendRawTransaction",
        Fault::reject_next("nonce too low"),
    );
    let Some(Ok(Dispatch::InFlight(fb))) = t.dispatch_group(&[b], &round).await.unwrap().pop()
    else {
        panic!("refused once, signed anew and in flight");
    };
    assert_eq!(fb.nonce(), first + 1, "above the nonce in flight");
    t.settle(fa).await.unwrap();
    t.settle(fb).await.unwrap();
    assert_transfers_landed(&p, token, 2).await;
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), first + 2);
}

/// The settles of a group this process just signed and broadcast look for their receipts in the
/// receipt hub from their first look on: no block before the broadcast can hold them, so one scan
/// of the blocks since answers the whole group, with no receipt poll per transaction (before,
/// each settle's first look was its own `eth_getTransactionReceipt`: eight here).
#[tokio::test]
async fn a_fresh_group_settles_from_one_hub_scan_without_a_receipt_poll_per_transaction() {
    let (polls, scans) = mined_group_settled("gh.redb", None).await;
    assert_eq!(polls, 0, "no settle polled its own receipt");
    assert_eq!(scans, 1, "one scan found the whole group");
}

/// A keeper with nothing in flight keeps the receipt hub's coverage current by reading the head
/// only: it restarts the coverage there and reads no block's receipts, however many blocks passed
/// (regression, found in review: between rounds an idle keeper read the receipts of every new
/// block, up to 64 per quarter of the receipt timeout, with nobody waiting for any).
#[tokio::test]
async fn an_idle_keepers_receipt_hub_reads_the_head_and_no_block_receipts() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_cfg();
    // The hub's head read counts as stale after a quarter of this.
    cfg.receipt_timeout = Duration::from_millis(400);
    let (rpc, _store, t) = counted_txm(&anvil, &dir, "hi.redb", cfg).await;
    let _token = deploy_token(&t).await;
    rpc.reset();
    t.prime_hub().await;
    for _ in 0..3 {
        raw(&p, "evm_mine", serde_json::json!([])).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    t.prime_hub().await;
    assert_eq!(rpc.count("eth_blockNumber"), 2, "one head read each time");
    assert_eq!(
        rpc.count("eth_getBlockReceipts"),
        0,
        "no block's receipts read with nothing in flight"
    );
}

/// On a node that cannot serve `eth_getBlockReceipts` (HTTP 503 for it), the hub's failed scan
/// leaves each settle to poll its own receipt at once: one failed scan, one receipt poll per
/// transaction, and every transaction of the group settles (without the hub's failure mark, the
/// other settles took the failed scan as "not mined yet" and waited for scans of their own).
#[tokio::test]
async fn a_node_without_block_receipts_settles_a_group_by_one_receipt_poll_each() {
    let (polls, scans) = mined_group_settled("hn.redb", Some(Fault::Unavailable)).await;
    assert_eq!(scans, 1, "one failed scan");
    assert_eq!(polls, 8, "one receipt poll per transaction");
}

/// A group whose batched broadcast the node refuses (HTTP 503) is broadcast again one transaction
/// per request, so each gets the node's own answer; its transactions stay journaled and in flight,
/// and once the node answers again each is rebroadcast and lands once.
#[tokio::test]
async fn a_group_whose_batch_broadcast_fails_is_sent_one_by_one_and_lands_once() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, store, t) = counted_txm(&anvil, &dir, "gf.redb", fast_cfg()).await;
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..4).map(|i| journal_transfer(&store, token, i)).collect();
    let first = p.get_transaction_count(t.from()).await.unwrap();
    rpc.set("eth_sendRawTransaction", Fault::Unavailable);
    rpc.reset();
    let window = dispatched(&t, &keys).await;
    assert_eq!(
        rpc.requests_with("eth_sendRawTransaction"),
        1 + 4,
        "the batch, then one request per transaction"
    );
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap(),
        first,
        "nothing reached the node"
    );
    rpc.clear("eth_sendRawTransaction");
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    for i in 0..4 {
        assert_eq!(
            balance(&p, token, recipient(i)).await,
            U256::from(i + 1),
            "t{i} landed once"
        );
    }
    assert_eq!(p.get_transaction_count(t.from()).await.unwrap(), first + 4);
}

/// Eight transfers dispatched as one group through a proxy that refuses the third one's broadcast
/// once, inside the group's JSON-RPC batch ("txpool is full"), while the node takes the others;
/// `retrying`: through the keeper's kind of provider (`http_provider`, with a retry layer), else a
/// plain one. Settles the group and checks that every transfer landed once, at the nonce and with
/// the bytes journaled before its broadcast (the refused one was not signed again at a new nonce,
/// and no nonce was skipped). Returns the requests that carried `eth_sendRawTransaction`.
async fn group_with_a_refused_member_lands(name: &str, retrying: bool) -> usize {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let rpc = FaultyRpc::start(&anvil.url).await.unwrap();
    let url = rpc.url().parse().unwrap();
    let provider = if retrying {
        verinfer_client::rpc::http_provider(url, fast_retry())
    } else {
        alloy::providers::RootProvider::new_http(url)
    };
    let store = store_at(&dir, name);
    let t = txm(provider, anvil.key(0), store.clone(), fast_cfg());
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..8).map(|i| journal_transfer(&store, token, i)).collect();
    let first = p.get_transaction_count(t.from()).await.unwrap();
    rpc.set(
        "eth_sendRawTransaction",
        Fault::Reject {
            skip: 2,
            times: 1,
            message: "txpool is full".into(),
        },
    );
    rpc.reset();
    let window = dispatched(&t, &keys).await;
    let sent: Vec<(u64, TxHash)> = keys.iter().map(|k| sent_hash(&store, k)).collect();
    assert_eq!(
        sent.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        (first..first + 8).collect::<Vec<_>>(),
        "one group, consecutive nonces"
    );
    for r in futures::future::join_all(window.into_iter().map(|f| t.settle(f))).await {
        r.unwrap();
    }
    assert_transfers_landed(&p, token, 8).await;
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap(),
        first + 8,
        "no nonce used twice or skipped"
    );
    for (key, (_, hash)) in keys.iter().zip(&sent) {
        assert_eq!(
            done_hash(&store, key),
            *hash,
            "{key} landed with the bytes journaled before its broadcast"
        );
    }
    rpc.requests_with("eth_sendRawTransaction")
}

/// Through a plain provider, the refused member's error is its own (the batch's other members are
/// sent): it is tracked as sent, and its settle rebroadcasts the same bytes; the five behind it in
/// the node's pool wait for it, and the group lands.
#[tokio::test]
async fn a_member_refused_inside_a_group_broadcast_is_rebroadcast_by_its_settle_and_the_group_lands(
) {
    let requests = group_with_a_refused_member_lands("refused-plain.redb", false).await;
    assert!(
        (2..1 + 8).contains(&requests),
        "the batch, then the refused member's own rebroadcast, not the whole group again: {requests}"
    );
}

/// Through the keeper's retrying provider, a batch with a refused member comes back as that
/// member's error, and the group is sent again one request per transaction: the ones the node has
/// count as sent, the refused one is taken, and the group lands.
#[tokio::test]
async fn a_member_refused_inside_a_group_broadcast_through_the_keepers_provider_lands_once() {
    let requests = group_with_a_refused_member_lands("refused-retrying.redb", true).await;
    assert!(
        requests > 8,
        "the batch, then one request per transaction (1 + 8): {requests}"
    );
}

/// Receipts of a window are read per block, not per transaction: eight transfers in flight
/// (automine off) share the receipt hub from their first look on (`eth_blockNumber`, then one
/// `eth_getBlockReceipts` per new block; the hub covered the chain before their broadcast), so the
/// block that mines all eight answers every settle with one call, and no settle polls its own
/// receipt (before: one poll each, right after the broadcast).
#[tokio::test]
async fn a_windows_receipts_are_read_once_per_block_not_once_per_transaction() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_cfg();
    // The settles' direct safety-net poll comes a quarter of this after the first one.
    cfg.receipt_timeout = Duration::from_secs(60);
    let GroupInFlight {
        rpc,
        store,
        t,
        token,
        keys,
        window,
    } = group_in_flight(&anvil, &dir, "h.redb", cfg).await;
    let before = rpc.count("eth_getTransactionReceipt");
    let t = Arc::new(t);
    let settles: Vec<_> = window
        .into_iter()
        .map(|f| {
            let t = t.clone();
            tokio::spawn(async move { t.settle(f).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let blocks_before = rpc.count("eth_getBlockReceipts");
    raw(&p, "evm_mine", serde_json::json!([])).await;
    for s in settles {
        tokio::time::timeout(Duration::from_secs(30), s)
            .await
            .expect("settled")
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        rpc.count("eth_getTransactionReceipt") - before,
        0,
        "no settle polled its own receipt"
    );
    assert_eq!(
        rpc.count("eth_getBlockReceipts") - blocks_before,
        1,
        "the one new block is read once for all eight"
    );
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(balance(&p, token, recipient(i)).await, U256::from(i + 1));
        done_hash(&store, k);
    }
}

/// Regression (c4d7bbb, found by the bench: a 16-in-flight drain stopped after 62 transactions with
/// nothing in the pool): the keeper's round keeps its settles in a `FuturesUnordered` and dispatches
/// the next group between polls of it, so a settle can be suspended, not polled, while it holds the
/// receipt hub's lock. A dispatch that then waited for that lock (to prime the hub before its
/// broadcasts) waited forever. Deterministic: a settle is driven until it is inside the hub's scan
/// (its `eth_blockNumber` reached the proxy, which answers it late) and then left unpolled, as the
/// round leaves it; the next group must still be dispatched. Fails by the deadline when `prime_hub`
/// waits for the lock (checked against the code before c4d7bbb).
#[tokio::test]
async fn a_dispatch_never_waits_for_the_receipt_hub_held_by_a_settle_the_round_does_not_poll() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let faulty = verinfer_client::rpc::http_provider(proxy.url().parse().unwrap(), fast_retry());
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "d.redb");
    let mut cfg = fast_cfg();
    // No rebroadcast or fee bump while the test holds the settle still.
    cfg.receipt_timeout = Duration::from_secs(60);
    let t = txm(faulty, anvil.key(0), store.clone(), cfg);
    let token = deploy_token(&t).await;
    let keys: Vec<String> = (0..4).map(|i| journal_transfer(&store, token, i)).collect();
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let mut window = Vec::new();
    for r in t
        .dispatch_group(&keys[..2], &Round::default())
        .await
        .unwrap()
    {
        match r.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(d) => panic!("mined already: {d:?}"),
        }
    }
    let f1 = window.pop().unwrap();
    let f0 = window.pop().unwrap();

    // Drive the first settle until it reads the head inside the hub's scan, holding the hub's lock.
    let heads = proxy.count("eth_blockNumber");
    proxy.set("eth_blockNumber", Fault::Delay(Duration::from_millis(300)));
    let mut held = std::pin::pin!(t.settle(f0));
    tokio::select! {
        r = &mut held => panic!("settled before anything was mined: {r:?}"),
        reached = proxy.called_more_than("eth_blockNumber", heads, Duration::from_secs(30)) => {
            assert!(reached, "the settle went to the receipt hub");
        }
    }
    proxy.clear("eth_blockNumber");
    // The settle is suspended inside the scan and not polled (its answer arrives, nobody reads it).
    tokio::time::sleep(Duration::from_millis(400)).await;

    let next = tokio::time::timeout(
        Duration::from_secs(20),
        t.dispatch_group(&keys[2..], &Round::default()),
    )
    .await
    .expect("the dispatch waited for the hub's lock, held by a settle nobody polls: deadlock")
    .unwrap();
    let mut rest = vec![f1];
    for r in next {
        match r.unwrap() {
            Dispatch::InFlight(f) => rest.push(f),
            Dispatch::Done(d) => panic!("mined already: {d:?}"),
        }
    }
    assert_eq!(t.in_flight(), 4, "the whole window is in flight");

    raw(&p, "evm_mine", serde_json::json!([])).await;
    let done = tokio::time::timeout(
        Duration::from_secs(60),
        futures::future::join(
            held,
            futures::future::join_all(rest.into_iter().map(|f| t.settle(f))),
        ),
    )
    .await
    .expect("every settle finished once the block was mined");
    done.0.unwrap();
    for r in done.1 {
        r.unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(balance(&p, token, recipient(i)).await, U256::from(i + 1));
        done_hash(&store, k);
    }
    assert_eq!(t.in_flight(), 0);
}

/// Settles `f`; a transaction handed back without a fee bump (its nonce taken) is run again.
async fn settle_or_rerun(t: &TxManager, key: &str, f: Box<InFlight>) -> Executed {
    match t.settle(f).await {
        Ok(done) => done,
        Err(TxError::Stuck { bumps: 0, .. }) => t.execute(key).await.unwrap(),
        Err(e) => panic!("{key}: {e}"),
    }
}

/// Regression (found by the HA bench row with group broadcasts: live p50 of 180 s): two managers
/// on one hot key, as HA replicas share it. Replica B holds nonce n+1 in the pool when replica A,
/// whose own counter says n+1, signs a new transfer at it. Whatever the node does with the clash
/// (refuses A's as "replacement transaction underpriced", a nonce refusal on which A re-signs; or
/// takes A's as a replacement of B's), no transaction is left in flight at a nonce that can never
/// be mined and bumped for minutes: the loser is handed back at its first rebroadcast (the node
/// refuses its nonce and the chain has moved past it) without a single fee bump, and its re-run
/// lands. Every transfer lands, each once.
#[tokio::test]
async fn a_nonce_held_by_another_replica_of_the_hot_key_is_never_fee_bumped_in_vain() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store_a = store_at(&dir, "a.redb");
    let store_b = store_at(&dir, "b.redb");
    let metrics = Arc::new(verinfer_keeper::metrics::Metrics::default());
    let a = txm(p.clone(), anvil.key(0), store_a.clone(), fast_cfg()).with_metrics(metrics.clone());
    let b = txm(p.clone(), anvil.key(0), store_b.clone(), fast_cfg()).with_metrics(metrics.clone());
    let token = deploy_token(&a).await;
    raw(&p, "evm_setAutomine", serde_json::json!([false])).await;
    let k0 = journal_transfer(&store_a, token, 0);
    let first = dispatch(&a, &k0).await;
    let n = first.nonce();
    let k1 = journal_transfer(&store_b, token, 1);
    let held = dispatch(&b, &k1).await;
    assert_eq!(held.nonce(), n + 1, "B takes the next nonce");
    // A's first transfer leaves the pool; A's counter still says n + 1, which B holds.
    let (_, h0) = sent_hash(&store_a, &k0);
    raw(&p, "anvil_dropTransaction", serde_json::json!([h0])).await;
    drop(first);
    let k2 = journal_transfer(&store_a, token, 2);
    let clash = dispatch(&a, &k2).await;
    raw(&p, "evm_setAutomine", serde_json::json!([true])).await;
    raw(&p, "evm_mine", serde_json::json!([])).await;
    let (_, _, first_again) = tokio::time::timeout(
        Duration::from_secs(120),
        futures::future::join3(
            settle_or_rerun(&a, &k2, clash),
            settle_or_rerun(&b, &k1, held),
            a.execute(&k0),
        ),
    )
    .await
    .expect("every transfer settles");
    first_again.unwrap();
    assert_eq!(metrics.fee_bumps.get(), 0, "no fee bump at a nonce taken");
    for i in 0..3 {
        assert_eq!(
            balance(&p, token, recipient(i)).await,
            U256::from(i + 1),
            "transfer {i} landed once"
        );
    }
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

/// A private anvil with a JSON-RPC proxy counting calls in front of it, a journal, a transaction
/// manager that talks through the proxy with `cfg`, and a token it deployed.
struct Counted {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    /// The node itself (uncounted).
    p: alloy::providers::RootProvider,
    rpc: FaultyRpc,
    store: Arc<Store>,
    t: TxManager,
    token: Address,
}

/// [`Counted`], its journal named `journal`.
async fn counted(journal: &str, cfg: TxConfig) -> Counted {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let rpc = FaultyRpc::start(&anvil.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, journal);
    let via_proxy = alloy::providers::RootProvider::new_http(rpc.url().parse().unwrap());
    let t = txm(via_proxy, anvil.key(0), store.clone(), cfg);
    let token = deploy_token(&t).await;
    Counted {
        _anvil: anvil,
        _dir: dir,
        p,
        rpc,
        store,
        t,
        token,
    }
}

/// Fees once per round, gas once per call shape: five transfers of one shape dispatched in one
/// `Round` make one fee lookup (`eth_feeHistory`) and one `eth_estimateGas` (the rest come from the
/// gas cache); dispatched each on its own (`dispatch`: a round each), every transaction looks its
/// fees up again while the gas cache still serves the shape. Every transfer lands.
#[tokio::test]
async fn a_round_fetches_fees_once_and_a_call_shape_is_estimated_once() {
    let Counted {
        _anvil,
        _dir,
        p,
        rpc,
        store,
        t,
        token,
    } = counted("f.redb", fast_cfg()).await;
    let (fees0, est0) = (rpc.count("eth_feeHistory"), rpc.count("eth_estimateGas"));
    let round = Round::default();
    let mut window = Vec::new();
    for i in 0..5 {
        let key = journal_transfer(&store, token, i);
        match t.dispatch_in(&key, &round).await.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(d) => panic!("{key} already mined: {d:?}"),
        }
    }
    assert_eq!(rpc.count("eth_feeHistory") - fees0, 1, "one fee lookup");
    assert_eq!(rpc.count("eth_estimateGas") - est0, 1, "one estimate");
    for f in window {
        t.settle(f).await.unwrap();
    }
    let (fees1, est1) = (rpc.count("eth_feeHistory"), rpc.count("eth_estimateGas"));
    for i in 5..8 {
        let key = journal_transfer(&store, token, i);
        t.execute(&key).await.unwrap();
    }
    assert_eq!(rpc.count("eth_feeHistory") - fees1, 3, "a round each");
    assert_eq!(
        rpc.count("eth_estimateGas") - est1,
        0,
        "the shape is cached"
    );
    assert_transfers_landed(&p, token, 8).await;
}

/// A transfer intent not journaled (as the collect stage's answer before its chunk's write).
fn unjournaled_transfer(token: Address) -> Intent {
    Intent {
        key: "early".into(),
        kind: IntentKind::Call,
        subject: None,
        to: Some(token),
        calldata: transfer(recipient(9), 1),
        status: IntentStatus::Pending,
        members: vec![],
        single_only: true,
    }
}

/// A call primed before it is journaled (`prime_call`: the collect stage primes its first answer's
/// call as soon as it is signed) is estimated once: the round's own `prime` of a journaled call of
/// the same shape, started while that estimate is held at the node, waits for it instead of asking
/// again, and the dispatch after it goes out on the cached estimate. Without the shared wait the
/// round's prime would ask for a second estimate of the shape while the first is held.
#[tokio::test]
async fn a_call_primed_before_it_is_journaled_is_estimated_once_and_the_rounds_prime_waits_for_it()
{
    let c = counted("pc.redb", fast_cfg()).await;
    let (p, rpc, store, t) = (&c.p, &c.rpc, &c.store, &c.t);
    let early = unjournaled_transfer(c.token);
    assert!(!t.gas_known(&early), "nothing cached for the shape yet");
    let key = journal_transfer(store, c.token, 0);
    let est0 = rpc.count("eth_estimateGas");
    rpc.set("eth_estimateGas", Fault::Hold(Duration::from_secs(1)));
    let round = Round::default();
    let ((), waited) = tokio::join!(t.prime_call(&early), async {
        // The early prime holds its estimate at the node by now (held for 1 s).
        tokio::time::sleep(Duration::from_millis(100)).await;
        t.prime(&key, &round).await
    });
    assert!(
        waited,
        "the round's prime reports time passed: its queue may have grown"
    );
    assert_eq!(
        rpc.count("eth_estimateGas") - est0,
        1,
        "one estimate for the shape"
    );
    assert!(t.gas_known(&early));
    rpc.clear("eth_estimateGas");
    t.execute(&key).await.unwrap();
    assert_eq!(
        rpc.count("eth_estimateGas") - est0,
        1,
        "the dispatch went out on the cached estimate"
    );
    assert_transfers_landed(p, c.token, 1).await;
}

/// A primed call's round signs at once: `prime_call` reads the estimate, the fees and the nonce
/// ahead (the collect stage does so while the rest of a chunk is answered and journaled), so the
/// dispatch of the journaled call, in a round of its own, asks the node for none of them: it only
/// broadcasts. The fees read ahead seed that one round: the next round reads its own. Both
/// transfers land, at the nonces the node gave. Without the fees read ahead, the first round's
/// dispatch made a fee lookup (and, after a resync, a nonce read) of its own.
#[tokio::test]
async fn a_primed_calls_round_signs_without_reading_the_estimate_fees_or_nonce_itself() {
    let c = counted("pf.redb", fast_cfg()).await;
    let (p, rpc, store, t) = (&c.p, &c.rpc, &c.store, &c.t);
    // The nonce is unknown again (as after a restart or a repair).
    t.resync_nonce().await;
    let early = unjournaled_transfer(c.token);
    assert!(!t.primed(&early), "nothing read ahead yet");
    t.prime_call(&early).await;
    assert!(t.primed(&early), "estimate, fees and nonce read ahead");
    let reads = || {
        (
            rpc.count("eth_feeHistory"),
            rpc.count("eth_getTransactionCount"),
            rpc.count("eth_estimateGas"),
        )
    };
    let before = reads();
    let nonce = p.get_transaction_count(t.from()).await.unwrap();
    let key = journal_transfer(store, c.token, 0);
    let window = dispatched(t, std::slice::from_ref(&key)).await;
    assert_eq!(reads(), before, "the round read nothing itself");
    assert_eq!(sent_hash(store, &key).0, nonce, "the node's nonce");
    for f in window {
        t.settle(f).await.unwrap();
    }
    let fees = rpc.count("eth_feeHistory");
    let next = journal_transfer(store, c.token, 1);
    for f in dispatched(t, std::slice::from_ref(&next)).await {
        t.settle(f).await.unwrap();
    }
    assert_eq!(
        rpc.count("eth_feeHistory") - fees,
        1,
        "the seed served one round; the next reads its own fees"
    );
    assert_transfers_landed(p, c.token, 2).await;
}

/// The first transaction of a round reads the round's fees and the account's nonce while its gas
/// limit is estimated, not after it: with the node holding every `eth_estimateGas` for 4 s, the fee
/// lookup and the nonce read both reach the node before the dispatch returns, and the transfer
/// lands at the nonce the node gave. Without the overlap (estimate, then fees, then nonce) neither
/// read comes while the estimate is held.
#[tokio::test]
async fn a_rounds_fees_and_nonce_are_read_while_its_first_limit_is_estimated() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let c = counted("w.redb", fast_cfg()).await;
    let (p, rpc, store, t) = (&c.p, &c.rpc, &c.store, &c.t);
    // The nonce is read again (as after a restart or a repair).
    t.resync_nonce().await;
    let (fees0, nonces0, est0) = (
        rpc.count("eth_feeHistory"),
        rpc.count("eth_getTransactionCount"),
        rpc.count("eth_estimateGas"),
    );
    let nonce = p.get_transaction_count(t.from()).await.unwrap();
    rpc.set("eth_estimateGas", Fault::Hold(Duration::from_secs(4)));
    let key = journal_transfer(store, c.token, 0);
    let returned = AtomicBool::new(false);
    let (dispatched, (fees_read, nonce_read, returned_first)) = tokio::join!(
        async {
            let d = t.dispatch(&key).await;
            returned.store(true, Ordering::SeqCst);
            d
        },
        async {
            let wait = Duration::from_secs(3);
            let (fees, nonce) = tokio::join!(
                rpc.called_more_than("eth_feeHistory", fees0, wait),
                rpc.called_more_than("eth_getTransactionCount", nonces0, wait)
            );
            (fees, nonce, returned.load(Ordering::SeqCst))
        }
    );
    assert!(
        fees_read && nonce_read,
        "fees {fees_read}, nonce {nonce_read}"
    );
    assert!(
        !returned_first,
        "the dispatch returned before both reads arrived"
    );
    assert_eq!(rpc.count("eth_estimateGas") - est0, 1, "one estimate");
    let Dispatch::InFlight(f) = dispatched.unwrap() else {
        panic!("{key} was already mined");
    };
    assert_eq!(sent_hash(store, &key).0, nonce, "the node's nonce");
    t.settle(f).await.unwrap();
    assert_eq!(balance(p, c.token, recipient(0)).await, U256::from(1));
}

/// A receipt one settle's hub scan finds ends another settle's poll backoff at once. On a node
/// that mines only when told to, two transfers are in flight with a 16 s poll interval (backoffs of
/// 0.25, 0.5, 1, 2, 4 s; the hub rescans at most every second). Once both settles sleep in their
/// 4 s backoff (after their hub scans at about 1.75 and 3.75 s), a block mines both, and a third
/// transfer is dispatched: its settle's first hub scan (once the hub's last read is a second old)
/// reads that block. The first two settle on that scan: when they finish, the node has been asked
/// for its head once since the block. Before, each found receipt waited in the hub for its
/// settle's own next poll (at about 7.75 s), after the third settle had scanned again.
#[tokio::test]
async fn a_receipt_found_by_another_settles_scan_ends_a_settles_backoff_at_once() {
    let cfg = TxConfig {
        receipt_timeout: Duration::from_secs(600),
        poll_interval: Duration::from_secs(16),
        ..fast_cfg()
    };
    let c = counted("h.redb", cfg).await;
    let (p, rpc, store, t) = (&c.p, &c.rpc, &c.store, &c.t);
    raw(p, "evm_setAutomine", serde_json::json!([false])).await;
    let round = Round::default();
    let keys = [
        journal_transfer(store, c.token, 0),
        journal_transfer(store, c.token, 1),
    ];
    let mut flights = Vec::new();
    for d in t.dispatch_group(&keys, &round).await.unwrap() {
        let Ok(Dispatch::InFlight(f)) = d else {
            panic!("not in flight: {d:?}");
        };
        flights.push(f);
    }
    let heads = || rpc.count("eth_blockNumber");
    let dispatched = heads();
    let mut flights = flights.into_iter();
    let (fa, fb) = (flights.next().unwrap(), flights.next().unwrap());
    let (settled, first_two_settled) = tokio::sync::oneshot::channel();
    let first_two = async {
        let (a, b) = tokio::join!(t.settle(fa), t.settle(fb));
        let heads_then = heads();
        settled.send(()).unwrap();
        (a.unwrap(), b.unwrap(), heads_then)
    };
    let third = async {
        // Both settles have scanned twice: they sleep until about 7.75 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while heads() < dispatched + 2 {
            assert!(std::time::Instant::now() < deadline, "the settles' scans");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The proxy counts a head read when it arrives: let the node answer it before the block.
        tokio::time::sleep(Duration::from_millis(300)).await;
        raw(p, "evm_mine", serde_json::json!([])).await;
        let mined = heads();
        let key = journal_transfer(store, c.token, 2);
        let Dispatch::InFlight(f) = t.dispatch_in(&key, &round).await.unwrap() else {
            panic!("{key} mined at once");
        };
        // The third transfer is mined once the first two settled.
        let mine_after = async {
            first_two_settled.await.unwrap();
            raw(p, "evm_mine", serde_json::json!([])).await;
        };
        let (third, ()) = tokio::join!(t.settle(f), mine_after);
        (mined, third.unwrap())
    };
    let ((a, b, heads_when_settled), (mined, _)) = tokio::join!(first_two, third);
    assert_eq!(a.block, b.block, "one block");
    assert_eq!(
        heads_when_settled,
        mined + 1,
        "settled on the third settle's first scan"
    );
    assert_eq!(balance(p, c.token, recipient(2)).await, U256::from(3));
}

/// Journals a transfer of `amount` to `to` under `key`.
fn journal_call(store: &Store, key: &str, token: Address, to: Address, amount: u64) {
    store
        .put_intent(&Intent {
            key: key.into(),
            kind: IntentKind::Call,
            subject: None,
            to: Some(token),
            calldata: transfer(to, amount),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        })
        .unwrap();
}

/// A cheap transfer (to the sender itself, both balances already set) caches its shape; then a
/// transfer of the same shape to a new holder, which costs more, is sent on the cached estimate.
async fn cheap_then_dear(t: &TxManager, store: &Store) -> (Address, Result<Executed, TxError>) {
    let token = deploy_token(t).await;
    t.send("cheap", Some(token), transfer(t.from(), 1))
        .await
        .unwrap();
    journal_call(store, "dear", token, recipient(0), 5);
    (token, t.execute("dear").await)
}

/// The cached headroom covers a dearer call of the shape: with the default margins the transfer to
/// a new holder (a zero to non-zero balance slot, about 20,000 gas more) lands at once on the cheap
/// call's cached estimate. (A multiplicative margin of 60 % alone did not: this test failed with it.)
#[tokio::test]
async fn the_cached_headroom_covers_a_dearer_call_of_the_same_shape() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "m.redb");
    let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
    let (token, dear) = cheap_then_dear(&t, &store).await;
    let done = dear.unwrap();
    let r = t.receipt_of(done.tx_hash).await.unwrap().unwrap();
    assert!(r.status());
    assert!(r.gas_used > 0);
    assert_eq!(balance(&p, token, recipient(0)).await, U256::from(5));
}

/// Asserts that `outcome`, of executing `key`, is a re-plan after its transaction failed on chain,
/// and that the intent is pending again (not abandoned).
async fn assert_replanned(
    t: &TxManager,
    store: &Store,
    key: &str,
    outcome: Result<Executed, TxError>,
) {
    match outcome {
        Err(TxError::Replan { key: k, tx_hash }) => {
            assert_eq!(k, key);
            let r = t.receipt_of(tx_hash).await.unwrap().unwrap();
            assert!(!r.status(), "it failed on chain");
        }
        other => panic!("expected a re-plan of {key} after a failure on chain, got {other:?}"),
    }
    assert_eq!(
        store.intent(key).unwrap().unwrap().status,
        IntentStatus::Pending
    );
}

/// A stale cached estimate is dropped, not trusted: with no margin and no headroom the transfer to a new
/// holder runs out of gas on the cheap call's cached limit and fails on chain. The manager reports
/// `Replan`, the intent is pending again (not abandoned), and the next attempt estimates afresh and
/// lands.
#[tokio::test]
async fn a_transaction_out_of_gas_on_a_cached_estimate_is_re_estimated_and_lands() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "g.redb");
    let cfg = TxConfig {
        gas_margin_percent: 100,
        cached_gas_headroom: 0,
        ..fast_cfg()
    };
    let t = txm(p.clone(), anvil.key(0), store.clone(), cfg);
    let (token, dear) = cheap_then_dear(&t, &store).await;
    assert_replanned(&t, &store, "dear", dear).await;
    let done = t.execute("dear").await.unwrap();
    assert!(t.receipt_of(done.tx_hash).await.unwrap().unwrap().status());
    assert_eq!(balance(&p, token, recipient(0)).await, U256::from(5));
}

/// Journals an attestation-kind intent that transfers `amount` to `to` under `key` (the manager
/// treats a call by its intent's kind, not by its calldata).
fn journal_attest_like(store: &Store, key: &str, token: Address, to: Address, amount: U256) {
    store
        .put_intent(&Intent {
            key: key.into(),
            kind: IntentKind::Attest,
            subject: None,
            to: Some(token),
            calldata: transfer_wei(to, amount),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        })
        .unwrap();
}

/// ERC-20 `transfer(to, amount)` calldata for any amount.
fn transfer_wei(to: Address, amount: U256) -> alloy::primitives::Bytes {
    use alloy::sol_types::SolCall;
    alloy::sol! {
        function transfer(address to, uint256 amount) external returns (bool);
    }
    transferCall { to, amount }.abi_encode().into()
}

alloy::sol! {
    function approve(address spender, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// Journals a stand-in for a batch of attestations under `key` whose members are `members`: an
/// attestation-kind intent listing them, with `calldata` (a shape of its own) as its call.
fn journal_batch_with(
    store: &Store,
    key: &str,
    token: Address,
    members: &[&str],
    calldata: alloy::primitives::Bytes,
) {
    store
        .put_intent(&Intent {
            key: key.into(),
            kind: IntentKind::Attest,
            subject: None,
            to: Some(token),
            calldata,
            status: IntentStatus::Pending,
            members: members.iter().map(|m| m.to_string()).collect(),
            single_only: false,
        })
        .unwrap();
}

/// [`journal_batch_with`] an ERC-20 `approve` as the call, which costs less than its members (three
/// transfers) sent one by one, as a `submitAttestations` batch does.
fn journal_batch_like(store: &Store, key: &str, token: Address, members: &[&str]) {
    use alloy::sol_types::SolCall;
    let call = approveCall {
        spender: recipient(9),
        amount: U256::from(key.len()),
    };
    journal_batch_with(store, key, token, members, call.abi_encode().into());
}

/// The gas limit the transaction `hash` was sent with.
async fn gas_limit_of(p: &alloy::providers::RootProvider, hash: TxHash) -> u64 {
    use alloy::consensus::Transaction;
    p.get_transaction_by_hash(hash)
        .await
        .unwrap()
        .unwrap()
        .gas_limit()
}

/// A batch of attestations of a new shape is not estimated itself (a node binary-searches a whole
/// batch some twenty times): its limit is its member count times one member's estimate with the
/// margin and the cached headroom, and it lands. The next batch of the shape is sent on what the
/// first one used, with the cached headroom, and nothing is estimated for it.
#[tokio::test]
async fn a_new_batch_shape_is_bounded_by_its_members_and_the_next_is_sent_on_its_gas_used() {
    let cfg = fast_cfg();
    let Counted {
        _anvil,
        _dir,
        p,
        rpc,
        store,
        t,
        token,
    } = counted("b.redb", cfg.clone()).await;
    for (i, m) in ["m0", "m1", "m2"].iter().enumerate() {
        journal_attest_like(&store, m, token, recipient(i), U256::from(1));
    }
    let member = p
        .estimate_gas(
            alloy::rpc::types::TransactionRequest::default()
                .from(t.from())
                .to(token)
                .input(store.intent("m0").unwrap().unwrap().calldata.into()),
        )
        .await
        .unwrap();
    // Sends a batch of the three members: (what it used, estimates made for it, its gas limit).
    let send = |key: &'static str| {
        let (t, store, rpc, p) = (&t, &store, &rpc, &p);
        async move {
            journal_batch_like(store, key, token, &["m0", "m1", "m2"]);
            let before = rpc.count("eth_estimateGas");
            let done = t.execute(key).await.unwrap();
            assert!(t.receipt_of(done.tx_hash).await.unwrap().unwrap().status());
            let limit = gas_limit_of(p, done.tx_hash).await;
            (done.gas_used, rpc.count("eth_estimateGas") - before, limit)
        }
    };
    let (used, estimates, limit) = send("batch").await;
    assert_eq!(estimates, 1, "one estimate: a member's");
    assert_eq!(
        limit,
        3 * (member * cfg.gas_margin_percent / 100 + cfg.cached_gas_headroom)
    );
    let (_, estimates, limit) = send("batch2").await;
    assert_eq!(estimates, 0, "the shape is cached");
    assert_eq!(
        limit,
        used * cfg.gas_margin_percent / 100 + cfg.cached_gas_headroom
    );
}

/// A batch that fails on chain on its members' bound (here: its call reverts, as a batch with a
/// member that can no longer be answered does) is re-planned, not abandoned; its next dispatch
/// estimates it afresh (the estimate reverts: abandoned without a second transaction), and no batch
/// of this manager is sent on a bound again: the next new shape is estimated itself.
#[tokio::test]
async fn a_batch_that_fails_on_its_bound_is_replanned_and_no_batch_is_bounded_again() {
    use alloy::sol_types::SolCall;
    let Counted {
        _anvil,
        _dir,
        p,
        rpc,
        store,
        t,
        token,
    } = counted("bf.redb", fast_cfg()).await;
    for (i, m) in ["m0", "m1"].iter().enumerate() {
        journal_attest_like(&store, m, token, recipient(i), U256::from(1));
    }
    // No allowance: `transferFrom` reverts.
    let reverts = transferFromCall {
        from: recipient(5),
        to: recipient(6),
        amount: U256::from(1),
    };
    journal_batch_with(
        &store,
        "bad",
        token,
        &["m0", "m1"],
        reverts.abi_encode().into(),
    );
    let sent = p.get_transaction_count(t.from()).await.unwrap();
    let bad = t.execute("bad").await;
    assert_replanned(&t, &store, "bad", bad).await;
    assert!(
        t.execute("bad").await.is_err(),
        "estimated afresh: it reverts"
    );
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap() - sent,
        1,
        "one transaction: the estimate refused the second"
    );
    assert!(matches!(
        store.intent("bad").unwrap().unwrap().status,
        IntentStatus::Abandoned { .. }
    ));
    // A new shape after the failure: estimated itself. Bounded, it would need no estimate at all
    // (its members' shape is cached already).
    journal_batch_like(&store, "next", token, &["m0", "m1"]);
    let before = rpc.count("eth_estimateGas");
    t.execute("next").await.unwrap();
    assert_eq!(
        rpc.count("eth_estimateGas") - before,
        1,
        "the batch estimated itself"
    );
}

/// A batch given up for good hands its members back in the same write that abandons it: what the
/// journal holds right after the manager's answer (no keeper ran after it: what a crash then
/// leaves) has every member pending, to be sent alone, and none carried by a batch that will not be
/// sent. Before, the keeper handed them back in later writes, one per member, and a crash in
/// between left them carried by the abandoned batch, never answered. A batch sent again (re-planned
/// after a failure on its bound) keeps its members.
#[tokio::test]
async fn a_batch_given_up_hands_its_members_back_in_the_write_that_abandons_it() {
    use alloy::sol_types::SolCall;
    let Counted {
        _anvil,
        _dir,
        p: _p,
        // The manager talks through it: kept alive.
        rpc: _rpc,
        store,
        t,
        token,
    } = counted("ba.redb", fast_cfg()).await;
    let members = ["m0", "m1", "m2"];
    for (i, m) in members.iter().enumerate() {
        journal_attest_like(&store, m, token, recipient(i), U256::from(1));
        let mut carried = store.intent(m).unwrap().unwrap();
        carried.status = IntentStatus::Batched {
            batch: "bad".into(),
        };
        carried.single_only = false;
        store.put_intent(&carried).unwrap();
    }
    // No allowance: `transferFrom` reverts.
    let reverts = transferFromCall {
        from: recipient(5),
        to: recipient(6),
        amount: U256::from(1),
    };
    journal_batch_with(&store, "bad", token, &members, reverts.abi_encode().into());
    let carried = |m: &str| {
        let i = store.intent(m).unwrap().unwrap();
        (i.status, i.single_only)
    };
    // Failed on chain on its bound: re-planned, to be estimated and sent again as a batch.
    let bad = t.execute("bad").await;
    assert_replanned(&t, &store, "bad", bad).await;
    for m in members {
        assert_eq!(
            carried(m),
            (
                IntentStatus::Batched {
                    batch: "bad".into()
                },
                false
            ),
            "{m} stays with its batch while the batch may still be sent"
        );
    }
    // Estimated afresh, it reverts: given up, and its members handed back in that same write.
    assert!(matches!(
        t.execute("bad").await,
        Err(TxError::Reverted { .. })
    ));
    assert!(matches!(
        store.intent("bad").unwrap().unwrap().status,
        IntentStatus::Abandoned { .. }
    ));
    for m in members {
        assert_eq!(
            carried(m),
            (IntentStatus::Pending, true),
            "{m} is pending again, to be sent alone"
        );
    }
    let open: Vec<String> = store
        .open_intents()
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();
    for m in members {
        assert!(open.contains(&m.to_string()), "{m} is open work again");
    }
}

/// A batch whose mined transaction a reorg removed is re-planned with its members carried by it
/// again, in the same write: a batch that may be sent again always carries its members, so however
/// it ends (landed, given up, dissolved by the keeper) they are settled with it. Before, the members
/// stayed done by the vanished transaction, and a re-sent batch that reverted handed none back. A
/// member done by another transaction keeps its record.
#[tokio::test]
async fn a_batch_reorged_out_is_re_planned_carrying_its_members_again() {
    let Counted {
        _anvil,
        _dir,
        p,
        rpc: _rpc,
        store,
        t,
        token,
    } = counted("br.redb", fast_cfg()).await;
    let members = ["m0", "m1", "m2"];
    for (i, m) in members.iter().enumerate() {
        journal_attest_like(&store, m, token, recipient(i), U256::from(1));
    }
    journal_batch_like(&store, "b", token, &members);
    let elsewhere = IntentStatus::Done {
        tx_hash: Some(alloy::primitives::TxHash::repeat_byte(9)),
        gas_used: None,
    };
    // As the keeper forms a batch: the members it carries point at it; m2 is done elsewhere.
    for (m, status) in [
        ("m0", IntentStatus::Batched { batch: "b".into() }),
        ("m1", IntentStatus::Batched { batch: "b".into() }),
        ("m2", elsewhere.clone()),
    ] {
        let mut mi = store.intent(m).unwrap().unwrap();
        mi.status = status;
        store.put_intent(&mi).unwrap();
    }
    let done = t.execute("b").await.unwrap();
    for m in ["m0", "m1"] {
        assert!(
            store.intent(m).unwrap().unwrap().done_by(done.tx_hash),
            "{m} done by the batch that landed"
        );
    }
    raw(&p, "anvil_reorg", serde_json::json!([1, []])).await;
    let repair = t.repair_nonces().await.unwrap();
    assert_eq!(repair.replanned, ["b".to_string()]);
    assert_eq!(
        store.intent("b").unwrap().unwrap().status,
        IntentStatus::Pending
    );
    for m in ["m0", "m1"] {
        assert_eq!(
            store.intent(m).unwrap().unwrap().status,
            IntentStatus::Batched { batch: "b".into() },
            "{m} is carried by the re-planned batch again"
        );
    }
    assert_eq!(
        store.intent("m2").unwrap().unwrap().status,
        elsewhere,
        "a member done by another transaction keeps its record"
    );
}

/// A replica that takes the sender lease may find work the previous holder already sent, so it
/// marks its open work to be estimated afresh: an attestation whose call now reverts is refused at
/// estimation and nothing is sent, although a call of its shape is in the gas cache. Unmarked (one
/// keeper), the cached estimate is used and the copy reverts on chain, spending gas.
#[tokio::test]
async fn work_marked_to_estimate_afresh_that_is_already_done_is_refused_before_sending() {
    for afresh in [true, false] {
        let anvil = Anvil::start(&[]);
        let p = anvil.provider();
        let dir = tempfile::tempdir().unwrap();
        let store = store_at(&dir, "r.redb");
        let t = txm(p.clone(), anvil.key(0), store.clone(), fast_cfg());
        let token = deploy_token(&t).await;
        journal_attest_like(&store, "first", token, recipient(0), U256::from(1));
        t.execute("first").await.unwrap();
        let nonce = p.get_transaction_count(t.from()).await.unwrap();
        // the same shape, but more than the sender holds: the call now reverts, as a copy of an
        // attestation the previous lease holder already got included does
        journal_attest_like(&store, "copy", token, recipient(1), U256::MAX);
        if afresh {
            t.estimate_afresh(["copy".to_string()]);
        }
        let copy = t.execute("copy").await;
        let sent = p.get_transaction_count(t.from()).await.unwrap() - nonce;
        if afresh {
            assert!(copy.is_err(), "{copy:?}");
            assert_eq!(sent, 0, "refused at estimation, nothing sent");
            assert!(
                !t.take_estimate_afresh("copy"),
                "the mark is used up by the estimate"
            );
        } else {
            assert_eq!(sent, 1, "sent on the cached estimate: {copy:?}");
        }
        assert_eq!(balance(&p, token, recipient(1)).await, U256::ZERO);
    }
}

/// A broadcast the node took but answered after the client gave up is retried, and the retry is
/// refused for its nonce: the nonce is the transaction's own. The manager must recognise its own
/// journaled transaction and track it, not sign the call again at a new nonce (a second send).
#[tokio::test]
async fn a_broadcast_answered_too_late_and_retried_is_tracked_not_sent_twice() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "late.redb");
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let retry = verinfer_client::rpc::RetryConfig {
        timeout: Duration::from_millis(400),
        ..fast_retry()
    };
    let slow = verinfer_client::rpc::http_provider(proxy.url().parse().unwrap(), retry);
    let t = Arc::new(txm(slow, anvil.key(0), store.clone(), fast_cfg()));
    let token = deploy_token(&t).await;
    let key = journal_transfer(&store, token, 0);
    let first = p.get_transaction_count(t.from()).await.unwrap();
    let sends = proxy.count("eth_sendRawTransaction");
    // the first broadcast reaches the node (automine includes it at once) and its answer comes
    // after the client's timeout; the retry is forwarded at once
    proxy.set(
        "eth_sendRawTransaction",
        Fault::Delay(Duration::from_secs(3)),
    );
    let task = {
        let (t, key) = (t.clone(), key.clone());
        tokio::spawn(async move { t.execute(&key).await })
    };
    assert!(
        proxy
            .called_more_than("eth_sendRawTransaction", sends, Duration::from_secs(30))
            .await,
        "the broadcast reached the node"
    );
    proxy.clear("eth_sendRawTransaction");
    let done = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("the intent settles")
        .unwrap()
        .unwrap();
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap(),
        first + 1,
        "one transaction sent for the intent"
    );
    assert!(p
        .get_transaction_receipt(done.tx_hash)
        .await
        .unwrap()
        .is_some());
    assert_eq!(balance(&p, token, recipient(0)).await, U256::from(1));
}

/// A replica that loses the sender lease puts nothing on the wire: with its send gate closed, a
/// dispatched transaction is signed and journaled but not broadcast, its settle neither rebroadcasts
/// nor bumps it (it ends `Withheld`, the intent still journaled as sent), and the node's nonce
/// count does not move. Once the gate opens again, the journaled bytes go out at their nonce, once.
#[tokio::test]
async fn a_closed_send_gate_withholds_every_broadcast_and_the_journaled_transaction_goes_out_once_it_opens(
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use verinfer_keeper::txmgr::SendGate;
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "gate.redb");
    let open = Arc::new(AtomicBool::new(true));
    let cfg = TxConfig {
        receipt_timeout: Duration::from_millis(800),
        ..fast_cfg()
    };
    let gate = open.clone();
    let t = txm(p.clone(), anvil.key(0), store.clone(), cfg)
        .with_send_gate(SendGate::new(move || gate.load(Ordering::SeqCst)));
    let token = deploy_token(&t).await;
    let key = journal_transfer(&store, token, 0);
    let before = p.get_transaction_count(t.from()).await.unwrap();
    open.store(false, Ordering::SeqCst);
    assert!(!t.may_send());
    let mut window = Vec::new();
    for r in t
        .dispatch_group(std::slice::from_ref(&key), &Round::default())
        .await
        .unwrap()
    {
        match r.unwrap() {
            Dispatch::InFlight(f) => window.push(f),
            Dispatch::Done(d) => panic!("sent with the gate closed: {d:?}"),
        }
    }
    let settled = t.settle(window.pop().unwrap()).await;
    assert!(
        matches!(settled, Err(TxError::Withheld { .. })),
        "{settled:?}"
    );
    assert!(
        matches!(store.intent(&key).unwrap().unwrap().status, IntentStatus::Sent { nonce, .. } if nonce == before),
        "journaled as sent at the next nonce"
    );
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap(),
        before,
        "nothing reached the node"
    );
    assert_eq!(balance(&p, token, recipient(0)).await, U256::ZERO);
    open.store(true, Ordering::SeqCst);
    t.execute(&key).await.unwrap();
    assert_eq!(balance(&p, token, recipient(0)).await, U256::from(1));
    assert_eq!(
        p.get_transaction_count(t.from()).await.unwrap(),
        before + 1,
        "the journaled transaction, once"
    );
    done_hash(&store, &key);
}
