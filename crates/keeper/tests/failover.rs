//! High availability without double-signing (docs/keeper.md, "High availability"): replicas of one
//! operator (one hot key) against the deployed suite on a private anvil, coordinating through the
//! shared signing store on a private PostgreSQL server.
//!
//! One replica computes a different output than the other (`Misbehaviour::WrongResult` stands in
//! for a non-deterministic backend, an LLM sampling at temperature > 0): without the store the two
//! would sign two different attestations for one request — an equivocation, slashed at once. The
//! tests read every signed attestation a replica published (`GET /v1/attestations/<requestId>`,
//! from its journal) and every one it journaled for submission.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use common::suite::{digit, Suite};
use common::*;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use verinfer_bindings::InferenceRegistry;
use verinfer_devnet::postgres::{self, PostgresInstance};
use verinfer_devnet::rpc_fault::FaultyRpc;
use verinfer_keeper::attest;
use verinfer_keeper::config::{KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{Keeper, KeeperError, SignedAttestation};
use verinfer_keeper::metrics::Metrics;
use verinfer_keeper::signing_store::{RawSigningStoreConfig, SigningStore, Slot};
use verinfer_keeper::store::{IntentKind, IntentStatus, Store};

/// A private server; a missing PostgreSQL fails the test with the fix (never a silent skip).
fn server() -> PostgresInstance {
    postgres::spawn(postgres::Durability::Volatile).unwrap_or_else(|e| panic!("{e}"))
}

/// How a replica differs from the default one.
#[derive(Clone, Copy)]
struct Opts {
    /// A different output than its peers.
    diverge: bool,
    /// Transactions in flight (16 is the default).
    max_in_flight: usize,
    /// The finalizer role (finalize, report missed assignments).
    finalize: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            diverge: false,
            max_in_flight: 16,
            finalize: false,
        }
    }
}

/// Replica `name` of the suite's operator: its own journal under `dir`, the shared store at
/// `store_url` (none: a lone keeper), as `opts` says, its configuration changed by `configure`
/// last.
async fn replica(
    s: &Suite,
    dir: &Path,
    name: &str,
    store_url: Option<String>,
    start_block: u64,
    opts: Opts,
    configure: impl FnOnce(&mut RawConfig),
) -> Keeper {
    let Opts {
        diverge,
        max_in_flight,
        finalize,
    } = opts;
    let mut raw = RawConfig {
        submit: SubmitConfig {
            mode: SubmitMode::Single,
            receipt_poll_ms: 20,
            receipt_timeout_secs: 2,
            max_in_flight,
            ..SubmitConfig::default()
        },
        finalize: Some(finalize),
        signing_store: store_url.map(|url| RawSigningStoreConfig {
            postgres_url: Some(url),
            replica: Some(name.into()),
            timeout_ms: Some(2_000),
            sender_lease_ms: None,
        }),
        ..s.raw_config(&dir.join(name), s.operator, start_block)
    };
    configure(&mut raw);
    let cfg = KeeperConfig {
        misbehave: if diverge {
            Misbehaviour::WrongResult
        } else {
            Misbehaviour::None
        },
        ..KeeperConfig::from_raw(raw).unwrap()
    };
    Keeper::new(cfg, s.hot.clone(), name).await.unwrap()
}

/// A running replica: its task (abort = `kill -9`), its stop switch, its journal and its metrics.
struct Running {
    task: JoinHandle<Result<(), KeeperError>>,
    stop: watch::Sender<bool>,
    store: std::sync::Arc<Store>,
    metrics: std::sync::Arc<Metrics>,
}

fn run(k: Keeper) -> Running {
    let store = k.store().clone();
    let metrics = k.metrics().clone();
    let (stop, rx) = watch::channel(false);
    Running {
        task: tokio::spawn(k.run(rx)),
        stop,
        store,
        metrics,
    }
}

impl Running {
    async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap().unwrap();
    }
}

/// The deployed suite on a private anvil and the block replicas start from.
struct Chain {
    _anvil: Anvil,
    dir: tempfile::TempDir,
    s: Suite,
    start: u64,
}

impl Chain {
    async fn new() -> Self {
        let anvil = Anvil::start(&[]);
        let dir = tempfile::tempdir().unwrap();
        let s = Suite::setup(&anvil, &dir).await;
        let start = s.p.get_block_number().await.unwrap();
        Self {
            _anvil: anvil,
            dir,
            s,
            start,
        }
    }

    /// Starts replica `name` (see [`replica`]).
    async fn replica(&self, name: &str, pg: Option<&PostgresInstance>, diverge: bool) -> Running {
        let url = pg.map(PostgresInstance::url);
        let opts = Opts {
            diverge,
            ..Opts::default()
        };
        run(self.start_replica(name, url, opts, |_| {}).await)
    }

    /// Replica `name` of this chain's suite (see [`replica`]), built and not yet running.
    async fn start_replica(
        &self,
        name: &str,
        store_url: Option<String>,
        opts: Opts,
        configure: impl FnOnce(&mut RawConfig),
    ) -> Keeper {
        replica(
            &self.s,
            self.dir.path(),
            name,
            store_url,
            self.start,
            opts,
            configure,
        )
        .await
    }

    /// Sends `n` requests; returns their ids.
    async fn requests(&mut self, n: usize) -> Vec<U256> {
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(self.s.request().await);
        }
        ids
    }

    /// The operator's answers on chain.
    async fn chain(&self) -> BTreeMap<U256, Vec<B256>> {
        answers_on_chain(&self.s, self.start).await
    }

    /// Lets late duplicates show (1 s), stops both replicas, and checks that the chain holds one
    /// answer per request and that every statement either replica signed for `ids` is that answer.
    /// Returns the replicas' journals.
    async fn finish(
        &self,
        ids: &[U256],
        a: Running,
        b: Running,
    ) -> (std::sync::Arc<Store>, std::sync::Arc<Store>) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (store_a, store_b) = (a.store.clone(), b.store.clone());
        a.shutdown().await;
        b.shutdown().await;
        let chain = self.chain().await;
        let (sa, sb) = (
            signed_by(&store_a, ids, &self.s),
            signed_by(&store_b, ids, &self.s),
        );
        assert_one_statement_per_request(ids, &chain, &[&sa, &sb]);
        (store_a, store_b)
    }

    /// The output hash the store holds for request `id` (request `id` carries digit `id`).
    async fn stored(&self, pg: &PostgresInstance, id: U256) -> Option<B256> {
        let input = digit(id.to::<u64>());
        let att = attest::Attestation {
            operator: self.s.operator,
            requestId: id,
            modelId: self.s.model.model_id(),
            inputHash: keccak256(&input),
            outputHash: B256::ZERO,
        };
        let slot = Slot::of(31337, self.s.registry, &att);
        SigningStore::new(&pg.url(), "reader", Duration::from_secs(5))
            .statement(&slot)
            .await
            .unwrap()
            .map(|st| st.output_hash)
    }
}

/// Waits until every id in `ids` is answered on chain, or 60 s.
async fn until_answered(s: &Suite, ids: &[U256], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if s.all_answered(ids).await {
            return;
        }
        assert!(Instant::now() < deadline, "no progress: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The operator's `AnswerRecorded` events since `from`: request id -> the output hashes recorded.
async fn answers_on_chain(s: &Suite, from: u64) -> BTreeMap<U256, Vec<B256>> {
    let filter = Filter::new()
        .address(s.registry)
        .event_signature(InferenceRegistry::AnswerRecorded::SIGNATURE_HASH)
        .topic2(s.operator.into_word())
        .from_block(from);
    let mut out: BTreeMap<U256, Vec<B256>> = BTreeMap::new();
    for l in s.p.get_logs(&filter).await.unwrap() {
        let e = InferenceRegistry::AnswerRecorded::decode_log_data(l.data()).unwrap();
        out.entry(e.requestId).or_default().push(e.outputHash);
    }
    out
}

/// Every attestation a replica published for `ids` (its `GET /v1/attestations/<requestId>`):
/// request id -> distinct output hashes, each checked to be signed by the operator's hot key.
fn published(store: &Store, ids: &[U256], s: &Suite) -> BTreeMap<U256, BTreeSet<B256>> {
    let domain = attest::domain(31337, s.registry);
    let mut out: BTreeMap<U256, BTreeSet<B256>> = BTreeMap::new();
    for id in ids {
        for json in store.published(*id).unwrap() {
            let m: SignedAttestation = serde_json::from_slice(&json).unwrap();
            assert_eq!(
                attest::recover(&m.att, &domain, &m.sig),
                Some(s.hot.address()),
                "published attestations are the hot key's"
            );
            out.entry(m.att.requestId)
                .or_default()
                .insert(m.att.outputHash);
        }
    }
    out
}

/// What a replica signed for `ids`: published and journaled, merged.
fn signed_by(store: &Store, ids: &[U256], s: &Suite) -> BTreeMap<U256, BTreeSet<B256>> {
    let mut out = published(store, ids, s);
    for (id, outs) in journaled(store) {
        out.entry(id).or_default().extend(outs);
    }
    out
}

/// The output hashes a replica's journal holds signed attestations for, by request.
fn journaled(store: &Store) -> BTreeMap<U256, BTreeSet<B256>> {
    let mut out: BTreeMap<U256, BTreeSet<B256>> = BTreeMap::new();
    for i in store.intents().unwrap() {
        if i.kind != IntentKind::Attest || !i.members.is_empty() {
            continue;
        }
        let call = InferenceRegistry::submitAttestationCall::abi_decode(&i.calldata).unwrap();
        out.entry(call.att.requestId)
            .or_default()
            .insert(call.att.outputHash);
    }
    out
}

/// Exactly one answer on chain per request; every statement signed (published or journaled by any
/// replica) for a request is that answer: no equivocation.
fn assert_one_statement_per_request(
    ids: &[U256],
    chain: &BTreeMap<U256, Vec<B256>>,
    statements: &[&BTreeMap<U256, BTreeSet<B256>>],
) {
    for id in ids {
        let recorded = chain.get(id).cloned().unwrap_or_default();
        assert_eq!(
            recorded.len(),
            1,
            "request {id}: one answer on chain: {recorded:?}"
        );
        for set in statements {
            if let Some(outs) = set.get(id) {
                assert_eq!(
                    outs.iter().collect::<Vec<_>>(),
                    vec![&recorded[0]],
                    "request {id}: every signed statement is the one on chain"
                );
            }
        }
    }
}

/// The harness can fail: without the store, replicas whose outputs differ sign two different
/// attestations for the same request (what the store exists to prevent).
#[tokio::test]
async fn without_the_signing_store_diverging_replicas_equivocate() {
    let mut c = Chain::new().await;
    let a = c.replica("a", None, false).await;
    let b = c.replica("b", None, true).await;
    let ids = c.requests(3).await;
    until_answered(&c.s, &ids, "lone replicas answer").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut seen = published(&a.store, &ids, &c.s);
        for (k, v) in published(&b.store, &ids, &c.s) {
            seen.entry(k).or_default().extend(v);
        }
        if seen.values().any(|outs| outs.len() > 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected an equivocation: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
}

/// (a) Two replicas of one operator race on the same assignments (both running, both answering,
/// different outputs): the chain shows exactly one attestation per request, and no replica ever
/// signed or journaled a second, different attestation; the store holds that one statement.
#[tokio::test]
async fn two_replicas_racing_on_the_same_assignments_sign_one_attestation_per_request() {
    let pg = server();
    let mut c = Chain::new().await;
    let a = c.replica("a", Some(&pg), false).await;
    let b = c.replica("b", Some(&pg), true).await;
    let ids = c.requests(8).await;
    until_answered(&c.s, &ids, "two replicas answer").await;
    let (store_a, store_b) = c.finish(&ids, a, b).await;
    let chain = c.chain().await;
    assert_eq!(
        journaled(&store_a).len(),
        ids.len(),
        "replica a journaled every request"
    );
    assert_eq!(
        journaled(&store_b).len(),
        ids.len(),
        "replica b journaled every request"
    );
    for id in &ids {
        assert_eq!(
            c.stored(&pg, *id).await,
            Some(chain[id][0]),
            "request {id}: the store's statement"
        );
    }
}

/// The transactions a replica's journal holds as its own (signed by it, sent or included).
fn sent_by(store: &Store) -> usize {
    store
        .intents()
        .unwrap()
        .iter()
        .filter(|i| {
            matches!(
                i.status,
                IntentStatus::Sent { .. }
                    | IntentStatus::Done {
                        tx_hash: Some(_),
                        ..
                    }
            )
        })
        .count()
}

/// Open intents of a replica's journal.
fn open(store: &Store) -> usize {
    store
        .intents()
        .unwrap()
        .iter()
        .filter(|i| i.is_open())
        .count()
}

/// Two replicas of the finalizer role answer every request, but only the holder of the sender
/// lease sends: every transaction of the hot key (an attestation per request, then a finalize per
/// request once the challenge window passed) is in one replica's journal, none is a copy, and the
/// standby keeps nothing open: it books the holder's answers done and leaves the other duties to the
/// holder.
#[tokio::test]
async fn only_the_sender_lease_holder_sends_and_the_standby_keeps_nothing_open() {
    let pg = server();
    let mut c = Chain::new().await;
    let nonce = c.s.hot_txs().await;
    let finalizer = Opts {
        finalize: true,
        ..Opts::default()
    };
    let a = run(c
        .start_replica("a", Some(pg.url()), finalizer, |_| {})
        .await);
    let b = run(c
        .start_replica("b", Some(pg.url()), finalizer, |_| {})
        .await);
    let ids = c.requests(8).await;
    until_answered(&c.s, &ids, "two replicas answer").await;
    // Past every challenge window: the holder finalizes each request.
    raw(&c.s.p, "evm_increaseTime", serde_json::json!([30 * 86_400])).await;
    raw(&c.s.p, "evm_mine", serde_json::json!([])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let finalized = c.s.finalized(&ids).await;
        let settled = open(&a.store) + open(&b.store) == 0
            && journaled(&a.store).len() == ids.len()
            && journaled(&b.store).len() == ids.len();
        if finalized == ids.len() && settled {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {finalized} finalized, open a {} b {}",
            open(&a.store),
            open(&b.store)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = c.s.hot_txs().await - nonce;
    let (sa, sb) = (sent_by(&a.store), sent_by(&b.store));
    assert!(
        sa == 0 || sb == 0,
        "one sender at a time: a sent {sa}, b sent {sb}"
    );
    assert_eq!(
        (sa + sb) as u64,
        sent,
        "every transaction of the hot key is the holder's, none a stray copy"
    );
    assert_eq!(
        sent,
        2 * ids.len() as u64,
        "one submitAttestation and one finalize per request, no copies"
    );
    c.finish(&ids, a, b).await;
}

/// A replica that finds a request already claimed by another replica adopts the statement of
/// record without fetching the input or running the model: replica b starts after replica a
/// answered every request, journals all of them with a's statements and signatures, and ran no
/// inference.
#[tokio::test]
async fn a_replica_adopts_a_claimed_statement_without_running_the_model() {
    let pg = server();
    let mut c = Chain::new().await;
    let a = c.replica("a", Some(&pg), false).await;
    let ids = c.requests(8).await;
    until_answered(&c.s, &ids, "replica a answers").await;
    let b = c.replica("b", Some(&pg), false).await;
    assert_adopted_all(&a, &b, &ids).await;
    c.finish(&ids, a, b).await;
}

/// The lease holder claims first what was assigned in its tenure, and a replica that takes the
/// lease over still looks up what was assigned before it: replica a, holding the first grant ever,
/// answers 4 requests without looking any statement up; it stops cleanly (the lease released);
/// replica b, reading the same logs, takes the lease over, adopts a's 4 statements (4 look-ups, no
/// inference) and answers 2 requests sent after its takeover with no look-up. Before, every answer
/// of a replica was looked up first: one more statement per chunk on the holder's path.
#[tokio::test]
async fn the_lease_holder_claims_its_tenures_assignments_without_looking_them_up() {
    let (pg, mut c, a) = first_grant_holder().await;
    let mut ids = c.requests(4).await;
    until_answered(&c.s, &ids, "replica a answers").await;
    assert_eq!(a.metrics.inferences.get(), 4);
    assert_eq!(
        a.metrics.claim_lookups.get(),
        0,
        "the holder of the first grant ever looks nothing up"
    );
    let claimed_by_a = journaled(&a.store);
    a.shutdown().await;
    let b = run(c
        .start_replica("b", Some(pg.url()), Opts::default(), long_lease)
        .await);
    until_lease(&b, true, "b takes the lease over").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while journaled(&b.store).len() < ids.len() {
        assert!(Instant::now() < deadline, "b never journaled a's requests");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        (
            b.metrics.claim_lookups.get(),
            b.metrics.answers_adopted.get()
        ),
        (4, 4),
        "what was assigned before the takeover is looked up and adopted"
    );
    assert_eq!(b.metrics.inferences.get(), 0);
    let new = c.requests(2).await;
    ids.extend(&new);
    until_answered(&c.s, &ids, "replica b answers the new requests").await;
    assert_eq!(
        (b.metrics.claim_lookups.get(), b.metrics.inferences.get()),
        (4, 2),
        "what was assigned in b's tenure is computed and claimed with no look-up"
    );
    let store_b = b.store.clone();
    b.shutdown().await;
    let jb = journaled(&store_b);
    assert!(
        claimed_by_a.iter().all(|(id, s)| jb.get(id) == Some(s)),
        "b carries a's statements"
    );
    let sb = signed_by(&store_b, &ids, &c.s);
    assert_one_statement_per_request(&ids, &c.chain().await, &[&sb]);
}

/// A replica started on a backlog learns from its first lease attempt that it holds the operator's
/// first grant before it answers its first range, and then claims that range without looking any
/// statement up: 6 requests queued before it starts, 6 inferences, no look-up. Before, a replica's
/// first range was looked up whole (its answers started while its first attempt was out), and in a
/// cold drain the first range is the whole backlog.
#[tokio::test]
async fn a_replica_started_on_a_backlog_claims_its_first_range_without_looking_it_up() {
    let pg = server();
    let mut c = Chain::new().await;
    let ids = c.requests(6).await;
    let a = run(c
        .start_replica("a", Some(pg.url()), Opts::default(), long_lease)
        .await);
    until_answered(&c.s, &ids, "replica a answers its backlog").await;
    assert_eq!(a.metrics.sender_lease(), Some(true));
    assert_eq!(a.metrics.inferences.get(), 6);
    assert_eq!(
        a.metrics.claim_lookups.get(),
        0,
        "the first range is claimed without look-ups"
    );
    let store = a.store.clone();
    a.shutdown().await;
    let signed = signed_by(&store, &ids, &c.s);
    assert_one_statement_per_request(&ids, &c.chain().await, &[&signed]);
}

/// A standby reads a slot one poll interval after it starts the answer, not at once, so that its
/// reads, checks and journal writes come after the holder's sends: replica b, standing by with a
/// 1.5 s poll interval, starts after the holder answered a request, and adopts that statement (one
/// look-up, no inference) no sooner than 1.5 s after it started. Before, it read the slot at once
/// and adopted within its first poll, competing with the holder's first sends for the machine.
#[tokio::test]
async fn a_standby_reads_the_holders_statement_one_poll_interval_later() {
    let (pg, mut c, a) = first_grant_holder().await;
    let ids = c.requests(1).await;
    until_answered(&c.s, &ids, "the holder answers").await;
    let b = c
        .start_replica("b", Some(pg.url()), Opts::default(), |raw| {
            long_lease(raw);
            raw.poll_interval_ms = Some(1_500);
        })
        .await;
    let started = Instant::now();
    let b = run(b);
    let deadline = started + Duration::from_secs(30);
    while journaled(&b.store).is_empty() {
        assert!(Instant::now() < deadline, "b never adopted the statement");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    assert_eq!(b.metrics.sender_lease(), Some(false), "b stands by");
    assert!(
        took >= Duration::from_millis(1_500),
        "b adopted {took:?} after its start"
    );
    assert_eq!(
        (
            b.metrics.claim_lookups.get(),
            b.metrics.answers_adopted.get(),
            b.metrics.inferences.get()
        ),
        (1, 1, 0)
    );
    assert_eq!(journaled(&b.store), journaled(&a.store));
    b.shutdown().await;
    a.shutdown().await;
}

/// A replica driven by `Keeper::tick` (tools, tests) attempts the lease only around its collect
/// stage, never during it, so its answers do not wait for an attempt: one tick answers a request.
/// Found in review: the answers of its first range each waited out `max_defer` (30 s with this 60 s
/// lease) for an attempt that came only after them.
#[tokio::test]
async fn a_replica_driven_by_tick_answers_without_waiting_for_a_lease_attempt() {
    let pg = server();
    let mut c = Chain::new().await;
    let ids = c.requests(1).await;
    let mut a = c
        .start_replica("a", Some(pg.url()), Opts::default(), |raw| {
            if let Some(store) = raw.signing_store.as_mut() {
                store.sender_lease_ms = Some(60_000);
            }
        })
        .await;
    tokio::time::timeout(Duration::from_secs(20), a.tick())
        .await
        .expect("one tick within 20 s; its answers' deadline is 30 s away")
        .unwrap();
    assert_eq!(
        journaled(a.store()).keys().copied().collect::<Vec<_>>(),
        ids
    );
}

/// A holder that skipped the look-up and then cannot fetch the input still adopts a statement
/// another replica claimed, which needs no input: the request's input is at a URI nobody can reach,
/// its slot was claimed with a signature by another replica before the assignment, and the holder
/// of the first grant answers it with that statement, running no model. Found in review: the holder
/// gave the request up, and the standby that claimed it does not send.
#[tokio::test]
async fn a_holder_that_cannot_fetch_the_input_adopts_the_statement_claimed_before() {
    let (pg, mut c, a) = first_grant_holder().await;
    let (input, output) = (digit(3), b"claimed by the standby".to_vec());
    let id = U256::from(c.s.requests + 1);
    let att = attest::Attestation {
        operator: c.s.operator,
        requestId: id,
        modelId: c.s.model.model_id(),
        inputHash: keccak256(&input),
        outputHash: keccak256(&output),
    };
    let sig = alloy::primitives::Bytes::from(
        c.s.hot
            .sign_attestation(&att, &attest::domain(31337, c.s.registry))
            .unwrap()
            .to_vec(),
    );
    SigningStore::new(&pg.url(), "standby", Duration::from_secs(5))
        .claim_signed(&Slot::of(31337, c.s.registry, &att), &output, &sig)
        .await
        .unwrap();
    let sent =
        c.s.request_at(keccak256(&input), "http://127.0.0.1:9/unreachable".into())
            .await;
    assert_eq!(sent, id);
    until_answered(&c.s, &[id], "the holder adopts the claimed statement").await;
    assert_eq!(
        c.chain().await.get(&id),
        Some(&vec![att.outputHash]),
        "the claimed statement is the answer"
    );
    assert_eq!(a.metrics.inferences.get(), 0, "no model run");
    assert_eq!(a.metrics.answers_adopted.get(), 1);
    a.shutdown().await;
}

/// A private server, a chain, and replica "a" on a 10 s lease, holding the operator's first grant.
async fn first_grant_holder() -> (PostgresInstance, Chain, Running) {
    let pg = server();
    let c = Chain::new().await;
    let a = run(c
        .start_replica("a", Some(pg.url()), Opts::default(), long_lease)
        .await);
    until_lease(&a, true, "a takes the first grant").await;
    (pg, c, a)
}

/// Waits (20 s at most) until `r` reports holding the sender lease (`held`) or standing by.
async fn until_lease(r: &Running, held: bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while r.metrics.sender_lease() != Some(held) {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (60 s at most) until `later` journaled every one of `ids`, then checks that `first` ran
/// the model once per request (its watcher does not re-run its own results) and `later` for none,
/// having adopted and journaled each of `first`'s statements.
async fn assert_adopted_all(first: &Running, later: &Running, ids: &[U256]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while journaled(&later.store).len() < ids.len() {
        assert!(
            Instant::now() < deadline,
            "the later replica never journaled every request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        first.metrics.inferences.get(),
        ids.len() as u64,
        "the first replica ran the model once per request"
    );
    assert_eq!(
        later.metrics.inferences.get(),
        0,
        "the later replica ran the model for none"
    );
    assert_eq!(later.metrics.answers_adopted.get(), ids.len() as u64);
    assert_eq!(
        journaled(&later.store),
        journaled(&first.store),
        "the later replica journaled the first one's statements"
    );
}

/// The operator's first lease grant ever follows nobody, so it re-estimates nothing: a replica that
/// journals a backlog of answers in its first poll and then takes the lease sends them on the gas
/// cache (one estimate, for the first call of its shape), not each estimated afresh as after a
/// takeover from an earlier holder. Regression: taking the lease after the first poll marked that
/// poll's answers, and every one was estimated (found by the keeper bench's RPC counts).
#[tokio::test]
async fn the_first_lease_grant_ever_sends_a_backlog_on_the_gas_cache() {
    let pg = server();
    let mut c = Chain::new().await;
    let ids = c.requests(8).await;
    let proxy = FaultyRpc::start(&c.s.url).await.unwrap();
    let raw = RawConfig {
        rpc_url: Some(proxy.url().to_string()),
        submit: SubmitConfig {
            mode: SubmitMode::Single,
            receipt_poll_ms: 20,
            ..SubmitConfig::default()
        },
        finalize: Some(false),
        watch: Some(false),
        signing_store: Some(RawSigningStoreConfig {
            postgres_url: Some(pg.url()),
            replica: Some("a".into()),
            timeout_ms: Some(2_000),
            sender_lease_ms: None,
        }),
        ..c.s
            .raw_config(&c.dir.path().join("a"), c.s.operator, c.start)
    };
    let k = Keeper::new(KeeperConfig::from_raw(raw).unwrap(), c.s.hot.clone(), "a")
        .await
        .unwrap();
    let a = run(k);
    until_answered(&c.s, &ids, "the backlog is answered").await;
    assert_eq!(a.metrics.lease_takeovers.get(), 1, "one grant");
    assert_eq!(
        proxy.count("eth_estimateGas"),
        1,
        "the first submitAttestation estimated, the other 7 sent on the cache"
    );
    a.shutdown().await;
}

/// (b) The active replica is killed mid-run (its task aborted: no shutdown, no drain), with some
/// requests claimed and not yet on chain; the standby (different output) starts, takes over and
/// answers every request, old and new, each exactly once, adopting the statements the dead replica
/// claimed instead of signing its own. The takeover time (kill -> every request answered) is printed.
#[tokio::test]
async fn standby_takes_over_from_a_killed_active_replica_without_double_signing() {
    let pg = server();
    let mut c = Chain::new().await;
    let nonce = c.s.hot_txs().await;
    let mut ids = c.requests(10).await;
    // One transaction in flight: the answers are claimed and journaled together (one job each, one
    // write), so with a wider window all ten would be broadcast before the kill and land anyway.
    let one = Opts {
        max_in_flight: 1,
        ..Opts::default()
    };
    let a = run(c.start_replica("a", Some(pg.url()), one, |_| {}).await);
    // Kill once a few are on chain and others are claimed (journaled) but not yet.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let on_chain = answers_on_chain(&c.s, c.start).await.len();
        if on_chain >= 2 && journaled(&a.store).len() > on_chain {
            break;
        }
        assert!(Instant::now() < deadline, "active replica made no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.task.abort();
    let _ = a.task.await;
    let killed = Instant::now();
    let claimed_by_a = journaled(&a.store);
    let signed_by_a = signed_by(&a.store, &ids, &c.s);
    drop(a.store);
    let before = answers_on_chain(&c.s, c.start).await.len();
    assert!(
        before < ids.len(),
        "killed mid-run ({before} of {} answered)",
        ids.len()
    );
    ids.extend(c.requests(4).await);
    let b = c.replica("b", Some(&pg), true).await;
    until_answered(&c.s, &ids, "standby takes over").await;
    let takeover = killed.elapsed();
    eprintln!(
        "standby took over: {} requests answered {} ms after the kill ({before} answered before it)",
        ids.len(),
        takeover.as_millis()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let store_b = b.store.clone();
    b.shutdown().await;
    let chain = c.chain().await;
    let jb = journaled(&store_b);
    let sb = signed_by(&store_b, &ids, &c.s);
    assert_one_statement_per_request(&ids, &chain, &[&signed_by_a, &sb]);
    let adopted = claimed_by_a
        .keys()
        .filter(|id| jb.get(id) == claimed_by_a.get(id))
        .count();
    assert_eq!(
        adopted,
        claimed_by_a.len(),
        "the standby carries the dead replica's statements, never its own different output"
    );
    assert_eq!(
        c.s.hot_txs().await - nonce,
        ids.len() as u64,
        "one transaction per request: what the dead replica got included was refused at the \
         standby's fresh estimate, not sent again"
    );
}

/// The database restarts while two replicas run: while it is down no replica signs anything (the
/// requests sent then stay unanswered: fail-closed), and once it is back every request is answered
/// exactly once with one statement each.
#[tokio::test]
async fn database_restart_stops_signing_until_it_is_back_without_double_signing() {
    let mut pg = server();
    let mut c = Chain::new().await;
    let a = c.replica("a", Some(&pg), false).await;
    let b = c.replica("b", Some(&pg), true).await;
    let mut ids = c.requests(3).await;
    until_answered(&c.s, &ids, "replicas answer before the restart").await;
    pg.stop().unwrap();
    let during = c.requests(3).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for id in &during {
        assert!(
            !c.s.answered(*id).await,
            "request {id} answered while the store was down"
        );
    }
    let mut while_down = signed_by(&a.store, &during, &c.s);
    while_down.extend(signed_by(&b.store, &during, &c.s));
    for id in &during {
        assert!(
            !while_down.contains_key(id),
            "request {id} signed while the store was down"
        );
    }
    pg.start().unwrap();
    ids.extend(during);
    until_answered(&c.s, &ids, "replicas answer after the restart").await;
    c.finish(&ids, a, b).await;
}

/// A TCP proxy in front of the database that can cut every connection (a network partition of the
/// replica that uses it) and heal on the same port.
struct Link {
    port: u16,
    upstream: u16,
    task: Option<JoinHandle<()>>,
}

impl Link {
    async fn new(upstream: u16) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut link = Self {
            port,
            upstream,
            task: None,
        };
        link.heal().await;
        link
    }

    fn url(&self) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/postgres",
            postgres::SUPERUSER,
            self.port
        )
    }

    /// Drops the listener and every proxied connection.
    async fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again and forwards new connections.
    async fn heal(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }
}

/// A replica partitioned from the database signs nothing while the other answers every request;
/// once the partition heals it catches up by adopting the other's statements: one statement per
/// request, no equivocation.
#[tokio::test]
async fn replica_partitioned_from_the_database_signs_nothing_and_adopts_after_healing() {
    let pg = server();
    let mut link = Link::new(pg.port()).await;
    let mut c = Chain::new().await;
    // Replica a reaches the database only through the link.
    let diverge = Opts {
        diverge: true,
        ..Opts::default()
    };
    let k = c
        .start_replica("a", Some(link.url()), diverge, |_| {})
        .await;
    let a = run(k);
    let first = c.requests(2).await;
    until_answered(&c.s, &first, "replica a answers through the link").await;
    link.cut().await;
    let b = c.replica("b", Some(&pg), false).await;
    let during = c.requests(3).await;
    until_answered(&c.s, &during, "replica b answers during the partition").await;
    let journaled_by_a = signed_by(&a.store, &during, &c.s);
    for id in &during {
        assert!(
            !journaled_by_a.contains_key(id),
            "partitioned replica a signed request {id}"
        );
    }
    link.heal().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while during
        .iter()
        .any(|id| !journaled(&a.store).contains_key(id))
    {
        assert!(
            Instant::now() < deadline,
            "replica a did not catch up after healing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids: Vec<U256> = first.into_iter().chain(during).collect();
    c.finish(&ids, a, b).await;
}

/// A replica takes the sender lease as soon as its node answers the first log poll, while that
/// poll's answers are still being computed: here the first inference hangs (its backend sleeps
/// until the keeper kills it at `timeout_secs`), and the lease is held long before the hung run
/// ends. Regression: the first attempt waited for the whole first poll's range to be answered, so
/// a holder sent nothing of a backlog until it had answered all of it (the (h) row of `verinfer
/// bench keeper` sent its first batch only after journaling all 256 answers).
#[tokio::test]
async fn a_replica_takes_the_sender_lease_while_its_first_answers_are_still_computed() {
    let mut c = Chain::new().await;
    let pg = server();
    let flag = c.dir.path().join("hung-once");
    let script = format!(
        "if [ -e '{0}' ]; then cat; else touch '{0}'; exec sleep 600; fi",
        flag.display()
    );
    let model_id = format!("{:#x}", c.s.model.model_id());
    let hang_secs = 12;
    let id = c.requests(1).await[0];
    let k = c
        .start_replica("a", Some(pg.url()), Opts::default(), |raw| {
            raw.backend = vec![verinfer_keeper::config::BackendConfig::Command {
                argv: vec!["sh".into(), "-c".into(), script],
                model_id,
                timeout_secs: hang_secs,
            }]
        })
        .await;
    let started = Instant::now();
    let a = run(k);
    // Both within half the hang: the first inference running, and the lease held.
    while a.metrics.sender_lease() != Some(true) || !flag.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(hang_secs / 2),
            "no lease while the first answer is computed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!c.s.answered(id).await, "the hung answer is not sent yet");
    // Once the hung run is killed, the range is read again and the request answered, once.
    until_answered(&c.s, &[id], "after the hung run").await;
    assert!(started.elapsed() >= Duration::from_secs(hang_secs));
    a.shutdown().await;
    assert_eq!(c.chain().await[&id].len(), 1);
}

/// A holder whose collect stage keeps failing (its backend errors on every run and, as a
/// deliberately faulty keeper, it adopts nothing: it reads the chain but answers nothing) gives the
/// sender lease up once its last fully handled poll is older than the lease, and the standby,
/// whose backend works, takes over and answers. Regression: when
/// a poll counted for the lease as soon as its logs arrived, such a holder kept the lease for good
/// and the request was never answered.
#[tokio::test]
async fn a_holder_that_cannot_answer_gives_the_lease_up_and_the_standby_answers() {
    let mut c = Chain::new().await;
    let pg = server();
    let model_id = format!("{:#x}", c.s.model.model_id());
    let broken = |raw: &mut RawConfig| {
        raw.backend = vec![verinfer_keeper::config::BackendConfig::Command {
            argv: vec!["sh".into(), "-c".into(), "exit 3".into()],
            model_id,
            timeout_secs: 5,
        }]
    };
    // A deliberately faulty keeper never adopts another replica's statement, so its failing
    // backend fails its collect stage on every poll, whatever the standby claims.
    let faulty = Opts {
        diverge: true,
        ..Opts::default()
    };
    let a = run(c.start_replica("a", Some(pg.url()), faulty, broken).await);
    let deadline = Instant::now() + Duration::from_secs(20);
    while a.metrics.sender_lease() != Some(true) {
        assert!(Instant::now() < deadline, "a takes the lease first");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b = c.replica("b", Some(&pg), false).await;
    let id = c.requests(1).await[0];
    until_answered(
        &c.s,
        &[id],
        "by the standby, once the holder gave the lease up",
    )
    .await;
    assert_eq!(a.metrics.sender_lease(), Some(false), "a gave the lease up");
    assert_eq!(b.metrics.sender_lease(), Some(true), "b holds it");
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(c.chain().await[&id].len(), 1);
}

/// A replica's configuration with a backend that takes half a second per inference (it echoes its
/// input) and a 10 s sender lease (so a standby defers to the holder for up to 5 s).
fn slow_model_long_lease(s: &Suite) -> impl FnOnce(&mut RawConfig) {
    let model_id = format!("{:#x}", s.model.model_id());
    move |raw: &mut RawConfig| {
        raw.backend = vec![verinfer_keeper::config::BackendConfig::Command {
            argv: vec!["sh".into(), "-c".into(), "sleep 0.5; cat".into()],
            model_id,
            timeout_secs: 30,
        }];
        long_lease(raw);
    }
}

/// A 10 s sender lease instead of 4 s: a renewal held up on a loaded machine does not lapse it.
fn long_lease(raw: &mut RawConfig) {
    if let Some(store) = raw.signing_store.as_mut() {
        store.sender_lease_ms = Some(10_000);
    }
}

/// A standby does not run the model while the lease holder answers: both replicas' inferences take
/// half a second, the holder (a, started first) claims each statement half a second after it reads
/// the assignment, and the standby (b), which reads the same logs meanwhile, waits for those
/// statements and adopts them instead of computing its own. Regression: a standby ran every
/// inference it reached before the holder's claim, so two replicas ran the model twice per request
/// (twice the GPU time for an LLM).
#[tokio::test]
async fn a_standby_waits_for_the_holders_statement_instead_of_running_the_model() {
    let mut c = Chain::new().await;
    let pg = server();
    let url = pg.url();
    let a = run(c
        .start_replica(
            "a",
            Some(url.clone()),
            Opts::default(),
            slow_model_long_lease(&c.s),
        )
        .await);
    let deadline = Instant::now() + Duration::from_secs(20);
    while a.metrics.sender_lease() != Some(true) {
        assert!(Instant::now() < deadline, "a takes the lease first");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b = run(c
        .start_replica("b", Some(url), Opts::default(), slow_model_long_lease(&c.s))
        .await);
    while b.metrics.sender_lease() != Some(false) {
        assert!(Instant::now() < deadline, "b stands by");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids = c.requests(2).await;
    until_answered(&c.s, &ids, "the holder answers").await;
    assert_adopted_all(&a, &b, &ids).await;
    c.finish(&ids, a, b).await;
}

/// A standby's waits for the holder share one deadline per poll range, however many segments the
/// range's answers are finished in: here the holder's inference hangs, so it claims nothing while
/// it keeps the (16 s) lease, and the standby's first range holds two segments (more assignments
/// than `ANSWER_CHUNK`). The standby waits once, `max_defer` (8 s), then answers both segments on
/// its own, journaling all of them well before two waits would have passed. Regression (found in
/// review): each answer's wait ran from its own start, so each segment waited a whole `max_defer`
/// after the one before, and a range of s segments held the collect stage s times as long, past
/// the poll age with which a standby may take over.
#[tokio::test]
async fn a_standby_waits_for_the_holder_once_per_poll_range() {
    let mut c = Chain::new().await;
    let pg = server();
    let model_id = format!("{:#x}", c.s.model.model_id());
    let long_lease = |raw: &mut RawConfig| {
        if let Some(store) = raw.signing_store.as_mut() {
            store.sender_lease_ms = Some(16_000);
        }
    };
    let hung = {
        let model_id = model_id.clone();
        move |raw: &mut RawConfig| {
            long_lease(raw);
            raw.backend = vec![verinfer_keeper::config::BackendConfig::Command {
                argv: vec!["sh".into(), "-c".into(), "exec sleep 600".into()],
                model_id,
                timeout_secs: 120,
            }];
        }
    };
    let url = pg.url();
    let a = run(c
        .start_replica("a", Some(url.clone()), Opts::default(), hung)
        .await);
    let deadline = Instant::now() + Duration::from_secs(20);
    while a.metrics.sender_lease() != Some(true) {
        assert!(Instant::now() < deadline, "a takes the lease first");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids = c.requests(verinfer_keeper::keeper::ANSWER_CHUNK + 1).await;
    let b = run(c
        .start_replica("b", Some(url), Opts::default(), long_lease)
        .await);
    let started = Instant::now();
    while journaled(&b.store).len() < ids.len() {
        assert!(
            started.elapsed() < Duration::from_secs(13),
            "the standby journaled {} of {} after {:?}: its range's segments waited one after another",
            journaled(&b.store).len(),
            ids.len(),
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        a.metrics.sender_lease(),
        Some(true),
        "a still holds the lease"
    );
    assert_eq!(
        b.metrics.inferences.get(),
        ids.len() as u64,
        "b answered on its own"
    );
    a.task.abort();
    b.shutdown().await;
}
