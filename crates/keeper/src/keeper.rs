//! The keeper runtime: poll logs -> answer assignments -> journal intents -> submit; watch peers,
//! report equivocation, challenge wrong results, finalize and report missed assignments.
//!
//! Two stages run concurrently in [`Keeper::run`]: **collect and decide** (poll logs, peers'
//! published attestations and the finalizer's clock; each duty journals the intents it decides on) and **execute** (the
//! `Executor`: batches, transactions, nonce repair after reorgs). The journal carries the work
//! from one to the other and a wake-up channel says when there is some, so a transaction stuck for
//! minutes never stops the keeper from polling (and noticing the reorg that stuck it).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::{Eip712Domain, SolCall, SolEventInterface};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use verinfer_client::rpc::RetryConfig;

use crate::attest::{self, Attestation, HotKey};
use crate::backend::{self, BackendError, Backends};
use crate::config::{KeeperConfig, SubmitConfig, SubmitMode};
use crate::metrics::Metrics;
use crate::poller::{LogPoller, PollError, PollOutcome};
use crate::registry::InferenceRegistry::{self, InferenceRegistryEvents};
use crate::registry::{is_concrete_output, RequestStatus, Statement};
use crate::signing_store::{self, SigningStore, SigningStoreError};
use crate::store::{
    DiskFault, Intent, IntentKind, IntentStatus, PublishedRow, RequestFacts, ScheduleChange, Store,
    StoreError,
};
use crate::txmgr::{Dispatch, Executed, Landed, Round, TxConfig, TxError, TxManager};

mod answer;
mod delivery;
mod jury;
mod lease;
pub mod preflight;
mod referee;
pub use answer::{ANSWER_CHUNK, MAX_ANSWER_CHUNK};
pub use delivery::DELIVERY_STAGGER;
pub use preflight::{PreflightError, Problem, Standing};
pub use referee::GAME_ID_BASE;

/// Keeper errors.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// Journal failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Transaction failure.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// Poll failure.
    #[error(transparent)]
    Poll(#[from] PollError),
    /// RPC failure.
    #[error("rpc error during {op}: {msg}")]
    Rpc {
        /// Operation.
        op: &'static str,
        /// Message.
        msg: String,
    },
    /// Input could not be obtained or does not match its hash.
    #[error("input of request {request}: {reason}")]
    Input {
        /// Request id.
        request: U256,
        /// Reason.
        reason: String,
    },
    /// The RPC URL is malformed.
    #[error("invalid rpc_url: {0}")]
    Url(String),
    /// The outputs API could not listen on `outputs_addr`.
    #[error("cannot serve outputs on {addr}: {source}")]
    Listen {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A backend could not be set up (a model file that does not load or is not the configured
    /// model).
    #[error("backend: {0}")]
    Backend(#[from] crate::backend::BackendError),
    /// The shared slashing-protection store refused or could not be reached (nothing was signed).
    #[error(transparent)]
    SigningStore(#[from] SigningStoreError),
    /// The operator's standing on chain (or the configuration's misbehaviour) does not let the
    /// keeper start ([`preflight`]).
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// An answer job (input, inference, signature) panicked or was cancelled.
    #[error("answer job: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

impl KeeperError {
    /// [`StoreError::DiskFull`] (as a [`KeeperError::Store`]) when this error is, or wraps, a journal
    /// write refused by a full disk: the keeper stops on it instead of retrying.
    pub fn disk_full(&self) -> Option<Self> {
        let store = match self {
            Self::Store(e) | Self::Tx(TxError::Store(e)) | Self::Poll(PollError::Store(e)) => e,
            _ => return None,
        };
        match store {
            StoreError::DiskFull(msg) => Some(Self::Store(StoreError::DiskFull(msg.clone()))),
            _ => None,
        }
    }
}

fn rpc_err(op: &'static str) -> impl Fn(alloy::contract::Error) -> KeeperError {
    move |e| KeeperError::Rpc {
        op,
        msg: e.to_string(),
    }
}

/// A signed attestation, as operators publish theirs (`GET /v1/attestations/<requestId>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAttestation {
    /// The attestation.
    pub att: Attestation,
    /// 65-byte signature.
    pub sig: Bytes,
}

/// Fetches a request input: inline `0x<hex>`, `file://<path>` or `http(s)://`.
pub async fn fetch_input(uri: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = uri.strip_prefix("0x") {
        return alloy::primitives::hex::decode(hex).map_err(|e| format!("bad inline hex: {e}"));
    }
    if let Some(path) = uri.strip_prefix("file://") {
        return std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    }
    if uri.starts_with("http://") || uri.starts_with("https://") {
        let resp = reqwest::get(uri).await.map_err(|e| e.to_string())?;
        return resp
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string());
    }
    Err(format!("unsupported input URI scheme: {uri}"))
}

/// The inline URI of `input` (what `verinfer request` and the devnet use).
pub fn inline_uri(input: &[u8]) -> String {
    format!("0x{}", alloy::primitives::hex::encode(input))
}

/// How long a peer's published attestations may take to fetch.
const PEER_FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest output `deliverOutput` accepts (64 KiB, `InferenceRegistryDelivery`).
pub const MAX_PUBLISHED_OUTPUT: usize = 64 * 1024;

/// A running keeper.
pub struct Keeper {
    cfg: KeeperConfig,
    key: HotKey,
    provider: RootProvider,
    domain: Eip712Domain,
    store: Arc<Store>,
    exec: Arc<Executor>,
    backends: Arc<Backends>,
    /// What the answer jobs share ([`answer`]).
    answerer: Arc<answer::Answerer>,
    poller: LogPoller,
    seen: HashMap<(B256, Address), SignedAttestation>,
    /// Peers' registered endpoints (`endpointOf`), read once each.
    endpoints: HashMap<Address, String>,
    /// HTTP client for peers' published attestations (short timeout: a slow peer never stalls the
    /// collect stage for long).
    http: reqwest::Client,
    /// The traces of the referee games this keeper plays, by game (rebuilt after a restart).
    traces: HashMap<U256, referee::GameTraces>,
    name: String,
    metrics: Arc<Metrics>,
    /// When the operator's standing was last read ([`preflight`]).
    standing_read: Option<std::time::Instant>,
    /// The early gas estimate of a first answer's call ([`Keeper::prime_answer`]), aborted with the
    /// keeper: it holds the execute stage, and the journal, no longer than the keeper runs.
    primer: Option<answer::Primer>,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("name", &self.name)
            .field("operator", &self.cfg.operator)
            .finish_non_exhaustive()
    }
}

/// What one iteration did (for tests and the devnet's progress display).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tick {
    /// Logs handled.
    pub logs: usize,
    /// Intents executed successfully.
    pub executed: usize,
    /// The poll's range ended below the confirmed head (it was cut at `max_block_range`): more
    /// logs are waiting, and a running keeper polls again at once instead of after its interval.
    pub behind: bool,
}

/// Whether [`Keeper::handle_event`] acts on `ev` for a keeper of `operator` (`watch`: it checks
/// other operators' answers); it handles nothing else, and the collect stage finishes the answers
/// at hand before such a log only. Another operator's assignment, and an answer this keeper does
/// not check, need nothing.
fn acts_on(operator: Address, watch: bool, ev: &InferenceRegistryEvents) -> bool {
    match ev {
        InferenceRegistryEvents::OperatorAssigned(e) => e.operator == operator,
        InferenceRegistryEvents::AnswerRecorded(e) => watch && e.operator != operator,
        InferenceRegistryEvents::OutputRequested(_)
        | InferenceRegistryEvents::CallbackRegistered(_)
        | InferenceRegistryEvents::QuorumReached(_)
        | InferenceRegistryEvents::RequestFinalized(_)
        | InferenceRegistryEvents::RequestExpired(_)
        | InferenceRegistryEvents::DisputeOpened(_) => true,
        _ => false,
    }
}

/// Logs of other duties than answering that the collect stage handles before it lets the execute
/// stage, which shares its task, run ([`tokio::task::yield_now`]).
const YIELD_EVERY: usize = 64;

/// How long a stopping keeper lets its execute stage finish the transaction at hand (bounded drain;
/// whatever is not finished stays journaled and resumes on restart).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

impl Keeper {
    /// Loads the backends (a model file whose id is not the configured one stops it here), connects,
    /// opens the journal and reconciles pending intents with the chain.
    pub async fn new(cfg: KeeperConfig, key: HotKey, name: &str) -> Result<Self, KeeperError> {
        Self::build(cfg, key, name, None).await
    }

    /// [`Keeper::new`] with the journal's file behind `fault` ([`Store::open_with_disk_fault`]): while
    /// the switch is on, journal writes fail as on a full disk. For fault tests.
    pub async fn new_with_disk_fault(
        cfg: KeeperConfig,
        key: HotKey,
        name: &str,
        fault: DiskFault,
    ) -> Result<Self, KeeperError> {
        Self::build(cfg, key, name, Some(fault)).await
    }

    async fn build(
        cfg: KeeperConfig,
        key: HotKey,
        name: &str,
        fault: Option<DiskFault>,
    ) -> Result<Self, KeeperError> {
        let backends = Arc::new(Backends::new(
            cfg.backends
                .iter()
                .map(backend::from_config)
                .collect::<Result<_, _>>()?,
        ));
        let url = cfg
            .rpc_url
            .parse()
            .map_err(|e: url_error::E| KeeperError::Url(e.to_string()))?;
        let provider = verinfer_client::rpc::http_provider(
            url,
            RetryConfig {
                timeout: cfg.rpc_timeout,
                ..RetryConfig::default()
            },
        );
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| KeeperError::Rpc {
                op: "eth_chainId",
                msg: e.to_string(),
            })?;
        preflight::check_misbehaviour(cfg.misbehave, chain_id)?;
        let path = cfg.data_dir.join("keeper.redb");
        let store = Arc::new(match fault {
            Some(fault) => Store::open_with_disk_fault(&path, fault)?,
            None => Store::open(&path)?,
        });
        let metrics = Arc::new(Metrics::new(cfg.operator));
        let txcfg = TxConfig {
            receipt_timeout: Duration::from_secs(cfg.submit.receipt_timeout_secs),
            poll_interval: Duration::from_millis(cfg.submit.receipt_poll_ms),
            bump_percent: cfg.submit.bump_percent,
            max_bumps: cfg.submit.max_bumps,
            max_fee_cap: u128::from(cfg.submit.max_fee_gwei) * 1_000_000_000,
            ..TxConfig::default()
        };
        let mut tx = TxManager::new(provider.clone(), &key, chain_id, store.clone(), txcfg)
            .with_metrics(metrics.clone());
        let mut poller = LogPoller::new(provider.clone(), cfg.registry, store.clone());
        poller.confirmations = cfg.confirmations;
        poller.max_range = cfg.max_block_range;
        poller.reorg_depth = cfg.reorg_depth;
        poller.start_block = cfg.start_block;
        poller.metrics = metrics.clone();
        let domain = attest::domain(chain_id, cfg.registry);
        let signing_store = match &cfg.signing_store {
            Some(c) => Some(Arc::new(connect_signing_store(c, name).await)),
            None => None,
        };
        // Replicas send one at a time: the holder of the sender lease (module `lease`).
        let lease = cfg
            .signing_store
            .as_ref()
            .zip(signing_store.as_ref())
            .map(|(c, s)| {
                Arc::new(lease::SenderLease::new(
                    s.clone(),
                    chain_id,
                    cfg.operator,
                    c.sender_lease,
                    cfg.poll_interval,
                ))
            });
        if let Some(l) = &lease {
            // Nothing goes on the wire without the lease: no rebroadcast, no fee bump either.
            let l = l.clone();
            tx = tx.with_send_gate(crate::txmgr::SendGate::new(move || l.held()));
        }
        let exec = Arc::new(Executor {
            store: store.clone(),
            tx,
            provider: provider.clone(),
            registry: cfg.registry,
            operator: cfg.operator,
            submit: cfg.submit.clone(),
            metrics: metrics.clone(),
            name: name.to_string(),
            // The first round repairs nonces: a journal from an earlier run may hold transactions
            // that vanished while the keeper was down.
            repair: AtomicBool::new(true),
            reorged: AtomicBool::new(false),
            wake: Notify::new(),
            fresh: AtomicBool::new(false),
            lease: lease.clone(),
            node_answered: watch::Sender::new(None),
        });
        let answerer = Arc::new(answer::Answerer {
            backends: backends.clone(),
            metrics: metrics.clone(),
            key: key.clone(),
            domain: domain.clone(),
            chain_id,
            registry: cfg.registry,
            operator: cfg.operator,
            signing_store,
            lease,
            misbehave: cfg.misbehave,
            name: name.to_string(),
        });
        let k = Self {
            answerer,
            cfg,
            key,
            provider,
            domain,
            store,
            exec,
            backends,
            poller,
            seen: HashMap::new(),
            endpoints: HashMap::new(),
            http: reqwest::Client::builder()
                .timeout(PEER_FETCH_TIMEOUT)
                .build()
                .map_err(|e| KeeperError::Url(format!("HTTP client: {e}")))?,
            traces: HashMap::new(),
            name: name.to_string(),
            metrics,
            standing_read: None,
            primer: None,
        };
        Ok(k)
    }

    /// The journal (read access for tests and reports).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The operator address.
    pub fn operator(&self) -> Address {
        self.cfg.operator
    }

    /// This keeper's metrics registry (labelled with its operator).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// What `/health` needs to judge this keeper: its metrics, the node (for the real chain head)
    /// and the thresholds derived from its configuration (docs/keeper.md, "Health").
    pub fn health(&self) -> crate::api::HealthSource {
        crate::api::HealthSource {
            metrics: self.metrics.clone(),
            provider: self.provider.clone(),
            policy: crate::api::HealthPolicy::for_config(&self.cfg),
            backends: self.backends.clone(),
        }
    }

    /// Runs `model` on `input`, recording the inference, its latency and its outcome per model.
    async fn infer(&self, model: B256, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        let started = std::time::Instant::now();
        let out = self.backends.infer(model, input).await;
        self.metrics
            .record_inference(model, started.elapsed(), out.is_ok());
        out
    }

    /// Whether a two-way dispute over `model` goes to the on-chain referee rather than the vote: a
    /// Deterministic integer MLP on a registry with a referee wired (the registry's routing rule).
    async fn refereed(&self, model: B256) -> Result<bool, KeeperError> {
        if self.referee_address().await? == Address::ZERO {
            return Ok(false);
        }
        let m = self
            .registry()
            .model(model)
            .call()
            .await
            .map_err(rpc_err("model"))?;
        Ok(
            m.runtimeSpecHash == verinfer_mlp::IntMlp::runtime_spec_hash()
                && m.params.mode
                    == u8::from(verinfer_bindings::types::VerificationMode::Deterministic),
        )
    }

    fn registry(&self) -> InferenceRegistry::InferenceRegistryInstance<&RootProvider> {
        InferenceRegistry::new(self.cfg.registry, &self.provider)
    }

    /// Runs until `shutdown` becomes true, serving outputs on `outputs_addr` when configured. Errors of
    /// single iterations are logged and retried.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), KeeperError> {
        let name = self.name.clone();
        let Some(addr) = self.cfg.outputs_addr else {
            return self.duties(shutdown).await;
        };
        // The outputs API lives in the keeper's own task: when the keeper stops (or its task is
        // aborted), the listener and its handle on the store go with it, so a restart reopens both.
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| KeeperError::Listen { addr, source })?;
        let router = crate::api::outputs_router(&self.store);
        // The API stops with the keeper: on shutdown, and when the duties end on their own (a full
        // disk).
        let (ended_tx, ended) = watch::channel(false);
        let (mut stop, mut ended) = (shutdown.clone(), ended);
        let server = async move {
            let stopped = async move {
                while !*stop.borrow() && !*ended.borrow() {
                    tokio::select! {
                        r = stop.changed() => if r.is_err() { break },
                        r = ended.changed() => if r.is_err() { break },
                    }
                }
            };
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
        };
        let duties = async move {
            let r = self.duties(shutdown).await;
            let _ = ended_tx.send(true);
            r
        };
        let (duties, served) = tokio::join!(duties, server);
        if let Err(e) = served {
            tracing::warn!(keeper = %name, error = %e, %addr, "outputs API stopped");
        }
        duties
    }

    /// The keeper's duties until `shutdown`: the collect-and-decide loop here, the execute stage as
    /// its own task. Shutdown is prompt in every state: the loop stops at once (a half-handled range
    /// is re-read on restart, the cursor only moves after handling), the execute stage gets
    /// [`SHUTDOWN_GRACE`] to finish the transaction at hand and is then dropped (everything it
    /// signed is journaled and resumes on restart).
    async fn duties(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), KeeperError> {
        let stop_requested = {
            let mut rx = shutdown.clone();
            async move {
                while !*rx.borrow() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
        };
        tokio::pin!(stop_requested);
        tokio::select! {
            r = self.reconcile() => if let Err(e) = r {
                tracing::warn!(keeper = %self.name, error = %e, "startup reconciliation incomplete; will retry");
            },
            _ = &mut stop_requested => {
                tracing::info!(keeper = %self.name, "keeper stopped before starting; journal is durable");
                return Ok(());
            }
        }
        // Both stages run concurrently inside the keeper's own task, so aborting that task (the
        // in-process `kill -9` of the tests and the devnet) stops both and releases the journal.
        let exec = self.exec.clone();
        // The lease is tended on its own schedule (`keep_lease`), from before the first poll: a
        // replica's first answers wait for its first attempt.
        if let Some(lease) = &exec.lease {
            lease.schedule();
        }
        let executor = {
            let exec = exec.clone();
            let shutdown = shutdown.clone();
            let idle = self.cfg.poll_interval;
            async move {
                let run = exec.clone().run(shutdown, idle);
                let Some(lease) = exec.lease.clone() else {
                    return run.await;
                };
                // The lease is tended beside the execute stage, in the keeper's own task: a keeper
                // killed (or aborted) stops renewing, and its lease lapses for the other replica.
                let r = tokio::select! {
                    r = run => r,
                    never = exec.keep_lease() => match never {},
                };
                // A clean stop hands the lease over at once.
                match lease.release().await {
                    Ok(true) => tracing::info!(keeper = %exec.name, "sender lease released"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(keeper = %exec.name, error = %e, "cannot release the sender lease; it lapses")
                    }
                }
                exec.metrics.set_sender_lease(false);
                r
            }
        };
        let poll_interval = self.cfg.poll_interval;
        let name = self.name.clone();
        let decide = async {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                // A backfill (a range cut at `max_block_range`, after a restart or an outage) goes
                // on at once: only a keeper that caught up waits for its poll interval.
                let mut behind = false;
                let started = tokio::time::Instant::now();
                tokio::select! {
                    r = self.collect_and_decide() => match r {
                        Ok(t) => behind = t.behind,
                        Err(e) => {
                            self.metrics.healthy.store(false, Ordering::Relaxed);
                            if let Some(full) = e.disk_full() {
                                return Err(full);
                            }
                            tracing::warn!(keeper = %self.name, error = %e, "keeper iteration failed; retrying");
                        }
                    },
                    _ = &mut stop_requested => break,
                }
                exec.notify_work();
                if behind {
                    tokio::task::yield_now().await;
                    continue;
                }
                tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = tokio::time::sleep_until(next_poll_at(started, poll_interval, tokio::time::Instant::now())) => {}
                }
            }
            exec.notify_work();
            Ok(())
        };
        // A stage that ends with an error (a full disk) stops the keeper at once: the other stage is
        // dropped, which is as safe as a `kill -9` (journal before broadcast) and the only safe thing
        // to do when the journal cannot be written.
        tokio::pin!(decide, executor);
        let r = tokio::select! {
            r = &mut decide => match r {
                Ok(()) => executor.await,
                e => e,
            },
            r = &mut executor => match r {
                Ok(()) => decide.await,
                e => e,
            },
        };
        match &r {
            Ok(()) => tracing::info!(keeper = %name, "keeper stopped; journal is durable"),
            Err(e) => {
                tracing::error!(keeper = %name, error = %e, "keeper stopped: the journal cannot be written; free space and restart it (nothing journaled is lost)")
            }
        }
        r
    }

    /// Checks open intents against the chain: attestations already recorded are marked done.
    /// Signed-but-unconfirmed transactions are left to the transaction manager, which rebroadcasts
    /// the same transaction at the same nonce. An attestation carried by a batch is not open: its
    /// batch is, and a batch given up hands its members back in the write that ends it
    /// (`TxManager`'s `with_members_alone`), so none waits on a batch that will not be sent.
    pub async fn reconcile(&mut self) -> Result<(), KeeperError> {
        for mut intent in self.store.open_intents()? {
            if intent.kind != IntentKind::Attest || !intent.members.is_empty() {
                continue;
            }
            if matches!(intent.status, IntentStatus::Sent { .. }) {
                continue;
            }
            let Some(id) = intent.subject else {
                continue;
            };
            let ans = self
                .registry()
                .answerOf(id, self.cfg.operator)
                .call()
                .await
                .map_err(rpc_err("answerOf"))?;
            if ans.answered && Some(ans.outputHash) == attested_output(&intent) {
                tracing::info!(keeper = %self.name, key = %intent.key, "already recorded on chain");
                intent.status = IntentStatus::Done {
                    tx_hash: None,
                    gas_used: None,
                };
                self.store.put_intent(&intent)?;
            }
        }
        Ok(())
    }

    /// One iteration, both stages in turn: poll, handle logs, finalizer duties, then one
    /// execute round (tests and tools drive a keeper this way; [`Keeper::run`] runs the stages
    /// concurrently).
    pub async fn tick(&mut self) -> Result<Tick, KeeperError> {
        // The lease is tended before the collect stage (whose duties a standby leaves to the
        // holder) and after it (the first grant needs a successful poll).
        self.exec.tend_lease().await;
        let mut t = self.collect_and_decide().await?;
        self.exec.tend_lease().await;
        t.executed = self.exec.round().await?;
        Ok(t)
    }

    /// The collect-and-decide stage, once: poll logs (a reorg is handed to the execute stage),
    /// handle them (fetching peers' published attestations), run the finalizer's clock. Journals
    /// intents; sends nothing.
    pub async fn collect_and_decide(&mut self) -> Result<Tick, KeeperError> {
        let r = self.collect_and_decide_once().await;
        if r.is_err() {
            // A poll whose logs could not all be handled does not count as the node answering:
            // a replica whose collect stage keeps failing gives the sender lease up, as one whose
            // node is down does.
            self.exec.node_answered_with(self.metrics.since_last_poll());
        }
        r
    }

    async fn collect_and_decide_once(&mut self) -> Result<Tick, KeeperError> {
        let mut t = Tick::default();
        let polled = self.poller.poll().await?;
        self.exec.node_answered_with(Some(Duration::ZERO));
        // One deadline for a standby's deferred answers of this whole range (module `lease`).
        let deferral = self.deferral();
        match polled {
            PollOutcome::Idle { .. } => {}
            PollOutcome::Reorg { .. } => {
                self.exec.reorged.store(true, Ordering::SeqCst);
            }
            PollOutcome::Logs {
                logs,
                to,
                hash,
                head,
            } => {
                t.logs = logs.len();
                t.behind = to < head.saturating_sub(self.poller.confirmations);
                tracing::debug!(target: "verinfer_keeper::timeline", keeper = %self.name, logs = logs.len(), to, "polled");
                // Assignments are answered by jobs running concurrently (module `answer`); they are
                // finished in log order before any other duty's log and before the cursor moves.
                let mut answering = answer::Answering::new(self.cfg.poll_interval);
                // Requests the sender-lease holder answered while this replica stands by.
                let mut answered_by_holder = Vec::new();
                // The range's schedule changes (finalizations due, deadlines watched): one write
                // after its logs, before the cursor moves, instead of one per event. Nothing
                // reads the schedules while the range's logs are handled.
                let mut schedules = Vec::new();
                // Other duties' logs handled since the execute stage, which shares this task, last
                // had a turn.
                let mut since_yield = 0usize;
                let events: Vec<_> = logs
                    .iter()
                    .filter_map(|log| {
                        InferenceRegistryEvents::decode_log(&log.inner)
                            .ok()
                            .map(|ev| (log.block_number, ev.data))
                    })
                    .collect();
                // The facts of every request created in the range first, in one write: nothing
                // earlier in a range refers to a request created later in it.
                self.store.put_requests(
                    &events
                        .iter()
                        .filter_map(|(_, ev)| match ev {
                            InferenceRegistryEvents::RequestCreated(e) => {
                                Some((e.requestId, request_facts(e)))
                            }
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                    self.cfg.finalize,
                )?;
                for (block_number, ev) in events {
                    match ev {
                        InferenceRegistryEvents::OperatorAssigned(e)
                            if e.operator == self.cfg.operator =>
                        {
                            self.metrics.assignments_seen.inc();
                            self.metrics.request_seen(&e.requestId.to_string());
                            if let Some(job) =
                                self.start_answer(e.requestId, block_number, deferral)?
                            {
                                answering.push(job);
                            }
                            if answering.full() {
                                self.finish_answers(&mut answering).await?;
                            }
                        }
                        InferenceRegistryEvents::RequestCreated(_) => {}
                        InferenceRegistryEvents::AnswerRecorded(e)
                            if e.operator == self.cfg.operator
                                && self.exec.lease.is_some()
                                && !self.exec.may_send() =>
                        {
                            answered_by_holder.push(e.requestId);
                        }
                        // A log no duty acts on (another operator's assignment, an answer this
                        // keeper does not check) does not cut the chunk of answers: with several
                        // operators per request, their assignments interleave with ours.
                        other if !acts_on(self.cfg.operator, self.cfg.watch, &other) => {}
                        other => {
                            self.finish_answers(&mut answering).await?;
                            self.handle_event(other, &mut schedules).await?;
                            // A long range of other logs (the quorums of a drained backlog) is
                            // handled without waiting on anything: it lets the execute stage send
                            // and settle in between.
                            since_yield += 1;
                            if since_yield >= YIELD_EVERY {
                                since_yield = 0;
                                tokio::task::yield_now().await;
                            }
                        }
                    }
                }
                self.finish_answers(&mut answering).await?;
                self.store.change_schedules(&schedules)?;
                self.done_by_holder(&answered_by_holder)?;
                self.poller.commit(to, hash)?;
            }
        }
        self.metrics.polled();
        // A standby replica decides only its answers (claimed and journaled, ready for a takeover):
        // the other duties' transactions are the lease holder's to send, and a standby that
        // journaled them would keep them open until a takeover. After one, they are decided from
        // the same stored schedules, which the events keep current meanwhile.
        if self.exec.may_send() {
            if self.cfg.finalize {
                self.finalizer_duties().await?;
                self.jury_duties().await?;
            }
            self.delivery_duties().await?;
        }
        self.refresh_standing().await;
        if self.exec.may_send() {
            self.referee_duties().await?;
        }
        self.metrics.open_intents.set(self.store.open_count()?);
        Ok(t)
    }

    /// Books as done, in one durable write, the pending attestations of `ids`, which the chain shows
    /// answered for this operator while this replica stood by without the sender lease: the holder
    /// sent them (the same statements: the signing store). So a standby's journal holds only what
    /// the holder has not done yet, and a takeover estimates only that.
    fn done_by_holder(&self, ids: &[U256]) -> Result<(), KeeperError> {
        let mut done = Vec::new();
        for &id in ids {
            let Some(info) = self.req(id)? else {
                continue;
            };
            if let Some(mut intent) = self.store.intent(&self.attest_key(id, &info))? {
                if intent.status == IntentStatus::Pending {
                    intent.status = IntentStatus::Done {
                        tx_hash: None,
                        gas_used: None,
                    };
                    // Never dispatched now: its mark to estimate afresh goes too.
                    self.exec.tx.take_estimate_afresh(&intent.key);
                    done.push(intent);
                }
            }
        }
        if !done.is_empty() {
            tracing::debug!(keeper = %self.name, done = done.len(), "attestations sent by the lease holder");
            self.store.put_intents(&done)?;
        }
        Ok(())
    }

    /// The journal key of this keeper's attestation of request `id` with `info` (request identity,
    /// not the reusable id: see [`attest::request_digest`]).
    fn attest_key(&self, id: U256, info: &RequestFacts) -> String {
        Intent::key_for(
            IntentKind::Attest,
            &format!(
                "{id}:{:#x}",
                attest::request_digest(id, info.model_id, info.input_hash)
            ),
            &format!("{:#x}", self.cfg.operator),
        )
    }

    /// The journal subject of a per-request duty (finalize, report, challenge): `id` plus the
    /// request's digest when its facts are known, so a duty done for a request that a reorg removed
    /// does not hide the same duty for the request that reuses its id.
    fn request_tag(&self, id: U256) -> Result<String, StoreError> {
        Ok(match self.req(id)? {
            Some(info) => format!(
                "{id}:{:#x}",
                attest::request_digest(id, info.model_id, info.input_hash)
            ),
            None => id.to_string(),
        })
    }

    fn req(&self, id: U256) -> Result<Option<RequestFacts>, StoreError> {
        self.store.request(id)
    }

    /// Handles one decoded registry event (the collect stage starts answers itself, see
    /// [`Keeper::collect_and_decide`]; an assignment handed here is answered at once). Changes to
    /// the schedules are appended to `schedules`, which the caller writes once for its range.
    async fn handle_event(
        &mut self,
        ev: InferenceRegistryEvents,
        schedules: &mut Vec<ScheduleChange>,
    ) -> Result<(), KeeperError> {
        // Which logs need anything is `acts_on`'s to say, for the collect stage too.
        if !acts_on(self.cfg.operator, self.cfg.watch, &ev) {
            return Ok(());
        }
        match ev {
            InferenceRegistryEvents::OutputRequested(e) => {
                self.answer_output_request(e.requestId).await?;
            }
            InferenceRegistryEvents::CallbackRegistered(e) => {
                self.on_callback_registered(e.requestId, e.early)?;
            }
            InferenceRegistryEvents::AnswerRecorded(e) => {
                self.fetch_published(e.requestId, e.operator).await?;
            }
            InferenceRegistryEvents::OperatorAssigned(e) => {
                self.metrics.assignments_seen.inc();
                self.metrics.request_seen(&e.requestId.to_string());
                self.answer(e.requestId).await?;
            }
            InferenceRegistryEvents::QuorumReached(e) => {
                if self.cfg.finalize {
                    schedules.push(ScheduleChange::Finalize {
                        id: e.requestId,
                        window_end: e.windowEnd.to::<u64>(),
                    });
                }
                if self.cfg.watch {
                    self.check_result(e.requestId, e.outputHash).await?;
                }
                self.on_deliverable(e.requestId, true).await?;
            }
            InferenceRegistryEvents::RequestFinalized(e) => {
                schedules.extend([
                    ScheduleChange::ForgetFinalize(e.requestId),
                    ScheduleChange::ForgetDeadline(e.requestId),
                ]);
                self.on_deliverable(e.requestId, false).await?;
            }
            InferenceRegistryEvents::RequestExpired(e) => {
                schedules.push(ScheduleChange::ForgetFinalize(e.requestId));
                self.on_deliverable(e.requestId, false).await?;
            }
            InferenceRegistryEvents::DisputeOpened(e) => {
                schedules.push(ScheduleChange::ForgetFinalize(e.requestId));
                self.on_dispute_opened(e.requestId, e.disputeId).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn input_of(&self, id: U256, info: &RequestFacts) -> Result<Vec<u8>, KeeperError> {
        answer::checked_input(id, info).await
    }

    /// The journal row that publishes a signed attestation: once written, it is served to peers
    /// at `GET /v1/attestations/<requestId>` on the outputs endpoint.
    fn published_row(s: &SignedAttestation) -> Result<PublishedRow, KeeperError> {
        let json = serde_json::to_vec(s).map_err(|e| {
            KeeperError::Store(StoreError::Corrupt {
                key: format!("published {}", s.att.requestId),
                reason: e.to_string(),
            })
        })?;
        Ok(PublishedRow {
            request_id: s.att.requestId,
            output_hash: s.att.outputHash,
            json,
        })
    }

    /// Fetches the attestations `operator` published for request `id` from its registered
    /// endpoint (`endpointOf`) and checks them for equivocation. A peer without
    /// an endpoint, or one that is down or answers garbage, is skipped: evidence that cannot be
    /// fetched is no fault of anyone's.
    async fn fetch_published(&mut self, id: U256, operator: Address) -> Result<(), KeeperError> {
        let endpoint = match self.endpoints.get(&operator) {
            Some(e) => e.clone(),
            None => {
                let e = self
                    .registry()
                    .endpointOf(operator)
                    .call()
                    .await
                    .map_err(rpc_err("endpointOf"))?;
                if e.is_empty() {
                    return Ok(());
                }
                self.endpoints.insert(operator, e.clone());
                e
            }
        };
        let url = format!(
            "{}{}/{id}",
            endpoint.trim_end_matches('/'),
            crate::api::ATTESTATIONS_PATH
        );
        let fetched = async {
            let resp = self.http.get(&url).send().await?.error_for_status()?;
            resp.json::<Vec<SignedAttestation>>().await
        }
        .await;
        match fetched {
            Ok(list) => {
                for m in list
                    .into_iter()
                    .filter(|m| m.att.operator == operator && m.att.requestId == id)
                {
                    self.consider(m)?;
                }
            }
            Err(e) => {
                tracing::debug!(keeper = %self.name, %operator, %url, error = %e, "peer attestations not fetched")
            }
        }
        Ok(())
    }

    /// Checks one signed attestation a peer published against the ones seen before:
    /// two validly signed, different outputs of one operator for one request -> journal a
    /// `reportEquivocation`.
    fn consider(&mut self, m: SignedAttestation) -> Result<(), KeeperError> {
        if self.seen.len() > 100_000 {
            // bounded memory: equivocation evidence older than this is not worth keeping
            self.seen.clear();
        }
        {
            if !self.cfg.watch || m.att.operator == self.cfg.operator {
                return Ok(());
            }
            let Some(signer) = attest::recover(&m.att, &self.domain, &m.sig) else {
                return Ok(());
            };
            let slot = (
                attest::request_digest(m.att.requestId, m.att.modelId, m.att.inputHash),
                m.att.operator,
            );
            match self.seen.get(&slot) {
                None => {
                    self.seen.insert(slot, m);
                }
                Some(prev) if prev.att.outputHash != m.att.outputHash => {
                    if attest::recover(&prev.att, &self.domain, &prev.sig) != Some(signer) {
                        return Ok(());
                    }
                    // Both published attestations are signed statements (batchId 0, no proof).
                    let calldata = InferenceRegistry::reportEquivocationCall {
                        a: Statement::signed(prev.att.clone().into(), prev.sig.clone()),
                        b: Statement::signed(m.att.clone().into(), m.sig.clone()),
                    }
                    .abi_encode();
                    let key = Intent::key_for(
                        IntentKind::Equivocation,
                        &format!("{}:{:#x}", m.att.requestId, slot.0),
                        &format!("{:#x}", m.att.operator),
                    );
                    tracing::warn!(keeper = %self.name, operator = %m.att.operator, request = %m.att.requestId, "equivocation detected");
                    self.journal(key, IntentKind::Equivocation, m.att.requestId, calldata)?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn journal(
        &self,
        key: String,
        kind: IntentKind,
        subject: U256,
        calldata: Vec<u8>,
    ) -> Result<bool, KeeperError> {
        let intent = self.pending_intent(key, kind, subject, calldata);
        Ok(self.store.insert_intent_if_absent(&intent)?)
    }

    /// A new intent of this keeper: a call of the registry, about request `subject`, not sent yet.
    fn pending_intent(
        &self,
        key: String,
        kind: IntentKind,
        subject: U256,
        calldata: Vec<u8>,
    ) -> Intent {
        Intent {
            key,
            kind,
            subject: Some(subject),
            to: Some(self.cfg.registry),
            calldata: calldata.into(),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        }
    }

    /// Answers an availability challenge (`OutputRequested`) of a result whose bytes this keeper
    /// holds by publishing them with `deliverOutput`, so an honest result is not voided for want of its
    /// bytes on chain. Outputs longer than the registry accepts on chain (64 KiB) cannot answer; the
    /// keeper logs that and leaves the request to finalize as "no valid result".
    async fn answer_output_request(&mut self, id: U256) -> Result<(), KeeperError> {
        let view = self
            .registry()
            .request(id)
            .call()
            .await
            .map_err(|e| KeeperError::Rpc {
                op: "request",
                msg: e.to_string(),
            })?;
        let Some(bytes) = self.store.output(&view.output.0)? else {
            return Ok(()); // not an output this keeper attested
        };
        if bytes.len() > MAX_PUBLISHED_OUTPUT {
            tracing::warn!(keeper = %self.name, %id, len = bytes.len(), "output too long to publish on chain; the availability challenge will void the result");
            return Ok(());
        }
        tracing::info!(keeper = %self.name, %id, "availability challenge: publishing the output on chain");
        let calldata = InferenceRegistry::deliverOutputCall {
            requestId: id,
            output: Bytes::from(bytes),
        }
        .abi_encode();
        let key = Intent::key_for(
            IntentKind::DeliverOutput,
            &id.to_string(),
            &format!("{:#x}", self.cfg.operator),
        );
        self.journal(key, IntentKind::DeliverOutput, id, calldata)?;
        Ok(())
    }

    /// Watcher: re-executes a result for a model we serve; journals a challenge if it is wrong. The
    /// challenge claims our own output, which is always concrete (the registry refuses a claim of
    /// "no valid result"). The DisputeGovernor takes it only if the keeper's sending key (its hot
    /// key) was linked to an identity before the challenge's block; otherwise the challenge reverts
    /// with `ChallengerNotAttested` and is abandoned (docs/keeper.md).
    async fn check_result(&mut self, id: U256, output: B256) -> Result<(), KeeperError> {
        let Some(info) = self.req(id)? else {
            return Ok(());
        };
        if !self.backends.serves(info.model_id) {
            return Ok(());
        }
        // The result is the statement this keeper journaled for the request itself (computed, or
        // adopted from another replica as its operator's statement of record): running the model
        // again would only repeat it (an LLM's inference, twice per answer).
        let own = self.store.intent(&self.attest_key(id, &info))?;
        if own.as_ref().and_then(attested_output) == Some(output) {
            return Ok(());
        }
        let Ok(input) = self.input_of(id, &info).await else {
            return Ok(());
        };
        let Ok(ours) = self.infer(info.model_id, &input).await else {
            return Ok(());
        };
        let expected = keccak256(&ours);
        if expected != output {
            if !is_concrete_output(expected) {
                tracing::warn!(keeper = %self.name, %id, "our output hash is not a concrete claim; not challenging");
                return Ok(());
            }
            if self.refereed(info.model_id).await?
                && !self.confirmed_twice(info.model_id, &input, &ours)
            {
                // The registry opens an on-chain referee game (docs/referee.md), which this keeper plays
                // from its own trace; it never opens one it cannot play or would lose.
                tracing::warn!(keeper = %self.name, %id, model = %info.model_id,
                    "wrong result reached quorum, but our recomputation is not confirmed for a referee game; not challenging");
                return Ok(());
            }
            tracing::warn!(keeper = %self.name, %id, "wrong result reached quorum; challenging");
            let calldata = InferenceRegistry::challengeCall {
                requestId: id,
                claimedOutput: expected,
            }
            .abi_encode();
            let key = Intent::key_for(
                IntentKind::Challenge,
                &self.request_tag(id)?,
                &format!("{:#x}", self.cfg.operator),
            );
            self.journal(key, IntentKind::Challenge, id, calldata)?;
        }
        Ok(())
    }

    async fn chain_time(&self) -> Result<u64, KeeperError> {
        let b = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| KeeperError::Rpc {
                op: "eth_getBlockByNumber",
                msg: e.to_string(),
            })?;
        Ok(b.map(|b| b.header.timestamp).unwrap_or_default())
    }

    /// Finalizer: finalize requests whose window expired; report assigned operators that missed the
    /// deadline.
    async fn finalizer_duties(&mut self) -> Result<(), KeeperError> {
        let now = self.chain_time().await?;
        let me = format!("{:#x}", self.cfg.operator);
        // Every finalization due and every passed deadline's reports and expiry are journaled, and
        // their schedules forgotten, in one durable write at the end (`journal_schedules_acted_on`):
        // a backlog whose windows end together costs one commit, and a crash leaves all or none.
        let mut intents = Vec::new();
        let mut changes = Vec::new();
        // Only the schedules due are read (the journal's time-ordered index), however many wait,
        // and at most `SCHEDULES_PER_RUN` of each kind, the earliest: a backlog (after an outage)
        // is taken over several polls, each a bounded write.
        for (id, _) in self.store.finalizations_due(now, SCHEDULES_PER_RUN)? {
            intents.push(self.finalize_intent(id, &me)?);
            changes.push(ScheduleChange::ForgetFinalize(id));
        }
        // The deadlines passed are forgotten, and what they call for (reports of missed answers,
        // expiries) journaled, in that same write. A call that fails (the views
        // read here never revert: a failure is the node's) stops the duty: what the deadlines
        // read before it called for is written, and the deadline whose call failed is kept, to be
        // read again next time. Before, it was forgotten before its calls, and a failed call lost
        // its reports for good. The deadlines' reads run `DEADLINE_READS_AT_ONCE` at a time and
        // are taken in order, so the first failure still stops the duty with every deadline before
        // it acted on, and the later reads under way are dropped.
        use futures::stream::StreamExt;
        let passed: Vec<U256> = self
            .store
            .deadlines_passed(now, SCHEDULES_PER_RUN)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut reads = futures::stream::iter(passed.into_iter().map(|id| self.read_deadline(id)))
            .buffered(DEADLINE_READS_AT_ONCE);
        let read = async {
            while let Some(r) = reads.next().await {
                let (id, unanswered, open) = r?;
                for op in unanswered {
                    let calldata = InferenceRegistry::reportMissedCall {
                        requestId: id,
                        operator: op,
                    }
                    .abi_encode();
                    intents.push(self.pending_intent(
                        Intent::key_for(
                            IntentKind::ReportMissed,
                            &self.request_tag(id)?,
                            &format!("{op:#x}"),
                        ),
                        IntentKind::ReportMissed,
                        id,
                        calldata,
                    ));
                }
                if open {
                    // No quorum by the deadline: expire it (refund) unless answers disagree.
                    intents.push(self.finalize_intent(id, &me)?);
                }
                changes.push(ScheduleChange::ForgetDeadline(id));
            }
            Ok::<_, KeeperError>(())
        }
        .await;
        drop(reads);
        self.store.journal_schedules_acted_on(&intents, &changes)?;
        read?;
        Ok(())
    }

    /// The intent to finalize request `id` (its window ended, or its deadline passed without a
    /// quorum: `finalize` expires it), journaled under finalizer `me`.
    fn finalize_intent(&self, id: U256, me: &str) -> Result<Intent, KeeperError> {
        Ok(self.pending_intent(
            Intent::key_for(IntentKind::Finalize, &self.request_tag(id)?, me),
            IntentKind::Finalize,
            id,
            InferenceRegistry::finalizeCall { requestId: id }.abi_encode(),
        ))
    }

    /// What a passed deadline of request `id` calls for, read from the registry: the assigned
    /// operators that did not answer, and whether the request is still open (no quorum: it
    /// expires). The request and its operators are read at once, then every operator's answer at
    /// once.
    async fn read_deadline(&self, id: U256) -> Result<(U256, Vec<Address>, bool), KeeperError> {
        let registry = self.registry();
        let ops_call = registry.assignedOperators(id);
        let req_call = registry.request(id);
        let (ops, req) = tokio::try_join!(
            async { ops_call.call().await.map_err(rpc_err("assignedOperators")) },
            async { req_call.call().await.map_err(rpc_err("request")) },
        )?;
        let answers = futures::future::try_join_all(ops.iter().map(|&op| {
            let call = registry.answerOf(id, op);
            async move {
                call.call()
                    .await
                    .map(|a| (op, a.answered))
                    .map_err(rpc_err("answerOf"))
            }
        }))
        .await?;
        let unanswered = answers
            .into_iter()
            .filter_map(|(op, answered)| (!answered).then_some(op))
            .collect();
        let open = RequestStatus::of(req.status) == Some(RequestStatus::Open);
        Ok((id, unanswered, open))
    }
}

/// The most finalizations due, and the most passed deadlines, the finalizer acts on per run (per
/// poll), the earliest first: a backlog is taken over several polls, each run's reads and write
/// bounded.
pub const SCHEDULES_PER_RUN: usize = 1_024;

/// Passed deadlines whose reads (the request, its assigned operators, their answers) run at once
/// in the finalizer duty: a backlog of passed deadlines (after an outage, or a burst of requests
/// nobody answered) costs about two round trips per this many, where it cost two plus one per
/// assigned operator for each deadline in turn; and a remote node sees at most this many
/// deadlines' calls at a time.
pub const DEADLINE_READS_AT_ONCE: usize = 16;

/// The shared signing store of a replica, connected once at startup. An unreachable store does not
/// stop the keeper (it is fail-closed: nothing is signed until the store answers, and the next claim
/// reconnects), but it is reported now rather than at the first assignment.
async fn connect_signing_store(
    c: &crate::signing_store::SigningStoreConfig,
    name: &str,
) -> SigningStore {
    let store = SigningStore::from_config(c);
    let url = signing_store::redact_url(&c.postgres_url);
    match store.connect().await {
        Ok(()) => {
            tracing::info!(keeper = %name, replica = %c.replica, %url, "signing through the shared signing store")
        }
        Err(e) => {
            tracing::warn!(keeper = %name, replica = %c.replica, %url, error = %e, "signing store unreachable; nothing is signed until it answers")
        }
    }
    store
}

/// The prefix of the reason of an attestation set aside because its request is no longer on chain
/// as it was signed (a reorg removed it or another request took its id).
const REQUEST_GONE: &str = "request reorged out or replaced";

/// When the collect stage polls next after a poll that `started`: `interval` after that poll's
/// start (the poll interval is the cadence of polls, not a pause after each), or `now` when that
/// has passed (a poll slower than the interval: the next one starts at once, never two at a time).
/// Against a node across a network a poll takes several round trips; measured from its end, the
/// wait before a new block's logs were read grew by that much.
fn next_poll_at(
    started: tokio::time::Instant,
    interval: Duration,
    now: tokio::time::Instant,
) -> tokio::time::Instant {
    (started + interval).max(now)
}

/// What the keeper keeps of a request from its `RequestCreated` log.
fn request_facts(e: &InferenceRegistry::RequestCreated) -> RequestFacts {
    RequestFacts {
        model_id: e.modelId,
        input_hash: e.inputHash,
        input_uri: e.inputURI.clone(),
        deadline: e.deadline.to::<u64>(),
    }
}

/// The output hash an attestation intent (`submitAttestation` calldata) attests, if it is one.
fn attested_output(intent: &Intent) -> Option<B256> {
    attestation_of(intent).map(|a| a.outputHash)
}

/// The attestation an intent's `submitAttestation` calldata carries.
fn attestation_of(intent: &Intent) -> Option<crate::registry::Attestation> {
    InferenceRegistry::submitAttestationCall::abi_decode(&intent.calldata)
        .ok()
        .map(|c| c.att)
}

/// What an intent in flight keeps others from being dispatched beside it: its request, or (a batch,
/// a one-off call) the intent itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Busy {
    Request(U256),
    Intent(String),
}

impl Busy {
    fn of(intent: &Intent) -> Self {
        match intent.subject {
            Some(id) => Self::Request(id),
            None => Self::Intent(intent.key.clone()),
        }
    }
}

/// Whether the execute stage fills the free places of its window now, with `in_flight` of
/// `window` transactions in flight and `ready` intents it could send. An empty window is always
/// filled, and so is a short queue (fewer ready than half the window: latency first). A long
/// queue is sent in groups of at least half the window (throughput): refilling each place as it
/// is freed sends a few transactions at a time, and a node that seals a block per arrival (an
/// automining anvil, an instant-sealing sequencer) then makes a block of almost each, where a
/// larger group broadcast at once shares its blocks. On a chain with block intervals the
/// receipts of a block free their places together: throughput is unchanged there, and a queued
/// intent waits at most one more block (when a block frees fewer than half the places).
pub fn refill_now(window: usize, in_flight: usize, ready: usize) -> bool {
    let half = window.div_ceil(2);
    in_flight == 0 || ready < half || window.saturating_sub(in_flight) >= half
}

/// A launched group's members, how many of its transactions were being broadcast, and what its
/// landing gave ([`TxManager::land_group`]).
type Landing = (Vec<Intent>, usize, Result<Vec<Landed>, TxError>);

/// What one execute round has in hand ([`Executor::submit`]).
#[derive(Default)]
struct InHand<'a> {
    /// Transactions in flight, each waiting for its receipt.
    settling: futures::stream::FuturesUnordered<
        futures::future::BoxFuture<'a, (Intent, Result<Executed, TxError>)>,
    >,
    /// Groups launched whose broadcast the node has not answered yet, with how many of their
    /// transactions are being broadcast.
    landing: futures::stream::FuturesUnordered<futures::future::BoxFuture<'a, Landing>>,
    /// Transactions of the groups landing: in flight too, they hold their places in the window.
    airborne: usize,
    /// Members refused for their nonce, to be signed anew ([`TxManager::redispatch`]).
    rejected: Vec<Intent>,
    /// The subjects of the intents in hand.
    busy: HashSet<Busy>,
    /// Intents that succeeded.
    ok: usize,
    /// Whether one waits behind a nonce gap.
    blocked: bool,
}

impl InHand<'_> {
    /// Transactions in flight: settling, or in a group landing.
    fn in_flight(&self) -> usize {
        self.settling.len() + self.airborne
    }
}

/// The execute stage: batches, transactions, nonce repair. One task runs it ([`Executor::run`]);
/// the collect-and-decide stage hands it work through the journal and wakes it through `wake`.
struct Executor {
    store: Arc<Store>,
    tx: TxManager,
    provider: RootProvider,
    registry: Address,
    operator: Address,
    submit: SubmitConfig,
    metrics: Arc<Metrics>,
    name: String,
    /// Repair nonces before the next round (startup, a nonce gap seen).
    repair: AtomicBool,
    /// The poller saw a reorg: repair nonces and re-plan what vanished before the next round.
    reorged: AtomicBool,
    /// Wake-up channel from the collect-and-decide stage.
    wake: Notify,
    /// Set with every wake-up ([`Executor::notify_work`]): the journal may hold intents the round
    /// at hand has not read yet, so it reads them when its queue runs dry instead of draining the
    /// window first (`submit`).
    fresh: AtomicBool,
    /// The sender lease of a replica (`[signing_store]`): it sends only while holding it. `None`:
    /// a single keeper, which always sends.
    lease: Option<Arc<lease::SenderLease>>,
    /// When the node last answered a log poll (its logs fetched, their handling perhaps still
    /// running; a poll whose handling then failed counts from the last one fully handled): a
    /// replica keeps or takes the sender lease only while this is fresh, and takes it as soon as
    /// the first poll's logs arrive, not after they were all answered.
    node_answered: watch::Sender<Option<std::time::Instant>>,
}

impl Executor {
    /// Whether this keeper may send transactions now: always for a single keeper, only while it
    /// holds the sender lease for a replica (the transaction manager's send gate, one check).
    fn may_send(&self) -> bool {
        self.tx.may_send()
    }

    /// Takes or renews the sender lease once (replicas only). On taking it, every open intent is
    /// marked to be estimated afresh (the previous holder may have sent it: a copy already done is
    /// refused at estimation, sending nothing) and the nonces are resynced from the chain (the
    /// previous holder used them) before the next round, which is woken at once.
    async fn tend_lease(&self) {
        let Some(lease) = &self.lease else {
            return;
        };
        // A replica that cannot read the chain (its node down, its polls failing) must not keep
        // the lease from one that can: it gives the lease up and takes none meanwhile.
        let polling = self
            .since_node_answered()
            .is_some_and(|t| t <= lease.max_poll_age());
        if !polling {
            lease.skipped();
            if lease.held() {
                tracing::warn!(keeper = %self.name, "log polls failing; giving the sender lease up");
                if let Err(e) = lease.release().await {
                    tracing::warn!(keeper = %self.name, error = %e, "cannot release the sender lease; it lapses");
                }
                self.metrics.set_sender_lease(false);
            }
            return;
        }
        match lease.attempt().await {
            Ok(lease::LeaseChange::Acquired { epoch }) => {
                // Assignments up to the head now may have been answered by an earlier holder; the
                // first grant ever (epoch 1) follows nobody.
                if epoch > 1 {
                    let head = self.provider.get_block_number().await.unwrap_or(u64::MAX);
                    lease.took_over_at(head);
                }
                // Nobody sent for this operator before the first grant ever: nothing to re-check.
                let open: Vec<String> = match self.store.open_intents() {
                    Ok(_) if epoch == 1 => Vec::new(),
                    Ok(open) => open.into_iter().map(|i| i.key).collect(),
                    Err(e) => {
                        // Without the list nothing may be sent on a cached estimate: give the lease
                        // up and take it over again at the next attempt (a grant of the same epoch
                        // then counts as a takeover, not a renewal: `retake`).
                        tracing::warn!(keeper = %self.name, error = %e, "cannot read the journal on taking the sender lease");
                        if let Err(e) = lease.release().await {
                            tracing::warn!(keeper = %self.name, error = %e, "cannot release the sender lease");
                        }
                        lease.retake();
                        return;
                    }
                };
                tracing::info!(keeper = %self.name, epoch, afresh = open.len(), "took the sender lease; open work is estimated afresh");
                self.tx.estimate_afresh(open);
                self.repair.store(true, Ordering::SeqCst);
                self.metrics.lease_takeovers.inc();
                self.metrics.set_sender_lease(true);
                self.notify_work();
            }
            // A renewal may follow a release of our own (polls failing): holding again.
            Ok(lease::LeaseChange::Renewed) => self.metrics.set_sender_lease(true),
            Ok(lease::LeaseChange::Standby { holder, lost }) => {
                if lost {
                    let holder = holder.as_deref().unwrap_or("?");
                    tracing::warn!(keeper = %self.name, %holder, "lost the sender lease; standing by");
                }
                self.metrics.set_sender_lease(false);
            }
            Err(e) => {
                let held = lease.held();
                self.metrics.set_sender_lease(held);
                tracing::warn!(keeper = %self.name, error = %e, held, "cannot renew the sender lease; sending stops when it lapses");
            }
        }
    }

    /// The node last answered a log poll `ago` (`None`: never, as far as the lease is concerned).
    fn node_answered_with(&self, ago: Option<Duration>) {
        let now = std::time::Instant::now();
        self.node_answered
            .send_replace(ago.and_then(|d| now.checked_sub(d)));
    }

    /// Time since the node last answered a log poll (`None`: never).
    fn since_node_answered(&self) -> Option<Duration> {
        self.node_answered.borrow().map(|t| t.elapsed())
    }

    /// Tends the sender lease every quarter of its length (a fixed rate: a slow attempt does not
    /// push the next one back), for as long as the keeper runs.
    async fn keep_lease(&self) -> std::convert::Infallible {
        let period = self
            .lease
            .as_ref()
            .map_or(Duration::from_secs(1), |l| l.period());
        // The first attempt as soon as the node answered the first log poll (a replica that
        // cannot read the chain takes no lease), not a whole period later, and not after the
        // poll's assignments were all answered (the holder sends the first ones meanwhile). Woken
        // by that poll itself: the replica's answers of it wait for this attempt (`answer`).
        let _ = self
            .node_answered
            .subscribe()
            .wait_for(Option::is_some)
            .await;
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tend_lease().await;
        }
    }

    /// Tells the execute stage that the journal may hold new work: wakes it between rounds, and a
    /// round in progress picks the work up as soon as its queue runs dry.
    fn notify_work(&self) {
        self.fresh.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The queue a round starts from: batches formed from every pending attestation, then the
    /// open intents ([`Executor::queue_of`]). Whatever is journaled after this read is read again
    /// when the queue runs dry (`fresh` is cleared first).
    fn round_queue(&self) -> Result<std::collections::VecDeque<Intent>, KeeperError> {
        self.fresh.store(false, Ordering::SeqCst);
        self.form_batches(|_| false)?;
        self.queue_of(&HashSet::new())
    }

    /// The round's queue: open intents in journal order, except batch members (sent in their
    /// batch) and `taken` (dispatched by this round already).
    fn queue_of(
        &self,
        taken: &HashSet<String>,
    ) -> Result<std::collections::VecDeque<Intent>, KeeperError> {
        Ok(self
            .store
            .open_intents()?
            .into_iter()
            .filter(|i| {
                !matches!(i.status, IntentStatus::Batched { .. }) && !taken.contains(&i.key)
            })
            .collect())
    }

    fn registry(&self) -> InferenceRegistry::InferenceRegistryInstance<&RootProvider> {
        InferenceRegistry::new(self.registry, &self.provider)
    }

    /// Rounds until `shutdown`, each after a wake-up or `idle` at most. On shutdown the round at hand
    /// gets [`SHUTDOWN_GRACE`] to finish and is then dropped (journal before broadcast makes that
    /// safe, exactly as a `kill -9`).
    /// A full disk ends it with [`StoreError::DiskFull`]: no round can journal anything then.
    async fn run(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
        idle: Duration,
    ) -> Result<(), KeeperError> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let round = self.round();
            tokio::pin!(round);
            tokio::select! {
                r = &mut round => if let Err(e) = r {
                    if let Some(full) = e.disk_full() {
                        return Err(full);
                    }
                    tracing::warn!(keeper = %self.name, error = %e, "execute round failed; retrying");
                },
                _ = shutdown.changed() => {
                    if tokio::time::timeout(SHUTDOWN_GRACE, &mut round).await.is_err() {
                        tracing::info!(keeper = %self.name, "shutdown: in-flight work left journaled");
                    }
                    return Ok(());
                }
            }
            // The receipt hub's coverage is kept current between rounds (with nothing in flight,
            // one head read at most every quarter of the receipt timeout), so the next group's
            // broadcast does not wait for it. New work does not wait for it either.
            if self.may_send() {
                tokio::select! {
                    () = self.tx.prime_hub() => {}
                    () = self.wake.notified() => continue,
                    _ = shutdown.changed() => return Ok(()),
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One round: repair after a reorg or a gap, form batches, execute open intents, fill gaps left.
    async fn round(&self) -> Result<usize, KeeperError> {
        // A replica without the sender lease sends nothing: repairs and rebroadcasts included
        // (they wait for the round that follows a takeover).
        if !self.may_send() {
            return Ok(0);
        }
        if self.reorged.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.after_reorg().await {
                self.reorged.store(true, Ordering::SeqCst);
                return Err(e);
            }
        } else if self.repair.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.tx.repair_nonces().await {
                self.repair.store(true, Ordering::SeqCst);
                return Err(e.into());
            }
        }
        let (done, blocked) = self.submit().await?;
        if self.repair.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.tx.repair_nonces().await {
                self.repair.store(true, Ordering::SeqCst); // a lagging node: repair next round
                return Err(e.into());
            }
        }
        // A gap is taken by the next transaction sent; only when one of ours waits behind it is it
        // filled with a no-op right away.
        if blocked && self.may_send() && !self.tx.gaps().await.is_empty() {
            self.tx.fill_gaps().await?;
        }
        self.metrics.open_intents.set(self.store.open_count()?);
        Ok(done)
    }

    /// After a reorg: repair nonces (transactions that vanished are re-planned, gaps recorded), then
    /// decide what each re-planned attestation still is. An attestation whose request is no longer
    /// on chain as signed (removed, or its id reused by another request) is set aside, never sent
    /// (it would revert with `AttestationMismatch`); one already answered is done; the others are
    /// sent again as before (a re-planned batch is dissolved and its live members batched anew).
    async fn after_reorg(&self) -> Result<(), KeeperError> {
        let repair = self.tx.repair_nonces().await?;
        for key in &repair.replanned {
            let Some(mut intent) = self.store.intent(key)? else {
                continue;
            };
            if intent.kind != IntentKind::Attest {
                continue; // other duties are re-estimated: one no longer possible is abandoned
            }
            if intent.members.is_empty() {
                if let Some(rechecked) = self.recheck_attestation(intent).await? {
                    self.store.put_intent(&rechecked)?;
                }
                continue;
            }
            // The batch is dissolved: its members, each re-checked, and its end are one write, so
            // a crash (or a failed read) never leaves the batch open beside members already
            // re-planned, nor a member carried by the abandoned batch. A member that is not an
            // attestation call (none is made so) is handed back to be sent alone.
            let mut write = Vec::with_capacity(intent.members.len() + 1);
            // Only the members it carries (the nonce repair carried its done members again in the
            // write that re-planned it); one elsewhere is left as it is.
            for m in self.store.members_carried(&intent)? {
                match self.recheck_attestation(m.clone()).await? {
                    Some(rechecked) => write.push(rechecked),
                    None => write.push(m.alone()),
                }
            }
            intent.status = IntentStatus::Abandoned {
                reason: "batch reorged out; its members re-planned".into(),
            };
            write.push(intent);
            self.store.put_intents(&write)?;
            self.metrics.tx_finished(key);
        }
        Ok(())
    }

    /// Re-plans one attestation whose transaction vanished, against the request now on chain.
    /// Returns it with its new status, to be written by the caller (`None`: not an attestation
    /// call, left as it is).
    async fn recheck_attestation(&self, mut intent: Intent) -> Result<Option<Intent>, KeeperError> {
        let Some(att) = attestation_of(&intent) else {
            return Ok(None);
        };
        let view = self
            .registry()
            .request(att.requestId)
            .call()
            .await
            .map_err(rpc_err("request"))?;
        let open = matches!(
            RequestStatus::of(view.status),
            Some(RequestStatus::Open | RequestStatus::Quorum)
        );
        let same = view.modelId == att.modelId && view.inputHash == att.inputHash;
        intent.status = if !same {
            tracing::warn!(keeper = %self.name, key = %intent.key, "request reorged out or replaced; attestation set aside");
            IntentStatus::Abandoned {
                reason: format!("{REQUEST_GONE} (request {})", att.requestId),
            }
        } else {
            let ans = self
                .registry()
                .answerOf(att.requestId, self.operator)
                .call()
                .await
                .map_err(rpc_err("answerOf"))?;
            if ans.answered {
                IntentStatus::Done {
                    tx_hash: None,
                    gas_used: None,
                }
            } else if open {
                // Sent again as before: alone, or in a new batch with the other re-planned members.
                tracing::warn!(keeper = %self.name, key = %intent.key, "attestation reorged out; resubmitting");
                IntentStatus::Pending
            } else {
                IntentStatus::Abandoned {
                    reason: format!("request {} closed after a reorg", att.requestId),
                }
            }
        };
        Ok(Some(intent))
    }

    /// Groups pending attestations into `submitAttestations` batches, leaving out those `skip` names
    /// (in a round under way: the ones it already dispatched, or whose subject has a transaction in
    /// flight, which a batch must not run ahead of). Every batch formed and its members' pointers
    /// to it are journaled in one deferred write (see below).
    fn form_batches(&self, skip: impl Fn(&Intent) -> bool) -> Result<(), KeeperError> {
        if self.submit.mode != SubmitMode::Batch {
            return Ok(());
        }
        let pending: Vec<Intent> = self
            .store
            .open_intents()?
            .into_iter()
            .filter(|i| {
                i.kind == IntentKind::Attest
                    && i.members.is_empty()
                    && !i.single_only
                    && i.status == IntentStatus::Pending
                    && !skip(i)
            })
            .collect();
        // Every batch formed here and its members' pointers to it, in one deferred write: nothing
        // is signed or sent on it, and the durable write that journals the batch's transaction
        // before its broadcast persists it first (commits persist in order). A crash before then
        // loses the batches and the pointers together; the members are pending and batched again.
        let mut write = Vec::new();
        for chunk in pending.chunks(self.submit.max_batch) {
            if chunk.len() < 2 {
                continue;
            }
            let mut atts = Vec::new();
            let mut sigs = Vec::new();
            for i in chunk {
                let Ok(call) = InferenceRegistry::submitAttestationCall::abi_decode(&i.calldata)
                else {
                    continue;
                };
                atts.push(call.att);
                sigs.push(call.signature);
            }
            let calldata = InferenceRegistry::submitAttestationsCall {
                atts,
                signatures: sigs,
            }
            .abi_encode();
            let members: Vec<String> = chunk.iter().map(|i| i.key.clone()).collect();
            let bkey = format!(
                "attest_batch:{}:{:#x}",
                keccak256(members.join(",")),
                self.operator
            );
            // A member to be estimated afresh (after a takeover) makes its batch estimated afresh.
            let afresh = chunk
                .iter()
                .fold(false, |any, i| self.tx.take_estimate_afresh(&i.key) | any);
            if afresh {
                self.tx.estimate_afresh([bkey.clone()]);
            }
            let batch = Intent {
                key: bkey.clone(),
                kind: IntentKind::Attest,
                subject: None,
                to: Some(self.registry),
                calldata: calldata.into(),
                status: IntentStatus::Pending,
                members: members.clone(),
                single_only: false,
            };
            write.push(batch);
            write.extend(chunk.iter().cloned().map(|mut m| {
                m.status = IntentStatus::Batched {
                    batch: bkey.clone(),
                };
                m
            }));
        }
        if !write.is_empty() {
            self.store.put_intents_deferred(&write)?;
        }
        Ok(())
    }

    /// Executes open intents with up to `submit.max_in_flight` transactions in flight: each is
    /// dispatched (journaled, signed, broadcast; nonces follow dispatch order) and settled
    /// concurrently, and the window is refilled as transactions settle: at once for a short queue,
    /// in groups of at least half the window for a long one ([`refill_now`]). Groups are
    /// pipelined: once a group is journaled its broadcast runs on its own
    /// ([`TxManager::launch_group`]), and the next group is signed and journaled meanwhile, its
    /// transactions in flight from then on (a node that answers a broadcast only as it mines it
    /// gets the next group while it mines). A member the node refused for its nonce is signed anew
    /// once every group launched before it has landed ([`TxManager::redispatch`]), and no new group
    /// is launched until then. A call shape the gas
    /// cache does not know is estimated before the first group is formed (`TxManager::prime`), so
    /// what the collect stage journals meanwhile joins that group. An intent about the same
    /// subject (request, batch, game) as one in flight waits for it, so estimates never run ahead
    /// of the state an earlier transaction of ours is about to change. Returns how many succeeded
    /// and whether one waits behind a nonce gap.
    async fn submit(&self) -> Result<(usize, bool), KeeperError> {
        use futures::stream::StreamExt;
        use futures::FutureExt;

        let formed = std::time::Instant::now();
        let mut queue = self.round_queue()?;
        let form_ms = formed.elapsed().as_secs_f64() * 1e3;
        // Keys this round dispatched: never queued twice in one round (an intent pending again after
        // an error waits for the next round, as before).
        let mut taken: HashSet<String> = HashSet::new();
        let window = self.submit.max_in_flight.max(1);
        tracing::debug!(target: "verinfer_keeper::timeline", keeper = %self.name, queued = queue.len(), form_ms, "round");
        // One fee lookup for every transaction this round signs.
        let round = Round::default();
        // A call shape the gas cache does not know yet is estimated before the first group is
        // formed (with the round's fees and nonce read meanwhile): what the collect stage
        // journals during that round trip (a backlog's next chunks of answers) joins the first
        // group instead of waiting for it to be broadcast.
        if let Some(first) = queue.front().filter(|_| self.may_send()) {
            let primed = std::time::Instant::now();
            if self.tx.prime(&first.key, &round).await {
                tracing::debug!(target: "verinfer_keeper::timeline", keeper = %self.name, ms = primed.elapsed().as_secs_f64() * 1e3, "primed");
                queue = self.round_queue()?;
            }
        }
        let mut h = InHand::default();
        let mut dispatched = false;
        loop {
            // Fill the free places of the window as one group: one durable journal write for all
            // of its signed transactions, then their broadcasts at once.
            let mut group: Vec<Intent> = Vec::new();
            // Continuous refill: work journaled since the round began (the collect stage's next
            // chunk of answers) joins this round as soon as the queue has nothing left to send,
            // instead of waiting for the window to drain and a new round to start. Batches are
            // formed anew from it first; the queue is read afresh (its copies may be stale). Not
            // while a nonce repair or a reorg waits: those end the round first, as before.
            if !h.blocked
                && !self.repair.load(Ordering::SeqCst)
                && !self.reorged.load(Ordering::SeqCst)
                && h.in_flight() < window
                && h.rejected.is_empty()
                && !queue.iter().any(|i| !h.busy.contains(&Busy::of(i)))
                && self.fresh.swap(false, Ordering::SeqCst)
            {
                self.form_batches(|i| taken.contains(&i.key) || h.busy.contains(&Busy::of(i)))?;
                queue = self.queue_of(&taken)?;
            }
            // A replica that lost the sender lease meanwhile stops dispatching (what is in flight
            // settles); its open work waits for the lease or is done by the holder.
            let sending = self.may_send();
            let repairing =
                self.repair.load(Ordering::SeqCst) || self.reorged.load(Ordering::SeqCst);
            // What one group could take: one intent per subject not in flight.
            let ready = queue
                .iter()
                .map(Busy::of)
                .filter(|b| !h.busy.contains(b))
                .collect::<HashSet<_>>()
                .len();
            // A member refused for its nonce holds the refill back until it is signed anew.
            let fill = h.rejected.is_empty() && refill_now(window, h.in_flight(), ready);
            while fill && h.in_flight() + group.len() < window && !h.blocked && sending {
                let Some(at) = queue.iter().position(|i| !h.busy.contains(&Busy::of(i))) else {
                    break;
                };
                let Some(intent) = queue.remove(at) else {
                    break;
                };
                h.busy.insert(Busy::of(&intent));
                taken.insert(intent.key.clone());
                group.push(intent);
            }
            if !group.is_empty() {
                dispatched = true;
                self.metrics.tx_groups.inc();
                for intent in &group {
                    self.metrics.tx_started(&intent.key);
                }
                let keys: Vec<String> = group.iter().map(|i| i.key.clone()).collect();
                let started = std::time::Instant::now();
                // The settles in flight keep running while the group is signed and journaled: a
                // receipt that lands meanwhile is booked at once and its place is refilled by the
                // next group. The group's broadcast runs on after this.
                let launched = self
                    .booking(&mut h, self.tx.launch_group(&keys, &round))
                    .await?;
                tracing::debug!(target: "verinfer_keeper::timeline", keeper = %self.name, group = keys.len(), in_flight = h.in_flight(), queued = queue.len(), ms = started.elapsed().as_secs_f64() * 1e3, "dispatched");
                let n = launched.in_flight();
                h.airborne += n;
                h.landing.push(
                    async move {
                        let landed = self.tx.land_group(launched).await;
                        (group, n, landed)
                    }
                    .boxed(),
                );
            } else if !h.rejected.is_empty() && h.landing.is_empty() && sending && !repairing {
                // Every group launched before the refusal has landed: none holds a nonce the
                // resync could hand out again.
                let group = std::mem::take(&mut h.rejected);
                let keys: Vec<String> = group.iter().map(|i| i.key.clone()).collect();
                let results = self
                    .booking(&mut h, self.tx.redispatch(&keys, &round))
                    .await?;
                for (intent, r) in group.into_iter().zip(results) {
                    self.placed(&mut h, intent, r)?;
                }
            }
            if h.settling.is_empty() && h.landing.is_empty() {
                if h.rejected.is_empty() || !sending || repairing {
                    // (A refused member left here, the lease lost or a repair or a reorg waiting,
                    // is pending in the journal: the next round, after the repair, signs it.)
                    break;
                }
                continue;
            }
            // Wait for a settle or a landing; with room in the window and nothing left to send,
            // also for new work (a wake-up), which the next pass reads at once.
            // (Not while a nonce repair or a reorg waits, nor while a long queue waits for half the
            // window: the refill above would not run, and the wake-up, consumed here, would be lost
            // to the next round.)
            let room = fill
                && h.in_flight() < window
                && !h.blocked
                && sending
                && !self.repair.load(Ordering::SeqCst)
                && !self.reorged.load(Ordering::SeqCst);
            tokio::select! {
                Some((intent, r)) = h.settling.next(), if !h.settling.is_empty() => {
                    self.booked(&mut h, &intent, r)?;
                }
                Some((group, n, r)) = h.landing.next(), if !h.landing.is_empty() => {
                    self.landed(&mut h, group, n, r)?;
                }
                () = self.wake.notified(), if room => continue,
            }
            // Book every other settle and landing already finished, so the refill is one group.
            while let Some(Some((intent, r))) = h.settling.next().now_or_never() {
                self.booked(&mut h, &intent, r)?;
            }
            while let Some(Some((group, n, r))) = h.landing.next().now_or_never() {
                self.landed(&mut h, group, n, r)?;
            }
        }
        // Group commit of the round's outcomes (written deferred as receipts came in); a round
        // that dispatched nothing wrote nothing.
        if dispatched {
            self.store.sync()?;
        }
        Ok((h.ok, h.blocked))
    }

    /// Awaits `step` (a group's signing and journal write) while booking the settles that finish
    /// meanwhile.
    async fn booking<'a, T>(
        &'a self,
        h: &mut InHand<'a>,
        step: impl std::future::Future<Output = Result<T, TxError>>,
    ) -> Result<T, KeeperError> {
        use futures::stream::StreamExt;
        tokio::pin!(step);
        loop {
            tokio::select! {
                biased;
                r = &mut step => return Ok(r?),
                Some((intent, r)) = h.settling.next(), if !h.settling.is_empty() => {
                    self.booked(h, &intent, r)?;
                }
            }
        }
    }

    /// Books a settled transaction: its subject is free again, its outcome accounted.
    fn booked(
        &self,
        h: &mut InHand<'_>,
        intent: &Intent,
        r: Result<Executed, TxError>,
    ) -> Result<(), KeeperError> {
        h.busy.remove(&Busy::of(intent));
        (h.ok, h.blocked) = self.account(intent, r, h.ok, h.blocked)?;
        Ok(())
    }

    /// Takes a dispatch's result: a transaction in flight is settled concurrently, anything else is
    /// booked now.
    fn placed<'a>(
        &'a self,
        h: &mut InHand<'a>,
        intent: Intent,
        r: Result<Dispatch, TxError>,
    ) -> Result<(), KeeperError> {
        use futures::FutureExt;
        match r {
            Ok(Dispatch::InFlight(f)) => h.settling.push(
                async move {
                    let r = self.tx.settle(f).await;
                    (intent, r)
                }
                .boxed(),
            ),
            Ok(Dispatch::Done(done)) => self.booked(h, &intent, Ok(done))?,
            Err(e) => self.booked(h, &intent, Err(e))?,
        }
        Ok(())
    }

    /// Takes a launched group's landing (`n` of its transactions were broadcasting): each member
    /// is placed, or, refused for its nonce, kept for [`TxManager::redispatch`].
    fn landed<'a>(
        &'a self,
        h: &mut InHand<'a>,
        group: Vec<Intent>,
        n: usize,
        landed: Result<Vec<Landed>, TxError>,
    ) -> Result<(), KeeperError> {
        h.airborne = h.airborne.saturating_sub(n);
        for (intent, l) in group.into_iter().zip(landed?) {
            match l {
                Landed::Settled(r) => self.placed(h, intent, r)?,
                Landed::NonceRejected => h.rejected.push(intent),
            }
        }
        Ok(())
    }

    /// Books the outcome of one intent's transaction (the transaction manager wrote it, a landed
    /// batch's members with it): metrics, members handed back, logs. Returns the
    /// updated (succeeded, blocked-by-a-gap) counts, or the error that ends the round.
    fn account(
        &self,
        intent: &Intent,
        result: Result<Executed, TxError>,
        mut ok: usize,
        mut blocked: bool,
    ) -> Result<(usize, bool), KeeperError> {
        let waited = if matches!(
            result,
            Err(TxError::Stuck { .. }
                | TxError::NonceGap { .. }
                | TxError::Rpc { .. }
                | TxError::Replan { .. })
        ) {
            None
        } else {
            self.metrics.tx_finished(&intent.key)
        };
        let batch = !intent.members.is_empty();
        match result {
            Ok(done) => {
                ok += 1;
                self.metrics.txs_included.inc();
                self.metrics.gas_used.inc_by(done.gas_used);
                if let Some(waited) = waited {
                    self.metrics
                        .record_submission(intent.kind.as_str(), batch, waited);
                }
                match intent.kind {
                    IntentKind::Attest => {
                        self.metrics
                            .attestations_submitted
                            .inc_by(intent.members.len().max(1) as u64);
                        if let Some(id) = intent.subject.filter(|_| !batch) {
                            self.metrics.request_included(&id.to_string(), false);
                        }
                        // The members were booked done with the batch's outcome, in its write
                        // (the transaction manager); those it carried count as included now.
                        let by_batch = |m: &Intent| m.done_by(done.tx_hash);
                        for m in self.store.members_where(intent, by_batch)? {
                            if let Some(id) = m.subject {
                                self.metrics.request_included(&id.to_string(), true);
                            }
                        }
                    }
                    IntentKind::Finalize => {
                        self.metrics.finalized.inc();
                    }
                    IntentKind::ReportMissed => {
                        self.metrics.missed_reported.inc();
                    }
                    IntentKind::Equivocation => {
                        self.metrics.equivocation_reports.inc();
                    }
                    IntentKind::Challenge => {
                        self.metrics.challenges.inc();
                    }
                    IntentKind::CommitBatch
                    | IntentKind::DeliverOutput
                    | IntentKind::RefereeMove
                    | IntentKind::JuryDraw
                    | IntentKind::JurySettle
                    | IntentKind::Call => {}
                }
                tracing::info!(keeper = %self.name, key = %intent.key, gas = done.gas_used, tx = %done.tx_hash, "included");
            }
            Err(TxError::Reverted { key, reason }) if jury::already_done(intent.kind, &reason) => {
                // Another keeper made this jury call first: done, not a fault.
                self.done_by_someone_else(intent)?;
                ok += 1;
                tracing::info!(keeper = %self.name, %key, %reason, "jury call already done by someone else");
            }
            Err(TxError::Reverted { key, reason })
                if answer::already_answered(intent.kind, &reason) =>
            {
                // The registry holds this operator's answer already (the previous holder of the
                // sender lease, or an earlier send of ours): not a fault. Refused at estimation
                // after a takeover (open work is estimated afresh), so nothing was spent.
                if intent.members.is_empty() {
                    self.done_by_someone_else(intent)?;
                    ok += 1;
                } else {
                    // Some members may not be answered yet: each is retried alone.
                    self.estimate_members_afresh(intent);
                }
                tracing::info!(keeper = %self.name, %key, %reason, "already answered on chain; not resent");
            }
            Err(TxError::Reverted { key, reason }) => {
                self.metrics.txs_failed.inc();
                // The reason is the decoded custom error with its arguments and a hint
                // (txmgr::reverted), e.g. InferenceRegistry::InvalidSignature(operator = ..).
                tracing::warn!(keeper = %self.name, %key, %reason, "action no longer possible; abandoned");
                // A failed batch: its members are retried one by one.
                self.estimate_members_afresh(intent);
            }
            Err(e @ TxError::Withheld { .. }) => {
                // Lost the sender lease while it waited: the holder's transaction at that nonce
                // settles it, or this replica's nonce repair once it holds the lease again.
                tracing::info!(keeper = %self.name, error = %e, "standing by");
            }
            Err(e @ TxError::Stuck { .. }) => {
                tracing::warn!(keeper = %self.name, error = %e, "stuck; will retry next round");
                self.repair.store(true, Ordering::SeqCst);
            }
            Err(e @ TxError::InsufficientFunds { .. }) => {
                // Reported at the first refused broadcast (no fee bumps); the intent stays pending
                // and goes out once the hot key is funded.
                tracing::warn!(keeper = %self.name, error = %e, "hot key cannot pay for gas; intent left pending until it is funded");
            }
            Err(e @ TxError::Replan { .. }) => {
                // Pending again; the next round estimates its gas afresh.
                tracing::warn!(keeper = %self.name, error = %e, "re-planned");
            }
            Err(e @ TxError::NonceGap { .. }) => {
                // Everything sent after it would wait behind the same gap: repair first (the
                // transactions in flight settle; nothing new is dispatched this round).
                tracing::warn!(keeper = %self.name, error = %e, "nonce gap; repairing before sending more");
                self.repair.store(true, Ordering::SeqCst);
                blocked = true;
            }
            Err(e) => return Err(e.into()),
        }
        Ok((ok, blocked))
    }

    /// Books `intent` as done with no transaction of ours (someone else's made it moot). Never a
    /// batch: its members would be left carried by a batch that ended (a batch already answered is
    /// handed back member by member, `TxManager::with_members_alone`).
    fn done_by_someone_else(&self, intent: &Intent) -> Result<(), KeeperError> {
        debug_assert!(
            intent.members.is_empty(),
            "a batch is never done by someone else"
        );
        self.tx.take_estimate_afresh(&intent.key);
        let mut done = intent.clone();
        done.status = IntentStatus::Done {
            tx_hash: None,
            gas_used: None,
        };
        self.store.put_intent(&done)?;
        Ok(())
    }

    /// Marks the members of the batch `intent`, which failed, to be estimated afresh when each is
    /// sent alone (one of them may be the one that made the batch fail, or already answered). The
    /// transaction manager handed them back in the write that abandoned the batch
    /// (`TxManager::with_members_alone`).
    fn estimate_members_afresh(&self, intent: &Intent) {
        self.tx.estimate_afresh(intent.members.iter().cloned());
    }
}

mod url_error {
    /// The URL parse error type used by alloy's HTTP transport.
    pub type E = <alloy::transports::http::reqwest::Url as std::str::FromStr>::Err;
}

#[cfg(test)]
mod tests {
    use super::{acts_on, next_poll_at, refill_now};
    use crate::registry::InferenceRegistry::{self, InferenceRegistryEvents as Ev};
    use alloy::primitives::{Address, B256, U256};
    use std::time::Duration;

    /// Polls keep their cadence: the next poll is due an interval after the last one started,
    /// however long that poll took within it (before: an interval after it ended), and at once
    /// after a poll slower than the interval.
    #[test]
    fn the_next_poll_is_due_an_interval_after_the_last_one_started() {
        let started = tokio::time::Instant::now();
        let interval = Duration::from_millis(100);
        let ended = started + Duration::from_millis(80);
        assert_eq!(next_poll_at(started, interval, ended), started + interval);
        let slow = started + Duration::from_millis(130);
        assert_eq!(next_poll_at(started, interval, slow), slow, "at once");
    }

    /// With several operators per request, their assignments interleave with ours in a range: they
    /// must not cut the collect stage's chunk of answers (before, each one finished the answers at
    /// hand, so a backlog of k >= 2 was journaled and sent an answer or two at a time).
    #[test]
    fn only_logs_a_duty_acts_on_cut_the_chunk_of_answers() {
        let (me, other) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let assigned = |operator| {
            Ev::OperatorAssigned(InferenceRegistry::OperatorAssigned {
                requestId: U256::from(7),
                operator,
                index: U256::ZERO,
            })
        };
        let recorded = |operator| {
            Ev::AnswerRecorded(InferenceRegistry::AnswerRecorded {
                requestId: U256::from(7),
                operator,
                outputHash: B256::ZERO,
            })
        };
        assert!(acts_on(me, false, &assigned(me)));
        assert!(
            !acts_on(me, true, &assigned(other)),
            "another operator's assignment"
        );
        assert!(
            !acts_on(me, false, &recorded(other)),
            "not watching: nothing to check"
        );
        assert!(acts_on(me, true, &recorded(other)), "a watcher checks it");
        assert!(!acts_on(me, true, &recorded(me)), "our own answer");
        let quorum = Ev::QuorumReached(InferenceRegistry::QuorumReached {
            requestId: U256::from(7),
            outputHash: B256::ZERO,
            windowEnd: alloy::primitives::Uint::from(1u64),
        });
        assert!(acts_on(me, false, &quorum));
    }

    #[test]
    fn an_empty_window_and_a_short_queue_are_sent_at_once() {
        // nothing in flight: whatever is ready goes
        assert!(refill_now(16, 0, 1));
        assert!(refill_now(16, 0, 500));
        // fewer ready than half the window: no waiting for a group
        for in_flight in 1..16 {
            assert!(refill_now(16, in_flight, 7), "{in_flight} in flight");
        }
        // a window of one is refilled as soon as its place is free
        assert!(refill_now(1, 0, 100));
    }

    #[test]
    fn a_long_queue_waits_for_half_the_window_to_be_free() {
        for in_flight in 9..16 {
            assert!(!refill_now(16, in_flight, 8), "{in_flight} in flight");
            assert!(!refill_now(16, in_flight, 500), "{in_flight} in flight");
        }
        for in_flight in 1..=8 {
            assert!(refill_now(16, in_flight, 500), "{in_flight} in flight");
        }
        // an odd window: half rounds up
        assert!(!refill_now(5, 3, 10));
        assert!(refill_now(5, 2, 10));
        assert!(refill_now(2, 1, 10));
    }
}
