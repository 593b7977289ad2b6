//! Transaction manager: own nonce allocation with resync, locally signed EIP-1559 transactions that
//! are journaled before broadcast, receipts polled against a deadline, fee bumps with replacement at
//! the same nonce. Failed RPC calls are retried by the provider (`verinfer_client::rpc`: alloy's
//! retry layer, transient failures only), not here; node errors are read as
//! [`RpcFailure`](verinfer_client::rpc::RpcFailure)s, never by matching the rendered error.
//!
//! It never relies on a provider's cached nonce manager and never waits on a receipt without a
//! deadline.
//!
//! Nonce gaps: every signed transaction is entered in the journal's nonce index (nonce -> intent).
//! [`TxManager::repair_nonces`] walks the nonces between the chain's mined count and the local
//! counter: a journaled transaction still waiting is rebroadcast, a done intent whose transaction
//! vanished (reorged out) is re-planned, and a nonce nobody holds is a gap. Gaps are handed out
//! first by the next allocations; [`TxManager::fill_gaps`] fills what is left with no-op
//! self-transfers, so the transactions above a gap can be mined. A transaction counts as vanished
//! only when the node serves a different block at the height its receipt named ([`nonce_evidence`]);
//! a node that cannot show that block lags, and the repair waits for it ([`TxError::NodeBehind`]).
//!
//! Fees and gas: a dispatch round ([`Round`]) fetches fee data once and signs every transaction of
//! the round with it. Gas estimates are cached per call shape ([`CallShape`]: target, selector,
//! calldata length) and reused with a headroom on top ([`TxConfig::cached_gas_headroom`]); a
//! transaction sent on a cached estimate that fails on chain drops its shape from the cache and goes
//! back to pending once, to be estimated afresh (so a stale estimate never abandons an action). So
//! does one that ran out of gas on a fresh estimate (it used its whole gas limit: the state its gas
//! depends on changed between estimation and inclusion), up to [`MAX_OUT_OF_GAS_REPLANS`] times. Calls
//! whose gas depends on the block's randomness (the registry's operator draw) are never cached, nor
//! actions that race other keepers (their estimate is the check that they are still possible).
//!
//! A batch of attestations whose shape has no cached estimate yet is not estimated itself: its limit
//! is bounded by its members ([`TxManager::batch_bound`]), `n` times one member's own
//! `submitAttestation` gas with the margin and the cached headroom (a member may be dearer than the
//! one measured: the first answer of a request sets its output slot). Each of those single calls
//! pays the 21,000 base gas and cold reads the batch pays once, so the bound is well above the
//! batch's use (about 3x for 32 members), while a node's `eth_estimateGas` binary-searches the gas
//! limit by executing the call some twenty times, which for a 32-attestation batch is most of a cold
//! start (76 ms on anvil, against 2 ms for one member). The batch's receipt then records what its
//! shape really uses, and the next batches of the shape are sent on that. A batch that fails on its
//! bound goes back to pending to be estimated afresh, as one that failed on a cached estimate does,
//! and this manager bounds no batch again; one the node refuses for the sender's balance is estimated
//! afresh too (its estimate asks for less). The trade-off is the cache's: a member that can no
//! longer be answered makes the bounded batch revert on chain (the members are then retried alone),
//! where an estimate of the whole batch would have refused it before sending.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, TxHash, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::transports::TransportError;
use tokio::sync::Mutex;
use verinfer_client::rpc::RpcFailure;

use crate::attest::HotKey;
use crate::metrics::Metrics;
use crate::store::{Inclusion, Intent, IntentKind, IntentStatus, Store, StoreError};

/// Tunables of the transaction manager.
#[derive(Clone, Debug)]
pub struct TxConfig {
    /// How long to wait for a receipt before bumping the fee.
    pub receipt_timeout: Duration,
    /// Receipt polling interval: the longest wait between two receipt polls of one transaction. The
    /// first polls after a broadcast come sooner ([`receipt_backoff`]: a 64th of it, doubling up
    /// to it), so a transaction a node includes at once is seen at once.
    pub poll_interval: Duration,
    /// Fee bump per replacement, in percent (at least 13, i.e. above the 12.5 % nodes require).
    pub bump_percent: u64,
    /// Replacements before giving up on this attempt (the intent stays journaled).
    pub max_bumps: u32,
    /// Hard cap on `maxFeePerGas`, wei.
    pub max_fee_cap: u128,
    /// Broadcasts retried after the node refuses the nonce (each after a nonce resync).
    pub rpc_retries: u32,
    /// Gas limit = estimate * this / 100.
    pub gas_margin_percent: u64,
    /// Gas added to the limit of a call whose estimate comes from the gas cache (cached estimate *
    /// `gas_margin_percent` / 100 + this): a call of the same shape may write a storage slot the
    /// estimated one found set (22,100 gas for a zero to non-zero `SSTORE` of a cold slot).
    pub cached_gas_headroom: u64,
}

impl Default for TxConfig {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
            bump_percent: 15,
            max_bumps: 5,
            max_fee_cap: 500_000_000_000,
            rpc_retries: 5,
            gas_margin_percent: 130,
            cached_gas_headroom: 25_000,
        }
    }
}

/// Errors of the transaction manager.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// An RPC call failed (after the provider's retries of a transient failure).
    #[error("rpc error during {op}: {source}")]
    Rpc {
        /// What was being done.
        op: &'static str,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The call would revert (at estimation) or reverted (on chain).
    #[error("transaction for {key} reverts: {reason}")]
    Reverted {
        /// Intent key.
        key: String,
        /// The decoded custom error with its arguments (`InferenceRegistry::InvalidSignature(operator
        /// = 0x..) (hint: ..)`) when the node returned revert data, else the node's message.
        reason: String,
    },
    /// The sender cannot pay for the transaction's gas: sending stops at once (no fee bumps) and
    /// the intent stays pending, to be sent once the account is funded.
    #[error("transaction for {key}: {address} has {balance} wei, needs {needed} wei (gas limit x max fee): fund the hot key")]
    InsufficientFunds {
        /// Intent key.
        key: String,
        /// The sending account.
        address: Address,
        /// Its balance, wei.
        balance: U256,
        /// Gas limit x max fee per gas, wei.
        needed: U256,
    },
    /// No receipt after every allowed fee bump; the intent stays journaled as sent.
    #[error("transaction for {key} still not mined after {bumps} fee bumps")]
    Stuck {
        /// Intent key.
        key: String,
        /// Bumps done.
        bumps: u32,
    },
    /// The transaction waits behind a lower nonce of ours that the chain has not mined (a nonce
    /// gap, e.g. after a reorg dropped one of our transactions). Fee bumps cannot help;
    /// [`TxManager::repair_nonces`] can.
    #[error("transaction for {key} at nonce {nonce} waits behind nonce {mined}, not mined")]
    NonceGap {
        /// Intent key.
        key: String,
        /// Its nonce.
        nonce: u64,
        /// The chain's mined transaction count of the sender.
        mined: u64,
    },
    /// This process lost the right to send (a replica without the sender lease) while the intent's
    /// transaction waited: no rebroadcast, no fee bump. The intent stays journaled as sent: the
    /// lease holder's transaction at that nonce settles it, or this process's nonce repair once it
    /// holds the lease again.
    #[error("{key}: not the sender-lease holder any more; transaction left journaled, not rebroadcast or bumped")]
    Withheld {
        /// Intent key.
        key: String,
    },
    /// The nonce repair found the node unable to show a block the journal has seen (the block our
    /// transaction at `nonce` was mined in, or a later one: its head is below it, or it reports a
    /// head at or above it and has no such block): a lagging or inconsistent node (behind a load
    /// balancer, resyncing), whose counts and missing receipts are no evidence of a reorg. Nothing
    /// was re-planned and no gap recorded; repair again later (once the node has caught up it
    /// decides).
    #[error("nonce repair deferred: the node (head {head}) cannot show block {block}, which the journal has seen, so its word on nonce {nonce} proves nothing (lagging node); nothing re-planned")]
    NodeBehind {
        /// The node's head.
        head: u64,
        /// The block it cannot show.
        block: u64,
        /// The first nonce it could not judge.
        nonce: u64,
    },
    /// A transaction failed on chain on a stale gas estimate (sent with a cached estimate, or out of
    /// gas because the state changed between estimation and inclusion): the intent is pending again
    /// and its next dispatch estimates afresh.
    #[error(
        "transaction for {key} failed on chain ({tx_hash}) on a stale gas estimate; re-planned"
    )]
    Replan {
        /// Intent key.
        key: String,
        /// The failed transaction.
        tx_hash: TxHash,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The journal failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A journaled intent is malformed.
    #[error("bad journaled intent {key}: {reason}")]
    BadIntent {
        /// Intent key.
        key: String,
        /// Reason.
        reason: String,
    },
}

/// Outcome of executing an intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    /// Transaction hash.
    pub tx_hash: TxHash,
    /// Gas used.
    pub gas_used: u64,
    /// Block it was included in.
    pub block: u64,
}

/// The local nonce allocation: the next fresh nonce and the gaps below it to hand out first.
#[derive(Debug, Default)]
struct Nonces {
    next: Option<u64>,
    gaps: BTreeSet<u64>,
}

/// What [`TxManager::repair_nonces`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceRepair {
    /// The chain's mined transaction count of the sender.
    pub mined: u64,
    /// The local counter after the repair (next fresh nonce).
    pub next: u64,
    /// Nonces in `[mined, next)` that no transaction of ours holds.
    pub gaps: Vec<u64>,
    /// Done intents whose transaction vanished from the chain, set back to pending.
    pub replanned: Vec<String>,
    /// Journaled transactions still waiting, rebroadcast.
    pub rebroadcast: usize,
}

/// The furthest the nonce repair looks above the mined count.
const MAX_REPAIR_SPAN: u64 = 4096;

/// What the node's answers prove about a journaled nonce that its mined count says is unused and
/// whose transaction's receipt it does not show ([`nonce_evidence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceEvidence {
    /// The nonce is used: the node has the block our transaction at it was mined in (same hash),
    /// so the transaction is mined whatever the node's count or receipt lookup says.
    Used,
    /// The node's chain no longer has our transaction: its head is at or above every block the
    /// journal recorded and it serves another block at the height the transaction was mined in (or,
    /// with no inclusion recorded, nothing more is known). The nonce is a gap and a done intent
    /// holding it is re-planned.
    Free,
    /// The node cannot show `block` (its head is below it, or it has no block at that height
    /// although its head is at or above it): it lags, and decides nothing.
    Unproven {
        /// The block it cannot show.
        block: u64,
    },
}

/// Judges a journaled nonce at or above the node's mined count whose transaction's receipt the
/// node does not show (or that holds no transaction of ours with a receipt): `head` is the node's
/// head, `mined_at` where our transaction at the nonce was mined as its receipt said (if recorded),
/// `node_hash` the node's hash of block `mined_at.block` (`None` if it has no such block or it was
/// not asked), `last_recorded` the highest block whose hash the journal holds (inclusion blocks of
/// our receipts and the log cursor's blocks).
///
/// The recorded block under its hash proves the nonce used. Gone takes more: a node whose head is
/// below any block we have seen lags and proves nothing (this also covers a transaction a reorg
/// moved to a later block, whose inclusion record still names the earlier one: the log cursor has
/// passed the later block by the time a node lags behind it); at or above them, another block at
/// the inclusion height proves the transaction gone, and with no inclusion recorded (journals from
/// before the record) the node's count is taken as before. After a reorg to a shorter chain the
/// verdict waits until the new chain is as long again, as the log poller's reorg check does.
pub fn nonce_evidence(
    head: u64,
    mined_at: Option<&Inclusion>,
    node_hash: Option<[u8; 32]>,
    last_recorded: Option<u64>,
) -> NonceEvidence {
    let behind_seen = last_recorded.filter(|b| head < *b);
    match mined_at {
        Some(at) if head < at.block => NonceEvidence::Unproven { block: at.block },
        Some(at) => match node_hash {
            Some(h) if h == at.block_hash => NonceEvidence::Used,
            Some(_) => match behind_seen {
                Some(block) => NonceEvidence::Unproven { block },
                None => NonceEvidence::Free,
            },
            None => NonceEvidence::Unproven { block: at.block },
        },
        None => match behind_seen {
            Some(block) => NonceEvidence::Unproven { block },
            None => NonceEvidence::Free,
        },
    }
}

/// The shape of a call, the key of the gas cache: calls of one shape (same target, same function,
/// same calldata length: same argument sizes) cost about the same gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallShape {
    /// Call target.
    pub to: Address,
    /// Function selector.
    pub selector: [u8; 4],
    /// Calldata length, bytes.
    pub len: usize,
}

/// Selectors never cached: calls whose gas depends on the block's randomness. These are the
/// registry's request entry points, the only callers of its operator draw (`_draw`, reached through
/// `_newRequest`; the draw's path and so its gas follows `block.prevrandao`, docs/attestation.md "Gas
/// reserve of the draw").
const RANDOM_GAS_SELECTORS: [[u8; 4]; 2] = [
    <verinfer_bindings::InferenceRegistry::requestInferenceCall as alloy::sol_types::SolCall>::SELECTOR,
    <verinfer_bindings::InferenceRegistry::requestInferenceWithCallbackCall as alloy::sol_types::SolCall>::SELECTOR,
];

impl CallShape {
    /// The shape of a call to `to` with `data`, or `None` when its gas is not cached: a contract
    /// creation, calldata without a selector (a plain transfer), or a call whose gas depends on the
    /// block's randomness ([`RANDOM_GAS_SELECTORS`]).
    pub fn of(to: Option<Address>, data: &[u8]) -> Option<Self> {
        let to = to?;
        let selector: [u8; 4] = data.get(..4)?.try_into().ok()?;
        if RANDOM_GAS_SELECTORS.contains(&selector) {
            return None;
        }
        Some(Self {
            to,
            selector,
            len: data.len(),
        })
    }
}

/// The gas-cache key of a call of `kind`: its shape, for the kinds whose limit may come from the
/// cache (attestations and one-off calls; `TxManager::gas_for`), else `None`.
fn cacheable_shape(kind: IntentKind, to: Option<Address>, data: &[u8]) -> Option<CallShape> {
    CallShape::of(to, data).filter(|_| matches!(kind, IntentKind::Call | IntentKind::Attest))
}

/// Gas estimates by call shape (raw `eth_estimateGas` results, before any margin).
#[derive(Debug, Default)]
struct GasCache {
    entries: std::sync::Mutex<HashMap<CallShape, u64>>,
}

impl GasCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallShape, u64>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached estimate of `shape`.
    fn get(&self, shape: &CallShape) -> Option<u64> {
        self.lock().get(shape).copied()
    }

    /// Records an estimate or a mined transaction's gas use: the entry only grows, so it covers
    /// the most expensive call of the shape seen.
    fn observe(&self, shape: CallShape, gas: u64) {
        let mut m = self.lock();
        let e = m.entry(shape).or_insert(gas);
        *e = (*e).max(gas);
    }

    /// Forgets `shape` (a transaction sent on its estimate failed).
    fn invalidate(&self, shape: &CallShape) {
        self.lock().remove(shape);
    }
}

/// How long a round's fee data is reused: a round that lasts longer (its window refills as
/// transactions settle) looks the fees up again.
pub const ROUND_FEES_MAX_AGE: Duration = Duration::from_secs(12);

/// One dispatch round: the fee data fetched for it, reused for every transaction the round signs
/// for up to [`ROUND_FEES_MAX_AGE`]. Make one per round of [`TxManager::dispatch_in`] calls.
#[derive(Debug, Default)]
pub struct Round {
    fees: Mutex<Option<(Instant, (u128, u128))>>,
}

impl Round {
    /// The round's fees if fetched at most [`ROUND_FEES_MAX_AGE`] before `now`.
    fn fresh(cached: Option<(Instant, (u128, u128))>, now: Instant) -> Option<(u128, u128)> {
        cached
            .filter(|(at, _)| now.saturating_duration_since(*at) <= ROUND_FEES_MAX_AGE)
            .map(|(_, fees)| fees)
    }
}

/// Sends journaled intents as transactions from one account.
#[derive(Debug)]
pub struct TxManager {
    provider: RootProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    next_nonce: Mutex<Nonces>,
    store: Arc<Store>,
    cfg: TxConfig,
    metrics: Arc<Metrics>,
    /// Nonces of transactions dispatched and not yet settled (the in-flight window).
    in_flight: Window,
    /// Gas estimates by call shape.
    gas_cache: GasCache,
    /// Batch shapes sent on a bound from their members ([`TxManager::batch_bound`]) and not yet
    /// mined.
    bounded: std::sync::Mutex<HashMap<CallShape, usize>>,
    /// Set when a batch sent on a bound failed on chain: no batch is bounded again.
    bounds_off: std::sync::atomic::AtomicBool,
    /// Intents sent on a cached estimate that failed on chain: their next dispatch estimates.
    estimate_next: std::sync::Mutex<HashSet<String>>,
    /// Out-of-gas failures re-planned so far, by intent (bounded by [`MAX_OUT_OF_GAS_REPLANS`]).
    out_of_gas: std::sync::Mutex<HashMap<String, u32>>,
    /// Receipts of our transactions read block by block, shared by the window's settles.
    hub: Mutex<ReceiptHub>,
    /// Signalled by a hub scan that found receipts of ours: the settles waiting out their poll
    /// backoff look in the hub at once ([`TxManager::backoff_or_hub`]), whoever's scan it was.
    hub_found: tokio::sync::Notify,
    /// Whether the hub's last scan found receipts of ours: the chain is including our
    /// transactions now, so the hub reads again sooner and the settles' backoff does not grow
    /// ([`TxManager::hub_receipt`], [`TxManager::settle`]).
    hub_moving: std::sync::atomic::AtomicBool,
    /// Held while a call shape is primed ([`TxManager::prime`], [`TxManager::prime_call`]): a
    /// prime waits for one under way instead of asking the node for the same estimate again.
    priming: Mutex<()>,
    /// Fees read ahead of a round ([`TxManager::prime_call`]): the next round that needs fees
    /// takes them instead of asking the node, if they are fresh ([`ROUND_FEES_MAX_AGE`]).
    fee_seed: std::sync::Mutex<Option<(Instant, (u128, u128))>>,
    /// Whether this process may put transactions on the wire now ([`TxManager::with_send_gate`]);
    /// `None`: always.
    gate: Option<SendGate>,
}

/// Whether a transaction manager may put transactions on the wire now: a keeper replica may only
/// while it holds its operator's sender lease (docs/keeper.md, "One sender at a time").
#[derive(Clone)]
pub struct SendGate(Arc<dyn Fn() -> bool + Send + Sync>);

impl SendGate {
    /// A gate open whenever `open` says so.
    pub fn new(open: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(open))
    }

    /// Whether the gate is open now.
    pub fn is_open(&self) -> bool {
        (self.0)()
    }
}

impl std::fmt::Debug for SendGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SendGate").field(&self.is_open()).finish()
    }
}

/// Blocks the receipt hub reads at most per scan (a longer jump is left to the direct polls).
const HUB_MAX_SCAN: u64 = 64;

/// How long the hub keeps a receipt nobody took, in blocks.
const HUB_KEEP: u64 = 256;

/// Receipts of the sender's transactions, read block by block (`eth_blockNumber`, then one
/// `eth_getBlockReceipts` per new block, all of a scan's in one JSON-RPC batch), shared by every
/// settle of the window: with many
/// transactions in flight one scan answers all of them, instead of each polling its own receipt.
///
/// Coverage: the hub reads every block after the head it started from, read at `covered_since`.
/// A transaction that a direct poll sent at or after `covered_since` did not find, or that this
/// process first broadcast at or after it, is mined, if at all, in a later block, which the hub
/// reads. A settle whose last direct poll (or first broadcast) is older polls directly once more
/// instead. A jump of more than [`HUB_MAX_SCAN`] blocks (a long idle spell) restarts the coverage
/// at the new head, without reading the blocks skipped; so does a keeper with nothing in flight
/// ([`TxManager::prime_hub`]), which has no receipts to look for.
#[derive(Debug, Default)]
struct ReceiptHub {
    /// The last block scanned (or the head the coverage started from).
    scanned: Option<u64>,
    /// When the head the coverage started from was read (its answer arrived).
    covered_since: Option<Instant>,
    /// When the head was last read.
    polled: Option<Instant>,
    /// Receipts of the sender's transactions found and not yet taken, by hash.
    found: HashMap<TxHash, TransactionReceipt>,
    /// Whether the last scan failed: until one succeeds, the settles poll directly (a node
    /// without `eth_getBlockReceipts` is served as before the hub).
    failed: bool,
}

/// The hub's answer for one settle.
enum HubAnswer {
    /// Its receipt.
    Found(Box<TransactionReceipt>),
    /// Not mined in any block read so far, and the hub covers every block it may be mined in.
    NotYet,
    /// The hub does not cover the blocks since the settle's last direct poll (or its first
    /// broadcast): poll directly.
    Uncovered,
}

impl ReceiptHub {
    /// Takes the receipt of any of `hashes`.
    fn take(&mut self, hashes: &[TxHash]) -> Option<TransactionReceipt> {
        hashes.iter().find_map(|h| self.found.remove(h))
    }
}

/// How many times one intent whose transaction ran out of gas on chain is re-planned (estimated
/// afresh at the chain's new state) before it is abandoned. An estimate goes stale when another
/// transaction changes the state the call's gas depends on between estimation and inclusion (two
/// keepers committing to one referee game: the second commit opens the bisection and costs more);
/// a call that runs out of gas this often on fresh estimates is given up rather than paid for again.
pub const MAX_OUT_OF_GAS_REPLANS: u32 = 3;

/// The in-flight window: nonces dispatched and not yet settled (or dropped).
type Window = Arc<std::sync::Mutex<BTreeSet<u64>>>;

/// Locks the window (a poisoned lock only means a panic elsewhere while holding it; the set stays
/// usable).
fn lock(w: &Window) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
    w.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A nonce's place in the window, given back when its [`InFlight`] is settled or dropped (a round
/// cancelled at shutdown leaves the transaction journaled, not the window occupied).
#[derive(Debug)]
struct Slot {
    window: Window,
    nonce: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.window).remove(&self.nonce);
    }
}

/// A transaction signed, journaled and broadcast, waiting to be settled by [`TxManager::settle`].
#[derive(Debug)]
#[must_use = "an in-flight transaction is settled (awaited, fee-bumped) by TxManager::settle"]
pub struct InFlight {
    intent: Intent,
    to: Option<Address>,
    data: Bytes,
    slot: Slot,
    /// The cached shape whose estimate set its gas limit, if it was not estimated for it.
    cached: Option<CallShape>,
    /// When this process first broadcast these signed bytes (just signed: nobody sent them
    /// before), so no block before then holds them; `None` for a transaction resumed from the
    /// journal. See [`TxManager::settle`].
    sent_at: Option<Instant>,
}

impl InFlight {
    /// The intent's key.
    pub fn key(&self) -> &str {
        &self.intent.key
    }

    /// The nonce it holds.
    pub fn nonce(&self) -> u64 {
        self.slot.nonce
    }
}

/// What [`TxManager::dispatch`] did with an intent.
#[derive(Debug)]
pub enum Dispatch {
    /// Sent (or, after a restart, rebroadcast at its journaled nonce): settle it.
    InFlight(Box<InFlight>),
    /// Its transaction was already mined (a restart found the receipt).
    Done(Executed),
}

/// One key's result in an attempt of [`TxManager::dispatch_group`].
enum Attempt {
    /// Settled for this dispatch (in flight, done, or an error).
    Done(Result<Dispatch, TxError>),
    /// The node refused the nonce: pending again, to be signed at a resynced nonce.
    NonceRejected,
}

/// What [`TxManager::prepare`] made of an intent.
enum Prepared {
    /// Reconciled: mined already, or its journaled bytes rebroadcast.
    Ready(Dispatch),
    /// Newly signed (status `Sent`, not yet journaled).
    Signed(Box<Signed>),
}

/// A newly signed transaction, waiting for its group's journal write and broadcast.
struct Signed {
    intent: Intent,
    to: Option<Address>,
    data: Bytes,
    cached: Option<CallShape>,
    gas: u64,
    max_fee: u128,
    /// Its nonce's place in the window, taken once the group is journaled
    /// ([`TxManager::sign_group`]): a group still landing counts in the window.
    slot: Option<Slot>,
}

/// A group signed and journaled ([`TxManager::sign_group`]), its broadcast not booked yet.
struct SignedGroup {
    keys: Vec<String>,
    /// The results of the members not signed (reconciled, or an error), by position.
    out: Vec<Option<Attempt>>,
    /// The newly signed members, by position.
    signed: Vec<(usize, Box<Signed>)>,
    started: std::time::Instant,
    prepared: Duration,
    journaled: Duration,
    /// When the broadcast began (no earlier block can hold freshly signed bytes).
    sent_at: Instant,
}

impl SignedGroup {
    /// The raw bytes to broadcast, in nonce order.
    fn raws(&self) -> Vec<Bytes> {
        self.signed
            .iter()
            .filter_map(|(_, s)| match &s.intent.status {
                IntentStatus::Sent { raw, .. } => Some(raw.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A group journaled and broadcasting ([`TxManager::launch_group`]); book it with
/// [`TxManager::land_group`]. Dropped unbooked, its broadcast is abandoned where it stands (the
/// transactions are journaled `Sent`: the restart or the nonce repair rebroadcasts them, as after
/// a crash).
pub struct Launched {
    signed: SignedGroup,
    broadcast: Option<AbortOnDrop<Vec<Result<(), TransportError>>>>,
}

impl Launched {
    /// How many of the group's transactions hold a place in the window until it lands: those
    /// signed and being broadcast, and those resumed from the journal (rebroadcast at their
    /// nonce). The others (mined already, or failed before signing) hold none; every member is
    /// booked at landing all the same.
    pub fn in_flight(&self) -> usize {
        let resumed = self
            .signed
            .out
            .iter()
            .filter(|a| matches!(a, Some(Attempt::Done(Ok(Dispatch::InFlight(_))))))
            .count();
        self.signed.signed.len() + resumed
    }
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launched")
            .field("keys", &self.signed.keys)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// One key's result when its launched group lands ([`TxManager::land_group`]).
#[derive(Debug)]
pub enum Landed {
    /// Settled for this dispatch (in flight, done, or an error), as [`TxManager::dispatch_group`]
    /// gives it.
    Settled(Result<Dispatch, TxError>),
    /// The node refused the nonce: pending again, for [`TxManager::redispatch`].
    NonceRejected,
}

/// A spawned task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    /// Waits for the task's output.
    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The nonce of a signed intent (`None` for any other status).
fn sent_nonce(intent: &Intent) -> Option<u64> {
    match intent.status {
        IntentStatus::Sent { nonce, .. } => Some(nonce),
        _ => None,
    }
}

/// The gas limit of a signed raw transaction (EIP-2718 encoding), if it decodes.
fn gas_limit_of(raw: &[u8]) -> Option<u64> {
    use alloy::consensus::Transaction;
    use alloy::eips::eip2718::Decodable2718;
    TxEnvelope::decode_2718(&mut &raw[..])
        .ok()
        .map(|env| env.gas_limit())
}

/// The wait after a transaction's receipt look at backoff step `polls`: `interval / 64` after the
/// first look, doubling each step up to `interval` (at least 1 ms). On a chain that includes at
/// once (an automining node includes a transaction a few milliseconds after accepting it, so the
/// look right after the broadcast usually misses) the receipt is seen within a few milliseconds
/// instead of an eighth of the interval (31 ms at the default 250 ms, which bounded one transaction
/// in flight at about 32 a second); on a chain with seconds-long blocks it costs six extra looks per
/// transaction (with several in flight they go to the shared [`ReceiptHub`], and the step does not
/// grow while the hub's scans find receipts of ours: [`TxManager::settle`]).
pub fn receipt_backoff(interval: Duration, polls: u32) -> Duration {
    let first = (interval / 64).max(Duration::from_millis(1));
    first
        .saturating_mul(1u32 << polls.min(6))
        .min(interval.max(Duration::from_millis(1)))
}

/// [`TxError::Reverted`] for `key`: the reason is the decoded custom error (name, arguments in
/// units, hint; e.g. `DisputeGovernor::ChallengerNotAttested(..)`) when the node returned revert
/// data, else the node's message `msg`.
pub fn reverted(key: &str, msg: &str, data: Option<&[u8]>) -> TxError {
    let reason = match data {
        Some(d) if !d.is_empty() => verinfer_bindings::decode::decode_revert(d).to_string(),
        _ => msg.to_owned(),
    };
    TxError::Reverted {
        key: key.to_owned(),
        reason,
    }
}

/// `map_err` of a failed RPC call made for `op`.
fn rpc(op: &'static str) -> impl FnOnce(TransportError) -> TxError {
    move |source| TxError::Rpc { op, source }
}

/// A broadcast's outcome: a transaction the node knows already ("already known") counts as sent.
fn counted_as_sent(r: Result<(), TransportError>) -> Result<(), TransportError> {
    match r {
        Err(e) if RpcFailure::of(&e) == RpcFailure::AlreadyKnown => Ok(()),
        r => r,
    }
}

/// Broadcasts raw bytes; "already known" counts as success. A closed send `gate` withholds it: the
/// bytes stay journaled, and the settle, the nonce repair or the next holder decides.
async fn broadcast_one(
    provider: &RootProvider,
    gate: Option<&SendGate>,
    raw: &[u8],
) -> Result<(), TransportError> {
    if !gate.is_none_or(SendGate::is_open) {
        tracing::debug!("not the sender-lease holder: broadcast withheld");
        return Ok(());
    }
    counted_as_sent(provider.send_raw_transaction(raw).await.map(|_pending| ()))
}

/// Broadcasts a group's signed transactions, in nonce order, in one JSON-RPC batch (one HTTP
/// round trip): the node takes them in the order they were signed, where concurrent requests
/// arrived in any order (none waits in its pool behind a lower nonce still on the way; on an
/// automining anvil the keeper's groups land in fewer blocks: docs/performance.md). One result per
/// transaction, as [`broadcast_one`] gives it. A batch that did not go through (the
/// transport failed) is sent again as one request per transaction, concurrently, so each gets
/// the node's own answer (one that did reach the node is "already known" then, which counts as
/// sent). Through a retrying provider (the keeper's), a batch with any member refused comes back
/// as that member's error, and so takes the same way.
async fn broadcast_all(
    provider: &RootProvider,
    gate: Option<&SendGate>,
    raws: &[Bytes],
) -> Vec<Result<(), TransportError>> {
    if raws.len() > 1 && gate.is_none_or(SendGate::is_open) {
        let mut batch = alloy::rpc::client::BatchRequest::new(provider.client());
        let waiters: Result<Vec<_>, _> = raws
            .iter()
            .map(|raw| batch.add_call::<_, TxHash>("eth_sendRawTransaction", &(raw.clone(),)))
            .collect();
        let sent = match waiters {
            Ok(w) => batch.send().await.map(|()| w),
            Err(e) => Err(e),
        };
        match sent {
            Ok(waiters) => {
                let mut out = Vec::with_capacity(raws.len());
                for waiter in waiters {
                    out.push(counted_as_sent(waiter.await.map(|_hash| ())));
                }
                return out;
            }
            Err(e) => {
                tracing::debug!(error = %e, "batch broadcast failed; broadcasting one by one")
            }
        }
    }
    futures::future::join_all(raws.iter().map(|raw| broadcast_one(provider, gate, raw))).await
}

impl TxManager {
    /// Creates a manager sending from `key` on `chain_id` through `provider`. The manager does not
    /// retry a failed call itself: build `provider` with `verinfer_client::rpc::http_provider` (as
    /// the keeper does) to ride out a node that is down for a moment.
    pub fn new(
        provider: RootProvider,
        key: &HotKey,
        chain_id: u64,
        store: Arc<Store>,
        cfg: TxConfig,
    ) -> Self {
        Self {
            provider,
            wallet: EthereumWallet::from(key.signer().clone()),
            from: key.address(),
            chain_id,
            next_nonce: Mutex::new(Nonces::default()),
            store,
            cfg,
            metrics: Arc::default(),
            in_flight: Window::default(),
            gas_cache: GasCache::default(),
            estimate_next: std::sync::Mutex::default(),
            bounded: std::sync::Mutex::default(),
            bounds_off: std::sync::atomic::AtomicBool::new(false),
            out_of_gas: std::sync::Mutex::default(),
            hub: Mutex::default(),
            hub_found: tokio::sync::Notify::new(),
            hub_moving: std::sync::atomic::AtomicBool::new(false),
            priming: Mutex::new(()),
            fee_seed: std::sync::Mutex::new(None),
            gate: None,
        }
    }

    /// Counts fee bumps in `metrics` (its keeper's registry) instead of a private one.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Puts transactions on the wire only while `gate` says so: a closed gate withholds every
    /// broadcast (new, rebroadcast or repair) and every fee bump; what was signed stays journaled.
    pub fn with_send_gate(mut self, gate: SendGate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Whether the send gate is open (always without one).
    pub fn may_send(&self) -> bool {
        self.gate.as_ref().is_none_or(SendGate::is_open)
    }

    /// The sending account.
    pub fn from(&self) -> Address {
        self.from
    }

    /// The provider.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    /// Forgets the local nonce; the next allocation reads the chain's pending count.
    pub async fn resync_nonce(&self) {
        *self.next_nonce.lock().await = Nonces::default();
    }

    async fn chain_nonce(&self, pending: bool) -> Result<u64, TxError> {
        let call = self.provider.get_transaction_count(self.from);
        let r = if pending {
            call.pending().await
        } else {
            call.latest().await
        };
        r.map_err(rpc("eth_getTransactionCount"))
    }

    /// The next nonce: the lowest known gap, else the next fresh one.
    async fn allocate_nonce(&self) -> Result<u64, TxError> {
        let mut guard = self.next_nonce.lock().await;
        if let Some(gap) = guard.gaps.pop_first() {
            return Ok(gap);
        }
        let n = self.next_fresh(&mut guard).await?;
        guard.next = Some(n + 1);
        Ok(n)
    }

    /// The next fresh nonce: the counter, read (and kept) when no allocation has read it since the
    /// last resync: the node's pending count, or one above the highest nonce in flight when that is
    /// higher. A nonce in the window belongs to journaled bytes that are rebroadcast at it until
    /// settled, even when the node does not have them (a broadcast that failed on the way), so it
    /// is never handed to another transaction.
    async fn next_fresh(&self, nonces: &mut Nonces) -> Result<u64, TxError> {
        if let Some(n) = nonces.next {
            return Ok(n);
        }
        let pending = self.chain_nonce(true).await?;
        let above_window = lock(&self.in_flight).last().map_or(0, |&n| n + 1);
        let n = pending.max(above_window);
        nonces.next = Some(n);
        Ok(n)
    }

    /// The fees of `round`: fetched by its first transaction, then reused while fresh. The round's
    /// lock is held during the fetch, so callers at the same moment share one lookup.
    async fn round_fees(&self, round: &Round) -> Result<(u128, u128), TxError> {
        let mut cached = round.fees.lock().await;
        let now = Instant::now();
        if let Some(fees) = Round::fresh(*cached, now) {
            return Ok(fees);
        }
        // Fees read ahead for the next round ([`TxManager::prime_call`]) seed one round.
        let seed = self.seed_fees().take();
        if let Some(fees) = Round::fresh(seed, now) {
            *cached = seed;
            return Ok(fees);
        }
        let fees = self.fees().await?;
        *cached = Some((Instant::now(), fees));
        Ok(fees)
    }

    /// Reads what the next signature needs and is not known yet (the round's fees, the account's
    /// next nonce when no allocation has read it), without allocating anything. An error is left
    /// for the read that needs the value to report.
    async fn warm(&self, round: &Round) {
        let (_, ()) = tokio::join!(self.round_fees(round), self.warm_nonce());
    }

    /// Reads the account's next nonce when no allocation has read it (and no gap waits to be
    /// handed out), without allocating it. An error is left for the allocation to report.
    async fn warm_nonce(&self) {
        let mut guard = self.next_nonce.lock().await;
        if guard.gaps.is_empty() {
            let _ = self.next_fresh(&mut guard).await;
        }
    }

    /// Readies the gas cache for `key`'s call before a group is formed around it. When the intent
    /// is pending, its limit would come from the cache (an attestation or a one-off call, not
    /// marked to be estimated afresh, as in `gas_for`) and the cache knows neither the call's shape
    /// nor, for a batch, its first member's (which bounds the batch, as in `batch_bound`), that
    /// shape (the member's, for a batch) is estimated and cached now, while the round's fees and
    /// the account's nonce are read. Nothing is allocated, signed or journaled. An estimate that
    /// fails leaves the cache as it was: the dispatch estimates again and decides. Returns whether
    /// it asked the node for an estimate (the caller may then read its queue again: work
    /// journaled meanwhile can join the group).
    ///
    /// The call is then sent on the cached estimate, as every later call of its shape is: with the
    /// cache's headroom, and one that fails on chain is re-planned at a fresh estimate
    /// (docs/keeper.md, "Gas cached per call shape"), where without priming the first call of a
    /// shape went out on its own estimate.
    pub async fn prime(&self, key: &str, round: &Round) -> bool {
        let Ok(Some(intent)) = self.store.intent(key) else {
            return false;
        };
        let Some(shape) = cacheable_shape(intent.kind, intent.to, &intent.calldata) else {
            return false;
        };
        if intent.status != IntentStatus::Pending
            || self.gas_cache.get(&shape).is_some()
            || self.afresh_marks().contains(key)
        {
            return false;
        }
        let (probe, shape) = self.bounding_member(&intent).unwrap_or((intent, shape));
        // A prime under way (the collect stage's, [`TxManager::prime_call`]) is waited for, not
        // asked again; the queue may have grown meanwhile.
        let waited = self.priming.try_lock().is_err();
        let _priming = self.priming.lock().await;
        if self.gas_cache.get(&shape).is_some() {
            return waited;
        }
        let (raw, ()) = tokio::join!(
            self.estimate(&probe.key, probe.to, &probe.calldata),
            self.warm(round)
        );
        if let Ok(raw) = raw {
            self.gas_cache.observe(shape, raw);
        }
        true
    }

    /// Whether the gas cache knows the shape of `intent`'s call (or the call is not cached by
    /// shape): nothing for [`TxManager::prime_call`] to do.
    pub fn gas_known(&self, intent: &Intent) -> bool {
        cacheable_shape(intent.kind, intent.to, &intent.calldata)
            .is_none_or(|shape| self.gas_cache.get(&shape).is_some())
    }

    /// Reads ahead what the round that will send `intent`, an intent not journaled yet, needs
    /// before its first signature, all at once: the gas of its call when the cache does not know
    /// its shape (estimated and cached), the fees when none are read ahead already (kept for the
    /// next round that needs fees, which takes them while fresh instead of asking the node), and
    /// the account's nonce when no allocation has read it. The collect stage primes its answers'
    /// round this way as soon as a range's first answer is signed, while the rest of its chunk is
    /// answered and journaled: the execute stage's first group then signs at once
    /// ([`TxManager::prime`] finds the estimate, or waits for this one instead of asking again)
    /// rather than after round trips of its own, which a journal write of the collect stage (the
    /// two stages share a task) could hold up further. Sends nothing; a read that fails leaves
    /// things as they were (the dispatch reads again and decides).
    pub async fn prime_call(&self, intent: &Intent) {
        let estimate = async {
            let Some(shape) = cacheable_shape(intent.kind, intent.to, &intent.calldata) else {
                return;
            };
            let _priming = self.priming.lock().await;
            if self.gas_cache.get(&shape).is_some() {
                return;
            }
            if let Ok(raw) = self
                .estimate(&intent.key, intent.to, &intent.calldata)
                .await
            {
                self.gas_cache.observe(shape, raw);
            }
        };
        let fees = async {
            if self.fees_read_ahead() {
                return;
            }
            if let Ok(fees) = self.fees().await {
                *self.seed_fees() = Some((Instant::now(), fees));
            }
        };
        tokio::join!(estimate, fees, self.warm_nonce());
    }

    /// Whether everything [`TxManager::prime_call`] reads ahead for `intent` is at hand (nothing to
    /// prime): the gas cache knows its call's shape, fresh fees are read ahead, and the nonce is
    /// known (or being read: its lock is held).
    pub fn primed(&self, intent: &Intent) -> bool {
        let nonce_known = self
            .next_nonce
            .try_lock()
            .map_or(true, |g| g.next.is_some() || !g.gaps.is_empty());
        self.gas_known(intent) && nonce_known && self.fees_read_ahead()
    }

    /// Whether fees read ahead ([`TxManager::prime_call`]) wait for a round, fresh.
    fn fees_read_ahead(&self) -> bool {
        Round::fresh(*self.seed_fees(), Instant::now()).is_some()
    }

    fn seed_fees(&self) -> std::sync::MutexGuard<'_, Option<(Instant, (u128, u128))>> {
        self.fee_seed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands `nonce` (allocated, never broadcast) back: the next allocation takes it first.
    async fn release_nonce(&self, nonce: u64) {
        let mut guard = self.next_nonce.lock().await;
        if guard.next == Some(nonce + 1) {
            guard.next = Some(nonce);
        } else {
            guard.gaps.insert(nonce);
        }
    }

    /// `(balance, needed)` when the sender's balance is below `gas` x `max_fee`; `None` when it can
    /// pay, or when the balance cannot be read (the caller's own error stands then).
    async fn shortfall(&self, gas: u64, max_fee: u128) -> Option<(U256, U256)> {
        let balance = self.provider.get_balance(self.from).await.ok()?;
        let needed = U256::from(gas).saturating_mul(U256::from(max_fee));
        (balance < needed).then_some((balance, needed))
    }

    /// Nonce gaps not yet handed out.
    pub async fn gaps(&self) -> Vec<u64> {
        self.next_nonce.lock().await.gaps.iter().copied().collect()
    }

    /// Finds and repairs nonce gaps between the chain's mined count and the local counter (see the
    /// module docs): rebroadcasts journaled transactions still waiting, re-plans done intents whose
    /// transaction vanished (a reorg) and records the nonces nobody holds as gaps, which the next
    /// allocations take first. Call it after a reorg, at startup and when a transaction reports
    /// [`TxError::NonceGap`]; not while another task executes intents of this manager.
    ///
    /// The node's counts and missing receipts are taken as a reorg only on evidence
    /// ([`nonce_evidence`]): the node serves a different block at the height our transaction was
    /// mined in. A node that cannot show that block (it lags: behind a load balancer, resyncing)
    /// decides nothing: the repair then changes nothing in the journal, records no gap, only
    /// raises the local counter past every journaled nonce, and returns [`TxError::NodeBehind`];
    /// repair again later. A nonce whose inclusion block the node shows under the recorded hash is
    /// used, whatever its count says.
    pub async fn repair_nonces(&self) -> Result<NonceRepair, TxError> {
        let mined = self.chain_nonce(false).await?;
        let pending = self.chain_nonce(true).await?;
        // Read after the counts: from one node, a head at least as new as the state they describe.
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(rpc("eth_blockNumber"))?;
        let mut guard = self.next_nonce.lock().await;
        let index = self.store.nonces_from(mined)?;
        let mined_at = self.store.inclusions_from(mined)?;
        let last_recorded = self.store.last_block()?;
        let top = guard
            .next
            .unwrap_or(pending)
            .max(pending)
            .max(index.last().map_or(0, |(n, _)| n + 1))
            .min(mined + MAX_REPAIR_SPAN);
        let mut out = NonceRepair {
            mined,
            next: top,
            ..NonceRepair::default()
        };
        let mut gaps = BTreeSet::new();
        // Intents to re-plan, with the hash of their transaction that vanished.
        let mut replan: Vec<(Intent, TxHash)> = Vec::new();
        let mut unproven = None;
        for j in mined..top {
            let holder = match index.binary_search_by_key(&j, |(n, _)| *n) {
                Ok(i) => self.store.intent(&index[i].1)?,
                Err(_) => None,
            };
            if let Some(i) = &holder {
                if let IntentStatus::Sent { nonce, raw, .. } = &i.status {
                    if *nonce == j {
                        if let Err(e) = self.broadcast(raw).await {
                            tracing::debug!(key = %i.key, nonce = j, error = %e, "repair: rebroadcast failed");
                        }
                        out.rebroadcast += 1;
                        continue;
                    }
                }
            }
            let done = match holder.as_ref().map(|i| &i.status) {
                Some(IntentStatus::Done {
                    tx_hash: Some(h), ..
                }) => Some(*h),
                _ => None,
            };
            if let Some(h) = done {
                let receipt = self
                    .receipt(h)
                    .await
                    .map_err(rpc("eth_getTransactionReceipt"))?;
                if receipt.is_some() {
                    continue; // mined after all (the count moved on meanwhile)
                }
            }
            let at = mined_at
                .binary_search_by_key(&j, |(n, _)| *n)
                .ok()
                .map(|k| mined_at[k].1);
            let node_hash = match at.filter(|a| head >= a.block) {
                Some(a) => self.block_hash(a.block).await?,
                None => None,
            };
            match nonce_evidence(head, at.as_ref(), node_hash, last_recorded) {
                NonceEvidence::Used => {}
                NonceEvidence::Unproven { block } => {
                    unproven = Some((j, block));
                    break;
                }
                NonceEvidence::Free => {
                    // The done intent is re-planned when the evidence is about its own transaction
                    // (or, with no inclusion recorded, as before the record existed).
                    let own = done.filter(|h| at.is_none_or(|a| a.tx_hash == *h));
                    if let (Some(mut i), Some(h)) = (holder, own) {
                        if !replan.iter().any(|(r, _)| r.key == i.key) {
                            i.status = IntentStatus::Pending;
                            replan.push((i, h));
                        }
                    }
                    gaps.insert(j);
                }
            }
        }
        if let Some((nonce, block)) = unproven {
            // Its counts may be stale: never hand out a nonce below one journaled.
            guard.next = Some(guard.next.map_or(top, |n| n.max(top)));
            drop(guard);
            // The caller reports the error (the keeper: at every round until the node caught up).
            tracing::debug!(
                nonce,
                head,
                block,
                mined,
                "nonce repair deferred: lagging node"
            );
            return Err(TxError::NodeBehind { head, block, nonce });
        }
        for (i, vanished) in &replan {
            tracing::warn!(key = %i.key, "transaction reorged out; re-planning its intent");
            self.store
                .put_intents(&self.with_members_carried(i, *vanished)?)?;
            out.replanned.push(i.key.clone());
        }
        if !gaps.is_empty() {
            tracing::warn!(mined, next = top, gaps = ?gaps, "nonce gaps found");
        }
        out.gaps = gaps.iter().copied().collect();
        guard.next = Some(top);
        guard.gaps = gaps;
        drop(guard);
        self.store
            .prune_nonces(mined.saturating_sub(MAX_REPAIR_SPAN))?;
        Ok(out)
    }

    /// The node's hash of block `n`, if it has that block.
    async fn block_hash(&self, n: u64) -> Result<Option<[u8; 32]>, TxError> {
        let b = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(n))
            .await
            .map_err(rpc("eth_getBlockByNumber"))?;
        Ok(b.map(|b| b.header.hash.0))
    }

    /// Fills every gap not yet handed out with a no-op (a zero-value transfer to ourselves), each
    /// journaled like any intent; returns how many were filled.
    pub async fn fill_gaps(&self) -> Result<usize, TxError> {
        let mut filled = 0;
        loop {
            let Some(gap) = self.next_nonce.lock().await.gaps.first().copied() else {
                return Ok(filled);
            };
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            let key = format!("nonce_fill:{gap}:{stamp}");
            tracing::info!(nonce = gap, "filling a nonce gap with a no-op");
            self.send(&key, Some(self.from), Bytes::new()).await?;
            filled += 1;
        }
    }

    async fn fees(&self) -> Result<(u128, u128), TxError> {
        let est = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(rpc("eth_feeHistory"))?;
        let prio = est.max_priority_fee_per_gas.max(1_000_000);
        let max = est.max_fee_per_gas.max(prio).min(self.cfg.max_fee_cap);
        Ok((max, prio.min(max)))
    }

    fn request(&self, to: Option<Address>, data: &Bytes) -> TransactionRequest {
        let req = TransactionRequest::default()
            .with_from(self.from)
            .with_chain_id(self.chain_id);
        match to {
            Some(to) => req.with_to(to).with_input(data.clone()),
            None => req.with_deploy_code(data.clone()),
        }
    }

    /// Marks intents whose next dispatch estimates gas afresh instead of using the gas cache, so
    /// one that another sender may already have done is refused at estimation, sending nothing
    /// (replicas mark their open work on taking the sender lease: the previous holder may have
    /// sent it).
    pub fn estimate_afresh(&self, keys: impl IntoIterator<Item = String>) {
        self.afresh_marks().extend(keys);
    }

    /// Whether `key` is marked by [`TxManager::estimate_afresh`] (or by a failure on a cached
    /// estimate); removes the mark (a batch formed from the intent takes it over).
    pub fn take_estimate_afresh(&self, key: &str) -> bool {
        self.afresh_marks().remove(key)
    }

    /// `eth_estimateGas` of a call, raw (no margin); a revert is [`TxError::Reverted`].
    async fn estimate(&self, key: &str, to: Option<Address>, data: &Bytes) -> Result<u64, TxError> {
        match self.provider.estimate_gas(self.request(to, data)).await {
            Ok(g) => Ok(g),
            Err(e) if RpcFailure::of(&e) == RpcFailure::Reverted => {
                let data = e.as_error_resp().and_then(|p| p.as_revert_data());
                Err(reverted(
                    key,
                    &e.to_string(),
                    data.as_ref().map(|d| d.as_ref()),
                ))
            }
            Err(e) => Err(rpc("eth_estimateGas")(e)),
        }
    }

    /// The gas limit of a call: from the cache for a known shape (with the headroom), else
    /// estimated (an estimate that succeeds is cached). Returns the limit and the cached shape it
    /// came from, if any.
    ///
    /// Only attestations and one-off calls use the cache: the other kinds (finalize, reports,
    /// challenges, deliveries, referee moves) race other keepers, and their estimate is also the
    /// check that the action is still possible (a revert there abandons it without spending gas).
    /// An intent marked with [`TxManager::estimate_afresh`] is estimated whatever its kind.
    async fn gas_for(
        &self,
        intent: &Intent,
        to: Option<Address>,
        data: &Bytes,
    ) -> Result<(u64, Option<CallShape>), TxError> {
        let key = intent.key.as_str();
        let shape = cacheable_shape(intent.kind, to, data);
        let fresh = self.afresh_marks().remove(key);
        if let Some(shape) = shape.filter(|_| !fresh) {
            if let Some(raw) = self.gas_cache.get(&shape) {
                let limit = raw.saturating_mul(self.cfg.gas_margin_percent) / 100;
                return Ok((
                    limit.saturating_add(self.cfg.cached_gas_headroom),
                    Some(shape),
                ));
            }
            if let Some(bound) = self.batch_bound(intent).await {
                *self
                    .bounded
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(shape)
                    .or_default() += 1;
                return Ok((bound, Some(shape)));
            }
        }
        let raw = match self.estimate(key, to, data).await {
            Ok(raw) => raw,
            Err(e) => {
                // An estimate that did not answer (unlike a revert, which decides) leaves the mark:
                // the retry must not fall back on the cache.
                if fresh && !matches!(e, TxError::Reverted { .. }) {
                    self.estimate_afresh([key.to_string()]);
                }
                return Err(e);
            }
        };
        if let Some(shape) = shape {
            self.gas_cache.observe(shape, raw);
        }
        Ok((raw.saturating_mul(self.cfg.gas_margin_percent) / 100, None))
    }

    /// The gas limit of a batch of attestations bounded by its members (module docs): the member
    /// count times the limit of its first member's own call as the cache gives it (raw gas, cached
    /// or estimated now and cached, with the margin and the cached headroom). `None` for anything
    /// else, once a bounded batch failed, or when that member cannot be read or estimated (the
    /// batch is then estimated itself, which decides).
    async fn batch_bound(&self, intent: &Intent) -> Option<u64> {
        let (member, shape) = self.bounding_member(intent)?;
        let raw = match self.gas_cache.get(&shape) {
            Some(raw) => raw,
            None => {
                let raw = self
                    .estimate(&member.key, member.to, &member.calldata)
                    .await
                    .ok()?;
                self.gas_cache.observe(shape, raw);
                raw
            }
        };
        let n = u64::try_from(intent.members.len()).ok()?;
        let member = (raw.saturating_mul(self.cfg.gas_margin_percent) / 100)
            .saturating_add(self.cfg.cached_gas_headroom);
        Some(member.saturating_mul(n))
    }

    /// The first member of a batch of attestations, whose own call bounds the batch's gas
    /// ([`TxManager::batch_bound`]), and that call's shape. `None` for anything else, once a
    /// bounded batch failed, or when the member cannot be read.
    fn bounding_member(&self, intent: &Intent) -> Option<(Intent, CallShape)> {
        if intent.kind != IntentKind::Attest
            || intent.members.len() < 2
            || self.bounds_off.load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        let member = self.store.intent(intent.members.first()?).ok()??;
        let shape = CallShape::of(member.to, &member.calldata)?;
        Some((member, shape))
    }

    /// The marks of [`TxManager::estimate_afresh`], locked (a poisoned lock only means a panic
    /// elsewhere while holding it; the set stays usable).
    fn afresh_marks(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.estimate_next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a send of `shape` was on a bound ([`TxManager::batch_bound`]): takes one off the
    /// count of bounded sends of the shape in flight (a later send of a shape mined once uses the
    /// cache, so while any is counted, one of them is this one).
    fn take_bounded(&self, shape: &CallShape) -> bool {
        let mut b = self
            .bounded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(n) = b.get_mut(shape) else {
            return false;
        };
        *n -= 1;
        if *n == 0 {
            b.remove(shape);
        }
        true
    }

    async fn sign(
        &self,
        to: Option<Address>,
        data: &Bytes,
        nonce: u64,
        gas: u64,
        max_fee: u128,
        prio: u128,
    ) -> Result<TxEnvelope, TxError> {
        let req = self
            .request(to, data)
            .with_nonce(nonce)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(prio);
        req.build(&self.wallet)
            .await
            .map_err(|e| TxError::Sign(e.to_string()))
    }

    /// Broadcasts raw bytes; "already known" counts as success. A closed send gate withholds it:
    /// the bytes stay journaled, and the settle, the nonce repair or the next holder decides.
    async fn broadcast(&self, raw: &[u8]) -> Result<(), TransportError> {
        broadcast_one(&self.provider, self.gate.as_ref(), raw).await
    }

    async fn receipt(&self, hash: TxHash) -> Result<Option<TransactionReceipt>, TransportError> {
        self.provider.get_transaction_receipt(hash).await
    }

    /// Finds a receipt for any of `hashes`.
    async fn any_receipt(
        &self,
        hashes: &[TxHash],
    ) -> Result<Option<TransactionReceipt>, TransportError> {
        for h in hashes {
            if let Some(r) = self.receipt(*h).await? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The receipt of any of `hashes` from the shared [`ReceiptHub`], for a settle whose last
    /// direct poll (which found none), or first broadcast, was sent at `polled_at`: taken if a
    /// scan found it; else,
    /// unless the head was read less than `fresh` ago (by any settle) and, with `since_polled`,
    /// not before `polled_at`, the head is read and every block since the last scan has its
    /// receipts read in one call each, keeping the sender's. See [`ReceiptHub`] for when the
    /// answer is [`HubAnswer::Uncovered`].
    async fn hub_receipt(
        &self,
        hashes: &[TxHash],
        fresh: Duration,
        polled_at: Instant,
        since_polled: bool,
    ) -> Result<HubAnswer, TransportError> {
        let mut hub = self.hub.lock().await;
        if let Some(r) = hub.take(hashes) {
            return Ok(HubAnswer::Found(Box::new(r)));
        }
        let now = Instant::now();
        // While scans find receipts of ours, four times as often (a 64th of the interval).
        let fresh = if self.hub_moving.load(std::sync::atomic::Ordering::SeqCst) {
            (fresh / 4).max(Duration::from_millis(1))
        } else {
            fresh
        };
        if hub.polled.is_none_or(|t| {
            now.saturating_duration_since(t) >= fresh || (since_polled && t < polled_at)
        }) {
            self.hub_scan(&mut hub, false).await?;
        }
        if let Some(r) = hub.take(hashes) {
            return Ok(HubAnswer::Found(Box::new(r)));
        }
        Ok(if hub.failed {
            HubAnswer::Uncovered
        } else if hub.covered_since.is_some_and(|c| polled_at >= c) {
            HubAnswer::NotYet
        } else {
            HubAnswer::Uncovered
        })
    }

    /// Waits out a settle's poll backoff (until `until`), ending it early with the receipt of any
    /// of `hashes` when a hub scan finds it meanwhile: a scan made for another settle (or before a
    /// group's broadcasts) answers this one at once, instead of at its next poll (with the backoff
    /// grown to the whole [`TxConfig::poll_interval`], up to that much later). No call to the
    /// node.
    async fn backoff_or_hub(
        &self,
        hashes: &[TxHash],
        until: Instant,
    ) -> Option<TransactionReceipt> {
        loop {
            // Registered before the look, so a scan that ends in between still wakes this wait.
            let found = self.hub_found.notified();
            tokio::pin!(found);
            found.as_mut().enable();
            // The look waits for a scan under way (its receipts are the ones to look for), but
            // not past the backoff's end.
            let taken = tokio::select! {
                mut hub = self.hub.lock() => hub.take(hashes),
                () = tokio::time::sleep_until(until.into()) => return None,
            };
            if taken.is_some() {
                return taken;
            }
            tokio::select! {
                () = tokio::time::sleep_until(until.into()) => return None,
                () = &mut found => {}
            }
        }
    }

    /// Reads the head and the blocks since the hub's last scan (or restarts its coverage at the
    /// head: the first time, after the chain went back, after a jump of more than
    /// [`HUB_MAX_SCAN`] blocks, or with `anchor`: nothing of ours in flight, so no block since can
    /// hold a receipt anyone waits for).
    async fn hub_scan(&self, hub: &mut ReceiptHub, anchor: bool) -> Result<(), TransportError> {
        hub.polled = Some(Instant::now());
        self.hub_moving
            .store(false, std::sync::atomic::Ordering::SeqCst);
        // Cleared only by a scan that read everything it meant to.
        hub.failed = true;
        let head = self.provider.get_block_number().await?;
        let restart = match hub.scanned {
            _ if anchor => true,
            None => true,
            // The chain went back (a reorg, a node restarted): what was found may be gone.
            Some(s) if s > head => {
                hub.found.clear();
                true
            }
            Some(s) => head - s > HUB_MAX_SCAN,
        };
        if restart {
            hub.scanned = Some(head);
            hub.covered_since = Some(Instant::now());
        } else if let Some(s) = hub.scanned.filter(|s| *s < head) {
            // Every new block's receipts in one JSON-RPC batch (one HTTP round trip, however many
            // blocks: an automining node makes a block per transaction).
            let mut batch = alloy::rpc::client::BatchRequest::new(self.provider.client());
            let mut waiters = Vec::new();
            for n in s + 1..=head {
                let block = alloy::eips::BlockNumberOrTag::Number(n);
                waiters.push(batch.add_call::<_, Option<Vec<TransactionReceipt>>>(
                    "eth_getBlockReceipts",
                    &(block,),
                )?);
            }
            batch.send().await?;
            let mut failed = None;
            let mut ours = 0usize;
            for (n, waiter) in (s + 1..=head).zip(waiters) {
                let receipts = match waiter.await {
                    Ok(r) => r,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                // A block the node reports but cannot serve receipts for (a lagging node behind a
                // load balancer) ends the scan there: the next one reads it again.
                let Some(receipts) = receipts else {
                    break;
                };
                for r in receipts {
                    if r.from == self.from {
                        ours += 1;
                        hub.found.insert(r.transaction_hash, r);
                    }
                }
                hub.scanned = Some(n);
            }
            self.hub_moving
                .store(ours > 0, std::sync::atomic::Ordering::SeqCst);
            tracing::debug!(target: "verinfer_keeper::timeline", from = s + 1, head, found = hub.found.len(), ours,
                ms = hub.polled.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3), "hub scan");
            if ours > 0 {
                // Also when a later block's read failed: what was found is kept. The woken
                // settles take the hub's lock once this scan's caller lets it go.
                self.hub_found.notify_waiters();
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
        let keep_from = head.saturating_sub(HUB_KEEP);
        hub.found
            .retain(|_, r| r.block_number.is_none_or(|b| b >= keep_from));
        hub.failed = false;
        Ok(())
    }

    /// Makes sure the receipt hub's coverage is current (the head read within a quarter of the
    /// receipt timeout), so the settles of a group broadcast after it look in the hub from their
    /// first look on. Called before a group's broadcasts that will put several transactions in
    /// flight, and by the keeper between rounds, so that a group's broadcast seldom waits for the
    /// read. A failed read only leaves the settles to poll directly.
    ///
    /// It never waits for the hub's lock: a settle that holds it may be suspended in a
    /// `FuturesUnordered` that is polled only after this dispatch returns (the keeper's round
    /// dispatches between polls of its settles), so waiting would deadlock the round (found by
    /// the bench: the 16-in-flight drain stopped after 62 transactions with nothing in the pool).
    /// When the lock is held, the group's settles fall back to direct polls until covered.
    pub async fn prime_hub(&self) {
        let Ok(mut hub) = self.hub.try_lock() else {
            return;
        };
        let stale = hub
            .polled
            .is_none_or(|t| t.elapsed() >= self.cfg.receipt_timeout / 4);
        if stale || hub.covered_since.is_none() {
            // With nothing in flight the coverage is only restarted at the head (one
            // `eth_blockNumber`): an idle keeper reads no block's receipts.
            let anchor = self.in_flight() == 0;
            let scan = tokio::time::timeout(
                self.cfg.receipt_timeout / 4,
                self.hub_scan(&mut hub, anchor),
            );
            if !matches!(scan.await, Ok(Ok(()))) {
                tracing::debug!("receipt hub: head read failed; settles poll directly");
            }
        }
    }

    /// Books a receipt: done, or (failed on chain) abandoned. A failed transaction whose gas limit
    /// came from the cache (`cached`) may have run out of gas on a stale estimate, and one that used
    /// its whole gas limit did run out of gas (its estimate was made at a state that changed before
    /// inclusion): neither says the action is no longer possible, so the intent goes back to
    /// pending, to be estimated afresh (an estimate that reverts then abandons it with the decoded
    /// reason; an intent out of gas more than [`MAX_OUT_OF_GAS_REPLANS`] times is abandoned).
    fn finish(
        &self,
        mut intent: Intent,
        r: &TransactionReceipt,
        cached: Option<CallShape>,
    ) -> Result<Result<Executed, TxError>, TxError> {
        let hash = r.transaction_hash;
        if let Some(shape) = CallShape::of(intent.to, &intent.calldata) {
            let was_bounded = self.take_bounded(&shape);
            if r.status() {
                self.gas_cache.observe(shape, r.gas_used);
            } else {
                if was_bounded {
                    tracing::warn!(key = %intent.key, tx = %hash, "a batch sent on its members' bound failed; batches are estimated from now on");
                    self.bounds_off
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                self.gas_cache.invalidate(&shape);
            }
        }
        // Watch the inclusion block for reorgs: the log poller re-checks recorded hashes, so a
        // transaction reorged out after its receipt was seen is noticed and re-sent.
        let block = r.block_number.zip(r.block_hash.map(|h| h.0));
        // Where the transaction at its nonce was mined: the nonce repair tells a node that cannot
        // show this block yet (lagging) from one whose chain no longer has it.
        let mined_at = match (&intent.status, block) {
            (IntentStatus::Sent { nonce, .. }, Some((n, h))) => Some((
                *nonce,
                Inclusion {
                    tx_hash: hash,
                    block: n,
                    block_hash: h,
                },
            )),
            _ => None,
        };
        if r.status() {
            intent.status = IntentStatus::Done {
                tx_hash: Some(hash),
                gas_used: Some(r.gas_used),
            };
            // A deferred write: the send path does not wait for the disk to book an outcome (a
            // crash that loses it leaves the intent `Sent`, and the restart finds this receipt).
            // A batch's members land with it, in the same write.
            let write = self.with_members_landed(&intent, hash)?;
            self.store
                .put_outcomes(&write, block, mined_at.as_ref().map(|(n, at)| (*n, at)))?;
            Ok(Ok(Executed {
                tx_hash: hash,
                gas_used: r.gas_used,
                block: r.block_number.unwrap_or_default(),
            }))
        } else if cached.is_some() || self.out_of_gas_replan(&intent, r.gas_used) {
            tracing::warn!(key = %intent.key, tx = %hash, gas_used = r.gas_used, cached = cached.is_some(), "failed on chain on a stale gas estimate; estimating afresh");
            self.afresh_marks().insert(intent.key.clone());
            intent.status = IntentStatus::Pending;
            self.put_failed(&intent, block, mined_at.as_ref())?;
            Ok(Err(TxError::Replan {
                key: intent.key,
                tx_hash: hash,
            }))
        } else {
            let reason = format!("reverted on chain in {hash:#x}");
            intent.status = IntentStatus::Abandoned {
                reason: reason.clone(),
            };
            self.put_failed(&intent, block, mined_at.as_ref())?;
            Ok(Err(TxError::Reverted {
                key: intent.key,
                reason,
            }))
        }
    }

    /// Stores `intent` after its transaction failed on chain in `block`, with where it was mined
    /// (`mined_at`: its nonce is used) when known; an abandoned batch with its members handed back
    /// ([`TxManager::with_members_alone`]), in the same write.
    fn put_failed(
        &self,
        intent: &Intent,
        block: Option<(u64, [u8; 32])>,
        mined_at: Option<&(u64, Inclusion)>,
    ) -> Result<(), StoreError> {
        let write = self.with_members_alone(intent)?;
        self.store
            .put_failed(&write, block, mined_at.map(|(n, at)| (*n, at)))
    }

    /// `batch` (re-planned: its transaction `vanished`) and its members marked done by that
    /// transaction, carried by it again ([`IntentStatus::Batched`]): written together, so a batch
    /// that may be sent again always carries its members, and its end (landed, given up, dissolved)
    /// settles them. A member done by another transaction keeps its record. Any other intent alone.
    fn with_members_carried(
        &self,
        batch: &Intent,
        vanished: TxHash,
    ) -> Result<Vec<Intent>, StoreError> {
        let status = IntentStatus::Batched {
            batch: batch.key.clone(),
        };
        self.with_members(batch, |m| m.done_by(vanished), status)
    }

    /// `intent` (landed in `hash`) and, if it is a batch, the members it carried to chain, done by
    /// the same transaction: written together, so no member is left pointing to a batch that has
    /// landed. A member it no longer carried (done, sent alone, carried by another batch) keeps
    /// its record.
    fn with_members_landed(
        &self,
        intent: &Intent,
        hash: TxHash,
    ) -> Result<Vec<Intent>, StoreError> {
        let status = IntentStatus::Done {
            tx_hash: Some(hash),
            gas_used: None,
        };
        self.with_members(intent, |m| m.carried_by(&intent.key), status)
    }

    /// `batch` first, then its members that `pick` selects, each given `status`: one write's
    /// intents.
    fn with_members(
        &self,
        batch: &Intent,
        pick: impl Fn(&Intent) -> bool,
        status: IntentStatus,
    ) -> Result<Vec<Intent>, StoreError> {
        let members = self.store.members_where(batch, pick)?;
        let moved = members.into_iter().map(|m| Intent {
            status: status.clone(),
            ..m
        });
        Ok(std::iter::once(batch.clone()).chain(moved).collect())
    }

    /// `intent` and, if it is a batch given up for good ([`IntentStatus::Abandoned`]), its members
    /// still carried by it, each pending again to be sent alone (`single_only`): written together,
    /// so no member is ever left pointing to a batch that will not be sent (a crash between the
    /// batch's end and its members' return would lose their attestations).
    fn with_members_alone(&self, intent: &Intent) -> Result<Vec<Intent>, StoreError> {
        let mut write = vec![intent.clone()];
        if matches!(intent.status, IntentStatus::Abandoned { .. }) {
            write.extend(
                self.store
                    .members_carried(intent)?
                    .into_iter()
                    .map(Intent::alone),
            );
        }
        Ok(write)
    }

    /// Whether `intent`'s failed transaction ran out of gas (it used its whole gas limit) and may be
    /// re-planned once more (counted here).
    fn out_of_gas_replan(&self, intent: &Intent, gas_used: u64) -> bool {
        let IntentStatus::Sent { raw, .. } = &intent.status else {
            return false;
        };
        let Some(limit) = gas_limit_of(raw) else {
            return false;
        };
        if gas_used < limit {
            return false;
        }
        let mut counts = self
            .out_of_gas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = counts.entry(intent.key.clone()).or_default();
        *n += 1;
        *n <= MAX_OUT_OF_GAS_REPLANS
    }

    /// Executes the journaled intent `key`: signs (if not yet), broadcasts, waits for inclusion with
    /// fee bumps ([`TxManager::dispatch`] then [`TxManager::settle`]). Safe to call again after a
    /// crash at any point.
    pub async fn execute(&self, key: &str) -> Result<Executed, TxError> {
        match self.dispatch(key).await? {
            Dispatch::Done(done) => Ok(done),
            Dispatch::InFlight(f) => self.settle(f).await,
        }
    }

    /// The first half of [`TxManager::execute`]: reconciles a journaled transaction (rebroadcast at
    /// its nonce, or its receipt found), or estimates, allocates the next nonce, signs, journals and
    /// broadcasts. Returns without waiting for inclusion, so a caller can keep several transactions
    /// of this account in flight with consecutive nonces; dispatch them one after another (nonces
    /// follow dispatch order) and [`settle`](TxManager::settle) them concurrently.
    ///
    /// Fetches its own fee data: a caller dispatching several transactions in one go uses
    /// [`TxManager::dispatch_in`] with one [`Round`] for all of them.
    pub async fn dispatch(&self, key: &str) -> Result<Dispatch, TxError> {
        self.dispatch_in(key, &Round::default()).await
    }

    /// [`TxManager::dispatch`] as part of `round`: the round's fee data (fetched by its first
    /// transaction that needs fees) is used for every transaction it signs. A group of one
    /// ([`TxManager::dispatch_group`]).
    pub async fn dispatch_in(&self, key: &str, round: &Round) -> Result<Dispatch, TxError> {
        let mut out = self.dispatch_group(&[key.to_string()], round).await?;
        out.pop().unwrap_or_else(|| Err(no_dispatch_result(key)))
    }

    /// Dispatches the intents `keys` as one group, in order (nonces follow it): each journaled
    /// transaction is reconciled (its receipt found, or the same signed bytes rebroadcast at its
    /// nonce); every pending one is estimated, given the next nonce and signed; then **all the
    /// newly signed transactions are journaled in one durable write** (one disk sync for the
    /// group), and only then broadcast, all at once. Journal before broadcast holds for each of
    /// them: a crash after the write and before (or during) the broadcasts leaves every one
    /// journaled `Sent`, and the restart rebroadcasts the same bytes at the same nonces.
    ///
    /// Returns one result per key, in order; the outer error is a journal write that failed
    /// (nothing of the group was broadcast then). A broadcast the node refuses for its nonce puts
    /// the intent back to pending, resyncs the nonce and signs it again (up to
    /// [`TxConfig::rpc_retries`] times), as the group's other transactions stay in flight.
    pub async fn dispatch_group(
        &self,
        keys: &[String],
        round: &Round,
    ) -> Result<Vec<Result<Dispatch, TxError>>, TxError> {
        self.dispatch_attempts(keys, round, 0).await
    }

    /// [`TxManager::dispatch_group`] from attempt `first` on (the attempts before it were made
    /// already: a group launched, see [`TxManager::redispatch`]).
    async fn dispatch_attempts(
        &self,
        keys: &[String],
        round: &Round,
        first: u32,
    ) -> Result<Vec<Result<Dispatch, TxError>>, TxError> {
        let mut out: Vec<Option<Result<Dispatch, TxError>>> = keys.iter().map(|_| None).collect();
        let mut todo: Vec<usize> = (0..keys.len()).collect();
        let mut attempt = first;
        while !todo.is_empty() {
            let last = attempt >= self.cfg.rpc_retries;
            let group: Vec<String> = todo.iter().map(|&i| keys[i].clone()).collect();
            let signed = self.sign_group(&group, round).await?;
            let results = broadcast_all(&self.provider, self.gate.as_ref(), &signed.raws()).await;
            let results = self.book_group(signed, results, last).await?;
            let mut retry = Vec::new();
            for (i, r) in todo.iter().zip(results) {
                match r {
                    Attempt::Done(r) => out[*i] = Some(r),
                    Attempt::NonceRejected => retry.push(*i),
                }
            }
            if !retry.is_empty() {
                self.resync_nonce().await;
            }
            todo = retry;
            attempt += 1;
        }
        Ok(keys
            .iter()
            .zip(out)
            .map(|(key, r)| r.unwrap_or_else(|| Err(no_dispatch_result(key))))
            .collect())
    }

    /// The first attempt of [`TxManager::dispatch_group`] for `keys`, pipelined: the group is signed
    /// and journaled in one durable write (journal before broadcast, as there), and its broadcast
    /// is started on a task of its own. Returns once the journal write is done, without waiting
    /// for the node's answer, so the caller can sign and journal its next group (at the following
    /// nonces) while the node is still taking this one: a node that answers a broadcast only as
    /// it mines it (an automining anvil) gets the next group as soon as it is ready, instead of
    /// after this one is mined. Book the broadcast with [`TxManager::land_group`].
    ///
    /// The outer error is a journal write that failed (nothing of the group was broadcast then).
    pub async fn launch_group(&self, keys: &[String], round: &Round) -> Result<Launched, TxError> {
        let signed = self.sign_group(keys, round).await?;
        let raws = signed.raws();
        let broadcast = (!raws.is_empty()).then(|| {
            let (provider, gate) = (self.provider.clone(), self.gate.clone());
            AbortOnDrop(tokio::spawn(async move {
                broadcast_all(&provider, gate.as_ref(), &raws).await
            }))
        });
        Ok(Launched { signed, broadcast })
    }

    /// Waits for a launched group's broadcast and books it ([`TxManager::launch_group`]): one
    /// result per key, in order. [`Landed::NonceRejected`]: the node refused the nonce; the intent
    /// is pending again, and is signed anew with [`TxManager::redispatch`] once no other group of
    /// this manager is signed and unbooked (a resync before then could hand out their nonces
    /// again). The outer error is a journal write that failed.
    pub async fn land_group(&self, launched: Launched) -> Result<Vec<Landed>, TxError> {
        let Launched { signed, broadcast } = launched;
        let results = match broadcast {
            Some(task) => match task.join().await {
                Ok(results) => results,
                // The task ended without an answer (a panic): the transactions are journaled and
                // tracked as sent whose broadcast failed, so the wait loop rebroadcasts them.
                Err(e) => {
                    let n = signed.raws().len();
                    (0..n)
                        .map(|_| {
                            Err(alloy::transports::TransportErrorKind::custom_str(&format!(
                                "broadcast task ended: {e}"
                            )))
                        })
                        .collect()
                }
            },
            None => Vec::new(),
        };
        let last = self.cfg.rpc_retries == 0;
        Ok(self
            .book_group(signed, results, last)
            .await?
            .into_iter()
            .map(|a| match a {
                Attempt::Done(r) => Landed::Settled(r),
                Attempt::NonceRejected => Landed::NonceRejected,
            })
            .collect())
    }

    /// Signs `keys` anew after their launched broadcast was refused for its nonce
    /// ([`Landed::NonceRejected`]): resyncs the nonce from the node, then dispatches them as
    /// [`TxManager::dispatch_group`] does, its first attempt counted as made. Call it only when no
    /// other group of this manager is launched and unbooked.
    pub async fn redispatch(
        &self,
        keys: &[String],
        round: &Round,
    ) -> Result<Vec<Result<Dispatch, TxError>>, TxError> {
        self.resync_nonce().await;
        self.dispatch_attempts(keys, round, 1).await
    }

    /// Reconciles or signs each of `keys` ([`TxManager::prepare`]), then journals every newly signed
    /// transaction in one durable write: the half of an attempt before its broadcast.
    async fn sign_group(&self, keys: &[String], round: &Round) -> Result<SignedGroup, TxError> {
        let mut out: Vec<Option<Attempt>> = keys.iter().map(|_| None).collect();
        let mut signed: Vec<(usize, Box<Signed>)> = Vec::new();
        let started = std::time::Instant::now();
        for (i, key) in keys.iter().enumerate() {
            match self.prepare(key, round).await {
                Ok(Prepared::Ready(d)) => out[i] = Some(Attempt::Done(Ok(d))),
                Ok(Prepared::Signed(s)) => signed.push((i, s)),
                Err(e) => out[i] = Some(Attempt::Done(Err(e))),
            }
        }
        let prepared = started.elapsed();
        if !signed.is_empty() {
            // Journal before broadcasting: every signed transaction of the group, one durable write.
            let intents: Vec<Intent> = signed.iter().map(|(_, s)| s.intent.clone()).collect();
            if let Err(e) = self.store.put_intents(&intents) {
                // Nothing was broadcast: the group's own nonces are free again, handed back
                // highest first (the counter steps back over them). Not a resync: a group launched
                // before this one may not be at the node yet, and its nonces would be handed out
                // again.
                let mut nonces: Vec<u64> = intents.iter().filter_map(sent_nonce).collect();
                nonces.sort_unstable_by(|a, b| b.cmp(a));
                for nonce in nonces {
                    self.release_nonce(nonce).await;
                }
                return Err(e.into());
            }
        }
        let journaled = started.elapsed();
        if !signed.is_empty() {
            // (Before the group takes its places: with nothing else in flight, a stale hub's
            // coverage restarts at the head.)
            if signed.len() + self.in_flight() > 1 {
                self.prime_hub().await;
            }
            // In the window from now on, landed or not: a group launched after this one, and
            // the hub, count it.
            for (_, s) in &mut signed {
                s.slot = sent_nonce(&s.intent).map(|nonce| self.slot(nonce));
            }
        }
        Ok(SignedGroup {
            keys: keys.to_vec(),
            out,
            signed,
            started,
            prepared,
            journaled,
            // Freshly signed bytes: no block mined before this instant can hold them.
            sent_at: Instant::now(),
        })
    }

    /// Books the broadcast of a signed group (`results`: one per transaction of
    /// [`SignedGroup::raws`], in order): one result per key, in order. `last`: a nonce refusal is
    /// not retried.
    async fn book_group(
        &self,
        group: SignedGroup,
        results: Vec<Result<(), TransportError>>,
        last: bool,
    ) -> Result<Vec<Attempt>, TxError> {
        let SignedGroup {
            keys,
            mut out,
            signed,
            started,
            prepared,
            journaled,
            sent_at,
        } = group;
        if !signed.is_empty() {
            debug_assert_eq!(results.len(), signed.len(), "one result per broadcast");
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
            tracing::debug!(target: "verinfer_keeper::timeline", signed = signed.len(),
                prepare_ms = ms(prepared), journal_ms = ms(journaled - prepared),
                broadcast_ms = ms(started.elapsed() - journaled), "group sent");
        }
        // A signed intent is `Sent` (`prepare` makes it so); anything else was not broadcast.
        let mut results = results.into_iter();
        for (i, s) in signed {
            let r = match &s.intent.status {
                IntentStatus::Sent { .. } => results.next().unwrap_or(Ok(())),
                _ => Ok(()),
            };
            out[i] = Some(self.after_broadcast(s, r, last, sent_at).await?);
        }
        Ok(out
            .into_iter()
            .zip(&keys)
            .map(|(r, key)| r.unwrap_or_else(|| Attempt::Done(Err(no_dispatch_result(key)))))
            .collect())
    }

    /// Books the broadcast of a journaled transaction: in flight; or, refused for its nonce,
    /// pending again to be signed anew ([`Attempt::NonceRejected`], unless `last`); or, from a
    /// sender that cannot pay, pending with its nonce handed back. `sent_at`: when its broadcast
    /// began.
    async fn after_broadcast(
        &self,
        s: Box<Signed>,
        r: Result<(), TransportError>,
        last: bool,
        sent_at: Instant,
    ) -> Result<Attempt, TxError> {
        let Signed {
            mut intent,
            to,
            data,
            cached,
            gas,
            max_fee,
            slot,
        } = *s;
        let key = intent.key.clone();
        let IntentStatus::Sent { nonce, .. } = intent.status else {
            return Ok(Attempt::Done(Err(TxError::BadIntent {
                key,
                reason: "not in sent state after signing".into(),
            })));
        };
        // Only bytes the node took from this broadcast ("already known": in its pool, not mined)
        // are known to be in no block before it: signing is deterministic, so bytes signed again
        // (the same intent, nonce and fees after a re-plan) may be mined already, and a refused
        // broadcast says so.
        let broadcast_ok = r.is_ok();
        if let Err(e) = r {
            if RpcFailure::of(&e) == RpcFailure::Nonce && !last && !self.node_knows(&intent).await {
                tracing::warn!(key, nonce, error = %e, "nonce rejected; resyncing");
                intent.status = IntentStatus::Pending;
                self.store.put_intent(&intent)?;
                return Ok(Attempt::NonceRejected);
            }
            // A sender that cannot pay is told at once: no fee bump can get it mined. A limit from
            // the cache or a bound is estimated afresh next time: the estimate may ask for less.
            if let Some((balance, needed)) = self.shortfall(gas, max_fee).await {
                intent.status = IntentStatus::Pending;
                self.store.put_intent(&intent)?;
                self.release_nonce(nonce).await;
                if cached.is_some() {
                    self.estimate_afresh([key.clone()]);
                }
                return Ok(Attempt::Done(Err(TxError::InsufficientFunds {
                    key,
                    address: self.from,
                    balance,
                    needed,
                })));
            }
            // Network trouble: the signed tx is journaled; the wait loop rebroadcasts it.
            tracing::warn!(key, nonce, error = %e, "broadcast failed; will rebroadcast");
        }
        let slot = slot.unwrap_or_else(|| self.slot(nonce));
        Ok(Attempt::Done(Ok(self.in_flight_at(
            intent,
            slot,
            to,
            data,
            cached,
            broadcast_ok.then_some(sent_at),
        ))))
    }

    /// Whether the node has one of `intent`'s signed transactions (pending or mined): a broadcast
    /// refused for its nonce may be the echo of our own earlier attempt (answered after the client
    /// gave up, then retried), and the nonce is then ours, not another sender's. An unanswered lookup
    /// counts as known: the transaction is tracked and rebroadcast, never signed again at a new nonce
    /// (that could send the intent twice).
    async fn node_knows(&self, intent: &Intent) -> bool {
        let IntentStatus::Sent { all_hashes, .. } = &intent.status else {
            return false;
        };
        for h in all_hashes {
            match self.provider.get_transaction_by_hash(*h).await {
                Ok(Some(_)) => return true,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(key = %intent.key, tx = %h, error = %e,
                        "cannot tell whether the node has our transaction; tracking it");
                    return true;
                }
            }
        }
        false
    }

    /// Takes `nonce`'s place in the window (given back when the slot is dropped).
    fn slot(&self, nonce: u64) -> Slot {
        lock(&self.in_flight).insert(nonce);
        Slot {
            window: Arc::clone(&self.in_flight),
            nonce,
        }
    }

    /// `intent` in flight in `slot`, its nonce's place in the window (first broadcast by this
    /// process at `sent_at`, if known).
    fn in_flight_at(
        &self,
        intent: Intent,
        slot: Slot,
        to: Option<Address>,
        data: Bytes,
        cached: Option<CallShape>,
        sent_at: Option<Instant>,
    ) -> Dispatch {
        Dispatch::InFlight(Box::new(InFlight {
            intent,
            to,
            data,
            slot,
            cached,
            sent_at,
        }))
    }

    /// Reconciles a journaled transaction of `key` (receipt, or a rebroadcast of the same bytes at
    /// its nonce), or, for a pending intent, estimates, allocates the next nonce and signs (the
    /// status becomes `Sent`, not yet journaled: the caller journals before broadcasting).
    async fn prepare(&self, key: &str, round: &Round) -> Result<Prepared, TxError> {
        let mut intent = self.store.intent(key)?.ok_or_else(|| TxError::BadIntent {
            key: key.to_string(),
            reason: "not journaled".into(),
        })?;
        let (to, data) = (intent.to, intent.calldata.clone());

        // Reconcile a previously signed transaction.
        if let IntentStatus::Sent {
            nonce,
            raw,
            all_hashes,
            ..
        } = &intent.status
        {
            let (nonce, raw, all) = (*nonce, raw.clone(), all_hashes.clone());
            let receipt = || async {
                self.any_receipt(&all)
                    .await
                    .map_err(rpc("eth_getTransactionReceipt"))
            };
            let mut found = receipt().await?;
            let consumed = found.is_none() && self.chain_nonce(false).await? > nonce;
            if consumed {
                // The count is read after the receipts: our own transaction may have been mined in
                // between (a rebroadcast the node mined at once). Only if its receipt is still
                // absent was the nonce consumed by a transaction that is not ours for this intent.
                found = receipt().await?;
            }
            if let Some(r) = found {
                return self
                    .finish(intent, &r, None)?
                    .map(|d| Prepared::Ready(Dispatch::Done(d)));
            }
            if consumed {
                // Consumed by a transaction that is not ours for this intent: re-plan.
                tracing::warn!(
                    key,
                    nonce,
                    "journaled nonce consumed elsewhere; re-planning"
                );
                intent.status = IntentStatus::Pending;
                self.store.put_intent(&intent)?;
            } else {
                if let Err(e) = self.broadcast(&raw).await {
                    tracing::warn!(key, error = %e, "rebroadcast failed");
                }
                // make sure our local nonce counter is past it
                let mut g = self.next_nonce.lock().await;
                if g.next.is_some_and(|n| n <= nonce) {
                    g.next = Some(nonce + 1);
                }
                g.gaps.remove(&nonce);
                drop(g);
                let slot = self.slot(nonce);
                return Ok(Prepared::Ready(
                    self.in_flight_at(intent, slot, to, data, None, None),
                ));
            }
        }

        if intent.status != IntentStatus::Pending {
            return Err(TxError::BadIntent {
                key: key.to_string(),
                reason: "not in sent state after dispatch".into(),
            });
        }
        // The round's fees and the account's nonce are read while the limit is estimated (each
        // is one round trip the first time, and nothing is allocated until the limit is known).
        let (gas, ()) = tokio::join!(self.gas_for(&intent, to, &data), self.warm(round));
        let (gas, cached) = match gas {
            Ok(g) => g,
            Err(TxError::Reverted { key, reason }) => {
                intent.status = IntentStatus::Abandoned {
                    reason: reason.clone(),
                };
                self.store.put_intents(&self.with_members_alone(&intent)?)?;
                return Err(TxError::Reverted { key, reason });
            }
            Err(e) => return Err(e),
        };
        let (max_fee, prio) = self.round_fees(round).await?;
        let nonce = self.allocate_nonce().await?;
        let env = match self.sign(to, &data, nonce, gas, max_fee, prio).await {
            Ok(env) => env,
            Err(e) => {
                self.release_nonce(nonce).await;
                return Err(e);
            }
        };
        let raw = Bytes::from(env.encoded_2718());
        let hash = *env.tx_hash();
        intent.status = IntentStatus::Sent {
            nonce,
            tx_hash: hash,
            raw,
            all_hashes: vec![hash],
        };
        Ok(Prepared::Signed(Box::new(Signed {
            intent,
            to,
            data,
            cached,
            gas,
            max_fee,
            slot: None,
        })))
    }

    /// The second half of [`TxManager::execute`]: waits for the receipt of a dispatched
    /// transaction against a deadline, replacing it with higher fees at the same nonce when it is
    /// not mined. While every lower nonce it waits behind is in flight itself, it keeps waiting
    /// without bumping (their own settles bump them); behind a lower nonce that nobody holds it
    /// returns [`TxError::NonceGap`].
    ///
    /// With several transactions in flight, the first look for a transaction this process just
    /// signed and broadcast goes to the receipt hub, not to the node: no block before its broadcast
    /// can hold it, so a hub that covers the blocks since then answers it, and one scan after a
    /// group's broadcast answers the whole group (a direct poll per transaction before).
    pub async fn settle(&self, f: Box<InFlight>) -> Result<Executed, TxError> {
        let InFlight {
            intent,
            to,
            data,
            slot,
            cached,
            sent_at,
        } = *f;
        let r = self.wait_and_bump(intent, to, data, cached, sent_at).await;
        drop(slot);
        r
    }

    /// Transactions in flight (dispatched, not settled).
    pub fn in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }

    /// Whether every nonce in `[mined, nonce)` is in flight (so the wait is on our own window).
    fn behind_own_window(&self, mined: u64, nonce: u64) -> bool {
        let w = lock(&self.in_flight);
        (mined..nonce).all(|n| w.contains(&n))
    }

    async fn wait_and_bump(
        &self,
        mut intent: Intent,
        to: Option<Address>,
        data: Bytes,
        cached: Option<CallShape>,
        mut sent_at: Option<Instant>,
    ) -> Result<Executed, TxError> {
        let key = intent.key.clone();
        let mut bumps = 0u32;
        loop {
            let IntentStatus::Sent {
                nonce,
                raw,
                all_hashes,
                ..
            } = intent.status.clone()
            else {
                return Err(TxError::BadIntent {
                    key,
                    reason: "not in sent state".into(),
                });
            };
            let deadline = Instant::now() + self.cfg.receipt_timeout;
            let mut rebroadcast_at = Instant::now() + self.cfg.receipt_timeout / 4;
            let mut polls = 0u32;
            // The step of the poll backoff ([`receipt_backoff`]).
            let mut step = 0u32;
            // The first broadcast of freshly signed bytes (not a replacement: the bytes it
            // replaces may be mined already) stands for a direct poll that found nothing.
            let sent = sent_at.take();
            // When this settle's last direct receipt poll was sent (and found nothing).
            let mut direct_at = sent.unwrap_or_else(Instant::now);
            while Instant::now() < deadline {
                // While several transactions are in flight, the looks ask the shared hub (one scan
                // per new block for the whole window) as long as it covers the blocks since this
                // settle's last direct poll or its first broadcast, with a direct poll as often as
                // a rebroadcast; the first look after a resumed or replaced transaction's
                // broadcast asks the node for this receipt.
                let mut found = None;
                // A receipt a scan already found is taken whatever the window's size now: the
                // others' settles may have finished since the scan (regression: the last settle of
                // a window polled its own receipt again once it was alone in flight).
                // (`try_lock`: a scan under way answers through the hub path below.)
                if polls > 0 {
                    if let Some(r) = self
                        .hub
                        .try_lock()
                        .ok()
                        .and_then(|mut h| h.take(&all_hashes))
                    {
                        found = Some(Ok(Some(r)));
                    }
                }
                let first_look = polls == 0 && sent.is_some();
                let mut asked_hub = false;
                if found.is_none()
                    && (polls > 0 || first_look)
                    && self.in_flight() > 1
                    && direct_at.elapsed() < self.cfg.receipt_timeout / 4
                {
                    // The hub re-reads the head at most every 16th of the interval (16 ms at
                    // 250 ms), whatever the per-transaction backoff; for a first look, also when
                    // its last read began before the broadcast (it cannot have seen it yet).
                    let fresh = (self.cfg.poll_interval / 16).max(Duration::from_millis(1));
                    match tokio::time::timeout(
                        self.cfg.receipt_timeout / 4,
                        self.hub_receipt(&all_hashes, fresh, direct_at, first_look),
                    )
                    .await
                    {
                        Ok(Ok(HubAnswer::Found(r))) => found = Some(Ok(Some(*r))),
                        Ok(Ok(HubAnswer::NotYet)) => {
                            asked_hub = true;
                            found = Some(Ok(None));
                        }
                        // A scan that failed (a node without `eth_getBlockReceipts`, say) says
                        // nothing: the node is asked for this receipt directly.
                        Ok(Ok(HubAnswer::Uncovered)) | Ok(Err(_)) => {}
                        Err(_) => found = Some(Ok(None)),
                    }
                }
                let found = match found {
                    Some(f) => f,
                    None => {
                        direct_at = Instant::now();
                        self.any_receipt(&all_hashes).await
                    }
                };
                match found {
                    Ok(Some(r)) => return self.finish(intent, &r, cached)?,
                    Ok(None) => {}
                    Err(e) => tracing::debug!(key, error = %e, "receipt poll failed"),
                }
                if Instant::now() >= rebroadcast_at {
                    if let Err(e) = self.broadcast(&raw).await {
                        if RpcFailure::of(&e) == RpcFailure::Nonce {
                            // Mined already (the receipt shows) or consumed elsewhere (another
                            // replica of a shared hot key): fee bumps at this nonce cannot help,
                            // so the intent goes back to the round, whose reconciliation
                            // re-plans it at once instead of bumping for minutes.
                            tracing::debug!(key, error = %e, "rebroadcast: nonce error");
                            if let Ok(Some(r)) = self.any_receipt(&all_hashes).await {
                                return self.finish(intent, &r, cached)?;
                            }
                            if self.chain_nonce(false).await? > nonce {
                                return Err(TxError::Stuck { key, bumps });
                            }
                        }
                    }
                    rebroadcast_at = Instant::now() + self.cfg.receipt_timeout / 4;
                }
                let until = Instant::now() + receipt_backoff(self.cfg.poll_interval, step);
                if let Some(r) = self.backoff_or_hub(&all_hashes, until).await {
                    return self.finish(intent, &r, cached)?;
                }
                polls = polls.saturating_add(1);
                // The backoff grows only while the hub's scans find nothing of ours: while the
                // chain includes our transactions (an automining node working through a group's
                // blocks), each waiting settle looks again after the shortest step.
                // (A look that went to the node directly does not read the flag: it may be stale.)
                if !(asked_hub && self.hub_moving.load(std::sync::atomic::Ordering::SeqCst)) {
                    step = step.saturating_add(1);
                }
            }
            // Waiting behind a lower nonce of ours that is not mined: raising our fee cannot help.
            let mined = self.chain_nonce(false).await?;
            if mined < nonce {
                if self.behind_own_window(mined, nonce) {
                    // The lower nonces are ours and in flight; their settles bump them.
                    continue;
                }
                return Err(TxError::NonceGap { key, nonce, mined });
            }
            if !self.may_send() {
                // A replica that lost the sender lease bumps nothing over the holder's nonces.
                return Err(TxError::Withheld { key });
            }
            if bumps >= self.cfg.max_bumps {
                return Err(TxError::Stuck { key, bumps });
            }
            // Replace at the same nonce with higher fees.
            let old: TxEnvelope = {
                use alloy::eips::eip2718::Decodable2718;
                TxEnvelope::decode_2718(&mut raw.as_ref()).map_err(|e| TxError::BadIntent {
                    key: key.clone(),
                    reason: e.to_string(),
                })?
            };
            let (old_max, old_prio, gas) = match &old {
                TxEnvelope::Eip1559(t) => (
                    t.tx().max_fee_per_gas,
                    t.tx().max_priority_fee_per_gas,
                    t.tx().gas_limit,
                ),
                _ => {
                    return Err(TxError::BadIntent {
                        key,
                        reason: "unexpected tx type".into(),
                    })
                }
            };
            let bump = |v: u128| {
                v.saturating_mul(100 + u128::from(self.cfg.bump_percent))
                    .div_ceil(100)
                    + 1
            };
            let (cur_max, cur_prio) = self.fees().await.unwrap_or((0, 0));
            let new_prio = bump(old_prio).max(cur_prio);
            let new_max = bump(old_max).max(cur_max).max(new_prio);
            if new_max > self.cfg.max_fee_cap {
                return Err(TxError::Stuck { key, bumps });
            }
            let env = self.sign(to, &data, nonce, gas, new_max, new_prio).await?;
            let raw = Bytes::from(env.encoded_2718());
            let hash = *env.tx_hash();
            let mut all = all_hashes.clone();
            all.push(hash);
            intent.status = IntentStatus::Sent {
                nonce,
                tx_hash: hash,
                raw: raw.clone(),
                all_hashes: all,
            };
            self.store.put_intent(&intent)?;
            bumps += 1;
            self.metrics.fee_bumps.inc();
            tracing::info!(
                key,
                nonce,
                bumps,
                max_fee = new_max,
                "fee bump: replacing stuck transaction"
            );
            if let Err(e) = self.broadcast(&raw).await {
                tracing::warn!(key, error = %e, "replacement broadcast failed");
            }
        }
    }

    /// Journals and executes a one-off call (`to = None`: contract creation) under `key`. Re-running
    /// with the same key after a crash resumes the same transaction instead of sending a new one; a
    /// key whose intent is already done returns its recorded outcome.
    pub async fn send(
        &self,
        key: &str,
        to: Option<Address>,
        data: Bytes,
    ) -> Result<Executed, TxError> {
        if let Some(existing) = self.store.intent(key)? {
            if let IntentStatus::Done {
                tx_hash: Some(h),
                gas_used,
            } = &existing.status
            {
                return Ok(Executed {
                    tx_hash: *h,
                    gas_used: gas_used.unwrap_or_default(),
                    block: 0,
                });
            }
            if let IntentStatus::Abandoned { reason } = existing.status {
                return Err(TxError::Reverted {
                    key: key.to_string(),
                    reason,
                });
            }
        } else {
            let intent = Intent {
                key: key.to_string(),
                kind: IntentKind::Call,
                subject: None,
                to,
                calldata: data,
                status: IntentStatus::Pending,
                members: vec![],
                single_only: true,
            };
            self.store.put_intent(&intent)?;
        }
        self.execute(key).await
    }

    /// The receipt of `hash`, if mined (polled, no waiting).
    pub async fn receipt_of(&self, hash: TxHash) -> Result<Option<TransactionReceipt>, TxError> {
        self.receipt(hash)
            .await
            .map_err(rpc("eth_getTransactionReceipt"))
    }

    /// The balance of the sending account (for health reporting).
    pub async fn balance(&self) -> Result<U256, TxError> {
        self.provider
            .get_balance(self.from)
            .await
            .map_err(rpc("eth_getBalance"))
    }
}

/// The error of a group member that got no result: a broken invariant of the dispatch loop
/// (every member is answered), reported as a bad intent rather than a panic.
fn no_dispatch_result(key: &str) -> TxError {
    TxError::BadIntent {
        key: key.to_owned(),
        reason: "no dispatch result".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction mined in block 10 (hash 0xaa..).
    fn mined_in_10() -> Inclusion {
        Inclusion {
            tx_hash: TxHash::repeat_byte(1),
            block: 10,
            block_hash: [0xaa; 32],
        }
    }

    /// Only a node whose chain covers the inclusion block and has another block there proves a
    /// transaction gone; one whose head is below it, or that has no block there, proves nothing;
    /// one that has the recorded block proves the nonce used.
    #[test]
    fn a_transaction_is_gone_only_if_the_node_covers_its_block_with_another_one() {
        let at = mined_in_10();
        let unproven = NonceEvidence::Unproven { block: 10 };
        // Lagging: head below the inclusion block (whatever else it says).
        assert_eq!(nonce_evidence(9, Some(&at), None, Some(12)), unproven);
        assert_eq!(nonce_evidence(0, Some(&at), None, None), unproven);
        // A head at or above it but no such block: inconsistent answers (a load balancer).
        assert_eq!(nonce_evidence(10, Some(&at), None, Some(10)), unproven);
        // The recorded block is there: mined, even though the receipt lookup found nothing.
        assert_eq!(
            nonce_evidence(10, Some(&at), Some([0xaa; 32]), Some(10)),
            NonceEvidence::Used
        );
        // Another block at that height, with the head at or above every recorded block: reorged out.
        assert_eq!(
            nonce_evidence(15, Some(&at), Some([0xbb; 32]), Some(15)),
            NonceEvidence::Free
        );
        assert_eq!(
            nonce_evidence(30, Some(&at), Some([0xbb; 32]), None),
            NonceEvidence::Free
        );
        // ... but not from a head below a block we have seen since (a reorg may have moved the
        // transaction to a later block the lagging node has not reached).
        assert_eq!(
            nonce_evidence(12, Some(&at), Some([0xbb; 32]), Some(15)),
            NonceEvidence::Unproven { block: 15 }
        );
        // The recorded block proves the nonce used even from a node behind later blocks.
        assert_eq!(
            nonce_evidence(12, Some(&at), Some([0xaa; 32]), Some(15)),
            NonceEvidence::Used
        );
    }

    /// With no inclusion recorded (journals from before the record, or a nonce nobody holds) the
    /// node must be at or above every block the journal recorded.
    #[test]
    fn without_a_recorded_inclusion_a_node_below_the_recorded_blocks_proves_nothing() {
        assert_eq!(
            nonce_evidence(11, None, None, Some(12)),
            NonceEvidence::Unproven { block: 12 }
        );
        assert_eq!(
            nonce_evidence(12, None, None, Some(12)),
            NonceEvidence::Free
        );
        assert_eq!(nonce_evidence(0, None, None, None), NonceEvidence::Free);
    }

    /// Receipt polls back off from a 64th of the interval to the interval, never beyond it, and
    /// a tiny interval still waits at least a millisecond.
    #[test]
    fn receipt_polls_back_off_from_a_64th_of_the_interval_to_the_interval() {
        let ms = Duration::from_millis;
        let waits: Vec<_> = (0..9).map(|n| receipt_backoff(ms(256), n)).collect();
        assert_eq!(
            waits,
            vec![
                ms(4),
                ms(8),
                ms(16),
                ms(32),
                ms(64),
                ms(128),
                ms(256),
                ms(256),
                ms(256)
            ]
        );
        assert_eq!(receipt_backoff(ms(250), u32::MAX), ms(250));
        assert_eq!(receipt_backoff(ms(2), 0), ms(1));
        assert_eq!(receipt_backoff(ms(2), 5), ms(2));
        assert_eq!(receipt_backoff(Duration::ZERO, 0), ms(1));
    }
    /// Regression (issue 16): an abandoned attestation was logged with the raw selector
    /// `0xd855c4f4`; the reason now names the error, its operator and the fix.
    #[test]
    fn an_abandoned_actions_reason_is_the_decoded_error_not_the_selector() {
        use alloy::sol_types::SolError;
        let operator = Address::repeat_byte(0x11);
        let data = verinfer_bindings::InferenceRegistry::InvalidSignature { operator }.abi_encode();
        let msg = "server returned an error response: error code 3: execution reverted: custom error 0xd855c4f4";
        let TxError::Reverted { key, reason } = reverted("attest:1", msg, Some(&data)) else {
            panic!("not Reverted");
        };
        assert_eq!(key, "attest:1");
        assert!(
            reason.starts_with(&format!(
                "InferenceRegistry::InvalidSignature(operator = {operator})"
            )),
            "{reason}"
        );
        assert!(reason.contains("hint: "), "{reason}");
        assert!(!reason.contains("0xd855c4f4"), "{reason}");
        // Without revert data the node's message is all there is.
        let TxError::Reverted { reason, .. } = reverted("k", msg, None) else {
            panic!("not Reverted");
        };
        assert_eq!(reason, msg);
    }

    fn shape(len: usize) -> CallShape {
        CallShape {
            to: Address::repeat_byte(1),
            selector: [1, 2, 3, 4],
            len,
        }
    }

    #[test]
    fn the_gas_cache_serves_a_shape_it_has_seen_and_keeps_its_largest_cost() {
        let c = GasCache::default();
        assert_eq!(c.get(&shape(68)), None, "miss before any estimate");
        c.observe(shape(68), 50_000);
        assert_eq!(c.get(&shape(68)), Some(50_000), "hit");
        assert_eq!(c.get(&shape(100)), None, "another length is another shape");
        c.observe(shape(68), 40_000);
        assert_eq!(
            c.get(&shape(68)),
            Some(50_000),
            "a cheaper call does not lower it"
        );
        c.observe(shape(68), 61_000);
        assert_eq!(c.get(&shape(68)), Some(61_000), "a dearer one raises it");
    }

    #[test]
    fn the_gas_cache_forgets_a_shape_invalidated_by_a_failure() {
        let c = GasCache::default();
        c.observe(shape(68), 50_000);
        c.observe(shape(100), 70_000);
        c.invalidate(&shape(68));
        assert_eq!(c.get(&shape(68)), None);
        assert_eq!(c.get(&shape(100)), Some(70_000), "other shapes stay");
    }

    #[test]
    fn calls_whose_gas_follows_the_draw_creations_and_transfers_have_no_shape() {
        use alloy::sol_types::SolCall;
        use verinfer_bindings::InferenceRegistry;
        let to = Some(Address::repeat_byte(9));
        let mut data = InferenceRegistry::requestInferenceCall::SELECTOR.to_vec();
        data.extend([0u8; 64]);
        assert_eq!(CallShape::of(to, &data), None, "requestInference draws");
        let mut data = InferenceRegistry::requestInferenceWithCallbackCall::SELECTOR.to_vec();
        data.extend([0u8; 64]);
        assert_eq!(
            CallShape::of(to, &data),
            None,
            "so does its callback variant"
        );
        assert_eq!(CallShape::of(None, &[1, 2, 3, 4, 5]), None, "creation");
        assert_eq!(CallShape::of(to, &[]), None, "plain transfer");
        let mut data = InferenceRegistry::finalizeCall::SELECTOR.to_vec();
        data.extend([0u8; 32]);
        assert_eq!(
            CallShape::of(to, &data),
            Some(CallShape {
                to: Address::repeat_byte(9),
                selector: InferenceRegistry::finalizeCall::SELECTOR,
                len: 36,
            })
        );
    }

    #[test]
    fn a_rounds_fees_are_reused_until_they_are_too_old() {
        let t0 = Instant::now();
        let fees = (2_000_000_000, 1_000_000);
        assert_eq!(Round::fresh(None, t0), None, "nothing fetched yet");
        assert_eq!(Round::fresh(Some((t0, fees)), t0), Some(fees));
        assert_eq!(
            Round::fresh(Some((t0, fees)), t0 + ROUND_FEES_MAX_AGE),
            Some(fees)
        );
        assert_eq!(
            Round::fresh(
                Some((t0, fees)),
                t0 + ROUND_FEES_MAX_AGE + Duration::from_millis(1)
            ),
            None,
            "a long round looks its fees up again"
        );
    }
}
