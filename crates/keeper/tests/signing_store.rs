//! The replicas' slashing-protection store against a private PostgreSQL server (started and stopped
//! by each test through `verinfer_devnet::postgres`): one winner per request whatever the timing, a
//! different output refused with a typed error, the statement of record adopted, fail-closed while
//! the database is down and back after it restarts.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use proptest::prelude::*;
use verinfer_devnet::postgres::{self, PostgresInstance};
use verinfer_keeper::attest::{self, Attestation, HotKey};
use verinfer_keeper::signing_store::{
    sign_once, Claim, LeaseHolder, SigningStore, SigningStoreError, Slot,
};

/// A private server; a missing PostgreSQL fails the test with the fix (never a silent skip).
fn server() -> PostgresInstance {
    postgres::spawn(postgres::Durability::Volatile).unwrap_or_else(|e| panic!("{e}"))
}

fn store(pg: &PostgresInstance, replica: &str) -> SigningStore {
    SigningStore::new(&pg.url(), replica, Duration::from_secs(5))
}

fn slot(request: u64) -> Slot {
    Slot {
        chain_id: 31337,
        registry: Address::repeat_byte(0xee),
        operator: Address::repeat_byte(0x0a),
        request_id: U256::from(request),
        request_digest: keccak256(request.to_be_bytes()),
    }
}

/// `tasks` replicas (each with its own connection) claim one request at once, task `i` with output
/// `outputs[i % outputs.len()]`: exactly one wins; every other claim of the winner's output is
/// `Same`, every claim of another output is refused with `Conflict` naming the winner's output.
async fn race(pg: &PostgresInstance, request: u64, tasks: usize, outputs: Vec<Vec<u8>>) {
    race_with(pg, request, tasks, outputs, |i| {
        Arc::new(store(pg, &format!("r{i}")))
    })
    .await
}

/// [`race`] with the store of task `i` from `store_of` (one store shared by every task: their
/// claims go out together in one statement).
async fn race_with(
    pg: &PostgresInstance,
    request: u64,
    tasks: usize,
    outputs: Vec<Vec<u8>>,
    store_of: impl Fn(usize) -> Arc<SigningStore>,
) {
    let outputs = Arc::new(outputs);
    let mut handles = Vec::new();
    for i in 0..tasks {
        let s = store_of(i);
        let outputs = outputs.clone();
        handles.push(tokio::spawn(async move {
            let out = outputs[i % outputs.len()].clone();
            let r = s.claim(&slot(request), &out).await;
            (out, r)
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let winners: Vec<&Vec<u8>> = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(Claim::Won)))
        .map(|(o, _)| o)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {results:?}");
    let won = keccak256(winners[0]);
    for (out, r) in &results {
        match r {
            Ok(Claim::Won) => {}
            Ok(Claim::Same { .. }) => assert_eq!(keccak256(out), won, "Same only for its output"),
            Err(SigningStoreError::Conflict { ours, claimed, .. }) => {
                assert_eq!(*ours, keccak256(out));
                assert_ne!(*ours, won);
                assert_eq!(claimed.output_hash, won, "the conflict names the winner");
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    let stored = store(pg, "reader")
        .statement(&slot(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.output_hash, won);
}

/// Many concurrent claims of one request, with two competing outputs: one winner, the rest `Same`
/// or refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_of_one_request_have_exactly_one_winner() {
    let pg = server();
    race(&pg, 1, 16, vec![b"left".to_vec(), b"right".to_vec()]).await;
}

/// Concurrent claims of one request through **one** store (one replica's answer jobs): they share
/// a statement, and a slot claimed twice in one statement still has exactly one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_of_one_request_through_one_store_have_exactly_one_winner() {
    let pg = server();
    let shared = Arc::new(store(&pg, "one"));
    for request in 1..=8 {
        race_with(
            &pg,
            100 + request,
            16,
            vec![b"left".to_vec(), b"right".to_vec()],
            |_| shared.clone(),
        )
        .await;
    }
}

/// A burst of claims and lookups from one store, more than one statement carries
/// ([`verinfer_keeper::signing_store::MAX_BATCH`]): every claim wins its own slot, and every lookup
/// gets its own slot's row (or none for a slot nobody claimed), never another caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_claims_and_lookups_through_one_store_each_get_their_own_slot() {
    use verinfer_keeper::signing_store::MAX_BATCH;
    let pg = server();
    let shared = Arc::new(store(&pg, "burst"));
    let n = 2 * MAX_BATCH as u64 + 17;
    let output = |r: u64| format!("output of {r}").into_bytes();
    let claims: Vec<_> = (0..n)
        .map(|r| {
            let s = shared.clone();
            tokio::spawn(async move { s.claim(&slot(5_000 + r), &output(r)).await })
        })
        .collect();
    for c in claims {
        assert_eq!(c.await.unwrap().unwrap(), Claim::Won);
    }
    // Claimed slots interleaved with slots nobody claimed.
    let lookups: Vec<_> = (0..n + 40)
        .map(|r| {
            let s = shared.clone();
            tokio::spawn(async move { (r, s.statement(&slot(5_000 + r)).await) })
        })
        .collect();
    for l in lookups {
        let (r, got) = l.await.unwrap();
        match got.unwrap() {
            Some(st) if r < n => {
                assert_eq!(st.output, output(r), "request {r} got its own row");
                assert_eq!(st.replica, "burst");
            }
            None if r >= n => {}
            other => panic!("request {r}: {other:?}"),
        }
    }
}

/// The same property over random task counts and output sets (proptest), one server, a fresh
/// request per case.
#[test]
fn any_concurrent_claims_have_exactly_one_winner() {
    use proptest::collection::vec;
    use proptest::test_runner::{Config, TestRunner};
    let pg = server();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let next = std::cell::Cell::new(1_000u64);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let cases = (2usize..12, vec(vec(any::<u8>(), 1..16), 1..4));
    runner
        .run(&cases, |(tasks, outputs)| {
            next.set(next.get() + 1);
            rt.block_on(race(&pg, next.get(), tasks, outputs));
            Ok(())
        })
        .unwrap();
}

/// A claimed request refuses a different output with the typed `Conflict` (carrying the stored
/// statement), accepts the same output again as `Same`, and another request (or the same id with a
/// different request digest: a reorg reused it) is a separate slot.
#[tokio::test]
async fn different_output_for_a_claimed_request_is_refused_with_a_typed_error() {
    let pg = server();
    let a = store(&pg, "a");
    let b = store(&pg, "b");
    assert_eq!(a.claim(&slot(7), b"one").await.unwrap(), Claim::Won);
    match b.claim(&slot(7), b"two").await {
        Err(SigningStoreError::Conflict {
            request, claimed, ..
        }) => {
            assert_eq!(request, U256::from(7u64));
            assert_eq!(claimed.output, b"one".to_vec());
            assert_eq!(claimed.replica, "a");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        b.claim(&slot(7), b"one").await.unwrap(),
        Claim::Same { signature: None }
    );
    let reused = Slot {
        request_digest: B256::repeat_byte(1),
        ..slot(7)
    };
    assert_eq!(b.claim(&reused, b"two").await.unwrap(), Claim::Won);
    assert_eq!(b.claim(&slot(8), b"two").await.unwrap(), Claim::Won);
}

fn attestation(request: u64, output: &[u8]) -> (Attestation, Slot) {
    let att = Attestation {
        operator: Address::repeat_byte(0x0a),
        requestId: U256::from(request),
        modelId: B256::repeat_byte(0x11),
        inputHash: B256::repeat_byte(0x22),
        outputHash: keccak256(output),
    };
    let s = Slot::of(31337, Address::repeat_byte(0xee), &att);
    (att, s)
}

/// Two replicas of one hot key with different outputs for one request: the first signs and records
/// its statement; the second adopts it (same attestation, same signature, the winner's output bytes)
/// and never signs its own output.
#[tokio::test]
async fn loser_adopts_the_stored_statement_instead_of_signing_its_own() {
    let pg = server();
    let key = HotKey::new(PrivateKeySigner::random());
    let domain = attest::domain(31337, Address::repeat_byte(0xee));
    let (a_att, s) = attestation(3, b"from a");
    let (b_att, _) = attestation(3, b"from b");
    let a = sign_once(
        &store(&pg, "a"),
        &key,
        &domain,
        &s,
        a_att.clone(),
        b"from a".to_vec(),
    )
    .await
    .unwrap();
    assert!(!a.adopted);
    assert_eq!(
        attest::recover(&a.att, &domain, &a.sig),
        Some(key.address())
    );
    let b = sign_once(
        &store(&pg, "b"),
        &key,
        &domain,
        &s,
        b_att,
        b"from b".to_vec(),
    )
    .await
    .unwrap();
    assert!(b.adopted);
    assert_eq!(b.att, a_att, "the statement of record, not b's");
    assert_eq!(b.sig, a.sig);
    assert_eq!(b.output, b"from a".to_vec());
    let stored = store(&pg, "r").statement(&s).await.unwrap().unwrap();
    assert_eq!(stored.signature, Some(a.sig));
}

/// A stored signature that is not the hot key's (a corrupted or foreign row) is refused, not used.
#[tokio::test]
async fn stored_signature_of_another_key_is_refused() {
    let pg = server();
    let key = HotKey::new(PrivateKeySigner::random());
    let other = HotKey::new(PrivateKeySigner::random());
    let domain = attest::domain(31337, Address::repeat_byte(0xee));
    let (att, s) = attestation(4, b"x");
    sign_once(
        &store(&pg, "a"),
        &other,
        &domain,
        &s,
        att.clone(),
        b"x".to_vec(),
    )
    .await
    .unwrap();
    let err = sign_once(&store(&pg, "b"), &key, &domain, &s, att, b"x".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, SigningStoreError::Corrupt { .. }), "{err}");
}

/// Fail-closed across a database restart: while the server is down a claim errors (nothing is
/// signed); once it is back the same store reconnects and the earlier claim still holds.
#[tokio::test]
async fn store_is_fail_closed_while_the_database_is_down_and_reconnects_after_restart() {
    let mut pg = server();
    let s = SigningStore::new(&pg.url(), "a", Duration::from_secs(2));
    assert_eq!(s.claim(&slot(1), b"one").await.unwrap(), Claim::Won);
    pg.stop().unwrap();
    let err = s.claim(&slot(2), b"two").await.unwrap_err();
    assert!(
        matches!(
            err,
            SigningStoreError::Unavailable { .. } | SigningStoreError::Timeout { .. }
        ),
        "{err}"
    );
    pg.start().unwrap();
    assert!(matches!(
        s.claim(&slot(1), b"other").await,
        Err(SigningStoreError::Conflict { .. })
    ));
    assert_eq!(s.claim(&slot(2), b"two").await.unwrap(), Claim::Won);
}

/// Whether `r` grants the lease.
fn granted(r: &LeaseHolder) -> Option<i64> {
    match r {
        LeaseHolder::Us { epoch } => Some(*epoch),
        LeaseHolder::Other(_) => None,
    }
}

/// Eight processes take one operator's sender lease at once, all configured with the same replica
/// name: exactly one holds it (the lease is keyed by a per-process id, not by the name), every
/// other is told who does; the holder renews it in the same epoch, and the lease of another
/// operator is separate.
#[tokio::test]
async fn concurrent_processes_take_the_sender_lease_one_at_a_time_even_under_one_name() {
    let pg = server();
    let operator = Address::repeat_byte(0x0a);
    let ttl = Duration::from_secs(30);
    let stores: Vec<Arc<SigningStore>> = (0..8).map(|_| Arc::new(store(&pg, "keeper"))).collect();
    let mut handles = Vec::new();
    for s in &stores {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let r = s.hold_lease(31337, operator, ttl).await.unwrap();
            (s.holder_id().to_string(), r)
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let holders: Vec<(&String, i64)> = results
        .iter()
        .filter_map(|(n, r)| granted(r).map(|e| (n, e)))
        .collect();
    assert_eq!(holders.len(), 1, "exactly one holder: {results:?}");
    let (holder, epoch) = (holders[0].0.clone(), holders[0].1);
    assert!(holder.starts_with("keeper/"), "{holder}");
    for (id, r) in &results {
        if *id != holder {
            assert_eq!(*r, LeaseHolder::Other(Some(holder.clone())), "{id}");
        }
    }
    let s = stores.iter().find(|s| s.holder_id() == holder).unwrap();
    assert_eq!(
        s.hold_lease(31337, operator, ttl).await.unwrap(),
        LeaseHolder::Us { epoch },
        "the holder renews in the same epoch"
    );
    let other = Address::repeat_byte(0x0b);
    assert!(
        granted(&store(&pg, "z").hold_lease(31337, other, ttl).await.unwrap()).is_some(),
        "another operator's lease is its own"
    );
}

/// Another process takes the lease only once it lapsed unrenewed (the database's clock), or at
/// once when the holder releases it on a clean stop; a release by a non-holder changes nothing.
/// Every change of holder raises the epoch; a holder that takes its own lapsed lease back with
/// nobody in between keeps its epoch.
#[tokio::test]
async fn the_sender_lease_passes_on_only_when_it_lapses_or_is_released() {
    let pg = server();
    let operator = Address::repeat_byte(0x0a);
    let (a, b) = (store(&pg, "a"), store(&pg, "b"));
    let short = Duration::from_millis(600);
    let e1 = granted(&a.hold_lease(1, operator, short).await.unwrap()).expect("a holds");
    assert_eq!(
        b.hold_lease(1, operator, short).await.unwrap(),
        LeaseHolder::Other(Some(a.holder_id().to_string())),
        "not before it lapses"
    );
    assert!(
        !b.release_lease(1, operator).await.unwrap(),
        "b holds nothing to release"
    );
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    assert_eq!(
        a.hold_lease(1, operator, short).await.unwrap(),
        LeaseHolder::Us { epoch: e1 },
        "lapsed but taken by nobody else: a takes it back in its own epoch"
    );
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    let e2 = granted(
        &b.hold_lease(1, operator, Duration::from_secs(60))
            .await
            .unwrap(),
    )
    .expect("b takes the lapsed lease");
    assert_eq!(e2, e1 + 1, "a new holder, a new epoch");
    assert_eq!(
        a.hold_lease(1, operator, short).await.unwrap(),
        LeaseHolder::Other(Some(b.holder_id().to_string())),
        "a lost it and cannot renew"
    );
    assert!(b.release_lease(1, operator).await.unwrap());
    assert_eq!(
        a.hold_lease(1, operator, short).await.unwrap(),
        LeaseHolder::Us { epoch: e2 + 1 },
        "released: taken at once, although b's 60 s have not passed"
    );
}

/// A lease call while the database is down is a typed error, never a lease (fail-closed).
#[tokio::test]
async fn the_sender_lease_is_never_granted_while_the_database_is_down() {
    let mut pg = server();
    let s = store(&pg, "a");
    s.connect().await.unwrap();
    pg.stop().unwrap();
    let r = s
        .hold_lease(1, Address::repeat_byte(0x0a), Duration::from_secs(5))
        .await;
    assert!(
        matches!(
            r,
            Err(SigningStoreError::Unavailable { .. } | SigningStoreError::Timeout { .. })
        ),
        "{r:?}"
    );
}
