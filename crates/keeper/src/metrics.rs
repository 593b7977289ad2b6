//! Prometheus metrics (text exposition format) and a `/health` endpoint on a loopback port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::LazyLock;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that can go up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Process-wide keeper metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Assignments seen.
    pub assignments_seen: Counter,
    /// Inferences run.
    pub inferences: Counter,
    /// Attestations included on chain.
    pub attestations_submitted: Counter,
    /// Transactions included.
    pub txs_included: Counter,
    /// Transactions that reverted or were abandoned.
    pub txs_failed: Counter,
    /// Fee bumps.
    pub fee_bumps: Counter,
    /// Reorgs detected.
    pub reorgs: Counter,
    /// RPC errors observed by the poller.
    pub rpc_errors: Counter,
    /// Challenges sent.
    pub challenges: Counter,
    /// Equivocation reports sent.
    pub equivocation_reports: Counter,
    /// Requests finalized by this keeper.
    pub finalized: Counter,
    /// Missed assignments reported.
    pub missed_reported: Counter,
    /// Gas used by included transactions.
    pub gas_used: Counter,
    /// Last processed block.
    pub cursor_block: Gauge,
    /// Latest chain head seen.
    pub head_block: Gauge,
    /// Open journal intents.
    pub open_intents: Gauge,
    /// Whether the last poll succeeded.
    pub healthy: AtomicBool,
}

/// The global metrics registry.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

impl Metrics {
    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
        let counters: [(&str, &str, &Counter); 13] = [
            (
                "verinfer_keeper_assignments_seen_total",
                "Assignments seen",
                &self.assignments_seen,
            ),
            (
                "verinfer_keeper_inferences_total",
                "Inferences run",
                &self.inferences,
            ),
            (
                "verinfer_keeper_attestations_submitted_total",
                "Attestations included",
                &self.attestations_submitted,
            ),
            (
                "verinfer_keeper_txs_included_total",
                "Transactions included",
                &self.txs_included,
            ),
            (
                "verinfer_keeper_txs_failed_total",
                "Transactions reverted or abandoned",
                &self.txs_failed,
            ),
            (
                "verinfer_keeper_fee_bumps_total",
                "Fee bumps",
                &self.fee_bumps,
            ),
            (
                "verinfer_keeper_reorgs_total",
                "Reorgs detected",
                &self.reorgs,
            ),
            (
                "verinfer_keeper_rpc_errors_total",
                "RPC errors seen by the poller",
                &self.rpc_errors,
            ),
            (
                "verinfer_keeper_challenges_total",
                "Challenges sent",
                &self.challenges,
            ),
            (
                "verinfer_keeper_equivocation_reports_total",
                "Equivocation reports",
                &self.equivocation_reports,
            ),
            (
                "verinfer_keeper_finalized_total",
                "Requests finalized",
                &self.finalized,
            ),
            (
                "verinfer_keeper_missed_reported_total",
                "Missed assignments reported",
                &self.missed_reported,
            ),
            (
                "verinfer_keeper_gas_used_total",
                "Gas used by included transactions",
                &self.gas_used,
            ),
        ];
        let mut out = String::new();
        for (name, help, c) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                c.get()
            ));
        }
        let gauges: [(&str, &str, &Gauge); 3] = [
            (
                "verinfer_keeper_cursor_block",
                "Last processed block",
                &self.cursor_block,
            ),
            (
                "verinfer_keeper_head_block",
                "Latest head seen",
                &self.head_block,
            ),
            (
                "verinfer_keeper_open_intents",
                "Open journal intents",
                &self.open_intents,
            ),
        ];
        for (name, help, g) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}\n",
                g.get()
            ));
        }
        out
    }
}

/// Serves `/metrics` and `/health` on `addr` until `shutdown` flips to true. Returns the bound
/// address (useful with port 0).
pub async fn serve(
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                acc = listener.accept() => {
                    let Ok((mut sock, _)) = acc else { continue };
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let n = sock.read(&mut buf).await.unwrap_or(0);
                        let req = String::from_utf8_lossy(&buf[..n]);
                        let path = req.split_whitespace().nth(1).unwrap_or("/");
                        let (status, body) = match path {
                            "/metrics" => ("200 OK", METRICS.render()),
                            "/health" => {
                                if METRICS.healthy.load(Ordering::Relaxed) {
                                    ("200 OK", format!("{{\"status\":\"ok\",\"cursor\":{},\"head\":{}}}", METRICS.cursor_block.get(), METRICS.head_block.get()))
                                } else {
                                    ("503 Service Unavailable", "{\"status\":\"starting-or-degraded\"}".to_string())
                                }
                            }
                            _ => ("404 Not Found", "not found".to_string()),
                        };
                        let resp = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                        let _ = sock.write_all(resp.as_bytes()).await;
                    });
                }
            }
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_metrics_and_health_on_loopback() {
        let (tx, rx) = watch::channel(false);
        let addr = serve("127.0.0.1:0".parse().unwrap(), rx).await.unwrap();
        METRICS.fee_bumps.inc();
        let m = get(addr, "/metrics").await;
        assert!(m.starts_with("HTTP/1.1 200"), "{m}");
        assert!(m.contains("# TYPE verinfer_keeper_fee_bumps_total counter"));
        METRICS.healthy.store(true, Ordering::Relaxed);
        assert!(get(addr, "/health").await.contains("\"status\":\"ok\""));
        assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));
        let _ = tx.send(true);
    }
}
