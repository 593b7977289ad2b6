//! The cost of high availability per attestation: signing through the replicas' shared signing store
//! (claim, sign, record: two round trips to a private PostgreSQL on loopback) against signing alone
//! (docs/keeper.md, "High availability"). Needs PostgreSQL (script/setup.sh).

use std::cell::Cell;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use verinfer_keeper::attest::{self, HotKey};
use verinfer_keeper::signing_store::{sign_once, SigningStore, Slot};

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
    drop(pg);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
