//! Issue #15, "Bad input and faults": the keeper against a faulty node. Each test runs the keeper as
//! in production (`Keeper::run` in its own task) on the deployed suite of a private anvil, talking to
//! the node through a fault-injecting proxy (`verinfer_devnet::rpc_fault::FaultyRpc`): an RPC that
//! errors, one that takes a call and never answers it, one that answers stale data. Every request is
//! one attestation (k = q = 1, one operator), so the hot key's transaction count is the number of
//! attestations sent: exactly one per request, nothing lost, nothing duplicated.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::Provider;
use common::suite::Suite;
use common::*;
use verinfer_devnet::rpc_fault::{Fault, FaultyRpc};
use verinfer_keeper::config::{BackendConfig, KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{Keeper, KeeperError};
use verinfer_keeper::store::{Intent, IntentKind, IntentStatus, ScheduleChange, Store};

/// A finalizer behind a fault-injecting proxy, `n` requests nobody answers past their deadlines
/// (watched by the finalizer's first collect stage, then two days pass), with how many operators
/// each request has assigned.
struct PastDeadlines {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    proxy: FaultyRpc,
    f: Keeper,
    ids: Vec<U256>,
    ops: usize,
}

async fn past_deadlines(n: usize) -> PastDeadlines {
    let (anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let start_block = s.p.get_block_number().await.unwrap();
    let ids = s.requests(n).await;
    let ops = verinfer_bindings::InferenceRegistry::new(s.registry, &s.p)
        .assignedOperators(ids[0])
        .call()
        .await
        .unwrap()
        .len();
    let mut f = s
        .finalizer(
            anvil.key(3),
            &dir.path().join("finalizer"),
            start_block,
            Some(proxy.url()),
        )
        .await;
    f.collect_and_decide().await.unwrap();
    assert_eq!(f.store().deadlines().unwrap().len(), ids.len());
    raw(&s.p, "evm_increaseTime", serde_json::json!([2 * 86_400])).await;
    raw(&s.p, "evm_mine", serde_json::json!([])).await;
    PastDeadlines {
        _anvil: anvil,
        _dir: dir,
        proxy,
        f,
        ids,
        ops,
    }
}

/// The requests of `f`'s open intents of `kind`, ascending, one per intent.
fn subjects(f: &Keeper, kind: IntentKind) -> Vec<U256> {
    let mut v: Vec<U256> = f
        .store()
        .open_intents()
        .unwrap()
        .iter()
        .filter(|i| i.kind == kind)
        .filter_map(|i| i.subject)
        .collect();
    v.sort();
    v
}

/// Every request of `p` has one missed-answer report per assigned operator and one expiry (and the
/// requests of `finalized`, a finalization each), and no deadline is watched any more.
fn assert_each_reported_and_expired_once(p: &PastDeadlines, finalized: &[U256]) {
    assert!(p.f.store().deadlines().unwrap().is_empty());
    let mut reported: Vec<U256> = p
        .ids
        .iter()
        .flat_map(|id| std::iter::repeat_n(*id, p.ops))
        .collect();
    reported.sort();
    assert_eq!(subjects(&p.f, IntentKind::ReportMissed), reported);
    let mut expired: Vec<U256> = p.ids.iter().chain(finalized).copied().collect();
    expired.sort();
    assert_eq!(
        subjects(&p.f, IntentKind::Finalize),
        expired,
        "each request expired (or finalized) once"
    );
}

/// A finalizer whose calls fail while it acts on passed deadlines keeps those deadlines and acts on
/// them once the node answers. Three requests nobody answers; past their deadlines, with every
/// `eth_call` refused (HTTP 503), the finalizer's duty fails and forgets none of them; once the node
/// answers, it journals a missed-answer report and an expiry for each and forgets the deadlines.
/// Before, a deadline was forgotten before its calls, and one whose first call failed was never
/// reported.
#[tokio::test]
async fn a_finalizer_whose_calls_fail_keeps_the_passed_deadlines_and_reports_them_once_the_node_answers(
) {
    let mut p = past_deadlines(3).await;
    p.proxy.set("eth_call", Fault::Unavailable);
    assert!(
        p.f.collect_and_decide().await.is_err(),
        "the duty's calls fail"
    );
    assert_eq!(
        p.f.store().deadlines().unwrap().len(),
        p.ids.len(),
        "no deadline forgotten by a failed call"
    );
    p.proxy.clear("eth_call");
    p.f.collect_and_decide().await.unwrap();
    assert_each_reported_and_expired_once(&p, &[]);
}

/// Passed deadlines are read [`DEADLINE_READS_AT_ONCE`] at a time, not one call after another.
/// Twenty requests nobody answers pass their deadlines while the node takes 40 ms over every
/// `eth_call`: the finalizer's calls overlap at the proxy (one deadline's request and operators at
/// once, then its operators' answers at once, for several deadlines together), never more than the
/// bound's deadlines' worth, and every request still gets its missed-answer reports and its expiry,
/// as when they were read in turn (two calls plus one per assigned operator per deadline, each
/// waiting for the last).
#[tokio::test]
async fn passed_deadlines_are_read_several_at_once_within_the_bound_and_each_acted_on() {
    use verinfer_keeper::keeper::DEADLINE_READS_AT_ONCE;
    let mut p = past_deadlines(20).await;
    p.proxy
        .set("eth_call", Fault::Delay(Duration::from_millis(40)));
    p.proxy.reset();
    p.f.collect_and_decide().await.unwrap();
    let most = p.proxy.most_in_flight("eth_call");
    let one = p.ops.max(2);
    assert!(
        most > one,
        "several deadlines' calls at once (one deadline has at most {one} at a time): at most {most} in flight"
    );
    assert!(
        most <= DEADLINE_READS_AT_ONCE * one,
        "at most {DEADLINE_READS_AT_ONCE} deadlines' calls at once: {most} in flight"
    );
    assert_each_reported_and_expired_once(&p, &[]);
}

/// A read that fails among the deadlines read at once stops the duty with every deadline either
/// acted on (its reports and expiry journaled, the deadline forgotten) or kept to be read again,
/// never forgotten without its intents, and the finalization due beside them journaled all the
/// same (one write for all of it, made before the failure is reported); the next run acts on the
/// kept ones, and each request ends with its reports and its expiry once.
#[tokio::test]
async fn a_read_failing_among_deadlines_read_at_once_loses_and_repeats_nothing() {
    let mut p = past_deadlines(20).await;
    let due = U256::from(777_777);
    p.f.store()
        .change_schedules(&[ScheduleChange::Finalize {
            id: due,
            window_end: 1,
        }])
        .unwrap();
    // The finalizer's own first reads (chain time) go through; an `eth_call` a dozen reads in fails.
    p.proxy.set(
        "eth_call",
        Fault::Reject {
            skip: 12,
            times: 1,
            message: "internal error".into(),
        },
    );
    assert!(
        p.f.collect_and_decide().await.is_err(),
        "the failed read stops the duty"
    );
    let watched: Vec<U256> =
        p.f.store()
            .deadlines()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
    let acted = subjects(&p.f, IntentKind::Finalize);
    assert!(!watched.is_empty(), "the failed deadline is kept");
    assert!(
        p.f.store()
            .finalizations_due(u64::MAX, usize::MAX)
            .unwrap()
            .is_empty(),
        "the finalization due is acted on"
    );
    assert!(
        acted.contains(&due),
        "the finalization due is journaled although a deadline read failed"
    );
    for id in &p.ids {
        assert!(
            watched.contains(id) != acted.contains(id),
            "request {id}: either kept or acted on, never both nor neither"
        );
    }
    p.f.collect_and_decide().await.unwrap();
    assert_each_reported_and_expired_once(&p, &[due]);
}

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
        let (status, body) = get(&format!("http://{}/health", self.health)).await;
        (status, serde_json::from_str(&body).unwrap())
    }
}

/// A private anvil with the suite deployed, and the directory of its files.
async fn deployed() -> (Anvil, tempfile::TempDir, Suite) {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let s = Suite::setup(&anvil, &dir).await;
    (anvil, dir, s)
}

/// [`deployed`], with a fault-injecting proxy in front of the node (no fault set yet).
async fn behind_a_proxy() -> (Anvil, tempfile::TempDir, Suite, FaultyRpc) {
    let (anvil, dir, s) = deployed().await;
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    (anvil, dir, s, proxy)
}

/// GET `url`: (HTTP status, body), within 10 s.
async fn get(url: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// A node that takes the keeper's `eth_getLogs` and never answers it (a hung node, or a connection
/// a load balancer dropped silently). The keeper gives up on the call after its RPC timeout and
/// polls again; once the node answers again, the request that arrived meanwhile is answered, once.
/// Fails when a provider call has no deadline: the keeper's log poll waits forever on the hung call
/// and never sees another request.
#[tokio::test]
async fn keeper_gives_up_on_a_hung_rpc_call_and_answers_once_the_node_answers() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |raw| raw.rpc_timeout_secs = Some(1)).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the fault").await;

    let polls = proxy.count("eth_getLogs");
    proxy.set("eth_getLogs", Fault::Hang);
    // The request makes a new block, so the keeper's next poll asks for its logs (with no new
    // block it reads only the head, and a poll that already covered the answer's block would leave
    // nothing to hang: the race that made this test fail under load).
    let second = s.request().await;
    assert!(
        proxy
            .called_more_than("eth_getLogs", polls, Duration::from_secs(30))
            .await,
        "the keeper polled the hung node"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.clear("eth_getLogs");
    s.answered_within(&[second], 90, "after the node answers again")
        .await;
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
}

/// An RPC that errors (HTTP 503) for longer than the provider's retries last, on the log poll and on
/// the broadcast of an attestation already signed and journaled. The keeper does not stop; `/health`
/// says unhealthy (the iteration failed) while it lasts and healthy after; the signed attestation is
/// rebroadcast and lands, once.
#[tokio::test]
async fn keeper_rides_out_an_erroring_rpc_unhealthy_meanwhile_and_sends_each_answer_once() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the fault").await;

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
    s.answered_within(&[second, third], 90, "after the node recovers")
        .await;
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

/// Waits up to `secs` for the attestation intent of `id` to reach a state `pick` accepts, and
/// returns what `pick` made of it; `what` names the state in the failure message.
async fn attestation_until<T>(
    store: &Store,
    id: U256,
    secs: u64,
    what: &str,
    pick: impl Fn(Intent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let found = store
            .intents()
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == IntentKind::Attest && i.subject == Some(id))
            .find_map(&pick);
        if let Some(f) = found {
            return f;
        }
        assert!(
            Instant::now() < deadline,
            "the answer to {id} was never {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The nonce and hash of the transaction journaled for the attestation of `id`, once it is signed.
async fn journaled_attestation(store: &Store, id: U256, secs: u64) -> (u64, TxHash) {
    attestation_until(store, id, secs, "signed", |i| match i.status {
        IntentStatus::Sent { nonce, tx_hash, .. } => Some((nonce, tx_hash)),
        _ => None,
    })
    .await
}

/// The node restarts with its chain but without its mempool (state dumped with `anvil_dumpState`
/// and loaded into a fresh node on the same port) while the keeper's attestation waits in the pool,
/// signed and journaled. The keeper rebroadcasts the journaled bytes: the answer lands once, at the
/// journaled nonce, under the journaled hash.
#[tokio::test]
async fn node_restart_that_loses_the_mempool_lands_the_journaled_attestation_once() {
    let (mut anvil, dir, mut s) = deployed().await;
    let url = anvil.url.clone();
    // A receipt deadline the restart does not reach: no fee bump, so the journaled bytes must land.
    let k = Running::start(&s, &dir, &url, |raw| raw.submit.receipt_timeout_secs = 20).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the restart").await;

    raw(&s.p, "evm_setAutomine", serde_json::json!([false])).await;
    let before = s.hot_txs().await;
    // The request is mined (explicitly); the keeper's answer then waits in the pool.
    let (node, client) = (s.p.clone(), s.admin.from());
    let pending_request = s.request();
    // One block, once the request is in the pool.
    let mine = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while node.get_transaction_count(client).pending().await.unwrap()
            == node.get_transaction_count(client).await.unwrap()
        {
            assert!(
                Instant::now() < deadline,
                "the request never reached the pool"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        raw(&node, "evm_mine", serde_json::json!([])).await;
    };
    let (second, ()) = tokio::join!(pending_request, mine);
    let (nonce, hash) = journaled_attestation(&k.store, second, 60).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while s
        .p
        .get_transaction_count(s.hot.address())
        .pending()
        .await
        .unwrap()
        <= before
    {
        assert!(
            Instant::now() < deadline,
            "the answer never reached the pool"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let state: String =
        s.p.raw_request("anvil_dumpState".into(), serde_json::json!([]))
            .await
            .unwrap();
    anvil.stop();
    anvil.spawn();
    let p = anvil.provider();
    let loaded: bool = p
        .raw_request("anvil_loadState".into(), serde_json::json!([state]))
        .await
        .unwrap();
    assert!(loaded);
    assert_eq!(
        p.get_transaction_count(s.hot.address())
            .pending()
            .await
            .unwrap(),
        before,
        "the restarted node has the chain but not the pool"
    );
    assert!(!s.answered(second).await);

    s.answered_within(&[second], 90, "after the node restarted")
        .await;
    k.stop().await;
    assert_eq!(
        s.hot_txs().await,
        before + 1,
        "one transaction for the answer"
    );
    let tx = s.p.get_transaction_by_hash(hash).await.unwrap();
    assert!(
        tx.is_some_and(|t| alloy::consensus::Transaction::nonce(&t) == nonce),
        "the journaled transaction itself landed, at its nonce"
    );
}

/// A reorg deeper than the confirmation depth: with `confirmations = 2` the keeper answered a
/// request, then the answer's block and three above it (4 > 2) are replaced by empty blocks. The
/// keeper notices (it re-checks the blocks its receipts came from), re-plans the answer and sends it
/// again, once.
#[tokio::test]
async fn answer_reorged_out_deeper_than_the_confirmation_depth_is_sent_again_once() {
    let (anvil, dir, mut s) = deployed().await;
    let url = anvil.url.clone();
    let k = Running::start(&s, &dir, &url, |raw| raw.confirmations = Some(2)).await;
    let id = s.request().await;
    // Two blocks on top: the request is confirmed.
    raw(&s.p, "anvil_mine", serde_json::json!(["0x2"])).await;
    s.answered_within(&[id], 120, "first answer").await;
    assert_eq!(s.hot_txs().await, 1);
    let (_, hash) = done_attestation(&k.store, id, 30).await;
    let answered_in = mined_in(&s, hash).await;
    raw(&s.p, "anvil_mine", serde_json::json!(["0x3"])).await;
    let head = s.p.get_block_number().await.unwrap();
    let depth = head - answered_in + 1;
    assert!(depth > 2, "deeper than the confirmation depth: {depth}");
    raw(&s.p, "anvil_reorg", serde_json::json!([depth, []])).await;
    assert!(!s.answered(id).await, "the answer is reorged out");
    assert_eq!(s.hot_txs().await, 0);
    // The chain moves on (the keeper's own resend mines a block too).
    raw(&s.p, "anvil_mine", serde_json::json!(["0x3"])).await;
    s.answered_within(&[id], 120, "after the deep reorg").await;
    // Time for a duplicate to show, if one were sent.
    raw(&s.p, "anvil_mine", serde_json::json!(["0x3"])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    k.stop().await;
    assert_eq!(
        s.hot_txs().await,
        1,
        "the reorged-out answer is sent again exactly once"
    );
}

/// A reorg that lands while the keeper reads a range of logs (after its reorg check, while the node
/// holds its `eth_getLogs` call) is still found, and the answer it reorged out is sent again, once.
/// Regression: the keeper read the new chain's logs and committed the new chain's hash of the
/// range's last block above the old chain's recorded blocks; every later check stopped at that
/// matching block, and the answer stayed lost (the deep-reorg test above failed 1 run in 12 when its
/// reorg fell in that window).
#[tokio::test]
async fn a_reorg_while_the_keeper_reads_a_range_is_found_and_the_answer_sent_again_once() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let id = s.request().await;
    s.answered_within(&[id], 60, "first answer").await;
    let (_, hash) = done_attestation(&k.store, id, 30).await;
    let answered_in = mined_in(&s, hash).await;
    // The keeper's cursor past the answer's block.
    raw(&s.p, "anvil_mine", serde_json::json!(["0x2"])).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while k
        .store
        .cursor()
        .unwrap()
        .is_none_or(|c| c.block < answered_in + 2)
    {
        assert!(
            Instant::now() < deadline,
            "the keeper reads past the answer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The next range's logs are read across a reorg that replaces the answer's block and every
    // block above it.
    let reads = |p: &FaultyRpc| p.counts().get("eth_getLogs").copied().unwrap_or(0);
    let before = reads(&proxy);
    proxy.set("eth_getLogs", Fault::Hold(Duration::from_millis(1500)));
    raw(&s.p, "anvil_mine", serde_json::json!(["0x1"])).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while reads(&proxy) == before {
        assert!(
            Instant::now() < deadline,
            "the keeper reads the new block's range"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let head = s.p.get_block_number().await.unwrap();
    raw(
        &s.p,
        "anvil_reorg",
        serde_json::json!([head - answered_in + 1, []]),
    )
    .await;
    assert!(!s.answered(id).await, "the answer is reorged out");
    proxy.clear("eth_getLogs");
    raw(&s.p, "anvil_mine", serde_json::json!(["0x3"])).await;
    s.answered_within(&[id], 60, "after the reorg").await;
    // Time for a duplicate to show, if one were sent.
    raw(&s.p, "anvil_mine", serde_json::json!(["0x3"])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    k.stop().await;
    assert_eq!(s.hot_txs().await, 1, "sent again exactly once");
}

/// A backend that hangs: the operator's model is a command whose first run never ends (it sleeps
/// for ten minutes). The keeper kills it at its `timeout_secs` (2 s), the inference fails, the range
/// is read again on the next poll and the second run answers: the request is answered once, and the
/// keeper never waits on the hung run past its timeout.
#[tokio::test]
async fn backend_that_hangs_is_killed_at_its_timeout_and_the_request_answered_once() {
    let (anvil, dir, mut s) = deployed().await;
    let (flag, runs) = (dir.path().join("hung-once"), dir.path().join("runs"));
    let script = format!(
        "echo run >> '{}'; if [ -e '{}' ]; then cat; else touch '{}'; exec sleep 600; fi",
        runs.display(),
        flag.display(),
        flag.display()
    );
    let model_id = format!("{:#x}", s.model.model_id());
    let url = anvil.url.clone();
    let k = Running::start(&s, &dir, &url, |raw| {
        raw.backend = vec![BackendConfig::Command {
            argv: vec!["sh".into(), "-c".into(), script],
            model_id,
            timeout_secs: 2,
        }]
    })
    .await;
    let started = Instant::now();
    let id = s.request().await;
    // Well below the 600 s the run would last, and below the 60 s default timeout too.
    s.answered_within(&[id], 30, "after the hung run was killed")
        .await;
    let took = started.elapsed();
    k.stop().await;
    let runs = std::fs::read_to_string(&runs).unwrap();
    // Later runs are the keeper's own re-execution of the result (its watch duty).
    assert!(
        runs.lines().count() >= 2,
        "a hung run, then one that answered"
    );
    assert!(
        took >= Duration::from_secs(2),
        "the answer waited for the hung run's timeout: {took:?}"
    );
    assert_eq!(s.hot_txs().await, 1, "one attestation");
}

/// Waits (30 s at most) until `/health` is 503 and names a node that serves stale data.
async fn stale_data_reported(k: &Running, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = k.health().await;
        if body["reasons"].to_string().contains("serves stale data") {
            assert_eq!(status, 503, "{body}");
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A sample of the keeper's `/metrics` (the first series named `name`).
async fn metric(k: &Running, name: &str) -> f64 {
    let (_, text) = get(&format!("http://{}/metrics", k.health)).await;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {name} in {text}"))
}

/// A node that serves stale data: its head falls 3 blocks below the blocks the keeper already
/// handled (a lagging node behind a load balancer) while a new request is mined on the real chain.
/// The keeper takes no rewind for it (no reorg counted, nothing re-sent), `/health` says the node
/// serves stale data, and once the node is current again the request is answered, once.
#[tokio::test]
async fn node_serving_a_stale_head_is_reported_and_nothing_is_rewound_lost_or_duplicated() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the fault").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let cursor = loop {
        let (status, body) = k.health().await;
        if status == 200 && body["lag"] == 0 {
            break body["cursor"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "never caught up: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(cursor >= 3, "{cursor}");

    let stale = format!("{:#x}", cursor - 3);
    proxy.set("eth_blockNumber", Fault::Result(serde_json::json!(stale)));
    let second = s.request().await;
    stale_data_reported(&k, "a stale node not reported").await;
    // The keeper polls the stale node a while.
    let heads = proxy.count("eth_blockNumber");
    assert!(
        proxy
            .called_more_than("eth_blockNumber", heads + 5, Duration::from_secs(30))
            .await
    );
    assert_eq!(metric(&k, "verinfer_keeper_reorgs_total").await, 0.0);
    assert_eq!(s.hot_txs().await, 1, "nothing sent on stale data");

    proxy.clear("eth_blockNumber");
    s.answered_within(&[second], 90, "once the node is current")
        .await;
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&k, "verinfer_keeper_reorgs_total").await,
        0.0,
        "a stale head is not a reorg"
    );
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
}

/// A node slow to estimate: a call shape the gas cache does not know yet is estimated before the
/// execute stage forms its first group, so answers journaled during that round trip join the
/// group. The node holds every `eth_estimateGas` for 15 s; one request's answer starts the round,
/// and five more are answered and journaled while its estimate is held (checked: nothing sent
/// yet). All six go out as one group of transactions on that one estimate. Fails without the
/// priming (`TxManager::prime`): the first group took the one answer through the held estimate
/// and the five followed in a second group.
#[tokio::test]
async fn answers_journaled_while_a_cold_call_shape_is_estimated_join_the_first_group() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let calls = |m: &str| proxy.counts().get(m).copied().unwrap_or(0);
    proxy.set("eth_estimateGas", Fault::Hold(Duration::from_secs(15)));
    let estimates = calls("eth_estimateGas");
    let mut ids = vec![s.request().await];
    let deadline = Instant::now() + Duration::from_secs(30);
    while calls("eth_estimateGas") == estimates {
        assert!(Instant::now() < deadline, "the first answer's estimate");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ids.extend(s.requests(5).await);
    for id in &ids {
        attestation_until(&k.store, *id, 30, "journaled", |_| Some(())).await;
    }
    assert_eq!(
        calls("eth_sendRawTransaction"),
        0,
        "journaled while the estimate is held"
    );
    proxy.clear("eth_estimateGas");
    s.answered_within(&ids, 60, "after the estimate").await;
    assert_eq!(
        metric(&k, "verinfer_keeper_tx_groups_total").await,
        1.0,
        "one group"
    );
    assert_eq!(calls("eth_estimateGas"), estimates + 1, "one estimate");
    k.stop().await;
    assert_eq!(s.hot_txs().await, 6, "one attestation per request");
}

/// Issue #15, D2 (polling): while the keeper's transaction is stuck (every broadcast fails and its
/// receipt deadline is a minute away) it keeps polling: a request mined meanwhile is journaled
/// within seconds. Fails on the single-loop keeper, which did not poll while `submit()` waited.
#[tokio::test]
async fn keeper_keeps_polling_while_its_transaction_is_stuck() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |raw| {
        raw.submit.receipt_timeout_secs = 60
    })
    .await;
    proxy.set("eth_sendRawTransaction", Fault::Unavailable);
    let first = s.request().await;
    journaled_attestation(&k.store, first, 60).await;
    let second = s.request().await;
    let seen = Instant::now();
    let deadline = seen + Duration::from_secs(10);
    while !k
        .store
        .intents()
        .unwrap()
        .iter()
        .any(|i| i.kind == IntentKind::Attest && i.subject == Some(second))
    {
        assert!(
            Instant::now() < deadline,
            "the keeper stopped polling while its transaction was stuck"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.hot_txs().await, 0, "the first transaction is still stuck");
    proxy.clear("eth_sendRawTransaction");
    s.answered_within(&[first, second], 90, "once broadcasts work")
        .await;
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
}

/// A node that falls behind (a lagging node behind a load balancer): it answers as if its chain
/// ended two blocks below the keeper's answer, so that block, its receipt and the blocks after it
/// do not exist there, while a new request is mined on the real chain. Blocks the node has not
/// reached are no evidence of a reorg: the keeper counts none, re-plans nothing and sends nothing on
/// the stale view (`/health` says the node serves stale data). Once the node is current the new
/// request is answered, once. Regression: the reorg check took a block the node did not have for
/// a changed one, rewound the cursor, and the nonce repair re-planned the answer whose receipt the
/// node could not show.
#[tokio::test]
async fn node_falling_behind_is_no_reorg_and_nothing_is_replanned_or_resent() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the node falls behind")
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let done = k.store.intents().unwrap().into_iter().find_map(|i| {
            match (
                i.kind == IntentKind::Attest && i.subject == Some(first),
                i.status,
            ) {
                (
                    true,
                    IntentStatus::Done {
                        tx_hash: Some(h), ..
                    },
                ) => Some((i.key, h)),
                _ => None,
            }
        });
        let (status, _) = k.health().await;
        if let (Some(d), 200) = (done, status) {
            break d;
        }
        assert!(Instant::now() < deadline, "the answer was never booked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let block =
        s.p.get_transaction_receipt(answer.1)
            .await
            .unwrap()
            .unwrap()
            .block_number
            .unwrap();

    proxy.behind_at(Some(block - 2));
    let second = s.request().await;
    stale_data_reported(&k, "a lagging node not reported").await;
    let heads = proxy.count("eth_blockNumber");
    assert!(
        proxy
            .called_more_than("eth_blockNumber", heads + 5, Duration::from_secs(30))
            .await
    );
    assert_eq!(
        metric(&k, "verinfer_keeper_reorgs_total").await,
        0.0,
        "a block the node has not reached is no reorg"
    );
    assert!(
        matches!(
            k.store.intent(&answer.0).unwrap().map(|i| i.status),
            Some(IntentStatus::Done { tx_hash: Some(h), .. }) if h == answer.1
        ),
        "the mined answer stays done"
    );
    assert_eq!(s.hot_txs().await, 1, "nothing sent on the stale view");

    proxy.behind_at(None);
    s.answered_within(&[second], 90, "once the node is current")
        .await;
    assert_eq!(metric(&k, "verinfer_keeper_reorgs_total").await, 0.0);
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
}

/// A log poller reading a token's logs through a fault proxy, and a sender of the token's
/// transfers that goes to the node directly.
struct ProxiedPoller {
    anvil: Anvil,
    proxy: FaultyRpc,
    _dir: tempfile::TempDir,
    sender: verinfer_keeper::txmgr::TxManager,
    token: Address,
    store: Arc<Store>,
    poller: verinfer_keeper::poller::LogPoller,
}

async fn proxied_poller() -> ProxiedPoller {
    let anvil = Anvil::start(&[]);
    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let faulty = verinfer_client::rpc::http_provider(proxy.url().parse().unwrap(), fast_retry());
    let dir = tempfile::tempdir().unwrap();
    let sender = txm(
        anvil.provider(),
        anvil.key(0),
        store_at(&dir, "t.redb"),
        fast_cfg(),
    );
    let token = deploy_token(&sender).await;
    let store = store_at(&dir, "k.redb");
    let poller = verinfer_keeper::poller::LogPoller::new(faulty, token, store.clone());
    ProxiedPoller {
        anvil,
        proxy,
        _dir: dir,
        sender,
        token,
        store,
        poller,
    }
}

/// A node whose answers come from different states (a load balancer over nodes at different
/// heights): it reports a head five blocks above the blocks it can show. The poll hands out
/// nothing and records nothing for blocks the node cannot show (a typed RPC error; the cursor
/// stays), and once the node is consistent the range is read as usual. Regression: the range up to
/// the reported head was handed out with the logs the node had and committed with a zero hash,
/// which lost the logs of the missing blocks until the zero hash was later taken for a reorg.
#[tokio::test]
async fn poll_against_a_head_the_node_cannot_show_commits_nothing() {
    use verinfer_keeper::poller::{PollError, PollOutcome};
    let s = proxied_poller().await;
    let (anvil, proxy, store, poller) = (&s.anvil, &s.proxy, &s.store, &s.poller);
    let real = anvil.provider().get_block_number().await.unwrap();
    proxy.set(
        "eth_blockNumber",
        Fault::Result(serde_json::json!(format!("{:#x}", real + 5))),
    );
    match poller.poll().await {
        Err(PollError::Rpc { op, msg }) => {
            assert_eq!(op, "eth_getBlockByNumber");
            assert!(msg.contains(&format!("no block {}", real + 5)), "{msg}");
        }
        other => panic!("handed out a range the node cannot show: {other:?}"),
    }
    assert_eq!(store.cursor().unwrap(), None, "nothing committed");
    proxy.clear("eth_blockNumber");
    match poller.poll().await.unwrap() {
        PollOutcome::Logs { logs, to, .. } => {
            assert_eq!(to, real);
            assert!(!logs.is_empty(), "the token's mint is read");
        }
        other => panic!("expected the range to be read: {other:?}"),
    }
}

/// A poll sends its independent reads together: with the node holding every `eth_getBlockByNumber`
/// for 300 ms, a poll with a cursor (so a reorg check) and a new range has two of them at the node
/// at once (the reorg check beside the hash of the range's last block, before the logs and again
/// after them), and still hands out the range's logs. One at a time, the proxy never held two.
#[tokio::test]
async fn a_poll_reads_its_reorg_check_and_range_hash_together() {
    use verinfer_keeper::poller::PollOutcome;
    let s = proxied_poller().await;
    let (proxy, a, token, poller) = (&s.proxy, &s.sender, s.token, &s.poller);
    match poller.poll().await.unwrap() {
        PollOutcome::Logs { to, hash, .. } => poller.commit(to, hash).unwrap(),
        other => panic!("expected the mint to be read: {other:?}"),
    }
    a.send("t1", Some(token), transfer(Address::repeat_byte(1), 1))
        .await
        .unwrap();
    proxy.reset();
    proxy.set(
        "eth_getBlockByNumber",
        Fault::Hold(Duration::from_millis(300)),
    );
    match poller.poll().await.unwrap() {
        PollOutcome::Logs { logs, .. } => assert_eq!(logs.len(), 1, "the transfer"),
        other => panic!("expected the transfer to be read: {other:?}"),
    }
    assert_eq!(
        proxy.most_in_flight("eth_getBlockByNumber"),
        2,
        "the reorg check and the range's hash at the node together"
    );
}

/// The key and transaction of the attestation of `id` once it is booked done with our transaction.
/// The block transaction `hash` was mined in.
async fn mined_in(s: &Suite, hash: TxHash) -> u64 {
    s.p.get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap()
        .block_number
        .unwrap()
}

async fn done_attestation(store: &Store, id: U256, secs: u64) -> (String, TxHash) {
    attestation_until(store, id, secs, "booked done", |i| match i.status {
        IntentStatus::Done {
            tx_hash: Some(h), ..
        } => Some((i.key, h)),
        _ => None,
    })
    .await
}

/// A node that lags at the keeper's nonce repair: the keeper answered a request, then restarts
/// while its node serves a chain ending one block below the answer's (a lagging node behind a load
/// balancer, or one resyncing): there the answer's nonce is unused and its receipt absent. The
/// startup repair takes that for no reorg: while the node lags the answer stays done under its
/// transaction, nothing is re-planned and nothing is broadcast; once the node has caught up the
/// next request is answered, and each answer is done exactly once, under its own transaction.
/// Regression: the repair took the missing receipt for a reorg, set the answer back to pending and
/// sent it again (refused by the chain, and booked done without its transaction once the node
/// caught up).
#[tokio::test]
async fn a_lagging_node_at_repair_time_replans_nothing_and_resends_nothing() {
    let (_anvil, dir, mut s, proxy) = behind_a_proxy().await;
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    let first = s.request().await;
    s.answered_within(&[first], 120, "before the node falls behind")
        .await;
    let (key, hash) = done_attestation(&k.store, first, 60).await;
    k.stop().await;
    let block = mined_in(&s, hash).await;

    proxy.behind_at(Some(block - 1));
    let (sends, counts) = (
        proxy.count("eth_sendRawTransaction"),
        proxy.count("eth_getTransactionCount"),
    );
    let k = Running::start(&s, &dir, proxy.url(), |_| {}).await;
    // The startup repair ran against the lagging node (and is tried again while it lags).
    assert!(
        proxy
            .called_more_than(
                "eth_getTransactionCount",
                counts + 3,
                Duration::from_secs(30)
            )
            .await,
        "the nonce repair never ran"
    );
    assert!(
        matches!(
            k.store.intent(&key).unwrap().map(|i| i.status),
            Some(IntentStatus::Done { tx_hash: Some(h), .. }) if h == hash
        ),
        "the mined answer stays done under its transaction"
    );
    assert_eq!(
        proxy.count("eth_sendRawTransaction"),
        sends,
        "nothing broadcast on the lagging node's word"
    );
    assert_eq!(s.hot_txs().await, 1);

    proxy.behind_at(None);
    let second = s.request().await;
    s.answered_within(&[second], 90, "once the node has caught up")
        .await;
    let (_, second_hash) = done_attestation(&k.store, second, 60).await;
    assert_eq!(metric(&k, "verinfer_keeper_reorgs_total").await, 0.0);
    let store = k.store.clone();
    k.stop().await;
    assert_eq!(s.hot_txs().await, 2, "one attestation per request");
    let attestations: Vec<_> = store
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::Attest)
        .map(|i| (i.subject, i.status))
        .collect();
    assert_eq!(attestations.len(), 2, "{attestations:?}");
    for (id, h) in [(first, hash), (second, second_hash)] {
        assert!(
            attestations.iter().any(|(s, st)| *s == Some(id)
                && matches!(st, IntentStatus::Done { tx_hash: Some(x), .. } if *x == h)),
            "the answer to {id} is done once, under its transaction: {attestations:?}"
        );
    }
    assert_ne!(hash, second_hash);
}

/// The nonce repair of a transaction manager whose node cannot show the blocks its transactions
/// were mined in decides nothing: behind them (a chain ending below them) it reports
/// `NodeBehind` and leaves every intent done and no gap; a node that shows the recorded blocks
/// while its count and receipt lookups say otherwise (answers from nodes at different heights) has
/// the nonces used, not gaps. Once the node is consistent the repair finds nothing to do, and the
/// next transaction takes the next nonce. Regression: both were taken for a reorg, the done
/// intents re-planned and their nonces handed out as gaps.
#[tokio::test]
async fn nonce_repair_against_a_lagging_node_replans_nothing_and_records_no_gap() {
    use verinfer_keeper::txmgr::TxError;
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir, "t.redb");
    let real = txm(anvil.provider(), anvil.key(0), store.clone(), fast_cfg());
    let token = deploy_token(&real).await;
    let recipient = alloy::primitives::Address::repeat_byte(0xa);
    let a = real
        .send("a", Some(token), transfer(recipient, 1))
        .await
        .unwrap();
    let b = real
        .send("b", Some(token), transfer(recipient, 1))
        .await
        .unwrap();
    assert_eq!(
        anvil
            .provider()
            .get_transaction_count(real.from())
            .await
            .unwrap(),
        3
    );

    let proxy = FaultyRpc::start(&anvil.url).await.unwrap();
    let faulty = verinfer_client::rpc::http_provider(proxy.url().parse().unwrap(), fast_retry());
    let t = txm(faulty, anvil.key(0), store.clone(), fast_cfg());
    let done = |key: &str, h: TxHash| {
        matches!(
            store.intent(key).unwrap().map(|i| i.status),
            Some(IntentStatus::Done { tx_hash: Some(x), .. }) if x == h
        )
    };

    // A chain ending below `a`'s block: the count says 1, `a` and `b` have no receipts.
    proxy.behind_at(Some(a.block - 1));
    match t.repair_nonces().await {
        Err(TxError::NodeBehind { head, block, nonce }) => {
            assert_eq!((head, block, nonce), (a.block - 1, a.block, 1))
        }
        other => panic!("expected the repair to wait for the node: {other:?}"),
    }
    assert!(
        done("a", a.tx_hash) && done("b", b.tx_hash),
        "nothing re-planned"
    );
    assert!(t.gaps().await.is_empty(), "no gap recorded");

    // A current head with the recorded blocks, but a count of 1 and no receipts.
    proxy.behind_at(None);
    proxy.set(
        "eth_getTransactionCount",
        Fault::Result(serde_json::json!("0x1")),
    );
    proxy.set(
        "eth_getTransactionReceipt",
        Fault::Result(serde_json::Value::Null),
    );
    let repair = t.repair_nonces().await.unwrap();
    assert_eq!(repair.mined, 1);
    assert!(repair.replanned.is_empty(), "{repair:?}");
    assert!(
        repair.gaps.is_empty(),
        "the recorded blocks prove the nonces used: {repair:?}"
    );
    assert_eq!(repair.next, 3);
    assert!(done("a", a.tx_hash) && done("b", b.tx_hash));

    proxy.clear("eth_getTransactionCount");
    proxy.clear("eth_getTransactionReceipt");
    let repair = t.repair_nonces().await.unwrap();
    assert_eq!((repair.mined, repair.next), (3, 3));
    assert!(repair.gaps.is_empty() && repair.replanned.is_empty());
    let c = t
        .send("c", Some(token), transfer(recipient, 1))
        .await
        .unwrap();
    let tx = anvil
        .provider()
        .get_transaction_by_hash(c.tx_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        alloy::consensus::Transaction::nonce(&tx),
        3,
        "the next nonce"
    );
    assert_eq!(
        anvil
            .provider()
            .get_transaction_count(real.from())
            .await
            .unwrap(),
        4
    );
}
