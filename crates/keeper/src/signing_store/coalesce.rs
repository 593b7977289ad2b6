//! Coalescing of concurrent calls into one statement (a group commit for the signing store).
//!
//! A keeper answers the assignments of a log range concurrently (docs/keeper.md, "Pipeline"), and
//! with a shared signing store each answer asks the database twice: is this slot claimed already,
//! and claim it. One statement per question costs a round trip and, for a claim, a commit (with
//! PostgreSQL's default `fsync=on`, a disk flush) each, one after the other on the replica's
//! connection. A [`Coalescer`] queues the questions instead and a single driver task answers all
//! that are queued (up to a bound) with one statement: a lone call goes out at once (no waiting to
//! fill a batch), a burst packs into few statements.
//!
//! The driver runs on its own task, so a caller that gives up (its answer job aborted, its wait
//! timed out) never cancels a statement other callers wait for; a statement already sent may still
//! commit, which the store's callers tolerate (a claim is idempotent for its own output).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super::SigningStoreError;

/// One batched statement: `reqs` in, one result per request out, in the same order.
pub(super) type Run<Req, Resp> = Arc<
    dyn Fn(Vec<Req>) -> Pin<Box<dyn Future<Output = Vec<Result<Resp, SigningStoreError>>> + Send>>
        + Send
        + Sync,
>;

type Waiting<Req, Resp> = (Req, oneshot::Sender<Result<Resp, SigningStoreError>>);

struct State<Req, Resp> {
    queue: VecDeque<Waiting<Req, Resp>>,
    /// A driver task is running (it empties the queue before it stops).
    driving: bool,
}

/// Queues calls of one kind and answers them in batches of at most `max` with `run`.
pub(super) struct Coalescer<Req, Resp> {
    state: Arc<Mutex<State<Req, Resp>>>,
    run: Run<Req, Resp>,
    max: usize,
    /// Names the statement in errors.
    op: &'static str,
}

/// Clears `driving` if the driver stops without emptying the queue (a panic in `run`, a runtime
/// shutting down), so the next call starts a new driver. Disarmed when the driver stops normally
/// (it cleared `driving` itself, under the lock, and a newer driver may already run).
struct Driving<Req, Resp>(Option<Arc<Mutex<State<Req, Resp>>>>);

impl<Req, Resp> Drop for Driving<Req, Resp> {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            state.lock().unwrap_or_else(PoisonError::into_inner).driving = false;
        }
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Coalescer<Req, Resp> {
    /// A coalescer answering with `run`, at most `max` (at least 1) requests per statement.
    pub(super) fn new(op: &'static str, max: usize, run: Run<Req, Resp>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                queue: VecDeque::new(),
                driving: false,
            })),
            run,
            max: max.max(1),
            op,
        }
    }

    /// Queues `req` and waits for its result. Starts a driver when none runs (so must be called
    /// inside a tokio runtime).
    pub(super) async fn call(&self, req: Req) -> Result<Resp, SigningStoreError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            s.queue.push_back((req, tx));
            !std::mem::replace(&mut s.driving, true)
        };
        if start {
            tokio::spawn(drive(self.state.clone(), self.run.clone(), self.max));
        }
        rx.await.map_err(|_| SigningStoreError::Unavailable {
            op: self.op,
            msg: "the batched statement was abandoned before it answered".into(),
        })?
    }
}

/// Answers the queue in batches until it is empty.
async fn drive<Req, Resp>(state: Arc<Mutex<State<Req, Resp>>>, run: Run<Req, Resp>, max: usize) {
    let mut driving = Driving(Some(state.clone()));
    loop {
        let batch: Vec<Waiting<Req, Resp>> = {
            let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
            if s.queue.is_empty() {
                s.driving = false;
                driving.0 = None;
                return;
            }
            let n = s.queue.len().min(max);
            s.queue.drain(..n).collect()
        };
        let (reqs, waiters): (Vec<Req>, Vec<_>) = batch.into_iter().unzip();
        let n = reqs.len();
        let results = run(reqs).await;
        debug_assert_eq!(results.len(), n, "one result per request");
        for (tx, r) in waiters.into_iter().zip(results) {
            // A caller that stopped waiting needs no answer.
            let _ = tx.send(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A run that doubles each request after `delay`, recording the size of each batch.
    fn doubling(sizes: Arc<Mutex<Vec<usize>>>, delay: Duration) -> Run<u64, u64> {
        Arc::new(move |reqs: Vec<u64>| {
            let sizes = sizes.clone();
            Box::pin(async move {
                sizes.lock().unwrap().push(reqs.len());
                tokio::time::sleep(delay).await;
                reqs.into_iter().map(|r| Ok(r * 2)).collect()
            })
        })
    }

    #[tokio::test]
    async fn a_lone_call_goes_out_alone_and_gets_its_own_result() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let c = Coalescer::new("test", 8, doubling(sizes.clone(), Duration::ZERO));
        assert_eq!(c.call(21).await.unwrap(), 42);
        assert_eq!(c.call(5).await.unwrap(), 10);
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1]);
    }

    /// Calls made while a statement runs wait for it and go out together, at most `max` at a
    /// time, each with its own result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_queued_behind_a_running_statement_go_out_together_up_to_the_bound() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let c = Arc::new(Coalescer::new(
            "test",
            8,
            doubling(sizes.clone(), Duration::from_millis(200)),
        ));
        let first = {
            let c = c.clone();
            tokio::spawn(async move { c.call(0).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let rest: Vec<_> = (1..=20u64)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move { (i, c.call(i).await) })
            })
            .collect();
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for h in rest {
            let (i, r) = h.await.unwrap();
            assert_eq!(r.unwrap(), i * 2, "each caller gets its own result");
        }
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 21);
        assert_eq!(sizes[0], 1, "the first call did not wait for company");
        assert!(sizes.iter().all(|&n| n <= 8), "bounded: {sizes:?}");
        assert!(
            sizes.len() <= 4,
            "20 queued calls in at most 3 statements: {sizes:?}"
        );
    }

    /// A caller that stops waiting does not cancel the statement the others wait for, and the
    /// coalescer keeps serving after it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_cancels_nothing_for_the_others() {
        let ran = Arc::new(AtomicUsize::new(0));
        let run: Run<u64, u64> = {
            let ran = ran.clone();
            Arc::new(move |reqs: Vec<u64>| {
                let ran = ran.clone();
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    ran.fetch_add(reqs.len(), Ordering::SeqCst);
                    reqs.into_iter().map(Ok).collect()
                })
            })
        };
        let c = Arc::new(Coalescer::new("test", 8, run));
        let quitter = {
            let c = c.clone();
            tokio::spawn(async move { c.call(1).await })
        };
        let stayer = {
            let c = c.clone();
            tokio::spawn(async move { c.call(2).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        quitter.abort();
        assert_eq!(stayer.await.unwrap().unwrap(), 2);
        assert_eq!(c.call(3).await.unwrap(), 3);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            3,
            "the quitter's request still ran"
        );
    }
}
