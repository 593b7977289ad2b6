//! Finding work: HTTP log polling with a persistent cursor, a confirmation depth, backfill after
//! restarts or reconnects (the cursor is durable, so a restarted keeper resumes where it stopped) and
//! reorg handling (recent cursor blocks' hashes are re-checked every poll; removed logs are ignored).

use std::sync::Arc;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{Filter, Log};

use crate::metrics::Metrics;
use crate::store::{Cursor, Store, StoreError};

/// Poller errors.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The node failed or is unreachable (retried on the next poll).
    #[error("rpc error during {op}: {msg}")]
    Rpc {
        /// What was being done.
        op: &'static str,
        /// Message.
        msg: String,
    },
    /// The journal failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one poll found.
#[derive(Debug)]
pub enum PollOutcome {
    /// Nothing new at the confirmation depth.
    Idle {
        /// Chain head.
        head: u64,
    },
    /// New logs in `(cursor, to]`. Call [`LogPoller::commit`] with `to`/`hash` once handled.
    Logs {
        /// The logs, in chain order (removed ones filtered out).
        logs: Vec<Log>,
        /// Last block covered.
        to: u64,
        /// Its hash.
        hash: B256,
        /// Chain head.
        head: u64,
    },
    /// A reorg was detected; the cursor was rewound to `to` and the range will be re-read.
    Reorg {
        /// New cursor block.
        to: u64,
    },
}

/// Polls one contract's logs.
#[derive(Debug, Clone)]
pub struct LogPoller {
    provider: RootProvider,
    address: Address,
    store: Arc<Store>,
    /// Blocks behind head before a log is acted on.
    pub confirmations: u64,
    /// Largest `eth_getLogs` range.
    pub max_range: u64,
    /// Recent blocks re-checked for reorgs.
    pub reorg_depth: u64,
    /// First block when there is no cursor.
    pub start_block: u64,
    /// Where it counts reorgs, RPC errors, the head and the cursor (its keeper's registry).
    pub metrics: Arc<Metrics>,
}

fn rpc<'a>(
    metrics: &'a Metrics,
    op: &'static str,
) -> impl Fn(alloy::transports::TransportError) -> PollError + 'a {
    move |e| {
        metrics.rpc_errors.inc();
        PollError::Rpc {
            op,
            msg: e.to_string(),
        }
    }
}

impl LogPoller {
    /// Creates a poller for `address`.
    pub fn new(provider: RootProvider, address: Address, store: Arc<Store>) -> Self {
        Self {
            provider,
            address,
            store,
            confirmations: 0,
            max_range: 2000,
            reorg_depth: 12,
            start_block: 0,
            metrics: Arc::default(),
        }
    }

    async fn block_hash(&self, n: u64) -> Result<Option<B256>, PollError> {
        let b = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .await
            .map_err(rpc(&self.metrics, "eth_getBlockByNumber"))?;
        Ok(b.map(|b| b.header.hash))
    }

    /// Re-checks the stored hashes of recent blocks — the last `reorg_depth` below the cursor and any
    /// recorded above it (blocks our own transactions landed in, see the transaction manager); on a
    /// mismatch rewinds the cursor below it.
    ///
    /// Only blocks up to the node's `head` are checked: a block the node has not reached is no
    /// evidence of a reorg. A node that lags (behind a load balancer, resyncing) answers "no such
    /// block" for it, and taking that for a changed block rewound the cursor and re-planned mined
    /// answers whose receipts the lagging node could not show. Such a block is checked once the node
    /// reaches it (after a reorg to a shorter chain, once the new chain is as long again).
    async fn check_reorg(&self, cursor: Cursor, head: u64) -> Result<Option<u64>, PollError> {
        let from = cursor.block.saturating_sub(self.reorg_depth);
        if from > head {
            return Ok(None);
        }
        let recorded = self.store.block_hashes(from, head)?;
        let mut first_bad = None;
        let mut last_good = None;
        for (n, h) in recorded.iter().rev() {
            match self.block_hash(*n).await? {
                Some(chain) if chain.0 == *h => {
                    last_good = Some(*n);
                    break;
                }
                _ => first_bad = Some(*n),
            }
        }
        let Some(bad) = first_bad else {
            return Ok(None);
        };
        // Rewind to the highest recorded block whose hash still matches: hashes are recorded only at
        // commit points, so the blocks between it and the lowest mismatching one are unverified and
        // may have changed too. If even the deepest recorded block is gone, rewind past the whole
        // window.
        let to = last_good
            .unwrap_or_else(|| bad.saturating_sub(1))
            .min(cursor.block);
        let hash = if to == 0 && self.start_block == 0 {
            self.block_hash(0).await?.unwrap_or_default()
        } else {
            self.block_hash(to).await?.unwrap_or_default()
        };
        self.store.prune_blocks(0, Some(bad))?;
        self.store.set_cursor(Cursor {
            block: to,
            hash: hash.0,
        })?;
        self.metrics.reorgs.inc();
        tracing::warn!(from = cursor.block, to, "reorg detected: cursor rewound");
        Ok(Some(to))
    }

    /// [`LogPoller::check_reorg`] when there is a cursor.
    async fn check_reorg_at(
        &self,
        cursor: Option<Cursor>,
        head: u64,
    ) -> Result<Option<u64>, PollError> {
        match cursor {
            Some(c) => self.check_reorg(c, head).await,
            None => Ok(None),
        }
    }

    /// One poll: reorg check, then the next confirmed range.
    ///
    /// Reads that do not depend on each other go to the node together: the reorg check with the
    /// hash of the range's last block before its logs are read, and again with that hash after
    /// them. A poll waits for four round trips besides its logs' (head; reorg check and hash;
    /// logs; hash and reorg check), not six: against a remote node, that is most of what a
    /// request waits for between its block and its answer's start.
    pub async fn poll(&self) -> Result<PollOutcome, PollError> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(rpc(&self.metrics, "eth_blockNumber"))?;
        self.metrics.head_block.set(head);
        let cursor = self.store.cursor()?;
        let next = match cursor {
            Some(c) => c.block + 1,
            None => self.start_block,
        };
        let safe = head.saturating_sub(self.confirmations);
        if next > safe {
            return Ok(match self.check_reorg_at(cursor, head).await? {
                Some(to) => PollOutcome::Reorg { to },
                None => PollOutcome::Idle { head },
            });
        }
        let to = safe.min(next + self.max_range - 1);
        // The hash of `to` before its logs are read and after (below): a reorg that lands while the
        // range is read shows as a change, and nothing is handed out. A reorg found by the check
        // wins over the hash read beside it.
        let (reorg, before) = tokio::join!(self.check_reorg_at(cursor, head), self.block_hash(to));
        if let Some(to) = reorg? {
            return Ok(PollOutcome::Reorg { to });
        }
        let before = before?;
        let filter = Filter::new()
            .address(self.address)
            .from_block(next)
            .to_block(to);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(rpc(&self.metrics, "eth_getLogs"))?;
        // Both after the logs: the hash of `to` again, and the reorg check again.
        let (after, reorg) = tokio::join!(self.block_hash(to), self.check_reorg_at(cursor, head));
        // A reorg between the check above and this read may have replaced the cursor's block (and
        // blocks our transactions landed in) while `to` stayed put since: the logs and `hash` are
        // then the new chain's, and committing `hash` above the old chain's recorded blocks would
        // hide the reorg from every later check (each stops at the highest block that matches).
        // A reorg the check found is reported first, whatever the hash read beside it says: the
        // check has rewound the cursor, and only this outcome tells the keeper to reconcile.
        if let Some(to) = reorg? {
            return Ok(PollOutcome::Reorg { to });
        }
        // The node reported a head at or above `to`; if it has no block `to`, its answers come from
        // different states (a lagging node behind a load balancer): the logs may be incomplete and
        // there is no hash to record, so nothing is handed out (committing a zero hash rewound the
        // cursor later as a spurious reorg).
        let Some(hash) = after? else {
            self.metrics.rpc_errors.inc();
            return Err(PollError::Rpc {
                op: "eth_getBlockByNumber",
                msg: format!(
                    "the node reported head {head} but has no block {to}: lagging or inconsistent node"
                ),
            });
        };
        // A reorg while the range was read: the logs may be either chain's. Read it again next poll.
        if before != Some(hash) {
            tracing::warn!(
                to,
                "the chain changed while the range was read; reading it again"
            );
            return Ok(PollOutcome::Idle { head });
        }
        let logs = logs.into_iter().filter(|l| !l.removed).collect();
        Ok(PollOutcome::Logs {
            logs,
            to,
            hash,
            head,
        })
    }

    /// Marks everything up to `to` handled.
    pub fn commit(&self, to: u64, hash: B256) -> Result<(), PollError> {
        self.store.set_cursor(Cursor {
            block: to,
            hash: hash.0,
        })?;
        self.store
            .prune_blocks(to.saturating_sub(self.reorg_depth * 4), None)?;
        self.metrics.cursor_block.set(to);
        Ok(())
    }
}
