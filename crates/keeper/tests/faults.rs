//! Issue #15, "Bad input and faults": the keeper against a faulty node. Each test runs the keeper as
//! in production (`Keeper::run` in its own task) on the deployed suite of a private anvil, talking to
//! the node through a fault-injecting proxy (`verinfer_devnet::rpc_fault::FaultyRpc`): an RPC that
//! errors, one that takes a call and never answers it, one that answers stale data. Every request is
//! one attestation (k = q = 1, one operator), so the hot key's transaction count is the number of
//! attestations sent: exactly one per request, nothing lost, nothing duplicated.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::providers::Provider;
use common::suite::Suite;
use common::*;
use verinfer_devnet::rpc_fault::{Fault, FaultyRpc};
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{Keeper, KeeperError};
use verinfer_keeper::store::{IntentKind, IntentStatus, Store};

/// A keeper of the suite's operator running in its own task, talking to the node through `rpc`.
struct Running {
    store: Arc<Store>,
    health: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), KeeperError>>,
}

impl Running {
    async fn start(
        s: &Suite,
        dir: &tempfile::TempDir,
        rpc: &str,
        tweak: impl FnOnce(&mut RawConfig),
    ) -> Self {
        let start_block = s.p.get_block_number().await.unwrap();
        let mut raw = RawConfig {
            rpc_url: Some(rpc.to_string()),
            submit: SubmitConfig {
                mode: SubmitMode::Single,
                receipt_poll_ms: 20,
                receipt_timeout_secs: 4,
                ..SubmitConfig::default()
            },
            ..s.raw_config(&dir.path().join("keeper"), s.operator, start_block)
        };
        tweak(&mut raw);
        let cfg = KeeperConfig::from_raw(raw).unwrap();
        let k = Keeper::new(cfg, s.hot.clone(), "faults").await.unwrap();
        let store = k.store().clone();
        let (stop, rx) = tokio::sync::watch::channel(false);
        let health = verinfer_keeper::api::serve(
            "127.0.0.1:0".parse().unwrap(),
            verinfer_keeper::api::operations_router(k.health()),
            rx.clone(),
        )
        .await
        .unwrap();
        let task = tokio::spawn(k.run(rx));
        Self {
            store,
            health,
            stop,
            task,
        }
    }

    /// Stops the keeper; it must stop cleanly within 20 s.
    async fn stop(self) {
        self.stop.send(true).unwrap();
        let stopped = tokio::time::timeout(Duration::from_secs(20), self.task).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "the keeper stops cleanly: {stopped:?}"
        );
    }

    /// `/health`: (HTTP status, body).
    async fn health(&self) -> (u16, serde_json::Value) {
        let r = reqwest::get(format!("http://{}/health", self.health))
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.text().await.unwrap()).unwrap(),
        )
    }
}

/// Waits until every id in `ids` is answered on chain; fails after `secs`.
async fn answered_within(s: &Suite, ids: &[U256], secs: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !s.all_answered(ids).await {
        assert!(
            Instant::now() < deadline,
            "not answered within {secs} s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A node that takes the keeper's `eth_getLogs` and never answers it (a hung node, or a connection
/// a load balancer dropped silently). The keeper gives up on the call after its RPC timeout and
/// polls again; once the node answers again, the request that arrived meanwhile is answered, once.
/// Fails when a provider call has no deadline: the keeper's log poll waits forever on the hung call
/// and never sees another request.
#[tokio::test]
async fn keeper_gives_up_on_a_hung_rpc_call_and_answers_once_the_node_answers() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let k = Running::start(&s, &dir, proxy.url(), |raw| raw.rpc_timeout_secs = Some(1)).await;
    let first = s.request().await;
    answered_within(&s, &[first], 120, "before the fault").await;

    let polls = proxy.count("eth_getLogs");
    proxy.set("eth_getLogs", Fault::Hang);
    assert!(
        proxy
            .called_more_than("eth_getLogs", polls, Duration::from_secs(30))
            .await,
        "the keeper polled the hung node"
    );
    let second = s.request().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.clear("eth_getLogs");
    answered_within(&s, &[second], 90, "after the node answers again").await;
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
}

/// An RPC that errors (HTTP 503) for longer than the provider's retries last, on the log poll and on
/// the broadcast of an attestation already signed and journaled. The keeper does not stop; `/health`
/// says unhealthy (the iteration failed) while it lasts and healthy after; the signed attestation is
/// rebroadcast and lands, once.
#[tokio::test]
async fn keeper_rides_out_an_erroring_rpc_unhealthy_meanwhile_and_sends_each_answer_once() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup(&anvil, &dir).await;
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let first = s.request().await;
    answered_within(&s, &[first], 120, "before the fault").await;

    // The broadcast fails: the attestation for the next request is signed and journaled, not sent.
    proxy.set("eth_sendRawTransaction", Fault::Unavailable);
    let second = s.request().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let journaled = loop {
        let sent = k.store.intents().unwrap().into_iter().find_map(|i| {
            (i.kind == IntentKind::Attest && i.subject == Some(second))
                .then_some(i.status)
                .and_then(|st| match st {
                    IntentStatus::Sent { nonce, .. } => Some(nonce),
                    _ => None,
                })
        });
        if let Some(h) = sent {
            break h;
        }
        assert!(Instant::now() < deadline, "the answer was never signed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Now the log poll fails too, for longer than the provider retries (10 x 500 ms), while a new
    // request waits in a block the keeper has not read.
    proxy.set("eth_getLogs", Fault::Unavailable);
    let third = s.request().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = k.health().await;
        if body["reasons"].to_string().contains("iteration failed") {
            assert_eq!(status, 503, "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failed iteration reported while the node errors: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!k.task.is_finished(), "the keeper keeps running");
    assert_eq!(s.hot_txs().await, 1, "nothing reached the node");
    proxy.clear("eth_getLogs");
    proxy.clear("eth_sendRawTransaction");
    answered_within(&s, &[second, third], 90, "after the node recovers").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = k.health().await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "unhealthy after recovery: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let store = k.store.clone();
    k.stop().await;
    assert_eq!(s.hot_txs().await, 3, "one attestation per request");
    let landed = store.intents().unwrap().into_iter().find_map(|i| {
        (i.kind == IntentKind::Attest && i.subject == Some(second)).then_some(i.status)
    });
    let Some(IntentStatus::Done {
        tx_hash: Some(h), ..
    }) = landed
    else {
        panic!("the answer is done: {landed:?}");
    };
    let tx = s.p.get_transaction_by_hash(h).await.unwrap().unwrap();
    assert_eq!(
        alloy::consensus::Transaction::nonce(&tx),
        journaled,
        "it landed at the nonce journaled before the fault"
    );
}
