//! The one way verinfer builds an HTTP provider: alloy's [`RetryBackoffLayer`] with
//! [`TransientRetryPolicy`], which retries what may succeed on a second try (the node is down for a
//! moment, a timeout, a rate limit, 502/503/504) and never what will fail again (a revert, a nonce
//! the node refuses, a sender that cannot pay).
//!
//! Failures are classified on alloy's typed errors ([`RpcFailure::of`]): the transport's variant
//! (a `reqwest` connect or timeout error, an HTTP status), the JSON-RPC error code, the revert data.
//! Only where nodes give no distinct code (geth, anvil and reth all answer `-32000` for "nonce too
//! low", "already known" and "insufficient funds") is the JSON-RPC error payload's `message` read,
//! never the rendered error.
//!
//! When the retries run out, alloy's layer returns its own error ("Max retries exceeded" and the
//! last failure, as text): [`RpcFailure::of`] calls it [`RpcFailure::Other`].
//!
//! A retry resends the same request: every call verinfer makes is safe to repeat (reads, gas
//! estimates, and `eth_sendRawTransaction` of an already signed transaction, which a node that saw
//! it answers "already known").

use std::time::Duration;

use alloy::providers::RootProvider;
use alloy::rpc::client::{ClientBuilder, RpcClient};
use alloy::transports::http::reqwest::{self, Url};
use alloy::transports::http::Http;
use alloy::transports::layers::{RateLimitRetryPolicy, RetryBackoffLayer, RetryPolicy};
use alloy::transports::{TransportError, TransportErrorKind};

/// How a provider retries a failed call (see [`TransientRetryPolicy`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Wait between two attempts (alloy's layer waits the same each time, or what the node asks
    /// for in `Retry-After` or its rate-limit message).
    pub backoff: Duration,
    /// Longest wait for the answer to one attempt. A node that takes a call and never answers it
    /// (hung, or a connection a load balancer dropped silently) is given up on: the attempt fails
    /// as a [`RpcFailure::Timeout`], which is retried. Without it such a call waits forever.
    pub timeout: Duration,
}

/// [`RetryConfig::timeout`] by default: far above any call verinfer makes of a healthy node (an
/// `eth_getLogs` over a full range included).
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for RetryConfig {
    /// 10 retries 500 ms apart: a node restarting within about 5 s is waited for.
    fn default() -> Self {
        Self {
            retries: 10,
            backoff: Duration::from_millis(500),
            timeout: DEFAULT_RPC_TIMEOUT,
        }
    }
}

impl RetryConfig {
    /// No retry: every failure is returned at once (for tests of a single attempt).
    pub const NONE: Self = Self {
        retries: 0,
        backoff: Duration::ZERO,
        timeout: DEFAULT_RPC_TIMEOUT,
    };

    /// alloy's retry layer with [`TransientRetryPolicy`] and these settings (no compute-unit
    /// budget: verinfer does not throttle itself ahead of a rate limit, it backs off on one).
    pub fn layer(&self) -> RetryBackoffLayer<TransientRetryPolicy> {
        let backoff_ms = u64::try_from(self.backoff.as_millis()).unwrap_or(u64::MAX);
        RetryBackoffLayer::new_with_policy(self.retries, backoff_ms, u64::MAX, TransientRetryPolicy)
    }
}

/// An RPC client over HTTP at `url`, retrying transient failures as `retry` says ([`RetryConfig::NONE`]:
/// no retry layer, so every error keeps its type); each attempt gives up after `retry.timeout`.
pub fn http_client(url: Url, retry: RetryConfig) -> RpcClient {
    let client = reqwest::Client::builder()
        .timeout(retry.timeout)
        .build()
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "HTTP client with a timeout unavailable; using the default");
            reqwest::Client::default()
        });
    let transport = Http::with_client(client, url);
    let local = transport.guess_local();
    if retry.retries == 0 {
        return ClientBuilder::default().transport(transport, local);
    }
    ClientBuilder::default()
        .layer(retry.layer())
        .transport(transport, local)
}

/// A provider over HTTP at `url`, retrying transient failures as `retry` says.
pub fn http_provider(url: Url, retry: RetryConfig) -> RootProvider {
    RootProvider::new(http_client(url, retry))
}

/// What a failed RPC call means, read from alloy's typed error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcFailure {
    /// No connection, or it broke before an answer (the node is down or restarting).
    Unreachable,
    /// No answer in time.
    Timeout,
    /// The provider limits the rate (HTTP 429, `Retry-After`, a rate-limit JSON-RPC code or
    /// another error alloy's own policy retries, such as Infura's "header not found").
    RateLimited,
    /// The server is temporarily unable to answer (HTTP 502, 503, 504) or answered nothing.
    Unavailable,
    /// The call reverts (JSON-RPC code 3, or revert data in the error).
    Reverted,
    /// The node refuses the transaction's nonce (too low, too high, already used), or another
    /// pending transaction of the sender holds it and this one does not outbid it ("replacement
    /// transaction underpriced": with a hot key shared by HA replicas, the other replica's).
    Nonce,
    /// The node already has this transaction.
    AlreadyKnown,
    /// The sender cannot pay for the transaction.
    InsufficientFunds,
    /// Anything else (a malformed request, an unknown method, another node error).
    Other,
}

impl RpcFailure {
    /// Classifies `error`.
    pub fn of(error: &TransportError) -> Self {
        match error {
            TransportError::Transport(kind) => Self::of_transport(kind),
            TransportError::ErrorResp(payload) => {
                if payload.code == 3 || payload.as_revert_data().is_some() {
                    Self::Reverted
                } else if payload.is_retry_err() {
                    Self::RateLimited
                } else {
                    Self::of_message(&payload.message)
                }
            }
            TransportError::NullResp => Self::Unavailable,
            _ => Self::Other,
        }
    }

    fn of_transport(kind: &TransportErrorKind) -> Self {
        match kind {
            TransportErrorKind::HttpErrorWithRetryAfter { .. } => Self::RateLimited,
            TransportErrorKind::HttpError(http) => match http.status {
                429 => Self::RateLimited,
                502..=504 => Self::Unavailable,
                _ => Self::Other,
            },
            TransportErrorKind::BackendGone => Self::Unreachable,
            TransportErrorKind::MissingBatchResponse(_) => Self::Unavailable,
            TransportErrorKind::Custom(source) => match source.downcast_ref::<reqwest::Error>() {
                Some(e) if e.is_timeout() => Self::Timeout,
                Some(e) if e.is_connect() || e.is_request() || e.is_body() => Self::Unreachable,
                _ => Self::Other,
            },
            _ => Self::Other,
        }
    }

    /// Classifies a JSON-RPC error by its message. Nodes answer these with the generic -32000 (or
    /// -32003, "transaction rejected"): the payload's message is all there is to tell them apart.
    fn of_message(message: &str) -> Self {
        let message = message.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
        if has(&["execution reverted", "revert", "invalid opcode"]) {
            Self::Reverted
        } else if has(&[
            "nonce too low",
            "nonce too high",
            "invalid nonce",
            "nonce has already been used",
            "replacement transaction underpriced",
            "replacement fee too low",
        ]) {
            Self::Nonce
        } else if has(&[
            "already known",
            "already imported",
            "known transaction",
            "transaction already exists",
        ]) {
            Self::AlreadyKnown
        } else if has(&["insufficient funds"]) {
            Self::InsufficientFunds
        } else {
            Self::Other
        }
    }

    /// Whether the same call may succeed when tried again.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Unreachable | Self::Timeout | Self::RateLimited | Self::Unavailable
        )
    }
}

/// alloy [`RetryPolicy`] of verinfer's providers: retry exactly the [transient](RpcFailure::is_transient)
/// failures, waiting what the node asks for when it says (alloy's own hint: `Retry-After`, a
/// rate-limit message).
#[derive(Clone, Copy, Debug, Default)]
pub struct TransientRetryPolicy;

impl RetryPolicy for TransientRetryPolicy {
    fn should_retry(&self, error: &TransportError) -> bool {
        RpcFailure::of(error).is_transient()
    }

    fn backoff_hint(&self, error: &TransportError) -> Option<Duration> {
        RateLimitRetryPolicy::default().backoff_hint(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Bytes;

    /// A JSON-RPC error response as a node sends it.
    fn payload(code: i64, message: &str, data: Option<&str>) -> TransportError {
        let mut json = serde_json::json!({ "code": code, "message": message });
        if let Some(d) = data {
            json["data"] = d.into();
        }
        TransportError::ErrorResp(serde_json::from_value(json).unwrap())
    }

    /// A real `reqwest` connect error: a request to a port nobody listens on.
    async fn refused() -> TransportError {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let e = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}"))
            .send()
            .await
            .unwrap_err();
        TransportErrorKind::custom(e)
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_and_retried() {
        let e = refused().await;
        assert_eq!(RpcFailure::of(&e), RpcFailure::Unreachable);
        assert!(TransientRetryPolicy.should_retry(&e));
    }

    #[test]
    fn rate_limits_and_unavailable_servers_are_retried() {
        for e in [
            TransportErrorKind::http_error(429, String::new()),
            TransportErrorKind::http_error_with_retry_after(
                500,
                String::new(),
                Some(Duration::from_secs(1)),
            ),
            payload(-32005, "exceeded project rate limit", None),
            payload(429, "too many requests", None),
        ] {
            assert_eq!(RpcFailure::of(&e), RpcFailure::RateLimited, "{e}");
            assert!(TransientRetryPolicy.should_retry(&e), "{e}");
        }
        for status in [502, 503, 504] {
            let e = TransportErrorKind::http_error(status, String::new());
            assert_eq!(RpcFailure::of(&e), RpcFailure::Unavailable);
            assert!(TransientRetryPolicy.should_retry(&e));
        }
        assert!(TransientRetryPolicy.should_retry(&TransportErrorKind::backend_gone()));
    }

    #[test]
    fn the_node_asked_wait_is_the_backoff() {
        let e = TransportErrorKind::http_error_with_retry_after(
            429,
            String::new(),
            Some(Duration::from_secs(3)),
        );
        assert_eq!(
            TransientRetryPolicy.backoff_hint(&e),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn reverts_are_never_retried() {
        let with_data = payload(3, "execution reverted", Some("0xd855c4f4"));
        let TransportError::ErrorResp(p) = &with_data else {
            unreachable!()
        };
        assert_eq!(
            p.as_revert_data(),
            Some(Bytes::from_static(&[0xd8, 0x55, 0xc4, 0xf4]))
        );
        for e in [
            with_data,
            payload(-32000, "execution reverted", None),
            payload(-32603, "EVM error InvalidFEOpcode: invalid opcode", None),
        ] {
            assert_eq!(RpcFailure::of(&e), RpcFailure::Reverted, "{e}");
            assert!(!TransientRetryPolicy.should_retry(&e), "{e}");
        }
    }

    #[test]
    fn transaction_rejections_are_never_retried() {
        let cases = [
            ("nonce too low: next nonce 5, tx nonce 4", RpcFailure::Nonce),
            ("nonce too high", RpcFailure::Nonce),
            ("replacement transaction underpriced", RpcFailure::Nonce),
            ("already known", RpcFailure::AlreadyKnown),
            (
                "insufficient funds for gas * price + value",
                RpcFailure::InsufficientFunds,
            ),
            ("method not found", RpcFailure::Other),
        ];
        for (message, want) in cases {
            let e = payload(-32000, message, None);
            assert_eq!(RpcFailure::of(&e), want, "{message}");
            assert!(!TransientRetryPolicy.should_retry(&e), "{message}");
        }
        // A client-side error (400) and a server bug (500) fail again: not retried.
        for status in [400, 500] {
            let e = TransportErrorKind::http_error(status, String::new());
            assert!(!TransientRetryPolicy.should_retry(&e));
        }
    }
}
