//! The smallest devnet `verinfer devnet` accepts (`--operators 3`), driven as a fixture up to its
//! traffic: no operator equivocates (jailing it would leave fewer operators than a request needs), so
//! every request is assigned and answered; and keepers halted after a phase are gone before the
//! chain is.

use verinfer_devnet::operators::Behaviour;
use verinfer_devnet::{Devnet, DevnetConfig};
use verinfer_keeper::store::Store;

const REQUESTS: usize = 4;

/// Regression: with 3 operators, operator 1 equivocated and was jailed, leaving 2 operators for a
/// model that assigns 3, so the requests after it reverted with `InsufficientOperators`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_operators_answer_every_request_and_halted_keepers_release_their_journals() {
    let root = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig {
        operators: 3,
        requests: REQUESTS,
        root: root.path().to_path_buf(),
        data_dir: Some(root.path().join("keepers")),
        ..DevnetConfig::default()
    })
    .expect("anvil starts");
    let behaviours: Vec<Behaviour> = devnet
        .operator_specs()
        .unwrap()
        .iter()
        .map(|s| s.behaviour)
        .collect();
    assert_eq!(
        behaviours,
        [Behaviour::Honest, Behaviour::Honest, Behaviour::Offline]
    );
    let (d, _ops, mut keepers) = devnet.serving().await.expect("a serving network");
    let traffic = devnet.traffic(&d, &mut keepers).await.expect("traffic");
    assert_eq!(traffic.sent.len(), REQUESTS);
    assert_eq!(traffic.with_result, REQUESTS);

    // Halted (as after a failed phase), every keeper task is over: its journal is free to open.
    let run = keepers.halt().await;
    assert_eq!(run.journals.len(), 2, "op0 and op1 run keepers");
    for (index, journal) in &run.journals {
        Store::open(journal).unwrap_or_else(|e| panic!("op{index}'s journal still held: {e}"));
    }
}
