//! `verinfer bench sim`: the simulator's protocol mix in revm and over JSON-RPC (see
//! [`verinfer_sim::throughput`]).
//!
//! `verinfer bench keeper`: end-to-end attestation throughput, gas and request -> inclusion latency
//! against a private anvil, for each submission mode side by side in one run.
//!
//! Setup: the pinned anvil (automine), the suite deployed by the deploy plan, one operator (hot key =
//! anvil key 2) serving the built-in model with `k = q = 1`, so every request is one attestation by
//! one keeper. Modes:
//!
//! - (a) `single`: a real [`Keeper`] with `submit.mode = "single"` (one `submitAttestation` per
//!   attestation) — the baseline.
//! - (b) `batch`: the same keeper with `submit.mode = "batch"` (`submitAttestations` of up to
//!   `--batch`).
//! - (c) `merkle`: `commitBatchFor` of a Merkle root over the results, then one `revealBatchResult` per
//!   request. The keeper has no Merkle submission mode, so this row is driven here with the keeper's
//!   own [`TxManager`], [`merkle`](verinfer_keeper::merkle) module and model; it has no live-traffic
//!   latency.
//!
//! Two phases per mode: *drain* (N requests queued first, then the keeper started; attestations/s
//! from keeper start to the last inclusion, gas per attestation from the receipts) and *live* (the
//! keeper running while a client sends requests back to back; latency from the request's inclusion
//! to the inclusion of its answer, as seen by a log watcher polling every 10 ms).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, TxHash, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use tokio::sync::watch;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_deploy::plan::DeployParams;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::merkle::{leaf, MerkleTree};
use verinfer_keeper::mlp::IntMlp;
use verinfer_keeper::registry::{ModelParams, VerificationMode};
use verinfer_keeper::store::Store;
use verinfer_keeper::txmgr::{TxConfig, TxManager};

use crate::chain::{session_with, Session};
use crate::devnet::{anvil_bin, Anvil, ANVIL_KEYS};

/// `verinfer bench ...`.
#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Attestations/s, gas per attestation and request -> inclusion latency (median, p99) of the
    /// keeper against a private anvil: one tx per attestation vs `submitAttestations` batches vs a
    /// Merkle commit with reveals, side by side with ratios against the single-tx baseline.
    ///
    /// Example: verinfer bench keeper --requests 256 --batch 32 --json reports/bench-keeper.json
    Keeper(KeeperBenchArgs),
    /// Throughput of the same protocol transaction mix in revm (in-process) and over JSON-RPC to a
    /// fresh local anvil, side by side with the ratio; then in-process cost growth with stakers.
    ///
    /// Example: verinfer bench sim --stakers 200 --growth 100,1000,10000 --json reports/bench-sim.json
    Sim(SimBenchArgs),
}

/// Where a benchmark finds anvil and writes its JSON (shared by every `bench` subcommand).
#[derive(Args, Debug)]
pub struct BenchEnv {
    /// Repository root (for the pinned anvil); default $VERINFER_ROOT or `.`.
    #[arg(long, env = "VERINFER_ROOT")]
    pub root: Option<PathBuf>,
    /// anvil binary (default: <root>/.toolchain/anvil, then `anvil` on PATH).
    #[arg(long)]
    pub anvil: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl BenchEnv {
    /// The anvil binary to start.
    fn anvil_bin(&self) -> PathBuf {
        let root = self.root.clone().unwrap_or_else(|| PathBuf::from("."));
        anvil_bin(&root, self.anvil.as_deref())
    }
}

/// Arguments of `verinfer bench sim`.
#[derive(Args, Debug)]
pub struct SimBenchArgs {
    /// Stakers in the compared mix.
    #[arg(long, default_value_t = 200)]
    pub stakers: usize,
    /// Staker counts for the in-process growth table (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    pub growth: Vec<usize>,
    #[command(flatten)]
    pub out: BenchEnv,
}

/// Arguments of `verinfer bench keeper`.
#[derive(Args, Debug)]
pub struct KeeperBenchArgs {
    /// Requests per mode in the drain phase (queued, then answered as fast as the keeper can).
    #[arg(long, default_value_t = 256)]
    pub requests: usize,
    /// Requests per mode in the live phase (sent back to back while the keeper runs).
    #[arg(long, default_value_t = 100)]
    pub live_requests: usize,
    /// Attestations per `submitAttestations` call in batch mode (2..=64).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Keeper log poll interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Receipt poll interval in milliseconds (`submit.receipt_poll_ms`; 250 is the keeper default).
    #[arg(long, default_value_t = 250)]
    pub receipt_poll_ms: u64,
    #[command(flatten)]
    pub out: BenchEnv,
}

/// Runs a `bench` subcommand.
pub async fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Keeper(a) => keeper(a).await,
        BenchCmd::Sim(a) => sim(a).await,
    }
}

/// `verinfer bench sim`: the revm / JSON-RPC comparison, then the growth table.
async fn sim(a: SimBenchArgs) -> Result<()> {
    use verinfer_sim::throughput::{compare, run_in_process};
    if a.stakers == 0 {
        bail!("--stakers must be at least 1");
    }
    let anvil = a.out.anvil_bin();
    let c = compare(&anvil, a.stakers)
        .await
        .with_context(|| format!("comparing revm with JSON-RPC (anvil: {})", anvil.display()))?;
    let mut rows = Vec::new();
    for n in a.growth.iter().copied().filter(|n| *n > 0) {
        rows.push(tokio::task::spawn_blocking(move || run_in_process(n)).await??);
    }
    println!(
        "same mix, {} transactions ({} stakers):",
        c.revm.transactions, a.stakers
    );
    println!("  revm in-process      {:>10.0} tx/s", c.revm.tx_per_sec);
    println!("  JSON-RPC to anvil    {:>10.0} tx/s", c.rpc.tx_per_sec);
    println!("  ratio                {:>10.1}x (goal >= 100x)", c.ratio);
    if !rows.is_empty() {
        println!("in-process growth:");
        for r in &rows {
            println!(
                "  {:>6} stakers {:>7} txs {:>8.0} tx/s {:>8.0} gas/tx",
                r.stakers, r.transactions, r.tx_per_sec, r.gas_per_tx
            );
        }
    }
    if let Some(path) = a.out.json {
        let v = serde_json::json!({ "comparison": c, "growth": rows });
        std::fs::write(&path, serde_json::to_string_pretty(&v)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// One row of the result table.
#[derive(Debug, Serialize, Clone)]
struct ModeResult {
    mode: String,
    attestations: usize,
    txs: usize,
    drain_secs: f64,
    attestations_per_sec: f64,
    gas_per_attestation: f64,
    live_requests: usize,
    live_latency_ms_median: Option<f64>,
    live_latency_ms_p99: Option<f64>,
    live_requests_per_sec: Option<f64>,
}

/// The chain the bench runs on.
struct Bench {
    url: String,
    provider: RootProvider,
    client: Session,
    hot: HotKey,
    operator: Address,
    registry: Address,
    model: IntMlp,
    poll_ms: u64,
    submit: SubmitConfig,
    data_root: PathBuf,
    runs: usize,
}

/// How the attestations of one run are submitted.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Keeper(SubmitMode, usize),
    Merkle,
}

async fn keeper(a: KeeperBenchArgs) -> Result<()> {
    if a.requests < 2 {
        bail!("--requests must be at least 2, got {}", a.requests);
    }
    if a.live_requests < 2 {
        bail!(
            "--live-requests must be at least 2, got {}",
            a.live_requests
        );
    }
    if !(2..=64).contains(&a.batch) {
        bail!("--batch must be in 2..=64, got {}", a.batch);
    }
    if a.poll_ms == 0 || a.receipt_poll_ms == 0 {
        bail!("--poll-ms and --receipt-poll-ms must be positive");
    }
    let bin = a.out.anvil_bin();
    eprintln!("==> starting anvil ({})", bin.display());
    let anvil = Anvil::start(&bin, &[]).await?;
    let data_root =
        std::env::temp_dir().join(format!("verinfer-bench-keeper-{}", std::process::id()));
    let result = measure(&a, &anvil.url, data_root.clone()).await;
    anvil.stop().await;
    let _ = std::fs::remove_dir_all(&data_root);
    let rows = result?;
    print_table(&a, &rows);
    if let Some(p) = &a.out.json {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, serde_json::to_string_pretty(&rows)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("results written to {}", p.display());
    }
    Ok(())
}

async fn measure(a: &KeeperBenchArgs, url: &str, data_root: PathBuf) -> Result<Vec<ModeResult>> {
    let submit = SubmitConfig {
        receipt_poll_ms: a.receipt_poll_ms,
        ..SubmitConfig::default()
    };
    let mut b = setup(url, a.poll_ms, submit, data_root).await?;
    let modes = [
        (
            "(a) single submitAttestation".to_string(),
            Mode::Keeper(SubmitMode::Single, 1),
        ),
        (
            format!("(b) submitAttestations x{}", a.batch),
            Mode::Keeper(SubmitMode::Batch, a.batch),
        ),
        ("(c) merkle commit + reveals".to_string(), Mode::Merkle),
    ];
    let mut rows = Vec::new();
    for (name, mode) in modes {
        eprintln!("==> {name}: drain of {} requests", a.requests);
        let (drain_secs, txs, gas) = drain(&mut b, mode, a.requests).await?;
        let (p50, p99, rps) = match mode {
            Mode::Keeper(..) => {
                eprintln!("==> {name}: live traffic of {} requests", a.live_requests);
                let (p50, p99, rps) = live(&mut b, mode, a.live_requests).await?;
                (Some(p50), Some(p99), Some(rps))
            }
            Mode::Merkle => (None, None, None),
        };
        rows.push(ModeResult {
            mode: name,
            attestations: a.requests,
            txs,
            drain_secs,
            attestations_per_sec: a.requests as f64 / drain_secs,
            gas_per_attestation: gas as f64 / a.requests as f64,
            live_requests: if p50.is_some() { a.live_requests } else { 0 },
            live_latency_ms_median: p50,
            live_latency_ms_p99: p99,
            live_requests_per_sec: rps,
        });
    }
    Ok(rows)
}

/// Deploys the suite, registers the `k = q = 1` model and one operator, funds the client.
async fn setup(url: &str, poll_ms: u64, submit: SubmitConfig, data_root: PathBuf) -> Result<Bench> {
    let deployer = session_with(url, HotKey::from_hex(ANVIL_KEYS[0], "anvil key 0")?).await?;
    eprintln!("==> deploying the suite");
    let (manifest, _) = deployer
        .deploy(&DeployParams::local(deployer.key.address()))
        .await?;
    let get = |n: &str| {
        manifest
            .contracts
            .get(n)
            .copied()
            .ok_or_else(|| anyhow!("the deployment plan has no {n}"))
    };
    let (token, staking, registry) = (
        get("VerinferToken")?,
        get("Staking")?,
        get("InferenceRegistry")?,
    );
    let model = IntMlp::default_model();
    let params = ModelParams {
        mode: u8::from(VerificationMode::Deterministic),
        k: 1,
        q: 1,
        challengeWindow: 600,
        minStake: U256::from(1_000u128 * TOKEN),
        challengeBond: U256::from(10u128 * TOKEN),
        minFee: U256::from(TOKEN / 100),
    };
    let owner = session_with(url, HotKey::from_hex(ANVIL_KEYS[1], "anvil key 1")?).await?;
    let client = session_with(url, HotKey::from_hex(ANVIL_KEYS[9], "anvil key 9")?).await?;
    let hot = HotKey::from_hex(ANVIL_KEYS[2], "anvil key 2")?;
    let stake = U256::from(10_000u128 * TOKEN);
    let steps: Vec<(&Session, &str, Address, Vec<u8>)> = vec![
        (
            &deployer,
            "registerModel",
            registry,
            InferenceRegistry::registerModelCall {
                weightsHash: model.weights_hash(),
                runtimeSpecHash: IntMlp::runtime_spec_hash(),
                params,
            }
            .abi_encode(),
        ),
        (
            &deployer,
            "fund-operator",
            token,
            VerinferToken::transferCall {
                to: owner.key.address(),
                value: stake,
            }
            .abi_encode(),
        ),
        (
            &deployer,
            "fund-client",
            token,
            VerinferToken::transferCall {
                to: client.key.address(),
                value: U256::from(1_000_000u128 * TOKEN),
            }
            .abi_encode(),
        ),
        (
            &owner,
            "approve-stake",
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: stake,
            }
            .abi_encode(),
        ),
        (
            &owner,
            "registerOperator",
            staking,
            Staking::registerOperatorCall {
                signer: hot.address(),
                selfStake: stake,
            }
            .abi_encode(),
        ),
        (
            &owner,
            "serveModel",
            registry,
            InferenceRegistry::serveModelCall {
                modelId: model.model_id(),
            }
            .abi_encode(),
        ),
        (
            &client,
            "approve-fees",
            token,
            VerinferToken::approveCall {
                spender: registry,
                value: U256::MAX,
            }
            .abi_encode(),
        ),
    ];
    for (s, label, to, data) in steps {
        s.call(label, to, data).await?;
    }
    Ok(Bench {
        url: url.to_string(),
        provider: deployer.provider.clone(),
        client,
        hot,
        operator: owner.key.address(),
        registry,
        model,
        poll_ms,
        submit,
        data_root,
        runs: 0,
    })
}

impl Bench {
    fn next_dir(&mut self, what: &str) -> PathBuf {
        self.runs += 1;
        self.data_root.join(format!("{}-{what}", self.runs))
    }

    /// Sends `n` requests back to back (each after the previous one's receipt); returns
    /// `(id, input, sent at)` of each. Ids are
    /// sequential because the client is the only requester.
    async fn requests(&self, n: usize, tag: &str) -> Result<Vec<(U256, Vec<u8>, Instant)>> {
        let reg = InferenceRegistry::new(self.registry, &self.provider);
        let first = reg.requestCount().call().await? + U256::from(1);
        let now = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .map(|b| b.header.timestamp)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let input = format!("bench {tag} request #{i}").into_bytes();
            let call = InferenceRegistry::requestInferenceCall {
                modelId: self.model.model_id(),
                inputHash: keccak256(&input),
                inputURI: inline_uri(&input),
                fee: U256::from(TOKEN / 100),
                deadline: alloy::primitives::Uint::from(now + 3_600),
            };
            let sent = Instant::now();
            self.client
                .call("requestInference", self.registry, call.abi_encode())
                .await?;
            out.push((first + U256::from(i), input, sent));
        }
        let count = reg.requestCount().call().await?;
        if count != first + U256::from(n - 1) {
            bail!("request ids are not sequential (another requester?): count {count}");
        }
        Ok(out)
    }

    /// Starts a keeper reading logs from `start_block`.
    async fn start_keeper(
        &mut self,
        submit: SubmitMode,
        max_batch: usize,
        start_block: u64,
    ) -> Result<RunningKeeper> {
        let cfg = KeeperConfig::from_raw(RawConfig {
            rpc_url: Some(self.url.clone()),
            registry: Some(format!("{:#x}", self.registry)),
            operator: Some(format!("{:#x}", self.operator)),
            data_dir: Some(self.next_dir("keeper")),
            poll_interval_ms: Some(self.poll_ms),
            start_block: Some(start_block),
            confirmations: Some(0),
            submit: SubmitConfig {
                mode: submit,
                max_batch,
                ..self.submit.clone()
            },
            ..RawConfig::default()
        })?;
        let keeper = Keeper::new(cfg, self.hot.clone(), "bench").await?;
        let (stop, stop_rx) = watch::channel(false);
        let handle = tokio::spawn(keeper.run(stop_rx));
        Ok(RunningKeeper { stop, handle })
    }

    /// Answers already-created requests with a Merkle commit and one reveal each, through the
    /// keeper's transaction manager.
    async fn merkle_answer(&mut self, reqs: &[(U256, Vec<u8>, Instant)]) -> Result<()> {
        let store = Arc::new(Store::open(&self.next_dir("merkle").join("txs.redb"))?);
        let chain_id = self.provider.get_chain_id().await?;
        let tx = TxManager::new(
            self.provider.clone(),
            &self.hot,
            chain_id,
            store,
            TxConfig {
                receipt_timeout: Duration::from_secs(self.submit.receipt_timeout_secs),
                poll_interval: Duration::from_millis(self.submit.receipt_poll_ms),
                ..TxConfig::default()
            },
        );
        let results: Vec<(U256, alloy::primitives::B256)> = reqs
            .iter()
            .map(|(id, input, _)| (*id, keccak256(self.model.infer(input))))
            .collect();
        let tree = MerkleTree::new(
            results
                .iter()
                .map(|(id, out)| leaf(self.operator, *id, *out))
                .collect(),
        )?;
        let commit = InferenceRegistry::commitBatchForCall {
            operator: self.operator,
            root: tree.root(),
            count: u32::try_from(results.len())?,
        };
        let done = tx
            .send(
                "commit",
                Some(self.registry),
                Bytes::from(commit.abi_encode()),
            )
            .await?;
        let receipt = tx
            .receipt_of(done.tx_hash)
            .await?
            .ok_or_else(|| anyhow!("commit receipt vanished"))?;
        let batch_id = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| {
                InferenceRegistry::BatchCommitted::decode_log_data(l.data())
                    .ok()
                    .map(|e| e.batchId)
            })
            .ok_or_else(|| anyhow!("no BatchCommitted event in {}", done.tx_hash))?;
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
}

struct RunningKeeper {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<Result<(), verinfer_keeper::keeper::KeeperError>>,
}

impl RunningKeeper {
    async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.handle.await??;
        Ok(())
    }
}

/// When each of `ids` was first seen answered (`AnswerRecorded`), and in which transaction; polls
/// `eth_getLogs` every 10 ms from `from_block` until all are seen or `timeout` passes.
async fn watch_answers(
    provider: RootProvider,
    registry: Address,
    from_block: u64,
    ids: HashSet<U256>,
    timeout: Duration,
) -> Result<HashMap<U256, (Instant, TxHash)>> {
    let deadline = Instant::now() + timeout;
    let mut seen = HashMap::new();
    let mut next = from_block;
    while seen.len() < ids.len() {
        if Instant::now() > deadline {
            bail!(
                "only {} of {} attestations included within {timeout:?}",
                seen.len(),
                ids.len()
            );
        }
        let head = provider.get_block_number().await?;
        if head >= next {
            let filter = Filter::new()
                .address(registry)
                .event_signature(InferenceRegistry::AnswerRecorded::SIGNATURE_HASH)
                .from_block(next)
                .to_block(head);
            let now = Instant::now();
            for l in provider.get_logs(&filter).await? {
                let Ok(e) = InferenceRegistry::AnswerRecorded::decode_log_data(l.data()) else {
                    continue;
                };
                if ids.contains(&e.requestId) {
                    seen.entry(e.requestId)
                        .or_insert((now, l.transaction_hash.unwrap_or_default()));
                }
            }
            next = head + 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(seen)
}

fn spawn_watcher(
    b: &Bench,
    from_block: u64,
    ids: HashSet<U256>,
) -> tokio::task::JoinHandle<Result<HashMap<U256, (Instant, TxHash)>>> {
    tokio::spawn(watch_answers(
        b.provider.clone(),
        b.registry,
        from_block,
        ids,
        Duration::from_secs(600),
    ))
}

/// Drain phase: queue `n` requests, then answer them; returns (seconds from start to the last
/// inclusion, transactions, total gas).
async fn drain(b: &mut Bench, mode: Mode, n: usize) -> Result<(f64, usize, u64)> {
    let start_block = b.provider.get_block_number().await?;
    let reqs = b.requests(n, &format!("drain-{}", b.runs)).await?;
    let watcher = spawn_watcher(b, start_block, reqs.iter().map(|r| r.0).collect());
    let t0 = Instant::now();
    match mode {
        Mode::Keeper(submit, max_batch) => {
            let k = b.start_keeper(submit, max_batch, start_block).await?;
            let seen = watcher.await??;
            k.stop().await?;
            summarize_drain(b, t0, &seen).await
        }
        Mode::Merkle => {
            b.merkle_answer(&reqs).await?;
            let seen = watcher.await??;
            let (secs, txs, gas) = summarize_drain(b, t0, &seen).await?;
            // the commit emits no AnswerRecorded: count it separately
            let commit_gas = commit_gas(b, start_block).await?;
            Ok((secs, txs + 1, gas + commit_gas))
        }
    }
}

async fn summarize_drain(
    b: &Bench,
    t0: Instant,
    seen: &HashMap<U256, (Instant, TxHash)>,
) -> Result<(f64, usize, u64)> {
    let end = seen.values().map(|(t, _)| *t).max().unwrap_or(t0);
    let txs: HashSet<TxHash> = seen.values().map(|(_, h)| *h).collect();
    let mut gas = 0u64;
    for h in &txs {
        let r = b
            .provider
            .get_transaction_receipt(*h)
            .await?
            .ok_or_else(|| anyhow!("no receipt for {h}"))?;
        gas += r.gas_used;
    }
    Ok((end.duration_since(t0).as_secs_f64(), txs.len(), gas))
}

async fn commit_gas(b: &Bench, from_block: u64) -> Result<u64> {
    let filter = Filter::new()
        .address(b.registry)
        .event_signature(InferenceRegistry::BatchCommitted::SIGNATURE_HASH)
        .from_block(from_block);
    let mut gas = 0;
    for l in b.provider.get_logs(&filter).await? {
        if let Some(h) = l.transaction_hash {
            if let Some(r) = b.provider.get_transaction_receipt(h).await? {
                gas += r.gas_used;
            }
        }
    }
    Ok(gas)
}

/// Live phase: a running keeper, `n` requests sent back to back; returns the median and p99 of
/// request sent -> answer included, in milliseconds, and the rate the requests went out at.
async fn live(b: &mut Bench, mode: Mode, n: usize) -> Result<(f64, f64, f64)> {
    let Mode::Keeper(submit, max_batch) = mode else {
        bail!("the live phase needs a keeper mode");
    };
    let start_block = b.provider.get_block_number().await?;
    let k = b.start_keeper(submit, max_batch, start_block).await?;
    let reg = InferenceRegistry::new(b.registry, &b.provider);
    let first = reg.requestCount().call().await? + U256::from(1);
    let ids = (0..n).map(|i| first + U256::from(i)).collect();
    let watcher = spawn_watcher(b, start_block, ids);
    let t0 = Instant::now();
    let reqs = b.requests(n, &format!("live-{}", b.runs)).await?;
    let rps = n as f64 / t0.elapsed().as_secs_f64();
    let seen = watcher.await??;
    k.stop().await?;
    let mut lat: Vec<f64> = reqs
        .iter()
        .filter_map(|(id, _, sent)| {
            seen.get(id)
                .map(|(t, _)| t.saturating_duration_since(*sent).as_secs_f64() * 1e3)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    Ok((percentile(&lat, 50), percentile(&lat, 99), rps))
}

/// Nearest-rank percentile of ascending `sorted` (0 when empty).
fn percentile(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn ratio(x: f64, base: f64) -> String {
    if base > 0.0 {
        format!("{:.2}x", x / base)
    } else {
        "-".into()
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "n/a".into())
}

fn print_table(a: &KeeperBenchArgs, rows: &[ModeResult]) {
    let Some(base) = rows.first().cloned() else {
        return;
    };
    println!(
        "\nkeeper end-to-end against anvil (automine): drain of {} requests per mode, live traffic of {} requests per mode, log poll {} ms, receipt poll {} ms",
        a.requests, a.live_requests, a.poll_ms, a.receipt_poll_ms
    );
    println!(
        "| mode | txs | att/s | vs (a) | gas/att | vs (a) | live req/s | live p50 ms | live p99 ms | p50 vs (a) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let p50_ratio = match (r.live_latency_ms_median, base.live_latency_ms_median) {
            (Some(x), Some(b)) => ratio(x, b),
            _ => "n/a".into(),
        };
        println!(
            "| {} | {} | {:.1} | {} | {:.0} | {} | {} | {} | {} | {} |",
            r.mode,
            r.txs,
            r.attestations_per_sec,
            ratio(r.attestations_per_sec, base.attestations_per_sec),
            r.gas_per_attestation,
            ratio(r.gas_per_attestation, base.gas_per_attestation),
            r.live_requests_per_sec
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "n/a".into()),
            opt_ms(r.live_latency_ms_median),
            opt_ms(r.live_latency_ms_p99),
            p50_ratio,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), 50.0);
        assert_eq!(percentile(&v, 99), 99.0);
        assert_eq!(percentile(&v[..10], 99), 10.0);
        assert_eq!(percentile(&[7.0], 50), 7.0);
        assert_eq!(percentile(&[], 50), 0.0);
    }
}
