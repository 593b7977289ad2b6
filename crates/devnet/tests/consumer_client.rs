//! The client library's consumer path on a serving devnet: a request naming a consumer contract,
//! watched as a stream of status changes until a keeper delivered its final callback, an early
//! callback delivered at quorum; and the bad
//! inputs refused with typed errors before anything is sent.

use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use futures::StreamExt;
use verinfer_bindings::types::{CallbackState, RequestStatus};
use verinfer_bindings::units::tokens;
use verinfer_bindings::VerinferToken;
use verinfer_client::requests::Callback;
use verinfer_client::ClientError;
use verinfer_devnet::{Devnet, DevnetConfig};

/// A valid input of the built-in digits classifier: 64 pixels, all 0.
const INPUT: [u8; 64] = [0; 64];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_requests_stream_to_a_delivered_callback_early_ones_are_called_at_quorum_and_bad_callbacks_are_refused_before_sending(
) {
    let root = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig::serving_in(root.path())).expect("anvil starts");
    let (d, _ops, keepers) = devnet.serving().await.expect("a serving network");
    let consumers = devnet.deploy_consumers(&d).await.expect("consumers");
    let client = devnet
        .client(devnet.dev_signer(9).unwrap(), &d.manifest_path)
        .await
        .unwrap();
    d.deployer
        .send(
            "fund",
            d.contract("VerinferToken").unwrap(),
            &VerinferToken::transferCall {
                to: client.sender(),
                value: tokens(10),
            },
        )
        .await
        .unwrap();

    // bad input: each a typed error, and the sender's nonce shows nothing was sent (not even the approval)
    let nonce = || async {
        devnet
            .provider()
            .get_transaction_count(client.sender())
            .await
            .unwrap()
    };
    let before = nonce().await;
    let submit = |cb: Callback| {
        let client = client.clone();
        let model = d.model_id;
        async move {
            client
                .submit_request_with_callback(model, &INPUT, tokens(1), 300, cb)
                .await
        }
    };
    let eoa = Address::repeat_byte(0x42);
    assert!(matches!(
        submit(Callback::new(eoa, 100_000)).await,
        Err(ClientError::ConsumerNotContract { consumer }) if consumer == eoa
    ));
    assert!(matches!(
        submit(Callback::new(consumers.recorder, 2_500_001)).await,
        Err(ClientError::CallbackGasOutOfRange {
            gas_limit: 2_500_001,
            max: 2_500_000,
            ..
        })
    ));
    assert!(matches!(
        submit(Callback::new(consumers.recorder, 9_999)).await,
        Err(ClientError::CallbackGasOutOfRange { min: 10_000, .. })
    ));
    let low = Callback {
        fee: Some(U256::from(1)),
        ..Callback::new(consumers.recorder, 100_000)
    };
    assert!(matches!(
        submit(low).await,
        Err(ClientError::CallbackFeeTooLow { fee, required }) if fee == U256::from(1) && required > fee
    ));
    assert_eq!(nonce().await, before, "nothing was sent");

    // a good request, watched until settled: the keepers finalize after the warp and deliver
    let sent = submit(Callback::new(consumers.recorder, 100_000))
        .await
        .expect("submitted");
    let watch = client.watch_request(
        sent.id,
        Duration::from_millis(200),
        Duration::from_secs(120),
    );
    let mut stream = Box::pin(watch.into_stream());
    let mut seen = Vec::new();
    let mut warped = false;
    while let Some(update) = stream.next().await {
        let u = update.expect("no watch error");
        seen.push((u.status, u.callback));
        if u.status == RequestStatus::Quorum && !warped {
            devnet
                .warp(u64::from(devnet.config().model.challenge_window) + 400)
                .await
                .unwrap();
            warped = true;
        }
    }
    assert_eq!(
        seen.last(),
        Some(&(RequestStatus::Finalized, CallbackState::Delivered)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(RequestStatus::Quorum, CallbackState::Pending)),
        "{seen:?}"
    );
    // the output in the client's hands matches what the consumer recorded
    let out = client
        .result_output(sent.id, Duration::from_secs(5))
        .await
        .unwrap();
    let recorder = verinfer_bindings::ScriptedConsumer::new(consumers.recorder, devnet.provider());
    assert_eq!(
        recorder.outputHashOf(sent.id).call().await.unwrap(),
        out.hash
    );
    // the result still satisfies the old wait
    assert!(client
        .wait_result(sent.id, Duration::from_secs(1))
        .await
        .is_ok());

    // an early callback: a keeper calls the consumer back at quorum, inside the challenge window
    let early = submit(Callback {
        early: true,
        ..Callback::new(consumers.recorder, 100_000)
    })
    .await
    .expect("submitted with an early callback");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let u = loop {
        let u = client.request_update(early.id).await.unwrap();
        if u.early_done || std::time::Instant::now() > deadline {
            break u;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(u.early_done, "{u:?}");
    assert_eq!(
        u.status,
        RequestStatus::Quorum,
        "provisional: the window is still open"
    );
    assert_eq!(
        u.callback,
        CallbackState::Pending,
        "the final callback is still to come"
    );
    assert_eq!(
        recorder.outputHashOf(early.id).call().await.unwrap(),
        u.output
    );
    let _ = keepers.stop().await;
}
