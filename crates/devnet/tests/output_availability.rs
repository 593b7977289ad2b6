//! An availability challenge of an honest result is answered by the keepers that attested it: they
//! publish the bytes on chain (`deliverOutput`), so the result stands and any client can read the
//! verified bytes from the chain.

use std::time::{Duration, Instant};

use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::InferenceRegistry;
use verinfer_client::outputs::OutputSource;
use verinfer_client::requests::Outcome;
use verinfer_devnet::{Devnet, DevnetConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_answer_an_availability_challenge_by_publishing_the_bytes() {
    let root = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig::serving_in(root.path())).expect("anvil starts");
    let (d, _ops, keepers) = devnet.serving().await.expect("a serving network");
    let client = &d.deployer;
    let input = vec![3u8; 64];
    let sent = client
        .submit_request(d.model_id, &input, verinfer_bindings::units::tokens(1), 600)
        .await
        .expect("request");
    let Outcome::Result(view) = client
        .wait_result(sent.id, Duration::from_secs(60))
        .await
        .expect("result")
    else {
        panic!("disputed")
    };
    assert_eq!(RequestStatus::of(view.status), Some(RequestStatus::Quorum));

    // Nothing is on chain yet: the bytes come from a keeper.
    let before = client
        .result_output(sent.id, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(matches!(before.source, OutputSource::Keeper { .. }));

    // A challenger bonds an availability challenge.
    let registry = d.contract("InferenceRegistry").unwrap();
    let model = InferenceRegistry::new(registry, client.provider())
        .model(d.model_id)
        .call()
        .await
        .unwrap();
    client
        .approve(registry, model.params.challengeBond)
        .await
        .unwrap();
    client
        .send(
            "requestOutput",
            registry,
            &InferenceRegistry::requestOutputCall { requestId: sent.id },
        )
        .await
        .expect("availability challenge");

    // The keepers publish the bytes; the chain now has them, verified against the result.
    let deadline = Instant::now() + Duration::from_secs(60);
    let published = loop {
        let got = client
            .result_output(sent.id, Duration::from_secs(5))
            .await
            .unwrap();
        if let OutputSource::Chain { .. } = got.source {
            break got;
        }
        assert!(Instant::now() < deadline, "no keeper published the output");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(published.bytes, before.bytes);
    assert_eq!(published.hash, view.output);
    let delivery = InferenceRegistry::new(registry, client.provider())
        .delivery(sent.id)
        .call()
        .await
        .unwrap();
    assert_eq!(
        delivery.outputChallenger,
        alloy::primitives::Address::ZERO,
        "the challenge is answered"
    );
    let _ = keepers.stop().await;
}
