//! `verinfer devnet`: the local end-to-end run. Starts the pinned anvil on a free loopback port,
//! deploys the suite, registers operators with a skewed stake distribution, runs keeper bots as tokio
//! tasks (one equivocating, one offline), drives inference traffic with live progress, warps time so
//! finalizers and reporters act, then runs one dispute decided by a quadratic vote (two assigned
//! operators collude on a wrong output, a challenge opens a DisputeGovernor vote, three delegators
//! vote, the ruling applies after the timelock delay and the colluders' WrongResult slashes execute
//! after the Slasher's veto window), then prints and saves a report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};
use verinfer_deploy::plan::DeployParams;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::Keeper;
use verinfer_keeper::mlp::IntMlp;
use verinfer_keeper::registry::{ModelParams, RequestStatus, VerificationMode};
use verinfer_keeper::store::{IntentKind, IntentStatus};

use crate::chain::{session_with, submit_request, Session};

/// Arguments of `verinfer devnet`.
#[derive(Args, Debug)]
pub struct DevnetArgs {
    /// Number of operators (3..=8).
    #[arg(long, default_value_t = 5)]
    pub operators: usize,
    /// Inference requests to drive.
    #[arg(long, default_value_t = 24)]
    pub requests: usize,
    /// Where reports go.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Repository root (deployments/ is written here); default $VERINFER_ROOT or `.`.
    #[arg(long, env = "VERINFER_ROOT")]
    pub root: Option<PathBuf>,
    /// anvil binary (default: <root>/.toolchain/anvil, then `anvil` on PATH).
    #[arg(long)]
    pub anvil: Option<PathBuf>,
    /// Extra arguments passed to anvil (repeatable), e.g. `--anvil-arg=--block-time --anvil-arg=1`.
    #[arg(long = "anvil-arg", allow_hyphen_values = true)]
    pub anvil_args: Vec<String>,
    /// Seconds allowed for the whole traffic phase.
    #[arg(long, default_value_t = 240)]
    pub timeout_secs: u64,
}

/// anvil's well-known development keys (mnemonic "test test ... junk").
pub(crate) const ANVIL_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcbf7c1f9b5f3",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// A running anvil child process (killed on drop).
pub struct Anvil {
    child: tokio::process::Child,
    /// HTTP endpoint.
    pub url: String,
    /// Port.
    pub port: u16,
}

impl Anvil {
    /// Starts `bin` on a free loopback port and waits until it answers.
    pub async fn start(bin: &Path, extra: &[&str]) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = tokio::process::Command::new(bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--chain-id",
                "31337",
                "--silent",
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start anvil at {}", bin.display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let provider =
            alloy::providers::RootProvider::<alloy::network::Ethereum>::new_http(url.parse()?);
        let deadline = Instant::now() + Duration::from_secs(20);
        while provider.get_chain_id().await.is_err() {
            if Instant::now() > deadline {
                bail!("anvil did not come up on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { child, url, port })
    }

    /// Stops anvil.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Finds the pinned anvil.
pub fn anvil_bin(root: &Path, explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let pinned = root.join(".toolchain/anvil");
    if pinned.exists() {
        pinned
    } else {
        PathBuf::from("anvil")
    }
}

#[derive(Debug, Serialize, Default)]
struct OperatorReport {
    name: String,
    owner: Address,
    signer: Address,
    behaviour: String,
    stake_before: String,
    stake_after: String,
    attestations: u64,
    assigned: u64,
    answered_on_chain: u64,
}

#[derive(Debug, Serialize, Default)]
struct SlashReport {
    operator: Address,
    kind: String,
    request: String,
    reporter: Address,
}

#[derive(Debug, Serialize, Default)]
struct Report {
    timestamp: u64,
    chain_id: u64,
    rpc_url: String,
    contracts: BTreeMap<String, Address>,
    model_id: B256,
    requests_sent: usize,
    requests_with_result: usize,
    requests_finalized: usize,
    gas_request_inference: u64,
    gas_per_attestation_single: Option<u64>,
    gas_per_attestation_batched: Option<f64>,
    batched_calls: u64,
    batched_attestations: u64,
    gas_finalize: Option<u64>,
    latency_ms_median: u64,
    latency_ms_p99: u64,
    operators: Vec<OperatorReport>,
    slashes: Vec<SlashReport>,
    dispute: String,
    /// Tokens taken by the executed `WrongResult` slashes of the quadratic-vote dispute.
    dispute_slashed: f64,
    gini_stake_before: f64,
    gini_stake_after: f64,
    nakamoto_before: usize,
    nakamoto_after: usize,
    /// Staking accounts whose voice was read from QuadraticVotes.
    voice_accounts: usize,
    /// Gini of their voice.
    gini_voice: f64,
    /// Nakamoto coefficient of their voice.
    nakamoto_voice: usize,
    /// Stale stake records re-recorded with `syncStake` after the slashes.
    stake_records_resynced: usize,
    /// Stale records found by a second pass (0 when the sync worked).
    stake_records_stale_after_sync: usize,
    wall_secs: f64,
    traffic_secs: f64,
    attestations_per_sec: f64,
    keeper_restarts: u64,
}

/// Formats a wei amount as whole tokens with two decimals.
pub(crate) fn tokens(v: U256) -> String {
    let whole = v / U256::from(TOKEN);
    let frac = (v % U256::from(TOKEN)) / U256::from(TOKEN / 100);
    format!("{whole}.{frac:0>2}")
}

fn to_f64(v: U256) -> f64 {
    let t: u128 = (v / U256::from(TOKEN / 1000))
        .try_into()
        .unwrap_or(u128::MAX);
    t as f64 / 1000.0
}

async fn rpc_raw(
    s: &Session,
    method: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value> {
    s.provider
        .raw_request::<_, serde_json::Value>(method.into(), params)
        .await
        .with_context(|| format!("{method} failed"))
}

/// Runs the devnet.
pub async fn run(a: DevnetArgs) -> Result<()> {
    let started = Instant::now();
    if !(3..=8).contains(&a.operators) {
        bail!("--operators must be in 3..=8, got {}", a.operators);
    }
    let root = a.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let bin = anvil_bin(&root, a.anvil.as_deref());
    println!("==> starting anvil ({})", bin.display());
    let extra: Vec<&str> = a.anvil_args.iter().map(String::as_str).collect();
    let anvil = Anvil::start(&bin, &extra).await?;
    println!("    anvil listening on {} (port {})", anvil.url, anvil.port);
    let result = drive(&a, &root, &anvil.url, started).await;
    anvil.stop().await;
    result
}

async fn drive(a: &DevnetArgs, root: &Path, url: &str, started: Instant) -> Result<()> {
    let deployer = session_with(url, HotKey::from_hex(ANVIL_KEYS[0], "anvil key 0")?).await?;
    let chain_id = deployer.chain_id;

    // ---------------------------------------------------------------- deploy
    println!("==> deploying the suite");
    let params = DeployParams::local(deployer.key.address());
    let (manifest, _gas) = deployer.deploy(&params).await.map_err(|e| {
        if format!("{e:#}").contains("CreateContractSizeLimit") {
            anyhow!("{e:#}\n  a contract exceeds the EIP-170 code size limit (24576 bytes); to run the devnet anyway pass --anvil-arg=--disable-code-size-limit")
        } else {
            e
        }
    })?;
    let c = &manifest.contracts;
    let get = |n: &str| {
        c.get(n)
            .copied()
            .ok_or_else(|| anyhow!("the deployment plan has no {n} yet"))
    };
    let token = get("VerinferToken")?;
    let staking = get("Staking")?;
    let registry = get("InferenceRegistry")?;
    let mpath = verinfer_deploy::manifest::Manifest::default_path(root, chain_id);
    if let Some(d) = mpath.parent() {
        std::fs::create_dir_all(d)?;
    }
    manifest.save(&mpath)?;
    for (n, addr) in c {
        println!("    {n:<22} {addr}");
    }

    // ---------------------------------------------------------------- model
    let model = IntMlp::default_model();
    let model_id = model.model_id();
    let window = 600u32;
    // registerModel re-checks the suite's timing invariants; say which one a window breaks up front.
    params
        .check_timing(window)
        .context("the devnet model's challenge window")?;
    let mparams = ModelParams {
        mode: u8::from(VerificationMode::Deterministic),
        k: 3,
        q: 2,
        challengeWindow: window,
        minStake: U256::from(1_000u128 * TOKEN),
        challengeBond: U256::from(10u128 * TOKEN),
        minFee: U256::from(TOKEN / 100),
    };
    deployer
        .call(
            "registerModel",
            registry,
            InferenceRegistry::registerModelCall {
                weightsHash: model.weights_hash(),
                runtimeSpecHash: IntMlp::runtime_spec_hash(),
                params: mparams,
            }
            .abi_encode(),
        )
        .await?;
    println!("==> registered built-in model {model_id}");

    // ---------------------------------------------------------------- operators (skewed stakes)
    let stakes: Vec<u64> = (0..a.operators)
        .map(|i| 64_000u64 >> i)
        .map(|s| s.max(2_000))
        .collect();
    let behaviours: Vec<Misbehaviour> = (0..a.operators)
        .map(|i| {
            if i == 1 {
                Misbehaviour::Equivocate
            } else {
                Misbehaviour::None
            }
        })
        .collect();
    let offline = a.operators - 1; // the smallest operator never starts its keeper
    let mut owners = Vec::new();
    let mut hots = Vec::new();
    for i in 0..a.operators {
        let owner = session_with(url, HotKey::from_hex(ANVIL_KEYS[1 + i], "anvil key")?).await?;
        let hot = HotKey::new(PrivateKeySigner::random());
        let amount = U256::from(stakes[i]) * U256::from(TOKEN);
        deployer
            .call(
                "fund",
                token,
                VerinferToken::transferCall {
                    to: owner.key.address(),
                    value: amount,
                }
                .abi_encode(),
            )
            .await?;
        // hot keys pay gas and (watchers) challenge bonds
        rpc_raw(
            &deployer,
            "anvil_setBalance",
            serde_json::json!([hot.address(), "0x3635C9ADC5DEA00000"]),
        )
        .await?;
        deployer
            .call(
                "fund-bond",
                token,
                VerinferToken::transferCall {
                    to: hot.address(),
                    value: U256::from(100u128 * TOKEN),
                }
                .abi_encode(),
            )
            .await?;
        owner.approve(token, staking, amount).await?;
        owner
            .call(
                "registerOperator",
                staking,
                Staking::registerOperatorCall {
                    signer: hot.address(),
                    selfStake: amount,
                }
                .abi_encode(),
            )
            .await?;
        owner
            .call(
                "serveModel",
                registry,
                InferenceRegistry::serveModelCall { modelId: model_id }.abi_encode(),
            )
            .await?;
        println!(
            "    operator {i}: owner {} signer {} stake {:>6} {}",
            owner.key.address(),
            hot.address(),
            stakes[i],
            match (i == offline, behaviours[i]) {
                (true, _) => "(offline: will miss assignments)",
                (_, Misbehaviour::Equivocate) => "(misbehaving: equivocates)",
                _ => "",
            }
        );
        owners.push(owner);
        hots.push(hot);
    }
    // hot keys approve the registry for challenge bonds
    for hot in &hots {
        let s = session_with(url, hot.clone()).await?;
        s.approve(token, registry, U256::MAX).await?;
    }
    let staking_c = Staking::new(staking, &deployer.provider);
    let mut stake_before = Vec::new();
    for o in &owners {
        stake_before.push(staking_c.operatorStake(o.key.address()).call().await?);
    }

    // ---------------------------------------------------------------- keepers
    let start_block = deployer.provider.get_block_number().await?;
    let data_root = std::env::temp_dir().join(format!("verinfer-devnet-{}", std::process::id()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (gossip, _keep) = broadcast::channel(4096);
    let mut handles = Vec::new();
    let mut stores = Vec::new();
    let make_cfg = |i: usize| {
        KeeperConfig::from_raw(RawConfig {
            rpc_url: Some(url.to_string()),
            registry: Some(format!("{registry:#x}")),
            operator: Some(format!("{:#x}", owners[i].key.address())),
            data_dir: Some(data_root.join(format!("keeper-{i}"))),
            poll_interval_ms: Some(150),
            start_block: Some(start_block),
            submit: SubmitConfig {
                mode: if i == 0 {
                    SubmitMode::Single
                } else {
                    SubmitMode::Batch
                },
                receipt_timeout_secs: 10,
                ..SubmitConfig::default()
            },
            misbehave: behaviours[i],
            ..RawConfig::default()
        })
    };
    for (i, hot) in hots.iter().enumerate() {
        if i == offline {
            continue;
        }
        let keeper = Keeper::new(make_cfg(i)?, hot.clone(), &format!("op{i}"))
            .await?
            .with_gossip(&gossip);
        stores.push((i, data_root.join(format!("keeper-{i}")).join("keeper.redb")));
        handles.push((i, tokio::spawn(keeper.run(stop_rx.clone()))));
    }
    // the keeper that gets killed (-9 style: its task is dropped mid-flight) and restarted mid-traffic
    let chaos = 2usize;
    println!(
        "==> {} keepers running (1 offline); op{chaos} will be killed and restarted mid-traffic",
        handles.len()
    );

    // ---------------------------------------------------------------- traffic
    let client = session_with(url, HotKey::from_hex(ANVIL_KEYS[9], "anvil key 9")?).await?;
    let total_fee = U256::from(a.requests as u64) * U256::from(TOKEN);
    deployer
        .call(
            "fund-client",
            token,
            VerinferToken::transferCall {
                to: client.key.address(),
                value: total_fee,
            }
            .abi_encode(),
        )
        .await?;
    let reg = InferenceRegistry::new(registry, &client.provider);
    let mut sent = Vec::new();
    let mut gas_request = 0;
    let mut restarts = 0;
    let traffic_started = Instant::now();
    println!("==> driving {} requests", a.requests);
    for n in 0..a.requests {
        let input = format!("devnet input #{n}: the quick brown fox");
        let (id, r) = submit_request(
            &client,
            token,
            registry,
            model_id,
            input.as_bytes(),
            U256::from(TOKEN),
            300,
        )
        .await?;
        gas_request = r.gas_used;
        sent.push((id, Instant::now()));
        progress(&reg, &sent, n + 1, a.requests).await;
        if n + 1 == a.requests / 2 {
            if let Some(pos) = handles.iter().position(|(i, _)| *i == chaos) {
                let (_, h) = handles.remove(pos);
                h.abort();
                let _ = h.await;
                let keeper =
                    Keeper::new(make_cfg(chaos)?, hots[chaos].clone(), &format!("op{chaos}"))
                        .await?
                        .with_gossip(&gossip);
                handles.push((chaos, tokio::spawn(keeper.run(stop_rx.clone()))));
                restarts += 1;
            }
        }
    }
    let traffic_secs = traffic_started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(a.timeout_secs);
    let mut latencies = Vec::new();
    let mut done = std::collections::HashSet::new();
    loop {
        for (id, t0) in &sent {
            if done.contains(id) {
                continue;
            }
            let v = reg.request(*id).call().await?;
            use RequestStatus as S;
            if matches!(
                RequestStatus::of(v.status),
                Some(S::Quorum | S::Finalized | S::Disputed)
            ) {
                done.insert(*id);
                latencies.push(t0.elapsed().as_millis() as u64);
            }
        }
        progress(&reg, &sent, a.requests, a.requests).await;
        if done.len() == sent.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    println!();
    // let equivocation reports land
    tokio::time::sleep(Duration::from_secs(2)).await;

    // ---------------------------------------------------------------- time warp: deadlines + windows
    println!("==> warping time past deadlines and challenge windows (finalizers + missed reports)");
    rpc_raw(
        &deployer,
        "evm_increaseTime",
        serde_json::json!([window as u64 + 400]),
    )
    .await?;
    rpc_raw(&deployer, "evm_mine", serde_json::json!([])).await?;
    let fin_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut finalized = 0;
        for (id, _) in &sent {
            if matches!(
                RequestStatus::of(reg.request(*id).call().await?.status),
                Some(RequestStatus::Finalized | RequestStatus::Expired)
            ) {
                finalized += 1;
            }
        }
        print!("\r    finalized {finalized}/{}", sent.len());
        let _ = std::io::stdout().flush();
        if finalized == sent.len() || Instant::now() > fin_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // ---------------------------------------------------------------- stop keepers
    let _ = stop_tx.send(true);
    for (_, h) in handles {
        let _ = tokio::time::timeout(Duration::from_secs(30), h).await;
    }
    let results_secs = traffic_started.elapsed().as_secs_f64();
    println!("==> keepers stopped cleanly");

    // ---------------------------------------------------------------- dispute by quadratic vote
    println!(
        "==> dispute: two assigned operators collude on a wrong output; delegators vote it down"
    );
    let (dispute_summary, dispute_slashed) =
        quadratic_dispute(&deployer, url, &manifest, model_id, &hots, &owners)
            .await
            .context("quadratic dispute phase")?;
    println!("    {dispute_summary}");

    // ---------------------------------------------------------------- stake records and voice
    // Slashes leave delegators' recorded stake (their governance voice) stale until someone calls
    // the permissionless `syncStake`; do it for every operator, then read voice from QuadraticVotes.
    let votes = get("QuadraticVotes")?;
    let ops: Vec<Address> = owners.iter().map(|o| o.key.address()).collect();
    let (mut stake_accounts, resynced) = sync_all(&deployer, staking, &ops, manifest.block, false)
        .await
        .context("syncStake after the slashes")?;
    let (_, stale_after) = sync_all(&deployer, staking, &ops, manifest.block, true).await?;
    stake_accounts.sort();
    stake_accounts.dedup();
    let qv = verinfer_bindings::QuadraticVotes::new(votes, &deployer.provider);
    let mut voice = Vec::with_capacity(stake_accounts.len());
    for a in &stake_accounts {
        voice.push(qv.getVotes(*a).call().await?.saturating_to::<u128>() as f64);
    }
    println!(
        "==> syncStake: {resynced} stale stake records re-recorded; voice read from QuadraticVotes for {} accounts",
        stake_accounts.len()
    );

    // ---------------------------------------------------------------- report
    let mut rep = Report {
        chain_id,
        rpc_url: url.to_string(),
        contracts: c.clone(),
        model_id,
        requests_sent: sent.len(),
        requests_with_result: done.len(),
        gas_request_inference: gas_request,
        ..Report::default()
    };
    rep.timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    for (id, _) in &sent {
        if RequestStatus::of(reg.request(*id).call().await?.status)
            == Some(RequestStatus::Finalized)
        {
            rep.requests_finalized += 1;
        }
    }
    latencies.sort_unstable();
    if !latencies.is_empty() {
        rep.latency_ms_median = latencies[latencies.len() / 2];
        rep.latency_ms_p99 = latencies[((latencies.len() * 99).div_ceil(100))
            .saturating_sub(1)
            .min(latencies.len() - 1)];
    }
    let mut single = Vec::new();
    let mut batched_gas = 0u64;
    let mut per_op_atts: BTreeMap<usize, u64> = BTreeMap::new();
    for (i, path) in &stores {
        let store = verinfer_keeper::store::Store::open(path)?;
        for intent in store.intents()? {
            if let IntentStatus::Done {
                gas_used: Some(g),
                tx_hash: Some(_),
            } = intent.status
            {
                match intent.kind {
                    IntentKind::Attest if intent.members.is_empty() => {
                        single.push(g);
                        *per_op_atts.entry(*i).or_default() += 1;
                    }
                    IntentKind::Attest => {
                        rep.batched_calls += 1;
                        rep.batched_attestations += intent.members.len() as u64;
                        batched_gas += g;
                        *per_op_atts.entry(*i).or_default() += intent.members.len() as u64;
                    }
                    IntentKind::Finalize => rep.gas_finalize = Some(g),
                    _ => {}
                }
            }
        }
    }
    single.sort_unstable();
    rep.gas_per_attestation_single = single.get(single.len() / 2).copied();
    if rep.batched_attestations > 0 {
        rep.gas_per_attestation_batched =
            Some(batched_gas as f64 / rep.batched_attestations as f64);
    }
    // slashes from registry events
    let logs = deployer
        .provider
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(registry)
                .from_block(start_block),
        )
        .await?;
    for l in &logs {
        if let Ok(e) = InferenceRegistry::EquivocationReported::decode_log_data(l.data()) {
            rep.slashes.push(SlashReport {
                operator: e.operator,
                kind: "equivocation (two signed outputs for one request)".into(),
                request: e.requestId.to_string(),
                reporter: e.reporter,
            });
        } else if let Ok(e) = InferenceRegistry::MissedReported::decode_log_data(l.data()) {
            rep.slashes.push(SlashReport {
                operator: e.operator,
                kind: "missed assignment (no answer by the deadline)".into(),
                request: e.requestId.to_string(),
                reporter: e.reporter,
            });
        } else if let Ok(e) =
            verinfer_bindings::InferenceRegistry::WrongResultSlashRequested::decode_log_data(
                l.data(),
            )
        {
            let slasher = verinfer_bindings::Slasher::new(get("Slasher")?, &deployer.provider);
            let req = slasher.slashRequest(e.slashId).call().await?;
            rep.slashes.push(SlashReport {
                operator: e.operator,
                kind: "wrong result (lost a dispute decided by quadratic vote)".into(),
                request: e.requestId.to_string(),
                reporter: req.reporter,
            });
        }
    }
    let mut assigned: BTreeMap<Address, u64> = BTreeMap::new();
    let mut answered: BTreeMap<Address, u64> = BTreeMap::new();
    for l in &logs {
        if let Ok(e) = InferenceRegistry::OperatorAssigned::decode_log_data(l.data()) {
            *assigned.entry(e.operator).or_default() += 1;
        } else if let Ok(e) = InferenceRegistry::AnswerRecorded::decode_log_data(l.data()) {
            *answered.entry(e.operator).or_default() += 1;
        }
    }
    rep.keeper_restarts = restarts;
    rep.attestations_per_sec =
        (rep.batched_attestations + single.len() as u64) as f64 / results_secs.max(1e-9);
    rep.traffic_secs = traffic_secs;
    let mut after = Vec::new();
    for (i, o) in owners.iter().enumerate() {
        let s_after = staking_c.operatorStake(o.key.address()).call().await?;
        after.push(s_after);
        rep.operators.push(OperatorReport {
            name: format!("op{i}"),
            owner: o.key.address(),
            signer: hots[i].address(),
            behaviour: if i == offline {
                "offline".into()
            } else {
                format!("{:?}", behaviours[i]).to_lowercase()
            },
            stake_before: tokens(stake_before[i]),
            stake_after: tokens(s_after),
            attestations: per_op_atts.get(&i).copied().unwrap_or_default(),
            assigned: assigned.get(&o.key.address()).copied().unwrap_or_default(),
            answered_on_chain: answered.get(&o.key.address()).copied().unwrap_or_default(),
        });
    }
    let before_f: Vec<f64> = stake_before.iter().map(|v| to_f64(*v)).collect();
    let after_f: Vec<f64> = after.iter().map(|v| to_f64(*v)).collect();
    rep.gini_stake_before = verinfer_sim::metrics::gini(&before_f);
    rep.gini_stake_after = verinfer_sim::metrics::gini(&after_f);
    rep.nakamoto_before = verinfer_sim::metrics::nakamoto(&before_f);
    rep.nakamoto_after = verinfer_sim::metrics::nakamoto(&after_f);
    rep.voice_accounts = stake_accounts.len();
    rep.gini_voice = verinfer_sim::metrics::gini(&voice);
    rep.nakamoto_voice = verinfer_sim::metrics::nakamoto(&voice);
    rep.stake_records_resynced = resynced;
    rep.stake_records_stale_after_sync = stale_after;
    rep.dispute = dispute_summary;
    rep.dispute_slashed = dispute_slashed;
    rep.wall_secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&data_root);
    write_report(&rep, &a.out)
}

async fn progress<P: Provider>(
    _reg: &InferenceRegistry::InferenceRegistryInstance<P>,
    sent: &[(U256, Instant)],
    n: usize,
    total: usize,
) {
    let m = &verinfer_keeper::metrics::METRICS;
    print!(
        "\r    sent {n}/{total} | attestations on chain {} | txs {} | fee bumps {} | equivocation reports {} | ids up to {}",
        m.attestations_submitted.get(),
        m.txs_included.get(),
        m.fee_bumps.get(),
        m.equivocation_reports.get(),
        sent.last().map(|s| s.0).unwrap_or_default()
    );
    let _ = std::io::stdout().flush();
}

fn write_report(rep: &Report, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let base = out.join(format!("devnet-{}", rep.timestamp));
    std::fs::write(
        base.with_extension("json"),
        serde_json::to_string_pretty(rep)?,
    )?;
    let mut md = String::new();
    md.push_str(&format!("# verinfer devnet report ({})\n\n", rep.timestamp));
    md.push_str(&format!(
        "chain {} at {}, model `{}`, wall time {:.1}s\n\n",
        rep.chain_id, rep.rpc_url, rep.model_id, rep.wall_secs
    ));
    md.push_str("## Traffic\n\n");
    md.push_str(&format!(
        "- requests sent: {}\n- requests with a result (quorum): {}\n- requests finalized: {}\n",
        rep.requests_sent, rep.requests_with_result, rep.requests_finalized
    ));
    md.push_str(&format!(
        "- request -> quorum latency: median {} ms, p99 {} ms\n\n",
        rep.latency_ms_median, rep.latency_ms_p99
    ));
    md.push_str("## Gas\n\n| operation | gas |\n|---|---|\n");
    md.push_str(&format!(
        "| requestInference | {} |\n",
        rep.gas_request_inference
    ));
    md.push_str(&format!(
        "| submitAttestation (single, median) | {} |\n",
        rep.gas_per_attestation_single
            .map(|g| g.to_string())
            .unwrap_or("-".into())
    ));
    md.push_str(&format!(
        "| submitAttestations (batched, per attestation; {} calls / {} attestations) | {} |\n",
        rep.batched_calls,
        rep.batched_attestations,
        rep.gas_per_attestation_batched
            .map(|g| format!("{g:.0}"))
            .unwrap_or("-".into())
    ));
    md.push_str(&format!(
        "| finalize | {} |\n\n",
        rep.gas_finalize
            .map(|g| g.to_string())
            .unwrap_or("-".into())
    ));
    md.push_str(&format!(
        "- attestations included per second (end to end, all keepers): {:.1}\n- keeper restarts (killed mid-run, resumed from the journal): {}\n\n",
        rep.attestations_per_sec, rep.keeper_restarts
    ));
    md.push_str("## Operators\n\n| name | owner | behaviour | stake before | stake after | assigned | answered on chain | sent by own keeper |\n|---|---|---|---|---|---|---|---|\n");
    for o in &rep.operators {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            o.name,
            o.owner,
            o.behaviour,
            o.stake_before,
            o.stake_after,
            o.assigned,
            o.answered_on_chain,
            o.attestations
        ));
    }
    md.push_str("\n## Slashes\n\n");
    if rep.slashes.is_empty() {
        md.push_str("none\n");
    }
    for s in &rep.slashes {
        md.push_str(&format!(
            "- {} slashed for {} on request {} (reported by {})\n",
            s.operator, s.kind, s.request, s.reporter
        ));
    }
    md.push_str(&format!(
        "\n## Dispute by quadratic vote\n\n{}\n",
        rep.dispute
    ));
    md.push_str("\n## Legitimacy metrics\n\n");
    md.push_str(&format!(
        "- stake Gini (operators): {:.3} before, {:.3} after\n- Nakamoto coefficient (operator stake, 1/2): {} before, {} after\n\
         - voice (QuadraticVotes.getVotes over {} staking accounts, after {} stale stake records were re-recorded with syncStake): Gini {:.3}, Nakamoto {}\n",
        rep.gini_stake_before, rep.gini_stake_after, rep.nakamoto_before, rep.nakamoto_after,
        rep.voice_accounts, rep.stake_records_resynced, rep.gini_voice, rep.nakamoto_voice
    ));
    md.push_str("\n## Deployment\n\n");
    for (n, a) in &rep.contracts {
        md.push_str(&format!("- {n}: {a}\n"));
    }
    std::fs::write(base.with_extension("md"), &md)?;
    println!("\n{md}");
    println!("report written to {} (.json, .md)", base.display());
    let _ = keccak256(b"");
    Ok(())
}

/// [`crate::chain::sync_delegators`] for every operator in `ops`: all their staking accounts
/// (delegators and the operators themselves) and the number of stale stake records found (and,
/// unless `dry_run`, re-recorded).
async fn sync_all(
    s: &Session,
    staking: Address,
    ops: &[Address],
    from_block: u64,
    dry_run: bool,
) -> Result<(Vec<Address>, usize)> {
    let mut accounts = Vec::new();
    let mut stale = 0;
    for op in ops {
        let (a, st) = crate::chain::sync_delegators(s, staking, *op, from_block, dry_run).await?;
        accounts.extend(a);
        stale += st.len();
    }
    Ok((accounts, stale))
}

/// Links `account` to a fresh identity: `admin` (admin of the IdentityRegistry at `identity`, as the
/// deployer of a local deployment is) approves itself as an issuer, creates the identity and offers the
/// link, which `account` accepts. Returns the identity id.
async fn attest(admin: &Session, identity: Address, account: &Session) -> Result<U256> {
    use verinfer_bindings::IdentityRegistry;
    let ir = IdentityRegistry::new(identity, &admin.provider);
    let issuer = admin.key.address();
    let role = ir.ISSUER_ROLE().call().await?;
    if !ir.hasRole(role, issuer).call().await? {
        admin
            .call(
                "approveIssuer",
                identity,
                IdentityRegistry::approveIssuerCall { issuer }.abi_encode(),
            )
            .await?;
    }
    let created = admin
        .call(
            "createIdentity",
            identity,
            IdentityRegistry::createIdentityCall {}.abi_encode(),
        )
        .await?;
    let receipt = admin
        .tx
        .receipt_of(created.tx_hash)
        .await?
        .ok_or_else(|| anyhow!("receipt of createIdentity vanished"))?;
    let id = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| {
            IdentityRegistry::IdentityCreated::decode_log_data(l.data())
                .ok()
                .map(|e| e.identityId)
        })
        .ok_or_else(|| anyhow!("no IdentityCreated event in {}", created.tx_hash))?;
    admin
        .call(
            "offerLink",
            identity,
            IdentityRegistry::offerLinkCall {
                account: account.key.address(),
                identityId: id,
            }
            .abi_encode(),
        )
        .await?;
    account
        .call(
            "acceptLink",
            identity,
            IdentityRegistry::acceptLinkCall { identityId: id }.abi_encode(),
        )
        .await?;
    Ok(id)
}

/// One dispute resolved by a quadratic vote: a request whose quorum (2 of 3) is a colluded wrong
/// output, a challenge claiming the honest operator's output (by the deployer, linked to an identity
/// first, as every challenger must be), votes by three fresh delegators (their
/// stake is their voice), the ruling after the voting period, its application after the timelock
/// delay, and the `WrongResult` slashes of the colluders executed after the Slasher's veto window.
/// Returns the report line.
async fn quadratic_dispute(
    deployer: &Session,
    url: &str,
    manifest: &verinfer_deploy::manifest::Manifest,
    model_id: B256,
    hots: &[HotKey],
    owners: &[Session],
) -> Result<(String, f64)> {
    use verinfer_bindings::{DisputeGovernor, QuadraticVotes, Slasher};
    let c = &manifest.contracts;
    let get = |n: &str| c.get(n).copied().ok_or_else(|| anyhow!("no {n} deployed"));
    let (token, staking, registry) = (
        get("VerinferToken")?,
        get("Staking")?,
        get("InferenceRegistry")?,
    );
    let (disputes, slasher, votes) = (
        get("DisputeGovernor")?,
        get("Slasher")?,
        get("QuadraticVotes")?,
    );
    let p = &deployer.provider;

    // Three delegators stake behind the largest operator; their stake is their (unattested) voice.
    let mut voters = Vec::new();
    for _ in 0..3 {
        let v = session_with(url, HotKey::new(PrivateKeySigner::random())).await?;
        rpc_raw(
            deployer,
            "anvil_setBalance",
            serde_json::json!([v.key.address(), "0x3635C9ADC5DEA00000"]),
        )
        .await?;
        let amount = U256::from(5_000u128 * TOKEN);
        deployer
            .call(
                "fund-voter",
                token,
                VerinferToken::transferCall {
                    to: v.key.address(),
                    value: amount,
                }
                .abi_encode(),
            )
            .await?;
        v.approve(token, staking, amount).await?;
        v.call(
            "delegate",
            staking,
            Staking::delegateCall {
                operator: owners[0].key.address(),
                assets: amount,
            }
            .abi_encode(),
        )
        .await?;
        voters.push(v);
    }

    // The request; every assigned operator answers (first two collude on a wrong output).
    let input = b"devnet dispute input";
    let (request_id, _) = submit_request(
        deployer,
        token,
        registry,
        model_id,
        input,
        U256::from(TOKEN),
        300,
    )
    .await?;
    let reg = InferenceRegistry::new(registry, p);
    let assigned = reg.assignedOperators(request_id).call().await?;
    if assigned.len() < 3 {
        bail!("dispute request got {} operators, want 3", assigned.len());
    }
    let wrong = keccak256(b"colluded wrong output");
    let right = keccak256(b"honest output");
    let domain = verinfer_keeper::attest::domain(deployer.chain_id, registry);
    for (i, op) in assigned.iter().enumerate() {
        let idx = owners
            .iter()
            .position(|o| o.key.address() == *op)
            .ok_or_else(|| anyhow!("assigned {op} is not a devnet operator"))?;
        let att = verinfer_keeper::attest::Attestation {
            operator: *op,
            requestId: request_id,
            modelId: model_id,
            inputHash: keccak256(input),
            outputHash: if i < 2 { wrong } else { right },
        };
        let sig = hots[idx].sign_attestation(&att, &domain)?;
        deployer
            .call(
                "submitAttestation",
                registry,
                InferenceRegistry::submitAttestationCall {
                    att: att.into(),
                    signature: sig.to_vec().into(),
                }
                .abi_encode(),
            )
            .await?;
    }

    // Challenge (bond from the deployer), claiming the honest output. The DisputeGovernor takes a
    // challenge only from an account linked to an identity at the block before it, so the deployer
    // (admin of the local deployment) first approves itself as an identity issuer and links itself.
    let identity = attest(deployer, get("IdentityRegistry")?, deployer).await?;
    deployer.approve(token, registry, U256::MAX).await?;
    deployer
        .call(
            "challenge",
            registry,
            InferenceRegistry::challengeCall {
                requestId: request_id,
                claimedOutput: right,
            }
            .abi_encode(),
        )
        .await?;
    let dispute_id = reg.request(request_id).call().await?.disputeId;
    let dg = DisputeGovernor::new(disputes, p);
    let options = dg.options(dispute_id).call().await?;
    let option = options
        .iter()
        .position(|o| *o == right)
        .ok_or_else(|| anyhow!("the honest output is not a dispute option"))?;
    let total_voice = dg.dispute(dispute_id).call().await?.totalVoice;
    let mut cast = Vec::new();
    let qv = QuadraticVotes::new(votes, p);
    for v in &voters {
        let before = qv.getVotes(v.key.address()).call().await?;
        v.call(
            "castVote",
            disputes,
            DisputeGovernor::castVoteCall {
                disputeId: dispute_id,
                option: u8::try_from(option)?,
            }
            .abi_encode(),
        )
        .await?;
        cast.push(before);
    }

    // Ruling once the voting period (seconds) is over; applied after the timelock delay.
    let period = dg.votingPeriod().call().await?;
    rpc_raw(
        deployer,
        "evm_increaseTime",
        serde_json::json!([u64::from(period) + 1]),
    )
    .await?;
    rpc_raw(deployer, "evm_mine", serde_json::json!([])).await?;
    deployer
        .call(
            "resolve",
            disputes,
            DisputeGovernor::resolveCall {
                disputeId: dispute_id,
            }
            .abi_encode(),
        )
        .await?;
    let ruled = dg.dispute(dispute_id).call().await?;
    if !ruled.decided {
        bail!(
            "dispute {dispute_id} missed quorum: nothing decided, nobody would be slashed (cast {} of {} voice)",
            ruled.totalCast,
            ruled.totalVoice
        );
    }
    let now = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .map(|b| b.header.timestamp)
        .unwrap_or_default();
    let wait = u64::try_from(ruled.executableAt)?.saturating_sub(now) + 1;
    rpc_raw(deployer, "evm_increaseTime", serde_json::json!([wait])).await?;
    rpc_raw(deployer, "evm_mine", serde_json::json!([])).await?;
    deployer
        .call(
            "execute",
            disputes,
            DisputeGovernor::executeCall {
                disputeId: dispute_id,
            }
            .abi_encode(),
        )
        .await?;

    // WrongResult slashes of the colluders: executable once the veto window is over.
    let sl = Slasher::new(slasher, p);
    let mut ids = Vec::new();
    for op in &assigned[..2] {
        let id = sl.slashIdOf(*op, 1, B256::from(request_id)).call().await?;
        if id.is_zero() {
            bail!("no WrongResult slash was requested for {op}");
        }
        ids.push(id);
    }
    let at = sl.slashRequest(ids[0]).call().await?.executableAt;
    let now = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .map(|b| b.header.timestamp)
        .unwrap_or_default();
    let veto_wait = u64::try_from(at)?.saturating_sub(now) + 1;
    rpc_raw(deployer, "evm_increaseTime", serde_json::json!([veto_wait])).await?;
    rpc_raw(deployer, "evm_mine", serde_json::json!([])).await?;
    let mut slashed = U256::ZERO;
    for id in &ids {
        let r = deployer
            .call(
                "executeSlash",
                slasher,
                Slasher::executeSlashCall { slashId: *id }.abi_encode(),
            )
            .await?;
        let receipt = deployer
            .tx
            .receipt_of(r.tx_hash)
            .await?
            .ok_or_else(|| anyhow!("receipt vanished"))?;
        for log in receipt.inner.logs() {
            if let Ok(ev) = Slasher::SlashExecuted::decode_log_data(log.data()) {
                slashed += ev.amount;
            }
        }
    }
    let cast_total: U256 = cast.iter().copied().sum();
    let summary = format!(
        "request {request_id}: operators {} and {} colluded on a wrong output (quorum 2 of 3), {} answered honestly; \
         challenged by {} (linked to identity {identity}, as every challenger must be) -> dispute {dispute_id} with {} options; \
         3 delegators (5,000 tokens each, delegated to op0 before the dispute, so op0's stake after includes them) voted for the honest output \
         with {:.1}% of total voice (quorum {} bps, reached: decided); ruled after the {period} s voting period, applied after the timelock delay \
         ({wait} s), winner = option {}; WrongResult slashes {:?} executed after the {veto_wait} s veto window: \
         {:.2} tokens taken from the colluders",
        assigned[0],
        assigned[1],
        assigned[2],
        deployer.key.address(),
        options.len(),
        if total_voice == 0 {
            0.0
        } else {
            f64::from(u32::try_from(cast_total * U256::from(10_000u32) / U256::from(total_voice))?)
                / 100.0
        },
        dg.quorumBps().call().await?,
        ruled.winner,
        ids,
        to_f64(slashed),
    );
    Ok((summary, to_f64(slashed)))
}
