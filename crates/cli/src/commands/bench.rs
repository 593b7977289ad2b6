//! `verinfer bench keeper`: the keeper's submission modes side by side on the devnet fixture (see
//! [`verinfer_devnet::bench`]). `verinfer bench sim`: the simulator's protocol mix in revm and over
//! JSON-RPC (see [`verinfer_sim::throughput`]).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use verinfer_devnet::anvil::{self, AnvilOptions};
use verinfer_devnet::bench::{keeper_bench, KeeperBenchConfig, ModeResult, Row, RowSpread};
use verinfer_devnet::{DevnetConfig, Progress};

/// Benchmarks: keeper throughput, gas and latency per submission mode against a private anvil;
/// the simulator's revm vs JSON-RPC throughput.
///
/// Example: verinfer bench keeper --requests 256 --batch 32
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
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
    /// The real LLM (SmolLM2-135M-Instruct on llama-cpp-python, `script/setup.sh --llm`): the same
    /// prompts through independent server processes with different thread counts, each prompt
    /// twice in a row and every second server in reverse order, the share of byte-identical
    /// completions (the determinism table of docs/models.md) and tokens per second.
    ///
    /// Example: verinfer bench llm --prompts 50 --threads 1,2 --json reports/bench-llm.json
    Llm(LlmBenchArgs),
}

/// Where a benchmark finds anvil and writes its JSON (shared by every `bench` subcommand).
#[derive(Args, Debug)]
pub struct BenchEnv {
    /// Repository root (for the pinned anvil); default $VERINFER_ROOT or `.`.
    #[arg(long, env = "VERINFER_ROOT")]
    root: Option<PathBuf>,
    /// anvil binary (default: <root>/.toolchain/anvil, then `anvil` on PATH).
    #[arg(long)]
    anvil: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

impl BenchEnv {
    /// How to start anvil: `--anvil`, else the root's pinned binary, else [`anvil::find`]'s search.
    fn anvil(&self) -> AnvilOptions {
        let root = self.root.clone().unwrap_or_else(|| PathBuf::from("."));
        AnvilOptions {
            bin: self
                .anvil
                .clone()
                .or_else(|| Some(root.join(".toolchain/anvil")).filter(|p| p.is_file())),
            ..AnvilOptions::default()
        }
    }

    fn write_json<T: serde::Serialize>(&self, value: &T) -> Result<()> {
        let Some(path) = &self.json else {
            return Ok(());
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(value)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
        Ok(())
    }
}

/// Arguments of `verinfer bench sim`.
#[derive(Args, Debug)]
pub struct SimBenchArgs {
    /// Stakers in the compared mix.
    #[arg(long, default_value_t = 200)]
    stakers: usize,
    /// Staker counts for the in-process growth table (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    growth: Vec<usize>,
    #[command(flatten)]
    out: BenchEnv,
}

/// Arguments of `verinfer bench keeper`.
#[derive(Args, Debug)]
pub struct KeeperBenchArgs {
    /// Requests per mode in the drain phase (queued, then answered as fast as the keeper can).
    #[arg(long, default_value_t = 256)]
    requests: usize,
    /// Requests per mode in the live phase (sent back to back while the keeper runs; 0: no live
    /// phase).
    #[arg(long, default_value_t = 100)]
    live_requests: usize,
    /// Attestations per `submitAttestations` call in batch mode (2..=64).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Transactions in flight per hot key in the pipelined rows (2..=64; the baseline row uses 1).
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Mine a block every this many seconds instead of a block per transaction (automine).
    #[arg(long)]
    block_time: Option<u64>,
    /// Live phase: send this many requests per second, pipelined (default: back to back, each
    /// after the previous receipt).
    #[arg(long)]
    client_rate: Option<f64>,
    /// Keeper log poll interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// Receipt poll interval in milliseconds (`submit.receipt_poll_ms`; 250 is the keeper default).
    #[arg(long, default_value_t = 250)]
    receipt_poll_ms: u64,
    /// Skip the HA rows ((h1) and (h): replicas sharing a PostgreSQL signing store; they need
    /// PostgreSQL's server binaries, installed by script/setup.sh).
    #[arg(long)]
    no_ha: bool,
    /// Route the keepers' JSON-RPC through a counting proxy and report calls per attestation (the
    /// proxy adds a hop per call: compare this run's rates with each other only).
    #[arg(long)]
    count_rpc: bool,
    /// Add this many milliseconds of round trip to every JSON-RPC request of the keepers (half on
    /// the way to the node, half back), through the counting proxy: a node across a network
    /// instead of on this machine (0..=1000; the client, the watcher and the ceilings stay direct)
    #[arg(long, default_value_t = 0)]
    rpc_latency_ms: u64,
    /// Rows to run (comma separated; default all): a, a-prime, b, h1, h, c, ceiling-single,
    /// window, ceiling-batch. Each keeper row also runs the rows it is read against (its call
    /// shape's ceiling; the window sender for a-prime). "vs (a)" then compares with the first row
    /// run.
    #[arg(long, value_delimiter = ',')]
    rows: Vec<Row>,
    /// Run the rows this many times (1..=20; each run on fresh chains) and print each row's spread
    /// (min / median / max) and its share of the median of its ceiling over the runs; the JSON is
    /// then `{"runs": [[rows of run 1], ...], "spread": [...]}` instead of one run's rows.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=20))]
    runs: u8,
    #[command(flatten)]
    out: BenchEnv,
}

/// Arguments of `verinfer bench llm`.
#[derive(Args, Debug)]
pub struct LlmBenchArgs {
    /// Prompts from models/smollm2/prompts.txt (1..=50).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=50))]
    prompts: u16,
    /// One independent server process per entry, with this many generation threads.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Cap on generated tokens (part of the model id).
    #[arg(long, default_value_t = verinfer_keeper::llm::DEFAULT_MAX_TOKENS)]
    max_tokens: u32,
    #[command(flatten)]
    out: BenchEnv,
}

impl BenchCommand {
    /// Runs the benchmark.
    pub async fn execute(self) -> Result<()> {
        match self {
            Self::Keeper(a) => keeper(a).await,
            Self::Sim(a) => sim(a).await,
            Self::Llm(a) => llm(a).await,
        }
    }
}

/// `verinfer bench sim`: the revm / JSON-RPC comparison, then the growth table.
async fn sim(a: SimBenchArgs) -> Result<()> {
    use verinfer_sim::throughput::{compare, run_in_process, ANVIL_ARGS};
    if a.stakers == 0 {
        bail!("--stakers must be at least 1");
    }
    let node = anvil::spawn(&a.out.anvil().args(ANVIL_ARGS))?;
    let c = compare(&node, a.stakers)
        .await
        .context("comparing revm with JSON-RPC")?;
    drop(node);
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
    a.out
        .write_json(&serde_json::json!({ "comparison": c, "growth": rows }))
}

/// `verinfer bench keeper`.
async fn keeper(a: KeeperBenchArgs) -> Result<()> {
    let cfg = KeeperBenchConfig {
        requests: a.requests,
        live_requests: a.live_requests,
        batch: a.batch,
        in_flight: a.in_flight,
        client_rate: a.client_rate,
        poll_ms: a.poll_ms,
        receipt_poll_ms: a.receipt_poll_ms,
        ha: !a.no_ha,
        count_rpc: a.count_rpc,
        rpc_latency_ms: a.rpc_latency_ms,
        rows: if a.rows.is_empty() {
            Row::ALL.to_vec()
        } else {
            a.rows.clone()
        },
        devnet: DevnetConfig {
            anvil: AnvilOptions {
                block_time: a.block_time,
                ..a.out.anvil()
            },
            ..DevnetConfig::default()
        }
        .with_progress(|p| match p {
            Progress::Phase(s) => eprintln!("==> {s}"),
            Progress::Detail(s) => eprintln!("    {s}"),
            Progress::Status(_) | Progress::StatusDone => {}
        }),
    };
    if a.runs == 1 {
        let rows = keeper_bench(&cfg).await?;
        print_table(&a, &rows);
        return a.out.write_json(&rows);
    }
    let mut runs = Vec::new();
    for run in 1..=a.runs {
        eprintln!("==> run {run} of {}", a.runs);
        runs.push(keeper_bench(&cfg).await?);
    }
    let spread = verinfer_devnet::bench::spread(&runs);
    print_spread(&a, &spread);
    a.out
        .write_json(&serde_json::json!({ "runs": runs, "spread": spread }))
}

/// The spread table of `verinfer bench keeper --runs`.
fn print_spread(a: &KeeperBenchArgs, rows: &[RowSpread]) {
    println!(
        "\nkeeper end-to-end against anvil, {} runs (each on fresh chains): drain of {} requests per row; min / median / max over the runs; a keeper row against the median of its ceiling over the runs",
        a.runs, a.requests
    );
    println!("| mode | runs | att/s | blocks | pooled ceiling att/s | of pooled ceiling |");
    println!("|---|---:|---:|---:|---:|---:|");
    let three =
        |v: [f64; 3], f: &dyn Fn(f64) -> String| format!("{} / {} / {}", f(v[0]), f(v[1]), f(v[2]));
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.mode,
            r.runs,
            three(r.attestations_per_sec, &|x| format!("{x:.0}")),
            three(r.blocks, &|x| format!("{x:.0}")),
            r.pooled_ceiling
                .map(|c| format!("{c:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            r.share_of_pooled_ceiling
                .map(|s| three(s, &|x| format!("{:.0} %", x * 100.0)))
                .unwrap_or_else(|| "n/a".into()),
        );
    }
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
    let mining = match a.block_time {
        Some(secs) => format!("a block every {secs} s"),
        None => "automine".to_string(),
    };
    println!(
        "\nkeeper end-to-end against anvil ({mining}{}): drain of {} requests per mode, {}, log poll {} ms, receipt poll {} ms",
        match a.rpc_latency_ms {
            0 => String::new(),
            ms => format!(", the keepers' RPC {ms} ms away"),
        },
        a.requests,
        match a.live_requests {
            0 => "no live traffic".to_string(),
            n => format!("live traffic of {n} requests per mode"),
        },
        a.poll_ms,
        a.receipt_poll_ms
    );
    println!(
        "| mode | txs | att/s | vs (a) | of ceiling | gas/att | vs (a) | live req/s | live p50 ms | live p99 ms | p50 vs (a) | live p50 / p99 blocks |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let p50_ratio = match (r.live_latency_ms_median, base.live_latency_ms_median) {
            (Some(x), Some(b)) => ratio(x, b),
            _ => "n/a".into(),
        };
        println!(
            "| {} | {} | {:.1} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            r.mode,
            r.txs,
            r.attestations_per_sec,
            ratio(r.attestations_per_sec, base.attestations_per_sec),
            match (r.share_of_ceiling, r.share_of_window_sender) {
                (Some(v), Some(w)) =>
                    format!("{:.0} % ({:.0} % of (window))", v * 100.0, w * 100.0),
                (Some(v), None) => format!("{:.0} %", v * 100.0),
                _ => "n/a".into(),
            },
            r.gas_per_attestation,
            ratio(r.gas_per_attestation, base.gas_per_attestation),
            r.live_requests_per_sec
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "n/a".into()),
            opt_ms(r.live_latency_ms_median),
            opt_ms(r.live_latency_ms_p99),
            p50_ratio,
            match (r.live_latency_blocks_median, r.live_latency_blocks_p99) {
                (Some(m), Some(p)) => format!("{m:.0} / {p:.0}"),
                _ => "n/a".into(),
            },
        );
    }
    println!("\nprofile of each drain while its requests are answered: the rate once answers land (after the first seen: without the start; n/a for fewer than 8 sightings), blocks, the keepers' model runs and signing-store look-ups, CPU seconds of anvil, of this process (keeper, watcher, sender) and of PostgreSQL (HA), keeper JSON-RPC calls (--count-rpc), and the keepers' incidents when anything happened besides one lease grant (lease grants, fee bumps, reorgs, failed RPC calls)");
    println!("| mode | drain s | once sending att/s (of ceiling) | blocks | model runs / store look-ups | anvil CPU s | bench CPU s | PostgreSQL CPU s | RPC calls / att | top RPC methods | incidents |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    let secs = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
    for r in rows {
        let top = r
            .drain_rpc_calls
            .as_ref()
            .map(|c| {
                let mut v: Vec<_> = c.iter().collect();
                v.sort_by(|a, b| b.1.cmp(a.1));
                v.iter()
                    .take(4)
                    .map(|(m, n)| format!("{m} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "n/a".into());
        let incidents = match r.drain_incidents {
            Some(i) if i.any() => format!(
                "lease grants {}, bumps {}, reorgs {}, RPC errors {}",
                i.lease_grants, i.fee_bumps, i.reorgs, i.rpc_errors
            ),
            Some(_) => "none".into(),
            None => "n/a".into(),
        };
        println!(
            "| {} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.mode,
            r.drain_secs,
            match (r.sending_attestations_per_sec, r.sending_share_of_ceiling) {
                (Some(x), Some(s)) => format!("{x:.0} ({:.0} %)", s * 100.0),
                (Some(x), None) => format!("{x:.0}"),
                _ => "n/a".into(),
            },
            r.blocks,
            match (r.drain_inferences, r.drain_claim_lookups) {
                (Some(n), Some(l)) => format!("{n} / {l}"),
                _ => "n/a".into(),
            },
            secs(r.drain_cpu_anvil_secs),
            secs(r.drain_cpu_bench_secs),
            secs(r.drain_cpu_postgres_secs),
            r.drain_rpc_calls_per_attestation
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "n/a".into()),
            top,
            incidents
        );
    }
    println!("\nprofile of each live phase: where the latency goes (request sent -> seen included, then included -> answer seen: the keeper's part with its answer's inclusion) and the CPU seconds used from the first request to the last answer");
    println!("| mode | live s | to inclusion p50 ms | keeper p50 / p99 ms | anvil CPU s | bench CPU s | PostgreSQL CPU s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows.iter().filter(|r| r.live_secs.is_some()) {
        println!(
            "| {} | {} | {} | {} / {} | {} | {} | {} |",
            r.mode,
            secs(r.live_secs),
            opt_ms(r.live_inclusion_ms_median),
            opt_ms(r.live_keeper_ms_median),
            opt_ms(r.live_keeper_ms_p99),
            secs(r.live_cpu_anvil_secs),
            secs(r.live_cpu_bench_secs),
            secs(r.live_cpu_postgres_secs),
        );
    }
}

/// `verinfer bench llm`: the determinism table and tokens per second.
async fn llm(a: LlmBenchArgs) -> Result<()> {
    if a.threads.len() < 2 || a.threads.contains(&0) {
        bail!("--threads needs at least two positive thread counts (one server each)");
    }
    let root = a.out.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let install = verinfer_devnet::llm::LlmInstall::locate(&root)?;
    let spec = verinfer_keeper::llm::LlmSpec {
        max_tokens: a.max_tokens,
        ..Default::default()
    };
    eprintln!(
        "{} prompts through {} llama-cpp-python servers (threads {:?})",
        a.prompts,
        a.threads.len(),
        a.threads
    );
    let r =
        verinfer_devnet::llm::determinism(&install, &spec, &a.threads, a.prompts.into()).await?;
    println!("model id      {}", r.model_id);
    println!("runtime spec  {}", r.runtime_spec);
    println!(
        "{:>8} {:>8} {:>8} {:>10}",
        "threads", "secs", "tokens", "tokens/s"
    );
    for run in &r.runs {
        println!(
            "{:>8} {:>8.1} {:>8} {:>10.1}",
            run.threads, run.secs, run.tokens, run.tokens_per_sec
        );
    }
    println!(
        "byte-identical completions: {}/{} ({})",
        r.identical,
        r.prompts,
        if r.deterministic() {
            "deterministic"
        } else {
            "NOT deterministic"
        }
    );
    if !r.differing.is_empty() {
        println!("differing prompts: {:?}", r.differing);
    }
    a.out.write_json(&r)
}
