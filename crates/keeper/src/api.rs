//! The keeper's HTTP endpoints, on axum:
//!
//! - the **operations** router (loopback only): `/metrics` (Prometheus) and `/health`;
//! - the **outputs** router (public): `GET /v1/outputs/<outputHash>`, the bytes of every output this
//!   keeper attested, so clients, watchers and challengers can fetch what a hash stands for and check
//!   it (`keccak256(body) == outputHash`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use alloy::primitives::B256;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::METRICS;
use crate::store::Store;

/// The path prefix of the outputs API.
pub const OUTPUTS_PATH: &str = "/v1/outputs";

/// A JSON error body: `{"error": "...", "detail": "..."}`.
#[derive(Debug, Serialize)]
struct ApiError {
    error: &'static str,
    detail: String,
}

fn error(status: StatusCode, error: &'static str, detail: String) -> Response {
    (status, Json(ApiError { error, detail })).into_response()
}

/// `/metrics` and `/health`.
pub fn operations_router() -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        METRICS.render(),
    )
}

async fn health() -> Response {
    if METRICS.healthy.load(Ordering::Relaxed) {
        let body = serde_json::json!({
            "status": "ok",
            "cursor": METRICS.cursor_block.get(),
            "head": METRICS.head_block.get(),
        });
        (StatusCode::OK, Json(body)).into_response()
    } else {
        let body = serde_json::json!({"status": "starting-or-degraded"});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// `GET /v1/outputs/<outputHash>` over `store`.
pub fn outputs_router(store: Arc<Store>) -> Router {
    Router::new()
        .route(&format!("{OUTPUTS_PATH}/{{hash}}"), get(output))
        .with_state(store)
}

async fn output(State(store): State<Arc<Store>>, Path(hash): Path<String>) -> Response {
    let Ok(hash) = hash.parse::<B256>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_hash",
            format!("`{hash}` is not a 32-byte hex output hash"),
        );
    };
    let found = tokio::task::spawn_blocking(move || store.output(&hash.0)).await;
    match found {
        Ok(Ok(Some(bytes))) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            "unknown_output",
            format!("this keeper attested no output with hash {hash}"),
        ),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "task", e.to_string()),
    }
}

/// Serves `router` on `addr` until `shutdown` flips to true; returns the bound address (useful with
/// port 0).
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        let stop = async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!(error = %e, %local, "HTTP server stopped");
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&out[..split]).into_owned(),
            out[split + 4..].to_vec(),
        )
    }

    #[tokio::test]
    async fn serves_metrics_and_health() {
        let (tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), operations_router(), rx)
            .await
            .unwrap();
        METRICS.fee_bumps.inc();
        let (head, body) = get(addr, "/metrics").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(String::from_utf8_lossy(&body)
            .contains("# TYPE verinfer_keeper_fee_bumps_total counter"));
        METRICS.healthy.store(true, Ordering::Relaxed);
        let (_, body) = get(addr, "/health").await;
        assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));
        assert!(get(addr, "/nope").await.0.starts_with("HTTP/1.1 404"));
        let _ = tx.send(true);
    }

    #[tokio::test]
    async fn serves_stored_outputs_by_hash_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("k.redb")).unwrap());
        let hash = B256::from(store.put_output(b"\x00\xffbinary output").unwrap());
        let (tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), outputs_router(store), rx)
            .await
            .unwrap();
        let (head, body) = get(addr, &format!("{OUTPUTS_PATH}/{hash}")).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"\x00\xffbinary output");
        assert_eq!(alloy::primitives::keccak256(&body), hash);
        let (head, body) = get(addr, &format!("{OUTPUTS_PATH}/{}", B256::repeat_byte(7))).await;
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("unknown_output"));
        let (head, body) = get(addr, &format!("{OUTPUTS_PATH}/zz")).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("bad_hash"));
        let _ = tx.send(true);
    }
}
