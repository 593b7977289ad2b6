//! The keeper bench on the devnet fixture: end-to-end attestation throughput, gas and request ->
//! inclusion latency against a private anvil, for each submission mode side by side in one run.
//!
//! Setup, **afresh for every row** (the fixture's phases): anvil (automine), the suite deployed, the
//! built-in model registered with `k = q = 1` (every request is one attestation by one keeper), one
//! operator (owner = anvil account 1, hot key = account 2), the client (account 9) funded. Every row
//! gets its own chain because anvil's cost per block grows with its state (it hashes the whole state
//! for every block's state root and serializes a state snapshot per block: most of its CPU in a
//! `perf` profile of the live phase): rows run one after another on one chain would each run on a
//! larger state than the row before, and the later rows (the HA rows, the ceilings) on the largest.
//! The HA rows' signing store gets a fresh database of the one PostgreSQL server for the same
//! reason (a row's request ids and inputs repeat those of the rows before it). Modes:
//!
//! - (a) `single`: a real [`Keeper`] with `submit.mode = "single"` (one `submitAttestation` per
//!   attestation) and one transaction in flight (`submit.max_in_flight = 1`) — the baseline.
//! - (a') the same with `in_flight` transactions in flight (the pipelined transaction path).
//! - (b) `batch`: the same keeper with `submit.mode = "batch"` (`submitAttestations` of up to
//!   `batch`), `in_flight` transactions in flight.
//! - (c) `merkle`: `commitBatchFor` of a Merkle root over the results, then one `revealBatchResult` per
//!   request. The keeper has no Merkle submission mode, so this row is driven here with the keeper's
//!   own [`TxManager`], [`merkle`](verinfer_keeper::merkle) module and model; it has no live-traffic
//!   latency.
//! - (h) high availability: two replicas of the (b) keeper for one operator and hot key, sharing a
//!   slashing-protection store on a private, durable PostgreSQL ([`crate::postgres`]), one sending
//!   under the sender lease, so the cost of their coordination shows beside (b); (h1) is one such
//!   replica alone (the claims and the lease without a standby), which splits that cost into the
//!   database's share and the standby's (on this machine the standby shares the cores).
//! - (ceiling) the physical limit of this chain on this machine: the very same `submitAttestation`
//!   (and `submitAttestations`) calls, computed, signed and pre-signed as transactions before the
//!   clock starts, sent as one burst by a sender with no keeper logic. The keeper rows are read as a
//!   share of it.
//! - (window) the single ceiling's `submitAttestation` transactions sent by the same minimal
//!   sender with at most `in_flight` of them sent and not yet mined, refilled by the keeper's rule
//!   (at once for an empty window or fewer left than half of it, else in groups of half of it) as
//!   soon as the account's mined nonce count, read every millisecond, shows places freed: what that window
//!   allows on this node with no keeper logic. The (a') row is also read as a share of it, which
//!   separates the window's bound from the keeper's own work. It is a reference, not a bound: the
//!   keeper beat it at 1,024 requests, where the sender saturated anvil with more, smaller blocks.
//!
//! Two phases per mode: *drain* (N requests queued first, then the keeper built, then started;
//! attestations/s from the start of its run to the last inclusion, gas per attestation from the
//! receipts; building it, its journal opened and its signing store connected, is outside the clock
//! as the ceiling's signing is) and *live* (the
//! keeper running while a client sends requests back to back; latency from the request's inclusion
//! to the inclusion of its answer, as seen by a log watcher polling every 10 ms).
//!
//! The profile of each live phase: its latency split at the request's inclusion (request sent ->
//! seen included: the client and the node; included -> answer seen included: the keeper, with its
//! answer's inclusion) and the CPU seconds of the same processes from the first request sent to
//! the last answer seen.
//!
//! The profile of each drain, while its requests are answered: CPU seconds of the anvil process and
//! of this process (the keeper, the watcher, the burst sender) from `/proc/<pid>/stat`, and, with `count_rpc`, the keeper's JSON-RPC calls
//! per method through a [`FaultyRpc`] proxy with no fault set (it adds a hop per call: rates of such a run are not
//! comparable with the others).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, TxHash, Uint, B256, U256};
use alloy::providers::{DynProvider, Provider, RootProvider};
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use serde::Serialize;
use tokio::sync::watch;
use verinfer_bindings::units::{tokens, TOKEN};
use verinfer_bindings::{InferenceRegistry, VerinferToken};
use verinfer_client::client::first_event;
use verinfer_client::requests::inline_uri;
use verinfer_client::Client;
use verinfer_keeper::attest::Attestation;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{BackendConfig, KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{refill_now, Keeper, KeeperError};
use verinfer_keeper::merkle::{leaf, MerkleTree};
use verinfer_keeper::signing_store::RawSigningStoreConfig;
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};
use verinfer_mlp::dataset::TestSplit;
use verinfer_mlp::IntMlp;

use crate::config::{DevnetConfig, ModelConfig, Progress, ProgressSink};
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::operators::{Behaviour, OperatorSpec};
use crate::postgres::PostgresInstance;
use crate::rpc_fault::FaultyRpc;

/// When each answered request was first seen answered, and in which transaction.
type Answers = HashMap<U256, (Instant, TxHash)>;

/// What the answer watcher saw: the answers, and when each watched request was first seen
/// included (its `RequestCreated`).
struct Watched {
    answers: Answers,
    requests: HashMap<U256, Instant>,
}

/// A request the bench sent: id, input, when it was sent, the block it was included in.
type Sent = (U256, Vec<u8>, Instant, u64);

/// Requests per second the drain's backlog is sent at (the pipelined client's limit: it sends as
/// fast as the node takes them).
const QUEUE_RATE: f64 = 1000.0;

/// A row of the bench, named on the command line (`--rows`) by [`Row::key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Row {
    /// (a) `single`, one transaction in flight: the baseline.
    Single,
    /// (a') `single` with the configured transactions in flight.
    SinglePipelined,
    /// (b) `batch`.
    Batch,
    /// (h1) one replica of (b) with the PostgreSQL signing store.
    HaOne,
    /// (h) two replicas of (b) sharing the PostgreSQL signing store.
    Ha,
    /// (c) a Merkle commit and its reveals.
    Merkle,
    /// The ceiling of `submitAttestation` calls.
    CeilingSingle,
    /// The window sender of `submitAttestation` calls.
    Window,
    /// The ceiling of `submitAttestations` calls.
    CeilingBatch,
}

impl Row {
    /// Every row, in the order they run.
    pub const ALL: [Row; 9] = [
        Row::Single,
        Row::SinglePipelined,
        Row::Batch,
        Row::HaOne,
        Row::Ha,
        Row::Merkle,
        Row::CeilingSingle,
        Row::Window,
        Row::CeilingBatch,
    ];

    /// The row's name on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Row::Single => "a",
            Row::SinglePipelined => "a-prime",
            Row::Batch => "b",
            Row::HaOne => "h1",
            Row::Ha => "h",
            Row::Merkle => "c",
            Row::CeilingSingle => "ceiling-single",
            Row::Window => "window",
            Row::CeilingBatch => "ceiling-batch",
        }
    }

    /// The rows this one is read against: its call shape's ceiling, and the window sender for
    /// (a'). They run whenever it does.
    pub fn references(self) -> &'static [Row] {
        match self {
            Row::Single => &[Row::CeilingSingle],
            Row::SinglePipelined => &[Row::CeilingSingle, Row::Window],
            Row::Batch | Row::HaOne | Row::Ha => &[Row::CeilingBatch],
            Row::Merkle | Row::CeilingSingle | Row::Window | Row::CeilingBatch => &[],
        }
    }

    /// Whether the row runs replicas on the PostgreSQL signing store ((h1), (h)).
    pub fn is_ha(self) -> bool {
        matches!(self, Row::HaOne | Row::Ha)
    }

    /// `rows` with the rows they are read against, in the order they run.
    pub fn with_references(rows: &[Row]) -> Vec<Row> {
        let wanted: HashSet<Row> = rows
            .iter()
            .flat_map(|r| std::iter::once(*r).chain(r.references().iter().copied()))
            .collect();
        Row::ALL
            .into_iter()
            .filter(|r| wanted.contains(r))
            .collect()
    }
}

impl std::str::FromStr for Row {
    type Err = DevnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Row::ALL
            .into_iter()
            .find(|r| r.key() == s)
            .ok_or_else(|| DevnetError::UnknownRow {
                given: s.to_string(),
                known: Row::ALL.map(Row::key).join(", "),
            })
    }
}

/// A directory removed, with what it holds, when this is dropped (also when the bench fails
/// half-way).
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Distinct watcher sightings below which a drain has no rate once answers land.
const MIN_SIGHTINGS: usize = 8;

/// Concurrent sends of the ceiling's burst.
const CEILING_CONCURRENCY: usize = 64;

/// Longest wait for a mode's answers.
const WATCH_TIMEOUT: Duration = Duration::from_secs(600);

/// Parameters of the keeper bench.
#[derive(Clone)]
pub struct KeeperBenchConfig {
    /// Requests per mode in the drain phase (queued, then answered as fast as the keeper can); >= 2.
    pub requests: usize,
    /// Requests per mode in the live phase (sent back to back while the keeper runs); 0 (no live
    /// phase) or >= 2.
    pub live_requests: usize,
    /// Attestations per `submitAttestations` call in batch mode (2..=64).
    pub batch: usize,
    /// Transactions in flight per hot key in the pipelined modes (`submit.max_in_flight`, 2..=64);
    /// the baseline row runs with 1.
    pub in_flight: usize,
    /// Live phase: send requests at this many per second, each without waiting for the previous
    /// one's receipt (a pipelined client); `None` sends them back to back, each after the previous
    /// receipt.
    pub client_rate: Option<f64>,
    /// Keeper log poll interval, milliseconds.
    pub poll_ms: u64,
    /// Receipt poll interval, milliseconds (`submit.receipt_poll_ms`).
    pub receipt_poll_ms: u64,
    /// Run the HA rows ((h1) and (h): replicas sharing a PostgreSQL signing store; needs
    /// PostgreSQL's server binaries, `script/setup.sh`).
    pub ha: bool,
    /// Route the keepers' JSON-RPC through a counting proxy and report calls per attestation.
    pub count_rpc: bool,
    /// Milliseconds of round trip added to every JSON-RPC request of the keepers (0: none), by the
    /// same proxy (which then counts their calls too): a node across a network instead of on this
    /// machine. The client, the watcher and the ceiling's senders keep their direct connection.
    pub rpc_latency_ms: u64,
    /// The rows to run ([`Row::ALL`] for every one); each runs with the rows it is read against
    /// ([`Row::references`]). Without `ha` the HA rows are skipped.
    pub rows: Vec<Row>,
    /// The chain: anvil options, root and progress (operators, requests and model are the bench's).
    pub devnet: DevnetConfig,
}

impl std::fmt::Debug for KeeperBenchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeeperBenchConfig")
            .field("requests", &self.requests)
            .field("live_requests", &self.live_requests)
            .field("batch", &self.batch)
            .field("in_flight", &self.in_flight)
            .field("client_rate", &self.client_rate)
            .field("poll_ms", &self.poll_ms)
            .field("receipt_poll_ms", &self.receipt_poll_ms)
            .field("ha", &self.ha)
            .field("count_rpc", &self.count_rpc)
            .field("rpc_latency_ms", &self.rpc_latency_ms)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl KeeperBenchConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), DevnetError> {
        let check = |field, value: usize, ok: bool, allowed| {
            if ok {
                Ok(())
            } else {
                Err(DevnetError::Config {
                    field,
                    value,
                    allowed,
                })
            }
        };
        check("--requests", self.requests, self.requests >= 2, "2..")?;
        check(
            "--live-requests",
            self.live_requests,
            self.live_requests == 0 || self.live_requests >= 2,
            "0 (no live phase) or 2..",
        )?;
        check("--rows", self.rows.len(), !self.rows.is_empty(), "1..")?;
        check(
            "--rows",
            self.rows.len(),
            self.ha || self.rows.iter().any(|r| !r.is_ha()),
            "a row besides h1 and h with --no-ha",
        )?;
        check(
            "--batch",
            self.batch,
            (2..=64).contains(&self.batch),
            "2..=64",
        )?;
        check(
            "--in-flight",
            self.in_flight,
            (2..=64).contains(&self.in_flight),
            "2..=64",
        )?;
        if let Some(rate) = self.client_rate {
            check(
                "--client-rate",
                rate as usize,
                rate.is_finite() && (1.0..=1000.0).contains(&rate),
                "1..=1000",
            )?;
        }
        check("--poll-ms", self.poll_ms as usize, self.poll_ms > 0, "1..")?;
        check(
            "--receipt-poll-ms",
            self.receipt_poll_ms as usize,
            self.receipt_poll_ms > 0,
            "1..",
        )?;
        check(
            "--rpc-latency-ms",
            self.rpc_latency_ms as usize,
            self.rpc_latency_ms <= 1000,
            "0..=1000",
        )
    }
}

/// One row of the result table.
#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct ModeResult {
    /// The mode, e.g. `(a) single submitAttestation`.
    pub mode: String,
    /// Attestations of the drain phase.
    pub attestations: usize,
    /// Transactions they took.
    pub txs: usize,
    /// Blocks those transactions were included in (an automining node mines a block per arrival,
    /// with every transaction pending then: a burst of concurrent sends shares blocks).
    pub blocks: usize,
    /// Seconds from start to the last inclusion.
    pub drain_secs: f64,
    /// Attestations per second of the drain.
    pub attestations_per_sec: f64,
    /// Gas per attestation of the drain.
    pub gas_per_attestation: f64,
    /// Requests of the live phase (0 for a mode without one).
    pub live_requests: usize,
    /// Median request -> answer latency of the live phase, ms.
    pub live_latency_ms_median: Option<f64>,
    /// 99th percentile of it, ms.
    pub live_latency_ms_p99: Option<f64>,
    /// Median blocks from the request's inclusion to its answer's.
    pub live_latency_blocks_median: Option<f64>,
    /// 99th percentile of it, blocks.
    pub live_latency_blocks_p99: Option<f64>,
    /// Rate the live requests went out at.
    pub live_requests_per_sec: Option<f64>,
    /// Median of the live phase's request sent -> request seen included, ms: the client's and the
    /// node's part of the latency.
    pub live_inclusion_ms_median: Option<f64>,
    /// Median of request seen included -> answer seen included, ms: the keeper's part (its poll,
    /// answer, submission) with the answer's inclusion.
    pub live_keeper_ms_median: Option<f64>,
    /// 99th percentile of it, ms.
    pub live_keeper_ms_p99: Option<f64>,
    /// Seconds from the live phase's first request to its last answer seen.
    pub live_secs: Option<f64>,
    /// CPU seconds anvil used in that span.
    pub live_cpu_anvil_secs: Option<f64>,
    /// CPU seconds this process (keepers, client, watcher) used in that span.
    pub live_cpu_bench_secs: Option<f64>,
    /// CPU seconds the PostgreSQL server used in that span (HA rows).
    pub live_cpu_postgres_secs: Option<f64>,
    /// Drain rate as a share of the ceiling row with the same calls (keeper rows only).
    pub share_of_ceiling: Option<f64>,
    /// Drain rate as a share of the window sender: the same calls pre-signed, with the same
    /// transactions in flight (the `(window)` row; single keeper rows with that window only):
    /// what the window itself allows on this node, with no keeper logic.
    pub share_of_window_sender: Option<f64>,
    /// The drain's rate once answers land: the attestations seen after the watcher first saw
    /// some, over the time from that sighting to the last (the drain without its start: a
    /// keeper's first poll and first gas estimate, a burst's first send); `None` when
    /// the watcher saw the answers at fewer than 8 distinct polls (a few transactions: the
    /// figure would be the watcher's 10 ms granularity).
    pub sending_attestations_per_sec: Option<f64>,
    /// [`ModeResult::sending_attestations_per_sec`] as a share of the ceiling's (keeper rows only).
    pub sending_share_of_ceiling: Option<f64>,
    /// Model runs of the row's keepers during the drain (keeper rows; one per request when no
    /// replica runs the model for a request another one answers).
    pub drain_inferences: Option<u64>,
    /// Look-ups of claimed statements in the signing store by the row's keepers during the drain
    /// (keeper rows; 0 without a signing store): what a cold drain still reads before claiming
    /// (docs/keeper.md, "The holder claims first"). A standby's later adoptions are not counted
    /// once the drain is over.
    pub drain_claim_lookups: Option<u64>,
    /// What happened to the row's keepers during the drain besides answering (keeper rows): lease
    /// grants, fee bumps, reorgs seen, failed RPC calls. A healthy drain has no fee bump, reorg or
    /// failed call, and one grant in the HA rows; a slow drain with more says why.
    pub drain_incidents: Option<Incidents>,
    /// CPU seconds the anvil process used while the drain's requests were answered (from the
    /// built keeper's start or the burst's first send to the last inclusion seen; `None` where `/proc`
    /// cannot tell).
    pub drain_cpu_anvil_secs: Option<f64>,
    /// CPU seconds this process (keeper, answer watcher, burst sender) used in the same span.
    pub drain_cpu_bench_secs: Option<f64>,
    /// CPU seconds the PostgreSQL server (its postmaster and every backend) used in the same span
    /// (the HA rows only: the replicas' signing store).
    pub drain_cpu_postgres_secs: Option<f64>,
    /// With `count_rpc`: the keeper's JSON-RPC calls of the drain, per method (keeper rows only).
    pub drain_rpc_calls: Option<BTreeMap<String, usize>>,
    /// With `count_rpc`: the keeper's JSON-RPC calls per attestation of the drain.
    pub drain_rpc_calls_per_attestation: Option<f64>,
}

/// One row's figures over several runs of the bench (`verinfer bench keeper --runs`): these
/// machines are noisy, and a burst's rate depends on how many blocks anvil cuts it into, so a
/// row is read against the median of its ceiling over every run (the pooled ceiling).
#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct RowSpread {
    /// The row, as in [`ModeResult::mode`].
    pub mode: String,
    /// Runs it was measured in (with a finite rate).
    pub runs: usize,
    /// Its drain rate over the runs, attestations per second: min, median, max.
    pub attestations_per_sec: [f64; 3],
    /// Blocks its drain's transactions were included in: min, median, max.
    pub blocks: [f64; 3],
    /// The median of its call shape's ceiling over the runs (keeper rows only), att/s.
    pub pooled_ceiling: Option<f64>,
    /// Its rate over the pooled ceiling (keeper rows only): min, median, max.
    pub share_of_pooled_ceiling: Option<[f64; 3]>,
}

/// Min, median and max of the finite values of `xs` (the median of an even count is the mean of
/// the middle two); `None` when there are none.
pub fn min_median_max(xs: &[f64]) -> Option<[f64; 3]> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = match n {
        0 => return None,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    };
    Some([v[0], median, v[n - 1]])
}

/// The spread of each row over `runs` (each one run's rows, as [`keeper_bench`] returns them),
/// rows matched by their mode, in the first run's order. A keeper row's ceiling in a run is its
/// rate over its share of that run's ceiling.
pub fn spread(runs: &[Vec<ModeResult>]) -> Vec<RowSpread> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|row| {
            let rows: Vec<&ModeResult> = runs
                .iter()
                .filter_map(|run| run.iter().find(|r| r.mode == row.mode))
                .collect();
            let rates: Vec<f64> = rows.iter().map(|r| r.attestations_per_sec).collect();
            let ceilings: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.share_of_ceiling.map(|s| r.attestations_per_sec / s))
                .collect();
            let pooled = min_median_max(&ceilings).map(|c| c[1]);
            let blocks: Vec<f64> = rows.iter().map(|r| r.blocks as f64).collect();
            let rate = min_median_max(&rates)?;
            Some(RowSpread {
                mode: row.mode.clone(),
                runs: rates.iter().filter(|x| x.is_finite()).count(),
                attestations_per_sec: rate,
                blocks: min_median_max(&blocks)?,
                pooled_ceiling: pooled,
                share_of_pooled_ceiling: pooled.filter(|c| *c > 0.0).map(|c| rate.map(|x| x / c)),
            })
        })
        .collect()
}

/// How the attestations of one run are submitted.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// A keeper: submission mode, batch size, transactions in flight.
    Keeper(SubmitMode, usize, usize),
    /// Replicas (the last field: 1 or 2) of that keeper for one operator, sharing a PostgreSQL
    /// signing store: every answer claimed in it, the sender lease held.
    Ha(SubmitMode, usize, usize, usize),
    Merkle,
    /// The ceiling: the same calls as a keeper makes (`submitAttestation` when 1, else
    /// `submitAttestations` of this many), computed, signed and pre-signed as transactions before
    /// the clock starts, then sent as one burst by a sender with no keeper logic.
    Ceiling(usize),
    /// The window sender: the ceiling's `submitAttestation` transactions sent with at most this
    /// many in flight, refilled by the keeper's rule as the account's mined nonce count shows
    /// places freed ([`send_in_flight`]). A reference, not a bound: it polls every millisecond
    /// and refills as soon as the rule allows, which is not always the fastest way through a
    /// saturated node.
    Window(usize),
}

/// The chain the bench runs on.
struct Bench {
    devnet: Devnet,
    rpc: RootProvider,
    client: Client,
    /// The client's key, for the pipelined client of `client_rate`.
    client_key: HotKey,
    client_rate: Option<f64>,
    hot: HotKey,
    operator: Address,
    registry: Address,
    model: IntMlp,
    /// `model`'s id, computed once (it hashes the model's weight rows).
    model_id: B256,
    backend: Vec<BackendConfig>,
    split: TestSplit,
    poll_ms: u64,
    submit: SubmitConfig,
    runs: usize,
    /// The replicas' signing store: its database's URL (HA rows only).
    signing_store_url: Option<String>,
    /// The PostgreSQL server's postmaster, for its CPU (HA rows only).
    postgres_pid: Option<u32>,
    /// The keepers' counting RPC proxy (`count_rpc` only).
    counting: Option<FaultyRpc>,
}

/// Runs the bench: the fixture's setup, then each mode's drain and live phases.
pub async fn keeper_bench(cfg: &KeeperBenchConfig) -> Result<Vec<ModeResult>, DevnetError> {
    cfg.validate()?;
    let progress: ProgressSink = cfg.devnet.progress.clone();
    let rows_run: Vec<Row> = Row::with_references(&cfg.rows)
        .into_iter()
        .filter(|r| cfg.ha || !r.is_ha())
        .collect();
    let postgres = if rows_run.iter().any(|r| r.is_ha()) {
        Some(crate::postgres::spawn(
            crate::postgres::Durability::Durable,
        )?)
    } else {
        None
    };
    let base_dir = RemovedOnDrop(cfg.devnet.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("verinfer-bench-keeper-{}", std::process::id()))
    }));
    let mode_of = |row: Row| match row {
        Row::Single => (
            "(a) single submitAttestation, 1 in flight".to_string(),
            Mode::Keeper(SubmitMode::Single, 1, 1),
        ),
        Row::SinglePipelined => (
            format!("(a') single submitAttestation, {} in flight", cfg.in_flight),
            Mode::Keeper(SubmitMode::Single, 1, cfg.in_flight),
        ),
        Row::Batch => (
            format!(
                "(b) submitAttestations x{}, {} in flight",
                cfg.batch, cfg.in_flight
            ),
            Mode::Keeper(SubmitMode::Batch, cfg.batch, cfg.in_flight),
        ),
        Row::HaOne => (
            "(h1) 1 replica of (b) with the shared PostgreSQL signing store, no standby"
                .to_string(),
            Mode::Ha(SubmitMode::Batch, cfg.batch, cfg.in_flight, 1),
        ),
        Row::Ha => (
            "(h) HA: 2 replicas of (b), shared PostgreSQL signing store".to_string(),
            Mode::Ha(SubmitMode::Batch, cfg.batch, cfg.in_flight, 2),
        ),
        Row::Merkle => ("(c) merkle commit + reveals".to_string(), Mode::Merkle),
        Row::CeilingSingle => (
            "(ceiling) pre-signed submitAttestation burst".to_string(),
            Mode::Ceiling(1),
        ),
        Row::Window => (
            format!(
                "(window) pre-signed submitAttestation, {} in flight",
                cfg.in_flight
            ),
            Mode::Window(cfg.in_flight),
        ),
        Row::CeilingBatch => (
            format!(
                "(ceiling) pre-signed submitAttestations x{} burst",
                cfg.batch
            ),
            Mode::Ceiling(cfg.batch),
        ),
    };
    let mut rows = Vec::new();
    let mut modes_run = Vec::new();
    for r in rows_run {
        // The row's place in `Row::ALL` (its declaration order) names its directory and database.
        let (row, (name, mode)) = (r as usize, mode_of(r));
        let store = match (&postgres, mode) {
            (Some(pg), Mode::Ha(..)) => Some((pg.create_database(&format!("row_{row}"))?, pg)),
            _ => None,
        };
        progress(Progress::Phase(format!("{name}: a fresh chain")));
        let mut b = setup(cfg, base_dir.0.join(format!("row-{row}")), store).await?;
        progress(Progress::Phase(format!(
            "{name}: drain of {} requests",
            cfg.requests
        )));
        if let Some(c) = &b.counting {
            c.reset();
        }
        let Drained {
            summary:
                Summary {
                    secs: drain_secs,
                    txs,
                    gas,
                    blocks,
                    sending,
                },
            inferences,
            lookups,
            incidents,
            cpu,
        } = drain(&mut b, mode, cfg.requests).await?;
        if let Some(i) = incidents.filter(Incidents::any) {
            tracing::warn!(mode = name, ?i, drain_secs, "incidents during the drain");
        }
        let rpc_calls = match mode {
            Mode::Keeper(..) | Mode::Ha(..) => b.counting.as_ref().map(FaultyRpc::counts),
            Mode::Merkle | Mode::Ceiling(_) | Mode::Window(_) => None,
        };
        let live = match Keepers::of(mode).filter(|_| cfg.live_requests > 0) {
            Some(k) => {
                progress(Progress::Phase(format!(
                    "{name}: live traffic of {} requests",
                    cfg.live_requests
                )));
                Some(live(&mut b, k, cfg.live_requests).await?)
            }
            None => None,
        };
        rows.push(ModeResult {
            mode: name,
            attestations: cfg.requests,
            txs,
            blocks,
            drain_secs,
            attestations_per_sec: cfg.requests as f64 / drain_secs,
            gas_per_attestation: gas as f64 / cfg.requests as f64,
            live_requests: if live.is_some() { cfg.live_requests } else { 0 },
            live_latency_ms_median: live.as_ref().map(|l| l.p50_ms),
            live_latency_ms_p99: live.as_ref().map(|l| l.p99_ms),
            live_latency_blocks_median: live.as_ref().map(|l| l.p50_blocks),
            live_latency_blocks_p99: live.as_ref().map(|l| l.p99_blocks),
            live_requests_per_sec: live.as_ref().map(|l| l.requests_per_sec),
            live_inclusion_ms_median: live.as_ref().map(|l| l.inclusion_p50_ms),
            live_keeper_ms_median: live.as_ref().map(|l| l.keeper_p50_ms),
            live_keeper_ms_p99: live.as_ref().map(|l| l.keeper_p99_ms),
            live_secs: live.as_ref().map(|l| l.secs),
            live_cpu_anvil_secs: live.as_ref().and_then(|l| l.cpu.anvil),
            live_cpu_bench_secs: live.as_ref().and_then(|l| l.cpu.bench),
            live_cpu_postgres_secs: live.as_ref().and_then(|l| l.cpu.postgres),
            share_of_ceiling: None,
            share_of_window_sender: None,
            sending_attestations_per_sec: sending,
            drain_inferences: inferences,
            drain_claim_lookups: lookups,
            drain_incidents: incidents,
            sending_share_of_ceiling: None,
            drain_cpu_anvil_secs: cpu.anvil,
            drain_cpu_bench_secs: cpu.bench,
            drain_cpu_postgres_secs: cpu.postgres,
            drain_rpc_calls_per_attestation: rpc_calls
                .as_ref()
                .map(|c| c.values().sum::<usize>() as f64 / cfg.requests as f64),
            drain_rpc_calls: rpc_calls,
        });
        modes_run.push(mode);
        // The row's chain (its anvil stops when `b` drops) and journals go.
        let _ = std::fs::remove_dir_all(b.devnet.data_dir());
    }
    drop(base_dir);
    // Each keeper row against the ceiling of its own call shape, whole and once sending, and a
    // pipelined single row against the window sender of its own window.
    let row_of = |want: &dyn Fn(&Mode) -> bool| {
        modes_run
            .iter()
            .zip(&rows)
            .find(|(m, _)| want(m))
            .map(|(_, r)| r)
    };
    let share = |x: Option<f64>, c: Option<f64>| x.zip(c.filter(|c| *c > 0.0)).map(|(x, c)| x / c);
    let shares: Vec<(Option<f64>, Option<f64>, Option<f64>)> = modes_run
        .iter()
        .zip(&rows)
        .map(|(m, r)| {
            let per_tx = match m {
                Mode::Keeper(SubmitMode::Single, ..) | Mode::Ha(SubmitMode::Single, ..) => 1,
                Mode::Keeper(SubmitMode::Batch, n, _) | Mode::Ha(SubmitMode::Batch, n, ..) => *n,
                Mode::Merkle | Mode::Ceiling(_) | Mode::Window(_) => return (None, None, None),
            };
            let ceiling = row_of(&|c| matches!(c, Mode::Ceiling(n) if *n == per_tx));
            let window = match m {
                Mode::Keeper(SubmitMode::Single, 1, w) => {
                    row_of(&|c| matches!(c, Mode::Window(v) if v == w))
                }
                _ => None,
            };
            let rate = Some(r.attestations_per_sec);
            (
                share(rate, ceiling.map(|c| c.attestations_per_sec)),
                share(
                    r.sending_attestations_per_sec,
                    ceiling.and_then(|c| c.sending_attestations_per_sec),
                ),
                share(rate, window.map(|w| w.attestations_per_sec)),
            )
        })
        .collect();
    for (r, (share, sending, window)) in rows.iter_mut().zip(shares) {
        r.share_of_ceiling = share;
        r.sending_share_of_ceiling = sending;
        r.share_of_window_sender = window;
    }
    Ok(rows)
}

/// A fresh chain in `data_dir` (the fixture's phases with the bench's model and operator; the
/// client funded) and, for an HA row, the signing store's fresh database (`store`: its URL and the
/// server), warmed up.
async fn setup(
    cfg: &KeeperBenchConfig,
    data_dir: PathBuf,
    store: Option<(String, &PostgresInstance)>,
) -> Result<Bench, DevnetError> {
    let devnet = Devnet::start(DevnetConfig {
        model: ModelConfig::single(),
        // The bench's deployment manifest stays in its own directory (removed at the end): it never
        // overwrites the manifest of a devnet run from the working directory.
        root: data_dir.clone(),
        data_dir: Some(data_dir),
        ..cfg.devnet.clone()
    })?;
    let d = devnet.deploy().await?;
    let hot = HotKey::new(devnet.dev_signer(2)?);
    let ops = devnet
        .register_operators(
            &d,
            vec![OperatorSpec {
                owner: devnet.dev_signer(1)?,
                hot: hot.clone(),
                stake: tokens(10_000),
                behaviour: Behaviour::Honest,
                bond: None,
            }],
        )
        .await?;
    let registry = d.contract("InferenceRegistry")?;
    let client_key = HotKey::new(devnet.dev_signer(9)?);
    let client = devnet
        .client(client_key.signer().clone(), &d.manifest_path)
        .await?;
    d.deployer
        .send(
            "fund-client",
            d.contract("VerinferToken")?,
            &VerinferToken::transferCall {
                to: client.sender(),
                value: tokens(1_000_000),
            },
        )
        .await?;
    client.approve(registry, U256::MAX).await?;
    let rpc = RootProvider::new_http(devnet.anvil().endpoint_url());
    if let Some((url, _)) = &store {
        // A database in service, as in a deployment: its schema created and its catalogs read by a
        // first connection, so the (h) drain does not time a fresh database's first backend. The
        // replicas still connect inside the drain's clock.
        verinfer_keeper::signing_store::SigningStore::new(
            url,
            "bench-setup",
            Duration::from_secs(2),
        )
        .connect()
        .await
        .map_err(verinfer_keeper::keeper::KeeperError::from)?;
    }
    let counting = if cfg.count_rpc || cfg.rpc_latency_ms > 0 {
        let c = FaultyRpc::start(devnet.url())
            .await
            .map_err(|source| DevnetError::Io {
                path: "counting RPC proxy".into(),
                source,
            })?;
        c.set_latency((cfg.rpc_latency_ms > 0).then(|| Duration::from_millis(cfg.rpc_latency_ms)));
        Some(c)
    } else {
        None
    };
    Ok(Bench {
        postgres_pid: store.as_ref().and_then(|(_, pg)| pg.server_pid()),
        signing_store_url: store.map(|(url, _)| url),
        counting,
        rpc,
        client,
        client_key,
        client_rate: cfg.client_rate,
        hot,
        operator: ops.first().map(|o| o.address()).unwrap_or_default(),
        registry,
        backend: devnet.backends(&d),
        model: d.model.clone(),
        model_id: d.model.model_id(),
        split: cfg.devnet.load_test_split()?,
        poll_ms: cfg.poll_ms,
        submit: SubmitConfig {
            receipt_poll_ms: cfg.receipt_poll_ms,
            ..SubmitConfig::default()
        },
        runs: 0,
        devnet,
    })
}

impl Bench {
    fn provider(&self) -> &DynProvider {
        self.devnet.provider()
    }

    fn next_dir(&mut self, what: &str) -> PathBuf {
        self.runs += 1;
        self.devnet.data_dir().join(format!("{}-{what}", self.runs))
    }

    async fn request_count(&self) -> Result<U256, DevnetError> {
        InferenceRegistry::new(self.registry, self.provider())
            .requestCount()
            .call()
            .await
            .map_err(DevnetError::view("requestCount"))
    }

    /// Sends `n` requests back to back (each after the previous one's receipt), inputs the test
    /// split's images in turn; returns `(id, input, sent at, inclusion block)` of each. Ids are
    /// sequential because the client is the only requester.
    async fn requests(&self, n: usize) -> Result<Vec<Sent>, DevnetError> {
        let first = self.request_count().await? + U256::from(1);
        let now = self.devnet.chain_time().await?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let input = self.split.cycle(i).input.clone();
            let call = self.request_call(&input, now);
            let sent = Instant::now();
            let receipt = self
                .client
                .send("requestInference", self.registry, &call)
                .await?;
            out.push((
                first + U256::from(i),
                input,
                sent,
                receipt.block_number.unwrap_or_default(),
            ));
        }
        let count = self.request_count().await?;
        let expected = first + U256::from(n.saturating_sub(1));
        if count != expected {
            return Err(DevnetError::NotSequential { count, expected });
        }
        Ok(out)
    }

    /// Starts the keeper (or its replicas, sharing the signing store) reading logs from
    /// `start_block`.
    async fn start_keepers(
        &mut self,
        k: Keepers,
        start_block: u64,
    ) -> Result<RunningKeeper, DevnetError> {
        Ok(self.build_keepers(k, start_block).await?.start())
    }

    /// Builds the keeper (or its replicas, sharing the signing store) reading logs from
    /// `start_block`, not running yet: its journal opened, its node's chain id read, its signing
    /// store connected ([`Keeper::new`]).
    async fn build_keepers(
        &mut self,
        k: Keepers,
        start_block: u64,
    ) -> Result<BuiltKeepers, DevnetError> {
        let rpc_url = match &self.counting {
            Some(c) => c.url().to_owned(),
            None => self.devnet.url().to_owned(),
        };
        let mut keepers = Vec::with_capacity(k.replicas);
        for replica in 0..k.replicas {
            let name = format!("bench-{replica}");
            let signing_store = match (&self.signing_store_url, k.shared_store) {
                (Some(url), true) => Some(RawSigningStoreConfig {
                    postgres_url: Some(url.clone()),
                    replica: Some(name.clone()),
                    timeout_ms: None,
                    sender_lease_ms: None,
                }),
                _ => None,
            };
            let cfg = KeeperConfig::from_raw(RawConfig {
                rpc_url: Some(rpc_url.clone()),
                registry: Some(format!("{:#x}", self.registry)),
                operator: Some(format!("{:#x}", self.operator)),
                data_dir: Some(self.next_dir(&name)),
                poll_interval_ms: Some(self.poll_ms),
                start_block: Some(start_block),
                confirmations: Some(0),
                submit: SubmitConfig {
                    mode: k.submit,
                    max_batch: k.max_batch,
                    max_in_flight: k.in_flight,
                    ..self.submit.clone()
                },
                backend: self.backend.clone(),
                signing_store,
                ..RawConfig::default()
            })?;
            keepers.push(Keeper::new(cfg, self.hot.clone(), &name).await?);
        }
        Ok(BuiltKeepers(keepers))
    }

    /// Answers already-created requests with a Merkle commit and one reveal each, through the
    /// keeper's transaction manager.
    async fn merkle_answer(&mut self, reqs: &[Sent]) -> Result<(), DevnetError> {
        let store = Arc::new(Store::open(&self.next_dir("merkle").join("txs.redb"))?);
        let chain_id = self
            .provider()
            .get_chain_id()
            .await
            .map_err(DevnetError::rpc("eth_chainId"))?;
        let tx = TxManager::new(
            self.rpc.clone(),
            &self.hot,
            chain_id,
            store,
            TxConfig {
                receipt_timeout: Duration::from_secs(self.submit.receipt_timeout_secs),
                poll_interval: Duration::from_millis(self.submit.receipt_poll_ms),
                ..TxConfig::default()
            },
        );
        let results: Vec<(U256, B256)> = reqs
            .iter()
            .map(|(id, input, _, _)| Ok((*id, keccak256(self.model.infer(input)?))))
            .collect::<Result<_, DevnetError>>()?;
        let tree = MerkleTree::new(
            results
                .iter()
                .map(|(id, out)| leaf(self.operator, *id, *out))
                .collect(),
        )?;
        let count = u32::try_from(results.len()).map_err(|_| DevnetError::OutOfRange {
            what: "merkle batch size",
            value: results.len().to_string(),
        })?;
        let commit = InferenceRegistry::commitBatchForCall {
            operator: self.operator,
            root: tree.root(),
            count,
        };
        let done = tx
            .send(
                "commit",
                Some(self.registry),
                Bytes::from(commit.abi_encode()),
            )
            .await?;
        let receipt = self.client.wait_receipt("commit", done.tx_hash).await?;
        let batch_id =
            first_event::<InferenceRegistry::BatchCommitted>("commitBatchFor", &receipt)?.batchId;
        for (id, out) in &results {
            let reveal = InferenceRegistry::revealBatchResultCall {
                batchId: batch_id,
                requestId: *id,
                outputHash: *out,
                proof: tree.proof(leaf(self.operator, *id, *out))?,
            };
            tx.send(
                &format!("reveal:{id}"),
                Some(self.registry),
                Bytes::from(reveal.abi_encode()),
            )
            .await?;
        }
        Ok(())
    }

    /// The `requestInference` call of `input`, deadline an hour after `now`.
    fn request_call(&self, input: &[u8], now: u64) -> InferenceRegistry::requestInferenceCall {
        InferenceRegistry::requestInferenceCall {
            modelId: self.model_id,
            inputHash: keccak256(input),
            inputURI: inline_uri(input),
            fee: U256::from(TOKEN / 100),
            deadline: Uint::from(now + 3_600),
        }
    }

    /// Sends `n` requests at `rate` per second through a pipelined client (the keeper's own
    /// [`TxManager`]: each request journaled and dispatched on its tick, receipts settled
    /// concurrently), so the send rate does not depend on inclusion; returns what
    /// [`Bench::requests`] returns.
    async fn requests_at_rate(&mut self, n: usize, rate: f64) -> Result<Vec<Sent>, DevnetError> {
        use futures::stream::{FuturesUnordered, StreamExt};

        let first = self.request_count().await? + U256::from(1);
        let now = self.devnet.chain_time().await?;
        let chain_id = self
            .rpc
            .get_chain_id()
            .await
            .map_err(DevnetError::rpc("eth_chainId"))?;
        let store = Arc::new(Store::open(&self.next_dir("client").join("txs.redb"))?);
        let tx = TxManager::new(
            self.rpc.clone(),
            &self.client_key,
            chain_id,
            store.clone(),
            TxConfig {
                poll_interval: Duration::from_millis(self.submit.receipt_poll_ms),
                ..TxConfig::default()
            },
        );
        let tick = Duration::from_secs_f64(1.0 / rate);
        let start = Instant::now();
        let mut settling = FuturesUnordered::new();
        let mut blocks: HashMap<usize, u64> = HashMap::with_capacity(n);
        let mut sent_at = Vec::with_capacity(n);
        for i in 0..n {
            let at = start + tick.mul_f64(i as f64);
            tokio::time::sleep_until(at.into()).await;
            let input = self.split.cycle(i).input.clone();
            let key = format!("request:{i}");
            store.put_intent(&verinfer_keeper::store::Intent {
                key: key.clone(),
                kind: verinfer_keeper::store::IntentKind::Call,
                subject: None,
                to: Some(self.registry),
                calldata: Bytes::from(self.request_call(&input, now).abi_encode()),
                status: verinfer_keeper::store::IntentStatus::Pending,
                members: vec![],
                single_only: true,
            })?;
            let sent = Instant::now();
            match tx.dispatch(&key).await? {
                verinfer_keeper::txmgr::Dispatch::InFlight(f) => {
                    let tx = &tx;
                    settling.push(async move { (i, tx.settle(f).await) });
                }
                verinfer_keeper::txmgr::Dispatch::Done(done) => {
                    blocks.insert(i, done.block);
                }
            }
            sent_at.push((input, sent));
        }
        while let Some((i, r)) = settling.next().await {
            blocks.insert(i, r?.block);
        }
        let out: Vec<Sent> = sent_at
            .into_iter()
            .enumerate()
            .map(|(i, (input, sent))| {
                let block = blocks.get(&i).copied().unwrap_or_default();
                (first + U256::from(i), input, sent, block)
            })
            .collect();
        let count = self.request_count().await?;
        let expected = first + U256::from(n.saturating_sub(1));
        if count != expected {
            return Err(DevnetError::NotSequential { count, expected });
        }
        Ok(out)
    }

    /// The ceiling's transactions: each request's attestation computed and signed as the keeper
    /// would, `per_tx` per call, signed by the hot key with consecutive nonces, gas from one
    /// estimate per call shape (x1.3, as the keeper) and the node's current fees.
    async fn presign(&self, reqs: &[Sent], per_tx: usize) -> Result<Vec<Bytes>, DevnetError> {
        use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
        use alloy::rpc::types::TransactionRequest;

        let p = &self.rpc;
        let chain_id = p
            .get_chain_id()
            .await
            .map_err(DevnetError::rpc("eth_chainId"))?;
        let domain = verinfer_keeper::attest::domain(chain_id, self.registry);
        let mut calls = Vec::new();
        for chunk in reqs.chunks(per_tx.max(1)) {
            let mut atts = Vec::with_capacity(chunk.len());
            let mut sigs = Vec::with_capacity(chunk.len());
            for (id, input, _, _) in chunk {
                let att = Attestation {
                    operator: self.operator,
                    requestId: *id,
                    modelId: self.model_id,
                    inputHash: keccak256(input),
                    outputHash: keccak256(self.model.infer(input)?),
                };
                sigs.push(Bytes::from(
                    self.hot.sign_attestation(&att, &domain)?.to_vec(),
                ));
                atts.push(att);
            }
            let data = if per_tx == 1 {
                InferenceRegistry::submitAttestationCall {
                    att: atts[0].clone().into(),
                    signature: sigs[0].clone(),
                }
                .abi_encode()
            } else {
                InferenceRegistry::submitAttestationsCall {
                    atts: atts.into_iter().map(Into::into).collect(),
                    signatures: sigs,
                }
                .abi_encode()
            };
            calls.push((chunk.len(), Bytes::from(data)));
        }
        let from = self.hot.address();
        let nonce = p
            .get_transaction_count(from)
            .pending()
            .await
            .map_err(DevnetError::rpc("eth_getTransactionCount"))?;
        let fees = p
            .estimate_eip1559_fees()
            .await
            .map_err(DevnetError::rpc("eth_feeHistory"))?;
        let wallet = EthereumWallet::from(self.hot.signer().clone());
        let mut gas_of: HashMap<usize, u64> = HashMap::new();
        let mut out = Vec::with_capacity(calls.len());
        for (i, (size, data)) in calls.into_iter().enumerate() {
            let req = TransactionRequest::default()
                .with_from(from)
                .with_to(self.registry)
                .with_input(data)
                .with_chain_id(chain_id);
            let gas = match gas_of.get(&size) {
                Some(g) => *g,
                None => {
                    let asked = Instant::now();
                    let g = p
                        .estimate_gas(req.clone())
                        .await
                        .map_err(DevnetError::rpc("eth_estimateGas (ceiling)"))?
                        .saturating_mul(13)
                        / 10;
                    tracing::debug!(target: "verinfer_devnet::bench", attestations = size,
                        ms = asked.elapsed().as_secs_f64() * 1e3, "ceiling: one eth_estimateGas of the call shape");
                    gas_of.insert(size, g);
                    g
                }
            };
            let env = req
                .with_nonce(nonce + i as u64)
                .with_gas_limit(gas)
                .with_max_fee_per_gas(fees.max_fee_per_gas)
                .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
                .build(&wallet)
                .await
                .map_err(|e| {
                    DevnetError::Tx(verinfer_keeper::txmgr::TxError::Sign(e.to_string()))
                })?;
            out.push(Bytes::from(
                alloy::eips::eip2718::Encodable2718::encoded_2718(&env),
            ));
        }
        Ok(out)
    }

    fn spawn_watcher(
        &self,
        from_block: u64,
        ids: HashSet<U256>,
    ) -> tokio::task::JoinHandle<Result<Watched, DevnetError>> {
        tokio::spawn(watch_answers(
            self.provider().clone(),
            self.registry,
            from_block,
            ids,
            WATCH_TIMEOUT,
        ))
    }
}

/// The keepers of a row: submission mode, batch size, transactions in flight, replicas (2 share
/// the PostgreSQL signing store).
#[derive(Clone, Copy, Debug)]
struct Keepers {
    submit: SubmitMode,
    max_batch: usize,
    in_flight: usize,
    replicas: usize,
    /// Through the shared signing store (its PostgreSQL).
    shared_store: bool,
}

impl Keepers {
    /// The keepers of `mode` (`None` for a mode without one).
    fn of(mode: Mode) -> Option<Self> {
        let (submit, max_batch, in_flight, replicas, shared_store) = match mode {
            Mode::Keeper(s, b, f) => (s, b, f, 1, false),
            Mode::Ha(s, b, f, n) => (s, b, f, n, true),
            Mode::Merkle | Mode::Ceiling(_) | Mode::Window(_) => return None,
        };
        Some(Self {
            submit,
            max_batch,
            in_flight,
            replicas,
            shared_store,
        })
    }
}

/// Incidents of a row's keepers during a drain (their metrics' counters, summed over replicas).
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq, Default)]
pub struct Incidents {
    /// Sender-lease grants (HA rows: one for the replica that takes the lease first; more are
    /// takeovers).
    pub lease_grants: u64,
    /// Fee bumps: a transaction not mined within the receipt timeout, replaced.
    pub fee_bumps: u64,
    /// Reorgs the log poller saw.
    pub reorgs: u64,
    /// JSON-RPC calls that failed after the provider's retries.
    pub rpc_errors: u64,
}

impl Incidents {
    /// Whether anything happened besides the first lease grant.
    pub fn any(&self) -> bool {
        self.lease_grants > 1 || self.fee_bumps > 0 || self.reorgs > 0 || self.rpc_errors > 0
    }
}

/// A row's keepers (one, or the replicas), built and not running yet.
struct BuiltKeepers(Vec<Keeper>);

impl BuiltKeepers {
    /// Runs them all, each on a task of its own.
    fn start(self) -> RunningKeeper {
        let (stop, stop_rx) = watch::channel(false);
        let metrics = self.0.iter().map(|k| k.metrics().clone()).collect();
        let handles = self
            .0
            .into_iter()
            .map(|k| tokio::spawn(k.run(stop_rx.clone())))
            .collect();
        RunningKeeper {
            stop,
            handles,
            metrics,
        }
    }
}

/// A row's running keepers (one, or the replicas), stopped together.
struct RunningKeeper {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<Result<(), KeeperError>>>,
    /// Each keeper's metrics.
    metrics: Vec<Arc<verinfer_keeper::metrics::Metrics>>,
}

impl RunningKeeper {
    /// Model runs of all of them so far.
    fn inferences(&self) -> u64 {
        self.sum(|m| m.inferences.get())
    }

    /// Signing-store look-ups of all of them so far.
    fn claim_lookups(&self) -> u64 {
        self.sum(|m| m.claim_lookups.get())
    }

    /// Incidents of all of them so far.
    fn incidents(&self) -> Incidents {
        Incidents {
            lease_grants: self.sum(|m| m.lease_takeovers.get()),
            fee_bumps: self.sum(|m| m.fee_bumps.get()),
            reorgs: self.sum(|m| m.reorgs.get()),
            rpc_errors: self.sum(|m| m.rpc_errors.get()),
        }
    }

    /// One counter of every keeper, summed.
    fn sum(&self, counter: fn(&verinfer_keeper::metrics::Metrics) -> u64) -> u64 {
        self.metrics.iter().map(|m| counter(m)).sum()
    }

    async fn stop(self) -> Result<(), DevnetError> {
        let _ = self.stop.send(true);
        for handle in self.handles {
            handle.await.map_err(|source| DevnetError::Join {
                what: "bench keeper".into(),
                source,
            })??;
        }
        Ok(())
    }
}

/// The fields the bench reads of one process's `/proc/<pid>/stat`.
struct ProcStat {
    /// Its command name.
    comm: String,
    /// Its parent's pid.
    ppid: u32,
    /// CPU seconds (user + system) it used so far.
    cpu: f64,
    /// CPU seconds (user + system) of the children it reaped (`cutime` + `cstime`).
    reaped_cpu: f64,
}

impl ProcStat {
    /// Reads `/proc/<pid>/stat`: the command name is in parentheses (and may hold spaces); the
    /// fields after it start at field 3 (state), so ppid is field 4 and utime, stime, cutime and
    /// cstime are fields 14 to 17, in clock ticks of 1/100 s (Linux's `USER_HZ`).
    fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let ticks = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
        let secs = |a: u64, b: u64| (a + b) as f64 / 100.0;
        Some(Self {
            comm,
            ppid: rest.get(1)?.parse().ok()?,
            cpu: secs(ticks(11)?, ticks(12)?),
            reaped_cpu: secs(ticks(13)?, ticks(14)?),
        })
    }
}

/// Every process's pid and stat.
fn processes() -> impl Iterator<Item = (u32, ProcStat)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, ProcStat::of(pid)?)))
}

/// The pid of this process's child whose command name is `name` (the bench's anvil).
fn child_named(name: &str) -> Option<u32> {
    let me = std::process::id();
    processes()
        .find(|(_, st)| st.comm == name && st.ppid == me)
        .map(|(pid, _)| pid)
}

/// CPU seconds (user + system) process `pid` has used so far.
fn cpu_secs(pid: u32) -> Option<f64> {
    ProcStat::of(pid).map(|st| st.cpu)
}

/// [`cpu_secs`] of `root`, of its live children (a PostgreSQL server: the postmaster and its
/// backends) and of the children it reaped (a backend that exits between two readings keeps
/// counting, so the total only grows).
fn tree_cpu_secs(root: u32) -> Option<f64> {
    let own = ProcStat::of(root)?;
    let children: f64 = processes()
        .filter(|(_, st)| st.ppid == root)
        .map(|(_, st)| st.cpu)
        .sum();
    Some(own.cpu + own.reaped_cpu + children)
}

async fn joined<T>(h: tokio::task::JoinHandle<Result<T, DevnetError>>) -> Result<T, DevnetError> {
    h.await.map_err(|source| DevnetError::Join {
        what: "answer watcher".into(),
        source,
    })?
}

/// When each of `ids` was first seen included (`RequestCreated`) and answered (`AnswerRecorded`),
/// and in which transaction; polls `eth_getLogs` every 10 ms from `from_block` until all are seen
/// answered or `timeout` passes.
async fn watch_answers(
    provider: DynProvider,
    registry: Address,
    from_block: u64,
    ids: HashSet<U256>,
    timeout: Duration,
) -> Result<Watched, DevnetError> {
    let deadline = Instant::now() + timeout;
    let mut seen = HashMap::new();
    let mut requests = HashMap::new();
    let mut next = from_block;
    while seen.len() < ids.len() {
        if Instant::now() > deadline {
            return Err(DevnetError::Incomplete {
                seen: seen.len(),
                want: ids.len(),
                secs: timeout.as_secs(),
            });
        }
        let head = provider
            .get_block_number()
            .await
            .map_err(DevnetError::rpc("reading the head block"))?;
        if head >= next {
            let filter = Filter::new()
                .address(registry)
                .event_signature(vec![
                    InferenceRegistry::AnswerRecorded::SIGNATURE_HASH,
                    InferenceRegistry::RequestCreated::SIGNATURE_HASH,
                ])
                .from_block(next)
                .to_block(head);
            let now = Instant::now();
            let logs = provider
                .get_logs(&filter)
                .await
                .map_err(DevnetError::rpc("reading AnswerRecorded events"))?;
            for l in logs {
                if let Ok(e) = InferenceRegistry::AnswerRecorded::decode_log_data(l.data()) {
                    if ids.contains(&e.requestId) {
                        seen.entry(e.requestId)
                            .or_insert((now, l.transaction_hash.unwrap_or_default()));
                    }
                } else if let Ok(e) = InferenceRegistry::RequestCreated::decode_log_data(l.data()) {
                    if ids.contains(&e.requestId) {
                        requests.entry(e.requestId).or_insert(now);
                    }
                }
            }
            next = head + 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(Watched {
        answers: seen,
        requests,
    })
}

/// What a drain measured.
struct Drained {
    /// Its span and its answers' transactions.
    summary: Summary,
    /// Model runs of the row's keepers (keeper rows).
    inferences: Option<u64>,
    /// Signing-store look-ups of the row's keepers (keeper rows).
    lookups: Option<u64>,
    /// Incidents of the row's keepers (keeper rows).
    incidents: Option<Incidents>,
    /// CPU seconds of the processes while answering.
    cpu: CpuUsed,
}

/// What [`summarize_drain`] reads from the answers' receipts.
struct Summary {
    /// Seconds from the start of answering to the last inclusion.
    secs: f64,
    /// Transactions of the answers.
    txs: usize,
    /// Their total gas.
    gas: u64,
    /// Blocks they were included in.
    blocks: usize,
    /// Attestations per second once answers land ([`ModeResult::sending_attestations_per_sec`]).
    sending: Option<f64>,
}

/// CPU seconds used so far by anvil (this process's child), by this process and by the PostgreSQL
/// server (the postmaster `postgres_pid` and its children), if any.
struct Cpu {
    anvil_pid: Option<u32>,
    postgres_pid: Option<u32>,
    at: CpuUsed,
}

/// CPU seconds per process (or their difference between two readings).
#[derive(Clone, Copy, Debug, Default)]
struct CpuUsed {
    anvil: Option<f64>,
    bench: Option<f64>,
    postgres: Option<f64>,
}

impl Cpu {
    fn now(postgres_pid: Option<u32>) -> Self {
        let anvil_pid = child_named("anvil");
        Self {
            anvil_pid,
            postgres_pid,
            at: Self::read(anvil_pid, postgres_pid),
        }
    }

    fn read(anvil_pid: Option<u32>, postgres_pid: Option<u32>) -> CpuUsed {
        CpuUsed {
            anvil: anvil_pid.and_then(cpu_secs),
            bench: cpu_secs(std::process::id()),
            postgres: postgres_pid.and_then(tree_cpu_secs),
        }
    }

    /// CPU seconds each used since [`Cpu::now`].
    fn since(&self) -> CpuUsed {
        let now = Self::read(self.anvil_pid, self.postgres_pid);
        let later = |before: Option<f64>, now: Option<f64>| before.zip(now).map(|(a, b)| b - a);
        CpuUsed {
            anvil: later(self.at.anvil, now.anvil),
            bench: later(self.at.bench, now.bench),
            postgres: later(self.at.postgres, now.postgres),
        }
    }
}

/// Drain phase: queue `n` requests, then answer them; measures from the start of answering (the
/// built keepers' start, the burst's first send) to the last inclusion. A keeper is built before
/// the clock starts (its backends loaded, its journal opened, its node's chain id read, its signing
/// store connected, its journal reconciled; replicas start together),
/// as the ceiling's transactions are signed before it: the drain times answering a backlog, which
/// a running keeper does many times, not a process's start, which it does once.
async fn drain(b: &mut Bench, mode: Mode, n: usize) -> Result<Drained, DevnetError> {
    let start_block = b.devnet.block_number().await?;
    // The backlog is queued by the pipelined client, as fast as the node takes it (not timed).
    let reqs = b.requests_at_rate(n, QUEUE_RATE).await?;
    let watcher = b.spawn_watcher(start_block, reqs.iter().map(|r| r.0).collect());
    let presigned = match mode {
        Mode::Ceiling(per_tx) => b.presign(&reqs, per_tx).await?,
        Mode::Window(_) => b.presign(&reqs, 1).await?,
        Mode::Keeper(..) | Mode::Ha(..) | Mode::Merkle => Vec::new(),
    };
    let postgres_pid = match mode {
        Mode::Ha(..) => b.postgres_pid,
        Mode::Keeper(..) | Mode::Ceiling(_) | Mode::Window(_) | Mode::Merkle => None,
    };
    let built = match Keepers::of(mode) {
        Some(keepers) => {
            let built = Instant::now();
            let k = b.build_keepers(keepers, start_block).await?;
            tracing::debug!(target: "verinfer_devnet::bench", ms = built.elapsed().as_secs_f64() * 1e3, "drain: keepers built (not timed)");
            Some(k)
        }
        None => None,
    };
    let cpu = Cpu::now(postgres_pid);
    let t0 = Instant::now();
    tracing::debug!(target: "verinfer_devnet::bench", "drain: clock started");
    match mode {
        Mode::Ceiling(_) | Mode::Window(_) => {
            // Inclusion is seen by the answer watcher.
            if let Mode::Window(window) = mode {
                send_in_flight(&b.rpc, b.hot.address(), &presigned, window).await?;
            } else {
                send_burst(&b.rpc, &presigned).await?;
            }
            let seen = joined(watcher).await?.answers;
            let cpu = cpu.since();
            Ok(Drained {
                summary: summarize_drain(b, t0, &seen).await?,
                inferences: None,
                lookups: None,
                incidents: None,
                cpu,
            })
        }
        Mode::Keeper(..) | Mode::Ha(..) => {
            let k = built
                .ok_or(DevnetError::Config {
                    field: "mode",
                    value: 0,
                    allowed: "a keeper mode",
                })?
                .start();
            let seen = joined(watcher).await?.answers;
            let cpu = cpu.since();
            let (inferences, incidents, lookups) =
                (k.inferences(), k.incidents(), k.claim_lookups());
            k.stop().await?;
            Ok(Drained {
                summary: summarize_drain(b, t0, &seen).await?,
                inferences: Some(inferences),
                lookups: Some(lookups),
                incidents: Some(incidents),
                cpu,
            })
        }
        Mode::Merkle => {
            b.merkle_answer(&reqs).await?;
            let seen = joined(watcher).await?.answers;
            let cpu = cpu.since();
            let s = summarize_drain(b, t0, &seen).await?;
            // the commit emits no AnswerRecorded: count it separately
            let commit_gas = commit_gas(b, start_block).await?;
            Ok(Drained {
                summary: Summary {
                    txs: s.txs + 1,
                    gas: s.gas + commit_gas,
                    ..s
                },
                inferences: None,
                lookups: None,
                incidents: None,
                cpu,
            })
        }
    }
}

/// The ceiling's sender: every one of `raws` at once, up to [`CEILING_CONCURRENCY`] sends at a
/// time (the node queues nonces that arrive early).
async fn send_burst(rpc: &RootProvider, raws: &[Bytes]) -> Result<(), DevnetError> {
    use futures::stream::{self, TryStreamExt};
    stream::iter(raws.iter().map(Ok))
        .try_for_each_concurrent(CEILING_CONCURRENCY, |raw| async move {
            rpc.send_raw_transaction(raw)
                .await
                .map(|_pending| ())
                .map_err(DevnetError::rpc("eth_sendRawTransaction (ceiling burst)"))
        })
        .await
}

/// The `(window)` row's sender: `raws` (consecutive nonces of `from`, the first one the account's
/// next: a fresh chain, nothing of the hot key pending) with at most `window` sent and not yet
/// mined, refilled by the keeper's own rule ([`refill_now`]: at once when the window is empty or
/// few are left, else in groups of half the window). A group's transactions go out at once, concurrently; the account's
/// mined nonce count is read every millisecond (one call, no receipt) to see places freed. No
/// estimate, no journal, no receipt: what `window` transactions in flight and that rule allow on
/// this node. (Its nonce reads, up to 1,000 a second, load anvil too, in the row's anvil CPU.) Gives up
/// with [`DevnetError::Incomplete`] when not all are mined within [`WATCH_TIMEOUT`].
async fn send_in_flight(
    rpc: &RootProvider,
    from: Address,
    raws: &[Bytes],
    window: usize,
) -> Result<(), DevnetError> {
    let window = window.max(1);
    let deadline = Instant::now() + WATCH_TIMEOUT;
    let mut sent = 0usize;
    // The account's count before the first send: mined ones are counted from it.
    let mut before = None;
    loop {
        let count = rpc
            .get_transaction_count(from)
            .await
            .map_err(DevnetError::rpc("eth_getTransactionCount (window sender)"))?;
        let mined = count.saturating_sub(*before.get_or_insert(count));
        let mined = usize::try_from(mined).unwrap_or(usize::MAX);
        if sent == raws.len() && mined >= sent {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(DevnetError::Incomplete {
                seen: mined,
                want: raws.len(),
                secs: WATCH_TIMEOUT.as_secs(),
            });
        }
        let in_flight = sent.saturating_sub(mined);
        let upto = raws.len().min(sent + window.saturating_sub(in_flight));
        if upto > sent && refill_now(window, in_flight, raws.len() - sent) {
            futures::future::try_join_all(raws[sent..upto].iter().map(|raw| async move {
                rpc.send_raw_transaction(raw)
                    .await
                    .map(|_pending| ())
                    .map_err(DevnetError::rpc("eth_sendRawTransaction (window sender)"))
            }))
            .await?;
            sent = upto;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The drain's span from `t0` to the last answer seen, and its answers' transactions, gas and
/// blocks (from their receipts).
async fn summarize_drain(b: &Bench, t0: Instant, seen: &Answers) -> Result<Summary, DevnetError> {
    let end = seen.values().map(|(t, _)| *t).max().unwrap_or(t0);
    let first = seen.values().map(|(t, _)| *t).min().unwrap_or(t0);
    let after_first = seen.values().filter(|(t, _)| *t > first).count();
    let span = end.saturating_duration_since(first).as_secs_f64();
    let sightings: HashSet<Instant> = seen.values().map(|(t, _)| *t).collect();
    // Too few sightings (a few transactions in a few blocks) measure the watcher's 10 ms polls,
    // not the drain.
    let sending =
        (span > 0.0 && sightings.len() >= MIN_SIGHTINGS).then(|| after_first as f64 / span);
    let txs: HashSet<TxHash> = seen.values().map(|(_, h)| *h).collect();
    let mut gas = 0u64;
    let mut blocks = HashSet::new();
    for h in &txs {
        let r = b.client.wait_receipt("answer", *h).await?;
        gas += r.gas_used;
        blocks.insert(r.block_number);
    }
    Ok(Summary {
        secs: end.duration_since(t0).as_secs_f64(),
        txs: txs.len(),
        gas,
        blocks: blocks.len(),
        sending,
    })
}

async fn commit_gas(b: &Bench, from_block: u64) -> Result<u64, DevnetError> {
    let filter = Filter::new()
        .address(b.registry)
        .event_signature(InferenceRegistry::BatchCommitted::SIGNATURE_HASH)
        .from_block(from_block);
    let logs = b
        .provider()
        .get_logs(&filter)
        .await
        .map_err(DevnetError::rpc("reading BatchCommitted events"))?;
    let mut gas = 0;
    for h in logs.iter().filter_map(|l| l.transaction_hash) {
        gas += b.client.wait_receipt("commit", h).await?.gas_used;
    }
    Ok(gas)
}

/// Live phase: a running keeper, `n` requests sent back to back (or at the client rate); returns
/// the median and p99 of request sent -> answer included, in milliseconds and blocks, split at the
/// request's inclusion (as the watcher saw it), the rate the requests went out at, and the CPU the
/// processes used meanwhile.
async fn live(b: &mut Bench, keepers: Keepers, n: usize) -> Result<Live, DevnetError> {
    let start_block = b.devnet.block_number().await?;
    let postgres_pid = b.postgres_pid.filter(|_| keepers.shared_store);
    let k = b.start_keepers(keepers, start_block).await?;
    let first = b.request_count().await? + U256::from(1);
    let ids = (0..n).map(|i| first + U256::from(i)).collect();
    let watcher = b.spawn_watcher(start_block, ids);
    let cpu = Cpu::now(postgres_pid);
    let t0 = Instant::now();
    let reqs = match b.client_rate {
        Some(rate) => b.requests_at_rate(n, rate).await?,
        None => b.requests(n).await?,
    };
    let rps = n as f64 / t0.elapsed().as_secs_f64();
    let Watched {
        answers: seen,
        requests: included,
    } = joined(watcher).await?;
    let cpu = cpu.since();
    let secs = seen
        .values()
        .map(|(t, _)| t.saturating_duration_since(t0).as_secs_f64())
        .fold(0.0, f64::max);
    k.stop().await?;
    let ms = |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1e3;
    let mut lat = Vec::with_capacity(reqs.len());
    let mut to_inclusion = Vec::with_capacity(reqs.len());
    let mut keeper = Vec::with_capacity(reqs.len());
    for (id, _, sent, _) in &reqs {
        let Some((answered, _)) = seen.get(id) else {
            continue;
        };
        lat.push(ms(*sent, *answered));
        if let Some(inc) = included.get(id) {
            to_inclusion.push(ms(*sent, *inc));
            keeper.push(ms(*inc, *answered));
        }
    }
    for v in [&mut lat, &mut to_inclusion, &mut keeper] {
        v.sort_by(f64::total_cmp);
    }
    // Blocks from the request's inclusion to its answer's.
    let mut answer_block: HashMap<TxHash, u64> = HashMap::new();
    let mut blocks = Vec::with_capacity(reqs.len());
    for (id, _, _, req_block) in &reqs {
        let Some((_, tx)) = seen.get(id) else {
            continue;
        };
        let block = match answer_block.get(tx) {
            Some(b) => *b,
            None => {
                let b = b
                    .client
                    .wait_receipt("answer", *tx)
                    .await?
                    .block_number
                    .unwrap_or_default();
                answer_block.insert(*tx, b);
                b
            }
        };
        blocks.push(block.saturating_sub(*req_block) as f64);
    }
    blocks.sort_by(f64::total_cmp);
    Ok(Live {
        p50_ms: percentile(&lat, 50),
        p99_ms: percentile(&lat, 99),
        inclusion_p50_ms: percentile(&to_inclusion, 50),
        keeper_p50_ms: percentile(&keeper, 50),
        keeper_p99_ms: percentile(&keeper, 99),
        p50_blocks: percentile(&blocks, 50),
        p99_blocks: percentile(&blocks, 99),
        requests_per_sec: rps,
        secs,
        cpu,
    })
}

/// What the live phase measured.
struct Live {
    p50_ms: f64,
    p99_ms: f64,
    /// Request sent -> seen included (the client's and the node's part).
    inclusion_p50_ms: f64,
    /// Request seen included -> answer seen included (the keeper's part, with the answer's own
    /// inclusion).
    keeper_p50_ms: f64,
    keeper_p99_ms: f64,
    p50_blocks: f64,
    p99_blocks: f64,
    requests_per_sec: f64,
    /// From the first request sent to the last answer seen.
    secs: f64,
    /// CPU seconds of the processes in that span.
    cpu: CpuUsed,
}

/// Nearest-rank percentile of ascending `sorted` (0 when empty).
pub fn percentile(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str, rate: f64, share: Option<f64>, blocks: usize) -> ModeResult {
        ModeResult {
            mode: mode.into(),
            attestations: 64,
            txs: 2,
            blocks,
            drain_secs: 64.0 / rate,
            attestations_per_sec: rate,
            gas_per_attestation: 1.0,
            live_requests: 0,
            live_latency_ms_median: None,
            live_latency_ms_p99: None,
            live_latency_blocks_median: None,
            live_latency_blocks_p99: None,
            live_requests_per_sec: None,
            live_inclusion_ms_median: None,
            live_keeper_ms_median: None,
            live_keeper_ms_p99: None,
            live_secs: None,
            live_cpu_anvil_secs: None,
            live_cpu_bench_secs: None,
            live_cpu_postgres_secs: None,
            share_of_ceiling: share,
            share_of_window_sender: None,
            sending_attestations_per_sec: None,
            sending_share_of_ceiling: None,
            drain_inferences: None,
            drain_claim_lookups: None,
            drain_incidents: None,
            drain_cpu_anvil_secs: None,
            drain_cpu_bench_secs: None,
            drain_cpu_postgres_secs: None,
            drain_rpc_calls: None,
            drain_rpc_calls_per_attestation: None,
        }
    }

    /// A row's spread is over the runs it appears in; a keeper row is read against the median of
    /// the ceilings its runs were read against (each recovered from the run's rate and share), not
    /// against each run's own.
    #[test]
    fn a_rows_spread_is_read_against_the_pooled_ceiling() {
        let runs = vec![
            vec![
                row("(b) x", 100.0, Some(0.5), 4),
                row("(ceiling) x", 200.0, None, 2),
            ],
            vec![
                row("(b) x", 300.0, Some(0.75), 8),
                row("(ceiling) x", 400.0, None, 3),
            ],
            vec![
                row("(b) x", 200.0, Some(2.0 / 3.0), 6),
                row("(ceiling) x", 300.0, None, 9),
            ],
        ];
        let s = spread(&runs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].mode, "(b) x");
        assert_eq!(s[0].runs, 3);
        assert_eq!(s[0].attestations_per_sec, [100.0, 200.0, 300.0]);
        assert_eq!(s[0].blocks, [4.0, 6.0, 8.0]);
        let pooled = s[0].pooled_ceiling.unwrap();
        assert!((pooled - 300.0).abs() < 1e-9, "{pooled}");
        let share = s[0].share_of_pooled_ceiling.unwrap();
        for (got, want) in share.iter().zip([1.0 / 3.0, 2.0 / 3.0, 1.0]) {
            assert!((got - want).abs() < 1e-9, "{share:?}");
        }
        assert_eq!(s[1].pooled_ceiling, None, "a ceiling has no ceiling");
        assert_eq!(s[1].share_of_pooled_ceiling, None);
        assert_eq!(min_median_max(&[4.0, 1.0, 3.0, 2.0]), Some([1.0, 2.5, 4.0]));
        assert_eq!(min_median_max(&[]), None);
        assert!(spread(&[]).is_empty());
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), 50.0);
        assert_eq!(percentile(&v, 99), 99.0);
        assert_eq!(percentile(&v[..10], 99), 10.0);
        assert_eq!(percentile(&[7.0], 50), 7.0);
        assert_eq!(percentile(&[], 50), 0.0);
    }

    /// The stat reader agrees with the kernel's other views of this very process: its command
    /// name (`/proc/self/comm`), its parent's pid, and a CPU time that only grows.
    #[test]
    fn the_stat_reader_reads_this_process() {
        let me = std::process::id();
        let st = ProcStat::of(me).expect("/proc/<pid>/stat of this process");
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(st.comm, comm.trim_end());
        assert_eq!(st.ppid, std::os::unix::process::parent_id());
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(50) {
            std::hint::black_box(spin.elapsed());
        }
        let later = ProcStat::of(me).unwrap();
        assert!(later.cpu >= st.cpu && st.cpu >= 0.0 && st.reaped_cpu >= 0.0);
        assert!(
            processes().any(|(pid, _)| pid == me),
            "listed among the processes"
        );
        assert!(ProcStat::of(u32::MAX).is_none(), "no such process");
    }

    /// Each row is named by its key, and a row runs with the rows it is read against, in the
    /// order of [`Row::ALL`].
    #[test]
    fn a_row_runs_with_its_references() {
        for r in Row::ALL {
            assert_eq!(r.key().parse::<Row>().unwrap(), r);
        }
        let err = "a'".parse::<Row>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown bench row \"a'\"; the rows are a, a-prime, b, h1, h, c, ceiling-single, window, ceiling-batch"
        );
        assert_eq!(
            Row::with_references(&[Row::Ha, Row::HaOne]),
            [Row::HaOne, Row::Ha, Row::CeilingBatch]
        );
        assert_eq!(
            Row::with_references(&[Row::SinglePipelined]),
            [Row::SinglePipelined, Row::CeilingSingle, Row::Window]
        );
        assert_eq!(Row::with_references(&[Row::Merkle]), [Row::Merkle]);
        assert_eq!(Row::with_references(&Row::ALL), Row::ALL);
    }

    #[test]
    fn bench_ranges_are_checked() {
        let ok = KeeperBenchConfig {
            requests: 2,
            live_requests: 2,
            batch: 32,
            in_flight: 16,
            client_rate: None,
            poll_ms: 100,
            receipt_poll_ms: 250,
            ha: true,
            count_rpc: false,
            rpc_latency_ms: 0,
            rows: Row::ALL.to_vec(),
            devnet: DevnetConfig::default(),
        };
        assert!(ok.validate().is_ok());
        let no_live = KeeperBenchConfig {
            live_requests: 0,
            ..ok.clone()
        };
        assert!(no_live.validate().is_ok(), "no live phase");
        let err = KeeperBenchConfig {
            batch: 65,
            ..ok.clone()
        }
        .validate()
        .expect_err("65 is too large a batch");
        assert_eq!(err.to_string(), "--batch must be in 2..=64, got 65");
        for (bad, what) in [
            (
                KeeperBenchConfig {
                    requests: 1,
                    ..ok.clone()
                },
                "one request",
            ),
            (
                KeeperBenchConfig {
                    live_requests: 1,
                    ..ok.clone()
                },
                "one live request",
            ),
            (
                KeeperBenchConfig {
                    in_flight: 1,
                    ..ok.clone()
                },
                "one in flight",
            ),
            (
                KeeperBenchConfig {
                    rows: Vec::new(),
                    ..ok.clone()
                },
                "no rows",
            ),
            (
                KeeperBenchConfig {
                    ha: false,
                    rows: vec![Row::Ha, Row::HaOne],
                    ..ok.clone()
                },
                "only HA rows without HA",
            ),
            (
                KeeperBenchConfig {
                    rpc_latency_ms: 1001,
                    ..ok.clone()
                },
                "a round trip above a second",
            ),
            (KeeperBenchConfig { poll_ms: 0, ..ok }, "no poll interval"),
        ] {
            assert!(bad.validate().is_err(), "{what}");
        }
    }
}
