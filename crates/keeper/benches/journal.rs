//! The keeper's journal (redb) on its hot paths, each beside the way it was done before, in the same
//! run: a chunk of 64 answers journaled in one write against row by row (a commit per output and per
//! published attestation, one for the intents), the open intents of a journal with a long
//! history read through the open index against a scan of every intent, and the passed deadlines
//! among many watched read through the time-ordered index against a scan of every deadline.

use alloy::primitives::{Address, Bytes, B256, U256};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use verinfer_keeper::store::{Intent, IntentKind, IntentStatus, PublishedRow, RequestFacts, Store};

/// Answers per chunk, as the keeper's collect stage journals them.
const CHUNK: u64 = 64;
/// Done intents in the long-history journal.
const HISTORY: u64 = 10_000;
/// Deadlines watched in the finalizer's journal, of which [`PASSED`] have passed.
const WATCHED: u64 = 10_000;
/// Passed deadlines among [`WATCHED`].
const PASSED: u64 = 16;

fn intent(i: u64, status: IntentStatus) -> Intent {
    Intent {
        key: Intent::key_for(
            IntentKind::Attest,
            &format!("{i}:{:#x}", B256::repeat_byte(1)),
            "0x07",
        ),
        kind: IntentKind::Attest,
        subject: Some(U256::from(i)),
        to: Some(Address::repeat_byte(9)),
        // A `submitAttestation` call's size.
        calldata: Bytes::from(vec![0xab; 292]),
        status,
        members: vec![],
        single_only: false,
    }
}

/// Chunk `n`'s outputs, intents and published rows.
fn chunk(n: u64) -> (Vec<Vec<u8>>, Vec<Intent>, Vec<PublishedRow>) {
    let ids = n * CHUNK..(n + 1) * CHUNK;
    let outputs = ids.clone().map(|i| i.to_be_bytes().to_vec()).collect();
    let intents = ids
        .clone()
        .map(|i| intent(i, IntentStatus::Pending))
        .collect();
    let published = ids
        .map(|i| PublishedRow {
            request_id: U256::from(i),
            output_hash: alloy::primitives::keccak256(i.to_be_bytes()),
            json: vec![b'x'; 400],
        })
        .collect();
    (outputs, intents, published)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(CHUNK));
    let store = Store::open(&dir.path().join("answers.redb")).expect("a new journal");
    let mut n = 0;
    g.bench_function("answers_64_one_write", |b| {
        b.iter_batched(
            || {
                n += 1;
                chunk(n)
            },
            |(outputs, intents, published)| {
                let outputs: Vec<&[u8]> = outputs.iter().map(Vec::as_slice).collect();
                store.journal_answers(&outputs, &intents, &published)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("answers_64_row_by_row", |b| {
        b.iter_batched(
            || {
                n += 1;
                chunk(n)
            },
            |(outputs, intents, published)| -> Result<(), verinfer_keeper::store::StoreError> {
                for o in &outputs {
                    store.put_output(o)?;
                }
                store.insert_intents_if_absent(&intents)?;
                for p in &published {
                    store.put_published(p)?;
                }
                Ok(())
            },
            BatchSize::SmallInput,
        )
    });

    // A journal with a long history: HISTORY done intents and one chunk still open.
    let history = Store::open(&dir.path().join("history.redb")).expect("a new journal");
    let done = IntentStatus::Done {
        tx_hash: None,
        gas_used: Some(31_000),
    };
    let old: Vec<Intent> = (0..HISTORY).map(|i| intent(i, done.clone())).collect();
    history.put_intents(&old).expect("history written");
    let open: Vec<Intent> = (HISTORY..HISTORY + CHUNK)
        .map(|i| intent(i, IntentStatus::Pending))
        .collect();
    history.put_intents(&open).expect("open chunk written");
    g.bench_function("open_intents_of_10000_through_the_index", |b| {
        b.iter(|| history.open_intents())
    });
    g.bench_function("open_intents_of_10000_by_scanning_all", |b| {
        b.iter(|| {
            history
                .intents()
                .map(|all| all.into_iter().filter(Intent::is_open).count())
        })
    });

    // A finalizer's journal: WATCHED deadlines, PASSED of them before `now`.
    let finalizer = Store::open(&dir.path().join("finalizer.redb")).expect("a new journal");
    let now = 1_000_000;
    let requests: Vec<(U256, RequestFacts)> = (0..WATCHED)
        .map(|i| {
            let deadline = if i % (WATCHED / PASSED) == 0 {
                now - 1
            } else {
                now + i
            };
            let facts = RequestFacts {
                model_id: B256::repeat_byte(1),
                input_hash: B256::repeat_byte(2),
                input_uri: "0x00".into(),
                deadline,
            };
            (U256::from(i), facts)
        })
        .collect();
    finalizer
        .put_requests(&requests, true)
        .expect("deadlines watched");
    g.throughput(Throughput::Elements(PASSED));
    g.bench_function("deadlines_passed_16_of_10000_through_the_index", |b| {
        b.iter(|| finalizer.deadlines_passed(now, usize::MAX))
    });
    g.bench_function("deadlines_passed_16_of_10000_by_scanning_all", |b| {
        b.iter(|| {
            finalizer
                .deadlines()
                .map(|all| all.into_iter().filter(|(_, dl)| *dl < now).count())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
