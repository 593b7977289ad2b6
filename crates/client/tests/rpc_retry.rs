//! The provider of `verinfer_client::rpc` against a real node: it waits out a node that is down for
//! a moment, gives up on a call the node never answers (and retries it), and never resends a call
//! that reverts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Bytes;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::transports::http::reqwest;
use axum::extract::State;
use axum::http::StatusCode;
use verinfer_client::rpc::{http_provider, RetryConfig, RpcFailure};
use verinfer_devnet::anvil::{self, AnvilOptions};

/// Init code that reverts at once: `PUSH1 0 PUSH1 0 REVERT`.
const REVERTING_INIT_CODE: [u8; 5] = [0x60, 0x00, 0x60, 0x00, 0xfd];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waits_out_a_node_that_is_down_for_a_moment() {
    let node = anvil::spawn(&AnvilOptions::new()).expect("the pinned anvil starts");
    let port = node.port();
    let url: reqwest::Url = node.endpoint().parse().unwrap();
    drop(node); // the node is down

    // Without retries the call fails at once, as unreachable.
    let once = http_provider(url.clone(), RetryConfig::NONE);
    let err = once.get_block_number().await.unwrap_err();
    assert_eq!(RpcFailure::of(&err), RpcFailure::Unreachable, "{err}");

    // With retries it is still trying when the node comes back, and then succeeds.
    let retrying = http_provider(
        url,
        RetryConfig {
            retries: 40,
            backoff: Duration::from_millis(250),
            ..RetryConfig::default()
        },
    );
    let call = tokio::spawn(async move { retrying.get_block_number().await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !call.is_finished(),
        "the call gave up while the node was down"
    );
    let _node = anvil::spawn(&AnvilOptions::new().port(port)).expect("anvil restarts on its port");
    let block = call
        .await
        .unwrap()
        .expect("the call succeeds once the node is back");
    assert_eq!(block, 0);
}

/// Forwards every JSON-RPC request to `upstream`, counting them.
async fn forward(
    State((upstream, count)): State<(String, Arc<AtomicUsize>)>,
    body: axum::body::Bytes,
) -> (StatusCode, Vec<u8>) {
    count.fetch_add(1, Ordering::SeqCst);
    let sent = reqwest::Client::new()
        .post(upstream)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match sent {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            (status, r.bytes().await.unwrap().to_vec())
        }
        Err(_) => (StatusCode::BAD_GATEWAY, Vec::new()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_reverts_is_sent_once() {
    let node = anvil::spawn(&AnvilOptions::new()).expect("the pinned anvil starts");
    let count = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route("/", axum::routing::post(forward))
        .with_state((node.endpoint(), Arc::clone(&count)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let p = http_provider(proxy.parse().unwrap(), RetryConfig::default());
    assert_eq!(p.get_block_number().await.unwrap(), 0);
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let deploy =
        TransactionRequest::default().input(Bytes::from(REVERTING_INIT_CODE.to_vec()).into());
    let err = p.call(deploy).await.unwrap_err();
    assert_eq!(RpcFailure::of(&err), RpcFailure::Reverted, "{err}");
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "the reverting call was resent"
    );
}

/// A node that takes a call and never answers it: each attempt gives up after the configured
/// timeout as a `Timeout` (transient, so retried), instead of waiting forever; the retries then
/// reach the node once it answers again. Regression (issue #15, "an RPC that times out"): the
/// provider had no timeout, and a keeper's log poll waited forever on one hung call.
#[tokio::test]
async fn a_call_the_node_never_answers_times_out_and_is_retried() {
    let node = anvil::spawn(&AnvilOptions::new()).expect("the pinned anvil starts");
    let proxy = verinfer_devnet::rpc_fault::FaultyRpc::start(&node.endpoint())
        .await
        .unwrap();
    proxy.set("eth_blockNumber", verinfer_devnet::rpc_fault::Fault::Hang);
    let cfg = RetryConfig {
        timeout: Duration::from_millis(300),
        ..RetryConfig::NONE
    };
    let once = http_provider(proxy.url().parse().unwrap(), cfg);
    let err = tokio::time::timeout(Duration::from_secs(10), once.get_block_number())
        .await
        .expect("the attempt gives up by its own timeout")
        .unwrap_err();
    assert_eq!(RpcFailure::of(&err), RpcFailure::Timeout, "{err}");

    let retrying = http_provider(
        proxy.url().parse().unwrap(),
        RetryConfig {
            retries: 20,
            backoff: Duration::from_millis(50),
            timeout: Duration::from_millis(300),
        },
    );
    let calls = proxy.count("eth_blockNumber");
    let call = tokio::spawn(async move { retrying.get_block_number().await });
    assert!(
        proxy
            .called_more_than("eth_blockNumber", calls + 1, Duration::from_secs(10))
            .await,
        "the hung attempt was given up on and retried"
    );
    proxy.clear("eth_blockNumber");
    let head = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("answered once the node answers")
        .unwrap();
    assert!(head.is_ok(), "{head:?}");
}
