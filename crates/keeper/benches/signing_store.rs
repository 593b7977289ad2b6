//! The cost of high availability per attestation: signing through the replicas' shared signing store
//! (a private, durable PostgreSQL on loopback) against signing alone (docs/keeper.md, "High
//! availability"). One attestation at a time, and bursts of [`BURST`] answers at once as a keeper
//! answers a log range: the holder's path (is the slot claimed? no: sign and claim it) and the
//! standby's (the slot is claimed: adopt the statement). Needs PostgreSQL (script/setup.sh).

use std::cell::Cell;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use verinfer_keeper::attest::{self, HotKey};
use verinfer_keeper::signing_store::{adopt_claimed, sign_once, SigningStore, Slot};

/// Answers per burst: a keeper journals the answers of up to 64 assignments together.
const BURST: u64 = 64;

mod common;
use common::att;

fn bench(c: &mut Criterion) {
    let pg = verinfer_devnet::postgres::spawn(verinfer_devnet::postgres::Durability::Durable)
        .unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let key = HotKey::new(PrivateKeySigner::random());
    let registry = Address::repeat_byte(9);
    let domain = attest::domain(31337, registry);
    let store = SigningStore::new(&pg.url(), "bench", Duration::from_secs(5));
    let next = Cell::new(0u64);

    let mut g = c.benchmark_group("signing_store");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign_alone", |b| {
        b.iter(|| {
            next.set(next.get() + 1);
            key.sign_attestation(&att(next.get()), &domain)
        })
    });
    g.bench_function("sign_once_postgres", |b| {
        b.iter(|| {
            next.set(next.get() + 1);
            let a = att(next.get());
            let slot = Slot::of(31337, registry, &a);
            let output = (next.get() + 1).to_be_bytes().to_vec();
            rt.block_on(sign_once(&store, &key, &domain, &slot, a, output))
        })
    });
    g.finish();

    let standby = SigningStore::new(&pg.url(), "standby", Duration::from_secs(5));
    let mut g = c.benchmark_group("signing_store_burst");
    g.throughput(Throughput::Elements(BURST));
    // The holder: each answer asks whether its slot is claimed, then signs and claims it.
    let answered = std::cell::RefCell::new(Vec::new());
    g.bench_function("answer_burst_64", |b| {
        b.iter(|| {
            let first = next.get() + 1;
            next.set(next.get() + BURST);
            let answers = (first..first + BURST).map(|n| {
                let (store, key, domain) = (&store, &key, &domain);
                async move {
                    let a = att(n);
                    let slot = Slot::of(31337, registry, &a);
                    let claimed = adopt_claimed(store, key, domain, &slot, a.clone()).await?;
                    assert!(claimed.is_none(), "a fresh slot");
                    sign_once(store, key, domain, &slot, a, (n + 1).to_be_bytes().to_vec()).await
                }
            });
            let done = rt.block_on(futures::future::try_join_all(answers));
            answered.borrow_mut().push(first);
            done
        })
    });
    // The standby: each of the same answers finds its slot claimed and adopts the statement.
    let bursts = answered.borrow().clone();
    let round = Cell::new(0usize);
    g.bench_function("adopt_burst_64", |b| {
        b.iter(|| {
            let first = bursts[round.get() % bursts.len()];
            round.set(round.get() + 1);
            let adopted = (first..first + BURST).map(|n| {
                let (standby, key, domain) = (&standby, &key, &domain);
                async move {
                    let a = att(n);
                    let slot = Slot::of(31337, registry, &a);
                    adopt_claimed(standby, key, domain, &slot, a).await
                }
            });
            rt.block_on(futures::future::try_join_all(adopted))
        })
    });
    g.finish();
    drop(pg);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
