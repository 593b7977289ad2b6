//! The keeper's HTTP endpoints, on axum:
//!
//! - the **operations** router (loopback only): `/metrics` (Prometheus) and `/health`;
//! - the **outputs** router (public): `GET /v1/outputs/<outputHash>`, the bytes of every output this
//!   keeper attested, so clients, watchers and challengers can fetch what a hash stands for and check
//!   it (`keccak256(body) == outputHash`); and `GET /v1/attestations/<requestId>`, every attestation
//!   this keeper signed and published for that request (JSON `[{att, sig}]`), which peer watchers in
//!   other processes fetch to catch an equivocation.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use alloy::primitives::B256;
use alloy::providers::{Provider, RootProvider};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::KeeperConfig;
use crate::metrics::Metrics;
use crate::store::Store;

/// The path prefix of the outputs API.
pub const OUTPUTS_PATH: &str = "/v1/outputs";
/// The path prefix of the published-attestations API.
pub const ATTESTATIONS_PATH: &str = "/v1/attestations";

/// A JSON error body: `{"error": "...", "detail": "..."}`.
#[derive(Debug, Serialize)]
struct ApiError {
    error: &'static str,
    detail: String,
}

fn error(status: StatusCode, error: &'static str, detail: String) -> Response {
    (status, Json(ApiError { error, detail })).into_response()
}

/// When `/health` calls a keeper unhealthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Most blocks the log cursor may trail the real chain head (beyond the confirmation depth).
    pub max_lag_blocks: u64,
    /// Oldest an in-flight transaction may be.
    pub max_inflight_age: Duration,
    /// Longest time since the last successful log poll.
    pub max_poll_age: Duration,
}

impl HealthPolicy {
    /// The thresholds for a keeper configured as `cfg`: the cursor may trail the head by the
    /// confirmation depth plus `health_max_lag_blocks`; a transaction is stuck once it has waited two
    /// receipt deadlines (at least one fee bump did not help); the poll loop is stalled after ten poll
    /// intervals (at least 30 s).
    pub fn for_config(cfg: &KeeperConfig) -> Self {
        Self {
            max_lag_blocks: cfg.confirmations + cfg.health_max_lag_blocks,
            max_inflight_age: Duration::from_secs(cfg.submit.receipt_timeout_secs * 2),
            max_poll_age: (cfg.poll_interval * 10).max(Duration::from_secs(30)),
        }
    }
}

/// What a keeper's `/health` looks at: its metrics, its node and its thresholds.
#[derive(Clone, Debug)]
pub struct HealthSource {
    /// The keeper's metrics registry.
    pub metrics: Arc<Metrics>,
    /// Its node, asked for the real chain head on every `/health`.
    pub provider: RootProvider,
    /// Its thresholds.
    pub policy: HealthPolicy,
    /// Its inference backends, probed on every `/health` (a model server that is down means the
    /// keeper cannot compute, so it cannot answer).
    pub backends: Arc<crate::backend::Backends>,
}

/// The `/health` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// `"ok"` or `"unhealthy"`.
    pub status: &'static str,
    /// Last block whose logs were handled.
    pub cursor: u64,
    /// The chain head, as the node reports it now (`None`: the node did not answer).
    pub head: Option<u64>,
    /// `head - cursor`.
    pub lag: Option<u64>,
    /// Open journal intents (the execute stage's queue).
    pub open_intents: u64,
    /// Transactions in flight.
    pub inflight: usize,
    /// Age of the oldest in-flight transaction, seconds.
    pub oldest_inflight_secs: Option<u64>,
    /// Seconds since the last successful log poll.
    pub last_poll_secs: Option<u64>,
    /// Backends that cannot compute: `model id: why`.
    pub backends_down: Vec<String>,
    /// The hot key's balance, wei (decimal; `None`: not read yet).
    pub hot_key_balance_wei: Option<String>,
    /// Problems with the operator's standing on chain (not registered, wrong signer, nothing served,
    /// gas below the floor, jailed, ...), each with its fix.
    pub standing: Vec<String>,
    /// Replicas only: whether this replica holds its operator's sender lease (and sends) or stands
    /// by (healthy either way); absent for a single keeper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_lease_held: Option<bool>,
    /// Why it is unhealthy (empty when ok).
    pub reasons: Vec<String>,
}

/// Judges a keeper by `policy` from its metrics and the real chain `head` (pure; the handler asks
/// the node).
pub fn assess(
    metrics: &Metrics,
    head: Option<u64>,
    backends_down: &[(alloy::primitives::B256, String)],
    policy: &HealthPolicy,
) -> HealthReport {
    let cursor = metrics.cursor_block.get();
    let lag = head.map(|h| h.saturating_sub(cursor));
    let oldest = metrics.oldest_inflight();
    let last_poll = metrics.since_last_poll();
    let mut reasons = Vec::new();
    match lag {
        None => reasons.push("chain head unavailable: the node does not answer".to_string()),
        Some(l) if l > policy.max_lag_blocks => reasons.push(format!(
            "log cursor {cursor} trails the chain head by {l} blocks (> {})",
            policy.max_lag_blocks
        )),
        Some(_) => {}
    }
    // A head below the blocks the keeper already handled: the node answers from an old state (a
    // lagging node behind a load balancer, a node resyncing); what it reports cannot be trusted.
    if let Some(h) = head.filter(|h| *h < cursor) {
        reasons.push(format!(
            "the node's head {h} is behind the log cursor {cursor}: the node serves stale data"
        ));
    }
    match last_poll {
        None => reasons.push("no successful log poll yet".to_string()),
        Some(t) if t > policy.max_poll_age => reasons.push(format!(
            "last successful log poll {} s ago (> {} s)",
            t.as_secs(),
            policy.max_poll_age.as_secs()
        )),
        Some(_) => {}
    }
    if let Some(age) = oldest.filter(|a| *a > policy.max_inflight_age) {
        reasons.push(format!(
            "a transaction has been in flight for {} s (> {} s)",
            age.as_secs(),
            policy.max_inflight_age.as_secs()
        ));
    }
    if !metrics.healthy.load(Ordering::Relaxed) && last_poll.is_some() {
        reasons.push("the last keeper iteration failed".to_string());
    }
    let backends_down: Vec<String> = backends_down
        .iter()
        .map(|(model, why)| format!("{model}: {why}"))
        .collect();
    for down in &backends_down {
        reasons.push(format!("backend cannot compute: model {down}"));
    }
    let standing = metrics.standing();
    reasons.extend(standing.iter().cloned());
    HealthReport {
        status: if reasons.is_empty() {
            "ok"
        } else {
            "unhealthy"
        },
        cursor,
        head,
        lag,
        open_intents: metrics.open_intents.get(),
        inflight: metrics.inflight(),
        oldest_inflight_secs: oldest.map(|d| d.as_secs()),
        last_poll_secs: last_poll.map(|d| d.as_secs()),
        backends_down,
        hot_key_balance_wei: metrics.hot_key_balance().map(|w| w.to_string()),
        standing,
        sender_lease_held: metrics.sender_lease(),
        reasons,
    }
}

/// `/metrics` and `/health` of the keeper described by `source`.
pub fn operations_router(source: HealthSource) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(Arc::new(source))
}

async fn metrics(State(source): State<Arc<HealthSource>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        source.metrics.render(),
    )
}

/// How long `/health` waits for the node's head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(3);

async fn health(State(source): State<Arc<HealthSource>>) -> Response {
    let head = tokio::time::timeout(HEAD_TIMEOUT, source.provider.get_block_number())
        .await
        .ok()
        .and_then(Result::ok);
    if let Some(h) = head {
        source.metrics.head_block.set(h);
    }
    let down = tokio::time::timeout(HEAD_TIMEOUT, source.backends.probe())
        .await
        .unwrap_or_else(|_| source.backends.unhealthy());
    let report = assess(&source.metrics, head, &down, &source.policy);
    let code = if report.reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}

/// `GET /v1/outputs/<outputHash>` and `GET /v1/attestations/<requestId>` over `store`.
///
/// The router holds the journal weakly: HTTP connections the server keeps open (a peer's keep-alive
/// pool) outlive the keeper's task, and must not keep its database open after the keeper stopped,
/// or a keeper restarted in the same process could not reopen it. Once the keeper is gone every
/// request gets `503 keeper_stopped`.
pub fn outputs_router(store: &Arc<Store>) -> Router {
    Router::new()
        .route(&format!("{OUTPUTS_PATH}/{{hash}}"), get(output))
        .route(&format!("{ATTESTATIONS_PATH}/{{id}}"), get(attestations))
        .with_state(Arc::downgrade(store))
}

/// The answer for a router whose keeper has stopped (its journal is gone).
fn stopped() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "keeper_stopped",
        "this keeper has stopped".into(),
    )
}

async fn attestations(State(store): State<Weak<Store>>, Path(id): Path<String>) -> Response {
    let Some(store) = store.upgrade() else {
        return stopped();
    };
    let Ok(id) = id.parse::<alloy::primitives::U256>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request_id",
            format!("`{id}` is not a decimal or 0x-hex request id"),
        );
    };
    match tokio::task::spawn_blocking(move || store.published(id)).await {
        Ok(Ok(rows)) => {
            let values: Vec<serde_json::Value> = rows
                .iter()
                .filter_map(|r| serde_json::from_slice(r).ok())
                .collect();
            Json(values).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "task", e.to_string()),
    }
}

async fn output(State(store): State<Weak<Store>>, Path(hash): Path<String>) -> Response {
    let Some(store) = store.upgrade() else {
        return stopped();
    };
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

    fn policy() -> HealthPolicy {
        HealthPolicy {
            max_lag_blocks: 5,
            max_inflight_age: Duration::from_secs(60),
            max_poll_age: Duration::from_secs(30),
        }
    }

    /// `/health` judges the cursor against the real head: a keeper whose cursor is 30 blocks behind
    /// is unhealthy even though its own last poll saw no newer block (regression: it said ok with
    /// `cursor == head` = its own stale view).
    #[test]
    fn health_compares_the_cursor_with_the_real_chain_head() {
        let m = Metrics::default();
        m.polled();
        m.cursor_block.set(106);
        m.head_block.set(106);
        let ok = assess(&m, Some(108), &[], &policy());
        assert_eq!(ok.status, "ok", "{ok:?}");
        let behind = assess(&m, Some(136), &[], &policy());
        assert_eq!(behind.status, "unhealthy");
        assert_eq!(behind.lag, Some(30));
        assert!(behind.reasons[0].contains("trails the chain head by 30"));
        let down = assess(&m, None, &[], &policy());
        assert_eq!(down.status, "unhealthy");
    }

    /// A node whose head is below the blocks the keeper already handled serves stale data (a
    /// lagging node behind a load balancer): unhealthy, naming both blocks. The lag saturates at 0,
    /// so without this check the keeper looked healthy.
    #[test]
    fn health_reports_a_node_whose_head_is_behind_the_cursor() {
        let m = Metrics::default();
        m.polled();
        m.cursor_block.set(106);
        let stale = assess(&m, Some(101), &[], &policy());
        assert_eq!(stale.status, "unhealthy", "{stale:?}");
        assert_eq!(stale.lag, Some(0));
        assert!(
            stale.reasons[0].contains("head 101 is behind the log cursor 106"),
            "{stale:?}"
        );
        assert_eq!(assess(&m, Some(106), &[], &policy()).status, "ok");
    }

    /// A model server that is down makes the keeper unhealthy, naming the model and the reason: it
    /// cannot compute, so it cannot answer its assignments.
    #[test]
    fn health_reports_a_backend_that_cannot_compute() {
        let m = Metrics::default();
        m.polled();
        let model = alloy::primitives::B256::repeat_byte(7);
        let down = [(model, "http://127.0.0.1:1 unreachable".to_string())];
        let r = assess(&m, Some(0), &down, &policy());
        assert_eq!(r.status, "unhealthy");
        assert_eq!(r.backends_down.len(), 1);
        assert!(r.reasons[0].contains(&model.to_string()), "{r:?}");
        assert!(r.reasons[0].contains("unreachable"), "{r:?}");
        assert_eq!(assess(&m, Some(0), &[], &policy()).status, "ok");
    }

    /// A problem with the operator's standing (here: the hot key below its gas floor) makes the keeper
    /// unhealthy with the problem as the reason, and the balance is reported.
    #[test]
    fn health_reports_the_operators_standing() {
        let m = Metrics::default();
        m.polled();
        m.set_hot_key_balance(alloy::primitives::U256::from(5u64));
        let low = "the hot key 0x.. holds 5 wei, below the gas floor".to_string();
        m.set_standing(vec![low.clone()]);
        let r = assess(&m, Some(0), &[], &policy());
        assert_eq!(r.status, "unhealthy");
        assert_eq!(r.reasons, [low.as_str()]);
        assert_eq!(r.standing, [low]);
        assert_eq!(r.hot_key_balance_wei.as_deref(), Some("5"));
        m.set_standing(Vec::new());
        assert_eq!(assess(&m, Some(0), &[], &policy()).status, "ok");
    }

    /// Stuck work counts: a transaction in flight longer than the policy allows makes the keeper
    /// unhealthy, with its age reported.
    #[test]
    fn health_counts_stuck_transactions() {
        let m = Metrics::default();
        m.polled();
        m.tx_started("attest:1");
        let strict = HealthPolicy {
            max_inflight_age: Duration::ZERO,
            ..policy()
        };
        std::thread::sleep(Duration::from_millis(2));
        let r = assess(&m, Some(0), &[], &strict);
        assert_eq!(r.status, "unhealthy");
        assert_eq!(r.inflight, 1);
        assert!(r.reasons[0].contains("in flight"), "{r:?}");
        m.tx_finished("attest:1");
        assert_eq!(assess(&m, Some(0), &[], &strict).status, "ok");
    }

    /// A replica reports whether it holds the sender lease, and a standby is healthy; a single
    /// keeper reports no lease at all (the field is left out of the JSON).
    #[test]
    fn health_says_which_replica_holds_the_sender_lease_and_a_standby_is_healthy() {
        let m = Metrics::default();
        m.polled();
        let single = assess(&m, Some(0), &[], &policy());
        assert_eq!(single.sender_lease_held, None);
        let json = serde_json::to_string(&single).unwrap();
        assert!(!json.contains("sender_lease_held"), "{json}");
        m.set_sender_lease(false);
        let standby = assess(&m, Some(0), &[], &policy());
        assert_eq!(standby.status, "ok");
        assert_eq!(standby.sender_lease_held, Some(false));
        m.set_sender_lease(true);
        let holder = assess(&m, Some(0), &[], &policy());
        assert_eq!(holder.sender_lease_held, Some(true));
        let json = serde_json::to_string(&holder).unwrap();
        assert!(json.contains("\"sender_lease_held\":true"), "{json}");
    }

    #[tokio::test]
    async fn serves_metrics_and_health() {
        // No node behind this keeper: /health must say unhealthy (no chain head), not ok.
        let provider = RootProvider::new_http("http://127.0.0.1:1".parse().unwrap());
        let metrics = Arc::new(Metrics::default());
        let source = HealthSource {
            metrics: metrics.clone(),
            provider,
            policy: policy(),
            backends: Arc::new(crate::backend::Backends::new(Vec::new())),
        };
        let (tx, rx) = watch::channel(false);
        let addr = serve(
            "127.0.0.1:0".parse().unwrap(),
            operations_router(source),
            rx,
        )
        .await
        .unwrap();
        metrics.fee_bumps.inc();
        let (head, body) = get(addr, "/metrics").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-type: {}", crate::metrics::CONTENT_TYPE)),
            "{head}"
        );
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("# TYPE verinfer_keeper_fee_bumps counter"));
        assert!(crate::metrics::parse_samples(&text)
            .iter()
            .any(|s| s.name == "verinfer_keeper_fee_bumps_total" && s.value == 1.0));
        let (head, body) = get(addr, "/health").await;
        assert!(head.starts_with("HTTP/1.1 503"), "never polled: {head}");
        assert!(String::from_utf8_lossy(&body).contains("\"status\":\"unhealthy\""));
        assert!(get(addr, "/nope").await.0.starts_with("HTTP/1.1 404"));
        let _ = tx.send(true);
    }

    #[tokio::test]
    async fn serves_stored_outputs_by_hash_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("k.redb")).unwrap());
        let hash = B256::from(store.put_output(b"\x00\xffbinary output").unwrap());
        let (tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), outputs_router(&store), rx)
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

    /// A keeper serves what it published for a request, and nothing of another request's.
    #[tokio::test]
    async fn serves_published_attestations_by_request() {
        use alloy::primitives::U256;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("k.redb")).unwrap());
        for (id, out) in [(7u64, 1u8), (7, 2), (8, 3)] {
            let v = serde_json::json!({"request": id, "output": out}).to_string();
            store
                .put_published(&crate::store::PublishedRow {
                    request_id: U256::from(id),
                    output_hash: B256::repeat_byte(out),
                    json: v.into_bytes(),
                })
                .unwrap();
        }
        let (tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), outputs_router(&store), rx)
            .await
            .unwrap();
        let (head, body) = get(addr, &format!("{ATTESTATIONS_PATH}/7")).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
        let outputs: Vec<u64> = list.iter().map(|v| v["output"].as_u64().unwrap()).collect();
        assert_eq!(outputs, [1, 2]);
        let (_, body) = get(addr, &format!("{ATTESTATIONS_PATH}/9")).await;
        assert_eq!(body, b"[]");
        let (head, body) = get(addr, &format!("{ATTESTATIONS_PATH}/x7")).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("bad_request_id"));
        let _ = tx.send(true);
    }

    /// Regression (devnet CI run): a peer's keep-alive connection to a keeper's outputs API outlived
    /// the keeper's task and held its journal open, so the keeper restarted in the same process could
    /// not reopen it ("Database already open"). The router holds the journal weakly: with the keeper
    /// gone and a connection still open, the database reopens, and the connection gets a 503.
    #[tokio::test]
    async fn an_open_connection_does_not_keep_a_stopped_keepers_journal_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let store = Arc::new(Store::open(&path).unwrap());
        let (_tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), outputs_router(&store), rx)
            .await
            .unwrap();
        // A keep-alive connection with one request answered on it.
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {ATTESTATIONS_PATH}/1 HTTP/1.1\r\nhost: x\r\n\r\n");
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut buf = [0u8; 512];
        let n = conn.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        // The keeper stops (its last strong handle goes); the connection stays open.
        drop(store);
        let reopened = Store::open(&path).expect("the journal is free again");
        drop(reopened);
        conn.write_all(req.as_bytes()).await.unwrap();
        let n = conn.read(&mut buf).await.unwrap();
        let reply = String::from_utf8_lossy(&buf[..n]);
        assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        assert!(reply.contains("keeper_stopped"), "{reply}");
    }
}
