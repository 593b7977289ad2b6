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

/// Made before the driver task is spawned and moved into it: if the driver stops without emptying
/// the queue (a panic in `run`, a runtime shutting down, even before the task first ran), it clears
/// `driving` so the next call starts a new driver, and drops the queued waiters, who get an error
/// at once instead of waiting for their timeout. Disarmed when the driver stops normally (it
/// cleared `driving` itself, under the lock, and a newer driver may already run).
struct Driving<Req, Resp>(Option<Arc<Mutex<State<Req, Resp>>>>);

impl<Req, Resp> Drop for Driving<Req, Resp> {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
            s.driving = false;
            s.queue.clear();
        }
    }
}

/// The most calls a coalescer queues; more fail at once ([`SigningStoreError::Unavailable`]), so
/// a database that stopped answering does not pile up callers' outputs in memory.
pub(super) const MAX_QUEUED: usize = 4096;

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
            // Callers that gave up leave nothing queued behind them.
            s.queue.retain(|(_, tx)| !tx.is_closed());
            if s.queue.len() >= MAX_QUEUED {
                return Err(SigningStoreError::Unavailable {
                    op: self.op,
                    msg: format!("{MAX_QUEUED} calls already wait for the database"),
                });
            }
            s.queue.push_back((req, tx));
            !std::mem::replace(&mut s.driving, true)
        };
        if start {
            let driving = Driving(Some(self.state.clone()));
            tokio::spawn(drive(driving, self.run.clone(), self.max));
        }
        rx.await.map_err(|_| SigningStoreError::Unavailable {
            op: self.op,
            msg: "the batched statement was abandoned before it answered".into(),
        })?
    }
}

/// Answers the queue in batches until it is empty (`driving` holds the queue).
async fn drive<Req, Resp>(mut driving: Driving<Req, Resp>, run: Run<Req, Resp>, max: usize) {
    let Some(state) = driving.0.clone() else {
        return;
    };
    loop {
        let batch: Vec<Waiting<Req, Resp>> = {
            let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
            // A caller that gave up (its job aborted, its wait timed out) is not asked for.
            s.queue.retain(|(_, tx)| !tx.is_closed());
            if s.queue.is_empty() {
                s.driving = false;
                driving.0 = None;
                return;
            }
            let n = s.queue.len().min(max);
            s.queue.drain(..n).collect()
        };
        let (reqs, waiters): (Vec<Req>, Vec<_>) = batch.into_iter().unzip();
        let results = run(reqs).await;
        // One result per request; a waiter left without one (a short answer) is dropped, and its
        // caller gets the "abandoned" error rather than another caller's result.
        for (tx, r) in waiters.into_iter().zip(results) {
            // A caller that stopped waiting needs no answer.
            let _ = tx.send(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Notify;

    /// A coalescer of at most 8 per statement whose run records each batch's size in `sizes`,
    /// tells `started` when a batch begins, and answers it (doubling each request) at once, or,
    /// when `held`, only after `release`.
    struct Gate {
        sizes: Arc<Mutex<Vec<usize>>>,
        started: Arc<Notify>,
        release: Arc<Notify>,
        c: Arc<Coalescer<u64, u64>>,
    }

    fn gate(held: bool) -> Gate {
        let (sizes, started, release) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        );
        let run: Run<u64, u64> = {
            let (sizes, started, release) = (sizes.clone(), started.clone(), release.clone());
            Arc::new(move |reqs: Vec<u64>| {
                let (sizes, started, release) = (sizes.clone(), started.clone(), release.clone());
                Box::pin(async move {
                    sizes.lock().unwrap().push(reqs.len());
                    started.notify_one();
                    if held {
                        release.notified().await;
                    }
                    reqs.into_iter().map(|r| Ok(r * 2)).collect()
                })
            })
        };
        Gate {
            sizes,
            started,
            release,
            c: Arc::new(Coalescer::new("test", 8, run)),
        }
    }

    impl Gate {
        /// Calls `i` on a task of its own.
        fn spawn(&self, i: u64) -> tokio::task::JoinHandle<Result<u64, SigningStoreError>> {
            let c = self.c.clone();
            tokio::spawn(async move { c.call(i).await })
        }

        /// Waits until `pred` holds of the queue.
        async fn queue_until(&self, pred: impl Fn(&VecDeque<Waiting<u64, u64>>) -> bool) {
            while !pred(&self.c.state.lock().unwrap().queue) {
                tokio::task::yield_now().await;
            }
        }
    }

    #[tokio::test]
    async fn a_lone_call_goes_out_alone_and_gets_its_own_result() {
        let g = gate(false);
        assert_eq!(g.c.call(21).await.unwrap(), 42);
        assert_eq!(g.c.call(5).await.unwrap(), 10);
        assert_eq!(*g.sizes.lock().unwrap(), vec![1, 1]);
    }

    /// Calls made while a statement runs wait for it and go out together, at most `max` at a
    /// time, each with its own result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_queued_behind_a_running_statement_go_out_together_up_to_the_bound() {
        let g = gate(true);
        let first = g.spawn(0);
        g.started.notified().await;
        let rest: Vec<_> = (1..=20u64).map(|i| (i, g.spawn(i))).collect();
        // All 20 queued behind the first statement, which is still held.
        g.queue_until(|q| q.len() == 20).await;
        // Release the first statement, then each of the next ones as it starts.
        let releaser = tokio::spawn({
            let (started, release) = (g.started.clone(), g.release.clone());
            async move {
                release.notify_one();
                for _ in 0..3 {
                    started.notified().await;
                    release.notify_one();
                }
            }
        });
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (i, h) in rest {
            assert_eq!(
                h.await.unwrap().unwrap(),
                i * 2,
                "each caller gets its own result"
            );
        }
        releaser.await.unwrap();
        assert_eq!(*g.sizes.lock().unwrap(), vec![1, 8, 8, 4]);
    }

    /// A caller that stops waiting does not cancel the statement the others wait for, is not
    /// asked for when it is still queued, and the coalescer keeps serving after it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_cancels_nothing_for_the_others() {
        let g = gate(true);
        // The first caller's statement runs; it gives up meanwhile.
        let running = g.spawn(1);
        g.started.notified().await;
        running.abort();
        // A second caller queues, then gives up before its statement; a third queues and stays.
        let queued = g.spawn(2);
        g.queue_until(|q| !q.is_empty()).await;
        queued.abort();
        let _ = queued.await;
        let stayer = g.spawn(3);
        g.queue_until(|q| q.iter().any(|(r, _)| *r == 3)).await;
        g.release.notify_one();
        g.started.notified().await;
        g.release.notify_one();
        assert_eq!(stayer.await.unwrap().unwrap(), 6);
        // The first statement ran to its end; the second carried only the caller still waiting.
        assert_eq!(*g.sizes.lock().unwrap(), vec![1, 1]);
        g.release.notify_one();
        assert_eq!(g.c.call(4).await.unwrap(), 8, "and it keeps serving");
    }

    /// A run that answers fewer results than requests leaves the unanswered callers with an error,
    /// never another caller's result.
    #[tokio::test]
    async fn a_caller_left_without_a_result_gets_an_error() {
        let short: Run<u64, u64> = Arc::new(|reqs: Vec<u64>| {
            Box::pin(async move { reqs.into_iter().take(0).map(Ok).collect() })
        });
        let c = Coalescer::new("test", 8, short);
        assert!(matches!(
            c.call(1).await,
            Err(SigningStoreError::Unavailable { op: "test", .. })
        ));
    }
}
