//! Criterion bench of the in-process protocol mix (the JSON-RPC comparison is in
//! `examples/bench_mix.rs`, which needs a local anvil).

use criterion::{criterion_group, criterion_main, Criterion};

fn mix(c: &mut Criterion) {
    let mut g = c.benchmark_group("revm-mix");
    g.sample_size(10);
    for n in [100usize, 1_000] {
        g.bench_function(format!("{n}-stakers"), |b| {
            b.iter(|| {
                verinfer_sim::throughput::run_in_process(n)
                    .map(|r| r.transactions)
                    .unwrap_or(0)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, mix);
criterion_main!(benches);
