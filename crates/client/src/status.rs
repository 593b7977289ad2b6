//! A request's status changes as a stream: the registry's views (`request`, `delivery`) polled until
//! the request settles (finalized or expired, and its callback, if any, made) or a deadline passes.
//!
//! Each item is a [`RequestUpdate`], a snapshot emitted whenever the status, the result or the callback
//! state differs from the previous one: `Open → Quorum → Finalized` (or `Disputed`, `Expired`), then
//! the callback `Pending → Delivered` (or `Failed`). A request without a consumer settles when it is
//! finalized or expired.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use futures::Stream;
use verinfer_bindings::types::{CallbackState, RequestStatus};

use crate::client::Client;
use crate::error::ClientError;

/// One observed state of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUpdate {
    /// The request.
    pub id: U256,
    /// Its status.
    pub status: RequestStatus,
    /// Its output hash: the leading answer while open, the result from quorum on (zero: none).
    pub output: B256,
    /// Its final callback (`None` when it names no consumer).
    pub callback: CallbackState,
    /// Whether the opted-in early callback was attempted.
    pub early_done: bool,
}

impl RequestUpdate {
    /// Whether nothing more will change on its own: finalized or expired, and the callback (if any)
    /// made. A failed callback can still be retried by its consumer; the watch ends there.
    pub fn is_settled(&self) -> bool {
        matches!(
            self.status,
            RequestStatus::Finalized | RequestStatus::Expired
        ) && self.callback != CallbackState::Pending
    }

    fn same_state(&self, other: &Self) -> bool {
        self.status == other.status
            && self.output == other.output
            && self.callback == other.callback
            && self.early_done == other.early_done
    }
}

/// Polls request `id`'s state until it settles or a deadline passes; see [`Client::watch_request`].
#[derive(Debug)]
pub struct RequestWatch {
    client: Client,
    id: U256,
    poll: Duration,
    timeout: Duration,
    deadline: Instant,
    last: Option<RequestUpdate>,
    done: bool,
}

impl RequestWatch {
    /// The next change, `None` once the request settled (after its settled update was returned), or
    /// [`ClientError::WatchTimeout`] at the deadline (the watch then ends).
    pub async fn next(&mut self) -> Option<Result<RequestUpdate, ClientError>> {
        if self.done {
            return None;
        }
        loop {
            let now = match self.client.request_update(self.id).await {
                Ok(u) => u,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if self.last.is_none_or(|l| !l.same_state(&now)) {
                self.last = Some(now);
                self.done = now.is_settled();
                return Some(Ok(now));
            }
            if Instant::now() >= self.deadline {
                self.done = true;
                return Some(Err(ClientError::WatchTimeout {
                    id: self.id,
                    secs: self.timeout.as_secs(),
                }));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// The watch as a [`Stream`] of updates.
    pub fn into_stream(self) -> impl Stream<Item = Result<RequestUpdate, ClientError>> {
        futures::stream::unfold(self, |mut w| async move {
            let item = w.next().await?;
            Some((item, w))
        })
    }
}

impl Client {
    /// Request `id`'s current status, result and callback state.
    pub async fn request_update(&self, id: U256) -> Result<RequestUpdate, ClientError> {
        let (status, view) = self.request_view(id).await?;
        let (callback, delivery) = self.delivery_view(id).await?;
        Ok(RequestUpdate {
            id,
            status,
            output: view.output,
            callback,
            early_done: delivery.earlyDone,
        })
    }

    /// Watches request `id`: its state now, then every change, polled every `poll`, until it settles
    /// (see [`RequestUpdate::is_settled`]) or `timeout` passes.
    pub fn watch_request(&self, id: U256, poll: Duration, timeout: Duration) -> RequestWatch {
        RequestWatch {
            client: self.clone(),
            id,
            poll,
            timeout,
            deadline: Instant::now() + timeout,
            last: None,
            done: false,
        }
    }
}
