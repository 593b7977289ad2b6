//! Fetching outputs from keepers: every source is checked against the output hash, and a keeper that
//! is down, lacks the output, serves a tampered copy or too many bytes is skipped for the next one.

use std::net::SocketAddr;
use std::time::Duration;

use alloy::primitives::{keccak256, B256};
use axum::routing::get;
use axum::Router;
use verinfer_client::outputs::{fetch_output, SourceError, MAX_OUTPUT_BYTES};

/// Serves `body` (with `status`) for every output path; returns the base URL.
async fn keeper(status: u16, body: Vec<u8>) -> String {
    let router = Router::new().route(
        "/v1/outputs/{hash}",
        get(move || {
            let body = body.clone();
            async move { (axum::http::StatusCode::from_u16(status).unwrap(), body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A base URL nobody listens on.
fn down() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn tampered_missing_and_down_sources_are_skipped_for_an_honest_one() {
    let output = b"the model's real output".to_vec();
    let hash = keccak256(&output);
    let tampered = keeper(200, b"a forged output".to_vec()).await;
    let missing = keeper(404, b"{\"error\":\"unknown_output\"}".to_vec()).await;
    let honest = keeper(200, output.clone()).await;
    let sources = vec![down(), tampered.clone(), missing, honest.clone()];
    let got = fetch_output(hash, &sources, T).await.unwrap();
    assert_eq!(got.bytes, output);
    assert_eq!(got.hash, hash);
    assert!(got.source.starts_with(&honest), "{}", got.source);
}

#[tokio::test]
async fn no_honest_source_is_an_error_listing_every_attempt() {
    let hash = keccak256(b"real");
    let tampered = keeper(200, b"forged".to_vec()).await;
    let missing = keeper(404, Vec::new()).await;
    let err = fetch_output(hash, &[down(), tampered, missing], T)
        .await
        .unwrap_err();
    assert_eq!(err.hash, hash);
    assert!(matches!(err.attempts[0], SourceError::Unreachable { .. }));
    match &err.attempts[1] {
        SourceError::Tampered { got, .. } => assert_eq!(*got, keccak256(b"forged")),
        other => panic!("expected Tampered, got {other:?}"),
    }
    assert!(matches!(
        err.attempts[2],
        SourceError::Status { status: 404, .. }
    ));
    assert!(err.to_string().contains("unavailable"), "{err}");
    let none = fetch_output(B256::ZERO, &[], T).await.unwrap_err();
    assert!(none.to_string().contains("no source"), "{none}");
}

#[tokio::test]
async fn an_oversized_response_is_refused_without_buffering_it_all() {
    let huge = vec![7u8; MAX_OUTPUT_BYTES + 1];
    let hash = keccak256(&huge);
    let big = keeper(200, huge).await;
    let err = fetch_output(hash, &[big], T).await.unwrap_err();
    assert!(
        matches!(err.attempts[0], SourceError::TooLarge { .. }),
        "{err}"
    );
}
