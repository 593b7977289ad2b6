//! A JSON-RPC proxy in front of a node that counts the calls of each method on their way through
//! (batched calls count each of their members). The keeper bench points a keeper at it to measure its
//! round trips per attestation; tests use it to check how many calls a path makes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use alloy::transports::http::reqwest;
use axum::http::StatusCode;

/// Calls counted per method.
type Counts = Arc<Mutex<BTreeMap<String, usize>>>;

/// A running counting proxy; stops when dropped.
#[derive(Debug)]
pub struct CountingRpc {
    url: String,
    counts: Counts,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for CountingRpc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The method names of a JSON-RPC body (one call or a batch); unparsable bodies count as `?`.
fn methods(body: &[u8]) -> Vec<String> {
    let name = |call: &serde_json::Value| call["method"].as_str().unwrap_or("?").to_string();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(calls)) => calls.iter().map(name).collect(),
        Ok(one) => vec![name(&one)],
        Err(_) => vec!["?".into()],
    }
}

impl CountingRpc {
    /// Listens on a free loopback port and forwards every POST to `upstream`.
    pub async fn start(upstream: &str) -> Result<Self, std::io::Error> {
        let counts: Counts = Arc::default();
        let http = reqwest::Client::new();
        let (c, upstream) = (counts.clone(), upstream.to_string());
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (c, http, upstream) = (c.clone(), http.clone(), upstream.clone());
                async move {
                    if let Ok(mut counts) = c.lock() {
                        for m in methods(&body) {
                            *counts.entry(m).or_default() += 1;
                        }
                    }
                    let forwarded = async {
                        http.post(&upstream)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await?
                            .bytes()
                            .await
                    };
                    match forwarded.await {
                        Ok(bytes) => Ok(([("content-type", "application/json")], bytes)),
                        Err(e) => Err((StatusCode::BAD_GATEWAY, e.to_string())),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "counting RPC proxy stopped");
            }
        });
        Ok(Self {
            url,
            counts,
            server,
        })
    }

    /// The proxy's URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls of `method` so far.
    pub fn count(&self, method: &str) -> usize {
        self.counts().get(method).copied().unwrap_or_default()
    }

    /// Calls of every method so far.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Forgets the counts so far.
    pub fn reset(&self) {
        if let Ok(mut c) = self.counts.lock() {
            c.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::methods;

    #[test]
    fn a_batch_counts_each_member_and_garbage_counts_once() {
        assert_eq!(
            methods(br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#),
            vec!["eth_chainId"]
        );
        assert_eq!(
            methods(br#"[{"method":"eth_getLogs"},{"method":"eth_blockNumber"},{}]"#),
            vec!["eth_getLogs", "eth_blockNumber", "?"]
        );
        assert_eq!(methods(b"not json"), vec!["?"]);
    }
}
