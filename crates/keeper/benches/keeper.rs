//! Micro-benchmarks: EIP-712 attestation signing and recovery (k256), Merkle batch construction and
//! the built-in model (the digits classifier: inferences per second).

use alloy::primitives::{keccak256, Address, U256};
use alloy::signers::local::PrivateKeySigner;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use verinfer_keeper::attest::{self, HotKey};
use verinfer_keeper::merkle::{leaf, MerkleTree};
use verinfer_mlp::dataset::{evaluate, TestSplit};
use verinfer_mlp::IntMlp;

mod common;
use common::att;

fn bench(c: &mut Criterion) {
    let key = HotKey::new(PrivateKeySigner::random());
    let domain = attest::domain(31337, Address::repeat_byte(9));
    let a = att(1);
    let sig = key.sign_attestation(&a, &domain).unwrap_or([0; 65]);

    let mut g = c.benchmark_group("attestation");
    g.throughput(Throughput::Elements(1));
    g.bench_function("eip712_digest", |b| {
        b.iter(|| attest::digest(black_box(&a), &domain))
    });
    g.bench_function("k256_sign", |b| {
        b.iter(|| key.sign_attestation(black_box(&a), &domain))
    });
    g.bench_function("k256_recover", |b| {
        b.iter(|| attest::recover(black_box(&a), &domain, &sig))
    });
    g.finish();

    let mut g = c.benchmark_group("merkle");
    let leaves: Vec<_> = (0..1024u64)
        .map(|i| {
            leaf(
                Address::repeat_byte(7),
                U256::from(i),
                keccak256(i.to_be_bytes()),
            )
        })
        .collect();
    g.throughput(Throughput::Elements(1024));
    g.bench_function("build_1024", |b| {
        b.iter(|| MerkleTree::new(black_box(leaves.clone())))
    });
    g.finish();

    // The built-in digits classifier (64 -> 32 -> 16 -> 10) on the committed test split: one
    // inference per iteration, the images taken in turn so no single input is favoured.
    let model = IntMlp::builtin().expect("the built-in model parses");
    let split = TestSplit::digits().expect("the digits test split parses");
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("digits_mlp_infer", |b| {
        b.iter(|| {
            i += 1;
            model.infer(black_box(&split.cycle(i).input))
        })
    });
    g.throughput(Throughput::Elements(split.len() as u64));
    g.bench_function("digits_mlp_eval_test_split", |b| {
        b.iter(|| evaluate(&model, black_box(&split)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
